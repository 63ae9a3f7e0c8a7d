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
KSRC=$BUILD/linux		# generated git tree: base + one commit per patch
KOBJ=$BUILD/${KOBJ_NAME:-obj}	# out-of-tree kernel objects
GEN_REF=refs/project/generated	# what the repo last generated or exported
BASE_TAG=base-6.12.117
# Fixed identity and dates so that the generated commits are reproducible.
export GIT_COMMITTER_NAME="MM Rust Series"
export GIT_COMMITTER_EMAIL="mm-rust-series@example.org"
BASE_DATE="2025-11-14T12:56:00+0000"

die() { echo "error: $*" >&2; exit 1; }
g() { git -C "$KSRC" "$@"; }
