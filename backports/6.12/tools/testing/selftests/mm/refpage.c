// SPDX-License-Identifier: GPL-2.0
/*
 * refpage_create(2): memory that reads as a repeating pattern.
 *
 *   int refpage_create(const void *content, unsigned int size,
 *                      unsigned long flags);
 *
 * The contract, one property per test:
 *
 *  - size is a power of two from 1 to PAGE_SIZE and flags is 0, or the call
 *    fails with EINVAL; content that is not wholly readable is EFAULT, a
 *    failed allocation of the reference page ENOMEM, no free fd EMFILE; a
 *    failed call installs no fd;
 *  - the fd is O_RDONLY and close-on-exec, links to "anon_inode:[refpage]",
 *    shows "refpage-size:\t<size>" in fdinfo, and fails read() with EINVAL
 *    and write() with EBADF;
 *  - MAP_PRIVATE of the fd, readable or writable and at any page-aligned
 *    offset, reads byte i of every page as content[i % size]; MAP_SHARED is
 *    refused with EINVAL, or EACCES with PROT_WRITE; PROT_EXEC is refused
 *    with EPERM by mmap() and EACCES by mprotect(), as on a noexec mount;
 *  - a read fault maps the one reference page: no RSS, no anonymous memory;
 *    so do MAP_POPULATE, MADV_POPULATE_READ and mlock() of a read-only
 *    mapping, and THP never gives a huge page or the huge zero page;
 *  - the first write to a page gives a private anonymous copy filled with
 *    the pattern; so do MAP_POPULATE, MADV_POPULATE_WRITE and mlock() of a
 *    writable mapping, a FOLL_FORCE write to /proc/pid/mem and an O_DIRECT
 *    read into the mapping;
 *  - the mapping outlives the fd and behaves as anonymous memory across
 *    fork, mremap, mprotect, partial munmap, MADV_DONTNEED and MADV_FREE:
 *    pages that are untouched or discarded read as the pattern; sealed
 *    read-only with mseal(), it refuses MADV_DONTNEED and MADV_FREE;
 *    MADV_WIPEONFORK and VMA names are refused as for private /dev/zero;
 *  - reclaim swaps private copies out and back among reference-page PTEs
 *    without a kernel warning;
 *  - the reference page is charged to the creator's memory cgroup and freed
 *    with the last fd and the last mapping;
 *  - GUP reads the pattern: process_vm_readv(), /proc/pid/mem, O_DIRECT
 *    (on a loop device of the test's own, over a temporary file);
 *  - userfaultfd registration is refused with EINVAL, KSM never merges the
 *    reference page (with use_zero_pages it maps the zero page in place of
 *    a zero-filled copy, which a write copies as zeros), and MADV_COLLAPSE
 *    fails with EINVAL;
 *  - a core dump holds a written refpage VMA whole, with the pattern in its
 *    untouched pages, and leaves out one that was never written;
 *  - two mappings merge into one VMA only with the same fd and contiguous
 *    offsets;
 *  - threads making the first write to the same pages, reading them while
 *    they are discarded or unmapped, or faulting them while the process
 *    forks or moves part of the VMA with mremap(), see only the pattern and
 *    the data written, and every private copy keeps every write;
 *  - MAP_DROPPABLE works with a refpage fd and no other file, refuses
 *    MAP_LOCKED, wipes on fork and drops under memory pressure, and the
 *    dropped or wiped pages read as the pattern, never as zero.
 *
 * A kernel without the syscall SKIPs every test, as does one that lacks a
 * facility a test needs (memory cgroup, KSM, THP, fault injection, loop
 * devices, userfaultfd), as kselftests do; a runner that provides all
 * of them should count such a skip as a failure.  Every wait is bounded,
 * and the tests that wait have a harness timeout.  The global knobs that
 * tests change (KSM, THP, core_pattern, fail_page_alloc, the root cgroup's
 * memory controller) are put back when the program exits, even after a
 * test was killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/elf.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/mman.h>
#include <linux/userfaultfd.h>

#include "../kselftest_harness.h"
#include "vm_util.h"
#include "thp_settings.h"
#include "memcg_util.h"

#ifndef __NR_refpage_create
#define __NR_refpage_create 473
#endif
#ifndef __NR_mseal
#define __NR_mseal 462
#endif
#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#define MB (1024UL * 1024UL)
#define KSM_SYSFS "/sys/kernel/mm/ksm/"
#define THP_SYSFS "/sys/kernel/mm/transparent_hugepage/"

/* An exit code for a child killed by @sig: see exit_code(). */
#define KILLED_BY(sig) (256 + (sig))

static size_t page_size;

static void __attribute__((constructor)) init_page_size(void)
{
	page_size = sysconf(_SC_PAGESIZE);
}

/* The pattern of most tests: eight bytes, none of them zero. */
static const unsigned char pat8[8] = {
	0xa5, 0x5a, 0xc3, 0x3c, 0x96, 0x69, 0xf0, 0x0f,
};

/*
 * The tests write the bytes 0x10 to 0x77 (none of them in pat8): a page
 * filled with one of them is a private copy, never the reference page.
 */

static int sys_refpage_create(const void *content, unsigned int size,
			      unsigned long flags)
{
	return syscall(__NR_refpage_create, content, size, flags);
}

/* Why the tests SKIP, once refpage_supported() has said no. */
static char refpage_skip_reason[128] = "refpage_create(2) not supported";

/*
 * Does the kernel have refpage_create(2)?  It refuses an unknown flag with
 * EINVAL; any other answer to that says no.  A descriptor that is not
 * "anon_inode:[refpage]" says that the number belongs to another system
 * call on this kernel.  A failure of the valid call is not a reason to
 * skip: the fixture's own call then fails the test.
 */
static bool refpage_supported(void)
{
	char link[64], target[64] = "";
	unsigned char c = 0x5a;
	int fd;

	fd = sys_refpage_create(&c, 1, 1);
	if (fd >= 0 || errno != EINVAL) {
		snprintf(refpage_skip_reason, sizeof(refpage_skip_reason),
			 "refpage_create(2) not supported: %s",
			 fd >= 0 ? "an unknown flag was accepted" : strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	fd = sys_refpage_create(&c, 1, 0);
	if (fd < 0)
		return true;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if (readlink(link, target, sizeof(target) - 1) < 0 ||
	    strcmp(target, "anon_inode:[refpage]")) {
		snprintf(refpage_skip_reason, sizeof(refpage_skip_reason),
			 "syscall %d is not refpage_create(2) here",
			 __NR_refpage_create);
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

static bool droppable_supported(void)
{
	void *p = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		       MAP_ANONYMOUS | MAP_DROPPABLE, -1, 0);

	if (p == MAP_FAILED)
		return false;
	munmap(p, page_size);
	return true;
}

/*
 * Does [p, p + len) read as @pattern of @size bytes repeated from the start
 * of every page?  Byte p[i] is compared with pattern[(p + i) % size], so @p
 * need not start a page, but a buffer that holds a copy must be aligned.
 */
static bool is_pattern(const void *p, size_t len, const void *pattern,
		       size_t size)
{
	const unsigned char *b = p, *pat = pattern;
	size_t head = len < size ? len : size;

	for (size_t i = 0; i < head; i++)
		if (b[i] != pat[((uintptr_t)b + i) & (size - 1)])
			return false;
	/* The first period is right: the rest must repeat it. */
	return len <= size || !memcmp(b + size, b, len - size);
}

/* Does the page at @pg read as pat8, except for @val at byte @off? */
static bool is_pat8_but(const void *pg, size_t off, unsigned char val)
{
	const unsigned char *b = pg;

	return b[off] == val && is_pattern(b, off, pat8, sizeof(pat8)) &&
	       is_pattern(b + off + 1, page_size - off - 1, pat8, sizeof(pat8));
}

static bool is_pat8(const void *p, size_t len)
{
	return is_pattern(p, len, pat8, sizeof(pat8));
}

static bool is_filled(const void *p, size_t len, unsigned char c)
{
	const unsigned char *b = p;

	return !len || (b[0] == c && !memcmp(b + 1, b, len - 1));
}

/*
 * Content of @size bytes with no shorter period: bytes 0-255 are distinct,
 * and each block of 256 bytes differs from the one before.
 */
static void make_content(unsigned char *c, size_t size)
{
	for (size_t i = 0; i < size; i++)
		c[i] = i * 167 + (i >> 8) * 13 + size + 1;
}

/* A marker that exists only where the test writes it. */
static void fill_marker(void *p, size_t len, unsigned long long seed)
{
	for (size_t i = 0; i + sizeof(seed) <= len; i += sizeof(seed)) {
		memcpy((char *)p + i, &seed, sizeof(seed));
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	}
}

static bool is_marker(const void *p, size_t len, unsigned long long seed)
{
	char *want = malloc(len);
	bool ok;

	if (!want)
		return false;
	memset(want, 0, len);
	fill_marker(want, len, seed);
	ok = !memcmp(p, want, len);
	free(want);
	return ok;
}

/* Touch one byte per page, so that every page is read-faulted. */
static void read_fault(const void *p, size_t len)
{
	for (size_t off = 0; off < len; off += page_size)
		__atomic_load_n((const char *)p + off, __ATOMIC_RELAXED);
}

/* An inaccessible anonymous range, to map into with MAP_FIXED. */
static char *reserve(size_t len)
{
	return mmap(NULL, len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
}

/* The fd the next open() would get. */
static int lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY);

	if (fd >= 0)
		close(fd);
	return fd;
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* Read exactly @len bytes from @fd, waiting at most @secs in all. */
static bool read_full(int fd, void *buf, size_t len, int secs)
{
	unsigned long long deadline = now_ms() + secs * 1000ULL;
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			return false;
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return false;
		got += n;
	}
	return true;
}

/* One byte down a pipe: "go on" or "done". */
static bool tell(int fd)
{
	char c = 0;

	return write(fd, &c, 1) == 1;
}

static bool hear(int fd, int secs)
{
	char c;

	return read_full(fd, &c, 1, secs);
}

/* Let the other side take a step, and wait at most @secs for its report. */
static bool step(int wr, int rd, int secs)
{
	return tell(wr) && hear(rd, secs);
}

/*
 * Wait at most @secs for child @pid and return its wait status; a child
 * still running then is killed, and the result is -1.
 */
static int reap(pid_t pid, int secs)
{
	unsigned long long deadline = now_ms() + secs * 1000ULL;
	int status;

	for (;;) {
		pid_t ret = waitpid(pid, &status, WNOHANG);

		if (ret == pid)
			return status;
		if (ret < 0)
			return -1;
		if (now_ms() >= deadline)
			break;
		usleep(10000);
	}
	ksft_print_msg("child %d did not exit within %d s: killed\n", pid, secs);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* A wait status as one number: the exit code, KILLED_BY(signal), or -1. */
static int exit_code(int status)
{
	if (status == -1)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return KILLED_BY(WTERMSIG(status));
}

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* A child that is meant to crash leaves no core behind. */
static void no_core(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
}

static int write_long(const char *path, long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", val);
	return write_str(path, buf);
}

/* Is @line the "start-end perms ..." header of a VMA in maps or smaps? */
static bool vma_line(const char *line, unsigned long *start, unsigned long *end)
{
	const char *dash = strchr(line, '-'), *space = strchr(line, ' ');

	return dash && space && dash < space &&
	       sscanf(line, "%lx-%lx ", start, end) == 2;
}

/*
 * The value in kB of @key ("Rss:", "Anonymous:", ...) in /proc/self/smaps
 * for the VMA that contains @addr, or -1.
 */
static long smaps_vma_kb(const void *addr, const char *key)
{
	unsigned long start, end, a = (unsigned long)addr;
	size_t klen = strlen(key), cap = 0;
	bool in_vma = false;
	char *line = NULL;
	long val = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		if (vma_line(line, &start, &end)) {
			if (in_vma)
				break;
			in_vma = a >= start && a < end;
			continue;
		}
		if (in_vma && !strncmp(line, key, klen)) {
			val = strtol(line + klen, NULL, 10);
			break;
		}
	}
	free(line);
	fclose(f);
	return val;
}

static long rss_kb(const void *addr)
{
	return smaps_vma_kb(addr, "Rss:");
}

/*
 * How many VMAs of /proc/self/maps overlap [addr, addr + len)?  The bounds
 * of the first one go to @first_start and @first_end.
 */
static int vma_count(const void *addr, size_t len,
		     unsigned long *first_start, unsigned long *first_end)
{
	unsigned long s = (unsigned long)addr, e = s + len, start, end;
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		if (!vma_line(line, &start, &end) || start >= e || end <= s)
			continue;
		if (!n++ && first_start) {
			*first_start = start;
			*first_end = end;
		}
	}
	free(line);
	fclose(f);
	return n;
}

static long memcg_current(struct memcg *cg)
{
	char p[192];

	snprintf(p, sizeof(p), "%s/memory.current", cg->path);
	return read_long(p);
}

/*
 * The global knobs that the fixtures below change, as they were when the
 * program started.  Each fixture puts back what it changed at its
 * teardown, but a test that times out is killed with its whole process
 * group, teardown and all.  So the program's own process, which the
 * harness never kills, puts back every knob that differs once more when it
 * exits or is stopped by SIGTERM, SIGINT, SIGHUP or SIGQUIT, and removes
 * the memory cgroups that its killed tests left behind.  Only read_str()
 * and write_str(), which never exit, are used here.
 */
#define MAX_SAVED_KNOBS 48

static struct {
	pid_t pid;
	int nr;
	struct {
		char path[128];
		char val[256];
		bool mode;	/* "always [madvise] never": the bracketed word */
	} knob[MAX_SAVED_KNOBS];
	bool memcg_was_off;
} saved_knobs;

static int read_knob(const char *path, bool mode, char *buf, size_t len)
{
	char *open, *close;

	if (read_str(path, buf, len))
		return -1;
	open = mode ? strchr(buf, '[') : NULL;
	close = open ? strchr(open, ']') : NULL;
	if (close) {
		memmove(buf, open + 1, close - open - 1);
		buf[close - open - 1] = 0;
	}
	return 0;
}

/* Knobs are put back in the order they were saved. */
static void save_knob(const char *path, bool mode)
{
	int n = saved_knobs.nr;

	if (n == MAX_SAVED_KNOBS ||
	    read_knob(path, mode, saved_knobs.knob[n].val,
		      sizeof(saved_knobs.knob[n].val)))
		return;
	snprintf(saved_knobs.knob[n].path, sizeof(saved_knobs.knob[n].path),
		 "%s", path);
	saved_knobs.knob[n].mode = mode;
	saved_knobs.nr++;
}

static void restore_knobs(void)
{
	char pattern[64], now[256];
	struct memcg cg;
	glob_t left;

	/* Not in a test's child that happens to call exit() or get a signal. */
	if (getpid() != saved_knobs.pid)
		return;
	snprintf(pattern, sizeof(pattern), CGROOT "/refpage.%d.*", saved_knobs.pid);
	if (!glob(pattern, GLOB_ONLYDIR, NULL, &left)) {
		for (size_t i = 0; i < left.gl_pathc; i++) {
			snprintf(cg.path, sizeof(cg.path), "%s", left.gl_pathv[i]);
			memcg_destroy(&cg);
		}
		globfree(&left);
	}
	if (saved_knobs.memcg_was_off &&
	    !read_str(CGROOT "/cgroup.subtree_control", now, sizeof(now)) &&
	    strstr(now, "memory"))
		write_str(CGROOT "/cgroup.subtree_control", "-memory");
	for (int i = 0; i < saved_knobs.nr; i++) {
		if (!read_knob(saved_knobs.knob[i].path, saved_knobs.knob[i].mode,
			       now, sizeof(now)) &&
		    !strcmp(now, saved_knobs.knob[i].val))
			continue;
		write_str(saved_knobs.knob[i].path, saved_knobs.knob[i].val);
	}
}

static void restore_knobs_on_signal(int sig)
{
	restore_knobs();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void __attribute__((constructor)) save_knobs(void)
{
	const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
	char subtree[256];
	glob_t sizes;

	saved_knobs.pid = getpid();
	save_knob(KSM_SYSFS "pages_to_scan", false);
	save_knob(KSM_SYSFS "sleep_millisecs", false);
	save_knob(KSM_SYSFS "use_zero_pages", false);
	save_knob(KSM_SYSFS "run", false);
	save_knob("/proc/sys/kernel/core_pattern", false);
	save_knob(THP_SYSFS "enabled", true);
	save_knob(THP_SYSFS "use_zero_page", false);
	if (!glob(THP_SYSFS "hugepages-*kB/enabled", 0, NULL, &sizes)) {
		for (size_t i = 0; i < sizes.gl_pathc; i++)
			save_knob(sizes.gl_pathv[i], true);
		globfree(&sizes);
	}
	/* Probability first, as fail_alloc_restore() does. */
	for (int i = 0; i < FAIL_ALLOC_KNOBS; i++) {
		char path[128];

		snprintf(path, sizeof(path), FAIL_PAGE_ALLOC "%s", fail_alloc_knob[i]);
		save_knob(path, false);
	}
	saved_knobs.memcg_was_off =
		!read_str(CGROOT "/cgroup.subtree_control", subtree, sizeof(subtree)) &&
		!strstr(subtree, "memory");
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		signal(sigs[i], restore_knobs_on_signal);
}

static void __attribute__((destructor)) restore_knobs_at_exit(void)
{
	restore_knobs();
}

/* Most tests: a refpage of pat8, closed at teardown. */
FIXTURE(refpage)
{
	int fd;
};

FIXTURE_SETUP(refpage)
{
	self->fd = -1;
	if (!refpage_supported())
		SKIP(return, "%s", refpage_skip_reason);
	self->fd = sys_refpage_create(pat8, sizeof(pat8), 0);
	ASSERT_GE(self->fd, 0);
}

FIXTURE_TEARDOWN(refpage)
{
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * refpage_create(@content, @size, @flags) fails with @err, and the lowest
 * free fd is the same afterwards: no fd was installed.
 */
static void assert_create_fails(struct __test_metadata *_metadata,
				const void *content, unsigned int size,
				unsigned long flags, int err)
{
	int lowest = lowest_free_fd();
	int ret;

	errno = 0;
	ret = sys_refpage_create(content, size, flags);
	ASSERT_EQ(-1, ret)
		TH_LOG("content %p size %#x flags %#lx", content, size, flags);
	ASSERT_EQ(err, errno)
		TH_LOG("content %p size %#x flags %#lx: %s", content, size,
		       flags, strerror(errno));
	ASSERT_EQ(lowest, lowest_free_fd());
}

/*
 * Every bad argument has its errno, and leaves no fd behind:
 *  - flags other than 0: EINVAL;
 *  - size 0, not a power of two, or larger than a page: EINVAL, even with
 *    all of the content readable;
 *  - content NULL, in a PROT_NONE mapping, or whose last 4 of 8 bytes lie
 *    past the end of a mapping: EFAULT;
 *  - no free fd (RLIMIT_NOFILE at the lowest free fd): EMFILE.
 */
TEST_F(refpage, create_errnos)
{
	const unsigned int bad_sizes[] = {
		0, 3, 6, 2 * page_size, page_size + 8, 0x80000000U,
	};
	const size_t big_len = 0x80000000UL;
	struct rlimit rl, tight;
	char *big, *none, *edge;
	int lowest, ret, err;

	/* 2 GiB of readable zero pages: for these sizes only size is wrong. */
	big = mmap(NULL, big_len, PROT_READ,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, big);

	assert_create_fails(_metadata, pat8, sizeof(pat8), 1, EINVAL);
	assert_create_fails(_metadata, pat8, sizeof(pat8), 1UL << 63, EINVAL);
	for (size_t i = 0; i < ARRAY_SIZE(bad_sizes); i++)
		assert_create_fails(_metadata, big, bad_sizes[i], 0, EINVAL);
	munmap(big, big_len);

	assert_create_fails(_metadata, NULL, 8, 0, EFAULT);

	none = mmap(NULL, page_size, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, none);
	assert_create_fails(_metadata, none, 8, 0, EFAULT);
	munmap(none, page_size);

	/*
	 * |   readable page   | unmapped |
	 *                  [content]
	 */
	edge = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, edge);
	memset(edge, 0x5a, page_size);
	ASSERT_EQ(0, munmap(edge + page_size, page_size));
	assert_create_fails(_metadata, edge + page_size - 4, 8, 0, EFAULT);
	/* The same size with all of it readable works. */
	ret = sys_refpage_create(edge + page_size - 8, 8, 0);
	ASSERT_GE(ret, 0);
	close(ret);
	munmap(edge, page_size);

	/* Every fd below RLIMIT_NOFILE is taken. */
	lowest = lowest_free_fd();
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	tight = rl;
	tight.rlim_cur = lowest;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &tight));
	errno = 0;
	ret = sys_refpage_create(pat8, sizeof(pat8), 0);
	err = errno;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	ASSERT_EQ(-1, ret);
	ASSERT_EQ(EMFILE, err);
	ASSERT_EQ(lowest, lowest_free_fd());
}

