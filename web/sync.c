/*
 * sync.c — the Sync now page (GET /sync: one Connect step per platform, then the
 * primary-team form), its form (POST /sync/primary: the person becomes on, the link is
 * spent) and the confirmation (GET /done); the person's accounts these pages show.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oauth.h"
#include "reconcile.h"
#include "web_p.h"
#include "workspace.h"

/* ---- the person's accounts ---- */

static int
accts_cb(const struct account *a, void *arg)
{
	struct accts *ac = arg;

	if (!rec_account_is_active(a))
		return 0;
	ac->a = xrealloc(ac->a, (size_t)(ac->n + 1) * sizeof(*ac->a));
	account_copy(&ac->a[ac->n++], a);
	return 0;
}

void
accts_free(struct accts *ac)
{
	for (int i = 0; i < ac->n; i++)
		account_free(&ac->a[i]);
	free(ac->a);
	memset(ac, 0, sizeof(*ac));
}

const struct cfg_platform *
account_signin(const struct config *cfg, struct txn *t, const struct account *a)
{
	const struct cfg_platform *pc = rec_instance(cfg, t, a->platform, a->team_id);

	return pc != NULL && oauth_inst_configured(cfg, a->platform, pc) ? pc : NULL;
}

void
needed(const struct config *cfg, struct txn *t, const struct accts *ac, int need[PLAT_COUNT])
{
	for (int p = 0; p < PLAT_COUNT; p++)
		need[p] = 0;
	for (int i = 0; i < ac->n; i++)
		if (account_signin(cfg, t, &ac->a[i]) != NULL)
			need[ac->a[i].platform] = 1;
}

/* A team's display name (or its id), into out. */
static void
team_name(struct txn *t, enum platform p, const char *team, struct buf *out)
{
	buf_reset(out);
	if (store_team_name_get(t, p, team, out) != 0 || out->len == 0) {
		buf_reset(out);
		buf_adds(out, team);
	}
}

enum web_outcome
load_person(struct server *sv, struct txn *t, const struct web_session *s, struct reply *rp,
    struct person *p, struct accts *ac)
{
	int rc;

	memset(p, 0, sizeof(*p));
	if (sess_link_live(s, rp) != WO_OK)
		return WO_LINK_EXPIRED;
	rc = store_nonce_spent(t, s->nonce);
	if (rc == 0) {
		snprintf(rp->note, sizeof(rp->note), "link already used (person %llu)",
		    (unsigned long long)s->person);
		return WO_LINK_USED_MEANWHILE;
	}
	if (rc == STORE_NOTFOUND)
		rc = store_person_get(t, s->person, p);
	if (rc == 0 && store_person_accounts(t, s->person, accts_cb, ac) < 0)
		rc = -1;
	if (rc < 0)
		return store_fail(sv, rp, "read person");
	if (rc == STORE_NOTFOUND || !p->active || ac->n == 0) {
		snprintf(rp->note, sizeof(rp->note), "person %llu gone or inactive",
		    (unsigned long long)s->person);
		return WO_PERSON_GONE;
	}
	return WO_OK;
}

enum web_outcome
flow_begin(struct server *sv, struct MHD_Connection *conn, struct reply *rp,
    struct web_session *s, struct txn **t, struct person *p, struct accts *ac)
{
	enum web_outcome o;

	*t = NULL;
	memset(p, 0, sizeof(*p));
	if ((o = sess_load(sv, conn, rp, s)) != WO_OK)
		return o;
	if (s->done)
		return WO_TO_DONE;
	if ((*t = store_begin(sv->st, 0)) == NULL)
		return store_fail(sv, rp, "begin read");
	return load_person(sv, *t, s, rp, p, ac);
}

/* ---- GET /sync ---- */

/* The steps: one per platform the person has accounts on. Returns how many platforms need
 * a sign-in; *all is 0 when one of them is not connected yet. */
static int
sync_steps(struct server *sv, struct txn *t, const struct web_session *s,
    const struct accts *ac, const int need[PLAT_COUNT], struct buf *body, int *all)
{
	struct buf tn = { 0 };
	int nneed = 0;

	*all = 1;
	for (int pl = 0; pl < PLAT_COUNT; pl++) {
		const char *name = platform_name((enum platform)pl);
		const char *title = oauth_platform_title((enum platform)pl);
		int has = 0, first = 1;
		for (int i = 0; i < ac->n; i++)
			has |= (int)ac->a[i].platform == pl;
		if (!has)
			continue;
		htmlf(body, "<li><strong>%s</strong> <span class=\"muted\">", title);
		for (int i = 0; i < ac->n; i++) {
			if ((int)ac->a[i].platform != pl)
				continue;
			team_name(t, (enum platform)pl, ac->a[i].team_id, &tn);
			htmlf(body, "%r%s", first ? "" : ", ", tn.p);
			first = 0;
		}
		htmlf(body, "</span><br>");
		if (!need[pl]) {
			htmlf(body, "<span class=\"muted\">Signing in to %s is not set up here; "
			    "nothing to do for it.</span></li>", title);
			continue;
		}
		nneed++;
		if (s->p[pl].user) {
			htmlf(body, "<span class=\"ok\">&#10003; Connected</span></li>");
		} else {
			*all = 0;
			htmlf(body, "<a class=\"btn\" id=\"connect-%r\" href=\"%s/connect/%r\">"
			    "Connect %s</a></li>", name, sv->prefix, name, title);
		}
	}
	buf_free(&tn);
	return nneed;
}

