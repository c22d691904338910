/*
 * cmd_login.c — the platform set-up helpers: `login PLATFORM` (the device sign-in of the
 * Teams service user), `slack-manifest` and `webex-integration` (what to paste when creating
 * the apps). The work is reconcile/appsetup.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <sysexits.h>
#include <time.h>

#include "appsetup.h"
#include "cli.h"
#include "util.h"

static const char login_usage[] =
"usage: peoplesync [-c FILE] login teams\n"
"\n"
"Signs in the Teams service user (the account that sends the prompts as chats) with the\n"
"OAuth 2.0 device authorization grant against teams.login_url: prints on stderr where to\n"
"go and the code to enter there (in any browser, on any machine), waits while the person\n"
"signs in, then stores the refresh token in teams.service_user_refresh_token_file (mode\n"
"0600, replaced atomically; never printed). The app registration must allow public client\n"
"flows. Exit 0 when stored, 75 when the code expired first (run it again), 77 when the\n"
"sign-in was declined, 69 when the identity platform is unreachable, 78 when it refuses\n"
"the app, 73 when the file cannot be written.\n";

static const char manifest_usage[] =
"usage: peoplesync [-c FILE] slack-manifest\n"
"\n"
"Prints the Slack app manifest (JSON) for the features the config enables: the bot scopes\n"
"(roster, prompts by direct message, team names), the user scopes of the Sync now sign-in\n"
"(slack.oauth.scopes when set), the redirect URL PUBLIC_URL/oauth/slack/callback and the\n"
"Events API request URL PUBLIC_URL/events/slack. Paste it at api.slack.com/apps, Create\n"
"New App, From an app manifest.\n";

static const char webex_usage[] =
"usage: peoplesync [-c FILE] webex-integration\n"
"\n"
"Prints the Webex integration's settings (JSON) for the Sync now sign-in: its redirect URI\n"
"PUBLIC_URL/oauth/webex/callback and its scopes (webex.oauth.scopes when set). Enter them\n"
"at developer.webex.com, My Webex Apps, Create a New App, Integration.\n";

static void
show_code(const struct device_code *dc, void *arg)
{
	(void)arg;
	fprintf(stderr, "To sign in the Teams service user, open %s in a browser and enter the "
	    "code %s (within %d minutes).\nWaiting for the sign-in...\n", dc->verification_uri,
	    dc->user_code, (dc->expires_in + 59) / 60);
	fflush(stderr);
}

static void
sleep_for(double s, void *arg)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	(void)arg;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static double
clock_now(void *arg)
{
	(void)arg;
	return ps_monotonic();
}

int
cmd_login(struct cli *c, int argc, char **argv)
{
	const struct device_ui ui = { show_code, sleep_for, clock_now, NULL };
	struct failure f = { 0 };
	enum platform p;
	const char *path = NULL;
	int rc;

	if (cli_fixed_args(argc, argv, 2, login_usage, &rc))
		return rc;
	if (platform_parse(argv[1], &p) < 0) {
		log_err("login: '%s' is not slack, teams or webex", argv[1]);
		return EX_USAGE;
	}
	if (config_load(c->config_path, &c->cfg, CONFIG_NO_SECRETS) < 0)
		return EX_CONFIG;
	c->cfg_loaded = 1;
	if (rec_login(&c->cfg, p, &ui, &path, &f) != FAIL_NONE)
		return cli_fail(&f);
	printf("%s: the service user's refresh token is stored in %s (mode 0600)\n",
	    platform_name(p), path);
	return 0;
}

/* slack-manifest and webex-integration: load the config, print what the engine writes. */
static int
print_settings(struct cli *c, int argc, char **argv, const char *usage,
    enum fail (*fn)(const struct config *, struct buf *, struct failure *))
{
	struct failure f = { 0 };
	struct buf out = { 0 };
	int rc;

	if (cli_fixed_args(argc, argv, 1, usage, &rc))
		return rc;
	/* before the secrets are filled: the manifest is what gets them */
	if (config_load(c->config_path, &c->cfg, CONFIG_NO_SECRETS) < 0)
		return EX_CONFIG;
	c->cfg_loaded = 1;
	rc = 0;
	if (fn(&c->cfg, &out, &f) != FAIL_NONE)
		rc = cli_fail(&f);
	else if (fwrite(out.p, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
		rc = EX_IOERR;
	buf_free(&out);
	return rc;
}

int
cmd_slack_manifest(struct cli *c, int argc, char **argv)
{
	return print_settings(c, argc, argv, manifest_usage, rec_slack_manifest);
}

int
cmd_webex_integration(struct cli *c, int argc, char **argv)
{
	return print_settings(c, argc, argv, webex_usage, rec_webex_integration);
}
