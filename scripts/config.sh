#!/bin/bash
# Generate $KOBJ/.config: allnoconfig plus the fragments given as arguments,
# then check that every option the fragments ask for survived Kconfig.  A
# later fragment overrides an earlier one (config/norust.config turns off
# what guest.config turned on): the last line for an option counts.
. "$(dirname "$0")/lib.sh"
frag=$KOBJ/fragment.config
mkdir -p "$KOBJ"
cat "$@" >"$frag"
"$TOP/scripts/kmake.sh" -s KCONFIG_ALLCONFIG="$frag" allnoconfig
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=n) opt=${line%%=*}
		grep -q "^$opt=" "$KOBJ/.config" && { echo "config: $opt is not off"; bad=1; } ;;
	CONFIG_*=*) grep -qxF -- "$line" "$KOBJ/.config" ||
		{ echo "config: wanted $line, got: $(grep -E "(^| )${line%%=*}[= ]" "$KOBJ/.config")"; bad=1; } ;;
	esac
done < <(grep -E '^CONFIG_' "$frag" | tac | awk -F= '!seen[$1]++' | tac)
((bad == 0)) || die "the config fragments did not apply cleanly (see above)"
echo "config: $KOBJ/.config from $*"
