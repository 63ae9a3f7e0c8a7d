/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The madvise() behaviour table: what each MADV_* advice is allowed to do
 * and how mm/madvise.c must run it.  The table itself is Rust
 * (rust/kernel/madvise.rs); this header is its C interface.
 */
#ifndef _LINUX_MADVISE_TABLE_H
#define _LINUX_MADVISE_TABLE_H

#include <linux/types.h>

/* Flags of struct madvise_behavior_info. */
#define MADV_INFO_MADVISE	0x01	/* valid for madvise() */
#define MADV_INFO_SELF		0x02	/* valid for process_madvise() on the caller's mm */
#define MADV_INFO_REMOTE	0x04	/* valid for process_madvise() on another mm */
#define MADV_INFO_DESTRUCTIVE	0x08	/* visible to the target: remote use needs ATTACH */
#define MADV_INFO_TLB_BATCH	0x10	/* one mmu_gather may span the whole call */
#define MADV_INFO_BLK_PLUG	0x20	/* run the call under one block plug */

/**
 * enum madvise_lock_mode - how the mmap lock is held while advising.
 * @MADVISE_NO_LOCK: not taken (memory-failure injection).
 * @MADVISE_MMAP_READ_LOCK: read-locked; the advice may drop and retake it.
 * @MADVISE_MMAP_WRITE_LOCK: write-locked, taken killably.
 */
enum madvise_lock_mode {
	MADVISE_NO_LOCK,
	MADVISE_MMAP_READ_LOCK,
	MADVISE_MMAP_WRITE_LOCK,
};

/**
 * struct madvise_behavior_info - the facts about one advice value.
 * @flags: MADV_INFO_* flags.
 * @lock_mode: an &enum madvise_lock_mode.
 */
struct madvise_behavior_info {
	u32 flags;
	u32 lock_mode;
};

/**
 * madvise_behavior_lookup - look up an advice value from user space.
 * @behavior: the MADV_* value, unchecked.
 * @info: filled in when @behavior is known to this kernel.
 *
 * The lookup is bounds-checked and safe against speculation on @behavior.
 *
 * Return: true if @behavior is known (valid for at least madvise()),
 * false otherwise, in which case @info is left untouched.
 */
bool madvise_behavior_lookup(int behavior, struct madvise_behavior_info *info);

#endif /* _LINUX_MADVISE_TABLE_H */
