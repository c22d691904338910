/*
 * test_scopes.c — the one scope table: what each credential needs for the features a config
 * enables, the sign-in's scopes (table or override) in the authorize URL, the missing ones
 * named with their features, and the Slack manifest and Webex integration built from it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appsetup.h"	/* before cmocka.h, whose fail() macro meets enum fail */
#include "json.h"
#include "oauth.h"
#include "scopes.h"

#include <cmocka.h>

static struct config *
cfg_new(void)
{
	struct config *c = calloc(1, sizeof(*c));

	c->path = "test.cfg";
	c->public_url = "https://sync.example.com/";
	for (int p = 0; p < PLAT_COUNT; p++)
		c->plat[p].enabled = 1;
	c->plat[PLAT_SLACK].oauth.authorize_url = "https://slack.com/oauth/v2/authorize";
	c->plat[PLAT_SLACK].oauth.client_id = "111.222";
	c->plat[PLAT_SLACK].oauth.client_secret = "s3cret";
	c->plat[PLAT_SLACK].oauth.token_url = "https://slack.com/api/oauth.v2.access";
	return c;
}

static char *
needed(const struct config *c, enum scope_holder h, char sep, int all)
{
	struct buf b = { 0 };

	scopes_needed(c, h, sep, all, &b);
	return b.p ? b.p : calloc(1, 1);
}

static void
expect_needed(const struct config *c, enum scope_holder h, char sep, int all,
    const char *want)
{
	char *s = needed(c, h, sep, all);

	assert_string_equal(s, want);
	free(s);
}

static void
expect_signin(const struct config *c, enum platform p, const char *want)
{
	char *s = scopes_signin(c, p);

	assert_string_equal(s, want);
	free(s);
}

static void
test_needed_by_holder(void **state)
{
	struct config *c = cfg_new();

	(void)state;
	expect_needed(c, SH_SLACK_BOT, ',', 1, "users:read,users:read.email,chat:write,"
	    "im:write,im:history,team:read");
	expect_needed(c, SH_TEAMS_SERVICE, ' ', 1, "offline_access User.Read Chat.Create "
	    "ChatMessage.Send Chat.Read");
	/* what a token answer lists: offline_access is asked for, never listed */
	expect_needed(c, SH_TEAMS_SERVICE, ' ', 0, "User.Read Chat.Create ChatMessage.Send "
	    "Chat.Read");
	expect_needed(c, SH_TEAMS_APP, ' ', 1, "User.Read.All Organization.Read.All");
	/* the catch-up (events.catchup_hours) and the subscriptions (events.subscriptions) */
	c->events.catchup_hours = 2;
	expect_needed(c, SH_SLACK_USER, ',', 1, "users:read,users:read.email,im:history,im:read");
	expect_needed(c, SH_WEBEX_USER, ' ', 1, "spark:people_read spark:messages_read "
	    "spark:rooms_read");
	c->events.subscriptions = 1;
	expect_needed(c, SH_TEAMS_APP, ' ', 1, "User.Read.All Organization.Read.All "
	    "Chat.Read.All");
	c->plat[PLAT_SLACK].enabled = 0;	/* a platform off needs nothing */
	expect_needed(c, SH_SLACK_BOT, ',', 1, "");
	free(c);
}

/* The sign-in asks for the table's user scopes, unless <platform>.oauth.scopes is set. */
static void
test_signin_scopes_table_or_override(void **state)
{
	struct buf url = { 0 };
	struct config *c = cfg_new();

	(void)state;
	expect_signin(c, PLAT_SLACK, "users:read,users:read.email,im:history");
	expect_signin(c, PLAT_TEAMS, "openid profile email offline_access User.Read");
	expect_signin(c, PLAT_WEBEX, "spark:people_read");
	/* the authorize URL asks for the table's scopes */
	oauth_authorize_url(c, PLAT_SLACK, "https://x/cb", "st", NULL, &url);
	assert_non_null(strstr(url.p, "user_scope=users%3Aread%2Cusers%3Aread.email%2C"
	    "im%3Ahistory&"));
	buf_free(&url);
	c->plat[PLAT_SLACK].oauth.scopes = "users:read";
	expect_signin(c, PLAT_SLACK, "users:read");
	free(c);
}

