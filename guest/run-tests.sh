#!/bin/sh
# Run the kselftests named in $1 (lines: "name timeout [args...]") and frame
# each one's TAP output so the host can count results per program.
list=$1
cd /tests || exit 1
echo "### MMRUST TESTS BEGIN"
while read -r name tmo args; do
	case $name in ''|\#*) continue ;; esac
	echo "### BEGIN $name"
	if [ ! -x "/tests/$name" ]; then
		echo "### END $name rc=127"
		continue
	fi
	start=$(cut -d. -f1 /proc/uptime)
	# shellcheck disable=SC2086
	timeout -s KILL "$tmo" "/tests/$name" $args </dev/null 2>&1
	rc=$?
	end=$(cut -d. -f1 /proc/uptime)
	echo "### END $name rc=$rc secs=$((end - start))"
done <"$list"
echo "### MMRUST TESTS DONE"
