#!/bin/bash
# make series: an upstream-ready git format-patch series of build/linux,
# with the cover letter from patches/cover-letter, checked to apply with
# "git am" on the pinned base.
. "$(dirname "$0")/lib.sh"
out=$BUILD/series
rm -rf "$out"
n=$(g rev-list --count "$BASE_TAG"..HEAD)
((n > 0)) || die "the series is empty"
g format-patch -q --cover-letter --base="$BASE_TAG" --thread=shallow \
	--subject-prefix="PATCH" -o "$out" "$BASE_TAG"..HEAD
cover=$(ls "$out"/0000-cover-letter.patch)
if [[ -f $TOP/patches/cover-letter ]]; then
	subject=$(head -1 "$TOP/patches/cover-letter")
	python3 - "$cover" "$TOP/patches/cover-letter" "$subject" <<'PY'
import sys
cover, src, subject = sys.argv[1:]
text = open(cover).read()
body = open(src).read().split('\n', 1)[1].strip('\n')
text = text.replace('*** SUBJECT HERE ***', subject)
text = text.replace('*** BLURB HERE ***', body)
open(cover, 'w').write(text)
PY
fi
# Prove that the series applies with git am on the pinned base.
wt=$BUILD/series-check
rm -rf "$wt"
g worktree prune
g worktree add -q --detach "$wt" "$BASE_TAG"
mapfile -t pl < <(ls "$out"/*.patch | grep -v '/0000-cover-letter.patch$')
git -C "$wt" -c user.name=check -c user.email=check@invalid am -q "${pl[@]}" ||
	die "the series does not apply with git am on $BASE_TAG"
if [[ $(git -C "$wt" rev-parse HEAD^{tree}) != $(g rev-parse HEAD^{tree}) ]]; then
	die "git am of the series does not reproduce build/linux"
fi
g worktree remove --force "$wt"
echo "series: $n patches + cover letter in $out, applies with git am on $BASE_TAG"
