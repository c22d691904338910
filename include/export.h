/*
 * export.h — the document of `export` (report/export.c), and the pieces that the HTML
 * writer (export_html.c) shares.
 */
#ifndef PS_EXPORT_H
#define PS_EXPORT_H

#include <time.h>

#include "report.h"

enum export_fmt { EXP_NONE, EXP_CSV, EXP_JSON, EXP_HTML };

/* The people f selects (in txn t) as one document of format fmt, generated at now, appended
 * to out; *n = how many people. 0, or -1 with the store's message in store_error(). */
int	export_render(struct txn *t, const struct report_filter *f, enum export_fmt fmt,
	    time_t now, struct buf *out, long *n);

/* The same document of the people ids names (nids of them), in that order (the admin
 * console's query: filters and a search), f being the filters it names; a person no longer
 * there is left out. 0, or -1 with the store's message in store_error(). */
int	export_render_ids(struct txn *t, const uint64_t *ids, size_t nids,
	    const struct report_filter *f, enum export_fmt fmt, time_t now, struct buf *out,
	    long *n);

/* Counts of the exported people. */
struct export_counts {
	long	 n;
	long	 inactive;
	long	 status[3];			/* by enum status */
	long	 platform[PLAT_COUNT + 1][3];	/* primary platform x status; [PLAT_COUNT]: none */
	long	 type[3];			/* by enum sync_type */
};

void	export_counts_add(struct export_counts *c, const struct report_row *r);

/* Appends one person as the compact JSON array the report's script reads, preceded by a
 * comma unless first:
 *	[name, email, status, primary platform ("" none), primary team name (else id, else ""),
 *	 sync type ("" none), [[platform, user id, active 0|1], ...], prompt count,
 *	 last prompted ISO 8601 or "", synced ISO 8601 or "", active 0|1]
 * Every "<", ">" and "&" is written as \u003c, \u003e, \u0026, so the text can sit inside a
 * <script> element whatever the roster says. */
void	export_html_row(struct buf *data, const struct report_row *r, int first);

/* The whole HTML report: one self-contained page (inline CSS, SVG and script, a Content
 * Security Policy that allows nothing else) around rows, the comma-separated arrays written
 * by export_html_row. */
void	export_html(struct buf *out, const struct export_counts *c,
	    const struct report_filter *f, time_t now, const struct buf *rows);

#endif
