// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark, not a test: N discontiguous 4 KiB ranges zapped with N
 * madvise(MADV_DONTNEED) calls against one process_madvise() vector, while
 * T threads pinned to T vCPUs keep touching the memory.
 *
 * For each (N, T) it prints the TLB flushes per operation, read from the
 * kernel's own counters (CONFIG_DEBUG_TLBFLUSH: nr_tlb_remote_flush and
 * nr_tlb_local_flush_*), and the time of the loop of N madvise() calls
 * divided by the time of the one vectored call, measured side by side.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 64

static size_t psize;
static char *region;
static size_t region_pages;
static volatile bool stop;

static long vmstat(const char *key)
{
	char name[64];
	long v, val = 0;
	FILE *f = fopen("/proc/vmstat", "r");

	while (f && fscanf(f, "%63s %ld", name, &v) == 2)
		if (!strcmp(name, key))
			val = v;
	if (f)
		fclose(f);
	return val;
}

struct flushes {
	long remote, local;
};

static struct flushes flushes(void)
{
	struct flushes f = {
		.remote = vmstat("nr_tlb_remote_flush"),
		.local = vmstat("nr_tlb_local_flush_one") +
			 vmstat("nr_tlb_local_flush_all"),
	};
	return f;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *toucher(void *arg)
{
	volatile char sink = 0;
	size_t i = (size_t)arg * 7919;

	pin((int)(long)arg);
	while (!stop) {
		sink += region[(i % region_pages) * psize];
		i += 17;
	}
	return NULL;
}

static void populate(size_t n)
{
	for (size_t i = 0; i < n; i++)
		region[(2 * i + 1) * psize] = 1;
}

int main(int argc, char **argv)
{
	static const int ns[] = { 16, 128, 512 };
	static const int ts[] = { 1, 4 };
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int pidfd = syscall(SYS_pidfd_open, getpid(), 0);

	psize = sysconf(_SC_PAGESIZE);
	pin(0);
	printf("%5s %3s | %12s %12s | %12s %12s | %10s\n", "N", "T",
	       "madvise", "", "vector", "", "time ratio");
	printf("%5s %3s | %12s %12s | %12s %12s | %10s\n", "", "",
	       "remote/op", "local/op", "remote/op", "local/op",
	       "loop/vector");
	for (size_t a = 0; a < sizeof(ns) / sizeof(ns[0]); a++) {
		for (size_t b = 0; b < sizeof(ts) / sizeof(ts[0]); b++) {
			int n = ns[a], t = ts[b];
			pthread_t th[8];
			struct iovec *iov = calloc(n, sizeof(*iov));
			double t_loop = 0, t_vec = 0, t0;
			struct flushes f0, f1, f2;
			long lr = 0, ll = 0, vr = 0, vl = 0;

			if (t > ncpu)
				continue;
			region_pages = 2 * n;
			region = mmap(NULL, region_pages * psize,
				      PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			memset(region, 1, region_pages * psize);
			for (int i = 0; i < n; i++) {
				iov[i].iov_base = region + (2 * i + 1) * psize;
				iov[i].iov_len = psize;
			}
			stop = false;
			for (int i = 1; i < t; i++)
				pthread_create(&th[i], NULL, toucher, (void *)(long)i);
			usleep(20000);

			for (int r = 0; r < ROUNDS; r++) {
				populate(n);
				f0 = flushes();
				t0 = now();
				for (int i = 0; i < n; i++)
					madvise(iov[i].iov_base, psize, MADV_DONTNEED);
				t_loop += now() - t0;
				f1 = flushes();
				lr += f1.remote - f0.remote;
				ll += f1.local - f0.local;

				populate(n);
				f1 = flushes();
				t0 = now();
				if (syscall(SYS_process_madvise, pidfd, iov, n,
					    MADV_DONTNEED, 0) != (long)n * (long)psize) {
					perror("process_madvise");
					return 1;
				}
				t_vec += now() - t0;
				f2 = flushes();
				vr += f2.remote - f1.remote;
				vl += f2.local - f1.local;
			}
			stop = true;
			for (int i = 1; i < t; i++)
				pthread_join(th[i], NULL);
			printf("%5d %3d | %12.2f %12.2f | %12.2f %12.2f | %10.2f\n",
			       n, t, (double)lr / ROUNDS, (double)ll / ROUNDS,
			       (double)vr / ROUNDS, (double)vl / ROUNDS,
			       t_loop / t_vec);
			munmap(region, region_pages * psize);
			free(iov);
		}
	}
	return 0;
}
