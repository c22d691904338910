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
 * that writes 10,000 people per txn inserts their entries in order. A bulk writer defers
 * them further (store_pidx_defer): each commit then hands its writes to the store's
 * deferral, and index_build.c writes them all, sorted (sorted.c), at the end; the mark in meta tells
 * every other writer and reader that the index is not exact meanwhile.
 */
#include <stdlib.h>
#include <string.h>

#include "extsort.h"
#include "store_p.h"

#define PIDX_SORT_MAX	160
/* The deferral's memory for sorting; more goes to a temporary file. */
#define DEFER_SORT_MEM	(6u << 20)
/* The fields: five indexed, and 'x' (counters only). */
enum { PIDX_ALL, PIDX_STATUS, PIDX_PLATFORM, PIDX_TYPE, PIDX_TEAM, F_PLATSTATUS, NF };
_Static_assert(NF == PIDX_NFIELD, "fields of store_p.h");
/* The fields with entries (the others have counters only). */
static const unsigned char has_entries[NF] = { [PIDX_ALL] = 1, [PIDX_TEAM] = 1 };

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

struct pidx_pending {
	struct buf	 ko, kn, ck;	/* scratch: the old and new entry keys, a counter key */
	struct buf	 keys;
	struct pidx_op	*op;
	size_t		 nop, capop;
	struct pidx_counts cnt;
	int		 deferred;	/* the store defers: the commit only marks */
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
st_pidx_pack(const struct person *p, unsigned char v[PIDX_VAL_LEN])
{
	pack(p, v);
}

const char *
st_pidx_field_name(char byte)
{
	for (int f = 0; f < NF; f++)
		if (field_byte[f] == byte)
			return field_name[f];
	return "?";
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

int
st_pidx_entry_key(int f, const struct person *p, struct buf *k)
{
	return f >= 0 && f < NF ? entry_key(f, p, k) : -1;
}

int
st_pidx_has_entries(int f)
{
	return f >= 0 && f < NF && has_entries[f];
}

/* ---- the mark ---- */

int
st_pidx_mark(struct txn *t)
{
	MDB_val k = val_of(PIDX_MARK_KEY, strlen(PIDX_MARK_KEY)), v;
	int rc = mdb_get(t->txn, t->s->dbi[DB_META], &k, &v);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return st_fail(t->s, "read the people index's mark", rc);
	return v.mv_size == 1 ? *(const char *)v.mv_data : PIDX_TOUCHED;
}

int
st_pidx_set_mark(struct txn *t, char mark)
{
	MDB_val k = val_of(PIDX_MARK_KEY, strlen(PIDX_MARK_KEY)), v = val_of(&mark, 1);
	int rc = mdb_put(t->txn, t->s->dbi[DB_META], &k, &v, 0);

	return rc ? st_fail(t->s, "write the people index's mark", rc) : 0;
}

/* ---- writing ---- */

static struct pidx_pending *
pending(struct txn *t)
{
	if (t->pp == NULL) {
		t->pp = xcalloc(1, sizeof(*t->pp));
		/* env.c's commit and abort call these through the txn: no call into this file */
		t->pp_flush = st_pidx_flush;
		t->pp_after = st_pidx_kept;
		t->pp_drop = st_pidx_drop;
		t->pp->deferred = t->s->pd != NULL;
	}
	return t->pp;
}

/* Adds d to the counter under key (copied when new). */
static void
count_key(struct pidx_counts *cs, const char *key, size_t len, int64_t d, size_t *hint)
{
	size_t i = hint ? *hint : cs->n;

	/* a run counts people of one kind after another: a field's last counter is likely */
	if (i >= cs->n || cs->c[i].len != len || memcmp(cs->c[i].key, key, len) != 0)
		for (i = 0; i < cs->n; i++)
			if (cs->c[i].len == len && memcmp(cs->c[i].key, key, len) == 0)
				break;
	if (i == cs->n) {
		cs->c = xrealloc(cs->c, (cs->n + 1) * sizeof(*cs->c));
		cs->c[i].key = xmalloc(len ? len : 1);
		memcpy(cs->c[i].key, key, len);
		cs->c[i].len = len;
		cs->c[i].d = 0;
		cs->n++;
	}
	cs->c[i].d += d;
	if (hint)
		*hint = i;
}

/* Counts p in field f (d: +1 or -1), k a scratch buffer. */
static void
count_with(struct pidx_counts *cs, struct buf *k, int f, const struct person *p, int64_t d)
{
	buf_reset(k);
	if (field_value(f, p, k) == 0) {
		buf_addc(k, p->active ? '1' : '0');
		count_key(cs, k->p, k->len, d, &cs->last[f & 7]);
	}
}

void
st_pidx_count(struct pidx_counts *cs, int f, const struct person *p, int64_t d)
{
	struct buf k = { 0 };

	count_with(cs, &k, f, p, d);
	buf_free(&k);
}

void
st_pidx_counts_free(struct pidx_counts *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		free(cs->c[i].key);
	free(cs->c);
	cs->c = NULL;
	cs->n = 0;
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

/* What st_pidx_update compares of p in field f: its entry key, or for a field with
 * counters only its value (no sort key built). 0, or -1 when p has none there. */
static int
update_key(int f, const struct person *p, struct buf *k)
{
	return has_entries[f] ? entry_key(f, p, k) : field_value(f, p, k);
}

int
st_pidx_update(struct txn *t, const struct person *old, const struct person *cur)
{
	struct pidx_pending *pp = pending(t);
	unsigned char vo[PIDX_VAL_LEN], vn[PIDX_VAL_LEN];
	struct buf *ko = &pp->ko, *kn = &pp->kn;
	int f, ho, hn, same_key;

	if (old)
		pack(old, vo);
	if (cur)
		pack(cur, vn);
	for (f = 0; f < NF; f++) {
		buf_reset(ko);
		buf_reset(kn);
		ho = old && update_key(f, old, ko) == 0;
		hn = cur && update_key(f, cur, kn) == 0;
		same_key = ho && hn && ko->len == kn->len && memcmp(ko->p, kn->p, ko->len) == 0;
		if (same_key && memcmp(vo, vn, PIDX_VAL_LEN) == 0)
			continue;
		/* a counter whose key did not change nets to zero */
		if (ho)
			count_with(&pp->cnt, &pp->ck, f, old, -1);
		if (hn)
			count_with(&pp->cnt, &pp->ck, f, cur, 1);
		if (!has_entries[f])
			continue;		/* counters only */
		if (ho && !same_key)
			queue(pp, ko, 0, old);
		if (hn)
			queue(pp, kn, 1, cur);
	}
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

int
st_pidx_counts_write(struct txn *t, const struct pidx_counts *cs)
{
	struct buf k = { 0 };
	unsigned char b[8];
	uint64_t n;
	MDB_val kk, v;
	size_t i;
	int rc = 0;

	for (i = 0; i < cs->n && rc == 0; i++) {
		if (cs->c[i].d == 0)
			continue;
		buf_reset(&k);
		buf_addc(&k, PIDX_COUNTER);
		buf_add(&k, cs->c[i].key, cs->c[i].len);
		if ((rc = counter_get(t, k.p, k.len, &n)) < 0)
			break;
		n = (uint64_t)((int64_t)n + cs->c[i].d);
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

/*
 * At commit. Deferred: only the mark (the writes go to the deferral once the commit has
 * succeeded, st_pidx_kept). Otherwise the writes; and when the mark is not exact (another
 * process defers, or a deferral was interrupted), the index is marked touched: what was
 * written here may be undone by the deferral's writes, so it is rebuilt.
 */
int
st_pidx_flush(struct txn *t)
{
	struct pidx_pending *pp = t->pp;
	int rc = 0, mark;

	if (pp == NULL || (pp->nop == 0 && pp->cnt.n == 0))
		return 0;
	if (pp->deferred)
		return st_pidx_set_mark(t, PIDX_DEFERRED);
	if ((mark = st_pidx_mark(t)) < 0)
		return -1;
	if (mark == PIDX_DEFERRED)
		rc = st_pidx_set_mark(t, PIDX_TOUCHED);
	if (rc == 0)
		rc = apply_ops(t, pp) < 0 || st_pidx_counts_write(t, &pp->cnt) < 0 ? -1 : 0;
	return rc;
}

static void
pd_free(struct store *s)
{
	if (s->pd == NULL)
		return;
	extsort_free(s->pd->ops);
	st_pidx_counts_free(&s->pd->counts);
	free(s->pd);
	s->pd = NULL;
}

void
store_pidx_defer(struct store *s)
{
	if (s->pd)
		return;
	s->pd = xcalloc(1, sizeof(*s->pd));
	s->pd->ops = extsort_new(s->path, DEFER_SORT_MEM);
	s->pd_free = pd_free;
}

/* After a deferred txn's commit: its writes and counts join the deferral's. */
void
st_pidx_kept(struct txn *t)
{
	struct pidx_pending *pp = t->pp;
	struct pidx_defer *pd = t->s->pd;
	struct buf r = { 0 };
	size_t i;

	if (pp == NULL || !pp->deferred || pd == NULL)
		return;
	for (i = 0; i < pp->nop && !pd->lost; i++) {
		const struct pidx_op *o = &pp->op[i];
		st_sorted_record(&r, pp->keys.p + o->off, o->len, pd->seq + o->seq, o->put,
		    o->val, PIDX_VAL_LEN);
		if (extsort_add(pd->ops, r.p, r.len) < 0)
			pd->lost = 1;	/* settle rebuilds the index instead */
	}
	pd->seq += pp->nop;
	for (i = 0; i < pp->cnt.n; i++)
		count_key(&pd->counts, pp->cnt.c[i].key, pp->cnt.c[i].len, pp->cnt.c[i].d, NULL);
	buf_free(&r);
}

void
st_pidx_drop(struct txn *t)
{
	struct pidx_pending *pp = t->pp;

	if (pp == NULL)
		return;
	st_pidx_counts_free(&pp->cnt);
	free(pp->op);
	buf_free(&pp->keys);
	buf_free(&pp->ko);
	buf_free(&pp->kn);
	buf_free(&pp->ck);
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

/*
 * The field whose range a walk for sel reads: the team's, else everyone's (status,
 * primary platform and sync type are in each entry's value: checked on the walk, which
 * reads at most every entry, about 40 ms at 1M people).
 */
static int
walk_field(const struct pidx_sel *sel)
{
	return sel->team && sel->platform >= 0 ? PIDX_TEAM : PIDX_ALL;
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
	f = walk_field(sel);
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

/* sel's total from the counters alone: 1 (in *n), 0 when it takes a walk, -1. */
static int
counted(struct txn *t, const struct pidx_sel *sel, uint64_t *n)
{
	int ns = sel->status >= 0, np = sel->platform != PIDX_ANY, nt = sel->type >= 0;

	if ((sel->team && (sel->platform < 0 || ns || nt)) || (!sel->team && ns + np + nt > 1 &&
	    !(ns && np && !nt)))
		return 0;
	return store_pidx_count(t, sel, n) < 0 ? -1 : 1;
}

struct back {
	uint64_t	*id;
	unsigned char	*active;
	size_t		 n;
};

/*
 * The same page walked from the end of sel's range (a page past the middle: fewer keys to
 * skip): the total - skip - n last matches skipped, the page's ids gathered backwards, then
 * handed to cb in order. 0 or -1.
 */
static int
walk_back(struct txn *t, const struct pidx_sel *sel, uint64_t total, uint64_t skip, size_t n,
    store_pidx_cb cb, void *arg)
{
	struct buf pre = { 0 }, end = { 0 };
	struct back b = { xcalloc(n, sizeof(uint64_t)), xcalloc(n, 1), 0 };
	uint64_t rskip = skip + n < total ? total - skip - n : 0;
	size_t want = skip + n < total ? n : (size_t)(total - skip);
	struct person p;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc, r = 0, f;

	f = walk_field(sel);
	sel_person(sel, &p);
	field_value(f, &p, &pre);
	buf_addc(&pre, '\0');
	buf_add(&end, pre.p, pre.len);
	end.p[end.len - 1] = '\1';		/* just past every key of the range */
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_PIDX], &c)) != 0)
		goto out;
	k = val_of(end.p, end.len);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	rc = rc == 0 ? mdb_cursor_get(c, &k, &v, MDB_PREV) : rc == MDB_NOTFOUND ?
	    mdb_cursor_get(c, &k, &v, MDB_LAST) : rc;
	for (; rc == 0 && b.n < want; rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
		if (k.mv_size < pre.len + 9 || memcmp(k.mv_data, pre.p, pre.len) != 0)
			break;
		if (!entry_matches(sel, &v) || rskip-- > 0)
			continue;
		rskip = 0;
		b.id[b.n] = get_be64((const unsigned char *)k.mv_data + k.mv_size - 8);
		b.active[b.n++] = ((const char *)v.mv_data)[0] == '1';
	}
	if (rc == MDB_NOTFOUND || rc == 0)
		rc = 0;
	for (size_t i = b.n; rc == 0 && r == 0 && i-- > 0;)
		r = cb(b.id[i], b.active[i], arg);
out:
	if (c)
		mdb_cursor_close(c);
	free(b.id);
	free(b.active);
	buf_free(&pre);
	buf_free(&end);
	if (rc != 0)
		return st_fail(t->s, "read people index", rc);
	return r < 0 ? -1 : 0;
}

int
store_pidx_page(struct txn *t, const struct pidx_sel *sel, uint64_t skip, size_t n,
    store_pidx_cb cb, void *arg)
{
	uint64_t seen, total;
	int r;

	if (pidx_present(t) < 0)
		return -1;
	if (n == 0 || (sel->team && sel->platform < 0))
		return 0;
	/* past the middle of a range whose total the counters give: from its end */
	if (skip > 0 && n < (size_t)1 << 20 && (r = counted(t, sel, &total)) != 0) {
		if (r < 0)
			return -1;
		if (skip >= total)
			return 0;
		if (skip + n / 2 > total / 2)
			return walk_back(t, sel, total, skip, n, cb, arg);
	}
	return walk(t, sel, skip, n, cb, arg, &seen);
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
