/*
 * store.c — the LMDB environment behind include/store.h. The only file that includes lmdb.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "store.h"
#include "store_p.h"

enum { DB_META, DB_ACCOUNTS, DB_PEOPLE, DB_EMAILS, DB_PACCT, DB_HISTORY, DB_TEAMS,
	DB_STAGE_SLACK, DB_STAGE_TEAMS, DB_STAGE_WEBEX, DB_KV, DB_OUTBOX, DB_OUTQ, DB_COUNT };

static const char *db_names[DB_COUNT] = {
	"meta", "accounts", "people", "emails", "pacct", "history", "teams",
	"stage.slack", "stage.teams", "stage.webex", "kv", "outbox", "outq"
};

#define KEY_MAX		480		/* under LMDB's default 511-byte key limit */

struct store {
	MDB_env		*env;
	MDB_dbi		 dbi[DB_COUNT];
	char		*path;
	int		 readonly;
	char		 err[512];
};

struct txn {
	struct store	*s;
	MDB_txn		*txn;
	int		 write;
	uint64_t	 writes;	/* record versions written in this txn */
	uint64_t	 last_person;	/* cached id counter, saved at commit */
	int		 person_loaded;
	int		 person_dirty;
};

static int
fail(struct store *s, const char *what, int rc)
{
	snprintf(s->err, sizeof(s->err), "%s: %s: %s", s->path, what, mdb_strerror(rc));
	return -1;
}

const char *
store_error(struct store *s)
{
	return s->err;
}

const char *
store_path(struct store *s)
{
	return s->path;
}

/* Account key: platform byte, team id, NUL, user id. */
static int
account_key(struct buf *k, enum platform p, const char *team, const char *user)
{
	size_t tl = strlen(team), ul = strlen(user);

	buf_reset(k);
	if (tl + ul + 2 > KEY_MAX || memchr(team, 0, tl) || tl == 0 || ul == 0)
		return -1;
	buf_addc(k, (char)('0' + p));
	buf_add(k, team, tl);
	buf_addc(k, '\0');
	buf_add(k, user, ul);
	return 0;
}

static MDB_val
val_of(const void *p, size_t n)
{
	MDB_val v = { n, (void *)p };
	return v;
}

/* ---- open / close ---- */

