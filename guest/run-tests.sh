#!/bin/sh
# Run the kselftests named in $1 (lines: "name timeout [args...]") and frame
# each one's TAP output so the host can count results per program.
list=$1
cd /tests || exit 1
# mmrust.timeout_scale=N (make check DEBUG=1 sets 4) stretches every
# test's time budget for slow debug kernels.
scale=1
for arg in $(cat /proc/cmdline); do
	case $arg in
	mmrust.timeout_scale=*) scale=${arg#mmrust.timeout_scale=} ;;
	esac
done
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
	timeout -s KILL "$((tmo * scale))" "/tests/$name" $args </dev/null 2>&1
	rc=$?
	end=$(cut -d. -f1 /proc/uptime)
	echo "### END $name rc=$rc secs=$((end - start))"
done <"$list"
# With kmemleak (make check DEBUG=1), scan for leaks now that every test has
# exited; a second scan reports objects that the first one saw as new.  The
# kernel logs "kmemleak: N new suspected memory leaks", which the report
# counts as a failure; the details go to the test log.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 5
	echo scan >/sys/kernel/debug/kmemleak
	echo "### kmemleak report (empty when nothing leaked):"
	cat /sys/kernel/debug/kmemleak
fi
echo "### MMRUST TESTS DONE"
