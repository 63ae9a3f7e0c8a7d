// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark, not a test: N discontiguous ranges zapped with N
 * madvise(MADV_DONTNEED) calls against one process_madvise() vector, while
 * T toucher threads, each pinned to its own vCPU, keep reading the memory.
 *
 * Each case runs in a process of its own, so that no thread, mapping or
 * counter of one case is left for the next.  Per round, the loop and the
 * vector are timed side by side; a case prints the medians of 32 rounds
 * and the spread of the per-round time ratio.  The flush cost is read from
 * the kernel's own counter of flush IPIs that other CPUs received
 * (nr_tlb_remote_flush_received, CONFIG_DEBUG_TLBFLUSH), per operation (one
 * operation zaps all N ranges); the touchers' cost is their own read
 * throughput during the vector relative to during the loop.
 *
 * Kinds: "anon", one anonymous VMA; "vmas", the same pages split into a VMA
 * per 8 pages (alternating protections); "hugetlb", huge pages.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../guest_util.h"

#define ROUNDS 32
#define MAX_T 7

static size_t psize;
static size_t page;		/* the size of one range: psize, or a huge page */
static char *region;
static size_t region_pages;
static volatile bool stop;
static volatile unsigned long touches[MAX_T + 1];

static long received(void)
{
	return vmstat("nr_tlb_remote_flush_received");
}

static unsigned long all_touches(int t)
{
	unsigned long sum = 0;

	for (int i = 1; i <= t; i++)
		sum += touches[i];
	return sum;
}

static void *toucher(void *arg)
{
	long id = (long)arg;
	volatile char sink = 0;
	size_t i = id * 7919;

	pin(id);
	while (!stop) {
		sink += region[(i % region_pages) * page];
		touches[id]++;
		i += 17;
	}
	return NULL;
}

