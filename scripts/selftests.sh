#!/bin/bash
# Build the kselftests named in guest/tests.list as static binaries, against
# the generated tree's uapi headers, into build/selftests/.
. "$(dirname "$0")/lib.sh"
"$TOP/scripts/kmake.sh" -s headers
out=$BUILD/selftests
mkdir -p "$out"
targets=()
while read -r name _; do
	[[ -z $name || $name == \#* ]] && continue
	targets+=("$out/$name")
done <"${TESTS_LIST:-$TOP/guest/tests.list}"
make -s -C "$KSRC/tools/testing/selftests/mm" OUTPUT="$out" \
	KHDR_INCLUDES="-isystem $KOBJ/usr/include" USERLDFLAGS=-static \
	-j"$(nproc)" "${targets[@]}" 2>&1 | grep -v 'warning: Using .* in statically linked' || true
for t in "${targets[@]}"; do
	[[ -x $t ]] || die "selftest $(basename "$t") failed to build"
done
echo "selftests: ${#targets[@]} built in $out"
