/*
 * serve.c — `serve`: the web endpoint behind "Sync now" links; `sync-link`: a fresh link
 * for one person; serve_refresh_tokens(): upkeep of the user tokens serve collects.
 *
 * The flow (docs/sync-now.md):
 *	GET  /s/<token>			verify the signed link, start a session (cookie), -> /sync
 *	GET  /sync			who you are, one Connect step per platform, then the
 *					primary-team form
 *	GET  /connect/<platform>	new OAuth state (+ PKCE for Teams) in the session, 302 to
 *					the platform's authorize page
 *	GET  /oauth/<platform>/callback	state and cookie checked, code exchanged, identity
 *					checked against the person's account, token stored
 *	POST /sync/primary		CSRF token checked; the person becomes on with the chosen
 *					primary team; the link's nonce is spent; -> /done
 *	GET  /done			the confirmation page
 *
 * libmicrohttpd runs one thread per connection (OAuth callbacks wait on the platforms; they
 * must not hold up other people's pages). Each request uses its own short LMDB transaction;
 * none is held across a network call. Read transactions never wait; write transactions are
 * serialized by LMDB and, inside this process, by wmu (which also keeps store_error()'s
 * message ours while we copy it).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include <curl/curl.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cli.h"
#include "json.h"
#include "linktoken.h"
#include "oauth.h"
#include "reconcile.h"
#include "serve.h"
#include "util.h"

#define BODY_MAX	8192		/* bytes of a request body (the one form is tiny) */
#define SESSION_TTL	3600		/* seconds a Sync now session lives */
#define SID_LEN		43		/* 32 random bytes, base64url */
#define CSRF_LEN	43
#define COOKIE_NAME	"ps_session"
#define CONN_LIMIT	64		/* under LMDB's 126 reader slots */
#define CONN_TIMEOUT	30		/* seconds of silence before a connection is closed */
#define CONN_MEMORY	(64 * 1024)	/* per-connection buffer for headers and body */
#define SWEEP_EVERY	600		/* seconds between sweeps of expired sessions */
#define SWEEP_MAX	1000		/* sessions deleted per sweep at most */

struct srv {
	const struct config	*cfg;
	struct store		*st;
	char			*base;		/* public_url without a trailing '/' */
	char			*prefix;	/* its path ("" or "/sync-app") */
	char			*origin;	/* scheme://host[:port] */
	int			 secure;	/* https: cookies get Secure */
	pthread_mutex_t		 wmu;
	time_t			 last_sweep;
};

struct req {
	double		 t0;
	struct buf	 body;
	int		 too_big;
};

struct reply {
	unsigned	 status;
	struct buf	 html;
	const char	*ctype;
	char		*location;
	char		*cookie;
	char		 note[400];	/* outcome for the log line: never a secret */
};

struct sess_plat {
	char	 state[OAUTH_STATE_LEN + 1];
	char	 verifier[OAUTH_VERIFIER_LEN + 1];
	char	*team;			/* the connected account, NULL until connected */
	char	*user;
};

struct session {
	unsigned char	 key[32];	/* SHA-256 of the cookie value: the store key */
	uint64_t	 person;
	unsigned char	 nonce[LINKTOKEN_NONCE_LEN];
	int64_t		 link_exp;
	int64_t		 exp;
	char		 csrf[CSRF_LEN + 1];
	struct sess_plat p[PLAT_COUNT];
	int		 done;
	int		 chosen_platform;	/* -1 until done */
	char		*chosen_team;
};

/* ---- small things ---- */

static void
sess_free(struct session *s)
{
	for (int i = 0; i < PLAT_COUNT; i++) {
		free(s->p[i].team);
		free(s->p[i].user);
	}
	free(s->chosen_team);
	explicit_bzero(s, sizeof(*s));
}

static void
sha256(const void *data, size_t n, unsigned char out[32])
{
	unsigned int len = 32;

	if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1) {
		fputs("peoplesync: SHA-256 failed\n", stderr);
		abort();
	}
}

static void
hex(struct buf *b, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		buf_addc(b, digits[p[i] >> 4]);
		buf_addc(b, digits[p[i] & 15]);
	}
}

static int
unhex(const char *s, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + k];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= c - '0';
			else if (c >= 'a' && c <= 'f')
				v |= c - 'a' + 10;
			else
				return -1;
		}
		out[i] = (unsigned char)v;
	}
	return s[2 * n] == '\0' ? 0 : -1;
}

/* Equal strings, in time that depends on the length only. */
static int
secret_eq(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n > 0 && n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

/* HTML-escapes s (roster text is untrusted). */
static void
esc(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			buf_adds(b, "&amp;");
			break;
		case '<':
			buf_adds(b, "&lt;");
			break;
		case '>':
			buf_adds(b, "&gt;");
			break;
		case '"':
			buf_adds(b, "&quot;");
			break;
		case '\'':
			buf_adds(b, "&#39;");
			break;
		default:
			buf_addc(b, *s);
		}
	}
}

/*
 * Appends fmt to b: "%s" inserts an argument HTML-escaped, "%r" a trusted fragment as is,
 * "%%" a '%'. Every other character is copied.
 */
static void
htmlf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%' || fmt[1] == '\0') {
			buf_addc(b, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == 's')
			esc(b, va_arg(ap, const char *));
		else if (*fmt == 'r')
			buf_adds(b, va_arg(ap, const char *));
		else
			buf_addc(b, *fmt);
	}
	va_end(ap);
}

static const char css[] =
"*{box-sizing:border-box}"
"body{margin:0;background:#f4f5f7;color:#1c1e21;"
"font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}"
"main{max-width:36rem;margin:0 auto;padding:1.25rem 1rem 2rem}"
".card{background:#fff;border-radius:12px;padding:1.25rem 1.25rem 1rem;"
"box-shadow:0 1px 3px rgba(0,0,0,.1)}"
"h1{font-size:1.4rem;line-height:1.25;margin:0 0 .75rem}"
"h1.bad{color:#a4161a}h1.good{color:#17663a}"
"ol{padding-left:1.3rem}li{margin:.75rem 0}"
".btn,button{display:inline-block;background:#2155d6;color:#fff;border:0;"
"border-radius:8px;padding:.6rem 1.1rem;font:inherit;font-weight:600;"
"text-decoration:none;cursor:pointer}"
".ok{color:#17663a;font-weight:600}.muted{color:#5c6370;font-size:.92rem}"
".primary{font-size:1.15rem}"
"fieldset{border:0;padding:0;margin:0 0 1rem}legend{font-weight:600;margin-bottom:.25rem}"
"label{display:block;border:1px solid #d5d8dd;border-radius:8px;padding:.6rem .75rem;"
"margin:.4rem 0;cursor:pointer}"
".next{background:#eef2fb;border-radius:8px;padding:.75rem .9rem;margin:1rem 0 0}"
"footer{color:#7a808a;font-size:.8rem;text-align:center;margin-top:1rem}"
"@media (prefers-color-scheme:dark){body{background:#17181b;color:#e8e9eb}"
".card{background:#222428}.next{background:#27304a}label{border-color:#3a3d44}"
".muted{color:#a3a8b1}}";

/* The whole page: title (our text), body and the "what happens next" paragraph (HTML). */
static void
page(struct reply *rp, unsigned status, const char *h1class, const char *title,
    const char *body, const char *next)
{
	struct buf *b = &rp->html;

	rp->status = status;
	rp->ctype = "text/html; charset=utf-8";
	buf_reset(b);
	htmlf(b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	    "<meta name=\"robots\" content=\"noindex\">"
	    "<title>%s — People Sync</title><style>%r</style></head><body><main>"
	    "<div class=\"card\"><h1 class=\"%r\">%s</h1>%r"
	    "<p class=\"next\"><strong>What happens next:</strong> %r</p></div>"
	    "<footer>People Sync</footer></main></body></html>\n",
	    title, css, h1class, title, body, next);
}

