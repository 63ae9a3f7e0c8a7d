#!/bin/bash
# Install everything the build, the QEMU runner and the tests need, from
# Debian packages and one pinned "cargo install" run by Debian's own cargo.
# Nothing here uses a toolchain found on PATH (rustup's ~/.cargo/bin, say):
# the tools are named by absolute path, here and in kmake.sh.
# Idempotent: packages and tools that are already present are left alone.
set -euo pipefail

# shellcheck source=scripts/pins.sh
. "$(dirname "$0")/pins.sh"
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

# python3-ply, python3-git: checkpatch.pl runs scripts/spdxcheck.py when it
# runs in a tree (make series), and 7.x's imports both.
# liburing-dev: the mm selftests' check_config.sh turns on the io_uring
# cases of cow and gup_longterm when it finds liburing, so it is always
# installed: the same host gives the same test inventory.
DEBS=(
	"linux-source-6.12=${LINUX_SOURCE_DEB_VERSION}"
	rustc-web cargo-web rust-web-src rust-web-clippy rustfmt-web
	clang-19 lld-19 llvm-19 libclang-19-dev
	make bc bison flex cpio xz-utils rsync kmod file
	libelf-dev libssl-dev libcap-dev libnuma-dev
	liburing-dev
	ccache qemu-system-x86 busybox-static
	gcc libc6-dev python3 git
	python3-ply python3-git
)

have_deb() {
	# $1 is "name" or "name=version"
	local name=${1%%=*} want= got
	[[ $1 == *=* ]] && want=${1#*=}
	got=$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$name" 2>/dev/null) || return 1
	# "ii" installed, "hi" installed and held (the pinned linux-source)
	[[ $got == [ih]"i "* ]] || return 1
	got=${got#??? }
	[[ -z $want || ${got# } == "$want" ]]
}

missing=()
for d in "${DEBS[@]}"; do
	have_deb "$d" || missing+=("$d")
done

SUDO=
[[ $(id -u) -eq 0 ]] || SUDO=sudo

if ((${#missing[@]})); then
	echo "deps: installing: ${missing[*]}"
	$SUDO apt-get update -qq
	# The base tree is pinned: refuse any other version.  Ask apt only
	# when the pinned package is not installed yet; once installed, it is
	# held, and its leaving the archive does not matter.
	if ! have_deb "linux-source-6.12=${LINUX_SOURCE_DEB_VERSION}" &&
		! apt-cache madison linux-source-6.12 | awk '{print $3}' |
		grep -qxF "$LINUX_SOURCE_DEB_VERSION"; then
		echo "deps: ERROR: linux-source-6.12 version $LINUX_SOURCE_DEB_VERSION is not offered by apt." >&2
		echo "deps: versions apt offers:" >&2
		apt-cache madison linux-source-6.12 | awk '{print "  " $3}' >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		--no-install-recommends "${missing[@]}"
	$SUDO apt-mark hold linux-source-6.12 >/dev/null
else
	echo "deps: Debian packages present"
fi

# bindgen: Debian's (0.60) is older than the 6.12 minimum (0.65.1).  Built
# by Debian's cargo-web (the same 1.96 as rustc-web), with its own
# CARGO_HOME, so that neither rustup nor ~/.cargo is involved.
tools=$(dirname "$0")/tools.sh
BINDGEN_BIN=$(bash "$tools" bindgen)
if [[ -x $BINDGEN_BIN ]] && "$BINDGEN_BIN" --version | grep -q "^bindgen ${BINDGEN_VERSION}\$"; then
	echo "deps: bindgen $BINDGEN_VERSION present ($BINDGEN_BIN)"
else
	root=$(bash "$tools" root)
	echo "deps: /usr/bin/cargo install bindgen-cli $BINDGEN_VERSION into $root"
	mkdir -p "$root"
	CARGO_HOME=$root/cargo-home RUSTC=/usr/bin/rustc \
		/usr/bin/cargo install --quiet --locked --root "$root" \
		--version "=${BINDGEN_VERSION}" bindgen-cli
	"$BINDGEN_BIN" --version
fi
echo "deps: ok"
