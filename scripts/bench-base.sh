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
# boots.  Each boot's output is kept in build/run/$BASE-alt/BENCH-TIME/.
. "$(dirname "$0")/lib.sh"
bench=${BENCH:-madv}
# Only the benchmarks that need nothing of the series: the initramfs's
# feature list is the series', so refpage or scale would run on a kernel
# without refpage_create().
case $bench in
madv | madv-t0 | hfam) ;;
*) die "BENCH=$bench: bench-base runs madv, madv-t0 or hfam" ;;
esac
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

# boot NAME OBJ RUN_DIR: one benchmark boot of the kernel in
# build/$BASE/OBJ; prints the bench's output, and fails if the guest did
# not finish it (a timeout, or a panic, which also makes QEMU exit 0).
boot() {
	local rc=0
	KOBJ_NAME=$2 RUN_DIR=$3 TIMEOUT=1800 TCG_THREAD=multi \
		APPEND="mmrust.bench=$bench mmrust.kernel=$1" "$TOP/scripts/qemu.sh" bench || rc=$?
	sed -n '/=== mmrust bench/,/=== end of bench/p' "$3/console.log" | tr -d '\r'
	if ((rc)) || ! grep -q '=== end of bench ===' "$3/console.log"; then
		echo "bench-base: the $1 kernel's boot did not finish the bench (qemu exit $rc, $3/console.log)" >&2
		return 1
	fi
}

if [[ -z ${ALTERNATE:-} ]]; then
	boot base obj-base "$BUILD/run/$BASE-base"
	exit
fi
[[ $ALTERNATE =~ ^[1-9][0-9]*$ ]] || die "ALTERNATE=$ALTERNATE: want a count of boots per kernel"
[[ -f $BASE_BUILD/obj/arch/x86/boot/bzImage ]] ||
	die "no patched kernel in $BASE_BUILD/obj: run 'make build BASE=$BASE' first"
# A directory per run, so that no run overwrites another's boots.
alt=$BUILD/run/$BASE-alt/$bench-$(date +%Y%m%dT%H%M%S)
mkdir -p "$alt"
failed=0
for ((i = 1; i <= ALTERNATE; i++)); do
	for name in patched base; do
		obj=obj
		[[ $name == base ]] && obj=obj-base
		echo "### boot $i of $ALTERNATE: $name"
		boot "$name" "$obj" "$alt/run" >"$alt/$name-$i.txt" || failed=1
		cat "$alt/$name-$i.txt"
	done
done
echo "bench-base: every boot's output is in $alt"
exit $failed
