/*
 * index_build.c — the people index written in bulk, and checked: store_pidx_settle writes a
 * deferral's entry writes (store_pidx_defer, index.c) sorted by key, st_pidx_rebuild writes
 * the whole index again from the people records, store_pidx_repair rebuilds an index whose
 * mark is not exact, st_pidx_verify checks it against the people.
 *
 * Both write through sorted.c (appends past the last key, inserts in key order, txns of
 * ST_SORTED_TXN writes). The mark is set exact in the last txn only if it
 * is still "deferred" there: a write of people by another process meanwhile made it
 * "touched", and the index is rebuilt (once more at most; after that, by the next run).
 */
#include <stdlib.h>
#include <string.h>

#include "extsort.h"
#include "store_p.h"

#define BUILD_SORT_MEM	(16u << 20)

/* People records read here through the codec (records.c calls index.c: no call back). */
struct people_walk {
	int	(*cb)(const struct person *p, void *arg);
	void	*arg;
};

static int
people_walk_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct people_walk *w = arg;
	struct person p;
	int r;

	(void)k;
	if (codec_person_decode(v->mv_data, v->mv_size, &p) < 0)
		return 0;		/* db verify reports undecodable people */
	r = w->cb(&p, w->arg);
	person_free(&p);
	return r;
}

static int
each_person(struct txn *t, int (*cb)(const struct person *, void *), void *arg)
{
	struct people_walk w = { cb, arg };

	return st_each(t, DB_PEOPLE, NULL, 0, people_walk_cb, &w);
}

/* Person id's record: 0, STORE_NOTFOUND (absent or undecodable). */
static int
person_read(struct txn *t, uint64_t id, struct person *p)
{
	unsigned char b[8];
	MDB_val k = st_id_key(b, id), v;

	if (mdb_get(t->txn, t->s->dbi[DB_PEOPLE], &k, &v) != 0 ||
	    codec_person_decode(v.mv_data, v.mv_size, p) < 0)
		return STORE_NOTFOUND;
	return 0;
}

/*
 * The last txn: the counter changes, and the mark exact if it still is "deferred". 1 when
 * it was touched (not exact: rebuild), 0 done, -1.
 */
static int
write_finish(struct st_writer *w, const struct pidx_counts *counts)
{
	int mark;

	if (st_writer_txn(w) < 0 || (mark = st_pidx_mark(w->t)) < 0 ||
	    st_pidx_counts_write(w->t, counts) < 0 ||
	    (mark == PIDX_DEFERRED && st_pidx_set_mark(w->t, PIDX_EXACT) < 0) ||
	    st_writer_commit(w) < 0) {
		st_writer_abort(w);
		return -1;
	}
	buf_free(&w->last);
	return mark != PIDX_DEFERRED;
}

/* ---- settle, rebuild, repair ---- */

/* The mark, in a txn of its own. */
static int
read_mark(struct store *s)
{
	return st_read_with(s, st_pidx_mark);
}

int
store_pidx_settle(struct store *s)
{
	struct pidx_defer *pd = s->pd;
	struct st_writer w = { .s = s, .dbi = DB_PIDX, .what = "write people index" };
	int rc = 0, mark;

	if (pd == NULL)
		return 0;
	s->pd = NULL;		/* the txns below write the index themselves */
	if (pd->seq == 0 && pd->counts.n == 0)
		goto out;	/* nothing was deferred: the mark was not changed */
	if ((mark = read_mark(s)) < 0) {
		rc = -1;
		goto out;
	}
	if (mark == PIDX_DEFERRED && !pd->lost) {
		rc = st_sorted_write(&w, pd->ops) < 0 ? -1 : write_finish(&w, &pd->counts);
		st_writer_abort(&w);
	}
	if (rc == 0 && (mark != PIDX_DEFERRED || pd->lost))
		rc = 1;
	if (rc == 1)
		rc = st_pidx_rebuild(s) < 0 ? -1 : 0;
out:
	extsort_free(pd->ops);
	st_pidx_counts_free(&pd->counts);
	free(pd);
	return rc;
}

struct build {
	struct extsort	*x;
	struct pidx_counts counts;
	struct buf	 k, rec;
	int		 failed;
};