/* The primary-team form: one choice per connected team. */
static void
sync_form(struct server *sv, struct txn *t, const struct web_session *s,
    const struct accts *ac, const int need[PLAT_COUNT], struct buf *body)
{
	struct buf tn = { 0 };
	int first = 1;

	htmlf(body, "</li></ol><form method=\"post\" action=\"%s/sync/primary\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><fieldset>"
	    "<legend>Where should messages reach you?</legend>", sv->prefix, s->csrf);
	for (int i = 0; i < ac->n; i++) {
		const struct account *a = &ac->a[i];
		int dup = 0;
		if (!need[a->platform] || s->p[a->platform].user == NULL)
			continue;
		for (int k = 0; k < i; k++)
			dup |= ac->a[k].platform == a->platform &&
			    strcmp(ac->a[k].team_id, a->team_id) == 0;
		if (dup)
			continue;
		team_name(t, a->platform, a->team_id, &tn);
		htmlf(body, "<label><input type=\"radio\" name=\"team\" value=\"%r:%s\"%r> %s — "
		    "<strong>%s</strong></label>", platform_name(a->platform), a->team_id,
		    first ? " checked" : "", oauth_platform_title(a->platform), tn.p);
		first = 0;
	}
	htmlf(body, "</fieldset><button type=\"submit\" id=\"confirm\">Confirm primary team"
	    "</button></form>");
	buf_free(&tn);
}

enum web_outcome
h_sync(struct server *sv, struct MHD_Connection *conn, struct reply *rp)
{
	struct web_session s;
	struct person p;
	struct accts ac = { 0 };
	struct buf body = { 0 };
	struct txn *t = NULL;
	int need[PLAT_COUNT], all, nneed;
	enum web_outcome o;

	if ((o = flow_begin(sv, conn, rp, &s, &t, &p, &ac)) != WO_OK)
		goto out;
	needed(sv->cfg, t, &ac, need);
	htmlf(&body, "<p>Hello <strong>%s</strong>%r%s%r.</p>",
	    p.name ? p.name : p.email ? p.email : "there", p.email && p.name ? " (" : "",
	    p.email && p.name ? p.email : "", p.email && p.name ? ")" : "");
	htmlf(&body, "<p>Syncing connects your chat accounts so that colleagues on other chat "
	    "platforms can message you, and everything reaches you in one place: your "
	    "<strong>primary team</strong>. Connect each of your accounts, then choose your "
	    "primary team.</p><ol>");
	nneed = sync_steps(sv, t, &s, &ac, need, &body, &all);
	htmlf(&body, "<li><strong>Choose your primary team</strong>");
	if (nneed == 0) {
		htmlf(&body, "<br><span class=\"muted\">Sign-in is not set up for any of your "
		    "accounts yet.</span></li></ol>");
		page(rp, 200, "", "Sync now", body.p, "your administrator has to set up sign-in "
		    "for your chat platforms first; there is nothing you can do here yet.");
		snprintf(rp->note, sizeof(rp->note), "nothing to connect (person %llu)",
		    (unsigned long long)p.id);
	} else if (!all) {
		htmlf(&body, "<br><span class=\"muted\">Once every account above is connected."
		    "</span></li></ol>");
		page(rp, 200, "", "Sync now", body.p, "<em>Connect</em> takes you to the "
		    "platform's sign-in page: sign in as yourself and allow People Sync. You then "
		    "come back here for the next step. Nothing changes until you confirm your "
		    "primary team.");
	} else {
		sync_form(sv, t, &s, &ac, need, &body);
		page(rp, 200, "", "Choose your primary team", body.p, "after you confirm, "
		    "messages from colleagues on your other chat platforms are delivered to the "
		    "team you chose, and a confirmation page shows it.");
	}
out:
	if (t)
		store_abort(t);
	accts_free(&ac);
	person_free(&p);
	buf_free(&body);
	store_session_free(&s);
	return o;
}

/* ---- POST /sync/primary ---- */

