# Common settings for the project scripts.
# shellcheck shell=bash
set -euo pipefail
# CI may start us with a minimal environment.
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
export HOME
# Only the system's tools: every compiler, rustc and cargo included, comes
# from Debian (scripts/deps.sh), whatever the caller's PATH holds.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/pins.sh
. "$TOP/scripts/pins.sh"
BUILD=${BUILD:-$TOP/build}

die() { echo "error: $*" >&2; exit 1; }

# The two bases.  7.3 is upstream, where the series is developed and from
# where it would be mailed: its patches are in patches/, its new files at
# their kernel paths in the repo.  6.12 is the LTS backport: its patches
# are in backports/6.12/patches/, and a new file it needs is read from
# backports/6.12/<path> when it differs from 7.3's, else from <path>.
BASE=${BASE:-7.3}
case $BASE in
7.3)
	BASE_TAG=base-7.3.4
	BASE_NAME="Linux 7.3.4 (Debian linux-source-7.3 $UPSTREAM_DEB_VERSION)"
	BASE_DATE="2026-11-15T22:30:00+0000"
	SERIES_DIR=$TOP/patches
	FILES_DIR=$TOP
	FALLBACK_DIR=
	;;
6.12)
	BASE_TAG=base-6.12.117
	BASE_NAME="Linux 6.12.117 (Debian linux-source-6.12 $LINUX_SOURCE_DEB_VERSION)"
	BASE_DATE="2025-11-14T12:56:00+0000"
	SERIES_DIR=$TOP/backports/6.12/patches
	FILES_DIR=$TOP/backports/6.12
	FALLBACK_DIR=$TOP
	;;
*) die "BASE=$BASE: the bases are 7.3 (upstream, the default) and 6.12 (the LTS backport)" ;;
esac
export BASE
BASE_BUILD=$BUILD/$BASE
KSRC=$BASE_BUILD/${KSRC_NAME:-linux}	# generated git tree: base + one commit per patch
# (KSRC_NAME=linux-base: the unpatched worktree of scripts/bench-base.sh)
KOBJ=$BASE_BUILD/${KOBJ_NAME:-obj}	# out-of-tree kernel objects
GEN_REF=refs/project/generated	# what the repo last generated or exported
# Fixed identity and dates so that the generated commits are reproducible.
export GIT_COMMITTER_NAME="MM Rust Series"
export GIT_COMMITTER_EMAIL="mm-rust-series@example.org"

g() { git -C "$KSRC" "$@"; }

# base_tarball: the verified source tarball of $BASE.
base_tarball() {
	case $BASE in
	7.3) "$TOP/scripts/fetch-base.sh" ;;
	6.12)
		[[ -f $LINUX_SOURCE_TARBALL ]] ||
			die "$LINUX_SOURCE_TARBALL missing: run 'make deps'"
		echo "$LINUX_SOURCE_SHA256  $LINUX_SOURCE_TARBALL" | sha256sum -c --quiet ||
			die "sha256 of $LINUX_SOURCE_TARBALL is not the pinned $LINUX_SOURCE_SHA256"
		echo "$LINUX_SOURCE_TARBALL" ;;
	esac
}

# series_file PATH: where the repo keeps the new file PATH for $BASE.
series_file() {
	if [[ -f $FILES_DIR/$1 ]]; then
		echo "$FILES_DIR/$1"
	elif [[ -n $FALLBACK_DIR && -f $FALLBACK_DIR/$1 ]]; then
		echo "$FALLBACK_DIR/$1"
	else
		return 1
	fi
}