static int
build_cb(const struct person *p, void *arg)
{
	struct build *b = arg;
	unsigned char v[PIDX_VAL_LEN];

	st_pidx_pack(p, v);
	for (int f = 0; f < PIDX_NFIELD; f++) {
		buf_reset(&b->k);
		if (st_pidx_entry_key(f, p, &b->k) < 0)
			continue;
		st_pidx_count(&b->counts, f, p, 1);
		if (!st_pidx_has_entries(f))
			continue;
		st_sorted_record(&b->rec, b->k.p, b->k.len, 0, 1, v, PIDX_VAL_LEN);
		if (extsort_add(b->x, b->rec.p, b->rec.len) < 0) {
			b->failed = 1;
			return -1;
		}
	}
	return 0;
}

/* One rebuild: 0, 1 when people were written meanwhile (the mark says so), -1. */
static int
rebuild_once(struct store *s)
{
	struct build b = { .x = extsort_new(s->path, BUILD_SORT_MEM) };
	struct st_writer w = { .s = s, .dbi = DB_PIDX, .what = "write people index" };
	struct txn *t;
	int rc = -1;

	/* deferred from here: a write of people by another process marks it touched */
	if ((t = store_begin(s, 1)) == NULL || st_pidx_set_mark(t, PIDX_DEFERRED) < 0 ||
	    store_commit(t) < 0) {
		store_abort(t);
		goto out;
	}
	if ((t = store_begin(s, 0)) == NULL)
		goto out;
	rc = each_person(t, build_cb, &b);
	store_abort(t);
	if (rc < 0 || b.failed) {
		rc = b.failed ? st_failf(s, "people index: %s", extsort_error(b.x)) : -1;
		goto out;
	}
	rc = -1;
	if ((t = store_begin(s, 1)) == NULL || mdb_drop(t->txn, s->dbi[DB_PIDX], 0) != 0 ||
	    store_commit(t) < 0) {
		store_abort(t);
		goto out;
	}
	if (st_sorted_write(&w, b.x) < 0) {
		st_writer_abort(&w);
		goto out;
	}
	rc = write_finish(&w, &b.counts);
out:
	extsort_free(b.x);
	st_pidx_counts_free(&b.counts);
	buf_free(&b.k);
	buf_free(&b.rec);
	return rc;
}

int
st_pidx_rebuild(struct store *s)
{
	return st_rebuild_twice(s, rebuild_once, "people index");
}

int
store_pidx_repair(struct store *s)
{
	int mark = read_mark(s);

	if (mark < 0)
		return -1;
	if (mark == PIDX_EXACT || mark == 0)
		return 0;
	return st_pidx_rebuild(s) < 0 ? -1 : 1;
}

/* ---- counting ---- */

static int
count_cb(const struct person *p, void *arg)
{
	uint64_t *n = arg;

	n[0] += p->active != 0;
	n[1]++;
	return 0;
}

int
store_people_count(struct txn *t, uint64_t *active, uint64_t *all)
{
	struct pidx_sel sel = PIDX_SEL_INIT;
	uint64_t n[2] = { 0, 0 };
	int mark;

	*active = *all = 0;
	if (!t->s->absent[DB_PIDX] && (mark = st_pidx_mark(t)) == PIDX_EXACT) {
		if (store_pidx_count(t, &sel, active) < 0)
			return -1;
		sel.all = 1;
		return store_pidx_count(t, &sel, all);
	}
	if (each_person(t, count_cb, n) < 0)
		return -1;
	*active = n[0];
	*all = n[1];
	return 0;
}

/* ---- checking ---- */

struct pverify {
	struct txn	*t;
	FILE		*f;
	long		 problems;
	struct buf	 k;
	struct pidx_counts sums;	/* the counters the people add up to */
};

/* A problem with the entry (or counter) whose key is k. */
static void
vproblem(struct pverify *pv, const char *what, const void *key, size_t klen, uint64_t id)
{
	const char *k = key, *kind = "?";
	size_t at = klen > 0 && k[0] == PIDX_COUNTER ? 1 : 0;

	if (klen > at)
		kind = st_pidx_field_name(k[at]);
	pv->problems++;
	if (pv->problems > 1000)
		return;
	if (at)
		fprintf(pv->f, "pidx: %s %s index counter\n", what, kind);
	else
		fprintf(pv->f, "pidx: person %llu: %s %s index entry\n", (unsigned long long)id,
		    what, kind);
}

