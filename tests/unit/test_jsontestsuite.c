/*
 * test_jsontestsuite.c — json_parse() against every file of nst/JSONTestSuite (test_parsing/).
 *
 * One cmocka test per file, built at run time, so a failure names its file:
 *	y_*  must be accepted, n_* must be rejected, i_* must only not crash (ASan/UBSan watch).
 * The corpus is $PEOPLESYNC_TESTDATA/jsontestsuite, else tests/data/jsontestsuite relative to
 * the current directory (the repo root when make runs the tests).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../drivers/json_p.h"
#include "util.h"

#define SUITE_SUBDIR	"/jsontestsuite"
#define MAX_FILE	(16u << 20)	/* the largest corpus file is ~250 KB */

static char *suite_dir;

struct tcase {
	char	*path;
	char	 kind;			/* 'y', 'n' or 'i' */
};

/* Reads path as binary: the corpus has NULs, UTF-16 and invalid UTF-8. */
static int
slurp(const char *path, char **data, size_t *len)
{
	FILE *f;
	char *p = NULL;
	size_t n = 0, cap = 0, got;
	int rc = -1;

	if ((f = fopen(path, "rb")) == NULL)
		goto out;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			if (cap > MAX_FILE)
				goto out_close;
			p = xrealloc(p, cap);
		}
		got = fread(p + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		goto out_close;
	*data = p;
	*len = n;
	p = NULL;
	rc = 0;
out_close:
	fclose(f);
out:
	free(p);
	return rc;
}

static void
run_case(void **state)
{
	const struct tcase *tc = *state;
	struct json j = { 0 };
	char err[160] = "";
	char *data = NULL;
	size_t len = 0;
	int rc, k;

	if (slurp(tc->path, &data, &len) != 0)
		fail_msg("%s: cannot read: %s", tc->path, strerror(errno));
	rc = json_parse(&j, data, len, err, sizeof(err));
	if (tc->kind == 'y' && rc != 0)
		fail_msg("%s: valid JSON rejected: %s", tc->path, err);
	if (tc->kind == 'n' && rc == 0)
		fail_msg("%s: invalid JSON accepted", tc->path);
	if (rc == 0) {
		/* An accepted document must have a sane token tree. */
		assert_true(j.ntok >= 1);
		assert_int_equal(json_skip(&j, 0), j.ntok);
		/* the one-pass tokens are exactly jsmn's own */
		if ((k = json_tokens_vs_jsmn(&j)) != -1)
			fail_msg("%s: token %d differs from jsmn's", tc->path, k);
		for (k = 0; k < j.ntok; k++) {
			const jsmntok_t *t = &json_toks(&j)[k];

			assert_true(t->start >= 0 && t->start <= t->end);
			assert_true((size_t)t->end <= len);
		}
	} else {
		assert_true(strncmp(err, "invalid JSON at byte ", 21) == 0);
	}
	json_free(&j);
	free(data);
}

static int
cmp_case(const void *a, const void *b)
{
	return strcmp(((const struct tcase *)a)->path, ((const struct tcase *)b)->path);
}

static void
find_suite_dir(void)
{
	const char *data = getenv("PEOPLESYNC_TESTDATA");

	suite_dir = xasprintf("%s%s", data != NULL && *data != '\0' ? data : "tests/data",
	    SUITE_SUBDIR);
}

int
main(void)
{
	struct CMUnitTest *tests = NULL;
	struct tcase *cases = NULL;
	struct dirent *de;
	DIR *d;
	size_t n = 0, cap = 0, k, counts[3] = { 0, 0, 0 };
	int rc;

	find_suite_dir();
	if ((d = opendir(suite_dir)) == NULL) {
		fprintf(stderr, "test_jsontestsuite: %s: %s (run from the repo root or set PEOPLESYNC_TESTDATA)\n", suite_dir,
		    strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);
		char kind = de->d_name[0];

		if (nl < 7 || strcmp(de->d_name + nl - 5, ".json") != 0 || de->d_name[1] != '_' ||
		    (kind != 'y' && kind != 'n' && kind != 'i'))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 512;
			cases = xrealloc(cases, cap * sizeof(*cases));
		}
		cases[n].path = xasprintf("%s/%s", suite_dir, de->d_name);
		cases[n].kind = kind;
		counts[kind == 'y' ? 0 : kind == 'n' ? 1 : 2]++;
		n++;
	}
	closedir(d);
	/* An empty or partial corpus would pass vacuously. */
	if (counts[0] == 0 || counts[1] == 0 || counts[2] == 0) {
		fprintf(stderr, "test_jsontestsuite: %s: corpus incomplete (y=%zu n=%zu i=%zu)\n",
		    suite_dir, counts[0], counts[1], counts[2]);
		return 1;
	}
	qsort(cases, n, sizeof(*cases), cmp_case);
	tests = xcalloc(n, sizeof(*tests));
	for (k = 0; k < n; k++) {
		tests[k].name = strrchr(cases[k].path, '/') + 1;
		tests[k].test_func = run_case;
		tests[k].initial_state = &cases[k];
	}
	rc = _cmocka_run_group_tests("jsontestsuite", tests, n, NULL, NULL);
	for (k = 0; k < n; k++)
		free(cases[k].path);
	free(cases);
	free(tests);
	free(suite_dir);
	return rc;
}