FIXTURE(fail_alloc)
{
	struct fail_alloc knobs;
};

FIXTURE_SETUP(fail_alloc)
{
	if (!refpage_supported())
		SKIP(return, "%s", refpage_skip_reason);
	if (fail_alloc_save(&self->knobs))
		SKIP(return, "no fail_page_alloc: %s", self->knobs.error);
}

FIXTURE_TEARDOWN(fail_alloc)
{
	fail_alloc_restore(&self->knobs);
}

/*
 * The child of fail_alloc.create_enomem: with make-it-fail set, its first
 * page allocation fails.  It reports the return value, errno, and whether
 * the lowest free fd is unchanged.
 */
static int enomem_child(int wr)
{
	int res[3] = { 0, 0, 0 };
	int mif, fd, lowest;

	mif = open("/proc/self/make-it-fail", O_WRONLY);
	if (mif < 0)
		return 1;
	/*
	 * A dry run touches every page the real call touches, so that no
	 * copy-on-write fault after fork() takes the one injected failure.
	 */
	fd = sys_refpage_create(pat8, sizeof(pat8), 0);
	if (fd < 0)
		return 2;
	close(fd);
	lowest = lowest_free_fd();
	errno = 0;
	if (pwrite(mif, "0", 1, 0) != 1)
		return 3;

	/*
	 * The one injected failure goes to the first page allocation of this
	 * task, which is not always the call's own: with KASAN, the stack
	 * depot may refill its pool from the same context and absorb it.  So
	 * retry, a bounded number of times, until the call itself fails.
	 */
	for (int i = 0; i < 20; i++) {
		if (write_str(FAIL_PAGE_ALLOC "times", "1"))
			return 4;
		if (pwrite(mif, "1", 1, 0) != 1)
			return 4;
		res[0] = sys_refpage_create(pat8, sizeof(pat8), 0);
		res[1] = errno;
		if (pwrite(mif, "0", 1, 0) != 1)
			return 5;
		if (res[0] < 0)
			break;
		close(res[0]);
	}

	res[2] = lowest_free_fd() == lowest;
	if (res[0] >= 0)
		close(res[0]);
	return write(wr, res, sizeof(res)) == sizeof(res) ? 0 : 6;
}

/*
 * A failed page allocation inside refpage_create() is ENOMEM and leaves no
 * fd: fail_page_alloc, filtered to one child task, fails its first page
 * allocation once.  Afterwards refpage_create() works again.
 */
TEST_F(fail_alloc, create_enomem)
{
	int pfd[2], res[3], fd;
	pid_t pid;

	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(0, fail_alloc_arm(&self->knobs)) TH_LOG("%s", self->knobs.error);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(enomem_child(pfd[1]));
	ASSERT_EQ(0, exit_code(reap(pid, 10)));
	ASSERT_EQ(0, write_str(FAIL_PAGE_ALLOC "probability", "0"));
	ASSERT_TRUE(read_full(pfd[0], res, sizeof(res), 1));

	ASSERT_EQ(-1, res[0]);
	ASSERT_EQ(ENOMEM, res[1]) TH_LOG("errno %d: %s", res[1], strerror(res[1]));
	ASSERT_EQ(1, res[2]) TH_LOG("the failed call left an fd behind");
	ASSERT_EQ(0, read_long(FAIL_PAGE_ALLOC "times"))
		TH_LOG("the injected failure was not used");

	fd = sys_refpage_create(pat8, sizeof(pat8), 0);
	ASSERT_GE(fd, 0);
	close(fd);
}

/* Does /proc/self/fdinfo/@fd hold the whole line @want? */
static bool fdinfo_has(int fd, const char *want)
{
	char path[64], buf[1024] = "\n";
	int info;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	info = open(path, O_RDONLY);
	if (info < 0)
		return false;
	/* A newline in front, so that every line is "\n<line>\n". */
	n = read(info, buf + 1, sizeof(buf) - 2);
	close(info);
	if (n <= 0)
		return false;
	buf[n + 1] = 0;
	return strstr(buf, want);
}

/*
 * The properties of a refpage fd of @size: close-on-exec, O_RDONLY, a link
 * to "anon_inode:[refpage]", "refpage-size:\t<size>" in fdinfo, read()
 * failing with EINVAL and write() with EBADF.
 */
static void check_fd_properties(struct __test_metadata *_metadata,
				unsigned int size)
{
	char path[64], link[64], want[64], buf[16] = "";
	unsigned char *content = malloc(size);
	ssize_t n;
	int fd;

	ASSERT_NE(NULL, content);
	make_content(content, size);
	fd = sys_refpage_create(content, size, 0);
	free(content);
	ASSERT_GE(fd, 0) TH_LOG("size %u: %s", size, strerror(errno));

	ASSERT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD));
	ASSERT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_GT(n, 0);
	link[n] = 0;
	ASSERT_STREQ("anon_inode:[refpage]", link);

	snprintf(want, sizeof(want), "\nrefpage-size:\t%u\n", size);
	ASSERT_TRUE(fdinfo_has(fd, want)) TH_LOG("size %u", size);

	errno = 0;
	ASSERT_EQ(-1, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(EINVAL, errno);
	errno = 0;
	ASSERT_EQ(-1, write(fd, buf, sizeof(buf)));
	ASSERT_EQ(EBADF, errno);
	close(fd);
}

/*
 * The fd is close-on-exec and O_RDONLY, links to "anon_inode:[refpage]",
 * has "refpage-size:\t<size>" in fdinfo, and fails read() with EINVAL and
 * write() with EBADF, for sizes 1, 8, 64 and PAGE_SIZE.
 */
TEST_F(refpage, fd_properties)
{
	const unsigned int sizes[] = { 1, 8, 64, page_size };
	struct stat a, b;
	int fd;

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		check_fd_properties(_metadata, sizes[i]);

	/*
	 * Each descriptor has an inode of its own, so that the mappings of
	 * one do not share an i_mmap tree and its lock with every other.
	 */
	fd = sys_refpage_create(pat8, sizeof(pat8), 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fstat(self->fd, &a));
	ASSERT_EQ(0, fstat(fd, &b));
	ASSERT_NE(a.st_ino, b.st_ino);
	close(fd);
}

/*
 * For every size from 1 to PAGE_SIZE, a 16-page read-only mapping reads
 * byte i of every page as content[i % size].  The content is copied at
 * creation: changing the buffer afterwards changes nothing.
 */
TEST_F(refpage, pattern_sizes)
{
	const size_t len = 16 * page_size;
	unsigned char *content = malloc(page_size);
	unsigned char *want = malloc(page_size);
	char *p;
	int fd;

	ASSERT_NE(NULL, content);
	ASSERT_NE(NULL, want);
	for (size_t size = 1; size <= page_size; size *= 2) {
		make_content(content, size);
		memcpy(want, content, size);
		fd = sys_refpage_create(content, size, 0);
		ASSERT_GE(fd, 0) TH_LOG("size %zu: %s", size, strerror(errno));
		memset(content, 0, size);

		p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		ASSERT_NE(MAP_FAILED, p) TH_LOG("size %zu", size);
		ASSERT_TRUE(is_pattern(p, len, want, size)) TH_LOG("size %zu", size);
		munmap(p, len);
		close(fd);
	}
	free(content);
	free(want);
}

/*
 * Reads add no RSS: after a read of every page of 64 MiB, the VMA has Rss
 * and Anonymous 0 kB, every page reads the pattern, and the pages are
 * present in pagemap as one and the same page frame.
 */
TEST_F_TIMEOUT(refpage, reads_no_rss, 120)
{
	const size_t len = 64 * MB, npages = len / page_size;
	size_t wrong = 0;
	int pagemap;
	char *p;

	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* One byte of every page, at a different offset each time. */
	for (size_t i = 0; i < npages; i++) {
		size_t off = (i * 9) % page_size;

		if (__atomic_load_n(p + i * page_size + off, __ATOMIC_RELAXED) !=
		    (char)pat8[off % 8])
			wrong++;
	}
	ASSERT_EQ(0, wrong);
	/* All of a few pages. */
	ASSERT_TRUE(is_pat8(p, page_size));
	ASSERT_TRUE(is_pat8(p + len / 2, 2 * page_size));
	ASSERT_TRUE(is_pat8(p + len - page_size, page_size));

	ASSERT_EQ(0, rss_kb(p));
	ASSERT_EQ(0, smaps_vma_kb(p, "Anonymous:"));

	pagemap = open("/proc/self/pagemap", O_RDONLY);
	ASSERT_GE(pagemap, 0);
	ASSERT_TRUE(pagemap_is_populated(pagemap, p));
	ASSERT_TRUE(pagemap_is_populated(pagemap, p + len - page_size));
	ASSERT_EQ(pagemap_get_pfn(pagemap, p),
		  pagemap_get_pfn(pagemap, p + len - page_size));
	close(pagemap);
	munmap(p, len);
}

/*
 * A write gives the page a private copy: in a writable 8-page mapping, one
 * byte written to page 3 leaves page 3 reading the pattern except that
 * byte, and every other page the pattern; the VMA has Rss and Anonymous
 * of one page.  The same with a 1-byte pattern.
 */
TEST_F(refpage, write_private_copy)
{
	static const unsigned char one = 0x3c;
	const size_t len = 8 * page_size, off = 3 * page_size + 100;
	const long kb = page_size / 1024;
	const unsigned char *pat;
	size_t size;
	char *p;
	int fd;

	for (int pass = 0; pass < 2; pass++) {
		pat = pass ? &one : pat8;
		size = pass ? 1 : sizeof(pat8);
		fd = pass ? sys_refpage_create(&one, 1, 0) : self->fd;
		ASSERT_GE(fd, 0);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		ASSERT_NE(MAP_FAILED, p);

		p[off] = 0x11;
		for (size_t i = 0; i < 8; i++) {
			char *pg = p + i * page_size;

			if (i != 3) {
				ASSERT_TRUE(is_pattern(pg, page_size, pat, size))
					TH_LOG("pattern size %zu, page %zu", size, i);
				continue;
			}
			ASSERT_EQ(0x11, (unsigned char)pg[100]);
			ASSERT_TRUE(is_pattern(pg, 100, pat, size));
			ASSERT_TRUE(is_pattern(pg + 101, page_size - 101, pat, size))
				TH_LOG("pattern size %zu", size);
		}
		ASSERT_EQ(kb, rss_kb(p)) TH_LOG("pattern size %zu", size);
		ASSERT_EQ(kb, smaps_vma_kb(p, "Anonymous:"));
		munmap(p, len);
		if (pass)
			close(fd);
	}
}

