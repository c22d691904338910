/*
 * cmd_check_config.c — `check-config`: the config file and every file it names.
 */
#include <stdio.h>
#include <sysexits.h>

#include "cli.h"

static const char check_usage[] =
"usage: peoplesync [-c FILE] check-config\n"
"\n"
"Validates the config file and every file it names (secret files must exist and be\n"
"readable by their owner only). Prints every problem as FILE:LINE: setting: problem and\n"
"exits 78, or exits 0.\n";

int
cmd_check_config(struct cli *c, int argc, char **argv)
{
	int rc;

	if (cli_fixed_args(argc, argv, 1, check_usage, &rc))
		return rc;
	if (config_load(c->config_path, &c->cfg, 1) < 0)
		return EX_CONFIG;
	c->cfg_loaded = 1;
	printf("%s: OK (slack %s, teams %s, webex %s; database %s)\n", c->config_path,
	    c->cfg.plat[PLAT_SLACK].enabled ? "enabled" : "disabled",
	    c->cfg.plat[PLAT_TEAMS].enabled ? "enabled" : "disabled",
	    c->cfg.plat[PLAT_WEBEX].enabled ? "enabled" : "disabled", c->cfg.database);
	return 0;
}
