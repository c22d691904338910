/*
 * sessions.c — Sync now sessions on the web side: the cookie (a random id; the store keeps
 * only its SHA-256), loading a request's session, starting one for a verified link (a few
 * per link, a bounded number in all), and the write transactions of the server's threads
 * (one at a time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "oauth.h"
#include "web_p.h"

#define COOKIE_NAME	"ps_session"
#define SID_LEN		43		/* 32 random bytes, base64url */
#define SESSION_TTL	3600		/* seconds a Sync now session lives */
#define SWEEP_EVERY	600		/* seconds between sweeps of expired sessions */
#define SWEEP_MAX	1000		/* sessions deleted per sweep at most */
#define PER_LINK	4		/* sessions of one link (browsers, previewers) at most */
#define SESSIONS_MAX	10000		/* sessions in all at most (less in a small map) */

_Static_assert(OAUTH_STATE_LEN <= SESSION_SECRET_LEN && OAUTH_VERIFIER_LEN <= SESSION_SECRET_LEN,
    "a session holds an OAuth state and a PKCE verifier");

void
sha256(const void *data, size_t n, unsigned char out[SESSION_KEY_LEN])
{
	unsigned int len = SESSION_KEY_LEN;

	if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1) {
		fputs("peoplesync: SHA-256 failed\n", stderr);
		abort();
	}
}

int
secret_eq(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n > 0 && n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

int
cookie_key(struct MHD_Connection *conn, unsigned char key[SESSION_KEY_LEN])
{
	return cookie_key_named(conn, COOKIE_NAME, key);
}

int
cookie_key_named(struct MHD_Connection *conn, const char *name,
    unsigned char key[SESSION_KEY_LEN])
{
	const char *sid = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, name);

	if (sid == NULL || strlen(sid) != SID_LEN || strspn(sid, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_") != SID_LEN)
		return -1;
	sha256(sid, SID_LEN, key);
	return 0;
}

enum web_outcome
sess_load(struct server *sv, struct MHD_Connection *conn, struct reply *rp,
    struct web_session *s)
{
	unsigned char key[SESSION_KEY_LEN];
	struct txn *t;
	int rc;

	store_session_init(s);
	if (cookie_key(conn, key) == 0) {
		if ((t = store_begin(sv->st, 0)) == NULL)
			return store_fail(sv, rp, "begin read");
		rc = store_session_get(t, key, ps_now(), s);
		store_abort(t);
		if (rc < 0)
			return store_fail(sv, rp, "read session");
		if (rc == 0 && sess_link_live(s, rp) == WO_OK)
			return WO_OK;
		if (rc == 0) {
			store_session_free(s);
			return WO_LINK_EXPIRED;
		}
	}
	snprintf(rp->note, sizeof(rp->note), "no session");
	return WO_NO_SESSION;
}

enum web_outcome
sess_link_live(const struct web_session *s, struct reply *rp)
{
	if (s->done || s->link_exp > (int64_t)ps_now())
		return WO_OK;
	snprintf(rp->note, sizeof(rp->note), "link expired during the session (person %llu)",
	    (unsigned long long)s->person);
	return WO_LINK_EXPIRED;
}

struct txn *
begin_write(struct server *sv)
{
	struct txn *t;

	pthread_mutex_lock(&sv->wmu);
	t = store_begin(sv->st, 1);
	if (t == NULL)
		pthread_mutex_unlock(&sv->wmu);
	return t;
}

int
end_write(struct server *sv, struct txn *t, int commit)
{
	int rc = 0;

	if (commit)
		rc = store_commit(t);
	else
		store_abort(t);
	pthread_mutex_unlock(&sv->wmu);
	return rc;
}

int
sess_update(struct server *sv, const unsigned char key[SESSION_KEY_LEN],
    int (*edit)(struct web_session *cur, void *arg), void *arg)
{
	struct web_session cur;
	struct txn *t;
	int rc;

	if ((t = begin_write(sv)) == NULL)
		return -1;
	rc = store_session_get(t, key, ps_now(), &cur);
	if (rc == 0 && edit(&cur, arg) != 0)
		rc = STORE_NOTFOUND;
	if (rc == 0)
		rc = store_session_put(t, &cur);
	store_session_free(&cur);
	if (rc != 0) {
		end_write(sv, t, 0);
		return rc;
	}
	return end_write(sv, t, 1) < 0 ? -1 : 0;
}

/* Deletes expired sessions now and then (in the caller's write txn). 0 or -1. */
static int
sweep(struct server *sv, struct txn *t, time_t now)
{
	if (now - sv->last_sweep < SWEEP_EVERY)
		return 0;
	sv->last_sweep = now;
	return store_session_sweep(t, now, SWEEP_MAX);
}

enum web_outcome
sess_start(struct server *sv, struct reply *rp, uint64_t person,
    const unsigned char nonce[SESSION_NONCE_LEN], time_t link_expires, time_t now)
{
	struct web_session s;
	struct txn *t;
	char sid[SID_LEN + 1];
	enum web_outcome o = WO_TO_SYNC;
	int rc;

	store_session_init(&s);
	oauth_random_string(sid, SID_LEN);
	sha256(sid, SID_LEN, s.key);
	s.person = person;
	memcpy(s.nonce, nonce, SESSION_NONCE_LEN);
	s.link_exp = (int64_t)link_expires;
	s.exp = (int64_t)now + SESSION_TTL;
	oauth_random_string(s.csrf, SESSION_SECRET_LEN);
	if ((t = begin_write(sv)) == NULL) {
		o = store_fail(sv, rp, "begin write");
		goto out;
	}
	rc = store_session_admit(t, nonce, now, PER_LINK, SESSIONS_MAX);
	if (rc == STORE_NOTFOUND) {
		end_write(sv, t, 1);	/* the expired sessions it deleted */
		snprintf(rp->note, sizeof(rp->note), "too many sessions (person %llu)",
		    (unsigned long long)person);
		o = WO_BUSY;
		goto out;
	}
	if (rc < 0 || store_session_put(t, &s) < 0 || sweep(sv, t, now) < 0) {
		o = store_fail(sv, rp, "write session");
		end_write(sv, t, 0);
		goto out;
	}
	if (end_write(sv, t, 1) < 0) {
		o = store_fail(sv, rp, "commit session");
		goto out;
	}
	rp->cookie = xasprintf("%s=%s; Path=%s; Max-Age=%d; HttpOnly; SameSite=Lax%s",
	    COOKIE_NAME, sid, sv->prefix[0] ? sv->prefix : "/", SESSION_TTL,
	    sv->secure ? "; Secure" : "");
out:
	explicit_bzero(sid, sizeof(sid));
	store_session_free(&s);
	return o;
}
