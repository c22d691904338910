/* cli.c — helpers shared by the commands: config and store opening, usage checks, and the
 * one mapping from a failure class to an exit code. */
#include <getopt.h>
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
cli_usage(int ch, const char *usage)
{
	fputs(usage, ch == 'h' ? stdout : stderr);
	return ch == 'h' ? 0 : EX_USAGE;
}

int
cli_no_more(const char *cmd, int argc, char **argv)
{
	if (optind >= argc)
		return 0;
	log_err("%s: unexpected argument '%s'", cmd, argv[optind]);
	return EX_USAGE;
}

int
cli_fixed_args(int argc, char **argv, int want, const char *usage, int *rc)
{
	if (wants_help(argc, argv)) {
		fputs(usage, stdout);
		*rc = 0;
		return 1;
	}
	if (argc != want) {
		fputs(usage, stderr);
		*rc = EX_USAGE;
		return 1;
	}
	return 0;
}

int
cli_start(struct cli *c, int argc, char **argv, int want, const char *usage, int readonly,
    int *rc)
{
	if (cli_fixed_args(argc, argv, want, usage, rc))
		return 1;
	return (*rc = cli_open_store(c, readonly)) != 0;
}

int
cli_fail(const struct failure *f)
{
	if (f->cls != FAIL_NONE && f->msg[0])
		log_err("%s", f->msg);
	return fail_exit(f->cls);
}

int
cli_store_error(struct cli *c)
{
	log_err("%s", store_error(c->st));
	return EX_IOERR;
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
	if (c->st == NULL)
		return cli_fail(&f);
	return readonly || store_upgrade(c->st) == 0 ? 0 : cli_store_error(c);
}

int
cli_report_begin(struct cli *c, struct report_filter *f, struct txn **t)
{
	int rc;

	if ((rc = cli_open_store(c, 1)) != 0)
		return rc;
	report_filter_finish(f, &c->cfg);
	if ((*t = store_begin(c->st, 0)) == NULL)
		return cli_store_error(c);
	return 0;
}
