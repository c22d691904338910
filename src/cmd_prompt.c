/*
 * cmd_prompt.c — `prompt`, `auto-prompt`, `events ingest` and `explain`: the options; the
 * engine (reconcile/queue.c, events.c, explain.c) does the work.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "outbox.h"
#include "util.h"

static const char prompt_usage[] =
"usage: peoplesync prompt [--dry-run] PERSON...\n"
"       peoplesync prompt --all [--dry-run] [--platform P] [--type bot|user]\n"
"\n"
"Queues a Sync now prompt for each PERSON (an admin prompting one at a time), or with --all\n"
"for everyone with status off who matches the filters (bulk). The prompts are sent by the\n"
"next `peoplesync reconcile`, rate-limited. People who are synced, inactive, guests, inside\n"
"their cooldown or out of prompts are not queued; each line says why.\n";

/* The options of `prompt` into rq; 1 when the command is done (*rc: its exit code). */
static int
prompt_opts(int argc, char **argv, struct prompt_request *rq, int *rc)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "platform", required_argument, NULL, 'p' },
		{ "type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	enum platform pl;
	int ch;

	*rc = EX_USAGE;
	rq->platform = rq->type = -1;
	while ((ch = getopt_long(argc, argv, "anp:t:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': rq->all = 1; break;
		case 'n': rq->dry_run = 1; break;
		case 'p':
			if (platform_parse(optarg, &pl) < 0) {
				log_err("prompt: --platform: '%s' is not slack, teams or webex", optarg);
				return 1;
			}
			rq->platform = (int)pl;
			break;
		case 't':
			rq->type = strcmp(optarg, "user") == 0 ? SYNC_USER :
			    strcmp(optarg, "bot") == 0 ? SYNC_BOT : -2;
			if (rq->type == -2) {
				log_err("prompt: --type: '%s' is not bot or user", optarg);
				return 1;
			}
			break;
		default:
			*rc = cli_usage(ch, prompt_usage);
			return 1;
		}
	}
	rq->people = argv + optind;
	rq->npeople = argc - optind;
	return 0;
}

int
cmd_prompt(struct cli *c, int argc, char **argv)
{
	struct prompt_request rq = { 0 };
	struct failure f;
	int rc;

	if (prompt_opts(argc, argv, &rq, &rc))
		return rc;
	if (rq.all == (rq.npeople > 0)) {
		log_err("prompt: name people, or --all (not both)");
		fputs(prompt_usage, stderr);
		return EX_USAGE;
	}
	if (!rq.all && (rq.platform >= 0 || rq.type >= 0)) {
		log_err("prompt: --platform and --type filter --all");
		return EX_USAGE;
	}
	if ((rc = cli_open_store(c, 0)) != 0)
		return rc;
	rec_prompt(&c->cfg, c->st, &rq, stdout, &f);
	return cli_fail(&f);
}

static const char auto_usage[] =
"usage: peoplesync auto-prompt on|off|status\n"
"\n"
"With auto-prompt on, people with status off are prompted when they send messages to people\n"
"who have synced (message events: `peoplesync events ingest` and events.spool_dir). Kept in\n"
"the database.\n";

int
cmd_auto_prompt(struct cli *c, int argc, char **argv)
{
	struct failure f;
	int rc, on, status;

	if (wants_help(argc, argv)) {
		fputs(auto_usage, stdout);
		return 0;
	}
	if (argc != 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "off") &&
	    strcmp(argv[1], "status"))) {
		fputs(auto_usage, stderr);
		return EX_USAGE;
	}
	status = strcmp(argv[1], "status") == 0;
	if ((rc = cli_open_store(c, status)) != 0)
		return rc;
	if (rec_auto_prompt(c->st, status ? NULL : argv[1], &on, &f) != FAIL_NONE)
		return cli_fail(&f);
	printf("auto-prompt is %s\n", on ? "on" : "off");
	return 0;
}

static const char events_usage[] =
"usage: peoplesync events ingest FILE|-\n"
"\n"
"Reads message events, one JSON object per line:\n"
"  {\"ts\":\"2026-11-24T10:00:00Z\",\"from\":\"slack:U1\",\"to\":\"teams:9f...\"}\n"
"With auto-prompt on, a sender with status off who messages someone synced gets a prompt\n"
"(queued; the next reconcile sends it). Bad lines are reported as FILE:LINE and skipped;\n"
"the exit status is then 65.\n";

int
cmd_events(struct cli *c, int argc, char **argv)
{
	struct event_counts n;
	struct failure f;
	int rc, std;
	FILE *fp;

	if (wants_help(argc, argv)) {
		fputs(events_usage, stdout);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "ingest") != 0) {
		fputs(events_usage, stderr);
		return EX_USAGE;
	}
	if ((rc = cli_open_store(c, 0)) != 0)
		return rc;
	std = strcmp(argv[2], "-") == 0;
	if (std)
		fp = stdin;
	else if ((fp = fopen(argv[2], "r")) == NULL) {
		log_err("events: %s: %s", argv[2], strerror(errno));
		return EX_NOINPUT;
	}
	rec_events_ingest(&c->cfg, c->st, fp, std ? "stdin" : argv[2], &n, &f);
	if (!std)
		fclose(fp);
	if (f.cls == FAIL_NONE || f.cls == FAIL_DATA)
		printf("%ld events read, %ld auto-prompts queued, %ld bad lines\n", n.events,
		    n.queued, n.bad);
	return cli_fail(&f);
}

/* ---- explain ---- */

static const char explain_usage[] =
"usage: peoplesync explain PERSON\n"
"\n"
"Why this person has their status and their primary platform and team, and whether they\n"
"would be prompted now, and why (not).\n";

int
cmd_explain(struct cli *c, int argc, char **argv)
{
	struct failure f;
	int rc;

	if (cli_start(c, argc, argv, 2, explain_usage, 1, &rc))
		return rc;
	rec_explain(&c->cfg, c->st, argv[1], stdout, &f);
	return cli_fail(&f);
}
