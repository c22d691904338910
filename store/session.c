/*
 * session.c — the web's state between requests (include/store.h, "web sessions"): Sync now
 * sessions in kv space "session" (record codec in codec.c), their index by link in
 * "slink" (what bounds them per link and in total) and spent link nonces in "nonce".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linktoken.h"
#include "store_p.h"

_Static_assert(SESSION_NONCE_LEN == LINKTOKEN_NONCE_LEN, "a session keeps a link's nonce");

void
store_session_init(struct web_session *s)
{
	memset(s, 0, sizeof(*s));
	s->chosen_platform = -1;
}

void
store_session_free(struct web_session *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < PLAT_COUNT; i++) {
		free(s->p[i].team);
		free(s->p[i].user);
		free(s->p[i].signin_team);
	}
	free(s->chosen_team);
	explicit_bzero(s, sizeof(*s));
	s->chosen_platform = -1;
}

/* Decodes a stored session: 0, or -1 with s empty. */
static int
decode(const void *val, size_t vlen, struct web_session *s)
{
	store_session_init(s);
	if (codec_session_decode(val, vlen, s) == 0)
		return 0;
	store_session_free(s);
	return -1;
}

/* ---- the index "slink": key link nonce | session key, value the session's expiry ---- */

#define SLINK		"slink"
#define SLINK_KEY	(SESSION_NONCE_LEN + SESSION_KEY_LEN)

static void
slink_key(unsigned char k[SLINK_KEY], const unsigned char nonce[SESSION_NONCE_LEN],
    const unsigned char key[SESSION_KEY_LEN])
{
	memcpy(k, nonce, SESSION_NONCE_LEN);
	memcpy(k + SESSION_NONCE_LEN, key, SESSION_KEY_LEN);
}

/* Deletes a session and its index entry (either may be missing). 0 or -1. */
static int
session_del(struct txn *t, const unsigned char ik[SLINK_KEY])
{
	if (store_kv_del(t, STORE_KV_SESSION, ik + SESSION_NONCE_LEN, SESSION_KEY_LEN) < 0 ||
	    store_kv_del(t, SLINK, ik, SLINK_KEY) < 0)
		return -1;
	return 0;
}

int
store_session_get(struct txn *t, const unsigned char key[SESSION_KEY_LEN], time_t now,
    struct web_session *s)
{
	struct buf val = { 0 };
	int rc;

	store_session_init(s);
	rc = store_kv_get(t, STORE_KV_SESSION, key, SESSION_KEY_LEN, &val);
	if (rc == 0) {
		if (decode(val.p, val.len, s) < 0 || s->exp <= (int64_t)now) {
			store_session_free(s);
			rc = STORE_NOTFOUND;
		} else {
			memcpy(s->key, key, SESSION_KEY_LEN);
		}
	}
	if (val.p)
		explicit_bzero(val.p, val.len);
	buf_free(&val);
	return rc;
}

int
store_session_put(struct txn *t, const struct web_session *s)
{
	struct buf val = { 0 };
	int rc;

	unsigned char ik[SLINK_KEY];

	slink_key(ik, s->nonce, s->key);
	codec_session_encode(s, &val);
	rc = store_kv_put(t, STORE_KV_SESSION, s->key, SESSION_KEY_LEN, val.p, val.len);
	if (rc == 0)
		rc = store_kv_put(t, SLINK, ik, SLINK_KEY, &s->exp, sizeof(s->exp));
	explicit_bzero(val.p, val.len);
	buf_free(&val);
	return rc;
}

struct sweep {
	time_t		 now;
	size_t		 max;
	unsigned char	 (*keys)[SLINK_KEY];	/* index keys: nonce (zero if unreadable) | key */
	size_t		 n;
};

static int
sweep_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct sweep *sw = arg;
	struct web_session s;

	if (klen != SESSION_KEY_LEN)
		return 0;
	if (decode(val, vlen, &s) < 0 || s.exp <= (int64_t)sw->now)
		slink_key(sw->keys[sw->n++], s.nonce, key);
	store_session_free(&s);
	return sw->n >= sw->max ? 1 : 0;
}

int
store_session_sweep(struct txn *t, time_t now, size_t max)
{
	struct sweep sw = { now, max, NULL, 0 };
	int rc = 0;

	if (max == 0)
		return 0;
	sw.keys = xcalloc(max, SLINK_KEY);
	if (store_kv_each(t, STORE_KV_SESSION, sweep_cb, &sw) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < sw.n; i++)
		if (session_del(t, sw.keys[i]) < 0)
			rc = -1;
	free(sw.keys);
	return rc;
}

