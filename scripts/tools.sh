#!/bin/bash
# Where the project's own tools live (not on PATH, not in ~/.cargo):
#   tools.sh root      the directory cargo installs into
#   tools.sh bindgen   the bindgen binary the kernel build uses
# shellcheck source=scripts/pins.sh
. "$(dirname "$0")/pins.sh"
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
root=${MMRUST_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/mmrust-tools}/bindgen-$BINDGEN_VERSION
case $1 in
root) echo "$root" ;;
bindgen) echo "$root/bin/bindgen" ;;
*) echo "usage: tools.sh root|bindgen" >&2; exit 2 ;;
esac
