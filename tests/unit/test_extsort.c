/*
 * test_extsort.c — the external sort against qsort of the same records: in memory only,
 * spilled to many runs (a budget of 64 KiB), records of every length from 0 bytes to larger
 * than a read chunk, duplicates, and randomised sets (a property test over seeds); the
 * temporary file never shows in the directory; refused records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "extsort.h"
#include "util.h"

struct rec {
	unsigned char	*p;
	size_t		 n;
};

static char dir[] = "/tmp/ps-extsort-XXXXXX";

static int
lex(const void *a, size_t an, const void *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c ? c : (an > bn) - (an < bn);
}

static int
rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	return lex(x->p, x->n, y->p, y->n);
}

static uint64_t rng;

static uint32_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* n records of random lengths up to maxlen over a small alphabet (many shared prefixes). */
static struct rec *
make_records(size_t n, size_t maxlen)
{
	struct rec *r = xcalloc(n, sizeof(*r));

	for (size_t i = 0; i < n; i++) {
		r[i].n = maxlen ? next_rand() % (maxlen + 1) : 0;
		r[i].p = xmalloc(r[i].n + 1);
		for (size_t j = 0; j < r[i].n; j++)
			r[i].p[j] = (unsigned char)("ab\0\xff"[next_rand() % 4]);
	}
	return r;
}

static void
free_records(struct rec *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].p);
	free(r);
}

/* Adds r (in reverse when rev) to x and checks that x gives them back in qsort's order. */
static void
fill_and_check(struct extsort *x, struct rec *r, size_t n, int rev)
{
	const void *p;
	size_t len, i;

	for (i = 0; i < n; i++) {
		const struct rec *a = &r[rev ? n - 1 - i : i];
		assert_int_equal(extsort_add(x, a->p, a->n), 0);
	}
	assert_int_equal(extsort_count(x), n);
	qsort(r, n, sizeof(*r), rec_cmp);
	for (i = 0; i < n; i++) {
		assert_int_equal(extsort_next(x, &p, &len), 1);
		assert_int_equal(len, r[i].n);
		if (len)
			assert_memory_equal(p, r[i].p, len);
	}
	assert_int_equal(extsort_next(x, &p, &len), 0);
	assert_int_equal(extsort_next(x, &p, &len), 0);
}

/* Adds r to a sorter of the budget and checks that it gives them back in qsort's order;
 * then again, in reverse, after extsort_reset (its memory and file reused). */
static void
check_sorts(struct rec *r, size_t n, size_t budget)
{
	struct extsort *x = extsort_new(dir, budget);

	fill_and_check(x, r, n, 0);
	extsort_reset(x);
	assert_int_equal(extsort_count(x), 0);
	fill_and_check(x, r, n, 1);
	extsort_free(x);
}

static void
test_in_memory(void **state)
{
	struct rec *r = make_records(500, 40);

	(void)state;
	check_sorts(r, 500, 16u << 20);
	free_records(r, 500);
}

static void
test_many_runs(void **state)
{
	struct rec *r = make_records(20000, 60);

	(void)state;
	check_sorts(r, 20000, 64u << 10);	/* about 30 runs */
	free_records(r, 20000);
}

/* Records longer than a read chunk of a run, between small ones. */
static void
test_long_records(void **state)
{
	size_t n = 40;
	struct rec *r = make_records(n, 8);

	(void)state;
	for (size_t i = 0; i < n; i += 5) {
		free(r[i].p);
		r[i].n = 30000 + i * 1000;
		r[i].p = xmalloc(r[i].n);
		memset(r[i].p, 'a' + (int)(i % 3), r[i].n);
	}
	check_sorts(r, n, 128u << 10);
	free_records(r, n);
}

static void
test_empty_and_duplicates(void **state)
{
	struct extsort *x = extsort_new(dir, 0);
	const void *p;
	size_t len;
	struct rec *r = make_records(3000, 2);	/* lengths 0..2 over 4 bytes: duplicates */

	(void)state;
	assert_int_equal(extsort_next(x, &p, &len), 0);
	extsort_free(x);
	check_sorts(r, 3000, 0);
	free_records(r, 3000);
}

/* Property: any set, any budget, gives back qsort's order; nothing left in dir. */
static void
test_property_random(void **state)
{
	struct dirent *de;
	DIR *d;

	(void)state;
	for (uint64_t seed = 1; seed <= 25; seed++) {
		rng = seed * 0x9E3779B97F4A7C15ull;
		size_t n = next_rand() % 6000, maxlen = next_rand() % 300;
		struct rec *r = make_records(n, maxlen);
		check_sorts(r, n, (64u << 10) + (next_rand() % (1u << 20)));
		free_records(r, n);
	}
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		assert_true(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0);
	closedir(d);
}

static void
test_refused(void **state)
{
	struct extsort *x = extsort_new("/nonexistent-dir", 0);
	static char big[2u << 20];
	int rc = 0;

	(void)state;
	assert_int_equal(extsort_add(x, big, sizeof(big)), -1);
	assert_non_null(strstr(extsort_error(x), "refused"));
	/* a spill into a directory that does not exist names it */
	for (int i = 0; i < 100000 && rc == 0; i++)
		rc = extsort_add(x, big, 100);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(extsort_error(x), "/nonexistent-dir: temporary file"));
	extsort_free(x);
}

static int
setup(void **state)
{
	(void)state;
	rng = 88172645463325252ull;
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_memory),
		cmocka_unit_test(test_many_runs),
		cmocka_unit_test(test_long_records),
		cmocka_unit_test(test_empty_and_duplicates),
		cmocka_unit_test(test_property_random),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
