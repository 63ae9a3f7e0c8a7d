// SPDX-License-Identifier: GPL-2.0
/*
 * The user-visible contract of MAP_DROPPABLE, one property per test:
 *
 *  - under memory cgroup pressure, with swap available, the pages are
 *    dropped (they read back as zero) instead of being swapped out;
 *  - a fault that cannot get memory is not fatal: a memory cgroup full of
 *    droppable memory never OOM-kills its owner;
 *  - fork() wipes the mapping in the child;
 *  - the mapping is never mlocked nor charged against RLIMIT_MEMLOCK;
 *  - the mapping is left out of core dumps;
 *  - MAP_LOCKED, MAP_HUGETLB, growable stacks, MADV_KEEPONFORK,
 *    MADV_DODUMP and userfaultfd registration are refused.
 *
 * Every test that waits does so in bounded steps and has a harness timeout.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/mman.h>
#include <linux/userfaultfd.h>

#include "../kselftest_harness.h"
#include "memcg_util.h"

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif

#define MB (1024UL * 1024UL)

static size_t page_size;

static void __attribute__((constructor)) init_page_size(void)
{
	page_size = sysconf(_SC_PAGESIZE);
}

static void *mmap_droppable(size_t len)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_ANONYMOUS | MAP_DROPPABLE, -1, 0);
}

static bool droppable_supported(void)
{
	void *p = mmap_droppable(page_size);

	if (p == MAP_FAILED)
		return false;
	munmap(p, page_size);
	return true;
}

static bool is_filled(const char *p, size_t len, char c)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != c)
			return false;
	return true;
}

/*
 * Memory cgroup pressure: a child fills a region, then the parent shrinks
 * the cgroup's memory.max below it.  Droppable pages must be dropped, not
 * swapped out; the same sequence on plain anonymous memory is the control
 * which shows that this setup does swap.
 */
FIXTURE(pressure)
{
	struct memcg cg;
	bool have_cg;
};

FIXTURE_VARIANT(pressure)
{
	bool droppable;
};

FIXTURE_VARIANT_ADD(pressure, droppable)
{
	.droppable = true,
};

FIXTURE_VARIANT_ADD(pressure, anon_control)
{
	.droppable = false,
};

FIXTURE_SETUP(pressure)
{
	if (!droppable_supported())
		SKIP(return, "MAP_DROPPABLE is not supported");
	if (!swap_enabled())
		SKIP(return, "no swap device is enabled");
	if (memcg_create(&self->cg, "droppable_pressure"))
		SKIP(return, "cgroup v2 memory controller is not available");
	self->have_cg = true;
}

FIXTURE_TEARDOWN(pressure)
{
	if (self->have_cg)
		memcg_destroy(&self->cg);
}

#define PRESSURE_SIZE (64 * MB)
#define PRESSURE_LIMIT (8 * MB)

/*
 * Fill 64 MiB, squeeze the cgroup to 8 MiB, then count what is left.
 * Droppable: at least 3/4 of the pages read back as zero, no page is torn,
 * and pswpout grows by less than 1/16 of the region (the child's own stack
 * and heap may be swapped).  Anonymous control: the data survives and
 * pswpout grows by more than half the region.
 */
