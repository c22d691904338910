/*
 * test_query.c — the console's pages (report/query.c) held to a plain model: a database of
 * varied people (names that differ only in case, names longer than the index's cut, no name,
 * an empty name, accounts whose user ids are searched), and for many random queries (every
 * filter, search and sort, both directions, first, middle and last pages) the page and the
 * whole list of ids must be those of a model that reads every person, filters them one by
 * one and sorts them all with qsort. Also the record read in place (store_person_view_get)
 * against the decoded one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "query.h"
#include "store_fixture.h"

#define NPEOPLE	1500
#define STALE_BEFORE	1760002000

static uint64_t rng = 88172645463325252ull;

static uint64_t
rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

static const char *const names[] = { "Ana Garcia", "ana garcia", "ANA GARCIA", "Bo Smith",
	"Chen Li", "Zoë Ærø", "", "dara o'neil", "Eli", "eli" };

/* A name: often shared (in any case), sometimes long, sometimes none. */
static char *
make_name(uint64_t i)
{
	char b[400];
	uint64_t r = rnd(20);

	if (r == 0)
		return NULL;
	if (r == 1) {
		memset(b, 'x', 170);
		snprintf(b + 170, sizeof(b) - 170, "%llu", (unsigned long long)rnd(3));
		b[0] = rnd(2) ? 'L' : 'l';
		return strdup(b);
	}
	snprintf(b, sizeof(b), "%s%s%llu", names[rnd(10)], rnd(3) ? " " : "",
	    (unsigned long long)(rnd(4) ? i % 97 : 0));
	return strdup(b);
}

static void
make_person(uint64_t i, struct person *p)
{
	char b[64];

	memset(p, 0, sizeof(*p));
	p->name = make_name(i);
	snprintf(b, sizeof(b), "%sser%llu@Corp%llu.example", rnd(2) ? "U" : "u",
	    (unsigned long long)rnd(400), (unsigned long long)rnd(3));
	p->email = rnd(15) ? strdup(b) : NULL;
	p->active = rnd(10) != 0;
	p->status = (uint8_t)rnd(3);
	p->primary_platform = (int8_t)((int)rnd(4) - 1);
	if (p->primary_platform >= 0 && rnd(6)) {
		snprintf(b, sizeof(b), "%sT%llu", rnd(2) ? "" : "t", (unsigned long long)rnd(5));
		p->primary_team_id = strdup(b);
	}
	p->sync_type = (uint8_t)rnd(3);
	p->prompt_count = (int32_t)rnd(4);
	p->last_prompted_at = rnd(4) ? 1760000000 + (int64_t)rnd(4000) : 0;
	p->synced_at = rnd(2) ? 1750000000 + (int64_t)rnd(50) : 0;
}

static void
populate(struct store *st)
{
	struct txn *t = store_begin(st, 1);
	struct person p;
	struct account a;
	char uid[32];

	assert_non_null(t);
	for (uint64_t i = 0; i < NPEOPLE; i++) {
		make_person(i, &p);
		assert_int_equal(store_person_put(t, &p), 0);
		if (i % 50 == 0) {
			memset(&a, 0, sizeof(a));
			a.platform = PLAT_SLACK;
			a.team_id = "T1";
			snprintf(uid, sizeof(uid), "U%04llu", (unsigned long long)(i % 200));
			a.user_id = uid;
			a.person_id = p.id;
			assert_int_equal(store_account_put(t, &a, 0), 0);
		}
		person_free(&p);
	}
	assert_int_equal(store_commit(t), 0);
}

/* ---- the model ---- */

static struct query mq;		/* qsort's context */

static void
lower(char *d, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s && s[i] && i < max; i++)
		d[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	d[i] = '\0';
}

static int
text_cmp(const char *a, const char *b, size_t max)
{
	char x[512], y[512];

	lower(x, a ? a : "", max);
	lower(y, b ? b : "", max);
	return strcmp(x, y);
}

static int
default_cmp(const struct person *x, const struct person *y)
{
	int c = text_cmp(x->name ? x->name : x->email, y->name ? y->name : y->email, 160);

	return c ? c : (x->id < y->id ? -1 : x->id > y->id);
}

