// SPDX-License-Identifier: GPL-2.0
/*
 * Tour step: a manager process drops 64 discontiguous pages of a target
 * process with remote MADV_DONTNEED, once as one process_madvise() vector
 * and once as 64 calls of one range each, while a thread of the target on
 * another CPU keeps reading the memory.  It prints the TLB flush IPIs that
 * CPU received (CONFIG_DEBUG_TLBFLUSH) and the time of each, and checks
 * the target's data.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "../guest_util.h"

#define NPAGES 128
#define NRANGES (NPAGES / 2)

static long psize;

static char *mem;

static void *reader(void *arg)
{
	volatile char sum = 0;

	pin(1);
	for (;;)
		for (long i = 0; i < NPAGES; i++)
			sum += mem[i * psize];
	return NULL;
}

/* The target: fill the memory, start the reader, wait for a byte, check. */
static int target(int rd, int wr)
{
	pthread_t t;
	char c;
	int round;

	for (round = 0; round < 2; round++) {
		memset(mem, 'x', NPAGES * psize);
		if (!round && pthread_create(&t, NULL, reader, NULL))
			return 1;
		usleep(100000);
		if (write(wr, "r", 1) != 1 || read(rd, &c, 1) != 1)
			return 2;
		for (long i = 0; i < NPAGES; i++)
			if (mem[i * psize] != (i % 2 ? 0 : 'x'))
				return 3;
	}
	return 0;
}

int main(void)
{
	struct iovec iov[NRANGES];
	int to_target[2], from_target[2], pidfd, status;
	long before;
	double t0;
	pid_t pid;
	char c;

	psize = sysconf(_SC_PAGESIZE);
	if (vmstat("nr_tlb_remote_flush_received") < 0) {
		printf("remote process_madvise(): no TLB flush counters (CONFIG_DEBUG_TLBFLUSH)\n");
		return 0;
	}
	mem = mmap(NULL, NPAGES * psize, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || pipe(to_target) || pipe(from_target))
		return 1;
	for (int i = 0; i < NRANGES; i++) {
		iov[i].iov_base = mem + (2 * i + 1) * psize;
		iov[i].iov_len = psize;
	}
	pid = fork();
	if (!pid)
		_exit(target(to_target[0], from_target[1]));
	pin(0);
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	printf("a manager drops %d discontiguous 4 KiB pages of another process\n"
	       "(remote MADV_DONTNEED) while the target reads them on CPU 1:\n", NRANGES);

	if (read(from_target[0], &c, 1) != 1)
		return 1;
	before = vmstat("nr_tlb_remote_flush_received");
	t0 = now();
	if (syscall(SYS_process_madvise, pidfd, iov, NRANGES, MADV_DONTNEED, 0) !=
	    NRANGES * psize) {
		printf("  process_madvise(): %s\n", strerror(errno));
		kill(pid, SIGKILL);
		return 1;
	}
	printf("  one vector of %d ranges:    %4ld flush IPIs received, %8.1f us\n",
	       NRANGES, vmstat("nr_tlb_remote_flush_received") - before, (now() - t0) * 1e6);
	if (write(to_target[1], "g", 1) != 1 || read(from_target[0], &c, 1) != 1)
		return 1;

	before = vmstat("nr_tlb_remote_flush_received");
	t0 = now();
	for (int i = 0; i < NRANGES; i++)
		if (syscall(SYS_process_madvise, pidfd, &iov[i], 1, MADV_DONTNEED, 0) != psize)
			return 1;
	printf("  %d calls of one range each: %4ld flush IPIs received, %8.1f us\n",
	       NRANGES, vmstat("nr_tlb_remote_flush_received") - before, (now() - t0) * 1e6);
	if (write(to_target[1], "g", 1) != 1 || waitpid(pid, &status, 0) != pid)
		return 1;
	printf("  the target read zero in every dropped page and its data in the others: %s\n",
	       WIFEXITED(status) && !WEXITSTATUS(status) ? "yes" : "NO");
	return 0;
}