TEST_F_TIMEOUT(pressure, dropped_not_swapped, 120)
{
	const size_t npages = PRESSURE_SIZE / page_size;
	int to_child[2], to_parent[2];
	long swpout_before, swpout_after, lazyfreed;
	size_t result[2] = { 0, 0 };
	char buf[32], c = 0;
	int status;
	pid_t pid;

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		int flags = MAP_ANONYMOUS | MAP_PRIVATE;
		size_t zero = 0, torn = 0;
		char *p;

		if (variant->droppable)
			flags = MAP_ANONYMOUS | MAP_DROPPABLE;
		p = mmap(NULL, PRESSURE_SIZE, PROT_READ | PROT_WRITE, flags,
			 -1, 0);
		if (p == MAP_FAILED)
			_exit(10);
		memset(p, 0xa5, PRESSURE_SIZE);
		if (write(to_parent[1], &c, 1) != 1)
			_exit(11);
		if (read(to_child[0], &c, 1) != 1)
			_exit(12);
		for (size_t i = 0; i < npages; i++) {
			char *pg = p + i * page_size;

			if (is_filled(pg, page_size, 0))
				zero++;
			else if (!is_filled(pg, page_size, (char)0xa5))
				torn++;
		}
		result[0] = zero;
		result[1] = torn;
		if (write(to_parent[1], result, sizeof(result)) != sizeof(result))
			_exit(13);
		_exit(0);
	}

	ASSERT_EQ(0, memcg_enter(&self->cg, pid));
	ASSERT_EQ(1, read(to_parent[0], &c, 1));

	swpout_before = read_key("/proc/vmstat", "pswpout");
	ASSERT_GE(swpout_before, 0);
	snprintf(buf, sizeof(buf), "%lu", PRESSURE_LIMIT);
	/* Reclaim runs here, in our context, until the child fits. */
	ASSERT_EQ(0, memcg_write(&self->cg, "memory.max", buf));
	swpout_after = read_key("/proc/vmstat", "pswpout");
	lazyfreed = memcg_read(&self->cg, "memory.stat", "pglazyfreed");

	ASSERT_EQ(1, write(to_child[1], &c, 1));
	ASSERT_EQ(sizeof(result), read(to_parent[0], result, sizeof(result)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	TH_LOG("%s: %zu of %zu pages zero, %zu torn, pswpout +%ld, pglazyfreed %ld",
	       variant->droppable ? "droppable" : "anon", result[0], npages,
	       result[1], swpout_after - swpout_before, lazyfreed);
	ASSERT_EQ(0, result[1]);
	if (variant->droppable) {
		ASSERT_GE(result[0], npages * 3 / 4);
		ASSERT_LT(swpout_after - swpout_before, (long)npages / 16);
		ASSERT_GE(lazyfreed, (long)npages / 2);
	} else {
		ASSERT_EQ(0, result[0]);
		ASSERT_GT(swpout_after - swpout_before, (long)npages / 2);
	}
}

/*
 * A fault that cannot get memory is not fatal.  Without swap, a child in a
 * 16 MiB cgroup writes 128 MiB: droppable memory makes room for itself by
 * dropping older pages, and the child exits normally with no OOM kill in
 * the cgroup.  The anonymous control is OOM-killed, which shows the limit
 * was really hit.
 */
TEST_F_TIMEOUT(pressure, fault_over_limit_not_fatal, 120)
{
	const size_t size = 128 * MB;
	char buf[32];
	int status;
	pid_t pid;
	int pfd[2];
	char c = 0;

	ASSERT_EQ(0, pipe(pfd));
	snprintf(buf, sizeof(buf), "%lu", 16 * MB);
	ASSERT_EQ(0, memcg_write(&self->cg, "memory.max", buf));
	ASSERT_EQ(0, memcg_write(&self->cg, "memory.swap.max", "0"));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		int flags = MAP_ANONYMOUS | MAP_PRIVATE | MAP_NORESERVE;
		char *p;

		if (read(pfd[0], &c, 1) != 1)
			_exit(11);
		if (variant->droppable)
			flags = MAP_ANONYMOUS | MAP_DROPPABLE;
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
		if (p == MAP_FAILED)
			_exit(10);
		for (size_t off = 0; off < size; off += page_size)
			p[off] = 1;
		_exit(0);
	}
	ASSERT_EQ(0, memcg_enter(&self->cg, pid));
	ASSERT_EQ(1, write(pfd[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));

	if (variant->droppable) {
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(0, WEXITSTATUS(status));
		ASSERT_EQ(0, memcg_read(&self->cg, "memory.events", "oom_kill"));
	} else {
		ASSERT_TRUE(WIFSIGNALED(status));
		ASSERT_EQ(SIGKILL, WTERMSIG(status));
		ASSERT_GE(memcg_read(&self->cg, "memory.events", "oom_kill"), 1);
	}
}

FIXTURE(alloc_fail)
{
	struct fail_alloc knobs;
};

FIXTURE_VARIANT(alloc_fail)
{
	bool droppable;
};

FIXTURE_VARIANT_ADD(alloc_fail, droppable)
{
	.droppable = true,
};

FIXTURE_VARIANT_ADD(alloc_fail, anon_control)
{
	.droppable = false,
};

FIXTURE_SETUP(alloc_fail)
{
	if (!droppable_supported())
		SKIP(return, "MAP_DROPPABLE is not supported");
	if (fail_alloc_save(&self->knobs))
		SKIP(return, "no fail_page_alloc: %s", self->knobs.error);
	ASSERT_EQ(0, fail_alloc_arm(&self->knobs)) TH_LOG("%s", self->knobs.error);
}

FIXTURE_TEARDOWN(alloc_fail)
{
	fail_alloc_restore(&self->knobs);
}

/*
 * The child of alloc_fail.read_into_untouched: read() from a pipe into an
 * untouched page while fail_page_alloc fails this task's next 4 page
 * allocations.  Reports read()'s result, its errno, how many injected
 * failures were left and whether the data arrived.  With KASAN the stack
 * depot can take the injected failures from another allocation, so try a
 * bounded number of times: until one failure was used (droppable), or
 * until read() failed (the control).
 */
static int alloc_fail_child(int wr, bool droppable)
{
	int flags = MAP_ANONYMOUS | (droppable ? MAP_DROPPABLE : MAP_PRIVATE);
	long res[4] = { 0, 0, 4, 0 };
	int mif, pfd[2];
	char msg[64];

	mif = open("/proc/self/make-it-fail", O_WRONLY);
	if (mif < 0 || pipe(pfd))
		return 1;
	memset(msg, 0x5a, sizeof(msg));
	for (int i = 0; i < 20 && (droppable ? res[2] == 4 : res[0] != -1); i++) {
		char *p = mmap(NULL, page_size, PROT_READ | PROT_WRITE, flags, -1, 0);

		if (p == MAP_FAILED || write(pfd[1], msg, sizeof(msg)) != sizeof(msg))
			return 2;
		if (write_str(FAIL_PAGE_ALLOC "times", "4") || pwrite(mif, "1", 1, 0) != 1)
			return 3;
		errno = 0;
		res[0] = read(pfd[0], p, sizeof(msg));
		res[1] = errno;
		if (pwrite(mif, "0", 1, 0) != 1)
			return 4;
		res[2] = read_long(FAIL_PAGE_ALLOC "times");
		res[3] = res[0] == sizeof(msg) && !memcmp(p, msg, sizeof(msg));
		if (res[0] != sizeof(msg) && read(pfd[0], msg, sizeof(msg)) != sizeof(msg))
			return 5;
		munmap(p, page_size);
	}
	return write(wr, res, sizeof(res)) == sizeof(res) ? 0 : 6;
}

/*
 * A droppable fault that cannot get a page is retried, not failed:
 * handle_mm_fault() masks VM_FAULT_OOM for droppable VMAs.  A kernel
 * access shows the difference.  read() into droppable memory completes once
 * the injected failures are used up, while into anonymous memory (the
 * control) the same read() fails with EFAULT.
 */
TEST_F(alloc_fail, read_into_untouched)
{
	long res[4];
	int pfd[2], status;
	pid_t pid;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(alloc_fail_child(pfd[1], variant->droppable));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, write_str(FAIL_PAGE_ALLOC "probability", "0"));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(sizeof(res), read(pfd[0], res, sizeof(res)));
	TH_LOG("read() %ld, errno %ld, %ld injected failures left", res[0], res[1], res[2]);
	ASSERT_LT(res[2], 4) TH_LOG("no injected failure reached the fault");
	if (variant->droppable) {
		ASSERT_EQ(64, res[0]);
		ASSERT_EQ(1, res[3]);
	} else {
		ASSERT_EQ(-1, res[0]);
		ASSERT_EQ(EFAULT, res[1]);
	}
}

