/*
 * replay.c — the fuzz targets without libFuzzer: every file of tests/fuzz/regress/TARGET/ and
 * tests/fuzz/seeds/TARGET/ fed to that target's LLVMFuzzerTestOneInput, built with gcc under
 * ASan + UBSan like the unit tests (make builds it as build/test/unit/test_fuzz_regress, so
 * tests/run_all.py runs it with every unit test).
 *
 * Each target is compiled with LLVMFuzzerTestOneInput renamed TARGET_one (and
 * LLVMFuzzerInitialize TARGET_initialize); FUZZ_TARGETS_X, from the Makefile, lists them as
 * X(fuzz_json) X(fuzz_config) ... Each file runs in a child process (a crash, a sanitizer
 * report, a leak or a hang of 30 s fails that file only) and counts as one test; the summary
 * is in cmocka's words ("[  PASSED  ] N test(s).") so run_all.py counts it.
 *
 *	build/test/unit/test_fuzz_regress			every target's files
 *	build/test/unit/test_fuzz_regress TARGET FILE...	those files, in this process
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#ifndef FUZZ_TARGETS_X
#error "FUZZ_TARGETS_X must list the targets: -DFUZZ_TARGETS_X='X(fuzz_json) ...'"
#endif

#define X(t) int t##_one(const uint8_t *data, size_t size); \
	int t##_initialize(int *argc, char ***argv) __attribute__((weak));
FUZZ_TARGETS_X
#undef X

struct target {
	const char	*name;
	int		(*one)(const uint8_t *, size_t);
	int		(*initialize)(int *, char ***);
};

static const struct target targets[] = {
#define X(t) { #t, t##_one, t##_initialize },
	FUZZ_TARGETS_X
#undef X
};

#define TIMEOUT	30		/* seconds per file: a hang is a finding too */

static const char *const dirs[] = { "tests/fuzz/regress", "tests/fuzz/seeds" };

/* Runs one file through t in this process; 0, or -1 when it cannot be read. */
static int
run_file(const struct target *t, const char *path)
{
	struct buf b = { 0 };
	uint8_t *copy;

	if (read_file(path, 64u << 20, &b) == -1) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	/* an exact-size copy, as libFuzzer gives: reading past the input is then caught */
	copy = xmalloc(b.len ? b.len : 1);
	memcpy(copy, b.p, b.len);
	t->one(copy, b.len);
	free(copy);
	buf_free(&b);
	return 0;
}

/* One file in a child: 1 passed, 0 failed (what it died of is printed). */
static int
run_child(const struct target *t, const char *path)
{
	int status, argc = 1;
	char *argv0[] = { (char *)"test_fuzz_regress", NULL }, **argv = argv0;
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "fork: %s\n", strerror(errno));
		return 0;
	}
	if (pid == 0) {
		alarm(TIMEOUT);
		if (t->initialize)
			t->initialize(&argc, &argv);
		exit(run_file(t, path) == 0 ? 0 : 2);	/* exit(): leak checking runs */
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 1;
	if (WIFSIGNALED(status))
		printf("%s %s: killed by signal %d%s\n", t->name, path, WTERMSIG(status),
		    WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
	else
		printf("%s %s: exit status %d\n", t->name, path, WEXITSTATUS(status));
	return 0;
}

static int
regular(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

int
main(int argc, char **argv)
{
	struct buf failed = { 0 };
	size_t i, k;
	int passed = 0, nfailed = 0, run = 0;

	if (argc >= 3) {
		for (i = 0; i < ARRAY_LEN(targets); i++)
			if (strcmp(targets[i].name, argv[1]) == 0)
				break;
		if (i == ARRAY_LEN(targets)) {
			fprintf(stderr, "test_fuzz_regress: %s: no such target\n", argv[1]);
			return 64;
		}
		if (targets[i].initialize) {
			int ac = 1;
			char **av = argv;
			targets[i].initialize(&ac, &av);
		}
		for (int a = 2; a < argc; a++)
			if (run_file(&targets[i], argv[a]) < 0)
				return 66;
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: test_fuzz_regress [TARGET FILE...]\n");
		return 64;
	}
	printf("[==========] fuzz regressions: %zu targets\n", ARRAY_LEN(targets));
	for (i = 0; i < ARRAY_LEN(targets); i++) {
		const struct target *t = &targets[i];

		for (k = 0; k < ARRAY_LEN(dirs); k++) {
			struct dirent **names = NULL;
			char *dir = xasprintf("%s/%s", dirs[k], t->name);
			int n = scandir(dir, &names, regular, alphasort);

			for (int e = 0; e < n; e++) {
				char *path = xasprintf("%s/%s", dir, names[e]->d_name);

				printf("[ RUN      ] %s %s\n", t->name, path);
				run++;
				if (run_child(t, path)) {
					passed++;
					printf("[       OK ] %s %s\n", t->name, path);
				} else {
					nfailed++;
					printf("[  FAILED  ] %s %s\n", t->name, path);
					buf_printf(&failed, "[  FAILED  ] %s %s\n", t->name, path);
				}
				free(path);
				free(names[e]);
			}
			free(names);
			free(dir);
		}
	}
	printf("[==========] %d test(s) run.\n", run);
	printf("[  PASSED  ] %d test(s).\n", passed);
	if (nfailed) {
		printf("[  FAILED  ] %d test(s), listed below:\n%s", nfailed, failed.p);
		printf("\n %d FAILED TEST(S)\n", nfailed);
	}
	buf_free(&failed);
	return nfailed ? 1 : run == 0;
}
