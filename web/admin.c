/*
 * admin.c — the admin console's door (web/admin_p.h lists its pages): routing under
 * /admin, sign-in through a platform's own sign-in (the OAuth clients of Sync now), the
 * allow list (admin.emails, any case), admin sessions (kv space "asession", apart from Sync
 * now's; keyed by the SHA-256 of the cookie; short-lived), the CSRF token of every form and
 * the Origin of every POST, sign-out, and the layout of the pages.
 *
 * A sign-in under way is kept in kv space "asignin" under the SHA-256 of its OAuth state:
 * expiry, platform, PKCE verifier and the SHA-256 of a cookie set on this browser when it
 * left, so that an answer is taken once, in the browser that asked, within ten minutes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "admin_p.h"
#include "lookup.h"
#include "oauth.h"

#define ADMIN_TTL	1800		/* seconds an admin session lives */
#define SIGNIN_TTL	600		/* seconds a sign-in may take */
#define SID_LEN		43
#define KV_ASESSION	"asession"
#define KV_ASIGNIN	"asignin"

/* The cookie's name: __Host- prefixed when public_url is https (then Path=/, Secure). */
static void
cookie_name(const struct server *sv, const char *base, char *out, size_t n)
{
	snprintf(out, n, "%s%s", sv->secure ? "__Host-" : "", base);
}

static char *
cookie_set(const struct server *sv, const char *base, const char *value, int max_age,
    const char *samesite)
{
	char name[64];

	cookie_name(sv, base, name, sizeof(name));
	return xasprintf("%s=%s; Path=%s%s; Max-Age=%d; HttpOnly; SameSite=%s%s", name, value,
	    sv->secure ? "/" : sv->prefix, sv->secure ? "" : "/admin", max_age, samesite,
	    sv->secure ? "; Secure" : "");
}

/* The SHA-256 of the request's cookie base: 0, or -1 when it has none well-formed. */
static int
cookie_hash(struct admin_req *a, const char *base, unsigned char key[SESSION_KEY_LEN])
{
	char name[64];

	cookie_name(a->sv, base, name, sizeof(name));
	return cookie_key_named(a->conn, name, key);
}

/* ---- admin sessions ---- */

#define SIGNIN_MAX	1000	/* sign-ins under way at most (each is a database record) */

struct sess_rec {
	int64_t		 exp;
	char		 csrf[SESSION_SECRET_LEN + 1];
	char		 email[ADMIN_EMAIL_MAX + 1];
};

/* The request's admin session: 1 (a->email and a->csrf set), 0 (none, or expired), -1. */
static int
session_load(struct admin_req *a)
{
	unsigned char key[SESSION_KEY_LEN];
	struct buf v = { 0 };
	struct txn *t;
	int rc;

	if (cookie_hash(a, "ps_admin", key) < 0)
		return 0;
	if ((t = store_begin(a->sv->st, 0)) == NULL)
		return -1;
	rc = store_kv_get(t, KV_ASESSION, key, sizeof(key), &v);
	store_abort(t);
	if (rc == 0 && v.len > 8 + SESSION_SECRET_LEN && v.len <= 8 + SESSION_SECRET_LEN +
	    ADMIN_EMAIL_MAX && (int64_t)get_be64((unsigned char *)v.p) > (int64_t)ps_now()) {
		memcpy(a->csrf, v.p + 8, SESSION_SECRET_LEN);
		a->csrf[SESSION_SECRET_LEN] = '\0';
		snprintf(a->email, sizeof(a->email), "%.*s", (int)(v.len - 8 - SESSION_SECRET_LEN),
		    v.p + 8 + SESSION_SECRET_LEN);
		rc = 1;
	} else {
		rc = rc < 0 ? -1 : 0;
	}
	buf_free(&v);
	return rc;
}

struct sweep {
	int64_t		 now;
	struct buf	 dead;		/* keys to delete, SESSION_KEY_LEN each */
	size_t		 live;
};

static int
sweep_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct sweep *sw = arg;

	if (klen == SESSION_KEY_LEN && vlen >= 8 &&
	    (int64_t)get_be64((const unsigned char *)val) > sw->now)
		sw->live++;
	else if (klen == SESSION_KEY_LEN)
		buf_add(&sw->dead, key, klen);
	return 0;
}

