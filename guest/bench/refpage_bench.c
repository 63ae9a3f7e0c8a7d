// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark, not a test: pattern-initialised memory obtained four ways,
 * measured side by side in one run with plain anonymous memory.
 *
 *   anon       mmap(MAP_PRIVATE | MAP_ANONYMOUS); reads as zero: the floor.
 *   memset     the same, filled with the pattern 0xaa by memset() right
 *              after mmap(), as a pattern-initialising heap does today.
 *   refpage-1  mmap(MAP_PRIVATE) of a refpage_create() descriptor holding
 *              the one-byte pattern 0xaa: untouched pages read as 0xaa.
 *   refpage-8  the same with an 8-byte pattern, which a write fault fills
 *              with a copy of the pattern rather than with memset().
 *   fill-fault the design that reviewers suggested instead of a shared
 *              reference page: every fault, reads included, installs a
 *              new page filled with the pattern.  Such a read fault does
 *              what a refpage write fault on a hole does (allocate, fill
 *              from the pattern, map), so it is modelled on the kernel's
 *              own path: a refpage-1 mapping whose every page is first
 *              touched by a write of the byte the pattern already has
 *              there.  Where the workload writes (sparse, dense) it is
 *              refpage-1 by construction; on scan it shows what every read
 *              would cost.
 *
 * Workloads (sizes are options):
 *   sparse  1 GiB: one byte written in every 100th page;
 *   dense   256 MiB: one byte written per 64 bytes of every page, which
 *           measures the write fault (zeroing for anon, filling from the
 *           pattern for refpage);
 *   scan    256 MiB: one word read per 64 bytes, nothing written.
 *
 * Time is mmap() + initialisation + workload on CLOCK_MONOTONIC; munmap()
 * is not timed. RSS is the rise of VmRSS in /proc/self/status from just
 * before mmap() to just after the workload, and PT the rise of VmPTE (the
 * page tables), in KiB. Each cell is the median of R
 * runs (-r); within a run the variants take turns, each run starting with
 * the next one. The refpage descriptors are created once, up front, as an
 * allocator would. Every mapping is advised MADV_NOHUGEPAGE, because
 * refpage mappings never use THP: all variants are compared 4 KiB page for
 * 4 KiB page whatever the THP setting. The process is pinned to one CPU:
 * the kernel's RSS counters are per-CPU and /proc reads them unsummed, so
 * an RSS figure is exact only to about 64 pages (0.25 MiB with 4 KiB
 * pages).
 *
 * Reading the output: one row per workload and variant, the raw median
 * time (ms) and RSS rise (MiB), then both as ratios to anon on the same
 * workload, marked "x". Where anon's RSS is about 0 (scan: reads map the
 * zero page) a ratio means nothing, and the last column shows the RSS in
 * MiB instead. Expected: refpage near anon in time everywhere, and in RSS
 * on sparse and scan; memset pays for the whole region in time and RSS;
 * fill-fault matches refpage in RSS where pages are written (sparse,
 * dense) and memset on scan, where every read costs it a page.
 * The last two lines compare refpage-1 with the series' targets, sparse
 * RSS refpage/anon <= 1.05 and dense time refpage/anon <= 1.10, and say
 * "met" or "missed". An untimed pass after each run checks that the pages
 * read the pattern (or zero for anon) and a warning follows if not.
 *
 * Exit status: 0 whatever the numbers; 1 if the kernel has no
 * refpage_create() (ENOSYS, or another call under its number) or a
 * descriptor or mapping cannot be made; 2 on a bad option.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../guest_util.h"

#ifndef __NR_refpage_create
#define __NR_refpage_create 473
#endif

#define PATTERN_BYTE	0xaa
#define SPARSE_STRIDE	100	/* pages */
#define LINE		64	/* bytes between two accesses */
#define MIB		(1024UL * 1024)
#define RSS_ABOUT_ZERO	0.5	/* MiB: below this, no RSS ratio */
#define SPARSE_RSS_TARGET	1.05
#define DENSE_TIME_TARGET	1.10

enum { ANON, MEMSET, REFPAGE1, REFPAGE8, FILLFAULT, NR_VARIANTS };
enum { SPARSE, DENSE, SCAN, NR_WORKLOADS };

struct variant {
	const char *name;
	int fd;			/* refpage descriptor, or -1 */
	bool fill;		/* memset() the pattern after mmap() */
	bool write_first;	/* first touch of a page is a write */
	unsigned long expect;	/* what an untouched word reads */
	long checked;		/* pages checked after a workload */
	long bad;		/* of which did not read as expected */
};

