/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reference pages: private mappings that read as a repeating pattern.
 *
 * The file object behind refpage_create() and its file operations are
 * written in Rust (rust/kernel/refpage.rs).  This header is what core mm
 * asks of them: whether a mapping or a PFN is a reference one, and how to
 * fill a private copy.  See Documentation/mm/refpage.rst.
 */
#ifndef _LINUX_REFPAGE_H
#define _LINUX_REFPAGE_H

#include <linux/fs.h>
#include <linux/mm.h>

#ifdef CONFIG_REFPAGE
extern const struct file_operations refpage_fops;

/* Implemented in Rust; @file must be a refpage file kept alive by the caller. */
struct page *refpage_file_page(const struct file *file);
void refpage_file_fill(const struct file *file, struct page *page);
long refpage_create_fd(const void __user *content, unsigned int size,
		       unsigned long flags);

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
	return page_to_pfn(refpage_file_page(vma->vm_file));
}

/**
 * is_refpage_pfn - Does this PFN map the reference page of this VMA?
 * @vma: the VMA, kept alive by the caller.
 * @pfn: the PFN of a present PTE in @vma.
 *
 * Like the zero page, the reference page is mapped with special PTEs and
 * has no struct page that the mapping references or maps.
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
 */
static inline void refpage_fill_folio(const struct vm_area_struct *vma,
				      struct folio *folio)
{
	VM_WARN_ON_ONCE(folio_test_large(folio));
	refpage_file_fill(vma->vm_file, &folio->page);
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

#endif /* _LINUX_REFPAGE_H */
