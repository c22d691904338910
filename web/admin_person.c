/*
 * admin_person.c — a person's page in the console (their accounts and how each was linked,
 * the primary team and where it came from, the `explain` text, the history, the actions),
 * the conflicts page, the audit list, and the identity actions: link and unlink an
 * account (reconcile/admin.c's rec_link and rec_unlink) and a fresh Sync now link
 * (rec_sync_link). Each action is recorded with the admin's address (admin_record).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admin_p.h"
#include "lookup.h"
#include "outbox.h"
#include "reconcile.h"
#include "synclink.h"

/* A command's text output (explain, conflicts), captured; NULL on failure. */
static FILE *
capture(char **p, size_t *n)
{
	*p = NULL;
	*n = 0;
	return open_memstream(p, n);
}

/* How another command names person p: the address, else their first account. */
static void
person_spec(const struct person *p, const struct account *a, int na, struct buf *out)
{
	if (p->email)
		buf_adds(out, p->email);
	else if (na > 0)
		buf_printf(out, "%s:%s", platform_name(a[0].platform), a[0].user_id);
}

static void
accounts_table(struct admin_req *a, const struct pview *v, struct buf *b)
{
	htmlf(b, "<h2>Accounts</h2><table id=\"accounts\"><thead><tr><th scope=\"col\">Platform"
	    "</th><th scope=\"col\">Team</th><th scope=\"col\">User id</th><th scope=\"col\">"
	    "Addresses</th><th scope=\"col\">Linked by</th><th scope=\"col\">State</th>"
	    "<th scope=\"col\"><span class=\"muted\">Action</span></th></tr></thead><tbody>");
	for (int i = 0; i < v->n; i++) {
		const struct account *ac = &v->a[i];
		struct buf spec = { 0 };
		buf_printf(&spec, "%s:%s", platform_name(ac->platform), ac->user_id);
		htmlf(b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>", platform_name(ac->platform),
		    ac->team_id, ac->user_id);
		for (int k = 0; k < ac->nemails; k++)
			htmlf(b, "%r%s", k ? "<br>" : "", ac->emails[k]);
		htmlf(b, "</td><td>%s%r</td><td>%r%r</td><td><form method=\"post\" action=\"%s"
		    "/admin/unlink\"><input type=\"hidden\" name=\"spec\" value=\"%s\">",
		    link_how_name((enum link_how)ac->link_how),
		    ac->flags & ACCT_ADMIN_LINK ? " (kept by every run)" : "",
		    rec_account_is_active(ac) ? "active" : "inactive",
		    ac->flags & ACCT_CONFLICT ? ", <span class=\"bad\">contested</span>" : "",
		    a->sv->base, spec.p);
		admin_csrf_field(a, b);
		htmlf(b, "<button type=\"submit\" class=\"secondary\">Unlink</button></form></td>"
		    "</tr>");
		buf_free(&spec);
	}
	htmlf(b, "</tbody></table>");
}

struct hist {
	struct buf	*b;
};

