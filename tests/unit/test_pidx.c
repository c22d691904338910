/* Unit tests of store/index.c and store/audit.c: the people indexes kept exact by every
 * write of a person, paging in the table's order, the counters, verify finding a missing or
 * extra entry, and the audit list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../store/store_p.h"

struct fx {
	char		 dir[64];
	struct store	*st;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct failure fl;

	snprintf(f->dir, sizeof(f->dir), "/tmp/ps-pidx-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->st = store_open(f->dir, 64, 0, &fl);
	assert_non_null(f->st);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static const char *const names[] = { "bob", "Alice", "carol", "alice", "Dave", "eve",
	"Bob", "frank", "Zed", "amy" };

/* Ten people: status i%3, primary platform i%3 (teams team T<i%2>), active but the last. */
static void
populate(struct store *st, uint64_t ids[10])
{
	struct txn *t = store_begin(st, 1);

	for (int i = 0; i < 10; i++) {
		struct person p;
		memset(&p, 0, sizeof(p));
		p.name = strdup(names[i]);
		p.active = i != 9;
		p.status = (uint8_t)(i % 3);
		p.primary_platform = (int8_t)(i % 3);
		p.primary_team_id = strdup(i % 2 ? "T1" : "T0");
		p.sync_type = (uint8_t)(i % 3 == 0 ? SYNC_USER : SYNC_BOT);
		assert_int_equal(store_person_put(t, &p), 0);
		ids[i] = p.id;
		person_free(&p);
	}
	assert_int_equal(store_commit(t), 0);
}

struct got {
	uint64_t	 id[16];
	size_t		 n;
};

static int
got_cb(uint64_t id, int active, void *arg)
{
	struct got *g = arg;

	(void)active;
	g->id[g->n++] = id;
	return 0;
}

/* The people of sel, as the table would order them (the reference: a sort). */
static void
check_page(struct store *st, const struct pidx_sel *sel, uint64_t skip, size_t n,
    const uint64_t ids[10])
{
	struct txn *t = store_begin(st, 0);
	struct got g = { .n = 0 };
	int want[10], nw = 0;
	uint64_t cnt;

	for (int i = 0; i < 10; i++) {
		struct person p;
		int take;
		assert_int_equal(store_person_get(t, ids[i], &p), 0);
		take = (sel->all || p.active) &&
		    (sel->status < 0 || p.status == sel->status) &&
		    (sel->platform == PIDX_ANY || p.primary_platform == sel->platform) &&
		    (sel->type < 0 || p.sync_type == sel->type) &&
		    (sel->team == NULL || strcmp(p.primary_team_id, sel->team) == 0);
		if (take)
			want[nw++] = i;
		person_free(&p);
	}
	/* insertion sort by (lower-case name, id) */
	for (int i = 1; i < nw; i++)
		for (int j = i; j > 0; j--) {
			int c = strcasecmp(names[want[j - 1]], names[want[j]]);
			if (c < 0 || (c == 0 && ids[want[j - 1]] < ids[want[j]]))
				break;
			int x = want[j]; want[j] = want[j - 1]; want[j - 1] = x;
		}
	assert_int_equal(store_pidx_count(t, sel, &cnt), 0);
	assert_int_equal(cnt, nw);
	assert_int_equal(store_pidx_page(t, sel, skip, n, got_cb, &g), 0);
	for (size_t k = 0; k < g.n; k++)
		assert_int_equal(g.id[k], ids[want[skip + k]]);
	assert_int_equal(g.n, skip >= (uint64_t)nw ? 0 : (nw - skip < n ? nw - skip : n));
	store_abort(t);
}

static void
test_paging_in_table_order(void **state)
{
	struct fx *f = *state;
	uint64_t ids[10];
	struct pidx_sel all = PIDX_SEL_INIT;
	struct pidx_sel off_teams = { ST_OFF, PLAT_TEAMS, -1, NULL, 0 };
	struct pidx_sel st = { ST_PENDING, PIDX_ANY, -1, NULL, 1 };
	struct pidx_sel team = { -1, PLAT_TEAMS, -1, "T1", 1 };
	struct pidx_sel pl = { -1, PLAT_SLACK, -1, NULL, 0 };
	struct pidx_sel three = { ST_ON, PLAT_WEBEX, SYNC_BOT, NULL, 1 };
	struct pidx_sel team_on = { ST_ON, PLAT_TEAMS, -1, "T1", 1 };

	populate(f->st, ids);
	for (uint64_t skip = 0; skip < 11; skip += 3) {
		check_page(f->st, &all, skip, 3, ids);
		all.all = 1;
		check_page(f->st, &all, skip, 4, ids);
		all.all = 0;
	}
	check_page(f->st, &off_teams, 0, 10, ids);
	check_page(f->st, &st, 1, 10, ids);
	check_page(f->st, &team, 0, 10, ids);
	check_page(f->st, &pl, 0, 2, ids);
	check_page(f->st, &three, 0, 10, ids);
	check_page(f->st, &team_on, 0, 10, ids);
}

