/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reference pages: private mappings that read as a repeating pattern.
 *
 * The descriptor behind refpage_create() and its file operations are
 * written in Rust (rust/kernel/refpage.rs); mm/refpage.c holds the
 * system call and the file_operations table that points at them.  This
 * header is what core mm asks of them: whether a mapping or a PFN is a
 * reference one, and how to fill a private copy.  See
 * Documentation/mm/refpage.rst.
 */
#ifndef _LINUX_REFPAGE_H
#define _LINUX_REFPAGE_H

#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/kmsan-checks.h>
#include <linux/mm.h>

#ifdef CONFIG_REFPAGE
extern const struct file_operations refpage_fops;

/*
 * Implemented in Rust; @file must be kept alive by the caller.  For a file
 * that is not a refpage file, they return NULL and false.
 */
struct page *refpage_file_page(const struct file *file);
bool refpage_file_fill(const struct file *file, struct page *page);
long refpage_create_fd(const void __user *content, unsigned int size,
		       unsigned long flags);
int refpage_mmap(struct file *file, struct vm_area_struct *vma);
int refpage_release(struct inode *inode, struct file *file);
void refpage_show_fdinfo(struct seq_file *m, struct file *file);

/* Implemented in C, for Rust: cache maintenance of a new reference page. */
void refpage_sync_page(struct page *page);

/**
 * file_is_refpage - Is this a refpage_create() file?
 * @file: the file, or NULL.
 *
 * Returns: true if @file was returned by refpage_create().
 */
static inline bool file_is_refpage(const struct file *file)
{
	return file && file->f_op == &refpage_fops;
}

/**
 * vma_is_refpage - Is this a private mapping of a refpage file?
 * @vma: the VMA, kept alive by the caller.
 *
 * Such a mapping is anonymous (vma_is_anonymous() is true) except that its
 * untouched pages read as the file's pattern instead of zero.
 *
 * Any lock that keeps @vma alive is enough here and in the helpers below:
 * the mmap lock, the VMA lock, or the anon_vma lock that an rmap walk
 * holds (as in reclaim).  vm_file does not change after mmap, and
 * the VMA holds a reference on it, so the reference page stays put.
 *
 * Returns: true for a refpage mapping.
 */
static inline bool vma_is_refpage(const struct vm_area_struct *vma)
{
	return file_is_refpage(vma->vm_file);
}

/**
 * refpage_vma_pfn - The PFN of a refpage mapping's reference page.
 * @vma: a refpage VMA (vma_is_refpage()), kept alive by the caller.
 *
 * Returns: the PFN that read faults in @vma map.
 */
static inline unsigned long refpage_vma_pfn(const struct vm_area_struct *vma)
{
	struct page *page = refpage_file_page(vma->vm_file);

	/* Only a file that is not a refpage file has none: a caller's bug. */
	if (WARN_ON_ONCE(!page))
		return my_zero_pfn(0);
	return page_to_pfn(page);
}

/**
 * is_refpage_pfn - Does this PFN map the reference page of this VMA?
 * @vma: the VMA, kept alive by the caller.
 * @pfn: the PFN of a present PTE in @vma.
 *
 * Returns: true if @pfn is @vma's reference page.
 */
static inline bool is_refpage_pfn(const struct vm_area_struct *vma,
				  unsigned long pfn)
{
	return vma_is_refpage(vma) && refpage_vma_pfn(vma) == pfn;
}

/**
 * refpage_fill_folio - Fill a new private page of a refpage mapping.
 * @vma: the refpage VMA, kept alive by the caller.
 * @folio: a small folio just allocated for a fault in @vma, not yet mapped.
 *
 * The fill is Rust, which KMSAN does not instrument: mark the page
 * initialised here, or every reader of the copy would be reported.  The
 * page was written through the kernel's mapping and is about to be mapped
 * to user space: flush it for architectures whose data cache aliases.
 * Should @vma not be a refpage mapping after all, the page is zeroed,
 * so that nothing stale ever reaches user space.
 */