/*
 * The parent's data survives fork(); the child sees zeroes (wipe on fork)
 * and its writes do not reach the parent.
 */
TEST(fork_wipes_child)
{
	const size_t len = 16 * page_size;
	int status;
	char *p;
	pid_t pid;

	p = mmap_droppable(len);
	if (p == MAP_FAILED)
		SKIP(return, "MAP_DROPPABLE is not supported");
	memset(p, 0x5a, len);
	ASSERT_EQ(1, vma_has_flag(p, "wf"));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		if (!is_filled(p, len, 0))
			_exit(1);
		memset(p, 0x33, len);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_TRUE(is_filled(p, len, 0x5a));
	munmap(p, len);
}

/*
 * mlock() and mlockall() leave droppable memory unlocked and uncharged:
 * VmLck does not grow and the VMA never gets VM_LOCKED.
 */
TEST(mlock_does_not_lock)
{
	const size_t len = 64 * page_size;
	char *p, *q;

	p = mmap_droppable(len);
	if (p == MAP_FAILED)
		SKIP(return, "MAP_DROPPABLE is not supported");
	ASSERT_EQ(0, status_kb("VmLck"));
	ASSERT_EQ(0, mlock(p, len));
	ASSERT_EQ(0, vma_has_flag(p, "lo"));
	ASSERT_EQ(0, status_kb("VmLck"));

	ASSERT_EQ(0, mlockall(MCL_FUTURE));
	q = mmap_droppable(len);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, vma_has_flag(q, "lo"));
	ASSERT_EQ(0, status_kb("VmLck"));
	ASSERT_EQ(0, munlockall());
	munmap(p, len);
	munmap(q, len);
}

