#!/bin/bash
# make export: write the commits of build/linux (base..HEAD) back into the
# repo.  For each commit:
#   - files it creates go to their kernel paths in the repo, as real files,
#     and are listed in patches/NNNN-subject.files;
#   - its edits to files of the base go to patches/NNNN-subject.patch,
#     together with the commit message;
#   - patches/series lists the patches in order.
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

# Drop the new files that the previous export had and this one has not.
if compgen -G "$TOP/patches/*.files" >/dev/null; then
	while read -r f; do
		[[ -z ${created[$f]:-} ]] && rm -f "$TOP/$f"
	done < <(cat "$TOP"/patches/*.files)
fi
for f in "${!created[@]}"; do
	mkdir -p "$(dirname "$TOP/$f")"
	g show "HEAD:$f" >"$TOP/$f"
	if [[ $(g ls-tree HEAD -- "$f" | cut -d' ' -f1) == 100755 ]]; then
		chmod +x "$TOP/$f"
	else
		chmod -x "$TOP/$f"
	fi
done
mkdir -p "$TOP/patches"
rm -f "$TOP"/patches/*.patch "$TOP"/patches/*.files "$TOP/patches/series"
cp -a "$tmp/patches/." "$TOP/patches/"
[[ -f $TOP/patches/series ]] || : >"$TOP/patches/series"
g update-ref "$GEN_REF" HEAD
echo "export: $n patches, ${#created[@]} new files written to $TOP"