static inline void refpage_fill_folio(const struct vm_area_struct *vma,
				      struct folio *folio)
{
	VM_WARN_ON_ONCE(folio_test_large(folio));
	if (WARN_ON_ONCE(!refpage_file_fill(vma->vm_file, &folio->page)))
		clear_highpage(&folio->page);
	else
		kmsan_unpoison_memory(folio_address(folio), PAGE_SIZE);
	flush_dcache_folio(folio);
}
#else /* !CONFIG_REFPAGE */
static inline bool file_is_refpage(const struct file *file)
{
	return false;
}

static inline bool vma_is_refpage(const struct vm_area_struct *vma)
{
	return false;
}

static inline unsigned long refpage_vma_pfn(const struct vm_area_struct *vma)
{
	return 0;
}

static inline bool is_refpage_pfn(const struct vm_area_struct *vma,
				  unsigned long pfn)
{
	return false;
}

static inline void refpage_fill_folio(const struct vm_area_struct *vma,
				      struct folio *folio)
{
}
#endif /* CONFIG_REFPAGE */

/**
 * is_vma_fill_pfn - Is this PFN the page that untouched memory of @vma reads?
 * @vma: the VMA, kept alive by the caller.
 * @pfn: the PFN of a present PTE in @vma.
 *
 * Untouched anonymous memory reads as the shared zero page, and untouched
 * memory of a refpage mapping as its reference page.  Both are mapped with
 * special PTEs that hold no reference or mapcount, both are read-only,
 * and a write makes a private copy.  A site that treats the small zero
 * page specially in an anonymous VMA should use this instead of
 * is_zero_pfn().  (The huge zero folio has no counterpart: refpage
 * mappings never get huge pages.)
 *
 * Returns: true for the zero page, or for @vma's reference page.
 */
static inline bool is_vma_fill_pfn(const struct vm_area_struct *vma,
				   unsigned long pfn)
{
	return is_zero_pfn(pfn) || is_refpage_pfn(vma, pfn);
}

/*
 * Every mapping of a descriptor shares one reference page, and each GUP pin
 * adds GUP_PIN_COUNTING_BIAS (1024) to its reference count: about two
 * million concurrent short-term pins, well within reach of one large
 * asynchronous O_DIRECT write, would overflow it.  Past this count GUP
 * pins or references a private copy instead.
 */
#define REFPAGE_GUP_REF_CEILING	(INT_MAX / 2)

/**
 * refpage_gup_must_unshare - Must GUP copy instead of taking the reference page?
 * @vma: the refpage VMA, kept alive by the caller.
 * @page: @vma's reference page, mapped by the PTE that GUP follows.
 *
 * Once the reference page's count is past REFPAGE_GUP_REF_CEILING, GUP
 * breaks COW (FAULT_FLAG_UNSHARE), as it does for a long-term pin, and
 * pins the private copy, so that no process can exhaust the count for all
 * the others that share the descriptor.  The check and the increment are
 * not atomic: each task racing between them adds at most one pin more,
 * far below the other half of the range.
 *
 * Returns: true if GUP must unshare rather than reference @page.
 */
static inline bool refpage_gup_must_unshare(const struct vm_area_struct *vma,
					    const struct page *page)
{
	return page_ref_count(page) > REFPAGE_GUP_REF_CEILING &&
	       is_cow_mapping(vma->vm_flags);
}

/**
 * file_refuses_exec - May mappings of @file never be executable?
 * @file: the file being mapped.
 *
 * True on a noexec mount, and for refpage files: the reference page is
 * mapped with special PTEs, which get no I-cache maintenance on some
 * architectures.  Since 7.x the anon-inode filesystem is noexec and
 * path_noexec() covers refpage files too; 6.12's is not.
 *
 * Returns: true if mmap() must refuse PROT_EXEC and READ_IMPLIES_EXEC must
 * not apply.
 */
static inline bool file_refuses_exec(const struct file *file)
{
	return path_noexec(&file->f_path) || file_is_refpage(file);
}

#endif /* _LINUX_REFPAGE_H */
