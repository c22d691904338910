/* Unit tests of store/inbox.c: a message counts once, pending events drain in order and
 * leave the list, unresolved senders wait, seen keys expire after their window, causes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "inbox.h"
#include "store_fixture.h"

static int
add(struct store *st, const char *key, const char *from, const char *to, time_t ts)
{
	struct txn *t = store_begin(st, 1);
	int rc;

	assert_non_null(t);
	rc = store_inbox_add(t, key, from, to, ts);
	assert_int_equal(store_commit(t), 0);
	return rc;
}

struct seen {
	char	 log[1024];
	int	 keep;		/* what the callback answers */
};

static int
seen_cb(struct txn *t, const struct inbox_event *ev, void *arg)
{
	struct seen *s = arg;
	size_t n = strlen(s->log);

	(void)t;
	snprintf(s->log + n, sizeof(s->log) - n, "%s %s>%s %lld;", ev->msgkey, ev->from, ev->to,
	    (long long)ev->ts);
	return s->keep ? 0 : 1;
}

static long
walk(struct store *st, int unresolved, struct seen *s)
{
	struct txn *t = store_begin(st, 1);
	long n;

	s->log[0] = '\0';
	n = store_inbox_each(t, unresolved, 100, seen_cb, s);
	assert_int_equal(store_commit(t), 0);
	return n;
}

static void
counts(struct store *st, size_t *pend, size_t *seen)
{
	struct txn *t = store_begin(st, 0);

	assert_int_equal(store_inbox_count(t, pend, seen), 0);
	store_abort(t);
}

static void
test_once_per_message(void **state)
{
	struct fx *f = *state;
	struct seen s = { "", 0 };
	size_t pend, seen;

	assert_int_equal(add(f->st, "slack:D1/1.000001", "slack:U1", "slack:U2", 100), 0);
	assert_int_equal(add(f->st, "slack:D1/1.000001", "slack:U1", "slack:U2", 100), 1);
	assert_int_equal(add(f->st, "webex:M9", "webex:P1", "webex:P2", 200), 0);
	assert_int_equal(walk(f->st, 0, &s), 2);
	assert_string_equal(s.log, "slack:D1/1.000001 slack:U1>slack:U2 100;"
	    "webex:M9 webex:P1>webex:P2 200;");
	/* drained: gone from the pending list, but still a duplicate */
	assert_int_equal(walk(f->st, 0, &s), 0);
	assert_int_equal(add(f->st, "slack:D1/1.000001", "slack:U1", "slack:U2", 100), 1);
	counts(f->st, &pend, &seen);
	assert_int_equal(pend, 0);
	assert_int_equal(seen, 2);
}

static void
test_kept_when_callback_keeps(void **state)
{
	struct fx *f = *state;
	struct seen s = { "", 1 };

	assert_int_equal(add(f->st, "slack:D1/2", "slack:U1", "slack:U2", 5), 0);
	assert_int_equal(walk(f->st, 0, &s), 1);
	assert_int_equal(walk(f->st, 0, &s), 1);
	s.keep = 0;
	assert_int_equal(walk(f->st, 0, &s), 1);
	assert_int_equal(walk(f->st, 0, &s), 0);
}

static void
test_unresolved_waits(void **state)
{
	struct fx *f = *state;
	struct seen s = { "", 1 };
	struct txn *t;

	assert_int_equal(add(f->st, "teams:19:a_b@unq.gbl.spaces/161", "", "teams:Y", 7), 0);
	assert_int_equal(add(f->st, "teams:19:c_d@unq.gbl.spaces/162", "", "teams:Y", 8), 0);
	assert_int_equal(walk(f->st, 0, &s), 0);
	assert_int_equal(walk(f->st, 1, &s), 2);
	t = store_begin(f->st, 1);
	/* the catch-up's copy of the same message names its sender */
	assert_int_equal(store_inbox_add(t, "teams:19:a_b@unq.gbl.spaces/161", "teams:X",
	    "teams:Y", 7), 1);
	assert_int_equal(store_inbox_resolve(t, "teams:19:c_d@unq.gbl.spaces/162", NULL), 0);
	assert_int_equal(store_inbox_resolve(t, "teams:nope", "teams:X"), STORE_NOTFOUND);
	assert_int_equal(store_commit(t), 0);
	s.keep = 0;
	assert_int_equal(walk(f->st, 1, &s), 0);
	assert_int_equal(walk(f->st, 0, &s), 1);
	assert_string_equal(s.log, "teams:19:a_b@unq.gbl.spaces/161 teams:X>teams:Y 7;");
}

static void
test_seen_keys_expire(void **state)
{
	struct fx *f = *state;
	char now[32];
	struct seen s = { "", 0 };
	size_t pend, seen;

	setenv("PEOPLESYNC_NOW", "1700000000", 1);
	assert_int_equal(add(f->st, "slack:D1/1", "slack:U1", "slack:U2", 1), 0);
	assert_int_equal(add(f->st, "slack:D1/2", "slack:U1", "slack:U2", 2), 0);
	/* a day short of the window: still duplicates */
	snprintf(now, sizeof(now), "%lld", 1700000000LL + (INBOX_SEEN_DAYS - 1) * 86400LL);
	setenv("PEOPLESYNC_NOW", now, 1);
	assert_int_equal(add(f->st, "slack:D1/1", "slack:U1", "slack:U2", 1), 1);
	/* past it: the next add expires the old keys (pending ones too), the key is new */
	snprintf(now, sizeof(now), "%lld", 1700000001LL + INBOX_SEEN_DAYS * 86400LL);
	setenv("PEOPLESYNC_NOW", now, 1);
	assert_int_equal(add(f->st, "slack:D1/3", "slack:U1", "slack:U2", 3), 0);
	counts(f->st, &pend, &seen);
	assert_int_equal(seen, 1);
	assert_int_equal(pend, 1);
	assert_int_equal(add(f->st, "slack:D1/1", "slack:U1", "slack:U2", 1), 0);
	assert_int_equal(walk(f->st, 0, &s), 2);
	setenv("PEOPLESYNC_NOW", "1700000000", 1);
}

static void
test_bad_keys_refused(void **state)
{
	struct fx *f = *state;
	struct txn *t = store_begin(f->st, 1);
	char longkey[INBOX_KEY_MAX + 2];

	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	assert_int_equal(store_inbox_add(t, "", "slack:U1", "slack:U2", 1), -1);
	assert_int_equal(store_inbox_add(t, longkey, "slack:U1", "slack:U2", 1), -1);
	assert_int_equal(store_inbox_add(t, "slack:x", NULL, "slack:U2", 1), -1);
	assert_non_null(strstr(store_error(f->st), "inbox"));
	store_abort(t);
}

static void
test_prompt_cause(void **state)
{
	struct fx *f = *state;
	struct txn *t = store_begin(f->st, 1);
	struct buf b = { 0 };

	assert_int_equal(store_prompt_cause_put(t, 42, "webex:M9", 1700000000), 0);
	assert_int_equal(store_prompt_cause_get(t, 42, &b), 0);
	assert_int_equal(store_prompt_cause_get(t, 43, &b), STORE_NOTFOUND);
	buf_addc(&b, '\0');
	assert_string_equal(b.p, "webex:M9 at 2023-11-14T22:13:20Z");
	buf_free(&b);
	store_abort(t);
}

int
main(void)
{
	setenv("PEOPLESYNC_NOW", "1700000000", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_once_per_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kept_when_callback_keeps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unresolved_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seen_keys_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_keys_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prompt_cause, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
