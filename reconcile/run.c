/*
 * run.c — one reconcile run (include/run.h): pulls into staging (pull.c), then applies
 * (apply.c); and rec_reconcile, the whole `reconcile` command.
 *
 * Why staging: a pull that fails before its last page must change nobody, and no write txn
 * may be held across a network call. Each page is staged in its own short txn; only a
 * complete pull is merged into the accounts, in key order, in batches.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile.h"
#include "run_p.h"
#include "subscriptions.h"
#include "usertokens.h"

static int
count_people(const struct person *p, void *arg)
{
	struct run_summary *sum = arg;

	sum->people_total++;
	if (p->active)
		sum->people_active++;
	return 0;
}

/* The staging area of platform p emptied, and the cursor of its last pull (if it has one)
 * in job->cursor_in. 0, or -1 with the store's error in err. */
static int
pull_prepare(struct store *st, const struct driver *drv, struct pull_job *job, char *err,
    size_t errlen)
{
	struct buf cur = { 0 };
	struct txn *t;
	int rc = -1;

	if ((t = store_begin(st, 1)) == NULL || store_stage_clear(t, drv->platform) < 0 ||
	    store_commit(t) < 0) {
		snprintf(err, errlen, "%s: %s", drv->name, store_error(st));
		return -1;
	}
	rc = 0;
	if ((drv->caps & DRV_CAP_DELTA) && (t = store_begin(st, 0)) != NULL) {
		char *key = xasprintf("cursor.%s", drv->name);
		if (store_meta_get(t, key, &cur) == 0)
			job->cursor_in = xstrdup(cur.p);
		free(key);
		store_abort(t);
	}
	buf_free(&cur);
	return rc;
}

/* Starts a pull thread for every enabled (and selected) platform, each feeding pipe. */
static void
start_pulls(const struct config *cfg, struct store *st, const struct run_opts *o,
    struct run_summary *sum, struct pull_job *jobs, struct pipe *pipe)
{
	int any_only = 0, i;

	for (i = 0; i < PLAT_COUNT; i++)
		any_only |= o->only[i];
	for (i = 0; i < PLAT_COUNT; i++) {
		const struct driver *drv = driver_for((enum platform)i);

		if (!config_enabled(cfg, (enum platform)i) || (any_only && !o->only[i]))
			continue;
		sum->p[i].ran = 1;
		if (drv == NULL) {
			snprintf(sum->p[i].err, sizeof(sum->p[i].err), "%s: this build has no %s "
			    "driver yet", platform_name((enum platform)i), platform_name((enum platform)i));
			continue;
		}
		jobs[i].cfg = cfg;
		jobs[i].st = st;
		jobs[i].pipe = pipe;
		jobs[i].drv = drv;
		jobs[i].sum = &sum->p[i];
		jobs[i].started = ps_monotonic();
		if (pull_prepare(st, drv, &jobs[i], sum->p[i].err, sizeof(sum->p[i].err)) < 0)
			continue;
		pipe_producers(pipe, 1);
		if (pthread_create(&jobs[i].th, NULL, pull_thread, &jobs[i]) != 0) {
			pipe_producers(pipe, -1);
			snprintf(sum->p[i].err, sizeof(sum->p[i].err), "%s: cannot start a thread",
			    drv->name);
			pull_job_free(&jobs[i]);
		}
	}
}

struct run_ctx {
	const struct config	*cfg;
	struct store		*st;
	const struct run_opts	*o;
};

/* The team names a pull learnt, stored (a failure only warns: they are labels). */
static void
store_teams(struct store *st, struct pull_job *job)
{
	struct buf cur = { 0 };
	struct txn *t;
	int i;

	for (i = 0; i < job->nteams; i++) {
		const char *id = job->teams[i].id, *name = job->teams[i].name;

		buf_reset(&cur);
		if ((t = store_begin(st, 1)) == NULL)
			break;
		if (store_team_name_get(t, job->drv->platform, id, &cur) == 0 &&
		    strcmp(cur.p, name) == 0) {
			store_abort(t);
		} else if (store_team_name_put(t, job->drv->platform, id, name) < 0 ||
		    store_commit(t) < 0) {
			log_warn("%s: cannot store team name: %s", job->drv->name,
			    store_error(st));
		}
	}
	buf_free(&cur);
}

/* A pull has sent its last batch (pipe_drain): joined, and applied when it is whole. */
static void
pull_done(struct pull_job *job, void *arg)
{
	struct run_ctx *r = arg;
	enum platform p = job->drv->platform;
	struct platform_summary *ps = job->sum;

	pthread_join(job->th, NULL);
	log_progress_end();
	store_teams(r->st, job);
	if (job->rc == 0 && job->wfail) {	/* werr: written by this thread (the writer) */
		snprintf(job->res.err, sizeof(job->res.err), "%s: staging: %.400s",
		    job->drv->name, job->werr);
		job->rc = -1;
	}
	if (job->rc < 0 || !job->res.complete) {
		snprintf(ps->err, sizeof(ps->err), "%s; nothing from %s was changed",
		    job->res.err[0] ? job->res.err : "pull incomplete", platform_name(p));
	} else {
		double a0 = ps_monotonic();
		log_debug("%s: pulled in %.2f s", platform_name(p), a0 - job->started);
		if (apply_platform(r->cfg, r->st, r->o, job) == 0)
			ps->ok = 1;
		log_debug("%s: applied in %.2f s", platform_name(p), ps_monotonic() - a0);
	}
	ps->seconds = ps_monotonic() - job->started;
	pull_job_free(job);
}

