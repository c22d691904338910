/* Unit tests of the zones: the Windows -> IANA table (base/winzones.c, generated from CLDR)
 * and the choice of a person's zone (reconcile/zones.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "winzones.h"
#include "zones.h"

static void
test_windows_names(void **state)
{
	/* the first and the last of the table too: the search reaches both ends */
	static const char *const pairs[][2] = {
		{ "Romance Standard Time", "Europe/Paris" },
		{ "W. Europe Standard Time", "Europe/Berlin" },
		{ "Arabian Standard Time", "Asia/Dubai" },
		{ "Eastern Standard Time", "America/New_York" },
		{ "Pacific Standard Time", "America/Los_Angeles" },
		{ "UTC", "Etc/UTC" },
		{ "AUS Central Standard Time", "Australia/Darwin" },
		{ "Yukon Standard Time", "America/Whitehorse" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		assert_string_equal(winzone_iana(pairs[i][0]), pairs[i][1]);
	assert_null(winzone_iana("Europe/Paris"));
	assert_null(winzone_iana("romance standard time"));
	assert_null(winzone_iana(""));
	assert_null(winzone_iana(NULL));
	assert_true(winzone_count() > 130);
}

static struct account
acct(enum platform p, const char *team, const char *user, const char *tz)
{
	struct account a;

	memset(&a, 0, sizeof(a));
	a.platform = p;
	a.team_id = (char *)team;
	a.user_id = (char *)user;
	a.tz = (char *)tz;
	return a;
}

static void
test_person_zone_order(void **state)
{
	struct config cfg;
	struct person p;
	struct account a[3];
	char from[160];
	const char *z;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.identity.norder = 3;
	cfg.identity.order[0] = PLAT_SLACK;
	cfg.identity.order[1] = PLAT_TEAMS;
	cfg.identity.order[2] = PLAT_WEBEX;
	cfg.prompts.default_tz = "Europe/Paris";
	cfg.prompts.default_tz_from = "TZ";
	memset(&p, 0, sizeof(p));
	a[0] = acct(PLAT_SLACK, "T1", "U1", "Asia/Tokyo");
	a[1] = acct(PLAT_TEAMS, "ten", "g1", "Asia/Dubai");
	a[2] = acct(PLAT_WEBEX, "org", "w1", "America/New_York");
	/* the primary platform first, whatever the order */
	p.primary_platform = PLAT_WEBEX;
	p.primary_team_id = "org";
	z = rec_person_zone(&cfg, &p, a, 3, &a[0], from, sizeof(from));
	assert_string_equal(z, "America/New_York");
	assert_string_equal(from, "webex:w1's Webex profile (timezone)");
	/* a primary platform without a zone: the target, then identity.platform_order */
	a[2].tz = NULL;
	z = rec_person_zone(&cfg, &p, a, 3, &a[1], from, sizeof(from));
	assert_string_equal(z, "Asia/Dubai");
	assert_string_equal(from, "teams:g1's Outlook mailbox settings (mailboxSettings.timeZone)");
	z = rec_person_zone(&cfg, &p, a, 3, NULL, from, sizeof(from));
	assert_string_equal(z, "Asia/Tokyo");
	/* a zone this host does not know is skipped */
	a[0].tz = "Mars/Olympus_Mons";
	a[1].tz = "../../etc/passwd";
	z = rec_person_zone(&cfg, &p, a, 3, NULL, from, sizeof(from));
	assert_string_equal(z, "Europe/Paris");
	assert_string_equal(from, "prompts.default_tz (TZ)");
	cfg.prompts.default_tz = "Nowhere/Else";
	z = rec_person_zone(&cfg, &p, a, 3, NULL, from, sizeof(from));
	assert_string_equal(z, "UTC");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows_names),
		cmocka_unit_test(test_person_zone_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
