#!/bin/bash
# make bench-base: the madvise benchmark on the unpatched base kernel, for
# the side-by-side table in README.md.  The base tree is a worktree of the
# generated tree at its base tag (build/$BASE/linux-base), built into
# build/$BASE/obj-base from the guest config without the options that only
# the series has; the guest is the series' initramfs, of which only
# madv_bench runs (BENCH=madv).
. "$(dirname "$0")/lib.sh"
src=$BASE_BUILD/linux-base
[[ -d $KSRC/.git ]] || die "no $KSRC: run 'make tree BASE=$BASE' first"
if [[ ! -d $src ]]; then
	g worktree add -q --detach "$src" "$BASE_TAG"
fi
[[ $(git -C "$src" rev-parse HEAD) == $(g rev-parse "$BASE_TAG") ]] ||
	die "$src is not at $BASE_TAG"
export KSRC_NAME=linux-base KOBJ_NAME=obj-base
frag=$(mktemp)
trap 'rm -f "$frag"' EXIT
# The options of the series' own code do not exist in the base.
cat "$TOP/config/guest.config" "$TOP/config/$BASE.config" |
	grep -vE '^CONFIG_(REFPAGE|REFPAGE_GUP_KUNIT_TEST|PROCESS_MADVISE_DISCARD|MADVISE_TABLE_KUNIT_TEST)=' >"$frag"
"$TOP/scripts/config.sh" "$frag"
"$TOP/scripts/kmake.sh" bzImage
RUN_DIR=$BUILD/run/$BASE-base TIMEOUT=1800 TCG_THREAD=multi \
	APPEND="mmrust.bench=madv" "$TOP/scripts/qemu.sh" bench
sed -n '/=== mmrust bench/,/=== end of bench/p' "$BUILD/run/$BASE-base/console.log" | tr -d '\r'