static int
num_cmp(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int
model_cmp(const void *a, const void *b)
{
	const struct person *x = a, *y = b;
	int c = 0;

	switch (mq.sort) {
	case QS_NAME: c = default_cmp(x, y); break;	/* descending: all of it reversed */
	case QS_EMAIL: c = text_cmp(x->email, y->email, 500); break;
	case QS_TEAM: c = text_cmp(x->primary_team_id, y->primary_team_id, 500); break;
	case QS_STATUS: c = num_cmp(x->status, y->status); break;
	case QS_PLATFORM: c = num_cmp(x->primary_platform, y->primary_platform); break;
	case QS_TYPE: c = num_cmp(x->sync_type, y->sync_type); break;
	case QS_PROMPTED: c = num_cmp(x->last_prompted_at, y->last_prompted_at); break;
	case QS_PROMPTS: c = num_cmp(x->prompt_count, y->prompt_count); break;
	case QS_SYNCED: c = num_cmp(x->synced_at, y->synced_at); break;
	default: break;
	}
	if (mq.desc)
		c = -c;
	return c ? c : default_cmp(x, y);
}

struct model {
	struct person	*p;
	size_t		 n;
	uint64_t	 uid[NPEOPLE];	/* people with an account of the searched user id */
	size_t		 nuid;
};

static int
uid_cb(const struct account *a, void *arg)
{
	struct model *m = arg;

	if (mq.search && strcasecmp(a->user_id, mq.search) == 0)
		m->uid[m->nuid++] = a->person_id;
	return 0;
}

static int
has_uid(const struct model *m, uint64_t id)
{
	for (size_t i = 0; i < m->nuid; i++)
		if (m->uid[i] == id)
			return 1;
	return 0;
}

static int
team_ok(const struct person *p, const char *team)
{
	char pl[16];
	const char *colon = strchr(team, ':');
	enum platform want;

	snprintf(pl, sizeof(pl), "%.*s", (int)(colon - team), team);
	assert_int_equal(platform_parse(pl, &want), 0);
	return p->primary_team_id && p->primary_platform == (int)want &&
	    strcmp(p->primary_team_id, colon + 1) == 0;
}

static int
model_cb(const struct person *p, void *arg)
{
	struct model *m = arg;
	const struct report_filter *f = &mq.f;

	if ((!f->all && !p->active) || (f->platform >= 0 && p->primary_platform !=
	    f->platform) || (f->status >= 0 && p->status != f->status) ||
	    (f->type >= 0 && p->sync_type != f->type) || (f->team && !team_ok(p, f->team)))
		return 0;
	if (f->stale && !(p->status == ST_PENDING && p->last_prompted_at > 0 &&
	    p->last_prompted_at < f->stale_before))
		return 0;
	if (mq.search && !(p->name && strcasestr(p->name, mq.search)) &&
	    !(p->email && strcasestr(p->email, mq.search)) && !has_uid(m, p->id))
		return 0;
	m->p = realloc(m->p, (m->n + 1) * sizeof(*m->p));
	person_copy(&m->p[m->n++], p);
	return 0;
}

static void
model_run(struct txn *t, struct model *m)
{
	memset(m, 0, sizeof(*m));
	assert_int_equal(store_account_each(t, -1, uid_cb, m), 0);
	assert_int_equal(store_person_each(t, model_cb, m), 0);
	if (m->n)
		qsort(m->p, m->n, sizeof(*m->p), model_cmp);
}

static void
model_free(struct model *m)
{
	for (size_t i = 0; i < m->n; i++)
		person_free(&m->p[i]);
	free(m->p);
}

/* ---- the queries ---- */

static const char *const searches[] = { "garcia", "ANA G", "smith 1", "u0050", "U0100",
	"user1", "@corp2", "xxxxxxxxxx", "ærø", "zz-none", "'", "eli" };
static const char *const teams[] = { "slack:T1", "teams:tT2", "webex:T0", "slack:T4" };

static void
random_query(struct query *q)
{
	struct report_filter init = REPORT_FILTER_INIT;

	memset(q, 0, sizeof(*q));
	q->f = init;
	q->f.platform = rnd(4) ? -1 : (int)rnd(3);
	q->f.status = rnd(3) ? -1 : (int)rnd(3);
	q->f.type = rnd(4) ? -1 : (int)rnd(3);
	q->f.team = rnd(5) ? NULL : teams[rnd(4)];
	q->f.all = (int)rnd(2);
	q->f.stale = rnd(5) == 0;
	q->f.stale_before = STALE_BEFORE;
	q->search = rnd(3) ? NULL : searches[rnd(12)];
	q->sort = (enum query_sort)rnd(QS_COUNT);
	q->desc = (int)rnd(2);
	q->size = 1 + rnd(60);
}

/* q's page p, its total and every id, against the model. */
static void
check_page(struct txn *t, struct query *q, const struct model *m, uint64_t page)
{
	struct query_result r;

	q->page = page;
	assert_int_equal(query_run(t, q, &r), 0);
	assert_int_equal(r.total, m->n);
	for (size_t i = 0; i < r.n; i++) {
		size_t at = (size_t)(page * q->size) + i;
		assert_true(at < m->n);
		if (r.rows[i].p.id != m->p[at].id)
			fail_msg("sort %s desc %d search %s: rank %zu is %llu, not %llu",
			    query_sort_names[q->sort], q->desc, q->search ? q->search : "-", at,
			    (unsigned long long)r.rows[i].p.id, (unsigned long long)m->p[at].id);
	}
	assert_int_equal(r.n, page * q->size >= m->n ? 0 :
	    m->n - page * q->size < q->size ? m->n - page * q->size : q->size);
	query_result_free(&r);
}

static void
test_pages_match_the_model(void **state)
{
	struct fx *f = *state;
	struct txn *t;
	struct query q;
	struct model m;
	uint64_t *ids;
	size_t n;

	populate(f->st);
	assert_non_null(t = store_begin(f->st, 0));
	for (int round = 0; round < 400; round++) {
		random_query(&q);
		mq = q;
		model_run(t, &m);
		check_page(t, &q, &m, 0);
		check_page(t, &q, &m, m.n / q.size / 2);
		check_page(t, &q, &m, m.n ? (m.n - 1) / q.size : 0);
		check_page(t, &q, &m, m.n / q.size + 1);
		assert_int_equal(query_ids(t, &q, &ids, &n), 0);
		assert_int_equal(n, m.n);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(ids[i], m.p[i].id);
		free(ids);
		model_free(&m);
	}
	store_abort(t);
}

/* A page in the descending order of names is the ascending one reversed (ties aside). */
static void
test_name_descending_reverses(void **state)
{
	struct fx *f = *state;
	struct report_filter init = REPORT_FILTER_INIT;
	struct query q = { .f = init, .sort = QS_NAME, .desc = 1, .size = 1 };
	struct query_result first, last;
	struct txn *t;

	populate(f->st);
	assert_non_null(t = store_begin(f->st, 0));
	q.f.all = 1;
	assert_int_equal(query_run(t, &q, &first), 0);
	q.desc = 0;
	q.page = first.total - 1;
	assert_int_equal(query_run(t, &q, &last), 0);
	assert_int_equal(first.n, 1);
	assert_int_equal(last.n, 1);
	assert_int_equal(strcasecmp(first.rows[0].p.name ? first.rows[0].p.name : "",
	    last.rows[0].p.name ? last.rows[0].p.name : ""), 0);
	assert_true(first.rows[0].p.name && (first.rows[0].p.name[0] == 'z' ||
	    first.rows[0].p.name[0] == 'Z'));
	query_result_free(&first);
	query_result_free(&last);
	store_abort(t);
}

/* Every field read in place is the decoded one. */
static void
test_view_is_the_record(void **state)
{
	struct fx *f = *state;
	struct txn *t;
	struct person p;
	struct person_view v;

	populate(f->st);
	assert_non_null(t = store_begin(f->st, 0));
	for (uint64_t id = 1; id <= NPEOPLE; id++) {
		assert_int_equal(store_person_get(t, id, &p), 0);
		assert_int_equal(store_person_view_get(t, id, &v), 0);
		assert_int_equal(v.id, p.id);
		assert_int_equal(v.name != NULL, p.name != NULL);
		if (p.name)
			assert_true(v.name_len == strlen(p.name) &&
			    memcmp(v.name, p.name, v.name_len) == 0);
		assert_int_equal(v.email != NULL, p.email != NULL);
		assert_int_equal(v.team != NULL, p.primary_team_id != NULL);
		assert_int_equal(v.active, p.active);
		assert_int_equal(v.status, p.status);
		assert_int_equal(v.primary_platform, p.primary_platform);
		assert_int_equal(v.sync_type, p.sync_type);
		assert_int_equal(v.prompt_count, p.prompt_count);
		assert_int_equal(v.last_prompted_at, p.last_prompted_at);
		assert_int_equal(v.synced_at, p.synced_at);
		assert_int_equal(v.version, p.version);
		person_free(&p);
	}
	assert_int_equal(store_person_view_get(t, NPEOPLE + 1, &v), STORE_NOTFOUND);
	store_abort(t);
}

#define WITH_DB(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = { WITH_DB(test_pages_match_the_model),
		WITH_DB(test_name_descending_reverses), WITH_DB(test_view_is_the_record) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