static const char next_new_link[] =
    "nothing was changed. Open the newest Sync now link you received (in the People Sync "
    "message in your chat app), or ask your administrator to send you a new one.";

/* A page about a problem: status, title and one explanation (all our own text). */
static void
problem_page(struct reply *rp, unsigned status, const char *title, const char *text,
    const char *next)
{
	struct buf body = { 0 };

	htmlf(&body, "<p>%r</p>", text);
	page(rp, status, status == 409 ? "" : "bad", title, body.p, next);
	buf_free(&body);
}

static void
redirect(struct srv *sv, struct reply *rp, unsigned status, const char *path)
{
	rp->status = status;
	free(rp->location);
	rp->location = xasprintf("%s%s", sv->base, path);
	page(rp, status, "", "One moment",
	    "<p>Taking you to the next step.</p>", "your browser goes on by itself.");
	rp->status = status;
}

/* Text of the one store error we just hit, copied while nobody else writes it. */
static void
store_fail(struct srv *sv, struct reply *rp, const char *what)
{
	log_err("serve: %s: %s", what, store_error(sv->st));
	problem_page(rp, 503, "Please try again in a minute",
	    "People Sync could not read or write its database just now.",
	    "nothing was lost. Reload this page in a minute; if it keeps happening, tell your "
	    "administrator.");
	snprintf(rp->note, sizeof(rp->note), "store error");
}

static struct txn *
begin_write(struct srv *sv)
{
	struct txn *t;

	pthread_mutex_lock(&sv->wmu);
	t = store_begin(sv->st, 1);
	if (t == NULL)
		pthread_mutex_unlock(&sv->wmu);
	return t;
}

static int
end_write(struct srv *sv, struct txn *t, int commit)
{
	int rc = 0;

	if (commit)
		rc = store_commit(t);
	else
		store_abort(t);
	pthread_mutex_unlock(&sv->wmu);
	return rc;
}

/* ---- the session record (store_kv space "session", JSON) ---- */

static void
sess_encode(const struct session *s, struct buf *b)
{
	buf_printf(b, "{\"v\":1,\"person\":%llu,\"nonce\":\"", (unsigned long long)s->person);
	hex(b, s->nonce, sizeof(s->nonce));
	buf_printf(b, "\",\"link_exp\":%lld,\"exp\":%lld,\"csrf\":", (long long)s->link_exp,
	    (long long)s->exp);
	buf_json_str(b, s->csrf);
	buf_printf(b, ",\"done\":%d,\"chosen_platform\":%d,\"chosen_team\":", s->done,
	    s->chosen_platform);
	if (s->chosen_team)
		buf_json_str(b, s->chosen_team);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"p\":[");
	for (int i = 0; i < PLAT_COUNT; i++) {
		const struct sess_plat *sp = &s->p[i];
		buf_adds(b, i ? ",{\"state\":" : "{\"state\":");
		buf_json_str(b, sp->state);
		buf_adds(b, ",\"verifier\":");
		buf_json_str(b, sp->verifier);
		buf_adds(b, ",\"team\":");
		if (sp->team)
			buf_json_str(b, sp->team);
		else
			buf_adds(b, "null");
		buf_adds(b, ",\"user\":");
		if (sp->user)
			buf_json_str(b, sp->user);
		else
			buf_adds(b, "null");
		buf_addc(b, '}');
	}
	buf_adds(b, "]}");
}

static int
copy_str(const struct json *j, int tok, char *out, size_t outlen)
{
	struct buf b = { 0 };
	int rc = -1;

	if (json_str(j, tok, &b) == 0 && b.len < outlen) {
		memcpy(out, b.p ? b.p : "", b.len + 1);
		rc = 0;
	}
	if (b.p)
		explicit_bzero(b.p, b.len);
	buf_free(&b);
	return rc;
}

static int
sess_decode(const char *text, size_t len, struct session *s)
{
	struct json j = { 0 };
	char nonce[2 * LINKTOKEN_NONCE_LEN + 1];
	int64_t v;
	int arr, e, i, rc = -1;

	if (json_parse(&j, text, len, NULL, 0) < 0 || !json_is_object(&j, 0))
		goto out;
	if (json_i64(&j, json_get(&j, 0, "v"), &v) < 0 || v != 1)
		goto out;
	if (json_i64(&j, json_get(&j, 0, "person"), &v) < 0 || v <= 0)
		goto out;
	s->person = (uint64_t)v;
	if (copy_str(&j, json_get(&j, 0, "nonce"), nonce, sizeof(nonce)) < 0 ||
	    unhex(nonce, s->nonce, sizeof(s->nonce)) < 0)
		goto out;
	if (json_i64(&j, json_get(&j, 0, "link_exp"), &s->link_exp) < 0 ||
	    json_i64(&j, json_get(&j, 0, "exp"), &s->exp) < 0 ||
	    copy_str(&j, json_get(&j, 0, "csrf"), s->csrf, sizeof(s->csrf)) < 0)
		goto out;
	if (json_i64(&j, json_get(&j, 0, "done"), &v) < 0)
		goto out;
	s->done = v != 0;
	if (json_i64(&j, json_get(&j, 0, "chosen_platform"), &v) < 0 || v < -1 ||
	    v >= PLAT_COUNT)
		goto out;
	s->chosen_platform = (int)v;
	s->chosen_team = json_strdup(&j, json_get(&j, 0, "chosen_team"));
	arr = json_get(&j, 0, "p");
	if (json_count(&j, arr) != PLAT_COUNT)
		goto out;
	for (i = 0, e = json_first(&j, arr); e >= 0; e = json_next(&j, arr, e), i++) {
		struct sess_plat *sp = &s->p[i];
		if (copy_str(&j, json_get(&j, e, "state"), sp->state, sizeof(sp->state)) < 0 ||
		    copy_str(&j, json_get(&j, e, "verifier"), sp->verifier,
		    sizeof(sp->verifier)) < 0)
			goto out;
		sp->team = json_strdup(&j, json_get(&j, e, "team"));
		sp->user = json_strdup(&j, json_get(&j, e, "user"));
	}
	rc = 0;
out:
	json_free(&j);
	return rc;
}

/* The session of key in txn t: 0, STORE_NOTFOUND (also: expired or unreadable), -1. */
static int
sess_get(struct txn *t, const unsigned char key[32], time_t now, struct session *s)
{
	struct buf val = { 0 };
	int rc;

	memset(s, 0, sizeof(*s));
	s->chosen_platform = -1;
	rc = store_kv_get(t, "session", key, 32, &val);
	if (rc == 0) {
		if (sess_decode(val.p, val.len, s) < 0 || s->exp <= (int64_t)now) {
			sess_free(s);
			s->chosen_platform = -1;
			rc = STORE_NOTFOUND;
		}
		memcpy(s->key, key, 32);
	}
	if (val.p)
		explicit_bzero(val.p, val.len);
	buf_free(&val);
	return rc;
}

static int
sess_put(struct txn *t, const struct session *s)
{
	struct buf val = { 0 };
	int rc;

	sess_encode(s, &val);
	rc = store_kv_put(t, "session", s->key, 32, val.p, val.len);
	explicit_bzero(val.p, val.len);
	buf_free(&val);
	return rc;
}