static void
test_missing_named_with_feature(void **state)
{
	struct config *c = cfg_new();
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(scopes_missing(c, SH_SLACK_BOT, "users:read,users:read.email,"
	    "chat:write,im:history,team:read", &b), 1);
	assert_string_equal(b.p, "im:write (needed by: prompts by direct message)\n");
	buf_reset(&b);
	assert_int_equal(scopes_missing(c, SH_SLACK_BOT, "", &b), 6);
	assert_non_null(strstr(b.p, "users:read (needed by: roster pull)\n"));
	assert_non_null(strstr(b.p, "im:history (needed by: looking up a prompt in doubt)\n"));
	assert_non_null(strstr(b.p, "team:read (needed by: team names)\n"));
	buf_reset(&b);
	/* Microsoft: resource prefix and case ignored, offline_access never required */
	assert_int_equal(scopes_missing(c, SH_TEAMS_SERVICE, "https://graph.microsoft.com/"
	    "user.read chat.create ChatMessage.Send", &b), 1);
	assert_string_equal(b.p, "Chat.Read (needed by: looking up a prompt in doubt)\n");
	buf_reset(&b);
	/* a scope two features need names both */
	c->events.catchup_hours = 2;
	c->events.subscriptions = 1;
	assert_int_equal(scopes_missing(c, SH_TEAMS_APP, "User.Read.All Organization.Read.All",
	    &b), 1);
	assert_string_equal(b.p, "Chat.Read.All (needed by: event subscriptions, the catch-up "
	    "of missed direct messages)\n");
	c->events.catchup_hours = c->events.subscriptions = 0;
	buf_reset(&b);
	/* a scope is a whole word: "chat:writes" is not chat:write */
	assert_int_equal(scopes_missing(c, SH_SLACK_BOT, "users:read users:read.email "
	    "chat:writes im:write im:history team:read", &b), 1);
	assert_string_equal(b.p, "chat:write (needed by: prompts by direct message)\n");
	buf_free(&b);
	free(c);
}

static void
test_redirect_uri(void **state)
{
	struct buf b = { 0 };

	(void)state;
	oauth_redirect_uri("https://sync.example.com//", PLAT_WEBEX, &b);
	assert_string_equal(b.p, "https://sync.example.com/oauth/webex/callback");
	buf_free(&b);
}

/* The JSON array at path of j as "a,b,c". */
static char *
array_of(const struct json *j, const char *path)
{
	struct buf b = { 0 };
	int arr = json_path(j, 0, path);

	assert_true(json_is_array(j, arr));
	for (int e = json_first(j, arr); e >= 0; e = json_next(j, arr, e)) {
		char *s = json_strdup(j, e);

		buf_printf(&b, "%s%s", b.len ? "," : "", s);
		free(s);
	}
	return b.p ? b.p : calloc(1, 1);
}

static void
test_manifest_from_the_table(void **state)
{
	struct config *c = cfg_new();
	struct failure f = { 0 };
	struct buf out = { 0 };
	struct json j = { 0 };
	char err[128], *s, *want;

	(void)state;
	assert_int_equal(rec_slack_manifest(c, &out, &f), FAIL_NONE);
	assert_int_equal(json_parse(&j, out.p, out.len, err, sizeof(err)), 0);
	s = array_of(&j, "oauth_config.scopes.bot");
	want = needed(c, SH_SLACK_BOT, ',', 1);
	assert_string_equal(s, want);
	free(s);
	free(want);
	s = array_of(&j, "oauth_config.scopes.user");
	want = scopes_signin(c, PLAT_SLACK);
	assert_string_equal(s, want);
	free(s);
	free(want);
	s = array_of(&j, "oauth_config.redirect_urls");
	assert_string_equal(s, "https://sync.example.com/oauth/slack/callback");
	free(s);
	s = json_strdup(&j, json_path(&j, 0, "settings.event_subscriptions.request_url"));
	assert_string_equal(s, "https://sync.example.com/events/slack");
	free(s);
	s = array_of(&j, "settings.event_subscriptions.user_events");
	assert_string_equal(s, "message.im");
	free(s);
	json_free(&j);
	buf_free(&out);
	c->plat[PLAT_SLACK].enabled = 0;
	assert_int_equal(rec_slack_manifest(c, &out, &f), FAIL_CONFIG);
	assert_non_null(strstr(f.msg, "slack is not enabled in test.cfg"));
	c->plat[PLAT_WEBEX].oauth.scopes = "spark:people_read spark:messages_read";
	assert_int_equal(rec_webex_integration(c, &out, &f), FAIL_NONE);
	assert_int_equal(json_parse(&j, out.p, out.len, err, sizeof(err)), 0);
	s = array_of(&j, "scopes");
	assert_string_equal(s, "spark:people_read,spark:messages_read");
	free(s);
	json_free(&j);
	buf_free(&out);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_needed_by_holder),
		cmocka_unit_test(test_signin_scopes_table_or_override),
		cmocka_unit_test(test_missing_named_with_feature),
		cmocka_unit_test(test_redirect_uri),
		cmocka_unit_test(test_manifest_from_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