/*
 * MAP_SHARED is refused: EINVAL for PROT_READ, also with
 * MAP_SHARED_VALIDATE, and EACCES for PROT_WRITE since the fd is read-only.
 * MAP_PRIVATE works at any page-aligned offset.
 */
TEST_F(refpage, map_shared_refused)
{
	const off_t offsets[] = { page_size, 7 * page_size, 1L << 30 };
	const size_t len = 4 * page_size;
	char *p;

	errno = 0;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);

	errno = 0;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EACCES, errno);

	errno = 0;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED_VALIDATE, self->fd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);

	for (size_t i = 0; i < ARRAY_SIZE(offsets); i++) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			 self->fd, offsets[i]);
		ASSERT_NE(MAP_FAILED, p) TH_LOG("offset %#lx", (long)offsets[i]);
		ASSERT_TRUE(is_pat8(p, len));
		p[page_size] = 0x11;
		ASSERT_TRUE(is_pat8_but(p + page_size, 0, 0x11));
		munmap(p, len);
	}
}

/* The perms of the VMA that contains @addr ("rw-p", ...) in @perms, or -1. */
static int vma_perms(const void *addr, char perms[5])
{
	unsigned long start, end, a = (unsigned long)addr;
	char *line = NULL;
	size_t cap = 0;
	int ret = -1;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "%lx-%lx %4s ", &start, &end, perms) == 3 &&
		    a >= start && a < end) {
			ret = 0;
			break;
		}
	}
	free(line);
	fclose(f);
	return ret;
}

/*
 * A refpage mapping is never executable, as if the fd were on a noexec
 * mount.  mmap() with PROT_EXEC fails with EPERM, private, droppable or
 * shared, and with MAP_FIXED over a written mapping it leaves that mapping
 * as it was.  mprotect() to PROT_EXEC fails with EACCES, from PROT_NONE
 * too, and leaves the mapping as it was.  With the READ_IMPLIES_EXEC
 * personality, PROT_READ in mmap() and in mprotect() does not make the
 * mapping executable.
 */
TEST_F(refpage, prot_exec_refused)
{
	const int exec_prots[] = {
		PROT_EXEC, PROT_READ | PROT_EXEC,
		PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	const size_t len = 2 * page_size;
	char perms[5];
	int status;
	pid_t pid;
	char *p;

	for (size_t i = 0; i < ARRAY_SIZE(exec_prots); i++) {
		errno = 0;
		p = mmap(NULL, len, exec_prots[i], MAP_PRIVATE, self->fd, 0);
		ASSERT_EQ(MAP_FAILED, p) TH_LOG("prot %#x", exec_prots[i]);
		ASSERT_EQ(EPERM, errno) TH_LOG("prot %#x", exec_prots[i]);
	}
	errno = 0;
	p = mmap(NULL, len, PROT_READ | PROT_EXEC, MAP_SHARED, self->fd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EPERM, errno);
	errno = 0;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_DROPPABLE,
		 self->fd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EPERM, errno);

	/* Refused before anything is unmapped: the old mapping survives. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x33, len);
	errno = 0;
	ASSERT_EQ(MAP_FAILED, mmap(p, len, PROT_READ | PROT_EXEC,
				   MAP_PRIVATE | MAP_FIXED, self->fd, 0));
	ASSERT_EQ(EPERM, errno);
	ASSERT_TRUE(is_filled(p, len, 0x33));
	munmap(p, len);

	p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	errno = 0;
	ASSERT_EQ(-1, mprotect(p, len, PROT_READ | PROT_EXEC));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(0, mprotect(p, len, PROT_READ));
	ASSERT_TRUE(is_pat8(p, len));
	munmap(p, len);

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 0x11;
	errno = 0;
	ASSERT_EQ(-1, mprotect(p, len, PROT_READ | PROT_EXEC));
	ASSERT_EQ(EACCES, errno);
	errno = 0;
	ASSERT_EQ(-1, mprotect(p + page_size, page_size,
			       PROT_READ | PROT_WRITE | PROT_EXEC));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(1, vma_count(p, len, NULL, NULL));
	ASSERT_EQ(0, vma_perms(p, perms));
	ASSERT_STREQ("rw-p", perms);
	p[page_size] = 0x22;
	ASSERT_TRUE(is_pat8_but(p, 0, 0x11));
	ASSERT_TRUE(is_pat8_but(p + page_size, 0, 0x22));
	munmap(p, len);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		if (personality(READ_IMPLIES_EXEC) < 0)
			_exit(1);
		p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, self->fd, 0);
		if (p == MAP_FAILED)
			_exit(2);
		if (vma_perms(p, perms) || strcmp(perms, "r--p"))
			_exit(3);
		if (!is_pat8(p, len))
			_exit(4);
		if (mprotect(p, len, PROT_NONE) || mprotect(p, len, PROT_READ))
			_exit(5);
		if (vma_perms(p, perms) || strcmp(perms, "r--p"))
			_exit(6);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status) TH_LOG("READ_IMPLIES_EXEC child: status %#x", status);
}

/* After close() of the fd, the mapping still reads the pattern and writes. */
TEST_F(refpage, close_after_mmap)
{
	const size_t len = 4 * page_size;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;

	ASSERT_TRUE(is_pat8(p, len));
	p[page_size + 5] = 0x22;
	ASSERT_TRUE(is_pat8(p, page_size));
	ASSERT_TRUE(is_pat8_but(p + page_size, 5, 0x22));
	ASSERT_TRUE(is_pat8(p + 2 * page_size, 2 * page_size));
	munmap(p, len);
}

/*
 * vmsplice() gives a pipe references on the pages it reads from, here the
 * reference page itself (untouched pages of a PROT_READ mapping).  The
 * pipe outlives the mapping and the descriptor: after munmap() and
 * close(), the last reference is the pipe's, and reading the pipe still
 * returns the pattern.  Under KASAN (the debug kernel) the read would
 * also report a page freed too early, with the descriptor.
 */
TEST_F(refpage, vmsplice_outlives_fd)
{
	const size_t len = 4 * page_size;
	struct iovec iov;
	int pfd[2];
	char *p, *buf;

	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	buf = malloc(len);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pipe(pfd));
	iov = (struct iovec){ p, len };
	ASSERT_EQ((ssize_t)len, vmsplice(pfd[1], &iov, 1, 0));
	ASSERT_EQ(0, rss_kb(p));
	ASSERT_EQ(0, munmap(p, len));
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;

	ASSERT_TRUE(read_full(pfd[0], buf, len, 10));
	ASSERT_TRUE(is_pat8(buf, len));
	close(pfd[0]);
	close(pfd[1]);
	free(buf);
}

/* A memory cgroup for a child, and the child, both gone at teardown. */
FIXTURE(memcg)
{
	struct memcg cg;
	bool have_cg;
	pid_t child;
};

FIXTURE_SETUP(memcg)
{
	if (!refpage_supported())
		SKIP(return, "%s", refpage_skip_reason);
	char name[32];

	/* refpage.<program's pid>.<test's pid>, for restore_knobs(). */
	snprintf(name, sizeof(name), "refpage.%d", saved_knobs.pid);
	if (memcg_create(&self->cg, name))
		SKIP(return, "cgroup v2 memory controller is not available");
	self->have_cg = true;
}

FIXTURE_TEARDOWN(memcg)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (self->have_cg)
		memcg_destroy(&self->cg);
}

#define NR_LIFETIME 512

/*
 * The child of memcg.lifetime.  Each step starts when the parent says so
 * and ends with a report, so that the parent reads memory.current between
 * the steps.
 */
static int lifetime_child(int rd, int wr)
{
	static int fds[NR_LIFETIME];
	static char *maps[NR_LIFETIME];
	struct rlimit rl;

	/* Now in the memory cgroup. */
	if (!hear(rd, 30))
		return 1;
	pin_cpu0();
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 2;
	if (rl.rlim_cur < NR_LIFETIME + 64) {
		rl.rlim_cur = NR_LIFETIME + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			return 2;
	}
	memset(fds, 0, sizeof(fds));
	memset(maps, 0, sizeof(maps));
	if (!step(wr, rd, 30))
		return 3;

	for (int i = 0; i < NR_LIFETIME; i++) {
		fds[i] = sys_refpage_create(pat8, sizeof(pat8), 0);
		if (fds[i] < 0)
			return 4;
	}
	if (!step(wr, rd, 30))
		return 5;

	for (int i = 0; i < NR_LIFETIME; i++) {
		maps[i] = mmap(NULL, page_size, PROT_READ, MAP_PRIVATE, fds[i], 0);
		if (maps[i] == MAP_FAILED)
			return 6;
		if (__atomic_load_n(maps[i], __ATOMIC_RELAXED) != (char)pat8[0])
			return 7;
		close(fds[i]);
	}
	if (!step(wr, rd, 30))
		return 8;

	for (int i = 0; i < NR_LIFETIME; i++)
		if (munmap(maps[i], page_size))
			return 9;
	if (!step(wr, rd, 60))
		return 10;
	return 0;
}

/*
 * The reference page is charged to its creator's memory cgroup and lives
 * as long as an fd or a mapping: a child in a cgroup of its own creates
 * 512 refpages, and memory.current rises by at least 3/4 of 512 pages; it
 * maps each one and closes every fd, and the charge stays; it unmaps them
 * all, and the rise falls below 1/4 of 512 pages.  The loose bounds allow
 * for the per-cpu charge batch (the child runs on CPU 0 only) and for the
 * slab objects that come with each fd and VMA.
 */
TEST_F_TIMEOUT(memcg, lifetime, 120)
{
	const long size = NR_LIFETIME * page_size;
	int to_child[2], to_parent[2];
	long base, now;
	unsigned long long deadline;

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	self->child = fork();
	ASSERT_GE(self->child, 0);
	if (!self->child)
		_exit(lifetime_child(to_child[0], to_parent[1]));
	ASSERT_EQ(0, memcg_enter(&self->cg, self->child));

	ASSERT_TRUE(step(to_child[1], to_parent[0], 30))
		TH_LOG("the child did not get ready");
	base = memcg_current(&self->cg);
	ASSERT_GE(base, 0);

	ASSERT_TRUE(step(to_child[1], to_parent[0], 30))
		TH_LOG("the child did not create its refpages");
	now = memcg_current(&self->cg);
	TH_LOG("%d refpages created: memory.current +%ld", NR_LIFETIME, now - base);
	ASSERT_GE(now - base, size * 3 / 4);

	ASSERT_TRUE(step(to_child[1], to_parent[0], 30))
		TH_LOG("the child did not map its refpages");
	now = memcg_current(&self->cg);
	TH_LOG("mapped, fds closed: memory.current +%ld", now - base);
	ASSERT_GE(now - base, size * 3 / 4);

	ASSERT_TRUE(step(to_child[1], to_parent[0], 30))
		TH_LOG("the child did not unmap its refpages");
	deadline = now_ms() + 10000;
	while ((now = memcg_current(&self->cg)) - base >= size / 4 &&
	       now_ms() < deadline)
		usleep(50000);
	TH_LOG("unmapped: memory.current +%ld", now - base);
	ASSERT_LT(now - base, size / 4)
		TH_LOG("the charge did not fall within 10 s of the last munmap");

	ASSERT_TRUE(tell(to_child[1]));
	ASSERT_EQ(0, exit_code(reap(self->child, 10)));
	self->child = 0;
}

/*
 * The child of refpage.fork_cow: it sees the parent's page 0 and the
 * pattern elsewhere, writes pages 0 and 1, and later does not see what
 * the parent wrote after fork().
 */
static int cow_child(char *p, int rd, int wr)
{
	if (!is_filled(p, page_size, 0x11))
		return 10;
	if (!is_pat8(p + page_size, 3 * page_size))
		return 11;
	memset(p, 0x22, page_size);
	memset(p + page_size, 0x33, page_size);
	if (!step(wr, rd, 30))
		return 12;
	if (!is_filled(p, page_size, 0x22))
		return 13;
	if (!is_filled(p + page_size, page_size, 0x33))
		return 14;
	if (!is_pat8(p + 2 * page_size, 2 * page_size))
		return 15;
	return 0;
}

/*
 * fork() is copy-on-write, as for anonymous memory:
 *
 *            page 0   page 1   page 2   page 3
 *   before   11       pattern  pattern  pattern
 *   child    22       33       pattern  pattern
 *   parent   44       pattern  55       pattern
 */
/*
 * As fork_cow, with every untouched page read first, so that fork copies
 * reference-page PTEs (the special-PTE path of copy_present_ptes()) and
 * both sides then COW from the reference page.
 */
TEST_F(refpage, fork_cow_mapped)
{
	const size_t len = 4 * page_size;
	int to_child[2], to_parent[2];
	pid_t pid;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x11, page_size);
	ASSERT_TRUE(is_pat8(p + page_size, 3 * page_size));
	ASSERT_EQ(page_size / 1024, rss_kb(p));
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(cow_child(p, to_child[0], to_parent[1]));

	ASSERT_TRUE(hear(to_parent[0], 10)) TH_LOG("the child did not report");
	ASSERT_TRUE(is_filled(p, page_size, 0x11));
	ASSERT_TRUE(is_pat8(p + page_size, 3 * page_size));
	memset(p, 0x44, page_size);
	memset(p + 2 * page_size, 0x55, page_size);
	ASSERT_TRUE(tell(to_child[1]));
	ASSERT_EQ(0, exit_code(reap(pid, 10)));

	ASSERT_TRUE(is_filled(p, page_size, 0x44));
	ASSERT_TRUE(is_pat8(p + page_size, page_size));
	ASSERT_TRUE(is_filled(p + 2 * page_size, page_size, 0x55));
	ASSERT_TRUE(is_pat8(p + 3 * page_size, page_size));
	ASSERT_EQ(2 * page_size / 1024, rss_kb(p));
	munmap(p, len);
}

TEST_F(refpage, fork_cow)
{
	const size_t len = 4 * page_size;
	int to_child[2], to_parent[2];
	pid_t pid;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x11, page_size);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(cow_child(p, to_child[0], to_parent[1]));

	ASSERT_TRUE(hear(to_parent[0], 10)) TH_LOG("the child did not report");
	/* The child's writes are its own. */
	ASSERT_TRUE(is_filled(p, page_size, 0x11));
	ASSERT_TRUE(is_pat8(p + page_size, 3 * page_size));
	memset(p, 0x44, page_size);
	memset(p + 2 * page_size, 0x55, page_size);
	ASSERT_TRUE(tell(to_child[1]));
	ASSERT_EQ(0, exit_code(reap(pid, 10)));

	ASSERT_TRUE(is_filled(p, page_size, 0x44));
	ASSERT_TRUE(is_pat8(p + page_size, page_size));
	ASSERT_TRUE(is_filled(p + 2 * page_size, page_size, 0x55));
	ASSERT_TRUE(is_pat8(p + 3 * page_size, page_size));
	munmap(p, len);
}

/* Page @data of the @npages at @p holds @c, every other page the pattern. */
static bool one_page_filled(const char *p, size_t npages, size_t data,
			    unsigned char c)
{
	for (size_t i = 0; i < npages; i++) {
		const char *pg = p + i * page_size;

		if (i == data ? !is_filled(pg, page_size, c) : !is_pat8(pg, page_size))
			return false;
	}
	return true;
}

/*
 * mremap() keeps written pages and shows the pattern in grown ones: page 1
 * of 4 written, grown to 8 pages, then moved with MREMAP_FIXED, then
 * shrunk to 2 pages and grown back to 8, after which the pages beyond 2,
 * written or not before the shrink, read the pattern again.  The move
 * takes the reference-page PTEs along: before anything reads the new
 * range, pagemap shows all 8 pages present (a dropped PTE would read the
 * pattern too, from a new fault).
 */
