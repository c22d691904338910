/*
 * index.c — the people indexes behind the admin console (include/store.h, "people
 * indexes"): one sub-database (pidx) whose keys put people in the table's default order
 * within each value of an indexed field, and counters of each range, so that a page of the
 * table, filtered by one field or not, is read from a cursor and never from a scan of the
 * people. store_person_put and store_person_del keep it exact (st_pidx_update): every
 * writer of people goes through them.
 *
 * An entry: field byte, value, NUL, sort key (the name, else the address, ASCII lower-cased
 * and cut at PIDX_SORT_MAX bytes), NUL, person id (8 bytes, big-endian) -> one byte, '1'
 * for an active person, '0' for an inactive one. memcmp order of the keys is the order of
 * report_row_cmp (strcasecmp of the names, then the id) but for names that agree on their
 * first PIDX_SORT_MAX bytes, which fall back to the id.
 * A counter: '#', field byte, value, active byte -> 8 bytes (big-endian). The changes of a
 * txn are summed in memory and written at commit (st_pidx_flush): a run that writes a
 * million people touches each counter once per commit, not once per person.
 */
#include <stdlib.h>
#include <string.h>

#include "store_p.h"

#define PIDX_SORT_MAX	160
#define PIDX_COUNTER	'#'

static const char field_byte[PIDX_NFIELDS] = {
	[PIDX_ALL] = 'a', [PIDX_STATUS] = 's', [PIDX_PLATFORM] = 'p', [PIDX_TYPE] = 't',
	[PIDX_TEAM] = 'm', [PIDX_PLATSTATUS] = 'x'
};

struct pidx_delta {
	struct buf	 key;		/* the counter's key */
	int64_t		 d;
};

/* The value part of field f for person p, into v (reset first): 0, or -1 when p has none
 * (no primary team). */
static int
field_value(enum pidx_field f, const struct person *p, struct buf *v)
{
	char pl = p->primary_platform >= 0 ? (char)('0' + p->primary_platform) : '-';

	buf_reset(v);
	buf_addc(v, field_byte[f]);
	switch (f) {
	case PIDX_ALL:
		break;
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
	case PIDX_PLATSTATUS:
		buf_addc(v, pl);
		buf_addc(v, (char)('0' + p->status));
		break;
	default:
		return -1;
	}
	return 0;
}

/* The value part of a selection (as field_value for a person that matches it). */
static int
sel_value(const struct pidx_sel *sel, struct buf *v)
{
	struct person p;

	memset(&p, 0, sizeof(p));
	p.primary_platform = (int8_t)(sel->field == PIDX_STATUS ? -1 : sel->a);
	p.status = (uint8_t)(sel->field == PIDX_PLATSTATUS ? sel->b : sel->a);
	p.sync_type = (uint8_t)sel->a;
	p.primary_team_id = (char *)sel->team;
	if ((unsigned)sel->field >= PIDX_NFIELDS)
		return -1;
	return field_value(sel->field, &p, v);
}

void
st_pidx_sort_key(const struct person *p, struct buf *out)
{
	const char *s = p->name ? p->name : p->email ? p->email : "";
	size_t n = strlen(s), i;

	if (n > PIDX_SORT_MAX)
		n = PIDX_SORT_MAX;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		buf_addc(out, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c));
	}
}

/* The entry key of p for field f into k: 0, or -1 when p has no entry there. */
static int
entry_key(enum pidx_field f, const struct person *p, struct buf *k)
{
	unsigned char b[8];

	if (field_value(f, p, k) < 0)
		return -1;
	buf_addc(k, '\0');
	st_pidx_sort_key(p, k);
	buf_addc(k, '\0');
	put_be64(b, p->id);
	buf_add(k, b, 8);
	return 0;
}

/* Adds d to the counter of field f's value for p (active or not), in t's sums. */
static void
count(struct txn *t, enum pidx_field f, const struct person *p, int64_t d)
{
	struct buf k = { 0 };
	size_t i;

	if (field_value(f, p, &k) < 0) {
		buf_free(&k);
		return;
	}
	buf_addc(&k, p->active ? '1' : '0');
	for (i = 0; i < t->npd; i++)
		if (t->pd[i].key.len == k.len && memcmp(t->pd[i].key.p, k.p, k.len) == 0)
			break;
	if (i == t->npd) {
		t->pd = xrealloc(t->pd, (t->npd + 1) * sizeof(*t->pd));
		t->pd[t->npd].key = k;
		t->pd[t->npd].d = 0;
		t->npd++;
	} else {
		buf_free(&k);
	}
	t->pd[i].d += d;
}