/* The index entries under a prefix: the live ones (key and expiry) and the expired ones. */
struct slink_scan {
	time_t		 now;
	size_t		 plen;
	unsigned char	 (*live)[SLINK_KEY];
	int64_t		*exp;
	size_t		 nlive, cap;
	unsigned char	 (*dead)[SLINK_KEY];
	size_t		 ndead, dcap;
};

static int
slink_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct slink_scan *sc = arg;
	int64_t exp = 0;

	if (k->mv_size != sc->plen + SLINK_KEY)
		return 0;
	if (v->mv_size == sizeof(exp))
		memcpy(&exp, v->mv_data, sizeof(exp));
	if (exp <= (int64_t)sc->now) {
		if (sc->ndead == sc->dcap) {
			sc->dcap = sc->dcap ? 2 * sc->dcap : 64;
			sc->dead = xrealloc(sc->dead, sc->dcap * SLINK_KEY);
		}
		memcpy(sc->dead[sc->ndead++], (char *)k->mv_data + sc->plen, SLINK_KEY);
		return 0;
	}
	if (sc->nlive == sc->cap) {
		sc->cap = sc->cap ? 2 * sc->cap : 64;
		sc->live = xrealloc(sc->live, sc->cap * SLINK_KEY);
		sc->exp = xrealloc(sc->exp, sc->cap * sizeof(*sc->exp));
	}
	memcpy(sc->live[sc->nlive], (char *)k->mv_data + sc->plen, SLINK_KEY);
	sc->exp[sc->nlive++] = exp;
	return 0;
}

/* Scans the index (one link's part when nonce is not NULL) and deletes the expired
 * sessions it finds. 0 or -1; sc freed by the caller (slink_scan_free). */
static int
slink_scan(struct txn *t, const unsigned char *nonce, time_t now, struct slink_scan *sc)
{
	unsigned char prefix[sizeof(SLINK) + SESSION_NONCE_LEN];
	int rc;

	memset(sc, 0, sizeof(*sc));
	sc->now = now;
	sc->plen = sizeof(SLINK);
	memcpy(prefix, SLINK, sizeof(SLINK));		/* the name and its NUL */
	if (nonce)
		memcpy(prefix + sizeof(SLINK), nonce, SESSION_NONCE_LEN);
	rc = st_each(t, DB_KV, prefix, nonce ? sizeof(prefix) : sizeof(SLINK), slink_cb, sc);
	for (size_t i = 0; rc == 0 && i < sc->ndead; i++)
		rc = session_del(t, sc->dead[i]);
	return rc;
}

static void
slink_scan_free(struct slink_scan *sc)
{
	free(sc->live);
	free(sc->exp);
	free(sc->dead);
}

int
store_session_admit(struct txn *t, const unsigned char nonce[SESSION_NONCE_LEN], time_t now,
    size_t per_link, size_t max)
{
	struct slink_scan sc;
	MDB_envinfo info;
	int rc;

	if ((rc = slink_scan(t, nonce, now, &sc)) == 0) {
		/* the link's oldest sessions make room for the new one */
		while (rc == 0 && per_link > 0 && sc.nlive >= per_link) {
			size_t old = 0;
			for (size_t i = 1; i < sc.nlive; i++)
				if (sc.exp[i] < sc.exp[old])
					old = i;
			rc = session_del(t, sc.live[old]);
			sc.nlive--;
			memcpy(sc.live[old], sc.live[sc.nlive], SLINK_KEY);
			sc.exp[old] = sc.exp[sc.nlive];
		}
	}
	slink_scan_free(&sc);
	if (rc == 0 && (rc = slink_scan(t, NULL, now, &sc)) == 0) {
		if (mdb_env_info(t->s->env, &info) == 0 && info.me_mapsize / SESSION_MAP_SHARE < max)
			max = info.me_mapsize / SESSION_MAP_SHARE;
		rc = sc.nlive >= max ? STORE_NOTFOUND : 0;
	}
	slink_scan_free(&sc);
	return rc;
}

int
store_nonce_spent(struct txn *t, const unsigned char nonce[SESSION_NONCE_LEN])
{
	struct buf val = { 0 };
	int rc;

	rc = store_kv_get(t, STORE_KV_NONCE, nonce, SESSION_NONCE_LEN, &val);
	buf_free(&val);
	return rc;
}

int
store_nonce_spend(struct txn *t, const unsigned char nonce[SESSION_NONCE_LEN],
    uint64_t person, int64_t at)
{
	struct buf rec = { 0 };
	int rc;

	buf_printf(&rec, "{\"person\":%llu,\"at\":%lld}", (unsigned long long)person,
	    (long long)at);
	rc = store_kv_put(t, STORE_KV_NONCE, nonce, SESSION_NONCE_LEN, rec.p, rec.len);
	buf_free(&rec);
	return rc;
}
