/*
 * zones.c — each person's own time zone (include/zones.h).
 *
 * Slack members carry "tz" and Webex people "timezone" in the roster itself; Graph keeps it
 * in the mailbox, one request per person, so those are fetched apart from the pull, a
 * bounded number per run, and kept in the account record (the pull's merge keeps a stored
 * zone when the roster says none). A mailbox zone is asked again a day after it was asked
 * (the account's tz_at), like team names: people move, and travel.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "driver.h"
#include "reconcile.h"
#include "zones.h"

int
rec_zone_exists(const char *zone)
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

/* Where a platform keeps a person's zone, for explain. */
static const char *
zone_field(enum platform p)
{
	static const char *const f[PLAT_COUNT] = { "Slack profile (tz)",
	    "Outlook mailbox settings (mailboxSettings.timeZone)", "Webex profile (timezone)" };

	return (unsigned)p < PLAT_COUNT ? f[p] : "?";
}

static const char *
from_account(const struct account *a, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%s's %s", platform_name(a->platform), a->user_id,
	    zone_field(a->platform));
	return a->tz;
}

const char *
rec_person_zone(const struct config *cfg, const struct person *p,
    const struct account *accts, int n, const struct account *target, char *from_buf,
    size_t from_len)
{
	int i, k, pp = p != NULL ? p->primary_platform : -1;

	/* the primary team's account, then the primary platform's others */
	for (k = 0; k < 2 && pp >= 0; k++)
		for (i = 0; i < n; i++)
			if ((int)accts[i].platform == pp && rec_zone_exists(accts[i].tz) &&
			    (k == 1 || (p->primary_team_id != NULL &&
			    strcmp(accts[i].team_id, p->primary_team_id) == 0)))
				return from_account(&accts[i], from_buf, from_len);
	if (target != NULL && rec_zone_exists(target->tz))
		return from_account(target, from_buf, from_len);
	for (k = 0; k < cfg->identity.norder; k++)
		for (i = 0; i < n; i++)
			if (accts[i].platform == cfg->identity.order[k] &&
			    rec_zone_exists(accts[i].tz))
				return from_account(&accts[i], from_buf, from_len);
	for (i = 0; i < n; i++)
		if (rec_zone_exists(accts[i].tz))
			return from_account(&accts[i], from_buf, from_len);
	if (rec_zone_exists(cfg->prompts.default_tz)) {
		snprintf(from_buf, from_len, "prompts.default_tz (%s)",
		    cfg->prompts.default_tz_from ? cfg->prompts.default_tz_from : "the config");
		return cfg->prompts.default_tz;
	}
	snprintf(from_buf, from_len, "UTC: prompts.default_tz names no zone of this host");
	return "UTC";
}

/* ---- fetching the zones a roster lacks, and refreshing them ---- */

struct want {
	int64_t		 now;
	struct account	*a;		/* copies of the accounts to ask about: never asked */
	int		 n;
	struct account	*old;		/* and asked more than ZONE_REFRESH ago */
	int		 nold;
};

static void
want_add(struct account **v, int *n, const struct account *a)
{
	*v = xrealloc(*v, (size_t)(*n + 1) * sizeof(**v));
	account_copy(&(*v)[(*n)++], a);
}

static int
want_cb(const struct account *a, void *arg)
{
	struct want *w = arg;

	if (w->n >= ZONES_PER_RUN)
		return 1;
	if (a->person_id == 0 || !rec_account_is_active(a) || (a->flags & (ACCT_BOT | ACCT_APP)))
		return 0;
	if (a->tz == NULL)
		want_add(&w->a, &w->n, a);
	else if (w->n + w->nold < ZONES_PER_RUN && a->tz_at + ZONE_REFRESH <= w->now)
		want_add(&w->old, &w->nold, a);
	return 0;
}

static int
str_same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

#define ZONE_BATCH	200	/* zones written per transaction */

/*
 * The zones learnt into the accounts, in transactions of ZONE_BATCH: tz[i] for w->a[i], ""
 * when the platform has none, NULL when it could not be asked (asked again next run). An
 * account's zone is replaced only if it is still the one we saw when asking (a pull may
 * have changed it meanwhile); every answer notes when it was asked (tz_at).
 */