struct store *
store_open(const char *dir, size_t map_mb, int readonly, char *err, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof(*s));
	MDB_txn *txn = NULL;
	MDB_val k, v;
	unsigned flags;
	int rc, i;

	s->path = xstrdup(dir);
	s->readonly = readonly;
	if (!readonly && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot create database directory: %s", dir,
		    strerror(errno));
		goto fail;
	}
	if (readonly && access(dir, F_OK) < 0) {
		snprintf(err, errlen, "%s: no database here (%s); run 'peoplesync reconcile' first",
		    dir, strerror(errno));
		goto fail;
	}
	if ((rc = mdb_env_create(&s->env)) != 0) {
		snprintf(err, errlen, "%s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	mdb_env_set_maxdbs(s->env, DB_COUNT + 4);
	mdb_env_set_maxreaders(s->env, 126);
	mdb_env_set_mapsize(s->env, (size_t)(map_mb ? map_mb : 4096) << 20);
	/*
	 * MDB_NOTLS: read txns are not tied to threads (serve hands them around).
	 * MDB_NOMETASYNC: each commit syncs data pages but not the meta page; a crash of the
	 * machine may undo the last commit, never corrupt. Runs call store_sync() at the points
	 * that must be durable (end of run, prompt state before a send).
	 */
	flags = MDB_NOTLS | MDB_NOMETASYNC | (readonly ? MDB_RDONLY : 0);
	if ((rc = mdb_env_open(s->env, dir, flags, 0600)) != 0) {
		snprintf(err, errlen, "%s: cannot open database: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, readonly ? MDB_RDONLY : 0, &txn)) != 0) {
		snprintf(err, errlen, "%s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	for (i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, db_names[i], readonly ? 0 : MDB_CREATE, &s->dbi[i]);
		if (rc == MDB_NOTFOUND) {
			snprintf(err, errlen, "%s: not a peoplesync database (no '%s'); run "
			    "'peoplesync reconcile' first", dir, db_names[i]);
			goto fail;
		}
		if (rc != 0) {
			snprintf(err, errlen, "%s: sub-database %s: %s", dir, db_names[i],
			    mdb_strerror(rc));
			goto fail;
		}
	}
	k = val_of("schema", 6);
	rc = mdb_get(txn, s->dbi[DB_META], &k, &v);
	if (rc == 0) {
		uint64_t schema = v.mv_size == 8 ? get_be64(v.mv_data) : UINT64_MAX;
		if (schema > STORE_SCHEMA) {
			snprintf(err, errlen, "%s: database schema %llu is newer than this "
			    "peoplesync understands (%d): upgrade peoplesync", dir,
			    (unsigned long long)schema, STORE_SCHEMA);
			goto fail;
		}
	} else if (rc == MDB_NOTFOUND && !readonly) {
		unsigned char b[8];
		put_be64(b, STORE_SCHEMA);
		v = val_of(b, 8);
		if ((rc = mdb_put(txn, s->dbi[DB_META], &k, &v, 0)) != 0) {
			snprintf(err, errlen, "%s: writing schema: %s", dir, mdb_strerror(rc));
			goto fail;
		}
	} else if (rc != MDB_NOTFOUND) {
		snprintf(err, errlen, "%s: reading schema: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	/* committed even when read-only: an aborted txn would close the dbi handles */
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	return s;
fail:
	if (txn)
		mdb_txn_abort(txn);
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->env)
		mdb_env_close(s->env);
	free(s->path);
	free(s);
}

int
store_sync(struct store *s)
{
	int rc;

	if (s->readonly)
		return 0;
	if ((rc = mdb_env_sync(s->env, 1)) != 0)
		return fail(s, "sync", rc);
	return 0;
}

/* ---- transactions ---- */

struct txn *
store_begin(struct store *s, int write)
{
	struct txn *t;
	MDB_txn *txn;
	int rc;

	if (write && s->readonly) {
		snprintf(s->err, sizeof(s->err), "%s: opened read-only", s->path);
		return NULL;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &txn)) != 0) {
		fail(s, "begin transaction", rc);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->s = s;
	t->txn = txn;
	t->write = write;
	return t;
}

static int
meta_add_u64(struct txn *t, const char *key, uint64_t add)
{
	MDB_val k = val_of(key, strlen(key)), v;
	unsigned char b[8];
	uint64_t cur = 0;
	int rc;

	rc = mdb_get(t->txn, t->s->dbi[DB_META], &k, &v);
	if (rc == 0 && v.mv_size == 8)
		cur = get_be64(v.mv_data);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return fail(t->s, key, rc);
	put_be64(b, cur + add);
	v = val_of(b, 8);
	if ((rc = mdb_put(t->txn, t->s->dbi[DB_META], &k, &v, 0)) != 0)
		return fail(t->s, key, rc);
	return 0;
}

static int
meta_put_u64(struct txn *t, const char *key, uint64_t v)
{
	MDB_val k = val_of(key, strlen(key)), val;
	unsigned char b[8];
	int rc;

	put_be64(b, v);
	val = val_of(b, 8);
	if ((rc = mdb_put(t->txn, t->s->dbi[DB_META], &k, &val, 0)) != 0)
		return fail(t->s, key, rc);
	return 0;
}

int
store_commit(struct txn *t)
{
	int rc;

	if (t->write && ((t->writes && meta_add_u64(t, "record_writes", t->writes) < 0) ||
	    (t->person_dirty && meta_put_u64(t, "last_person_id", t->last_person) < 0))) {
		mdb_txn_abort(t->txn);
		free(t);
		return -1;
	}
	rc = mdb_txn_commit(t->txn);
	if (rc != 0)
		fail(t->s, "commit", rc);
	free(t);
	return rc ? -1 : 0;
}

void
store_abort(struct txn *t)
{
	if (t == NULL)
		return;
	mdb_txn_abort(t->txn);
	free(t);
}

/* ---- accounts ---- */

static int
get_account_by_key(struct txn *t, int dbi, const struct buf *key, struct account *out)
{
	MDB_val k = val_of(key->p, key->len), v;
	int rc;

	rc = mdb_get(t->txn, t->s->dbi[dbi], &k, &v);
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc != 0)
		return fail(t->s, "read account", rc);
	if (codec_account_decode(v.mv_data, v.mv_size, out) < 0) {
		snprintf(t->s->err, sizeof(t->s->err), "%s: %s: undecodable account record",
		    t->s->path, db_names[dbi]);
		return -1;
	}
	return 0;
}

int
store_account_get(struct txn *t, enum platform p, const char *team, const char *user,
    struct account *out)
{
	struct buf key = { 0 };
	int rc;

	if (account_key(&key, p, team, user) < 0) {
		buf_free(&key);
		return STORE_NOTFOUND;
	}
	rc = get_account_by_key(t, DB_ACCOUNTS, &key, out);
	buf_free(&key);
	return rc;
}

static int
pacct_key(struct buf *pk, uint64_t person, const struct buf *akey)
{
	unsigned char b[8];

	put_be64(b, person);
	buf_reset(pk);
	buf_add(pk, b, 8);
	buf_add(pk, akey->p, akey->len);
	return 0;
}

int
store_account_put(struct txn *t, struct account *a, uint64_t old_person)
{
	struct buf key = { 0 }, val = { 0 }, pk = { 0 };
	MDB_val k, v;
	int rc, ret = -1;

	if (account_key(&key, a->platform, a->team_id, a->user_id) < 0) {
		snprintf(t->s->err, sizeof(t->s->err), "%s: account id too long or empty: %s:%s",
		    t->s->path, platform_name(a->platform), a->user_id);
		goto out;
	}
	a->version++;
	codec_account_encode(a, &val);
	k = val_of(key.p, key.len);
	v = val_of(val.p, val.len);
	if ((rc = mdb_put(t->txn, t->s->dbi[DB_ACCOUNTS], &k, &v, 0)) != 0) {
		fail(t->s, "write account", rc);
		goto out;
	}
	t->writes++;
	if (old_person != a->person_id && old_person != 0) {
		pacct_key(&pk, old_person, &key);
		k = val_of(pk.p, pk.len);
		rc = mdb_del(t->txn, t->s->dbi[DB_PACCT], &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND) {
			fail(t->s, "unlink account", rc);
			goto out;
		}
	}
	if (a->person_id != 0 && old_person != a->person_id) {
		pacct_key(&pk, a->person_id, &key);
		k = val_of(pk.p, pk.len);
		v = val_of("", 0);
		if ((rc = mdb_put(t->txn, t->s->dbi[DB_PACCT], &k, &v, 0)) != 0) {
			fail(t->s, "link account", rc);
			goto out;
		}
	}
	ret = 0;
out:
	buf_free(&key);
	buf_free(&val);
	buf_free(&pk);
	return ret;
}

/* Iterates a sub-database from the first key with the given prefix (all when plen == 0). */
static int
each_prefix(struct txn *t, int dbi, const void *prefix, size_t plen,
    int (*cb)(MDB_val *k, MDB_val *v, void *arg), void *arg)
{
	MDB_cursor *c;
	MDB_val k = val_of(prefix, plen), v;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[dbi], &c)) != 0)
		return fail(t->s, "cursor", rc);
	rc = plen ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if ((r = cb(&k, &v, arg)) != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return fail(t->s, db_names[dbi], rc);
	return r < 0 ? -1 : 0;
}

struct acct_each {
	struct txn		*t;
	store_account_cb	 cb;
	void			*arg;
};

static int
acct_each_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct acct_each *e = arg;
	struct account a;
	int r;

	(void)k;
	if (codec_account_decode(v->mv_data, v->mv_size, &a) < 0) {
		snprintf(e->t->s->err, sizeof(e->t->s->err), "%s: undecodable account record",
		    e->t->s->path);
		return -1;
	}
	r = e->cb(&a, e->arg);
	account_free(&a);
	return r;
}

int
store_account_each(struct txn *t, int p, store_account_cb cb, void *arg)
{
	struct acct_each e = { t, cb, arg };
	char prefix = (char)('0' + p);

	return each_prefix(t, DB_ACCOUNTS, &prefix, p < 0 ? 0 : 1, acct_each_cb, &e);
}

/* ---- staging ---- */

static int
stage_dbi(enum platform p)
{
	return DB_STAGE_SLACK + (int)p;
}

int
store_stage_clear(struct txn *t, enum platform p)
{
	int rc = mdb_drop(t->txn, t->s->dbi[stage_dbi(p)], 0);

	return rc ? fail(t->s, "clear staging", rc) : 0;
}

