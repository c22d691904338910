/*
 * cmd_init.c — `peoplesync init`: its options; the work is base/setup.c's.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "setup.h"
#include "util.h"

#define DEFAULT_DIR	"/etc/peoplesync"
#define DEFAULT_CFG	DEFAULT_DIR "/peoplesync.cfg"

static const char init_usage[] =
"usage: peoplesync init [--platforms LIST] [--database DIR] [--spool DIR]\n"
"                       [--public-url URL] [--set KEY=VALUE]... [DIR]\n"
"\n"
"Writes DIR/peoplesync.cfg (a commented config for the platforms named), the link key\n"
"(32 random bytes, mode 0600), an empty secret file (0600) for each secret\n"
"the config names, the database (0700) and spool (0770) directories; run as root, they\n"
"belong to the user peoplesync when it exists. Never overwrites anything: an existing file\n"
"is kept. Then prints what is left to do, one line each. Exit 0 when everything exists\n"
"afterwards, 73 when something could not be created.\n"
"\n"
"  DIR                 where the config, keys and secrets go (default " DEFAULT_DIR ")\n"
"  --platforms LIST    slack,teams,webex (default: all three)\n"
"  --database DIR      the database directory (default /var/lib/peoplesync)\n"
"  --spool DIR         the message-event spool (default /var/spool/peoplesync)\n"
"  --public-url URL    public_url: where serve is reached (else a line to do)\n"
"  --set KEY=VALUE     any single-valued config key (e.g. slack.api_url=URL), repeatable\n";

/* An absolute path: relative ones are taken from the current directory. */
static char *
absolute(const char *p)
{
	char cwd[PATH_MAX];

	if (p[0] == '/')
		return xstrdup(p);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	return xasprintf("%s/%s", cwd, p);
}

static int
parse_platforms(const char *arg, int platform[PLAT_COUNT])
{
	char *list = xstrdup(arg), *save = NULL, *tok;
	enum platform p;
	int rc = 0;

	memset(platform, 0, PLAT_COUNT * sizeof(platform[0]));
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (platform_parse(tok, &p) < 0) {
			log_err("init: --platforms: '%s' is not slack, teams or webex", tok);
			rc = -1;
			break;
		}
		platform[p] = 1;
	}
	if (rc == 0 && !platform[PLAT_SLACK] && !platform[PLAT_TEAMS] && !platform[PLAT_WEBEX]) {
		log_err("init: --platforms: name at least one of slack, teams, webex");
		rc = -1;
	}
	free(list);
	return rc;
}

/* Turns the options that are paths absolute (the config names them from anywhere). */
static int
absolute_paths(struct setup_opts *o, char **own, const char *dir, const char *db,
    const char *spool)
{
	own[0] = absolute(dir);
	own[1] = absolute(db);
	own[2] = absolute(spool);
	if (own[0] == NULL || own[1] == NULL || own[2] == NULL) {
		log_err("init: cannot tell the current directory");
		return -1;
	}
	/* "/etc/peoplesync/" and "/etc/peoplesync" are the same directory */
	for (size_t n = strlen(own[0]); n > 1 && own[0][n - 1] == '/'; n--)
		own[0][n - 1] = '\0';
	o->draft.dir = own[0];
	o->draft.database = own[1];
	o->draft.spool_dir = own[2];
	own[3] = xasprintf("%s/peoplesync.cfg", own[0]);
	o->cfg_path = own[3];
	own[4] = strcmp(own[3], DEFAULT_CFG) == 0 ? xstrdup("") : xasprintf(" -c %s", own[3]);
	o->cfg_arg = own[4];
	return 0;
}

int
cmd_init(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "platforms", required_argument, NULL, 'p' },
		{ "database", required_argument, NULL, 'd' },
		{ "spool", required_argument, NULL, 's' },
		{ "public-url", required_argument, NULL, 'u' },
		{ "set", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct setup_opts o = { .draft = { .platform = { 1, 1, 1 } } };
	const char *db = "/var/lib/peoplesync", *spool = "/var/spool/peoplesync";
	char **sets = xcalloc((size_t)argc + 1, sizeof(*sets));
	char *own[5] = { NULL };
	int ch, rc = EX_USAGE;

	(void)c;	/* init writes the config: it reads none */
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (parse_platforms(optarg, o.draft.platform) < 0)
				goto out;
			break;
		case 'd':
			db = optarg;
			break;
		case 's':
			spool = optarg;
			break;
		case 'u':
			o.draft.public_url = optarg;
			break;
		case 'S':
			sets[o.nsets++] = optarg;
			break;
		case 'h':
			fputs(init_usage, stdout);
			rc = 0;
			goto out;
		default:
			fputs(init_usage, stderr);
			goto out;
		}
	}
	if (argc - optind > 1) {
		log_err("init: unexpected argument '%s'", argv[optind + 1]);
		goto out;
	}
	if (absolute_paths(&o, own, optind < argc ? argv[optind] : DEFAULT_DIR, db, spool) < 0) {
		rc = EX_OSERR;
		goto out;
	}
	o.sets = sets;
	rc = setup_run(&o, stdout);
out:
	for (size_t i = 0; i < ARRAY_LEN(own); i++)
		free(own[i]);
	free(sets);
	return rc;
}
