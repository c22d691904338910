/*
 * query.c — a page of the people table for the admin console (include/query.h). The pages
 * the indexes answer: the default order either way, or a sort by status, primary platform
 * or sync type (the ranges of its values in turn), filtered by the facts the indexes hold;
 * a cursor skips index keys and no person is read but the page's. Otherwise (a search, the
 * stale filter, another sort) the candidates are read in place (store/peek.c): the index
 * range of the filters person by person when it is narrow, else one pass over every person
 * record; each is checked against the filters, the search and the stale filter, its keys
 * kept as numbers (query_sort.c), and only the page's ranks are put in order.
 */
#include <stdlib.h>
#include <string.h>

#include "query_p.h"

const char *const query_sort_names[QS_COUNT] = {
	"name", "email", "status", "platform", "team", "type", "prompted", "prompts", "synced"
};

int
query_team_parse(const char *s, int *pl, const char **team)
{
	const char *colon = s ? strchr(s, ':') : NULL;
	char name[16];
	enum platform p;

	if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof(name) ||
	    colon[1] == '\0')
		return -1;
	memcpy(name, s, (size_t)(colon - s));
	name[colon - s] = '\0';
	if (platform_parse(name, &p) < 0)
		return -1;
	*pl = (int)p;
	*team = colon + 1;
	return 0;
}

/* The index selection of q's filters: 0, or -1 when the team filter is malformed (nobody
 * matches). */
static int
selection(const struct query *q, struct pidx_sel *sel)
{
	struct pidx_sel init = PIDX_SEL_INIT;
	int pl;

	*sel = init;
	sel->status = q->f.status;
	sel->platform = q->f.platform >= 0 ? q->f.platform : PIDX_ANY;
	sel->type = q->f.type;
	sel->all = q->f.all;
	if (q->f.team) {
		if (query_team_parse(q->f.team, &pl, &sel->team) < 0 ||
		    (q->f.platform >= 0 && q->f.platform != pl))
			return -1;
		sel->platform = pl;
	}
	return 0;
}

/* ---- the pages the indexes answer ---- */

#define NSEG	(PLAT_COUNT + 1)

/* Whether the indexes answer q: no search, no stale filter, and the default order (either
 * way) or a sort by a fact they hold (status, primary platform, sync type). */
static int
indexed(const struct query *q)
{
	return (q->search == NULL || *q->search == '\0') && !q->f.stale &&
	    (q->sort == QS_NAME || q->sort == QS_STATUS || q->sort == QS_PLATFORM ||
	    q->sort == QS_TYPE);
}

/* The field of s that q's sort (by status, sync type or primary platform) is about. */
static int *
fact_of(enum query_sort sort, struct pidx_sel *s)
{
	return sort == QS_STATUS ? &s->status : sort == QS_TYPE ? &s->type : &s->platform;
}

/* The selections whose ranges, one after the other, are q's order: sel itself, or for a
 * sort by a fact one per value of it (in the sort's direction; each range in the default
 * order, as the ties of every sort are). Their number. */
static size_t
segments(const struct query *q, const struct pidx_sel *sel, struct pidx_sel seg[NSEG])
{
	int lo = q->sort == QS_PLATFORM ? -1 : 0;	/* no primary platform first */
	int hi = q->sort == QS_PLATFORM ? PLAT_COUNT - 1 : 2;
	int any = q->sort == QS_PLATFORM ? PIDX_ANY : -1;
	size_t n = 0;

	seg[0] = *sel;
	if (q->sort == QS_NAME || *fact_of(q->sort, &seg[0]) != any)
		return 1;		/* filtered on that fact: one value */
	for (int i = 0; i <= hi - lo; i++) {
		seg[n] = *sel;
		*fact_of(q->sort, &seg[n++]) = q->desc ? hi - i : lo + i;
	}
	return n;
}

/* Reverses the rows (a page of the default order read forwards: the descending one). */
static void
reverse_rows(struct query_result *r)
{
	for (size_t i = 0; i < r->n / 2; i++) {
		struct report_row x = r->rows[i];
		r->rows[i] = r->rows[r->n - 1 - i];
		r->rows[r->n - 1 - i] = x;
	}
}

/* ---- the other pages: candidates read in place, the page's ranks selected ---- */

struct walk {
	struct txn		*t;
	const struct query	*q;
	const struct pidx_sel	*sel;
	struct qcands		 c;
	char			*needle;	/* the search, lower-cased; NULL: none */
	size_t			 nlen;
	uint64_t		*uid_people;	/* the people with an account of that user id,
						 * sorted */
	size_t			 nuid;
};