/* The cookie's session key: 0 and key set, or -1 (no or malformed cookie). */
static int
cookie_key(struct MHD_Connection *conn, unsigned char key[32])
{
	const char *sid = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, COOKIE_NAME);

	if (sid == NULL || strlen(sid) != SID_LEN || strspn(sid, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_") != SID_LEN)
		return -1;
	sha256(sid, SID_LEN, key);
	return 0;
}

/* The request's session (read txn). 0, STORE_NOTFOUND (none: page written) or -1. */
static int
sess_load(struct srv *sv, struct MHD_Connection *conn, struct reply *rp, struct session *s)
{
	unsigned char key[32];
	struct txn *t;
	int rc;

	memset(s, 0, sizeof(*s));
	s->chosen_platform = -1;
	if (cookie_key(conn, key) == 0) {
		if ((t = store_begin(sv->st, 0)) == NULL) {
			store_fail(sv, rp, "begin read");
			return -1;
		}
		rc = sess_get(t, key, ps_now(), s);
		store_abort(t);
		if (rc < 0) {
			store_fail(sv, rp, "read session");
			return -1;
		}
		if (rc == 0)
			return 0;
	}
	problem_page(rp, 403, "Your Sync now session has ended",
	    "This page belongs to a Sync now session that has expired (sessions last an hour), "
	    "or your browser did not send its cookie (cookies must be allowed for this site).",
	    "nothing was changed. Open your Sync now link again from the People Sync message in "
	    "your chat app; you will start over where you left off.");
	snprintf(rp->note, sizeof(rp->note), "no session");
	return STORE_NOTFOUND;
}

/* Deletes expired sessions, at most SWEEP_MAX (a write txn of the caller). */
struct sweep {
	time_t		 now;
	unsigned char	 (*keys)[32];
	size_t		 n;
};

static int
sweep_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct sweep *sw = arg;
	struct session s;

	memset(&s, 0, sizeof(s));
	if (klen != 32)
		return 0;
	if (sess_decode(val, vlen, &s) < 0 || s.exp <= (int64_t)sw->now) {
		memcpy(sw->keys[sw->n++], key, 32);
	}
	sess_free(&s);
	return sw->n >= SWEEP_MAX ? 1 : 0;
}

static int
sweep_sessions(struct srv *sv, struct txn *t, time_t now)
{
	struct sweep sw = { now, NULL, 0 };
	int rc = 0;

	if (now - sv->last_sweep < SWEEP_EVERY)
		return 0;
	sv->last_sweep = now;
	sw.keys = xcalloc(SWEEP_MAX, 32);
	if (store_kv_each(t, "session", sweep_cb, &sw) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < sw.n; i++)
		if (store_kv_del(t, "session", sw.keys[i], 32) < 0)
			rc = -1;
	free(sw.keys);
	return rc;
}

/* ---- the person's accounts ---- */

struct accts {
	struct account	*a;
	int		 n;
};

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

static void
accts_free(struct accts *ac)
{
	for (int i = 0; i < ac->n; i++)
		account_free(&ac->a[i]);
	free(ac->a);
	memset(ac, 0, sizeof(*ac));
}

