/*
 * index.c — the people indexes behind the admin console (include/store.h, "people
 * indexes"): one sub-database (pidx) whose keys put people in the table's default order
 * within each value of an indexed field, and counters of each value, so that a page of the
 * table, filtered or not, is read from a cursor over one range and never from a scan of the
 * people records. store_person_put and store_person_del keep it exact (st_pidx_update):
 * every writer of people goes through them.
 *
 * An entry: field byte, value, NUL, sort key (the name, else the address, ASCII lower-cased
 * and cut at PIDX_SORT_MAX bytes), NUL, person id (8 bytes, big-endian) -> the person's
 * packed facts (active, status, primary platform + 1, sync type: 4 bytes), so that the
 * other filters are checked on the walk without reading the person. memcmp order of the
 * keys is the order of report_row_cmp (strcasecmp of the names, then the id) but for names
 * that agree on their first PIDX_SORT_MAX bytes, which fall back to the id.
 * A counter: '#', field byte, value, active byte ('0'/'1') -> 8 bytes (big-endian). The
 * 'x' counters (primary platform and status together: the console's summary) have no
 * entries.
 *
 * Writes are kept in the txn and applied at commit, sorted by key (st_pidx_flush): a run
 * that writes 10,000 people per txn inserts their entries in order, page after page.
 */
#include <stdlib.h>
#include <string.h>

#include "store_p.h"

#define PIDX_SORT_MAX	160
#define PIDX_COUNTER	'#'
#define PIDX_VAL_LEN	4
/* The fields: five indexed, and 'x' (counters only). */
enum { PIDX_ALL, PIDX_STATUS, PIDX_PLATFORM, PIDX_TYPE, PIDX_TEAM, F_PLATSTATUS, NF };

static const char field_byte[NF] = {
	[PIDX_ALL] = 'a', [PIDX_STATUS] = 's', [PIDX_PLATFORM] = 'p', [PIDX_TYPE] = 't',
	[PIDX_TEAM] = 'm', [F_PLATSTATUS] = 'x'
};
static const char *const field_name[NF] = { "all", "status", "platform", "type", "team",
	"platform+status" };

struct pidx_op {
	size_t		 off, len;	/* the key in ops */
	size_t		 seq;
	int		 put;		/* else delete */
	unsigned char	 val[PIDX_VAL_LEN];
};

struct pidx_count {
	char		*key;		/* without the '#' */
	size_t		 len;
	int64_t		 d;
};

struct pidx_pending {
	struct buf	 keys;
	struct pidx_op	*op;
	size_t		 nop, capop;
	struct pidx_count *c;
	size_t		 nc;
};

/* The value part of field f for person p, appended to v: 0, or -1 when p has none there
 * (no primary team). */
static int
field_value(int f, const struct person *p, struct buf *v)
{
	char pl = p->primary_platform >= 0 ? (char)('0' + p->primary_platform) : '-';

	buf_addc(v, field_byte[f]);
	switch (f) {
	case PIDX_STATUS:
		buf_addc(v, (char)('0' + p->status));
		break;
	case PIDX_PLATFORM:
		buf_addc(v, pl);
		break;
	case PIDX_TYPE:
		buf_addc(v, (char)('0' + p->sync_type));
		break;
	case PIDX_TEAM:
		if (p->primary_platform < 0 || p->primary_team_id == NULL ||
		    *p->primary_team_id == '\0' || strlen(p->primary_team_id) > 200)
			return -1;
		buf_addc(v, pl);
		buf_adds(v, p->primary_team_id);
		break;
	case F_PLATSTATUS:
		buf_addc(v, pl);
		buf_addc(v, (char)('0' + p->status));
		break;
	default:
		break;
	}
	return 0;
}

/* The packed facts of p, an entry's value. */
static void
pack(const struct person *p, unsigned char v[PIDX_VAL_LEN])
{
	v[0] = p->active ? '1' : '0';
	v[1] = p->status;
	v[2] = (unsigned char)(p->primary_platform + 1);
	v[3] = p->sync_type;
}

