/*
 * pipe.c — the hand-over between the pulling threads and the one writer (run_p.h).
 *
 * Why: a pull is network waits and JSON work, its staging is LMDB writes and fdatasyncs; on
 * two cores the two overlap when a pulling thread (one per platform or workspace) fills
 * batches of encoded accounts and the run's own thread, the only one that writes, stages
 * them. The queue holds at most PIPE_DEPTH batches, and each pull keeps at most one spare:
 * memory stays bounded whatever the roster's size, and a fast pull waits for the writer.
 */
#include <stdio.h>
#include <string.h>

#include "reconcile.h"
#include "run_p.h"

void
pipe_init(struct pipe *p)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->room, NULL);
	pthread_cond_init(&p->ready, NULL);
}

void
pipe_destroy(struct pipe *p)
{
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->room);
	pthread_cond_destroy(&p->ready);
}

void
pipe_producers(struct pipe *p, int delta)
{
	pthread_mutex_lock(&p->mu);
	p->producers += delta;
	pthread_cond_signal(&p->ready);
	pthread_mutex_unlock(&p->mu);
}

int
pipe_put(struct pipe *p, struct pull_job *job, struct stage_batch *b, int last,
    struct stage_batch **next)
{
	int rc;

	pthread_mutex_lock(&p->mu);
	while (p->n == PIPE_DEPTH)
		pthread_cond_wait(&p->room, &p->mu);
	p->q[(p->head + p->n) % PIPE_DEPTH] = (struct pipe_item){ job, b, last };
	p->n++;
	pthread_cond_signal(&p->ready);
	rc = job->wfail ? -1 : 0;
	if (next) {
		*next = job->spare;
		job->spare = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* The next item, waiting for one; 0, or -1 when every producer has sent its last. */
static int
pipe_get(struct pipe *p, struct pipe_item *it)
{
	int rc = -1;

	pthread_mutex_lock(&p->mu);
	while (p->n == 0 && p->producers > 0)
		pthread_cond_wait(&p->ready, &p->mu);
	if (p->n > 0) {
		*it = p->q[p->head];
		p->head = (p->head + 1) % PIPE_DEPTH;
		p->n--;
		pthread_cond_signal(&p->room);
		rc = 0;
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* A written batch back to its pull for reuse (one spare each), or freed. */
static void
pipe_recycle(struct pipe *p, struct pipe_item *it, int failed, const char *err)
{
	struct stage_batch *drop = NULL;

	pthread_mutex_lock(&p->mu);
	if (failed && !it->job->wfail) {
		it->job->wfail = 1;
		snprintf(it->job->werr, sizeof(it->job->werr), "%s", err);
	}
	if (it->job->spare == NULL && !it->last && !failed)
		it->job->spare = it->b;
	else
		drop = it->b;
	if (it->last)
		p->producers--;
	pthread_mutex_unlock(&p->mu);
	store_stage_batch_free(drop);
}

void
pipe_drain(struct pipe *p, struct store *st, void (*done)(struct pull_job *job, void *arg),
    void *arg)
{
	struct pipe_item it;

	while (pipe_get(p, &it) == 0) {
		char err[512];
		int failed = 0, wfail;

		pthread_mutex_lock(&p->mu);
		wfail = it.job->wfail;
		pthread_mutex_unlock(&p->mu);
		/* after a failed write the pull's later batches are dropped: it fails anyway */
		if (it.b && !wfail && it.job->lead && it.job->lead->stream)
			failed = apply_stream_batch(it.job->lead, it.b, st, err, sizeof(err)) < 0;
		else if (it.b && !wfail && store_stage_flush(it.b) < 0) {
			failed = 1;
			snprintf(err, sizeof(err), "%s", store_error(st));
		}
		pipe_recycle(p, &it, failed, failed ? err : "");
		if (it.last)
			done(it.job, arg);
	}
}