/* Deletes the expired records of space; *live = the others. 0 or -1. */
static int
sweep_space(struct txn *t, const char *space, size_t *live)
{
	struct sweep sw = { (int64_t)ps_now(), { 0 }, 0 };
	int rc = store_kv_each(t, space, sweep_cb, &sw);

	for (size_t i = 0; rc == 0 && i < sw.dead.len; i += SESSION_KEY_LEN)
		rc = store_kv_del(t, space, sw.dead.p + i, SESSION_KEY_LEN);
	*live = sw.live;
	buf_free(&sw.dead);
	return rc;
}

/* Starts a session for email: stored, its cookie in rp. WO_OK or WO_STORE. */
static enum web_outcome
session_start(struct admin_req *a, const char *email)
{
	char sid[SID_LEN + 1];
	unsigned char key[SESSION_KEY_LEN], b[8];
	struct buf v = { 0 };
	struct txn *t;
	size_t live;
	int rc = -1;

	oauth_random_string(sid, SID_LEN);
	sha256(sid, SID_LEN, key);
	oauth_random_string(a->csrf, SESSION_SECRET_LEN);
	snprintf(a->email, sizeof(a->email), "%s", email);
	put_be64(b, (uint64_t)(ps_now() + ADMIN_TTL));
	buf_add(&v, b, 8);
	buf_add(&v, a->csrf, SESSION_SECRET_LEN);
	buf_adds(&v, a->email);
	if ((t = begin_write(a->sv)) != NULL) {
		rc = sweep_space(t, KV_ASESSION, &live) == 0 &&
		    store_kv_put(t, KV_ASESSION, key, sizeof(key), v.p, v.len) == 0 ? 0 : -1;
		if (rc == 0)
			rc = admin_record(a, t, 0, "sign-in", "signed in");
		rc = end_write(a->sv, t, rc == 0);
	}
	if (rc == 0)
		a->rp->cookie = cookie_set(a->sv, "ps_admin", sid, ADMIN_TTL, "Strict");
	explicit_bzero(sid, sizeof(sid));
	buf_free(&v);
	return rc == 0 ? WO_OK : store_fail(a->sv, a->rp, "write admin session");
}

static enum web_outcome
signout(struct admin_req *a)
{
	unsigned char key[SESSION_KEY_LEN];
	struct txn *t;
	int rc = -1;

	if (cookie_hash(a, "ps_admin", key) == 0 && (t = begin_write(a->sv)) != NULL) {
		rc = store_kv_del(t, KV_ASESSION, key, sizeof(key)) == 0 &&
		    admin_record(a, t, 0, "sign-out", "signed out") == 0 ? 0 : -1;
		rc = end_write(a->sv, t, rc == 0);
	}
	if (rc < 0)
		return store_fail(a->sv, a->rp, "delete admin session");
	a->rp->cookie = cookie_set(a->sv, "ps_admin", "", 0, "Strict");
	a->email[0] = '\0';
	admin_notice(a, 200, "Signed out", "You are signed out of the People Sync console.",
	    NULL);
	return WO_OK;
}

/* ---- sign-in ---- */

static enum web_outcome
signin_page(struct admin_req *a)
{
	struct buf body = { 0 };
	int any = 0;

	htmlf(&body, "<p>Sign in with your own chat account. Only the addresses the People Sync "
	    "configuration names may use the console.</p><ul class=\"signin\">");
	for (int p = 0; p < PLAT_COUNT; p++) {
		if (!oauth_configured(a->sv->cfg, (enum platform)p))
			continue;
		any = 1;
		htmlf(&body, "<li><a class=\"btn\" id=\"signin-%r\" href=\"%s/admin/signin/%r\">"
		    "Sign in with %s</a></li>", platform_name((enum platform)p), a->sv->base,
		    platform_name((enum platform)p), oauth_platform_title((enum platform)p));
	}
	htmlf(&body, "</ul>%r", any ? "" : "<p>No platform's sign-in is set up here: the "
	    "configuration needs an <code>oauth</code> client for one of them.</p>");
	admin_page(a, 200, "Sign in to the console", body.p);
	buf_free(&body);
	return WO_OK;
}

/* The redirect URI of the console's sign-in on pl, into out. */
static void
redirect_uri(const struct server *sv, enum platform pl, struct buf *out)
{
	buf_printf(out, "%s/admin/oauth/%s/callback", sv->base, platform_name(pl));
}