void
st_pidx_sort_key(const struct person *p, struct buf *out)
{
	const char *s = p->name ? p->name : p->email ? p->email : "";
	size_t n = strlen(s), i;

	if (n > PIDX_SORT_MAX)
		n = PIDX_SORT_MAX;
	buf_reserve(out, n + 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		out->p[out->len + i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out->len += n;
	out->p[out->len] = '\0';
}

/* Appends the entry key of p for field f to k: 0, or -1 when p has no entry there. */
static int
entry_key(int f, const struct person *p, struct buf *k)
{
	unsigned char b[8];
	size_t at = k->len;

	if (field_value(f, p, k) < 0) {
		k->len = at;
		return -1;
	}
	buf_addc(k, '\0');
	st_pidx_sort_key(p, k);
	buf_addc(k, '\0');
	put_be64(b, p->id);
	buf_add(k, b, 8);
	return 0;
}

static struct pidx_pending *
pending(struct txn *t)
{
	if (t->pp == NULL) {
		t->pp = xcalloc(1, sizeof(*t->pp));
		/* env.c's commit and abort call these through the txn: no call into this file */
		t->pp_flush = st_pidx_flush;
		t->pp_drop = st_pidx_drop;
	}
	return t->pp;
}

/* Adds d to the counter of field f's value for p (active or not). */
static void
count(struct pidx_pending *pp, int f, const struct person *p, int64_t d)
{
	struct buf k = { 0 };
	size_t i;

	if (field_value(f, p, &k) < 0) {
		buf_free(&k);
		return;
	}
	buf_addc(&k, p->active ? '1' : '0');
	for (i = 0; i < pp->nc; i++)
		if (pp->c[i].len == k.len && memcmp(pp->c[i].key, k.p, k.len) == 0)
			break;
	if (i == pp->nc) {
		pp->c = xrealloc(pp->c, (pp->nc + 1) * sizeof(*pp->c));
		pp->c[i].key = k.p;
		pp->c[i].len = k.len;
		pp->c[i].d = 0;
		pp->nc++;
	} else {
		buf_free(&k);
	}
	pp->c[i].d += d;
}

/* Queues the write (put) or delete of the entry k (of person p). */
static void
queue(struct pidx_pending *pp, const struct buf *k, int put, const struct person *p)
{
	struct pidx_op *o;

	if (pp->nop == pp->capop) {
		pp->capop = pp->capop ? pp->capop * 2 : 64;
		pp->op = xrealloc(pp->op, pp->capop * sizeof(*pp->op));
	}
	o = &pp->op[pp->nop];
	o->off = pp->keys.len;
	o->len = k->len;
	o->seq = pp->nop++;
	o->put = put;
	pack(p, o->val);
	buf_add(&pp->keys, k->p, k->len);
}

int
st_pidx_update(struct txn *t, const struct person *old, const struct person *cur)
{
	struct pidx_pending *pp = pending(t);
	unsigned char vo[PIDX_VAL_LEN], vn[PIDX_VAL_LEN];
	struct buf ko = { 0 }, kn = { 0 };
	int f, ho, hn, same_key;

	if (old)
		pack(old, vo);
	if (cur)
		pack(cur, vn);
	for (f = 0; f < NF; f++) {
		buf_reset(&ko);
		buf_reset(&kn);
		ho = old && entry_key(f, old, &ko) == 0;
		hn = cur && entry_key(f, cur, &kn) == 0;
		same_key = ho && hn && ko.len == kn.len && memcmp(ko.p, kn.p, ko.len) == 0;
		if (same_key && memcmp(vo, vn, PIDX_VAL_LEN) == 0)
			continue;
		/* a counter whose key did not change nets to zero */
		if (ho)
			count(pp, f, old, -1);
		if (hn)
			count(pp, f, cur, 1);
		if (f == F_PLATSTATUS)
			continue;		/* counters only */
		if (ho && !same_key)
			queue(pp, &ko, 0, old);
		if (hn)
			queue(pp, &kn, 1, cur);
	}
	buf_free(&ko);
	buf_free(&kn);
	return 0;
}

/* qsort context: the keys the ops point into (one flush at a time per txn; qsort has no
 * argument, and only the thread of the write txn flushes). */
static __thread const char *sort_keys;

static int
op_cmp(const void *a, const void *b)
{
	const struct pidx_op *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(sort_keys + x->off, sort_keys + y->off, n);

	if (c == 0)
		c = x->len < y->len ? -1 : x->len > y->len;
	return c ? c : (x->seq < y->seq ? -1 : x->seq > y->seq);
}

/* Applies the queued entry writes, in key order; of several writes to one key the last
 * wins. */
static int
apply_ops(struct txn *t, struct pidx_pending *pp)
{
	MDB_val k, v;
	size_t i;
	int rc = 0;

	if (pp->nop == 0)
		return 0;
	sort_keys = pp->keys.p;
	qsort(pp->op, pp->nop, sizeof(*pp->op), op_cmp);
	for (i = 0; i < pp->nop && rc == 0; i++) {
		const struct pidx_op *o = &pp->op[i];
		if (i + 1 < pp->nop && pp->op[i + 1].len == o->len &&
		    memcmp(pp->keys.p + pp->op[i + 1].off, pp->keys.p + o->off, o->len) == 0)
			continue;
		k = val_of(pp->keys.p + o->off, o->len);
		v = val_of(o->val, PIDX_VAL_LEN);
		if (o->put)
			rc = mdb_put(t->txn, t->s->dbi[DB_PIDX], &k, &v, 0);
		else if ((rc = mdb_del(t->txn, t->s->dbi[DB_PIDX], &k, NULL)) == MDB_NOTFOUND)
			rc = 0;
	}
	return rc ? st_fail(t->s, "write people index", rc) : 0;
}

/* The counter under key k (0 when absent). */
static int
counter_get(struct txn *t, const void *k, size_t klen, uint64_t *n)
{
	MDB_val kk = val_of(k, klen), v;
	int rc = mdb_get(t->txn, t->s->dbi[DB_PIDX], &kk, &v);

	*n = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return st_fail(t->s, "read people index counter", rc);
	if (v.mv_size == 8)
		*n = get_be64(v.mv_data);
	return 0;
}

static int
apply_counts(struct txn *t, struct pidx_pending *pp)
{
	struct buf k = { 0 };
	unsigned char b[8];
	uint64_t n;
	MDB_val kk, v;
	size_t i;
	int rc = 0;

	for (i = 0; i < pp->nc && rc == 0; i++) {
		if (pp->c[i].d == 0)
			continue;
		buf_reset(&k);
		buf_addc(&k, PIDX_COUNTER);
		buf_add(&k, pp->c[i].key, pp->c[i].len);
		if ((rc = counter_get(t, k.p, k.len, &n)) < 0)
			break;
		n = (uint64_t)((int64_t)n + pp->c[i].d);
		kk = val_of(k.p, k.len);
		if (n == 0) {
			rc = mdb_del(t->txn, t->s->dbi[DB_PIDX], &kk, NULL);
			rc = rc == MDB_NOTFOUND ? 0 : rc;
		} else {
			put_be64(b, n);
			v = val_of(b, 8);
			rc = mdb_put(t->txn, t->s->dbi[DB_PIDX], &kk, &v, 0);
		}
		rc = rc ? st_fail(t->s, "write people index counter", rc) : 0;
	}
	buf_free(&k);
	return rc;
}

int
st_pidx_flush(struct txn *t)
{
	int rc = 0;

	if (t->pp)
		rc = apply_ops(t, t->pp) < 0 || apply_counts(t, t->pp) < 0 ? -1 : 0;
	st_pidx_drop(t);
	return rc;
}

void
st_pidx_drop(struct txn *t)
{
	struct pidx_pending *pp = t->pp;

	if (pp == NULL)
		return;
	for (size_t i = 0; i < pp->nc; i++)
		free(pp->c[i].key);
	free(pp->c);
	free(pp->op);
	buf_free(&pp->keys);
	free(pp);
	t->pp = NULL;
}

/* ---- reading ---- */

/* -1 (with the store's message) when the database has no index yet (read-only, older). */
static int
pidx_present(struct txn *t)
{
	if (!t->s->absent[DB_PIDX])
		return 0;
	return st_failf(t->s, "no people index yet: it is built at the next write (run "
	    "'peoplesync reconcile')");
}

/* A person with sel's constrained facts (f's own value set), for field_value. */
static void
sel_person(const struct pidx_sel *sel, struct person *p)
{
	memset(p, 0, sizeof(*p));
	p->status = (uint8_t)(sel->status >= 0 ? sel->status : 0);
	p->primary_platform = (int8_t)(sel->platform != PIDX_ANY ? sel->platform : -1);
	p->sync_type = (uint8_t)(sel->type >= 0 ? sel->type : 0);
	p->primary_team_id = (char *)sel->team;
}

/* Sum of the counters of field f's value (p's), active ones, and inactive ones with all. */
static int
counter_sum(struct txn *t, int f, const struct person *p, int all, uint64_t *n)
{
	struct buf k = { 0 };
	uint64_t c = 0;
	int rc = 0;

	*n = 0;
	buf_addc(&k, PIDX_COUNTER);
	if (field_value(f, p, &k) == 0) {
		buf_addc(&k, '1');
		rc = counter_get(t, k.p, k.len, n);
		k.p[k.len - 1] = '0';
		if (rc == 0 && all && (rc = counter_get(t, k.p, k.len, &c)) == 0)
			*n += c;
	}
	buf_free(&k);
	return rc;
}

/* The field whose range a walk for sel reads: the team's, else the smallest of the
 * constrained ones, else everyone. */
static int
walk_field(struct txn *t, const struct pidx_sel *sel, int *f)
{
	struct person p;
	uint64_t n, best = UINT64_MAX;
	int cand[3], nc = 0;

	*f = PIDX_ALL;
	if (sel->team && sel->platform >= 0) {
		*f = PIDX_TEAM;
		return 0;
	}
	sel_person(sel, &p);
	if (sel->status >= 0)
		cand[nc++] = PIDX_STATUS;
	if (sel->platform != PIDX_ANY)
		cand[nc++] = PIDX_PLATFORM;
	if (sel->type >= 0)
		cand[nc++] = PIDX_TYPE;
	for (int i = 0; i < nc; i++) {
		if (counter_sum(t, cand[i], &p, sel->all, &n) < 0)
			return -1;
		if (n < best) {
			best = n;
			*f = cand[i];
		}
	}
	return 0;
}

static int
entry_matches(const struct pidx_sel *sel, const MDB_val *v)
{
	const unsigned char *x = v->mv_data;

	return v->mv_size == PIDX_VAL_LEN && (sel->all || x[0] == '1') &&
	    (sel->status < 0 || x[1] == sel->status) &&
	    (sel->platform == PIDX_ANY || x[2] == sel->platform + 1) &&
	    (sel->type < 0 || x[3] == sel->type);
}

/* Walks sel's people in order: skips skip, hands at most n to cb (NULL: counts them in
 * *seen, all of them), *seen counting what matched. 0 or -1. */
static int
walk(struct txn *t, const struct pidx_sel *sel, uint64_t skip, size_t n, store_pidx_cb cb,
    void *arg, uint64_t *seen)
{
	struct buf pre = { 0 };
	struct person p;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc, r = 0, f;

	*seen = 0;
	if (walk_field(t, sel, &f) < 0)
		return -1;
	sel_person(sel, &p);
	if (sel->team && sel->platform < 0)
		return 0;		/* a team needs its platform: nobody */
	field_value(f, &p, &pre);
	buf_addc(&pre, '\0');
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_PIDX], &c)) != 0)
		goto out;
	k = val_of(pre.p, pre.len);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && (cb == NULL || n > 0);
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < pre.len + 9 || memcmp(k.mv_data, pre.p, pre.len) != 0)
			break;
		if (!entry_matches(sel, &v))
			continue;
		(*seen)++;
		if (cb == NULL || skip-- > 0)
			continue;
		skip = 0;
		n--;
		r = cb(get_be64((const unsigned char *)k.mv_data + k.mv_size - 8),
		    ((const char *)v.mv_data)[0] == '1', arg);
		if (r != 0)
			break;
	}
