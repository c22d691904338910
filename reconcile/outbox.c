/*
 * prompts.c — getting people synced: queueing, Slack auto-sync, and sending prompts in
 * rate-limited batches, never twice, never lost.
 *
 * A prompt moves queued -> sending -> delivered | failed | cancelled. "sending" is committed
 * (and synced to disk) before the request; a prompt found in "sending" by a later run is in
 * doubt: the platform's DM history is searched for its reference before it is sent again.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "lookup.h"
#include "driver.h"
#include "json.h"
#include "linktoken.h"
#include "outbox.h"
#include "reconcile.h"

/* ---- loading ---- */

static int
pview_acct_cb(const struct account *a, void *arg)
{
	struct pview *v = arg;

	v->a = xrealloc(v->a, (size_t)(v->n + 1) * sizeof(*v->a));
	account_copy(&v->a[v->n++], a);
	return 0;
}

int
pview_load(struct txn *t, uint64_t pid, struct pview *v)
{
	int rc;

	memset(v, 0, sizeof(*v));
	rc = store_person_get(t, pid, &v->p);
	if (rc != 0)
		return rc;
	if (store_person_accounts(t, pid, pview_acct_cb, v) < 0) {
		pview_free(v);
		return -1;
	}
	return 0;
}

void
pview_free(struct pview *v)
{
	person_free(&v->p);
	for (int i = 0; i < v->n; i++)
		account_free(&v->a[i]);
	free(v->a);
	v->a = NULL;
	v->n = 0;
}

/* ---- time zones ---- */

