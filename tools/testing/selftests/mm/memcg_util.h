/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /proc, sysfs, fail_page_alloc and memory cgroup helpers for the mm
 * tests that need them (droppable_semantics, for one).  They return -1
 * or a negative errno on failure, so that a test can tell a missing
 * facility (a SKIP) from a wrong value (a FAIL).
 */
#ifndef __MEMCG_UTIL_H__
#define __MEMCG_UTIL_H__

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

#define CGROOT "/sys/fs/cgroup"

/* Read a "name value" line from a file such as /proc/vmstat. */
static inline long read_key(const char *path, const char *key)
{
	char name[64];
	long val = -1, v;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", name, &v) == 2) {
		if (!strcmp(name, key)) {
			val = v;
			break;
		}
	}
	fclose(f);
	return val;
}

/* Read "Key:   value kB" from /proc/self/status. */
static inline long status_kb(const char *key)
{
	char line[256];
	long val = -1;
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			val = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

/*
 * Does the VMA that contains @addr show @flag ("dp", "lo", ...) in its
 * VmFlags line of /proc/self/smaps?  1 or 0, or -1 if it cannot be read.
 */
static inline int vma_has_flag(const void *addr, const char *flag)
{
	char line[512];
	unsigned long start, end, a = (unsigned long)addr;
	bool in_vma = false;
	int ret = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in_vma = a >= start && a < end;
			continue;
		}
		if (in_vma && !strncmp(line, "VmFlags:", 8)) {
			char *tok, *save;

			ret = 0;
			for (tok = strtok_r(line + 8, "\n ", &save); tok;
			     tok = strtok_r(NULL, "\n ", &save))
				if (!strcmp(tok, flag))
					ret = 1;
			break;
		}
	}
	fclose(f);
	return ret;
}

/*
 * The "Key:   N kB" line (Rss, Swap, AnonHugePages, ...) of the VMA that
 * contains @addr in /proc/@pid/smaps (0: our own), in kB, or -1.
 */
static inline long smaps_kb_of(pid_t pid, const void *addr, const char *key)
{
	char line[512], path[64];
	unsigned long start, end, a = (unsigned long)addr;
	size_t klen = strlen(key);
	bool in_vma = false;
	long ret = -1;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/smaps");
	f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in_vma = a >= start && a < end;
			continue;
		}
		if (in_vma && !strncmp(line, key, klen) && line[klen] == ':') {
			ret = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return ret;
}

static inline long smaps_kb(const void *addr, const char *key)
{
	return smaps_kb_of(0, addr, key);
}

static inline int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

