// SPDX-License-Identifier: GPL-2.0
/*
 * process_madvise(): every advice on the caller's own mm, remote
 * MADV_DONTNEED and MADV_FREE with the attach right, one lock and one TLB
 * flush per vector, partial progress and every errno.
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
#include <stdint.h>
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
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "memcg_util.h"

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_process_madvise
#define __NR_process_madvise 440
#endif

#define NPAGES 16

static size_t psize;

static void __attribute__((constructor)) init_psize(void)
{
	psize = sysconf(_SC_PAGESIZE);
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

static long smaps_rollup_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			val = strtol(line + klen + 1, NULL, 10);
	fclose(f);
	return val;
}

/*
 * MADV_FREE skips pages that still sit in another CPU's LRU batch, so the
 * target and the caller of the MADV_FREE tests share one CPU.
 */
static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * Reclaim the range of @pidfd's process with MADV_PAGEOUT until the odd
 * pages read as zero: lazily freed pages that are still clean are dropped
 * rather than swapped, while the even pages come back from swap intact.
 * A transient reference can keep a page for a moment, so retry, but only
 * for a bounded time.  Reads through process_vm_readv().
 */
static bool pageout_drops_odd(int pidfd, pid_t pid, char *p, size_t npages, char c)
{
	struct iovec all = { p, npages * psize };
	char *buf = malloc(npages * psize);
	bool ok = false;

	for (int try = 0; buf && !ok && try < 20; try++) {
		struct iovec local = { buf, npages * psize };

		if (sys_process_madvise(pidfd, &all, 1, MADV_PAGEOUT, 0) !=
		    (ssize_t)(npages * psize))
			break;
		if (process_vm_readv(pid, &local, 1, &all, 1, 0) !=
		    (ssize_t)(npages * psize))
			break;
		ok = odd_zero_even(buf, npages, c);
		if (!ok)
			usleep(100000);
	}
	free(buf);
	return ok;
}

FIXTURE(self)
{
	int pidfd;
	char *p;
};

FIXTURE_SETUP(self)
{
	pin_cpu0();
	self->pidfd = pidfd_open(getpid());
	if (self->pidfd < 0)
		SKIP(return, "pidfd_open is not available");
	self->p = map_filled(NPAGES, 'x');
	ASSERT_NE(MAP_FAILED, self->p);
}

FIXTURE_TEARDOWN(self)
{
	if (self->pidfd >= 0)
		close(self->pidfd);
	if (self->p && self->p != MAP_FAILED)
		munmap(self->p, NPAGES * psize);
}

/*
 * A vector of 8 discontiguous pages, zapped on our own mm:
 *
 *   |x|0|x|0|x|0|x|0|x|0|x|0|x|0|x|0|
 *
 * The call returns the whole length.
 */
TEST_F(self, dontneed_vector)
{
	struct iovec iov[NPAGES];
	size_t n = odd_pages(iov, self->p, NPAGES);

	ASSERT_EQ(n * psize, sys_process_madvise(self->pidfd, iov, n, MADV_DONTNEED, 0));
	ASSERT_TRUE(odd_zero_even(self->p, NPAGES, 'x'));
}

/*
 * MADV_FREE on our own mm: until reclaim comes, the data stays; reclaim
 * then drops the freed pages instead of swapping them.
 */
TEST_F(self, free_vector)
{
	struct iovec iov[NPAGES];
	size_t n = odd_pages(iov, self->p, NPAGES);

	ASSERT_EQ(n * psize, sys_process_madvise(self->pidfd, iov, n, MADV_FREE, 0));
	ASSERT_TRUE(is_filled(self->p, NPAGES * psize, 'x'));
	ASSERT_TRUE(pageout_drops_odd(self->pidfd, getpid(), self->p, NPAGES, 'x'));
}