/*
 * RLIMIT_MEMLOCK does not apply to droppable memory: without
 * CAP_IPC_LOCK, after mlockall(MCL_FUTURE) with a 64 KiB limit, a 16 MiB
 * droppable mapping still succeeds, while the same anonymous mapping is
 * refused with EAGAIN.
 */
TEST(memlock_rlimit_not_charged)
{
	const size_t len = 16 * MB;
	int status;
	pid_t pid;

	if (!droppable_supported())
		SKIP(return, "MAP_DROPPABLE is not supported");

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		struct rlimit rl = { 64 * 1024, 64 * 1024 };
		char *p;

		/* Drop CAP_IPC_LOCK along with root. */
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(20);
		if (setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(21);
		if (mlockall(MCL_FUTURE))
			_exit(22);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
		if (p != MAP_FAILED || errno != EAGAIN)
			_exit(23);
		p = mmap_droppable(len);
		if (p == MAP_FAILED)
			_exit(24);
		p[0] = 1;
		if (vma_has_flag(p, "lo") != 0 || status_kb("VmLck") != 0)
			_exit(25);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

static bool file_contains(const char *path, const char *needle, size_t nlen)
{
	static char buf[1 << 20];
	size_t have = 0, n;
	bool found = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	while (!found && (n = fread(buf + have, 1, sizeof(buf) - have, f)) > 0) {
		have += n;
		found = !!memmem(buf, have, needle, nlen);
		if (have > nlen) {
			memmove(buf, buf + have - nlen, nlen);
			have = nlen;
		}
	}
	fclose(f);
	return found;
}

static void fill_marker(char *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i += sizeof(seed))
		memcpy(p + i, &seed, sizeof(seed));
}

/*
 * A core dump holds the ordinary anonymous page but not the droppable one.
 * The markers are built at run time, so they exist only in those pages.
 */
TEST(not_in_core_dump)
{
	char core[64], old_pattern[256] = "", needle[256];
	uint64_t seed = ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;
	int status, fd;
	ssize_t n;
	pid_t pid;

	if (!droppable_supported())
		SKIP(return, "MAP_DROPPABLE is not supported");
	fd = open("/proc/sys/kernel/core_pattern", O_RDWR);
	if (fd < 0)
		SKIP(return, "cannot open core_pattern");
	n = read(fd, old_pattern, sizeof(old_pattern) - 1);
	close(fd);
	ASSERT_GT(n, 0);
	old_pattern[n] = 0;
	if (write_str("/proc/sys/kernel/core_pattern", "/tmp/droppable-core.%p"))
		SKIP(return, "cannot set core_pattern");

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
		char *d = mmap_droppable(page_size);
		char *a = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
			       MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);

		if (d == MAP_FAILED || a == MAP_FAILED)
			_exit(1);
		fill_marker(d, page_size, seed);
		fill_marker(a, page_size, ~seed);
		setrlimit(RLIMIT_CORE, &rl);
		prctl(PR_SET_DUMPABLE, 1);
		abort();
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	write_str("/proc/sys/kernel/core_pattern", old_pattern);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_TRUE(WCOREDUMP(status));

	snprintf(core, sizeof(core), "/tmp/droppable-core.%d", pid);
	fill_marker(needle, sizeof(needle), ~seed);
	EXPECT_TRUE(file_contains(core, needle, sizeof(needle)));
	fill_marker(needle, sizeof(needle), seed);
	EXPECT_FALSE(file_contains(core, needle, sizeof(needle)));
	unlink(core);
	ASSERT_EQ(1, vma_has_flag(mmap_droppable(page_size), "dd"));
}

