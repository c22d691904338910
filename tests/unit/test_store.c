/* Unit tests of store/: the LMDB layer, its indexes (the people indexes kept exact by every
 * write of a person, paging in the table's order, their counters and verify), staging
 * merge, verify and schema, the audit list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <strings.h>

#include "../../store/store_p.h"
#include "store_fixture.h"

static void
mk(struct account *a, enum platform p, const char *team, const char *user, const char *email)
{
	memset(a, 0, sizeof(*a));
	a->platform = p;
	a->team_id = strdup(team);
	a->user_id = strdup(user);
	if (email)
		account_add_email(a, email, LINK_EMAIL);
	a->name = strdup("Zoë O'Brien 山田");
	a->tz = strdup("Europe/Paris");
	a->updated = 1569143041;
}

static void
test_account_roundtrip(void **state)
{
	struct fx *f = *state;
	struct account a, b;
	struct txn *t;

	mk(&a, PLAT_SLACK, "T1", "U1", "zoe@x.com");
	account_add_email(&a, "z@x.com", LINK_PROXY);
	a.flags = ACCT_GUEST | ACCT_ULTRA;
	a.tz_at = 1796284800;
	t = store_begin(f->st, 1);
	assert_int_equal(store_account_put(t, &a, 0), 0);
	assert_int_equal(a.version, 1);
	assert_int_equal(store_commit(t), 0);

	t = store_begin(f->st, 0);
	assert_int_equal(store_account_get(t, PLAT_SLACK, "T1", "U1", &b), 0);
	assert_string_equal(b.user_id, "U1");
	assert_string_equal(b.email, "zoe@x.com");
	assert_int_equal(b.nemails, 2);
	assert_string_equal(b.emails[1], "z@x.com");
	assert_int_equal(b.email_how[1], LINK_PROXY);
	assert_string_equal(b.name, "Zoë O'Brien 山田");
	assert_int_equal(b.flags, ACCT_GUEST | ACCT_ULTRA);
	assert_int_equal(b.updated, 1569143041);
	assert_int_equal(b.tz_at, 1796284800);
	assert_int_equal(b.version, 1);
	account_free(&b);
	assert_int_equal(store_account_get(t, PLAT_SLACK, "T1", "U2", &b), STORE_NOTFOUND);
	assert_int_equal(store_account_get(t, PLAT_TEAMS, "T1", "U1", &b), STORE_NOTFOUND);
	store_abort(t);
	account_free(&a);
}

static int
count_cb(const struct account *a, void *arg)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

static void
test_people_and_indexes(void **state)
{
	struct fx *f = *state;
	struct account a, b;
	struct person p = { 0 }, q;
	struct txn *t;
	uint64_t id;
	int n = 0;

	p.primary_platform = -1;
	p.email = strdup("ana@x.com");
	t = store_begin(f->st, 1);
	assert_int_equal(store_person_put(t, &p), 0);
	assert_int_equal(p.id, 1);
	mk(&a, PLAT_SLACK, "T1", "U1", "ana@x.com");
	mk(&b, PLAT_TEAMS, "ten", "g-1", "ana@x.com");
	a.person_id = b.person_id = p.id;
	assert_int_equal(store_account_put(t, &a, 0), 0);
	assert_int_equal(store_account_put(t, &b, 0), 0);
	assert_int_equal(store_email_put(t, "ana@x.com", p.id), 0);
	assert_int_equal(store_history_add(t, p.id, 100, "created", "first seen as %s", "slack:U1"), 0);
	assert_int_equal(store_history_add(t, p.id, 200, "status", "off -> pending"), 0);
	assert_int_equal(store_commit(t), 0);

	t = store_begin(f->st, 0);
	assert_int_equal(store_email_get(t, "ana@x.com", &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(store_person_get(t, 1, &q), 0);
	assert_string_equal(q.email, "ana@x.com");
	assert_int_equal(q.primary_platform, -1);
	person_free(&q);
	assert_int_equal(store_person_accounts(t, 1, count_cb, &n), 0);
	assert_int_equal(n, 2);
	store_abort(t);
	assert_int_equal(store_verify(f->st, stderr), 0);

	/* moving an account keeps the person index in step */
	t = store_begin(f->st, 1);
	person_free(&p);
	p.primary_platform = -1;
	p.email = strdup("other@x.com");
	assert_int_equal(store_person_put(t, &p), 0);
	assert_int_equal(p.id, 2);
	b.person_id = 2;
	account_free(&b);
	mk(&b, PLAT_TEAMS, "ten", "g-1", "other@x.com");
	b.person_id = 2;
	assert_int_equal(store_account_put(t, &b, 1), 0);
	assert_int_equal(store_email_put(t, "other@x.com", 2), 0);
	assert_int_equal(store_commit(t), 0);
	t = store_begin(f->st, 0);
	n = 0;
	store_person_accounts(t, 1, count_cb, &n);
	assert_int_equal(n, 1);
	n = 0;
	store_person_accounts(t, 2, count_cb, &n);
	assert_int_equal(n, 1);
	store_abort(t);
	assert_int_equal(store_verify(f->st, stderr), 0);

	/* deleting a person removes its history */
	t = store_begin(f->st, 1);
	assert_int_equal(store_person_del(t, 1), 0);
	assert_int_equal(store_person_get(t, 1, &q), STORE_NOTFOUND);
	store_abort(t);

	account_free(&a);
	account_free(&b);
	person_free(&p);
}