TEST_F(refpage, mremap)
{
	unsigned long start, end;
	char *p, *q, *r, *s;
	int pagemap, missing = -1;

	p = mmap(NULL, 4 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p + page_size, 0x11, page_size);

	q = mremap(p, 4 * page_size, 8 * page_size, MREMAP_MAYMOVE);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_TRUE(one_page_filled(q, 8, 1, 0x11));

	r = reserve(8 * page_size);
	ASSERT_NE(MAP_FAILED, r);
	s = mremap(q, 8 * page_size, 8 * page_size,
		   MREMAP_MAYMOVE | MREMAP_FIXED, r);
	ASSERT_EQ(r, s);
	pagemap = open("/proc/self/pagemap", O_RDONLY);
	ASSERT_GE(pagemap, 0);
	for (int i = 0; i < 8 && missing < 0; i++) {
		if (!pagemap_is_populated(pagemap, s + i * page_size))
			missing = i;
	}
	close(pagemap);
	ASSERT_EQ(-1, missing)
		TH_LOG("page %d of the moved range is not present", missing);
	ASSERT_TRUE(one_page_filled(s, 8, 1, 0x11));
	ASSERT_EQ(page_size / 1024, rss_kb(s));

	/* A page that goes away with the shrink. */
	memset(s + 4 * page_size, 0x22, page_size);
	ASSERT_EQ(s, mremap(s, 8 * page_size, 2 * page_size, 0));
	ASSERT_EQ(1, vma_count(s, 8 * page_size, &start, &end));
	ASSERT_EQ((unsigned long)s, start);
	ASSERT_EQ((unsigned long)s + 2 * page_size, end);
	ASSERT_TRUE(one_page_filled(s, 2, 1, 0x11));

	q = mremap(s, 2 * page_size, 8 * page_size, MREMAP_MAYMOVE);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_TRUE(one_page_filled(q, 8, 1, 0x11));
	ASSERT_EQ(page_size / 1024, rss_kb(q));
	munmap(q, 8 * page_size);
}

/* A child that writes one byte at @addr; it must die of SIGSEGV. */
static int write_in_child(char *addr)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		no_core();
		__atomic_store_n(addr, 1, __ATOMIC_RELAXED);
		_exit(0);
	}
	return exit_code(reap(pid, 10));
}

/*
 * mprotect() between PROT_READ and PROT_READ | PROT_WRITE keeps the data:
 * a read-only mapping reads the pattern; made writable it takes writes;
 * made read-only again it keeps them and a write (to a written page or an
 * untouched one) raises SIGSEGV.  mprotect() of the middle page splits the
 * VMA in three, every page still reads right, and the reverse mprotect()
 * merges the three again.
 *
 *   | 11 | pattern | 33 |  ->  | 11 | pattern, 22 at byte 7 | 33 |
 */
TEST_F(refpage, mprotect)
{
	const size_t len = 3 * page_size;
	char *p;

	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_TRUE(is_pat8(p, len));

	ASSERT_EQ(0, mprotect(p, len, PROT_READ | PROT_WRITE));
	memset(p, 0x11, page_size);
	memset(p + 2 * page_size, 0x33, page_size);
	ASSERT_EQ(0, mprotect(p, len, PROT_READ));
	ASSERT_TRUE(is_filled(p, page_size, 0x11));
	ASSERT_TRUE(is_pat8(p + page_size, page_size));
	ASSERT_TRUE(is_filled(p + 2 * page_size, page_size, 0x33));
	ASSERT_EQ(KILLED_BY(SIGSEGV), write_in_child(p));
	ASSERT_EQ(KILLED_BY(SIGSEGV), write_in_child(p + page_size));

	ASSERT_EQ(0, mprotect(p + page_size, page_size, PROT_READ | PROT_WRITE));
	ASSERT_EQ(3, vma_count(p, len, NULL, NULL));
	p[page_size + 7] = 0x22;
	ASSERT_TRUE(is_filled(p, page_size, 0x11));
	ASSERT_TRUE(is_pat8_but(p + page_size, 7, 0x22));
	ASSERT_TRUE(is_filled(p + 2 * page_size, page_size, 0x33));

	ASSERT_EQ(0, mprotect(p + page_size, page_size, PROT_READ));
	ASSERT_EQ(1, vma_count(p, len, NULL, NULL));
	ASSERT_TRUE(is_filled(p, page_size, 0x11));
	ASSERT_TRUE(is_pat8_but(p + page_size, 7, 0x22));
	ASSERT_TRUE(is_filled(p + 2 * page_size, page_size, 0x33));
	munmap(p, len);
}

/* Pages 0-1 and 4-7 at @p still hold 0x10 plus their index. */
static bool outside_hole_kept(const char *p)
{
	for (size_t i = 0; i < 8; i++)
		if ((i < 2 || i > 3) &&
		    !is_filled(p + i * page_size, page_size, 0x10 + i))
			return false;
	return true;
}

/*
 * munmap() of part of the mapping keeps the rest, and the hole mapped
 * again from the same fd with MAP_FIXED reads the pattern:
 *
 *   | 10 | 11 | 12 | 13 | 14 | 15 | 16 | 17 |
 *   | 10 | 11 |  hole   | 14 | 15 | 16 | 17 |
 *   | 10 | 11 | pattern | 14 | 15 | 16 | 17 |
 */
TEST_F(refpage, munmap_part)
{
	const size_t len = 8 * page_size;
	char *p, *q;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (size_t i = 0; i < 8; i++)
		memset(p + i * page_size, 0x10 + i, page_size);

	ASSERT_EQ(0, munmap(p + 2 * page_size, 2 * page_size));
	ASSERT_TRUE(outside_hole_kept(p));

	q = mmap(p + 2 * page_size, 2 * page_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_FIXED, self->fd, 2 * page_size);
	ASSERT_EQ(p + 2 * page_size, q);
	ASSERT_TRUE(is_pat8(q, 2 * page_size));
	ASSERT_TRUE(outside_hole_kept(p));
	munmap(p, len);
}

/*
 * MADV_DONTNEED discards the private copies: the range reads the pattern
 * again and Rss drops, first for pages 2-5 of 8, then for all of them.
 */
TEST_F(refpage, madv_dontneed)
{
	const size_t len = 8 * page_size;
	const long kb = page_size / 1024;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x11, len);
	ASSERT_EQ(8 * kb, rss_kb(p));

	ASSERT_EQ(0, madvise(p + 2 * page_size, 4 * page_size, MADV_DONTNEED));
	ASSERT_EQ(4 * kb, rss_kb(p));
	ASSERT_TRUE(is_filled(p, 2 * page_size, 0x11));
	ASSERT_TRUE(is_pat8(p + 2 * page_size, 4 * page_size));
	ASSERT_TRUE(is_filled(p + 6 * page_size, 2 * page_size, 0x11));

	ASSERT_EQ(0, madvise(p, len, MADV_DONTNEED));
	ASSERT_EQ(0, rss_kb(p));
	ASSERT_TRUE(is_pat8(p, len));
	ASSERT_EQ(0, rss_kb(p));
	munmap(p, len);
}

/*
 * MADV_PAGEOUT until all @len bytes at @p read as the pattern, or for a
 * bounded number of tries: a page in another CPU's LRU batch or with a
 * transient reference is skipped once.  Every page must read either @c
 * or the pattern at every try.
 */
static bool pageout_to_pattern(char *p, size_t len, unsigned char c)
{
	for (int try = 0; try < 20; try++) {
		bool all = true;

		if (madvise(p, len, MADV_PAGEOUT))
			return false;
		for (size_t off = 0; off < len; off += page_size) {
			if (is_pat8(p + off, page_size))
				continue;
			if (!is_filled(p + off, page_size, c))
				return false;
			all = false;
		}
		if (all)
			return true;
		usleep(100000);
	}
	return false;
}

/*
 * MADV_FREE frees lazily: once reclaimed (MADV_PAGEOUT right after), the
 * pages read as the pattern again; written again before reclaim, they
 * keep the new data through MADV_PAGEOUT.
 */
TEST_F_TIMEOUT(refpage, madv_free, 60)
{
	const size_t len = 8 * page_size;
	char *p;

	/* MADV_PAGEOUT drains only this CPU's LRU batches. */
	pin_cpu0();
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);

	memset(p, 0x11, len);
	ASSERT_EQ(0, madvise(p, len, MADV_FREE));
	ASSERT_TRUE(pageout_to_pattern(p, len, 0x11))
		TH_LOG("lazily freed pages were not dropped by MADV_PAGEOUT");

	memset(p, 0x22, len);
	ASSERT_EQ(0, madvise(p, len, MADV_FREE));
	memset(p, 0x33, len);
	/* Dirty again: reclaim swaps them out, or leaves them alone. */
	ASSERT_EQ(0, madvise(p, len, MADV_PAGEOUT));
	ASSERT_EQ(0, madvise(p, len, MADV_PAGEOUT));
	ASSERT_TRUE(is_filled(p, len, 0x33));
	munmap(p, len);
}

/* Every page of [p, p + len) is present in pagemap. */
static bool all_populated(const char *p, size_t len)
{
	int pagemap = open("/proc/self/pagemap", O_RDONLY);
	bool ok = pagemap >= 0;

	for (size_t off = 0; ok && off < len; off += page_size)
		ok = pagemap_is_populated(pagemap, (char *)p + off);
	if (pagemap >= 0)
		close(pagemap);
	return ok;
}

/*
 * mseal() keeps read-only anonymous memory from being discarded, and a
 * refpage mapping is anonymous memory, as a private /dev/zero mapping is:
 * sealed read-only, each refuses MADV_DONTNEED and MADV_FREE with EPERM
 * and keeps its written page, as MAP_ANONYMOUS does.
 */
TEST_F(refpage, mseal_discard)
{
	const size_t len = 2 * page_size;
	int zero = open("/dev/zero", O_RDWR);
	int fds[2] = { self->fd, zero };

	ASSERT_GE(zero, 0);
	for (int i = 0; i < 2; i++) {
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			       fds[i], 0);

		ASSERT_NE(MAP_FAILED, p);
		memset(p, 0x11, page_size);
		ASSERT_EQ(0, mprotect(p, len, PROT_READ));
		ASSERT_EQ(0, syscall(__NR_mseal, p, len, 0));

		errno = 0;
		ASSERT_EQ(-1, madvise(p, len, MADV_DONTNEED))
			TH_LOG("%s", i ? "/dev/zero" : "refpage");
		ASSERT_EQ(EPERM, errno);
		errno = 0;
		ASSERT_EQ(-1, madvise(p, len, MADV_FREE))
			TH_LOG("%s", i ? "/dev/zero" : "refpage");
		ASSERT_EQ(EPERM, errno);
		ASSERT_TRUE(is_filled(p, page_size, 0x11));
		ASSERT_TRUE(i ? is_filled(p + page_size, page_size, 0) :
				is_pat8(p + page_size, page_size));
	}
	close(zero);
}

/*
 * Where code tells anonymous memory by a NULL vm_file, a refpage mapping
 * answers as a private /dev/zero mapping does: MADV_WIPEONFORK fails with
 * EINVAL and naming the VMA with EBADF, while MADV_WILLNEED succeeds and
 * changes nothing.
 */
TEST_F(refpage, like_dev_zero)
{
	const size_t len = 2 * page_size;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x11, page_size);

	errno = 0;
	ASSERT_EQ(-1, madvise(p, len, MADV_WIPEONFORK));
	ASSERT_EQ(EINVAL, errno);
	errno = 0;
	ASSERT_EQ(-1, prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME,
			    (unsigned long)p, len, (unsigned long)"heap"));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(0, madvise(p, len, MADV_WILLNEED));
	ASSERT_TRUE(is_filled(p, page_size, 0x11));
	ASSERT_TRUE(is_pat8(p + page_size, page_size));
	munmap(p, len);
}

/*
 * Population maps the reference page for reading and private copies for
 * writing: MAP_POPULATE of a PROT_READ mapping and MADV_POPULATE_READ
 * leave Rss at 0 kB with every page present; MAP_POPULATE of a writable
 * mapping and MADV_POPULATE_WRITE make Rss the whole length.  All of them
 * read the pattern.
 */
TEST_F(refpage, populate)
{
	const size_t len = 16 * page_size;
	const long kb = len / 1024;
	char *p;

	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, rss_kb(p));
	ASSERT_TRUE(all_populated(p, len));
	ASSERT_TRUE(is_pat8(p, len));
	munmap(p, len);

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_POPULATE,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(kb, rss_kb(p));
	ASSERT_EQ(kb, smaps_vma_kb(p, "Anonymous:"));
	ASSERT_TRUE(is_pat8(p, len));
	munmap(p, len);

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, madvise(p, len, MADV_POPULATE_READ));
	ASSERT_EQ(0, rss_kb(p));
	ASSERT_TRUE(all_populated(p, len));
	ASSERT_TRUE(is_pat8(p, len));

	ASSERT_EQ(0, madvise(p, len, MADV_POPULATE_WRITE));
	ASSERT_EQ(kb, rss_kb(p));
	ASSERT_EQ(kb, smaps_vma_kb(p, "Anonymous:"));
	ASSERT_TRUE(is_pat8(p, len));
	munmap(p, len);
}

/*
 * mlock() of a PROT_READ mapping succeeds and maps the reference page
 * only: Rss and Locked 0 kB, every page present.  mlock() of a writable
 * mapping makes private copies: Rss and Locked the whole length.  Both
 * read the pattern.
 */
TEST_F(refpage, mlock)
{
	const size_t len = 16 * page_size;
	const long kb = len / 1024;
	struct rlimit rl;
	char *p;

	ASSERT_EQ(0, getrlimit(RLIMIT_MEMLOCK, &rl));
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 2 * len) {
		rl.rlim_cur = RLIM_INFINITY;
		rl.rlim_max = RLIM_INFINITY;
		if (setrlimit(RLIMIT_MEMLOCK, &rl) && geteuid())
			SKIP(return, "RLIMIT_MEMLOCK is too low and cannot be raised");
	}

	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mlock(p, len));
	ASSERT_EQ(0, rss_kb(p));
	ASSERT_EQ(0, smaps_vma_kb(p, "Locked:"));
	ASSERT_TRUE(all_populated(p, len));
	ASSERT_TRUE(is_pat8(p, len));
	ASSERT_EQ(0, munlock(p, len));
	munmap(p, len);

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mlock(p, len));
	ASSERT_EQ(kb, rss_kb(p));
	ASSERT_EQ(kb, smaps_vma_kb(p, "Locked:"));
	ASSERT_TRUE(is_pat8(p, len));
	ASSERT_EQ(0, munlock(p, len));
	munmap(p, len);
}

/*
 * The child of refpage.vm_readv: it maps the refpage itself, writes 0x44
 * at byte 10 of page 2, and sends the address.
 */
static int readv_child(int fd, int rd, int wr)
{
	char *q = mmap(NULL, 4 * page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE, fd, 0);

	if (q == MAP_FAILED)
		return 1;
	q[2 * page_size + 10] = 0x44;
	if (write(wr, &q, sizeof(q)) != sizeof(q))
		return 2;
	return hear(rd, 30) ? 0 : 3;
}

/*
 * process_vm_readv() reads the pattern: from our own PROT_READ mapping
 * (all of it, and 100 bytes at an odd offset), without adding RSS; and
 * from a child's own mapping, where it also reads the child's write.
 */
