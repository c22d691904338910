/*
 * test_devicegrant.c — the polling rules of the device authorization grant (RFC 8628
 * §3.4-3.5) fed canned answers of the token endpoint: pending goes on at the interval,
 * slow_down adds 5 s to every later poll, the codes' lifetime ends it, a decline and an
 * expired_token stop it, any other error refuses it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "devicegrant.h"	/* before cmocka.h, whose fail() macro meets enum fail */

#include <cmocka.h>

/* One canned answer of the token endpoint. */
struct answer {
	long		 status;
	const char	*error;
};

/*
 * Plays answers through device_judge as device_login's loop does: wait p.interval, judge
 * the next answer at that time. Returns the outcome; waits[] gets each wait, *n their count.
 */
static enum device_next
play(const struct device_code *dc, const struct answer *a, size_t na, double *waits,
    size_t *n)
{
	struct device_poll p;
	double now = 1000.0;
	enum device_next next = DEVICE_REFUSED;

	device_poll_init(&p, dc, now);
	*n = 0;
	for (size_t i = 0; i < na; i++) {
		waits[(*n)++] = p.interval;
		now += p.interval;
		next = device_judge(&p, a[i].status, a[i].error, now);
		if (next != DEVICE_WAIT)
			break;
	}
	return next;
}

/* The answers a played against a device code of interval iv: the outcome is TOKEN after
 * every answer was judged, each wait the one in want. */
static void
expect_waits(int iv, const struct answer *a, size_t na, const double *want)
{
	const struct device_code dc = { .interval = iv, .expires_in = 900 };
	double w[8];
	size_t n;

	assert_int_equal(play(&dc, a, na, w, &n), DEVICE_TOKEN);
	assert_int_equal(n, na);
	for (size_t i = 0; i < n; i++)
		assert_true(w[i] == want[i]);
}

static void
test_pending_then_token(void **state)
{
	const struct answer a[] = { { 400, "authorization_pending" },
	    { 400, "authorization_pending" }, { 200, "" } };

	(void)state;
	expect_waits(5, a, 3, (const double[]){ 5, 5, 5 });
}

static void
test_slow_down_adds_five_seconds_for_good(void **state)
{
	const struct answer a[] = { { 400, "authorization_pending" }, { 400, "slow_down" },
	    { 400, "authorization_pending" }, { 400, "slow_down" },
	    { 400, "authorization_pending" }, { 200, "" } };

	(void)state;
	expect_waits(2, a, 6, (const double[]){ 2, 2, 7, 7, 12, 12 });
}

static void
test_pending_past_the_lifetime_expires(void **state)
{
	const struct device_code dc = { .interval = 5, .expires_in = 12 };
	const struct answer a[] = { { 400, "authorization_pending" },
	    { 400, "authorization_pending" }, { 400, "authorization_pending" },
	    { 200, "" } };
	double w[8];
	size_t n;

	(void)state;
	/* polls at 5 and 10 s wait; the one at 15 s is past the 12 s lifetime */
	assert_int_equal(play(&dc, a, 4, w, &n), DEVICE_EXPIRED);
	assert_int_equal(n, 3);
}

static void
test_stops(void **state)
{
	const struct device_code dc = { .interval = 1, .expires_in = 900 };
	static const struct {
		const char	*error;
		enum device_next want;
	} cases[] = {
		{ "expired_token", DEVICE_EXPIRED },
		{ "access_denied", DEVICE_DENIED },		/* RFC 8628 */
		{ "authorization_declined", DEVICE_DENIED },	/* Microsoft */
		{ "bad_verification_code", DEVICE_REFUSED },
		{ "invalid_client", DEVICE_REFUSED },
		{ "", DEVICE_REFUSED },				/* an error without a code */
	};
	double w[8];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct answer a[] = { { 400, "authorization_pending" },
		    { 400, cases[i].error }, { 200, "" } };

		assert_int_equal(play(&dc, a, 3, w, &n), cases[i].want);
		assert_int_equal(n, 2);
	}
}

static void
test_defaults_and_counts(void **state)
{
	const struct device_code none = { .interval = 0, .expires_in = 0 };
	const struct device_code dc = { .interval = 1, .expires_in = 900 };
	struct device_poll p;

	(void)state;
	device_poll_init(&p, &none, 0);
	assert_true(p.interval == 5.0);		/* RFC 8628: 5 s when the answer says none */
	assert_true(p.deadline == 900.0);	/* 15 minutes, Microsoft's default */
	device_poll_init(&p, &dc, 0);
	assert_int_equal(device_judge(&p, 400, "slow_down", 1), DEVICE_WAIT);
	assert_int_equal(device_judge(&p, 400, "authorization_pending", 7), DEVICE_WAIT);
	assert_int_equal(p.polls, 2);
	assert_int_equal(p.slow_downs, 1);
	assert_true(p.interval == 6.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pending_then_token),
		cmocka_unit_test(test_slow_down_adds_five_seconds_for_good),
		cmocka_unit_test(test_pending_past_the_lifetime_expires),
		cmocka_unit_test(test_stops),
		cmocka_unit_test(test_defaults_and_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
