// SPDX-License-Identifier: GPL-2.0-only
/*
 * Refpage mappings in the KUnit thread's own mm.
 *
 * refpage_gup: a read-only pin takes the reference page, a long-term pin or
 * a pin past the ceiling takes a private copy filled from the pattern, and
 * the reference page's count never passes REFPAGE_GUP_REF_CEILING by more
 * than the pins in flight.
 *
 * refpage_vma: what the file's mmap hook makes of a real VMA, through
 * vm_mmap() as mmap(2) reaches it: a private mapping becomes anonymous
 * memory that keeps the file and may never become executable; shared and
 * executable mappings are refused.
 */
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/refpage.h>
#include <linux/string.h>
#include <linux/uaccess.h>

static const char refpage_gup_pattern[] = "refpage-gup-test";
#define PATTERN_SIZE	(sizeof(refpage_gup_pattern) - 1)

KUNIT_DEFINE_ACTION_WRAPPER(refpage_gup_fput, fput, struct file *);

/*
 * A refpage descriptor made through refpage_create_fd(), as user space
 * makes it, and a one-page private mapping of it.  The test keeps the
 * file's first reference until it ends, so that it can name the reference
 * page.
 */
static unsigned long refpage_gup_map(struct kunit *test, struct file **filep)
{
	unsigned long buf, addr;
	struct file *file;
	long fd;

	buf = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
			    MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_FALSE_MSG(test, !buf || IS_ERR_VALUE(buf),
			       "no user memory for the pattern: %ld", (long)buf);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)buf,
					   refpage_gup_pattern, PATTERN_SIZE), 0);

	fd = refpage_create_fd((const void __user *)buf, PATTERN_SIZE, 0);
	KUNIT_ASSERT_GE_MSG(test, fd, 0, "refpage_create_fd: %ld", fd);
	/* Take the descriptor's reference over, and the descriptor away. */
	file = file_close_fd(fd);
	KUNIT_ASSERT_NOT_NULL(test, file);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, refpage_gup_fput,
							file), 0);
	KUNIT_ASSERT_NOT_NULL(test, refpage_file_page(file));

	addr = kunit_vm_mmap(test, file, 0, PAGE_SIZE, PROT_READ, MAP_PRIVATE,
			     0);
	KUNIT_ASSERT_FALSE_MSG(test, !addr || IS_ERR_VALUE(addr),
			       "mmap of the refpage file: %ld", (long)addr);
	*filep = file;
	return addr;
}

/* Does @page hold the pattern, repeated over the whole page? */
static bool refpage_gup_holds_pattern(struct page *page)
{
	const char *p = page_address(page);
	size_t i;

	for (i = 0; i < PAGE_SIZE; i++)
		if (p[i] != refpage_gup_pattern[i % PATTERN_SIZE])
			return false;
	return true;
}

/* A short-term read-only pin of an untouched page pins the reference page. */
static void refpage_gup_pin_takes_reference_page(struct kunit *test)
{
	struct page *ref, *page = NULL;
	struct file *file;
	unsigned long addr = refpage_gup_map(test, &file);
	int before;

	ref = refpage_file_page(file);
	before = page_ref_count(ref);
	KUNIT_ASSERT_EQ(test, pin_user_pages_fast(addr, 1, 0, &page), 1);
	KUNIT_EXPECT_PTR_EQ(test, page, ref);
	KUNIT_EXPECT_EQ(test, page_ref_count(ref),
			before + GUP_PIN_COUNTING_BIAS);
	unpin_user_page(page);
	KUNIT_EXPECT_EQ(test, page_ref_count(ref), before);
}

/*
 * A long-term pin breaks COW first, as for the zero page: it pins a
 * private copy holding the pattern, and the reference page's count does
 * not move.
 */
static void refpage_gup_longterm_pin_copies(struct kunit *test)
{
	struct page *ref, *page = NULL;
	struct file *file;
	unsigned long addr = refpage_gup_map(test, &file);
	int before;

	ref = refpage_file_page(file);
	before = page_ref_count(ref);
	KUNIT_ASSERT_EQ(test, pin_user_pages_fast(addr, 1, FOLL_LONGTERM,
						  &page), 1);
	KUNIT_EXPECT_PTR_NE(test, page, ref);
	KUNIT_EXPECT_TRUE(test, PageAnon(page));
	KUNIT_EXPECT_TRUE(test, refpage_gup_holds_pattern(page));
	KUNIT_EXPECT_EQ(test, page_ref_count(ref), before);
	unpin_user_page(page);
}

/*
 * Past the ceiling, neither a pin nor a plain reference touches the
 * reference page any more: both get a private copy, and a second pin finds
 * that same copy mapped.  The test raises the count itself, standing in for
 * two million pins in flight, and puts it back before it checks anything
 * that could end the test.
 */