static int
hist_cb(const struct history *h, void *arg)
{
	struct buf *b = arg;
	char iso[32];

	fmt_iso8601((time_t)h->ts, iso);
	htmlf(b, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>", iso, h->kind, h->text);
	return 0;
}

/* The person's facts, pending prompt and actions. */
static void
person_head(struct admin_req *a, struct txn *t, const struct pview *v, struct buf *b)
{
	const struct person *p = &v->p;
	struct buf tn = { 0 };
	char id[24], synced[32] = "-", prompted[32] = "-";
	uint64_t qid;

	snprintf(id, sizeof(id), "%llu", (unsigned long long)p->id);
	if (p->synced_at)
		fmt_iso8601((time_t)p->synced_at, synced);
	if (p->last_prompted_at)
		fmt_iso8601((time_t)p->last_prompted_at, prompted);
	if (p->primary_platform >= 0 && p->primary_team_id)
		store_team_name_get(t, (enum platform)p->primary_platform, p->primary_team_id, &tn);
	htmlf(b, "<div class=\"card\"><p>%s · status <strong id=\"status\">%s</strong>%r</p>"
	    "<p>Primary: %s, team %s%r%s%r (%s)</p><p class=\"muted\">Prompts %r; last prompted "
	    "%s; synced %s</p>", p->email ? p->email : "no address",
	    status_name((enum status)p->status), p->active ? "" : " (inactive)",
	    p->primary_platform >= 0 ? platform_name((enum platform)p->primary_platform) : "none",
	    tn.p ? tn.p : p->primary_team_id ? p->primary_team_id : "none", tn.p ? " (" : "",
	    tn.p ? p->primary_team_id : "", tn.p ? ")" : "",
	    primary_source_name((enum primary_source)p->primary_source) ?
	    primary_source_name((enum primary_source)p->primary_source) : "no source", "",
	    prompted, synced);
	buf_printf(b, "<p class=\"muted\">%d prompt%s sent or queued so far.</p>",
	    (int)p->prompt_count, p->prompt_count == 1 ? "" : "s");
	if (store_prompt_pending(t, p->id, &qid) == 0)
		htmlf(b, "<p class=\"note\" id=\"pending\">A prompt is queued: it goes out with the "
		    "next <code>peoplesync reconcile</code> run (outside the person's quiet "
		    "hours).</p>");
	htmlf(b, "</div><div class=\"actions\"><form method=\"post\" action=\"%s/admin/prompt\">"
	    "<input type=\"hidden\" name=\"id\" value=\"%r\">", a->sv->base, id);
	admin_csrf_field(a, b);
	htmlf(b, "<button type=\"submit\" id=\"prompt-now\">Prompt now</button></form><form "
	    "method=\"post\" action=\"%s/admin/synclink\"><input type=\"hidden\" name=\"id\" "
	    "value=\"%r\">", a->sv->base, id);
	admin_csrf_field(a, b);
	htmlf(b, "<button type=\"submit\" class=\"secondary\" id=\"new-link\">A fresh Sync now "
	    "link</button></form><a class=\"btn secondary\" href=\"%s/admin/conflicts\">"
	    "Conflicts</a></div>", a->sv->base);
	buf_free(&tn);
}

/* The link form: another account joins this person. */
static void
link_form(struct admin_req *a, const struct buf *spec, struct buf *b)
{
	htmlf(b, "<h2>Link an account</h2><form class=\"filters\" method=\"post\" "
	    "action=\"%s/admin/link\"><input type=\"hidden\" name=\"person\" value=\"%s\">",
	    a->sv->base, spec->p ? spec->p : "");
	admin_csrf_field(a, b);
	htmlf(b, "<label>Account (platform:user id) <input type=\"text\" name=\"spec\" "
	    "id=\"link-spec\" required placeholder=\"teams:0b1c…\"></label><button "
	    "type=\"submit\">Link to this person</button></form>");
}

/* The explain text of person spec, escaped, into b. */
static void
explain_text(struct admin_req *a, const struct buf *spec, struct buf *b)
{
	struct failure f;
	char *text;
	size_t n;
	FILE *fp = capture(&text, &n);

	if (fp == NULL)
		return;
	rec_explain(a->sv->cfg, a->sv->st, spec->p ? spec->p : "", fp, &f);
	fclose(fp);
	htmlf(b, "<h2>Why (explain)</h2><pre id=\"explain\">%s</pre>", text ? text : "");
	free(text);
}

enum web_outcome
admin_person(struct admin_req *a, const char *idstr)
{
	struct buf body = { 0 }, spec = { 0 };
	struct pview v;
	struct txn *t;
	long long id;
	int rc;

	if (parse_ll(idstr, 1, INT64_MAX, &id) < 0)
		return WO_NOT_FOUND;
	if ((t = store_begin(a->sv->st, 0)) == NULL)
		return store_fail(a->sv, a->rp, "begin read");
	if ((rc = pview_load(t, (uint64_t)id, &v)) != 0) {
		store_abort(t);
		if (rc < 0)
			return store_fail(a->sv, a->rp, "read person");
		admin_notice(a, 404, "No such person", "Nobody has this number (any more).", NULL);
		return WO_OK;
	}
	person_spec(&v.p, v.a, v.n, &spec);
	person_head(a, t, &v, &body);
	accounts_table(a, &v, &body);
	link_form(a, &spec, &body);
	htmlf(&body, "<h2>History</h2><table id=\"history\"><thead><tr><th scope=\"col\">When"
	    "</th><th scope=\"col\">What</th><th scope=\"col\">Details</th></tr></thead><tbody>");
	rc = store_history_each(t, v.p.id, hist_cb, &body);
	htmlf(&body, "</tbody></table>");
	store_abort(t);
	explain_text(a, &spec, &body);
	admin_page(a, 200, v.p.name ? v.p.name : v.p.email ? v.p.email : "A person", body.p);
	pview_free(&v);
	buf_free(&body);
	buf_free(&spec);
	return rc < 0 ? store_fail(a->sv, a->rp, "read history") : WO_OK;
}

enum web_outcome
admin_conflicts(struct admin_req *a)
{
	struct buf body = { 0 };
	struct failure f;
	char *text;
	size_t n;
	long count = 0;
	FILE *fp = capture(&text, &n);

	if (fp == NULL)
		return WO_INTERNAL;
	rec_conflicts(a->sv->st, fp, &count, &f);
	fclose(fp);
	if (f.cls != FAIL_NONE) {
		free(text);
		return store_fail(a->sv, a->rp, "conflicts");
	}
	buf_printf(&body, "<p>%ld contested account%s. Each is kept apart until an admin links "
	    "it to a person or unlinks it (a person of its own).</p>", count,
	    count == 1 ? "" : "s");
	htmlf(&body, "<pre id=\"conflicts\">%s</pre>", text ? text : "");
	htmlf(&body, "<h2>Link to a person</h2><form class=\"filters\" method=\"post\" "
	    "action=\"%s/admin/link\">", a->sv->base);
	admin_csrf_field(a, &body);
	htmlf(&body, "<label>Person (address or platform:user id) <input type=\"text\" "
	    "name=\"person\" required></label><label>Account (platform:user id) <input "
	    "type=\"text\" name=\"spec\" required></label><button type=\"submit\">Link</button>"
	    "</form><h2>Unlink</h2><form class=\"filters\" method=\"post\" action=\"%s"
	    "/admin/unlink\">", a->sv->base);
	admin_csrf_field(a, &body);
	htmlf(&body, "<label>Account (platform:user id) <input type=\"text\" name=\"spec\" "
	    "required></label><button type=\"submit\">Make it a person of its own</button>"
	    "</form>");
	admin_page(a, 200, "Conflicts", body.p);
	free(text);
	buf_free(&body);
	return WO_OK;
}

struct audit_page {
	struct admin_req	*a;
	struct buf		*b;
};

static int
audit_cb(const struct audit *e, void *arg)
{
	struct audit_page *ap = arg;
	struct buf *b = ap->b;
	char iso[32], id[24];

	fmt_iso8601((time_t)e->ts, iso);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)e->person);
	htmlf(b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>", iso, e->admin, e->action);
	if (e->person)
		htmlf(b, "<a href=\"%s/admin/person/%r\">%r</a>", ap->a->sv->base, id, id);
	htmlf(b, "</td><td>%s</td></tr>", e->text);
	return 0;
}

