// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark, not a test: does mmap()/munmap() of refpage mappings scale
 * across processes?
 *
 * Every mmap() and munmap() of a file VMA takes its inode's i_mmap_rwsem
 * for writing.  When all refpage descriptors shared the anonymous inode,
 * that one rwsem serialised every refpage mmap, munmap, split, fork and
 * exit in the system; each descriptor now has an inode of its own.  This
 * program measures the difference as a scaling ratio: P processes, each
 * pinned to its own CPU, map and unmap a 16-page private mapping in a
 * loop for a fixed time, and the total rate with P = 2 is divided by the
 * rate with P = 1 (2.00 is perfect scaling):
 *
 *   anon        MAP_ANONYMOUS: no inode at all, the control (how far the
 *               machine itself scales);
 *   refpage     each process maps its own refpage descriptor;
 *   one-fd      every process maps the same descriptor: one inode, so one
 *               rwsem, whatever the kernel does, and one struct file
 *               whose reference count the processes share too;
 *   memfd       each process maps its own memfd (a shmem inode each): a
 *               file mapping without refpage;
 *   memfd-1ino  one memfd, which each process opens again through
 *               /proc/self/fd: separate files on one inode, which is what
 *               refpage descriptors were when they shared the anonymous
 *               inode.
 *
 * With one inode per descriptor, refpage should scale like memfd; with a
 * shared inode, like memfd-1ino.  Each cell is the median of R runs
 * (-r, default 3) of T ms (-t, default 1000).  Needs at least 2 CPUs, and
 * under QEMU a multi-threaded TCG (make bench does that).
 *
 * Exit status: 0 whatever the numbers; 1 if the kernel has no
 * refpage_create() or a process cannot be started; 2 on a bad option.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../guest_util.h"

#ifndef __NR_refpage_create
#define __NR_refpage_create 473
#endif

#define MAP_PAGES	16
#define MAX_PROCS	2

enum { ANON, OWN_FD, ONE_FD, MEMFD, MEMFD_ONE_INODE, NR_VARIANTS };

static const char * const names[NR_VARIANTS] = {
	[ANON] = "anon", [OWN_FD] = "refpage", [ONE_FD] = "one-fd",
	[MEMFD] = "memfd", [MEMFD_ONE_INODE] = "memfd-1ino",
};

static const unsigned char pattern = 0xaa;

static int refpage_create(void)
{
	return syscall(__NR_refpage_create, &pattern, 1, 0);
}

static size_t map_len(void)
{
	return MAP_PAGES * sysconf(_SC_PAGESIZE);
}

static int new_memfd(void)
{
	int fd = memfd_create("refpage_scale", MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, map_len())) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The descriptor a process of @variant maps; @fd is the parent's. */
static int child_fd(int variant, int fd, int memfd)
{
	char path[64];

	switch (variant) {
	case OWN_FD:
		return refpage_create();
	case ONE_FD:
		return fd;
	case MEMFD:
		return new_memfd();
	case MEMFD_ONE_INODE:
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
		return open(path, O_RDONLY | O_CLOEXEC);
	}
	return -1;
}

/*
 * One process's loop: mmap() and munmap() from @start to @end (absolute
 * CLOCK_MONOTONIC times shared by all processes); the number done.
 */
static long map_loop(int variant, int fd, double start, double end)
{
	size_t len = map_len();
	long ops = 0;

	if (variant != ANON && fd < 0)
		return -1;
	while (now() < start)
		;
	do {
		for (int i = 0; i < 64; i++) {
			void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE |
				       (variant == ANON ? MAP_ANONYMOUS : 0),
				       variant == ANON ? -1 : fd, 0);

			if (p == MAP_FAILED)
				return -1;
			munmap(p, len);
		}
		ops += 64;
	} while (now() < end);
	return ops;
}

