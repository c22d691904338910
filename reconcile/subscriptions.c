/*
 * subscriptions.c — the event subscriptions kept in step with the synced people
 * (include/subscriptions.h): the decision (pure), the people they are for, and the platform
 * calls, each outside any transaction and its outcome committed at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evsub_p.h"
#include "reconcile.h"
#include "subscriptions.h"
#include "usertoken_store.h"
#include "util.h"

static const char *const action_names[] = {
	"keep", "create", "renew", "recreate", "reactivate", "delete"
};

const char *
sub_action_name(enum sub_action a)
{
	return (unsigned)a <= SUBA_DELETE ? action_names[a] : "?";
}

enum sub_action
sub_decide(const struct sub *s, int wanted, time_t now)
{
	if (!wanted)
		return s ? SUBA_DELETE : SUBA_KEEP;
	if (s == NULL)
		return SUBA_CREATE;
	/* an expired Graph subscription is deleted by Graph: renewing it cannot work */
	if (s->state == SUB_REMOVED || (s->expires && s->expires <= (int64_t)now))
		return SUBA_RECREATE;
	if (s->state == SUB_DISABLED)
		return SUBA_REACTIVATE;
	if (s->state == SUB_RENEW || (s->expires && s->expires - (int64_t)now < SUB_RENEW_AHEAD))
		return SUBA_RENEW;
	return SUBA_KEEP;
}

/* ---- keeping one platform's subscriptions ---- */

struct keeper {
	const struct config	*cfg;
	struct store		*st;
	const struct driver	*d;
	struct driver_ctx	 ctx;
	time_t			 now;
	struct sub_summary	*sum;
	struct buf		 url;		/* public_url/events/PLATFORM */
	enum fail		 cls;		/* FAIL_NONE, FAIL_LATER, FAIL_IO */
	int			 stop;		/* the platform is unavailable: no more calls */
};

/* A failed call: logged (err names platform, call and status), counted; a platform that
 * did not answer is left alone for the rest of the run. */
static void
call_failed(struct keeper *k, const struct sub *s, enum fail cls, const char *err)
{
	log_err("%s (subscription of person %llu); left for the next run", err,
	    (unsigned long long)s->person_id);
	k->sum->failed++;
	if (k->cls == FAIL_NONE)
		k->cls = FAIL_LATER;
	k->stop |= cls == FAIL_LATER;
}

/* Commits s (put) or its deletion (del: the old record's id), at once. */
static int
commit_sub(struct keeper *k, const struct sub *s, const char *del)
{
	struct txn *t = store_begin(k->st, 1);
	int rc = t ? 0 : -1;

	if (rc == 0 && del)
		rc = store_sub_del(t, k->d->platform, del);
	if (rc == 0 && s)
		rc = store_sub_put(t, s);
	if (t)
		rc = rc == 0 ? store_commit(t) : (store_abort(t), -1);
	if (rc < 0) {
		log_err("%s", store_error(k->st));
		k->cls = FAIL_IO;
		k->stop = 1;
	}
	return rc;
}

/* A new subscription for target e (old: the record it replaces, or NULL). */
static void
create_sub(struct keeper *k, const struct ev_target *e, const struct sub *old)
{
	struct evsub_out o = { 0 };
	struct sub s;
	struct buf res = { 0 };
	char secret[SUB_SECRET_LEN + 1], err[512];
	enum fail cls = FAIL_NONE;
	int rc;

	if (k->d->platform == PLAT_TEAMS)
		buf_printf(&res, "/users/%s/chats/getAllMessages", e->user);
	else
		buf_adds(&res, "messages created, roomType=direct");
	sub_init(&s, k->d->platform, NULL, e->person, e->team, e->user, res.p, k->now);
	if (sub_secret(k->cfg, &s, secret) < 0) {
		snprintf(err, sizeof(err), "%s: no token key to make a secret with", k->d->name);
		call_failed(k, &s, FAIL_CONFIG, err);
		goto out;
	}
	rc = k->d->ev_sub(&k->ctx, EVSUB_CREATE, &(const struct evsub){ NULL, e->user, e->token,
	    secret, k->url.p, k->now + SUB_GRAPH_LIFETIME }, &o, &cls, err, sizeof(err));
	explicit_bzero(secret, sizeof(secret));
	if (rc != EV_OK) {
		call_failed(k, &s, cls, err);
		goto out;
	}
	s.id = o.id;
	o.id = NULL;
	if (k->d->platform == PLAT_TEAMS)
		s.expires = o.expires ? (int64_t)o.expires : (int64_t)(k->now + SUB_GRAPH_LIFETIME);
	if (commit_sub(k, &s, old ? old->id : NULL) == 0) {
		if (old)
			k->sum->recreated++;
		else
			k->sum->created++;
	}
out:
	sub_free(&s);
	evsub_out_free(&o);
	buf_free(&res);
}

