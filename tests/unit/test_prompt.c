/* Unit tests of reconcile/prompt.c: who is prompted, where, and why not; texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prompt.h"

static struct config cfg;
static struct person p;
static struct account acc[2];
static struct prompt_input in;
static struct prompt_decision d;

static void
mk(struct account *a, enum platform pl, const char *team, const char *user)
{
	memset(a, 0, sizeof(*a));
	a->platform = pl;
	a->team_id = strdup(team);
	a->user_id = strdup(user);
	account_add_email(a, "ana@corp.com", LINK_EMAIL);
}

static int
setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.plat[PLAT_SLACK].enabled = cfg.plat[PLAT_TEAMS].enabled = cfg.plat[PLAT_WEBEX].enabled = 1;
	cfg.prompts.cooldown_hours = 72;
	cfg.prompts.max_prompts = 3;
	cfg.prompts.quiet_start = 20 * 60;
	cfg.prompts.quiet_end = 8 * 60;
	memset(&p, 0, sizeof(p));
	p.id = 7;
	p.active = 1;
	p.status = ST_OFF;
	p.primary_platform = PLAT_TEAMS;
	p.primary_team_id = strdup("ten");
	mk(&acc[0], PLAT_SLACK, "T1", "U1");
	mk(&acc[1], PLAT_TEAMS, "ten", "g1");
	memset(&in, 0, sizeof(in));
	in.p = &p;
	in.accts = acc;
	in.n = 2;
	in.reason = PR_ADMIN;
	in.via_platform = -1;
	in.local_minute = 12 * 60;
	in.zone = "Europe/Paris";
	in.platform_enabled[0] = in.platform_enabled[1] = in.platform_enabled[2] = 1;
	in.now = 1800000000;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	person_free(&p);
	account_free(&acc[0]);
	account_free(&acc[1]);
	return 0;
}

static void
decide(void)
{
	rec_prompt_decide(&cfg, &in, &d);
}

static void
test_send_to_primary(void **state)
{
	(void)state;
	decide();
	assert_int_equal(d.d, DEC_SEND);
	assert_ptr_equal(d.target, &acc[1]);
	assert_non_null(strstr(d.why, "never prompted"));
}

static void
test_auto_prompt_goes_to_sender_platform(void **state)
{
	(void)state;
	in.reason = PR_AUTO;
	in.via_platform = PLAT_SLACK;
	in.via_user = "U1";
	decide();
	assert_int_equal(d.d, DEC_SEND);
	assert_ptr_equal(d.target, &acc[0]);
	in.via_user = "U-other";
	decide();
	assert_int_equal(d.d, DEC_NEVER);
}

static void
test_never(void **state)
{
	(void)state;
	p.active = 0;
	decide();
	assert_int_equal(d.d, DEC_NEVER);
	assert_non_null(strstr(d.why, "inactive"));
	p.active = 1;
	p.status = ST_ON;
	decide();
	assert_int_equal(d.d, DEC_NEVER);
	assert_non_null(strstr(d.why, "already synced"));
	p.status = ST_PENDING;
	in.reason = PR_BULK;
	decide();
	assert_int_equal(d.d, DEC_NEVER);
	in.reason = PR_ADMIN;
	decide();
	assert_int_equal(d.d, DEC_SEND);		/* pending people can be prompted again */
	p.flags = PERSON_GUEST;
	decide();
	assert_int_equal(d.d, DEC_NEVER);
	assert_non_null(strstr(d.why, "guest"));
	cfg.plat[PLAT_TEAMS].include_guests = 1;
	decide();
	assert_int_equal(d.d, DEC_SEND);
	p.flags = 0;
	in.has_pending = 1;
	decide();
	assert_int_equal(d.d, DEC_NEVER);
	in.has_pending = 0;
	p.prompt_count = 3;
	decide();
	assert_int_equal(d.d, DEC_NEVER);
	assert_non_null(strstr(d.why, "all 3 prompts used"));
	in.platform_enabled[PLAT_TEAMS] = 0;
	in.platform_enabled[PLAT_SLACK] = 0;
	p.prompt_count = 0;
	decide();
	assert_int_equal(d.d, DEC_NEVER);
	assert_non_null(strstr(d.why, "no active account"));
}

