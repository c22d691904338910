/*
 * emails.c — the email index (address -> person id, 8 bytes big-endian), and its deferral
 * for reconcile's apply.
 *
 * A first pull of a large roster inserts an address per account at random places of the
 * index: every commit of the apply dirtied (and the disk synced) most of the index's pages.
 * Deferred (store_email_defer), the writes of each committed txn are kept as sorted records
 * (sorted.c) and written in key order when they reach EMAP_MAX addresses and at the end
 * (store_email_settle), so that each page is written about once per flush. Reads during the
 * deferral see the kept writes through two maps of the addresses' 128-bit hashes: the txn's
 * own writes, then those of committed txns not yet written; a delete is written at once (in
 * its txn) and also shadows kept writes. The mark in meta ("emails", as the people index's
 * in store_p.h) tells other writers, `db verify` and store_email_repair that the index is
 * not whole meanwhile; absent means exact.
 */
#include <stdlib.h>
#include <string.h>

#include "extsort.h"
#include "store_p.h"

#define EMAIL_MARK_KEY	"emails"
/* Kept addresses before a flush: the map is 2 x 24 bytes per address at most (3 MiB). */
#define EMAP_MAX	(64u << 10)
#define EMAIL_SORT_MEM	(6u << 20)
#define PID_GONE	UINT64_MAX	/* in a map: deleted */

struct eslot {
	uint64_t	 h1, h2;	/* h1 == 0: empty */
	uint64_t	 pid;
};

/* Open addressing on the hash, never shrunk; cleared whole. */
struct emap {
	struct eslot	*slot;
	size_t		 cap, n;
};

struct email_defer {
	struct extsort	*ops;
	struct emap	 map;
	size_t		 cap;		/* addresses kept before a flush */
	uint64_t	 seq;
	int		 lost;		/* a write could not be kept: settle rebuilds */
};

struct email_pending {
	struct emap	 map;		/* deferred: this txn's writes */
	struct buf	 recs;		/* ... in order: key length (2 bytes), key, person id */
	uint64_t	 n;
	int		 deferred;
	int		 direct;	/* not deferred, and written */
};

/* ---- the maps ---- */

static void
hash2(const char *s, size_t n, uint64_t *h1, uint64_t *h2)
{
	uint64_t a = 0xcbf29ce484222325ull, b = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < n; i++) {
		a = (a ^ (unsigned char)s[i]) * 0x100000001b3ull;
		b = (b ^ (unsigned char)s[i]) * 0xff51afd7ed558ccdull;
		b ^= b >> 29;
	}
	*h1 = a | 1;		/* never 0: 0 is an empty slot */
	*h2 = b;
}

static struct eslot *
emap_find(const struct emap *m, uint64_t h1, uint64_t h2)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	for (i = h1 & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (m->slot[i].h1 == 0)
			return NULL;
		if (m->slot[i].h1 == h1 && m->slot[i].h2 == h2)
			return &m->slot[i];
	}
}

static void emap_set(struct emap *m, uint64_t h1, uint64_t h2, uint64_t pid);

static void
emap_grow(struct emap *m)
{
	struct emap old = *m;

	m->cap = old.cap ? old.cap * 2 : 1024;
	m->slot = xcalloc(m->cap, sizeof(*m->slot));
	m->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slot[i].h1)
			emap_set(m, old.slot[i].h1, old.slot[i].h2, old.slot[i].pid);
	free(old.slot);
}

static void
emap_set(struct emap *m, uint64_t h1, uint64_t h2, uint64_t pid)
{
	struct eslot *e = emap_find(m, h1, h2);
	size_t i;

	if (e) {
		e->pid = pid;
		return;
	}
	if ((m->n + 1) * 2 > m->cap)
		emap_grow(m);
	for (i = h1 & (m->cap - 1); m->slot[i].h1; i = (i + 1) & (m->cap - 1))
		;
	m->slot[i].h1 = h1;
	m->slot[i].h2 = h2;
	m->slot[i].pid = pid;
	m->n++;
}

/* Empty, its slots kept: the next flush's addresses fill the same memory. */
static void
emap_clear(struct emap *m)
{
	if (m->slot)
		memset(m->slot, 0, m->cap * sizeof(*m->slot));
	m->n = 0;
}

