// SPDX-License-Identifier: GPL-2.0
/*
 * process_madvise(): vectors on one's own mm, MADV_DONTNEED and MADV_FREE on
 * another process's mm (CONFIG_PROCESS_MADVISE_DISCARD), who may do that,
 * and what a vector does when userfaultfd_remove() drops mmap_lock.
 *
 * Where the kernel's /proc/config.gz says CONFIG_PROCESS_MADVISE_DISCARD is
 * not set, the remote cases expect the refusal of a kernel without it.
 * Every case that cannot run here says why and skips.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_process_madvise
#define __NR_process_madvise 440
#endif
#ifndef __NR_mseal
#define __NR_mseal 462
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef PKEY_DISABLE_WRITE
#define PKEY_DISABLE_WRITE 0x2
#endif

#define NPAGES 16

static size_t psize;
/* 1: remote MADV_DONTNEED/MADV_FREE are there, 0: not, -1: not known. */
static int remote_discard = -1;

/* CONFIG_PROCESS_MADVISE_DISCARD, from /proc/config.gz if there is one. */
static int probe_remote_discard(void)
{
	FILE *f = popen("gzip -dc /proc/config.gz 2>/dev/null", "r");
	char line[256];
	int found = -1;

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			if (found < 0)
				found = 0;
			if (!strcmp(line, "CONFIG_PROCESS_MADVISE_DISCARD=y\n"))
				found = 1;
		}
		pclose(f);
	}
	return found;
}

/* A counter of /proc/vmstat, or -1 if this kernel has none of that name. */
static long vmstat_value(const char *key)
{
	FILE *f = fopen("/proc/vmstat", "r");
	long val = -1, v;
	char name[64];

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

static void __attribute__((constructor)) init(void)
{
	psize = sysconf(_SC_PAGESIZE);
	remote_discard = probe_remote_discard();
}

static int pidfd_open(pid_t pid)
{
	return syscall(__NR_pidfd_open, pid, 0);
}

static ssize_t sys_process_madvise(int pidfd, const struct iovec *iov,
				   size_t vlen, int advice, unsigned int flags)
{
	return syscall(__NR_process_madvise, pidfd, iov, vlen, advice, flags);
}

static bool is_filled(const char *p, size_t len, char c)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != c)
			return false;
	return true;
}