/* Value of name in an application/x-www-form-urlencoded body (decoded, caller frees). */
static char *
form_value(const struct buf *body, const char *name)
{
	const char *p = body->p ? body->p : "", *end = p + body->len;
	size_t nl = strlen(name);

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *fe = amp ? amp : end;
		if ((size_t)(fe - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			struct buf v = { 0 };
			for (const char *q = p + nl + 1; q < fe; q++) {
				int hi, lo;
				if (*q == '+') {
					buf_addc(&v, ' ');
				} else if (*q == '%' && fe - q >= 3 &&
				    (hi = (q[1] >= 'a' ? q[1] - 'a' + 10 : q[1] >= 'A' ?
				    q[1] - 'A' + 10 : q[1] - '0')) >= 0 && hi < 16 &&
				    (lo = (q[2] >= 'a' ? q[2] - 'a' + 10 : q[2] >= 'A' ?
				    q[2] - 'A' + 10 : q[2] - '0')) >= 0 && lo < 16) {
					buf_addc(&v, (char)(hi << 4 | lo));
					q += 2;
				} else {
					buf_addc(&v, *q);
				}
			}
			if (v.p == NULL || memchr(v.p, 0, v.len) != NULL ||
			    !utf8_valid(v.p, v.len)) {
				buf_free(&v);
				return NULL;
			}
			return v.p;
		}
		p = fe + 1;
	}
	return NULL;
}

/* The form's "PLATFORM:TEAM_ID" (team is cut at the colon): WO_OK, WO_NO_TEAM or
 * WO_UNKNOWN_TEAM. */
static enum web_outcome
form_team(char *team, enum platform *pl, const char **team_id)
{
	char *colon;

	if (team == NULL || (colon = strchr(team, ':')) == NULL)
		return WO_NO_TEAM;
	*colon = '\0';
	if (platform_parse(team, pl) < 0)
		return WO_UNKNOWN_TEAM;
	*team_id = colon + 1;
	return WO_OK;
}

/* May the person choose team of platform pl now (write txn t, cur re-read in it)? */
static enum web_outcome
primary_allowed(struct server *sv, struct txn *t, const struct web_session *cur,
    enum platform pl, const char *team, struct reply *rp, struct person *p, struct accts *ac)
{
	int need[PLAT_COUNT], ok = 0, missing = 0;
	enum web_outcome o;

	if ((o = load_person(sv, t, cur, rp, p, ac)) != WO_OK)
		return o;
	needed(sv->cfg, t, ac, need);
	for (int i = 0; i < PLAT_COUNT; i++)
		if (need[i] && cur->p[i].user == NULL)
			missing++;
	for (int i = 0; i < ac->n; i++)
		if (ac->a[i].platform == pl && strcmp(ac->a[i].team_id, team) == 0)
			ok = 1;
	if (missing || !need[pl]) {
		snprintf(rp->note, sizeof(rp->note), "primary: not all connected (person %llu)",
		    (unsigned long long)p->id);
		return WO_NOT_CONNECTED;
	}
	if (!ok) {
		snprintf(rp->note, sizeof(rp->note), "primary: not the person's team (person "
		    "%llu)", (unsigned long long)p->id);
		return WO_NOT_YOUR_TEAM;
	}
	return WO_OK;
}

/* The choice, in one write txn: the person on with that primary team, the link spent, the
 * session done. The txn is ended here. */
static enum web_outcome
primary_apply(struct server *sv, struct txn *t, struct web_session *cur, enum platform pl,
    const char *team, struct reply *rp)
{
	struct person p;
	struct accts ac = { 0 };
	struct buf tn = { 0 };
	enum web_outcome o;
	enum status old;

	memset(&p, 0, sizeof(p));
	if ((o = primary_allowed(sv, t, cur, pl, team, rp, &p, &ac)) != WO_OK)
		goto abort;
	team_name(t, pl, team, &tn);
	old = (enum status)p.status;
	p.status = ST_ON;
	p.synced_at = (int64_t)ps_now();
	p.primary_platform = (int8_t)pl;
	free(p.primary_team_id);
	p.primary_team_id = xstrdup(team);
	p.primary_source = PS_CHOSEN;
	p.sync_type = pl == PLAT_SLACK ? SYNC_USER : SYNC_BOT;
	p.flags &= ~PERSON_REAUTH;
	cur->done = 1;
	cur->chosen_platform = (int)pl;
	free(cur->chosen_team);
	cur->chosen_team = xstrdup(team);
	if (store_person_put(t, &p) < 0 ||
	    store_history_add(t, p.id, p.synced_at, "status", "%s -> on: completed Sync now, "
	    "primary %s team %s '%s'", status_name(old), platform_name(pl), team, tn.p) < 0 ||
	    store_nonce_spend(t, cur->nonce, p.id, p.synced_at) < 0 ||
	    store_session_put(t, cur) < 0) {
		o = store_fail(sv, rp, "write person");
		goto abort;
	}
	if (end_write(sv, t, 1) < 0) {
		o = store_fail(sv, rp, "commit person");
		goto out;
	}
	snprintf(rp->note, sizeof(rp->note), "synced: person %llu primary %s",
	    (unsigned long long)p.id, platform_name(pl));
	o = WO_TO_DONE;
	goto out;
abort:
	end_write(sv, t, 0);
out:
	accts_free(&ac);
	person_free(&p);
	buf_free(&tn);
	return o;
}

