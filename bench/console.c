/*
 * console.c — `make bench`: the admin console's server time for a page of the people table
 * (report/query.c over the store's people indexes) on a database of N people.
 *
 *	build/bench/console DIR N
 *
 * Writes N people into a new database in DIR through store_person_put (so the indexes are
 * built as reconcile builds them: a transaction per 10,000 people), with statuses, primary
 * platforms, sync types and a hundred teams spread over them, then times each query several
 * times and prints one line per case: "case<TAB>ms (best of 5)<TAB>rows<TAB>total<TAB>how",
 * how being "indexed" (cursors over index ranges) or "walk" (the people read in place and
 * the page's ranks selected).
 * Exit 0, or 1 with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "store.h"

static const char *const first[] = { "Ana", "Bo", "Chen", "Dara", "Eli", "Fatima", "Goran",
	"Hana", "Ivo", "Jun", "Kemal", "Lea", "Mateo", "Nia", "Oskar", "Priya" };
static const char *const last[] = { "Garcia", "Smith", "Kowalski", "Nguyen", "Okafor",
	"Rossi", "Tanaka", "Dubois", "Jensen", "Silva", "Novak", "Haddad", "Lind" };

/* A person of the synthetic org: varied, deterministic in i. */
static void
make_person(uint64_t i, struct person *p)
{
	char buf[128];
	uint64_t h = i * 2654435761u;

	memset(p, 0, sizeof(*p));
	snprintf(buf, sizeof(buf), "%s %s %llu", first[h % 16], last[(h >> 8) % 13],
	    (unsigned long long)(h % 100000));
	p->name = strdup(buf);
	snprintf(buf, sizeof(buf), "user%llu@corp%llu.com", (unsigned long long)i,
	    (unsigned long long)(h % 7));
	p->email = strdup(buf);
	p->active = (h >> 4) % 50 != 0;
	p->status = (uint8_t)((h >> 12) % 10 < 5 ? ST_OFF : (h >> 12) % 10 < 7 ? ST_PENDING :
	    ST_ON);
	p->primary_platform = (int8_t)((h >> 16) % 3);
	snprintf(buf, sizeof(buf), "T%02llu", (unsigned long long)((h >> 20) % 100));
	p->primary_team_id = strdup(buf);
	p->sync_type = p->primary_platform == PLAT_SLACK ? SYNC_USER : SYNC_BOT;
	p->primary_source = PS_INFERRED;
	p->last_prompted_at = p->status == ST_OFF ? 0 : 1760000000 + (int64_t)(h % 5000000);
	p->prompt_count = p->status == ST_OFF ? 0 : 1 + (int32_t)(h % 3);
	p->created_at = 1750000000;
}

static int
populate(struct store *st, uint64_t n)
{
	struct person p;
	struct txn *t = NULL;

	for (uint64_t i = 0; i < n; i++) {
		if (t == NULL && (t = store_begin(st, 1)) == NULL)
			return -1;
		make_person(i, &p);
		if (store_person_put(t, &p) < 0) {
			person_free(&p);
			store_abort(t);
			return -1;
		}
		person_free(&p);
		if ((i + 1) % 10000 == 0 || i + 1 == n) {
			if (store_commit(t) < 0)
				return -1;
			t = NULL;
		}
	}
	return 0;
}

struct bcase {
	const char	*name;
	int		 platform, status, type;
	const char	*team, *search;
	enum query_sort	 sort;
	int		 desc, stale;
	int		 at;		/* the page: 0 the first, 1 the last, 2 the middle one */
};

