/* cli.c — helpers shared by the commands. */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "util.h"

int
wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

int
cli_load_config(struct cli *c)
{
	if (c->cfg_loaded)
		return 0;
	if (config_load(c->config_path, &c->cfg, 0) < 0)
		return EX_CONFIG;
	c->cfg_loaded = 1;
	return 0;
}

int
cli_open_store(struct cli *c, int readonly)
{
	struct failure f;
	int rc;

	if ((rc = cli_load_config(c)) != 0)
		return rc;
	if (c->st)
		return 0;
	c->st = store_open(c->cfg.database, (size_t)c->cfg.map_size_mb, readonly, &f);
	if (c->st == NULL) {
		log_err("%s", f.msg);
		return fail_exit(f.cls);
	}
	return 0;
}

