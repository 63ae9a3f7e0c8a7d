// SPDX-License-Identifier: GPL-2.0
/*
 * The user-visible contract of MAP_DROPPABLE, one property per test:
 *
 *  - under memory cgroup pressure, with swap available, the pages are
 *    dropped (they read back as zero) instead of being swapped out, THPs
 *    included, and memory.reclaim drops what it is asked for and succeeds;
 *  - a memory cgroup full of droppable memory never OOM-kills its owner,
 *    and a fault that cannot get a page is retried, not failed;
 *  - the vDSO getrandom() state, the kernel's own droppable memory, keeps
 *    giving fresh random bytes when it is dropped under pressure;
 *  - fork() wipes the mapping in the child, which stays droppable;
 *  - the mapping is never mlocked, populated by MCL_FUTURE, nor charged
 *    against RLIMIT_MEMLOCK;
 *  - the mapping is left out of core dumps;
 *  - MAP_LOCKED, MAP_HUGETLB, growable stacks, MADV_KEEPONFORK,
 *    MADV_DODUMP and userfaultfd registration are refused.
 *
 * Every test that waits does so in bounded steps and has a harness timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/mman.h>
#include <linux/random.h>
#include <linux/userfaultfd.h>

#include "../kselftest_harness.h"
#include "../vDSO/parse_vdso.h"
#include "../vDSO/vdso_config.h"
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
 * After fork(), each side closes the pipe ends it does not use, so that a
 * read() sees EOF when the other side is gone, and the child dies with its
 * parent: a failed assertion never leaves a child blocked in a cgroup.
 */
static void pipes_after_fork(int to_child[2], int to_parent[2], bool child)
{
	if (child) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(to_child[1]);
		close(to_parent[0]);
	} else {
		close(to_child[0]);
		close(to_parent[1]);
	}
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

/* The PMD (THP) size, from sysfs; 0 until pressure_thp reads it. */
static size_t pmd_size;

/*
 * Map the region of a pressure test: droppable or anonymous, and with
 * @thp aligned to the PMD size and MADV_HUGEPAGE, so that it is backed by
 * THPs.
 */
static char *pressure_map(bool droppable, bool thp, size_t len)
{
	int flags = MAP_ANONYMOUS | (droppable ? MAP_DROPPABLE : MAP_PRIVATE);
	size_t extra = thp ? pmd_size : 0;
	char *p, *aligned;

	p = mmap(NULL, len + extra, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED || !thp)
		return p;
	aligned = (char *)(((unsigned long)p + pmd_size - 1) & ~(pmd_size - 1));
	if (aligned > p)
		munmap(p, aligned - p);
	if (aligned + len < p + len + extra)
		munmap(aligned + len, p + len + extra - (aligned + len));
	if (madvise(aligned, len, MADV_HUGEPAGE))
		return MAP_FAILED;
	return aligned;
}

/* What the child of dropped_not_swapped reports. */
struct pressure_result {
	long zero, torn, thp_kb, swap_kb, status;
};

/*
 * The child of a pressure test, once it is in the cgroup: fill the region,
 * say so, wait for the squeeze, then count zero and torn pages and read the
 * region's own Swap: from smaps.
 */
static int pressure_child(bool droppable, bool thp, int rd, int wr)
{
	struct pressure_result r = { 0 };
	const size_t npages = PRESSURE_SIZE / page_size;
	char c = 0, *p;

	/* Wait until the parent has moved us into the cgroup. */
	if (read(rd, &c, 1) != 1)
		return 9;
	p = pressure_map(droppable, thp, PRESSURE_SIZE);
	if (p == MAP_FAILED)
		return 10;
	memset(p, 0xa5, PRESSURE_SIZE);
	r.thp_kb = smaps_kb(p, "AnonHugePages");
	if (write(wr, &c, 1) != 1 || read(rd, &c, 1) != 1)
		return 11;
	/* Swap: first, before reading the pages brings any of them back. */
	r.swap_kb = smaps_kb(p, "Swap");
	for (size_t i = 0; i < npages; i++) {
		char *pg = p + i * page_size;

		if (is_filled(pg, page_size, 0))
			r.zero++;
		else if (!is_filled(pg, page_size, (char)0xa5))
			r.torn++;
	}
	return write(wr, &r, sizeof(r)) == sizeof(r) ? 0 : 12;
}

