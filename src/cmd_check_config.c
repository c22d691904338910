/*
 * cmd_check_config.c — `check-config [--online]`: the config file and every file it names;
 * --online then proves each enabled platform's credentials and scopes (reconcile/appsetup.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <sysexits.h>

#include "appsetup.h"
#include "cli.h"

static const char check_usage[] =
"usage: peoplesync [-c FILE] check-config [--online]\n"
"\n"
"Validates the config file and every file it names (secret files must exist and be\n"
"readable by their owner only). Prints every problem as FILE:LINE: setting: problem and\n"
"exits 78, or exits 0.\n"
"\n"
"  --online   then one request per enabled platform proves its credentials and shows\n"
"             what they may do: Slack auth.test (the bot token's granted scopes), a\n"
"             Microsoft Graph token and GET /users (the app registration), the service\n"
"             user's token and GET /organization, Webex GET /people/me. Every Slack\n"
"             workspace's token is proven, named slack.workspaces[i] (and\n"
"             auth.teams.list for an org-wide one). A missing scope is named with the\n"
"             features that need it. Exit 0 when all is well, 69 when a platform is\n"
"             unreachable or failing (the others are still checked), 78 when a\n"
"             credential is refused or a scope is missing.\n";

int
cmd_check_config(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "online", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, online = 0, rc;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch != 'o')
			return cli_usage(ch, check_usage);
		online = 1;
	}
	if ((rc = cli_no_more("check-config", argc, argv)) != 0)
		return rc;
	if (config_load(c->config_path, &c->cfg, CONFIG_CHECK_FILES) < 0)
		return EX_CONFIG;
	c->cfg_loaded = 1;
	printf("%s: OK (slack %s, teams %s, webex %s; database %s)\n", c->config_path,
	    c->cfg.plat[PLAT_SLACK].enabled ? "enabled" : "disabled",
	    c->cfg.plat[PLAT_TEAMS].enabled ? "enabled" : "disabled",
	    c->cfg.plat[PLAT_WEBEX].enabled ? "enabled" : "disabled", c->cfg.database);
	if (!online)
		return 0;
	fflush(stdout);
	return fail_exit(rec_check_online(&c->cfg, stdout));
}
