#!/bin/bash
# make bench-base: a benchmark on the unpatched base kernel, for the
# side-by-side tables in README.md.  The base tree is a worktree of the
# generated tree at its base tag (build/$BASE/linux-base), built into
# build/$BASE/obj-base from the guest config without the options that only
# the series has; the guest is the series' initramfs, of which only the
# benchmark named by BENCH runs (default madv; guest/bench.sh).
#
# ALTERNATE=K boots the patched kernel (build/$BASE/obj, which make build
# made) and the base kernel in turn, K times each, with the same BENCH, so
# that a difference between them can be told from the spread between
# boots.  Each boot's output is kept in build/run/$BASE-alt/.
. "$(dirname "$0")/lib.sh"
bench=${BENCH:-madv}
src=$BASE_BUILD/linux-base
[[ -d $KSRC/.git ]] || die "no $KSRC: run 'make tree BASE=$BASE' first"
if [[ ! -d $src ]]; then
	g worktree add -q --detach "$src" "$BASE_TAG"
fi
[[ $(git -C "$src" rev-parse HEAD) == $(g rev-parse "$BASE_TAG") ]] ||
	die "$src is not at $BASE_TAG"
frag=$(mktemp)
trap 'rm -f "$frag"' EXIT
# The options of the series' own code do not exist in the base.
cat "$TOP/config/guest.config" "$TOP/config/$BASE.config" |
	grep -vE '^CONFIG_(REFPAGE|REFPAGE_GUP_KUNIT_TEST|PROCESS_MADVISE_DISCARD|MADVISE_TABLE_KUNIT_TEST)=' >"$frag"
KSRC_NAME=linux-base KOBJ_NAME=obj-base "$TOP/scripts/config.sh" "$frag"
KSRC_NAME=linux-base KOBJ_NAME=obj-base "$TOP/scripts/kmake.sh" bzImage

# boot OBJ RUN_DIR: one benchmark boot of the kernel in build/$BASE/OBJ.
boot() {
	KOBJ_NAME=$1 RUN_DIR=$2 TIMEOUT=1800 TCG_THREAD=multi \
		APPEND="mmrust.bench=$bench" "$TOP/scripts/qemu.sh" bench
	sed -n '/=== mmrust bench/,/=== end of bench/p' "$2/console.log" | tr -d '\r'
}

if [[ -z ${ALTERNATE:-} ]]; then
	boot obj-base "$BUILD/run/$BASE-base"
	exit
fi
[[ $ALTERNATE =~ ^[1-9][0-9]*$ ]] || die "ALTERNATE=$ALTERNATE: want a count of boots per kernel"
[[ -f $BASE_BUILD/obj/arch/x86/boot/bzImage ]] ||
	die "no patched kernel in $BASE_BUILD/obj: run 'make build BASE=$BASE' first"
alt=$BUILD/run/$BASE-alt
mkdir -p "$alt"
for ((i = 1; i <= ALTERNATE; i++)); do
	for name in patched base; do
		obj=obj
		[[ $name == base ]] && obj=obj-base
		echo "### boot $i of $ALTERNATE: $name"
		boot "$obj" "$alt/$name" | tee "$alt/$bench-$name-$i.txt"
	done
done
