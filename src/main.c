/*
 * main.c — peoplesync's command line: global options, then one command.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <curl/curl.h>

#include "cli.h"
#include "util.h"

#define DEFAULT_CONFIG	"/etc/peoplesync/peoplesync.cfg"
#define VERSION		"0.1.0"

static const char usage_text[] =
"usage: peoplesync [-c FILE] [-q|-v] COMMAND [ARGS]\n"
"\n"
"People Sync: one picture of who has synced their chat identity across Slack,\n"
"Microsoft Teams and Webex, and prompts for the rest.\n"
"\n"
"Commands:\n"
"  reconcile [--dry-run] [--only PLATFORM[,PLATFORM]] [--no-prompts]\n"
"            [--accept-deactivations]\n"
"                        pull the rosters and reconcile them into the database\n"
"  people [--platform P] [--status on|off|pending] [--type bot|user] [--all]\n"
"         [--format table|csv|jsonl]\n"
"                        list people (active people only unless --all)\n"
"  show PERSON           one person: every account and their history\n"
"  export --format csv|json|html [-o FILE] [people's filters]\n"
"                        the people as a spreadsheet, a JSON document or an HTML report\n"
"  link PERSON PLATFORM:USER_ID   an admin's match, kept by every later run\n"
"  unlink PLATFORM:USER_ID        an admin's split: the account is a person of its own\n"
"  conflicts             contested matches waiting for an admin\n"
"  audit                 every action of an admin in the console (public_url/admin)\n"
"  explain PERSON        why this status, this primary, and why (not) prompted\n"
"  prompt PERSON... | prompt --all [--platform P] [--type T] [--dry-run]\n"
"                        queue Sync now prompts (one at a time, or in bulk)\n"
"  auto-prompt on|off|status\n"
"  events ingest FILE|-  message events (JSON Lines) for auto-prompt\n"
"  serve [--listen ADDR:PORT]\n"
"                        the web endpoint behind Sync now links\n"
"  sync-link PERSON      print a fresh Sync now link for a person\n"
"  check-config [--online]\n"
"                        validate the config file and every file it names; --online\n"
"                        also proves each platform's credentials and scopes\n"
"  init [--platforms LIST] [--set KEY=VALUE]... [DIR]\n"
"                        write a commented config, keys and directories; never\n"
"                        overwrites a file; prints what is left to do\n"
"  login teams           sign in the Teams service user (device code); stores its\n"
"                        refresh token\n"
"  slack-manifest        the Slack app manifest (JSON) for the enabled features\n"
"  webex-integration     the Webex integration's redirect URI and scopes (JSON)\n"
"  db stats | db verify | db backup DEST\n"
"\n"
"Options:\n"
"  -c FILE     config file (default: $PEOPLESYNC_CONFIG, else " DEFAULT_CONFIG ")\n"
"  -q, --quiet     only errors on stderr\n"
"  -v, --verbose   debug messages on stderr\n"
"  -h, --help      this help; 'peoplesync COMMAND --help' for a command's\n"
"  -V, --version\n"
"\n"
"PERSON is an email address or PLATFORM:USER_ID (slack:U024BE7LH, teams:<id>, webex:<id>).\n"
"Exit codes (sysexits): 0 ok, 64 usage, 65 bad data, 69 a platform unavailable,\n"
"73 cannot create output, 74 I/O error, 75 try again later, 78 configuration error.\n";

static const struct {
	const char *name;
	int (*fn)(struct cli *, int, char **);
} commands[] = {
	{ "reconcile", cmd_reconcile },
	{ "people", cmd_people },
	{ "show", cmd_show },
	{ "export", cmd_export },
	{ "serve", cmd_serve },
	{ "sync-link", cmd_sync_link },
	{ "check-config", cmd_check_config },
	{ "init", cmd_init },
	{ "login", cmd_login },
	{ "slack-manifest", cmd_slack_manifest },
	{ "webex-integration", cmd_webex_integration },
	{ "db", cmd_db },
	{ "link", cmd_link },
	{ "unlink", cmd_unlink },
	{ "conflicts", cmd_conflicts },
	{ "audit", cmd_audit },
	{ "prompt", cmd_prompt },
	{ "auto-prompt", cmd_auto_prompt },
	{ "events", cmd_events },
	{ "explain", cmd_explain },
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli c = { 0 };
	int ch, rc = EX_USAGE;
	size_t i;

	c.config_path = getenv("PEOPLESYNC_CONFIG");
	if (c.config_path == NULL || *c.config_path == '\0')
		c.config_path = DEFAULT_CONFIG;
	/* '+': stop at the command; its options are its own */
	while ((ch = getopt_long(argc, argv, "+c:qvhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c.config_path = optarg;
			break;
		case 'q':
			log_set_level(LOG_ERR);
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("peoplesync %s\n", VERSION);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		fputs(usage_text, stderr);
		return EX_USAGE;
	}
	for (i = 0; i < ARRAY_LEN(commands); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			break;
	if (i == ARRAY_LEN(commands)) {
		log_err("unknown command '%s'; 'peoplesync --help' lists the commands", argv[0]);
		return EX_USAGE;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	optind = 0;		/* glibc: full reinitialisation for the command's getopt */
	rc = commands[i].fn(&c, argc, argv);
	store_close(c.st);
	if (c.cfg_loaded)
		config_free(&c.cfg);
	curl_global_cleanup();
	return rc;
}
