/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What mm/madvise.c must know about each MADV_* advice before it runs it.
 *
 * With CONFIG_RUST the answers come from the advice table in
 * rust/kernel/mm/madvise.rs.  Without it, mm/madvise.c answers from its own
 * switch statements, which stay the reference that the Rust table is tested
 * against (mm/tests/madvise_table_kunit.c).
 */
#ifndef _LINUX_MADVISE_TABLE_H
#define _LINUX_MADVISE_TABLE_H

#include <linux/types.h>

/**
 * enum madvise_lock_mode - the lock an advice runs under.
 * @MADVISE_NO_LOCK: none (memory-failure injection).
 * @MADVISE_MMAP_READ_LOCK: the mmap lock, read.
 * @MADVISE_MMAP_WRITE_LOCK: the mmap lock, write, taken killably.
 * @MADVISE_VMA_READ_LOCK: the per-VMA read lock where that suffices, else the
 *	mmap read lock.
 */
enum madvise_lock_mode {
	MADVISE_NO_LOCK,
	MADVISE_MMAP_READ_LOCK,
	MADVISE_MMAP_WRITE_LOCK,
	MADVISE_VMA_READ_LOCK,
};

/**
 * enum madvise_advice_flags - facts about an advice.
 * @MADVISE_ADVICE_REMOTE: process_madvise() may apply it to another process.
 * @MADVISE_ADVICE_DISCARDS: it discards data, now or in a child after fork().
 *	mseal() refuses it on read-only anonymous memory, and a remote caller
 *	needs the right to attach to the target.
 * @MADVISE_ADVICE_TLB_BATCH: one mmu_gather spans all the ranges of a call.
 */
enum madvise_advice_flags {
	MADVISE_ADVICE_REMOTE		= 1 << 0,
	MADVISE_ADVICE_DISCARDS		= 1 << 1,
	MADVISE_ADVICE_TLB_BATCH	= 1 << 2,
};

/**
 * struct madvise_advice - an advice value and its facts.
 * @behavior: the MADV_* value.  The Rust lookup returns it clamped against
 *	speculation; the C switches index nothing with it and return it as is.
 * @flags: &enum madvise_advice_flags.
 * @lock_mode: the lock it runs under.
 */
struct madvise_advice {
	int behavior;
	unsigned int flags;
	enum madvise_lock_mode lock_mode;
};

/**
 * madvise_advice_lookup - look up an advice value that came from user space.
 * @behavior: the MADV_* value, unchecked.
 * @advice: filled in if this kernel accepts @behavior.
 *
 * Return: true if this kernel accepts @behavior, false if not, in which case
 * @advice is left untouched.
 */
bool madvise_advice_lookup(int behavior, struct madvise_advice *advice);

#if IS_ENABLED(CONFIG_KUNIT)
/* The answers of mm/madvise.c's own switch statements. */
bool madvise_advice_lookup_c(int behavior, struct madvise_advice *advice);
#endif

#endif /* _LINUX_MADVISE_TABLE_H */
