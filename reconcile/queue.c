/*
 * queue.c — the outbox's intake: the decision for a stored person (their zone's time of day
 * included), queueing a prompt, re-consent prompts, Slack auto-sync, and the `prompt`
 * command (one at a time or in bulk, or its dry run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lookup.h"
#include "outbox.h"
#include "outbox_p.h"
#include "reconcile.h"
#include "run.h"
#include "zones.h"

/* ---- loading ---- */

int
pview_load(struct txn *t, uint64_t pid, struct pview *v)
{
	int rc;

	memset(v, 0, sizeof(*v));
	rc = store_person_get(t, pid, &v->p);
	if (rc != 0)
		return rc;
	if (rec_person_accounts(t, pid, &v->a, &v->n) < 0) {
		pview_free(v);
		return -1;
	}
	return 0;
}

void
pview_free(struct pview *v)
{
	person_free(&v->p);
	rec_accounts_free(&v->a, &v->n);
}

/* ---- time zones ---- */

/*
 * Minutes since local midnight in zone at now. TZ is switched for the call: this runs in
 * the main thread only (decisions are made before the sender threads start).
 */
static int
local_minute(const char *zone, time_t now)
{
	char *old = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;
	struct tm tm;

	setenv("TZ", zone, 1);
	tzset();
	localtime_r(&now, &tm);
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
	return tm.tm_hour * 60 + tm.tm_min;
}

static void
enabled_platforms(const struct config *cfg, int out[PLAT_COUNT])
{
	for (int p = 0; p < PLAT_COUNT; p++)
		out[p] = config_enabled(cfg, (enum platform)p);
	/* Teams sends as the service user: no prompts without its token */
	out[PLAT_TEAMS] = out[PLAT_TEAMS] && cfg->teams.service_user_refresh_token != NULL;
}

/* The rules for v; the zone depends on the target, which depends on the rules: decided
 * once for the target, then again with the local time of the target's zone. */
static void
decide(const struct config *cfg, const struct pview *v, enum prompt_reason reason,
    int via_platform, const char *via_user, int has_pending, time_t now,
    struct prompt_decision *d)
{
	struct prompt_input in = { 0 };
	char from[160];

	in.p = &v->p;
	in.accts = v->a;
	in.n = v->n;
	in.reason = reason;
	in.via_platform = via_platform;
	in.via_user = via_user;
	in.has_pending = has_pending;
	in.now = now;
	enabled_platforms(cfg, in.platform_enabled);
	in.local_minute = -1;
	rec_prompt_decide(cfg, &in, d);
	if (d->d == DEC_SEND) {
		in.zone = rec_person_zone(cfg, &v->p, v->a, v->n, d->target, from, sizeof(from));
		in.local_minute = local_minute(in.zone, now);
		rec_prompt_decide(cfg, &in, d);
	}
}

int
prompt_decide_for(const struct config *cfg, struct txn *t, const struct pview *v,
    enum prompt_reason reason, int via_platform, const char *via_user, time_t now,
    struct prompt_decision *d)
{
	uint64_t pending;
	int r = store_prompt_pending(t, v->p.id, &pending);

	if (r < 0)
		return -1;
	decide(cfg, v, reason, via_platform, via_user, r == 0, now, d);
	return 0;
}

int
prompt_decide_for_queued(const struct config *cfg, struct txn *t, const struct pview *v,
    const struct prompt *q, time_t now, struct prompt_decision *d)
{
	(void)t;
	decide(cfg, v, (enum prompt_reason)q->reason, q->reason == PR_AUTO ? (int)q->platform : -1,
	    q->reason == PR_AUTO ? q->user_id : NULL, 0, now, d);
	return 0;
}

int
prompt_queue(const struct config *cfg, struct txn *t, uint64_t pid, enum prompt_reason reason,
    int via_platform, const char *via_user, time_t now, struct prompt_decision *d)
{
	struct pview v;
	struct prompt q = { 0 };
	uint32_t salt;
	char ref[24];
	int rc;

	if ((rc = pview_load(t, pid, &v)) != 0) {
		snprintf(d->why, sizeof(d->why), "no such person");
		return rc == STORE_NOTFOUND ? 0 : -1;
	}
	if (prompt_decide_for(cfg, t, &v, reason, via_platform, via_user, now, d) < 0) {
		pview_free(&v);
		return -1;
	}
	/* due now, or only waiting for the person's quiet hours to end: queue it */
	if (d->d == DEC_NEVER || (d->d == DEC_WAIT && d->hold != HOLD_QUIET)) {
		pview_free(&v);
		return 0;
	}
	q.person_id = pid;
	q.reason = (uint8_t)reason;
	q.state = PQ_QUEUED;
	q.platform = d->target->platform;
	q.team_id = xstrdup(d->target->team_id);
	q.user_id = xstrdup(d->target->user_id);
	q.created_at = q.updated_at = now;
	rc = store_prompt_put(t, &q);		/* assigns the id the reference is made of */
	if (rc == 0) {
		random_bytes(&salt, sizeof(salt));
		prompt_ref(q.id, salt, ref);
		q.ref = xstrdup(ref);
		rc = store_prompt_put(t, &q);
	}
	if (rc == 0)
		rc = store_history_add(t, pid, now, "prompt", "%s prompt %s queued for %s:%s",
		    prompt_reason_name(reason), q.ref, platform_name(q.platform), q.user_id);
	prompt_free(&q);
	pview_free(&v);
	return rc < 0 ? -1 : 1;
}