/* Flag combinations that make no sense for droppable memory are refused. */
TEST(refused_combinations)
{
	char *p;

	if (!droppable_supported())
		SKIP(return, "MAP_DROPPABLE is not supported");

	p = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		 MAP_ANONYMOUS | MAP_DROPPABLE | MAP_LOCKED, -1, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);

	p = mmap(NULL, 2 * MB, PROT_READ | PROT_WRITE,
		 MAP_ANONYMOUS | MAP_DROPPABLE | MAP_HUGETLB, -1, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);

	p = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		 MAP_ANONYMOUS | MAP_DROPPABLE | MAP_GROWSDOWN, -1, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);

	p = mmap_droppable(page_size);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(1, vma_has_flag(p, "dp"));
	ASSERT_EQ(-1, madvise(p, page_size, MADV_KEEPONFORK));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, madvise(p, page_size, MADV_DODUMP));
	ASSERT_EQ(EINVAL, errno);
	munmap(p, page_size);
}

/* uffd_register() result when userfaultfd itself is not available. */
#define UFFD_UNAVAILABLE 1

/* Register [p, p + len) in @mode: 0, -errno, or UFFD_UNAVAILABLE. */
static int uffd_register(void *p, size_t len, __u64 mode)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (unsigned long)p, .len = len },
		.mode = mode,
	};
	int fd, ret;

	fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd < 0)
		return UFFD_UNAVAILABLE;
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return UFFD_UNAVAILABLE;
	}
	ret = ioctl(fd, UFFDIO_REGISTER, &reg) ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * userfaultfd cannot be registered on droppable memory: a dropped page
 * would fault again as "missing" behind the monitor's back.  Plain
 * anonymous memory is the control.
 */
TEST(uffd_register_refused)
{
	const size_t len = 2 * page_size;
	char *d, *a;
	int ret;

	d = mmap_droppable(len);
	if (d == MAP_FAILED)
		SKIP(return, "MAP_DROPPABLE is not supported");
	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	ASSERT_NE(MAP_FAILED, a);

	ret = uffd_register(a, len, UFFDIO_REGISTER_MODE_MISSING);
	if (ret == UFFD_UNAVAILABLE)
		SKIP(return, "userfaultfd is not available");
	ASSERT_EQ(0, ret);

	ASSERT_EQ(-EINVAL, uffd_register(d, len, UFFDIO_REGISTER_MODE_MISSING));
	ASSERT_EQ(-EINVAL, uffd_register(d, len, UFFDIO_REGISTER_MODE_WP));
	ASSERT_EQ(0, vma_has_flag(d, "um"));
	munmap(d, len);
	munmap(a, len);
}

TEST_HARNESS_MAIN
