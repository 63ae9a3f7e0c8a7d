#!/bin/bash
# Fetch the pinned linux-source-7.3 .deb from Debian's trixie-backports
# without touching the host's apt configuration: apt-get download with a
# private sources list, state and cache directory.  The .deb and the
# tarball inside it are checked against the pins in scripts/pins.sh.
#
# Usage: fetch-base.sh   (prints the path of the verified tarball)
set -euo pipefail
# shellcheck source=scripts/pins.sh
. "$(dirname "$0")/pins.sh"
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

die() { echo "fetch-base: ERROR: $*" >&2; exit 1; }

pkg=linux-source-7.3
ver=$UPSTREAM_DEB_VERSION
dir=$HOME/.cache/mmrust-tools/linux-source-7.3
deb=$dir/${pkg}_${ver//:/%3a}_all.deb
tarball=$dir/linux-source-7.3.tar.xz
mkdir -p "$dir"
[[ ${UPSTREAM_SHA256:-} && ${UPSTREAM_DEB_SHA256:-} && ${UPSTREAM_DEB_SIZE:-} ]] ||
	die "scripts/pins.sh must pin the .deb's size and sha256 and the tarball's sha256"

deb_ok() {
	[[ -f $deb ]] && [[ $(stat -c %s "$deb") == "$UPSTREAM_DEB_SIZE" ]] &&
		echo "$UPSTREAM_DEB_SHA256  $deb" | sha256sum -c --quiet 2>/dev/null
}

if [[ -f $tarball ]] && echo "$UPSTREAM_SHA256  $tarball" | sha256sum -c --quiet 2>/dev/null; then
	echo "$tarball"
	exit 0
fi

if ! deb_ok; then
	apt=$dir/apt
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/etc"
	cat >"$apt/etc/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main
SRC
	opts=(-o Dir::Etc::sourcelist="$apt/etc/sources.list"
		-o Dir::Etc::sourceparts=-
		-o Dir::State::Lists="$apt/lists"
		-o Dir::Cache="$apt/cache"
		-o APT::Architecture=amd64
		-o Debug::NoLocking=1)
	echo "fetch-base: reading the trixie-backports index" >&2
	apt-get "${opts[@]}" -qq update >&2 || die "apt-get update of trixie-backports failed"
	if ! apt-cache "${opts[@]}" madison "$pkg" | awk '{print $3}' | grep -qxF "$ver"; then
		echo "fetch-base: ERROR: $pkg version $ver is not offered by trixie-backports." >&2
		echo "fetch-base: versions offered:" >&2
		for p in $(apt-cache "${opts[@]}" pkgnames linux-source- | sort -V); do
			apt-cache "${opts[@]}" madison "$p" | awk '{print "  " $1 " " $3}'
		done >&2
		exit 1
	fi
	echo "fetch-base: downloading $pkg=$ver" >&2
	(cd "$dir" && apt-get "${opts[@]}" -qq download "$pkg=$ver") >&2 ||
		die "apt-get download $pkg=$ver failed"
	deb_ok || die "$deb: size or sha256 differs from the pin ($UPSTREAM_DEB_SIZE bytes, $UPSTREAM_DEB_SHA256)"
fi

x=$(mktemp -d "$dir/x.XXXXXX")
trap 'rm -rf "$x"' EXIT
dpkg-deb -x "$deb" "$x"
[[ -f $x/usr/src/linux-source-7.3.tar.xz ]] || die "$deb holds no usr/src/linux-source-7.3.tar.xz"
echo "$UPSTREAM_SHA256  $x/usr/src/linux-source-7.3.tar.xz" | sha256sum -c --quiet ||
	die "the tarball in $deb differs from the pinned sha256 $UPSTREAM_SHA256"
mv "$x/usr/src/linux-source-7.3.tar.xz" "$tarball"
echo "$tarball"
