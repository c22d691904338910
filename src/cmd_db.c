/*
 * cmd_db.c — `db stats | verify | backup`: the database's upkeep (store/ does the work).
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "util.h"

static const char db_usage[] =
"usage: peoplesync db stats | db verify | db backup DEST\n"
"\n"
"  stats    entries of every sub-database, space used, record versions written\n"
"  verify   check every page of the database file, then that every index agrees with the\n"
"           records it indexes; exit 65 if not (and commands refuse it until it passes)\n"
"  backup   write a consistent, compacted copy of the database into directory DEST\n";

int
cmd_db(struct cli *c, int argc, char **argv)
{
	struct failure f;
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
		if (store_stats(c->st, stdout) < 0)
			return cli_store_error(c);
		return 0;
	}
	if (strcmp(argv[1], "verify") == 0 && argc == 2) {
		if ((rc = cli_load_config(c)) != 0)
			return rc;
		problems = store_verify_db(c->cfg.database, (size_t)c->cfg.map_size_mb, stdout, &f);
		if (problems < 0)
			return cli_fail(&f);
		if (problems > 0) {
			printf("%ld problem%s found in %s/data.mdb\n", problems,
			    problems == 1 ? "" : "s", c->cfg.database);
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