/* Read a short file such as a sysfs knob, without its trailing newline. */
static inline int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* A file that holds one number, or -1. */
static inline long read_long(const char *path)
{
	char buf[64];

	if (read_str(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 0);
}

#define FAIL_PAGE_ALLOC "/sys/kernel/debug/fail_page_alloc/"

/*
 * fail_page_alloc, armed to fail the next page allocations (order 0 and
 * up, sleeping and highmem ones included, no stack dumps) of the tasks that
 * set /proc/self/make-it-fail; "times" then says how many are left.  The
 * knobs are restored in this order, probability first, and armed in the
 * reverse order, probability last.
 */
#define FAIL_ALLOC_KNOBS 8
static const char * const fail_alloc_knob[FAIL_ALLOC_KNOBS] = {
	"probability", "times", "interval", "min-order",
	"ignore-gfp-wait", "ignore-gfp-highmem", "verbose", "task-filter",
};

static const char * const fail_alloc_armed[FAIL_ALLOC_KNOBS] = {
	"100", "1", "1", "0", "N", "N", "0", "Y",
};

struct fail_alloc {
	char saved[FAIL_ALLOC_KNOBS][32];
	bool have_saved;
	char error[160];
};

static inline int fail_alloc_save(struct fail_alloc *f)
{
	char path[128];

	f->have_saved = false;
	if (access(FAIL_PAGE_ALLOC, F_OK) || access("/proc/self/make-it-fail", F_OK)) {
		snprintf(f->error, sizeof(f->error),
			 "CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS or debugfs missing");
		return -1;
	}
	for (int i = 0; i < FAIL_ALLOC_KNOBS; i++) {
		snprintf(path, sizeof(path), FAIL_PAGE_ALLOC "%s", fail_alloc_knob[i]);
		if (read_str(path, f->saved[i], sizeof(f->saved[i]))) {
			snprintf(f->error, sizeof(f->error), "cannot read %s", path);
			return -1;
		}
	}
	f->have_saved = true;
	return 0;
}

static inline int fail_alloc_arm(struct fail_alloc *f)
{
	char path[128];

	for (int i = FAIL_ALLOC_KNOBS - 1; i >= 0; i--) {
		snprintf(path, sizeof(path), FAIL_PAGE_ALLOC "%s", fail_alloc_knob[i]);
		if (write_str(path, fail_alloc_armed[i])) {
			snprintf(f->error, sizeof(f->error), "cannot set %s to %s",
				 path, fail_alloc_armed[i]);
			return -1;
		}
	}
	return 0;
}

static inline void fail_alloc_restore(struct fail_alloc *f)
{
	char path[128];

	if (!f->have_saved)
		return;
	for (int i = 0; i < FAIL_ALLOC_KNOBS; i++) {
		snprintf(path, sizeof(path), FAIL_PAGE_ALLOC "%s", fail_alloc_knob[i]);
		if (write_str(path, f->saved[i]))
			fprintf(stderr, "# cannot restore %s to %s\n", path, f->saved[i]);
	}
}

/* A memory cgroup of our own, removed again at teardown. */
struct memcg {
	char path[128];
};

/* -ENOENT when cgroup v2 has no memory controller to give it. */
static inline int memcg_create(struct memcg *cg, const char *name)
{
	char p[192];

	snprintf(cg->path, sizeof(cg->path), CGROOT "/%s.%d", name, getpid());
	if (access(CGROOT "/cgroup.subtree_control", W_OK))
		return -ENOENT;
	/* May already be enabled; memory.current tells whether it works. */
	write_str(CGROOT "/cgroup.subtree_control", "+memory");
	if (mkdir(cg->path, 0755) && errno != EEXIST)
		return -errno;
	snprintf(p, sizeof(p), "%s/memory.current", cg->path);
	if (access(p, R_OK)) {
		rmdir(cg->path);
		return -ENOENT;
	}
	return 0;
}

static inline int memcg_write(struct memcg *cg, const char *file,
			      const char *val)
{
	char p[192];

	snprintf(p, sizeof(p), "%s/%s", cg->path, file);
	return write_str(p, val);
}

static inline long memcg_read(struct memcg *cg, const char *file,
			      const char *key)
{
	char p[192];

	snprintf(p, sizeof(p), "%s/%s", cg->path, file);
	return read_key(p, key);
}

/* A file of the cgroup that holds one number, such as memory.current. */
static inline long memcg_read_value(struct memcg *cg, const char *file)
{
	char p[192];

	snprintf(p, sizeof(p), "%s/%s", cg->path, file);
	return read_long(p);
}

static inline int memcg_enter(struct memcg *cg, pid_t pid)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", pid);
	return memcg_write(cg, "cgroup.procs", buf);
}

/*
 * Kill whatever is left in the cgroup (a child that a failed assertion
 * left behind), then remove it, retrying briefly while the kernel reaps.
 */
static inline void memcg_destroy(struct memcg *cg)
{
	int i;

	memcg_write(cg, "cgroup.kill", "1");
	for (i = 0; i < 100 && rmdir(cg->path) && errno == EBUSY; i++)
		usleep(20000);
	if (i == 100)
		fprintf(stderr, "# cannot remove %s: %s\n", cg->path, strerror(errno));
}

static inline bool swap_enabled(void)
{
	char line[256];
	int lines = 0;
	FILE *f = fopen("/proc/swaps", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		lines++;
	fclose(f);
	return lines > 1;
}

#endif /* __MEMCG_UTIL_H__ */
