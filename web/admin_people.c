/*
 * admin_people.c — the console's People page: the summary (people on, pending and off by
 * primary platform, from the index counters), the auto-prompt switch, the filters, the
 * table of the export (a page of report/query.c, read at the moment of the request), the
 * pager, the actions on ticked people and on everyone matching; and the exports of the
 * table with the current filters and search (report/export.c). Every filter, the sort and the page
 * live in the URL: a view can be bookmarked, and works without a script.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_p.h"
#include "export.h"
#include "oauth.h"
#include "reconcile.h"

/* ---- the page ---- */

/* The auto-prompt switch and its state. */
static void
auto_prompt_form(struct admin_req *a, struct txn *t, struct buf *b)
{
	struct buf v = { 0 };
	int on = store_meta_get(t, "auto_prompt", &v) == 0 && v.len == 2 &&
	    memcmp(v.p, "on", 2) == 0;

	htmlf(b, "<form class=\"actions\" method=\"post\" action=\"%s/admin/auto-prompt\">",
	    a->sv->base);
	admin_csrf_field(a, b);
	htmlf(b, "<span>Auto-prompt is <strong id=\"auto-state\">%r</strong> (people with "
	    "status off are prompted when they message someone).</span><input type=\"hidden\" "
	    "name=\"set\" value=\"%r\"><button type=\"submit\" id=\"auto-toggle\">Turn "
	    "auto-prompt %r</button></form>", on ? "on" : "off", on ? "off" : "on",
	    on ? "off" : "on");
	buf_free(&v);
}


/* The summary: people on, pending and off by primary platform (active ones, or all). */
static int
summary(struct admin_req *a, struct txn *t, const struct query *q, struct buf *b)
{
	static const int order[3] = { ST_ON, ST_PENDING, ST_OFF };
	struct pidx_sel sel = PIDX_SEL_INIT;
	uint64_t n, row;

	htmlf(b, "<h2>Summary</h2><table class=\"summary\"><caption class=\"muted\">%r by primary "
	    "platform</caption><thead><tr><th scope=\"col\">Primary platform</th>"
	    "<th scope=\"col\">On</th><th scope=\"col\">Pending</th><th scope=\"col\">Off</th>"
	    "<th scope=\"col\">Total</th></tr></thead><tbody>",
	    q->f.all ? "Everyone" : "Active people");
	sel.all = q->f.all;
	for (int p = 0; p <= PLAT_COUNT; p++) {
		sel.platform = p < PLAT_COUNT ? p : -1;
		row = 0;
		htmlf(b, "<tr><th scope=\"row\">%s</th>", p < PLAT_COUNT ?
		    oauth_platform_title((enum platform)p) : "None yet");
		for (int s = 0; s < 3; s++) {
			sel.status = order[s];
			if (store_pidx_count(t, &sel, &n) < 0)
				return -1;
			row += n;
			if (p < PLAT_COUNT)
				htmlf(b, "<td><a href=\"%s/admin?platform=%r&amp;status=%r%r\">",
				    a->sv->base, platform_name((enum platform)p),
				    admin_status_names[order[s]], q->f.all ? "&amp;all=1" : "");
			else
				buf_adds(b, "<td>");
			buf_printf(b, "%llu%s</td>", (unsigned long long)n, p < PLAT_COUNT ?
			    "</a>" : "");
		}
		sel.status = -1;
		buf_printf(b, "<td>%llu</td></tr>", (unsigned long long)row);
	}
	htmlf(b, "</tbody></table>");
	return 0;
}

/* One <select> of the filters: names[i] (skipping "") with labels[i]; cur selected. */
static void
select_of(struct buf *b, const char *name, const char *label, const char *const *names,
    const char *const *labels, int n, int cur)
{
	htmlf(b, "<label>%s <select name=\"%r\" id=\"f-%r\"><option value=\"\">any</option>",
	    label, name, name);
	for (int i = 0; i < n; i++)
		if (names[i][0])
			htmlf(b, "<option value=\"%r\"%r>%s</option>", names[i],
			    i == cur ? " selected" : "", labels[i]);
	htmlf(b, "</select></label>");
}

struct teams_sel {
	struct txn	*t;
	struct buf	*b;
	const char	*cur;
};

/* A primary team: its value "platform:team id", its label the team's stored name as the
 * table shows it (else its id). */