static int
put_zones(struct store *st, const struct want *w, char **tz, long *n)
{
	struct txn *t = NULL;
	struct account cur;
	int i, r = 0, k = 0;

	for (i = 0; i < w->n && r >= 0; i++) {
		if (tz[i] == NULL)
			continue;
		if (t == NULL && (t = store_begin(st, 1)) == NULL) {
			r = -1;
			break;
		}
		r = store_account_get(t, w->a[i].platform, w->a[i].team_id, w->a[i].user_id, &cur);
		if (r == 0 && str_same(cur.tz, w->a[i].tz)) {
			*n += !str_same(cur.tz, tz[i]) && *tz[i] != '\0';
			free(cur.tz);
			cur.tz = xstrdup(tz[i]);
			cur.tz_at = w->now;
			r = store_account_put(t, &cur, cur.person_id);
		}
		account_free(&cur);
		if (r >= 0 && ++k % ZONE_BATCH == 0) {
			r = store_commit(t);
			t = NULL;
		}
	}
	if (t != NULL && r >= 0)
		return store_commit(t);
	if (t != NULL)
		store_abort(t);
	return r < 0 ? -1 : 0;
}

/* The zones of platform p's accounts that lack one, or were asked a day ago or more
 * (drv->zone). */
static int
fill_platform(const struct config *cfg, struct store *st, const struct driver *drv,
    long *n)
{
	struct driver_ctx ctx = { .cfg = cfg };
	struct want w = { 0 };
	char err[512] = "", **tz = NULL;
	struct txn *t;
	int i, denied = 0, rc = -1;

	if ((t = store_begin(st, 0)) == NULL)
		return -1;
	w.now = (int64_t)ps_now();
	rc = store_account_each(t, (int)drv->platform, want_cb, &w) < 0 ? -1 : 0;
	store_abort(t);
	/* the never asked first, then the oldest answers, ZONES_PER_RUN in all */
	for (i = 0; i < w.nold; i++)
		if (w.n < ZONES_PER_RUN)
			want_add(&w.a, &w.n, &w.old[i]);
	for (i = 0; i < w.nold; i++)
		account_free(&w.old[i]);
	free(w.old);
	if (rc < 0 || w.n == 0)
		goto out;
	tz = xcalloc((size_t)w.n, sizeof(*tz));
	ctx.http = http_new(drv->name, cfg);
	if (drv->init(&ctx, err, sizeof(err)) < 0) {
		log_warn("%s (time zones: asked again next run)", err);
		goto done;
	}
	for (i = 0; i < w.n; i++) {
		if (drv->zone(&ctx, &w.a[i], &tz[i], &denied, err, sizeof(err)) < 0) {
			if (denied)
				log_warn("%s: the app lacks MailboxSettings.Read: %s people keep "
				    "other zones (see prompts.default_tz)", err, drv->name);
			else
				log_warn("%s (time zones: asked again next run)", err);
			break;
		}
		if (tz[i] == NULL)
			tz[i] = xstrdup("");	/* none: not asked again */
	}
	drv->fini(&ctx);
	rc = put_zones(st, &w, tz, n);
done:
	http_free(ctx.http);
out:
	for (i = 0; i < w.n; i++) {
		account_free(&w.a[i]);
		free(tz != NULL ? tz[i] : NULL);
	}
	free(w.a);
	free(tz);
	if (rc < 0)
		log_err("%s", store_error(st));
	return rc;
}

int
rec_fill_zones(const struct config *cfg, struct store *st, const int *pulled, long *n)
{
	*n = 0;
	for (int p = 0; p < PLAT_COUNT; p++) {
		const struct driver *drv = driver_for((enum platform)p);

		if (drv == NULL || drv->zone == NULL || !config_enabled(cfg, (enum platform)p) ||
		    !pulled[p])
			continue;
		if (fill_platform(cfg, st, drv, n) < 0)
			return -1;
	}
	return 0;
}
