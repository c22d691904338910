/* cli.h — private to src/: the command implementations behind main.c. */
#ifndef PS_CLI_H
#define PS_CLI_H

#include "config.h"
#include "lookup.h"
#include "store.h"

struct cli {
	const char	*config_path;
	struct config	 cfg;
	int		 cfg_loaded;
	struct store	*st;
};

/* Loads the config (exit 78 on error) and opens the store; returns a sysexits code. */
int	cli_load_config(struct cli *c);
int	cli_open_store(struct cli *c, int readonly);

int	cmd_reconcile(struct cli *c, int argc, char **argv);
int	cmd_people(struct cli *c, int argc, char **argv);
int	cmd_show(struct cli *c, int argc, char **argv);
int	cmd_export(struct cli *c, int argc, char **argv);
int	cmd_check_config(struct cli *c, int argc, char **argv);
int	cmd_db(struct cli *c, int argc, char **argv);
int	cmd_serve(struct cli *c, int argc, char **argv);
int	cmd_sync_link(struct cli *c, int argc, char **argv);
int	cmd_link(struct cli *c, int argc, char **argv);
int	cmd_unlink(struct cli *c, int argc, char **argv);
int	cmd_conflicts(struct cli *c, int argc, char **argv);
int	cmd_prompt(struct cli *c, int argc, char **argv);
int	cmd_auto_prompt(struct cli *c, int argc, char **argv);
int	cmd_events(struct cli *c, int argc, char **argv);
int	cmd_explain(struct cli *c, int argc, char **argv);

/* 1 when argv has -h or --help (before "--"). */
int	wants_help(int argc, char **argv);

#endif