static void
emap_free(struct emap *m)
{
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

/* ---- the mark ---- */

static int
email_mark(struct txn *t)
{
	MDB_val k = val_of(EMAIL_MARK_KEY, strlen(EMAIL_MARK_KEY)), v;
	int rc = mdb_get(t->txn, t->s->dbi[DB_META], &k, &v);

	if (rc == MDB_NOTFOUND)
		return PIDX_EXACT;
	if (rc != 0)
		return st_fail(t->s, "read the email index's mark", rc);
	return v.mv_size == 1 ? *(const char *)v.mv_data : PIDX_TOUCHED;
}

static int
email_set_mark(struct txn *t, char mark)
{
	MDB_val k = val_of(EMAIL_MARK_KEY, strlen(EMAIL_MARK_KEY)), v = val_of(&mark, 1);
	int rc = mdb_put(t->txn, t->s->dbi[DB_META], &k, &v, 0);

	return rc ? st_fail(t->s, "write the email index's mark", rc) : 0;
}

int
st_email_exact(struct txn *t)
{
	int m = email_mark(t);

	return m < 0 ? -1 : m == PIDX_EXACT;
}

/* ---- a txn's writes ---- */

static int	ep_flush(struct txn *t);
static void	ep_after(struct txn *t);
static void	ep_drop(struct txn *t);

static struct email_pending *
pending(struct txn *t)
{
	if (t->ep == NULL) {
		t->ep = xcalloc(1, sizeof(*t->ep));
		t->ep_flush = ep_flush;		/* env.c calls these through the txn */
		t->ep_after = ep_after;
		t->ep_drop = ep_drop;
		t->ep->deferred = t->s->ed != NULL;
	}
	return t->ep;
}

/* An address too long (or empty) to be a key is not indexed: it matches nobody. */
static int
email_indexable(MDB_val *k, const char *email)
{
	*k = val_of(email, strlen(email));
	return k->mv_size != 0 && k->mv_size <= KEY_MAX;
}

/* Keeps a deferred write of txn t: in its map (what reads see) and in order. */
static void
keep(struct txn *t, const MDB_val *k, uint64_t pid)
{
	struct email_pending *ep = pending(t);
	unsigned char b[8], h[2] = { (unsigned char)(k->mv_size >> 8), (unsigned char)k->mv_size };
	uint64_t h1, h2;

	hash2(k->mv_data, k->mv_size, &h1, &h2);
	emap_set(&ep->map, h1, h2, pid);
	put_be64(b, pid);
	buf_add(&ep->recs, h, 2);
	buf_add(&ep->recs, k->mv_data, k->mv_size);
	buf_add(&ep->recs, b, 8);
	ep->n++;
}

int
store_email_get(struct txn *t, const char *email, uint64_t *person_id)
{
	const struct eslot *e = NULL;
	uint64_t h1, h2;
	MDB_val k, v;
	int rc;

	if (!email_indexable(&k, email))
		return STORE_NOTFOUND;
	if (t->s->ed) {
		hash2(k.mv_data, k.mv_size, &h1, &h2);
		if (t->ep == NULL || (e = emap_find(&t->ep->map, h1, h2)) == NULL)
			e = emap_find(&t->s->ed->map, h1, h2);
		if (e && e->pid == PID_GONE)
			return STORE_NOTFOUND;
		if (e) {
			*person_id = e->pid;
			return 0;
		}
	}
	rc = mdb_get(t->txn, t->s->dbi[DB_EMAILS], &k, &v);
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc != 0)
		return st_fail(t->s, "read email index", rc);
	*person_id = v.mv_size == 8 ? get_be64(v.mv_data) : 0;
	return 0;
}

int
store_email_put(struct txn *t, const char *email, uint64_t person_id)
{
	unsigned char b[8];
	MDB_val k, v;
	int rc;

	if (!email_indexable(&k, email))
		return 0;
	if (t->s->ed) {
		keep(t, &k, person_id);
		return 0;
	}
	pending(t)->direct = 1;
	v = st_id_key(b, person_id);
	if ((rc = mdb_put(t->txn, t->s->dbi[DB_EMAILS], &k, &v, 0)) != 0)
		return st_fail(t->s, "write email index", rc);
	return 0;
}

