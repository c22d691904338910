/*
 * stage.c — the staging areas of pulls in progress (one sub-database per platform), the
 * batched staging writer, and store_stage_merge: the walk of staged against stored accounts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_p.h"

static int
stage_dbi(enum platform p)
{
	return DB_STAGE_SLACK + (int)p;
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

/* The key of a staged account, or -1 with the culprit named in err. */
static int
stage_key(char *err, size_t errlen, struct buf *key, const struct account *a)
{
	if (st_account_key(key, a->platform, a->team_id, a->user_id) == 0)
		return 0;
	snprintf(err, errlen, "%s: account id too long or empty (%s)",
	    platform_name(a->platform), a->user_id ? a->user_id : "");
	return -1;
}

int
store_stage_clear(struct txn *t, enum platform p)
{
	int rc = mdb_drop(t->txn, t->s->dbi[stage_dbi(p)], 0);

	return rc ? st_fail(t->s, "clear staging", rc) : 0;
}

int
store_stage_put(struct txn *t, const struct account *a)
{
	struct buf key = { 0 };
	int rc = -1;

	if (stage_key(t->s->err, sizeof(t->s->err), &key, a) == 0)
		rc = st_account_write(t, stage_dbi(a->platform), &key, a, "stage account");
	buf_free(&key);
	return rc;
}

int
store_stage_count(struct txn *t, enum platform p, size_t *n)
{
	MDB_stat st;
	int rc = mdb_stat(t->txn, t->s->dbi[stage_dbi(p)], &st);

	if (rc)
		return st_fail(t->s, "stat staging", rc);
	*n = st.ms_entries;
	return 0;
}

/* ---- batches ---- */

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
	char			 err[256];	/* store_stage_add's refusal */
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

	if (b->n >= b->limit) {
		snprintf(b->err, sizeof(b->err), "%s: staging batch full (not flushed)",
		    platform_name(b->p));
		return -1;
	}
	if (stage_key(b->err, sizeof(b->err), &key, a) < 0) {
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
	return b->n == b->limit;
}

const char *
store_stage_batch_error(const struct stage_batch *b)
{
	return b->err;
}

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
	size_t i;
	int rc = 0;

	if (b->n == 0)
		return 0;
	/* sorted, so the inserts walk the tree in order (appended while past the staged keys) */
	qsort_r(b->items, b->n, sizeof(*b->items), stage_item_cmp, b->arena.p);
	if ((t = store_begin(b->s, 1)) == NULL)
		return -1;
	for (i = 0; i < b->n && rc == 0; i++) {
		MDB_val k = { b->items[i].klen, b->arena.p + b->items[i].koff };
		MDB_val v = { b->items[i].vlen, b->arena.p + b->items[i].voff };
		rc = st_put_in_order(t, stage_dbi(b->p), &k, &v);
	}
	if (rc != 0) {
		store_abort(t);
		return st_fail(b->s, "stage accounts", rc);
	}
	b->n = 0;
	buf_reset(&b->arena);
	return store_commit(t);
}

int
store_stage_batch_merge(struct stage_batch *b, size_t batch, store_merge_cb cb, void *arg)
{
	struct txn *t = NULL;
	size_t i, done = 0;
	int rc = 0;

	qsort_r(b->items, b->n, sizeof(*b->items), stage_item_cmp, b->arena.p);
	for (i = 0; i < b->n && rc == 0; i++) {
		const struct stage_item *it = &b->items[i];
		struct account st, sd;
		int have_d;

		if (t == NULL && (t = store_begin(b->s, 1)) == NULL)
			return -1;
		if (codec_account_decode(b->arena.p + it->voff, it->vlen, &st) < 0) {
			rc = st_failf(b->s, "undecodable account record");
			break;
		}
		if ((have_d = st_rec_get(t, REC_ACCOUNT, b->arena.p + it->koff, it->klen,
		    &sd)) < 0) {
			account_free(&st);
			rc = -1;
			break;
		}
		rc = cb(t, &st, have_d == 0 ? &sd : NULL, arg) != 0 ? -1 : 0;
		account_free(&st);
		if (have_d == 0)
			account_free(&sd);
		if (rc == 0 && ++done == batch) {
			rc = store_commit(t);
			t = NULL;
			done = 0;
		}
	}
	if (t != NULL && rc == 0)
		rc = store_commit(t);
	else if (t != NULL)
		store_abort(t);
	b->n = 0;
	buf_reset(&b->arena);
	return rc;
}

/* ---- merge ---- */

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

/* A merge in progress: its cursors (staging, accounts) live for one txn. */
struct merge {
	struct store	*s;
	enum platform	 p;
	int		 full;
	store_merge_cb	 cb;
	void		*arg;
	char		 prefix;
	struct buf	 last;		/* the last key handed to cb: where a new txn resumes */
	struct txn	*t;
	MDB_cursor	*cs, *ca;
	MDB_val		 ks, vs, ka, va;
	int		 rcs, rca;	/* 0 positioned, MDB_NOTFOUND at the end, else error */
};