static void populate(size_t n)
{
	for (size_t i = 0; i < n; i++)
		region[(2 * i + 1) * page] = 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int map_region(const char *kind, size_t n)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;

	page = psize;
	if (!strcmp(kind, "hugetlb")) {
		page = 2UL << 20;
		flags |= MAP_HUGETLB;
	}
	region_pages = 2 * n;
	region = mmap(NULL, region_pages * page, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (region == MAP_FAILED)
		return -1;
	memset(region, 1, region_pages * page);
	if (!strcmp(kind, "vmas")) {
		/* A VMA per 8 pages: every other block is also executable. */
		for (size_t i = 8; i < region_pages; i += 16)
			if (mprotect(region + i * page, 8 * page,
				     PROT_READ | PROT_WRITE | PROT_EXEC))
				return -1;
	}
	return 0;
}

/* One case, in a process of its own: prints one line, exits 0 or 1. */
static int run_case(const char *kind, int n, int t)
{
	double t_loop[ROUNDS], t_vec[ROUNDS], ratio[ROUNDS];
	double loop_time = 0, vec_time = 0, lo, hi;
	unsigned long loop_touch = 0, vec_touch = 0, u0;
	long loop_ipi = 0, vec_ipi = 0, i0;
	int pidfd = syscall(SYS_pidfd_open, getpid(), 0);
	struct iovec *iov = calloc(n, sizeof(*iov));
	pthread_t th[MAX_T + 1];
	bool vector = true;
	int vec_err = 0;
	long ret = 0;
	double t0;

	pin(0);
	if (pidfd < 0 || !iov)
		return 1;
	if (map_region(kind, n)) {
		printf("%-7s %4d %2d | cannot map: %s\n", kind, n, t, strerror(errno));
		return 0;
	}
	for (int i = 0; i < n; i++)
		iov[i] = (struct iovec){ region + (2 * i + 1) * page, page };
	stop = false;
	for (long i = 1; i <= t; i++)
		pthread_create(&th[i], NULL, toucher, (void *)i);
	usleep(20000);

	for (int r = 0; r < ROUNDS; r++) {
		populate(n);
		i0 = received();
		u0 = all_touches(t);
		t0 = now();
		for (int i = 0; i < n; i++) {
			if (madvise(iov[i].iov_base, page, MADV_DONTNEED)) {
				perror("madvise");
				return 1;
			}
		}
		t_loop[r] = now() - t0;
		loop_touch += all_touches(t) - u0;
		loop_ipi += received() - i0;
		loop_time += t_loop[r];

		populate(n);
		i0 = received();
		u0 = all_touches(t);
		t0 = now();
		if (vector)
			ret = syscall(SYS_process_madvise, pidfd, iov, n,
				      MADV_DONTNEED, 0);
		if (vector && ret != (long)n * (long)page) {
			/*
			 * The unpatched 6.12 refuses MADV_DONTNEED (EINVAL):
			 * the loop is still measured, and the vector columns
			 * say why not.  Anything else is a failure.
			 */
			if (r || ret != -1 || errno != EINVAL) {
				printf("%-7s %4d %2d | vector returned %ld in round %d: %s\n",
				       kind, n, t, ret, r, ret < 0 ? strerror(errno) : "short");
				return 1;
			}
			vec_err = errno;
			vector = false;
		}
		t_vec[r] = now() - t0;
		vec_touch += all_touches(t) - u0;
		vec_ipi += received() - i0;
		vec_time += t_vec[r];
		ratio[r] = t_loop[r] / t_vec[r];
	}
	stop = true;
	for (int i = 1; i <= t; i++)
		pthread_join(th[i], NULL);
	if (!vector) {
		printf("%-7s %4d %2d | %8.1f %9.1f | vector: %s\n", kind, n, t,
		       (double)loop_ipi / ROUNDS, median(t_loop, ROUNDS) * 1e6,
		       strerror(vec_err));
		return 0;
	}

	qsort(ratio, ROUNDS, sizeof(ratio[0]), cmp_double);
	lo = ratio[ROUNDS / 10];
	hi = ratio[ROUNDS - 1 - ROUNDS / 10];
	printf("%-7s %4d %2d | %8.1f %9.1f | %8.1f %9.1f | %7.2f [%6.2f %7.2f] | ",
	       kind, n, t,
	       (double)loop_ipi / ROUNDS, median(t_loop, ROUNDS) * 1e6,
	       (double)vec_ipi / ROUNDS, median(t_vec, ROUNDS) * 1e6,
	       median(ratio, ROUNDS), lo, hi);
	if (t)
		printf("%7.2f\n", (vec_touch / vec_time) / (loop_touch / loop_time));
	else
		printf("%7s\n", "-");
	return 0;
}

/* "madv_bench t0" runs only the cases without touchers (T=0). */
int main(int argc, char **argv)
{
	static const struct { const char *kind; int n; } cases[] = {
		{ "anon", 16 }, { "anon", 128 }, { "anon", 512 },
		{ "vmas", 128 }, { "hugetlb", 4 }, { "hugetlb", 16 },
	};
	static const int ts[] = { 0, 1, 2, 3 };
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	bool t0_only = argc > 1 && !strcmp(argv[1], "t0");
	int failed = 0;

	psize = sysconf(_SC_PAGESIZE);
	if (received() < 0) {
		printf("no nr_tlb_remote_flush_received in /proc/vmstat (CONFIG_DEBUG_TLBFLUSH)\n");
		return 1;
	}
	printf("%-7s %4s %2s | %8s %9s | %8s %9s | %24s | %7s\n", "kind", "N", "T",
	       "loop", "", "vector", "", "time loop/vector", "touch");
	printf("%-7s %4s %2s | %8s %9s | %8s %9s | %7s %16s | %7s\n", "", "", "",
	       "IPIs/op", "us/op", "IPIs/op", "us/op", "median", "[p10 p90]", "vec/loop");
	fflush(stdout);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (size_t k = 0; k < sizeof(ts) / sizeof(ts[0]); k++) {
			int status;
			pid_t pid;

			if (ts[k] > ncpu - 1 || ts[k] > MAX_T || (t0_only && ts[k]))
				continue;
			pid = fork();
			if (pid < 0)
				return 1;
			if (!pid) {
				int ret = run_case(cases[c].kind, cases[c].n, ts[k]);

				fflush(stdout);
				_exit(ret);
			}
			if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
			    WEXITSTATUS(status))
				failed = 1;
		}
	}
	return failed;
}
