/* Unit tests of store/: the LMDB layer, its indexes, staging merge, verify and schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
