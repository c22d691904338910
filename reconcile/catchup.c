/*
 * catchup.c — the catch-up (include/subscriptions.h): the synced people's recent direct
 * messages read from each platform and recorded in the event inbox under the keys serve's
 * receivers use, so that what was lost while serve was down (Slack replays no backlog)
 * still prompts, and what came both ways counts once. Each person's history is read through
 * the instance of their account's team (a Slack workspace entry: its URL and rate buckets).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "evsub_p.h"
#include "inbox.h"
#include "subscriptions.h"
#include "util.h"
#include "workspace.h"

/* The messages one person's history yielded, recorded after the calls in one txn. */
struct found {
	char	**keys, **from;
	time_t	 *ts;
	size_t	  n;
};

static int
found_cb(const struct ev_msg *m, void *arg)
{
	struct found *f = arg;

	if (strlen(m->key) > INBOX_KEY_MAX)
		return 0;	/* no receiver could have recorded it either */
	f->keys = xrealloc(f->keys, (f->n + 1) * sizeof(*f->keys));
	f->from = xrealloc(f->from, (f->n + 1) * sizeof(*f->from));
	f->ts = xrealloc(f->ts, (f->n + 1) * sizeof(*f->ts));
	f->keys[f->n] = xstrdup(m->key);
	f->from[f->n] = xstrdup(m->from);
	f->ts[f->n] = m->ts;
	f->n++;
	return 0;
}

static void
found_free(struct found *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->keys[i]);
		free(f->from[i]);
	}
	free(f->keys);
	free(f->from);
	free(f->ts);
	memset(f, 0, sizeof(*f));
}

/* Clears the "missed notifications" mark of the person's subscription on p: its catch-up
 * just ran. */
struct missed {
	enum platform	 p;
	struct sub	 s;
};

static int
missed_cb(const struct sub *s, void *arg)
{
	struct missed *m = arg;

	if (!(s->flags & SUB_F_MISSED) || s->platform != m->p)
		return 0;
	sub_copy(&m->s, s);
	return 1;
}

static int
clear_missed(struct txn *t, enum platform p, uint64_t person)
{
	struct missed m;
	int rc;

	memset(&m, 0, sizeof(m));
	m.p = p;
	rc = store_sub_person(t, person, missed_cb, &m);
	if (rc == 0 && m.s.id) {
		m.s.flags &= ~SUB_F_MISSED;
		rc = store_sub_put(t, &m.s);
	}
	sub_free(&m.s);
	return rc;
}

/* Records what was found for target e: added to the inbox, or seen already. */
static int
record_found(struct store *st, enum platform p, const struct ev_target *e,
    const struct found *f, struct sub_summary *sum)
{
	struct txn *t = store_begin(st, 1);
	struct buf from = { 0 }, to = { 0 };
	int rc = t ? 0 : -1, r;

	buf_printf(&to, "%s:%s", platform_name(p), e->user);
	for (size_t i = 0; i < f->n && rc == 0; i++) {
		buf_reset(&from);
		buf_printf(&from, "%s:%s", platform_name(p), f->from[i]);
		if ((r = store_inbox_add(t, f->keys[i], from.p, to.p, f->ts[i])) < 0)
			rc = -1;
		sum->catchup_seen++;
		sum->catchup_added += r == 0;
	}
	if (rc == 0)
		rc = clear_missed(t, p, e->person);
	if (t)
		rc = rc == 0 ? store_commit(t) : (store_abort(t), -1);
	buf_free(&from);
	buf_free(&to);
	return rc;
}

/* Which instance serves each target's team (an index of config_inst; -1: none known yet),
 * read in one txn before any call. NULL on a store error. */
static int *
target_insts(const struct config *cfg, struct store *st, enum platform p,
    const struct ev_targets *ts)
{
	struct txn *t = store_begin(st, 0);
	int *ix;

	if (t == NULL)
		return NULL;
	ix = xcalloc(ts->n + 1, sizeof(*ix));
	for (size_t i = 0; i < ts->n; i++) {
		const struct cfg_platform *pc = rec_instance(cfg, t, p, ts->v[i].team);

		ix[i] = -1;
		for (int k = 0; pc != NULL && k < config_ninst(cfg, p); k++)
			if (config_inst(cfg, p, k) == pc)
				ix[i] = k;
	}
	store_abort(t);
	return ix;
}

/* A platform's driver contexts, one per instance (Slack workspace), opened when first
 * needed: state 0 not yet, 1 open, -1 not usable this run (could not be opened, or the
 * platform stopped answering there). */
