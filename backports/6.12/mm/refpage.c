// SPDX-License-Identifier: GPL-2.0
/*
 * refpage_create(): the system call entry.  The descriptor and its file
 * operations are Rust (rust/kernel/refpage.rs); see
 * Documentation/mm/refpage.rst.
 */
#include <linux/refpage.h>
#include <linux/syscalls.h>

SYSCALL_DEFINE3(refpage_create, const void __user *, content,
		unsigned int, size, unsigned long, flags)
{
	return refpage_create_fd(content, size, flags);
}