out:
	if (c)
		mdb_cursor_close(c);
	buf_free(&pre);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_fail(t->s, "read people index", rc);
	return r < 0 ? -1 : 0;
}

int
store_pidx_count(struct txn *t, const struct pidx_sel *sel, uint64_t *n)
{
	struct person p;
	int ns = sel->status >= 0, np = sel->platform != PIDX_ANY, nt = sel->type >= 0;

	*n = 0;
	if (pidx_present(t) < 0)
		return -1;
	sel_person(sel, &p);
	if (sel->team)
		return sel->platform >= 0 && !ns && !nt ?
		    counter_sum(t, PIDX_TEAM, &p, sel->all, n) : walk(t, sel, 0, 0, NULL, NULL, n);
	if (ns + np + nt == 0)
		return counter_sum(t, PIDX_ALL, &p, sel->all, n);
	if (ns + np + nt == 1)
		return counter_sum(t, ns ? PIDX_STATUS : np ? PIDX_PLATFORM : PIDX_TYPE, &p,
		    sel->all, n);
	if (ns && np && !nt)
		return counter_sum(t, F_PLATSTATUS, &p, sel->all, n);
	return walk(t, sel, 0, 0, NULL, NULL, n);
}

int
store_pidx_page(struct txn *t, const struct pidx_sel *sel, uint64_t skip, size_t n,
    store_pidx_cb cb, void *arg)
{
	uint64_t seen;

	if (pidx_present(t) < 0)
		return -1;
	return n == 0 ? 0 : walk(t, sel, skip, n, cb, arg, &seen);
}