static char *map_filled(size_t npages, char c)
{
	char *p = mmap(NULL, npages * psize, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		memset(p, c, npages * psize);
	return p;
}

/* iov[i] covers the odd pages 1, 3, 5, ... of @p: discontiguous ranges. */
static size_t odd_pages(struct iovec *iov, char *p, size_t npages)
{
	size_t n = 0;

	for (size_t i = 1; i < npages; i += 2) {
		iov[n].iov_base = p + i * psize;
		iov[n].iov_len = psize;
		n++;
	}
	return n;
}

/* Pages 1, 3, 5, ... read as zero and pages 0, 2, 4, ... as @c. */
static bool odd_zero_even(const char *p, size_t npages, char c)
{
	for (size_t i = 0; i < npages; i++)
		if (!is_filled(p + i * psize, psize, i % 2 ? 0 : c))
			return false;
	return true;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* The remote cases need to know which kernel they run on, not guess. */
#define NO_CONFIG "no /proc/config.gz (CONFIG_IKCONFIG_PROC)"

FIXTURE(self)
{
	int pidfd;
	char *p;
};

FIXTURE_SETUP(self)
{
	self->pidfd = pidfd_open(getpid());
	ASSERT_GE(self->pidfd, 0);
	self->p = map_filled(NPAGES, 'x');
	ASSERT_NE(MAP_FAILED, self->p);
}

FIXTURE_TEARDOWN(self)
{
	close(self->pidfd);
	munmap(self->p, NPAGES * psize);
}

/* A vector of 8 discontiguous pages zapped on our own mm, in one call. */
TEST_F(self, dontneed_vector)
{
	struct iovec iov[NPAGES];
	size_t n = odd_pages(iov, self->p, NPAGES);

	ASSERT_EQ(n * psize, sys_process_madvise(self->pidfd, iov, n, MADV_DONTNEED, 0));
	ASSERT_TRUE(odd_zero_even(self->p, NPAGES, 'x'));
}

/*
 * An empty vector, or one of empty ranges, advises nothing and succeeds,
 * even for advice that takes the mmap write lock.
 */
TEST_F(self, empty_vector)
{
	struct iovec iov[2] = { { self->p, 0 }, { self->p + psize, 0 } };

	ASSERT_EQ(0, sys_process_madvise(self->pidfd, iov, 0, MADV_DONTNEED, 0));
	ASSERT_EQ(0, sys_process_madvise(self->pidfd, iov, 2, MADV_DONTNEED, 0));
	ASSERT_EQ(0, sys_process_madvise(self->pidfd, iov, 2, MADV_DONTFORK, 0));
	ASSERT_TRUE(is_filled(self->p, NPAGES * psize, 'x'));
}

/*
 * A range with a hole is advised where it is mapped, reports ENOMEM, and
 * counts for nothing: the call returns the bytes of the ranges before it.
 */
TEST_F(self, partial_progress)
{
	struct iovec iov[3] = {
		{ self->p + psize, psize },
		{ self->p + 3 * psize, 3 * psize },	/* page 4 is a hole */
		{ self->p + 9 * psize, psize },
	};

	ASSERT_EQ(0, munmap(self->p + 4 * psize, psize));
	ASSERT_EQ(psize, sys_process_madvise(self->pidfd, iov, 3, MADV_DONTNEED, 0));
	ASSERT_EQ(0, self->p[psize]);
	ASSERT_EQ(0, self->p[3 * psize]);
	ASSERT_EQ(0, self->p[5 * psize]);
	ASSERT_EQ('x', self->p[9 * psize]);
	ASSERT_EQ(-1, sys_process_madvise(self->pidfd, &iov[1], 1, MADV_DONTNEED, 0));
	ASSERT_EQ(ENOMEM, errno);
}

/* A field of /proc/self/smaps_rollup in kB, or -1. */
static long smaps_rollup_kb(const char *key)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	size_t klen = strlen(key);
	char line[256];
	long val = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			val = strtol(line + klen + 1, NULL, 10);
	fclose(f);
	return val;
}

/*
 * MADV_FREE on our own mm: the data stays until reclaim, and MADV_PAGEOUT
 * then drops exactly the freed pages (clean lazyfree pages are not
 * swapped).  MADV_FREE skips pages in another CPU's LRU batch: one CPU.
 */
TEST_F(self, free_vector)
{
	struct iovec iov[NPAGES], all = { self->p, NPAGES * psize };
	size_t n = odd_pages(iov, self->p, NPAGES);
	bool dropped = false;

	/* Fault the pages in afresh on the CPU that advises them. */
	pin_cpu(0);
	ASSERT_EQ(0, madvise(self->p, NPAGES * psize, MADV_DONTNEED));
	memset(self->p, 'x', NPAGES * psize);
	ASSERT_EQ(n * psize, sys_process_madvise(self->pidfd, iov, n, MADV_FREE, 0));
	ASSERT_TRUE(is_filled(self->p, NPAGES * psize, 'x'));
	/* A transient reference can keep a page for a moment: retry, bounded. */
	for (int try = 0; !dropped && try < 20; try++) {
		ASSERT_EQ(NPAGES * psize,
			  sys_process_madvise(self->pidfd, &all, 1, MADV_PAGEOUT, 0));
		dropped = odd_zero_even(self->p, NPAGES, 'x');
		if (!dropped)
			usleep(100000);
	}
	ASSERT_TRUE(dropped);
}

/*
 * Every advice that madvise() takes, process_madvise() takes for our own
 * mm, with its effect: the last, MADV_DONTNEED, zeroes the range, and
 * MADV_WIPEONFORK gives a child zeroes.
 */
TEST_F(self, every_advice)
{
	static const int advice[] = {
		MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED,
		MADV_DONTFORK, MADV_DOFORK, MADV_DONTDUMP, MADV_DODUMP,
		MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_COLD, MADV_PAGEOUT,
		MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_FREE,
		MADV_DONTNEED_LOCKED, MADV_MERGEABLE, MADV_UNMERGEABLE,
		MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTNEED,
	};
	struct iovec iov = { self->p, NPAGES * psize };
	int status;
	pid_t pid;

	for (size_t i = 0; i < ARRAY_SIZE(advice); i++) {
		errno = 0;
		EXPECT_EQ(NPAGES * psize,
			  sys_process_madvise(self->pidfd, &iov, 1, advice[i], 0))
			TH_LOG("advice %d: %s", advice[i], strerror(errno));
	}
	ASSERT_TRUE(is_filled(self->p, NPAGES * psize, 0));

	memset(self->p, 'y', NPAGES * psize);
	ASSERT_EQ(NPAGES * psize,
		  sys_process_madvise(self->pidfd, &iov, 1, MADV_WIPEONFORK, 0));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(is_filled(self->p, NPAGES * psize, 0) ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/*
 * Ranges that cover parts of a THP: the PMD is split, and only the advised
 * 4 KiB pages are zapped.
 */
TEST_F(self, thp_partial)
{
	const size_t thp = 2UL << 20;
	struct iovec iov[4];
	char *raw, *p;

	raw = mmap(NULL, 2 * thp, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	p = (char *)(((uintptr_t)raw + thp - 1) & ~(thp - 1));
	if (madvise(p, thp, MADV_HUGEPAGE))
		SKIP(goto out, "MADV_HUGEPAGE: %s (CONFIG_TRANSPARENT_HUGEPAGE)", strerror(errno));
	memset(p, 'h', thp);
	if (smaps_rollup_kb("AnonHugePages") < 2048)
		SKIP(goto out, "no THP was allocated");

	iov[0] = (struct iovec){ p, psize };
	iov[1] = (struct iovec){ p + 5 * psize, 3 * psize };
	iov[2] = (struct iovec){ p + 100 * psize, psize };
	iov[3] = (struct iovec){ p + thp - psize, psize };
	ASSERT_EQ(6 * psize, sys_process_madvise(self->pidfd, iov, 4, MADV_DONTNEED, 0));
	for (size_t i = 0; i < thp / psize; i++) {
		bool zapped = i == 0 || (i >= 5 && i < 8) || i == 100 || i == thp / psize - 1;

		ASSERT_TRUE(is_filled(p + i * psize, psize, zapped ? 0 : 'h'))
			TH_LOG("page %zu", i);
	}
out:
	munmap(raw, 2 * thp);
}

/* Droppable memory is zapped in a vector like any private memory. */
TEST_F(self, droppable)
{
	struct iovec iov[NPAGES];
	size_t n;
	char *d;

	d = mmap(NULL, NPAGES * psize, PROT_READ | PROT_WRITE,
		 MAP_ANONYMOUS | MAP_DROPPABLE, -1, 0);
	if (d == MAP_FAILED)
		SKIP(return, "MAP_DROPPABLE: %s", strerror(errno));
	memset(d, 'd', NPAGES * psize);
	n = odd_pages(iov, d, NPAGES);
	ASSERT_EQ(n * psize, sys_process_madvise(self->pidfd, iov, n, MADV_DONTNEED, 0));
	ASSERT_TRUE(odd_zero_even(d, NPAGES, 'd'));
	munmap(d, NPAGES * psize);
}

/* Each bad argument has its errno, and the memory is left as it was. */
TEST_F(self, errnos)
{
	struct iovec iov = { self->p, psize };
	struct iovec misaligned = { self->p + 1, psize };
	struct iovec *many;
	int devnull;

	ASSERT_EQ(-1, sys_process_madvise(self->pidfd, &iov, 1, MADV_DONTNEED, 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, sys_process_madvise(self->pidfd, &iov, 1, 5, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, sys_process_madvise(self->pidfd, &iov, 1, -1, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, sys_process_madvise(self->pidfd, &misaligned, 1, MADV_DONTNEED, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, sys_process_madvise(self->pidfd, (void *)8, 1, MADV_DONTNEED, 0));
	ASSERT_EQ(EFAULT, errno);
	many = calloc(IOV_MAX + 1, sizeof(*many));
	ASSERT_NE(NULL, many);
	ASSERT_EQ(-1, sys_process_madvise(self->pidfd, many, IOV_MAX + 1, MADV_DONTNEED, 0));
	ASSERT_EQ(EINVAL, errno);
	free(many);
	devnull = open("/dev/null", O_RDONLY);
	ASSERT_GE(devnull, 0);
	ASSERT_EQ(-1, sys_process_madvise(devnull, &iov, 1, MADV_DONTNEED, 0));
	ASSERT_EQ(EBADF, errno);
	close(devnull);
	ASSERT_EQ(-1, sys_process_madvise(-1, &iov, 1, MADV_DONTNEED, 0));
	ASSERT_EQ(EBADF, errno);
	ASSERT_TRUE(is_filled(self->p, NPAGES * psize, 'x'));
}

/*
 * A forked target, stopped on a pipe while we advise it.  Its memory is a
 * private mapping made before fork(): pages the child rewrote are its own,
 * the others are still COW-shared with us.
 */
struct target {
	pid_t pid;
	int pidfd;
	int go[2];	/* parent -> child */
	int done[2];	/* child -> parent */
};

static int start_target(struct target *t, char *p, int (*fn)(char *p, int rd, int wr),
			void (*prepare)(void))
{
	char c;

	if (pipe(t->go) || pipe(t->done))
		return -1;
	t->pid = fork();
	if (t->pid < 0)
		return -1;
	if (!t->pid) {
		close(t->go[1]);
		close(t->done[0]);
		if (prepare)
			prepare();
		_exit(fn(p, t->go[0], t->done[1]));
	}
	/* The child's ends: a child that dies early is EOF, not a hang. */
	close(t->go[0]);
	close(t->done[1]);
	if (read(t->done[0], &c, 1) != 1)
		return -1;
	t->pidfd = pidfd_open(t->pid);
	return t->pidfd < 0 ? -1 : 0;
}

static int finish_target(struct target *t)
{
	int status;
	char c = 0;

	if (write(t->go[1], &c, 1) != 1)
		return -1;
	if (waitpid(t->pid, &status, 0) != t->pid)
		return -1;
	close(t->pidfd);
	close(t->go[1]);
	close(t->done[0]);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * The child rewrites the even pages with 'c'; the odd pages stay COW-shared
 * with the parent's 'p'.  When the parent is done, the odd pages must read
 * @odd and the even ones still 'c'.
 */
static int child_check_pages(char *p, int rd, int wr, char odd)
{
	char c = 0;

	for (size_t i = 0; i < NPAGES; i += 2)
		memset(p + i * psize, 'c', psize);
	if (write(wr, &c, 1) != 1 || read(rd, &c, 1) != 1)
		return 10;
	for (size_t i = 0; i < NPAGES; i++)
		if (!is_filled(p + i * psize, psize, i % 2 ? odd : 'c'))
			return 20 + i;
	return 0;
}

static int child_expect_odd_zero(char *p, int rd, int wr)
{
	return child_check_pages(p, rd, wr, 0);
}

static int child_expect_unchanged(char *p, int rd, int wr)
{
	return child_check_pages(p, rd, wr, 'p');
}

/*
 * A remote MADV_DONTNEED of the odd pages of a forked target, which runs
 * @zeroed when remote discards are configured and @unchanged, after the
 * call's EINVAL, when they are not.  Our own copy keeps its data.
 */
static void remote_dontneed_odd(struct __test_metadata *_metadata,
				int (*zeroed)(char *p, int rd, int wr),
				int (*unchanged)(char *p, int rd, int wr))
{
	struct iovec iov[NPAGES];
	struct target t;
	char *p = map_filled(NPAGES, 'p');
	size_t n = odd_pages(iov, p, NPAGES);

	if (remote_discard < 0)
		SKIP(return, NO_CONFIG);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, start_target(&t, p, remote_discard ? zeroed : unchanged, NULL));
	if (remote_discard) {
		ASSERT_EQ(n * psize, sys_process_madvise(t.pidfd, iov, n, MADV_DONTNEED, 0));
	} else {
		ASSERT_EQ(-1, sys_process_madvise(t.pidfd, iov, n, MADV_DONTNEED, 0));
		ASSERT_EQ(EINVAL, errno);
	}
	ASSERT_EQ(0, finish_target(&t));
	ASSERT_TRUE(is_filled(p, NPAGES * psize, 'p'));
	munmap(p, NPAGES * psize);
}

/*
 * Remote MADV_DONTNEED: the target's odd pages, COW-shared with us, read
 * as zero in the target, while we still see our own data.  Without
 * CONFIG_PROCESS_MADVISE_DISCARD, EINVAL, and the target is unchanged.
 */
TEST(remote_dontneed)
{
	remote_dontneed_odd(_metadata, child_expect_odd_zero, child_expect_unchanged);
}

/*
 * The child writes its own data to every page ('c' even, 'o' odd) and
 * hands the odd pages to a pipe with vmsplice(), which keeps a GUP
 * reference (FOLL_GET) on each page; zap treats it as it treats a pin for
 * I/O: the PTE goes, the page stays.  Once the parent is done, the odd
 * pages read @odd; the child then writes 'n' there, and the pipe must
 * read @piped.  After a remote DONTNEED that is the old 'o': the pinner
 * keeps the page it pinned, and the target writes to a new one.  With no
 * DONTNEED, pipe and mapping share the page, and the pipe reads 'n'.
 */
static int child_pinned(char *p, int rd, int wr, char odd, char piped)
{
	struct iovec iov[NPAGES];
	size_t n = odd_pages(iov, p, NPAGES);
	char *buf = malloc(psize);
	int pfd[2];
	char c = 0;

	if (!buf || pipe(pfd) || fcntl(pfd[1], F_SETPIPE_SZ, NPAGES * psize) < 0)
		return 5;
	for (size_t i = 0; i < NPAGES; i++)
		memset(p + i * psize, i % 2 ? 'o' : 'c', psize);
	if (vmsplice(pfd[1], iov, n, 0) != (ssize_t)(n * psize))
		return 6;
	if (write(wr, &c, 1) != 1 || read(rd, &c, 1) != 1)
		return 10;
	for (size_t i = 0; i < NPAGES; i++)
		if (!is_filled(p + i * psize, psize, i % 2 ? odd : 'c'))
			return 20 + i;
	for (size_t i = 1; i < NPAGES; i += 2)
		memset(p + i * psize, 'n', psize);
	for (size_t i = 0; i < n; i++)
		if (read(pfd[0], buf, psize) != (ssize_t)psize ||
		    !is_filled(buf, psize, piped))
			return 40 + i;
	return 0;
}

static int child_pinned_zeroed(char *p, int rd, int wr)
{
	return child_pinned(p, rd, wr, 0, 'o');
}

static int child_pinned_unchanged(char *p, int rd, int wr)
{
	return child_pinned(p, rd, wr, 'o', 'n');
}

/*
 * Remote MADV_DONTNEED of pages that the target gave to a pipe with
 * vmsplice(): the target's mapping goes (the pages read zero, and new
 * writes land in new pages), and the pipe still reads the old data.
 * Without CONFIG_PROCESS_MADVISE_DISCARD, EINVAL, and the pipe sees the
 * target's later writes.
 */
TEST(remote_pinned)
{
	remote_dontneed_odd(_metadata, child_pinned_zeroed, child_pinned_unchanged);
}

/* The child writes every page, then expects the odd ones lazily freed. */
static int child_expect_lazyfree(char *p, int rd, int wr)
{
	char c = 0;

	for (size_t i = 0; i < NPAGES; i++)
		memset(p + i * psize, 'c', psize);
	if (write(wr, &c, 1) != 1 || read(rd, &c, 1) != 1)
		return 10;
	return odd_zero_even(p, NPAGES, 'c') ? 0 : 20;
}

static int child_expect_all_c(char *p, int rd, int wr)
{
	char c = 0;

	for (size_t i = 0; i < NPAGES; i++)
		memset(p + i * psize, 'c', psize);
	if (write(wr, &c, 1) != 1 || read(rd, &c, 1) != 1)
		return 10;
	return is_filled(p, NPAGES * psize, 'c') ? 0 : 20;
}

/*
 * Remote MADV_FREE: the odd pages keep their data until reclaim, and a
 * remote MADV_PAGEOUT then drops them (clean lazyfree pages are not
 * swapped), while the even pages survive.  Target and caller share a CPU:
 * MADV_FREE skips pages that still sit in another CPU's LRU batch.
 */
TEST(remote_free)
{
	struct iovec iov[NPAGES], all, local;
	char *p = map_filled(NPAGES, 'p'), *buf = malloc(NPAGES * psize);
	size_t n = odd_pages(iov, p, NPAGES);
	struct target t;
	bool dropped = false;

	if (remote_discard < 0)
		SKIP(return, NO_CONFIG);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_NE(NULL, buf);
	pin_cpu(0);
	ASSERT_EQ(0, start_target(&t, p, remote_discard ? child_expect_lazyfree :
				  child_expect_all_c, NULL));
	if (!remote_discard) {
		ASSERT_EQ(-1, sys_process_madvise(t.pidfd, iov, n, MADV_FREE, 0));
		ASSERT_EQ(EINVAL, errno);
		ASSERT_EQ(0, finish_target(&t));
		return;
	}
	ASSERT_EQ(n * psize, sys_process_madvise(t.pidfd, iov, n, MADV_FREE, 0));
	all = (struct iovec){ p, NPAGES * psize };
	local = (struct iovec){ buf, NPAGES * psize };
	ASSERT_EQ(NPAGES * psize, process_vm_readv(t.pid, &local, 1, &all, 1, 0));
	ASSERT_TRUE(is_filled(buf, NPAGES * psize, 'c'));
	/* A transient reference can keep a page for a moment: retry, bounded. */
	for (int try = 0; !dropped && try < 20; try++) {
		ASSERT_EQ(NPAGES * psize, sys_process_madvise(t.pidfd, &all, 1, MADV_PAGEOUT, 0));
		ASSERT_EQ(NPAGES * psize, process_vm_readv(t.pid, &local, 1, &all, 1, 0));
		dropped = odd_zero_even(buf, NPAGES, 'c');
		if (!dropped)
			usleep(100000);
	}
	ASSERT_TRUE(dropped);
	ASSERT_EQ(0, finish_target(&t));
	free(buf);
	munmap(p, NPAGES * psize);
}

/*
 * Advice that is never remote, whatever the config: VMA flag changes, and
 * the discards that are not DONTNEED or FREE.
 */
TEST(remote_never)
{
	static const int never[] = { MADV_DONTFORK, MADV_WIPEONFORK, MADV_DONTNEED_LOCKED,
				     MADV_REMOVE, MADV_POPULATE_WRITE, MADV_GUARD_INSTALL };
	char *p = map_filled(NPAGES, 'p');
	struct iovec iov = { p, NPAGES * psize };
	struct target t;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, start_target(&t, p, child_expect_unchanged, NULL));
	for (size_t i = 0; i < ARRAY_SIZE(never); i++) {
		EXPECT_EQ(-1, sys_process_madvise(t.pidfd, &iov, 1, never[i], 0));
		EXPECT_EQ(EINVAL, errno) TH_LOG("advice %d", never[i]);
	}
	ASSERT_EQ(0, finish_target(&t));
	munmap(p, NPAGES * psize);
}

/*
 * The target of remote_uffd_remove: it registers its pages with its own
 * userfaultfd for UFFD_EVENT_REMOVE and, when the parent says so, reads one
 * REMOVE event per odd page.  Once the call has returned, and with the
 * registration gone, the odd pages must read as zero and the even ones as
 * before.
 */
static int child_uffd_remove(char *p, int rd, int wr)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_EVENT_REMOVE };
	struct uffdio_register reg = {
		.range = { (unsigned long)p, NPAGES * psize },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	struct pollfd pfd = { .events = POLLIN };
	struct uffd_msg msg;
	char c = 0;

	memset(p, 'c', NPAGES * psize);
	pfd.fd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (pfd.fd < 0 || ioctl(pfd.fd, UFFDIO_API, &api) ||
	    ioctl(pfd.fd, UFFDIO_REGISTER, &reg))
		return 10;
	if (write(wr, &c, 1) != 1 || read(rd, &c, 1) != 1)
		return 11;
	for (size_t i = 1; i < NPAGES; i += 2) {
		if (poll(&pfd, 1, 30000) != 1 || read(pfd.fd, &msg, sizeof(msg)) != sizeof(msg))
			return 12;
		if (msg.event != UFFD_EVENT_REMOVE ||
		    msg.arg.remove.start != (unsigned long)(p + i * psize) ||
		    msg.arg.remove.end != (unsigned long)(p + (i + 1) * psize))
			return 20 + i;
	}
	/* Each range is zapped after its event is read: wait for the call. */
	if (read(rd, &c, 1) != 1)
		return 13;
	if (ioctl(pfd.fd, UFFDIO_UNREGISTER, &reg.range))
		return 14;
	return odd_zero_even(p, NPAGES, 'c') ? 0 : 15;
}

struct remote_call {
	int pidfd;
	struct iovec *iov;
	size_t n;
	ssize_t ret;
	int err;
	bool done;
};

static void *remote_dontneed_call(void *arg)
{
	struct remote_call *rc = arg;

	rc->ret = sys_process_madvise(rc->pidfd, rc->iov, rc->n, MADV_DONTNEED, 0);
	rc->err = errno;
	__atomic_store_n(&rc->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * A remote MADV_DONTNEED of ranges that the target registered for
 * UFFD_EVENT_REMOVE delivers the event to the target's monitor for each
 * range and waits until the monitor has read it, as the target's own
 * madvise() would: the call cannot return while the events are unread, and
 * returns the whole length once they are read.
 */
TEST(remote_uffd_remove)
{
	struct iovec iov[NPAGES];
	struct remote_call rc;
	struct target t;
	char *p = map_filled(NPAGES, 'p');
	pthread_t thread;
	char c = 0;

	if (remote_discard < 0)
		SKIP(return, NO_CONFIG);
	ASSERT_NE(MAP_FAILED, p);
	if (!remote_discard) {
		/* Refused before any event: the target's data stays. */
		ASSERT_EQ(0, start_target(&t, p, child_expect_all_c, NULL));
		ASSERT_EQ(-1, sys_process_madvise(t.pidfd, iov, odd_pages(iov, p, NPAGES),
						  MADV_DONTNEED, 0));
		ASSERT_EQ(EINVAL, errno);
		ASSERT_EQ(0, finish_target(&t));
		return;
	}
	ASSERT_EQ(0, start_target(&t, p, child_uffd_remove, NULL));
	rc = (struct remote_call){ t.pidfd, iov, odd_pages(iov, p, NPAGES), -1, 0, false };
	ASSERT_EQ(0, pthread_create(&thread, NULL, remote_dontneed_call, &rc));
	usleep(300000);
	ASSERT_FALSE(__atomic_load_n(&rc.done, __ATOMIC_ACQUIRE))
		TH_LOG("the call returned before the monitor read its events");
	ASSERT_EQ(1, write(t.go[1], &c, 1));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(rc.n * psize, rc.ret) TH_LOG("%s", strerror(rc.err));
	ASSERT_EQ(0, finish_target(&t));
	munmap(p, NPAGES * psize);
}

#define TARGET_UID 2000
#define CALLER_UID 3000

static void become_target_user(void)
{
	if (setresgid(TARGET_UID, TARGET_UID, TARGET_UID) ||
	    setresuid(TARGET_UID, TARGET_UID, TARGET_UID))
		_exit(2);
	/* Stay accessible to PTRACE_MODE_READ_FSCREDS callers of our uid. */
	prctl(PR_SET_DUMPABLE, 1);
}

static int drop_cap(int cap)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[cap / 32].effective &= ~(1U << (cap % 32));
	data[cap / 32].permitted &= ~(1U << (cap % 32));
	return syscall(SYS_capset, &hdr, data);
}

/* Run @fn(@pidfd, @p) in a child of ours; its exit status is the result. */
static int in_child(int (*fn)(int pidfd, char *p), int pidfd, char *p)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid)
		_exit(fn(pidfd, p));
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* 0 if the call failed with @err, else a distinct status. */
static int expect_errno(int pidfd, char *p, int advice, int err, int fail)
{
	struct iovec iov = { p, NPAGES * psize };

	if (sys_process_madvise(pidfd, &iov, 1, advice, 0) != -1)
		return fail;
	return errno == err ? 0 : fail + 1;
}

/*
 * The caller keeps CAP_SYS_NICE and drops CAP_SYS_PTRACE; its fsuid is the
 * target's (PTRACE_MODE_READ_FSCREDS passes), its real uid is not
 * (PTRACE_MODE_ATTACH_REALCREDS fails): MADV_DONTNEED and MADV_FREE get
 * EPERM, and MADV_COLD, which needs no attach right, works.
 */
static int caller_without_attach(int pidfd, char *p)
{
	struct iovec iov = { p, NPAGES * psize };
	int err = remote_discard ? EPERM : EINVAL;

	if (setresuid(CALLER_UID, 0, 0) || drop_cap(CAP_SYS_PTRACE))
		return 2;
	setfsgid(TARGET_UID);
	setfsuid(TARGET_UID);
	if (expect_errno(pidfd, p, MADV_DONTNEED, err, 10))
		return 10;
	if (expect_errno(pidfd, p, MADV_FREE, err, 20))
		return 20;
	if (sys_process_madvise(pidfd, &iov, 1, MADV_COLD, 0) != (ssize_t)(NPAGES * psize))
		return 30;
	return 0;
}

/* Without CAP_SYS_NICE, every remote advice is EPERM (or EINVAL first). */
static int caller_without_nice(int pidfd, char *p)
{
	if (drop_cap(CAP_SYS_NICE))
		return 2;
	if (expect_errno(pidfd, p, MADV_COLD, EPERM, 10))
		return 10;
	if (expect_errno(pidfd, p, MADV_DONTNEED, remote_discard ? EPERM : EINVAL, 20))
		return 20;
	return 0;
}

/*
 * Without PTRACE_MODE_READ (another uid, no CAP_SYS_PTRACE): EACCES, from
 * the first check, before the advice is looked at.
 */
static int caller_without_read(int pidfd, char *p)
{
	if (drop_cap(CAP_SYS_PTRACE) || setresuid(CALLER_UID, CALLER_UID, 0))
		return 2;
	if (expect_errno(pidfd, p, MADV_COLD, EACCES, 10))
		return 10;
	if (expect_errno(pidfd, p, MADV_DONTNEED, EACCES, 20))
		return 20;
	if (expect_errno(pidfd, p, MADV_DONTFORK, EACCES, 30))
		return 30;
	return 0;
}

TEST(remote_permissions)
{
	char *p = map_filled(NPAGES, 'p');
	struct target t;

	if (remote_discard < 0)
		SKIP(return, NO_CONFIG);
	ASSERT_NE(MAP_FAILED, p);
	if (geteuid())
		SKIP(return, "needs root to set up the credentials");
	ASSERT_EQ(0, start_target(&t, p, child_expect_unchanged, become_target_user));
	EXPECT_EQ(0, in_child(caller_without_attach, t.pidfd, p));
	EXPECT_EQ(0, in_child(caller_without_nice, t.pidfd, p));
	EXPECT_EQ(0, in_child(caller_without_read, t.pidfd, p));
	/* Whatever was refused, the target's data is intact. */
	ASSERT_EQ(0, finish_target(&t));
	munmap(p, NPAGES * psize);
}

/*
 * The target execs after we opened its pidfd.  Each call checks the rights
 * again, against the image the task runs now: a caller with the target's
 * real and fs ids and no capability but CAP_SYS_NICE gets EACCES for every
 * advice while the new image is not dumpable (as after the exec of a
 * program that its user may run but not read), and the data stays intact.
 * Once the image is dumpable again, the calls advise the new image's
 * memory: a remote MADV_DONTNEED zaps it.
 *
 * The narrower window, an exec between process_madvise()'s own
 * PTRACE_MODE_READ check and its attach check, cannot be hit on purpose
 * from user space.  process_madvise_may_discard() gives EPERM there, as it
 * finds that the task's mm is no longer the one the call holds.
 */
#define EXEC_TARGET "--exec-target"

/* Yama's kernel.yama.ptrace_scope, or 0 without Yama. */
static int yama_scope(void)
{
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
	int scope = 0;

	if (f) {
		if (fscanf(f, "%d", &scope) != 1)
			scope = 0;
		fclose(f);
	}
	return scope;
}

/* Make @cap the only capability in our effective and permitted sets. */
static int keep_only_cap(int cap)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { 0 };

	data[cap / 32].effective = 1U << (cap % 32);
	data[cap / 32].permitted = 1U << (cap % 32);
	return syscall(SYS_capset, &hdr, data);
}

/* The new image: map fresh memory, say where, and answer each step. */
static int exec_target(char **argv)
{
	int rd = atoi(argv[2]), wr = atoi(argv[3]);
	char *p = map_filled(NPAGES, 'e');
	char c = 0;

	if (p == MAP_FAILED)
		return 40;
	/* Not dumpable, as an execute-only program would be. */
	if (prctl(PR_SET_DUMPABLE, 0) ||
	    write(wr, &p, sizeof(p)) != sizeof(p) || read(rd, &c, 1) != 1)
		return 41;
	if (!is_filled(p, NPAGES * psize, 'e'))
		return 42;
	if (prctl(PR_SET_DUMPABLE, 1) || write(wr, &c, 1) != 1 || read(rd, &c, 1) != 1)
		return 43;
	if (remote_discard ? !odd_zero_even(p, NPAGES, 'e') :
	    !is_filled(p, NPAGES * psize, 'e'))
		return 44;
	return 0;
}

static int child_exec(char *p, int rd, int wr)
{
	char rfd[16], wfd[16], c = 0;

	if (write(wr, &c, 1) != 1 || read(rd, &c, 1) != 1)
		return 10;
	snprintf(rfd, sizeof(rfd), "%d", rd);
	snprintf(wfd, sizeof(wfd), "%d", wr);
	execl("/proc/self/exe", "process_madv_vector", EXEC_TARGET, rfd, wfd, (char *)NULL);
	return 11;
}

TEST(remote_exec)
{
	char *p = map_filled(NPAGES, 'p'), *q, c = 0;
	struct iovec iov[NPAGES];
	size_t n = odd_pages(iov, p, NPAGES);
	struct target t;

	if (remote_discard < 0)
		SKIP(return, NO_CONFIG);
	ASSERT_NE(MAP_FAILED, p);
	if (geteuid())
		SKIP(return, "needs root to set up the credentials");
	if (yama_scope() >= 2)
		SKIP(return, "Yama ptrace_scope >= 2: attaching needs CAP_SYS_PTRACE");
	ASSERT_EQ(0, start_target(&t, p, child_exec, become_target_user));
	/*
	 * This test's process is the caller from here on.  It keeps only
	 * CAP_SYS_NICE: besides CAP_SYS_PTRACE, 7.3's mm_access() (unlike
	 * 6.12's) lets CAP_PERFMON or CAP_SYS_ADMIN read any mm.
	 */
	ASSERT_EQ(0, setresgid(TARGET_UID, 0, 0));
	ASSERT_EQ(0, setresuid(TARGET_UID, 0, 0));
	setfsgid(TARGET_UID);
	setfsuid(TARGET_UID);
	ASSERT_EQ(TARGET_UID, setfsgid(-1));
	ASSERT_EQ(TARGET_UID, setfsuid(-1));
	ASSERT_EQ(0, keep_only_cap(CAP_SYS_NICE));
	/* Before the exec, the caller has the rights. */
	ASSERT_EQ(n * psize, sys_process_madvise(t.pidfd, iov, n, MADV_COLD, 0));
	if (remote_discard) {
		ASSERT_EQ(n * psize, sys_process_madvise(t.pidfd, iov, n, MADV_DONTNEED, 0));
	} else {
		ASSERT_EQ(-1, sys_process_madvise(t.pidfd, iov, n, MADV_DONTNEED, 0));
		ASSERT_EQ(EINVAL, errno);
	}
	ASSERT_EQ(1, write(t.go[1], &c, 1));
	if (read(t.done[0], &q, sizeof(q)) != sizeof(q)) {
		int status = -1;

		waitpid(t.pid, &status, 0);
		ASSERT_TRUE(false) TH_LOG("the target did not get to its new image: status %#x",
					  status);
	}
	n = odd_pages(iov, q, NPAGES);
	ASSERT_EQ(-1, sys_process_madvise(t.pidfd, iov, n, MADV_DONTNEED, 0));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(-1, sys_process_madvise(t.pidfd, iov, n, MADV_COLD, 0));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(1, write(t.go[1], &c, 1));
	ASSERT_EQ(1, read(t.done[0], &c, 1));
	ASSERT_EQ(n * psize, sys_process_madvise(t.pidfd, iov, n, MADV_COLD, 0));
	if (remote_discard) {
		ASSERT_EQ(n * psize, sys_process_madvise(t.pidfd, iov, n, MADV_DONTNEED, 0));
	} else {
		ASSERT_EQ(-1, sys_process_madvise(t.pidfd, iov, n, MADV_DONTNEED, 0));
		ASSERT_EQ(EINVAL, errno);
	}
	/* The new image checks its pages and exits. */
	ASSERT_EQ(0, finish_target(&t));
	munmap(p, NPAGES * psize);
}

/*
 * The target is killed while remote calls run on it.  A call that got the
 * target's mm keeps it until it returns, and advises all of it; a call that
 * starts after the exit gets ESRCH.  Nothing else is a correct answer, and
 * the kernel must not complain (the debug kernel runs this under KASAN and
 * lockdep).
 */
#define EXIT_PAGES 4096
#define EXIT_RANGES 1024

struct exit_calls {
	int pidfd;
	struct iovec *iov;
	int calls, bad;
	bool started;
};

static void *call_until_gone(void *arg)
{
	struct exit_calls *e = arg;
	const ssize_t all = EXIT_RANGES * psize;

	for (int i = 0; i < 1000; i++) {
		ssize_t ret = sys_process_madvise(e->pidfd, e->iov, EXIT_RANGES,
						  MADV_DONTNEED, 0);

		__atomic_store_n(&e->started, true, __ATOMIC_RELEASE);
		e->calls++;
		if (ret == -1 && errno == ESRCH)
			break;
		if (ret != all)
			e->bad++;
	}
	return NULL;
}

static int child_sleep(char *p, int rd, int wr)
{
	char c = 0;

	memset(p, 'c', EXIT_PAGES * psize);
	if (write(wr, &c, 1) != 1)
		return 10;
	for (;;)
		pause();
}

TEST(remote_exits_mid_call)
{
	struct iovec *iov = calloc(EXIT_RANGES, sizeof(*iov));
	char *p = mmap(NULL, EXIT_PAGES * psize, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct exit_calls e = { .iov = iov };
	pthread_t thread;
	struct target t;
	int status;

	if (remote_discard < 0)
		SKIP(return, NO_CONFIG);
	ASSERT_NE(NULL, iov);
	ASSERT_NE(MAP_FAILED, p);
	for (int i = 0; i < EXIT_RANGES; i++)
		iov[i] = (struct iovec){ p + (size_t)i * (EXIT_PAGES / EXIT_RANGES) * psize,
					 psize };
	ASSERT_EQ(0, start_target(&t, p, child_sleep, NULL));
	if (!remote_discard) {
		ASSERT_EQ(-1, sys_process_madvise(t.pidfd, iov, EXIT_RANGES, MADV_DONTNEED, 0));
		ASSERT_EQ(EINVAL, errno);
	} else {
		e.pidfd = t.pidfd;
		ASSERT_EQ(0, pthread_create(&thread, NULL, call_until_gone, &e));
		while (!__atomic_load_n(&e.started, __ATOMIC_ACQUIRE))
			usleep(1000);
		ASSERT_EQ(0, kill(t.pid, SIGKILL));
		ASSERT_EQ(0, pthread_join(thread, NULL));
		TH_LOG("%d calls before ESRCH", e.calls);
		ASSERT_EQ(0, e.bad);
		ASSERT_LT(e.calls, 1000) TH_LOG("the calls never saw the exit");
	}
	kill(t.pid, SIGKILL);
	ASSERT_EQ(t.pid, waitpid(t.pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	close(t.pidfd);
	close(t.go[1]);
	close(t.done[0]);
	munmap(p, EXIT_PAGES * psize);
	free(iov);
}

/* A target that has exited but is not reaped has no mm: ESRCH. */
TEST(remote_zombie)
{
	struct iovec iov = { NULL, psize };
	siginfo_t info;
	int pidfd;
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(0);
	pidfd = pidfd_open(pid);
	ASSERT_GE(pidfd, 0);
	/* Wait for the exit, but leave the zombie. */
	ASSERT_EQ(0, waitid(P_PID, pid, &info, WEXITED | WNOWAIT));
	iov.iov_base = mmap(NULL, psize, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_EQ(-1, sys_process_madvise(pidfd, &iov, 1, MADV_COLD, 0));
	ASSERT_EQ(ESRCH, errno);
	ASSERT_EQ(-1, sys_process_madvise(pidfd, &iov, 1, MADV_DONTNEED, 0));
	ASSERT_EQ(ESRCH, errno);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	close(pidfd);
}

/*
 * mseal(): a sealed anonymous mapping that is PROT_WRITE, but whose
 * protection key denies writes, refuses its owner's MADV_DONTNEED.  A
 * remote caller cannot see the owner's protection keys, so it may discard
 * no sealed anonymous memory, writable or not: EPERM, data intact.
 */
static int child_sealed(char *unused, int rd, int wr)
{
	char *keyed, *plain, c = 0;
	int pkey, ret = 0;

	keyed = map_filled(NPAGES, 's');
	plain = map_filled(NPAGES, 's');
	if (keyed == MAP_FAILED || plain == MAP_FAILED)
		return 2;
	pkey = syscall(SYS_pkey_alloc, 0, PKEY_DISABLE_WRITE);
	if (pkey < 0)
		return 3;
	if (syscall(SYS_pkey_mprotect, keyed, NPAGES * psize, PROT_READ | PROT_WRITE, pkey))
		return 4;
	if (syscall(__NR_mseal, keyed, NPAGES * psize, 0) ||
	    syscall(__NR_mseal, plain, NPAGES * psize, 0))
		return 5;
	/* Our own discard of the write-disabled mapping is refused. */
	if (madvise(keyed, NPAGES * psize, MADV_DONTNEED) != -1 || errno != EPERM)
		return 6;
	/* Ready, and where the mappings are. */
	if (write(wr, &c, 1) != 1 ||
	    write(wr, &keyed, sizeof(keyed)) != sizeof(keyed) ||
	    write(wr, &plain, sizeof(plain)) != sizeof(plain) ||
	    read(rd, &c, 1) != 1)
		return 7;
	if (!is_filled(keyed, NPAGES * psize, 's'))
		ret |= 8;
	if (!is_filled(plain, NPAGES * psize, 's'))
		ret |= 16;
	return ret;
}

TEST(remote_sealed)
{
	int err = remote_discard ? EPERM : EINVAL;
	struct iovec iov = { NULL, NPAGES * psize };
	char *keyed, *plain;
	struct target t;
	int pkey;

	if (remote_discard < 0)
		SKIP(return, NO_CONFIG);
	pkey = syscall(SYS_pkey_alloc, 0, PKEY_DISABLE_WRITE);
	if (pkey < 0)
		SKIP(return, "no protection keys: %s", strerror(errno));
	syscall(SYS_pkey_free, pkey);
	ASSERT_EQ(0, start_target(&t, NULL, child_sealed, NULL));
	ASSERT_EQ(sizeof(keyed), read(t.done[0], &keyed, sizeof(keyed)));
	ASSERT_EQ(sizeof(plain), read(t.done[0], &plain, sizeof(plain)));
	iov.iov_base = keyed;
	EXPECT_EQ(-1, sys_process_madvise(t.pidfd, &iov, 1, MADV_DONTNEED, 0));
	EXPECT_EQ(err, errno);
	EXPECT_EQ(-1, sys_process_madvise(t.pidfd, &iov, 1, MADV_FREE, 0));
	EXPECT_EQ(err, errno);
	iov.iov_base = plain;
	EXPECT_EQ(-1, sys_process_madvise(t.pidfd, &iov, 1, MADV_DONTNEED, 0));
	EXPECT_EQ(err, errno);
	/* Hints are no discards: sealing does not refuse them. */
	EXPECT_EQ(NPAGES * psize, sys_process_madvise(t.pidfd, &iov, 1, MADV_COLD, 0));
	ASSERT_EQ(0, finish_target(&t));
}

/*
 * The TLB cost of a vector.  A thread on CPU 1 keeps reading the mapping,
 * so that every flush of it must reach CPU 1: MADV_DONTNEED of 64
 * discontiguous ranges of one VMA costs one flush there in one call
 * (a few, if something else flushes meanwhile), where 64 madvise() calls
 * cost one each.  Counted by nr_tlb_remote_flush_received
 * (CONFIG_DEBUG_TLBFLUSH).
 */
struct toucher {
	char *p;
	size_t len;
	bool stop, running;
};

static void *touch_on_cpu1(void *arg)
{
	struct toucher *t = arg;
	char sum = 0;

	pin_cpu(1);
	if (sched_getcpu() != 1)
		return NULL;
	while (!__atomic_load_n(&t->stop, __ATOMIC_RELAXED)) {
		for (size_t i = 0; i < t->len; i += psize)
			sum += __atomic_load_n(&t->p[i], __ATOMIC_RELAXED);
		__atomic_store_n(&t->running, true, __ATOMIC_RELEASE);
	}
	return (void *)(long)sum;
}

#define RECEIVED "nr_tlb_remote_flush_received"
#define LOCAL_ALL "nr_tlb_local_flush_all"

TEST(vector_tlb_flushes)
{
	const size_t npages = 128;
	struct toucher t = { .len = npages * psize };
	long before, vector, loop;
	struct iovec iov[64];
	pthread_t thread;
	int pidfd;
	size_t n;
	char *p;

	if (vmstat_value(RECEIVED) < 0)
		SKIP(return, "no " RECEIVED " in /proc/vmstat (CONFIG_DEBUG_TLBFLUSH)");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	pin_cpu(0);
	pidfd = pidfd_open(getpid());
	ASSERT_GE(pidfd, 0);
	p = map_filled(npages, 'x');
	ASSERT_NE(MAP_FAILED, p);
	t.p = p;
	ASSERT_EQ(0, pthread_create(&thread, NULL, touch_on_cpu1, &t));
	for (int i = 0; i < 1000 && !__atomic_load_n(&t.running, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	ASSERT_TRUE(__atomic_load_n(&t.running, __ATOMIC_ACQUIRE));
	n = odd_pages(iov, p, npages);

	before = vmstat_value(RECEIVED);
	ASSERT_EQ(n * psize, sys_process_madvise(pidfd, iov, n, MADV_DONTNEED, 0));
	vector = vmstat_value(RECEIVED) - before;
	ASSERT_TRUE(odd_zero_even(p, npages, 'x'));

	memset(p, 'x', npages * psize);
	before = vmstat_value(RECEIVED);
	for (size_t i = 0; i < n; i++)
		ASSERT_EQ(0, madvise(iov[i].iov_base, iov[i].iov_len, MADV_DONTNEED));
	loop = vmstat_value(RECEIVED) - before;

	__atomic_store_n(&t.stop, true, __ATOMIC_RELAXED);
	pthread_join(thread, NULL);
	TH_LOG("flush IPIs received: vector %ld, %zu madvise() calls %ld", vector, n, loop);
	/*
	 * The other CPU may be idle (lazy) at the moment of a flush, and then
	 * needs none: the loop's count is only shown.  The vector costs at
	 * most a few, whatever the loop costs.
	 */
	ASSERT_LE(vector, 4);
	munmap(p, npages * psize);
	close(pidfd);
}

/*
 * hugetlb ranges are flushed one by one, before the hugetlb locks are
 * dropped: madvise() of two huge pages costs the other CPU one flush, a
 * vector of four huge-page ranges one per range.  The other CPU may be
 * idle, so lazy, at the moment of a flush and not need it: the bounds allow
 * for that and for unrelated flushes.  Neither call may flush the whole mm
 * on this CPU, which a second gather nested in the call's would do
 * (nr_tlb_local_flush_all).  The pages read as zero afterwards.
 */
static long hugepage_size(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	long kb = -1;
	char line[128];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

TEST(hugetlb_tlb_flushes)
{
	long hsize = hugepage_size();
	struct toucher t = { 0 };
	struct iovec iov[4];
	long before, one, four, all_before, all;
	pthread_t thread;
	int pidfd;
	char *p;

	if (vmstat_value(RECEIVED) < 0)
		SKIP(return, "no " RECEIVED " in /proc/vmstat (CONFIG_DEBUG_TLBFLUSH)");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	if (hsize <= 0)
		SKIP(return, "no Hugepagesize in /proc/meminfo (CONFIG_HUGETLB_PAGE)");
	p = mmap(NULL, 6 * hsize, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED)
		SKIP(return, "no 6 free hugetlb pages");
	pin_cpu(0);
	pidfd = pidfd_open(getpid());
	ASSERT_GE(pidfd, 0);
	t.p = p;
	t.len = 6 * hsize;
	ASSERT_EQ(0, pthread_create(&thread, NULL, touch_on_cpu1, &t));
	for (int i = 0; i < 1000 && !__atomic_load_n(&t.running, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	ASSERT_TRUE(__atomic_load_n(&t.running, __ATOMIC_ACQUIRE));

	for (int i = 0; i < 4; i++)
		iov[i] = (struct iovec){ p + (2 + i) * hsize, hsize };
	/*
	 * The counters are system-wide: a full flush elsewhere (an exit, a
	 * vmalloc purge) or a reader that blocks on the hugetlb lock and goes
	 * idle can spoil one try.  Three tries; a nested gather spoils all.
	 */
	for (int try = 0; try < 3; try++) {
		memset(p, 'h', 6 * hsize);
		all_before = vmstat_value(LOCAL_ALL);
		before = vmstat_value(RECEIVED);
		ASSERT_EQ(0, madvise(p, 2 * hsize, MADV_DONTNEED));
		one = vmstat_value(RECEIVED) - before;
		before = vmstat_value(RECEIVED);
		ASSERT_EQ(4 * hsize, sys_process_madvise(pidfd, iov, 4, MADV_DONTNEED, 0));
		four = vmstat_value(RECEIVED) - before;
		all = vmstat_value(LOCAL_ALL) - all_before;
		if (!all && one <= 3 && four >= 2 && four <= 7)
			break;
	}
	__atomic_store_n(&t.stop, true, __ATOMIC_RELAXED);
	pthread_join(thread, NULL);

	TH_LOG("flush IPIs received: madvise() of 2 huge pages %ld, vector of 4 %ld; "
	       "full local flushes %ld", one, four, all);
	ASSERT_EQ(0, all);
	ASSERT_LE(one, 3);
	ASSERT_GE(four, 2);
	ASSERT_LE(four, 7);
	ASSERT_TRUE(is_filled(p, 6 * hsize, 0));
	munmap(p, 6 * hsize);
	close(pidfd);
}

/*
 * A vector over different kinds of memory: private anonymous, a shared
 * file page, a private file page that was written (COWed), then a locked
 * page, then anonymous again.  MADV_DONTNEED zaps the first three, each as
 * its kind says (anonymous reads zero, the shared page keeps its data, the
 * COWed page reverts to the file's), stops at the locked page with EINVAL,
 * and the call counts the three; the rest is untouched.
 */
struct mixed {
	char *anon, *shared, *private, *locked, *after;
};

static int map_mixed(struct mixed *m)
{
	int fd = memfd_create("process_madv_vector", 0);
	char *buf;

	if (fd < 0 || ftruncate(fd, 2 * psize))
		return -1;
	buf = mmap(NULL, 2 * psize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (buf == MAP_FAILED)
		return -1;
	memset(buf, 'f', 2 * psize);
	munmap(buf, 2 * psize);
	m->anon = map_filled(1, 'a');
	m->shared = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	m->private = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, psize);
	m->locked = map_filled(1, 'l');
	m->after = map_filled(1, 'z');
	close(fd);
	if (m->anon == MAP_FAILED || m->shared == MAP_FAILED || m->private == MAP_FAILED ||
	    m->locked == MAP_FAILED || m->after == MAP_FAILED)
		return -1;
	memset(m->shared, 's', psize);
	memset(m->private, 'p', psize);
	return mlock(m->locked, psize);
}

static size_t mixed_iov(struct iovec *iov, struct mixed *m)
{
	iov[0] = (struct iovec){ m->anon, psize };
	iov[1] = (struct iovec){ m->shared, psize };
	iov[2] = (struct iovec){ m->private, psize };
	iov[3] = (struct iovec){ m->locked, psize };
	iov[4] = (struct iovec){ m->after, psize };
	return 5;
}

/* @zapped: the first three were zapped; else nothing was. */
static int check_mixed(struct mixed *m, bool zapped)
{
	if (!is_filled(m->anon, psize, zapped ? 0 : 'a'))
		return 1;
	if (!is_filled(m->shared, psize, 's'))
		return 2;
	if (!is_filled(m->private, psize, zapped ? 'f' : 'p'))
		return 3;
	if (!is_filled(m->locked, psize, 'l'))
		return 4;
	if (!is_filled(m->after, psize, 'z'))
		return 5;
	return 0;
}

TEST(mixed_vector)
{
	struct iovec iov[5];
	struct mixed m;
	int pidfd = pidfd_open(getpid());
	size_t n;

	ASSERT_GE(pidfd, 0);
	ASSERT_EQ(0, map_mixed(&m));
	n = mixed_iov(iov, &m);
	ASSERT_EQ(3 * psize, sys_process_madvise(pidfd, iov, n, MADV_DONTNEED, 0));
	ASSERT_EQ(0, check_mixed(&m, true));
	/* The locked range on its own is the EINVAL that stopped the vector. */
	ASSERT_EQ(-1, sys_process_madvise(pidfd, &iov[3], 1, MADV_DONTNEED, 0));
	ASSERT_EQ(EINVAL, errno);
	close(pidfd);
}

static struct mixed remote_mixed;

static int child_mixed(char *unused, int rd, int wr)
{
	char c = 0;

	if (map_mixed(&remote_mixed))
		return 2;
	if (write(wr, &c, 1) != 1 ||
	    write(wr, &remote_mixed, sizeof(remote_mixed)) != sizeof(remote_mixed) ||
	    read(rd, &c, 1) != 1)
		return 3;
	return 10 + check_mixed(&remote_mixed, remote_discard);
}

/*
 * The same vector, remotely: the same result in the target; or, without
 * CONFIG_PROCESS_MADVISE_DISCARD, EINVAL and nothing changed.
 */
TEST(remote_mixed_vector)
{
	struct iovec iov[5];
	struct target t;
	struct mixed m;
	size_t n;

	if (remote_discard < 0)
		SKIP(return, NO_CONFIG);
	ASSERT_EQ(0, start_target(&t, NULL, child_mixed, NULL));
	ASSERT_EQ(sizeof(m), read(t.done[0], &m, sizeof(m)));
	n = mixed_iov(iov, &m);
	if (remote_discard) {
		ASSERT_EQ(3 * psize, sys_process_madvise(t.pidfd, iov, n, MADV_DONTNEED, 0));
	} else {
		ASSERT_EQ(-1, sys_process_madvise(t.pidfd, iov, n, MADV_DONTNEED, 0));
		ASSERT_EQ(EINVAL, errno);
	}
	ASSERT_EQ(10, finish_target(&t));
}

/*
 * userfaultfd_remove() drops mmap_lock in the middle of a vectored
 * MADV_DONTNEED.  What the call zapped before must be flushed by then:
 * with a vector [A, B] where only B is registered for UFFD_EVENT_REMOVE, a
 * thread on another CPU that keeps reading A must see A zeroed as soon as
 * the REMOVE for B is pending.  The monitor holds the call there: the call
 * waits until the event is read, and the monitor reads it only once the
 * reader has looked.  Without the flush, the reader usually, not always,
 * still sees A's old data: its TLB entry may have been evicted, or CPU 1
 * may have been lazy.  Run under "make mutants", a kernel that skips the
 * flush fails here.
 */
struct flush_check {
	char *a;
	bool armed, looked, stop, running;
	char seen;
};

static void *read_a_on_cpu1(void *arg)
{
	struct flush_check *f = arg;

	pin_cpu(1);
	if (sched_getcpu() != 1)
		return NULL;
	while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
		bool armed = __atomic_load_n(&f->armed, __ATOMIC_ACQUIRE);
		char v = __atomic_load_n(f->a, __ATOMIC_RELAXED);

		__atomic_store_n(&f->running, true, __ATOMIC_RELEASE);
		if (armed && !__atomic_load_n(&f->looked, __ATOMIC_RELAXED)) {
			f->seen = v;
			__atomic_store_n(&f->looked, true, __ATOMIC_RELEASE);
		}
	}
	return NULL;
}

static int uffd_for_remove(void *addr, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_EVENT_REMOVE };
	struct uffdio_register reg = {
		.range = { (unsigned long)addr, len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (uffd < 0)
		return -1;
	if (ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		close(uffd);
		return -1;
	}
	return uffd;
}

struct call {
	int pidfd;
	struct iovec *iov;
	size_t n;
	ssize_t ret;
};

static void *call_dontneed(void *arg)
{
	struct call *c = arg;

	pin_cpu(0);
	c->ret = sys_process_madvise(c->pidfd, c->iov, c->n, MADV_DONTNEED, 0);
	return NULL;
}

TEST(uffd_flush_before_drop)
{
	struct flush_check f = { 0 };
	struct pollfd pfd = { .events = POLLIN };
	struct uffd_msg msg;
	struct iovec iov[2];
	pthread_t reader, caller;
	struct call c;
	char *a, *b;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	a = map_filled(1, 'a');
	b = map_filled(1, 'b');
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_NE(MAP_FAILED, b);
	pfd.fd = uffd_for_remove(b, psize);
	if (pfd.fd < 0 && errno == EPERM)
		SKIP(return, "userfaultfd not permitted (vm.unprivileged_userfaultfd)");
	ASSERT_GE(pfd.fd, 0) TH_LOG("userfaultfd with UFFD_FEATURE_EVENT_REMOVE: %s",
				    strerror(errno));
	f.a = a;
	ASSERT_EQ(0, pthread_create(&reader, NULL, read_a_on_cpu1, &f));
	for (int i = 0; i < 1000 && !__atomic_load_n(&f.running, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	ASSERT_TRUE(__atomic_load_n(&f.running, __ATOMIC_ACQUIRE));

	iov[0] = (struct iovec){ a, psize };
	iov[1] = (struct iovec){ b, psize };
	c = (struct call){ pidfd_open(getpid()), iov, 2, -2 };
	ASSERT_GE(c.pidfd, 0);
	ASSERT_EQ(0, pthread_create(&caller, NULL, call_dontneed, &c));
	/* The REMOVE for B is pending: the call has zapped A and waits. */
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	__atomic_store_n(&f.armed, true, __ATOMIC_RELEASE);
	for (int i = 0; i < 3000 && !__atomic_load_n(&f.looked, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	ASSERT_EQ(sizeof(msg), read(pfd.fd, &msg, sizeof(msg)));
	ASSERT_EQ(0, pthread_join(caller, NULL));
	__atomic_store_n(&f.stop, true, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(reader, NULL));

	ASSERT_EQ(UFFD_EVENT_REMOVE, msg.event);
	ASSERT_EQ((unsigned long)b, msg.arg.remove.start);
	ASSERT_EQ(2 * psize, c.ret);
	ASSERT_TRUE(__atomic_load_n(&f.looked, __ATOMIC_ACQUIRE));
	ASSERT_EQ(0, f.seen) TH_LOG("CPU 1 still read '%c' from A while the call waited", f.seen);
	close(c.pidfd);
	close(pfd.fd);
	munmap(a, psize);
	munmap(b, psize);
}

/*
 * While userfaultfd_remove() has dropped mmap_lock, the monitor splits the
 * VMA inside the range being advised, with mprotect() of the range's third
 * page.  When the call takes the lock again, the VMA at the start of the
 * range ends early: the call must zap up to that end and go on with the
 * VMAs after it, to the end of the range.  Every page of every range must
 * read as zero after each round, and every page between ranges as before.
 *
 * The monitor sees a REMOVE pending (poll) while the call waits with the
 * lock dropped, and reading the event lets the call go on, so it splits
 * before it reads.  It cannot see the range before reading, but the walk is
 * known: for each range [s, s+6) the events are [s, s+6), which it splits
 * at s+2, then [s+2, s+3) for the read-only page and [s+3, s+6).
 */
#define SPLIT_PAGES 64
#define SPLIT_EVERY 8	/* ranges are pages 8k+1 .. 8k+6 */
#define SPLIT_LEN 6
#define SPLIT_RANGES (SPLIT_PAGES / SPLIT_EVERY)
#define SPLIT_ROUNDS 20

struct splitter {
	char *p;
	int uffd;
	bool stop;
	int events, bad;
};

static char *split_range(struct splitter *s, int i)
{
	return s->p + (i * SPLIT_EVERY + 1) * psize;
}

static void *split_monitor(void *arg)
{
	struct splitter *s = arg;
	struct pollfd pfd = { .fd = s->uffd, .events = POLLIN };
	struct uffd_msg msg;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		int n = __atomic_load_n(&s->events, __ATOMIC_ACQUIRE) % (3 * SPLIT_RANGES);

		if (poll(&pfd, 1, 10) <= 0)
			continue;
		if (n % 3 == 0 &&
		    mprotect(split_range(s, n / 3) + 2 * psize, psize, PROT_READ))
			s->bad++;
		if (read(s->uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_REMOVE ||
		    (n % 3 == 0 && msg.arg.remove.start != (unsigned long)split_range(s, n / 3)))
			s->bad++;
		__atomic_add_fetch(&s->events, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

TEST(uffd_remove_split)
{
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_EVENT_REMOVE };
	struct iovec iov[SPLIT_RANGES];
	struct splitter s = { 0 };
	pthread_t mon;
	int pidfd;

	s.p = map_filled(SPLIT_PAGES, 'x');
	ASSERT_NE(MAP_FAILED, s.p);
	s.uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (s.uffd < 0 && errno == EPERM)
		SKIP(return, "userfaultfd not permitted (vm.unprivileged_userfaultfd)");
	ASSERT_GE(s.uffd, 0);
	ASSERT_EQ(0, ioctl(s.uffd, UFFDIO_API, &api));
	reg.range.start = (unsigned long)s.p;
	reg.range.len = SPLIT_PAGES * psize;
	pidfd = pidfd_open(getpid());
	ASSERT_GE(pidfd, 0);
	for (int i = 0; i < SPLIT_RANGES; i++)
		iov[i] = (struct iovec){ split_range(&s, i), SPLIT_LEN * psize };
	ASSERT_EQ(0, pthread_create(&mon, NULL, split_monitor, &s));

	for (int round = 0; round < SPLIT_ROUNDS; round++) {
		ssize_t ret;

		ASSERT_EQ(0, mprotect(s.p, SPLIT_PAGES * psize, PROT_READ | PROT_WRITE));
		memset(s.p, 'x', SPLIT_PAGES * psize);
		ASSERT_EQ(0, ioctl(s.uffd, UFFDIO_REGISTER, &reg));
		ret = sys_process_madvise(pidfd, iov, SPLIT_RANGES, MADV_DONTNEED, 0);
		/* No monitor for missing faults: unregister before reading. */
		ASSERT_EQ(0, ioctl(s.uffd, UFFDIO_UNREGISTER, &reg.range));
		ASSERT_EQ(SPLIT_RANGES * SPLIT_LEN * psize, ret) TH_LOG("round %d", round);
		for (int pg = 0; pg < SPLIT_PAGES; pg++) {
			bool in = pg % SPLIT_EVERY >= 1 && pg % SPLIT_EVERY <= SPLIT_LEN;

			ASSERT_TRUE(is_filled(s.p + pg * psize, psize, in ? 0 : 'x'))
				TH_LOG("round %d: page %d reads '%c'", round, pg, s.p[pg * psize]);
		}
		/* The monitor counts the last event just after the call returns. */
		for (int i = 0; i < 1000 && __atomic_load_n(&s.events, __ATOMIC_ACQUIRE) <
		     (round + 1) * 3 * SPLIT_RANGES; i++)
			usleep(1000);
		ASSERT_EQ((round + 1) * 3 * SPLIT_RANGES,
			  __atomic_load_n(&s.events, __ATOMIC_ACQUIRE));
	}
	__atomic_store_n(&s.stop, true, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(mon, NULL));
	ASSERT_EQ(0, s.bad);
	close(pidfd);
	close(s.uffd);
	munmap(s.p, SPLIT_PAGES * psize);
}

/*
 * A caller that is killed during a vector stops before its next range.
 * The caller, a child that shares a MAP_SHARED anonymous mapping with us,
 * asks process_madvise() for MADV_REMOVE of [A, B] on its own mm.  A is
 * registered for UFFD_EVENT_REMOVE, so the call waits in
 * userfaultfd_remove() until the event is read, which nobody does.  We
 * kill the child while it waits: B, which only the rest of the vector
 * would have punched, keeps its data.
 */
#define KILL_PAGES 8

struct killed_caller {
	int uffd, wr;
};

/* Tell the parent once the REMOVE event for A is queued. */
static void *say_when_waiting(void *arg)
{
	struct killed_caller *k = arg;
	struct pollfd pfd = { .fd = k->uffd, .events = POLLIN };
	char c = 0;

	/* Only a queued event, not an error, means that the call waits. */
	if (poll(&pfd, 1, 10000) == 1 &&
	    (pfd.revents & (POLLIN | POLLERR | POLLHUP)) == POLLIN &&
	    write(k->wr, &c, 1) == 1)
		return NULL;
	_exit(21);
}

static int child_remove_vector(char *p, int wr)
{
	struct iovec iov[2] = {
		{ p, psize },
		{ p + psize, (KILL_PAGES - 1) * psize },
	};
	struct killed_caller k = { .wr = wr };
	pthread_t thread;
	int pidfd;

	k.uffd = uffd_for_remove(p, psize);
	if (k.uffd < 0)
		return errno == EPERM ? 4 : 20;
	pidfd = pidfd_open(getpid());
	if (pidfd < 0 || pthread_create(&thread, NULL, say_when_waiting, &k))
		return 22;
	if (sys_process_madvise(pidfd, iov, 2, MADV_REMOVE, 0) == -1 && errno == EINVAL)
		return 5;
	/* Not reached: the parent kills us in the call. */
	return 23;
}

TEST(killed_caller_stops)
{
	char *p = mmap(NULL, KILL_PAGES * psize, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int ready[2], status;
	pid_t pid;
	char c;

	ASSERT_NE(MAP_FAILED, p);
	memset(p, 'k', KILL_PAGES * psize);
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		close(ready[0]);
		_exit(child_remove_vector(p, ready[1]));
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		/* The child exited before its call waited. */
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		if (WEXITSTATUS(status) == 4)
			SKIP(return, "userfaultfd not permitted (vm.unprivileged_userfaultfd)");
		if (WEXITSTATUS(status) == 5)
			SKIP(return, "no MADV_REMOVE through process_madvise() on one's own mm");
		ASSERT_TRUE(false) TH_LOG("the caller exited %d before its call waited",
					  WEXITSTATUS(status));
	}
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* A may have been punched; the range after it must not have been. */
	ASSERT_TRUE(is_filled(p + psize, (KILL_PAGES - 1) * psize, 'k'))
		TH_LOG("the killed call went on to B");
	/* The control: a punch of B is what we would have seen. */
	ASSERT_EQ(0, madvise(p, KILL_PAGES * psize, MADV_REMOVE));
	ASSERT_TRUE(is_filled(p, KILL_PAGES * psize, 0));
	close(ready[0]);
	munmap(p, KILL_PAGES * psize);
}

/* The harness, or the image that remote_exec's target execs. */
int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], EXEC_TARGET))
		return exec_target(argv);
	return test_harness_run(argc, argv);
}
