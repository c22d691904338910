/*
 * sorted.c — deferred writes of an index, written in key order: the record of one write
 * (st_sorted_record), and the writer that takes an external sort of them (base/extsort.c)
 * and puts them into a sub-database in txns of ST_SORTED_TXN writes. A put past the last key
 * of the sub-database is an append (pages filled whole, each written once); the others are
 * inserts in key order, so that one txn's writes fall in one range of the tree and dirty few
 * pages. Used by the people index (index.c, index_build.c) and the email index (emails.c).
 *
 * A record: key, order (8 bytes, big-endian), put (1) or delete (0), value, the value's
 * length (1 byte). Byte order of records is key order as LMDB orders keys, then the order of
 * the writes, for keys of which none is a proper prefix of another (people index entries)
 * and for keys without NUL bytes (addresses: the order's first byte, 0 below 2^56 writes,
 * sorts a key before its extensions).
 */
#include <string.h>

#include "extsort.h"
#include "store_p.h"

#define TRAILER	(8 + 1 + 1)

void
st_sorted_record(struct buf *out, const void *key, size_t klen, uint64_t seq, int put,
    const void *val, size_t vlen)
{
	unsigned char b[8];

	buf_reset(out);
	buf_add(out, key, klen);
	put_be64(b, seq);
	buf_add(out, b, 8);
	buf_addc(out, put ? 1 : 0);
	buf_add(out, val, vlen);
	buf_addc(out, (char)vlen);
}

/* Splits a record: 0, or -1 when malformed. */
static int
parse(const void *rec, size_t n, MDB_val *key, int *put, MDB_val *val)
{
	const unsigned char *r = rec;
	size_t vlen;

	if (n < TRAILER + 1)
		return -1;
	vlen = r[n - 1];
	if (n < TRAILER + 1 + vlen)
		return -1;
	*key = val_of(r, n - TRAILER - vlen);
	*put = r[n - 2 - vlen];
	*val = val_of(r + n - 1 - vlen, vlen);
	return 0;
}

/* Same key in two records. */
static int
same_key(const struct buf *a, const void *b, size_t bn)
{
	MDB_val ka, kb, v;
	int put;

	return parse(a->p, a->len, &ka, &put, &v) == 0 && parse(b, bn, &kb, &put, &v) == 0 &&
	    ka.mv_size == kb.mv_size && memcmp(ka.mv_data, kb.mv_data, ka.mv_size) == 0;
}

int
st_writer_commit(struct st_writer *w)
{
	struct txn *t = w->t;

	if (t == NULL)
		return 0;
	mdb_cursor_close(w->c);
	w->t = NULL;
	w->c = NULL;
	return store_commit(t);
}

void
st_writer_abort(struct st_writer *w)
{
	if (w->t) {
		mdb_cursor_close(w->c);
		store_abort(w->t);
	}
	w->t = NULL;
	w->c = NULL;
	buf_free(&w->last);
}

int
st_writer_txn(struct st_writer *w)
{
	MDB_val k, v;
	int rc;

	/* appends fill new pages one after the other; inserts dirty a page of the tree each
	 * (up to a few writes a page): fewer of them per txn keep its dirty pages few */
	if (w->t && w->in_txn < (w->appending ? ST_SORTED_TXN : ST_SORTED_TXN_INSERTS))
		return 0;
	if (st_writer_commit(w) < 0 || (w->t = store_begin(w->s, 1)) == NULL)
		return -1;
	w->in_txn = 0;
	w->appending = 0;
	buf_reset(&w->last);
	if ((rc = mdb_cursor_open(w->t->txn, w->s->dbi[w->dbi], &w->c)) != 0)
		return st_fail(w->s, w->what, rc);
	rc = mdb_cursor_get(w->c, &k, &v, MDB_LAST);
	if (rc == 0)
		buf_add(&w->last, k.mv_data, k.mv_size);
	else if (rc != MDB_NOTFOUND)
		return st_fail(w->s, w->what, rc);
	return 0;
}

/* memcmp order with the shorter first, as LMDB orders keys. */
static int
key_cmp(const MDB_val *a, const struct buf *b)
{
	int c = memcmp(a->mv_data, b->p, a->mv_size < b->len ? a->mv_size : b->len);

	return c ? c : (a->mv_size > b->len) - (a->mv_size < b->len);
}

/* Writes one record's write. */
static int
writer_put(struct st_writer *w, const struct buf *rec)
{
	MDB_val k, v;
	int put, rc;

	if (parse(rec->p, rec->len, &k, &put, &v) < 0)
		return st_failf(w->s, "%s: a sorted write is malformed", w->what);
	if (st_writer_txn(w) < 0)
		return -1;
	w->in_txn++;
	if (put && !w->appending)
		w->appending = w->last.len == 0 || key_cmp(&k, &w->last) > 0;
	if (put && w->appending)
		rc = mdb_cursor_put(w->c, &k, &v, MDB_APPEND);
	else if (put)
		rc = mdb_put(w->t->txn, w->s->dbi[w->dbi], &k, &v, 0);
	else if ((rc = mdb_del(w->t->txn, w->s->dbi[w->dbi], &k, NULL)) == MDB_NOTFOUND)
		rc = 0;
	return rc ? st_fail(w->s, w->what, rc) : 0;
}

int
st_sorted_write(struct st_writer *w, struct extsort *x)
{
	struct buf cur = { 0 };
	const void *rec;
	size_t n;
	int r, have = 0;

	while ((r = extsort_next(x, &rec, &n)) > 0) {
		if (have && !same_key(&cur, rec, n) && writer_put(w, &cur) < 0) {
			buf_free(&cur);
			return -1;
		}
		buf_reset(&cur);
		buf_add(&cur, rec, n);
		have = 1;
	}
	if (r < 0)
		st_failf(w->s, "%s: %s", w->what, extsort_error(x));
	else if (have)
		r = writer_put(w, &cur);
	buf_free(&cur);
	return r < 0 ? -1 : 0;
}

int
st_read_with(struct store *s, int (*fn)(struct txn *))
{
	struct txn *t = store_begin(s, 0);
	int r;

	if (t == NULL)
		return -1;
	r = fn(t);
	store_abort(t);
	return r;
}

int
st_rebuild_twice(struct store *s, int (*once)(struct store *), const char *what)
{
	int rc = once(s);

	if (rc == 1)
		rc = once(s);
	if (rc < 0)
		return st_failf(s, "rebuilding the %s: %s", what, s->err);
	return 0;	/* still touched: the next repair rebuilds it again */
}
