/*
 * pull.c — one platform's roster into batches of staged accounts, in a thread of its own
 * (see run.c). The thread fetches, parses and encodes; it writes nothing: its full batches go
 * through the pipe (pipe.c) to the run's thread, which stages them. No write txn is held
 * across a network call, and a pull that fails before its last page changes nobody.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile.h"
#include "run_p.h"

#define STAGE_BATCH	20000	/* accounts staged per commit */

/* The full batch to the writer; the next one to fill in job->batch. */
static int
hand_over(struct pull_job *job)
{
	struct stage_batch *next = NULL;
	int rc = pipe_put(job->pipe, job, job->batch, 0, &next);

	job->batch = next ? next : store_stage_batch_new(job->st, job->drv->platform,
	    STAGE_BATCH);
	if (rc < 0)
		snprintf(job->res.err, sizeof(job->res.err), "%s: staging page %ld: %.400s",
		    job->drv->name, job->res.pages, job->werr);
	return rc;
}

static int
sink_page(struct pull_sink *sink, struct account *accts, int n)
{
	struct pull_job *job = sink->arg;
	int i, r;

	for (i = 0; i < n; i++) {
		rec_account_normalize(&accts[i], job->cfg);
		if ((r = store_stage_add(job->batch, &accts[i])) < 0) {
			snprintf(job->res.err, sizeof(job->res.err), "%s: staging page %ld: %s",
			    job->drv->name, job->res.pages, store_stage_batch_error(job->batch));
			return -1;
		}
		if (r == 1 && hand_over(job) < 0)
			return -1;
	}
	job->sum->pulled += n;
	if (log_is_tty())
		log_progress("%s: %ld accounts pulled (%ld pages)", job->drv->name,
		    job->sum->pulled, job->res.pages);
	return 0;
}

#define TEAM_REFRESH	86400	/* team names are fetched again after a day */

/* 1 when the team's name was fetched less than a day ago by this instance: the driver
 * need not ask again (a read; pulls never write). */
static int
sink_team_known(struct pull_sink *sink, const char *team_id)
{
	struct pull_job *job = sink->arg;
	struct team_rec r = { 0 };
	struct txn *t;
	int known = 0;

	if ((t = store_begin(job->st, 0)) == NULL)
		return 0;
	if (store_team_get(t, job->drv->platform, team_id, &r) == 0)
		known = r.name != NULL && r.inst == job->pc->index &&
		    r.fetched_at > ps_now() - TEAM_REFRESH && r.fetched_at <= ps_now() &&
		    r.from_config == (job->pc->team_name != NULL);
	store_abort(t);
	team_rec_free(&r);
	return known;
}

/* Kept for the writer, which stores it when the pull ends (pulls never write). */
static void
sink_team(struct pull_sink *sink, const char *team_id, const char *name)
{
	struct pull_job *job = sink->arg;

	job->teams = xrealloc(job->teams, (size_t)(job->nteams + 1) * sizeof(*job->teams));
	job->teams[job->nteams].id = xstrdup(team_id);
	job->teams[job->nteams].name = xstrdup(name);
	job->nteams++;
}

void *
pull_thread(void *arg)
{
	struct pull_job *job = arg;
	struct driver_ctx ctx = { .cfg = job->cfg, .pc = job->pc };
	struct pull_sink sink = { sink_page, sink_team, job, sink_team_known };

	job->rc = -1;
	ctx.http = http_new(job->drv->name, job->cfg);
	job->batch = store_stage_batch_new(job->st, job->drv->platform, STAGE_BATCH);
	if (job->drv->init(&ctx, job->res.err, sizeof(job->res.err)) == 0) {
		job->rc = job->drv->pull(&ctx, job->cursor_in, &sink, &job->res);
		job->drv->fini(&ctx);
	}
	job->sum->pages = job->res.pages;
	job->sum->requests = http_stats(ctx.http)->requests;
	job->sum->retries = http_stats(ctx.http)->retries;
	job->sum->throttled = http_stats(ctx.http)->throttled;
	http_free(ctx.http);
	/* The rest of a complete pull, or nothing: a failed pull's staging is never applied. */
	if (job->rc < 0) {
		store_stage_batch_free(job->batch);
		job->batch = NULL;
	}
	(void)pipe_put(job->pipe, job, job->batch, 1, NULL);	/* the writer reports it */
	return NULL;
}

void
pull_job_free(struct pull_job *job)
{
	int i;

	for (i = 0; i < job->nteams; i++) {
		free(job->teams[i].id);
		free(job->teams[i].name);
	}
	free(job->teams);
	free(job->stream);	/* set only while a first pull is merged as it arrives */
	job->teams = NULL;
	job->nteams = 0;
	store_stage_batch_free(job->spare);
	job->spare = NULL;
	pull_result_free(&job->res);
	free(job->cursor_in);
	job->cursor_in = NULL;
}