/*
 * Fill 64 MiB in a cgroup, squeeze the cgroup to 8 MiB, then look.  The
 * child is in the cgroup before it maps anything, so all of the region is
 * charged there.  Droppable (4 KiB pages or THPs): at least 3/4 of the
 * pages read back as zero, no page is torn, and none of the region is in
 * swap: smaps "Swap:" is exactly 0.  Anonymous control: the data survives,
 * and more than half the region is in swap.
 */
static void dropped_not_swapped(struct __test_metadata *_metadata,
				struct memcg *cg, bool droppable, bool thp)
{
	const long npages = PRESSURE_SIZE / page_size;
	int to_child[2], to_parent[2];
	struct pressure_result r;
	long lazyfreed;
	char buf[32], c = 0;
	int status;
	pid_t pid;

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		pipes_after_fork(to_child, to_parent, true);
		_exit(pressure_child(droppable, thp, to_child[0], to_parent[1]));
	}
	pipes_after_fork(to_child, to_parent, false);
	ASSERT_EQ(0, memcg_enter(cg, pid));
	ASSERT_EQ(1, write(to_child[1], &c, 1));
	ASSERT_EQ(1, read(to_parent[0], &c, 1));

	snprintf(buf, sizeof(buf), "%lu", PRESSURE_LIMIT);
	/* Reclaim runs here, in our context, until the child fits. */
	ASSERT_EQ(0, memcg_write(cg, "memory.max", buf));
	lazyfreed = memcg_read(cg, "memory.stat", "pglazyfreed");

	ASSERT_EQ(1, write(to_child[1], &c, 1));
	ASSERT_EQ(sizeof(r), read(to_parent[0], &r, sizeof(r)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	TH_LOG("%s%s: %ld of %ld pages zero, %ld torn, Swap %ld kB, THP %ld kB, pglazyfreed %ld",
	       droppable ? "droppable" : "anon", thp ? " (THP)" : "",
	       r.zero, npages, r.torn, r.swap_kb, r.thp_kb, lazyfreed);
	ASSERT_EQ(0, r.torn);
	if (thp)
		ASSERT_GE(r.thp_kb, (long)(PRESSURE_SIZE / 1024 / 2))
			TH_LOG("the region was not backed by THPs");
	if (droppable) {
		ASSERT_GE(r.zero, npages * 3 / 4);
		ASSERT_EQ(0, r.swap_kb);
		ASSERT_GE(lazyfreed, npages / 2);
	} else {
		ASSERT_EQ(0, r.zero);
		ASSERT_GT(r.swap_kb, (long)(PRESSURE_SIZE / 1024 / 2));
	}
}

TEST_F_TIMEOUT(pressure, dropped_not_swapped, 120)
{
	dropped_not_swapped(_metadata, &self->cg, variant->droppable, false);
}

/*
 * The same with the region backed by THPs: droppable THPs are dropped
 * whole or split and dropped, never swapped.
 */
FIXTURE(pressure_thp)
{
	struct memcg cg;
	bool have_cg;
};

FIXTURE_SETUP(pressure_thp)
{
	char thp[64];

	if (!droppable_supported())
		SKIP(return, "MAP_DROPPABLE is not supported");
	if (!swap_enabled())
		SKIP(return, "no swap device is enabled");
	if (read_str("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof(thp)) ||
	    strstr(thp, "[never]"))
		SKIP(return, "transparent hugepages are not available");
	pmd_size = read_long("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size");
	if ((long)pmd_size <= 0 || PRESSURE_SIZE % pmd_size)
		SKIP(return, "no PMD size that divides the region");
	if (memcg_create(&self->cg, "droppable_pressure_thp"))
		SKIP(return, "cgroup v2 memory controller is not available");
	self->have_cg = true;
}

FIXTURE_TEARDOWN(pressure_thp)
{
	if (self->have_cg)
		memcg_destroy(&self->cg);
}

TEST_F_TIMEOUT(pressure_thp, dropped_not_swapped, 120)
{
	dropped_not_swapped(_metadata, &self->cg, true, true);
}

/*
 * memory.reclaim on a cgroup that holds 64 MiB of written droppable memory
 * and is asked for 16 MiB: the write succeeds, the cgroup gives back at
 * least what was asked, and most of the region is still there, because
 * dropped pages count as reclaimed.  Were they not, reclaim would go on
 * dropping until nothing was left and then fail with EAGAIN.  The anonymous
 * control shows the same request succeeding by swapping.
 */
TEST_F_TIMEOUT(pressure, reclaim_counts_dropped, 120)
{
	const long npages = PRESSURE_SIZE / page_size;
	int to_child[2], to_parent[2];
	struct pressure_result r;
	long before, after;
	char c = 0;
	int status, ret;
	pid_t pid;

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		pipes_after_fork(to_child, to_parent, true);
		_exit(pressure_child(variant->droppable, false, to_child[0], to_parent[1]));
	}
	pipes_after_fork(to_child, to_parent, false);
	ASSERT_EQ(0, memcg_enter(&self->cg, pid));
	ASSERT_EQ(1, write(to_child[1], &c, 1));
	ASSERT_EQ(1, read(to_parent[0], &c, 1));

	before = memcg_read_value(&self->cg, "memory.current");
	ret = memcg_write(&self->cg, "memory.reclaim", "16M");
	after = memcg_read_value(&self->cg, "memory.current");

	ASSERT_EQ(1, write(to_child[1], &c, 1));
	ASSERT_EQ(sizeof(r), read(to_parent[0], &r, sizeof(r)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	TH_LOG("%s: memory.reclaim 16M: %d, memory.current %ld -> %ld kB, %ld of %ld pages zero",
	       variant->droppable ? "droppable" : "anon", ret, before / 1024, after / 1024,
	       r.zero, npages);
	ASSERT_EQ(0, ret);
	/* 1 MiB of slack for kernel memory charged during the write. */
	ASSERT_LE(after, before - (long)(15 * MB));
	if (variant->droppable) {
		/* No more than half the region went for a quarter asked. */
		ASSERT_LE(r.zero, npages / 2);
		ASSERT_GE(r.zero, npages / 8);
	} else {
		ASSERT_EQ(0, r.zero);
	}
}

/*
 * A cgroup full of droppable memory does not OOM-kill its owner.  Without
 * swap, a child in a 16 MiB cgroup writes 128 MiB: droppable memory makes
 * room for itself by dropping older pages, and the child exits normally
 * with no OOM kill in the cgroup.  The anonymous control is OOM-killed,
 * which shows the limit was really hit.  The faults here always get a page
 * in the end, because reclaim can always drop one: what happens when a
 * fault really gets none is alloc_fail.read_into_untouched.
 */
TEST_F_TIMEOUT(pressure, over_limit_not_oom_killed, 120)
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

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pfd[1]);
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
	close(pfd[0]);
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
 * The vDSO's getrandom() keeps its per-thread state in memory that user
 * space maps with the prot and flags the vDSO asks for: MAP_DROPPABLE.
 * Look it up with the vDSO selftests' parser.
 */
typedef ssize_t (*vgetrandom_t)(void *buf, size_t len, unsigned int flags,
				void *state, size_t state_len);

static vgetrandom_t vdso_getrandom(void)
{
	static bool parsed;
	unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);

	if (!ehdr)
		return NULL;
	if (!parsed) {
		vdso_init_from_sysinfo_ehdr(ehdr);
		parsed = true;
	}
	return (vgetrandom_t)vdso_sym(versions[VDSO_VERSION], names[VDSO_NAMES][6]);
}

FIXTURE(vdso_state)
{
	struct memcg cg;
	bool have_cg;
};

FIXTURE_SETUP(vdso_state)
{
	if (!vdso_getrandom())
		SKIP(return, "the vDSO has no getrandom()");
	if (!swap_enabled())
		SKIP(return, "no swap device is enabled");
	if (memcg_create(&self->cg, "droppable_vdso"))
		SKIP(return, "cgroup v2 memory controller is not available");
	self->have_cg = true;
}

FIXTURE_TEARDOWN(vdso_state)
{
	if (self->have_cg)
		memcg_destroy(&self->cg);
}

#define VDSO_ROUNDS 6
#define VDSO_DRAWS 16
#define VDSO_BLOCK 64
#define VDSO_BALLAST (32 * MB)

/* The child's word to the parent: reclaim now, or done (result follows). */
struct vdso_msg {
	long done;
	void *state;
};

/* What the child of vdso_state.dropped_under_pressure reports. */
struct vdso_result {
	long status, dropped_rounds, swap_kb, ballast_swap_kb;
	unsigned int prot, flags;
};

static unsigned char vdso_out[VDSO_ROUNDS * VDSO_DRAWS][VDSO_BLOCK];

/*
 * The child: in the cgroup, allocate a vgetrandom() state the way a C
 * library does, draw random bytes, and between rounds let the parent
 * reclaim the cgroup, which must drop the state page (with the ballast).
 */
static void vdso_child(int rd, int wr)
{
	struct vgetrandom_opaque_params params = { 0 };
	struct vdso_result r = { 0 };
	struct vdso_msg msg = { 0 };
	vgetrandom_t vgr = vdso_getrandom();
	char c, *state, *ballast;
	int n = 0;

	if (read(rd, &c, 1) != 1)
		_exit(9);
	if (vgr(NULL, 0, 0, &params, ~0UL) != 0) {
		r.status = 1;
		goto out;
	}
	r.prot = params.mmap_prot;
	r.flags = params.mmap_flags;
	state = mmap(NULL, page_size, params.mmap_prot, params.mmap_flags, -1, 0);
	ballast = mmap_droppable(VDSO_BALLAST);
	if (state == MAP_FAILED || ballast == MAP_FAILED) {
		r.status = 2;
		goto out;
	}
	memset(ballast, 0x77, VDSO_BALLAST);
	for (int round = 0; round < VDSO_ROUNDS; round++) {
		unsigned char vec;

		for (int i = 0; i < VDSO_DRAWS; i++, n++) {
			if (vgr(vdso_out[n], VDSO_BLOCK, 0, state,
				params.size_of_opaque_state) != VDSO_BLOCK) {
				r.status = 3;
				goto out;
			}
		}
		msg.state = state;
		if (write(wr, &msg, sizeof(msg)) != sizeof(msg) || read(rd, &c, 1) != 1)
			_exit(10);
		if (mincore(state, page_size, &vec)) {
			r.status = 4;
			goto out;
		}
		r.dropped_rounds += !(vec & 1);
		r.swap_kb += smaps_kb(state, "Swap");
		r.ballast_swap_kb += smaps_kb(ballast, "Swap");
	}
out:
	msg.done = 1;
	if (write(wr, &msg, sizeof(msg)) != sizeof(msg) || write(wr, &r, sizeof(r)) != sizeof(r) ||
	    write(wr, vdso_out, sizeof(vdso_out)) != sizeof(vdso_out))
		_exit(11);
	_exit(0);
}

/*
 * The vDSO getrandom() state under memory pressure.  Between rounds of
 * draws, the cgroup is reclaimed as far as it goes, until the state page
 * is dropped (it reads as zero, which the vDSO takes for a state to reseed),
 * nothing of it or of the droppable ballast goes to swap, and every block
 * of random bytes drawn in all rounds is new: a dropped state never
 * replays output.
 */
TEST_F_TIMEOUT(vdso_state, dropped_under_pressure, 120)
{
	static unsigned char out[VDSO_ROUNDS * VDSO_DRAWS][VDSO_BLOCK];
	int to_child[2], to_parent[2], status, ret, passes = 0;
	struct vdso_result r;
	struct vdso_msg msg = { 0 };
	char c = 0, zero[VDSO_BLOCK] = { 0 };
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		pipes_after_fork(to_child, to_parent, true);
		vdso_child(to_child[0], to_parent[1]);
	}
	pipes_after_fork(to_child, to_parent, false);
	ASSERT_EQ(0, memcg_enter(&self->cg, pid));
	ASSERT_EQ(1, write(to_child[1], &c, 1));
	for (;;) {
		ASSERT_EQ(sizeof(msg), read(to_parent[0], &msg, sizeof(msg)));
		if (msg.done)
			break;
		/*
		 * Ask for more than the cgroup holds, so that reclaim goes
		 * through every generation, the young state page included;
		 * it cannot get all of it, so EAGAIN is expected.  A pass
		 * may still stop short of the state page: repeat, a bounded
		 * number of times, until the child's state VMA holds nothing.
		 */
		for (int i = 0; i < 8; i++) {
			ret = memcg_write(&self->cg, "memory.reclaim", "64M");
			ASSERT_TRUE(ret == 0 || ret == -EAGAIN) TH_LOG("memory.reclaim: %d", ret);
			passes++;
			if (smaps_kb_of(pid, msg.state, "Rss") == 0)
				break;
		}
		ASSERT_EQ(1, write(to_child[1], &c, 1));
	}
	ASSERT_EQ(sizeof(r), read(to_parent[0], &r, sizeof(r)));
	while (got < sizeof(out) &&
	       (n = read(to_parent[0], (char *)out + got, sizeof(out) - got)) > 0)
		got += n;
	ASSERT_EQ(sizeof(out), got);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	TH_LOG("state prot %#x flags %#x; dropped in %ld of %d rounds (%d passes); Swap %ld+%ld kB",
	       r.prot, r.flags, r.dropped_rounds, VDSO_ROUNDS, passes, r.swap_kb,
	       r.ballast_swap_kb);
	ASSERT_EQ(0, r.status);
	ASSERT_EQ(MAP_DROPPABLE, r.flags & MAP_TYPE);
	ASSERT_EQ(VDSO_ROUNDS, r.dropped_rounds);
	ASSERT_EQ(0, r.swap_kb);
	ASSERT_EQ(0, r.ballast_swap_kb);
	for (int i = 0; i < VDSO_ROUNDS * VDSO_DRAWS; i++) {
		int same = -1;

		ASSERT_NE(0, memcmp(out[i], zero, VDSO_BLOCK));
		for (int j = 0; j < i && same < 0; j++)
			if (!memcmp(out[i], out[j], VDSO_BLOCK))
				same = j;
		ASSERT_EQ(-1, same) TH_LOG("block %d repeats block %d", i, same);
	}
}

