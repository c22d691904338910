/*
 * query.c — a page of the people table for the admin console (include/query.h). The fast
 * path: the default order and filters the people indexes hold, a page read by a cursor
 * that skips index keys (no person read but the page's). Otherwise the index range of the
 * filters is walked (in the default order), each person in it read and checked against the
 * search and the stale filter, and the matches sorted, ties kept in the default order.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "query.h"

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

static int
fast(const struct query *q)
{
	return q->sort == QS_NAME && !q->desc && (q->search == NULL || *q->search == '\0') &&
	    !q->f.stale;
}

/* ---- the slow path: candidates from the index, checked and sorted ---- */

struct cand {
	int64_t		 k;		/* the sort key of numbers */
	char		*s;		/* ... of text */
	uint64_t	 pos;		/* in the default order */
	uint64_t	 id;
};

struct walk {
	struct txn		*t;
	const struct query	*q;
	struct cand		*c;
	size_t			 n, cap;
	uint64_t		 pos;
	uint64_t		*uid_people;	/* the people with an account of that user id */
	size_t			 nuid;
	int			 err;
};

static int
contains_ci(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle) != NULL;
}

static int
search_match(const struct walk *w, const struct person *p)
{
	const char *s = w->q->search;

	if (s == NULL || *s == '\0' || contains_ci(p->name, s) || contains_ci(p->email, s))
		return 1;
	for (size_t i = 0; i < w->nuid; i++)
		if (w->uid_people[i] == p->id)
			return 1;
	return 0;
}

/* A lower-cased copy of s (ASCII), compared with strcmp: strcasecmp's order, cheaper. */
static char *
lower_dup(const char *s)
{
	char *d = xstrdup(s ? s : "");

	for (char *x = d; *x; x++)
		if (*x >= 'A' && *x <= 'Z')
			*x = (char)(*x + 32);
	return d;
}

/* The sort key of p for q's sort. */
static void
sort_key(const struct query *q, const struct person *p, struct cand *c)
{
	c->k = 0;
	c->s = NULL;
	switch (q->sort) {
	case QS_EMAIL:
		c->s = lower_dup(p->email);
		break;
	case QS_STATUS:
		c->k = p->status;
		break;
	case QS_PLATFORM:
		c->k = p->primary_platform;
		break;
	case QS_TEAM:
		c->s = lower_dup(p->primary_team_id);
		break;
	case QS_TYPE:
		c->k = p->sync_type;
		break;
	case QS_PROMPTED:
		c->k = p->last_prompted_at;
		break;
	case QS_PROMPTS:
		c->k = p->prompt_count;
		break;
	case QS_SYNCED:
		c->k = p->synced_at;
		break;
	default:
		break;
	}
}

static int
walk_cb(uint64_t id, int active, void *arg)
{
	struct walk *w = arg;
	struct person p;
	int rc;

	(void)active;
	w->pos++;
	if ((rc = store_person_get(w->t, id, &p)) != 0) {
		w->err = rc < 0;
		return rc < 0 ? -1 : 0;
	}
	if ((!w->q->f.stale || (p.status == ST_PENDING && p.last_prompted_at > 0 &&
	    p.last_prompted_at < w->q->f.stale_before)) && search_match(w, &p)) {
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 1024;
			w->c = xrealloc(w->c, w->cap * sizeof(*w->c));
		}
		sort_key(w->q, &p, &w->c[w->n]);
		w->c[w->n].pos = w->pos;
		w->c[w->n].id = id;
		w->n++;
	}
	person_free(&p);
	return 0;
}

/* The people with an account whose user id is the search (any case). */
static int
uid_cb(const struct account *a, void *arg)
{
	struct walk *w = arg;

	if (a->person_id != 0 && strcasecmp(a->user_id, w->q->search) == 0) {
		w->uid_people = xrealloc(w->uid_people, (w->nuid + 1) * sizeof(*w->uid_people));
		w->uid_people[w->nuid++] = a->person_id;
	}
	return 0;
}

/* Whether s could be a user id: one word of letters, digits and - _ . */
static int
id_like(const char *s)
{
	return s && *s && strlen(s) <= 64 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmno"
	    "pqrstuvwxyz0123456789-_.") == strlen(s);
}

static const struct query *cmp_q;	/* qsort has no argument; a read txn's thread only */

static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c;

	if (x->s || y->s)
		c = strcmp(x->s ? x->s : "", y->s ? y->s : "");
	else
		c = x->k < y->k ? -1 : x->k > y->k;
	if (cmp_q->desc)
		c = -c;
	return c ? c : (x->pos < y->pos ? -1 : x->pos > y->pos);
}

/* Every match of q, sorted, into w. 0 or -1. */
static int
slow_walk(struct txn *t, const struct query *q, const struct pidx_sel *sel, struct walk *w)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

	memset(w, 0, sizeof(*w));
	w->t = t;
	w->q = q;
	if (id_like(q->search) && store_account_each(t, -1, uid_cb, w) < 0)
		return -1;
	if (store_pidx_page(t, sel, 0, SIZE_MAX, walk_cb, w) < 0 || w->err)
		return -1;
	pthread_mutex_lock(&mu);
	cmp_q = q;
	qsort(w->c, w->n, sizeof(*w->c), cand_cmp);
	pthread_mutex_unlock(&mu);
	return 0;
}

static void
walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->c[i].s);
	free(w->c);
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

int
query_run(struct txn *t, const struct query *q, struct query_result *r)
{
	struct pidx_sel sel;
	struct page pg = { t, r, 0 };
	struct walk w;
	uint64_t skip = q->page * q->size;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (selection(q, &sel) < 0)
		return 0;
	if (fast(q)) {
		r->indexed = 1;
		if (store_pidx_count(t, &sel, &r->total) < 0)
			return -1;
		return store_pidx_page(t, &sel, skip, q->size, page_cb, &pg);
	}
	if (slow_walk(t, q, &sel, &w) < 0)
		goto out;
	r->total = w.n;
	for (uint64_t i = skip; i < w.n && i < skip + q->size; i++)
		if (add_row(&pg, w.c[i].id) < 0)
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
	struct pidx_sel sel;
	struct idlist l = { NULL, 0, 0 };
	struct walk w;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	*ids = NULL;
	*n = 0;
	if (selection(q, &sel) < 0)
		return 0;
	if (fast(q)) {
		rc = store_pidx_page(t, &sel, 0, SIZE_MAX, id_cb, &l);
	} else if ((rc = slow_walk(t, q, &sel, &w)) == 0) {
		for (size_t i = 0; i < w.n; i++)
			id_cb(w.c[i].id, 1, &l);
	}
	walk_free(&w);
	*ids = l.v;
	*n = l.n;
	return rc;
}
