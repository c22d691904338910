/*
 * test_session.c — store/session.c: web sessions survive a put and get field for field
 * (NULL strings, Slack's platform number 0, the -1 of no choice), expire, are swept, and an
 * unreadable record reads as no session; link nonces are spent once.
 */
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

/* One store for the whole file (group set-up); each test uses keys of its own. */
static char dir[64];
static struct store *st;

static int
open_store(void **state)
{
	struct failure fl;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ps-session-XXXXXX");
	if (mkdtemp(dir) == NULL || (st = store_open(dir, 64, 0, &fl)) == NULL) {
		fprintf(stderr, "test_session: cannot open a store in %s\n", dir);
		return -1;
	}
	return 0;
}

static int
remove_store(void **state)
{
	char *cmd = NULL;
	int rc;

	(void)state;
	store_close(st);
	if (asprintf(&cmd, "rm -rf '%s'", dir) < 0)
		return -1;
	rc = system(cmd);
	free(cmd);
	return rc;
}

/* A session of person, key byte k, expiring at exp. */
static void
mk(struct web_session *s, unsigned char k, uint64_t person, int64_t exp)
{
	store_session_init(s);
	memset(s->key, k, sizeof(s->key));
	s->person = person;
	memset(s->nonce, 0xa5, sizeof(s->nonce));
	s->link_exp = exp + 7 * 86400;
	s->exp = exp;
	memset(s->csrf, 'c', SESSION_SECRET_LEN);
}

static int
put(const struct web_session *s)
{
	struct txn *t = store_begin(st, 1);
	int rc = store_session_put(t, s);

	assert_int_equal(store_commit(t), 0);
	return rc;
}

static int
get(unsigned char k, time_t now, struct web_session *s)
{
	unsigned char key[SESSION_KEY_LEN];
	struct txn *t = store_begin(st, 0);
	int rc;

	memset(key, k, sizeof(key));
	rc = store_session_get(t, key, now, s);
	store_abort(t);
	return rc;
}

static void
test_roundtrip(void **state)
{
	struct web_session a, b;

	(void)state;
	mk(&a, 0x11, 42, 5000);
	memset(a.p[PLAT_TEAMS].state, 's', SESSION_SECRET_LEN);
	memset(a.p[PLAT_TEAMS].verifier, 'v', SESSION_SECRET_LEN);
	a.p[PLAT_SLACK].team = strdup("T1");
	a.p[PLAT_SLACK].user = strdup("U1");
	a.p[PLAT_TEAMS].signin_team = strdup("T2");	/* a sign-in under way there */
	assert_int_equal(put(&a), 0);
	assert_int_equal(get(0x11, 4000, &b), 0);
	assert_memory_equal(b.key, a.key, SESSION_KEY_LEN);
	assert_int_equal(b.person, 42);
	assert_memory_equal(b.nonce, a.nonce, SESSION_NONCE_LEN);
	assert_int_equal(b.link_exp, a.link_exp);
	assert_int_equal(b.exp, 5000);
	assert_string_equal(b.csrf, a.csrf);
	assert_string_equal(b.p[PLAT_TEAMS].state, a.p[PLAT_TEAMS].state);
	assert_string_equal(b.p[PLAT_TEAMS].verifier, a.p[PLAT_TEAMS].verifier);
	assert_string_equal(b.p[PLAT_SLACK].state, "");
	assert_string_equal(b.p[PLAT_SLACK].team, "T1");
	assert_string_equal(b.p[PLAT_SLACK].user, "U1");
	assert_null(b.p[PLAT_TEAMS].user);
	assert_string_equal(b.p[PLAT_TEAMS].signin_team, "T2");
	assert_null(b.p[PLAT_SLACK].signin_team);
	assert_null(b.p[PLAT_WEBEX].team);
	assert_int_equal(b.done, 0);
	assert_int_equal(b.chosen_platform, -1);
	assert_null(b.chosen_team);
	store_session_free(&b);

	/* done, with Slack (platform number 0) chosen */
	a.done = 1;
	a.chosen_platform = PLAT_SLACK;
	a.chosen_team = strdup("T1");
	assert_int_equal(put(&a), 0);
	assert_int_equal(get(0x11, 4000, &b), 0);
	assert_int_equal(b.done, 1);
	assert_int_equal(b.chosen_platform, PLAT_SLACK);
	assert_string_equal(b.chosen_team, "T1");
	store_session_free(&b);
	store_session_free(&a);
	assert_int_equal(a.chosen_platform, -1);
	store_session_free(NULL);
}

static void
test_expiry_and_sweep(void **state)
{
	unsigned char garbage[SESSION_KEY_LEN];
	struct web_session a, b;
	struct buf val = { 0 };
	struct txn *t;

	(void)state;
	memset(garbage, 0x23, sizeof(garbage));
	mk(&a, 0x21, 1, 1000);
	assert_int_equal(put(&a), 0);
	mk(&a, 0x22, 2, 3000);
	assert_int_equal(put(&a), 0);
	t = store_begin(st, 1);
	assert_int_equal(store_kv_put(t, STORE_KV_SESSION, garbage, SESSION_KEY_LEN, "\1garbage",
	    8), 0);
	assert_int_equal(store_commit(t), 0);

	assert_int_equal(get(0x21, 1000, &b), STORE_NOTFOUND);	/* expired at 1000 */
	assert_int_equal(b.person, 0);
	assert_int_equal(b.chosen_platform, -1);
	assert_int_equal(get(0x21, 999, &b), 0);
	store_session_free(&b);
	assert_int_equal(get(0x23, 0, &b), STORE_NOTFOUND);	/* unreadable */
	assert_int_equal(get(0x29, 0, &b), STORE_NOTFOUND);	/* absent */

	t = store_begin(st, 1);
	assert_int_equal(store_session_sweep(t, 2000, 1000), 0);
	assert_int_equal(store_commit(t), 0);
	assert_int_equal(get(0x21, 0, &b), STORE_NOTFOUND);
	assert_int_equal(get(0x22, 2000, &b), 0);		/* still live */
	store_session_free(&b);
	t = store_begin(st, 0);
	assert_int_equal(store_kv_get(t, STORE_KV_SESSION, garbage, SESSION_KEY_LEN, &val),
	    STORE_NOTFOUND);
	store_abort(t);
	store_session_free(&a);
}

static void
test_nonce(void **state)
{
	unsigned char n1[SESSION_NONCE_LEN], n2[SESSION_NONCE_LEN];
	struct txn *t;

	(void)state;
	memset(n1, 1, sizeof(n1));
	memset(n2, 2, sizeof(n2));
	t = store_begin(st, 1);
	assert_int_equal(store_nonce_spent(t, n1), STORE_NOTFOUND);
	assert_int_equal(store_nonce_spend(t, n1, 7, 1700000000), 0);
	assert_int_equal(store_commit(t), 0);
	t = store_begin(st, 0);
	assert_int_equal(store_nonce_spent(t, n1), 0);
	assert_int_equal(store_nonce_spent(t, n2), STORE_NOTFOUND);
	store_abort(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_expiry_and_sweep),
		cmocka_unit_test(test_nonce),
	};

	return cmocka_run_group_tests(tests, open_store, remove_store);
}