static long
verify_quiet(struct store *st)
{
	FILE *devnull = fopen("/dev/null", "w");
	struct txn *t = store_begin(st, 0);
	long n = st_pidx_verify(t, devnull);

	store_abort(t);
	fclose(devnull);
	return n;
}

static void
test_writes_keep_index_exact(void **state)
{
	struct fx *f = *state;
	uint64_t ids[10];
	struct pidx_sel off_teams = { ST_OFF, PLAT_TEAMS, -1, NULL, 0 };
	struct pidx_sel team = { -1, PLAT_TEAMS, -1, "T9", 0 };
	struct person p;
	struct txn *t;

	populate(f->st, ids);
	assert_int_equal(verify_quiet(f->st), 0);
	/* a change of status, platform, team, name and activity moves the entries */
	t = store_begin(f->st, 1);
	assert_int_equal(store_person_get(t, ids[0], &p), 0);
	p.status = ST_OFF;
	p.primary_platform = PLAT_TEAMS;
	free(p.primary_team_id);
	p.primary_team_id = strdup("T9");
	free(p.name);
	p.name = strdup("Aaron");
	assert_int_equal(store_person_put(t, &p), 0);
	person_free(&p);
	assert_int_equal(store_person_get(t, ids[9], &p), 0);
	p.active = 1;
	p.status = ST_OFF;
	p.primary_platform = PLAT_TEAMS;
	assert_int_equal(store_person_put(t, &p), 0);
	person_free(&p);
	assert_int_equal(store_person_del(t, ids[4]), 0);
	assert_int_equal(store_commit(t), 0);
	assert_int_equal(verify_quiet(f->st), 0);
	t = store_begin(f->st, 0);
	{
		uint64_t n;
		struct got g = { .n = 0 };
		assert_int_equal(store_pidx_count(t, &team, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(store_pidx_page(t, &off_teams, 0, 10, got_cb, &g), 0);
		assert_int_equal(g.id[0], ids[0]);	/* "Aaron" comes first */
		assert_int_equal(store_pidx_count(t, &off_teams, &n), 0);
		assert_int_equal(n, g.n);
	}
	store_abort(t);
	/* an aborted write changes nothing */
	t = store_begin(f->st, 1);
	assert_int_equal(store_person_get(t, ids[1], &p), 0);
	p.status = ST_ON;
	assert_int_equal(store_person_put(t, &p), 0);
	person_free(&p);
	store_abort(t);
	assert_int_equal(verify_quiet(f->st), 0);
}

static void
test_verify_finds_missing_and_extra(void **state)
{
	struct fx *f = *state;
	uint64_t ids[10];
	struct txn *t;
	struct buf k = { 0 };
	struct person p;
	MDB_val kk;

	populate(f->st, ids);
	t = store_begin(f->st, 1);
	assert_int_equal(store_person_get(t, ids[2], &p), 0);
	/* drop the person's status entry behind the store's back */
	buf_addc(&k, 's');
	buf_addc(&k, (char)('0' + p.status));
	buf_addc(&k, '\0');
	st_pidx_sort_key(&p, &k);
	buf_addc(&k, '\0');
	{
		unsigned char b[8];
		put_be64(b, p.id);
		buf_add(&k, b, 8);
	}
	kk = val_of(k.p, k.len);
	assert_int_equal(mdb_del(t->txn, t->s->dbi[DB_PIDX], &kk, NULL), 0);
	/* and add an entry for nobody */
	k.p[1] = '9';
	assert_int_equal(mdb_put(t->txn, t->s->dbi[DB_PIDX], &kk, &(MDB_val){ 4, "1\0\0\0" },
	    0), 0);
	assert_int_equal(store_commit(t), 0);
	person_free(&p);
	buf_free(&k);
	/* the missing entry and the extra one (the counters still count the person) */
	assert_int_equal(verify_quiet(f->st), 2);
}

static int
audit_cb(const struct audit *a, void *arg)
{
	struct buf *b = arg;

	buf_printf(b, "%lld %llu %s %s %s;", (long long)a->ts, (unsigned long long)a->person,
	    a->admin, a->action, a->text);
	return 0;
}

static void
test_audit_list(void **state)
{
	struct fx *f = *state;
	struct txn *t = store_begin(f->st, 1);
	struct buf b = { 0 };

	assert_int_equal(store_audit_add(t, 100, "a@x.com", "prompt", 7, "queued PS-1"), 0);
	assert_int_equal(store_audit_add(t, 200, "b@x.com", "auto-prompt", 0, "on"), 0);
	assert_int_equal(store_commit(t), 0);
	t = store_begin(f->st, 0);
	assert_int_equal(store_audit_each(t, 0, 10, audit_cb, &b), 0);
	assert_string_equal(b.p, "100 7 a@x.com prompt queued PS-1;200 0 b@x.com auto-prompt on;");
	buf_reset(&b);
	assert_int_equal(store_audit_each(t, 1, 1, audit_cb, &b), 0);
	assert_string_equal(b.p, "200 0 b@x.com auto-prompt on;");
	store_abort(t);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_paging_in_table_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writes_keep_index_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_finds_missing_and_extra, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_audit_list, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