struct sample {
	double ms;
	double rss;		/* MiB */
	double pt;		/* KiB */
};

static const unsigned char pattern8[8] = {
	0xef, 0xbe, 0xad, 0xde, 0x0d, 0xf0, 0xfe, 0xca,
};

static struct variant variants[NR_VARIANTS] = {
	[ANON]		= { .name = "anon",	 .fd = -1 },
	[MEMSET]	= { .name = "memset",	 .fd = -1, .fill = true },
	[REFPAGE1]	= { .name = "refpage-1", .fd = -1 },
	[REFPAGE8]	= { .name = "refpage-8", .fd = -1 },
	[FILLFAULT]	= { .name = "fill-fault", .fd = -1, .write_first = true },
};

static const char * const workload_names[NR_WORKLOADS] = {
	[SPARSE]	= "sparse",
	[DENSE]		= "dense",
	[SCAN]		= "scan",
};

static size_t psize;

/* Make the compiler keep the accesses that produced @val, at no cost. */
static inline void keep(unsigned long val)
{
	asm volatile("" : : "r" (val) : "memory");
}

static int refpage_create(const void *content, unsigned int size,
			  unsigned long flags)
{
	return syscall(__NR_refpage_create, content, size, flags);
}

/*
 * A field of /proc/self/status in KiB ("\nVmRSS:"), read without stdio so
 * that no heap memory is touched.
 */
static long status_kib(const char *field)
{
	char buf[4096], *s;
	ssize_t n;
	int fd;

	fd = open("/proc/self/status", O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	s = strstr(buf, field);
	return s ? strtol(s + strlen(field), NULL, 10) : 0;
}

static char *map(const struct variant *v, size_t len)
{
	int flags = MAP_PRIVATE | (v->fd < 0 ? MAP_ANONYMOUS : 0);
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, v->fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "mmap %zu MiB for %s: %s\n", len / MIB,
			v->name, strerror(errno));
		exit(1);
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	if (v->fill)
		memset(p, PATTERN_BYTE, len);
	return p;
}

static void run_sparse(char *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += SPARSE_STRIDE * psize)
		p[off] = 1;
	keep(0);
}

static void run_dense(char *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += LINE)
		p[off] = (char)(off / LINE);
	keep(0);
}

static void run_scan(char *p, size_t len)
{
	unsigned long sum = 0;
	size_t off;

	for (off = 0; off < len; off += LINE)
		sum += *(const unsigned long *)(p + off);
	keep(sum);
}

/* Scan with each page written first: a fill on every fault, reads too. */
static void run_scan_write_first(char *p, size_t len)
{
	unsigned long sum = 0;
	size_t pg, off;

	for (pg = 0; pg < len; pg += psize) {
		p[pg] = PATTERN_BYTE;
		for (off = pg; off < pg + psize; off += LINE)
			sum += *(const unsigned long *)(p + off);
	}
	keep(sum);
}

static void run(const struct variant *v, int w, char *p, size_t len)
{
	if (v->write_first && w == SCAN) {
		run_scan_write_first(p, len);
		return;
	}
	switch (w) {
	case SPARSE:
		run_sparse(p, len);
		break;
	case DENSE:
		run_dense(p, len);
		break;
	default:
		run_scan(p, len);
		break;
	}
}

/*
 * Untimed: the word at offset 8 of every page the workload touched has not
 * been written by it, so it must read the variant's pattern (zero for anon).
 * Touching only those pages keeps the check from faulting in new ones.
 */
static void verify(struct variant *v, int w, const char *p, size_t len)
{
	size_t stride = (w == SPARSE ? SPARSE_STRIDE : 1) * psize;
	size_t off;

	for (off = 0; off < len; off += stride) {
		v->checked++;
		if (*(const unsigned long *)(p + off + 8) != v->expect)
			v->bad++;
	}
}

static struct sample measure(struct variant *v, int w, size_t len)
{
	struct sample s;
	long before, after, pt_before, pt_after;
	double t0, t1;
	char *p;

	before = status_kib("\nVmRSS:");
	pt_before = status_kib("\nVmPTE:");
	t0 = now();
	p = map(v, len);
	run(v, w, p, len);
	t1 = now();
	after = status_kib("\nVmRSS:");
	pt_after = status_kib("\nVmPTE:");
	verify(v, w, p, len);
	munmap(p, len);