static enum web_outcome
signin_start(struct admin_req *a, enum platform pl)
{
	char state[OAUTH_STATE_LEN + 1], verifier[OAUTH_VERIFIER_LEN + 1], bind[SID_LEN + 1];
	char challenge[OAUTH_CHALLENGE_LEN + 1];
	unsigned char key[SESSION_KEY_LEN], bkey[SESSION_KEY_LEN], b[8];
	struct buf v = { 0 }, url = { 0 }, redir = { 0 };
	enum web_outcome o = WO_TO_SIGNIN;
	struct txn *t;
	size_t live = 0;
	int rc = -1;

	if (!oauth_configured(a->sv->cfg, pl))
		return WO_NOT_FOUND;
	oauth_random_string(state, OAUTH_STATE_LEN);
	oauth_random_string(verifier, OAUTH_VERIFIER_LEN);
	oauth_random_string(bind, SID_LEN);
	oauth_pkce_challenge(verifier, challenge);
	sha256(state, OAUTH_STATE_LEN, key);
	sha256(bind, SID_LEN, bkey);
	put_be64(b, (uint64_t)(ps_now() + SIGNIN_TTL));
	buf_add(&v, b, 8);
	buf_addc(&v, (char)('0' + pl));
	buf_add(&v, verifier, OAUTH_VERIFIER_LEN);
	buf_add(&v, bkey, SESSION_KEY_LEN);
	if ((t = begin_write(a->sv)) != NULL) {
		rc = sweep_space(t, KV_ASIGNIN, &live);
		if (rc == 0 && live < SIGNIN_MAX)
			rc = store_kv_put(t, KV_ASIGNIN, key, sizeof(key), v.p, v.len);
		rc = end_write(a->sv, t, rc == 0) < 0 ? -1 : rc;
	}
	if (rc < 0) {
		o = store_fail(a->sv, a->rp, "write admin sign-in");
	} else if (live >= SIGNIN_MAX) {
		snprintf(a->rp->note, sizeof(a->rp->note), "admin: too many sign-ins under way");
		o = WO_BUSY;
	} else {
		redirect_uri(a->sv, pl, &redir);
		oauth_authorize_url(a->sv->cfg, pl, redir.p, state,
		    oauth_uses_pkce(pl) ? challenge : NULL, &url);
		a->rp->location = xstrdup(url.p);
		a->rp->cookie = cookie_set(a->sv, "ps_admin_signin", bind, SIGNIN_TTL, "Lax");
		snprintf(a->rp->note, sizeof(a->rp->note), "admin: to %s sign-in",
		    platform_name(pl));
	}
	explicit_bzero(state, sizeof(state));
	explicit_bzero(verifier, sizeof(verifier));
	explicit_bzero(bind, sizeof(bind));
	explicit_bzero(v.p, v.len);
	buf_free(&v);
	buf_free(&url);
	buf_free(&redir);
	return o;
}

/* Takes the sign-in of state, once: 1 with verifier set when it is pl's, live and this
 * browser's; 0 when not (deleted all the same); -1 on a store error. */
static int
signin_take(struct admin_req *a, enum platform pl, const char *state,
    char verifier[OAUTH_VERIFIER_LEN + 1])
{
	unsigned char key[SESSION_KEY_LEN], bkey[SESSION_KEY_LEN];
	struct buf v = { 0 };
	struct txn *t;
	int rc = -1, ok = 0;

	if (state == NULL || strlen(state) != OAUTH_STATE_LEN)
		return 0;
	sha256(state, OAUTH_STATE_LEN, key);
	if ((t = begin_write(a->sv)) == NULL)
		return -1;
	rc = store_kv_get(t, KV_ASIGNIN, key, sizeof(key), &v);
	if (rc == 0) {
		ok = v.len == 9 + OAUTH_VERIFIER_LEN + SESSION_KEY_LEN &&
		    (int64_t)get_be64((unsigned char *)v.p) > (int64_t)ps_now() &&
		    v.p[8] == (char)('0' + pl) && cookie_hash(a, "ps_admin_signin", bkey) == 0 &&
		    CRYPTO_memcmp(bkey, v.p + 9 + OAUTH_VERIFIER_LEN, SESSION_KEY_LEN) == 0;
		if (ok) {
			memcpy(verifier, v.p + 9, OAUTH_VERIFIER_LEN);
			verifier[OAUTH_VERIFIER_LEN] = '\0';
		}
		rc = store_kv_del(t, KV_ASIGNIN, key, sizeof(key));
	}
	rc = end_write(a->sv, t, rc == 0) < 0 ? -1 : rc;
	if (v.p)
		explicit_bzero(v.p, v.len);
	buf_free(&v);
	return rc < 0 ? -1 : ok;
}

