#!/bin/sh
# The benchmarks that "make bench" runs.  Not tests: they print ratios.
echo
echo "=== mmrust bench: $(uname -r), $(nproc) vCPUs ==="
echo "process_madvise(MADV_DONTNEED) vector vs a loop of madvise() calls;"
echo "TLB flushes per operation (one operation zaps all N ranges), from"
echo "/proc/vmstat (CONFIG_DEBUG_TLBFLUSH):"
/tests/madv_bench
echo "=== end of bench ==="