/* Whether hay (n bytes) holds w's needle, ASCII case-insensitively. */
static int
contains_ci(const struct walk *w, const char *hay, size_t n)
{
	const char *nd = w->needle;

	for (size_t i = 0; hay && i + w->nlen <= n; i++) {
		size_t j = 0;
		while (j < w->nlen) {
			unsigned char c = (unsigned char)hay[i + j];
			if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (unsigned char)nd[j])
				break;
			j++;
		}
		if (j == w->nlen)
			return 1;
	}
	return 0;
}

static int
id_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
search_match(const struct walk *w, const struct person_view *v)
{
	if (w->needle == NULL || contains_ci(w, v->name, v->name_len) ||
	    contains_ci(w, v->email, v->email_len))
		return 1;
	return w->nuid && bsearch(&v->id, w->uid_people, w->nuid, sizeof(uint64_t),
	    id_cmp) != NULL;
}

/* Whether v has the facts of sel (the index walk checked them already; the scan did not). */
static int
sel_match(const struct pidx_sel *sel, const struct person_view *v)
{
	return (sel->all || v->active) && (sel->status < 0 || v->status == sel->status) &&
	    (sel->platform == PIDX_ANY || v->primary_platform == sel->platform) &&
	    (sel->type < 0 || v->sync_type == sel->type) &&
	    (sel->team == NULL || (v->team && v->team_len == strlen(sel->team) &&
	    memcmp(v->team, sel->team, v->team_len) == 0));
}

static int
view_cb(const struct person_view *v, void *arg)
{
	struct walk *w = arg;
	const struct report_filter *f = &w->q->f;

	if (sel_match(w->sel, v) && (!f->stale || (v->status == ST_PENDING &&
	    v->last_prompted_at > 0 && v->last_prompted_at < f->stale_before)) &&
	    search_match(w, v))
		qc_add(&w->c, v);
	return 0;
}

/* An entry of the index's range: the person read in place. */
static int
entry_cb(uint64_t id, int active, void *arg)
{
	struct walk *w = arg;
	struct person_view v;
	int rc;

	(void)active;
	if ((rc = store_person_view_get(w->t, id, &v)) != 0)
		return rc < 0 ? -1 : 0;
	return view_cb(&v, w);
}

/* The people with an account whose user id is the search (any case). */
static int
uid_cb(uint64_t id, void *arg)
{
	struct walk *w = arg;

	w->uid_people = xrealloc(w->uid_people, (w->nuid + 1) * sizeof(*w->uid_people));
	w->uid_people[w->nuid++] = id;
	return 0;
}

/* Whether s could be a user id: one word of letters, digits and - _ . */
static int
id_like(const char *s)
{
	return s && *s && strlen(s) <= 64 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmno"
	    "pqrstuvwxyz0123456789-_.") == strlen(s);
}

/* The source of the candidates: the index's range when it holds under a tenth of everyone
 * (each person in it read by id: about 1.3 us each at 1M people), else one pass over every
 * person record (in id order: about 0.15 us each). 0 or -1. */
static int
collect(struct walk *w)
{
	struct pidx_sel every = PIDX_SEL_INIT;
	uint64_t n, all;

	every.all = 1;
	if (store_pidx_count(w->t, w->sel, &n) < 0 || store_pidx_count(w->t, &every, &all) < 0)
		return -1;
	if (n == 0)
		return 0;
	if (n < all / 10)
		return store_pidx_page(w->t, w->sel, 0, SIZE_MAX, entry_cb, w);
	return store_person_view_each(w->t, view_cb, w);
}

/* Every match of q into w, unordered (qc_select orders them). 0 or -1. */
static int
slow_walk(struct txn *t, const struct query *q, struct pidx_sel *sel, struct walk *w)
{
	memset(w, 0, sizeof(*w));
	w->t = t;
	w->q = q;
	w->sel = sel;
	w->c.sort = q->sort;
	w->c.desc = q->desc;
	if (q->f.stale) {
		if (sel->status >= 0 && sel->status != ST_PENDING)
			return 0;		/* stale people are pending: nobody */
		sel->status = ST_PENDING;	/* a narrower range */
	}
	if (q->search && *q->search) {
		w->needle = xstrdup(q->search);
		w->nlen = strlen(w->needle);
		for (char *x = w->needle; *x; x++)
			if (*x >= 'A' && *x <= 'Z')
				*x = (char)(*x + 32);
		if (id_like(q->search) &&
		    store_account_user_people(t, q->search, uid_cb, w) < 0)
			return -1;
		if (w->nuid)
			qsort(w->uid_people, w->nuid, sizeof(*w->uid_people), id_cmp);
	}
	return collect(w);
}

static void
walk_free(struct walk *w)
{
	qc_free(&w->c);
	free(w->needle);
	free(w->uid_people);
}

/* ---- pages ---- */