/* Platforms the person must connect: an active account there and OAuth configured. */
static void
needed(const struct config *cfg, const struct accts *ac, int need[PLAT_COUNT])
{
	for (int p = 0; p < PLAT_COUNT; p++)
		need[p] = 0;
	for (int i = 0; i < ac->n; i++)
		if (oauth_configured(cfg, ac->a[i].platform))
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

/* ---- pages ---- */

static void
h_home(struct reply *rp)
{
	page(rp, 200, "", "People Sync",
	    "<p>This is where People Sync's <em>Sync now</em> links lead. Syncing connects your "
	    "chat accounts so that colleagues on other chat platforms can reach you in the one "
	    "place you choose.</p>",
	    "open the Sync now link from the People Sync message in your chat app; it takes you "
	    "through the steps.");
}

static void
h_link(struct srv *sv, struct MHD_Connection *conn, const char *token, struct reply *rp)
{
	const struct config *cfg = sv->cfg;
	unsigned char nonce[LINKTOKEN_NONCE_LEN], key[32];
	struct session s, old;
	struct person p;
	struct buf nv = { 0 }, cookie_sid = { 0 };
	struct txn *t;
	time_t now = ps_now(), expires = 0;
	uint64_t pid = 0;
	char sid[SID_LEN + 1];
	int st, rc;

	memset(&p, 0, sizeof(p));
	memset(&s, 0, sizeof(s));
	memset(&old, 0, sizeof(old));
	st = linktoken_verify(cfg, token, now, &pid, &expires, nonce);
	snprintf(rp->note, sizeof(rp->note), "link %s", linktoken_status_name(st));
	if (st == LT_MALFORMED) {
		problem_page(rp, 400, "This link is incomplete",
		    "The address you opened is not a whole Sync now link: part of it may have been "
		    "cut off when it was copied.", next_new_link);
		return;
	}
	if (st == LT_BADSIG || st == LT_NOKEY) {
		problem_page(rp, 403, "This link is not valid",
		    "People Sync did not issue this link, or it was changed after it was sent.",
		    next_new_link);
		return;
	}
	if (st == LT_EXPIRED) {
		problem_page(rp, 410, "This link has expired",
		    "Sync now links work for a limited time, and this one is past it.",
		    next_new_link);
		return;
	}
	if ((t = store_begin(sv->st, 0)) == NULL) {
		store_fail(sv, rp, "begin read");
		return;
	}
	rc = store_kv_get(t, "nonce", nonce, sizeof(nonce), &nv);
	if (rc == 0) {
		store_abort(t);
		buf_free(&nv);
		problem_page(rp, 409, "You have already synced with this link",
		    "This Sync now link was already used to complete syncing, so it cannot be used "
		    "again.",
		    "nothing more to do: your primary team is set. To change it, ask your "
		    "administrator for a new Sync now link.");
		snprintf(rp->note, sizeof(rp->note), "link already used (person %llu)",
		    (unsigned long long)pid);
		return;
	}
	if (rc == STORE_NOTFOUND)
		rc = store_person_get(t, pid, &p);
	if (rc < 0) {
		store_abort(t);
		store_fail(sv, rp, "read person");
		return;
	}
	if (rc == STORE_NOTFOUND || !p.active) {
		store_abort(t);
		person_free(&p);
		problem_page(rp, 410, "This link is no longer valid",
		    "The chat accounts this link was made for are no longer active.",
		    next_new_link);
		snprintf(rp->note, sizeof(rp->note), "person %llu gone or inactive",
		    (unsigned long long)pid);
		return;
	}
	/* the same browser opening the same link again continues its session */
	if (cookie_key(conn, key) == 0 && sess_get(t, key, now, &old) == 0 &&
	    old.person == pid && memcmp(old.nonce, nonce, sizeof(nonce)) == 0 && !old.done) {
		store_abort(t);
		sess_free(&old);
		person_free(&p);
		redirect(sv, rp, 303, "/sync");
		snprintf(rp->note, sizeof(rp->note), "session resumed (person %llu)",
		    (unsigned long long)pid);
		return;
	}
	sess_free(&old);
	store_abort(t);
	person_free(&p);

	oauth_random_string(sid, SID_LEN);
	sha256(sid, SID_LEN, s.key);
	s.person = pid;
	memcpy(s.nonce, nonce, sizeof(nonce));
	s.link_exp = (int64_t)expires;
	s.exp = (int64_t)now + SESSION_TTL;
	s.chosen_platform = -1;
	oauth_random_string(s.csrf, CSRF_LEN);
	if ((t = begin_write(sv)) == NULL) {
		store_fail(sv, rp, "begin write");
		goto out;
	}
	if (sess_put(t, &s) < 0 || sweep_sessions(sv, t, now) < 0) {
		store_fail(sv, rp, "write session");
		end_write(sv, t, 0);
		goto out;
	}
	if (end_write(sv, t, 1) < 0) {
		store_fail(sv, rp, "commit session");
		goto out;
	}
	buf_add(&cookie_sid, sid, SID_LEN);
	rp->cookie = xasprintf("%s=%s; Path=%s; Max-Age=%d; HttpOnly; SameSite=Lax%s",
	    COOKIE_NAME, cookie_sid.p, sv->prefix[0] ? sv->prefix : "/", SESSION_TTL,
	    sv->secure ? "; Secure" : "");
	redirect(sv, rp, 303, "/sync");
	snprintf(rp->note, sizeof(rp->note), "session started (person %llu)",
	    (unsigned long long)pid);
out:
	explicit_bzero(sid, sizeof(sid));
	if (cookie_sid.p)
		explicit_bzero(cookie_sid.p, cookie_sid.len);
	buf_free(&cookie_sid);
	sess_free(&s);
}

/* Loads person and active accounts for a session's pages (read txn t). 0, or -1 with the
 * page written. */
static int
load_person(struct srv *sv, struct txn *t, const struct session *s, struct reply *rp,
    struct person *p, struct accts *ac)
{
	struct buf nv = { 0 };
	int rc;

	memset(p, 0, sizeof(*p));
	rc = store_kv_get(t, "nonce", s->nonce, sizeof(s->nonce), &nv);
	buf_free(&nv);
	if (rc == 0) {
		problem_page(rp, 409, "You have already synced with this link",
		    "Syncing was completed with this link (perhaps in another window), so it "
		    "cannot be used again.", "nothing more to do: your primary team is set.");
		snprintf(rp->note, sizeof(rp->note), "link already used (person %llu)",
		    (unsigned long long)s->person);
		return -1;
	}
	if (rc == STORE_NOTFOUND)
		rc = store_person_get(t, s->person, p);
	if (rc == 0 && store_person_accounts(t, s->person, accts_cb, ac) < 0)
		rc = -1;
	if (rc < 0) {
		store_fail(sv, rp, "read person");
		return -1;
	}
	if (rc == STORE_NOTFOUND || !p->active || ac->n == 0) {
		problem_page(rp, 410, "This link is no longer valid",
		    "The chat accounts this link was made for are no longer active.",
		    next_new_link);
		snprintf(rp->note, sizeof(rp->note), "person %llu gone or inactive",
		    (unsigned long long)s->person);
		return -1;
	}
	return 0;
}

static void
h_sync(struct srv *sv, struct MHD_Connection *conn, struct reply *rp)
{
	const struct config *cfg = sv->cfg;
	struct session s;
	struct person p;
	struct accts ac = { 0 };
	struct buf body = { 0 }, tn = { 0 };
	struct txn *t = NULL;
	int need[PLAT_COUNT], pl, i, all = 1, nneed = 0, first = 1;

	memset(&p, 0, sizeof(p));
	if (sess_load(sv, conn, rp, &s) != 0)
		return;
	if (s.done) {
		redirect(sv, rp, 303, "/done");
		goto out;
	}
	if ((t = store_begin(sv->st, 0)) == NULL) {
		store_fail(sv, rp, "begin read");
		goto out;
	}
	if (load_person(sv, t, &s, rp, &p, &ac) < 0)
		goto out;
	needed(cfg, &ac, need);
	htmlf(&body, "<p>Hello <strong>%s</strong>%r%s%r.</p>",
	    p.name ? p.name : p.email ? p.email : "there", p.email && p.name ? " (" : "",
	    p.email && p.name ? p.email : "", p.email && p.name ? ")" : "");
	htmlf(&body, "<p>Syncing connects your chat accounts so that colleagues on other chat "
	    "platforms can message you, and everything reaches you in one place: your "
	    "<strong>primary team</strong>. Connect each of your accounts, then choose your "
	    "primary team.</p><ol>");
	for (pl = 0; pl < PLAT_COUNT; pl++) {
		int has = 0;
		for (i = 0; i < ac.n; i++)
			has |= (int)ac.a[i].platform == pl;
		if (!has)
			continue;
		htmlf(&body, "<li><strong>%s</strong> <span class=\"muted\">",
		    oauth_platform_title((enum platform)pl));
		first = 1;
		for (i = 0; i < ac.n; i++) {
			if ((int)ac.a[i].platform != pl)
				continue;
			team_name(t, (enum platform)pl, ac.a[i].team_id, &tn);
			htmlf(&body, "%r%s", first ? "" : ", ", tn.p);
			first = 0;
		}
		htmlf(&body, "</span><br>");
		if (!need[pl]) {
			htmlf(&body, "<span class=\"muted\">Signing in to %s is not set up here; "
			    "nothing to do for it.</span></li>",
			    oauth_platform_title((enum platform)pl));
			continue;
		}
		nneed++;
		if (s.p[pl].user) {
			htmlf(&body, "<span class=\"ok\">&#10003; Connected</span></li>");
		} else {
			all = 0;
			htmlf(&body, "<a class=\"btn\" id=\"connect-%r\" href=\"%s/connect/%r\">"
			    "Connect %s</a></li>", platform_name((enum platform)pl), sv->prefix,
			    platform_name((enum platform)pl),
			    oauth_platform_title((enum platform)pl));
		}
	}
	htmlf(&body, "<li><strong>Choose your primary team</strong>");
	if (nneed == 0) {
		htmlf(&body, "<br><span class=\"muted\">Sign-in is not set up for any of your "
		    "accounts yet.</span></li></ol>");
		page(rp, 200, "", "Sync now", body.p, "your administrator has to set up sign-in "
		    "for your chat platforms first; there is nothing you can do here yet.");
		snprintf(rp->note, sizeof(rp->note), "nothing to connect (person %llu)",
		    (unsigned long long)p.id);
		goto out;
	}
	if (!all) {
		htmlf(&body, "<br><span class=\"muted\">Once every account above is connected."
		    "</span></li></ol>");
		page(rp, 200, "", "Sync now", body.p, "<em>Connect</em> takes you to the "
		    "platform's sign-in page: sign in as yourself and allow People Sync. You then "
		    "come back here for the next step. Nothing changes until you confirm your "
		    "primary team.");
		goto out;
	}
	htmlf(&body, "</li></ol><form method=\"post\" action=\"%s/sync/primary\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><fieldset>"
	    "<legend>Where should messages reach you?</legend>", sv->prefix, s.csrf);
	first = 1;
	for (i = 0; i < ac.n; i++) {
		const struct account *a = &ac.a[i];
		int dup = 0;
		if (!need[a->platform] || s.p[a->platform].user == NULL)
			continue;
		for (int k = 0; k < i; k++)
			dup |= ac.a[k].platform == a->platform &&
			    strcmp(ac.a[k].team_id, a->team_id) == 0;
		if (dup)
			continue;
		team_name(t, a->platform, a->team_id, &tn);
		htmlf(&body, "<label><input type=\"radio\" name=\"team\" value=\"%r:%s\"%r> %s — "
		    "<strong>%s</strong></label>", platform_name(a->platform), a->team_id,
		    first ? " checked" : "", oauth_platform_title(a->platform), tn.p);
		first = 0;
	}
	htmlf(&body, "</fieldset><button type=\"submit\" id=\"confirm\">Confirm primary team"
	    "</button></form>");
	page(rp, 200, "", "Choose your primary team", body.p, "after you confirm, messages from "
	    "colleagues on your other chat platforms are delivered to the team you chose, and a "
	    "confirmation page shows it.");
out:
	if (t)
		store_abort(t);
	accts_free(&ac);
	person_free(&p);
	buf_free(&body);
	buf_free(&tn);
	sess_free(&s);
}

static void
h_connect(struct srv *sv, struct MHD_Connection *conn, enum platform pl, struct reply *rp)
{
	const struct config *cfg = sv->cfg;
	struct session s, cur;
	struct person p;
	struct accts ac = { 0 };
	struct buf url = { 0 }, redir = { 0 };
	struct txn *t;
	char state[OAUTH_STATE_LEN + 1], verifier[OAUTH_VERIFIER_LEN + 1];
	char challenge[OAUTH_CHALLENGE_LEN + 1];
	int need[PLAT_COUNT], rc;

	memset(&p, 0, sizeof(p));
	memset(&cur, 0, sizeof(cur));
	verifier[0] = '\0';
	if (sess_load(sv, conn, rp, &s) != 0)
		return;
	if (s.done) {
		redirect(sv, rp, 303, "/done");
		goto out;
	}
	if ((t = store_begin(sv->st, 0)) == NULL) {
		store_fail(sv, rp, "begin read");
		goto out;
	}
	rc = load_person(sv, t, &s, rp, &p, &ac);
	store_abort(t);
	if (rc < 0)
		goto out;
	needed(cfg, &ac, need);
	if (!need[pl]) {
		problem_page(rp, 404, "Nothing to connect there",
		    "You have no account on that platform that People Sync can sign you in to.",
		    "go back to your Sync now page and follow the steps it shows.");
		goto out;
	}
	oauth_random_string(state, OAUTH_STATE_LEN);
	if (pl == PLAT_TEAMS) {
		oauth_random_string(verifier, OAUTH_VERIFIER_LEN);
		oauth_pkce_challenge(verifier, challenge);
	}
	/* re-read in the write txn: another tab may have connected a platform meanwhile */
	if ((t = begin_write(sv)) == NULL) {
		store_fail(sv, rp, "begin write");
		goto out;
	}
	rc = sess_get(t, s.key, ps_now(), &cur);
	if (rc == 0) {
		memcpy(cur.p[pl].state, state, sizeof(state));
		memcpy(cur.p[pl].verifier, verifier, sizeof(verifier));
		rc = sess_put(t, &cur);
	}
	if (rc != 0 || end_write(sv, t, 1) < 0) {
		if (rc != 0)
			end_write(sv, t, 0);
		store_fail(sv, rp, "write session");
		goto out;
	}
	buf_printf(&redir, "%s/oauth/%s/callback", sv->base, platform_name(pl));
	oauth_authorize_url(cfg, pl, redir.p, state, pl == PLAT_TEAMS ? challenge : NULL, &url);
	rp->location = xstrdup(url.p);
	page(rp, 302, "", "One moment", "<p>Taking you to the sign-in page.</p>",
	    "sign in as yourself and allow People Sync; you then come back here.");
	snprintf(rp->note, sizeof(rp->note), "to %s sign-in (person %llu)", platform_name(pl),
	    (unsigned long long)s.person);
out:
	explicit_bzero(state, sizeof(state));
	explicit_bzero(verifier, sizeof(verifier));
	accts_free(&ac);
	person_free(&p);
	buf_free(&url);
	buf_free(&redir);
	sess_free(&cur);
	sess_free(&s);
}

static void
h_callback(struct srv *sv, struct MHD_Connection *conn, enum platform pl, struct reply *rp)
{
	const struct config *cfg = sv->cfg;
	const char *state = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "state");
	const char *code = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "code");
	const char *error = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "error");
	const char *title = oauth_platform_title(pl);
	struct session s, cur;
	struct oauth_tokens tok = { 0 };
	struct oauth_identity id = { 0 };
	struct utoken u;
	struct account a;
	struct buf redir = { 0 }, text = { 0 };
	struct txn *t;
	char verifier[OAUTH_VERIFIER_LEN + 1], err[512];
	int rc, mine;

	memset(&cur, 0, sizeof(cur));
	memset(&a, 0, sizeof(a));
	verifier[0] = '\0';
	if (sess_load(sv, conn, rp, &s) != 0)
		return;
	if (s.done) {
		redirect(sv, rp, 303, "/done");
		goto out;
	}
	if (state == NULL || !secret_eq(state, s.p[pl].state)) {
		problem_page(rp, 400, "This sign-in does not belong to your session",
		    "The answer from the sign-in page does not match the Sync now session in this "
		    "browser. This happens when a sign-in was started in another browser or "
		    "window, or when someone tried to slip their own sign-in into yours.",
		    "nothing was saved. Go back to your Sync now page and press Connect again.");
		snprintf(rp->note, sizeof(rp->note), "%s callback: state mismatch (person %llu)",
		    platform_name(pl), (unsigned long long)s.person);
		goto out;
	}
	/* the state is spent now, whatever happens next: an answer is accepted once */
	if ((t = begin_write(sv)) == NULL) {
		store_fail(sv, rp, "begin write");
		goto out;
	}
	rc = sess_get(t, s.key, ps_now(), &cur);
	if (rc == 0 && !secret_eq(state, cur.p[pl].state))
		rc = STORE_NOTFOUND;		/* spent by a concurrent request */
	if (rc == 0) {
		memcpy(verifier, cur.p[pl].verifier, sizeof(verifier));
		cur.p[pl].state[0] = cur.p[pl].verifier[0] = '\0';
		rc = sess_put(t, &cur);
	}
	if (rc < 0 || (rc == 0 && end_write(sv, t, 1) < 0)) {
		if (rc < 0)
			end_write(sv, t, 0);
		store_fail(sv, rp, "write session");
		goto out;
	}
	if (rc == STORE_NOTFOUND) {
		end_write(sv, t, 0);
		problem_page(rp, 400, "This sign-in was already used",
		    "This answer from the sign-in page was already received once.",
		    "go back to your Sync now page; press Connect again if the step is not done.");
		snprintf(rp->note, sizeof(rp->note), "%s callback: state spent", platform_name(pl));
		goto out;
	}
	sess_free(&cur);
	if (error != NULL || code == NULL || *code == '\0') {
		int denied = error && strcmp(error, "access_denied") == 0;
		htmlf(&text, denied ? "You did not allow People Sync to use your %s account." :
		    "The %s sign-in page did not complete.", title);
		problem_page(rp, denied ? 200 : 400, denied ? "Sign-in cancelled" :
		    "Sign-in did not complete", text.p,
		    "nothing was saved. Go back to your Sync now page and press Connect to try "
		    "again.");
		snprintf(rp->note, sizeof(rp->note), "%s callback: %s", platform_name(pl),
		    denied ? "access denied" : "no code");
		goto out;
	}
	buf_printf(&redir, "%s/oauth/%s/callback", sv->base, platform_name(pl));
	if (oauth_exchange(cfg, pl, code, redir.p, verifier[0] ? verifier : NULL, &tok, &id,
	    err, sizeof(err)) < 0) {
		htmlf(&text, "%s did not complete the sign-in for People Sync.", title);
		problem_page(rp, 502, "Sign-in did not complete", text.p,
		    "nothing was saved. Go back to your Sync now page and press Connect to try "
		    "again; if it fails again, tell your administrator.");
		snprintf(rp->note, sizeof(rp->note), "%s callback: exchange failed (person %llu): "
		    "%.300s", platform_name(pl), (unsigned long long)s.person, err);
		goto out;
	}
	/* is it this person's account? decided and stored in one write txn */
	if ((t = begin_write(sv)) == NULL) {
		store_fail(sv, rp, "begin write");
		goto out;
	}
	rc = store_account_get(t, pl, id.team_id, id.user_id, &a);
	mine = rc == 0 && a.person_id == s.person && rec_account_is_active(&a);
	if (rc < 0) {
		end_write(sv, t, 0);
		store_fail(sv, rp, "read account");
		goto out;
	}
	if (!mine) {
		end_write(sv, t, 0);
		htmlf(&text, "You signed in to %s with an account that is not yours according to "
		    "your organisation's directory, or that People Sync does not know as active.",
		    title);
		problem_page(rp, 403, "That is not your account", text.p,
		    "nothing was saved. Go back to your Sync now page, press Connect again and "
		    "sign in with your own account (sign out of the other one first if the sign-in "
		    "page does not ask).");
		snprintf(rp->note, sizeof(rp->note), "%s callback: identity of someone else "
		    "(person %llu)", platform_name(pl), (unsigned long long)s.person);
		goto out;
	}
	rc = sess_get(t, s.key, ps_now(), &cur);
	if (rc == 0) {
		memset(&u, 0, sizeof(u));
		u.platform = pl;
		u.team_id = id.team_id;
		u.user_id = id.user_id;
		u.person_id = s.person;
		u.tok = tok;
		rc = utoken_put(cfg, t, &u);
		free(cur.p[pl].team);
		free(cur.p[pl].user);
		cur.p[pl].team = xstrdup(id.team_id);
		cur.p[pl].user = xstrdup(id.user_id);
		if (rc == 0)
			rc = sess_put(t, &cur);
	}
	if (rc != 0) {
		end_write(sv, t, 0);
		if (rc == STORE_NOTFOUND) {
			problem_page(rp, 403, "Your Sync now session has ended",
			    "The session expired while you were signing in.",
			    "nothing was saved. Open your Sync now link again.");
			goto out;
		}
		store_fail(sv, rp, "store user token");
		goto out;
	}
	if (end_write(sv, t, 1) < 0) {
		store_fail(sv, rp, "commit user token");
		goto out;
	}
	redirect(sv, rp, 303, "/sync");
	snprintf(rp->note, sizeof(rp->note), "%s connected (person %llu)", platform_name(pl),
	    (unsigned long long)s.person);
