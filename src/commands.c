/*
 * commands.c — `reconcile`, `check-config` and `db`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "metrics.h"
#include "outbox.h"
#include "run.h"
#include "usertokens.h"
#include "util.h"

static const char reconcile_usage[] =
"usage: peoplesync reconcile [--dry-run] [--only PLATFORM[,PLATFORM]]\n"
"                            [--accept-deactivations]\n"
"\n"
"Pulls the roster of every enabled platform (concurrently), reconciles accounts into one\n"
"person per human and stores the result. A platform whose pull fails changes nothing and\n"
"makes the run exit 69 after the others were applied. A complete pull that would deactivate\n"
"more than reconcile.max_deactivate_share of a platform's active accounts is refused (exit\n"
"65) unless --accept-deactivations.\n"
"\n"
"  --dry-run               pull and report what would change; write nothing\n"
"  --only slack,teams      only these platforms\n"
"  --no-prompts            do not send prompts this run\n"
"  --accept-deactivations  apply a roster that shrank beyond the guard\n";

int
cmd_reconcile(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "only", required_argument, NULL, 'o' },
		{ "no-prompts", no_argument, NULL, 'P' },
		{ "accept-deactivations", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct run_opts o = { 0 };
	struct run_summary sum;
	struct prompt_summary ps;
	int ch, rc, prc = 0, lock, no_prompts = 0;

	while ((ch = getopt_long(argc, argv, "no:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			o.dry_run = 1;
			break;
		case 'o': {
			char *list = xstrdup(optarg), *save = NULL, *tok;
			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				enum platform p;
				if (platform_parse(tok, &p) < 0) {
					log_err("reconcile: --only: '%s' is not slack, teams or webex", tok);
					free(list);
					return EX_USAGE;
				}
				o.only[p] = 1;
			}
			free(list);
			break;
		}
		case 'P':
			no_prompts = 1;
			break;
		case 'A':
			o.accept_deactivations = 1;
			break;
		case 'h':
			fputs(reconcile_usage, stdout);
			return 0;
		default:
			fputs(reconcile_usage, stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		log_err("reconcile: unexpected argument '%s'", argv[optind]);
		return EX_USAGE;
	}
	if ((rc = cli_load_config(c)) != 0)
		return rc;
	for (int p = 0; p < PLAT_COUNT; p++) {
		int en = p == PLAT_SLACK ? c->cfg.slack.enabled : p == PLAT_TEAMS ?
		    c->cfg.teams.enabled : c->cfg.webex.enabled;
		if (o.only[p] && !en) {
			log_err("reconcile: --only %s: %s is not enabled in %s",
			    platform_name((enum platform)p), platform_name((enum platform)p),
			    c->config_path);
			return EX_USAGE;
		}
	}
	if ((rc = cli_open_store(c, 0)) != 0)
		return rc;
	lock = run_lock(c->cfg.database);
	if (lock < 0)
		return lock == -2 ? EX_TEMPFAIL : EX_IOERR;
	rc = run_reconcile(&c->cfg, c->st, &o, &sum);
	if (log_get_level() >= LOG_INFO || rc != 0)
		run_print_summary(&sum, o.dry_run, stdout);
	memset(&ps, 0, sizeof(ps));
	if (rc == EX_IOERR || rc == EX_TEMPFAIL)
		goto out;
	if (!o.dry_run) {
		/* user tokens collected by Sync now are refreshed before they expire */
		if (c->cfg.token_key)
			(void)rec_refresh_user_tokens(&c->cfg, c->st);	/* logs its own problems */
		if (prompts_reauth(&c->cfg, c->st, ps_now(), &ps.reauth) < 0) {
			log_err("%s", store_error(c->st));
			rc = EX_IOERR;
			goto out;
		}
		if (events_spool(&c->cfg, c->st, &ps.events, &ps.events_queued) < 0 ||
		    prompts_auto_sync(&c->cfg, c->st, ps_now(), &ps.auto_synced) < 0) {
			log_err("%s", store_error(c->st));
			rc = EX_IOERR;
			goto out;
		}
	}
	if (!no_prompts) {
		if (o.dry_run)
			printf("prompts that a run would send now:\n");
		prc = prompts_send(&c->cfg, c->st, o.dry_run, stdout, &ps);
		if (rc == 0)
			rc = prc;
	}
	if (log_get_level() >= LOG_INFO || prc != 0)
		prompts_print_summary(&ps, stdout);
