// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Rust advice table (rust/kernel/madvise.rs) against the switch
 * statements that mm/madvise.c uses without CONFIG_RUST, which keep the rules
 * of 6.12: for every value in a wide range, and at the edges of int, both
 * must accept the same values and give the same facts.  The intended
 * differences are the series' own: MADV_DONTNEED, MADV_DONTNEED_LOCKED and
 * MADV_FREE batch their TLB flushes, and CONFIG_PROCESS_MADVISE_DISCARD makes
 * MADV_DONTNEED and MADV_FREE remote.
 */
#include <kunit/test.h>
#include <linux/limits.h>
#include <linux/madvise_table.h>
#include <linux/mman.h>

static unsigned int expected_flags(int behavior, unsigned int c_flags)
{
	switch (behavior) {
	case MADV_DONTNEED:
	case MADV_FREE:
		if (IS_ENABLED(CONFIG_PROCESS_MADVISE_DISCARD))
			c_flags |= MADVISE_ADVICE_REMOTE;
		fallthrough;
	case MADV_DONTNEED_LOCKED:
		return c_flags | MADVISE_ADVICE_TLB_BATCH;
	default:
		return c_flags;
	}
}

static int check_value(struct kunit *test, int v)
{
	struct madvise_advice rust = { .behavior = -2, .flags = 0xdead };
	struct madvise_advice c = { .behavior = -2, .flags = 0xdead };
	bool rust_ok = madvise_advice_lookup(v, &rust);
	bool c_ok = madvise_advice_lookup_c(v, &c);

	KUNIT_EXPECT_EQ_MSG(test, rust_ok, c_ok, "advice %d", v);
	if (!rust_ok) {
		/* An unknown value leaves the result alone. */
		KUNIT_EXPECT_EQ_MSG(test, rust.behavior, -2, "advice %d", v);
		KUNIT_EXPECT_EQ_MSG(test, rust.flags, 0xdead, "advice %d", v);
		return 0;
	}
	if (!c_ok)
		return 1;
	KUNIT_EXPECT_EQ_MSG(test, rust.behavior, v, "advice %d", v);
	KUNIT_EXPECT_EQ_MSG(test, c.behavior, v, "advice %d", v);
	KUNIT_EXPECT_EQ_MSG(test, rust.lock_mode, c.lock_mode, "advice %d", v);
	KUNIT_EXPECT_EQ_MSG(test, rust.flags, expected_flags(v, c.flags),
			    "advice %d", v);
	return 1;
}

static void madvise_table_matches_c(struct kunit *test)
{
	static const int edges[] = { INT_MIN, INT_MIN + 1, -1, 0x100 | MADV_DONTNEED,
				     0x10000 | MADV_FREE, INT_MAX };
	int v, accepted = 0;

	for (v = -4096; v <= 4096; v++)
		accepted += check_value(test, v);
	for (v = 0; v < ARRAY_SIZE(edges); v++)
		accepted += check_value(test, edges[v]);
	/* The 18 of every config, and those of KSM, THP and memory failure. */
	KUNIT_EXPECT_EQ(test, accepted, 18 + (IS_ENABLED(CONFIG_KSM) ? 2 : 0) +
			(IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) ? 3 : 0) +
			(IS_ENABLED(CONFIG_MEMORY_FAILURE) ? 2 : 0));
}

static void madvise_table_remote_discards(struct kunit *test)
{
	struct madvise_advice a;

	/* The hints stay remote; DONTNEED and FREE follow the option. */
	KUNIT_ASSERT_TRUE(test, madvise_advice_lookup(MADV_PAGEOUT, &a));
	KUNIT_EXPECT_TRUE(test, a.flags & MADVISE_ADVICE_REMOTE);
	KUNIT_EXPECT_FALSE(test, a.flags & MADVISE_ADVICE_TLB_BATCH);
	KUNIT_ASSERT_TRUE(test, madvise_advice_lookup(MADV_DONTNEED, &a));
	KUNIT_EXPECT_EQ(test, !!(a.flags & MADVISE_ADVICE_REMOTE),
			IS_ENABLED(CONFIG_PROCESS_MADVISE_DISCARD));
	KUNIT_EXPECT_TRUE(test, a.flags & MADVISE_ADVICE_DISCARDS);
	KUNIT_EXPECT_EQ(test, a.lock_mode, MADVISE_MMAP_READ_LOCK);
	KUNIT_ASSERT_TRUE(test, madvise_advice_lookup(MADV_DONTNEED_LOCKED, &a));
	KUNIT_EXPECT_FALSE(test, a.flags & MADVISE_ADVICE_REMOTE);
	KUNIT_ASSERT_TRUE(test, madvise_advice_lookup(MADV_REMOVE, &a));
	KUNIT_EXPECT_FALSE(test, a.flags & MADVISE_ADVICE_REMOTE);
}

static struct kunit_case madvise_table_cases[] = {
	KUNIT_CASE(madvise_table_matches_c),
	KUNIT_CASE(madvise_table_remote_discards),
	{}
};

static struct kunit_suite madvise_table_suite = {
	.name = "madvise_table",
	.test_cases = madvise_table_cases,
};

kunit_test_suite(madvise_table_suite);

MODULE_DESCRIPTION("KUnit test of the Rust madvise advice table against mm/madvise.c");
MODULE_LICENSE("GPL");
