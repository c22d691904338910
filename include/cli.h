/* cli.h — private to src/: the command implementations behind main.c, and their helpers. */
#ifndef PS_CLI_H
#define PS_CLI_H

#include "config.h"
#include "fail.h"
#include "lookup.h"
#include "report.h"
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

/* The one place a failure class becomes an exit code: logs f->msg when it is set (an engine
 * call that logged its own problems leaves it empty) and returns fail_exit(f->cls). */
int	cli_fail(const struct failure *f);

/* Logs the store's message and returns EX_IOERR. */
int	cli_store_error(struct cli *c);

/* A command that takes a fixed number of words (argc counts the command itself): -h/--help
 * prints usage on stdout (*rc = 0), another count prints it on stderr (*rc = EX_USAGE).
 * Returns 1 when the command is done (return *rc), else 0. */
int	cli_fixed_args(int argc, char **argv, int want, const char *usage, int *rc);

/* cli_fixed_args, then cli_open_store: 1 when the command is done (return *rc), else 0
 * with the store open. */
int	cli_start(struct cli *c, int argc, char **argv, int want, const char *usage,
	    int readonly, int *rc);

int	cmd_reconcile(struct cli *c, int argc, char **argv);
int	cmd_people(struct cli *c, int argc, char **argv);
int	cmd_show(struct cli *c, int argc, char **argv);
int	cmd_export(struct cli *c, int argc, char **argv);
int	cmd_check_config(struct cli *c, int argc, char **argv);
int	cmd_init(struct cli *c, int argc, char **argv);
int	cmd_login(struct cli *c, int argc, char **argv);
int	cmd_slack_manifest(struct cli *c, int argc, char **argv);
int	cmd_webex_integration(struct cli *c, int argc, char **argv);
int	cmd_db(struct cli *c, int argc, char **argv);
int	cmd_serve(struct cli *c, int argc, char **argv);
int	cmd_sync_link(struct cli *c, int argc, char **argv);
int	cmd_link(struct cli *c, int argc, char **argv);
int	cmd_unlink(struct cli *c, int argc, char **argv);
int	cmd_conflicts(struct cli *c, int argc, char **argv);
int	cmd_audit(struct cli *c, int argc, char **argv);
int	cmd_prompt(struct cli *c, int argc, char **argv);
int	cmd_auto_prompt(struct cli *c, int argc, char **argv);
int	cmd_events(struct cli *c, int argc, char **argv);
int	cmd_explain(struct cli *c, int argc, char **argv);

/* For `people` and `export`: opens the store read-only, completes the filter from the
 * config (--stale), begins a read txn. 0 with *t, or a sysexits code (logged). */
int	cli_report_begin(struct cli *c, struct report_filter *f, struct txn **t);

/* The help and unknown-option cases of a command's option switch: for ch 'h' prints usage
 * on stdout and returns 0, for anything else prints it on stderr and returns EX_USAGE. */
int	cli_usage(int ch, const char *usage);

/* After a command's options (optind): EX_USAGE after logging "CMD: unexpected argument
 * 'X'" when words are left, else 0. */
int	cli_no_more(const char *cmd, int argc, char **argv);

/* 1 when argv has -h or --help (before "--"). */
int	wants_help(int argc, char **argv);

#endif