int
store_email_del(struct txn *t, const char *email)
{
	MDB_val k;
	int rc;

	if (!email_indexable(&k, email))
		return 0;
	if (t->s->ed)
		keep(t, &k, PID_GONE);	/* shadows and cancels kept writes; the stored one: */
	else
		pending(t)->direct = 1;
	rc = mdb_del(t->txn, t->s->dbi[DB_EMAILS], &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_fail(t->s, "delete from email index", rc);
	return 0;
}

/* At commit: deferred, the mark; written directly while another process defers (or a
 * deferral was interrupted), the mark "touched": the index is rebuilt. */
static int
ep_flush(struct txn *t)
{
	struct email_pending *ep = t->ep;
	int mark;

	if (ep->deferred)
		return ep->n ? email_set_mark(t, PIDX_DEFERRED) : 0;
	if (!ep->direct)
		return 0;
	if ((mark = email_mark(t)) < 0)
		return -1;
	return mark == PIDX_DEFERRED ? email_set_mark(t, PIDX_TOUCHED) : 0;
}

static int	flush_kept(struct store *s);

/* After a deferred txn's commit: its writes join the deferral's, written when many. */
static void
ep_after(struct txn *t)
{
	struct email_pending *ep = t->ep;
	struct email_defer *ed = t->s->ed;
	const unsigned char *p = (const unsigned char *)ep->recs.p, *end = p + ep->recs.len;
	unsigned char b[8];
	struct buf r = { 0 };
	uint64_t pid, seq = ed ? ed->seq : 0;
	size_t i, n;

	if (!ep->deferred || ed == NULL || ep->n == 0)
		return;
	for (; p + 2 <= end && !ed->lost; p += 2 + n + 8) {
		n = (size_t)p[0] << 8 | p[1];
		pid = get_be64(p + 2 + n);
		memcpy(b, p + 2 + n, 8);
		st_sorted_record(&r, p + 2, n, seq++, pid != PID_GONE, b, pid != PID_GONE ? 8 : 0);
		if (extsort_add(ed->ops, r.p, r.len) < 0)
			ed->lost = 1;
	}
	buf_free(&r);
	ed->seq += ep->n;
	for (i = 0; i < ep->map.cap; i++)
		if (ep->map.slot[i].h1)
			emap_set(&ed->map, ep->map.slot[i].h1, ep->map.slot[i].h2,
			    ep->map.slot[i].pid);
	if (ed->map.n >= ed->cap && !ed->lost && flush_kept(t->s) < 0)
		ed->lost = 1;
}

static void
ep_drop(struct txn *t)
{
	if (t->ep == NULL)
		return;
	emap_free(&t->ep->map);
	buf_free(&t->ep->recs);
	free(t->ep);
	t->ep = NULL;
}

/* ---- the deferral ---- */

static void
ed_free(struct store *s)
{
	if (s->ed == NULL)
		return;
	extsort_free(s->ed->ops);
	emap_free(&s->ed->map);
	free(s->ed);
	s->ed = NULL;
}

void
store_email_defer(struct store *s)
{
	if (s->ed)
		return;
	s->ed = xcalloc(1, sizeof(*s->ed));
	s->ed->ops = extsort_new(s->path, EMAIL_SORT_MEM);
	s->ed->cap = EMAP_MAX;
	s->ed_free = ed_free;
}

void
st_email_defer_cap(struct store *s, size_t cap)
{
	if (s->ed)
		s->ed->cap = cap;
}

/* Writes the kept writes (no txn open: between two of the deferral's commits), and starts
 * keeping anew; reads find them in the index from now on. */
static int
flush_kept(struct store *s)
{
	struct email_defer *ed = s->ed;
	struct st_writer w = { .s = s, .dbi = DB_EMAILS, .what = "write email index" };
	int rc;

	s->ed = NULL;		/* the writer's txns write directly, unmarked */
	rc = st_sorted_write(&w, ed->ops) < 0 || st_writer_commit(&w) < 0 ? -1 : 0;
	st_writer_abort(&w);
	s->ed = ed;
	extsort_reset(ed->ops);
	emap_clear(&ed->map);
	return rc;
}

/* ---- settle, rebuild, repair ---- */

/* The last txn: the mark exact if it is still "deferred". 1 when it was touched, 0, -1. */
static int
finish(struct store *s)
{
	struct txn *t = store_begin(s, 1);
	int mark;

	if (t == NULL || (mark = email_mark(t)) < 0 ||
	    (mark == PIDX_DEFERRED && email_set_mark(t, PIDX_EXACT) < 0)) {
		store_abort(t);
		return -1;
	}
	return store_commit(t) < 0 ? -1 : mark != PIDX_DEFERRED;
}

int
store_email_settle(struct store *s)
{
	struct email_defer *ed = s->ed;
	int rc = 0;

	if (ed == NULL)
		return 0;
	if (ed->seq > 0 && !ed->lost)
		rc = flush_kept(s) < 0 ? -1 : finish(s);
	else if (ed->seq > 0)
		rc = 1;
	ed_free(s);
	if (rc == 1)
		rc = st_email_rebuild(s);
	return rc;
}

struct erebuild {
	struct extsort	*x;
	struct buf	 rec;
	int		 failed;
};

/* One address of person pid; a person's own address (prio 1) wins over its accounts'. */
static int
add_one(struct erebuild *b, const char *email, uint64_t pid, int prio)
{
	unsigned char v[8];
	MDB_val k;

	if (!email_indexable(&k, email))
		return 0;
	put_be64(v, pid);
	st_sorted_record(&b->rec, k.mv_data, k.mv_size, (uint64_t)prio, 1, v, 8);
	if (extsort_add(b->x, b->rec.p, b->rec.len) < 0)
		b->failed = 1;
	return b->failed ? -1 : 0;
}

static int
rebuild_person_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct person p;
	int rc = 0;

	(void)k;
	if (codec_person_decode(v->mv_data, v->mv_size, &p) < 0)
		return 0;		/* db verify reports it */
	if (p.email && !(p.flags & PERSON_CONFLICT))
		rc = add_one(arg, p.email, p.id, 1);
	person_free(&p);
	return rc;
}