out:
	explicit_bzero(verifier, sizeof(verifier));
	oauth_tokens_free(&tok);
	oauth_identity_free(&id);
	account_free(&a);
	buf_free(&redir);
	buf_free(&text);
	sess_free(&cur);
	sess_free(&s);
}

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

static void
h_primary(struct srv *sv, struct MHD_Connection *conn, const struct buf *body,
    struct reply *rp)
{
	const struct config *cfg = sv->cfg;
	const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	struct session s, cur;
	struct person p;
	struct accts ac = { 0 };
	struct buf tn = { 0 }, nv = { 0 }, rec = { 0 };
	struct txn *t = NULL;
	char *csrf = form_value(body, "csrf"), *team = form_value(body, "team"), *colon;
	enum platform pl = PLAT_SLACK;
	int need[PLAT_COUNT], rc, ok = 0, i, missing = 0;
	enum status old;

	memset(&p, 0, sizeof(p));
	memset(&cur, 0, sizeof(cur));
	if (sess_load(sv, conn, rp, &s) != 0)
		goto free_form;
	if ((origin != NULL && strcmp(origin, sv->origin) != 0) || csrf == NULL ||
	    !secret_eq(csrf, s.csrf)) {
		problem_page(rp, 403, "This form has expired",
		    "The form you sent does not belong to your current Sync now session.",
		    "nothing was changed. Go back to your Sync now page, reload it and choose your "
		    "primary team again.");
		snprintf(rp->note, sizeof(rp->note), "primary: bad CSRF token or origin "
		    "(person %llu)", (unsigned long long)s.person);
		goto out;
	}
	if (s.done) {
		redirect(sv, rp, 303, "/done");
		goto out;
	}
	if (team == NULL || (colon = strchr(team, ':')) == NULL) {
		problem_page(rp, 400, "Please choose a team",
		    "The form did not say which team you chose.",
		    "go back to your Sync now page and choose one of your teams.");
		goto out;
	}
	*colon = '\0';
	if (platform_parse(team, &pl) < 0) {
		problem_page(rp, 400, "Please choose a team", "That is not one of your teams.",
		    "go back to your Sync now page and choose one of your teams.");
		goto out;
	}
	if ((t = begin_write(sv)) == NULL) {
		store_fail(sv, rp, "begin write");
		goto out;
	}
	rc = sess_get(t, s.key, ps_now(), &cur);
	if (rc == STORE_NOTFOUND) {
		problem_page(rp, 403, "Your Sync now session has ended",
		    "The session expired before you confirmed.",
		    "nothing was changed. Open your Sync now link again.");
		goto abort;
	}
	if (rc < 0) {
		store_fail(sv, rp, "read session");
		goto abort;
	}
	if (load_person(sv, t, &cur, rp, &p, &ac) < 0)
		goto abort;
	needed(cfg, &ac, need);
	for (i = 0; i < PLAT_COUNT; i++)
		if (need[i] && cur.p[i].user == NULL)
			missing++;
	for (i = 0; i < ac.n; i++)
		if (ac.a[i].platform == pl && strcmp(ac.a[i].team_id, colon + 1) == 0)
			ok = 1;
	if (missing || !need[pl]) {
		problem_page(rp, 409, "Connect your accounts first",
		    "Every account on your Sync now page must be connected before you choose your "
		    "primary team.", "nothing was changed. Go back to your Sync now page and "
		    "connect the accounts it lists.");
		snprintf(rp->note, sizeof(rp->note), "primary: not all connected (person %llu)",
		    (unsigned long long)p.id);
		goto abort;
	}
	if (!ok) {
		problem_page(rp, 400, "Please choose one of your teams",
		    "That team is not one of the teams you have an active account in.",
		    "nothing was changed. Go back to your Sync now page and choose again.");
		snprintf(rp->note, sizeof(rp->note), "primary: not the person's team (person "
		    "%llu)", (unsigned long long)p.id);
		goto abort;
	}
	team_name(t, pl, colon + 1, &tn);
	old = (enum status)p.status;
	p.status = ST_ON;
	p.synced_at = (int64_t)ps_now();
	p.primary_platform = (int8_t)pl;
	free(p.primary_team_id);
	p.primary_team_id = xstrdup(colon + 1);
	p.primary_source = PS_CHOSEN;
	p.sync_type = pl == PLAT_SLACK ? SYNC_USER : SYNC_BOT;
	p.flags &= ~PERSON_REAUTH;
	buf_printf(&rec, "{\"person\":%llu,\"at\":%lld}", (unsigned long long)p.id,
	    (long long)p.synced_at);
	cur.done = 1;
	cur.chosen_platform = (int)pl;
	free(cur.chosen_team);
	cur.chosen_team = xstrdup(colon + 1);
	if (store_person_put(t, &p) < 0 ||
	    store_history_add(t, p.id, p.synced_at, "status", "%s -> on: completed Sync now, "
	    "primary %s team %s '%s'", status_name(old), platform_name(pl), colon + 1, tn.p) < 0 ||
	    store_kv_put(t, "nonce", cur.nonce, sizeof(cur.nonce), rec.p, rec.len) < 0 ||
	    sess_put(t, &cur) < 0) {
		store_fail(sv, rp, "write person");
		goto abort;
	}
	if (end_write(sv, t, 1) < 0) {
		t = NULL;
		store_fail(sv, rp, "commit person");
		goto out;
	}
	t = NULL;
	redirect(sv, rp, 303, "/done");
	snprintf(rp->note, sizeof(rp->note), "synced: person %llu primary %s",
	    (unsigned long long)p.id, platform_name(pl));
	goto out;
abort:
	end_write(sv, t, 0);
	t = NULL;
out:
	accts_free(&ac);
	person_free(&p);
	buf_free(&tn);
	buf_free(&nv);
	buf_free(&rec);
	sess_free(&cur);
	sess_free(&s);
free_form:
	if (csrf)
		explicit_bzero(csrf, strlen(csrf));
	free(csrf);
	free(team);
}

