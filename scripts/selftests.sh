#!/bin/bash
# Build the kselftests that make check runs (scripts/lists.sh) as static
# binaries, against the generated tree's uapi headers, into build/selftests/.
# Each binary is deleted first, so that a test that no longer builds can
# never run as its old binary; any build failure fails this script.
. "$(dirname "$0")/lib.sh"
"$TOP/scripts/kmake.sh" -s headers
out=$BUILD/selftests
mkdir -p "$out"
targets=()
while read -r name; do
	targets+=("$out/$name")
	rm -f "$out/$name"
done < <("$TOP/scripts/lists.sh" programs)
# check_config.sh caches whether liburing is there; ask it again.
rm -f "$KSRC/tools/testing/selftests/mm/local_config."{h,mk}
rc=0
make -s -C "$KSRC/tools/testing/selftests/mm" OUTPUT="$out" \
	KHDR_INCLUDES="-isystem $KOBJ/usr/include" USERLDFLAGS=-static \
	-j"$(nproc)" "${targets[@]}" \
	2> >(grep -v 'warning: Using .* in statically linked' >&2) || rc=$?
((rc == 0)) || die "selftests: make failed (exit $rc)"
for t in "${targets[@]}"; do
	[[ -x $t ]] || die "selftest $(basename "$t") failed to build"
done
echo "selftests: ${#targets[@]} built in $out"
