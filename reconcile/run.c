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
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <time.h>

#include "reconcile.h"
#include "run_p.h"
#include "subscriptions.h"
#include "usertokens.h"
#include "zones.h"

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

/* The platforms this run pulls (enabled, and selected by --only). */
static int
selected(const struct run_opts *o, const struct config *cfg, int p)
{
	int any_only = 0;

	for (int i = 0; i < PLAT_COUNT; i++)
		any_only |= o->only[i];
	return config_enabled(cfg, (enum platform)p) && (!any_only || o->only[p]);
}

/* A job whose thread could not start: its platform fails (and is done if it was the
 * last of its jobs). */
static void
not_started(struct platform_summary *ps, struct pull_job *j)
{
	struct pull_job *lead = j->lead;

	if (!lead->failed) {
		lead->failed = 1;
		snprintf(lead->ferr, sizeof(lead->ferr), "%s: cannot start a thread",
		    j->drv->name);
	}
	if (--lead->pending == 0) {
		if (lead->stream)
			(void)apply_stream_end(lead->st, lead, 0);
		snprintf(ps->err, sizeof(ps->err), "%s; nothing from %s was changed", lead->ferr,
		    j->drv->name);
		pull_job_free(lead);
	}
	if (j != lead)
		pull_job_free(j);
}

/* Starts one pull thread for every instance of every selected platform (each Slack
 * workspace entry: its own HTTP handle and rate buckets), all feeding pipe; the jobs are
 * returned (*n of them, a platform's together, its first the lead). */
static struct pull_job *
start_pulls(const struct config *cfg, struct store *st, const struct run_opts *o,
    struct run_summary *sum, struct pipe *pipe, int *n)
{
	struct pull_job *jobs, *lead;
	int p, i, k = 0, total = 0;

	for (p = 0; p < PLAT_COUNT; p++)
		total += selected(o, cfg, p) ? config_ninst(cfg, (enum platform)p) : 0;
	jobs = xcalloc((size_t)total + 1, sizeof(*jobs));
	for (p = 0; p < PLAT_COUNT; p++) {
		const struct driver *drv = driver_for((enum platform)p);

		if (!selected(o, cfg, p))
			continue;
		sum->p[p].ran = 1;
		if (drv == NULL) {
			snprintf(sum->p[p].err, sizeof(sum->p[p].err), "%s: this build has no %s "
			    "driver yet", platform_name((enum platform)p), platform_name((enum platform)p));
			continue;
		}
		lead = &jobs[k];
		if (pull_prepare(st, drv, lead, sum->p[p].err, sizeof(sum->p[p].err)) < 0)
			continue;
		lead->drv = drv;
		if (apply_stream_begin(cfg, st, o, lead, &sum->p[p]) < 0) {
			snprintf(sum->p[p].err, sizeof(sum->p[p].err), "%s: %s", drv->name,
			    store_error(st));
			continue;
		}
		lead->pending = config_ninst(cfg, (enum platform)p);
		for (i = 0; i < config_ninst(cfg, (enum platform)p); i++, k++) {
			struct pull_job *j = &jobs[k];

			j->cfg = cfg;
			j->st = st;
			j->pipe = pipe;
			j->drv = drv;
			j->pc = config_inst(cfg, (enum platform)p, i);
			j->sum = &j->own;
			j->lead = lead;
			j->started = ps_monotonic();
			if (j != lead && lead->cursor_in != NULL)
				j->cursor_in = xstrdup(lead->cursor_in);
			pipe_producers(pipe, 1);
			if (pthread_create(&j->th, NULL, pull_thread, j) != 0) {
				pipe_producers(pipe, -1);
				not_started(&sum->p[p], j);
			}
		}
	}
	*n = k;
	return jobs;
}

struct run_ctx {
	const struct config	*cfg;
	struct store		*st;
	const struct run_opts	*o;
	struct run_summary	*sum;
};