static void
test_verify_finds_problems(void **state)
{
	struct fx *f = *state;
	struct account a;
	struct txn *t;
	FILE *out = tmpfile();

	mk(&a, PLAT_WEBEX, "org", "w1", "w@x.com");
	a.person_id = 42;		/* no such person */
	t = store_begin(f->st, 1);
	assert_int_equal(store_account_put(t, &a, 0), 0);
	assert_int_equal(store_email_put(t, "ghost@x.com", 7), 0);
	assert_int_equal(store_history_add(t, 9, 1, "created", "nobody"), 0);
	assert_int_equal(store_commit(t), 0);
	assert_int_equal(store_verify(f->st, out), 3);
	fclose(out);
	account_free(&a);
}

/* A verify that finds problems marks the database: every open refuses it, naming the file. */
static void
test_verify_marks_database(void **state)
{
	struct fx *f = *state;
	struct account a;
	struct txn *t;
	struct failure fl;
	FILE *out = tmpfile();
	char file[96];

	mk(&a, PLAT_WEBEX, "org", "w1", "w@x.com");
	a.person_id = 42;		/* no such person */
	t = store_begin(f->st, 1);
	assert_int_equal(store_account_put(t, &a, 0), 0);
	assert_int_equal(store_commit(t), 0);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_verify_db(f->dir, 64, out, &fl), 1);
	snprintf(file, sizeof(file), "%s/data.mdb", f->dir);
	for (int ro = 0; ro < 2; ro++) {
		assert_null(store_open(f->dir, 64, ro, &fl));
		assert_int_equal(fl.cls, FAIL_DATA);
		assert_non_null(strstr(fl.msg, file));
		assert_non_null(strstr(fl.msg, "'db verify' found 1 problem on"));
	}
	/* verify itself still runs, and still finds them */
	assert_int_equal(store_verify_db(f->dir, 64, out, &fl), 1);
	fclose(out);
	account_free(&a);
}