/* P processes at once, started together; their total rate in ops/s. */
static double run(int variant, int procs, int fd, int memfd, int ms)
{
	double start, end;
	int go[2], res[2];
	long total = 0, ops;
	pid_t pid[MAX_PROCS];

	if (pipe(go) || pipe(res)) {
		perror("pipe");
		exit(1);
	}
	for (int i = 0; i < procs; i++) {
		pid[i] = fork();
		if (pid[i] < 0) {
			perror("fork");
			exit(1);
		}
		if (!pid[i]) {
			double when[2];
			int cfd;

			pin(i);
			close(go[1]);
			cfd = child_fd(variant, fd, memfd);
			if (read(go[0], when, sizeof(when)) != sizeof(when))
				_exit(1);
			ops = map_loop(variant, cfd, when[0], when[1]);
			_exit(write(res[1], &ops, sizeof(ops)) != sizeof(ops));
		}
	}
	close(go[0]);
	close(res[1]);
	/* Everyone starts 50 ms from now and stops @ms later. */
	start = now() + 0.05;
	end = start + ms / 1e3;
	for (int i = 0; i < procs; i++) {
		double when[2] = { start, end };

		if (write(go[1], when, sizeof(when)) != sizeof(when)) {
			perror("write");
			exit(1);
		}
	}
	close(go[1]);
	for (int i = 0; i < procs; i++) {
		if (read(res[0], &ops, sizeof(ops)) != sizeof(ops) || ops < 0) {
			fprintf(stderr, "%s: a process failed\n", names[variant]);
			exit(1);
		}
		total += ops;
	}
	close(res[0]);
	for (int i = 0; i < procs; i++)
		waitpid(pid[i], NULL, 0);
	return total / (end - start);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int parse(const char *arg, int max)
{
	char *end;
	long val = strtol(arg, &end, 10);

	if (end == arg || *end || val < 1 || val > max) {
		fprintf(stderr, "expected a number from 1 to %d: %s\n", max, arg);
		exit(2);
	}
	return val;
}

int main(int argc, char **argv)
{
	int repeats = 3, ms = 1000, opt, fd, memfd;
	char link[64], target[64];
	ssize_t n;
	double rate[NR_VARIANTS][MAX_PROCS + 1];

	while ((opt = getopt(argc, argv, "r:t:")) != -1) {
		switch (opt) {
		case 'r':
			repeats = parse(optarg, 99);
			break;
		case 't':
			ms = parse(optarg, 60000);
			break;
		default:
			fprintf(stderr, "usage: %s [-r repeats] [-t ms]\n", argv[0]);
			return 2;
		}
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < MAX_PROCS) {
		printf("refpage scaling: needs %d CPUs, this machine has %ld\n",
		       MAX_PROCS, sysconf(_SC_NPROCESSORS_ONLN));
		return 0;
	}
	fd = refpage_create();
	if (fd < 0) {
		fprintf(stderr, "refpage_create(2): %s\n", strerror(errno));
		return 1;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0 || (target[n] = '\0', strcmp(target, "anon_inode:[refpage]"))) {
		fprintf(stderr, "syscall %d is not refpage_create(2) here\n",
			__NR_refpage_create);
		return 1;
	}
	memfd = new_memfd();
	if (memfd < 0) {
		perror("memfd_create");
		return 1;
	}

	printf("refpage mmap()/munmap() scaling: %d-page private mappings, %d ms per run,\n",
	       MAP_PAGES, ms);
	printf("  median of %d runs; rate in thousands of mmap+munmap per second, all\n",
	       repeats);
	printf("  processes together; scaling = rate(P=2) / rate(P=1)\n\n");
	printf("%-10s | %12s %12s | %8s\n", "variant", "P=1 kops/s", "P=2 kops/s",
	       "scaling");
	for (int v = 0; v < NR_VARIANTS; v++) {
		double r[MAX_PROCS + 1][99];

		/* The runs alternate P, so that drift hits both alike. */
		for (int i = 0; i < repeats; i++)
			for (int p = 1; p <= MAX_PROCS; p++)
				r[p][i] = run(v, p, fd, memfd, ms);
		for (int p = 1; p <= MAX_PROCS; p++) {
			qsort(r[p], repeats, sizeof(r[p][0]), cmp_double);
			rate[v][p] = r[p][repeats / 2];
		}
		printf("%-10s | %12.1f %12.1f | %7.2fx\n", names[v],
		       rate[v][1] / 1e3, rate[v][2] / 1e3,
		       rate[v][2] / rate[v][1]);
		fflush(stdout);
	}
	close(memfd);
	close(fd);
	return 0;
}
