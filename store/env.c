/*
 * env.c — the LMDB environment behind include/store.h: open (file check, schema, a failed
 * verify's mark), close, sync, transactions with their counters, meta keys, and the cursor
 * walk the other files share.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fail.h"
#include "store_p.h"

const char *const st_db_names[DB_COUNT] = {
	ST_META_DB, "accounts", "people", "emails", "pacct", "history", "teams",
	"stage.slack", "stage.teams", "stage.webex", "kv", "outbox", "outq", "pidx", "audit"
};

int
st_fail(struct store *s, const char *what, int rc)
{
	snprintf(s->err, sizeof(s->err), "%s: %s: %s", s->path, what, mdb_strerror(rc));
	return -1;
}

int
st_failf(struct store *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(s->err, sizeof(s->err), "%s: ", s->path);
	if (n < 0 || (size_t)n >= sizeof(s->err))
		return -1;
	va_start(ap, fmt);
	vsnprintf(s->err + n, sizeof(s->err) - (size_t)n, fmt, ap);
	va_end(ap);
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

int
st_get_into(struct txn *t, int dbi, MDB_val *k, struct buf *out, const char *what)
{
	MDB_val v;
	int rc = mdb_get(t->txn, t->s->dbi[dbi], k, &v);

	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc)
		return st_fail(t->s, what, rc);
	buf_add(out, v.mv_data, v.mv_size);
	return 0;
}

MDB_val
st_id_key(unsigned char b[8], uint64_t id)
{
	put_be64(b, id);
	return val_of(b, 8);
}

/* ---- open / close ---- */

/* Creates the environment handle and opens dir with the store's flags. */
static int
env_open(struct store *s, const char *dir, size_t map_mb, int readonly, struct failure *f)
{
	unsigned flags;
	int rc;

	if (!readonly && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fail_set(f, FAIL_IO, "%s: cannot create database directory: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (readonly && access(dir, F_OK) < 0) {
		fail_set(f, FAIL_IO, "%s: no database here (%s); run 'peoplesync reconcile' first",
		    dir, strerror(errno));
		return -1;
	}
	if ((rc = mdb_env_create(&s->env)) != 0) {
		fail_set(f, FAIL_IO, "%s: %s", dir, mdb_strerror(rc));
		return -1;
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
		fail_set(f, FAIL_IO, "%s: cannot open database: %s", dir, mdb_strerror(rc));
		return -1;
	}
	return 0;
}

/* Opens every sub-database (creating them unless read-only). */
static int
dbs_open(struct store *s, MDB_txn *txn, const char *dir, struct failure *f)
{
	int rc, i;

	for (i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, st_db_names[i], s->readonly ? 0 : MDB_CREATE, &s->dbi[i]);
		if (rc == MDB_NOTFOUND && i >= DB_PIDX) {
			/* added later: an older database read-only has none until a write open */
			s->absent[i] = 1;
			continue;
		}
		if (rc == MDB_NOTFOUND) {
			fail_set(f, FAIL_IO, "%s: not a peoplesync database (no '%s'); run "
			    "'peoplesync reconcile' first", dir, st_db_names[i]);
			return -1;
		}
		if (rc != 0) {
			fail_set(f, FAIL_IO, "%s: sub-database %s: %s", dir, st_db_names[i],
			    mdb_strerror(rc));
			return -1;
		}
	}
	return 0;
}

/* Refuses a schema newer than this binary's (FAIL_CONFIG); writes ours into a new one. */
static int
schema_check(struct store *s, MDB_txn *txn, const char *dir, struct failure *f)
{
	MDB_val k = val_of("schema", 6), v;
	unsigned char b[8];
	int rc;

	rc = mdb_get(txn, s->dbi[DB_META], &k, &v);
	if (rc == 0) {
		uint64_t schema = v.mv_size == 8 ? get_be64(v.mv_data) : UINT64_MAX;
		if (schema > STORE_SCHEMA) {
			fail_set(f, FAIL_CONFIG, "%s: database schema %llu is newer than this "
			    "peoplesync understands (%d): upgrade peoplesync", dir,
			    (unsigned long long)schema, STORE_SCHEMA);
			return -1;
		}
	} else if (rc == MDB_NOTFOUND && !s->readonly) {
		put_be64(b, STORE_SCHEMA);
		v = val_of(b, 8);
		if ((rc = mdb_put(txn, s->dbi[DB_META], &k, &v, 0)) != 0) {
			fail_set(f, FAIL_IO, "%s: writing schema: %s", dir, mdb_strerror(rc));
			return -1;
		}
	} else if (rc != MDB_NOTFOUND) {
		fail_set(f, FAIL_IO, "%s: reading schema: %s", dir, mdb_strerror(rc));
		return -1;
	}
	return 0;
}

/* A failed `db verify` recorded in meta (ST_VERIFY_MARK): the database is refused. */
static int
mark_check(struct store *s, MDB_txn *txn, const char *dir, struct failure *f)
{
	MDB_val k = val_of(ST_VERIFY_MARK, strlen(ST_VERIFY_MARK)), v;
	int rc = mdb_get(txn, s->dbi[DB_META], &k, &v);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0) {
		fail_set(f, FAIL_IO, "%s: reading %s: %s", dir, ST_VERIFY_MARK, mdb_strerror(rc));
		return -1;
	}
	fail_set(f, FAIL_DATA, "%s/data.mdb: %.*s: refused until it passes; run 'peoplesync db "
	    "verify' for the list, then restore a backup (see peoplesync(1), db verify)", dir,
	    (int)(v.mv_size < 200 ? v.mv_size : 200), (const char *)v.mv_data);
	return -1;
}

