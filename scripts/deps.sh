#!/bin/bash
# Install everything the build, the QEMU runner and the tests need.
# Idempotent: packages and tools that are already present are left alone.
set -euo pipefail

# shellcheck source=scripts/pins.sh
. "$(dirname "$0")/pins.sh"
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
export PATH="$PATH:$HOME/.cargo/bin"

DEBS=(
	"linux-source-6.12=${LINUX_SOURCE_DEB_VERSION}"
	rustc-web rust-web-src rust-web-clippy rustfmt-web
	clang-19 lld-19 llvm-19 libclang-19-dev
	make bc bison flex cpio xz-utils rsync kmod
	libelf-dev libssl-dev libcap-dev libnuma-dev
	ccache qemu-system-x86 busybox-static
	gcc libc6-dev python3 git
)

have_deb() {
	# $1 is "name" or "name=version"
	local name=${1%%=*} want= got
	[[ $1 == *=* ]] && want=${1#*=}
	got=$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$name" 2>/dev/null) || return 1
	[[ $got == "ii "* ]] || return 1
	[[ -z $want || ${got#ii  } == "$want" || ${got#ii } == "$want" ]]
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
	# The base tree is pinned: refuse to continue on any other version.
	if ! apt-cache madison linux-source-6.12 | awk '{print $3}' |
		grep -qxF "$LINUX_SOURCE_DEB_VERSION"; then
		echo "deps: ERROR: linux-source-6.12 version $LINUX_SOURCE_DEB_VERSION is not offered by apt." >&2
		echo "deps: versions apt offers:" >&2
		apt-cache madison linux-source-6.12 | awk '{print "  " $3}' >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		--no-install-recommends "${missing[@]}"
else
	echo "deps: Debian packages present"
fi

# bindgen: Debian's is too old for 6.12 (needs >= 0.65.1).
BINDGEN_BIN=${CARGO_HOME:-$HOME/.cargo}/bin/bindgen
if [[ -x $BINDGEN_BIN ]] && "$BINDGEN_BIN" --version | grep -q "^bindgen ${BINDGEN_VERSION}"; then
	echo "deps: bindgen $BINDGEN_VERSION present"
else
	echo "deps: cargo install bindgen-cli $BINDGEN_VERSION"
	cargo install --locked --version "=${BINDGEN_VERSION}" bindgen-cli
fi
echo "deps: ok"