static void refpage_gup_past_ceiling_copies(struct kunit *test)
{
	struct page *ref, *pinned = NULL, *got = NULL, *again = NULL;
	int pinned_nr, got_nr, again_nr, before, during;
	unsigned long addr, addr2;
	struct file *file;

	addr = refpage_gup_map(test, &file);
	addr2 = kunit_vm_mmap(test, file, 0, PAGE_SIZE, PROT_READ, MAP_PRIVATE,
			      0);
	KUNIT_ASSERT_FALSE(test, !addr2 || IS_ERR_VALUE(addr2));
	ref = refpage_file_page(file);
	before = page_ref_count(ref);

	page_ref_add(ref, REFPAGE_GUP_REF_CEILING);
	pinned_nr = pin_user_pages_fast(addr, 1, 0, &pinned);
	again_nr = pin_user_pages_fast(addr, 1, 0, &again);
	got_nr = get_user_pages_fast(addr2, 1, 0, &got);
	during = page_ref_count(ref) - REFPAGE_GUP_REF_CEILING;
	page_ref_sub(ref, REFPAGE_GUP_REF_CEILING);

	KUNIT_EXPECT_EQ(test, during, before);
	KUNIT_EXPECT_EQ(test, pinned_nr, 1);
	KUNIT_EXPECT_EQ(test, again_nr, 1);
	KUNIT_EXPECT_EQ(test, got_nr, 1);
	if (pinned_nr == 1) {
		KUNIT_EXPECT_PTR_NE(test, pinned, ref);
		KUNIT_EXPECT_TRUE(test, refpage_gup_holds_pattern(pinned));
		if (again_nr == 1)
			KUNIT_EXPECT_PTR_EQ(test, again, pinned);
		unpin_user_page(pinned);
	}
	if (again_nr == 1)
		unpin_user_page(again);
	if (got_nr == 1) {
		KUNIT_EXPECT_PTR_NE(test, got, ref);
		KUNIT_EXPECT_TRUE(test, refpage_gup_holds_pattern(got));
		put_page(got);
	}
	KUNIT_EXPECT_EQ(test, page_ref_count(ref), before);
}

/*
 * A private mapping is anonymous memory (no vm_ops), keeps the file as
 * vm_file, and has lost VM_MAYEXEC, so that mprotect() cannot make it
 * executable later.  Its untouched page reads as the pattern.
 */
static void refpage_vma_private_is_anonymous(struct kunit *test)
{
	bool found, anon = false, refpage = false, same_file = false;
	bool mayexec = true, shared = true;
	struct vm_area_struct *vma;
	char buf[PATTERN_SIZE];
	struct mm_struct *mm;
	struct file *file;
	unsigned long addr;

	/* The first kunit_vm_mmap() gives the thread its mm. */
	addr = refpage_gup_map(test, &file);
	mm = current->mm;
	/* Nothing may end the test with the lock held: look, then judge. */
	mmap_read_lock(mm);
	vma = vma_lookup(mm, addr);
	found = vma;
	if (found) {
		anon = vma_is_anonymous(vma);
		refpage = vma_is_refpage(vma);
		same_file = vma->vm_file == file;
		mayexec = vma->vm_flags & VM_MAYEXEC;
		shared = vma->vm_flags & (VM_SHARED | VM_MAYSHARE);
	}
	mmap_read_unlock(mm);

	KUNIT_ASSERT_TRUE_MSG(test, found, "no VMA at %lx", addr);
	KUNIT_EXPECT_TRUE(test, anon);
	KUNIT_EXPECT_TRUE(test, refpage);
	KUNIT_EXPECT_TRUE(test, same_file);
	KUNIT_EXPECT_FALSE(test, mayexec);
	KUNIT_EXPECT_FALSE(test, shared);
	KUNIT_ASSERT_EQ(test, copy_from_user(buf, (void __user *)addr,
					     sizeof(buf)), 0);
	KUNIT_EXPECT_MEMEQ(test, buf, refpage_gup_pattern, PATTERN_SIZE);
}

/* A shared mapping would let writes reach the reference page: EINVAL. */
static void refpage_vma_shared_refused(struct kunit *test)
{
	struct file *file;
	unsigned long addr;

	refpage_gup_map(test, &file);
	addr = kunit_vm_mmap(test, file, 0, PAGE_SIZE, PROT_READ, MAP_SHARED,
			     0);
	KUNIT_EXPECT_EQ(test, (long)addr, -EINVAL);
}

/*
 * Special PTEs get no I-cache maintenance on some architectures: an
 * executable mapping is refused with EPERM, as on a noexec mount.
 */
static void refpage_vma_exec_refused(struct kunit *test)
{
	struct file *file;
	unsigned long addr;

	refpage_gup_map(test, &file);
	addr = kunit_vm_mmap(test, file, 0, PAGE_SIZE, PROT_READ | PROT_EXEC,
			     MAP_PRIVATE, 0);
	KUNIT_EXPECT_EQ(test, (long)addr, -EPERM);
}

static struct kunit_case refpage_gup_cases[] = {
	KUNIT_CASE(refpage_gup_pin_takes_reference_page),
	KUNIT_CASE(refpage_gup_longterm_pin_copies),
	KUNIT_CASE(refpage_gup_past_ceiling_copies),
	{}
};

static struct kunit_suite refpage_gup_suite = {
	.name = "refpage_gup",
	.test_cases = refpage_gup_cases,
};

static struct kunit_case refpage_vma_cases[] = {
	KUNIT_CASE(refpage_vma_private_is_anonymous),
	KUNIT_CASE(refpage_vma_shared_refused),
	KUNIT_CASE(refpage_vma_exec_refused),
	{}
};

static struct kunit_suite refpage_vma_suite = {
	.name = "refpage_vma",
	.test_cases = refpage_vma_cases,
};

kunit_test_suites(&refpage_gup_suite, &refpage_vma_suite);

MODULE_DESCRIPTION("KUnit tests of GUP on, and mmap of, refpage mappings");
MODULE_LICENSE("GPL");
