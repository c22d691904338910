/*
 * resolve.c — the senders of the Teams events serve recorded without one (docs/events.md):
 * Graph notifications come without resource data, so serve knows the message key and the
 * recipient (the subscription's person) only. Before the drain, the recipient's one-on-one
 * chats are read (the graph driver's ev_history, the catch-up's reading, with the app's
 * credential) from a little before the oldest such event; a message found there with the
 * same key gives its sender, and proves the chat one-on-one. Events still without a sender
 * a day after they came (a group chat, a channel, a deleted message) are dropped. Nothing
 * is held open across the network calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "events.h"
#include "http.h"
#include "inbox.h"

#define RESOLVE_MAX	1000		/* events resolved per run, at most */
#define RESOLVE_AGE	86400		/* an event unresolved this long is dropped */
#define RESOLVE_ROOMS	50		/* one-on-one chats read per recipient */

struct unres {
	char	*key, *to;		/* to: the recipient's user id (no platform) */
	char	*from;			/* found: the sender's user id */
	time_t	 seen;
};

struct resolve {
	struct unres	 v[RESOLVE_MAX];
	size_t		 n;
	time_t		 now;
	long		 dropped;
};

static int
collect_cb(struct txn *t, const struct inbox_event *ev, void *arg)
{
	struct resolve *r = arg;

	(void)t;
	if (ev->seen < r->now - RESOLVE_AGE) {
		r->dropped++;
		return 1;			/* never resolved: dropped */
	}
	if (strncmp(ev->msgkey, "teams:", 6) != 0 || strncmp(ev->to, "teams:", 6) != 0 ||
	    r->n == RESOLVE_MAX)
		return 0;
	r->v[r->n].key = xstrdup(ev->msgkey);
	r->v[r->n].to = xstrdup(ev->to + 6);
	r->v[r->n++].seen = ev->seen;
	return 0;
}

struct found {
	struct resolve	*r;
	const char	*to;
};

static int
history_cb(const struct ev_msg *m, void *arg)
{
	struct found *f = arg;

	for (size_t i = 0; i < f->r->n; i++) {
		struct unres *u = &f->r->v[i];
		if (u->from == NULL && strcmp(u->to, f->to) == 0 && strcmp(u->key, m->key) == 0)
			u->from = xasprintf("teams:%s", m->from);
	}
	return 0;
}

/* Reads each recipient's one-on-one chats once; finds what it can. */
static void
read_histories(const struct config *cfg, struct resolve *r)
{
	const struct driver *drv = driver_for(PLAT_TEAMS);
	struct driver_ctx ctx = { .cfg = cfg };
	char err[512] = "";
	enum fail cls;
	size_t i, k;

	if (drv == NULL || drv->ev_init == NULL || drv->ev_history == NULL)
		return;
	ctx.http = http_new(drv->name, cfg);
	if (drv->ev_init(&ctx, err, sizeof(err)) < 0) {
		log_warn("event inbox: teams senders not looked up: %s", err);
		goto out;
	}
	for (i = 0; i < r->n; i++) {
		struct found f = { r, r->v[i].to };
		struct ev_history h = { .user = r->v[i].to, .max_rooms = RESOLVE_ROOMS,
		    .cb = history_cb, .arg = &f };
		for (k = 0; k < i && strcmp(r->v[k].to, r->v[i].to) != 0; k++)
			;
		if (k < i)
			continue;		/* that recipient was read already */
		h.since = r->v[i].seen;
		for (k = i; k < r->n; k++)
			if (strcmp(r->v[k].to, h.user) == 0 && r->v[k].seen < h.since)
				h.since = r->v[k].seen;
		h.since -= 3600;		/* the message came before its notification */
		if (drv->ev_history(&ctx, &h, &cls, err, sizeof(err)) < 0)
			log_warn("event inbox: %s", err);
	}
out:
	if (drv->fini)
		drv->fini(&ctx);
	http_free(ctx.http);
}

int
events_resolve(const struct config *cfg, struct store *st, long *resolved)
{
	struct resolve *r = xcalloc(1, sizeof(*r));
	struct txn *t;
	size_t i;
	int rc = -1;

	r->now = ps_now();
	if ((t = store_begin(st, 1)) == NULL)
		goto out;
	if (store_inbox_each(t, 1, RESOLVE_MAX * 2, collect_cb, r) < 0) {
		store_abort(t);
		goto out;
	}
	if (store_commit(t) < 0)
		goto out;
	if (r->n && config_enabled(cfg, PLAT_TEAMS))
		read_histories(cfg, r);
	if ((t = store_begin(st, 1)) == NULL)
		goto out;
	for (i = 0; i < r->n; i++)
		if (r->v[i].from && store_inbox_resolve(t, r->v[i].key, r->v[i].from) == 0)
			++*resolved;
	if (store_commit(t) < 0)
		goto out;
	if (r->dropped)
		log_info("event inbox: %ld teams events dropped: no one-on-one message found "
		    "for them within a day", r->dropped);
	rc = 0;
out:
	for (i = 0; i < r->n; i++) {
		free(r->v[i].key);
		free(r->v[i].to);
		free(r->v[i].from);
	}
	free(r);
	return rc;
}