/* ---- building and checking ---- */

/* People records read here through the codec (records.c calls this file: no call back). */
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

static int
build_cb(const struct person *p, void *arg)
{
	return st_pidx_update(arg, NULL, p) < 0 ? -1 : 0;
}

int
st_pidx_build(struct txn *t)
{
	MDB_val k = val_of("pidx", 4), v;

	if (mdb_get(t->txn, t->s->dbi[DB_META], &k, &v) == 0)
		return 0;
	if (mdb_drop(t->txn, t->s->dbi[DB_PIDX], 0) != 0 ||
	    each_person(t, build_cb, t) < 0 || st_pidx_flush(t) < 0)
		return st_failf(t->s, "building the people index: %s", t->s->err);
	v = val_of("1", 1);
	return mdb_put(t->txn, t->s->dbi[DB_META], &k, &v, 0) ? -1 : 0;
}

struct pverify {
	struct txn	*t;
	FILE		*f;
	long		 problems;
	struct buf	 k;
	struct pidx_pending sums;	/* the counters the people add up to */
};

/* A problem with the entry (or counter) whose key is k. */
static void
vproblem(struct pverify *pv, const char *what, const void *key, size_t klen, uint64_t id)
{
	const char *k = key, *kind = "?";
	size_t at = klen > 0 && k[0] == PIDX_COUNTER ? 1 : 0;

	for (int f = 0; f < NF; f++)
		if (klen > at && k[at] == field_byte[f])
			kind = field_name[f];
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

	pack(p, want);
	for (int f = 0; f < NF; f++) {
		buf_reset(&pv->k);
		if (entry_key(f, p, &pv->k) < 0)
			continue;
		count(&pv->sums, f, p, 1);
		if (f == F_PLATSTATUS)
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

	for (size_t i = 0; i < pv->sums.nc; i++)
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
		for (int f = 0; f < F_PLATSTATUS && !found; f++) {
			buf_reset(&pv->k);
			found = entry_key(f, &p, &pv->k) == 0 && pv->k.len == k->mv_size &&
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

	if (t->s->absent[DB_PIDX])
		return 0;
	if (each_person(t, verify_person_cb, &pv) < 0 ||
	    st_each(t, DB_PIDX, NULL, 0, verify_entry_cb, &pv) < 0)
		goto out;
	for (i = 0; i < pv.sums.nc; i++)
		if (pv.sums.c[i].d > 0) {
			char kb[2] = { PIDX_COUNTER, pv.sums.c[i].key[0] };
			vproblem(&pv, "missing", kb, 2, 0);
		}
	ret = pv.problems;
out:
	for (i = 0; i < pv.sums.nc; i++)
		free(pv.sums.c[i].key);
	free(pv.sums.c);
	buf_free(&pv.k);
	return ret;
}

/* ---- the primary teams, from their counters ---- */

struct teams_walk {
	store_pidx_team_cb	 cb;
	void			*arg;
};

static int
team_counter_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct teams_walk *tw = arg;
	const char *key = k->mv_data;
	char team[256];
	size_t tl;

	if (k->mv_size < 5 || k->mv_size - 4 >= sizeof(team) || key[k->mv_size - 1] != '1' ||
	    key[2] < '0' || key[2] >= '0' + PLAT_COUNT || v->mv_size != 8)
		return 0;
	tl = k->mv_size - 4;
	memcpy(team, key + 3, tl);
	team[tl] = '\0';
	return tw->cb((enum platform)(key[2] - '0'), team, get_be64(v->mv_data), tw->arg);
}

int
store_pidx_teams(struct txn *t, store_pidx_team_cb cb, void *arg)
{
	struct teams_walk tw = { cb, arg };
	char pre[2] = { PIDX_COUNTER, 'm' };

	if (pidx_present(t) < 0)
		return -1;
	return st_each(t, DB_PIDX, pre, 2, team_counter_cb, &tw);
}
