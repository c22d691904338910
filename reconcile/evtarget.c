/*
 * evtarget.c — what subscriptions.c and catchup.c share (reconcile/evsub_p.h): the synced
 * people an event subscription or a catch-up is for, their user tokens, and the driver
 * context of the events calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evsub_p.h"
#include "reconcile.h"
#include "usertoken_store.h"
#include "util.h"

struct collect {
	const struct config	*cfg;
	struct txn		*t;
	enum platform		 p;
	int			 need_token;
	struct ev_targets	*out;
	const struct account	*found;
	uint64_t		 person;
};

static int
first_account_cb(const struct account *a, void *arg)
{
	struct collect *c = arg;
	struct ev_target *e;
	struct utoken u;

	if (a->platform != c->p || !rec_account_is_active(a))
		return 0;
	memset(&u, 0, sizeof(u));
	if (c->need_token && (utoken_get(c->cfg, c->t, a->platform, a->team_id, a->user_id,
	    &u) != 0 || (u.flags & UTOKEN_DEAD) || u.tok.access == NULL)) {
		utoken_free(&u);
		return 0;	/* an account without a usable token: perhaps the next one */
	}
	if (c->out->n == c->out->cap) {
		c->out->cap = c->out->cap ? c->out->cap * 2 : 16;
		c->out->v = xrealloc(c->out->v, c->out->cap * sizeof(*c->out->v));
	}
	e = &c->out->v[c->out->n++];
	memset(e, 0, sizeof(*e));
	e->person = c->person;
	e->team = xstrdup(a->team_id);
	e->user = xstrdup(a->user_id);
	e->token = u.tok.access ? xstrdup(u.tok.access) : NULL;
	utoken_free(&u);
	return 1;
}

static int
synced_cb(const struct person *p, void *arg)
{
	struct collect *c = arg;

	if (p->status != ST_ON || !p->active)
		return 0;
	c->person = p->id;
	return store_person_accounts(c->t, p->id, first_account_cb, c) < 0 ? -1 : 0;
}

int
ev_targets_collect(const struct config *cfg, struct store *st, enum platform p,
    int need_token, struct ev_targets *out)
{
	struct collect c = { cfg, NULL, p, need_token, out, NULL, 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	if ((c.t = store_begin(st, 0)) == NULL)
		return -1;
	rc = store_person_each(c.t, synced_cb, &c);
	store_abort(c.t);
	return rc < 0 ? -1 : 0;
}

void
ev_targets_free(struct ev_targets *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		free(ts->v[i].team);
		free(ts->v[i].user);
		if (ts->v[i].token) {
			explicit_bzero(ts->v[i].token, strlen(ts->v[i].token));
			free(ts->v[i].token);
		}
	}
	free(ts->v);
	memset(ts, 0, sizeof(*ts));
}

char *
ev_user_token(const struct config *cfg, struct store *st, enum platform p, const char *team,
    const char *user)
{
	struct txn *t = store_begin(st, 0);
	struct utoken u;
	char *tok = NULL;

	memset(&u, 0, sizeof(u));
	if (t && utoken_get(cfg, t, p, team, user, &u) == 0 && !(u.flags & UTOKEN_DEAD) &&
	    u.tok.access)
		tok = xstrdup(u.tok.access);
	utoken_free(&u);
	if (t)
		store_abort(t);
	return tok;
}

int
ev_ctx_open(const struct config *cfg, const struct driver *d, const struct cfg_platform *pc,
    struct driver_ctx *ctx, char *err, size_t errlen)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = cfg;
	ctx->pc = pc;
	ctx->http = http_new(d->name, cfg);
	if (d->ev_init(ctx, err, errlen) < 0) {
		ev_ctx_close(d, ctx);
		return -1;
	}
	return 0;
}

void
ev_ctx_close(const struct driver *d, struct driver_ctx *ctx)
{
	if (d->fini && ctx->priv)
		d->fini(ctx);
	http_free(ctx->http);
	ctx->http = NULL;
}