/* A damaged meta page is refused before LMDB maps the file; a sound database verifies. */
static void
test_damaged_meta_refused(void **state)
{
	struct fx *f = *state;
	struct failure fl;
	char file[96];
	FILE *fp;

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_verify_db(f->dir, 64, stdout, &fl), 0);
	assert_int_equal(fl.cls, FAIL_NONE);
	snprintf(file, sizeof(file), "%s/data.mdb", f->dir);
	assert_non_null(fp = fopen(file, "r+b"));
	assert_int_equal(fseek(fp, 16, SEEK_SET), 0);		/* meta page 0's magic */
	assert_int_equal(fwrite("\0\0\0\0", 1, 4, fp), 4);
	fclose(fp);
	assert_null(store_open(f->dir, 64, 0, &fl));
	assert_int_equal(fl.cls, FAIL_DATA);
	assert_non_null(strstr(fl.msg, file));
	assert_non_null(strstr(fl.msg, "meta page 0: not an LMDB meta page"));
	assert_int_equal(store_verify_db(f->dir, 64, stderr, &fl), 1);
	assert_int_equal(fl.cls, FAIL_DATA);
}

struct merge_log {
	char	seen[16][32];
	int	n;
};

static int
merge_cb(struct txn *t, const struct account *staged, const struct account *stored, void *arg)
{
	struct merge_log *ml = arg;

	(void)t;
	snprintf(ml->seen[ml->n++], 32, "%s%s:%s", staged ? "S" : "-", stored ? "D" : "-",
	    staged ? staged->user_id : stored->user_id);
	return 0;
}