/* Writes (put) or deletes the entry k; a delete of an absent entry is no error. */
static int
entry_set(struct txn *t, const struct buf *k, int put, int active)
{
	MDB_val kk = val_of(k->p, k->len), v = val_of(active ? "1" : "0", 1);
	int rc;

	if (put)
		rc = mdb_put(t->txn, t->s->dbi[DB_PIDX], &kk, &v, 0);
	else if ((rc = mdb_del(t->txn, t->s->dbi[DB_PIDX], &kk, NULL)) == MDB_NOTFOUND)
		rc = 0;
	return rc ? st_fail(t->s, put ? "write people index" : "delete from people index", rc) :
	    0;
}

int
st_pidx_update(struct txn *t, const struct person *old, const struct person *cur)
{
	struct buf ko = { 0 }, kn = { 0 };
	int rc = 0, f, ho, hn, same;

	for (f = 0; f < PIDX_NFIELDS && rc == 0; f++) {
		ho = old && entry_key((enum pidx_field)f, old, &ko) == 0;
		hn = cur && entry_key((enum pidx_field)f, cur, &kn) == 0;
		same = ho && hn && ko.len == kn.len && memcmp(ko.p, kn.p, ko.len) == 0;
		if (same && old->active == cur->active)
			continue;
		if (ho && !same)
			rc = entry_set(t, &ko, 0, 0);
		if (hn && rc == 0)
			rc = entry_set(t, &kn, 1, cur->active);
		if (ho)
			count(t, (enum pidx_field)f, old, -1);
		if (hn)
			count(t, (enum pidx_field)f, cur, 1);
	}
	buf_free(&ko);
	buf_free(&kn);
	return rc;
}

/* The counter under key k (0 when absent). */
static int
counter_get(struct txn *t, const struct buf *k, uint64_t *n)
{
	MDB_val kk = val_of(k->p, k->len), v;
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
st_pidx_flush(struct txn *t)
{
	struct buf k = { 0 };
	unsigned char b[8];
	uint64_t n;
	MDB_val kk, v;
	size_t i;
	int rc = 0;

	for (i = 0; i < t->npd && rc == 0; i++) {
		if (t->pd[i].d == 0)
			continue;
		buf_reset(&k);
		buf_addc(&k, PIDX_COUNTER);
		buf_add(&k, t->pd[i].key.p, t->pd[i].key.len);
		if ((rc = counter_get(t, &k, &n)) < 0)
			break;
		n = (uint64_t)((int64_t)n + t->pd[i].d);
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
	st_pidx_drop(t);
	return rc;
}

void
st_pidx_drop(struct txn *t)
{
	for (size_t i = 0; i < t->npd; i++)
		buf_free(&t->pd[i].key);
	free(t->pd);
	t->pd = NULL;
	t->npd = 0;
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

int
store_pidx_count(struct txn *t, const struct pidx_sel *sel, uint64_t *n)
{
	struct buf k = { 0 }, v = { 0 };
	uint64_t c;
	int rc = -1;

	*n = 0;
	if (pidx_present(t) < 0)
		return -1;
	buf_addc(&k, PIDX_COUNTER);
	if (sel_value(sel, &v) < 0) {
		rc = 0;		/* a selection nobody can match */
		goto out;
	}
	buf_add(&k, v.p, v.len);
	buf_addc(&k, '1');
	if (counter_get(t, &k, &c) < 0)
		goto out;
	*n = c;
	if (sel->all) {
		k.p[k.len - 1] = '0';
		if (counter_get(t, &k, &c) < 0)
			goto out;
		*n += c;
	}
	rc = 0;
out:
	buf_free(&k);
	buf_free(&v);
	return rc;
}

int
store_pidx_page(struct txn *t, const struct pidx_sel *sel, uint64_t skip, size_t n,
    store_pidx_cb cb, void *arg)
{
	struct buf pre = { 0 };
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc, r = 0;

	if (pidx_present(t) < 0)
		return -1;
	if (sel_value(sel, &pre) < 0) {
		buf_free(&pre);
		return 0;
	}
	buf_addc(&pre, '\0');
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_PIDX], &c)) != 0)
		goto out;
	k = val_of(pre.p, pre.len);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && n > 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < pre.len + 9 || memcmp(k.mv_data, pre.p, pre.len) != 0)
			break;
		if (!sel->all && (v.mv_size != 1 || *(const char *)v.mv_data != '1'))
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		n--;
		r = cb(get_be64((const unsigned char *)k.mv_data + k.mv_size - 8),
		    v.mv_size == 1 && *(const char *)v.mv_data == '1', arg);
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

