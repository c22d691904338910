/*
 * catchup.c — the catch-up (include/subscriptions.h): the synced people's recent direct
 * messages read from each platform and recorded in the event inbox under the keys serve's
 * receivers use, so that what was lost while serve was down (Slack replays no backlog)
 * still prompts, and what came both ways counts once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "evsub_p.h"
#include "inbox.h"
#include "subscriptions.h"
#include "util.h"

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

/* One platform's catch-up over its synced people. FAIL_NONE, FAIL_LATER or FAIL_IO. */
static enum fail
catchup_platform(const struct config *cfg, struct store *st, const struct driver *d,
    time_t since, struct sub_summary *sum)
{
	struct ev_targets ts;
	struct driver_ctx ctx;
	struct found f = { 0 };
	char err[512];
	enum fail rc = FAIL_NONE, cls;
	size_t i;

	if (ev_targets_collect(cfg, st, d->platform, d->platform != PLAT_TEAMS, &ts) < 0) {
		log_err("%s", store_error(st));
		return FAIL_IO;
	}
	if (ts.n && ev_ctx_open(cfg, d, &ctx, err, sizeof(err)) < 0) {
		log_err("%s: catch-up: %s", d->name, err);
		ev_targets_free(&ts);
		return FAIL_LATER;
	}
	for (i = 0; i < ts.n && rc != FAIL_IO; i++) {
		const struct ev_history h = { ts.v[i].user, ts.v[i].token, since, CATCHUP_MAX_ROOMS,
		    found_cb, &f };

		cls = FAIL_NONE;
		if (d->ev_history(&ctx, &h, &cls, err, sizeof(err)) == EV_FAIL) {
			/* one person's token refused: the others go on; no answer: stop */
			log_err("%s (catch-up of person %llu)", err,
			    (unsigned long long)ts.v[i].person);
			rc = FAIL_LATER;
			if (cls == FAIL_LATER)
				break;
		} else {
			sum->catchup_people++;
		}
		if (record_found(st, d->platform, &ts.v[i], &f, sum) < 0) {
			log_err("%s", store_error(st));
			rc = FAIL_IO;
		}
		found_free(&f);
	}
	found_free(&f);
	if (ts.n)
		ev_ctx_close(d, &ctx);
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
