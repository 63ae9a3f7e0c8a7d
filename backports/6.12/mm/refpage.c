// SPDX-License-Identifier: GPL-2.0
/*
 * refpage_create(): the system call entry and the file operations table.
 * The descriptor and the operations themselves are Rust
 * (rust/kernel/refpage.rs); see Documentation/mm/refpage.rst.
 */
#include <linux/cacheflush.h>
#include <linux/refpage.h>
#include <linux/syscalls.h>

/* C owns the table, so that file_is_refpage() is one inline comparison. */
const struct file_operations refpage_fops = {
	.mmap		= refpage_mmap,
	.release	= refpage_release,
	.show_fdinfo	= refpage_show_fdinfo,
};

/*
 * The reference page is written through the kernel's mapping once, and
 * then mapped to user space: flush it for architectures whose data cache
 * aliases.  No I-cache maintenance: refpage mappings are never executable
 * (refpage_mmap() refuses PROT_EXEC and clears VM_MAYEXEC).  The page was
 * filled by Rust, which KMSAN does not instrument: mark it initialised
 * too.  It is never highmem.
 */
void refpage_sync_page(struct page *page)
{
	kmsan_unpoison_memory(page_address(page), PAGE_SIZE);
	flush_dcache_page(page);
}

SYSCALL_DEFINE3(refpage_create, const void __user *, content,
		unsigned int, size, unsigned long, flags)
{
	return refpage_create_fd(content, size, flags);
}