TEST_F(refpage, vm_readv)
{
	const size_t len = 4 * page_size;
	int to_child[2], to_parent[2];
	struct iovec local, remote;
	char *p, *buf, *q;
	pid_t pid;

	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);

	local = (struct iovec){ buf, len };
	remote = (struct iovec){ p, len };
	ASSERT_EQ((ssize_t)len, process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	ASSERT_TRUE(is_pat8(buf, len));
	memset(buf, 0, len);
	local = (struct iovec){ buf + page_size + 3, 100 };
	remote = (struct iovec){ p + page_size + 3, 100 };
	ASSERT_EQ(100, process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	ASSERT_TRUE(is_pat8(buf + page_size + 3, 100));
	ASSERT_EQ(0, rss_kb(p));

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(readv_child(self->fd, to_child[0], to_parent[1]));
	ASSERT_TRUE(read_full(to_parent[0], &q, sizeof(q), 10))
		TH_LOG("the child did not map the refpage");
	memset(buf, 0, len);
	local = (struct iovec){ buf, len };
	remote = (struct iovec){ q, len };
	ASSERT_EQ((ssize_t)len, process_vm_readv(pid, &local, 1, &remote, 1, 0));
	ASSERT_TRUE(tell(to_child[1]));
	ASSERT_EQ(0, exit_code(reap(pid, 10)));
	ASSERT_TRUE(is_pat8(buf, 2 * page_size));
	ASSERT_TRUE(is_pat8_but(buf + 2 * page_size, 10, 0x44));
	ASSERT_TRUE(is_pat8(buf + 3 * page_size, page_size));
	munmap(buf, len);
	munmap(p, len);
}

/*
 * /proc/self/mem reads the pattern, and a pwrite() to a PROT_READ mapping
 * (a FOLL_FORCE write) succeeds: the page shows the new byte and the
 * pattern around it, the other pages the pattern, and Rss is one page.
 */
TEST_F(refpage, proc_pid_mem)
{
	const size_t len = 4 * page_size;
	const unsigned char v = 0x66;
	char *p, *buf;
	int mem;

	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	mem = open("/proc/self/mem", O_RDWR);
	ASSERT_GE(mem, 0);

	ASSERT_EQ((ssize_t)len, pread(mem, buf, len, (off_t)(uintptr_t)p));
	ASSERT_TRUE(is_pat8(buf, len));
	ASSERT_EQ(0, rss_kb(p));

	ASSERT_EQ(1, pwrite(mem, &v, 1, (off_t)(uintptr_t)(p + page_size + 9)));
	ASSERT_TRUE(is_pat8(p, page_size));
	ASSERT_TRUE(is_pat8_but(p + page_size, 9, v));
	ASSERT_TRUE(is_pat8(p + 2 * page_size, 2 * page_size));
	ASSERT_EQ(page_size / 1024, rss_kb(p));
	close(mem);
	munmap(buf, len);
	munmap(p, len);
}

/*
 * Attach a free loop device to a new, unlinked temporary file of @size
 * bytes, and open it with O_DIRECT.  The device detaches itself when the
 * returned descriptor is closed (LO_FLAGS_AUTOCLEAR), even if the test is
 * killed.  A test writes only to a device it made this way, never to one
 * that may hold someone's data.
 *
 * Returns the descriptor, or -1 with @why saying what was missing.
 */
static int loop_device_open(size_t size, const char **why)
{
	char backing[] = "/tmp/refpage-dio-XXXXXX";
	struct loop_config cfg = {
		.info.lo_flags = LO_FLAGS_AUTOCLEAR,
	};
	int ctl, bfd, dfd = -1;

	*why = "cannot create a temporary file in /tmp";
	bfd = mkstemp(backing);
	if (bfd < 0)
		return -1;
	unlink(backing);
	if (ftruncate(bfd, size))
		goto out;
	*why = "no /dev/loop-control (CONFIG_BLK_DEV_LOOP)";
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		goto out;
	/* Another user can take the free device first: try a few. */
	*why = "no free loop device";
	for (int tries = 0; tries < 8 && dfd < 0; tries++) {
		char dev[32];
		int nr = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (nr < 0)
			break;
		snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
		dfd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
		if (dfd < 0)
			continue;
		cfg.fd = bfd;
		if (ioctl(dfd, LOOP_CONFIGURE, &cfg)) {
			close(dfd);
			dfd = -1;
		}
	}
	close(ctl);
out:
	close(bfd);
	return dfd;
}

/*
 * O_DIRECT goes through GUP both ways, on a loop device of the test's own:
 * a write from a PROT_READ refpage mapping puts the pattern on the device,
 * and a read into a writable refpage mapping fills it with the device's
 * data in private copies, Rss four pages.
 */
TEST_F_TIMEOUT(refpage, o_direct, 60)
{
	const size_t len = 4 * page_size;
	char *ro, *rw, *buf;
	const char *why;
	int dfd;

	dfd = loop_device_open(len, &why);
	if (dfd < 0)
		SKIP(return, "%s: %s", why, strerror(errno));

	ro = mmap(NULL, len, PROT_READ, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, ro);
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);

	ASSERT_EQ((ssize_t)len, pwrite(dfd, ro, len, 0)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, rss_kb(ro));
	ASSERT_EQ((ssize_t)len, pread(dfd, buf, len, 0)) TH_LOG("%s", strerror(errno));
	ASSERT_TRUE(is_pat8(buf, len));

	/* Other data on the device, read into a writable refpage mapping. */
	for (size_t i = 0; i < len; i++)
		buf[i] = 0x10 + i % 0x60 + i / page_size;
	ASSERT_EQ((ssize_t)len, pwrite(dfd, buf, len, 0)) TH_LOG("%s", strerror(errno));
	rw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, rw);
	ASSERT_EQ((ssize_t)len, pread(dfd, rw, len, 0)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, memcmp(rw, buf, len));
	ASSERT_EQ(len / 1024, rss_kb(rw));

	munmap(rw, len);
	munmap(buf, len);
	munmap(ro, len);
	close(dfd);
}

/*
 * userfaultfd cannot be registered on a refpage range: MISSING, and WP
 * where the kernel has it, fail with EINVAL.  Anonymous memory is the
 * control, and the range still reads the pattern.
 */
TEST_F(refpage, uffd_refused)
{
	struct uffdio_api api = { .api = UFFD_API };
	const size_t len = 4 * page_size;
	char *p, *anon;
	bool wp;
	int uffd;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (uffd < 0 && errno == EINVAL)
		uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "userfaultfd is not available: %s", strerror(errno));
	if (ioctl(uffd, UFFDIO_API, &api))
		SKIP(goto out, "UFFDIO_API failed: %s", strerror(errno));
	wp = api.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP;

	anon = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	ASSERT_EQ(0, uffd_register(uffd, anon, len, true, false, false));
	ASSERT_EQ(0, uffd_unregister(uffd, anon, len));
	munmap(anon, len);

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(-EINVAL, uffd_register(uffd, p, len, true, false, false));
	if (wp) {
		ASSERT_EQ(-EINVAL, uffd_register(uffd, p, len, false, true, false));
		ASSERT_EQ(-EINVAL, uffd_register(uffd, p, len, true, true, false));
	} else {
		TH_LOG("no UFFD_FEATURE_PAGEFAULT_FLAG_WP: WP mode not checked");
	}
	ASSERT_TRUE(is_pat8(p, len));
	munmap(p, len);
out:
	close(uffd);
}

/*
 * UFFDIO_MOVE refuses a refpage range at either end with EINVAL: a written
 * page moved out would leave the pattern behind, and a hole moved out
 * would read as zero at the destination.  Anonymous memory is the control.
 */
TEST_F(refpage, uffd_move_refused)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_MOVE };
	const size_t len = 2 * page_size;
	struct uffdio_move mv;
	char *src, *anon, *dst;
	int uffd;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (uffd < 0 && errno == EINVAL)
		uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "userfaultfd is not available: %s", strerror(errno));
	if (ioctl(uffd, UFFDIO_API, &api))
		SKIP(goto out, "no UFFD_FEATURE_MOVE: %s", strerror(errno));

	dst = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, dst);
	ASSERT_EQ(0, uffd_register(uffd, dst, len, true, false, false));
	anon = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	memset(anon, 0x12, page_size);
	mv = (struct uffdio_move){
		.dst = (unsigned long)dst, .src = (unsigned long)anon,
		.len = page_size,
	};
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_MOVE, &mv)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ((long)page_size, mv.move);
	ASSERT_TRUE(is_filled(dst, page_size, 0x12));

	/* A written page, then a hole, of a refpage mapping. */
	src = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, src);
	memset(src, 0x13, page_size);
	for (int i = 0; i < 2; i++) {
		mv = (struct uffdio_move){
			.dst = (unsigned long)dst + page_size,
			.src = (unsigned long)src + i * page_size,
			.len = page_size,
			.mode = i ? UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES : 0,
		};
		errno = 0;
		ASSERT_EQ(-1, ioctl(uffd, UFFDIO_MOVE, &mv)) TH_LOG("page %d moved", i);
		ASSERT_EQ(EINVAL, errno);
	}
	ASSERT_TRUE(is_filled(src, page_size, 0x13));
	ASSERT_TRUE(is_pat8(src + page_size, page_size));
	ASSERT_EQ(page_size / 1024, rss_kb(src));
	munmap(src, len);
	munmap(anon, len);
	munmap(dst, len);
out:
	close(uffd);
}

/*
 * mremap(MREMAP_DONTUNMAP) moves the pages and leaves the old range
 * mapped and empty: there it reads the pattern again, not zero.
 */
TEST_F(refpage, mremap_dontunmap)
{
	const size_t len = 4 * page_size;
	char *p, *q;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p + page_size, 0x14, page_size);
	q = mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
	ASSERT_NE(MAP_FAILED, q) TH_LOG("%s", strerror(errno));
	ASSERT_TRUE(one_page_filled(q, 4, 1, 0x14));
	ASSERT_TRUE(is_pat8(p, len));
	ASSERT_EQ(0, rss_kb(p));
	munmap(q, len);
	munmap(p, len);
}

/*
 * process_vm_writev() takes no FOLL_FORCE: into a read-only refpage
 * mapping it fails with EFAULT and leaves the pattern; into a writable
 * one it breaks COW through GUP and writes a private copy.
 */
TEST_F(refpage, vm_writev)
{
	const size_t len = 2 * page_size;
	struct iovec local, remote;
	char buf[64], *ro, *rw;

	memset(buf, 0x15, sizeof(buf));
	ro = mmap(NULL, len, PROT_READ, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_TRUE(is_pat8(ro, len));
	local = (struct iovec){ buf, sizeof(buf) };
	remote = (struct iovec){ ro + 100, sizeof(buf) };
	errno = 0;
	ASSERT_EQ(-1, process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_TRUE(is_pat8(ro, len));
	ASSERT_EQ(0, rss_kb(ro));

	rw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, rw);
	ASSERT_TRUE(is_pat8(rw, len));
	remote = (struct iovec){ rw + page_size + 100, sizeof(buf) };
	ASSERT_EQ((ssize_t)sizeof(buf),
		  process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
	ASSERT_TRUE(is_pat8(rw, page_size));
	ASSERT_EQ(0, memcmp(rw + page_size + 100, buf, sizeof(buf)));
	ASSERT_EQ(page_size / 1024, rss_kb(rw));
	/* Everything around the write is the pattern. */
	ASSERT_TRUE(is_pat8(rw + page_size, 100));
	ASSERT_TRUE(is_pat8(ro, len));
	munmap(rw, len);
	munmap(ro, len);
}

/* KSM knobs, saved at setup and restored at teardown. */
FIXTURE(ksm)
{
	int fd;		/* a refpage of pat8 */
	long run, pages_to_scan, sleep_millisecs, use_zero_pages;
	bool saved;
	pid_t child;
};

FIXTURE_SETUP(ksm)
{
	self->fd = -1;
	if (!refpage_supported())
		SKIP(return, "%s", refpage_skip_reason);
	self->fd = sys_refpage_create(pat8, sizeof(pat8), 0);
	ASSERT_GE(self->fd, 0);
	if (access(KSM_SYSFS "run", W_OK))
		SKIP(return, "KSM is not available (/sys/kernel/mm/ksm)");
	if (access("/proc/self/ksm_merging_pages", R_OK))
		SKIP(return, "/proc/self/ksm_merging_pages is not available");
	self->run = read_long(KSM_SYSFS "run");
	self->pages_to_scan = read_long(KSM_SYSFS "pages_to_scan");
	self->sleep_millisecs = read_long(KSM_SYSFS "sleep_millisecs");
	self->use_zero_pages = read_long(KSM_SYSFS "use_zero_pages");
	if (self->run < 0 || self->pages_to_scan < 0 ||
	    self->sleep_millisecs < 0 || self->use_zero_pages < 0)
		SKIP(return, "cannot read the KSM settings");
	self->saved = true;
}

FIXTURE_TEARDOWN(ksm)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (!self->saved)
		return;
	write_long(KSM_SYSFS "pages_to_scan", self->pages_to_scan);
	write_long(KSM_SYSFS "sleep_millisecs", self->sleep_millisecs);
	write_long(KSM_SYSFS "use_zero_pages", self->use_zero_pages);
	write_long(KSM_SYSFS "run", self->run);
}

#define KSM_CONTROL_PAGES 32

/* The control of ksm.not_merged: identical anonymous pages to merge. */
static int ksm_control_child(int rd, int wr)
{
	const size_t len = KSM_CONTROL_PAGES * page_size;
	char *q = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (q == MAP_FAILED)
		return 1;
	memset(q, 0x77, len);
	if (madvise(q, len, MADV_MERGEABLE))
		return 2;
	return step(wr, rd, 170) ? 0 : 3;
}

/*
 * KSM never merges the reference page: 64 read-faulted pages of a
 * writable refpage mapping, MADV_MERGEABLE (accepted), and ksmd running
 * for at least two full scans, by which time it has merged the identical
 * anonymous pages of a control child; /proc/self/ksm_merging_pages is
 * still 0, and the mapping reads the pattern with Rss 0 kB.
 */
TEST_F_TIMEOUT(ksm, not_merged, 180)
{
	const size_t len = 64 * page_size;
	int to_child[2], to_parent[2];
	long scans0, scans, merged = 0;
	unsigned long long deadline;
	char path[64];
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	read_fault(p, len);
	ASSERT_EQ(0, madvise(p, len, MADV_MERGEABLE));

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	self->child = fork();
	ASSERT_GE(self->child, 0);
	if (!self->child)
		_exit(ksm_control_child(to_child[0], to_parent[1]));
	ASSERT_TRUE(hear(to_parent[0], 20)) TH_LOG("the control child did not start");
	snprintf(path, sizeof(path), "/proc/%d/ksm_merging_pages", self->child);

	scans0 = read_long(KSM_SYSFS "full_scans");
	ASSERT_GE(scans0, 0);
	ASSERT_EQ(0, write_long(KSM_SYSFS "pages_to_scan", 10000));
	ASSERT_EQ(0, write_long(KSM_SYSFS "sleep_millisecs", 10));
	ASSERT_EQ(0, write_long(KSM_SYSFS "run", 1));

	deadline = now_ms() + 120000;
	do {
		usleep(50000);
		scans = read_long(KSM_SYSFS "full_scans");
		merged = read_long(path);
	} while ((scans < scans0 + 2 || merged < KSM_CONTROL_PAGES) &&
		 now_ms() < deadline);
	TH_LOG("%ld full scans, %ld of %d control pages merged",
	       scans - scans0, merged, KSM_CONTROL_PAGES);
	ASSERT_GE(scans, scans0 + 2) TH_LOG("ksmd made no two full scans in 120 s");
	ASSERT_GE(merged, 2) TH_LOG("ksmd merged none of the control pages");

	ASSERT_EQ(0, read_long("/proc/self/ksm_merging_pages"));
	ASSERT_TRUE(is_pat8(p, len));
	ASSERT_EQ(0, rss_kb(p));

	ASSERT_TRUE(tell(to_child[1]));
	ASSERT_EQ(0, exit_code(reap(self->child, 10)));
	self->child = 0;
	munmap(p, len);
}

/* The value of @key ("ksm_zero_pages") in /proc/self/ksm_stat, or -1. */
static long proc_ksm_stat(const char *key)
{
	size_t klen = strlen(key), cap = 0;
	char *line = NULL;
	long val = -1;
	FILE *f = fopen("/proc/self/ksm_stat", "r");

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			val = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	free(line);
	fclose(f);
	return val;
}

#define KSM_ZERO_PAGES 64

/*
 * With use_zero_pages, ksmd replaces zero-filled private copies of a
 * refpage mapping with the shared zero page, not with the reference page:
 * they read zero with Rss 0 kB, and ksm_stat counts them.  A write to one
 * copies zeros (the page's content), not the pattern; MADV_DONTNEED gives
 * the range back to the pattern, and the KSM zero-page count follows every
 * step.  The zero page in a refpage VMA is as much a fill page as the
 * reference page, so none of this may report a bad page map.
 */
TEST_F_TIMEOUT(ksm, zero_pages, 180)
{
	const size_t len = KSM_ZERO_PAGES * page_size, half = len / 2;
	unsigned long long deadline;
	long zero = 0;
	char *p;

	if (proc_ksm_stat("ksm_zero_pages") < 0)
		SKIP(return, "/proc/self/ksm_stat has no ksm_zero_pages");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0, len);
	ASSERT_EQ((long)(len / 1024), rss_kb(p));
	ASSERT_EQ(0, write_long(KSM_SYSFS "use_zero_pages", 1));
	ASSERT_EQ(0, madvise(p, len, MADV_MERGEABLE));

	ASSERT_EQ(0, write_long(KSM_SYSFS "pages_to_scan", 10000));
	ASSERT_EQ(0, write_long(KSM_SYSFS "sleep_millisecs", 10));
	ASSERT_EQ(0, write_long(KSM_SYSFS "run", 1));
	deadline = now_ms() + 120000;
	do {
		usleep(50000);
		zero = proc_ksm_stat("ksm_zero_pages");
	} while (zero < KSM_ZERO_PAGES && now_ms() < deadline);
	/* Stop ksmd (run=0 keeps what it merged), so nothing changes below. */
	ASSERT_EQ(0, write_long(KSM_SYSFS "run", 0));
	ASSERT_EQ(KSM_ZERO_PAGES, zero)
		TH_LOG("ksmd merged %ld of %d zero-filled copies in 120 s",
		       zero, KSM_ZERO_PAGES);
	ASSERT_EQ(0, rss_kb(p));
	ASSERT_TRUE(is_filled(p, len, 0));

	/* A write to a merged page copies the zero page. */
	p[100] = 1;
	ASSERT_EQ(1, p[100]);
	ASSERT_TRUE(is_filled(p, 100, 0));
	ASSERT_TRUE(is_filled(p + 101, page_size - 101, 0));
	ASSERT_EQ(KSM_ZERO_PAGES - 1, proc_ksm_stat("ksm_zero_pages"));
	ASSERT_EQ((long)(page_size / 1024), rss_kb(p));

	/* The discarded half reads the pattern again, the rest zero. */
	ASSERT_EQ(0, madvise(p + half, half, MADV_DONTNEED));
	ASSERT_EQ(KSM_ZERO_PAGES / 2 - 1, proc_ksm_stat("ksm_zero_pages"));
	ASSERT_TRUE(is_pat8(p + half, half));
	ASSERT_TRUE(is_filled(p + page_size, half - page_size, 0));
	ASSERT_EQ((long)(page_size / 1024), rss_kb(p));

	munmap(p, len);
	ASSERT_EQ(0, proc_ksm_stat("ksm_zero_pages"));
}