/* The addresses of a linked account (as the apply indexes them). */
static int
rebuild_account_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct account a;
	int rc = 0;

	(void)k;
	if (codec_account_decode(v->mv_data, v->mv_size, &a) < 0)
		return 0;
	for (int i = 0; a.person_id && !(a.flags & ACCT_CONFLICT) && i < a.nemails && !rc; i++)
		rc = add_one(arg, a.emails[i], a.person_id, 0);
	account_free(&a);
	return rc;
}

/* One rebuild: 0, 1 when the index was written meanwhile (the mark says so), -1. */
static int
rebuild_once(struct store *s)
{
	struct erebuild b = { .x = extsort_new(s->path, EMAIL_SORT_MEM) };
	struct st_writer w = { .s = s, .dbi = DB_EMAILS, .what = "write email index" };
	struct txn *t;
	int rc = -1;

	if ((t = store_begin(s, 1)) == NULL || email_set_mark(t, PIDX_DEFERRED) < 0 ||
	    store_commit(t) < 0) {
		store_abort(t);
		goto out;
	}
	if ((t = store_begin(s, 0)) == NULL)
		goto out;
	rc = st_each(t, DB_PEOPLE, NULL, 0, rebuild_person_cb, &b) < 0 ||
	    st_each(t, DB_ACCOUNTS, NULL, 0, rebuild_account_cb, &b) < 0 ? -1 : 0;
	store_abort(t);
	if (rc < 0) {
		if (b.failed)
			st_failf(s, "email index: %s", extsort_error(b.x));
		goto out;
	}
	rc = -1;
	if ((t = store_begin(s, 1)) == NULL || mdb_drop(t->txn, s->dbi[DB_EMAILS], 0) != 0 ||
	    store_commit(t) < 0) {
		store_abort(t);
		goto out;
	}
	if (st_sorted_write(&w, b.x) < 0 || st_writer_commit(&w) < 0)
		goto out;
	rc = finish(s);
out:
	st_writer_abort(&w);
	extsort_free(b.x);
	buf_free(&b.rec);
	return rc;
}

int
st_email_rebuild(struct store *s)
{
	return st_rebuild_twice(s, rebuild_once, "email index");
}

int
store_email_repair(struct store *s)
{
	int mark = st_read_with(s, email_mark);

	if (mark < 0)
		return -1;
	if (mark == PIDX_EXACT)
		return 0;
	return st_email_rebuild(s) < 0 ? -1 : 1;
}
