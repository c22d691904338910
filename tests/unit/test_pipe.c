/*
 * test_pipe.c — the hand-over between pulling threads and the one writer (reconcile/pipe.c):
 * every batch of two concurrent pulls is staged, each pull is reported done once after its
 * last batch, memory stays bounded by the queue and the spares, and a batch the writer cannot
 * stage fails that pull (its next hand-over is refused) without stopping the other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* before cmocka.h, whose fail() macro would clash with the drivers' declarations */
#include "../../reconcile/run_p.h"

#include <cmocka.h>

#include "store_fixture.h"

#define BATCH	100

struct producer {
	struct pull_job	 job;
	enum platform	 p;
	int		 batches;	/* to send; 0: until refused */
	int		 sent;
	int		 refused;	/* the pipe refused a hand-over */
	int		 done;		/* reported by the writer */
	size_t		 name_len;
};

/* A pulling thread: batches of BATCH accounts of platform pr->p, then its last. */
static void *
produce(void *arg)
{
	struct producer *pr = arg;
	struct stage_batch *b = store_stage_batch_new(pr->job.st, pr->p, BATCH), *next;
	char *name = calloc(1, pr->name_len + 1);
	char id[32];
	int i, r;

	memset(name, 'n', pr->name_len);
	for (i = 0; !pr->refused && (pr->batches == 0 ? i < 100000 : i < pr->batches * BATCH);
	    i++) {
		struct account a = { .platform = pr->p, .team_id = "T1", .user_id = id,
		    .name = name };

		snprintf(id, sizeof(id), "U%07d", i);
		r = store_stage_add(b, &a);
		assert_true(r == 0 || r == 1);
		if (r == 1) {
			next = NULL;
			pr->refused = pipe_put(pr->job.pipe, &pr->job, b, 0, &next) < 0;
			pr->sent++;
			b = next ? next : store_stage_batch_new(pr->job.st, pr->p, BATCH);
		}
	}
	store_stage_batch_free(b);		/* empty after a full last batch */
	free(name);
	(void)pipe_put(pr->job.pipe, &pr->job, NULL, 1, NULL);
	return NULL;
}

static void
on_done(struct pull_job *job, void *arg)
{
	struct producer *pr = (struct producer *)(void *)job;	/* job is its first member */

	(void)arg;
	assert_int_equal(pthread_join(job->th, NULL), 0);
	pr->done++;
}

static void
run_producers(struct store *st, struct producer *pr, int n)
{
	struct pipe pipe;
	int i;

	pipe_init(&pipe);
	for (i = 0; i < n; i++) {
		pr[i].job.st = st;
		pr[i].job.pipe = &pipe;
		pipe_producers(&pipe, 1);
		assert_int_equal(pthread_create(&pr[i].job.th, NULL, produce, &pr[i]), 0);
	}
	pipe_drain(&pipe, st, on_done, NULL);
	pipe_destroy(&pipe);
	for (i = 0; i < n; i++) {
		assert_int_equal(pr[i].done, 1);	/* each reported once, after its last */
		store_stage_batch_free(pr[i].job.spare);
		pr[i].job.spare = NULL;
	}
}

static size_t
staged(struct store *st, enum platform p)
{
	struct txn *t = store_begin(st, 0);
	size_t n = 0;

	assert_non_null(t);
	assert_int_equal(store_stage_count(t, p, &n), 0);
	store_abort(t);
	return n;
}

/* A Slack pull of slack_batches (0: until refused) of accounts named by name_len bytes, and
 * a Webex pull of 3 small batches, at the same time. */
static void
two_pulls(void **state, int slack_batches, size_t name_len, struct producer *pr)
{
	struct fx *f = *state;

	memset(pr, 0, 2 * sizeof(*pr));
	pr[0].p = PLAT_SLACK;
	pr[0].batches = slack_batches;
	pr[0].name_len = name_len;
	pr[1].p = PLAT_WEBEX;
	pr[1].batches = 3;
	pr[1].name_len = 8;
	run_producers(f->st, pr, 2);
	assert_int_equal(pr[1].job.wfail + pr[1].refused, 0);
	assert_int_equal(staged(f->st, PLAT_WEBEX), 3 * BATCH);
}

static void
test_two_pulls_one_writer(void **state)
{
	struct producer pr[2];

	two_pulls(state, 7, 8, pr);
	assert_int_equal(pr[0].job.wfail + pr[0].refused, 0);
	assert_int_equal(staged(((struct fx *)*state)->st, PLAT_SLACK), 7 * BATCH);
}

/* The map (64 MiB) fills: the writer's failure refuses the pull's next hand-over, with the
 * store's reason, and the other pull still lands whole. */
static void
test_write_failure_fails_that_pull(void **state)
{
	struct producer pr[2];

	two_pulls(state, 0, 900, pr);
	assert_true(pr[0].job.wfail && pr[0].refused);
	assert_non_null(strstr(pr[0].job.werr, "MDB_MAP_FULL"));
	assert_true(pr[0].sent < 100000 / BATCH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_pulls_one_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_fails_that_pull, setup, teardown)
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
