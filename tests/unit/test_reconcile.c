/* Unit tests of reconcile/: pure identity and status rules over plain structs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reconcile.h"

static struct config cfg;
static struct domain_alias aliases[] = { { "corp.onmicrosoft.com", "corp.com" } };

static int
setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.identity.aliases = aliases;
	cfg.identity.naliases = 1;
	cfg.identity.order[0] = PLAT_SLACK;
	cfg.identity.order[1] = PLAT_TEAMS;
	cfg.identity.order[2] = PLAT_WEBEX;
	cfg.identity.norder = 3;
	return 0;
}

static void
expect_norm(const char *in, const char *want, int want_alias)
{
	int aliased = -1;
	char *got = rec_email_normalize(in, &cfg, &aliased);

	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_int_equal(aliased, want_alias);
	free(got);
}

static void
test_email_normalize(void **state)
{
	(void)state;
	expect_norm("  Ana.Garcia@Corp.COM \n", "ana.garcia@corp.com", 0);
	expect_norm("SMTP:Bob@corp.onmicrosoft.com", "bob@corp.com", 1);
	expect_norm("smtp:bob@Corp.OnMicrosoft.com", "bob@corp.com", 1);
	expect_norm("dblock+player1@dblock.org", "dblock+player1@dblock.org", 0);
	expect_norm("'weird@x.com", "'weird@x.com", 0);
	expect_norm("", NULL, 0);
	expect_norm("no-at-sign", NULL, 0);
	expect_norm("two@@x.com", NULL, 0);
	expect_norm("a@b@c.com", NULL, 0);
	expect_norm("@x.com", NULL, 0);
	expect_norm("x@", NULL, 0);
	expect_norm("sp ace@x.com", NULL, 0);
	expect_norm("x@.com", NULL, 0);
	expect_norm("x@com.", NULL, 0);
	/* found by fuzzing: one "smtp:" is stripped, and what is left must not be another */
	expect_norm("smtp:smtp:a@b.com", NULL, 0);
	expect_norm("SIP:ana@corp.com", NULL, 0);
	expect_norm("a(b)@x.com", NULL, 0);
	expect_norm("a@[10.0.0.1]", NULL, 0);
	assert_null(rec_email_normalize(NULL, &cfg, &(int){0}));
}

static void
mk(struct account *a, enum platform p, const char *team, const char *user, const char *email)
{
	memset(a, 0, sizeof(*a));
	a->platform = p;
	a->team_id = strdup(team);
	a->user_id = strdup(user);
	if (email)
		account_add_email(a, email, LINK_EMAIL);
	a->name = strdup(user);
}

static void
test_normalize_account(void **state)
{
	struct account a;

	(void)state;
	mk(&a, PLAT_TEAMS, "tenant", "u1", "Bob@Corp.com");
	account_add_email(&a, "SMTP:bob@corp.onmicrosoft.com", LINK_PROXY);
	account_add_email(&a, "not an address", LINK_OTHERMAIL);
	account_add_email(&a, "BOB@corp.com", LINK_UPN);
	rec_account_normalize(&a, &cfg);
	assert_int_equal(a.nemails, 1);	/* all three are one address */
	assert_string_equal(a.email, "bob@corp.com");
	assert_string_equal(a.emails[0], "bob@corp.com");
	account_free(&a);

	mk(&a, PLAT_TEAMS, "tenant", "u2", "carol@corp.onmicrosoft.com");
	account_add_email(&a, "c.home@gmail.com", LINK_OTHERMAIL);
	rec_account_normalize(&a, &cfg);
	assert_int_equal(a.nemails, 2);
	assert_string_equal(a.email, "carol@corp.com");
	assert_int_equal(a.email_how[0], LINK_ALIAS);
	assert_int_equal(a.email_how[1], LINK_OTHERMAIL);
	account_free(&a);
}

static void
test_human_and_active(void **state)
{
	struct account a;

	(void)state;
	mk(&a, PLAT_SLACK, "T1", "U1", "a@x.com");
	assert_true(rec_account_is_human(&a));
	assert_true(rec_account_is_active(&a));
	a.flags = ACCT_GUEST;
	assert_true(rec_account_is_active(&a));	/* guests are active people, flagged */
	a.flags = ACCT_DELETED;
	assert_true(rec_account_is_human(&a));
	assert_false(rec_account_is_active(&a));
	a.flags = ACCT_MISSING;
	assert_false(rec_account_is_active(&a));
	a.flags = ACCT_INVITED;
	assert_false(rec_account_is_active(&a));
	a.flags = ACCT_NOLOGIN;
	assert_false(rec_account_is_active(&a));
	a.flags = ACCT_BOT;
	assert_false(rec_account_is_human(&a));
	a.flags = ACCT_APP;
	assert_false(rec_account_is_human(&a));
	a.flags = ACCT_SLACKBOT;
	assert_false(rec_account_is_human(&a));
	account_free(&a);
}