static int
team_option(enum platform p, const char *team, uint64_t n, void *arg)
{
	struct teams_sel *ts = arg;
	struct buf v = { 0 }, name = { 0 };
	int rc = store_team_name_get(ts->t, p, team, &name);

	buf_printf(&v, "%s:%s", platform_name(p), team);
	htmlf(ts->b, "<option value=\"%s\"%r>%s — %s</option>", v.p,
	    ts->cur && strcmp(ts->cur, v.p) == 0 ? " selected" : "",
	    oauth_platform_title(p), rc == 0 && name.len ? name.p : team);
	(void)n;
	buf_free(&v);
	buf_free(&name);
	return rc < 0 ? -1 : 0;
}

static int
filter_form(struct admin_req *a, struct txn *t, const struct query *q, struct buf *b)
{
	static const char *const plats[] = { "slack", "teams", "webex" };
	static const char *const plat_labels[] = { "Slack", "Teams", "Webex" };
	static const char *const sort_labels[] = { "Name", "Address", "Status", "Primary "
	    "platform", "Primary team", "Sync type", "Last prompted", "Prompts", "Synced" };
	struct teams_sel ts = { t, b, q->f.team };
	char size[24];

	htmlf(b, "<form class=\"filters\" method=\"get\" action=\"%s/admin\" role=\"search\">",
	    a->sv->base);
	select_of(b, "platform", "Primary platform", plats, plat_labels, 3, q->f.platform);
	select_of(b, "status", "Sync status", admin_status_names, admin_status_names, 3, q->f.status);
	select_of(b, "type", "Sync type", admin_type_names, admin_type_names, 3, q->f.type);
	htmlf(b, "<label>Primary team <select name=\"team\" id=\"f-team\"><option value=\"\">"
	    "any</option>");
	if (store_pidx_teams(t, team_option, &ts) < 0)
		return -1;
	htmlf(b, "</select></label><label>Search <input type=\"search\" name=\"q\" id=\"f-q\" "
	    "value=\"%s\" placeholder=\"name, address or user id\"></label>",
	    q->search ? q->search : "");
	select_of(b, "sort", "Sort by", query_sort_names, sort_labels, QS_COUNT, (int)q->sort);
	snprintf(size, sizeof(size), "%zu", q->size);
	htmlf(b, "<label class=\"check\"><input type=\"checkbox\" name=\"desc\" value=\"1\"%r> "
	    "Descending</label><label>Page size <input type=\"text\" inputmode=\"numeric\" "
	    "name=\"size\" size=\"4\" value=\"%s\"></label><label class=\"check\"><input "
	    "type=\"checkbox\" name=\"stale\" value=\"1\"%r> Stale pending</label>"
	    "<label class=\"check\"><input type=\"checkbox\" name=\"all\" value=\"1\"%r> "
	    "Include inactive</label><button type=\"submit\" id=\"apply\">Apply</button> "
	    "<a href=\"%s/admin\">Clear</a></form>", q->desc ? " checked" : "", size,
	    q->f.stale ? " checked" : "", q->f.all ? " checked" : "", a->sv->base);
	return 0;
}

static void
time_cell(struct buf *b, int64_t ts)
{
	char iso[32];

	if (ts == 0) {
		buf_adds(b, "<td>-</td>");
		return;
	}
	fmt_iso8601((time_t)ts, iso);
	iso[10] = '\0';			/* the day is enough in a table */
	htmlf(b, "<td>%s</td>", iso);
}

static void
table_row(struct admin_req *a, const struct report_row *r, struct buf *b)
{
	const struct person *p = &r->p;
	char id[24];

	snprintf(id, sizeof(id), "%llu", (unsigned long long)p->id);
	htmlf(b, "<tr><td><input type=\"checkbox\" name=\"id\" value=\"%r\" form=\"ticked\" "
	    "aria-label=\"Select %s\"></td><td><a href=\"%s/admin/person/%r\">%s</a></td>"
	    "<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>", id,
	    p->name ? p->name : p->email ? p->email : id, a->sv->base, id,
	    p->name ? p->name : "-", p->email ? p->email : "-",
	    status_name((enum status)p->status), p->primary_platform >= 0 ?
	    platform_name((enum platform)p->primary_platform) : "-",
	    r->team_name ? r->team_name : p->primary_team_id ? p->primary_team_id : "-",
	    p->sync_type ? sync_type_name((enum sync_type)p->sync_type) : "-");
	for (int k = 0; k < r->na; k++)
		htmlf(b, "%r%s%r", k ? ", " : "", platform_name(r->a[k].platform),
		    rec_account_is_active(&r->a[k]) ? "" : " (inactive)");
	buf_printf(b, "</td><td class=\"num\">%d</td>", (int)p->prompt_count);
	time_cell(b, p->last_prompted_at);
	htmlf(b, "%r</tr>", p->flags & PERSON_CONFLICT ? "" : "");
}

