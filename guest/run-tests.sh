#!/bin/sh
# Run the kselftests named in $1 (lines: "name timeout [args...]").  Each
# program runs under /tests/runone, which frames its output with
# "### BEGIN name" / "### END name rc= secs=", prefixes every line it
# prints with "| ", enforces its time budget and kills what it leaves
# behind.  scripts/report.py reads the result.
list=$1
cd /tests || exit 1
echo "### MMRUST TESTS BEGIN"
echo "### LIST $(grep -vcE '^[[:space:]]*(#|$)' "$list") programs"
# An argument "hugepages=N" is not the program's: the program runs with
# exactly N free 2 MiB hugetlb pages (hugetlb_madv_vs_map needs one and
# only one), and the boot's count comes back afterwards.  An argument
# "retry=1" is not the program's either: if the program fails (runone
# exits non-zero), it runs once more after a "### RETRY" line, and
# scripts/report.py judges the rerun and prints the first run's failure.
while read -r name tmo args; do
	case $name in ''|\#*) continue ;; esac
	retry=
	case " $args " in
	*" retry=1 "*)
		retry=1
		args=$(echo " $args " | sed "s/ retry=1 / /; s/^ *//; s/ *$//") ;;
	esac
	pages=
	case " $args " in
	*" hugepages="*)
		pages=${args#*hugepages=}
		pages=${pages%% *}
		args=$(echo " $args " | sed "s/ hugepages=$pages / /; s/^ *//; s/ *$//")
		saved=$(cat /proc/sys/vm/nr_hugepages)
		echo "$pages" >/proc/sys/vm/nr_hugepages ;;
	esac
	# shellcheck disable=SC2086
	if ! /tests/runone "$name" "$tmo" "/tests/$name" $args && [ -n "$retry" ]; then
		echo "### RETRY $name: the first run failed; running it once more"
		# shellcheck disable=SC2086
		/tests/runone "$name" "$tmo" "/tests/$name" $args
	fi
	[ -n "$pages" ] && echo "$saved" >/proc/sys/vm/nr_hugepages
done <"$list"
# With kmemleak (the debug kernel), scan for leaks now that every test has
# exited; a second scan reports objects that the first one saw as new.  The
# kernel logs "kmemleak: N new suspected memory leaks", which the report
# counts as a failure; the details go to the test log.
if [ -e /sys/kernel/debug/kmemleak ]; then
	if echo scan >/sys/kernel/debug/kmemleak; then
		sleep 5
		echo scan >/sys/kernel/debug/kmemleak
		echo "### KMEMLEAK report follows (empty when nothing leaked)"
		sed 's/^/| /' /sys/kernel/debug/kmemleak
	else
		# kmemleak turns itself off when it cannot allocate.
		echo "### SETUP FAIL kmemleak: scan refused (kmemleak disabled itself)"
	fi
fi
# Lockdep switches itself off after its first report; a report whose
# console lines were lost still shows here.
if [ -e /proc/lockdep_stats ]; then
	echo "### DEBUG_LOCKS $(sed -n 's/^ *debug_locks: *//p' /proc/lockdep_stats)"
fi
echo "### TAINTED $(cat /proc/sys/kernel/tainted)"
echo "### MMRUST TESTS DONE"
