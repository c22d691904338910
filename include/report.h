/*
 * report.h — what `people` and `export` share (report/report.c, table.c). The filters (primary
 * platform, sync status, sync type, primary team, active only), one person's row (the person,
 * their accounts and primary team name), and the row writers: the JSON object of
 * `people --format jsonl` and the flattened RFC 4180 CSV row.
 */
#ifndef PS_REPORT_H
#define PS_REPORT_H

#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "model.h"
#include "store.h"
#include "util.h"

struct report_filter {
	int		 platform;	/* enum platform of the primary, -1 any */
	int		 status;	/* enum status, -1 any */
	int		 type;		/* enum sync_type, -1 any */
	const char	*team;		/* primary team id or name (case-insensitive), NULL any;
					 * points into argv */
	int		 all;		/* 0: active people only */
	int		 stale;		/* --stale: pending for longer than prompts.stale_days */
	time_t		 stale_before;	/* set by the command from the config: pending since */
};
#define REPORT_FILTER_INIT	{ -1, -1, -1, NULL, 0, 0, 0 }

/* The getopt_long entries of the filters, for a command's option table, and their short
 * letters (all with an argument but 'a'), for its optstring. */
#define REPORT_FILTER_LONGOPTS \
	{ "platform", required_argument, NULL, 'p' }, \
	{ "status", required_argument, NULL, 's' }, \
	{ "type", required_argument, NULL, 't' }, \
	{ "team", required_argument, NULL, 'T' }, \
	{ "all", no_argument, NULL, 'a' }, \
	{ "stale", no_argument, NULL, 'S' }
#define REPORT_FILTER_SHORTOPTS	"p:s:t:T:aS"

/* Sets f->stale_before from prompts.stale_days when --stale was given (after the config
 * is loaded). */
void	report_filter_finish(struct report_filter *f, const struct config *cfg);

/* Handles one option letter of REPORT_FILTER_LONGOPTS. Returns 1 when ch was a filter option
 * and arg valid, 0 when ch is not a filter option, -1 when arg is invalid (after printing
 * "CMD: --status: 'x' is not on, off or pending"). */
int	report_filter_opt(struct report_filter *f, int ch, const char *arg, const char *cmd);

/* Writes the filter as a JSON object {"platform","status","type","team","all"} (nulls for
 * "any"). */
void	report_filter_json(struct buf *b, const struct report_filter *f);

struct report_row {
	struct person	 p;
	struct account	*a;		/* the person's accounts, in key order */
	int		 na;
	char		*team_name;	/* primary team's display name, or NULL */
};

void	report_row_free(struct report_row *r);	/* NULL fine; the row is empty again */

/* Loads r->p's accounts and primary team name (r->p already filled). 0, or -1 with the
 * store's message in store_error(). */
int	report_row_load(struct txn *t, struct report_row *r);

/*
 * Every person matching f, in person-id order, as a loaded row: cb(row, arg) may keep the
 * row by moving it out (copy the struct and zero *row); whatever is left is freed after the
 * call. cb returns 0 to go on, non-zero to stop (the value is returned).
 * Returns 0, cb's non-zero value, or -1 on a store error (message in store_error()).
 */
typedef int (*report_row_cb)(struct report_row *row, void *arg);
int	report_each(struct txn *t, const struct report_filter *f, report_row_cb cb, void *arg);

/* The JSON object of one person, exactly as a `people --format jsonl` line, without the
 * newline (docs/interface.md lists the fields). */
void	report_json(struct buf *b, const struct report_row *r);

/* RFC 4180: the header line (CRLF-terminated) and one person's row (CRLF-terminated). */
extern const char report_csv_header[];
void	report_csv_row(struct buf *b, const struct report_row *r);
/* One cell, preceded by a comma unless first; NULL is an empty cell. Quoted when it holds
 * a comma, quote, CR or LF; a cell a spreadsheet would run as a formula (starting with
 * = + - @ tab or CR) is quoted with a leading apostrophe. */
void	report_csv_cell(struct buf *b, const char *s, int first);

/* Order of the table: name (else email) case-insensitively, then person id; for qsort over
 * struct report_row. */
int	report_row_cmp(const void *a, const void *b);

/* The people table of `people`: rows sorted (report_row_cmp), fixed-width columns (cells cut
 * with an ellipsis; control and bidi characters neutralised), then "N people: ..." on f. */
void	report_table(FILE *f, struct report_row *rows, size_t n);

/* Account user ids of platform pl in r, space-separated, into out (reset first); returns
 * out->len. */
size_t	report_user_ids(const struct report_row *r, enum platform pl, struct buf *out);

#endif