/* ---- choosing people ---- */

struct select {
	int		(*keep)(const struct person *p, const void *arg);
	const void	*arg;
	struct ids	*out;
};

static int
select_cb(const struct person *p, void *arg)
{
	struct select *sel = arg;

	if (sel->keep(p, sel->arg))
		ids_add(sel->out, p->id);
	return 0;
}

/* The ids of the people keep() takes, in id order, read in txn t. 0 or -1 (store error). */
static int
select_people(struct txn *t, int (*keep)(const struct person *, const void *),
    const void *arg, struct ids *out)
{
	struct select sel = { keep, arg, out };

	return store_person_each(t, select_cb, &sel);
}

/* What a pass over chosen people acts with. */
struct act {
	const struct config	*cfg;
	time_t			 now;
};

/*
 * For each person keep() takes (chosen first, in a read txn), act(t, id, a) in write txns of
 * batch people each: it returns 1 (counted in *n), 0 or -1 (store error: stops the pass).
 * Returns 0 or -1.
 */
static int
each_chosen(struct store *st, int (*keep)(const struct person *, const void *),
    size_t batch, int (*act)(struct txn *, uint64_t, const struct act *),
    const struct act *a, long *n)
{
	struct ids ids = { 0 };
	struct txn *t = store_begin(st, 0);
	size_t i, k, end;
	int r, rc = -1;

	*n = 0;
	if (t == NULL)
		return -1;
	r = select_people(t, keep, a->cfg, &ids);
	store_abort(t);
	if (r < 0)
		goto out;
	for (i = 0; i < ids.n; i = end) {
		end = ids.n - i > batch ? i + batch : ids.n;
		if ((t = store_begin(st, 1)) == NULL)
			goto out;
		for (k = i; k < end; k++) {
			if ((r = act(t, ids.v[k], a)) < 0) {
				store_abort(t);
				goto out;
			}
			*n += r;
		}
		if (store_commit(t) < 0)
			goto out;
	}
	rc = 0;
out:
	free(ids.v);
	return rc;
}

/* ---- re-consent ---- */

static int
reauth_keep(const struct person *p, const void *arg)
{
	(void)arg;
	return (p->flags & PERSON_REAUTH) && p->active;
}

/* One re-consent prompt per person (kv space "reauth" remembers it). */
static int
reauth_act(struct txn *t, uint64_t pid, const struct act *a)
{
	struct prompt_decision d;
	int r = store_reauth_get(t, pid);

	if (r <= 0)
		return r;	/* prompted once already, or a store error */
	r = prompt_queue(a->cfg, t, pid, PR_REAUTH, -1, NULL, a->now, &d);
	if (r == 1 && store_reauth_put(t, pid) < 0)
		return -1;
	return r;
}

int
prompts_reauth(const struct config *cfg, struct store *st, time_t now, long *n)
{
	struct act a = { cfg, now };

	return each_chosen(st, reauth_keep, (size_t)-1, reauth_act, &a, n);
}

/* ---- Slack auto-sync ---- */

static int
auto_keep(const struct person *p, const void *arg)
{
	return p->status != ST_ON && rec_auto_sync_applies(arg, p);
}

static int
cancel_pending(struct txn *t, uint64_t pid, time_t now, const char *why)
{
	uint64_t qid;
	struct prompt q;
	int r;

	while ((r = store_prompt_pending(t, pid, &qid)) == 0) {
		if (store_prompt_get(t, qid, &q) != 0)
			return -1;
		q.state = PQ_CANCELLED;
		q.updated_at = now;
		free(q.error);
		q.error = xstrdup(why);
		r = store_prompt_put(t, &q);
		prompt_free(&q);
		if (r < 0)
			return -1;
	}
	return r < 0 ? -1 : 0;
}

static int
auto_act(struct txn *t, uint64_t pid, const struct act *a)
{
	struct person p;
	const char *was;
	int rc = 1;

	if (store_person_get(t, pid, &p) != 0)
		return 0;
	was = status_name((enum status)p.status);
	p.status = ST_ON;
	p.primary_source = PS_AUTO;
	p.sync_type = SYNC_BOT;
	p.synced_at = a->now;
	if (store_person_put(t, &p) < 0 ||
	    store_history_add(t, p.id, a->now, "status", "%s -> on: synced automatically by "
	    "Slack auto-sync (primary %s)", was,
	    platform_name((enum platform)p.primary_platform)) < 0 ||
	    cancel_pending(t, p.id, a->now, "synced automatically") < 0)
		rc = -1;
	person_free(&p);
	return rc;
}

