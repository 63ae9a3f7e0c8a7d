#!/bin/bash
# make cross: build $BASE's patched kernel for another architecture
# (CROSS_ARCH=arm64, the only one so far) with the same clang, lld and
# rustc, from config/cross-$CROSS_ARCH.config, in build/$BASE/obj-$CROSS_ARCH.
# It checks that the series compiles and links there (arm64 has the cache
# maintenance that x86 compiles away, and Rust's aarch64 target); nothing
# is booted, and make check does not run it.
. "$(dirname "$0")/lib.sh"
arch=${CROSS_ARCH:-arm64}
frag=$TOP/config/cross-$arch.config
[[ -f $frag ]] || die "CROSS_ARCH=$arch: no $frag"
export ARCH=$arch KOBJ_NAME=obj-$arch
"$TOP/scripts/config.sh" "$frag"
"$TOP/scripts/kmake.sh" Image
echo "cross: $BUILD/$BASE/obj-$arch/arch/$arch/boot/Image"
