// SPDX-License-Identifier: GPL-2.0
/*
 * Tour step: a heap initialised to a pattern three ways.  memset() makes
 * the whole region resident; a refpage mapping reads as the pattern and
 * costs only the pages that are written.  Then droppable refpage memory:
 * under memory cgroup pressure its pages are dropped and read back as the
 * pattern, not as zero.
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
#include <sys/syscall.h>

#include "../guest_util.h"

#ifndef __NR_refpage_create
#define __NR_refpage_create 473
#endif
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#define HEAP (256UL << 20)
#define CG "/sys/fs/cgroup/tour-refpage"

static long rss_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static void *map(int fd, int type)
{
	void *p = mmap(NULL, HEAP, PROT_READ | PROT_WRITE,
		       type | (fd < 0 ? MAP_ANONYMOUS : 0), fd, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

/* Use 1% of the heap: write every 100th page, read every page. */
static void heap(const char *what, unsigned char *p, long base)
{
	long ps = sysconf(_SC_PAGESIZE), bad = 0;

	for (size_t off = 0; off < HEAP; off += 100 * ps)
		p[off + 1] = 0x11;
	for (size_t off = 0; off < HEAP; off += ps)
		bad += p[off] != 0xaa;
	printf("  %-28s RSS %7ld KiB, %ld pages not reading 0xaa\n",
	       what, rss_kb() - base, bad);
	munmap(p, HEAP);
}

int main(void)
{
	unsigned char pat = 0xaa, *p;
	long ps = sysconf(_SC_PAGESIZE), base, dropped = 0, other = 0;
	char pid[16];
	int fd = syscall(__NR_refpage_create, &pat, 1, 0);

	if (fd < 0) {
		perror("refpage_create");
		return 1;
	}
	printf("a 256 MiB heap that must read as 0xaa, 1%% of it written:\n");
	base = rss_kb();
	p = map(-1, MAP_PRIVATE);
	memset(p, 0xaa, HEAP);
	heap("anonymous + memset(0xaa)", p, base);
	heap("refpage_create(0xaa)", map(fd, MAP_PRIVATE), base);

	printf("droppable refpage memory, 64 MiB written, cgroup squeezed to 8 MiB:\n");
	put("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
	mkdir(CG, 0755);
	snprintf(pid, sizeof(pid), "%d", getpid());
	put(CG "/cgroup.procs", pid);
	p = map(fd, MAP_DROPPABLE);
	memset(p, 0x55, 64UL << 20);
	put(CG "/memory.max", "8M");
	for (size_t off = 0; off < (64UL << 20); off += ps) {
		dropped += p[off] == 0xaa;
		other += p[off] != 0xaa && p[off] != 0x55;
	}
	printf("  %ld of %lu pages dropped and read back as 0xaa, %ld read anything else\n",
	       dropped, (64UL << 20) / ps, other);
	munmap(p, HEAP);
	put("/sys/fs/cgroup/cgroup.procs", pid);
	rmdir(CG);
	return 0;
}
