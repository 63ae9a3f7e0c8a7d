#!/bin/bash
# make series: the series of build/$BASE/linux as it would be mailed, in
# build/$BASE/series: git format-patch with the cover letter from the
# series' cover-letter file.  Then it proves that the series is ready:
#   - it applies with git am on the pinned base and reproduces the tree;
#   - scripts/checkpatch.pl --strict passes on every patch;
#   - every patch builds: the kernel is built incrementally at each commit
#     (SERIES_BUILD=0 skips this, which takes about a minute per patch).
. "$(dirname "$0")/lib.sh"
out=$BASE_BUILD/series
rm -rf "$out"
n=$(g rev-list --count "$BASE_TAG"..HEAD)
((n > 0)) || die "the series is empty"
# No --base: the base commit is a local import of Debian's tarball, whose
# id means nothing to anyone else; the cover letter names the base.
# The cover letter's "To:" and "Cc:" lines, right after its subject, address
# every patch.
addr=()
if [[ -f $SERIES_DIR/cover-letter ]]; then
	while IFS= read -r line; do
		case $line in
		To:\ *) addr+=(--to="${line#To: }") ;;
		Cc:\ *) addr+=(--cc="${line#Cc: }") ;;
		*) break ;;
		esac
	done < <(tail -n +2 "$SERIES_DIR/cover-letter")
fi
g format-patch -q --cover-letter --thread=shallow "${addr[@]}" \
	--subject-prefix="PATCH" -o "$out" "$BASE_TAG"..HEAD
cover=$(ls "$out"/0000-cover-letter.patch)
if [[ -f $SERIES_DIR/cover-letter ]]; then
	subject=$(head -1 "$SERIES_DIR/cover-letter")
	python3 - "$cover" "$SERIES_DIR/cover-letter" "$subject" <<'PY'
import sys
cover, src, subject = sys.argv[1:]
text = open(cover).read()
body = open(src).read().split('\n', 1)[1]
# Leave out the To: and Cc: lines, which format-patch put in the headers.
lines = body.split('\n')
while lines and lines[0].startswith(('To: ', 'Cc: ')):
    lines.pop(0)
body = '\n'.join(lines).strip('\n')
text = text.replace('*** SUBJECT HERE ***', subject)
text = text.replace('*** BLURB HERE ***', body)
open(cover, 'w').write(text)
PY
fi
mapfile -t pl < <(ls "$out"/*.patch | grep -v '/0000-cover-letter.patch$')

# Prove that the series applies with git am on the pinned base.
wt=$BASE_BUILD/series-check
rm -rf "$wt"
g worktree prune
g worktree add -q --detach "$wt" "$BASE_TAG"
git -C "$wt" -c user.name=check -c user.email=check@invalid am -q "${pl[@]}" ||
	die "the series does not apply with git am on $BASE_TAG"
if [[ $(git -C "$wt" rev-parse HEAD^{tree}) != $(g rev-parse HEAD^{tree}) ]]; then
	die "git am of the series does not reproduce $KSRC"
fi
g worktree remove --force "$wt"
echo "series: $n patches + cover letter in $out, applies with git am on $BASE_TAG"

# checkpatch, strict, on every patch, run in the tree (so that it knows
# the kernel's own identifiers, such as the uapi Elf64_* types).  Two
# checks cannot work on a generated tree and are left out:
# UNKNOWN_COMMIT_ID (the tree has one commit for the whole base, so no
# upstream id of a Fixes: tag can be looked up; the ids were checked
# against upstream by hand) and FILE_PATH_CHANGES (a reminder, for every
# patch that adds a file without touching MAINTAINERS, to update it: the
# madvise patches that create a file outside the sections' directories add
# it to MAINTAINERS (MADVISE on 7.3, MEMORY MANAGEMENT on 6.12), and their
# other new files sit under mm/ or tools/testing/selftests/mm/, which are
# covered already.  On 7.3 the refpage patches add a MAINTAINERS section
# of their own, each with the files it creates; the 6.12 backport leaves
# MAINTAINERS to the 7.3 series).
ignore=UNKNOWN_COMMIT_ID,FILE_PATH_CHANGES
bad=0
for p in "${pl[@]}"; do
	if ! res=$(cd "$KSRC" && perl scripts/checkpatch.pl --strict -q \
		--ignore "$ignore" "$p" 2>&1); then
		echo "series: checkpatch: $(basename "$p"):"
		sed 's/^/  /' <<<"$res"
		bad=1
	fi
done
((bad == 0)) || die "checkpatch --strict is not clean (above)"
echo "series: checkpatch --strict: clean on all $n patches"

# Bisectability: build the kernel at every commit, incrementally, in the
# same object directory as make build (so the work is not thrown away).
if [[ ${SERIES_BUILD:-1} != 0 ]]; then
	[[ -z $(g status --porcelain --untracked-files=no) ]] ||
		die "$KSRC has uncommitted changes: commit them first"
	[[ -f $KOBJ/.config ]] || die "no $KOBJ/.config: run 'make build' first"
	head=$(g rev-parse HEAD)
	branch=$(g symbolic-ref -q --short HEAD || true)
	restore() { g checkout -q "${branch:-$head}"; }
	trap restore EXIT
	i=0
	for c in $(g rev-list --reverse "$BASE_TAG"..HEAD); do
		i=$((i + 1))
		g checkout -q "$c"
		log=$out/build-$i.log
		if ! "$TOP/scripts/kmake.sh" -s bzImage >"$log" 2>&1; then
			tail -n 20 "$log" | sed 's/^/  /'
			die "patch $i ($(g log -1 --format=%s "$c")) does not build: $log"
		fi
		# A patch that adds a selftest program builds that program too.
		progs=()
		while read -r f; do
			progs+=("$out/selftests-$i/$(basename "$f" .c)")
		done < <(g diff --name-only --diff-filter=A "$c^" "$c" -- 'tools/testing/selftests/mm/*.c' |
			while read -r f; do
				grep -qE "^TEST_GEN_(FILES|PROGS) \+?= $(basename "$f" .c)\$" \
					"$KSRC/tools/testing/selftests/mm/Makefile" && echo "$f"
			done)
		if ((${#progs[@]})); then
			"$TOP/scripts/kmake.sh" -s headers >>"$log" 2>&1
			mkdir -p "$out/selftests-$i"
			make -s -C "$KSRC/tools/testing/selftests/mm" OUTPUT="$out/selftests-$i" \
				KHDR_INCLUDES="-isystem $KOBJ/usr/include" "${progs[@]}" >>"$log" 2>&1 ||
				die "patch $i: its selftests do not build: $log"
		fi
		echo "series: patch $i/$n builds${progs:+ (and ${#progs[@]} selftest program(s))}: $(g log -1 --format=%s "$c")"
	done
	restore
	trap - EXIT
	# Back at the head: leave the object directory built for it.
	"$TOP/scripts/kmake.sh" -s bzImage >"$out/build-head.log" 2>&1 ||
		die "the head does not build again: $out/build-head.log"
	echo "series: every patch builds"
fi