/* Best of 5 runs of q, in ms. */
static int
time_case(struct store *st, const struct bcase *c, double *ms, struct query_result *keep)
{
	struct report_filter init = REPORT_FILTER_INIT;
	struct query q;
	int moved = 0;

	memset(&q, 0, sizeof(q));
	q.f = init;
	q.f.platform = c->platform;
	q.f.status = c->status;
	q.f.type = c->type;
	q.f.team = c->team;
	q.f.stale = c->stale;
	q.f.stale_before = 1762000000;
	q.search = c->search;
	q.sort = c->sort;
	q.desc = c->desc;
	q.size = 50;
	*ms = 1e9;
	for (int run = 0; run < 5; run++) {
		struct query_result r;
		struct txn *t = store_begin(st, 0);
		double t0 = ps_monotonic(), dt;
		if (t == NULL || query_run(t, &q, &r) < 0) {
			store_abort(t);
			return -1;
		}
		if (c->at && !moved && r.total > q.size) {
			/* the last page (the longest skip), or the middle one */
			q.page = (r.total - 1) / q.size / (uint64_t)c->at;
			moved = 1;
			query_result_free(&r);
			store_abort(t);
			run--;
			continue;
		}
		dt = (ps_monotonic() - t0) * 1000;
		if (dt < *ms)
			*ms = dt;
		store_abort(t);
		query_result_free(keep);
		*keep = r;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct bcase cases[] = {
		{ "unfiltered, page 1", -1, -1, -1, NULL, NULL, QS_NAME, 0, 0, 0 },
		{ "unfiltered, last page", -1, -1, -1, NULL, NULL, QS_NAME, 0, 0, 1 },
		{ "off on Teams, page 1", PLAT_TEAMS, ST_OFF, -1, NULL, NULL, QS_NAME, 0, 0, 0 },
		{ "off on Teams, last page", PLAT_TEAMS, ST_OFF, -1, NULL, NULL, QS_NAME, 0, 0, 1 },
		{ "status pending, last page", -1, ST_PENDING, -1, NULL, NULL, QS_NAME, 0, 0, 1 },
		{ "team teams:T42, last page", -1, -1, -1, "teams:T42", NULL, QS_NAME, 0, 0, 1 },
		{ "type bot + status on, last page", -1, ST_ON, SYNC_BOT, NULL, NULL, QS_NAME, 0, 0,
		  1 },
		{ "sorted by address, descending", -1, -1, -1, NULL, NULL, QS_EMAIL, 1, 0, 0 },
		{ "sorted by address, descending, middle page", -1, -1, -1, NULL, NULL, QS_EMAIL,
		  1, 0, 2 },
		{ "sorted by address, descending, last page", -1, -1, -1, NULL, NULL, QS_EMAIL, 1,
		  0, 1 },
		{ "sorted by status, middle page", -1, -1, -1, NULL, NULL, QS_STATUS, 0, 0, 2 },
		{ "name descending, page 1", -1, -1, -1, NULL, NULL, QS_NAME, 1, 0, 0 },
		{ "name descending, last page", -1, -1, -1, NULL, NULL, QS_NAME, 1, 0, 1 },
		{ "search \"garcia 12\", sorted by last prompted", -1, -1, -1, NULL, "garcia 12",
		  QS_PROMPTED, 1, 0, 0 },
		{ "search \"smith\", last page", -1, -1, -1, NULL, "smith", QS_NAME, 0, 0, 1 },
		{ "stale pending, sorted by team", -1, -1, -1, NULL, NULL, QS_TEAM, 0, 1, 0 },
		{ "stale pending, sorted by team, last page", -1, -1, -1, NULL, NULL, QS_TEAM, 0,
		  1, 1 },
		{ "off on Teams, sorted by prompts, middle page", PLAT_TEAMS, ST_OFF, -1, NULL,
		  NULL, QS_PROMPTS, 0, 0, 2 },
		{ "team teams:T42, sorted by address, last page", -1, -1, -1, "teams:T42", NULL,
		  QS_EMAIL, 0, 0, 1 },
	};
	struct failure f;
	struct store *st;
	long long n;
	double ms, t0;

	if (argc != 3 || parse_ll(argv[2], 1, 100000000, &n) < 0) {
		fprintf(stderr, "usage: console DIR N\n");
		return 1;
	}
	if ((st = store_open(argv[1], 16384, 0, &f)) == NULL) {
		fprintf(stderr, "console: %s\n", f.msg);
		return 1;
	}
	t0 = ps_monotonic();
	if (populate(st, (uint64_t)n) < 0) {
		fprintf(stderr, "console: %s\n", store_error(st));
		store_close(st);
		return 1;
	}
	printf("populate\t%.0f\n", (ps_monotonic() - t0) * 1000);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct query_result r = { 0 };
		if (time_case(st, &cases[i], &ms, &r) < 0) {
			fprintf(stderr, "console: %s: %s\n", cases[i].name, store_error(st));
			store_close(st);
			return 1;
		}
		printf("%s\t%.2f\t%zu\t%llu\t%s\n", cases[i].name, ms, r.n,
		    (unsigned long long)r.total, r.indexed ? "indexed" : "walk");
		query_result_free(&r);
	}
	store_close(st);
	return 0;
}