struct page {
	struct txn		*t;
	struct query_result	*r;
	size_t			 cap;
};

static int
add_row(struct page *pg, uint64_t id)
{
	struct report_row *row;
	int rc;

	if (pg->r->n == pg->cap) {
		pg->cap = pg->cap ? pg->cap * 2 : 16;
		pg->r->rows = xrealloc(pg->r->rows, pg->cap * sizeof(*pg->r->rows));
	}
	row = &pg->r->rows[pg->r->n];
	memset(row, 0, sizeof(*row));
	if ((rc = store_person_get(pg->t, id, &row->p)) != 0)
		return rc == STORE_NOTFOUND ? 0 : -1;
	pg->r->n++;
	return report_row_load(pg->t, row);
}

static int
page_cb(uint64_t id, int active, void *arg)
{
	(void)active;
	return add_row(arg, id) < 0 ? -1 : 0;
}

/* q's page from the indexes alone: the ranges of seg in turn (a page of the default
 * order descending: the mirror page of the ascending one, reversed). 0 or -1. */
static int
indexed_page(struct txn *t, const struct query *q, const struct pidx_sel *seg, size_t nseg,
    struct page *pg)
{
	uint64_t cnt[NSEG], skip = q->page * q->size, left = q->size, end, take;
	int rc = 0;

	pg->r->indexed = 1;
	for (size_t i = 0; i < nseg; i++) {
		if (store_pidx_count(t, &seg[i], &cnt[i]) < 0)
			return -1;
		pg->r->total += cnt[i];
	}
	if (q->sort == QS_NAME && q->desc) {
		end = pg->r->total > skip ? pg->r->total - skip : 0;
		take = end < left ? end : left;
		rc = take ? store_pidx_page(t, seg, end - take, take, page_cb, pg) : 0;
		reverse_rows(pg->r);
		return rc;
	}
	for (size_t i = 0; i < nseg && left > 0 && rc == 0; i++) {
		if (skip >= cnt[i]) {
			skip -= cnt[i];
			continue;
		}
		take = cnt[i] - skip < left ? cnt[i] - skip : left;
		rc = store_pidx_page(t, &seg[i], skip, take, page_cb, pg);
		left -= take;
		skip = 0;
	}
	return rc;
}

int
query_run(struct txn *t, const struct query *q, struct query_result *r)
{
	struct pidx_sel sel, seg[NSEG];
	struct page pg = { t, r, 0 };
	struct walk w;
	uint64_t skip = q->page * q->size, end = 0;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (selection(q, &sel) < 0)
		return 0;
	if (indexed(q))
		return indexed_page(t, q, seg, segments(q, &sel, seg), &pg);
	if (slow_walk(t, q, &sel, &w) < 0)
		goto out;
	r->total = w.c.n;
	if (skip < w.c.n) {
		end = w.c.n - skip > q->size ? skip + q->size : w.c.n;
		qc_select(&w.c, (size_t)skip, (size_t)end);
	}
	for (uint64_t i = skip; i < end; i++)
		if (add_row(&pg, w.c.c[i].id) < 0)
			goto out;
	rc = 0;
out:
	walk_free(&w);
	return rc;
}

void
query_result_free(struct query_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		report_row_free(&r->rows[i]);
	free(r->rows);
	memset(r, 0, sizeof(*r));
}

struct idlist {
	uint64_t	*v;
	size_t		 n, cap;
};

static int
id_cb(uint64_t id, int active, void *arg)
{
	struct idlist *l = arg;

	(void)active;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = id;
	return 0;
}

int
query_ids(struct txn *t, const struct query *q, uint64_t **ids, size_t *n)
{
	struct pidx_sel sel, seg[NSEG];
	struct idlist l = { NULL, 0, 0 };
	struct walk w;
	size_t nseg;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	*ids = NULL;
	*n = 0;
	if (selection(q, &sel) < 0)
		return 0;
	if (indexed(q)) {
		nseg = segments(q, &sel, seg);
		for (size_t i = 0; i < nseg && rc == 0; i++)
			rc = store_pidx_page(t, &seg[i], 0, SIZE_MAX, id_cb, &l);
		for (size_t i = 0; q->sort == QS_NAME && q->desc && i < l.n / 2; i++) {
			uint64_t x = l.v[i];
			l.v[i] = l.v[l.n - 1 - i];
			l.v[l.n - 1 - i] = x;
		}
	} else if ((rc = slow_walk(t, q, &sel, &w)) == 0 && w.c.n) {
		qc_select(&w.c, 0, w.c.n);
		for (size_t i = 0; i < w.c.n; i++)
			id_cb(w.c.c[i].id, 1, &l);
	}
	walk_free(&w);
	*ids = l.v;
	*n = l.n;
	return rc;
}
