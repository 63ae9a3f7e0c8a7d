#!/bin/bash
# make mutants: break the series on purpose, one way at a time, and check
# that the tests notice.  Each mutants/NAME.mutant names what it breaks,
# the kselftests to run and the failing cases expected (any one of them
# failing is a catch):
#
#   what: one line: the breakage
#   base: 7.3 | 6.12              the base whose tree it breaks
#   tests: program ...            (from guest/<base>/tests.list)
#   expect: text                  (a "FAIL:" line of the report contains it;
#                                  repeat for alternatives)
#   file: path/in/the/tree        replace, in that file, the text between
#   --- old                       "--- old" and "--- new" (it must occur
#   ...                           exactly once) by the text up to
#   --- new                       "--- end"
#   ...
#   --- end
#
# A fix patch is "reverted" by undoing its change in the final code: the
# later patches touch the same lines, so the patch itself no longer
# reverses.  The mutation goes into build/<base>/linux's work tree, the
# kernel is rebuilt incrementally and booted with only those tests (BASE=
# DEBUG=0 TESTS_LIST=...), and the tree is restored.  Not part of make
# check: each mutant costs a build and a boot.  Usage: mutants.sh [NAME ...]
field() { sed -n "s/^$1: *//p" "$2"; }
if [[ -z ${MUTANTS_BASE:-} ]]; then
	# Run each base's mutants with that base's tree and kernel.
	top=$(cd "$(dirname "$0")/.." && pwd)
	names=("$@")
	if ((${#names[@]} == 0)); then
		for m in "$top"/mutants/*.mutant; do names+=("$(basename "$m" .mutant)"); done
	fi
	rc=0
	for b in 7.3 6.12; do
		these=()
		for n in "${names[@]}"; do
			[[ -f $top/mutants/$n.mutant ]] || { echo "error: no mutant $n" >&2; exit 1; }
			mb=$(field base "$top/mutants/$n.mutant")
			[[ $mb == 7.3 || $mb == 6.12 ]] ||
				{ echo "error: mutants/$n.mutant: base '$mb' is neither 7.3 nor 6.12" >&2; exit 1; }
			[[ $mb == "$b" ]] && these+=("$n")
		done
		((${#these[@]})) || continue
		echo "mutants: base $b: ${these[*]}"
		MUTANTS_BASE=$b BASE=$b "$0" "${these[@]}" || rc=1
	done
	exit $rc
fi
. "$(dirname "$0")/lib.sh"
out=$BUILD/mutants/$BASE
mkdir -p "$out"
names=("$@")
"$TOP/scripts/tree.sh" >/dev/null
dirty=$(g status --porcelain --untracked-files=no)
[[ -z $dirty ]] || die "$KSRC has uncommitted changes; commit or stash them first"

restore() { g checkout -q -- . ; }
trap restore EXIT

caught=0 missed=()
for name in "${names[@]}"; do
	spec=$TOP/mutants/$name.mutant
	[[ -f $spec ]] || die "no mutant $spec"
	echo "mutants: $name: $(field what "$spec")"
	python3 - "$spec" "$KSRC" <<'PY' || die "$name: the mutation does not apply"
import re, sys
spec = open(sys.argv[1]).read()
path = re.search(r'^file: *(.+)$', spec, re.M).group(1).strip()
old = re.search(r'^--- old\n(.*?)^--- new\n', spec, re.M | re.S).group(1)
new = re.search(r'^--- new\n(.*?)^--- end$', spec, re.M | re.S).group(1)
f = f'{sys.argv[2]}/{path}'
src = open(f).read()
if src.count(old) != 1:
    sys.exit(f'{path}: the old text occurs {src.count(old)} times, not once')
open(f, 'w').write(src.replace(old, new))
PY
	g diff --stat | sed 's/^/  /'
	list=$out/$name.list
	: >"$list"
	for t in $(field tests "$spec"); do
		grep -E "^$t[[:space:]]" "$TOP/guest/$BASE/tests.list" >>"$list" ||
			die "$name: $t is not in guest/$BASE/tests.list"
	done
	log=$out/$name.log
	if ! KOBJ_NAME=obj "$TOP/scripts/kmake.sh" -s bzImage >"$log" 2>&1; then
		restore
		die "$name: the mutated kernel does not build (see $log)"
	fi
	rc=0
	BASE=$BASE DEBUG=0 TESTS_LIST=$list "$TOP/scripts/check.sh" >>"$log" 2>&1 || rc=$?
	restore
	hit=
	while read -r want; do
		[[ -z $want ]] && continue
		# The case itself failed: "FAIL: 7.3: program: case" (with a note
		# in brackets at most), not a "missing case" line.
		line=$(python3 -c 'import re, sys
want = re.escape(sys.argv[2])
for l in open(sys.argv[1], errors="replace"):
    if re.match(r"FAIL: [^:]+: [^:]+: " + want + r"( \(.*)?$", l.rstrip()):
        print(l.rstrip())
        break' "$log" "$want")
		[[ -n $line ]] && { hit=$line; break; }
	done < <(field expect "$spec")
	if ((rc != 0)) && [[ -n $hit ]]; then
		echo "mutants: $name: caught: $hit"
		caught=$((caught + 1))
	else
		echo "mutants: $name: MISSED (check exit $rc; log $log): $(tail -n 1 "$log")"
		missed+=("$name")
	fi
done
echo "mutants: $BASE: rebuilding the unmutated kernel"
KOBJ_NAME=obj "$TOP/scripts/kmake.sh" -s bzImage
echo "mutants: $BASE: ${caught} caught, ${#missed[@]} missed${missed:+: ${missed[*]}}"
((${#missed[@]} == 0))