int
store_stage_put(struct txn *t, const struct account *a)
{
	struct buf key = { 0 }, val = { 0 };
	MDB_val k, v;
	int rc, ret = -1;

	if (account_key(&key, a->platform, a->team_id, a->user_id) < 0) {
		snprintf(t->s->err, sizeof(t->s->err), "%s: account id too long or empty (%s)",
		    platform_name(a->platform), a->user_id ? a->user_id : "");
		goto out;
	}
	codec_account_encode(a, &val);
	k = val_of(key.p, key.len);
	v = val_of(val.p, val.len);
	if ((rc = mdb_put(t->txn, t->s->dbi[stage_dbi(a->platform)], &k, &v, 0)) != 0) {
		fail(t->s, "stage account", rc);
		goto out;
	}
	ret = 0;
out:
	buf_free(&key);
	buf_free(&val);
	return ret;
}

struct stage_item {
	size_t	koff, klen, voff, vlen;
};

struct stage_batch {
	struct store		*s;
	enum platform		 p;
	size_t			 limit;
	struct buf		 arena;		/* keys and values, back to back */
	struct stage_item	*items;
	size_t			 n;
};

struct stage_batch *
store_stage_batch_new(struct store *s, enum platform p, size_t limit)
{
	struct stage_batch *b = xcalloc(1, sizeof(*b));

	b->s = s;
	b->p = p;
	b->limit = limit ? limit : 1;
	b->items = xcalloc(b->limit, sizeof(*b->items));
	return b;
}

void
store_stage_batch_free(struct stage_batch *b)
{
	if (b == NULL)
		return;
	buf_free(&b->arena);
	free(b->items);
	free(b);
}

int
store_stage_add(struct stage_batch *b, const struct account *a)
{
	struct stage_item *it;
	struct buf key = { 0 };
	size_t before;

	if (account_key(&key, a->platform, a->team_id, a->user_id) < 0) {
		snprintf(b->s->err, sizeof(b->s->err), "%s: account id too long or empty (%s)",
		    platform_name(a->platform), a->user_id ? a->user_id : "");
		buf_free(&key);
		return -1;
	}
	it = &b->items[b->n++];
	it->koff = b->arena.len;
	it->klen = key.len;
	buf_add(&b->arena, key.p, key.len);
	buf_free(&key);
	before = b->arena.len;
	codec_account_encode(a, &b->arena);
	it->voff = before;
	it->vlen = b->arena.len - before;
	if (b->n == b->limit)
		return store_stage_flush(b);
	return 0;
}

static int cmp_keys(const MDB_val *a, const MDB_val *b);

static int
stage_item_cmp(const void *x, const void *y, void *base)
{
	const struct stage_item *a = x, *b = y;
	MDB_val ka = { a->klen, (char *)base + a->koff };
	MDB_val kb = { b->klen, (char *)base + b->koff };

	return cmp_keys(&ka, &kb);
}

int
store_stage_flush(struct stage_batch *b)
{
	struct txn *t;
	MDB_cursor *c = NULL;
	size_t i;
	int rc;

	if (b->n == 0)
		return 0;
	/* sorted, so the inserts walk the tree in order */
	qsort_r(b->items, b->n, sizeof(*b->items), stage_item_cmp, b->arena.p);
	if ((t = store_begin(b->s, 1)) == NULL)
		return -1;
	if ((rc = mdb_cursor_open(t->txn, b->s->dbi[stage_dbi(b->p)], &c)) != 0)
		goto fail;
	for (i = 0; i < b->n; i++) {
		MDB_val k = { b->items[i].klen, b->arena.p + b->items[i].koff };
		MDB_val v = { b->items[i].vlen, b->arena.p + b->items[i].voff };
		if ((rc = mdb_cursor_put(c, &k, &v, 0)) != 0)
			goto fail;
	}
	mdb_cursor_close(c);
	b->n = 0;
	buf_reset(&b->arena);
	return store_commit(t);
fail:
	if (c)
		mdb_cursor_close(c);
	store_abort(t);
	return fail(b->s, "stage accounts", rc);
}

int
store_stage_count(struct txn *t, enum platform p, size_t *n)
{
	MDB_stat st;
	int rc = mdb_stat(t->txn, t->s->dbi[stage_dbi(p)], &st);

	if (rc)
		return fail(t->s, "stat staging", rc);
	*n = st.ms_entries;
	return 0;
}

static int
cmp_keys(const MDB_val *a, const MDB_val *b)
{
	size_t n = a->mv_size < b->mv_size ? a->mv_size : b->mv_size;
	int c = memcmp(a->mv_data, b->mv_data, n);

	if (c)
		return c;
	return a->mv_size < b->mv_size ? -1 : a->mv_size > b->mv_size;
}

/*
 * Positions cursor c at the first key > last (or >= prefix when last is empty) and within
 * the platform prefix; returns 0 with k/v set, MDB_NOTFOUND at the end.
 */
static int
seek_after(MDB_cursor *c, const struct buf *last, char prefix, MDB_val *k, MDB_val *v)
{
	int rc;

	if (last->len) {
		*k = val_of(last->p, last->len);
		rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
		if (rc == 0 && k->mv_size == last->len && memcmp(k->mv_data, last->p, last->len) == 0)
			rc = mdb_cursor_get(c, k, v, MDB_NEXT);
	} else {
		*k = val_of(&prefix, 1);
		rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
	}
	if (rc == 0 && (k->mv_size < 1 || ((char *)k->mv_data)[0] != prefix))
		rc = MDB_NOTFOUND;
	return rc;
}

