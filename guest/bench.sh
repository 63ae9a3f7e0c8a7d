#!/bin/sh
# The benchmarks that "make bench" runs.  Not tests: they print ratios.
# mmrust.bench=madv, refpage or scale on the kernel command line
# (make bench BENCH=refpage) runs only one of them.  Two more run only when
# named, for the comparisons with the unpatched base (make bench-base):
# madv-t0, the madvise cases without toucher threads, and hfam, the run
# time of the upstream selftest hugetlb_fault_after_madv.
which=$(/tests/cmdline-arg mmrust.bench all)
# make bench-base names the kernel it booted (patched or base).
kernel=$(/tests/cmdline-arg mmrust.kernel "")
has() { grep -qx "$1" /tests/features; }
echo
echo "=== mmrust bench: $(uname -r)${kernel:+ ($kernel)}, $(nproc) vCPUs ==="
case $which in
all | madv | madv-t0 | hfam | refpage | scale) ;;
*) echo "unknown mmrust.bench=$which: all, madv, madv-t0, hfam, refpage or scale" ;;
esac
if ! has madvise; then
	echo "process_madvise(): the vectored pass is not in this base's series yet"
elif [ "$which" = all ] || [ "$which" = madv ]; then
	echo "process_madvise(MADV_DONTNEED) vector vs a loop of madvise() calls, T"
	echo "toucher threads reading the memory on other vCPUs; flush IPIs received"
	echo "by other CPUs per operation (one operation zaps all N ranges), median"
	echo "times of 32 rounds, and the touchers' read throughput, vector/loop:"
	/tests/madv_bench
elif [ "$which" = madv-t0 ]; then
	echo "madvise(MADV_DONTNEED) loop vs process_madvise() vector, no touchers:"
	/tests/madv_bench t0
fi
if [ "$which" = hfam ]; then
	echo "hugetlb_fault_after_madv: 10000 times a 2 MiB hugetlb mmap, two new"
	echo "threads, one doing 100 MADV_DONTNEED and one 100 writes (a write"
	echo "after a zap faults the huge page in again), and munmap; seconds per"
	echo "run (guest uptime), 5 runs:"
	# 6.12's version wants exactly one free huge page; 7.3's sets it up.
	hugepages=$(cat /proc/sys/vm/nr_hugepages)
	echo 1 >/proc/sys/vm/nr_hugepages
	runs=
	for i in 1 2 3 4 5; do
		t0=$(cut -d' ' -f1 /proc/uptime)
		if ! /tests/hugetlb_fault_after_madv >/tmp/hfam.log 2>&1; then
			echo "hugetlb_fault_after_madv failed:"
			cat /tmp/hfam.log
			break
		fi
		t1=$(cut -d' ' -f1 /proc/uptime)
		runs="$runs $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")"
	done
	echo "$hugepages" >/proc/sys/vm/nr_hugepages
	echo "  runs (s):$runs"
	echo "$runs" | tr ' ' '\n' | grep . | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) printf "  median %s s\n", v[int((NR + 1) / 2)] }'
fi
if ! has refpage; then
	echo "reference pages: not in this base's series yet"
elif [ "$which" = all ] || [ "$which" = refpage ]; then
	echo
	echo "pattern-initialised memory: anonymous + memset, refpage, and a fill"
	echo "on every fault, as ratios to plain anonymous memory:"
	/tests/refpage_bench
fi
if has refpage && { [ "$which" = all ] || [ "$which" = scale ]; }; then
	echo
	echo "mmap()/munmap() of refpage mappings in two processes at once: with"
	echo "one inode per descriptor, refpage should scale like memfd:"
	/tests/refpage_scale
fi
echo "=== end of bench ==="