static int
zone_exists(const char *zone)
{
	char path[PATH_MAX];
	struct stat st;

	if (zone == NULL || *zone == '\0' || strstr(zone, "..") || zone[0] == '/')
		return 0;
	if (strcmp(zone, "UTC") == 0)
		return 1;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

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

static const char *
person_zone(const struct config *cfg, const struct pview *v, const struct account *target)
{
	if (target && zone_exists(target->tz))
		return target->tz;
	for (int i = 0; i < v->n; i++)
		if (zone_exists(v->a[i].tz))
			return v->a[i].tz;
	return zone_exists(cfg->prompts.default_tz) ? cfg->prompts.default_tz : "UTC";
}

static void
enabled_platforms(const struct config *cfg, int out[PLAT_COUNT])
{
	out[PLAT_SLACK] = cfg->slack.enabled;
	out[PLAT_TEAMS] = cfg->teams.enabled && cfg->teams.service_user_refresh_token != NULL;
	out[PLAT_WEBEX] = cfg->webex.enabled;
}

/* The rules for v; the zone depends on the target, which depends on the rules: decided
 * once for the target, then again with the local time of the target's zone. */
static void
decide(const struct config *cfg, const struct pview *v, enum prompt_reason reason,
    int via_platform, const char *via_user, int has_pending, time_t now,
    struct prompt_decision *d)
{
	struct prompt_input in = { 0 };

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
		in.zone = person_zone(cfg, v, d->target);
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
	if (d->d == DEC_NEVER || (d->d == DEC_WAIT && strncmp(d->why, "not now: quiet", 14) != 0)) {
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

/* ---- re-consent ---- */

struct reauth_ctx {
	uint64_t	*v;
	size_t		 n, cap;
};

static int
reauth_cb(const struct person *p, void *arg)
{
	struct reauth_ctx *rc = arg;

	if (!(p->flags & PERSON_REAUTH) || !p->active)
		return 0;
	if (rc->n == rc->cap) {
		rc->cap = rc->cap ? rc->cap * 2 : 16;
		rc->v = xrealloc(rc->v, rc->cap * sizeof(*rc->v));
	}
	rc->v[rc->n++] = p->id;
	return 0;
}

int
prompts_reauth(const struct config *cfg, struct store *st, time_t now, long *n)
{
	struct reauth_ctx rc = { 0 };
	struct txn *t;
	size_t i;
	int ret = -1;

	*n = 0;
	if ((t = store_begin(st, 0)) == NULL)
		return -1;
	if (store_person_each(t, reauth_cb, &rc) < 0) {
		store_abort(t);
		goto out;
	}
	store_abort(t);
	if (rc.n == 0) {
		ret = 0;
		goto out;
	}
	if ((t = store_begin(st, 1)) == NULL)
		goto out;
	for (i = 0; i < rc.n; i++) {
		struct prompt_decision d;
		int r = store_reauth_get(t, rc.v[i]);
		if (r < 0)
			goto fail;
		if (r == 0)
			continue;		/* one re-consent prompt per person */
		r = prompt_queue(cfg, t, rc.v[i], PR_REAUTH, -1, NULL, now, &d);
		if (r < 0)
			goto fail;
		if (r == 1) {
			if (store_reauth_put(t, rc.v[i]) < 0)
				goto fail;
			(*n)++;
		}
	}
	ret = store_commit(t);
	goto out;
fail:
	store_abort(t);
out:
	free(rc.v);
	return ret;
}

/* ---- Slack auto-sync ---- */

struct ids {
	uint64_t	*v;
	size_t		 n, cap;
};

static void
ids_add(struct ids *ids, uint64_t id)
{
	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? ids->cap * 2 : 64;
		ids->v = xrealloc(ids->v, ids->cap * sizeof(*ids->v));
	}
	ids->v[ids->n++] = id;
}

struct auto_ctx {
	const struct config	*cfg;
	struct ids		 ids;
};

static int
auto_cb(const struct person *p, void *arg)
{
	struct auto_ctx *ac = arg;

	if (p->status != ST_ON && rec_auto_sync_applies(ac->cfg, p))
		ids_add(&ac->ids, p->id);
	return 0;
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

int
prompts_auto_sync(const struct config *cfg, struct store *st, time_t now, long *n)
{
	struct auto_ctx ac = { cfg, { 0 } };
	struct txn *t;
	size_t i;
	int rc = -1;

	*n = 0;
	if (!cfg->slack.enabled || !cfg->slack.auto_sync)
		return 0;
	if ((t = store_begin(st, 0)) == NULL)
		return -1;
	if (store_person_each(t, auto_cb, &ac) < 0) {
		store_abort(t);
		goto out;
	}
	store_abort(t);
	t = NULL;
	for (i = 0; i < ac.ids.n; i += 1000) {
		size_t k, end = i + 1000 < ac.ids.n ? i + 1000 : ac.ids.n;
		if ((t = store_begin(st, 1)) == NULL)
			goto out;
		for (k = i; k < end; k++) {
			struct person p;
			const char *was;
			if (store_person_get(t, ac.ids.v[k], &p) != 0)
				continue;
			was = status_name((enum status)p.status);
			p.status = ST_ON;
			p.primary_source = PS_AUTO;
			p.sync_type = SYNC_BOT;
			p.synced_at = now;
			if (store_person_put(t, &p) < 0 ||
			    store_history_add(t, p.id, now, "status", "%s -> on: synced automatically "
			    "by Slack auto-sync (primary %s)", was,
			    platform_name((enum platform)p.primary_platform)) < 0 ||
			    cancel_pending(t, p.id, now, "synced automatically") < 0) {
				person_free(&p);
				store_abort(t);
				goto out;
			}
			person_free(&p);
			(*n)++;
		}
		if (store_commit(t) < 0)
			goto out;
	}
	rc = 0;
out:
	free(ac.ids.v);
	return rc;
}

/* ---- sending ---- */

struct sender {
	const struct config		*cfg;
	struct store			*st;
	const struct driver		*drv;
	struct prompt_platform_summary	*sum;
	struct ids			 ids;		/* prompts to send, in id order */
	atomic_long			 done;		/* for the progress line */
	atomic_int			 finished;
	double				 started;
};

/* Writes the outcome of prompt q (and the person's new status on delivery). */
static int
record_outcome(struct sender *s, struct prompt *q, int delivered, const char *error,
    const struct dm_out *o)
{
	struct txn *t;
	struct person p;
	time_t now = ps_now();
	int r;

	if ((t = store_begin(s->st, 1)) == NULL)
		return -1;
	q->updated_at = now;
	if (o->channel && !q->channel)
		q->channel = xstrdup(o->channel);
	if (delivered) {
		q->state = PQ_DELIVERED;
		q->delivered_at = now;
		free(q->message_id);
		q->message_id = o->message_id ? xstrdup(o->message_id) : NULL;
		r = store_person_get(t, q->person_id, &p);
		if (r == 0) {
			int was = p.status;
			p.prompt_count++;
			p.last_prompted_at = now;
			if (p.status == ST_OFF)
				p.status = ST_PENDING;
			r = store_person_put(t, &p);
			if (r == 0)
				r = store_history_add(t, p.id, now, was != (int)p.status ? "status" :
				    "prompt", "%sprompt %s delivered on %s to %s (%d of %d)",
				    was != (int)p.status ? "off -> pending: " : "", q->ref,
				    platform_name(q->platform), q->user_id, p.prompt_count,
				    s->cfg->prompts.max_prompts);
			person_free(&p);
		} else if (r == STORE_NOTFOUND) {
			r = 0;
		}
		if (r == 0 && q->channel)
			r = store_dm_channel_put(t, q->platform, q->team_id, q->user_id, q->channel);
	} else {
		q->state = PQ_FAILED;
		free(q->error);
		q->error = xstrdup(error);
		r = store_history_add(t, q->person_id, now, "prompt", "prompt %s failed on %s: %s",
		    q->ref, platform_name(q->platform), error);
	}
	if (r < 0 || store_prompt_put(t, q) < 0) {
		store_abort(t);
		return -1;
	}
	return store_commit(t);
}

/* Handles one pending prompt; returns 0 to go on, -1 to stop this platform. */
static int
send_one(struct sender *s, struct driver_ctx *ctx, uint64_t id)
{
	const struct config *cfg = s->cfg;
	struct prompt q = { 0 };
	struct pview v = { 0 };
	struct dm_out o = { 0 };
	struct dm m = { 0 };
	struct buf link = { 0 }, text = { 0 }, chan = { 0 };
	const struct account *to = NULL;
	char err[480] = "";
	struct txn *t;
	int rc = 0, r, found = 0, i;

	if ((t = store_begin(s->st, 0)) == NULL)
		return -1;
	r = store_prompt_get(t, id, &q);
	if (r == 0 && (q.state == PQ_QUEUED || q.state == PQ_SENDING))
		r = pview_load(t, q.person_id, &v);
	else if (r == 0)
		r = 1;		/* settled meanwhile */
	if (r == 0 && store_dm_channel_get(t, q.platform, q.team_id, q.user_id, &chan) == 0)
		m.channel = chan.p;
	store_abort(t);
	if (r != 0) {
		rc = r < 0 ? -1 : 0;
		goto out;
	}
	for (i = 0; i < v.n; i++)
		if (v.a[i].platform == q.platform && strcmp(v.a[i].team_id, q.team_id) == 0 &&
		    strcmp(v.a[i].user_id, q.user_id) == 0)
			to = &v.a[i];
	if (q.channel)
		m.channel = q.channel;
	if (to == NULL) {
		rc = record_outcome(s, &q, 0, "the account is no longer the person's", &o);
		s->sum->failed++;
		goto out;
	}
	m.to = to;
	m.ref = q.ref;
	if (q.state == PQ_SENDING) {
		/* in doubt: a crash came between "sending" and its outcome */
		r = s->drv->dm_find(ctx, &m, &found, &o, err, sizeof(err));
		if (r == DM_UNAVAILABLE) {
			snprintf(s->sum->err, sizeof(s->sum->err), "%s", err);
			s->sum->unresolved++;
			rc = -1;
			goto out;
		}
		if (found) {
			rc = record_outcome(s, &q, 1, NULL, &o);
			s->sum->recovered++;
			s->sum->delivered++;
			goto out;
		}
		dm_out_free(&o);
	}
	/* intent before side effect: "sending" is on disk before the request */
	if ((t = store_begin(s->st, 1)) == NULL) {
		rc = -1;
		goto out;
	}
	q.state = PQ_SENDING;
	q.attempts++;
	q.updated_at = ps_now();
	if (store_prompt_put(t, &q) < 0) {
		store_abort(t);
		rc = -1;
		goto out;
	}
	if (store_commit(t) < 0 || store_sync(s->st) < 0) {
		rc = -1;
		goto out;
	}
	if (linktoken_url(cfg, q.person_id, ps_now() + (time_t)cfg->link_ttl_hours * 3600,
	    &link) < 0) {
		snprintf(s->sum->err, sizeof(s->sum->err), "%s: cannot make Sync now links: "
		    "link_key_file is not set in the config", s->drv->name);
		rc = -1;
		goto out;
	}
	prompt_render(cfg, q.platform, to->first_name ? to->first_name : v.p.name, link.p, q.ref,
	    &text);
	m.text = text.p;
	r = s->drv->dm_send(ctx, &m, &o, err, sizeof(err));
	if (r == DM_OK) {
		rc = record_outcome(s, &q, 1, NULL, &o);
		s->sum->delivered++;
	} else if (r == DM_REFUSED) {
		rc = record_outcome(s, &q, 0, err, &o);
		s->sum->failed++;
	} else {
		/*
		 * In doubt: the answer was lost. Look at once: found, it was delivered; not found,
		 * it stays in "sending" for the next run (which looks again before sending: a
		 * history can lag behind a post) and this platform goes on with the others. Only
		 * when the platform cannot even be asked does it stop for this run.
		 */
		dm_out_free(&o);
		found = 0;
		r = s->drv->dm_find(ctx, &m, &found, &o, err + strlen(err),
		    sizeof(err) - strlen(err));
		if (r == DM_OK && found) {
			rc = record_outcome(s, &q, 1, NULL, &o);
			s->sum->recovered++;
			s->sum->delivered++;
		} else {
			s->sum->unresolved++;
			if (s->sum->err[0] == '\0')	/* the run then exits 69 */
				snprintf(s->sum->err, sizeof(s->sum->err), "%s", err);
			if (r != DM_OK)
				rc = -1;
		}
	}
out:
	prompt_free(&q);
	pview_free(&v);
	dm_out_free(&o);
	buf_free(&link);
	buf_free(&text);
	buf_free(&chan);
	return rc;
}

static void *
sender_thread(void *arg)
{
	struct sender *s = arg;
	struct driver_ctx ctx = { .cfg = s->cfg };
	char err[512] = "";
	size_t i;

	ctx.http = http_new(s->drv->name, s->cfg);
	if (s->drv->dm_init(&ctx, err, sizeof(err)) != DM_OK) {
		snprintf(s->sum->err, sizeof(s->sum->err), "%s", err);
		s->sum->unresolved += (long)s->ids.n;
		goto out;
	}
	s->sum->limit = ctx.rate[RATE_POST].rate < ctx.rate[RATE_OPEN].rate ||
	    ctx.rate[RATE_OPEN].rate <= 0 ? ctx.rate[RATE_POST].rate : ctx.rate[RATE_OPEN].rate;
	for (i = 0; i < s->ids.n; i++) {
		if (send_one(s, &ctx, s->ids.v[i]) < 0) {
			if (s->sum->err[0] == '\0')
				snprintf(s->sum->err, sizeof(s->sum->err), "%s: %s", s->drv->name,
				    store_error(s->st));
			break;
		}
		atomic_fetch_add(&s->done, 1);
	}
out:
	if (s->drv->fini)
		s->drv->fini(&ctx);
	s->sum->throttled = http_stats(ctx.http)->throttled;
	s->sum->requests = http_stats(ctx.http)->requests;
	http_free(ctx.http);
	s->sum->seconds = ps_monotonic() - s->started;
	atomic_store(&s->finished, 1);
	return NULL;
}

struct plan {
	const struct config	*cfg;
	struct txn		*t;
	struct sender		*senders;
	FILE			*out;
	int			 dry_run;
	time_t			 now;
	struct prompt_summary	*sum;
	int			 err;
	struct ids		 cancel;
};

static int
plan_cb(const struct prompt *q, void *arg)
{
	struct plan *pl = arg;
	struct prompt_decision d;
	struct pview v;
	char *line;

	if (pview_load(pl->t, q->person_id, &v) != 0) {
		ids_add(&pl->cancel, q->id);
		return 0;
	}
	if (q->state == PQ_SENDING) {
		/* in doubt: resolved before anything else, whatever the rules say now */
		d.d = DEC_SEND;
		snprintf(d.why, sizeof(d.why), "in doubt after an interrupted run: its DM history "
		    "is checked for %s before sending", q->ref);
	} else if (prompt_decide_for_queued(pl->cfg, pl->t, &v, q, pl->now, &d) < 0) {
		pview_free(&v);
		pl->err = 1;
		return -1;
	}
	if (pl->dry_run) {
		line = xasprintf("%s %s:%s  %s <%s>  %s\n", q->ref, platform_name(q->platform),
		    q->user_id, v.p.name ? v.p.name : "", v.p.email ? v.p.email : "", d.why);
		fputs(line, pl->out);
		free(line);
	}
	if (d.d == DEC_SEND) {
		pl->sum->p[q->platform].due++;
		ids_add(&pl->senders[q->platform].ids, q->id);
	} else if (d.d == DEC_WAIT) {
		pl->sum->p[q->platform].waiting++;
	} else {
		ids_add(&pl->cancel, q->id);
		pl->sum->p[q->platform].cancelled++;
	}
	pview_free(&v);
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
prompts_send(const struct config *cfg, struct store *st, int dry_run, FILE *out,
    struct prompt_summary *sum)
{
	struct sender senders[PLAT_COUNT];
	struct plan pl = { 0 };
	pthread_t th[PLAT_COUNT];
	int started[PLAT_COUNT] = { 0 };
	int i, ex = 0, running;
	size_t k;

	memset(senders, 0, sizeof(senders));
	pl.cfg = cfg;
	pl.senders = senders;
	pl.out = out;
	pl.dry_run = dry_run;
	pl.now = ps_now();
	pl.sum = sum;
	if ((pl.t = store_begin(st, 0)) == NULL)
		return EX_IOERR;
	if (store_prompt_each(pl.t, 1, plan_cb, &pl) < 0) {
		store_abort(pl.t);
		log_err("%s", store_error(st));
		return EX_IOERR;
	}
	store_abort(pl.t);
	if (dry_run)
		goto out;
	if (pl.cancel.n) {
		struct txn *t = store_begin(st, 1);
		if (t == NULL)
			return EX_IOERR;
		for (k = 0; k < pl.cancel.n; k++) {
			struct prompt q;
			if (store_prompt_get(t, pl.cancel.v[k], &q) != 0)
				continue;
			q.state = PQ_CANCELLED;
			q.updated_at = pl.now;
			free(q.error);
			q.error = xstrdup("no longer due when its turn came");
			if (store_prompt_put(t, &q) < 0) {
				prompt_free(&q);
				store_abort(t);
				return EX_IOERR;
			}
			prompt_free(&q);
		}
		if (store_commit(t) < 0)
			return EX_IOERR;
	}
	for (i = 0; i < PLAT_COUNT; i++) {
		struct sender *s = &senders[i];
		if (s->ids.n == 0)
			continue;
		qsort(s->ids.v, s->ids.n, sizeof(*s->ids.v), cmp_u64);
		s->cfg = cfg;
		s->st = st;
		s->drv = driver_for((enum platform)i);
		s->sum = &sum->p[i];
		s->sum->ran = 1;
		s->started = ps_monotonic();
		if (s->drv == NULL || s->drv->dm_send == NULL) {
			snprintf(s->sum->err, sizeof(s->sum->err), "%s: cannot send direct messages",
			    platform_name((enum platform)i));
			continue;
		}
		if (pthread_create(&th[i], NULL, sender_thread, s) == 0)
			started[i] = 1;
	}
	/* progress on a terminal while the senders work */
	do {
		struct buf line = { 0 };
		running = 0;
		for (i = 0; i < PLAT_COUNT; i++) {
			struct sender *s = &senders[i];
			long done;
			double el, rate;
			if (!started[i])
				continue;
			if (!atomic_load(&s->finished))
				running = 1;
			done = atomic_load(&s->done);
			el = ps_monotonic() - s->started;
			rate = el > 0 ? (double)done / el : 0;
			buf_printf(&line, "%s%s %ld/%zu %.1f/s", line.len ? "  " : "",
			    s->drv->name, done, s->ids.n, rate);
			if (rate > 0 && (size_t)done < s->ids.n)
				buf_printf(&line, " ETA %.0fs", (double)(s->ids.n - (size_t)done) / rate);
		}
		if (line.len && running)
			log_progress("prompts: %s", line.p);
		buf_free(&line);
		if (running)
			usleep(250000);
	} while (running);
	log_progress_end();
	for (i = 0; i < PLAT_COUNT; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		if (sum->p[i].err[0]) {
			log_err("%s; its undelivered prompts wait for the next run", sum->p[i].err);
			ex = EX_UNAVAILABLE;
		}
	}
	store_sync(st);
out:
	for (i = 0; i < PLAT_COUNT; i++)
		free(senders[i].ids.v);
	free(pl.cancel.v);
	return ex;
}

void
prompts_print_summary(const struct prompt_summary *sum, FILE *f)
{
	int i;

	if (sum->auto_synced)
		fprintf(f, "auto-sync: %ld people synced automatically (Slack auto-sync)\n",
		    sum->auto_synced);
	if (sum->reauth)
		fprintf(f, "re-consent: %ld prompts queued for people whose sign-in expired\n",
		    sum->reauth);
	if (sum->events)
		fprintf(f, "events: %ld read, %ld auto-prompts queued\n", sum->events,
		    sum->events_queued);
	for (i = 0; i < PLAT_COUNT; i++) {
		const struct prompt_platform_summary *p = &sum->p[i];
		if (!p->ran && !p->waiting && !p->cancelled)
			continue;
		fprintf(f, "%s prompts: %ld delivered, %ld failed, %ld waiting, %ld cancelled",
		    platform_name((enum platform)i), p->delivered, p->failed, p->waiting,
		    p->cancelled);
		if (p->recovered)
			fprintf(f, ", %ld found already delivered after an interruption", p->recovered);
		if (p->unresolved)
			fprintf(f, ", %ld left for the next run", p->unresolved);
		/* a rate means something past the first burst only */
		if (p->ran && p->seconds > 0 && p->delivered >= 10)
			fprintf(f, "; %.2f/s (limit %.2f/s)", (double)p->delivered / p->seconds,
			    p->limit);
		if (p->ran)
			fprintf(f, ", %ld rate-limited (429)", p->throttled);
		fputc('\n', f);
	}
}

/* ---- auto-prompt and events ---- */

int
auto_prompt_get(struct store *st)
{
	struct txn *t = store_begin(st, 0);
	struct buf b = { 0 };
	int on = 0;

	if (t && store_meta_get(t, "auto_prompt", &b) == 0)
		on = b.len == 2 && memcmp(b.p, "on", 2) == 0;
	store_abort(t);
	buf_free(&b);
	return on;
}

static int
valid_spec(const char *s)
{
	const char *c = s ? strchr(s, ':') : NULL;
	enum platform p;
	char pn[16];
	size_t n;

	if (c == NULL || c[1] == '\0' || (n = (size_t)(c - s)) >= sizeof(pn))
		return 0;
	memcpy(pn, s, n);
	pn[n] = '\0';
	return platform_parse(pn, &p) == 0;
}

/* One event: queues an auto-prompt by the rule. 1 queued, 0 not, -1 store error. */
static int
event_apply(const struct config *cfg, struct txn *t, const char *from, const char *to,
    time_t now)
{
	struct account fa = { 0 }, ta = { 0 };
	struct person sp = { 0 }, rp = { 0 };
	struct prompt_decision d;
	int r, rc = 0;

	if ((r = rec_find_account(t, from, &fa)) != 0 || fa.person_id == 0) {
		rc = r < 0 ? -1 : 0;
		goto out;
	}
	if ((r = rec_find_account(t, to, &ta)) != 0 || ta.person_id == 0) {
		rc = r < 0 ? -1 : 0;
		goto out;
	}
	if (store_person_get(t, fa.person_id, &sp) != 0 ||
	    store_person_get(t, ta.person_id, &rp) != 0)
		goto out;
	/* the rule: sender active with status off, recipient already synced */
	if (!sp.active || sp.status != ST_OFF || rp.status != ST_ON || sp.id == rp.id)
		goto out;
	rc = prompt_queue(cfg, t, sp.id, PR_AUTO, (int)fa.platform, fa.user_id, now, &d);
out:
	account_free(&fa);
	account_free(&ta);
	person_free(&sp);
	person_free(&rp);
	return rc;
}

int
events_parse_line(const char *line, size_t len, char **from, char **to, time_t *ts,
    char *err, size_t errlen)
{
	struct json j = { 0 };
	char jerr[160], *f = NULL, *t = NULL, *s = NULL;
	int rc = -1;

	*from = *to = NULL;
	if (json_parse(&j, line, len, jerr, sizeof(jerr)) < 0 || !json_is_object(&j, 0)) {
		snprintf(err, errlen, "%s", j.ntok ? "not a JSON object" : jerr);
		goto out;
	}
	f = json_strdup(&j, json_get(&j, 0, "from"));
	t = json_strdup(&j, json_get(&j, 0, "to"));
	s = json_strdup(&j, json_get(&j, 0, "ts"));
	if (!valid_spec(f) || !valid_spec(t)) {
		snprintf(err, errlen, "\"%s\": not PLATFORM:USER_ID",
		    !valid_spec(f) ? "from" : "to");
		goto out;
	}
	if (s == NULL || parse_iso8601(s, ts) < 0) {
		snprintf(err, errlen, "\"ts\": not an ISO 8601 time");
		goto out;
	}
	*from = f;
	*to = t;
	f = t = NULL;
	rc = 0;
out:
	free(f);
	free(t);
	free(s);
	json_free(&j);
	return rc;
}

int
events_ingest(const struct config *cfg, struct store *st, FILE *fp, const char *name,
    long *events, long *queued, long *bad)
{
	struct txn *t = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0, in_txn = 0;
	time_t now = ps_now();
	char perr[192];
	int rc = -1, on = auto_prompt_get(st);

	if ((t = store_begin(st, 1)) == NULL)
		return -1;
	while ((len = getline(&line, &cap, fp)) >= 0) {
		char *from, *to;
		time_t ts;
		int r;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (events_parse_line(line, (size_t)len, &from, &to, &ts, perr,
		    sizeof(perr)) < 0) {
			log_err("%s:%ld: %s", name, lineno, perr);
			(*bad)++;
			continue;
		}
		(*events)++;
		r = on ? event_apply(cfg, t, from, to, now) : 0;
		free(from);
		free(to);
		if (r < 0)
			goto out;
		*queued += r;
		/* commit in batches: a huge file does not hold the writer lock throughout */
		if (++in_txn >= 1000) {
			if (store_commit(t) < 0 || (t = store_begin(st, 1)) == NULL) {
				t = NULL;
				goto out;
			}
			in_txn = 0;
		}
	}
	if (ferror(fp)) {
		log_err("%s: read error: %s", name, strerror(errno));
		goto out;
	}
	rc = store_commit(t);
	t = NULL;
out:
	store_abort(t);
	free(line);
	return rc;
}

int
events_spool(const struct config *cfg, struct store *st, long *events, long *queued)
{
	const char *dir = cfg->events.spool_dir;
	struct dirent **names = NULL;
	char *done;
	int n, i, rc = 0;

	if (dir == NULL || !auto_prompt_get(st))
		return 0;
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		log_warn("%s: cannot read the events spool: %s", dir, strerror(errno));
		return 0;
	}
	done = xasprintf("%s/done", dir);
	if (mkdir(done, 0700) < 0 && errno != EEXIST)
		log_warn("%s: %s", done, strerror(errno));
	for (i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		size_t l = strlen(nm);
		char *path, *dest;
		long bad = 0;
		FILE *fp;

		if (l < 7 || strcmp(nm + l - 6, ".jsonl") != 0 || nm[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, nm);
		dest = xasprintf("%s/%s", done, nm);
		if ((fp = fopen(path, "r")) == NULL) {
			log_warn("%s: %s", path, strerror(errno));
		} else {
			if (events_ingest(cfg, st, fp, path, events, queued, &bad) < 0)
				rc = -1;
			fclose(fp);
			/* moved only once its events are committed: a crash re-reads it, and
			 * cooldowns and pending prompts make the second reading harmless */
			if (rc == 0 && rename(path, dest) < 0)
				log_warn("%s: cannot move to %s: %s", path, done, strerror(errno));
		}
		free(path);
		free(dest);
		if (rc < 0)
			break;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(done);
	return rc;
}
