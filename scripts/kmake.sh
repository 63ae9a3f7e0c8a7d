#!/bin/bash
# Run the kernel's make in the generated tree with the measured toolchain:
# clang/lld 19 (LLVM=-19, needed for KASAN with Rust), Debian's rustc-web
# (whose sysroot ships the core sources), for the host programs too, and
# the bindgen that deps.sh built with Debian's cargo.
. "$(dirname "$0")/lib.sh"
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache-mmrust}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
# ccache must hash the compiler, not mtime, and ignore __DATE__/__TIME__.
export CCACHE_COMPILERCHECK=content
# Relative paths in the hash, so that another checkout (CI) shares the cache.
export CCACHE_BASEDIR=$TOP CCACHE_NOHASHDIR=1
# Kbuild passes -fmacro-prefix-map=<absolute srctree>/= (and, with debug
# info, -ffile-prefix-map), which BASEDIR does not rewrite: left in the
# hash, it made every compile in another checkout a miss.  The option maps
# the source tree to "" whatever its path, so the objects are the same.
export CCACHE_IGNOREOPTIONS='-fmacro-prefix-map=* -ffile-prefix-map=* -fdebug-prefix-map=*'
export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
export KBUILD_BUILD_TIMESTAMP="${KBUILD_BUILD_TIMESTAMP:-$BASE_DATE}"
export KBUILD_BUILD_USER=mmrust KBUILD_BUILD_HOST=qemu
BINDGEN=$("$TOP/scripts/tools.sh" bindgen)
[[ -x $BINDGEN ]] || die "no bindgen at $BINDGEN: run 'make deps'"
mkdir -p "$KOBJ"
exec make -C "$KSRC" O="$KOBJ" LLVM=-19 \
	CC="ccache clang-19" \
	RUSTC=/usr/bin/rustc HOSTRUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc BINDGEN="$BINDGEN" \
	CLIPPY_DRIVER=/usr/bin/clippy-driver RUSTFMT=/usr/bin/rustfmt \
	-j"${JOBS:-$(nproc)}" "$@"
