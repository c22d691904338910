/*
 * export.c — the document of `export`: the people of `people` (same filters) as CSV for
 * spreadsheets, one JSON document for scripts, or a self-contained HTML report
 * (export_html.c). src/cmd_export.c writes it out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "util.h"

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

/* The document of what x gathered, appended to out. */
static void
finish(struct export_ctx *x, const struct report_filter *f, time_t now, struct buf *out)
{
	switch (x->fmt) {
	case EXP_CSV:
		buf_adds(out, report_csv_header);
		buf_add(out, x->body.p ? x->body.p : "", x->body.len);
		break;
	case EXP_JSON:
		json_document(out, x, f, now);
		break;
	default:
		export_html(out, &x->counts, f, now, &x->body);
		break;
	}
}

int
export_render(struct txn *t, const struct report_filter *f, enum export_fmt fmt, time_t now,
    struct buf *out, long *n)
{
	struct export_ctx x = { 0 };
	int rc = -1;

	x.fmt = fmt;
	if (report_each(t, f, export_cb, &x) != 0)
		goto out;
	finish(&x, f, now, out);
	*n = x.counts.n;
	rc = 0;
out:
	buf_free(&x.body);
	return rc;
}

int
export_render_ids(struct txn *t, const uint64_t *ids, size_t nids,
    const struct report_filter *f, enum export_fmt fmt, time_t now, struct buf *out, long *n)
{
	struct export_ctx x = { 0 };
	struct report_row r;
	int rc = 0;

	x.fmt = fmt;
	for (size_t i = 0; i < nids && rc >= 0; i++) {
		memset(&r, 0, sizeof(r));
		if ((rc = store_person_get(t, ids[i], &r.p)) == 0 &&
		    (rc = report_row_load(t, &r)) == 0)
			export_cb(&r, &x);
		report_row_free(&r);
	}
	if (rc >= 0) {
		finish(&x, f, now, out);
		*n = x.counts.n;
	}
	buf_free(&x.body);
	return rc < 0 ? -1 : 0;
}
