// SPDX-License-Identifier: GPL-2.0
/*
 * Tour step: show MAP_DROPPABLE memory being dropped under memory cgroup
 * pressure while swap is enabled, next to ordinary anonymous memory that
 * gets swapped instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../guest_util.h"

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#define SIZE (64UL << 20)
#define CG "/sys/fs/cgroup/tour"

static void run(const char *what, int flags)
{
	long ps = sysconf(_SC_PAGESIZE), before, after;
	char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, flags, -1, 0);
	size_t zero = 0;
	char pid[16];

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	mkdir(CG, 0755);
	snprintf(pid, sizeof(pid), "%d", getpid());
	put(CG "/memory.max", "max");
	put(CG "/cgroup.procs", pid);
	memset(p, 'x', SIZE);
	before = vmstat("pswpout");
	put(CG "/memory.max", "8M");	/* squeeze: 64 MiB into 8 MiB */
	after = vmstat("pswpout");
	for (size_t off = 0; off < SIZE; off += ps)
		zero += p[off] == 0;
	printf("  %-10s 64 MiB written, cgroup squeezed to 8 MiB: %5zu of %5lu pages "
	       "read back as zero, %5ld pages swapped out\n",
	       what, zero, SIZE / ps, after - before);
	put(CG "/memory.max", "max");
	munmap(p, SIZE);
}

int main(void)
{
	put("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
	printf("droppable memory under memory pressure (swap enabled):\n");
	run("anonymous", MAP_PRIVATE | MAP_ANONYMOUS);
	run("droppable", MAP_DROPPABLE | MAP_ANONYMOUS);
	put("/sys/fs/cgroup/cgroup.procs", "0");
	return 0;
}
