/*
 * kv.c — the key-value spaces of the kv sub-database (key: space name, NUL, key bytes), and
 * the typed access to the spaces the engine uses: DM channels, re-consent marks, user tokens.
 */
#include <stdio.h>
#include <string.h>

#include "store_p.h"

/* The kv key of (space, key); -1 when the key or the space name is too long. */
static int
kv_key(struct buf *k, MDB_val *kk, const char *space, const void *key, size_t klen)
{
	buf_reset(k);
	if (klen > 400 || strlen(space) > 32)
		return -1;
	buf_adds(k, space);
	buf_addc(k, '\0');
	buf_add(k, key, klen);
	*kk = val_of(k->p, k->len);
	return 0;
}

int
store_kv_get(struct txn *t, const char *space, const void *key, size_t klen, struct buf *out)
{
	struct buf k = { 0 };
	MDB_val kk;
	int rc = STORE_NOTFOUND;

	if (kv_key(&k, &kk, space, key, klen) == 0)
		rc = st_get_into(t, DB_KV, &kk, out, space);
	buf_free(&k);
	return rc;
}

int
store_kv_put(struct txn *t, const char *space, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct buf k = { 0 };
	MDB_val kk, v = val_of(val, vlen);
	int rc;

	if (kv_key(&k, &kk, space, key, klen) < 0) {
		buf_free(&k);
		return st_failf(t->s, "%s: key too long", space);
	}
	rc = mdb_put(t->txn, t->s->dbi[DB_KV], &kk, &v, 0);
	buf_free(&k);
	return rc ? st_fail(t->s, space, rc) : 0;
}

int
store_kv_del(struct txn *t, const char *space, const void *key, size_t klen)
{
	struct buf k = { 0 };
	MDB_val kk;
	int rc = 0;

	if (kv_key(&k, &kk, space, key, klen) == 0)
		rc = mdb_del(t->txn, t->s->dbi[DB_KV], &kk, NULL);
	buf_free(&k);
	return rc && rc != MDB_NOTFOUND ? st_fail(t->s, space, rc) : 0;
}

struct kv_each {
	size_t		 plen;
	store_kv_cb	 cb;
	void		*arg;
};

static int
kv_each_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct kv_each *e = arg;

	return e->cb((char *)k->mv_data + e->plen, k->mv_size - e->plen, v->mv_data, v->mv_size,
	    e->arg);
}

int
store_kv_each(struct txn *t, const char *space, store_kv_cb cb, void *arg)
{
	struct buf prefix = { 0 };
	struct kv_each e = { strlen(space) + 1, cb, arg };
	int rc;

	buf_adds(&prefix, space);
	buf_addc(&prefix, '\0');
	rc = st_each(t, DB_KV, prefix.p, prefix.len, kv_each_cb, &e);
	buf_free(&prefix);
	return rc;
}

/* ---- "dm": DM channels ---- */

/* Writes channel (when not NULL) or reads it into out. The key is "platform number|team|user",
 * as the outbox sender has always written it. */
static int
dm_channel(struct txn *t, enum platform p, const char *team, const char *user,
    struct buf *out, const char *channel)
{
	struct buf key = { 0 };
	int rc;

	buf_printf(&key, "%d|%s|%s", (int)p, team ? team : "", user ? user : "");
	if (channel)
		rc = store_kv_put(t, STORE_KV_DM, key.p, key.len, channel, strlen(channel));
	else
		rc = store_kv_get(t, STORE_KV_DM, key.p, key.len, out);
	buf_free(&key);
	return rc;
}

int
store_dm_channel_get(struct txn *t, enum platform p, const char *team, const char *user,
    struct buf *out)
{
	return dm_channel(t, p, team, user, out, NULL);
}

int
store_dm_channel_put(struct txn *t, enum platform p, const char *team, const char *user,
    const char *channel)
{
	return dm_channel(t, p, team, user, NULL, channel);
}

/* ---- "reauth": re-consent marks ---- */

/* The key is the person id's bytes in host order, as it has always been written. */
int
store_reauth_get(struct txn *t, uint64_t person_id)
{
	struct buf seen = { 0 };
	int rc = store_kv_get(t, STORE_KV_REAUTH, &person_id, sizeof(person_id), &seen);

	buf_free(&seen);
	return rc;
}

int
store_reauth_put(struct txn *t, uint64_t person_id)
{
	return store_kv_put(t, STORE_KV_REAUTH, &person_id, sizeof(person_id), "1", 1);
}

/* ---- "utoken": encrypted user tokens ---- */

int
store_utoken_get(struct txn *t, const void *key, size_t klen, struct buf *out)
{
	return store_kv_get(t, STORE_KV_UTOKEN, key, klen, out);
}

int
store_utoken_put(struct txn *t, const void *key, size_t klen, const void *val, size_t vlen)
{
	return store_kv_put(t, STORE_KV_UTOKEN, key, klen, val, vlen);
}

int
store_utoken_each(struct txn *t, store_kv_cb cb, void *arg)
{
	return store_kv_each(t, STORE_KV_UTOKEN, cb, arg);
}