/*
 * Races: threads fault a refpage mapping while something else changes it.
 * Each test is bounded by a number of rounds, not by time, and checks the
 * data after every round; a console splat (the debug kernel runs these
 * too) fails the run on its own.  The state the threads share is static,
 * not on the test's stack: a failed ASSERT leaves the test function while
 * they still run.
 */
#define RACE_THREADS	4
#define RACE_PAGES	64
#define RACE_ROUNDS	32

static struct race {
	char *p;		/* RACE_PAGES pages the threads work on */
	int round;		/* the tag of this round is 0x10 + round */
	int done_round;		/* rounds before this one are discarded */
	int stop;
	long bad;		/* wrong reads seen by the threads */
	int pass_done[RACE_THREADS];	/* done_round at a reader's last pass */
	pthread_barrier_t go, done;
	pthread_t thread[RACE_THREADS];
	int id[RACE_THREADS];
} race;

static unsigned char race_tag(int round)
{
	return 0x10 + round;
}

/* Is @b the pattern's byte at a thread's offset, or a tag up to @round? */
static bool race_tag_ok(unsigned char b, int round)
{
	return b == pat8[0] || (b >= race_tag(0) && b <= race_tag(round));
}

/* The word that round @round writes; never the pattern's word. */
static uint64_t race_word(int round)
{
	uint64_t w;

	memcpy(&w, pat8, sizeof(w));
	return ~w ^ (uint64_t)round;
}

/* A thread's own byte in every page: 64 bytes apart, pat8[0]'s place. */
static size_t race_off(int id)
{
	return 64 * (size_t)id;
}

/*
 * Is page @pg the pattern except at the @n offsets in @off?  The bytes
 * found there go to @got, for the caller to judge.  Each thread compares
 * its own copy of the page, aligned as is_pat8() needs.
 */
static bool race_page_ok(const char *pg, const size_t *off,
			 unsigned char *got, int n)
{
	static __thread uint64_t words[(1 << 16) / sizeof(uint64_t)];
	unsigned char *copy = (unsigned char *)words;

	if (page_size > sizeof(words))
		return false;
	memcpy(copy, pg, page_size);
	for (int i = 0; i < n; i++) {
		got[i] = copy[off[i]];
		copy[off[i]] = pat8[off[i] % sizeof(pat8)];
	}
	return is_pat8(copy, page_size);
}

static int race_start(char *p, void *(*fn)(void *), bool rounds)
{
	memset(&race, 0, sizeof(race));
	race.p = p;
	if (rounds && (pthread_barrier_init(&race.go, NULL, RACE_THREADS + 1) ||
		       pthread_barrier_init(&race.done, NULL, RACE_THREADS + 1)))
		return -1;
	for (int i = 0; i < RACE_THREADS; i++) {
		race.id[i] = i;
		if (pthread_create(&race.thread[i], NULL, fn, &race.id[i]))
			return -1;
	}
	return 0;
}

/* Stop the threads; @rounds: they wait at the go barrier for a round. */
static void race_join(bool rounds)
{
	__atomic_store_n(&race.stop, 1, __ATOMIC_RELEASE);
	if (rounds)
		pthread_barrier_wait(&race.go);
	for (int i = 0; i < RACE_THREADS; i++)
		pthread_join(race.thread[i], NULL);
}

static bool race_stopped(void)
{
	return __atomic_load_n(&race.stop, __ATOMIC_ACQUIRE);
}

static void race_bad(void)
{
	__atomic_add_fetch(&race.bad, 1, __ATOMIC_RELAXED);
}

/* Round after round, every thread writes its byte into every page. */
static void *first_writer(void *arg)
{
	int id = *(int *)arg;

	for (;;) {
		pthread_barrier_wait(&race.go);
		if (race_stopped())
			return NULL;
		for (int i = 0; i < RACE_PAGES; i++)
			race.p[i * page_size + race_off(id)] =
				race_tag(race.round);
		pthread_barrier_wait(&race.done);
	}
}

/*
 * RACE_THREADS threads make the first write to the same pages at the same
 * time, each to its own byte: every page ends up with one private copy
 * that holds all their bytes and the pattern around them, so no copy was
 * published unfilled and no write went to a copy that lost the race.
 * MADV_DONTNEED makes holes of the pages again for the next round.
 */
TEST_F_TIMEOUT(refpage, race_first_writes, 120)
{
	const size_t len = RACE_PAGES * page_size;
	size_t off[RACE_THREADS];
	unsigned char got[RACE_THREADS];
	int round, bad = -1;
	long rss = 0;
	char *p;

	for (int t = 0; t < RACE_THREADS; t++)
		off[t] = race_off(t);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, race_start(p, first_writer, true));
	for (round = 0; round < RACE_ROUNDS && bad < 0; round++) {
		race.round = round;
		pthread_barrier_wait(&race.go);
		pthread_barrier_wait(&race.done);
		for (int i = 0; i < RACE_PAGES && bad < 0; i++) {
			bool ok = race_page_ok(race.p + i * page_size, off,
					       got, RACE_THREADS);

			for (int t = 0; t < RACE_THREADS; t++)
				ok = ok && got[t] == race_tag(round);
			if (!ok)
				bad = i;
		}
		rss = rss_kb(race.p);
		if (bad < 0 && rss != (long)(len / 1024))
			break;
		if (madvise(race.p, len, MADV_DONTNEED))
			break;
	}
	race_join(true);
	ASSERT_EQ(-1, bad) TH_LOG("round %d: page %d lost a write or its pattern",
				  round - 1, bad);
	ASSERT_EQ(RACE_ROUNDS, round)
		TH_LOG("round %d: Rss %ld kB, not %zu, or MADV_DONTNEED failed",
		       round, rss, len / 1024);
	ASSERT_TRUE(is_pat8(race.p, len));
	ASSERT_EQ(0, rss_kb(race.p));
	munmap(race.p, len);
}

/*
 * Reads every page's first two words until stopped.  The first is the
 * pattern or the word of a round not yet discarded: once the main thread
 * has published that a round was discarded, no reader may see its word
 * (a stale TLB entry, or a freed copy, would still show it).  The second
 * word is never written, so it is always the pattern: anything else there
 * is a copy mapped before it was filled.
 */
static void *pattern_reader(void *arg)
{
	int id = *(int *)arg;
	const uint64_t pat = ~race_word(0);

	while (!race_stopped()) {
		int start = __atomic_load_n(&race.done_round, __ATOMIC_ACQUIRE);

		for (int i = 0; i < RACE_PAGES; i++) {
			const uint64_t *w = (const uint64_t *)
				(race.p + ((i + id * 7) % RACE_PAGES) * page_size);
			int done = __atomic_load_n(&race.done_round,
						   __ATOMIC_ACQUIRE);
			uint64_t w0 = __atomic_load_n(&w[0], __ATOMIC_RELAXED);
			uint64_t w1 = __atomic_load_n(&w[1], __ATOMIC_RELAXED);
			uint64_t k = w0 ^ ~pat;

			if (w1 != pat ||
			    (w0 != pat && (k < (uint64_t)done || k >= RACE_ROUNDS)))
				race_bad();
		}
		__atomic_store_n(&race.pass_done[id], start, __ATOMIC_RELEASE);
	}
	return NULL;
}

/*
 * Waits until every reader has made a whole pass over the pages that
 * began after round @done was published, so that each reads every page
 * at least once while the discarded copies are freed and not yet reused.
 * Returns the first reader that did not within 30 s, or -1.
 */
static int race_readers_pass(int done)
{
	const unsigned long long deadline = now_ms() + 30000;

	for (int i = 0; i < RACE_THREADS; i++) {
		while (__atomic_load_n(&race.pass_done[i], __ATOMIC_ACQUIRE) < done) {
			if (now_ms() > deadline)
				return i;
			usleep(1000);
		}
	}
	return -1;
}

/*
 * Readers race the main thread, which writes a new word into every page
 * each round and then discards the pages (MADV_DONTNEED), or maps the
 * descriptor again over the range (mmap(MAP_FIXED), which unmaps the old
 * VMA with its copies and reference-page PTEs under the readers).  After
 * each discard returns, it publishes the round as done and waits for
 * every reader to read every page again before the next round's writes
 * can reuse the freed copies.  A reader sees the pattern or the word of a
 * round not yet done, never anything else, and never faults.
 */
TEST_F_TIMEOUT(refpage, race_reads_discard_unmap, 120)
{
	const size_t len = RACE_PAGES * page_size;
	int round, err = 0, saved_errno = 0, stalled = -1;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, race_start(p, pattern_reader, false));
	for (round = 0; round < RACE_ROUNDS && !err && stalled < 0; round++) {
		for (int i = 0; i < RACE_PAGES; i++)
			__atomic_store_n((uint64_t *)(race.p + i * page_size),
					 race_word(round), __ATOMIC_RELAXED);
		if (round % 2)
			err = madvise(race.p, len, MADV_DONTNEED);
		else if (mmap(race.p, len, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_FIXED, self->fd, 0) != race.p)
			err = -1;
		if (err)
			saved_errno = errno;
		__atomic_store_n(&race.done_round, round + 1, __ATOMIC_RELEASE);
		if (!err)
			stalled = race_readers_pass(round + 1);
	}
	if (stalled >= 0)
		TH_LOG("round %d: reader %d made no whole pass in 30 s",
		       round - 1, stalled);
	race_join(false);
	ASSERT_EQ(-1, stalled);
	ASSERT_EQ(0, err) TH_LOG("round %d: the discard failed: %s", round - 1,
				 strerror(saved_errno));
	ASSERT_EQ(0, race.bad)
		TH_LOG("%ld reads gave a discarded round's word or no pattern",
		       race.bad);
	ASSERT_TRUE(is_pat8(race.p, len));
	munmap(race.p, len);
}

/*
 * Round after round, each thread checks and then writes its byte in its
 * own pages (i % RACE_THREADS == id), so that fork meets holes,
 * reference-page PTEs, copies being made, and written copies.
 */
static void *own_page_writer(void *arg)
{
	int id = *(int *)arg;
	const size_t off = race_off(id);

	for (;;) {
		pthread_barrier_wait(&race.go);
		if (race_stopped())
			return NULL;
		for (int i = id; i < RACE_PAGES; i += RACE_THREADS) {
			char *pg = race.p + i * page_size;
			unsigned char b;

			if (!race_page_ok(pg, &off, &b, 1) ||
			    !race_tag_ok(b, race.round))
				race_bad();
			pg[off] = race_tag(race.round);
		}
		pthread_barrier_wait(&race.done);
	}
}

/*
 * The child of race_fork_faults: every page is the pattern but for its
 * owner's byte, which is the pattern's or a tag up to @round's.  Then it
 * writes byte 1 of every page (its own copies) and checks each page
 * again: the copy of a hole, of the reference page or of a page shared
 * with the parent must hold the same pattern and bytes.
 */
static int fork_race_child(char *p, int round)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < RACE_PAGES; i++) {
			char *pg = p + i * page_size;
			size_t off[2] = { race_off(i % RACE_THREADS), 1 };
			unsigned char got[2];

			if (!race_page_ok(pg, off, got, pass + 1) ||
			    !race_tag_ok(got[0], round))
				return 1 + pass;
			if (pass && got[1] != 0x77)
				return 3;
			if (!pass)
				pg[1] = 0x77;
		}
	}
	return 0;
}

/*
 * fork() races faults: while the threads fault their pages (read, then
 * write), the main thread forks.  Each child sees a consistent page of
 * every kind and COWs all of them; the parent's pages keep the threads'
 * bytes and never see the child's.
 */
TEST_F_TIMEOUT(refpage, race_fork_faults, 120)
{
	const size_t len = RACE_PAGES * page_size;
	int round, failed = 0;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, race_start(p, own_page_writer, true));
	for (round = 0; round < RACE_ROUNDS && !failed; round++) {
		pid_t pid;

		race.round = round;
		pthread_barrier_wait(&race.go);
		pid = fork();
		if (!pid)
			_exit(fork_race_child(race.p, round));
		pthread_barrier_wait(&race.done);
		failed = pid < 0 ? -1 : exit_code(reap(pid, 30));
		for (int i = 0; i < RACE_PAGES && !failed; i++) {
			size_t off = race_off(i % RACE_THREADS);
			unsigned char b;

			if (!race_page_ok(race.p + i * page_size, &off, &b, 1) ||
			    b != race_tag(round))
				failed = 10;
		}
		if (!failed && round % 4 == 3 && madvise(race.p, len, MADV_DONTNEED))
			failed = 11;
	}
	race_join(true);
	ASSERT_EQ(0, failed)
		TH_LOG("round %d: %s (%d)", round - 1,
		       failed == 10 ? "the parent's pages are wrong" :
		       failed == 11 ? "MADV_DONTNEED failed" :
		       failed == -1 ? "fork failed, or the child did not exit" :
		       "the child failed: 1 or 2 a page, 3 its write, or a signal",
		       failed);
	ASSERT_EQ(0, race.bad) TH_LOG("%ld pages wrong before a thread's write",
				      race.bad);
	munmap(race.p, len);
}