/* Each person has every entry it should, with the right value; counted in the sums. */
static int
verify_person_cb(const struct person *p, void *arg)
{
	struct pverify *pv = arg;
	unsigned char want[PIDX_VAL_LEN];
	MDB_val k, v;

	st_pidx_pack(p, want);
	for (int f = 0; f < PIDX_NFIELD; f++) {
		buf_reset(&pv->k);
		if (st_pidx_entry_key(f, p, &pv->k) < 0)
			continue;
		st_pidx_count(&pv->sums, f, p, 1);
		if (!st_pidx_has_entries(f))
			continue;
		k = val_of(pv->k.p, pv->k.len);
		if (mdb_get(pv->t->txn, pv->t->s->dbi[DB_PIDX], &k, &v) != 0)
			vproblem(pv, "missing", pv->k.p, pv->k.len, p->id);
		else if (v.mv_size != PIDX_VAL_LEN || memcmp(v.mv_data, want, PIDX_VAL_LEN) != 0)
			vproblem(pv, "stale facts in", pv->k.p, pv->k.len, p->id);
	}
	return 0;
}

/* A counter: the one the people add up to (then marked seen). */
static void
verify_counter(struct pverify *pv, const MDB_val *k, const MDB_val *v)
{
	uint64_t want = 0;

	for (size_t i = 0; i < pv->sums.n; i++)
		if (pv->sums.c[i].len + 1 == k->mv_size &&
		    memcmp(pv->sums.c[i].key, (char *)k->mv_data + 1, k->mv_size - 1) == 0) {
			want = (uint64_t)pv->sums.c[i].d;
			pv->sums.c[i].d = -1;
		}
	if (v->mv_size != 8 || get_be64(v->mv_data) != want)
		vproblem(pv, "wrong", k->mv_data, k->mv_size, 0);
}

/* Each entry names a person who has it. */
static int
verify_entry_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct pverify *pv = arg;
	int found = 0;
	uint64_t id;
	struct person p;

	if (k->mv_size > 0 && *(const char *)k->mv_data == PIDX_COUNTER) {
		verify_counter(pv, k, v);
		return 0;
	}
	id = k->mv_size >= 10 ? get_be64((const unsigned char *)k->mv_data + k->mv_size - 8) : 0;
	if (person_read(pv->t, id, &p) == 0) {
		for (int f = 0; f < PIDX_NFIELD && !found; f++) {
			if (!st_pidx_has_entries(f))
				continue;
			buf_reset(&pv->k);
			found = st_pidx_entry_key(f, &p, &pv->k) == 0 && pv->k.len == k->mv_size &&
			    memcmp(pv->k.p, k->mv_data, k->mv_size) == 0;
		}
		person_free(&p);
	}
	if (!found)
		vproblem(pv, "extra", k->mv_data, k->mv_size, id);
	return 0;
}

long
st_pidx_verify(struct txn *t, FILE *f)
{
	struct pverify pv = { .t = t, .f = f };
	long ret = -1;
	size_t i;
	int mark;

	if (t->s->absent[DB_PIDX])
		return 0;
	if ((mark = st_pidx_mark(t)) < 0)
		return -1;
	if (mark == PIDX_DEFERRED || mark == PIDX_TOUCHED) {
		fprintf(f, "pidx: not checked: out of date since %s; the next 'peoplesync "
		    "reconcile' rebuilds it\n", mark == PIDX_DEFERRED ? "a run that did not "
		    "finish writing it (or one in progress)" : "people were written during a run");
		return 0;
	}
	if (each_person(t, verify_person_cb, &pv) < 0 ||
	    st_each(t, DB_PIDX, NULL, 0, verify_entry_cb, &pv) < 0)
		goto out;
	for (i = 0; i < pv.sums.n; i++)
		if (pv.sums.c[i].d > 0) {
			char kb[2] = { PIDX_COUNTER, pv.sums.c[i].key[0] };
			vproblem(&pv, "missing", kb, 2, 0);
		}
	ret = pv.problems;
out:
	st_pidx_counts_free(&pv.sums);
	buf_free(&pv.k);
	return ret;
}