/* The admin address of the account that signed in: 1 (email set), 0 (not an admin: no
 * address of the account is in admin.emails, or the account is unknown), -1. */
static int
admin_identity(struct admin_req *a, enum platform pl, const struct oauth_identity *id,
    char *email, size_t n)
{
	const struct config *cfg = a->sv->cfg;
	struct account acc;
	struct txn *t;
	int rc, found = 0;

	memset(&acc, 0, sizeof(acc));
	if ((t = store_begin(a->sv->st, 0)) == NULL)
		return -1;
	rc = store_account_get(t, pl, id->team_id, id->user_id, &acc);
	store_abort(t);
	if (rc < 0)
		return -1;
	for (int i = 0; rc == 0 && i < acc.nemails && !found; i++)
		for (int j = 0; j < cfg->admin.nemails && !found; j++)
			if (strcasecmp(acc.emails[i], cfg->admin.emails[j]) == 0) {
				snprintf(email, n, "%s", cfg->admin.emails[j]);
				found = 1;
			}
	account_free(&acc);
	return found;
}

static enum web_outcome
refused(struct admin_req *a, const char *title, const char *text, unsigned status)
{
	a->email[0] = '\0';
	admin_notice(a, status, title, text, NULL);
	return WO_OK;
}

static enum web_outcome
signin_callback(struct admin_req *a, enum platform pl)
{
	const char *state = admin_arg(a, "state"), *code = admin_arg(a, "code");
	char verifier[OAUTH_VERIFIER_LEN + 1], err[512], email[ADMIN_EMAIL_MAX + 1];
	struct oauth_tokens tok = { 0 };
	struct oauth_identity id = { 0 };
	struct buf redir = { 0 };
	enum web_outcome o = WO_OK;
	int rc;

	verifier[0] = '\0';
	if ((rc = signin_take(a, pl, state, verifier)) <= 0) {
		snprintf(a->rp->note, sizeof(a->rp->note), "admin: %s callback: unknown state",
		    platform_name(pl));
		return rc < 0 ? store_fail(a->sv, a->rp, "admin sign-in") : refused(a,
		    "This sign-in is not valid", "It was started in another browser, used "
		    "already, or took more than ten minutes. Nothing was changed.", 400);
	}
	if (code == NULL || *code == '\0')
		return refused(a, "Sign-in did not complete", "The sign-in page sent no answer. "
		    "Nothing was changed.", 400);
	redirect_uri(a->sv, pl, &redir);
	rc = oauth_exchange(a->sv->cfg, pl, code, redir.p, oauth_uses_pkce(pl) ? verifier : NULL,
	    &tok, &id, err, sizeof(err));
	explicit_bzero(verifier, sizeof(verifier));
	buf_free(&redir);
	oauth_tokens_free(&tok);		/* only who signed in matters here */
	if (rc < 0) {
		snprintf(a->rp->note, sizeof(a->rp->note), "admin: %.380s", err);
		return refused(a, "Sign-in did not complete", "The platform did not complete the "
		    "sign-in. Nothing was changed.", 502);
	}
	rc = admin_identity(a, pl, &id, email, sizeof(email));
	if (rc <= 0) {
		snprintf(a->rp->note, sizeof(a->rp->note), "admin: sign-in of %s:%.100s refused",
		    platform_name(pl), id.user_id);
		o = rc < 0 ? store_fail(a->sv, a->rp, "read account") : refused(a, "Not allowed",
		    "This account may not use the People Sync console. If you need to, ask your "
		    "IT team to add your address to the console's admins.", 403);
	} else if ((o = session_start(a, email)) == WO_OK) {
		struct buf body = { 0 }, head = { 0 };
		htmlf(&head, "<meta http-equiv=\"refresh\" content=\"0;url=%s/admin\">", a->sv->base);
		htmlf(&body, "<p>Signed in as %s.</p><p><a href=\"%s/admin\">Continue to the "
		    "console</a></p>", email, a->sv->base);
		admin_page_head(a, 200, "Signed in", body.p, head.p);
		snprintf(a->rp->note, sizeof(a->rp->note), "admin: %s signed in", email);
		buf_free(&body);
		buf_free(&head);
	}
	oauth_identity_free(&id);
	return o;
}

/* ---- routing ---- */

