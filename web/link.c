/*
 * link.c — GET /s/<token>: the signed Sync now link is checked (signature, expiry, spent,
 * the person still active), then a session starts (or the same browser's resumes).
 */
#include <stdio.h>
#include <string.h>

#include "linktoken.h"
#include "web_p.h"

/* What a verified token's person allows: WO_OK (go on), or the outcome that ends here. */
static enum web_outcome
link_person(struct server *sv, struct txn *t, uint64_t pid,
    const unsigned char nonce[LINKTOKEN_NONCE_LEN], struct reply *rp)
{
	struct person p;
	int rc;

	memset(&p, 0, sizeof(p));
	rc = store_nonce_spent(t, nonce);
	if (rc == 0) {
		snprintf(rp->note, sizeof(rp->note), "link already used (person %llu)",
		    (unsigned long long)pid);
		return WO_LINK_USED;
	}
	if (rc == STORE_NOTFOUND)
		rc = store_person_get(t, pid, &p);
	if (rc < 0)
		return store_fail(sv, rp, "read person");
	rc = rc == STORE_NOTFOUND || !p.active;
	person_free(&p);
	if (rc) {
		snprintf(rp->note, sizeof(rp->note), "person %llu gone or inactive",
		    (unsigned long long)pid);
		return WO_PERSON_GONE;
	}
	return WO_OK;
}

/* 1 when the browser's cookie names an open session of this same link (txn t). */
static int
same_session(struct MHD_Connection *conn, struct txn *t, uint64_t pid,
    const unsigned char nonce[LINKTOKEN_NONCE_LEN], time_t now)
{
	unsigned char key[SESSION_KEY_LEN];
	struct web_session old;
	int same;

	if (cookie_key(conn, key) < 0)
		return 0;
	same = store_session_get(t, key, now, &old) == 0 && old.person == pid &&
	    memcmp(old.nonce, nonce, LINKTOKEN_NONCE_LEN) == 0 && !old.done;
	store_session_free(&old);
	return same;
}

enum web_outcome
h_link(struct server *sv, struct MHD_Connection *conn, const char *token, struct reply *rp)
{
	unsigned char nonce[LINKTOKEN_NONCE_LEN];
	struct txn *t;
	time_t now = ps_now(), expires = 0;
	uint64_t pid = 0;
	enum web_outcome o;
	int st;

	st = linktoken_verify(sv->cfg, token, now, &pid, &expires, nonce);
	snprintf(rp->note, sizeof(rp->note), "link %s", linktoken_status_name(st));
	if (st == LT_MALFORMED)
		return WO_LINK_MALFORMED;
	if (st == LT_BADSIG || st == LT_NOKEY)
		return WO_LINK_FORGED;
	if (st == LT_EXPIRED)
		return WO_LINK_EXPIRED;
	if ((t = store_begin(sv->st, 0)) == NULL)
		return store_fail(sv, rp, "begin read");
	o = link_person(sv, t, pid, nonce, rp);
	/* the same browser opening the same link again continues its session */
	if (o == WO_OK && same_session(conn, t, pid, nonce, now)) {
		store_abort(t);
		snprintf(rp->note, sizeof(rp->note), "session resumed (person %llu)",
		    (unsigned long long)pid);
		return WO_TO_SYNC;
	}
	store_abort(t);
	if (o != WO_OK)
		return o;
	o = sess_start(sv, rp, pid, nonce, expires, now);
	if (o == WO_TO_SYNC)
		snprintf(rp->note, sizeof(rp->note), "session started (person %llu)",
		    (unsigned long long)pid);
	return o;
}
