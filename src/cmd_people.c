/*
 * cmd_people.c — `people` and `show`: listing people with filters in table, CSV and JSON
 * Lines (report/ writes the rows), and one person with their accounts and history.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "reconcile.h"
#include "report.h"
#include "subs.h"
#include "util.h"

enum fmt { FMT_TABLE, FMT_CSV, FMT_JSONL };

struct list_ctx {
	enum fmt		 fmt;
	struct buf		 out;
	struct report_row	*rows;
	size_t			 nrows, cap;
	int			 werr;		/* writing stdout failed */
};

static int
list_cb(struct report_row *r, void *arg)
{
	struct list_ctx *lc = arg;

	if (lc->fmt == FMT_TABLE) {
		if (lc->nrows == lc->cap) {
			lc->cap = lc->cap ? lc->cap * 2 : 256;
			lc->rows = xrealloc(lc->rows, lc->cap * sizeof(*lc->rows));
		}
		lc->rows[lc->nrows++] = *r;
		memset(r, 0, sizeof(*r));	/* the row is kept */
		return 0;
	}
	if (lc->fmt == FMT_JSONL) {
		report_json(&lc->out, r);
		buf_addc(&lc->out, '\n');
	} else {
		report_csv_row(&lc->out, r);
	}
	if (lc->out.len > 65536) {
		if (fwrite(lc->out.p, 1, lc->out.len, stdout) != lc->out.len) {
			lc->werr = 1;
			return 1;
		}
		buf_reset(&lc->out);
	}
	return 0;
}

static const char people_usage[] =
"usage: peoplesync people [--platform slack|teams|webex] [--status on|off|pending]\n"
"                         [--type bot|user] [--team TEAM] [--all] [--stale]\n"
"                         [--format table|csv|jsonl]\n"
"\n"
"Lists people, one per human, with their sync status, primary platform and team, sync type\n"
"and accounts. Only active people unless --all. Filters: --platform is the primary\n"
"platform, --status the sync status, --type the sync type, --team the primary team (its id\n"
"or name). --stale: people pending for longer than prompts.stale_days (prompted, never\n"
"synced).\n";

