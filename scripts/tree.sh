#!/bin/bash
# make tree: build/$BASE/linux = pinned base (one commit) + one commit per
# patch of that base's series (patches/ for 7.3, backports/6.12/patches/).
#
# The commits are built in a scratch index, so that regenerating an existing
# tree only rewrites the files whose content changed and incremental kernel
# builds stay incremental.  A tree with uncommitted edits, or with commits
# that have not been exported with "make export", is never overwritten: when
# the repo has not changed since, that tree is used as it is.
. "$(dirname "$0")/lib.sh"

import_base() {
	local tarball
	echo "tree: verifying the $BASE base"
	tarball=$(base_tarball)
	rm -rf "$KSRC.tmp"
	mkdir -p "$KSRC.tmp"
	echo "tree: extracting $tarball"
	tar -xJf "$tarball" -C "$KSRC.tmp" --strip-components=1
	git -C "$KSRC.tmp" init -q -b series
	git -C "$KSRC.tmp" config user.name "$GIT_COMMITTER_NAME"
	git -C "$KSRC.tmp" config user.email "$GIT_COMMITTER_EMAIL"
	git -C "$KSRC.tmp" config core.autocrlf false
	git -C "$KSRC.tmp" config gc.auto 0
	echo "tree: importing base into git"
	git -C "$KSRC.tmp" add -A -f .
	GIT_AUTHOR_NAME="$GIT_COMMITTER_NAME" GIT_AUTHOR_EMAIL="$GIT_COMMITTER_EMAIL" \
	GIT_AUTHOR_DATE="$BASE_DATE" GIT_COMMITTER_DATE="$BASE_DATE" \
		git -C "$KSRC.tmp" commit -q -m "$BASE_NAME"
	git -C "$KSRC.tmp" tag "$BASE_TAG"
	git -C "$KSRC.tmp" update-ref "$GEN_REF" HEAD
	mv "$KSRC.tmp" "$KSRC"
}

# The repo holds each new file as it is at the end of the series.  For the
# commit that creates it, undo the later patches' changes to it.
declare -A CREATED_BLOB
creation_blobs() {
	local names=() i j f scratch src
	mapfile -t names < <(grep -vE '^\s*(#|$)' "$SERIES_DIR/series")
	scratch=$(mktemp -d)
	for ((i = 0; i < ${#names[@]}; i++)); do
		local files=$SERIES_DIR/${names[i]%.patch}.files
		[[ -f $files ]] || continue
		while read -r f; do
			[[ -z $f ]] && continue
			src=$(series_file "$f") || die "$files lists $f, which does not exist"
			mkdir -p "$scratch/$(dirname "$f")"
			cp "$src" "$scratch/$f"
			for ((j = ${#names[@]} - 1; j > i; j--)); do
				grep -q "^diff --git a/$f b/$f\$" "$SERIES_DIR/${names[j]}" || continue
				(cd "$scratch" && git apply -R --include="$f" "$SERIES_DIR/${names[j]}") ||
					die "cannot undo ${names[j]} on $f"
			done
			CREATED_BLOB[$f]=$(g hash-object -w --path="$f" "$scratch/$f")
		done <"$files"
	done
	rm -rf "$scratch"
}

# Build the series commits on top of the base without touching a work tree.
# Prints the resulting commit.
build_commits() {
	local idx parent msg patch info name
	idx=$(mktemp); msg=$(mktemp); patch=$(mktemp); info=$(mktemp)
	trap 'rm -f "$idx" "$msg" "$patch" "$info"' RETURN
	parent=$(g rev-parse "$BASE_TAG")
	[[ -f $SERIES_DIR/series ]] || { echo "$parent"; return; }
	creation_blobs
	while read -r name; do
		[[ -z $name || $name == \#* ]] && continue
		local p=$SERIES_DIR/$name files=$SERIES_DIR/${name%.patch}.files
		[[ -f $p ]] || die "$SERIES_DIR/series names $name, which does not exist"
		git mailinfo -k "$msg" "$patch" <"$p" >"$info"
		GIT_INDEX_FILE=$idx g read-tree "$parent"
		if [[ -s $patch ]]; then
			GIT_INDEX_FILE=$idx g apply --cached --whitespace=nowarn "$patch" ||
				die "$SERIES_DIR/$name does not apply"
		fi
		if [[ -f $files ]]; then
			local f mode src
			while read -r f; do
				[[ -z $f ]] && continue
				src=$(series_file "$f") || die "$files lists $f, which does not exist"
				mode=100644; [[ -x $src ]] && mode=100755
				GIT_INDEX_FILE=$idx g update-index --add --cacheinfo \
					"$mode,${CREATED_BLOB[$f]},$f"
			done <"$files"
		fi
		local tree subject author email date
		tree=$(GIT_INDEX_FILE=$idx g write-tree)
		subject=$(sed -n 's/^Subject: //p' "$info")
		author=$(sed -n 's/^Author: //p' "$info")
		email=$(sed -n 's/^Email: //p' "$info")
		date=$(sed -n 's/^Date: //p' "$info")
		parent=$( { printf '%s\n\n' "$subject"; cat "$msg"; } |
			GIT_AUTHOR_NAME="$author" GIT_AUTHOR_EMAIL="$email" \
			GIT_AUTHOR_DATE="$date" GIT_COMMITTER_DATE="$date" \
			g commit-tree "$tree" -p "$parent")
	done <"$SERIES_DIR/series"
	echo "$parent"
}

[[ -d $KSRC/.git ]] || import_base

new=$(build_commits)
local_work=
[[ -n $(g status --porcelain --untracked-files=no) ]] && local_work="uncommitted changes"
[[ $(g rev-parse HEAD) != $(g rev-parse "$GEN_REF") ]] && local_work="commits that were not exported"
if [[ -n $local_work && -z ${FORCE:-} ]]; then
	# The repo has not changed since the tree was last generated or
	# exported: keep the developer's work and build it as it is.
	if [[ $(g rev-parse "$new^{tree}") == $(g rev-parse "$GEN_REF^{tree}") ]]; then
		echo "tree: $KSRC has $local_work; using it as it is ('make export' saves it)"
		exit 0
	fi
	die "$KSRC has $local_work, and the repo's patches changed too: run 'make export' first, or FORCE=1 make tree to discard the tree's work"
fi

g checkout -q -B series 2>/dev/null || true
g reset -q --hard "$new"
g update-ref "$GEN_REF" "$new"
echo "tree: $KSRC at $(g log -1 --format='%h %s')"
echo "tree: $(g rev-list --count "$BASE_TAG"..HEAD) patches on $BASE_TAG"