enum web_outcome
admin_audit(struct admin_req *a)
{
	struct buf body = { 0 };
	struct audit_page ap = { a, &body };
	struct txn *t;
	int rc;

	if ((t = store_begin(a->sv->st, 0)) == NULL)
		return store_fail(a->sv, a->rp, "begin read");
	htmlf(&body, "<p>Every action of an admin in this console, newest first (the last 500; "
	    "<code>peoplesync audit</code> prints them all).</p><table id=\"audit\"><thead><tr>"
	    "<th scope=\"col\">When (UTC)</th><th scope=\"col\">Admin</th><th scope=\"col\">"
	    "Action</th><th scope=\"col\">Person</th><th scope=\"col\">Details</th></tr></thead>"
	    "<tbody>");
	rc = store_audit_each(t, 1, 500, audit_cb, &ap);
	store_abort(t);
	htmlf(&body, "</tbody></table>");
	admin_page(a, 200, "Audit list", body.p);
	buf_free(&body);
	return rc < 0 ? store_fail(a->sv, a->rp, "read audit list") : WO_OK;
}

/* The person spec names, for the audit list (0 when nobody). */
static uint64_t
find_person(struct admin_req *a, const char *spec)
{
	struct txn *t = store_begin(a->sv->st, 0);
	uint64_t id = 0;

	if (t && spec && rec_find_person(a->sv->cfg, t, spec, &id) != 0)
		id = 0;
	store_abort(t);
	return id;
}