struct store *
store_open(const char *dir, size_t map_mb, int readonly, struct failure *f)
{
	return st_open(dir, map_mb, readonly ? ST_RDONLY : 0, f);
}

struct store *
st_open(const char *dir, size_t map_mb, int flags, struct failure *f)
{
	struct store *s = xcalloc(1, sizeof(*s));
	MDB_txn *txn = NULL;
	int rc, readonly = (flags & ST_RDONLY) != 0;

	s->path = xstrdup(dir);
	s->readonly = readonly;
	/* LMDB follows the file's page numbers without a check: check them first */
	if (st_check_file(dir, 0, NULL, f) > 0 || env_open(s, dir, map_mb, readonly, f) < 0)
		goto fail;
	if ((rc = mdb_txn_begin(s->env, NULL, readonly ? MDB_RDONLY : 0, &txn)) != 0) {
		fail_set(f, FAIL_IO, "%s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	if (dbs_open(s, txn, dir, f) < 0 || schema_check(s, txn, dir, f) < 0 ||
	    (!(flags & ST_ANY) && mark_check(s, txn, dir, f) < 0))
		goto fail;
	/* committed even when read-only: an aborted txn would close the dbi handles */
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		fail_set(f, FAIL_IO, "%s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	fail_set(f, FAIL_NONE, "%s", "");
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
	if (s->pd_free)
		s->pd_free(s);		/* a deferral never settled: the mark stays */
	if (s->ed_free)
		s->ed_free(s);
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
		return st_fail(s, "sync", rc);
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
		st_fail(s, "begin transaction", rc);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->s = s;
	t->txn = txn;
	t->write = write;
	return t;
}

/* Frees t and what it kept for its commit. */
static void
txn_drop(struct txn *t)
{
	if (t->pp_drop)
		t->pp_drop(t);
	if (t->ep_drop)
		t->ep_drop(t);
	for (size_t i = 0; i < sizeof(t->tmp) / sizeof(t->tmp[0]); i++)
		buf_free(&t->tmp[i]);
	free(t);
}

int
store_commit(struct txn *t)
{
	int rc;

	if (t->write && ((t->pp_flush && t->pp_flush(t) < 0) ||
	    (t->ep_flush && t->ep_flush(t) < 0) ||
	    (t->writes && st_meta_add_u64(t, "record_writes", t->writes) < 0) ||
	    (t->person_dirty && st_meta_put_u64(t, "last_person_id", t->last_person) < 0))) {
		mdb_txn_abort(t->txn);
		txn_drop(t);
		return -1;
	}
	rc = mdb_txn_commit(t->txn);
	if (rc != 0)
		st_fail(t->s, "commit", rc);
	else {
		if (t->pp_after)
			t->pp_after(t);
		if (t->ep_after)
			t->ep_after(t);
	}
	txn_drop(t);
	return rc ? -1 : 0;
}

void
store_abort(struct txn *t)
{
	if (t == NULL)
		return;
	mdb_txn_abort(t->txn);
	txn_drop(t);
}

/* ---- meta ---- */

int
store_meta_get(struct txn *t, const char *key, struct buf *out)
{
	MDB_val k = val_of(key, strlen(key));

	return st_get_into(t, DB_META, &k, out, key);
}

int
store_meta_put(struct txn *t, const char *key, const void *data, size_t n)
{
	MDB_val k = val_of(key, strlen(key)), v = val_of(data, n);
	int rc = mdb_put(t->txn, t->s->dbi[DB_META], &k, &v, 0);

	return rc ? st_fail(t->s, key, rc) : 0;
}

int
store_meta_del(struct txn *t, const char *key)
{
	MDB_val k = val_of(key, strlen(key));
	int rc = mdb_del(t->txn, t->s->dbi[DB_META], &k, NULL);

	return rc && rc != MDB_NOTFOUND ? st_fail(t->s, key, rc) : 0;
}

int
st_meta_get_u64(struct txn *t, const char *key, uint64_t *out)
{
	MDB_val k = val_of(key, strlen(key)), v;
	int rc = mdb_get(t->txn, t->s->dbi[DB_META], &k, &v);

	*out = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return st_fail(t->s, key, rc);
	if (v.mv_size == 8)
		*out = get_be64(v.mv_data);
	return 0;
}

int
st_meta_put_u64(struct txn *t, const char *key, uint64_t v)
{
	unsigned char b[8];

	put_be64(b, v);
	return store_meta_put(t, key, b, 8);
}

int
st_meta_add_u64(struct txn *t, const char *key, uint64_t add)
{
	uint64_t cur;

	if (st_meta_get_u64(t, key, &cur) < 0)
		return -1;
	return st_meta_put_u64(t, key, cur + add);
}

int
store_record_writes(struct txn *t, uint64_t *out)
{
	return st_meta_get_u64(t, "record_writes", out);
}

/* ---- the shared cursor walk ---- */

int
st_each(struct txn *t, int dbi, const void *prefix, size_t plen, st_each_cb cb, void *arg)
{
	MDB_cursor *c;
	MDB_val k = val_of(prefix, plen), v;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[dbi], &c)) != 0)
		return st_fail(t->s, "cursor", rc);
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
		return st_fail(t->s, st_db_names[dbi], rc);
	return r < 0 ? -1 : 0;
}