	s.ms = (t1 - t0) * 1e3;
	s.rss = (after - before) / 1024.0;
	s.pt = pt_after - pt_before;
	return s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static unsigned long parse(const char *arg, char opt, unsigned long max)
{
	unsigned long val;
	char *end;

	errno = 0;
	val = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || !val || val > max) {
		fprintf(stderr, "-%c: expected a number from 1 to %lu\n",
			opt, max);
		exit(2);
	}
	return val;
}

static void bad_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-s sparse_mib] [-d dense_mib] [-r repeats]\n"
		"  -s  size of the sparse region, MiB (default 1024)\n"
		"  -d  size of the dense and scan regions, MiB (default 256)\n"
		"  -r  runs per measurement, median taken (default 3)\n",
		prog);
	exit(2);
}

static void no_refpage(int err)
{
	fprintf(stderr,
		"refpage_create(2) is not available in this kernel: syscall %d failed with %s (%s).\n",
		__NR_refpage_create, strerrorname_np(err), strerror(err));
	fprintf(stderr,
		"Run this benchmark in a guest booted with the refpage series.\n");
	exit(1);
}

/* Check that the descriptor really is a refpage, not another syscall's. */
static void check_refpage_fd(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return;
	link[n] = '\0';
	if (strcmp(link, "anon_inode:[refpage]")) {
		fprintf(stderr, "refpage_create(2) (syscall %d) returned %s, not a refpage.\n",
			__NR_refpage_create, link);
		exit(1);
	}
}

static void open_refpages(void)
{
	unsigned char byte = PATTERN_BYTE;
	int fd;

	/*
	 * With valid arguments refpage_create() fails only for lack of memory
	 * or descriptors. Any other error means that the kernel has no such
	 * call: ENOSYS, or an error of another call under the same number.
	 */
	fd = refpage_create(&byte, 1, 0);
	if (fd < 0 && errno != ENOMEM && errno != EMFILE && errno != ENFILE)
		no_refpage(errno);
	if (fd < 0) {
		perror("refpage_create(1-byte pattern)");
		exit(1);
	}
	check_refpage_fd(fd);
	variants[REFPAGE1].fd = fd;
	variants[FILLFAULT].fd = fd;
	fd = refpage_create(pattern8, sizeof(pattern8), 0);
	if (fd < 0) {
		perror("refpage_create(8-byte pattern)");
		exit(1);
	}
	variants[REFPAGE8].fd = fd;
	memset(&variants[MEMSET].expect, PATTERN_BYTE,
	       sizeof(variants[MEMSET].expect));
	variants[REFPAGE1].expect = variants[MEMSET].expect;
	variants[FILLFAULT].expect = variants[MEMSET].expect;
	memcpy(&variants[REFPAGE8].expect, pattern8,
	       sizeof(variants[REFPAGE8].expect));
}

static void pin_to_this_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		cpu = 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("sched_setaffinity");
}

static void print_header(unsigned long sparse_mib, unsigned long dense_mib,
			 int repeats)
{
	struct utsname u;

	printf("refpage_create(2) benchmark: %s, %ld CPUs online (pinned to one),\n",
	       uname(&u) ? "?" : u.release, sysconf(_SC_NPROCESSORS_ONLN));
	printf("  %d run%s per cell, median taken\n", repeats,
	       repeats == 1 ? "" : "s");
	printf("  sparse %lu MiB: 1 byte written per %d pages\n",
	       sparse_mib, SPARSE_STRIDE);
	printf("  dense  %lu MiB: 1 byte written per %d bytes\n",
	       dense_mib, LINE);
	printf("  scan   %lu MiB: 1 word read per %d bytes, nothing written\n",
	       dense_mib, LINE);
	printf("  anon: MAP_ANONYMOUS; memset: anon filled with 0x%02x by memset;\n",
	       PATTERN_BYTE);
	printf("  refpage-1: refpage, pattern 0x%02x; refpage-8: refpage, 8-byte pattern\n",
	       PATTERN_BYTE);
	printf("  fill-fault: the design of a filled page on every fault, reads too:\n");
	printf("  refpage-1 with each page's first touch a write (same as refpage-1\n");
	printf("  where the workload writes)\n");
	printf("  time: mmap + init + workload (munmap not timed); RSS: rise of VmRSS;\n");
	printf("  PT: rise of VmPTE (page tables)\n");
	printf("  ratios are to anon (\"x\"); where anon's RSS is about 0 (scan), the\n");
	printf("  RSS/anon column shows the RSS in MiB instead of a ratio\n");
	printf("\n%-8s %-10s | %10s %10s %8s | %10s %10s\n", "workload",
	       "variant", "time ms", "RSS MiB", "PT KiB", "time/anon",
	       "RSS/anon");
}