out:
	{
		struct metrics_run mr;
		metrics_run_from_summary(&mr, &sum, o.dry_run, rc);
		for (int p = 0; p < PLAT_COUNT; p++) {
			mr.p[p].prompts_queued = ps.p[p].waiting + ps.p[p].unresolved;
			mr.p[p].prompts_sent = ps.p[p].delivered;
			mr.p[p].prompts_failed = ps.p[p].failed;
			if (ps.p[p].err[0])
				mr.p[p].errors++;
		}
		metrics_write(&c->cfg, c->st, &mr);	/* logs its own error */
	}
	run_unlock(lock);
	return rc;
}

static const char check_usage[] =
"usage: peoplesync [-c FILE] check-config\n"
"\n"
"Validates the config file and every file it names (secret files must exist and be\n"
"readable by their owner only). Prints every problem as FILE:LINE: setting: problem and\n"
"exits 78, or exits 0.\n";

int
cmd_check_config(struct cli *c, int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		fputs(check_usage, stdout);
		return 0;
	}
	if (argc != 1) {
		fputs(check_usage, stderr);
		return EX_USAGE;
	}
	if (config_load(c->config_path, &c->cfg, 1) < 0)
		return EX_CONFIG;
	c->cfg_loaded = 1;
	printf("%s: OK (slack %s, teams %s, webex %s; database %s)\n", c->config_path,
	    c->cfg.slack.enabled ? "enabled" : "disabled",
	    c->cfg.teams.enabled ? "enabled" : "disabled",
	    c->cfg.webex.enabled ? "enabled" : "disabled", c->cfg.database);
	return 0;
}

static const char db_usage[] =
"usage: peoplesync db stats | db verify | db backup DEST\n"
"\n"
"  stats    entries of every sub-database, space used, record versions written\n"
"  verify   check that every index agrees with the records it indexes; exit 65 if not\n"
"  backup   write a consistent, compacted copy of the database into directory DEST\n";

int
cmd_db(struct cli *c, int argc, char **argv)
{
	long problems;
	int rc;

	if (wants_help(argc, argv)) {
		fputs(db_usage, stdout);
		return 0;
	}
	if (argc < 2) {
		fputs(db_usage, stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "stats") == 0 && argc == 2) {
		if ((rc = cli_open_store(c, 1)) != 0)
			return rc;
		if (store_stats(c->st, stdout) < 0) {
			log_err("%s", store_error(c->st));
			return EX_IOERR;
		}
		return 0;
	}
	if (strcmp(argv[1], "verify") == 0 && argc == 2) {
		if ((rc = cli_open_store(c, 1)) != 0)
			return rc;
		problems = store_verify(c->st, stdout);
		if (problems < 0) {
			log_err("%s", store_error(c->st));
			return EX_IOERR;
		}
		if (problems > 0) {
			printf("%ld problem%s found in %s\n", problems, problems == 1 ? "" : "s",
			    c->cfg.database);
			return EX_DATAERR;
		}
		printf("%s: every index is consistent\n", c->cfg.database);
		return 0;
	}
	if (strcmp(argv[1], "backup") == 0 && argc == 3) {
		if ((rc = cli_open_store(c, 1)) != 0)
			return rc;
		if (store_backup(c->st, argv[2]) < 0) {
			log_err("%s", store_error(c->st));
			return EX_CANTCREAT;
		}
		printf("backup written to %s\n", argv[2]);
		return 0;
	}
	fputs(db_usage, stderr);
	return EX_USAGE;
}