int
cmd_people(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		REPORT_FILTER_LONGOPTS,
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct report_filter f = REPORT_FILTER_INIT;
	struct list_ctx lc = { 0 };
	struct txn *t;
	int ch, rc;

	lc.fmt = FMT_TABLE;
	while ((ch = getopt_long(argc, argv, REPORT_FILTER_SHORTOPTS "f:h", longopts,
	    NULL)) != -1) {
		if ((rc = report_filter_opt(&f, ch, optarg, "people")) != 0) {
			if (rc < 0)
				return EX_USAGE;
			continue;
		}
		switch (ch) {
		case 'f':
			if (strcmp(optarg, "table") == 0)
				lc.fmt = FMT_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				lc.fmt = FMT_CSV;
			else if (strcmp(optarg, "jsonl") == 0)
				lc.fmt = FMT_JSONL;
			else {
				log_err("people: --format: '%s' is not table, csv or jsonl", optarg);
				return EX_USAGE;
			}
			break;
		default:
			return cli_usage(ch, people_usage);
		}
	}
	if ((rc = cli_no_more("people", argc, argv)) != 0)
		return rc;
	if ((rc = cli_report_begin(c, &f, &t)) != 0)
		return rc;
	if (lc.fmt == FMT_CSV)
		buf_adds(&lc.out, report_csv_header);
	rc = report_each(t, &f, list_cb, &lc);
	if (lc.fmt == FMT_TABLE && rc == 0)
		report_table(stdout, lc.rows, lc.nrows);
	for (size_t i = 0; i < lc.nrows; i++)
		report_row_free(&lc.rows[i]);
	free(lc.rows);
	if (lc.out.len && !lc.werr && rc == 0 &&
	    fwrite(lc.out.p, 1, lc.out.len, stdout) != lc.out.len)
		lc.werr = 1;
	buf_free(&lc.out);
	if (rc < 0)
		log_err("%s", store_error(c->st));
	store_abort(t);
	if (rc < 0)
		return EX_IOERR;
	if (fflush(stdout) != 0 || lc.werr) {
		log_err("people: writing output: %s", strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

/* ---- show ---- */

static int
print_history_cb(const struct history *h, void *arg)
{
	char iso[32];

	fmt_iso8601((time_t)h->ts, iso);
	fprintf(arg, "  %s  %-11s %s\n", iso, h->kind, h->text);
	return 0;
}

/* A subscription kept for the person: never its secret. */
static int
print_sub_cb(const struct sub *s, void *arg)
{
	char iso[32];

	fmt_iso8601((time_t)s->expires, iso);
	fprintf(arg, "  %-6s %s  %s  %s%s%s%s\n", platform_name(s->platform), s->id,
	    s->resource ? s->resource : "", sub_state_name(s->state), iso[0] ? ", expires " : "",
	    iso, (s->flags & SUB_F_MISSED) ? ", missed notifications" : "");
	return 0;
}

static const char show_usage[] =
"usage: peoplesync show PERSON\n"
"\n"
"One person: sync status, primary platform and team, every account (and how it was linked\n"
"to this person) and the history of changes. PERSON is an email address or\n"
"PLATFORM:USER_ID.\n";

int
cmd_show(struct cli *c, int argc, char **argv)
{
	struct report_row r = { 0 };
	struct failure f;
	struct txn *t;
	uint64_t id;
	char iso[32];
	int rc, i;

	if (cli_start(c, argc, argv, 2, show_usage, 1, &rc))
		return rc;
	if (rec_person_txn(&c->cfg, c->st, "show", argv[1], c->cfg.database, &t, &id,
	    &f) != FAIL_NONE)
		return cli_fail(&f);
	if ((rc = store_person_get(t, id, &r.p)) == STORE_NOTFOUND) {
		log_err("show: no person '%s' in %s", argv[1], c->cfg.database);
		store_abort(t);
		return EX_DATAERR;
	}
	if (rc < 0 || report_row_load(t, &r) < 0) {
		store_abort(t);
		report_row_free(&r);
		return cli_store_error(c);
	}
	printf("%s <%s>\n", r.p.name ? r.p.name : "(no name)", r.p.email ? r.p.email : "no email");
	printf("  person        %llu%s%s\n", (unsigned long long)r.p.id,
	    r.p.active ? "" : ", inactive", (r.p.flags & PERSON_CONFLICT) ? ", in conflict" : "");
	printf("  status        %s\n", status_name((enum status)r.p.status));
	if (r.p.primary_platform >= 0)
		printf("  primary       %s, team %s%s%s%s (%s)\n",
		    platform_name((enum platform)r.p.primary_platform), r.p.primary_team_id,
		    r.team_name ? " \"" : "", r.team_name ? r.team_name : "",
		    r.team_name ? "\"" : "",
		    primary_source_name((enum primary_source)r.p.primary_source));
	else
		printf("  primary       none\n");
	printf("  sync type     %s\n", sync_type_name((enum sync_type)r.p.sync_type) ?
	    sync_type_name((enum sync_type)r.p.sync_type) : "none");
	fmt_iso8601((time_t)r.p.last_prompted_at, iso);
	printf("  prompts       %d%s%s\n", r.p.prompt_count, iso[0] ? ", last " : "", iso);
	fmt_iso8601((time_t)r.p.synced_at, iso);
	printf("  synced        %s\n", iso[0] ? iso : "never");
	printf("accounts:\n");
	for (i = 0; i < r.na; i++) {
		const struct account *a = &r.a[i];
		printf("  %-6s %s/%s  %s  %s  linked by %s%s\n", platform_name(a->platform),
		    a->team_id, a->user_id, a->email ? a->email : "(no email)",
		    rec_account_is_active(a) ? "active" : (a->flags & ACCT_MISSING) ?
		    "gone from roster" : (a->flags & ACCT_DELETED) ? "deactivated" : "inactive",
		    link_how_name((enum link_how)a->link_how),
		    (a->flags & ACCT_CONFLICT) ? ", CONFLICT" : (a->flags & ACCT_GUEST) ?
		    ", guest" : "");
		if (a->workspaces != NULL)
			printf("         Grid workspaces %s\n", a->workspaces);
		for (int k = 1; k < a->nemails; k++)
			printf("         also %s (%s)\n", a->emails[k],
			    link_how_name((enum link_how)(a->email_how ? a->email_how[k] : 0)));
	}
	printf("subscriptions:\n");
	store_sub_person(t, r.p.id, print_sub_cb, stdout);
	printf("history:\n");
	store_history_each(t, r.p.id, print_history_cb, stdout);
	store_abort(t);
	report_row_free(&r);
	return 0;
}