static void
h_done(struct srv *sv, struct MHD_Connection *conn, struct reply *rp)
{
	struct session s;
	struct person p;
	struct buf body = { 0 }, tn = { 0 }, others = { 0 };
	struct accts ac = { 0 };
	struct txn *t;
	int seen[PLAT_COUNT] = { 0 };

	memset(&p, 0, sizeof(p));
	if (sess_load(sv, conn, rp, &s) != 0)
		return;
	if (!s.done || s.chosen_platform < 0 || s.chosen_team == NULL) {
		redirect(sv, rp, 303, "/sync");
		goto out;
	}
	if ((t = store_begin(sv->st, 0)) == NULL) {
		store_fail(sv, rp, "begin read");
		goto out;
	}
	team_name(t, (enum platform)s.chosen_platform, s.chosen_team, &tn);
	if (store_person_get(t, s.person, &p) < 0 ||
	    store_person_accounts(t, s.person, accts_cb, &ac) < 0) {
		store_abort(t);
		store_fail(sv, rp, "read person");
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
	sess_free(&s);
}

/* ---- libmicrohttpd glue ---- */

/* The path as logged: printable ASCII only, link tokens left out, at most 80 characters. */
static void
log_path(const char *path, char *out, size_t outlen)
{
	size_t o = 0;

	if (strncmp(path, "/s/", 3) == 0)
		path = "/s/<token>";
	for (; *path && o + 1 < outlen && o < 80; path++)
		out[o++] = (*path > ' ' && *path < 0x7f && *path != '"' && *path != '\\') ?
		    *path : '?';
	out[o] = '\0';
}

static enum MHD_Result
send_reply(struct MHD_Connection *conn, const char *method, const char *path,
    struct req *r, struct reply *rp)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char lp[96];

	if (rp->ctype == NULL)
		page(rp, rp->status ? rp->status : 500, "bad", "Something went wrong",
		    "<p>People Sync could not answer this request.</p>", "reload the page.");
	resp = MHD_create_response_from_buffer(rp->html.len, rp->html.p, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", rp->ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Content-Security-Policy",
	    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
	    "frame-ancestors 'none'; base-uri 'none'");
	if (rp->status == 405)
		MHD_add_response_header(resp, "Allow", "GET, POST");
	if (rp->location)
		MHD_add_response_header(resp, "Location", rp->location);
	if (rp->cookie)
		MHD_add_response_header(resp, "Set-Cookie", rp->cookie);
	ret = MHD_queue_response(conn, rp->status, resp);
	MHD_destroy_response(resp);
	log_path(path, lp, sizeof(lp));
	log_info("serve: %.8s %s %u %.0f ms%s%s%s", method, lp, rp->status,
	    (ps_monotonic() - r->t0) * 1000, rp->note[0] ? " (" : "", rp->note,
	    rp->note[0] ? ")" : "");
	return ret;
}