/* Every advice madvise() takes is taken for our own mm, with its effect. */
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
	int pid, status;

	for (size_t i = 0; i < ARRAY_SIZE(advice); i++) {
		errno = 0;
		EXPECT_EQ(NPAGES * psize,
			  sys_process_madvise(self->pidfd, &iov, 1, advice[i], 0))
			TH_LOG("advice %d: %s", advice[i], strerror(errno));
	}
	/* The last one was MADV_DONTNEED: everything reads zero. */
	ASSERT_TRUE(is_filled(self->p, NPAGES * psize, 0));

	/* MADV_WIPEONFORK took effect: a child sees zeroes. */
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

struct toucher {
	const char *p;
	size_t len;
	bool running, stop;
};

/* Keep the mm live on CPU 1, so that its TLB flushes must reach it. */
static void *touch_on_cpu1(void *arg)
{
	struct toucher *t = arg;
	cpu_set_t set;
	char sum = 0;

	CPU_ZERO(&set);
	CPU_SET(1, &set);
	if (sched_setaffinity(0, sizeof(set), &set) || sched_getcpu() != 1)
		return NULL;
	while (!__atomic_load_n(&t->stop, __ATOMIC_RELAXED)) {
		for (size_t i = 0; i < t->len; i += psize)
			sum += __atomic_load_n(&t->p[i], __ATOMIC_RELAXED);
		__atomic_store_n(&t->running, true, __ATOMIC_RELEASE);
	}
	return (void *)(long)sum;
}

/*
 * One TLB flush per vector: MADV_DONTNEED over 64 discontiguous pages,
 * while a thread on another CPU keeps the mm in use, costs the vector one
 * remote flush (a few, if something else flushes meanwhile), where the
 * same ranges zapped by 64 madvise() calls cost one each.  The loop is
 * the control that shows the counter (CONFIG_DEBUG_TLBFLUSH) counts.
 */