/*
 * The parent's data survives fork(); the child sees zeroes (wipe on fork),
 * its mapping is still droppable and wiped on fork, and its writes do not
 * reach the parent.
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
		if (vma_has_flag(p, "dp") != 1)
			_exit(2);
		if (vma_has_flag(p, "wf") != 1)
			_exit(3);
		memset(p, 0x33, len);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_TRUE(is_filled(p, len, 0x5a));
	munmap(p, len);
}

/* How many pages of [p, p + len) are resident, or -1. */
static long resident_pages(void *p, size_t len)
{
	unsigned char vec[256];
	size_t n = len / page_size;
	long count = 0;

	if (n > sizeof(vec) || mincore(p, len, vec))
		return -1;
	for (size_t i = 0; i < n; i++)
		count += vec[i] & 1;
	return count;
}

/*
 * mlock() and mlockall() leave droppable memory unlocked and uncharged:
 * VmLck does not grow and the VMA never gets VM_LOCKED.  Under
 * mlockall(MCL_FUTURE) a new droppable mapping is not populated either:
 * nothing is locked, so there is nothing to fault in ahead.  (As root,
 * RLIMIT_MEMLOCK does not apply; memlock_rlimit_not_charged tests it.)
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
	ASSERT_EQ(0, resident_pages(q, len));
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

/*
 * Flag combinations that make no sense for droppable memory are refused
 * by do_mmap()'s MAP_DROPPABLE case.
 */
