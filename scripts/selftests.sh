#!/bin/bash
# Build the kselftests that make check runs on $BASE (scripts/lists.sh) as
# static binaries, against the generated tree's uapi headers, into
# build/$BASE/selftests/.  The mm tests come from selftests/mm, the vdso_*
# programs from selftests/vDSO.  Each binary is deleted first, so that a
# test that no longer builds can never run as its old binary; any build
# failure fails this script.
. "$(dirname "$0")/lib.sh"
"$TOP/scripts/kmake.sh" -s headers
out=$BASE_BUILD/selftests
mkdir -p "$out"
mm=() vdso=()
while read -r name; do
	case $name in
	vdso_*) vdso+=("$out/$name") ;;
	*) mm+=("$out/$name") ;;
	esac
	rm -f "$out/$name"
done < <("$TOP/scripts/lists.sh" programs)
# check_config.sh caches whether liburing is there; ask it again.
rm -f "$KSRC/tools/testing/selftests/mm/local_config."{h,mk}
build() {
	local dir=$1 rc=0
	shift
	(($#)) || return 0
	make -s -C "$KSRC/tools/testing/selftests/$dir" OUTPUT="$out" \
		KHDR_INCLUDES="-isystem $KOBJ/usr/include" USERLDFLAGS=-static \
		-j"$(nproc)" "$@" \
		2> >(grep -v 'warning: Using .* in statically linked' >&2) || rc=$?
	((rc == 0)) || die "selftests/$dir: make failed (exit $rc)"
}
build mm "${mm[@]}"
build vDSO "${vdso[@]}"
for t in "${mm[@]}" "${vdso[@]}"; do
	[[ -x $t ]] || die "selftest $(basename "$t") failed to build"
done
echo "selftests: $((${#mm[@]} + ${#vdso[@]})) built in $out"