int
store_stage_merge(struct store *s, enum platform p, int full, size_t batch, int write,
    store_merge_cb cb, void *arg)
{
	struct buf last = { 0 };
	struct txn *t = NULL;
	MDB_cursor *cs = NULL, *ca = NULL;
	MDB_val ks, vs, ka, va;
	char prefix = (char)('0' + p);
	int rcs, rca, rc, ret = -1;
	size_t done;

	for (;;) {
		done = 0;
		if ((t = store_begin(s, write)) == NULL)
			goto out;
		if (!write)
			batch = 0;
		if ((rc = mdb_cursor_open(t->txn, s->dbi[stage_dbi(p)], &cs)) != 0 ||
		    (rc = mdb_cursor_open(t->txn, s->dbi[DB_ACCOUNTS], &ca)) != 0) {
			fail(s, "cursor", rc);
			goto out;
		}
		rcs = seek_after(cs, &last, prefix, &ks, &vs);
		rca = full ? seek_after(ca, &last, prefix, &ka, &va) : MDB_NOTFOUND;
		for (;;) {
			struct account st, sd;
			int have_s = 0, have_d = 0, c, r;

			if (rcs != 0 && rcs != MDB_NOTFOUND) {
				fail(s, "read staging", rcs);
				goto out;
			}
			if (rca != 0 && rca != MDB_NOTFOUND) {
				fail(s, "read accounts", rca);
				goto out;
			}
			if (rcs == MDB_NOTFOUND && rca == MDB_NOTFOUND)
				break;
			if (batch && done >= batch)
				break;
			if (rcs == 0 && rca == 0)
				c = cmp_keys(&ks, &ka);
			else
				c = rcs == 0 ? -1 : 1;
			buf_reset(&last);
			if (c <= 0) {
				buf_add(&last, ks.mv_data, ks.mv_size);
				if (codec_account_decode(vs.mv_data, vs.mv_size, &st) < 0)
					goto undecodable;
				have_s = 1;
			} else {
				buf_add(&last, ka.mv_data, ka.mv_size);
			}
			if (c >= 0 && rca == 0) {
				if (codec_account_decode(va.mv_data, va.mv_size, &sd) < 0) {
					if (have_s)
						account_free(&st);
					goto undecodable;
				}
				have_d = 1;
			} else if (!full && have_s) {
				struct buf key = { 0 };
				buf_add(&key, ks.mv_data, ks.mv_size);
				r = get_account_by_key(t, DB_ACCOUNTS, &key, &sd);
				buf_free(&key);
				if (r < 0) {
					account_free(&st);
					goto out;
				}
				have_d = r == 0;
			}
			r = cb(t, have_s ? &st : NULL, have_d ? &sd : NULL, arg);
			if (have_s)
				account_free(&st);
			if (have_d)
				account_free(&sd);
			if (r != 0)
				goto out;
			done++;
			/* The callback may have written to accounts: re-seek rather than trust
			 * the cursor's position. */
			if (c <= 0)
				rcs = mdb_cursor_get(cs, &ks, &vs, MDB_NEXT);
			if (rcs == 0 && (ks.mv_size < 1 || ((char *)ks.mv_data)[0] != prefix))
				rcs = MDB_NOTFOUND;
			if (full)
				rca = seek_after(ca, &last, prefix, &ka, &va);
		}
		mdb_cursor_close(cs);
		mdb_cursor_close(ca);
		cs = ca = NULL;
		if (!write) {
			store_abort(t);
			t = NULL;
			break;
		}
		if (store_commit(t) < 0) {
			t = NULL;
			goto out;
		}
		t = NULL;
		if (rcs == MDB_NOTFOUND && rca == MDB_NOTFOUND)
			break;
	}
	ret = 0;
	goto out;
undecodable:
	snprintf(s->err, sizeof(s->err), "%s: undecodable account record", s->path);
out:
	if (cs)
		mdb_cursor_close(cs);
	if (ca)
		mdb_cursor_close(ca);
	if (t)
		store_abort(t);
	buf_free(&last);
	return ret;
}

/* ---- people ---- */

int
store_person_get(struct txn *t, uint64_t id, struct person *out)
{
	unsigned char b[8];
	MDB_val k, v;
	int rc;

	put_be64(b, id);
	k = val_of(b, 8);
	rc = mdb_get(t->txn, t->s->dbi[DB_PEOPLE], &k, &v);
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc != 0)
		return fail(t->s, "read person", rc);
	if (codec_person_decode(v.mv_data, v.mv_size, out) < 0) {
		snprintf(t->s->err, sizeof(t->s->err), "%s: person %llu: undecodable record",
		    t->s->path, (unsigned long long)id);
		return -1;
	}
	return 0;
}

static int
meta_get_u64(struct txn *t, const char *key, uint64_t *out)
{
	MDB_val k = val_of(key, strlen(key)), v;
	int rc = mdb_get(t->txn, t->s->dbi[DB_META], &k, &v);

	*out = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return fail(t->s, key, rc);
	if (v.mv_size == 8)
		*out = get_be64(v.mv_data);
	return 0;
}

int
store_person_put(struct txn *t, struct person *p)
{
	struct buf val = { 0 };
	unsigned char b[8];
	unsigned flags = 0;
	MDB_val k, v;
	int rc;

	if (p->id == 0) {
		/* the counter is read once per txn and written at commit */
		if (!t->person_loaded && meta_get_u64(t, "last_person_id", &t->last_person) < 0)
			return -1;
		t->person_loaded = 1;
		p->id = ++t->last_person;
		t->person_dirty = 1;
		flags = MDB_APPEND;	/* ids only grow: appends keep the tree packed */
	}
	p->version++;
	codec_person_encode(p, &val);
	put_be64(b, p->id);
	k = val_of(b, 8);
	v = val_of(val.p, val.len);
	rc = mdb_put(t->txn, t->s->dbi[DB_PEOPLE], &k, &v, flags);
	if (rc == MDB_KEYEXIST && flags)
		rc = mdb_put(t->txn, t->s->dbi[DB_PEOPLE], &k, &v, 0);
	buf_free(&val);
	if (rc != 0)
		return fail(t->s, "write person", rc);
	t->writes++;
	return 0;
}

struct person_each {
	struct txn	*t;
	store_person_cb	 cb;
	void		*arg;
};

static int
person_each_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct person_each *e = arg;
	struct person p;
	int r;

	(void)k;
	if (codec_person_decode(v->mv_data, v->mv_size, &p) < 0) {
		snprintf(e->t->s->err, sizeof(e->t->s->err), "%s: undecodable person record",
		    e->t->s->path);
		return -1;
	}
	r = e->cb(&p, e->arg);
	person_free(&p);
	return r;
}

int
store_person_each(struct txn *t, store_person_cb cb, void *arg)
{
	struct person_each e = { t, cb, arg };

	return each_prefix(t, DB_PEOPLE, NULL, 0, person_each_cb, &e);
}

struct pacct_each {
	struct txn		*t;
	store_account_cb	 cb;
	void			*arg;
};

static int
pacct_each_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct pacct_each *e = arg;
	struct buf key = { 0 };
	struct account a;
	int r;

	(void)v;
	buf_add(&key, (char *)k->mv_data + 8, k->mv_size - 8);
	r = get_account_by_key(e->t, DB_ACCOUNTS, &key, &a);
	buf_free(&key);
	if (r == STORE_NOTFOUND) {
		snprintf(e->t->s->err, sizeof(e->t->s->err), "%s: person index names a missing "
		    "account (run 'peoplesync db verify')", e->t->s->path);
		return -1;
	}
	if (r < 0)
		return -1;
	r = e->cb(&a, e->arg);
	account_free(&a);
	return r;
}

