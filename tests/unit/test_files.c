/*
 * test_files.c — published files (write_file_atomic): what is planted at the target or at a
 * temporary name is never followed or replaced; only a regular file is replaced. Files that
 * init creates (create_file_excl): created whole with their mode, never replacing anything.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util.h"

struct dir {
	char	path[64];
};

static int
setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	snprintf(d->path, sizeof(d->path), "/tmp/ps-files-XXXXXX");
	if (mkdtemp(d->path) == NULL)
		return -1;
	*state = d;
	return 0;
}

static int
teardown(void **state)
{
	struct dir *d = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	if (system(cmd) != 0)
		return -1;
	free(d);
	return 0;
}

static char *
at(const struct dir *d, const char *name)
{
	return xasprintf("%s/%s", d->path, name);
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *
get(const char *path)
{
	struct buf b = { 0 };

	assert_int_equal(read_file(path, 1 << 20, &b), 0);
	return b.p != NULL ? b.p : xstrdup("");
}

/* Nothing but the names given is left in the directory (no temporary file behind). */
static void
only(const struct dir *d, int n)
{
	DIR *dh = opendir(d->path);
	struct dirent *e;
	int count = 0;

	assert_non_null(dh);
	while ((e = readdir(dh)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			count++;
	closedir(dh);
	assert_int_equal(count, n);
}

static void
test_replaces_a_regular_file(void **state)
{
	struct dir *d = *state;
	char *p = at(d, "out.csv"), *s;
	struct stat st;

	put(p, "old\n");
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(write_file_atomic(p, "new\n", 4, 0640), 0);
	s = get(p);
	assert_string_equal(s, "new\n");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	only(d, 1);
	free(s);
	free(p);
}

static void
test_refuses_a_symlink_at_the_target(void **state)
{
	struct dir *d = *state;
	char *victim = at(d, "victim"), *p = at(d, "report.html"), *s;
	struct stat st;

	put(victim, "precious\n");
	assert_int_equal(chmod(victim, 0600), 0);
	assert_int_equal(symlink(victim, p), 0);
	errno = 0;
	assert_int_equal(write_file_atomic(p, "x", 1, 0644), -1);
	assert_int_equal(errno, EEXIST);
	s = get(victim);
	assert_string_equal(s, "precious\n");
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	only(d, 2);
	free(s);
	free(victim);
	free(p);
}

/* The old code opened PATH.tmp.<pid>: a symlink planted there for every likely pid was
 * followed and the file it named overwritten and made 0644. */
static void
test_planted_temporary_names_are_not_followed(void **state)
{
	struct dir *d = *state;
	char *victim = at(d, "victim"), *p = at(d, "people.csv"), *s, *link;
	struct stat st;

	put(victim, "precious\n");
	assert_int_equal(chmod(victim, 0600), 0);
	link = xasprintf("%s.tmp.%ld", p, (long)getpid());
	assert_int_equal(symlink(victim, link), 0);
	assert_int_equal(write_file_atomic(p, "a,b\n", 4, 0644), 0);
	s = get(victim);
	assert_string_equal(s, "precious\n");
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	free(s);
	s = get(p);
	assert_string_equal(s, "a,b\n");
	only(d, 3);
	free(s);
	free(link);
	free(victim);
	free(p);
}

static void
test_refuses_a_fifo_and_a_directory(void **state)
{
	struct dir *d = *state;
	char *fifo = at(d, "pipe"), *sub = at(d, "sub");
	struct stat st;

	assert_int_equal(mkfifo(fifo, 0600), 0);
	errno = 0;
	assert_int_equal(write_file_atomic(fifo, "x", 1, 0644), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));

	assert_int_equal(mkdir(sub, 0700), 0);
	errno = 0;
	assert_int_equal(write_file_atomic(sub, "x", 1, 0644), -1);
	assert_int_equal(errno, EISDIR);
	assert_int_equal(lstat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	only(d, 2);
	free(fifo);
	free(sub);
}

/* `export -o` to a device node: a node of our own (a copy of /dev/null's numbers, made in the
 * test's directory, never the system's), so that a failing run damages nothing. Making device
 * nodes needs root (as CI and the test machines are); elsewhere a FIFO stands in. */
static void
test_a_device_is_never_replaced(void **state)
{
	struct dir *d = *state;
	char *dev = at(d, "null");
	struct stat before, after;
	int is_dev = mknod(dev, S_IFCHR | 0666, makedev(1, 3)) == 0;

	if (!is_dev)
		assert_int_equal(mkfifo(dev, 0666), 0);
	assert_int_equal(lstat(dev, &before), 0);
	errno = 0;
	assert_int_equal(write_file_atomic(dev, "x", 1, 0644), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(lstat(dev, &after), 0);
	assert_true(is_dev ? S_ISCHR(after.st_mode) : S_ISFIFO(after.st_mode));
	assert_int_equal(before.st_ino, after.st_ino);
	only(d, 1);
	free(dev);
}

static void
test_missing_directory_fails_cleanly(void **state)
{
	struct dir *d = *state;
	char *p = at(d, "nowhere/out.json");

	errno = 0;
	assert_int_equal(write_file_atomic(p, "x", 1, 0644), -1);
	assert_int_equal(errno, ENOENT);
	only(d, 0);
	free(p);
}

static void
test_create_excl_creates_with_mode(void **state)
{
	struct dir *d = *state;
	char *p = at(d, "link.key"), *s;
	struct stat st;

	assert_int_equal(create_file_excl(p, "k\n", 2, 0600, (uid_t)-1, (gid_t)-1), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	s = get(p);
	assert_string_equal(s, "k\n");
	free(s);
	only(d, 1);
	free(p);
}

/* Whatever holds the name is kept as it was: a file, a symlink (dangling or not), a
 * directory; nothing else is left behind in the directory. */
static void
test_create_excl_never_replaces(void **state)
{
	struct dir *d = *state;
	char *f = at(d, "peoplesync.cfg"), *l = at(d, "link"), *gone = at(d, "gone"),
	    *sub = at(d, "sub"), *s;
	struct stat st;

	put(f, "mine\n");
	errno = 0;
	assert_int_equal(create_file_excl(f, "new", 3, 0600, (uid_t)-1, (gid_t)-1), -1);
	assert_int_equal(errno, EEXIST);
	s = get(f);
	assert_string_equal(s, "mine\n");
	free(s);

	assert_int_equal(symlink(gone, l), 0);
	errno = 0;
	assert_int_equal(create_file_excl(l, "new", 3, 0600, (uid_t)-1, (gid_t)-1), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(lstat(gone, &st), -1);
	assert_int_equal(lstat(l, &st), 0);
	assert_true(S_ISLNK(st.st_mode));

	assert_int_equal(mkdir(sub, 0700), 0);
	errno = 0;
	assert_int_equal(create_file_excl(sub, "new", 3, 0600, (uid_t)-1, (gid_t)-1), -1);
	assert_int_equal(errno, EEXIST);
	only(d, 3);
	free(f);
	free(l);
	free(gone);
	free(sub);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replaces_a_regular_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_a_symlink_at_the_target, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_planted_temporary_names_are_not_followed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_a_fifo_and_a_directory, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_a_device_is_never_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_directory_fails_cleanly, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create_excl_creates_with_mode, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create_excl_never_replaces, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