enum fail
run_reconcile(const struct config *cfg, struct store *st, const struct run_opts *o,
    struct run_summary *sum)
{
	struct pull_job jobs[PLAT_COUNT];
	struct run_ctx r = { cfg, st, o };
	struct pipe pipe;
	enum fail ex = FAIL_NONE;
	double t0 = ps_monotonic();
	struct txn *t;
	int i;

	memset(sum, 0, sizeof(*sum));
	memset(jobs, 0, sizeof(jobs));
	pipe_init(&pipe);
	start_pulls(cfg, st, o, sum, jobs, &pipe);
	/* this thread is the one writer: it stages what the pulls send until all have ended,
	 * and joins and applies each as it ends */
	pipe_drain(&pipe, st, pull_done, &r);
	pipe_destroy(&pipe);
	for (i = 0; i < PLAT_COUNT; i++) {
		if (!sum->p[i].ran || sum->p[i].ok)
			continue;
		log_err("%s", sum->p[i].err);
		/* 69 (a platform unavailable) wins over 65 (a pull refused by the guard) */
		if (!sum->p[i].guard_tripped)
			ex = FAIL_LATER;
		else if (ex == FAIL_NONE)
			ex = FAIL_DATA;
	}
	if (!o->dry_run && store_sync(st) < 0) {
		log_err("%s", store_error(st));
		return FAIL_IO;
	}
	if ((t = store_begin(st, 0)) != NULL) {
		store_person_each(t, count_people, sum);
		store_abort(t);
	}
	sum->seconds = ps_monotonic() - t0;
	return ex;
}

/* What a run does after the pulls, before the prompts go out: user-token upkeep,
 * re-consent prompts, the event inbox (serve's receivers, the catch-up) and the events
 * spool, Slack auto-sync. */
static enum fail
after_pulls(const struct config *cfg, struct store *st, struct prompt_summary *ps,
    enum fail *later, struct failure *f)
{
	struct sub_summary subs;
	long resolved = 0;

	/* user tokens collected by Sync now are refreshed before they expire */
	if (cfg->token_key)
		(void)rec_refresh_user_tokens(cfg, st);	/* logs its own problems */
	/* the event subscriptions kept, then the catch-up: what it found is drained below;
	 * a platform's failure is logged and makes the run's exit 69 */
	if ((*later = rec_events_upkeep(cfg, st, ps_now(), &subs)) == FAIL_IO)
		return fail_set(f, FAIL_IO, "%s", "");
	if (prompts_reauth(cfg, st, ps_now(), &ps->reauth) < 0 ||
	    events_resolve(cfg, st, &resolved) < 0 ||
	    events_drain(cfg, st, &ps->events, &ps->events_queued) < 0 ||
	    events_spool(cfg, st, &ps->events, &ps->events_queued) < 0 ||
	    prompts_auto_sync(cfg, st, ps_now(), &ps->auto_synced) < 0)
		return fail_set(f, FAIL_IO, "%s", store_error(st));
	return FAIL_NONE;
}

enum fail
rec_reconcile(const struct config *cfg, struct store *st, const struct run_opts *o,
    FILE *out, struct run_result *res, struct failure *f)
{
	enum fail cls, pcls = FAIL_NONE, later = FAIL_NONE;

	fail_set(f, FAIL_NONE, "%s", "");
	memset(&res->prompts, 0, sizeof(res->prompts));
	cls = run_reconcile(cfg, st, o, &res->run);
	if (log_get_level() >= LOG_INFO || cls != FAIL_NONE)
		run_print_summary(&res->run, o->dry_run, out);
	if (cls == FAIL_IO)
		return fail_set(f, cls, "%s", "");	/* logged */
	if (!o->dry_run && after_pulls(cfg, st, &res->prompts, &later, f) != FAIL_NONE)
		return f->cls;
	if (later == FAIL_LATER && (cls == FAIL_NONE || cls == FAIL_DATA))
		cls = later;		/* 69 wins over 65, as in run_reconcile */
	if (!o->no_prompts) {
		if (o->dry_run)
			fprintf(out, "prompts that a run would send now:\n");
		pcls = prompts_send(cfg, st, o->dry_run, out, &res->prompts);
		if (cls == FAIL_NONE)
			cls = pcls;
	}
	if (log_get_level() >= LOG_INFO || pcls != FAIL_NONE)
		prompts_print_summary(&res->prompts, out);
	return fail_set(f, cls, "%s", "");
}

void
run_print_summary(const struct run_summary *sum, int dry_run, FILE *f)
{
	int i;

	for (i = 0; i < PLAT_COUNT; i++) {
		const struct platform_summary *p = &sum->p[i];
		if (!p->ran)
			continue;
		if (!p->ok) {
			fprintf(f, "%s: FAILED after %ld accounts, %ld pages, %ld requests (%ld "
			    "retries, %ld rate-limited)\n", platform_name((enum platform)i),
			    p->pulled, p->pages, p->requests, p->retries, p->throttled);
			continue;
		}
		fprintf(f, "%s: pulled %ld accounts in %ld pages (%ld requests, %ld retries, %ld "
		    "rate-limited, %.1f s): %ld new, %ld changed, %ld deactivated, %ld "
		    "reactivated, %ld unchanged%s\n", platform_name((enum platform)i), p->pulled,
		    p->pages, p->requests, p->retries, p->throttled, p->seconds, p->n_new,
		    p->n_changed, p->n_deactivated, p->n_reactivated, p->n_unchanged,
		    dry_run ? " (dry run: nothing written)" : "");
	}
	fprintf(f, "people: %ld active, %ld in all; run took %.1f s\n", sum->people_active,
	    sum->people_total, sum->seconds);
}