#define TEAM_REFRESH	86400	/* a team record is rewritten at least daily */

/* The team names a pull learnt, stored with the instance that pulled them and when (a
 * failure only warns: they are labels and routes). A record unchanged and less than a day
 * old is left alone. */
static void
store_teams(struct store *st, struct pull_job *job)
{
	struct team_rec cur = { 0 };
	struct txn *t;
	int i;

	for (i = 0; i < job->nteams; i++) {
		const char *id = job->teams[i].id, *name = job->teams[i].name;
		struct team_rec r = { (char *)name, ps_now(), job->pc->index, 0 };

		r.from_config = job->pc->team_name != NULL && strcmp(name, job->pc->team_name) == 0;
		if ((t = store_begin(st, 1)) == NULL)
			break;
		if (store_team_get(t, job->drv->platform, id, &cur) == 0 && cur.name != NULL &&
		    strcmp(cur.name, name) == 0 && cur.inst == r.inst &&
		    cur.from_config == r.from_config && cur.fetched_at > r.fetched_at - TEAM_REFRESH) {
			store_abort(t);
		} else if (store_team_put(t, job->drv->platform, id, &r) < 0 ||
		    store_commit(t) < 0) {
			log_warn("%s: cannot store team %s: %s", job->drv->name, id,
			    store_error(st));
		}
		team_rec_free(&cur);
	}
}

/* A job's figures into its platform's. */
static void
add_figures(struct platform_summary *ps, const struct platform_summary *own)
{
	ps->pulled += own->pulled;
	ps->pages += own->pages;
	ps->requests += own->requests;
	ps->retries += own->retries;
	ps->throttled += own->throttled;
}

/* CPU seconds of the calling thread. */
static double
thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The platform of lead has no pull left: applied when every one of them went through. */
static void
platform_done(struct run_ctx *r, struct pull_job *lead)
{
	enum platform p = lead->drv->platform;
	struct platform_summary *ps = &r->sum->p[p];

	if (lead->failed && lead->stream) {
		/* a first pull merged as it came: what was merged stays (apply.c) */
		long kept = ps->n_new + ps->n_changed;
		(void)apply_stream_end(r->st, lead, 0);
		if (kept > 0)
			snprintf(ps->err, sizeof(ps->err), "%s; this first pull of %s is incomplete: "
			    "the %ld accounts merged before were kept, the next run pulls again",
			    lead->ferr, platform_name(p), kept);
		else
			snprintf(ps->err, sizeof(ps->err), "%s; nothing from %s was changed",
			    lead->ferr, platform_name(p));
	} else if (lead->failed) {
		snprintf(ps->err, sizeof(ps->err), "%s; nothing from %s was changed", lead->ferr,
		    platform_name(p));
	} else {
		double a0 = ps_monotonic(), c0 = thread_cpu();
		log_debug("%s: pulled in %.2f s", platform_name(p), a0 - lead->started);
		lead->sum = ps;
		lead->res.full = !lead->partial;	/* a full roster only if every pull was */
		if ((lead->stream ? apply_stream_end(r->st, lead, 1) :
		    apply_platform(r->cfg, r->st, r->o, lead)) == 0)
			ps->ok = 1;
		log_debug("%s: applied in %.2f s (%.2f s CPU)", platform_name(p),
		    ps_monotonic() - a0, thread_cpu() - c0);
	}
	ps->seconds = ps_monotonic() - lead->started;
	pull_job_free(lead);
}

/* A pull has sent its last batch (pipe_drain): joined, its teams stored; the platform is
 * applied when its last pull ends. */
