/*
 * export.c — `export`: the people of `people` (same filters) as one file for admins: CSV for
 * spreadsheets, one JSON document for scripts, or a self-contained HTML report
 * (export_html.c). A file is written atomically (temporary file, fsync, rename), so a reader
 * never sees half a report and a failed export leaves nothing behind.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "export.h"
#include "util.h"

enum export_fmt { EXP_NONE, EXP_CSV, EXP_JSON, EXP_HTML };

struct export_ctx {
	enum export_fmt		 fmt;
	struct buf		 body;	/* CSV: the rows; JSON: the people; HTML: the data rows */
	struct export_counts	 counts;
};

void
export_counts_add(struct export_counts *c, const struct report_row *r)
{
	const struct person *p = &r->p;
	int st = p->status <= ST_ON ? p->status : ST_OFF;
	int pl = p->primary_platform >= 0 && p->primary_platform < PLAT_COUNT ?
	    p->primary_platform : PLAT_COUNT;

	c->n++;
	if (!p->active)
		c->inactive++;
	c->status[st]++;
	c->platform[pl][st]++;
	c->type[p->sync_type <= SYNC_BOT ? p->sync_type : SYNC_NONE]++;
}

static int
export_cb(struct report_row *r, void *arg)
{
	struct export_ctx *x = arg;

	switch (x->fmt) {
	case EXP_CSV:
		report_csv_row(&x->body, r);
		break;
	case EXP_JSON:
		buf_adds(&x->body, x->counts.n ? ",\n" : "\n");
		report_json(&x->body, r);
		break;
	default:
		export_html_row(&x->body, r, x->counts.n == 0);
		break;
	}
	export_counts_add(&x->counts, r);
	return 0;
}

static void
json_document(struct buf *out, const struct export_ctx *x, const struct report_filter *f,
    time_t now)
{
	const struct export_counts *c = &x->counts;
	char iso[32];
	int pl;

	fmt_iso8601(now, iso);
	buf_printf(out, "{\"generated_at\":\"%s\",\"filters\":", iso);
	report_filter_json(out, f);
	buf_printf(out, ",\"counts\":{\"people\":%ld,\"inactive\":%ld,"
	    "\"status\":{\"on\":%ld,\"pending\":%ld,\"off\":%ld},\"primary_platform\":{",
	    c->n, c->inactive, c->status[ST_ON], c->status[ST_PENDING], c->status[ST_OFF]);
	for (pl = 0; pl <= PLAT_COUNT; pl++)
		buf_printf(out, "%s\"%s\":%ld", pl ? "," : "",
		    pl < PLAT_COUNT ? platform_name((enum platform)pl) : "none",
		    c->platform[pl][0] + c->platform[pl][1] + c->platform[pl][2]);
	buf_printf(out, "},\"sync_type\":{\"user\":%ld,\"bot\":%ld,\"none\":%ld}},\"people\":[",
	    c->type[SYNC_USER], c->type[SYNC_BOT], c->type[SYNC_NONE]);
	buf_add(out, x->body.p ? x->body.p : "", x->body.len);
	buf_adds(out, x->counts.n ? "\n]}\n" : "]}\n");
}

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

int
cmd_export(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		REPORT_FILTER_LONGOPTS,
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct report_filter f = REPORT_FILTER_INIT;
	struct export_ctx x = { 0 };
	struct buf out = { 0 };
	const char *path = NULL;
	struct txn *t = NULL;
	time_t now;
	int ch, r, rc = EX_USAGE;

	while ((ch = getopt_long(argc, argv, REPORT_FILTER_SHORTOPTS "f:o:h", longopts,
	    NULL)) != -1) {
		if ((r = report_filter_opt(&f, ch, optarg, "export")) != 0) {
			if (r < 0)
				goto out;
			continue;
		}
		switch (ch) {
		case 'f':
			x.fmt = strcmp(optarg, "csv") == 0 ? EXP_CSV : strcmp(optarg, "json") == 0 ?
			    EXP_JSON : strcmp(optarg, "html") == 0 ? EXP_HTML : EXP_NONE;
			if (x.fmt == EXP_NONE) {
				log_err("export: --format: '%s' is not csv, json or html", optarg);
				goto out;
			}
			break;
		case 'o':
			if (*optarg == '\0') {
				log_err("export: -o: empty file name");
				goto out;
			}
			path = optarg;
			break;
		case 'h':
			fputs(export_usage, stdout);
			rc = 0;
			goto out;
		default:
			fputs(export_usage, stderr);
			goto out;
		}
	}
	if (optind < argc) {
		log_err("export: unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (x.fmt == EXP_NONE) {
		log_err("export: --format csv, json or html is required");
		goto out;
	}
	if ((rc = cli_open_store(c, 1)) != 0)
		goto out;
	report_filter_finish(&f, &c->cfg);
	rc = EX_IOERR;
	if ((t = store_begin(c->st, 0)) == NULL) {
		log_err("%s", store_error(c->st));
		goto out;
	}
	now = ps_now();
	if (report_each(t, &f, export_cb, &x) != 0) {
		log_err("%s", store_error(c->st));
		goto out;
	}
	store_abort(t);
	t = NULL;
	switch (x.fmt) {
	case EXP_CSV:
		buf_adds(&out, report_csv_header);
		buf_add(&out, x.body.p ? x.body.p : "", x.body.len);
		break;
	case EXP_JSON:
		json_document(&out, &x, &f, now);
		break;
	default:
		export_html(&out, &x.counts, &f, now, &x.body);
		break;
	}
	buf_free(&x.body);
	if (path == NULL) {
		if (fwrite(out.p, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
			log_err("export: writing standard output: %s", strerror(errno));
			goto out;
		}
	} else if (write_file_atomic(path, out.p, out.len, output_mode()) < 0) {
		log_err("export: cannot create %s: %s", path, strerror(errno));
		rc = EX_CANTCREAT;
		goto out;
	} else {
		log_info("export: %ld %s written to %s", x.counts.n,
		    x.counts.n == 1 ? "person" : "people", path);
	}
	rc = 0;
out:
	if (t)
		store_abort(t);
	buf_free(&x.body);
	buf_free(&out);
	return rc;
}