/* Renews (Graph) or re-activates (Webex) s; one the platform no longer knows is recreated. */
static void
revive_sub(struct keeper *k, struct sub *s, const struct ev_target *e, enum evsub_op op)
{
	struct evsub_out o = { 0 };
	char secret[SUB_SECRET_LEN + 1], err[512];
	enum fail cls = FAIL_NONE;
	int rc;

	if (sub_secret(k->cfg, s, secret) < 0)
		secret[0] = '\0';
	rc = k->d->ev_sub(&k->ctx, op, &(const struct evsub){ s->id, e->user, e->token, secret,
	    k->url.p, k->now + SUB_GRAPH_LIFETIME }, &o, &cls, err, sizeof(err));
	explicit_bzero(secret, sizeof(secret));
	if (rc == EV_GONE) {
		create_sub(k, e, s);
	} else if (rc != EV_OK) {
		call_failed(k, s, cls, err);
	} else {
		s->state = SUB_ACTIVE;
		s->marked = (int64_t)k->now;
		if (s->expires)
			s->expires = o.expires ? (int64_t)o.expires :
			    (int64_t)(k->now + SUB_GRAPH_LIFETIME);
		if (commit_sub(k, s, NULL) == 0) {
			if (op == EVSUB_RENEW)
				k->sum->renewed++;
			else
				k->sum->reactivated++;
		}
	}
	evsub_out_free(&o);
}

/* Deletes s on the platform (with its person's token on Webex, when there still is one)
 * and its record. */
static void
delete_sub(struct keeper *k, const struct sub *s)
{
	struct evsub_out o = { 0 };
	char err[512], *tok = NULL;
	enum fail cls = FAIL_NONE;
	int rc = EV_OK;

	if (k->d->platform != PLAT_TEAMS)
		tok = ev_user_token(k->cfg, k->st, k->d->platform, s->team, s->user);
	if (k->d->platform == PLAT_TEAMS || tok)
		rc = k->d->ev_sub(&k->ctx, EVSUB_DELETE, &(const struct evsub){ s->id, s->user, tok,
		    NULL, NULL, 0 }, &o, &cls, err, sizeof(err));
	else
		log_warn("%s: webhook %s of person %llu: no token of its owner left to delete it "
		    "with; its deliveries will be refused", k->d->name, s->id,
		    (unsigned long long)s->person_id);
	if (rc == EV_FAIL)
		call_failed(k, s, cls, err);
	else if (commit_sub(k, NULL, s->id) == 0)
		k->sum->deleted++;
	if (tok) {
		explicit_bzero(tok, strlen(tok));
		free(tok);
	}
	evsub_out_free(&o);
}

/* Webex disables a webhook without a word: an active one is looked at each run. */
static void
webex_look(struct keeper *k, struct sub *s, const struct ev_target *e)
{
	struct evsub_out o = { 0 };
	char err[512];
	enum fail cls = FAIL_NONE;
	int rc;

	rc = k->d->ev_sub(&k->ctx, EVSUB_GET, &(const struct evsub){ s->id, e->user, e->token,
	    NULL, NULL, 0 }, &o, &cls, err, sizeof(err));
	if (rc == EV_GONE)
		s->state = SUB_REMOVED;
	else if (rc == EV_OK && o.inactive)
		s->state = SUB_DISABLED;
	else if (rc == EV_FAIL)
		call_failed(k, s, cls, err);
	evsub_out_free(&o);
}

/* The target watched by record s: same person, same account. */
static struct ev_target *
target_of(struct ev_targets *ts, const struct sub *s)
{
	for (size_t i = 0; i < ts->n; i++)
		if (ts->v[i].person == s->person_id && s->user &&
		    strcmp(ts->v[i].user, s->user) == 0 && !ts->v[i].done)
			return &ts->v[i];
	return NULL;
}

static void
keep_one(struct keeper *k, struct sub *s, struct ev_target *e)
{
	if (e && k->d->platform == PLAT_WEBEX && s->state == SUB_ACTIVE)
		webex_look(k, s, e);
	if (k->stop)
		return;
	switch (sub_decide(s, e != NULL, k->now)) {
	case SUBA_KEEP: k->sum->kept++; break;
	case SUBA_CREATE:	/* not for an existing record */
	case SUBA_RECREATE: create_sub(k, e, s); break;
	case SUBA_RENEW: revive_sub(k, s, e, EVSUB_RENEW); break;
	case SUBA_REACTIVATE: revive_sub(k, s, e, EVSUB_REACTIVATE); break;
	case SUBA_DELETE: delete_sub(k, s); break;
	}
}

struct sub_list {
	struct sub	*v;
	size_t		 n;
};

static int
copy_sub_cb(const struct sub *s, void *arg)
{
	struct sub_list *l = arg;

	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	sub_copy(&l->v[l->n++], s);
	return 0;
}

/* The records of the platform, then every target: each record judged, each target left
 * without one given one. */
