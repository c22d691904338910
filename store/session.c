/*
 * session.c — the web's state between requests (include/store.h, "web sessions"): Sync now
 * sessions in kv space "session" (record codec in codec.c) and spent link nonces in "nonce".
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

	codec_session_encode(s, &val);
	rc = store_kv_put(t, STORE_KV_SESSION, s->key, SESSION_KEY_LEN, val.p, val.len);
	explicit_bzero(val.p, val.len);
	buf_free(&val);
	return rc;
}

struct sweep {
	time_t		 now;
	size_t		 max;
	unsigned char	 (*keys)[SESSION_KEY_LEN];
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
		memcpy(sw->keys[sw->n++], key, SESSION_KEY_LEN);
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
	sw.keys = xcalloc(max, SESSION_KEY_LEN);
	if (store_kv_each(t, STORE_KV_SESSION, sweep_cb, &sw) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < sw.n; i++)
		if (store_kv_del(t, STORE_KV_SESSION, sw.keys[i], SESSION_KEY_LEN) < 0)
			rc = -1;
	free(sw.keys);
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