static void
reply_free(struct reply *rp)
{
	buf_free(&rp->html);
	free(rp->location);
	if (rp->cookie) {
		explicit_bzero(rp->cookie, strlen(rp->cookie));
		free(rp->cookie);
	}
}

/* The platform named by path segment s (up to '/' or the end). */
static int
seg_platform(const char *s, size_t n, enum platform *pl)
{
	char name[16];

	if (n == 0 || n >= sizeof(name))
		return -1;
	memcpy(name, s, n);
	name[n] = '\0';
	return platform_parse(name, pl);
}

enum route { R_NONE, R_HOME, R_HEALTH, R_LINK, R_SYNC, R_PRIMARY, R_DONE, R_CONNECT,
	R_CALLBACK };

/* Which page path names (platform set for connect and callback). */
static enum route
route_of(const char *path, enum platform *pl)
{
	const char *rest;

	if (strcmp(path, "/") == 0)
		return R_HOME;
	if (strcmp(path, "/healthz") == 0)
		return R_HEALTH;
	if (strncmp(path, "/s/", 3) == 0)
		return R_LINK;
	if (strcmp(path, "/sync") == 0)
		return R_SYNC;
	if (strcmp(path, "/sync/primary") == 0)
		return R_PRIMARY;
	if (strcmp(path, "/done") == 0)
		return R_DONE;
	if (strncmp(path, "/connect/", 9) == 0 &&
	    seg_platform(path + 9, strlen(path + 9), pl) == 0)
		return R_CONNECT;
	if (strncmp(path, "/oauth/", 7) == 0 && (rest = strchr(path + 7, '/')) != NULL &&
	    strcmp(rest, "/callback") == 0 &&
	    seg_platform(path + 7, (size_t)(rest - path - 7), pl) == 0)
		return R_CALLBACK;
	return R_NONE;
}

static void
route(struct srv *sv, struct MHD_Connection *conn, const char *method, const char *path,
    struct req *r, struct reply *rp)
{
	enum platform pl = PLAT_SLACK;
	enum route rt = route_of(path, &pl);
	int post = strcmp(method, "POST") == 0;

	if (rt == R_NONE) {
		problem_page(rp, 404, "Page not found", "There is no page at this address.",
		    "open the Sync now link from the People Sync message in your chat app.");
		return;
	}
	if (post != (rt == R_PRIMARY)) {
		problem_page(rp, 405, "Not like this",
		    "This address does not take that kind of request.",
		    "open the Sync now link from your chat app instead.");
		return;
	}
	switch (rt) {
	case R_HOME:
		h_home(rp);
		break;
	case R_HEALTH:
		rp->status = 200;
		rp->ctype = "text/plain; charset=utf-8";
		buf_adds(&rp->html, "ok\n");
		break;
	case R_LINK:
		h_link(sv, conn, path + 3, rp);
		break;
	case R_SYNC:
		h_sync(sv, conn, rp);
		break;
	case R_PRIMARY:
		h_primary(sv, conn, &r->body, rp);
		break;
	case R_DONE:
		h_done(sv, conn, rp);
		break;
	case R_CONNECT:
		h_connect(sv, conn, pl, rp);
		break;
	case R_CALLBACK:
		h_callback(sv, conn, pl, rp);
		break;
	case R_NONE:
		break;
	}
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct srv *sv = cls;
	struct req *r = *con_cls;
	struct reply rp;
	const char *path = url;
	size_t pn = strlen(sv->prefix);
	enum MHD_Result ret;

	(void)version;
	if (r == NULL) {
		const char *cl;
		long long n;
		r = xcalloc(1, sizeof(*r));
		r->t0 = ps_monotonic();
		*con_cls = r;
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (cl && (parse_ll(cl, 0, LLONG_MAX, &n) < 0 || n > BODY_MAX))
			r->too_big = 1;
		if (strcmp(method, "GET") == 0 || strcmp(method, "POST") == 0) {
			if (!r->too_big)
				return MHD_YES;		/* the body (if any) comes next */
		}
	} else if (*upload_size != 0) {
		if (r->body.len + *upload_size > BODY_MAX)
			r->too_big = 1;
		else
			buf_add(&r->body, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&rp, 0, sizeof(rp));
	if (pn && strncmp(path, sv->prefix, pn) == 0 && (path[pn] == '/' || path[pn] == '\0'))
		path = path[pn] ? path + pn : "/";
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0) {
		problem_page(&rp, 405, "Not like this",
		    "This service only answers GET and POST requests.",
		    "open the Sync now link from your chat app instead.");
	} else if (r->too_big) {
		problem_page(&rp, 413, "Too much data",
		    "The request carried more data than any People Sync form sends.",
		    "go back to your Sync now page and try again.");
	} else {
		route(sv, conn, method, path, r, &rp);
	}
	ret = send_reply(conn, method, path, r, &rp);
	reply_free(&rp);
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (r == NULL)
		return;
	if (r->body.p)
		explicit_bzero(r->body.p, r->body.len);
	buf_free(&r->body);
	free(r);
	*con_cls = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct buf b = { 0 };

	(void)cls;
	buf_vprintf(&b, fmt, ap);
	while (b.len && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == '\r'))
		b.p[--b.len] = '\0';
	log_warn("serve: libmicrohttpd: %s", b.p ? b.p : "");
	buf_free(&b);
}