TEST(refused_combinations)
{
	char *p;

	if (!droppable_supported())
		SKIP(return, "MAP_DROPPABLE is not supported");

	p = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		 MAP_ANONYMOUS | MAP_DROPPABLE | MAP_LOCKED, -1, 0);
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

/*
 * MAP_HUGETLB | MAP_DROPPABLE is refused, but not by the MAP_HUGETLB test
 * of do_mmap()'s MAP_DROPPABLE case: mmap(2) turns any MAP_HUGETLB request
 * into a mapping of a hugetlbfs file, and MAP_DROPPABLE is not a valid
 * type for a file mapping.  So this is what a caller sees, whichever check
 * says no.  The same request without MAP_DROPPABLE, the control, succeeds.
 */
TEST(hugetlb_refused)
{
	char *p;

	if (!droppable_supported())
		SKIP(return, "MAP_DROPPABLE is not supported");

	p = mmap(NULL, 2 * MB, PROT_READ | PROT_WRITE,
		 MAP_ANONYMOUS | MAP_PRIVATE | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED)
		SKIP(return, "no free 2 MiB hugetlb page for the control");
	munmap(p, 2 * MB);

	p = mmap(NULL, 2 * MB, PROT_READ | PROT_WRITE,
		 MAP_ANONYMOUS | MAP_DROPPABLE | MAP_HUGETLB, -1, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
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
 * anonymous memory is the control, in both modes.
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
	ASSERT_EQ(0, uffd_register(a, len, UFFDIO_REGISTER_MODE_WP));

	ASSERT_EQ(-EINVAL, uffd_register(d, len, UFFDIO_REGISTER_MODE_MISSING));
	ASSERT_EQ(-EINVAL, uffd_register(d, len, UFFDIO_REGISTER_MODE_WP));
	munmap(d, len);
	munmap(a, len);
}

TEST_HARNESS_MAIN