static void
keep_platform(struct keeper *k, struct ev_targets *ts)
{
	struct sub_list l = { NULL, 0 };
	struct txn *t;
	size_t i;

	if ((t = store_begin(k->st, 0)) == NULL ||
	    store_sub_each(t, k->d->platform, copy_sub_cb, &l) < 0) {
		log_err("%s", store_error(k->st));
		k->cls = FAIL_IO;
		k->stop = 1;
	}
	if (t)
		store_abort(t);
	for (i = 0; i < l.n && !k->stop; i++) {
		struct ev_target *e = target_of(ts, &l.v[i]);

		if (e)
			e->done = 1;
		keep_one(k, &l.v[i], e);
	}
	for (i = 0; i < ts->n && !k->stop; i++)
		if (!ts->v[i].done)
			create_sub(k, &ts->v[i], NULL);
	for (i = 0; i < l.n; i++)
		sub_free(&l.v[i]);
	free(l.v);
}

static int
any_cb(const struct sub *s, void *arg)
{
	(void)s;
	*(int *)arg = 1;
	return 1;
}

/* Whether platform p has subscription records (*rc FAIL_IO on a store error, logged). */
static int
has_records(struct store *st, enum platform p, enum fail *rc)
{
	struct txn *t = store_begin(st, 0);
	int any = 0;

	if (t == NULL || store_sub_each(t, (int)p, any_cb, &any) < 0) {
		log_err("%s", store_error(st));
		*rc = FAIL_IO;
	}
	if (t)
		store_abort(t);
	return any;
}

/* public_url/events/NAME, where serve receives the platform's events (a / that ends
 * public_url is not doubled). */
static void
events_url(struct buf *b, const char *public_url, const char *name)
{
	size_t n = strlen(public_url);

	while (n > 0 && public_url[n - 1] == '/')
		n--;
	buf_printf(b, "%.*s/events/%s", (int)n, public_url, name);
}

enum fail
rec_subscriptions(const struct config *cfg, struct store *st, time_t now,
    struct sub_summary *sum)
{
	struct ev_targets ts;
	char err[512];
	enum fail rc = FAIL_NONE;
	int p;

	for (p = 0; p < PLAT_COUNT && rc != FAIL_IO; p++) {
		struct keeper k = { cfg, st, driver_for((enum platform)p), { 0 }, now, sum,
		    { 0 }, FAIL_NONE, 0 };

		if (!config_enabled(cfg, (enum platform)p) || k.d == NULL || k.d->ev_sub == NULL)
			continue;
		if (!cfg->events.subscriptions && !has_records(st, (enum platform)p, &rc))
			continue;	/* off, and nothing left to delete */
		if (cfg->token_key == NULL || cfg->public_url == NULL) {
			log_warn("%s: no event subscriptions: they need a token key (token_key_file "
			    "or link_key_file) and public_url", k.d->name);
			continue;
		}
		/* off: nobody is wanted, what is left is deleted */
		memset(&ts, 0, sizeof(ts));
		if (cfg->events.subscriptions && ev_targets_collect(cfg, st, (enum platform)p,
		    p == PLAT_WEBEX, &ts) < 0) {
			log_err("%s", store_error(st));
			return FAIL_IO;
		}
		events_url(&k.url, cfg->public_url, platform_name((enum platform)p));
		if (ev_ctx_open(cfg, k.d, NULL, &k.ctx, err, sizeof(err)) < 0) {
			log_err("%s: subscriptions: %s", k.d->name, err);
			k.cls = FAIL_LATER;
		} else {
			keep_platform(&k, &ts);
			ev_ctx_close(k.d, &k.ctx);
		}
		if (k.cls != FAIL_NONE && rc != FAIL_IO)
			rc = k.cls;
		buf_free(&k.url);
		ev_targets_free(&ts);
	}
	return rc;
}

enum fail
rec_events_upkeep(const struct config *cfg, struct store *st, time_t now,
    struct sub_summary *sum)
{
	enum fail a, b;

	memset(sum, 0, sizeof(*sum));
	if ((a = rec_subscriptions(cfg, st, now, sum)) == FAIL_IO)
		return a;
	b = rec_catchup(cfg, st, now, sum);
	if (sum->created + sum->renewed + sum->recreated + sum->reactivated + sum->deleted +
	    sum->failed + sum->catchup_seen == 0)
		return b != FAIL_NONE ? b : a;	/* nothing worth a line */
	log_info("events: subscriptions %ld created, %ld renewed, %ld recreated, %ld "
	    "re-activated, %ld deleted, %ld kept, %ld failed; catch-up read %ld people, %ld "
	    "messages, %ld new", sum->created, sum->renewed, sum->recreated, sum->reactivated,
	    sum->deleted, sum->kept, sum->failed, sum->catchup_people, sum->catchup_seen,
	    sum->catchup_added);
	return b != FAIL_NONE ? b : a;
}