/* Records an action done outside the console's own txn (rec_link, rec_unlink, ...). */
static void
record_after(struct admin_req *a, uint64_t person, const char *action, const char *text)
{
	struct txn *t = begin_write(a->sv);

	if (t == NULL || admin_record(a, t, person, action, "%s", text) < 0 ||
	    end_write(a->sv, t, 1) < 0) {
		if (t)
			end_write(a->sv, t, 0);
		log_err("serve: admin: %s: %s: not recorded in the audit list: %s", a->email,
		    action, store_error(a->sv->st));
	}
}

enum web_outcome
admin_link(struct admin_req *a, int unlink)
{
	char *spec = admin_form_get(a->body, "spec"), *person = admin_form_get(a->body, "person");
	struct buf msg = { 0 };
	struct failure f;
	enum fail rc;
	uint64_t pid;

	if (spec == NULL || (!unlink && (person == NULL || *person == '\0'))) {
		admin_notice(a, 400, "Something is missing", "Name the account (and, to link, the "
		    "person). Nothing was changed.", NULL);
		goto out;
	}
	pthread_mutex_lock(&a->sv->wmu);	/* one writer of ours at a time */
	rc = unlink ? rec_unlink(a->sv->cfg, a->sv->st, spec, &f) :
	    rec_link(a->sv->cfg, a->sv->st, person, spec, &f);
	pthread_mutex_unlock(&a->sv->wmu);
	if (rc != FAIL_NONE) {
		htmlf(&msg, "%s. Nothing was changed.", f.msg);
		admin_notice(a, rc == FAIL_DATA ? 400 : 503, unlink ? "Not unlinked" : "Not linked",
		    msg.p, NULL);
		goto out;
	}
	pid = find_person(a, unlink ? spec : person);
	buf_printf(&msg, unlink ? "unlinked %s" : "linked %s to %s", spec, person ? person : "");
	record_after(a, pid, unlink ? "unlink" : "link", msg.p);
	buf_reset(&msg);
	htmlf(&msg, unlink ? "%s is now a person of its own." : "%s now belongs to %s.", spec,
	    person ? person : "");
	admin_notice(a, 200, unlink ? "Unlinked" : "Linked", msg.p, NULL);
out:
	free(spec);
	free(person);
	buf_free(&msg);
	return WO_OK;
}

enum web_outcome
admin_synclink(struct admin_req *a)
{
	char *id = admin_form_get(a->body, "id");
	struct buf url = { 0 }, body = { 0 }, spec = { 0 };
	struct failure f;
	struct pview v;
	struct txn *t = NULL;
	long long pid = 0;
	time_t exp = ps_now() + (time_t)a->sv->cfg->link_ttl_hours * 3600;

	memset(&v, 0, sizeof(v));
	if (id == NULL || parse_ll(id, 1, INT64_MAX, &pid) < 0 ||
	    (t = store_begin(a->sv->st, 0)) == NULL || pview_load(t, (uint64_t)pid, &v) != 0) {
		admin_notice(a, 404, "No such person", "Nothing was changed.", NULL);
		goto out;
	}
	person_spec(&v.p, v.a, v.n, &spec);
	store_abort(t);
	t = NULL;
	if (rec_sync_link(a->sv->cfg, a->sv->st, spec.p ? spec.p : "", exp, &url, &f) !=
	    FAIL_NONE) {
		htmlf(&body, "%s.", f.msg);
		admin_notice(a, 409, "No link", body.p, NULL);
		goto out;
	}
	record_after(a, (uint64_t)pid, "sync-link", "made a fresh Sync now link");
	htmlf(&body, "<p>Send this link to %s yourself; it works once, until it expires",
	    v.p.name ? v.p.name : spec.p);
	buf_printf(&body, " (in %d hours).</p>", a->sv->cfg->link_ttl_hours);
	htmlf(&body, "<p><code id=\"sync-link\">%s</code> <button type=\"button\" "
	    "id=\"copy-link\" hidden>Copy</button></p><p><a href=\"%s/admin/person/%r\">Back to "
	    "the person</a></p>", url.p, a->sv->base, id);
	admin_page(a, 200, "A fresh Sync now link", body.p);
out:
	store_abort(t);
	pview_free(&v);
	free(id);
	buf_free(&url);
	buf_free(&body);
	buf_free(&spec);
	return WO_OK;
}