static void
pull_done(struct pull_job *job, void *arg)
{
	struct run_ctx *r = arg;
	struct pull_job *lead = job->lead;

	pthread_join(job->th, NULL);
#ifdef __GLIBC__
	/* what the pulling thread freed (its pages, its batches) goes back to the system before
	 * the apply allocates its own: RssAnon is the one peak, not the sum of both */
	malloc_trim(0);
#endif
	log_progress_end();
	store_teams(r->st, job);
	if (job->rc == 0 && job->wfail) {	/* werr: written by this thread (the writer) */
		snprintf(job->res.err, sizeof(job->res.err), "%s: staging: %.400s",
		    job->drv->name, job->werr);
		job->rc = -1;
	}
	if ((job->rc < 0 || !job->res.complete) && !lead->failed) {
		lead->failed = 1;
		snprintf(lead->ferr, sizeof(lead->ferr), "%s",
		    job->res.err[0] ? job->res.err : "pull incomplete");
	}
	lead->partial |= !job->res.full;
	add_figures(&r->sum->p[job->drv->platform], &job->own);
	if (job != lead)
		pull_job_free(job);
	if (--lead->pending == 0)
		platform_done(r, lead);
}

enum fail
run_reconcile(const struct config *cfg, struct store *st, const struct run_opts *o,
    struct run_summary *sum)
{
	struct pull_job *jobs;
	struct run_ctx r = { cfg, st, o, sum };
	struct pipe pipe;
	enum fail ex = FAIL_NONE;
	double t0 = ps_monotonic();
	struct txn *t;
	int i, n;

	memset(sum, 0, sizeof(*sum));
	/* indexes left out of date by an interrupted run are rebuilt first */
	i = n = 0;
	if (!o->dry_run && ((i = store_email_repair(st)) < 0 || (n = store_pidx_repair(st)) < 0)) {
		log_err("%s", store_error(st));
		return FAIL_IO;
	}
	if (i > 0 || n > 0)
		log_info("%s%s rebuilt (the last run that wrote it did not finish)",
		    i > 0 ? "email index" : "", n > 0 ? (i > 0 ? " and people index" :
		    "people index") : "");
	pipe_init(&pipe);
	jobs = start_pulls(cfg, st, o, sum, &pipe, &n);
	/* this thread is the one writer: it stages what the pulls send until all have ended,
	 * and joins each as it ends, applying a platform when its last pull ends */
	pipe_drain(&pipe, st, pull_done, &r);
	pipe_destroy(&pipe);
	free(jobs);
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
		uint64_t active = 0, all = 0;
		if (store_people_count(t, &active, &all) == 0) {
			sum->people_active = (long)active;
			sum->people_total = (long)all;
		}
		store_abort(t);
	}
	sum->seconds = ps_monotonic() - t0;
	return ex;
}

/* What a run does after the pulls, before the prompts go out: user-token upkeep,
 * re-consent prompts, the event inbox (serve's receivers, the catch-up) and the events
 * spool, Slack auto-sync. */
static enum fail
after_pulls(const struct config *cfg, struct store *st, const struct run_summary *rs,
    struct prompt_summary *ps, enum fail *later, struct failure *f)
{
	struct sub_summary subs;
	long resolved = 0;
	int pulled[PLAT_COUNT];

	for (int p = 0; p < PLAT_COUNT; p++)
		pulled[p] = rs->p[p].ok;
	/* user tokens collected by Sync now are refreshed before they expire */
	if (cfg->token_key)
		(void)rec_refresh_user_tokens(cfg, st);	/* logs its own problems */
	/* the event subscriptions kept, then the catch-up: what it found is drained below;
	 * a platform's failure is logged and makes the run's exit 69 */
	if ((*later = rec_events_upkeep(cfg, st, ps_now(), &subs)) == FAIL_IO)
		return fail_set(f, FAIL_IO, "%s", "");
	if (rec_fill_zones(cfg, st, pulled, &ps->zones) < 0 ||
	    prompts_reauth(cfg, st, ps_now(), &ps->reauth) < 0 ||
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
	if (!o->dry_run && after_pulls(cfg, st, &res->run, &res->prompts, &later, f) !=
	    FAIL_NONE)
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