static void
test_changed_and_merge(void **state)
{
	struct account a, b, m;

	(void)state;
	mk(&a, PLAT_SLACK, "T1", "U1", "a@x.com");
	mk(&b, PLAT_SLACK, "T1", "U1", "a@x.com");
	assert_false(rec_account_changed(&a, &b));
	b.person_id = 7;		/* bookkeeping is not a change */
	b.version = 3;
	b.tz_at = 1796284800;
	b.flags = ACCT_ADMIN_LINK;
	assert_false(rec_account_changed(&a, &b));
	b.flags |= ACCT_DELETED;
	assert_true(rec_account_changed(&a, &b));
	b.flags = ACCT_ADMIN_LINK;
	free(b.name);
	b.name = strdup("Renamed");
	assert_true(rec_account_changed(&a, &b));

	rec_account_merge(&m, &a, &b);		/* fresh a, stored b */
	assert_int_equal(m.person_id, 7);
	assert_int_equal(m.version, 3);
	assert_int_equal(m.tz_at, 1796284800);	/* when the zone was asked: kept */
	assert_true(m.flags & ACCT_ADMIN_LINK);
	assert_string_equal(m.name, "U1");
	account_free(&m);
	rec_account_merge(&m, &a, NULL);
	assert_int_equal(m.person_id, 0);
	assert_int_equal(m.version, 0);
	account_free(&m);
	account_free(&a);
	account_free(&b);
}

static void
test_match(void **state)
{
	struct account a;
	uint64_t found[3];
	enum link_how how;
	int amb;

	(void)state;
	mk(&a, PLAT_TEAMS, "t", "u", "a@x.com");
	account_add_email(&a, "a.alias@x.com", LINK_PROXY);
	account_add_email(&a, "home@y.com", LINK_OTHERMAIL);
	found[0] = 0; found[1] = 0; found[2] = 0;
	assert_int_equal(rec_match(&a, found, &how, &amb), 0);
	assert_false(amb);
	assert_int_equal(how, LINK_NEW);
	found[1] = 5;
	assert_int_equal(rec_match(&a, found, &how, &amb), 5);
	assert_int_equal(how, LINK_PROXY);
	found[2] = 5;
	assert_int_equal(rec_match(&a, found, &how, &amb), 5);
	found[2] = 6;
	assert_int_equal(rec_match(&a, found, &how, &amb), 0);
	assert_true(amb);
	account_free(&a);
}

static void
test_person_derive(void **state)
{
	struct account acc[3];
	struct person p = { 0 };

	(void)state;
	p.id = 1;
	p.primary_platform = -1;
	mk(&acc[0], PLAT_WEBEX, "org", "w1", "ana@x.com");
	mk(&acc[1], PLAT_TEAMS, "ten", "t1", "ana@x.com");
	acc[1].updated = 100;
	assert_true(rec_person_derive(&p, acc, 2, &cfg));
	assert_true(p.active);
	assert_int_equal(p.primary_platform, PLAT_TEAMS);	/* teams before webex in order */
	assert_string_equal(p.primary_team_id, "ten");
	assert_int_equal(p.primary_source, PS_INFERRED);
	assert_int_equal(p.sync_type, SYNC_BOT);
	assert_string_equal(p.email, "ana@x.com");
	assert_false(rec_person_derive(&p, acc, 2, &cfg));	/* stable: no change twice */

	mk(&acc[2], PLAT_SLACK, "T1", "U1", "ana@x.com");
	assert_true(rec_person_derive(&p, acc, 3, &cfg));
	assert_int_equal(p.primary_platform, PLAT_SLACK);
	assert_int_equal(p.sync_type, SYNC_USER);

	/* a chosen primary sticks while its account is active */
	p.primary_platform = PLAT_WEBEX;
	free(p.primary_team_id);
	p.primary_team_id = strdup("org");
	p.primary_source = PS_CHOSEN;
	rec_person_derive(&p, acc, 3, &cfg);
	assert_int_equal(p.primary_platform, PLAT_WEBEX);
	assert_int_equal(p.primary_source, PS_CHOSEN);
	assert_int_equal(p.sync_type, SYNC_BOT);

	/* every account deactivated: inactive, kept */
	for (int i = 0; i < 3; i++)
		acc[i].flags |= ACCT_DELETED;
	assert_true(rec_person_derive(&p, acc, 3, &cfg));
	assert_false(p.active);

	/* guests only */
	for (int i = 0; i < 3; i++)
		acc[i].flags = ACCT_GUEST;
	p.primary_source = PS_NONE;
	rec_person_derive(&p, acc, 3, &cfg);
	assert_true(p.flags & PERSON_GUEST);
	acc[0].flags = 0;
	rec_person_derive(&p, acc, 3, &cfg);
	assert_false(p.flags & PERSON_GUEST);

	for (int i = 0; i < 3; i++)
		account_free(&acc[i]);
	person_free(&p);
}

static void
test_derive_ignores_bots(void **state)
{
	struct account acc[2];
	struct person p = { 0 };

	(void)state;
	p.id = 2;
	p.primary_platform = -1;
	mk(&acc[0], PLAT_SLACK, "T", "B1", NULL);
	acc[0].flags = ACCT_BOT;
	mk(&acc[1], PLAT_SLACK, "T", "U2", "x@y.com");
	acc[1].flags = ACCT_DELETED;
	rec_person_derive(&p, acc, 2, &cfg);
	assert_false(p.active);
	assert_int_equal(p.primary_platform, -1);
	assert_null(p.primary_team_id);
	assert_string_equal(p.email, "x@y.com");
	account_free(&acc[0]);
	account_free(&acc[1]);
	person_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_email_normalize, setup),
		cmocka_unit_test_setup(test_normalize_account, setup),
		cmocka_unit_test_setup(test_human_and_active, setup),
		cmocka_unit_test_setup(test_changed_and_merge, setup),
		cmocka_unit_test_setup(test_match, setup),
		cmocka_unit_test_setup(test_person_derive, setup),
		cmocka_unit_test_setup(test_derive_ignores_bots, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