int
store_person_accounts(struct txn *t, uint64_t id, store_account_cb cb, void *arg)
{
	struct pacct_each e = { t, cb, arg };
	unsigned char b[8];

	put_be64(b, id);
	return each_prefix(t, DB_PACCT, b, 8, pacct_each_cb, &e);
}

int
store_person_del(struct txn *t, uint64_t id)
{
	unsigned char b[8];
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	put_be64(b, id);
	k = val_of(b, 8);
	rc = mdb_del(t->txn, t->s->dbi[DB_PEOPLE], &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return fail(t->s, "delete person", rc);
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_HISTORY], &c)) != 0)
		return fail(t->s, "history cursor", rc);
	for (;;) {
		/* re-seek after each delete rather than rely on cursor position rules */
		k = val_of(b, 8);
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc != 0 || k.mv_size != 16 || memcmp(k.mv_data, b, 8) != 0)
			break;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return fail(t->s, "delete history", rc);
	t->writes++;
	return 0;
}

/* ---- email index ---- */

int
store_email_get(struct txn *t, const char *email, uint64_t *person_id)
{
	MDB_val k = val_of(email, strlen(email)), v;
	int rc;

	if (k.mv_size == 0 || k.mv_size > KEY_MAX)
		return STORE_NOTFOUND;
	rc = mdb_get(t->txn, t->s->dbi[DB_EMAILS], &k, &v);
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc != 0)
		return fail(t->s, "read email index", rc);
	*person_id = v.mv_size == 8 ? get_be64(v.mv_data) : 0;
	return 0;
}

int
store_email_put(struct txn *t, const char *email, uint64_t person_id)
{
	unsigned char b[8];
	MDB_val k = val_of(email, strlen(email)), v;
	int rc;

	if (k.mv_size == 0 || k.mv_size > KEY_MAX)
		return 0;		/* not indexable: such an address matches nobody */
	put_be64(b, person_id);
	v = val_of(b, 8);
	if ((rc = mdb_put(t->txn, t->s->dbi[DB_EMAILS], &k, &v, 0)) != 0)
		return fail(t->s, "write email index", rc);
	return 0;
}

int
store_email_del(struct txn *t, const char *email)
{
	MDB_val k = val_of(email, strlen(email));
	int rc;

	if (k.mv_size == 0 || k.mv_size > KEY_MAX)
		return 0;
	rc = mdb_del(t->txn, t->s->dbi[DB_EMAILS], &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return fail(t->s, "delete from email index", rc);
	return 0;
}

/* ---- prompt outbox ---- */

static int
prompt_pending_state(int state)
{
	return state == PQ_QUEUED || state == PQ_SENDING;
}

int
store_prompt_get(struct txn *t, uint64_t id, struct prompt *out)
{
	unsigned char b[8];
	MDB_val k, v;
	int rc;

	put_be64(b, id);
	k = val_of(b, 8);
	rc = mdb_get(t->txn, t->s->dbi[DB_OUTBOX], &k, &v);
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc)
		return fail(t->s, "read prompt", rc);
	if (codec_prompt_decode(v.mv_data, v.mv_size, out) < 0) {
		snprintf(t->s->err, sizeof(t->s->err), "%s: prompt %llu: undecodable record",
		    t->s->path, (unsigned long long)id);
		return -1;
	}
	return 0;
}

int
store_prompt_put(struct txn *t, struct prompt *p)
{
	struct buf val = { 0 };
	struct prompt old;
	unsigned char b[8], q[16];
	unsigned flags = 0;
	int was_pending = 0, rc;
	MDB_val k, v;

	if (p->id == 0) {
		uint64_t last;
		if (meta_get_u64(t, "last_prompt_id", &last) < 0 ||
		    meta_add_u64(t, "last_prompt_id", 1) < 0)
			return -1;
		p->id = last + 1;
		flags = MDB_APPEND;
	} else {
		rc = store_prompt_get(t, p->id, &old);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			was_pending = prompt_pending_state(old.state);
			prompt_free(&old);
		}
	}
	p->version++;
	codec_prompt_encode(p, &val);
	put_be64(b, p->id);
	k = val_of(b, 8);
	v = val_of(val.p, val.len);
	rc = mdb_put(t->txn, t->s->dbi[DB_OUTBOX], &k, &v, flags);
	if (rc == MDB_KEYEXIST && flags)
		rc = mdb_put(t->txn, t->s->dbi[DB_OUTBOX], &k, &v, 0);
	buf_free(&val);
	if (rc)
		return fail(t->s, "write prompt", rc);
	put_be64(q, p->person_id);
	put_be64(q + 8, p->id);
	k = val_of(q, 16);
	if (prompt_pending_state(p->state) && !was_pending) {
		v = val_of("", 0);
		rc = mdb_put(t->txn, t->s->dbi[DB_OUTQ], &k, &v, 0);
	} else if (!prompt_pending_state(p->state) && was_pending) {
		rc = mdb_del(t->txn, t->s->dbi[DB_OUTQ], &k, NULL);
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	return rc ? fail(t->s, "prompt index", rc) : 0;
}

struct prompt_each {
	struct txn	*t;
	store_prompt_cb	 cb;
	void		*arg;
};

static int
prompt_each_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct prompt_each *e = arg;
	struct prompt p;
	int r;

	(void)k;
	if (codec_prompt_decode(v->mv_data, v->mv_size, &p) < 0) {
		snprintf(e->t->s->err, sizeof(e->t->s->err), "%s: undecodable prompt record",
		    e->t->s->path);
		return -1;
	}
	r = e->cb(&p, e->arg);
	prompt_free(&p);
	return r;
}

static int
outq_each_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct prompt_each *e = arg;
	struct prompt p;
	int r;

	(void)v;
	if (k->mv_size != 16)
		return 0;
	r = store_prompt_get(e->t, get_be64((unsigned char *)k->mv_data + 8), &p);
	if (r == STORE_NOTFOUND) {
		snprintf(e->t->s->err, sizeof(e->t->s->err), "%s: outbox index names a missing "
		    "prompt (run 'peoplesync db verify')", e->t->s->path);
		return -1;
	}
	if (r < 0)
		return -1;
	r = e->cb(&p, e->arg);
	prompt_free(&p);
	return r;
}

int
store_prompt_each(struct txn *t, int pending_only, store_prompt_cb cb, void *arg)
{
	struct prompt_each e = { t, cb, arg };

	if (pending_only)
		return each_prefix(t, DB_OUTQ, NULL, 0, outq_each_cb, &e);
	return each_prefix(t, DB_OUTBOX, NULL, 0, prompt_each_cb, &e);
}