int
prompts_auto_sync(const struct config *cfg, struct store *st, time_t now, long *n)
{
	struct act a = { cfg, now };

	*n = 0;
	if (!cfg->plat[PLAT_SLACK].enabled || !cfg->slack.auto_sync)
		return 0;
	return each_chosen(st, auto_keep, 1000, auto_act, &a, n);
}

/* ---- the prompt command ---- */

struct bulk_filter {
	int	platform, type;
};

static int
bulk_keep(const struct person *p, const void *arg)
{
	const struct bulk_filter *bf = arg;

	return p->active && p->status == ST_OFF &&
	    (bf->platform < 0 || p->primary_platform == bf->platform) &&
	    (bf->type < 0 || p->sync_type == bf->type);
}

/* The people rq names, or with rq->all everyone bulk prompting takes. *missing counts the
 * names that are nobody (each logged). 0 or -1 (store error). */
static int
prompt_select(const struct config *cfg, struct txn *t, const struct prompt_request *rq,
    struct ids *ids, int *missing)
{
	struct bulk_filter bf = { rq->platform, rq->type };

	if (rq->all)
		return select_people(t, bulk_keep, &bf, ids);
	for (int i = 0; i < rq->npeople; i++) {
		uint64_t id;
		int r = rec_find_person(cfg, t, rq->people[i], &id);
		if (r < 0)
			return -1;
		if (r == STORE_NOTFOUND) {
			log_err("prompt: no person '%s'", rq->people[i]);
			(*missing)++;
			continue;
		}
		ids_add(ids, id);
	}
	return 0;
}

static void
say(FILE *out, const struct person *p, const char *what)
{
	fprintf(out, "%s%s%s: %s\n", p->email ? p->email : "", p->name ? " " : "",
	    p->name ? p->name : "", what);
}

/* One person of the command: queued (1), not (0, *why said on out when it is worth
 * saying), or -1 (store error). A dry run decides and says, and queues nothing. */
static int
prompt_one(const struct config *cfg, struct txn *t, const struct prompt_request *rq,
    uint64_t pid, time_t now, FILE *out)
{
	enum prompt_reason reason = rq->all ? PR_BULK : PR_ADMIN;
	struct prompt_decision d;
	struct person p;
	struct pview v;
	int r;

	if (rq->dry_run) {
		if (pview_load(t, pid, &v) != 0)
			return 0;
		r = prompt_decide_for(cfg, t, &v, reason, -1, NULL, now, &d);
		if (r == 0) {
			say(out, &v.p, d.why);
			r = d.d != DEC_NEVER;
		}
		pview_free(&v);
		return r;
	}
	r = prompt_queue(cfg, t, pid, reason, -1, NULL, now, &d);
	if (r >= 0 && (!rq->all || r == 0 || log_get_level() >= LOG_DEBUG) &&
	    store_person_get(t, pid, &p) == 0) {
		say(out, &p, r == 1 ? (d.d == DEC_WAIT ? "queued; it waits for the end of the "
		    "person's quiet hours" : "queued; the next reconcile sends it") : d.why);
		person_free(&p);
	}
	return r;
}

enum fail
rec_prompt(const struct config *cfg, struct store *st, const struct prompt_request *rq,
    FILE *out, struct failure *f)
{
	struct ids ids = { 0 };
	struct txn *t = NULL;
	time_t now = ps_now();
	long queued = 0, skipped = 0;
	int lock, missing = 0, r;
	size_t k;

	if ((lock = run_lock(cfg->database, f)) < 0)
		return f->cls;
	if ((t = store_begin(st, 1)) == NULL ||
	    prompt_select(cfg, t, rq, &ids, &missing) < 0)
		goto ioerr;
	for (k = 0; k < ids.n; k++) {
		if ((r = prompt_one(cfg, t, rq, ids.v[k], now, out)) < 0)
			goto ioerr;
		if (r == 1)
			queued++;
		else if (!rq->dry_run)
			skipped++;
	}
	if (rq->dry_run)
		store_abort(t);
	else if (store_commit(t) < 0) {
		t = NULL;
		goto ioerr;
	}
	t = NULL;
	fprintf(out, "%ld prompt%s %s, %ld not%s\n", queued, queued == 1 ? "" : "s",
	    rq->dry_run ? "would be queued (dry run)" : "queued", skipped,
	    rq->dry_run ? "" : " queued");
	fail_set(f, missing ? FAIL_DATA : FAIL_NONE, "%s", "");	/* each missing one logged */
	goto out;
ioerr:
	fail_set(f, FAIL_IO, "%s", store_error(st));
	store_abort(t);
out:
	free(ids.v);
	run_unlock(lock);
	return f->cls;
}