static void print_target(const char *what, double val, bool valid,
			 double target)
{
	printf("target: %-26s <= %.2f: ", what, target);
	if (!valid)
		printf("cannot tell (anon RSS is about 0 MiB; raise -s)\n");
	else
		printf("%.2f  %s\n", val, val <= target ? "met" : "missed");
}

int main(int argc, char **argv)
{
	unsigned long sparse_mib = 1024, dense_mib = 256;
	double ms[NR_WORKLOADS][NR_VARIANTS], rss[NR_WORKLOADS][NR_VARIANTS];
	double pt[NR_WORKLOADS][NR_VARIANTS];
	struct sample *samples;
	double *col;
	int repeats = 3;
	int opt, w, v, r, i;

	while ((opt = getopt(argc, argv, "s:d:r:h")) != -1) {
		switch (opt) {
		case 's':
			sparse_mib = parse(optarg, opt, 1UL << 20);
			break;
		case 'd':
			dense_mib = parse(optarg, opt, 1UL << 20);
			break;
		case 'r':
			repeats = parse(optarg, opt, 1000);
			break;
		default:
			bad_usage(argv[0]);
		}
	}
	if (optind != argc)
		bad_usage(argv[0]);

	psize = sysconf(_SC_PAGESIZE);
	pin_to_this_cpu();
	open_refpages();

	samples = calloc((size_t)NR_WORKLOADS * NR_VARIANTS * repeats,
			 sizeof(*samples));
	col = calloc(repeats, sizeof(*col));
	if (!samples || !col) {
		perror("calloc");
		return 1;
	}

	print_header(sparse_mib, dense_mib, repeats);
	fflush(stdout);

	/* Warm up: fault in the code, the stack and /proc once, untimed. */
	for (w = 0; w < NR_WORKLOADS; w++)
		for (v = 0; v < NR_VARIANTS; v++)
			measure(&variants[v], w, 4 * MIB);
	for (v = 0; v < NR_VARIANTS; v++) {
		variants[v].checked = 0;
		variants[v].bad = 0;
	}

	for (w = 0; w < NR_WORKLOADS; w++) {
		size_t len = (w == SPARSE ? sparse_mib : dense_mib) * MIB;

		for (r = 0; r < repeats; r++) {
			for (i = 0; i < NR_VARIANTS; i++) {
				v = (i + r) % NR_VARIANTS;
				samples[(w * NR_VARIANTS + v) * repeats + r] =
					measure(&variants[v], w, len);
			}
		}
		for (v = 0; v < NR_VARIANTS; v++) {
			struct sample *s = &samples[(w * NR_VARIANTS + v) * repeats];

			for (r = 0; r < repeats; r++)
				col[r] = s[r].ms;
			ms[w][v] = median(col, repeats);
			for (r = 0; r < repeats; r++)
				col[r] = s[r].rss;
			rss[w][v] = median(col, repeats);
			for (r = 0; r < repeats; r++)
				col[r] = s[r].pt;
			pt[w][v] = median(col, repeats);
		}
		for (v = 0; v < NR_VARIANTS; v++) {
			char rss_ratio[32];

			if (rss[w][ANON] < RSS_ABOUT_ZERO)
				snprintf(rss_ratio, sizeof(rss_ratio),
					 "%.1f MiB", rss[w][v]);
			else
				snprintf(rss_ratio, sizeof(rss_ratio), "%.2fx",
					 rss[w][v] / rss[w][ANON]);
			printf("%-8s %-10s | %10.2f %10.2f %8.0f | %9.2fx %10s\n",
			       workload_names[w], variants[v].name,
			       ms[w][v], rss[w][v], pt[w][v],
			       ms[w][v] / ms[w][ANON], rss_ratio);
		}
		fflush(stdout);
	}

	printf("\n");
	print_target("sparse RSS refpage-1/anon", rss[SPARSE][REFPAGE1] /
		     rss[SPARSE][ANON], rss[SPARSE][ANON] >= RSS_ABOUT_ZERO,
		     SPARSE_RSS_TARGET);
	print_target("dense time refpage-1/anon",
		     ms[DENSE][REFPAGE1] / ms[DENSE][ANON], true,
		     DENSE_TIME_TARGET);

	for (v = 0; v < NR_VARIANTS; v++)
		if (variants[v].bad)
			printf("warning: %s: %ld of %ld pages checked did not read as %s\n",
			       variants[v].name, variants[v].bad,
			       variants[v].checked,
			       v == ANON ? "zero" : "the pattern");

	free(col);
	free(samples);
	return 0;
}
