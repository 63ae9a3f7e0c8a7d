#!/bin/bash
# make export: write the commits of build/$BASE/linux (base..HEAD) back
# into the repo, into that base's series (patches/ for 7.3,
# backports/6.12/patches/ for 6.12).  For each commit:
#   - files it creates go to their kernel paths, as real files, and are
#     listed in NNNN-subject.files: for 7.3 at <path> in the repo; for
#     6.12 at backports/6.12/<path>, unless the 7.3 file at <path> is the
#     same, which the backport then shares;
#   - its edits to files of the base go to NNNN-subject.patch, together
#     with the commit message;
#   - series lists the patches in order.
# A new file is stored once, as it is at the end of the series; later
# changes to it are also kept as diffs in the later patches, from which
# "make tree" recovers the version each commit had.
. "$(dirname "$0")/lib.sh"
[[ -d $KSRC/.git ]] || die "no tree at $KSRC: run 'make tree'"
[[ -z $(g status --porcelain --untracked-files=no) ]] ||
	die "$KSRC has uncommitted changes: commit them first"

commits=$(g rev-list --reverse --topo-order "$BASE_TAG"..HEAD)
for c in $commits; do
	[[ $(g rev-list --parents -n1 "$c" | wc -w) -eq 2 ]] ||
		die "commit $(g log -1 --format=%h "$c") is a merge: the series must be linear"
done

declare -A created
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/patches"
n=0
for c in $commits; do
	n=$((n + 1))
	subj=$(g log -1 --format=%s "$c")
	slug=$(printf '%s' "$subj" | tr -c 'A-Za-z0-9_.-' '-' | tr -s '-' |
		sed 's/^-//; s/-$//' | cut -c1-52 | sed 's/[-.]*$//')
	name=$(printf '%04d-%s' "$n" "$slug")
	edits=()
	news=()
	while IFS=$'\t' read -r st path; do
		if g cat-file -e "$BASE_TAG:$path" 2>/dev/null; then
			edits+=("$path")
		elif [[ $st == A && -z ${created[$path]:-} ]]; then
			news+=("$path")
			created[$path]=$name
		elif [[ $st == M && -n ${created[$path]:-} ]]; then
			# A later change to a new file is a diff in this patch.
			edits+=("$path")
		else
			die "$(g log -1 --format='%h %s' "$c") deletes or renames $path, which ${created[$path]:-an earlier patch} creates: fold that into the series differently"
		fi
	done < <(g diff-tree -r --no-commit-id --name-status --no-renames "$c")
	{
		echo "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001"
		g log -1 --format='From: %an <%ae>%nDate: %aD%nSubject: %s%n%n%b' "$c" |
			sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
		echo "---"
		if ((${#edits[@]})); then
			g diff --stat=72 "$c^" "$c" -- "${edits[@]}"
			echo
			g diff --full-index "$c^" "$c" -- "${edits[@]}"
		fi
	} >"$tmp/patches/$name.patch"
	if ((${#news[@]})); then
		printf '%s\n' "${news[@]}" >"$tmp/patches/$name.files"
	fi
	echo "$name.patch" >>"$tmp/patches/series"
done

# The 6.12 backport reads a new file from <path> when it has no copy of
# its own: such a file that 7.3 drops moves into backports/6.12/, and one
# that 7.3 changes changes the backport too (said here, so that the
# backport is rebuilt and tested with it).
backport_shares() {
	[[ $BASE == 7.3 && ! -f $TOP/backports/6.12/$1 ]] &&
		compgen -G "$TOP/backports/6.12/patches/*.files" >/dev/null &&
		grep -qxF "$1" "$TOP"/backports/6.12/patches/*.files
}
# Drop the new files that the previous export had and this one has not.
if compgen -G "$SERIES_DIR/*.files" >/dev/null; then
	while read -r f; do
		[[ -n ${created[$f]:-} ]] && continue
		if backport_shares "$f"; then
			mkdir -p "$(dirname "$TOP/backports/6.12/$f")"
			mv "$FILES_DIR/$f" "$TOP/backports/6.12/$f"
			echo "export: $f moves to backports/6.12/$f, which still needs it"
		else
			rm -f "$FILES_DIR/$f"
		fi
	done < <(cat "$SERIES_DIR"/*.files)
fi
for f in "${!created[@]}"; do
	g show "HEAD:$f" >"$tmp/file"
	if [[ $(g ls-tree HEAD -- "$f" | cut -d' ' -f1) == 100755 ]]; then
		chmod +x "$tmp/file"
	else
		chmod -x "$tmp/file"
	fi
	if [[ -n $FALLBACK_DIR && -f $FALLBACK_DIR/$f ]] && cmp -s "$tmp/file" "$FALLBACK_DIR/$f" &&
		[[ $(stat -c %a "$tmp/file") == $(stat -c %a "$FALLBACK_DIR/$f") ]]; then
		rm -f "$FILES_DIR/$f"	# the same as upstream's: shared
		continue
	fi
	if backport_shares "$f" && ! cmp -s "$tmp/file" "$FILES_DIR/$f"; then
		echo "export: $f changes for the 6.12 backport too, which shares it"
	fi
	mkdir -p "$(dirname "$FILES_DIR/$f")"
	mv "$tmp/file" "$FILES_DIR/$f"
done
mkdir -p "$SERIES_DIR"
rm -f "$SERIES_DIR"/*.patch "$SERIES_DIR"/*.files "$SERIES_DIR/series"
cp -a "$tmp/patches/." "$SERIES_DIR/"
[[ -f $SERIES_DIR/series ]] || : >"$SERIES_DIR/series"
g update-ref "$GEN_REF" HEAD
echo "export: $n patches, ${#created[@]} new files, for $BASE in ${SERIES_DIR#"$TOP"/}"