static void
merge_cursors_close(struct merge *m)
{
	if (m->cs)
		mdb_cursor_close(m->cs);
	if (m->ca)
		mdb_cursor_close(m->ca);
	m->cs = m->ca = NULL;
}

/* Moves the cursors past the key just handed to the callback. */
static void
merge_advance(struct merge *m, int c)
{
	/* The callback may have written to accounts: re-seek rather than trust the cursor's
	 * position. */
	if (c <= 0)
		m->rcs = mdb_cursor_get(m->cs, &m->ks, &m->vs, MDB_NEXT);
	if (m->rcs == 0 && (m->ks.mv_size < 1 || ((char *)m->ks.mv_data)[0] != m->prefix))
		m->rcs = MDB_NOTFOUND;
	if (m->full)
		m->rca = seek_after(m->ca, &m->last, m->prefix, &m->ka, &m->va);
}

/* One key: the staged and/or stored account handed to the callback. 0 to go on. */
static int
merge_step(struct merge *m)
{
	struct account st, sd;
	int have_s = 0, have_d = 0, c, r = -1;

	if (m->rcs == 0 && m->rca == 0)
		c = cmp_keys(&m->ks, &m->ka);
	else
		c = m->rcs == 0 ? -1 : 1;
	buf_reset(&m->last);
	if (c <= 0) {
		buf_add(&m->last, m->ks.mv_data, m->ks.mv_size);
		if (codec_account_decode(m->vs.mv_data, m->vs.mv_size, &st) < 0)
			return st_failf(m->s, "undecodable account record");
		have_s = 1;
	} else {
		buf_add(&m->last, m->ka.mv_data, m->ka.mv_size);
	}
	if (c >= 0 && m->rca == 0) {
		if (codec_account_decode(m->va.mv_data, m->va.mv_size, &sd) < 0) {
			st_failf(m->s, "undecodable account record");
			goto out;
		}
		have_d = 1;
	} else if (!m->full && have_s) {
		if ((r = st_rec_get(m->t, REC_ACCOUNT, m->ks.mv_data, m->ks.mv_size, &sd)) < 0)
			goto out;
		have_d = r == 0;
	}
	r = m->cb(m->t, have_s ? &st : NULL, have_d ? &sd : NULL, m->arg);
	if (r == 0)
		merge_advance(m, c);
out:
	if (have_s)
		account_free(&st);
	if (have_d)
		account_free(&sd);
	return r;
}

/* Up to batch keys (all when 0) in m's txn. 0 or -1. */
static int
merge_batch(struct merge *m, size_t batch)
{
	size_t done = 0;
	int rc;

	if ((rc = mdb_cursor_open(m->t->txn, m->s->dbi[stage_dbi(m->p)], &m->cs)) != 0 ||
	    (rc = mdb_cursor_open(m->t->txn, m->s->dbi[DB_ACCOUNTS], &m->ca)) != 0)
		return st_fail(m->s, "cursor", rc);
	m->rcs = seek_after(m->cs, &m->last, m->prefix, &m->ks, &m->vs);
	m->rca = m->full ? seek_after(m->ca, &m->last, m->prefix, &m->ka, &m->va) : MDB_NOTFOUND;
	for (;;) {
		if (m->rcs != 0 && m->rcs != MDB_NOTFOUND)
			return st_fail(m->s, "read staging", m->rcs);
		if (m->rca != 0 && m->rca != MDB_NOTFOUND)
			return st_fail(m->s, "read accounts", m->rca);
		if ((m->rcs == MDB_NOTFOUND && m->rca == MDB_NOTFOUND) || (batch && done >= batch))
			return 0;
		if (merge_step(m) != 0)
			return -1;
		done++;
	}
}

int
store_stage_merge(struct store *s, enum platform p, int full, size_t batch, int write,
    store_merge_cb cb, void *arg)
{
	struct merge m = { .s = s, .p = p, .full = full, .cb = cb, .arg = arg };
	int rc, ret = -1;

	m.prefix = (char)('0' + p);
	if (!write)
		batch = 0;
	for (;;) {
		if ((m.t = store_begin(s, write)) == NULL || merge_batch(&m, batch) < 0)
			goto out;
		merge_cursors_close(&m);
		if (!write)
			break;
		rc = store_commit(m.t);
		m.t = NULL;
		if (rc < 0)
			goto out;
		if (m.rcs == MDB_NOTFOUND && m.rca == MDB_NOTFOUND)
			break;
	}
	ret = 0;
out:
	merge_cursors_close(&m);
	store_abort(m.t);
	buf_free(&m.last);
	return ret;
}