struct ctxs {
	const struct config	*cfg;
	const struct driver	*d;
	struct driver_ctx	*v;
	signed char		*state;
	int			 n;
};

/* The open context of instance k, or NULL (why logged once). */
static struct driver_ctx *
ctx_get(struct ctxs *c, int k)
{
	char err[512];

	if (c->state[k] == 0) {
		c->state[k] = 1;
		if (ev_ctx_open(c->cfg, c->d, config_inst(c->cfg, c->d->platform, k), &c->v[k],
		    err, sizeof(err)) < 0) {
			log_err("%s: catch-up: %s", c->d->name, err);
			c->state[k] = -1;
		}
	}
	return c->state[k] > 0 ? &c->v[k] : NULL;
}

/* Target e's history through instance k: FAIL_NONE, FAIL_LATER or FAIL_IO. */
static enum fail
catchup_one(struct ctxs *c, int k, struct store *st, const struct ev_target *e, time_t since,
    struct sub_summary *sum)
{
	struct found f = { 0 };
	const struct ev_history h = { e->user, e->token, since, CATCHUP_MAX_ROOMS, found_cb,
	    &f };
	struct driver_ctx *ctx;
	enum fail rc = FAIL_NONE, cls = FAIL_NONE;
	char err[512];

	if (k < 0) {
		log_warn("%s: catch-up of person %llu: no workspace entry serves team %s yet",
		    c->d->name, (unsigned long long)e->person, e->team);
		return FAIL_NONE;
	}
	if ((ctx = ctx_get(c, k)) == NULL)
		return FAIL_LATER;
	if (c->d->ev_history(ctx, &h, &cls, err, sizeof(err)) == EV_FAIL) {
		/* one person's token refused: the others go on; no answer: the instance's
		 * other people wait for the next run */
		log_err("%s (catch-up of person %llu)", err, (unsigned long long)e->person);
		rc = FAIL_LATER;
		if (cls == FAIL_LATER)
			c->state[k] = -1;
	} else {
		sum->catchup_people++;
	}
	if (record_found(st, c->d->platform, e, &f, sum) < 0) {
		log_err("%s", store_error(st));
		rc = FAIL_IO;
	}
	found_free(&f);
	return rc;
}

/* One platform's catch-up over its synced people, each through the instance of their
 * account's team. FAIL_NONE, FAIL_LATER or FAIL_IO. */
static enum fail
catchup_platform(const struct config *cfg, struct store *st, const struct driver *d,
    time_t since, struct sub_summary *sum)
{
	struct ctxs c = { cfg, d, NULL, NULL, config_ninst(cfg, d->platform) };
	struct ev_targets ts;
	enum fail rc = FAIL_NONE, r;
	int *ix = NULL;

	if (ev_targets_collect(cfg, st, d->platform, d->platform != PLAT_TEAMS, &ts) < 0 ||
	    (ix = target_insts(cfg, st, d->platform, &ts)) == NULL) {
		log_err("%s", store_error(st));
		ev_targets_free(&ts);
		return FAIL_IO;
	}
	c.v = xcalloc((size_t)c.n, sizeof(*c.v));
	c.state = xcalloc((size_t)c.n, sizeof(*c.state));
	for (size_t i = 0; i < ts.n && rc != FAIL_IO; i++) {
		r = catchup_one(&c, ix[i], st, &ts.v[i], since, sum);
		if (r != FAIL_NONE)
			rc = r;
	}
	for (int k = 0; k < c.n; k++)
		if (c.v[k].http != NULL)
			ev_ctx_close(d, &c.v[k]);
	free(c.v);
	free(c.state);
	free(ix);
	ev_targets_free(&ts);
	return rc;
}

enum fail
rec_catchup(const struct config *cfg, struct store *st, time_t now, struct sub_summary *sum)
{
	enum fail rc = FAIL_NONE, r;
	int p;

	/* DMs are read only to feed auto-prompt */
	if (cfg->events.catchup_hours <= 0 || !auto_prompt_get(st))
		return FAIL_NONE;
	for (p = 0; p < PLAT_COUNT && rc != FAIL_IO; p++) {
		const struct driver *d = driver_for((enum platform)p);

		if (!config_enabled(cfg, (enum platform)p) || d == NULL || d->ev_history == NULL)
			continue;
		r = catchup_platform(cfg, st, d, now - (time_t)cfg->events.catchup_hours * 3600,
		    sum);
		if (r != FAIL_NONE && rc != FAIL_IO)
			rc = r;
	}
	return rc;
}