struct first_pending {
	uint64_t	id;
	int		found;
};

static int
first_pending_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct first_pending *fp = arg;

	(void)v;
	fp->id = get_be64((unsigned char *)k->mv_data + 8);
	fp->found = 1;
	return 1;
}

int
store_prompt_pending(struct txn *t, uint64_t person_id, uint64_t *prompt_id)
{
	struct first_pending fp = { 0, 0 };
	unsigned char b[8];

	put_be64(b, person_id);
	if (each_prefix(t, DB_OUTQ, b, 8, first_pending_cb, &fp) < 0)
		return -1;
	if (!fp.found)
		return STORE_NOTFOUND;
	*prompt_id = fp.id;
	return 0;
}

/* ---- history ---- */

int
store_history_add(struct txn *t, uint64_t person_id, int64_t ts, const char *kind,
    const char *fmt, ...)
{
	struct buf text = { 0 }, val = { 0 };
	unsigned char kb[16];
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t seq = 1;
	unsigned flags = 0;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	buf_vprintf(&text, fmt, ap);
	va_end(ap);
	/* Next sequence number of this person: one past the last key with its prefix. */
	put_be64(kb, person_id + 1);
	memset(kb + 8, 0, 8);
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_HISTORY], &c)) != 0) {
		buf_free(&text);
		return fail(t->s, "history cursor", rc);
	}
	/* the common case of a new person: everything in history is an older person's, and
	 * the entry is appended at the end */
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 16 && get_be64(k.mv_data) < person_id) {
		flags = MDB_APPEND;
	} else if (rc == 0) {
		k = val_of(kb, 16);
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		rc = rc == 0 ? mdb_cursor_get(c, &k, &v, MDB_PREV) :
		    mdb_cursor_get(c, &k, &v, MDB_LAST);
		if (rc == 0 && k.mv_size == 16 && get_be64(k.mv_data) == person_id)
			seq = get_be64((unsigned char *)k.mv_data + 8) + 1;
	}
	mdb_cursor_close(c);
	put_be64(kb, person_id);
	put_be64(kb + 8, seq);
	codec_history_encode(ts, kind, text.p ? text.p : "", &val);
	k = val_of(kb, 16);
	v = val_of(val.p, val.len);
	rc = mdb_put(t->txn, t->s->dbi[DB_HISTORY], &k, &v, flags);
	buf_free(&text);
	buf_free(&val);
	return rc ? fail(t->s, "write history", rc) : 0;
}

struct hist_each {
	store_history_cb	 cb;
	void			*arg;
};

static int
hist_each_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct hist_each *e = arg;
	struct history h;
	int r;

	(void)k;
	if (codec_history_decode(v->mv_data, v->mv_size, &h.ts, &h.kind, &h.text) < 0)
		return 0;		/* skip what we cannot read: history is informative */
	r = e->cb(&h, e->arg);
	free(h.kind);
	free(h.text);
	return r;
}

int
store_history_each(struct txn *t, uint64_t person_id, store_history_cb cb, void *arg)
{
	struct hist_each e = { cb, arg };
	unsigned char b[8];

	put_be64(b, person_id);
	return each_prefix(t, DB_HISTORY, b, 8, hist_each_cb, &e);
}

/* ---- teams ---- */

int
store_team_name_put(struct txn *t, enum platform p, const char *team, const char *name)
{
	struct buf key = { 0 };
	MDB_val k, v;
	int rc;

	buf_addc(&key, (char)('0' + p));
	buf_adds(&key, team);
	if (key.len > KEY_MAX) {
		buf_free(&key);
		return 0;
	}
	k = val_of(key.p, key.len);
	v = val_of(name, strlen(name));
	rc = mdb_put(t->txn, t->s->dbi[DB_TEAMS], &k, &v, 0);
	buf_free(&key);
	return rc ? fail(t->s, "write team name", rc) : 0;
}

int
store_team_name_get(struct txn *t, enum platform p, const char *team, struct buf *out)
{
	struct buf key = { 0 };
	MDB_val k, v;
	int rc;

	buf_addc(&key, (char)('0' + p));
	buf_adds(&key, team);
	k = val_of(key.p, key.len);
	rc = key.len > KEY_MAX ? MDB_NOTFOUND : mdb_get(t->txn, t->s->dbi[DB_TEAMS], &k, &v);
	buf_free(&key);
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc)
		return fail(t->s, "read team name", rc);
	buf_add(out, v.mv_data, v.mv_size);
	return 0;
}

/* ---- key-value spaces ---- */

static int
kv_key(struct buf *k, const char *space, const void *key, size_t klen)
{
	buf_reset(k);
	if (klen > 400 || strlen(space) > 32)
		return -1;
	buf_adds(k, space);
	buf_addc(k, '\0');
	buf_add(k, key, klen);
	return 0;
}

int
store_kv_get(struct txn *t, const char *space, const void *key, size_t klen, struct buf *out)
{
	struct buf k = { 0 };
	MDB_val kk, v;
	int rc;

	if (kv_key(&k, space, key, klen) < 0) {
		buf_free(&k);
		return STORE_NOTFOUND;
	}
	kk = val_of(k.p, k.len);
	rc = mdb_get(t->txn, t->s->dbi[DB_KV], &kk, &v);
	buf_free(&k);
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc)
		return fail(t->s, space, rc);
	buf_add(out, v.mv_data, v.mv_size);
	return 0;
}

int
store_kv_put(struct txn *t, const char *space, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct buf k = { 0 };
	MDB_val kk, v = val_of(val, vlen);
	int rc;

	if (kv_key(&k, space, key, klen) < 0) {
		buf_free(&k);
		snprintf(t->s->err, sizeof(t->s->err), "%s: %s: key too long", t->s->path, space);
		return -1;
	}
	kk = val_of(k.p, k.len);
	rc = mdb_put(t->txn, t->s->dbi[DB_KV], &kk, &v, 0);
	buf_free(&k);
	return rc ? fail(t->s, space, rc) : 0;
}

int
store_kv_del(struct txn *t, const char *space, const void *key, size_t klen)
{
	struct buf k = { 0 };
	MDB_val kk;
	int rc;

	if (kv_key(&k, space, key, klen) < 0) {
		buf_free(&k);
		return 0;
	}
	kk = val_of(k.p, k.len);
	rc = mdb_del(t->txn, t->s->dbi[DB_KV], &kk, NULL);
	buf_free(&k);
	return rc && rc != MDB_NOTFOUND ? fail(t->s, space, rc) : 0;
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
	rc = each_prefix(t, DB_KV, prefix.p, prefix.len, kv_each_cb, &e);
	buf_free(&prefix);
	return rc;
}