/* A column header that sorts by sort (descending when it already sorts ascending). */
static void
sort_header(struct admin_req *a, const struct query *q, struct buf *b, const char *title,
    int sort)
{
	struct query s = *q;
	struct buf qs = { 0 };

	if (sort < 0) {
		htmlf(b, "<th scope=\"col\">%s</th>", title);
		return;
	}
	s.sort = (enum query_sort)sort;
	s.desc = q->sort == (enum query_sort)sort && !q->desc;
	admin_query_string(&s, 0, &qs);
	htmlf(b, "<th scope=\"col\"%r><a href=\"%s/admin?%r\">%s</a></th>",
	    q->sort == (enum query_sort)sort ? (q->desc ? " aria-sort=\"descending\"" :
	    " aria-sort=\"ascending\"") : "", a->sv->base, qs.p ? qs.p : "", title);
	buf_free(&qs);
}

/* A link to page (from 0) of q's view. */
static void
page_link(struct admin_req *a, const struct buf *qs, uint64_t page, const char *rel,
    const char *text, struct buf *b)
{
	htmlf(b, "<a href=\"%s/admin?%r%r", a->sv->base, qs->p ? qs->p : "",
	    qs->len ? "&amp;" : "");
	buf_printf(b, "page=%llu\" rel=\"%s\">%s</a>", (unsigned long long)page + 1, rel, text);
}

static void
pager(struct admin_req *a, const struct query *q, const struct query_result *r,
    struct buf *b)
{
	struct buf qs = { 0 };
	uint64_t pages = r->total ? (r->total + q->size - 1) / q->size : 1;

	admin_query_string(q, 0, &qs);
	buf_printf(b, "<nav class=\"pager\" aria-label=\"Pages\"><span id=\"count\">%llu "
	    "%s</span><span>page %llu of %llu</span>", (unsigned long long)r->total,
	    r->total == 1 ? "person" : "people", (unsigned long long)q->page + 1,
	    (unsigned long long)pages);
	if (q->page > 0)
		page_link(a, &qs, q->page - 1, "prev", "Previous", b);
	if (q->page + 1 < pages)
		page_link(a, &qs, q->page + 1, "next", "Next", b);
	buf_free(&qs);
	buf_adds(b, "</nav>");
}

static void
table(struct admin_req *a, const struct query *q, const struct query_result *r,
    struct buf *b)
{
	htmlf(b, "<form id=\"ticked\" class=\"actions\" method=\"post\" action=\"%s/admin/prompt\">",
	    a->sv->base);
	admin_csrf_field(a, b);
	htmlf(b, "<button type=\"submit\" id=\"prompt-ticked\">Prompt the ticked people</button>"
	    "</form><table id=\"people\"><caption class=\"muted\">People, %r</caption><thead><tr>"
	    "<th scope=\"col\"><input type=\"checkbox\" id=\"select-all\" hidden "
	    "aria-label=\"Select every person on this page\"></th>",
	    r->indexed ? "from the indexes" : "filtered and sorted");
	sort_header(a, q, b, "Name", QS_NAME);
	sort_header(a, q, b, "Address", QS_EMAIL);
	sort_header(a, q, b, "Status", QS_STATUS);
	sort_header(a, q, b, "Primary", QS_PLATFORM);
	sort_header(a, q, b, "Primary team", QS_TEAM);
	sort_header(a, q, b, "Type", QS_TYPE);
	sort_header(a, q, b, "Accounts", -1);
	sort_header(a, q, b, "Prompts", QS_PROMPTS);
	sort_header(a, q, b, "Last prompted", QS_PROMPTED);
	buf_adds(b, "</tr></thead><tbody>");
	for (size_t i = 0; i < r->n; i++)
		table_row(a, &r->rows[i], b);
	buf_adds(b, "</tbody></table>");
}

