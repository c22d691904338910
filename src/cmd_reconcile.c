/*
 * cmd_reconcile.c — `reconcile`: the options; the engine runs (rec_reconcile), then the
 * metrics are written from the figures it returns.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "metrics.h"
#include "reconcile.h"
#include "run.h"
#include "util.h"

static const char reconcile_usage[] =
"usage: peoplesync reconcile [--dry-run] [--only PLATFORM[,PLATFORM]] [--no-prompts]\n"
"                            [--accept-deactivations]\n"
"\n"
"Pulls the roster of every enabled platform (concurrently), reconciles accounts into one\n"
"person per human and stores the result. A platform whose pull fails changes nothing and\n"
"makes the run exit 69 after the others were applied; only a platform's first pull, merged\n"
"as it arrives, keeps what it merged before the failure (the next run pulls again).\n"
"A complete pull that would deactivate more than reconcile.max_deactivate_share of a\n"
"platform's active accounts is refused (exit 65) unless --accept-deactivations.\n"
"\n"
"  --dry-run               pull and report what would change; write nothing\n"
"  --only slack,teams      only these platforms\n"
"  --no-prompts            do not send prompts this run\n"
"  --accept-deactivations  apply a roster that shrank beyond the guard\n";

/* The options of `reconcile` into o; 1 when the command is done (*rc: its exit code). */
static int
reconcile_opts(int argc, char **argv, struct run_opts *o, int *rc)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "only", required_argument, NULL, 'o' },
		{ "no-prompts", no_argument, NULL, 'P' },
		{ "accept-deactivations", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	*rc = EX_USAGE;
	while ((ch = getopt_long(argc, argv, "no:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			o->dry_run = 1;
			break;
		case 'o': {
			char *list = xstrdup(optarg), *save = NULL, *tok;
			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				enum platform p;
				if (platform_parse(tok, &p) < 0) {
					log_err("reconcile: --only: '%s' is not slack, teams or webex", tok);
					free(list);
					return 1;
				}
				o->only[p] = 1;
			}
			free(list);
			break;
		}
		case 'P':
			o->no_prompts = 1;
			break;
		case 'A':
			o->accept_deactivations = 1;
			break;
		default:
			*rc = cli_usage(ch, reconcile_usage);
			return 1;
		}
	}
	return cli_no_more("reconcile", argc, argv) != 0;
}

int
cmd_reconcile(struct cli *c, int argc, char **argv)
{
	struct run_opts o = { 0 };
	struct run_result res;
	struct metrics_run mr;
	struct failure f;
	int rc, lock;

	if (reconcile_opts(argc, argv, &o, &rc))
		return rc;
	if ((rc = cli_load_config(c)) != 0)
		return rc;
	for (int p = 0; p < PLAT_COUNT; p++) {
		if (o.only[p] && !config_enabled(&c->cfg, (enum platform)p)) {
			log_err("reconcile: --only %s: %s is not enabled in %s",
			    platform_name((enum platform)p), platform_name((enum platform)p),
			    c->config_path);
			return EX_USAGE;
		}
	}
	if ((rc = cli_open_store(c, 0)) != 0)
		return rc;
	if ((lock = run_lock(c->cfg.database, &f)) < 0)
		return cli_fail(&f);
	rec_reconcile(&c->cfg, c->st, &o, stdout, &res, &f);
	rc = cli_fail(&f);
	/* metrics from the run's figures, failed or not, while the lock is held */
	metrics_run_from(&mr, &res.run, &res.prompts, o.dry_run, rc == 0);
	metrics_write(&c->cfg, c->st, &mr);	/* logs its own error */
	run_unlock(lock);
	return rc;
}