/*
 * Until stopped, each thread writes its byte into its own pages of the
 * first half, checks the page, discards it and checks that it reads the
 * pattern again.
 */
static void *discarding_writer(void *arg)
{
	int id = *(int *)arg;
	const size_t off = race_off(id);
	const unsigned char tag = race_tag(id);

	while (!race_stopped()) {
		for (int i = id; i < RACE_PAGES; i += RACE_THREADS) {
			char *pg = race.p + i * page_size;
			unsigned char b;

			pg[off] = tag;
			if (!race_page_ok(pg, &off, &b, 1) || b != tag)
				race_bad();
			if (madvise(pg, page_size, MADV_DONTNEED) ||
			    !is_pat8(pg, page_size))
				race_bad();
		}
	}
	return NULL;
}

/*
 * mremap() races faults in the same VMA: the threads fault and discard
 * pages of the first half while the main thread moves the second half
 * away and back, which splits the VMA and merges it again each time.
 * The second half arrives intact every time: its written copies with
 * their data, and its reference-page PTEs still present (a lost one
 * would read the pattern too, so pagemap must show it); and the threads
 * see no wrong page.
 */
TEST_F_TIMEOUT(refpage, race_mremap_faults, 120)
{
	const size_t len = RACE_PAGES * page_size;
	int round, pagemap, wrong = -1;
	char *p, *b, *away;

	pagemap = open("/proc/self/pagemap", O_RDONLY);
	ASSERT_GE(pagemap, 0);
	p = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	b = p + len;
	/* Even pages of the second half are copies, odd ones read-faulted. */
	for (int i = 0; i < RACE_PAGES; i++) {
		if (i % 2)
			read_fault(b + i * page_size, page_size);
		else
			b[i * page_size] = 0x33;
	}
	ASSERT_EQ(0, race_start(p, discarding_writer, false));
	for (round = 0; round < RACE_ROUNDS && wrong < 0; round++) {
		/* A fresh reservation: the last one went with the move. */
		away = reserve(len);
		if (away == MAP_FAILED ||
		    mremap(b, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   away) != away ||
		    mremap(away, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   b) != b) {
			wrong = RACE_PAGES;
			break;
		}
		if (vma_count(race.p, 2 * len, NULL, NULL) != 1)
			wrong = RACE_PAGES + 1;
		for (int i = 0; i < RACE_PAGES && wrong < 0; i++) {
			char *pg = b + i * page_size;
			bool ok = pagemap_is_populated(pagemap, pg);

			if (i % 2)
				ok = ok && is_pat8(pg, page_size);
			else
				ok = ok && pg[0] == 0x33 &&
				     is_pat8(pg + 1, page_size - 1);
			if (!ok)
				wrong = i;
		}
	}
	race_join(false);
	ASSERT_EQ(-1, wrong)
		TH_LOG("round %d: %s %d", round - 1,
		       wrong == RACE_PAGES ? "mremap failed" :
		       wrong == RACE_PAGES + 1 ? "the VMA did not merge again" :
		       "this page of the moved half is wrong or not present:",
		       wrong);
	ASSERT_EQ(0, race.bad) TH_LOG("%ld wrong checks by the threads",
				      race.bad);
	close(pagemap);
	munmap(race.p, 2 * len);
}

/* THP enabled=always for every size, with the huge zero page. */
FIXTURE(thp)
{
	int fd;		/* a refpage of pat8 */
	size_t pmd_size;
	bool saved;
};

FIXTURE_SETUP(thp)
{
	unsigned long orders;
	struct thp_settings s;

	self->fd = -1;
	if (!refpage_supported())
		SKIP(return, "%s", refpage_skip_reason);
	self->fd = sys_refpage_create(pat8, sizeof(pat8), 0);
	ASSERT_GE(self->fd, 0);
	if (access(THP_SYSFS "enabled", W_OK))
		SKIP(return, "THP is not available");
	self->pmd_size = read_pmd_pagesize();
	if (!self->pmd_size)
		SKIP(return, "cannot read the PMD size of THP");
	thp_save_settings();
	self->saved = true;
	thp_read_settings(&s);
	s.thp_enabled = THP_ALWAYS;
	s.use_zero_page = true;
	orders = thp_supported_orders();
	for (int i = 0; i < NR_ORDERS; i++)
		if (orders & (1UL << i))
			s.hugepages[i].enabled = THP_INHERIT;
	thp_push_settings(&s);
}

FIXTURE_TEARDOWN(thp)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->saved)
		thp_restore_settings();
}

/*
 * THP never applies: with enabled=always, a 4 MiB writable mapping at a
 * PMD-aligned address takes MADV_HUGEPAGE, reads the pattern in every
 * 4 KiB page (a huge zero page would read zero) with no RSS, and after a
 * one-byte write has AnonHugePages 0 kB and Rss 4 kB.  MADV_COLLAPSE
 * fails with EINVAL, while it works on anonymous memory.
 */
TEST_F_TIMEOUT(thp, never_huge, 120)
{
	const size_t pmd = self->pmd_size, len = 2 * pmd;
	const size_t off = pmd + 5 * page_size + 77;
	char *raw, *p, *q, *anon_raw, *anon;
	int ret;

	raw = reserve(len + pmd);
	ASSERT_NE(MAP_FAILED, raw);
	p = (char *)(((uintptr_t)raw + pmd - 1) & ~(pmd - 1));
	q = mmap(p, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
		 self->fd, 0);
	ASSERT_EQ(p, q);
	ASSERT_EQ(0, madvise(p, len, MADV_HUGEPAGE));

	ASSERT_TRUE(is_pat8(p, len));
	ASSERT_TRUE(check_huge_anon(p, 0, pmd));
	ASSERT_EQ(0, rss_kb(p));

	p[off] = 0x11;
	ASSERT_TRUE(check_huge_anon(p, 0, pmd));
	ASSERT_EQ(page_size / 1024, rss_kb(p));
	ASSERT_TRUE(is_pat8_but(p + off - off % page_size, off % page_size, 0x11));

	/* The control: MADV_COLLAPSE exists and works on anonymous memory. */
	anon_raw = mmap(NULL, 2 * pmd, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon_raw);
	anon = (char *)(((uintptr_t)anon_raw + pmd - 1) & ~(pmd - 1));
	memset(anon, 0x22, pmd);
	errno = 0;
	ret = madvise(anon, pmd, MADV_COLLAPSE);
	if (ret && errno == EINVAL)
		SKIP(return, "MADV_COLLAPSE is not supported");
	munmap(anon_raw, 2 * pmd);

	errno = 0;
	ASSERT_EQ(-1, madvise(p, len, MADV_COLLAPSE));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_TRUE(check_huge_anon(p, 0, pmd));
	ASSERT_EQ(page_size / 1024, rss_kb(p));
	munmap(raw, len + pmd);
}

/* core_pattern, pointed at /tmp for the test and restored at teardown. */
FIXTURE(coredump)
{
	int fd;		/* a refpage of pat8 */
	char old_pattern[256];
	bool saved;
};

FIXTURE_SETUP(coredump)
{
	self->fd = -1;
	if (!refpage_supported())
		SKIP(return, "%s", refpage_skip_reason);
	self->fd = sys_refpage_create(pat8, sizeof(pat8), 0);
	ASSERT_GE(self->fd, 0);
	if (read_str("/proc/sys/kernel/core_pattern", self->old_pattern,
		     sizeof(self->old_pattern)))
		SKIP(return, "cannot read core_pattern");
	if (write_str("/proc/sys/kernel/core_pattern", "/tmp/refpage-core.%p"))
		SKIP(return, "cannot set core_pattern");
	self->saved = true;
}

FIXTURE_TEARDOWN(coredump)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->saved)
		write_str("/proc/sys/kernel/core_pattern", self->old_pattern);
}

/* The PT_LOAD of the ELF core at @core that starts at @vaddr, or NULL. */
static const struct elf64_phdr *core_load(const char *core, size_t size,
					  unsigned long vaddr)
{
	const struct elf64_hdr *eh = (const void *)core;
	const struct elf64_phdr *ph;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_type != ET_CORE)
		return NULL;
	if (eh->e_phoff + (size_t)eh->e_phnum * sizeof(*ph) > size)
		return NULL;
	ph = (const void *)(core + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr == vaddr)
			return &ph[i];
	return NULL;
}

/*
 * The core file that core_pattern gave child @pid, mapped read-only and
 * unlinked, with its size in @size; NULL if there is none.
 */
static char *map_core(pid_t pid, size_t *size)
{
	char path[64], *core;
	struct stat st;
	int cfd;

	snprintf(path, sizeof(path), "/tmp/refpage-core.%d", pid);
	cfd = open(path, O_RDONLY);
	if (cfd < 0)
		return NULL;
	unlink(path);
	core = fstat(cfd, &st) ? MAP_FAILED :
	       mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, cfd, 0);
	close(cfd);
	if (core == MAP_FAILED)
		return NULL;
	*size = st.st_size;
	return core;
}

/*
 * The child of coredump.written_vma_whole: VMA A (writable, page 0 holds
 * a marker) and VMA B (read-only, read but never written), both 4 pages
 * of the refpage, then abort() with the default coredump_filter.
 */
static int core_child(int fd, int wr, unsigned long long seed)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	const size_t len = 4 * page_size;
	char *vma[2];

	vma[0] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	vma[1] = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (vma[0] == MAP_FAILED || vma[1] == MAP_FAILED)
		return 1;
	fill_marker(vma[0], page_size, seed);
	read_fault(vma[1], len);
	if (write_str("/proc/self/coredump_filter", "0x33"))
		return 2;
	if (setrlimit(RLIMIT_CORE, &rl))
		return 3;
	prctl(PR_SET_DUMPABLE, 1);
	if (write(wr, vma, sizeof(vma)) != sizeof(vma))
		return 4;
	abort();
}

/*
 * In a core dump (coredump_filter 0x33), a refpage VMA with a written page
 * is dumped whole: its PT_LOAD has p_filesz of 4 pages, page 0 holds the
 * data written, pages 1-3 the pattern.  A refpage VMA that was only read
 * is left out: p_filesz 0, like an untouched anonymous mapping.
 */
TEST_F_TIMEOUT(coredump, written_vma_whole, 60)
{
	unsigned long long seed = ((unsigned long long)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;
	const size_t len = 4 * page_size;
	const struct elf64_phdr *a, *b;
	char *vma[2], *core, *copy;
	int pfd[2], status;
	size_t size;
	pid_t pid;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(core_child(self->fd, pfd[1], seed));
	ASSERT_TRUE(read_full(pfd[0], vma, sizeof(vma), 20))
		TH_LOG("the child did not map its VMAs");
	status = reap(pid, 20);
	ASSERT_EQ(KILLED_BY(SIGABRT), exit_code(status));
	ASSERT_TRUE(WCOREDUMP(status)) TH_LOG("no core dump");

	core = map_core(pid, &size);
	ASSERT_NE(NULL, core) TH_LOG("no core file of %d in /tmp", pid);

	a = core_load(core, size, (unsigned long)vma[0]);
	ASSERT_NE(NULL, a) TH_LOG("no PT_LOAD for the written VMA");
	ASSERT_EQ(len, a->p_memsz);
	ASSERT_EQ(len, a->p_filesz);
	ASSERT_LE(a->p_offset + a->p_filesz, (unsigned long long)size);
	/* A page-aligned copy, for is_pattern(). */
	copy = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, copy);
	memcpy(copy, core + a->p_offset, len);
	ASSERT_TRUE(is_marker(copy, page_size, seed));
	ASSERT_TRUE(is_pat8(copy + page_size, 3 * page_size));

	b = core_load(core, size, (unsigned long)vma[1]);
	ASSERT_NE(NULL, b) TH_LOG("no PT_LOAD for the read-only VMA");
	ASSERT_EQ(len, b->p_memsz);
	ASSERT_EQ(0, b->p_filesz);
	munmap(copy, len);
	munmap(core, size);
}

/*
 * The child of coredump.sparse_no_faults: one writable refpage VMA of
 * @len with a single written page, in its memory cgroup; it aborts when
 * told to.
 */
static int sparse_core_child(int fd, int rd, int wr, size_t len)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	p[0] = 0x5a;
	if (write_str("/proc/self/coredump_filter", "0x33"))
		return 2;
	if (setrlimit(RLIMIT_CORE, &rl))
		return 3;
	prctl(PR_SET_DUMPABLE, 1);
	if (write(wr, &p, sizeof(p)) != sizeof(p) || !hear(rd, 30))
		return 4;
	abort();
}

/*
 * Dumping a large, sparsely written refpage VMA faults nothing in: the
 * unwritten pages go to the core as the pattern straight from the
 * reference page, with no page tables allocated for them.  A fault taken
 * for each of them (as before) counts in the cgroup's pgfault, 16383 of
 * them for 64 MiB; the dump itself may take a handful.  The core holds
 * the whole VMA: the written byte and the pattern everywhere else.
 */
TEST_F_TIMEOUT(coredump, sparse_no_faults, 120)
{
	const size_t len = 64UL << 20;
	int to_child[2], to_parent[2], status;
	const struct elf64_phdr *a;
	char name[32], *p, *core;
	long base, faults;
	struct memcg cg;
	size_t size;
	pid_t pid;

	snprintf(name, sizeof(name), "refpage.%d", saved_knobs.pid);
	if (memcg_create(&cg, name))
		SKIP(return, "cgroup v2 memory controller is not available");
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(sparse_core_child(self->fd, to_child[0], to_parent[1], len));
	ASSERT_EQ(0, memcg_enter(&cg, pid));
	ASSERT_TRUE(read_full(to_parent[0], &p, sizeof(p), 20))
		TH_LOG("the child did not map its VMA");
	base = memcg_read(&cg, "memory.stat", "pgfault");
	ASSERT_GE(base, 0);
	ASSERT_TRUE(tell(to_child[1]));
	status = reap(pid, 60);
	ASSERT_EQ(KILLED_BY(SIGABRT), exit_code(status));
	ASSERT_TRUE(WCOREDUMP(status)) TH_LOG("no core dump");
	faults = memcg_read(&cg, "memory.stat", "pgfault") - base;
	TH_LOG("faults while dumping %zu MiB: %ld", len >> 20, faults);
	memcg_destroy(&cg);
	ASSERT_LT(faults, 256);

	core = map_core(pid, &size);
	ASSERT_NE(NULL, core) TH_LOG("no core file of %d in /tmp", pid);
	a = core_load(core, size, (unsigned long)p);
	ASSERT_NE(NULL, a) TH_LOG("no PT_LOAD for the VMA");
	ASSERT_EQ(len, a->p_filesz);
	ASSERT_LE(a->p_offset + a->p_filesz, (unsigned long long)size);
	/* Offsets of PT_LOAD data in a core are page-aligned. */
	ASSERT_TRUE(is_pat8_but(core + a->p_offset, 0, 0x5a));
	ASSERT_TRUE(is_pat8(core + a->p_offset + page_size, len - page_size));
	munmap(core, size);
}

/*
 * RSS counts only the private copies: in a 1024-page writable mapping
 * where every page is read and 100 are written, the VMA's Rss and
 * Anonymous are exactly 100 pages; /proc/self/status RssAnon grows by 100
 * pages, and RssFile and RssShmem do not grow.  The status counters are
 * per-cpu and read without folding in the per-cpu deltas, so they are
 * compared within twice the percpu_counter batch (the test runs on CPU 0
 * only).
 */