/* A POST is the console's own: same Origin, and the session's CSRF token. */
static int
post_ok(struct admin_req *a)
{
	const char *origin = MHD_lookup_connection_value(a->conn, MHD_HEADER_KIND, "Origin");
	char *csrf = admin_form_get(a->body, "csrf");
	int ok = origin != NULL && strcmp(origin, a->sv->origin) == 0 && csrf != NULL &&
	    secret_eq(csrf, a->csrf);

	if (!ok)
		snprintf(a->rp->note, sizeof(a->rp->note), "admin: %s: %s refused", a->email,
		    origin == NULL || strcmp(origin, a->sv->origin) != 0 ? "cross-origin POST" :
		    "POST without its CSRF token");
	if (csrf) {
		explicit_bzero(csrf, strlen(csrf));
		free(csrf);
	}
	return ok;
}

/* The platform of path's segment (up to '/' or the end) after prefix. */
static int
path_platform(const char *path, const char *prefix, const char *suffix, enum platform *pl)
{
	size_t n = strlen(prefix), m;
	char name[16];

	if (strncmp(path, prefix, n) != 0)
		return -1;
	path += n;
	m = strcspn(path, "/");
	if (m == 0 || m >= sizeof(name) || strcmp(path + m, suffix) != 0)
		return -1;
	memcpy(name, path, m);
	name[m] = '\0';
	return platform_parse(name, pl);
}

/* The pages of a signed-in admin. */
static enum web_outcome
signed_in(struct admin_req *a, const char *path, int post)
{
	static const struct {
		const char	*path;
		int		 post;
		enum web_outcome (*h)(struct admin_req *);
	} pages[] = {
		{ "/admin", 0, admin_people }, { "/admin/", 0, admin_people },
		{ "/admin/conflicts", 0, admin_conflicts }, { "/admin/audit", 0, admin_audit },
		{ "/admin/bulk", 0, admin_bulk_preview }, { "/admin/bulk", 1, admin_bulk },
		{ "/admin/prompt", 1, admin_prompt }, { "/admin/auto-prompt", 1, admin_auto_prompt },
		{ "/admin/synclink", 1, admin_synclink }, { "/admin/signout", 1, signout },
	};

	if (post && !post_ok(a))
		return refused(a, "This form has expired", "The form did not come from this "
		    "console page, or your session changed since. Nothing was changed; go back, "
		    "reload the page and try again.", 403);
	for (size_t i = 0; i < ARRAY_LEN(pages); i++)
		if (strcmp(path, pages[i].path) == 0 && post == pages[i].post)
			return pages[i].h(a);
	if (post && strcmp(path, "/admin/link") == 0)
		return admin_link(a, 0);
	if (post && strcmp(path, "/admin/unlink") == 0)
		return admin_link(a, 1);
	if (!post && strncmp(path, "/admin/person/", 14) == 0)
		return admin_person(a, path + 14);
	if (!post && strncmp(path, "/admin/export.", 14) == 0)
		return admin_export(a, path + 14);
	return WO_NOT_FOUND;
}

enum web_outcome
h_admin(struct server *sv, struct MHD_Connection *conn, const char *method, const char *path,
    const struct buf *body, struct reply *rp)
{
	struct admin_req a;
	enum platform pl;
	int post = strcmp(method, "POST") == 0, rc;

	memset(&a, 0, sizeof(a));
	a.sv = sv;
	a.conn = conn;
	a.rp = rp;
	a.body = body;
	if (strcmp(path, "/admin/console.css") == 0 || strcmp(path, "/admin/console.js") == 0)
		return post ? WO_BAD_METHOD : admin_asset(&a, path + 15);
	if (path_platform(path, "/admin/signin/", "", &pl) == 0)
		return post ? WO_BAD_METHOD : signin_start(&a, pl);
	if (path_platform(path, "/admin/oauth/", "/callback", &pl) == 0)
		return post ? WO_BAD_METHOD : signin_callback(&a, pl);
	if ((rc = session_load(&a)) < 0)
		return store_fail(sv, rp, "read admin session");
	if (rc == 0 && post)
		return refused(&a, "Your console session has ended", "Console sessions last half "
		    "an hour. Nothing was changed; sign in again.", 403);
	if (rc == 0)
		return strcmp(path, "/admin") == 0 || strcmp(path, "/admin/") == 0 ?
		    signin_page(&a) : refused(&a, "Please sign in", "This console page needs a "
		    "signed-in admin (sessions last half an hour).", 403);
	return signed_in(&a, path, post);
}