TEST(vector_one_tlb_flush)
{
	const size_t npages = 128;
	struct iovec iov[64];
	struct toucher t = { .len = npages * psize };
	pthread_t thread;
	long before, vector, loop;
	size_t n;
	int pidfd;
	char *p;

	if (read_key("/proc/vmstat", "nr_tlb_remote_flush") < 0)
		SKIP(return, "no nr_tlb_remote_flush in /proc/vmstat (CONFIG_DEBUG_TLBFLUSH)");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs a second CPU");
	pin_cpu0();
	pidfd = pidfd_open(getpid());
	ASSERT_GE(pidfd, 0);
	p = map_filled(npages, 'x');
	ASSERT_NE(MAP_FAILED, p);
	t.p = p;
	ASSERT_EQ(0, pthread_create(&thread, NULL, touch_on_cpu1, &t));
	for (int i = 0; i < 1000 && !__atomic_load_n(&t.running, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	ASSERT_TRUE(__atomic_load_n(&t.running, __ATOMIC_ACQUIRE))
		TH_LOG("the thread did not run on CPU 1 within 10 s");
	n = odd_pages(iov, p, npages);
	ASSERT_EQ(64, n);

	before = read_key("/proc/vmstat", "nr_tlb_remote_flush");
	ASSERT_EQ(n * psize, sys_process_madvise(pidfd, iov, n, MADV_DONTNEED, 0));
	vector = read_key("/proc/vmstat", "nr_tlb_remote_flush") - before;

	memset(p, 'x', npages * psize);
	before = read_key("/proc/vmstat", "nr_tlb_remote_flush");
	for (size_t i = 0; i < n; i++)
		ASSERT_EQ(0, madvise(iov[i].iov_base, iov[i].iov_len, MADV_DONTNEED));
	loop = read_key("/proc/vmstat", "nr_tlb_remote_flush") - before;

	__atomic_store_n(&t.stop, true, __ATOMIC_RELAXED);
	pthread_join(thread, NULL);
	TH_LOG("remote TLB flushes: vector %ld, loop of madvise() %ld", vector, loop);
	ASSERT_GE(loop, (long)n);
	ASSERT_GE(vector, 1);
	ASSERT_LE(vector, 4);
	ASSERT_TRUE(odd_zero_even(p, npages, 'x'));
	munmap(p, npages * psize);
	close(pidfd);
}

/*
 * Ranges that cover part of a THP: the PMD is split and only the advised
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
		SKIP(goto out, "MADV_HUGEPAGE is not supported");
	memset(p, 'h', thp);
	if (smaps_rollup_kb(getpid(), "AnonHugePages") < 2048)
		SKIP(goto out, "no THP was allocated");

	iov[0] = (struct iovec){ p, psize };
	iov[1] = (struct iovec){ p + 5 * psize, 3 * psize };
	iov[2] = (struct iovec){ p + 100 * psize, psize };
	iov[3] = (struct iovec){ p + thp - psize, psize };
	ASSERT_EQ(6 * psize, sys_process_madvise(self->pidfd, iov, 4, MADV_DONTNEED, 0));
	for (size_t i = 0; i < thp / psize; i++) {
		bool zapped = i == 0 || (i >= 5 && i < 8) || i == 100 ||
			      i == thp / psize - 1;

		ASSERT_TRUE(is_filled(p + i * psize, psize, zapped ? 0 : 'h'))
			TH_LOG("page %zu", i);
	}
out:
	munmap(raw, 2 * thp);
}

/* Droppable memory can be zapped in a vector too. */
TEST_F(self, droppable)
{
	struct iovec iov[NPAGES];
	size_t n;
	char *d;

	d = mmap(NULL, NPAGES * psize, PROT_READ | PROT_WRITE,
		 MAP_ANONYMOUS | MAP_DROPPABLE, -1, 0);
	if (d == MAP_FAILED)
		SKIP(return, "MAP_DROPPABLE is not supported");
	memset(d, 'd', NPAGES * psize);
	n = odd_pages(iov, d, NPAGES);
	ASSERT_EQ(n * psize, sys_process_madvise(self->pidfd, iov, n, MADV_DONTNEED, 0));
	ASSERT_TRUE(odd_zero_even(d, NPAGES, 'd'));
	munmap(d, NPAGES * psize);
}

/*
 * Partial progress: the return value counts the bytes of the ranges before
 * the first failing one.
 *
 *   iov[0] mapped, iov[1] unmapped hole, iov[2] mapped
 */
TEST_F(self, partial_progress)
{
	struct iovec iov[3] = {
		{ self->p, psize },
		{ self->p + 4 * psize, psize },
		{ self->p + 8 * psize, psize },
	};

	ASSERT_EQ(0, munmap(self->p + 4 * psize, psize));
	ASSERT_EQ(psize, sys_process_madvise(self->pidfd, iov, 3, MADV_DONTNEED, 0));
	ASSERT_TRUE(is_filled(self->p, psize, 0));
	/* The walk stopped at the hole: iov[2] was not advised. */
	ASSERT_TRUE(is_filled(self->p + 8 * psize, psize, 'x'));

	/* A hole in the first range fails the call with ENOMEM. */
	ASSERT_EQ(-1, sys_process_madvise(self->pidfd, &iov[1], 2, MADV_DONTNEED, 0));
	ASSERT_EQ(ENOMEM, errno);
}

/* Each bad argument has its errno, and leaves the memory unchanged. */
TEST_F(self, errnos)
{
	struct iovec iov = { self->p, psize };
	struct iovec bad_align = { self->p + 1, psize };
	struct iovec *many;
	int devnull, status;
	pid_t pid;
	int zfd;

	/* Unknown flags. */
	ASSERT_EQ(-1, sys_process_madvise(self->pidfd, &iov, 1, MADV_DONTNEED, 1));
	ASSERT_EQ(EINVAL, errno);
	/* Unknown advice, and a negative one. */
	ASSERT_EQ(-1, sys_process_madvise(self->pidfd, &iov, 1, 5, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, sys_process_madvise(self->pidfd, &iov, 1, -1, 0));
	ASSERT_EQ(EINVAL, errno);
	/* A misaligned range. */
	ASSERT_EQ(-1, sys_process_madvise(self->pidfd, &bad_align, 1, MADV_DONTNEED, 0));
	ASSERT_EQ(EINVAL, errno);
	/* An unreadable iovec. */
	ASSERT_EQ(-1, sys_process_madvise(self->pidfd, (void *)8, 1, MADV_DONTNEED, 0));
	ASSERT_EQ(EFAULT, errno);
	/* Too many iovecs. */
	many = calloc(IOV_MAX + 1, sizeof(*many));
	ASSERT_NE(NULL, many);
	ASSERT_EQ(-1, sys_process_madvise(self->pidfd, many, IOV_MAX + 1, MADV_DONTNEED, 0));
	ASSERT_EQ(EINVAL, errno);
	free(many);
	/* Not a pidfd, and not a file descriptor at all. */
	devnull = open("/dev/null", O_RDONLY);
	ASSERT_GE(devnull, 0);
	ASSERT_EQ(-1, sys_process_madvise(devnull, &iov, 1, MADV_DONTNEED, 0));
	ASSERT_EQ(EBADF, errno);
	close(devnull);
	ASSERT_EQ(-1, sys_process_madvise(-1, &iov, 1, MADV_DONTNEED, 0));
	ASSERT_EQ(EBADF, errno);
	/* A process that has exited. */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(0);
	zfd = pidfd_open(pid);
	ASSERT_GE(zfd, 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(-1, sys_process_madvise(zfd, &iov, 1, MADV_COLD, 0));
	ASSERT_EQ(ESRCH, errno);
	close(zfd);

	ASSERT_TRUE(is_filled(self->p, NPAGES * psize, 'x'));
}

/*
 * A forked target, stopped on a pipe while we advise it.  Its memory is
 * a private mapping made before fork(): pages the child rewrote are its
 * own, the others are still COW-shared with us.
 */
struct target {
	pid_t pid;
	int pidfd;
	int go[2];	/* parent -> child */
	int done[2];	/* child -> parent */
};

/* Start a child running @fn(@p) after it has written its pages. */
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
		if (prepare)
			prepare();
		_exit(fn(p, t->go[0], t->done[1]));
	}
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

/* After a remote MADV_DONTNEED of the odd pages, they read as zero. */
static int child_expect_odd_zero(char *p, int rd, int wr)
{
	return child_check_pages(p, rd, wr, 0);
}

/* After a refused or harmless call, every page is as the child left it. */
static int child_expect_unchanged(char *p, int rd, int wr)
{
	return child_check_pages(p, rd, wr, 'p');
}

/* The child writes every page and later expects the odd ones dropped. */
static int child_expect_lazyfree(char *p, int rd, int wr)
{
	char c = 0;

	for (size_t i = 0; i < NPAGES; i++)
		memset(p + i * psize, 'c', psize);
	if (write(wr, &c, 1) != 1 || read(rd, &c, 1) != 1)
		return 10;
	return odd_zero_even(p, NPAGES, 'c') ? 0 : 20;
}

/*
 * Remote MADV_DONTNEED: the target's odd pages, COW-shared with us, read
 * as zero in the target, while we still see our own data there.
 */
TEST(remote_dontneed_cow)
{
	struct iovec iov[NPAGES];
	struct target t;
	char *p = map_filled(NPAGES, 'p');
	size_t n;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, start_target(&t, p, child_expect_odd_zero, NULL));
	n = odd_pages(iov, p, NPAGES);
	ASSERT_EQ(n * psize, sys_process_madvise(t.pidfd, iov, n, MADV_DONTNEED, 0));
	ASSERT_EQ(0, finish_target(&t));
	ASSERT_TRUE(is_filled(p, NPAGES * psize, 'p'));
	munmap(p, NPAGES * psize);
}

/*
 * Remote MADV_FREE: the target's odd pages become lazily freeable, and a
 * remote MADV_PAGEOUT then drops them, while the even pages survive.
 */
TEST(remote_free)
{
	struct iovec iov[NPAGES];
	struct target t;
	char *p = map_filled(NPAGES, 'p');
	size_t n;

	ASSERT_NE(MAP_FAILED, p);
	pin_cpu0();
	ASSERT_EQ(0, start_target(&t, p, child_expect_lazyfree, pin_cpu0));
	n = odd_pages(iov, p, NPAGES);
	ASSERT_EQ(n * psize, sys_process_madvise(t.pidfd, iov, n, MADV_FREE, 0));
	/* Lazily freed, not zapped: until reclaim, the data is still there. */
	{
		struct iovec all = { p, NPAGES * psize };
		struct iovec local = { malloc(NPAGES * psize), NPAGES * psize };

		ASSERT_NE(NULL, local.iov_base);
		ASSERT_EQ(NPAGES * psize, process_vm_readv(t.pid, &local, 1, &all, 1, 0));
		ASSERT_TRUE(is_filled(local.iov_base, NPAGES * psize, 'c'));
		free(local.iov_base);
	}
	ASSERT_TRUE(pageout_drops_odd(t.pidfd, t.pid, p, NPAGES, 'c'));
	ASSERT_EQ(0, finish_target(&t));
	munmap(p, NPAGES * psize);
}

/* Advice that changes VMA flags is never remote. */
TEST(remote_invalid_advice)
{
	struct target t;
	char *p = map_filled(NPAGES, 'p');
	struct iovec iov = { p, psize };

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, start_target(&t, p, child_expect_unchanged, NULL));
	ASSERT_EQ(-1, sys_process_madvise(t.pidfd, &iov, 1, MADV_DONTFORK, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, sys_process_madvise(t.pidfd, &iov, 1, MADV_DONTNEED_LOCKED, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, finish_target(&t));
	munmap(p, NPAGES * psize);
}

/*
 * The target of remote_uffd_remove: it registers its pages with its own
 * userfaultfd, asking for UFFD_EVENT_REMOVE, and when the parent says so
 * reads one REMOVE event for each odd page.  Once the call has returned,
 * and with the registration gone, the odd pages must read as zero and the
 * even ones as before.
 */
static int child_uffd_remove(char *p, int rd, int wr)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_EVENT_REMOVE,
	};
	struct uffdio_register reg = {
		.range = { (unsigned long)p, NPAGES * psize },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	struct pollfd pfd = { .events = POLLIN };
	struct uffd_msg msg;
	char c = 0;
	int uffd;

	for (size_t i = 0; i < NPAGES; i++)
		memset(p + i * psize, 'c', psize);
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) ||
	    ioctl(uffd, UFFDIO_REGISTER, &reg))
		return 10;
	pfd.fd = uffd;
	if (write(wr, &c, 1) != 1 || read(rd, &c, 1) != 1)
		return 11;
	for (size_t i = 1; i < NPAGES; i += 2) {
		if (poll(&pfd, 1, 30000) != 1 ||
		    read(uffd, &msg, sizeof(msg)) != sizeof(msg))
			return 12;
		if (msg.event != UFFD_EVENT_REMOVE ||
		    msg.arg.remove.start != (unsigned long)(p + i * psize) ||
		    msg.arg.remove.end != (unsigned long)(p + (i + 1) * psize))
			return 20 + i;
	}
	/* Each range is zapped after its event is read: wait for the call. */
	if (read(rd, &c, 1) != 1)
		return 13;
	if (ioctl(uffd, UFFDIO_UNREGISTER, &reg.range))
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

static void *remote_dontneed(void *arg)
{
	struct remote_call *rc = arg;

	rc->ret = sys_process_madvise(rc->pidfd, rc->iov, rc->n, MADV_DONTNEED, 0);
	rc->err = errno;
	__atomic_store_n(&rc->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * A remote MADV_DONTNEED of ranges that the target registered with
 * UFFD_FEATURE_EVENT_REMOVE delivers UFFD_EVENT_REMOVE to the target's
 * monitor for each range and waits until the monitor has read it, as
 * madvise() in the target would: the call does not return while the
 * events are unread, and returns the whole length once they are read.
 */
TEST(remote_uffd_remove)
{
	struct iovec iov[NPAGES];
	struct remote_call rc;
	struct target t;
	char *p = map_filled(NPAGES, 'p');
	pthread_t thread;
	char c = 0;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, start_target(&t, p, child_uffd_remove, NULL));
	rc = (struct remote_call){ t.pidfd, iov, odd_pages(iov, p, NPAGES), -1, 0, false };
	ASSERT_EQ(0, pthread_create(&thread, NULL, remote_dontneed, &rc));
	usleep(300000);
	ASSERT_FALSE(__atomic_load_n(&rc.done, __ATOMIC_ACQUIRE))
		TH_LOG("the call returned before the monitor read its events");
	/* Now let the target read them. */
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

/*
 * Without the attach right, remote MADV_DONTNEED and MADV_FREE are refused
 * with EPERM and the target is unchanged; MADV_COLD, which needs only
 * PTRACE_MODE_READ and CAP_SYS_NICE, still works for the same caller.
 *
 * The caller keeps CAP_SYS_NICE but drops CAP_SYS_PTRACE; its fsuid
 * matches the target (READ_FSCREDS passes), its real uid does not
 * (ATTACH_REALCREDS fails).
 */
TEST(remote_eperm_without_attach)
{
	char *p = map_filled(NPAGES, 'p');
	struct target t;
	int status;
	pid_t caller;

	ASSERT_NE(MAP_FAILED, p);
	if (geteuid())
		SKIP(return, "needs root to set up the credentials");
	ASSERT_EQ(0, start_target(&t, p, child_expect_unchanged, become_target_user));

	caller = fork();
	ASSERT_GE(caller, 0);
	if (!caller) {
		struct iovec iov[NPAGES];
		size_t n = odd_pages(iov, p, NPAGES);

		if (setresuid(CALLER_UID, 0, 0))
			_exit(2);
		if (drop_cap(CAP_SYS_PTRACE))
			_exit(3);
		setfsgid(TARGET_UID);
		setfsuid(TARGET_UID);
		if (sys_process_madvise(t.pidfd, iov, n, MADV_DONTNEED, 0) != -1 ||
		    errno != EPERM)
			_exit(4);
		if (sys_process_madvise(t.pidfd, iov, n, MADV_FREE, 0) != -1 ||
		    errno != EPERM)
			_exit(5);
		if (sys_process_madvise(t.pidfd, iov, n, MADV_COLD, 0) != (ssize_t)(n * psize))
			_exit(6);
		_exit(0);
	}
	ASSERT_EQ(caller, waitpid(caller, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The target's data is intact. */
	ASSERT_EQ(0, finish_target(&t));
	munmap(p, NPAGES * psize);
}

/*
 * userfaultfd_remove() drops mmap_lock in the middle of a vectored
 * MADV_DONTNEED.  Race it with a thread that splits and merges the VMAs
 * with mprotect() and a thread that faults the pages back in; a monitor
 * thread resolves missing faults and consumes REMOVE events.  Every call
 * must advise the whole vector, and the kernel must stay quiet.
 */
#define RACE_PAGES 64
#define RACE_ROUNDS 200
#define RACE_SECONDS 10

struct race {
	char *p;
	int uffd;
	bool stop;		/* for the mprotect and touch threads */
	bool stop_monitor;	/* only once they are gone */
};

static bool race_flag(bool *flag)
{
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

static void race_set(bool *flag)
{
	__atomic_store_n(flag, true, __ATOMIC_RELEASE);
}

static void *race_monitor(void *arg)
{
	struct race *r = arg;
	struct pollfd pfd = { .fd = r->uffd, .events = POLLIN };
	struct uffd_msg msg;

	while (!race_flag(&r->stop_monitor)) {
		if (poll(&pfd, 1, 10) <= 0)
			continue;
		if (read(r->uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event == UFFD_EVENT_PAGEFAULT) {
			struct uffdio_zeropage zp = {
				.range = {
					.start = msg.arg.pagefault.address & ~(psize - 1),
					.len = psize,
				},
			};

			/*
			 * EAGAIN means a REMOVE is in flight, and EEXIST that
			 * the page is back: wake the thread, which faults
			 * again if it still needs to.  Never wait here, since
			 * the REMOVE waits for this thread to read it.
			 */
			if (ioctl(r->uffd, UFFDIO_ZEROPAGE, &zp))
				ioctl(r->uffd, UFFDIO_WAKE, &zp.range);
		}
	}
	return NULL;
}

static void *race_mprotect(void *arg)
{
	struct race *r = arg;

	for (unsigned int i = 0; !race_flag(&r->stop); i++) {
		size_t pg = (i * 7) % RACE_PAGES;

		mprotect(r->p + pg * psize, psize, PROT_READ);
		mprotect(r->p + pg * psize, psize, PROT_READ | PROT_WRITE);
	}
	return NULL;
}

static void *race_toucher(void *arg)
{
	struct race *r = arg;

	for (unsigned int i = 0; !race_flag(&r->stop); i++)
		__atomic_load_n(&r->p[((i * 13) % RACE_PAGES) * psize], __ATOMIC_RELAXED);
	return NULL;
}

TEST(uffd_remove_race)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_EVENT_REMOVE,
	};
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	pthread_t mon, mp, touch;
	struct iovec iov[RACE_PAGES / 2];
	struct race r = { 0 };
	time_t deadline;
	int pidfd, round;
	size_t n;

	r.uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (r.uffd < 0)
		SKIP(return, "userfaultfd is not available");
	if (ioctl(r.uffd, UFFDIO_API, &api))
		SKIP(return, "UFFD_FEATURE_EVENT_REMOVE is not available");
	r.p = mmap(NULL, RACE_PAGES * psize, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r.p);
	reg.range.start = (unsigned long)r.p;
	reg.range.len = RACE_PAGES * psize;
	ASSERT_EQ(0, ioctl(r.uffd, UFFDIO_REGISTER, &reg));
	pidfd = pidfd_open(getpid());
	ASSERT_GE(pidfd, 0);
	n = odd_pages(iov, r.p, RACE_PAGES);

	ASSERT_EQ(0, pthread_create(&mon, NULL, race_monitor, &r));
	ASSERT_EQ(0, pthread_create(&mp, NULL, race_mprotect, &r));
	ASSERT_EQ(0, pthread_create(&touch, NULL, race_toucher, &r));
	deadline = time(NULL) + RACE_SECONDS;
	for (round = 0; round < RACE_ROUNDS && time(NULL) < deadline; round++) {
		ssize_t ret = sys_process_madvise(pidfd, iov, n, MADV_DONTNEED, 0);

		if (ret != (ssize_t)(n * psize)) {
			race_set(&r.stop);
			race_set(&r.stop_monitor);
			ASSERT_EQ(n * psize, ret) TH_LOG("round %d: %s", round, strerror(errno));
		}
	}
	race_set(&r.stop);
	TH_LOG("%d rounds of %zu ranges", round, n);
	/* The toucher may wait in a fault: keep the monitor until it is back. */
	pthread_join(touch, NULL);
	pthread_join(mp, NULL);
	race_set(&r.stop_monitor);
	pthread_join(mon, NULL);
	/* No monitor any more: missing pages must not wait for one. */
	ASSERT_EQ(0, ioctl(r.uffd, UFFDIO_UNREGISTER, &reg.range));

	/* With the racers gone, one more call leaves the odd pages empty. */
	memset(r.p, 'u', RACE_PAGES * psize);
	ASSERT_EQ(n * psize, sys_process_madvise(pidfd, iov, n, MADV_DONTNEED, 0));
	for (size_t i = 1; i < RACE_PAGES; i += 2)
		ASSERT_EQ(0, r.p[i * psize]);
	close(pidfd);
	close(r.uffd);
	munmap(r.p, RACE_PAGES * psize);
}

TEST_HARNESS_MAIN
