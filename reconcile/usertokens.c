/*
 * usertokens.c — upkeep of the user tokens Sync now collects: refreshed before they expire,
 * each at the OAuth client of its team's instance (the Slack workspace entry that signed
 * it in); a dead grant flags its person for re-authorization (include/usertokens.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oauth.h"
#include "usertoken_store.h"
#include "usertokens.h"
#include "util.h"
#include "workspace.h"

struct due {
	enum platform	 platform;
	const struct cfg_platform *pc;	/* the instance of team (NULL: the platform's) */
	char		*team, *user, *refresh;
	uint64_t	 person;
	int64_t		 refresh_expires;
};

struct due_list {
	struct due	*d;
	size_t		 n;
	time_t		 now;
	const struct config *cfg;
	struct txn	*t;
};

static int
due_cb(const struct utoken *u, void *arg)
{
	struct due_list *dl = arg;
	struct due *d;

	if ((u->flags & UTOKEN_DEAD) || u->tok.refresh == NULL || u->tok.expires == 0 ||
	    u->tok.expires > (int64_t)dl->now + REC_TOKEN_REFRESH_AHEAD)
		return 0;
	dl->d = xrealloc(dl->d, (dl->n + 1) * sizeof(*dl->d));
	d = &dl->d[dl->n++];
	d->platform = u->platform;
	d->pc = rec_instance(dl->cfg, dl->t, u->platform, u->team_id);
	d->team = xstrdup(u->team_id);
	d->user = xstrdup(u->user_id);
	d->refresh = xstrdup(u->tok.refresh);
	d->person = u->person_id;
	d->refresh_expires = u->tok.refresh_expires;
	return 0;
}

/* Stores the outcome of one refresh (r: 0 new tokens, -2 dead). 0, 1 (record changed since:
 * left alone) or -1. */
static int
refresh_store(const struct config *cfg, struct store *st, const struct due *d, int r,
    struct oauth_tokens *tok, const char *why)
{
	struct utoken cur;
	struct person p;
	struct txn *t;
	int rc;

	memset(&p, 0, sizeof(p));
	if ((t = store_begin(st, 1)) == NULL)
		return -1;
	rc = utoken_get(cfg, t, d->platform, d->team, d->user, &cur);
	if (rc != 0 || cur.tok.refresh == NULL || strcmp(cur.tok.refresh, d->refresh) != 0) {
		/* re-connected (or removed) while we were asking: the newer record stands */
		utoken_free(&cur);
		store_abort(t);
		return rc < 0 ? -1 : 1;
	}
	if (r == 0) {
		oauth_tokens_free(&cur.tok);
		cur.tok = *tok;
		memset(tok, 0, sizeof(*tok));
		cur.flags &= ~UTOKEN_DEAD;
		rc = utoken_put(cfg, t, &cur);
	} else {
		cur.flags |= UTOKEN_DEAD;
		rc = utoken_put(cfg, t, &cur);
		if (rc == 0 && (rc = store_person_get(t, d->person, &p)) == 0) {
			p.flags |= PERSON_REAUTH;
			rc = store_person_put(t, &p);
			if (rc == 0)
				rc = store_history_add(t, p.id, (int64_t)ps_now(), "reauth",
				    "%s user token of %s could not be refreshed (%s): Sync now "
				    "needed again", platform_name(d->platform), d->user, why);
		} else if (rc == STORE_NOTFOUND) {
			rc = 0;		/* the person is gone; the dead mark is enough */
		}
	}
	utoken_free(&cur);
	person_free(&p);
	if (rc != 0) {
		store_abort(t);
		return -1;
	}
	return store_commit(t) < 0 ? -1 : 0;
}

int
rec_refresh_user_tokens(const struct config *cfg, struct store *st)
{
	struct due_list dl = { NULL, 0, ps_now(), cfg, NULL };
	struct txn *t;
	int refreshed = 0, dead = 0, failed = 0, rc = 0;
	char err[512];

	if (cfg->token_key == NULL) {
		log_err("%s: token_key_file: not set; stored user tokens cannot be refreshed",
		    cfg->path ? cfg->path : "config");
		return -1;
	}
	if ((t = store_begin(st, 0)) == NULL) {
		log_err("%s", store_error(st));
		return -1;
	}
	dl.t = t;
	if (utoken_each(cfg, t, due_cb, &dl) < 0) {
		log_err("%s", store_error(st));
		store_abort(t);
		rc = -1;
		goto out;
	}
	store_abort(t);
	for (size_t i = 0; i < dl.n && rc == 0; i++) {
		struct due *d = &dl.d[i];
		struct oauth_tokens tok = { 0 };
		const char *why = "refresh token expired";
		int r, s;

		if (d->refresh_expires != 0 && d->refresh_expires <= (int64_t)dl.now) {
			r = -2;
		} else {
			r = oauth_inst_refresh(cfg, d->platform, d->pc, d->refresh, &tok, err,
			    sizeof(err));
			why = err;
		}
		if (r == -1) {
			log_warn("tokens: person %llu: %s", (unsigned long long)d->person, err);
			failed++;
			continue;
		}
		if (r == -2 && why == err) {
			/* "teams: POST token (refresh): invalid_grant (AADSTS700082) (HTTP 400)":
			 * keep what follows the step for the history entry */
			const char *c = strstr(err, "): ");
			why = c ? c + 3 : err;
		}
		s = refresh_store(cfg, st, d, r, &tok, why);
		oauth_tokens_free(&tok);
		if (s < 0) {
			log_err("%s", store_error(st));
			rc = -1;
		} else if (s == 0 && r == 0) {
			refreshed++;
		} else if (s == 0) {
			log_warn("tokens: person %llu: %s user token cannot be refreshed (%s); "
			    "flagged for re-authorization", (unsigned long long)d->person,
			    platform_name(d->platform), why);
			dead++;
		}
	}
	if (refreshed || dead || failed)
		log_info("tokens: %d refreshed, %d need re-authorization, %d failed (retried next "
		    "run)", refreshed, dead, failed);
out:
	for (size_t i = 0; i < dl.n; i++) {
		free(dl.d[i].team);
		free(dl.d[i].user);
		if (dl.d[i].refresh) {
			explicit_bzero(dl.d[i].refresh, strlen(dl.d[i].refresh));
			free(dl.d[i].refresh);
		}
	}
	free(dl.d);
	return rc < 0 ? -1 : refreshed;
}
