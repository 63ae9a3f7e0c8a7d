#!/bin/bash
# make tree: build/linux = pinned base (one commit) + one commit per patch.
#
# The commits are built in a scratch index, so that regenerating an existing
# tree only rewrites the files whose content changed and incremental kernel
# builds stay incremental.  A tree with uncommitted edits, or with commits
# that have not been exported with "make export", is never overwritten: when
# the repo has not changed since, that tree is used as it is.
. "$(dirname "$0")/lib.sh"

import_base() {
	[[ -f $LINUX_SOURCE_TARBALL ]] ||
		die "$LINUX_SOURCE_TARBALL missing: run 'make deps'"
	echo "tree: verifying $LINUX_SOURCE_TARBALL"
	echo "$LINUX_SOURCE_SHA256  $LINUX_SOURCE_TARBALL" | sha256sum -c --quiet ||
		die "sha256 of $LINUX_SOURCE_TARBALL is not the pinned $LINUX_SOURCE_SHA256"
	rm -rf "$KSRC.tmp"
	mkdir -p "$KSRC.tmp"
	echo "tree: extracting base"
	tar -xJf "$LINUX_SOURCE_TARBALL" -C "$KSRC.tmp" --strip-components=1
	git -C "$KSRC.tmp" init -q -b series
	git -C "$KSRC.tmp" config user.name "$GIT_COMMITTER_NAME"
	git -C "$KSRC.tmp" config user.email "$GIT_COMMITTER_EMAIL"
	git -C "$KSRC.tmp" config core.autocrlf false
	git -C "$KSRC.tmp" config gc.auto 0
	echo "tree: importing base into git"
	git -C "$KSRC.tmp" add -A -f .
	GIT_AUTHOR_NAME="$GIT_COMMITTER_NAME" GIT_AUTHOR_EMAIL="$GIT_COMMITTER_EMAIL" \
	GIT_AUTHOR_DATE="$BASE_DATE" GIT_COMMITTER_DATE="$BASE_DATE" \
		git -C "$KSRC.tmp" commit -q -m "Linux 6.12.117 (Debian linux-source-6.12 $LINUX_SOURCE_DEB_VERSION)"
	git -C "$KSRC.tmp" tag "$BASE_TAG"
	git -C "$KSRC.tmp" update-ref "$GEN_REF" HEAD
	mv "$KSRC.tmp" "$KSRC"
}

# The repo holds each new file as it is at the end of the series.  For the
# commit that creates it, undo the later patches' changes to it.
declare -A CREATED_BLOB
creation_blobs() {
	local names=() i j f scratch
	mapfile -t names < <(grep -vE '^\s*(#|$)' "$TOP/patches/series")
	scratch=$(mktemp -d)
	for ((i = 0; i < ${#names[@]}; i++)); do
		local files=$TOP/patches/${names[i]%.patch}.files
		[[ -f $files ]] || continue
		while read -r f; do
			[[ -z $f ]] && continue
			[[ -f $TOP/$f ]] || die "$files lists $f, which does not exist"
			mkdir -p "$scratch/$(dirname "$f")"
			cp "$TOP/$f" "$scratch/$f"
			for ((j = ${#names[@]} - 1; j > i; j--)); do
				grep -q "^diff --git a/$f b/$f\$" "$TOP/patches/${names[j]}" || continue
				(cd "$scratch" && git apply -R --include="$f" "$TOP/patches/${names[j]}") ||
					die "cannot undo patches/${names[j]} on $f"
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
	[[ -f $TOP/patches/series ]] || { echo "$parent"; return; }
	creation_blobs
	while read -r name; do
		[[ -z $name || $name == \#* ]] && continue
		local p=$TOP/patches/$name files=$TOP/patches/${name%.patch}.files
		[[ -f $p ]] || die "patches/series names $name, which does not exist"
		git mailinfo -k "$msg" "$patch" <"$p" >"$info"
		GIT_INDEX_FILE=$idx g read-tree "$parent"
		if [[ -s $patch ]]; then
			GIT_INDEX_FILE=$idx g apply --cached --whitespace=nowarn "$patch" ||
				die "patches/$name does not apply"
		fi
		if [[ -f $files ]]; then
			local f mode
			while read -r f; do
				[[ -z $f ]] && continue
				[[ -f $TOP/$f ]] || die "$files lists $f, which does not exist"
				mode=100644; [[ -x $TOP/$f ]] && mode=100755
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
	done <"$TOP/patches/series"
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