/* ---- building and checking ---- */

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
	    store_person_each(t, build_cb, t) < 0 || st_pidx_flush(t) < 0)
		return st_failf(t->s, "building the people index: %s", t->s->err);
	v = val_of("1", 1);
	return mdb_put(t->txn, t->s->dbi[DB_META], &k, &v, 0) ? -1 : 0;
}

struct pverify {
	struct txn	*t;
	FILE		*f;
	long		 problems;
	struct buf	 k;
	struct pidx_delta *sums;	/* expected counters */
};

/* A problem: what is wrong with the entry (or counter) whose key starts with k. */
static void
vproblem(struct pverify *pv, const char *what, const char *k, size_t klen, uint64_t id)
{
	static const char *const names[] = { "all", "status", "platform", "type", "team",
	    "platform+status" };
	const char *kind = "?";
	size_t at = klen > 0 && k[0] == PIDX_COUNTER ? 1 : 0;

	for (int f = 0; f < PIDX_NFIELDS; f++)
		if (klen > at && k[at] == field_byte[f])
			kind = names[f];
	pv->problems++;
	if (pv->problems > 1000)
		return;
	if (at)
		fprintf(pv->f, "pidx: %s %s index counter\n", what, kind);
	else
		fprintf(pv->f, "pidx: person %llu: %s %s index entry\n", (unsigned long long)id,
		    what, kind);
}

/* Each person has every entry it should, with the right value; counted in t's sums. */
static int
verify_person_cb(const struct person *p, void *arg)
{
	struct pverify *pv = arg;
	MDB_val k, v;

	for (int f = 0; f < PIDX_NFIELDS; f++) {
		if (entry_key((enum pidx_field)f, p, &pv->k) < 0)
			continue;
		count(pv->t, (enum pidx_field)f, p, 1);
		k = val_of(pv->k.p, pv->k.len);
		if (mdb_get(pv->t->txn, pv->t->s->dbi[DB_PIDX], &k, &v) != 0)
			vproblem(pv, "missing", pv->k.p, pv->k.len, p->id);
		else if (v.mv_size != 1 || *(const char *)v.mv_data != (p->active ? '1' : '0'))
			vproblem(pv, "wrong active mark on", pv->k.p, pv->k.len, p->id);
	}
	return 0;
}

/* Each entry names a person who has it; each counter matches the people counted. */
static int
verify_entry_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct pverify *pv = arg;
	struct person p;
	uint64_t id, want = 0;
	size_t i;
	int found = 0;

	if (k->mv_size > 0 && *(const char *)k->mv_data == PIDX_COUNTER) {
		for (i = 0; i < pv->t->npd; i++)
			if (pv->t->pd[i].key.len + 1 == k->mv_size &&
			    memcmp(pv->t->pd[i].key.p, (char *)k->mv_data + 1, k->mv_size - 1) == 0) {
				want = (uint64_t)pv->t->pd[i].d;
				pv->t->pd[i].d = -1;	/* seen */
			}
		if (v->mv_size != 8 || get_be64(v->mv_data) != want)
			vproblem(pv, "wrong", k->mv_data, k->mv_size, 0);
		return 0;
	}
	id = k->mv_size >= 10 ? get_be64((const unsigned char *)k->mv_data + k->mv_size - 8) : 0;
	if (store_person_get(pv->t, id, &p) == 0) {
		for (int f = 0; f < PIDX_NFIELDS && !found; f++)
			found = entry_key((enum pidx_field)f, &p, &pv->k) == 0 &&
			    pv->k.len == k->mv_size && memcmp(pv->k.p, k->mv_data, k->mv_size) == 0;
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
	if (store_person_each(t, verify_person_cb, &pv) < 0 ||
	    st_each(t, DB_PIDX, NULL, 0, verify_entry_cb, &pv) < 0)
		goto out;
	for (i = 0; i < t->npd; i++)
		if (t->pd[i].d > 0) {
			char kb[2] = { PIDX_COUNTER, t->pd[i].key.p[0] };
			vproblem(&pv, "missing", kb, 2, 0);
		}
	ret = pv.problems;
out:
	st_pidx_drop(t);
	buf_free(&pv.k);
	return ret;
}