TEST_F(refpage, rss_counts_copies)
{
	const size_t npages = 1024, nwritten = 100;
	const long kb = page_size / 1024;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	long anon0, file0, shmem0, anon, file, shmem, slack;
	char *p;

	pin_cpu0();
	/* percpu_counter_batch is max(32, 2 * CPUs). */
	slack = 2 * (ncpus * 2 > 32 ? ncpus * 2 : 32) * kb;
	p = mmap(NULL, npages * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);

	anon0 = rss_anon();
	file0 = status_kb("RssFile");
	shmem0 = status_kb("RssShmem");
	read_fault(p, npages * page_size);
	for (size_t i = 0; i < nwritten; i++)
		p[(i * 10 + 3) * page_size + i] = 0x11;
	anon = rss_anon();
	file = status_kb("RssFile");
	shmem = status_kb("RssShmem");

	ASSERT_EQ(nwritten * kb, rss_kb(p));
	ASSERT_EQ(nwritten * kb, smaps_vma_kb(p, "Anonymous:"));
	TH_LOG("RssAnon +%ld kB, RssFile %+ld kB, RssShmem %+ld kB (slack %ld kB)",
	       anon - anon0, file - file0, shmem - shmem0, slack);
	ASSERT_LE(labs(anon - anon0 - (long)nwritten * kb), slack);
	ASSERT_LE(labs(file - file0), slack);
	ASSERT_LE(labs(shmem - shmem0), slack);
	munmap(p, npages * page_size);
}

/* Map 2 read-only pages of @fd at @addr from @off. */
static bool map_two_at(char *addr, int fd, off_t off)
{
	return mmap(addr, 2 * page_size, PROT_READ, MAP_PRIVATE | MAP_FIXED,
		    fd, off) == addr;
}

static bool anon_two_at(char *addr)
{
	return mmap(addr, 2 * page_size, PROT_READ,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == addr;
}

/* Put the PROT_NONE reservation back over the 4 pages at @addr. */
static bool unmap_four_at(char *addr)
{
	return mmap(addr, 4 * page_size, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		    -1, 0) == addr;
}

/*
 * Two adjacent mappings merge into one VMA only when they are of the same
 * fd at contiguous offsets:
 *
 *   | fd, off 0 | fd, off 2 pages  |  one VMA
 *   | fd, off 0 | fd, off 8 pages  |  two
 *   | fd, off 0 | fd2, off 2 pages |  two, although fd2 has the same pattern
 *   | anon      | fd, pgoff next   |  two, either way round
 */
TEST_F(refpage, vma_merge)
{
	const size_t two = 2 * page_size, four = 4 * page_size;
	unsigned long start, end;
	char *res, *base;
	int fd2;

	fd2 = sys_refpage_create(pat8, sizeof(pat8), 0);
	ASSERT_GE(fd2, 0);
	res = reserve(8 * page_size);
	ASSERT_NE(MAP_FAILED, res);
	base = res + 2 * page_size;

	ASSERT_TRUE(map_two_at(base, self->fd, 0));
	ASSERT_TRUE(map_two_at(base + two, self->fd, two));
	ASSERT_EQ(1, vma_count(base, four, &start, &end));
	ASSERT_EQ((unsigned long)base, start);
	ASSERT_EQ((unsigned long)base + four, end);
	ASSERT_TRUE(is_pat8(base, four));
	ASSERT_TRUE(unmap_four_at(base));

	ASSERT_TRUE(map_two_at(base, self->fd, 0));
	ASSERT_TRUE(map_two_at(base + two, self->fd, 8 * page_size));
	ASSERT_EQ(2, vma_count(base, four, NULL, NULL));
	ASSERT_TRUE(unmap_four_at(base));

	ASSERT_TRUE(map_two_at(base, self->fd, 0));
	ASSERT_TRUE(map_two_at(base + two, fd2, two));
	ASSERT_EQ(2, vma_count(base, four, NULL, NULL));
	ASSERT_TRUE(unmap_four_at(base));

	/* An anonymous VMA's pgoff is its address in pages. */
	ASSERT_TRUE(anon_two_at(base));
	ASSERT_TRUE(map_two_at(base + two, self->fd, (off_t)(uintptr_t)(base + two)));
	ASSERT_EQ(2, vma_count(base, four, NULL, NULL));
	ASSERT_TRUE(unmap_four_at(base));

	ASSERT_TRUE(map_two_at(base, self->fd, (off_t)(uintptr_t)base));
	ASSERT_TRUE(anon_two_at(base + two));
	ASSERT_EQ(2, vma_count(base, four, NULL, NULL));

	munmap(res, 8 * page_size);
	close(fd2);
}

/*
 * MAP_DROPPABLE (a map type of its own: not with MAP_PRIVATE) works with
 * the refpage fd only: with a memfd, /dev/zero or a regular file it fails
 * with EINVAL, and with MAP_LOCKED it fails with EINVAL too.
 */
TEST_F(refpage, droppable_refused)
{
	const size_t len = 4 * page_size;
	int memfd, zero, exe;
	char *p;

	if (!droppable_supported())
		SKIP(return, "MAP_DROPPABLE is not supported");

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_DROPPABLE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(1, vma_has_flag(p, "dp"));
	ASSERT_TRUE(is_pat8(p, len));
	munmap(p, len);

	memfd = memfd_create("refpage", MFD_CLOEXEC);
	ASSERT_GE(memfd, 0);
	ASSERT_EQ(0, ftruncate(memfd, len));
	errno = 0;
	ASSERT_EQ(MAP_FAILED, mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_DROPPABLE, memfd, 0));
	ASSERT_EQ(EINVAL, errno);
	close(memfd);

	zero = open("/dev/zero", O_RDWR);
	ASSERT_GE(zero, 0);
	errno = 0;
	ASSERT_EQ(MAP_FAILED, mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_DROPPABLE, zero, 0));
	ASSERT_EQ(EINVAL, errno);
	close(zero);

	exe = open("/proc/self/exe", O_RDONLY);
	ASSERT_GE(exe, 0);
	errno = 0;
	ASSERT_EQ(MAP_FAILED, mmap(NULL, page_size, PROT_READ, MAP_DROPPABLE, exe, 0));
	ASSERT_EQ(EINVAL, errno);
	close(exe);

	errno = 0;
	ASSERT_EQ(MAP_FAILED, mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_DROPPABLE | MAP_LOCKED, self->fd, 0));
	ASSERT_EQ(EINVAL, errno);
}

/*
 * Droppable refpage memory is wiped on fork, to the pattern: the parent
 * writes every page, the child reads the pattern everywhere, and the
 * parent keeps its data.
 */
TEST_F(refpage, droppable_fork)
{
	const size_t len = 16 * page_size;
	pid_t pid;
	char *p;

	if (!droppable_supported())
		SKIP(return, "MAP_DROPPABLE is not supported");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_DROPPABLE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_TRUE(is_pat8(p, len));
	memset(p, 0x11, len);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		if (!is_pat8(p, len))
			_exit(1);
		memset(p, 0x22, len);
		_exit(0);
	}
	ASSERT_EQ(0, exit_code(reap(pid, 10)));
	ASSERT_TRUE(is_filled(p, len, 0x11));
	munmap(p, len);
}

#define PRESSURE_SIZE (64 * MB)
#define PRESSURE_LIMIT (8 * MB)
/* The child's own stack and heap pages may go to swap, no more. */
#define PRESSURE_SWAP_SLACK 64

struct pressure_result {
	size_t data, pattern, other, first_other;
};

/*
 * The child of memcg.droppable_pressure: it fills 64 MiB of droppable
 * refpage memory, and after the squeeze counts the pages that read the
 * data, the pattern, or anything else.
 */
static int pressure_child(int fd, int rd, int wr)
{
	const size_t npages = PRESSURE_SIZE / page_size;
	struct pressure_result r = { 0, 0, 0, 0 };
	char *p;

	/* Now in the memory cgroup. */
	if (!hear(rd, 30))
		return 1;
	p = mmap(NULL, PRESSURE_SIZE, PROT_READ | PROT_WRITE, MAP_DROPPABLE, fd, 0);
	if (p == MAP_FAILED)
		return 2;
	memset(p, 0x11, PRESSURE_SIZE);
	if (!step(wr, rd, 120))
		return 3;
	for (size_t i = 0; i < npages; i++) {
		char *pg = p + i * page_size;

		if (is_filled(pg, page_size, 0x11)) {
			r.data++;
		} else if (is_pat8(pg, page_size)) {
			r.pattern++;
		} else {
			if (!r.other++)
				r.first_other = i;
		}
	}
	return write(wr, &r, sizeof(r)) == sizeof(r) ? 0 : 4;
}

/*
 * Run @child_fn(@fd) in a child, *@child, inside memory cgroup @cg: the child
 * maps and touches its memory, memory.max goes down to PRESSURE_LIMIT and
 * reclaim makes the child fit, and then the child reports in @r what its
 * pages read.  Returns how much pswpout grew meanwhile.
 */
static long squeeze_child(struct __test_metadata *_metadata,
			  struct memcg *cg, pid_t *child, int fd,
			  int (*child_fn)(int fd, int rd, int wr),
			  struct pressure_result *r)
{
	unsigned long long deadline;
	int to_child[2], to_parent[2];
	long swpout0, swpout, cur;
	char buf[32];

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	*child = fork();
	ASSERT_GE(*child, 0);
	if (!*child)
		_exit(child_fn(fd, to_child[0], to_parent[1]));
	ASSERT_EQ(0, memcg_enter(cg, *child));
	ASSERT_TRUE(step(to_child[1], to_parent[0], 90))
		TH_LOG("the child did not touch its mapping");

	swpout0 = read_key("/proc/vmstat", "pswpout");
	snprintf(buf, sizeof(buf), "%lu", PRESSURE_LIMIT);
	/* Reclaim runs in this write, until the child fits. */
	ASSERT_EQ(0, memcg_write(cg, "memory.max", buf));
	deadline = now_ms() + 30000;
	while ((cur = memcg_current(cg)) > (long)PRESSURE_LIMIT &&
	       now_ms() < deadline)
		usleep(50000);
	ASSERT_LE(cur, (long)PRESSURE_LIMIT)
		TH_LOG("memory.current %ld still above memory.max after 30 s", cur);
	swpout = read_key("/proc/vmstat", "pswpout");

	ASSERT_TRUE(tell(to_child[1]));
	ASSERT_TRUE(read_full(to_parent[0], r, sizeof(*r), 90))
		TH_LOG("no result from the child: was it OOM-killed?");
	ASSERT_EQ(0, exit_code(reap(*child, 10)));
	*child = 0;
	for (int i = 0; i < 2; i++) {
		close(to_child[i]);
		close(to_parent[i]);
	}
	return swpout - swpout0;
}

/*
 * Droppable refpage memory is dropped under memory cgroup pressure, not
 * swapped, and dropped pages read the pattern: a child fills 64 MiB with
 * 0x11, memory.max goes down to 8 MiB, and then every page reads 0x11 or
 * the pattern (never zero or anything else), at least 3/4 of them the
 * pattern, pswpout grows by at most a few pages, and nothing is
 * OOM-killed.
 */
TEST_F_TIMEOUT(memcg, droppable_pressure, 240)
{
	const size_t npages = PRESSURE_SIZE / page_size;
	struct pressure_result r;
	long swapped;
	int fd;

	if (!droppable_supported())
		SKIP(return, "MAP_DROPPABLE is not supported");
	fd = sys_refpage_create(pat8, sizeof(pat8), 0);
	ASSERT_GE(fd, 0);
	swapped = squeeze_child(_metadata, &self->cg, &self->child, fd,
				pressure_child, &r);

	TH_LOG("%zu pages: %zu data, %zu pattern, %zu other; pswpout +%ld",
	       npages, r.data, r.pattern, r.other, swapped);
	if (!swap_enabled())
		TH_LOG("no swap: that nothing was swapped out proves nothing");
	ASSERT_EQ(0, r.other) TH_LOG("page %zu reads neither data nor pattern",
				     r.first_other);
	ASSERT_GE(r.pattern, npages * 3 / 4);
	ASSERT_LE(swapped, PRESSURE_SWAP_SLACK);
	ASSERT_EQ(0, memcg_read(&self->cg, "memory.events", "oom_kill"));
	close(fd);
}

#define MIXED_SIZE (32 * MB)
#define TAINT_WARN_BIT 0x200L	/* bit 9 of /proc/sys/kernel/tainted */

/*
 * The child of memcg.mixed_reclaim: it writes the even pages of a 32 MiB
 * refpage mapping and reads the odd ones, so that every private copy has
 * reference-page PTEs for neighbours, and after the squeeze counts the
 * pages that read wrong.
 */
static int mixed_child(int fd, int rd, int wr)
{
	const size_t npages = MIXED_SIZE / page_size;
	struct pressure_result r = { 0, 0, 0, 0 };
	char *p;

	/* Now in the memory cgroup. */
	if (!hear(rd, 30))
		return 1;
	p = mmap(NULL, MIXED_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return 2;
	for (size_t i = 0; i < npages; i += 2) {
		memset(p + i * page_size, 0x11, page_size);
		read_fault(p + (i + 1) * page_size, page_size);
	}
	if (!step(wr, rd, 120))
		return 3;
	for (size_t i = 0; i < npages; i++) {
		char *pg = p + i * page_size;
		bool ok = i % 2 ? is_pat8(pg, page_size) :
				  is_filled(pg, page_size, 0x11);

		if (ok)
			r.data++;
		else if (!r.other++)
			r.first_other = i;
	}
	return write(wr, &r, sizeof(r)) == sizeof(r) ? 0 : 4;
}

/*
 * Reclaim handles private copies whose neighbours are reference-page PTEs:
 * a child writes every other page of a 32 MiB refpage mapping and reads the
 * rest, memory.max goes down to 8 MiB so that the copies go to swap, and
 * then every written page reads its data and every read one the pattern.
 * Reclaim's page table walks (MGLRU's aging and look-around) must pass the
 * reference page over as they pass the zero page, without a warning: the
 * kernel must not become tainted by a WARN meanwhile.
 */
TEST_F_TIMEOUT(memcg, mixed_reclaim, 240)
{
	const size_t npages = MIXED_SIZE / page_size;
	struct pressure_result r;
	long taint0, taint, swapped;
	int fd;

	if (!swap_enabled())
		SKIP(return, "needs swap: the written pages do not fit in memory.max");
	taint0 = read_long("/proc/sys/kernel/tainted");
	ASSERT_GE(taint0, 0);
	if (taint0 & TAINT_WARN_BIT)
		TH_LOG("the kernel has warned before: a new warning cannot be seen here");
	TH_LOG("MGLRU: %s", read_long("/sys/kernel/mm/lru_gen/enabled") > 0 ?
	       "enabled" : "disabled or absent");

	fd = sys_refpage_create(pat8, sizeof(pat8), 0);
	ASSERT_GE(fd, 0);
	swapped = squeeze_child(_metadata, &self->cg, &self->child, fd,
				mixed_child, &r);
	taint = read_long("/proc/sys/kernel/tainted");

	TH_LOG("%zu pages: %zu right, %zu wrong; pswpout +%ld",
	       npages, r.data, r.other, swapped);
	ASSERT_EQ(0, r.other) TH_LOG("page %zu reads wrong", r.first_other);
	ASSERT_GT(swapped, 0) TH_LOG("nothing went to swap");
	ASSERT_EQ(0, memcg_read(&self->cg, "memory.events", "oom_kill"));
	ASSERT_EQ(0, (taint & ~taint0) & TAINT_WARN_BIT)
		TH_LOG("the kernel warned during reclaim: see the console");
	close(fd);
}

TEST_HARNESS_MAIN
