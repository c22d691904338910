/*
 * store_fixture.h — the cmocka fixture of the unit tests that need a database: a fresh one
 * in a temporary directory for each test (setup), removed after it (teardown).
 */
#ifndef PS_STORE_FIXTURE_H
#define PS_STORE_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "store.h"

struct fx {
	char		 dir[64];
	struct store	*st;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct failure fl;

	snprintf(f->dir, sizeof(f->dir), "/tmp/ps-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->st = store_open(f->dir, 64, 0, &fl);
	assert_non_null(f->st);
	*state = f;
	return 0;
}

static int
rm_entry(const char *path, const struct stat *sb, int kind, struct FTW *ftw)
{
	(void)sb;
	(void)kind;
	(void)ftw;
	return remove(path);
}

/* The database closed and its directory removed (no shell). */
static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->st);
	assert_int_equal(nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
	free(f);
	return 0;
}

#endif
