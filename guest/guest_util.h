/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the guest's demo and benchmark programs (guest/demo,
 * guest/bench): a /proc/vmstat counter, a monotonic clock in seconds,
 * pinning to one CPU, and writing a sysfs or cgroup file.
 */
#ifndef MMRUST_GUEST_UTIL_H
#define MMRUST_GUEST_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The value of @key in /proc/vmstat, or -1 if the kernel has no such line. */
static inline long vmstat(const char *key)
{
	char name[64];
	long v, val = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	while (f && fscanf(f, "%63s %ld", name, &v) == 2)
		if (!strcmp(name, key))
			val = v;
	if (f)
		fclose(f);
	return val;
}

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Pins the calling thread to @cpu; says so on stderr if it cannot. */
static inline void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("sched_setaffinity");
}

/* Writes @val to the file @path; says so on stderr if it cannot. */
static inline void put(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		fprintf(stderr, "write %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

#endif
