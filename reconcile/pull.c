/*
 * pull.c — one platform's roster into staging, in a thread of its own (see run.c).
 *
 * Each page is staged in its own short txn: no write txn is held across a network call, and
 * a pull that fails before its last page changes nobody.
 */
#include <stdio.h>
#include <string.h>

#include "reconcile.h"
#include "run_p.h"

#define STAGE_BATCH	20000	/* accounts staged per commit */

static int
sink_page(struct pull_sink *sink, struct account *accts, int n)
{
	struct pull_job *job = sink->arg;
	int i;

	for (i = 0; i < n; i++) {
		rec_account_normalize(&accts[i], job->cfg);
		if (store_stage_add(job->batch, &accts[i]) < 0)
			goto fail;
	}
	job->sum->pulled += n;
	if (log_is_tty())
		log_progress("%s: %ld accounts pulled (%ld pages)", job->drv->name,
		    job->sum->pulled, job->res.pages);
	return 0;
fail:
	snprintf(job->res.err, sizeof(job->res.err), "%s: staging page %ld: %s", job->drv->name,
	    job->res.pages, store_error(job->st));
	return -1;
}

static void
sink_team(struct pull_sink *sink, const char *team_id, const char *name)
{
	struct pull_job *job = sink->arg;
	struct buf cur = { 0 };
	struct txn *t;

	if ((t = store_begin(job->st, 1)) == NULL)
		return;
	if (store_team_name_get(t, job->drv->platform, team_id, &cur) == 0 &&
	    strcmp(cur.p, name) == 0) {
		store_abort(t);
	} else if (store_team_name_put(t, job->drv->platform, team_id, name) < 0 ||
	    store_commit(t) < 0) {
		log_warn("%s: cannot store team name: %s", job->drv->name, store_error(job->st));
	}
	buf_free(&cur);
}

void *
pull_thread(void *arg)
{
	struct pull_job *job = arg;
	struct driver_ctx ctx = { .cfg = job->cfg };
	struct pull_sink sink = { sink_page, sink_team, job };
	struct txn *t;

	job->rc = -1;
	ctx.http = http_new(job->drv->name, job->cfg);
	if ((t = store_begin(job->st, 1)) == NULL || store_stage_clear(t, job->drv->platform) < 0 ||
	    store_commit(t) < 0) {
		snprintf(job->res.err, sizeof(job->res.err), "%s: %s", job->drv->name,
		    store_error(job->st));
		goto out;
	}
	if (job->drv->init(&ctx, job->res.err, sizeof(job->res.err)) < 0)
		goto out;
	job->batch = store_stage_batch_new(job->st, job->drv->platform, STAGE_BATCH);
	job->rc = job->drv->pull(&ctx, job->cursor_in, &sink, &job->res);
	job->drv->fini(&ctx);
	if (job->rc == 0 && store_stage_flush(job->batch) < 0) {
		snprintf(job->res.err, sizeof(job->res.err), "%s: staging: %s", job->drv->name,
		    store_error(job->st));
		job->rc = -1;
	}
out:
	store_stage_batch_free(job->batch);
	job->batch = NULL;
	job->sum->pages = job->res.pages;
	job->sum->requests = http_stats(ctx.http)->requests;
	job->sum->retries = http_stats(ctx.http)->retries;
	job->sum->throttled = http_stats(ctx.http)->throttled;
	http_free(ctx.http);
	return NULL;
}