/* ---- meta ---- */

int
store_meta_get(struct txn *t, const char *key, struct buf *out)
{
	MDB_val k = val_of(key, strlen(key)), v;
	int rc = mdb_get(t->txn, t->s->dbi[DB_META], &k, &v);

	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc)
		return fail(t->s, key, rc);
	buf_add(out, v.mv_data, v.mv_size);
	return 0;
}

int
store_meta_put(struct txn *t, const char *key, const void *data, size_t n)
{
	MDB_val k = val_of(key, strlen(key)), v = val_of(data, n);
	int rc = mdb_put(t->txn, t->s->dbi[DB_META], &k, &v, 0);

	return rc ? fail(t->s, key, rc) : 0;
}

int
store_meta_del(struct txn *t, const char *key)
{
	MDB_val k = val_of(key, strlen(key));
	int rc = mdb_del(t->txn, t->s->dbi[DB_META], &k, NULL);

	return rc && rc != MDB_NOTFOUND ? fail(t->s, key, rc) : 0;
}

int
store_record_writes(struct txn *t, uint64_t *out)
{
	return meta_get_u64(t, "record_writes", out);
}

/* ---- stats, verify, backup ---- */

int
store_stats(struct store *s, FILE *f)
{
	struct txn *t = store_begin(s, 0);
	MDB_envinfo info;
	MDB_stat st, est;
	uint64_t writes = 0, last = 0, schema = 0;
	struct buf b = { 0 };
	int i, rc;

	if (t == NULL)
		return -1;
	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &est);
	if (store_meta_get(t, "schema", &b) == 0 && b.len == 8)
		schema = get_be64((unsigned char *)b.p);
	buf_free(&b);
	store_record_writes(t, &writes);
	meta_get_u64(t, "last_person_id", &last);
	fprintf(f, "database       %s\n", s->path);
	fprintf(f, "schema         %llu\n", (unsigned long long)schema);
	fprintf(f, "map size       %zu MiB, %zu MiB used (%zu pages of %u bytes)\n",
	    info.me_mapsize >> 20, ((size_t)(info.me_last_pgno + 1) * est.ms_psize) >> 20,
	    (size_t)info.me_last_pgno + 1, est.ms_psize);
	fprintf(f, "record writes  %llu\n", (unsigned long long)writes);
	fprintf(f, "last person id %llu\n", (unsigned long long)last);
	fprintf(f, "%-12s %10s %6s %10s\n", "sub-db", "entries", "depth", "pages");
	for (i = 0; i < DB_COUNT; i++) {
		if ((rc = mdb_stat(t->txn, s->dbi[i], &st)) != 0) {
			store_abort(t);
			return fail(s, "stat", rc);
		}
		fprintf(f, "%-12s %10zu %6u %10zu\n", db_names[i], st.ms_entries, st.ms_depth,
		    st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages);
	}
	store_abort(t);
	return 0;
}

struct verify {
	struct txn	*t;
	FILE		*f;
	long		 problems;
	uint64_t	 last_id;
	struct buf	 key;
};

static void
problem(struct verify *vf, const char *fmt, ...)
{
	va_list ap;

	vf->problems++;
	if (vf->problems > 1000)
		return;
	va_start(ap, fmt);
	vfprintf(vf->f, fmt, ap);
	va_end(ap);
	fputc('\n', vf->f);
}

static int
verify_account(MDB_val *k, MDB_val *v, void *arg)
{
	struct verify *vf = arg;
	struct account a;
	struct person p;
	struct buf pk = { 0 };
	MDB_val kk, vv;
	int rc;

	if (codec_account_decode(v->mv_data, v->mv_size, &a) < 0) {
		problem(vf, "accounts: undecodable record");
		return 0;
	}
	buf_reset(&vf->key);
	if (account_key(&vf->key, a.platform, a.team_id, a.user_id) < 0 ||
	    vf->key.len != k->mv_size || memcmp(vf->key.p, k->mv_data, k->mv_size) != 0)
		problem(vf, "accounts: %s:%s stored under a key that does not match it",
		    platform_name(a.platform), a.user_id);
	if (a.person_id) {
		rc = store_person_get(vf->t, a.person_id, &p);
		if (rc == STORE_NOTFOUND)
			problem(vf, "accounts: %s:%s links to person %llu, which does not exist",
			    platform_name(a.platform), a.user_id, (unsigned long long)a.person_id);
		else if (rc == 0)
			person_free(&p);
		pacct_key(&pk, a.person_id, &vf->key);
		kk = val_of(pk.p, pk.len);
		if (mdb_get(vf->t->txn, vf->t->s->dbi[DB_PACCT], &kk, &vv) != 0)
			problem(vf, "pacct: missing entry for person %llu -> %s:%s",
			    (unsigned long long)a.person_id, platform_name(a.platform), a.user_id);
	}
	buf_free(&pk);
	account_free(&a);
	return 0;
}

static int
verify_pacct(MDB_val *k, MDB_val *v, void *arg)
{
	struct verify *vf = arg;
	struct account a;
	uint64_t pid;
	int rc;

	(void)v;
	if (k->mv_size < 10) {
		problem(vf, "pacct: malformed key");
		return 0;
	}
	pid = get_be64(k->mv_data);
	buf_reset(&vf->key);
	buf_add(&vf->key, (char *)k->mv_data + 8, k->mv_size - 8);
	rc = get_account_by_key(vf->t, DB_ACCOUNTS, &vf->key, &a);
	if (rc == STORE_NOTFOUND) {
		problem(vf, "pacct: person %llu lists an account that does not exist",
		    (unsigned long long)pid);
	} else if (rc == 0) {
		if (a.person_id != pid)
			problem(vf, "pacct: person %llu lists %s:%s, which belongs to person %llu",
			    (unsigned long long)pid, platform_name(a.platform), a.user_id,
			    (unsigned long long)a.person_id);
		account_free(&a);
	}
	return 0;
}

struct has_email {
	const char	*email;
	int		 found;
	int		 n;
};

static int
has_email_cb(const struct account *a, void *arg)
{
	struct has_email *h = arg;
	int i;

	h->n++;
	for (i = 0; i < a->nemails; i++)
		if (strcmp(a->emails[i], h->email) == 0)
			h->found = 1;
	return 0;
}

