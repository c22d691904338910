/*
 * test_run_lock.c — the run lock (reconcile/lock.c): a second holder gets FAIL_AGAIN (exit 75)
 * naming the pid that holds it, a lock file that cannot be opened FAIL_IO (exit 74), and the
 * lock is free again once released; the holder's pid is named even right after another
 * process took the lock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

struct dir {
	char	path[64];
};

static int
setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	snprintf(d->path, sizeof(d->path), "/tmp/ps-lock-XXXXXX");
	if (mkdtemp(d->path) == NULL)
		return -1;
	*state = d;
	return 0;
}

static int
teardown(void **state)
{
	struct dir *d = *state;
	char file[96];

	snprintf(file, sizeof(file), "%s/peoplesync.lock", d->path);
	unlink(file);
	rmdir(d->path);
	free(d);
	return 0;
}

static void
test_held_lock_is_again(void **state)
{
	struct dir *d = *state;
	struct failure f = { 0 };
	char pid[32];
	int a, b;

	a = run_lock(d->path, &f);
	assert_true(a >= 0);
	b = run_lock(d->path, &f);
	assert_int_equal(b, -1);
	assert_int_equal(f.cls, FAIL_AGAIN);
	assert_int_equal(fail_exit(f.cls), EX_TEMPFAIL);
	snprintf(pid, sizeof(pid), "(pid %ld)", (long)getpid());
	assert_non_null(strstr(f.msg, "another run "));
	assert_non_null(strstr(f.msg, pid));
	assert_non_null(strstr(f.msg, "peoplesync.lock; try again when it has finished"));
	run_unlock(a);
	b = run_lock(d->path, &f);
	assert_true(b >= 0);
	run_unlock(b);
}

static void
test_unopenable_lock_is_io(void **state)
{
	struct dir *d = *state;
	struct failure f = { 0 };
	char missing[96];

	snprintf(missing, sizeof(missing), "%s/no/such/dir", d->path);
	assert_int_equal(run_lock(missing, &f), -1);
	assert_int_equal(f.cls, FAIL_IO);
	assert_int_equal(fail_exit(f.cls), EX_IOERR);
	assert_non_null(strstr(f.msg, "cannot open lock file"));
	run_unlock(-1);		/* a failed lock is safe to release */
}

/* A child takes the lock while we keep asking: the first refusal names the child, never
 * "unknown" nor a pid left in the file by an earlier holder (ours, here). */
static void
test_pid_known_right_after_start(void **state)
{
	const struct timespec hold = { 0, 20000000 };
	struct dir *d = *state;
	struct failure f = { 0 };
	char want[32];
	int i, fd, st;
	pid_t child;

	for (i = 0; i < 50; i++) {
		fd = run_lock(d->path, &f);	/* leaves our pid in the file */
		assert_true(fd >= 0);
		run_unlock(fd);
		if ((child = fork()) == 0) {
			while ((fd = run_lock(d->path, &f)) < 0)
				;
			nanosleep(&hold, NULL);
			_exit(0);
		}
		assert_true(child > 0);
		while ((fd = run_lock(d->path, &f)) >= 0)
			run_unlock(fd);		/* before the child: let go, ask again */
		snprintf(want, sizeof(want), "(pid %ld)", (long)child);
		if (strstr(f.msg, want) == NULL)
			fail_msg("try %d: child %ld: %s", i, (long)child, f.msg);
		assert_int_equal(waitpid(child, &st, 0), child);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_held_lock_is_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unopenable_lock_is_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pid_known_right_after_start, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