enum web_outcome
admin_people(struct admin_req *a)
{
	struct query q;
	struct query_result r = { 0 };
	struct buf hold = { 0 }, body = { 0 }, qs = { 0 };
	struct txn *t;
	double t0 = ps_monotonic();
	enum web_outcome o = WO_OK;

	admin_query(a, NULL, &q, &hold);
	if ((t = store_begin(a->sv->st, 0)) == NULL) {
		o = store_fail(a->sv, a->rp, "begin read");
		goto out;
	}
	if (summary(a, t, &q, &body) < 0 || filter_form(a, t, &q, &body) < 0 ||
	    query_run(t, &q, &r) < 0) {
		o = store_fail(a->sv, a->rp, "read people");
		goto out;
	}
	auto_prompt_form(a, t, &body);
	admin_query_string(&q, 1, &qs);
	htmlf(&body, "<div class=\"actions\"><a class=\"btn secondary\" id=\"export-csv\" "
	    "href=\"%s/admin/export.csv?%r\">Export CSV</a><a class=\"btn secondary\" "
	    "id=\"export-json\" href=\"%s/admin/export.json?%r\">Export JSON</a><a class=\"btn "
	    "secondary\" id=\"export-html\" href=\"%s/admin/export.html?%r\">HTML report</a>"
	    "<a class=\"btn\" id=\"bulk\" href=\"%s/admin/bulk?%r\">Prompt everyone matching "
	    "these filters…</a></div>", a->sv->base, qs.p ? qs.p : "", a->sv->base,
	    qs.p ? qs.p : "", a->sv->base, qs.p ? qs.p : "", a->sv->base, qs.p ? qs.p : "");
	pager(a, &q, &r, &body);
	table(a, &q, &r, &body);
	pager(a, &q, &r, &body);
	admin_page(a, 200, "People", body.p);
	snprintf(a->rp->note, sizeof(a->rp->note), "admin: people page, %zu of %llu, %.1f ms "
	    "in the store%s", r.n, (unsigned long long)r.total, (ps_monotonic() - t0) * 1000,
	    r.indexed ? " (indexed)" : "");
out:
	store_abort(t);
	query_result_free(&r);
	admin_query_free(&hold);
	buf_free(&body);
	buf_free(&qs);
	return o;
}

/* ---- exports ---- */

static int
id_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The document of everyone q matches (its filters and search), in the order of `export`
 * (person ids); f: the filters it names. 0 or -1. */
static int
export_query(struct txn *t, struct query *q, const struct report_filter *f,
    enum export_fmt fmt, struct buf *out, long *n)
{
	uint64_t *ids = NULL;
	size_t nids = 0;
	int rc = -1;

	q->sort = QS_NAME;		/* the cheapest order: they are sorted by id below */
	q->desc = 0;
	if (query_ids(t, q, &ids, &nids) == 0) {
		qsort(ids, nids, sizeof(*ids), id_cmp);
		rc = export_render_ids(t, ids, nids, f, fmt, ps_now(), out, n);
	}
	free(ids);
	return rc;
}

enum web_outcome
admin_export(struct admin_req *a, const char *fmt)
{
	static const struct { const char *ext, *ctype; enum export_fmt fmt; } fmts[] = {
		{ "csv", "text/csv; charset=utf-8", EXP_CSV },
		{ "json", "application/json", EXP_JSON },
		{ "html", "text/html; charset=utf-8", EXP_HTML },
	};
	struct report_filter f;
	struct query q;
	struct buf hold = { 0 }, out = { 0 };
	struct txn *t;
	const char *team;
	long n = 0;
	int pl;
	size_t i;

	for (i = 0; i < ARRAY_LEN(fmts) && strcmp(fmt, fmts[i].ext) != 0; i++)
		;
	if (i == ARRAY_LEN(fmts))
		return WO_NOT_FOUND;
	admin_query(a, NULL, &q, &hold);
	f = q.f;
	if (f.team && query_team_parse(q.f.team, &pl, &team) == 0)
		f.team = team;		/* report/ takes the team's id */
	if ((t = store_begin(a->sv->st, 0)) == NULL ||
	    export_query(t, &q, &f, fmts[i].fmt, &out, &n) < 0) {
		store_abort(t);
		admin_query_free(&hold);
		buf_free(&out);
		return store_fail(a->sv, a->rp, "export");
	}
	store_abort(t);
	buf_reset(&a->rp->html);
	buf_add(&a->rp->html, out.p ? out.p : "", out.len);
	a->rp->status = 200;
	a->rp->ctype = fmts[i].ctype;
	a->rp->disposition = xasprintf("attachment; filename=\"people.%s\"", fmts[i].ext);
	a->rp->csp = "default-src 'none'; sandbox";	/* a download, never a page of ours */
	snprintf(a->rp->note, sizeof(a->rp->note), "admin: %s export of %ld people by %s",
	    fmts[i].ext, n, a->email);
	admin_query_free(&hold);
	buf_free(&out);
	return WO_OK;
}
