#!/bin/sh
# The benchmarks that "make bench" runs.  Not tests: they print ratios.
# mmrust.bench=madv, refpage or scale on the kernel command line
# (make bench BENCH=refpage) runs only one of them.
which=$(/tests/cmdline-arg mmrust.bench all)
has() { grep -qx "$1" /tests/features; }
echo
echo "=== mmrust bench: $(uname -r), $(nproc) vCPUs ==="
if ! has madvise; then
	echo "process_madvise(): the vectored pass is not in this base's series yet"
elif [ "$which" = all ] || [ "$which" = madv ]; then
	echo "process_madvise(MADV_DONTNEED) vector vs a loop of madvise() calls, T"
	echo "toucher threads reading the memory on other vCPUs; flush IPIs received"
	echo "by other CPUs per operation (one operation zaps all N ranges), median"
	echo "times of 32 rounds, and the touchers' read throughput, vector/loop:"
	/tests/madv_bench
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