enum web_outcome
h_primary(struct server *sv, struct MHD_Connection *conn, const struct buf *body,
    struct reply *rp)
{
	const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	struct web_session s, cur;
	struct txn *t;
	char *csrf = form_value(body, "csrf"), *team = form_value(body, "team");
	const char *team_id = NULL;
	enum platform pl = PLAT_SLACK;
	enum web_outcome o;
	int rc;

	store_session_init(&cur);
	if ((o = sess_load(sv, conn, rp, &s)) != WO_OK)
		goto out;
	if ((origin != NULL && strcmp(origin, sv->origin) != 0) || csrf == NULL ||
	    !secret_eq(csrf, s.csrf)) {
		snprintf(rp->note, sizeof(rp->note), "primary: bad CSRF token or origin "
		    "(person %llu)", (unsigned long long)s.person);
		o = WO_FORM_EXPIRED;
		goto out;
	}
	if (s.done) {
		o = WO_TO_DONE;
		goto out;
	}
	if ((o = form_team(team, &pl, &team_id)) != WO_OK)
		goto out;
	if ((t = begin_write(sv)) == NULL) {
		o = store_fail(sv, rp, "begin write");
		goto out;
	}
	if ((rc = store_session_get(t, s.key, ps_now(), &cur)) != 0) {
		o = rc == STORE_NOTFOUND ? WO_SESSION_ENDED_CONFIRM :
		    store_fail(sv, rp, "read session");
		end_write(sv, t, 0);
		goto out;
	}
	o = primary_apply(sv, t, &cur, pl, team_id, rp);
out:
	store_session_free(&cur);
	store_session_free(&s);
	if (csrf)
		explicit_bzero(csrf, strlen(csrf));
	free(csrf);
	free(team);
	return o;
}

/* ---- GET /done ---- */

enum web_outcome
h_done(struct server *sv, struct MHD_Connection *conn, struct reply *rp)
{
	struct web_session s;
	struct person p;
	struct buf body = { 0 }, tn = { 0 }, others = { 0 };
	struct accts ac = { 0 };
	struct txn *t;
	int seen[PLAT_COUNT] = { 0 };
	enum web_outcome o;

	memset(&p, 0, sizeof(p));
	if ((o = sess_load(sv, conn, rp, &s)) != WO_OK)
		return o;
	if (!s.done || s.chosen_platform < 0 || s.chosen_team == NULL) {
		o = WO_TO_SYNC;
		goto out;
	}
	if ((t = store_begin(sv->st, 0)) == NULL) {
		o = store_fail(sv, rp, "begin read");
		goto out;
	}
	team_name(t, (enum platform)s.chosen_platform, s.chosen_team, &tn);
	if (store_person_get(t, s.person, &p) < 0 ||
	    store_person_accounts(t, s.person, accts_cb, &ac) < 0) {
		o = store_fail(sv, rp, "read person");
		store_abort(t);
		goto out;
	}
	store_abort(t);
	for (int i = 0; i < ac.n; i++) {
		enum platform pl = ac.a[i].platform;
		if ((int)pl == s.chosen_platform || seen[pl])
			continue;
		seen[pl] = 1;
		if (others.len)
			buf_adds(&others, " and ");
		buf_adds(&others, oauth_platform_title(pl));
	}
	htmlf(&body, "<p>Thank you%r%s. Your primary team is now</p>"
	    "<p id=\"primary\" class=\"primary\"><strong>%s — %s</strong></p>",
	    p.name ? ", " : "", p.name ? p.name : "",
	    oauth_platform_title((enum platform)s.chosen_platform), tn.p);
	if (others.len)
		htmlf(&body, "<p>Messages that colleagues send you from %s now reach you "
		    "there.</p>", others.p);
	else
		htmlf(&body, "<p>Messages that colleagues send you from other chat platforms now "
		    "reach you there.</p>");
	page(rp, 200, "good", "You're synced", body.p,
	    "nothing more to do: you can close this page. To change your primary team later, ask "
	    "your administrator for a new Sync now link.");
	snprintf(rp->note, sizeof(rp->note), "confirmation (person %llu)",
	    (unsigned long long)s.person);
out:
	accts_free(&ac);
	person_free(&p);
	buf_free(&body);
	buf_free(&tn);
	buf_free(&others);
	store_session_free(&s);
	return o;
}