/* public_url's origin, path prefix and scheme. 0 or -1. */
static int
parse_public(struct srv *sv, const char *public_url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	size_t n;
	int rc = -1;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, public_url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	sv->secure = strcasecmp(scheme, "https") == 0;
	sv->origin = port ? xasprintf("%s://%s:%s", scheme, host, port) :
	    xasprintf("%s://%s", scheme, host);
	sv->prefix = xstrdup(path ? path : "");
	n = strlen(sv->prefix);
	while (n > 0 && sv->prefix[n - 1] == '/')
		sv->prefix[--n] = '\0';
	n = strlen(public_url);
	while (n > 0 && public_url[n - 1] == '/')
		n--;
	sv->base = xstrndup(public_url, n);
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

/* ADDR:PORT (ADDR may be [v6]) into a socket address; port 0 allowed here. 0 or -1. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	const char *colon = strrchr(s, ':');
	struct addrinfo hints, *res = NULL;
	char *host;
	int rc;

	if (colon == NULL || colon == s || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || strlen(colon + 1) > 5)
		return -1;
	host = xstrndup(s, (size_t)(colon - s));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	free(host);
	if (rc != 0 || res == NULL || res->ai_addrlen > sizeof(*ss)) {
		if (res)
			freeaddrinfo(res);
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static const char serve_usage[] =
"usage: peoplesync serve [--listen ADDR:PORT]\n"
"\n"
"Serves the pages behind Sync now links (public_url/s/...): checks the signed link, signs\n"
"the person in to each of their chat platforms (OAuth), checks each identity against the\n"
"directory, stores their user tokens encrypted and records the primary team they choose.\n"
"Needs link_key_file and token_key_file in the config. Stops cleanly on SIGTERM or\n"
"SIGINT. One log line per request, without tokens, codes or query strings.\n"
"\n"
"  --listen ADDR:PORT   where to listen (default: serve.listen, 127.0.0.1:8080)\n";

int
cmd_serve(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct srv sv;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	const char *addr = NULL;
	unsigned flags;
	sigset_t sigs;
	int ch, rc, sig = 0;

	while ((ch = getopt_long(argc, argv, "l:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			addr = optarg;
			break;
		case 'h':
			fputs(serve_usage, stdout);
			return 0;
		default:
			fputs(serve_usage, stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		log_err("serve: unexpected argument '%s'", argv[optind]);
		return EX_USAGE;
	}
	if ((rc = cli_load_config(c)) != 0)
		return rc;
	if (addr == NULL)
		addr = c->cfg.serve.listen;
	if (parse_listen(addr, &ss, &sslen) < 0) {
		log_err("serve: --listen: \"%s\" is not ADDR:PORT (like 127.0.0.1:8080)", addr);
		return EX_USAGE;
	}
	if (c->cfg.link_key == NULL) {
		log_err("%s: link_key_file: not set; serve needs it to check Sync now links",
		    c->config_path);
		return EX_CONFIG;
	}
	if (c->cfg.token_key == NULL) {
		log_err("%s: token_key_file: not set; serve needs it to store user tokens "
		    "encrypted", c->config_path);
		return EX_CONFIG;
	}
	for (int p = 0; p < PLAT_COUNT; p++) {
		int en = p == PLAT_SLACK ? c->cfg.slack.enabled : p == PLAT_TEAMS ?
		    c->cfg.teams.enabled : c->cfg.webex.enabled;
		if (en && !oauth_configured(&c->cfg, (enum platform)p))
			log_warn("serve: %s: no %s.oauth.client_id / client_secret_file: people "
			    "cannot connect their %s accounts", platform_name((enum platform)p),
			    platform_name((enum platform)p),
			    oauth_platform_title((enum platform)p));
	}
	memset(&sv, 0, sizeof(sv));
	sv.cfg = &c->cfg;
	if (parse_public(&sv, c->cfg.public_url) < 0) {
		log_err("%s: public_url: \"%s\" is not a URL", c->config_path, c->cfg.public_url);
		return EX_CONFIG;
	}
	if ((rc = cli_open_store(c, 0)) != 0)
		goto out;
	sv.st = c->st;
	pthread_mutex_init(&sv.wmu, NULL);

	/* signals go to sigwait() below: block them before MHD's threads inherit the mask */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &sv,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONN_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_END);
	if (d == NULL) {
		log_err("serve: cannot listen on %s: %s", addr, strerror(errno));
		rc = EX_UNAVAILABLE;
		goto out_mutex;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	log_info("serve: listening on %s (port %u) for %s", addr, info ? info->port : 0u,
	    sv.base);
	while (sigwait(&sigs, &sig) != 0)
		;
	log_info("serve: %s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	MHD_stop_daemon(d);
	log_info("serve: stopped");
	rc = 0;
out_mutex:
	pthread_mutex_destroy(&sv.wmu);
out:
	free(sv.base);
	free(sv.prefix);
	free(sv.origin);
	return rc;
}

/* ---- sync-link ---- */

static const char sync_link_usage[] =
"usage: peoplesync sync-link PERSON\n"
"\n"
"Prints a fresh Sync now link for PERSON (an email address or PLATFORM:USER_ID), valid for\n"
"link_ttl_hours (default 168). The link is signed with link_key_file; it stays usable until\n"
"it expires or its Sync now flow is completed.\n";

int
cmd_sync_link(struct cli *c, int argc, char **argv)
{
	struct person p;
	struct buf url = { 0 };
	struct txn *t;
	uint64_t id = 0;
	int rc;

	if (wants_help(argc, argv)) {
		fputs(sync_link_usage, stdout);
		return 0;
	}
	if (argc != 2) {
		fputs(sync_link_usage, stderr);
		return EX_USAGE;
	}
	if ((rc = cli_load_config(c)) != 0)
		return rc;
	if (c->cfg.link_key == NULL) {
		log_err("%s: link_key_file: not set; Sync now links cannot be signed",
		    c->config_path);
		return EX_CONFIG;
	}
	if ((rc = cli_open_store(c, 1)) != 0)
		return rc;
	if ((t = store_begin(c->st, 0)) == NULL) {
		log_err("%s", store_error(c->st));
		return EX_IOERR;
	}
	memset(&p, 0, sizeof(p));
	rc = rec_find_person(&c->cfg, t, argv[1], &id);
	if (rc == 0)
		rc = store_person_get(t, id, &p);
	store_abort(t);
	if (rc < 0) {
		log_err("%s", store_error(c->st));
		return EX_IOERR;
	}
	if (rc == STORE_NOTFOUND) {
		log_err("sync-link: no person '%s' in %s", argv[1], c->cfg.database);
		return EX_DATAERR;
	}
	if (!p.active) {
		log_err("sync-link: %s has no active account; a link would lead nowhere", argv[1]);
		person_free(&p);
		return EX_DATAERR;
	}
	person_free(&p);
	linktoken_url(&c->cfg, id, ps_now() + (time_t)c->cfg.link_ttl_hours * 3600, &url);
	printf("%s\n", url.p);
	buf_free(&url);
	if (fflush(stdout) != 0) {
		log_err("sync-link: writing output: %s", strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

/* ---- user-token upkeep ---- */

struct due {
	enum platform	 platform;
	char		*team, *user, *refresh;
	uint64_t	 person;
	int64_t		 refresh_expires;
};

struct due_list {
	struct due	*d;
	size_t		 n;
	time_t		 now;
};

static int
due_cb(const struct utoken *u, void *arg)
{
	struct due_list *dl = arg;
	struct due *d;

	if ((u->flags & UTOKEN_DEAD) || u->tok.refresh == NULL || u->tok.expires == 0 ||
	    u->tok.expires > (int64_t)dl->now + SERVE_REFRESH_AHEAD)
		return 0;
	dl->d = xrealloc(dl->d, (dl->n + 1) * sizeof(*dl->d));
	d = &dl->d[dl->n++];
	d->platform = u->platform;
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
serve_refresh_tokens(const struct config *cfg, struct store *st)
{
	struct due_list dl = { NULL, 0, ps_now() };
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
			r = oauth_refresh(cfg, d->platform, d->refresh, &tok, err, sizeof(err));
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