static void
test_cooldown_and_quiet_hours(void **state)
{
	(void)state;
	p.prompt_count = 2;
	p.last_prompted_at = in.now - 3600;
	decide();
	assert_int_equal(d.d, DEC_WAIT);
	assert_non_null(strstr(d.why, "cooldown until"));
	assert_non_null(strstr(d.why, "2 of 3 prompts used"));
	p.last_prompted_at = in.now - 73 * 3600;
	decide();
	assert_int_equal(d.d, DEC_SEND);
	in.local_minute = 23 * 60;			/* 20:00-08:00 wraps midnight */
	decide();
	assert_int_equal(d.d, DEC_WAIT);
	assert_non_null(strstr(d.why, "quiet hours in Europe/Paris"));
	in.local_minute = 7 * 60 + 59;
	decide();
	assert_int_equal(d.d, DEC_WAIT);
	in.local_minute = 8 * 60;
	decide();
	assert_int_equal(d.d, DEC_SEND);
	cfg.prompts.quiet_start = cfg.prompts.quiet_end = -1;	/* off */
	in.local_minute = 23 * 60;
	decide();
	assert_int_equal(d.d, DEC_SEND);
}

static void
test_auto_sync_and_reauth(void **state)
{
	(void)state;
	cfg.slack.auto_sync = 1;
	assert_true(rec_auto_sync_applies(&cfg, &p));
	decide();
	assert_int_equal(d.d, DEC_NEVER);
	assert_non_null(strstr(d.why, "auto-sync"));
	cfg.slack.auto_sync = 0;
	p.status = ST_ON;
	in.reason = PR_REAUTH;
	decide();
	assert_int_equal(d.d, DEC_NEVER);		/* not flagged */
	p.flags = PERSON_REAUTH;
	p.prompt_count = 3;
	decide();
	assert_int_equal(d.d, DEC_SEND);		/* one re-consent whatever max_prompts */
}

static void
test_stale(void **state)
{
	(void)state;
	cfg.prompts.stale_days = 14;
	p.status = ST_PENDING;
	p.last_prompted_at = in.now - 15 * 86400;
	assert_true(rec_pending_stale(&cfg, &p, in.now));
	p.last_prompted_at = in.now - 13 * 86400;
	assert_false(rec_pending_stale(&cfg, &p, in.now));
}

static void
test_texts(void **state)
{
	struct buf b = { 0 };
	char ref[24];

	(void)state;
	prompt_ref(42, 0x12345, ref);
	assert_string_equal(ref, "PS-1A-5T82");
	prompt_render(&cfg, PLAT_TEAMS, "<Zoë & \"Co\">", "https://s.example/s/abc", ref, &b);
	assert_non_null(strstr(b.p, "Hi &lt;Zoë &amp; &quot;Co&quot;&gt;!"));
	assert_non_null(strstr(b.p, "href=\"https://s.example/s/abc\""));
	assert_non_null(strstr(b.p, "PS-1A-5T82"));
	buf_reset(&b);
	prompt_render(&cfg, PLAT_SLACK, "Ana", "https://s.example/s/abc", ref, &b);
	assert_non_null(strstr(b.p, "<https://s.example/s/abc|*Sync now*>"));
	buf_reset(&b);
	prompt_render(&cfg, PLAT_WEBEX, "a*b_[c]", "https://s.example/s/abc", ref, &b);
	assert_non_null(strstr(b.p, "a\\*b\\_\\[c\\]"));
	assert_non_null(strstr(b.p, "[Sync now](https://s.example/s/abc)"));
	buf_reset(&b);
	cfg.plat[PLAT_SLACK].prompt_template = "Hey {first_name} {link} {ref} {name}";
	prompt_render(&cfg, PLAT_SLACK, "Bo", "L", "R", &b);
	assert_string_equal(b.p, "Hey Bo L R Bo");
	cfg.plat[PLAT_SLACK].prompt_template = NULL;
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_send_to_primary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_prompt_goes_to_sender_platform, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_never, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cooldown_and_quiet_hours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_sync_and_reauth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_texts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
