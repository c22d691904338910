/* Unit tests of reconcile/subscriptions.c's decision (pure, fed times): what a run does
 * about a subscription given its record, whether its person is still to be watched, and
 * now. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "subscriptions.h"

#define NOW	((time_t)1800000000)

static struct sub
rec(int state, int64_t expires)
{
	struct sub s;

	memset(&s, 0, sizeof(s));
	s.platform = expires ? PLAT_TEAMS : PLAT_WEBEX;
	s.id = "id";
	s.state = state;
	s.expires = expires;
	return s;
}

static void
test_wanted_or_not(void **state)
{
	struct sub s = rec(SUB_ACTIVE, 0);

	(void)state;
	assert_int_equal(sub_decide(NULL, 1, NOW), SUBA_CREATE);
	assert_int_equal(sub_decide(NULL, 0, NOW), SUBA_KEEP);
	assert_int_equal(sub_decide(&s, 0, NOW), SUBA_DELETE);
	/* whatever its state, one nobody wants goes */
	s.state = SUB_REMOVED;
	assert_int_equal(sub_decide(&s, 0, NOW), SUBA_DELETE);
	s.state = SUB_DISABLED;
	assert_int_equal(sub_decide(&s, 0, NOW), SUBA_DELETE);
}

/* Graph: renewed once less than SUB_RENEW_AHEAD is left, recreated once expired. */
static void
test_graph_expiry(void **state)
{
	struct sub s;

	(void)state;
	s = rec(SUB_ACTIVE, NOW + SUB_GRAPH_LIFETIME);
	assert_int_equal(sub_decide(&s, 1, NOW), SUBA_KEEP);
	s.expires = NOW + SUB_RENEW_AHEAD;
	assert_int_equal(sub_decide(&s, 1, NOW), SUBA_KEEP);
	s.expires = NOW + SUB_RENEW_AHEAD - 1;
	assert_int_equal(sub_decide(&s, 1, NOW), SUBA_RENEW);
	s.expires = NOW + 1;
	assert_int_equal(sub_decide(&s, 1, NOW), SUBA_RENEW);
	s.expires = NOW;
	assert_int_equal(sub_decide(&s, 1, NOW), SUBA_RECREATE);
	s.expires = NOW - 3600;
	assert_int_equal(sub_decide(&s, 1, NOW), SUBA_RECREATE);
	/* the 15-minute timer (and its 2-minute jitter): a fresh one is renewed by the second
	 * run after it at the latest, and still has time left then */
	s.expires = NOW + SUB_GRAPH_LIFETIME;
	assert_int_equal(sub_decide(&s, 1, NOW + 17 * 60), SUBA_KEEP);
	assert_int_equal(sub_decide(&s, 1, NOW + 34 * 60), SUBA_RENEW);
	assert_true(SUB_GRAPH_LIFETIME - 34 * 60 > 15 * 60);
}

/* What the receivers marked. */
static void
test_marks(void **state)
{
	struct sub s;

	(void)state;
	s = rec(SUB_RENEW, NOW + SUB_GRAPH_LIFETIME);		/* reauthorizationRequired */
	assert_int_equal(sub_decide(&s, 1, NOW), SUBA_RENEW);
	s = rec(SUB_REMOVED, NOW + SUB_GRAPH_LIFETIME);		/* subscriptionRemoved */
	assert_int_equal(sub_decide(&s, 1, NOW), SUBA_RECREATE);
	s = rec(SUB_RENEW, NOW - 1);				/* marked, then expired */
	assert_int_equal(sub_decide(&s, 1, NOW), SUBA_RECREATE);
	s = rec(SUB_DISABLED, 0);				/* Webex: inactive */
	assert_int_equal(sub_decide(&s, 1, NOW), SUBA_REACTIVATE);
	s = rec(SUB_ACTIVE, 0);					/* Webex: no expiry */
	assert_int_equal(sub_decide(&s, 1, NOW + 365 * 86400), SUBA_KEEP);
	s.flags = SUB_F_MISSED;			/* missed: the catch-up's, not the keeper's */
	assert_int_equal(sub_decide(&s, 1, NOW), SUBA_KEEP);
	assert_string_equal(sub_action_name(SUBA_REACTIVATE), "reactivate");
	assert_string_equal(sub_action_name((enum sub_action)99), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wanted_or_not),
		cmocka_unit_test(test_graph_expiry),
		cmocka_unit_test(test_marks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
