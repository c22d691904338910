/*
 * cmd_export.c — `export`: the options, and the file. report/export.c makes the document; it
 * is written atomically (temporary file, fsync, rename), so a reader never sees half a report
 * and a failed export leaves nothing behind.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "export.h"
#include "util.h"

/* Mode of a new output file: what the shell would give `> FILE` (the umask applies). */
static int
output_mode(void)
{
	mode_t m = umask(0);

	umask(m);
	return (int)(0666 & ~m);
}

static const char export_usage[] =
"usage: peoplesync export --format csv|json|html [-o FILE] [--platform slack|teams|webex]\n"
"                         [--status on|off|pending] [--type bot|user] [--team TEAM] [--all]\n"
"                         [--stale]\n"
"\n"
"Exports the people that `people` lists with the same filters (active people only unless\n"
"--all) as one file: CSV (RFC 4180, a header row, one column per platform's user ids; cells\n"
"a spreadsheet would run as formulas get a leading apostrophe), one JSON document\n"
"{generated_at, filters, counts, people} whose people are `people --format jsonl` objects,\n"
"or a self-contained HTML report (summary chart, a table to filter, search and sort; no\n"
"network access). Written to FILE atomically, or to standard output.\n"
"\n"
"  -o, --output FILE   write FILE (replaced whole; nothing is left behind on failure)\n";

/* The options of `export`; 1 when the command is done (*rc: its exit code). */
static int
export_opts(int argc, char **argv, struct report_filter *f, enum export_fmt *fmt,
    const char **path, int *rc)
{
	static const struct option longopts[] = {
		REPORT_FILTER_LONGOPTS,
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, r;

	*rc = EX_USAGE;
	while ((ch = getopt_long(argc, argv, REPORT_FILTER_SHORTOPTS "f:o:h", longopts,
	    NULL)) != -1) {
		if ((r = report_filter_opt(f, ch, optarg, "export")) != 0) {
			if (r < 0)
				return 1;
			continue;
		}
		switch (ch) {
		case 'f':
			*fmt = strcmp(optarg, "csv") == 0 ? EXP_CSV : strcmp(optarg, "json") == 0 ?
			    EXP_JSON : strcmp(optarg, "html") == 0 ? EXP_HTML : EXP_NONE;
			if (*fmt == EXP_NONE) {
				log_err("export: --format: '%s' is not csv, json or html", optarg);
				return 1;
			}
			break;
		case 'o':
			if (*optarg == '\0') {
				log_err("export: -o: empty file name");
				return 1;
			}
			*path = optarg;
			break;
		default:
			*rc = cli_usage(ch, export_usage);
			return 1;
		}
	}
	if (cli_no_more("export", argc, argv) != 0)
		return 1;
	if (*fmt == EXP_NONE) {
		log_err("export: --format csv, json or html is required");
		return 1;
	}
	*rc = 0;
	return 0;
}

int
cmd_export(struct cli *c, int argc, char **argv)
{
	struct report_filter f = REPORT_FILTER_INIT;
	enum export_fmt fmt = EXP_NONE;
	struct buf out = { 0 };
	const char *path = NULL;
	struct txn *t;
	long n = 0;
	int rc;

	if (export_opts(argc, argv, &f, &fmt, &path, &rc))
		return rc;
	if ((rc = cli_report_begin(c, &f, &t)) != 0)
		return rc;
	rc = export_render(t, &f, fmt, ps_now(), &out, &n);
	store_abort(t);
	if (rc < 0) {
		rc = cli_store_error(c);
	} else if (path == NULL) {
		if (fwrite(out.p, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
			log_err("export: writing standard output: %s", strerror(errno));
			rc = EX_IOERR;
		}
	} else if (write_file_atomic(path, out.p, out.len, output_mode()) < 0) {
		log_err("export: cannot create %s: %s", path, strerror(errno));
		rc = EX_CANTCREAT;
	} else {
		log_info("export: %ld %s written to %s", n, n == 1 ? "person" : "people", path);
	}
	buf_free(&out);
	return rc;
}