static void
test_stage_merge(void **state)
{
	struct fx *f = *state;
	struct account a;
	struct merge_log ml = { 0 };
	struct txn *t;
	size_t n;
	const char *stored[] = { "U1", "U3", "U5" }, *staged[] = { "U2", "U3", "U4", "U5" };

	t = store_begin(f->st, 1);
	for (size_t i = 0; i < 3; i++) {
		mk(&a, PLAT_SLACK, "T", stored[i], NULL);
		assert_int_equal(store_account_put(t, &a, 0), 0);
		account_free(&a);
	}
	mk(&a, PLAT_TEAMS, "T", "U0", NULL);	/* another platform: never merged with slack */
	assert_int_equal(store_account_put(t, &a, 0), 0);
	account_free(&a);
	for (size_t i = 0; i < 4; i++) {
		mk(&a, PLAT_SLACK, "T", staged[i], NULL);
		assert_int_equal(store_stage_put(t, &a), 0);
		account_free(&a);
	}
	assert_int_equal(store_stage_count(t, PLAT_SLACK, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(store_commit(t), 0);

	/* full merge, committing every 2 keys */
	assert_int_equal(store_stage_merge(f->st, PLAT_SLACK, 1, 2, 1, merge_cb, &ml), 0);
	assert_int_equal(ml.n, 5);
	assert_string_equal(ml.seen[0], "-D:U1");
	assert_string_equal(ml.seen[1], "S-:U2");
	assert_string_equal(ml.seen[2], "SD:U3");
	assert_string_equal(ml.seen[3], "S-:U4");
	assert_string_equal(ml.seen[4], "SD:U5");

	/* incremental: staged keys only, with their stored twin */
	memset(&ml, 0, sizeof(ml));
	assert_int_equal(store_stage_merge(f->st, PLAT_SLACK, 0, 0, 0, merge_cb, &ml), 0);
	assert_int_equal(ml.n, 4);
	assert_string_equal(ml.seen[0], "S-:U2");
	assert_string_equal(ml.seen[1], "SD:U3");

	t = store_begin(f->st, 1);
	assert_int_equal(store_stage_clear(t, PLAT_SLACK), 0);
	assert_int_equal(store_stage_count(t, PLAT_SLACK, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_commit(t), 0);
}

static void
test_schema_newer_refused(void **state)
{
	struct fx *f = *state;
	unsigned char v[8] = { 0, 0, 0, 0, 0, 0, 0, 99 };
	struct txn *t;
	struct failure fl;
	struct store *s2;

	t = store_begin(f->st, 1);
	assert_int_equal(store_meta_put(t, "schema", v, 8), 0);
	assert_int_equal(store_commit(t), 0);
	store_close(f->st);
	f->st = NULL;
	s2 = store_open(f->dir, 64, 0, &fl);
	assert_null(s2);
	assert_int_equal(fl.cls, FAIL_CONFIG);
	assert_non_null(strstr(fl.msg, "schema 99 is newer"));
	s2 = store_open(f->dir, 64, 1, &fl);
	assert_null(s2);
}

static void
test_readonly_missing(void **state)
{
	struct failure fl;

	(void)state;
	assert_null(store_open("/tmp/ps-does-not-exist-xyz", 64, 1, &fl));
	assert_int_equal(fl.cls, FAIL_IO);
	assert_non_null(strstr(fl.msg, "no database here"));
}

static void
test_record_writes_and_backup(void **state)
{
	struct fx *f = *state;
	struct account a;
	struct txn *t;
	uint64_t w;
	struct failure fl;
	char dest[96];
	struct store *b;

	t = store_begin(f->st, 1);
	mk(&a, PLAT_SLACK, "T", "U9", "u9@x.com");
	store_account_put(t, &a, 0);
	store_account_put(t, &a, 0);
	assert_int_equal(a.version, 2);
	assert_int_equal(store_commit(t), 0);
	t = store_begin(f->st, 0);
	assert_int_equal(store_record_writes(t, &w), 0);
	assert_int_equal(w, 2);
	store_abort(t);
	snprintf(dest, sizeof(dest), "%s/backup", f->dir);
	assert_int_equal(store_backup(f->st, dest), 0);
	b = store_open(dest, 64, 1, &fl);
	assert_non_null(b);
	t = store_begin(b, 0);
	account_free(&a);
	assert_int_equal(store_account_get(t, PLAT_SLACK, "T", "U9", &a), 0);
	store_abort(t);
	store_close(b);
	account_free(&a);
}

/* ---- the people indexes (store/index.c) and the audit list (store/audit.c) ---- */

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
	char *name[10];
	uint64_t cnt;

	for (int i = 0; i < 10; i++) {
		struct person p;
		int take;
		assert_int_equal(store_person_get(t, ids[i], &p), 0);
		name[i] = strdup(p.name);
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
			int c = strcasecmp(name[want[j - 1]], name[want[j]]);
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
	for (int i = 0; i < 10; i++)
		free(name[i]);
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
	/* drop the person's entry in the table's order behind the store's back */
	buf_addc(&k, 'a');
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
	k.p[k.len - 1] ^= 0x70;
	assert_int_equal(mdb_put(t->txn, t->s->dbi[DB_PIDX], &kk, &(MDB_val){ 4, "1\0\0\0" },
	    0), 0);
	assert_int_equal(store_commit(t), 0);
	person_free(&p);
	buf_free(&k);
	/* the missing entry and the extra one (the counters still count the person) */
	assert_int_equal(verify_quiet(f->st), 2);
}

/* A database written before the indexes existed gets them, whole, from store_upgrade. */
static void
test_upgrade_builds_the_index(void **state)
{
	struct fx *f = *state;
	uint64_t ids[10];
	struct txn *t;
	MDB_val k = val_of("pidx", 4);
	struct pidx_sel all = PIDX_SEL_INIT;

	populate(f->st, ids);
	t = store_begin(f->st, 1);
	assert_int_equal(mdb_drop(t->txn, t->s->dbi[DB_PIDX], 0), 0);
	mdb_del(t->txn, t->s->dbi[DB_META], &k, NULL);
	assert_int_equal(store_commit(t), 0);
	assert_true(verify_quiet(f->st) > 0);
	assert_int_equal(store_upgrade(f->st), 0);
	assert_int_equal(verify_quiet(f->st), 0);
	check_page(f->st, &all, 2, 5, ids);
	assert_int_equal(store_upgrade(f->st), 0);	/* once */
	assert_int_equal(verify_quiet(f->st), 0);
}

/* The mark of the people index, as a byte (0: none). */
static int
mark_of(struct store *st)
{
	struct txn *t = store_begin(st, 0);
	int m = st_pidx_mark(t);

	store_abort(t);
	return m;
}

/* Renames ids[i] and flips their status in one txn of st. */
static void
change_some(struct store *st, const uint64_t ids[10], int from, int to, const char *name)
{
	struct txn *t = store_begin(st, 1);
	struct person p;

	for (int i = from; i < to; i++) {
		assert_int_equal(store_person_get(t, ids[i], &p), 0);
		free(p.name);
		p.name = strdup(name);
		p.status = (uint8_t)((p.status + 1) % 3);
		assert_int_equal(store_person_put(t, &p), 0);
		person_free(&p);
	}
	assert_int_equal(store_commit(t), 0);
}

/*
 * A deferral: nothing of the index is written by the commits (the mark says so and verify
 * does not check it), an aborted txn's writes are never kept, and settle makes it exact
 * with the last of several writes to one key winning.
 */
static void
test_deferred_index_settles_exact(void **state)
{
	struct fx *f = *state;
	uint64_t ids[10], n = 0;
	struct pidx_sel all = PIDX_SEL_INIT;
	struct txn *t;
	struct person p;

	assert_int_equal(store_upgrade(f->st), 0);
	assert_int_equal(mark_of(f->st), PIDX_EXACT);
	store_pidx_defer(f->st);
	populate(f->st, ids);
	assert_int_equal(mark_of(f->st), PIDX_DEFERRED);
	t = store_begin(f->st, 0);
	assert_int_equal(store_pidx_count(t, &all, &n), 0);
	store_abort(t);
	assert_int_equal(n, 0);			/* not written yet */
	assert_int_equal(verify_quiet(f->st), 0);	/* not checked */
	change_some(f->st, ids, 0, 3, "Zed");
	change_some(f->st, ids, 1, 2, "Aaron");	/* a second move of one person */
	t = store_begin(f->st, 1);		/* aborted: its writes are forgotten */
	assert_int_equal(store_person_get(t, ids[4], &p), 0);
	free(p.name);
	p.name = strdup("Never");
	assert_int_equal(store_person_put(t, &p), 0);
	person_free(&p);
	store_abort(t);
	assert_int_equal(store_pidx_settle(f->st), 0);
	assert_int_equal(mark_of(f->st), PIDX_EXACT);
	assert_int_equal(verify_quiet(f->st), 0);
	check_page(f->st, &all, 0, 10, ids);
	assert_int_equal(store_pidx_settle(f->st), 0);	/* no deferral: nothing */
}

/* People written by another writer during a deferral: settle rebuilds the whole index. */
static void
test_deferral_touched_by_another_writer_rebuilds(void **state)
{
	struct fx *f = *state;
	uint64_t ids[10];
	struct pidx_sel all = PIDX_SEL_INIT;
	struct pidx_defer *pd;

	assert_int_equal(store_upgrade(f->st), 0);
	populate(f->st, ids);
	store_pidx_defer(f->st);
	change_some(f->st, ids, 0, 4, "Mid");
	pd = f->st->pd;			/* as another process would write: no deferral */
	f->st->pd = NULL;
	change_some(f->st, ids, 2, 6, "Other");
	assert_int_equal(mark_of(f->st), PIDX_TOUCHED);
	f->st->pd = pd;
	assert_int_equal(store_pidx_settle(f->st), 0);
	assert_int_equal(mark_of(f->st), PIDX_EXACT);
	assert_int_equal(verify_quiet(f->st), 0);
	check_page(f->st, &all, 0, 10, ids);
}

/* A deferral never settled (a crash): verify says so, repair rebuilds, once. */
static void
test_interrupted_deferral_is_repaired(void **state)
{
	struct fx *f = *state;
	uint64_t ids[10];
	struct pidx_sel all = PIDX_SEL_INIT;
	char *out = NULL;
	size_t len = 0;
	FILE *mf;
	struct txn *t;

	assert_int_equal(store_upgrade(f->st), 0);
	store_pidx_defer(f->st);
	populate(f->st, ids);
	f->st->pd_free(f->st);			/* the process died before settle */
	assert_int_equal(mark_of(f->st), PIDX_DEFERRED);
	assert_int_equal(store_upgrade(f->st), 0);	/* not the upgrade's business */
	assert_int_equal(mark_of(f->st), PIDX_DEFERRED);
	assert_non_null(mf = open_memstream(&out, &len));
	t = store_begin(f->st, 0);
	assert_int_equal(st_pidx_verify(t, mf), 0);
	store_abort(t);
	fclose(mf);
	assert_non_null(strstr(out, "not checked: out of date"));
	free(out);
	assert_int_equal(store_pidx_repair(f->st), 1);
	assert_int_equal(mark_of(f->st), PIDX_EXACT);
	assert_int_equal(verify_quiet(f->st), 0);
	check_page(f->st, &all, 0, 10, ids);
	assert_int_equal(store_pidx_repair(f->st), 0);
}

/* The email index's entry for e read from the database itself (not the deferral's maps). */
static uint64_t
stored_email(struct store *st, const char *e)
{
	struct txn *t = store_begin(st, 0);
	MDB_val k = val_of(e, strlen(e)), v;
	uint64_t pid = 0;

	if (mdb_get(t->txn, t->s->dbi[DB_EMAILS], &k, &v) == 0)
		pid = get_be64(v.mv_data);
	store_abort(t);
	return pid;
}

static uint64_t
email_of(struct store *st, const char *e)
{
	struct txn *t = store_begin(st, 0);
	uint64_t pid = 0;

	if (store_email_get(t, e, &pid) != 0)
		pid = 0;
	store_abort(t);
	return pid;
}

/* Persons with one account each, addresses a<from>@x .. a<from+n-1>@x, in txns of 7. */
static void
people_with_addresses(struct store *st, int from, int n, uint64_t *ids)
{
	struct txn *t = NULL;
	char e[32], u[32];

	for (int i = 0; i < n; i++) {
		struct person p = { 0 };
		struct account a = { 0 };
		if (i % 7 == 0)
			t = store_begin(st, 1);
		snprintf(e, sizeof(e), "a%d@x", from + i);
		snprintf(u, sizeof(u), "U%d", from + i);
		p.name = strdup(u);
		p.email = strdup(e);
		p.active = 1;
		p.primary_platform = -1;
		assert_int_equal(store_person_put(t, &p), 0);
		ids[i] = p.id;
		a.platform = PLAT_SLACK;
		a.team_id = strdup("T1");
		a.user_id = strdup(u);
		a.emails = calloc(1, sizeof(char *));
		a.emails[0] = strdup(e);
		a.nemails = 1;
		a.person_id = p.id;
		assert_int_equal(store_account_put(t, &a, 0), 0);
		assert_int_equal(store_email_put(t, e, p.id), 0);
		/* the txn's own write is read back before its commit */
		uint64_t got = 0;
		assert_int_equal(store_email_get(t, e, &got), 0);
		assert_int_equal(got, p.id);
		account_free(&a);
		person_free(&p);
		if (i % 7 == 6 || i == n - 1)
			assert_int_equal(store_commit(t), 0);
	}
}

/*
 * Deferred addresses: read by the run, not in the database until a flush (every cap
 * addresses) or settle; a delete shadows a kept write; an aborted txn's writes are
 * forgotten; after settle the index is whole and verify finds it consistent.
 */
static void
test_deferred_emails(void **state)
{
	struct fx *f = *state;
	uint64_t ids[40];
	struct txn *t;
	FILE *devnull = fopen("/dev/null", "w");

	store_email_defer(f->st);
	st_email_defer_cap(f->st, 30);
	people_with_addresses(f->st, 0, 20, ids);
	assert_int_equal(email_of(f->st, "a3@x"), ids[3]);
	assert_int_equal(stored_email(f->st, "a3@x"), 0);	/* kept, not written */
	t = store_begin(f->st, 1);
	assert_int_equal(store_email_del(t, "a5@x"), 0);
	assert_int_equal(store_email_put(t, "zz@x", ids[1]), 0);
	store_abort(t);					/* forgotten, delete too */
	assert_int_equal(email_of(f->st, "a5@x"), ids[5]);
	assert_int_equal(email_of(f->st, "zz@x"), 0);
	t = store_begin(f->st, 1);
	assert_int_equal(store_email_del(t, "a5@x"), 0);
	assert_int_equal(store_commit(t), 0);
	assert_int_equal(email_of(f->st, "a5@x"), 0);
	people_with_addresses(f->st, 20, 20, ids + 20);	/* past the cap: a flush */
	assert_int_equal(stored_email(f->st, "a3@x"), ids[3]);
	assert_int_equal(stored_email(f->st, "a5@x"), 0);
	assert_int_equal(stored_email(f->st, "a39@x"), 0);	/* kept since */
	t = store_begin(f->st, 1);
	assert_int_equal(store_email_put(t, "a7@x", ids[9]), 0);
	assert_int_equal(store_commit(t), 0);
	assert_int_equal(email_of(f->st, "a7@x"), ids[9]);
	assert_int_equal(store_email_settle(f->st), 0);
	assert_int_equal(stored_email(f->st, "a39@x"), ids[39]);
	assert_int_equal(stored_email(f->st, "a7@x"), ids[9]);	/* the later put wins */
	t = store_begin(f->st, 0);
	assert_int_equal(st_email_exact(t), 1);
	store_abort(t);
	fclose(devnull);
}

/* Interrupted (no settle) or touched by another writer: rebuilt from people and accounts. */
static void
test_email_index_repair(void **state)
{
	struct fx *f = *state;
	uint64_t ids[10];
	struct email_defer *ed;
	struct txn *t;

	store_email_defer(f->st);
	people_with_addresses(f->st, 0, 10, ids);
	ed = f->st->ed;
	f->st->ed = NULL;		/* another process writes an address meanwhile */
	t = store_begin(f->st, 1);
	assert_int_equal(store_email_put(t, "stray@x", ids[2]), 0);
	assert_int_equal(store_commit(t), 0);
	f->st->ed = ed;
	assert_int_equal(store_email_settle(f->st), 0);	/* touched: rebuilt */
	assert_int_equal(stored_email(f->st, "a7@x"), ids[7]);
	assert_int_equal(stored_email(f->st, "stray@x"), 0);	/* nobody's address */
	t = store_begin(f->st, 0);
	assert_int_equal(st_email_exact(t), 1);
	store_abort(t);
	store_email_defer(f->st);	/* a crash before settle */
	t = store_begin(f->st, 1);
	assert_int_equal(store_email_put(t, "a1@x", ids[1]), 0);
	assert_int_equal(store_commit(t), 0);
	f->st->ed_free(f->st);
	t = store_begin(f->st, 0);
	assert_int_equal(st_email_exact(t), 0);
	store_abort(t);
	assert_int_equal(store_email_repair(f->st), 1);
	assert_int_equal(store_email_repair(f->st), 0);
	assert_int_equal(stored_email(f->st, "a1@x"), ids[1]);
	assert_int_equal(verify_quiet(f->st), 0);
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
		cmocka_unit_test_setup_teardown(test_account_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_people_and_indexes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_finds_problems, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_marks_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_meta_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stage_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_newer_refused, setup, teardown),
		cmocka_unit_test(test_readonly_missing),
		cmocka_unit_test_setup_teardown(test_record_writes_and_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging_in_table_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writes_keep_index_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_finds_missing_and_extra, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_builds_the_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred_index_settles_exact, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deferral_touched_by_another_writer_rebuilds,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupted_deferral_is_repaired, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deferred_emails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_email_index_repair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_list, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