static int
verify_email(MDB_val *k, MDB_val *v, void *arg)
{
	struct verify *vf = arg;
	struct person p;
	char *email = xstrndup(k->mv_data, k->mv_size);
	uint64_t pid = v->mv_size == 8 ? get_be64(v->mv_data) : 0;
	struct has_email h = { email, 0, 0 };
	int rc;

	rc = store_person_get(vf->t, pid, &p);
	if (rc == STORE_NOTFOUND) {
		problem(vf, "emails: %s points to person %llu, which does not exist", email,
		    (unsigned long long)pid);
	} else if (rc == 0) {
		if (store_person_accounts(vf->t, pid, has_email_cb, &h) == 0 && !h.found)
			problem(vf, "emails: %s points to person %llu, none of whose accounts has it",
			    email, (unsigned long long)pid);
		person_free(&p);
	}
	free(email);
	return 0;
}

static int
count_cb(const struct account *a, void *arg)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

static int
verify_person(MDB_val *k, MDB_val *v, void *arg)
{
	struct verify *vf = arg;
	struct person p;
	uint64_t pid, idx;
	int n = 0;

	if (k->mv_size != 8 || codec_person_decode(v->mv_data, v->mv_size, &p) < 0) {
		problem(vf, "people: undecodable record");
		return 0;
	}
	pid = get_be64(k->mv_data);
	if (p.id != pid)
		problem(vf, "people: record %llu says it is person %llu", (unsigned long long)pid,
		    (unsigned long long)p.id);
	if (pid > vf->last_id)
		problem(vf, "people: id %llu is above the id counter %llu", (unsigned long long)pid,
		    (unsigned long long)vf->last_id);
	store_person_accounts(vf->t, pid, count_cb, &n);
	if (n == 0)
		problem(vf, "people: person %llu (%s) has no accounts", (unsigned long long)pid,
		    p.email ? p.email : "no email");
	if (p.email && !(p.flags & PERSON_CONFLICT)) {
		if (store_email_get(vf->t, p.email, &idx) != 0)
			problem(vf, "emails: %s (person %llu) is not indexed", p.email,
			    (unsigned long long)pid);
		else if (idx != pid)
			problem(vf, "emails: %s is indexed to person %llu, not to its person %llu",
			    p.email, (unsigned long long)idx, (unsigned long long)pid);
	}
	person_free(&p);
	return 0;
}

static int
verify_history(MDB_val *k, MDB_val *v, void *arg)
{
	struct verify *vf = arg;
	struct person p;
	uint64_t pid;

	(void)v;
	if (k->mv_size != 16) {
		problem(vf, "history: malformed key");
		return 0;
	}
	pid = get_be64(k->mv_data);
	if (store_person_get(vf->t, pid, &p) == 0)
		person_free(&p);
	else
		problem(vf, "history: entry for person %llu, who does not exist",
		    (unsigned long long)pid);
	return 0;
}

static int
verify_prompt(MDB_val *k, MDB_val *v, void *arg)
{
	struct verify *vf = arg;
	struct prompt p;
	struct person pp;
	unsigned char q[16];
	MDB_val kk, vv;
	int indexed;

	if (k->mv_size != 8 || codec_prompt_decode(v->mv_data, v->mv_size, &p) < 0) {
		problem(vf, "outbox: undecodable prompt");
		return 0;
	}
	if (store_person_get(vf->t, p.person_id, &pp) == 0)
		person_free(&pp);
	else
		problem(vf, "outbox: prompt %llu is for person %llu, who does not exist",
		    (unsigned long long)p.id, (unsigned long long)p.person_id);
	put_be64(q, p.person_id);
	put_be64(q + 8, p.id);
	kk = val_of(q, 16);
	indexed = mdb_get(vf->t->txn, vf->t->s->dbi[DB_OUTQ], &kk, &vv) == 0;
	if (indexed != prompt_pending_state(p.state))
		problem(vf, "outq: prompt %llu (%s) is %sin the pending index",
		    (unsigned long long)p.id, prompt_state_name((enum prompt_state)p.state),
		    indexed ? "" : "not ");
	prompt_free(&p);
	return 0;
}

static int
verify_outq(MDB_val *k, MDB_val *v, void *arg)
{
	struct verify *vf = arg;
	struct prompt p;

	(void)v;
	if (k->mv_size != 16) {
		problem(vf, "outq: malformed key");
		return 0;
	}
	if (store_prompt_get(vf->t, get_be64((unsigned char *)k->mv_data + 8), &p) == 0)
		prompt_free(&p);
	else
		problem(vf, "outq: names prompt %llu, which does not exist",
		    (unsigned long long)get_be64((unsigned char *)k->mv_data + 8));
	return 0;
}

long
store_verify(struct store *s, FILE *f)
{
	struct verify vf = { 0 };

	vf.f = f;
	if ((vf.t = store_begin(s, 0)) == NULL)
		return -1;
	if (meta_get_u64(vf.t, "last_person_id", &vf.last_id) < 0 ||
	    each_prefix(vf.t, DB_ACCOUNTS, NULL, 0, verify_account, &vf) < 0 ||
	    each_prefix(vf.t, DB_PACCT, NULL, 0, verify_pacct, &vf) < 0 ||
	    each_prefix(vf.t, DB_EMAILS, NULL, 0, verify_email, &vf) < 0 ||
	    each_prefix(vf.t, DB_PEOPLE, NULL, 0, verify_person, &vf) < 0 ||
	    each_prefix(vf.t, DB_HISTORY, NULL, 0, verify_history, &vf) < 0 ||
	    each_prefix(vf.t, DB_OUTBOX, NULL, 0, verify_prompt, &vf) < 0 ||
	    each_prefix(vf.t, DB_OUTQ, NULL, 0, verify_outq, &vf) < 0) {
		store_abort(vf.t);
		buf_free(&vf.key);
		return -1;
	}
	store_abort(vf.t);
	buf_free(&vf.key);
	return vf.problems;
}

int
store_backup(struct store *s, const char *dest)
{
	int rc;

	if (mkdir(dest, 0700) < 0 && errno != EEXIST) {
		snprintf(s->err, sizeof(s->err), "%s: %s", dest, strerror(errno));
		return -1;
	}
	if ((rc = mdb_env_copy2(s->env, dest, MDB_CP_COMPACT)) != 0) {
		snprintf(s->err, sizeof(s->err), "%s: backup: %s", dest, mdb_strerror(rc));
		return -1;
	}
	return 0;
}
