/*
 * cmd_serve.c — the front ends of Sync now: `serve` (the web endpoint, web/) and
 * `sync-link` (a fresh link for one person). Options, config, store; the work is in
 * serve_run() and rec_sync_link().
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "fail.h"
#include "serve.h"
#include "synclink.h"
#include "util.h"

static const char serve_usage[] =
"usage: peoplesync serve [--listen ADDR:PORT]\n"
"\n"
"Serves the pages behind Sync now links (public_url/s/...): checks the signed link, signs\n"
"the person in to each of their chat platforms (OAuth), checks each identity against the\n"
"directory, stores their user tokens encrypted and records the primary team they choose.\n"
"Needs link_key_file and token_key_file in the config. Stops cleanly on SIGTERM or\n"
"SIGINT. One log line per request, without tokens, codes or query strings.\n"
"\n"
"  --listen ADDR:PORT   where to listen (default: serve.listen, 127.0.0.1:8080)\n";

int
cmd_serve(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct failure f = { FAIL_NONE, "" };
	struct server *sv = NULL;
	const char *addr = NULL;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "l:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			addr = optarg;
			break;
		case 'h':
			fputs(serve_usage, stdout);
			return 0;
		default:
			fputs(serve_usage, stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		log_err("serve: unexpected argument '%s'", argv[optind]);
		return EX_USAGE;
	}
	if ((rc = cli_load_config(c)) != 0)
		return rc;
	if ((sv = serve_new(&c->cfg, addr ? addr : c->cfg.serve.listen, &f)) == NULL)
		goto out;
	if ((rc = cli_open_store(c, 0)) != 0)
		goto out;
	serve_run(sv, c->st, &f);
out:
	serve_free(sv);
	if (f.cls != FAIL_NONE) {
		log_err("%s", f.msg);
		rc = fail_exit(f.cls);
	}
	return rc;
}

static const char sync_link_usage[] =
"usage: peoplesync sync-link PERSON\n"
"\n"
"Prints a fresh Sync now link for PERSON (an email address or PLATFORM:USER_ID), valid for\n"
"link_ttl_hours (default 168). The link is signed with link_key_file; it stays usable until\n"
"it expires or its Sync now flow is completed.\n";

int
cmd_sync_link(struct cli *c, int argc, char **argv)
{
	struct failure f = { FAIL_NONE, "" };
	struct buf url = { 0 };
	int rc;

	if (wants_help(argc, argv)) {
		fputs(sync_link_usage, stdout);
		return 0;
	}
	if (argc != 2) {
		fputs(sync_link_usage, stderr);
		return EX_USAGE;
	}
	if ((rc = cli_load_config(c)) != 0)
		return rc;
	if (c->cfg.link_key == NULL) {
		log_err("%s: link_key_file: not set; Sync now links cannot be signed",
		    c->config_path);
		return EX_CONFIG;
	}
	if ((rc = cli_open_store(c, 1)) != 0)
		return rc;
	if (rec_sync_link(&c->cfg, c->st, argv[1],
	    ps_now() + (time_t)c->cfg.link_ttl_hours * 3600, &url, &f) != FAIL_NONE) {
		log_err("%s", f.msg);
		rc = fail_exit(f.cls);
		goto out;
	}
	printf("%s\n", url.p);
	if (fflush(stdout) != 0) {
		log_err("sync-link: writing output: %s", strerror(errno));
		rc = EX_IOERR;
	}
out:
	buf_free(&url);
	return rc;
}
