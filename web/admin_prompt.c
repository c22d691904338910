/*
 * admin_prompt.c — prompting from the console: one person or the people ticked on the
 * page (reason "admin"), everyone matching the current filters (reason "bulk") after a
 * preview that counts who would be prompted and groups who would not by the reason, and
 * the auto-prompt switch. The rules are reconcile's own (prompt_decide_for, prompt_queue:
 * what `prompt` and `prompt --dry-run` use), taken under the run lock as `prompt` does.
 * Each prompt queued is in the person's history and the audit list with the admin's
 * address; the page says when it goes out (with the next `reconcile` run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_p.h"
#include "events.h"
#include "outbox.h"
#include "run.h"

#define PREVIEW_NAMES	25	/* people named under each reason of a preview */

/* The text of a queued prompt's fate. */
static const char *
queued_text(const struct prompt_decision *d)
{
	return d->d == DEC_WAIT ? "queued; it waits for the end of the person's quiet hours, "
	    "then the next reconcile run sends it" : "queued; the next reconcile run sends it";
}

/* The run lock for a console action, or -1 with a page saying why (a run holds it). */
static int
lock_or_page(struct admin_req *a)
{
	struct failure f;
	int lock = run_lock(a->sv->cfg->database, &f);

	if (lock < 0)
		admin_notice(a, f.cls == FAIL_AGAIN ? 409 : 503, "Please try again in a minute",
		    f.cls == FAIL_AGAIN ? "A reconcile run is under way; prompts can be queued "
		    "when it ends. Nothing was changed." : "The run lock could not be taken. "
		    "Nothing was changed.", NULL);
	return lock;
}

/* Ends the write txn of an action: committed when r >= 0; -1 (the failure's page written)
 * when r < 0 or the commit failed. */
static int
finish(struct admin_req *a, struct txn *t, int r, const char *what)
{
	if (r >= 0 && end_write(a->sv, t, 1) == 0)
		return 0;
	if (r < 0)
		end_write(a->sv, t, 0);
	admin_write_failed(a, what);
	return -1;
}

struct idset {
	uint64_t	*v;
	size_t		 n;
};

static int
id_add(const char *s, void *arg)
{
	struct idset *ids = arg;
	long long id;

	if (parse_ll(s, 1, INT64_MAX, &id) == 0 && ids->n < 10000) {
		ids->v = xrealloc(ids->v, (ids->n + 1) * sizeof(*ids->v));
		ids->v[ids->n++] = (uint64_t)id;
	}
	return 0;
}

/* Queues one prompt of reason for pid and records it: 1 queued, 0 not, -1 store error. */
static int
queue_one(struct admin_req *a, struct txn *t, uint64_t pid, enum prompt_reason reason,
    time_t now, struct prompt_decision *d)
{
	int r = prompt_queue(a->sv->cfg, t, pid, reason, -1, NULL, now, d);

	if (r == 1 && reason == PR_ADMIN &&
	    admin_record(a, t, pid, "prompt", "prompt queued (%s)", d->d == DEC_WAIT ?
	    "waits for quiet hours" : "due now") < 0)
		return -1;
	if (r == 1 && reason == PR_BULK && store_history_add(t, pid, (int64_t)now, "admin",
	    "bulk-prompt by %s: prompt queued", a->email) < 0)
		return -1;
	return r;
}

/* A line of a result list: the person (linked) and what became of them. */
static void
person_line(struct admin_req *a, struct txn *t, uint64_t pid, const char *what, struct buf *b)
{
	struct person p;
	char id[24];

	snprintf(id, sizeof(id), "%llu", (unsigned long long)pid);
	if (store_person_get(t, pid, &p) != 0)
		return;
	htmlf(b, "<li><a href=\"%s/admin/person/%r\">%s</a> %s: %s</li>", a->sv->base, id,
	    p.name ? p.name : p.email ? p.email : id, p.name && p.email ? p.email : "", what);
	person_free(&p);
}

enum web_outcome
admin_prompt(struct admin_req *a)
{
	struct idset ids = { NULL, 0 };
	struct prompt_decision d;
	struct buf body = { 0 };
	struct txn *t;
	time_t now = ps_now();
	long queued = 0;
	int lock = -1, r = 0;

	admin_form_each(a->body, "id", id_add, &ids);
	if (ids.n == 0) {
		admin_notice(a, 400, "Nobody was ticked", "Tick the people to prompt first. "
		    "Nothing was changed.", NULL);
		goto out;
	}
	if ((lock = lock_or_page(a)) < 0 || (t = admin_begin_write(a)) == NULL)
		goto out;
	htmlf(&body, "<ul id=\"result\">");
	for (size_t i = 0; i < ids.n && r >= 0; i++) {
		memset(&d, 0, sizeof(d));
		if ((r = queue_one(a, t, ids.v[i], PR_ADMIN, now, &d)) >= 0)
			person_line(a, t, ids.v[i], r == 1 ? queued_text(&d) : d.why, &body);
		queued += r == 1;
	}
	htmlf(&body, "</ul>");
	if (finish(a, t, r, "queue prompts") < 0)
		goto out;
	buf_printf(&body, "<p id=\"queued\">%ld prompt%s queued.</p><p><a href=\"%s/admin\">"
	    "Back to the people</a></p>", queued, queued == 1 ? "" : "s", a->sv->base);
	admin_page(a, 200, "Prompts", body.p);
out:
	if (lock >= 0)
		run_unlock(lock);
	free(ids.v);
	buf_free(&body);
	return WO_OK;
}

/* ---- everyone matching the filters ---- */

struct group {
	char		 label[128];	/* the reason, without the person's particulars */
	long		 n;
	struct buf	 names;
};

struct preview {
	long		 send;
	struct group	*g;
	size_t		 ng;
};

/* The reason of a decision without what is particular to the person (times, counts). */
static void
reason_label(const char *why, char *out, size_t n)
{
	size_t k = strcspn(why, "0123456789(");

	while (k > 0 && (why[k - 1] == ' ' || why[k - 1] == ',' || why[k - 1] == ':'))
		k--;
	snprintf(out, n, "%.*s", (int)k, why);
}

static void
preview_add(struct admin_req *a, struct txn *t, struct preview *pv, uint64_t pid,
    const struct prompt_decision *d)
{
	char label[128];
	size_t i;

	reason_label(d->why, label, sizeof(label));
	for (i = 0; i < pv->ng && strcmp(pv->g[i].label, label) != 0; i++)
		;
	if (i == pv->ng) {
		pv->g = xrealloc(pv->g, (pv->ng + 1) * sizeof(*pv->g));
		memset(&pv->g[i], 0, sizeof(pv->g[i]));
		snprintf(pv->g[i].label, sizeof(pv->g[i].label), "%s", label);
		pv->ng++;
	}
	if (pv->g[i].n++ < PREVIEW_NAMES)
		person_line(a, t, pid, d->why, &pv->g[i].names);
}

/* The decisions for everyone q matches, read in t. 0 or -1. */
static int
preview_run(struct admin_req *a, struct txn *t, const struct query *q, struct preview *pv)
{
	struct prompt_decision d;
	struct pview v;
	uint64_t *ids;
	size_t n;
	int rc = 0;

	if (query_ids(t, q, &ids, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if ((rc = pview_load(t, ids[i], &v)) != 0) {
			rc = rc < 0 ? -1 : 0;
			continue;
		}
		rc = prompt_decide_for(a->sv->cfg, t, &v, PR_BULK, -1, NULL, ps_now(), &d);
		/* prompt_queue's rule: due now, or only waiting for quiet hours */
		if (rc == 0 && (d.d == DEC_SEND || (d.d == DEC_WAIT && d.hold == HOLD_QUIET)))
			pv->send++;
		else if (rc == 0)
			preview_add(a, t, pv, ids[i], &d);
		pview_free(&v);
	}
	free(ids);
	return rc;
}

static void
preview_free(struct preview *pv)
{
	for (size_t i = 0; i < pv->ng; i++)
		buf_free(&pv->g[i].names);
	free(pv->g);
}

enum web_outcome
admin_bulk_preview(struct admin_req *a)
{
	struct preview pv = { 0, NULL, 0 };
	struct buf hold = { 0 }, body = { 0 };
	struct query q;
	struct txn *t;
	int rc;

	admin_query(a, NULL, &q, &hold);
	if ((t = store_begin(a->sv->st, 0)) == NULL)
		return store_fail(a->sv, a->rp, "begin read");
	rc = preview_run(a, t, &q, &pv);
	if (rc == 0) {
		buf_printf(&body, "<p class=\"note\" id=\"would\"><strong>%ld</strong> %s would be "
		    "prompted (bulk prompts go to people with status off, by the same rules as "
		    "<code>peoplesync prompt --all --dry-run</code>).</p>", pv.send,
		    pv.send == 1 ? "person" : "people");
		for (size_t i = 0; i < pv.ng; i++) {
			htmlf(&body, "<h2>%s</h2>", pv.g[i].label);
			buf_printf(&body, "<p>%ld %s not.</p><ul>", pv.g[i].n,
			    pv.g[i].n == 1 ? "person is" : "people are");
			buf_add(&body, pv.g[i].names.p ? pv.g[i].names.p : "", pv.g[i].names.len);
			buf_adds(&body, pv.g[i].n > PREVIEW_NAMES ? "<li>…</li></ul>" : "</ul>");
		}
		htmlf(&body, "<form method=\"post\" action=\"%s/admin/bulk\">", a->sv->base);
		admin_csrf_field(a, &body);
		admin_query_fields(&q, &body);
		htmlf(&body, "<button type=\"submit\" id=\"confirm-bulk\">Queue these prompts"
		    "</button> <a href=\"%s/admin\">Cancel</a></form>", a->sv->base);
		admin_page(a, 200, "Prompt everyone matching: preview", body.p);
	}
	store_abort(t);
	preview_free(&pv);
	admin_query_free(&hold);
	buf_free(&body);
	return rc < 0 ? store_fail(a->sv, a->rp, "preview") : WO_OK;
}

enum web_outcome
admin_bulk(struct admin_req *a)
{
	struct buf hold = { 0 }, body = { 0 }, qs = { 0 };
	struct prompt_decision d;
	struct query q;
	struct txn *t;
	uint64_t *ids = NULL;
	size_t n = 0;
	time_t now = ps_now();
	long queued = 0;
	int lock, r = 0;

	admin_query(a, a->body, &q, &hold);
	if ((lock = lock_or_page(a)) < 0 || (t = admin_begin_write(a)) == NULL)
		goto out;
	if (query_ids(t, &q, &ids, &n) < 0)
		r = -1;
	for (size_t i = 0; i < n && r >= 0; i++)
		if ((r = queue_one(a, t, ids[i], PR_BULK, now, &d)) == 1)
			queued++;
	admin_query_string(&q, 1, &qs);
	if (r >= 0)
		r = admin_record(a, t, 0, "bulk-prompt", "%ld prompts queued for the filters %s",
		    queued, qs.p ? qs.p : "(none)");
	if (finish(a, t, r, "bulk prompts") < 0)
		goto out;
	buf_printf(&body, "<p id=\"queued\">%ld prompt%s queued. The next reconcile run sends "
	    "them (those in their quiet hours once these end).</p>", queued,
	    queued == 1 ? "" : "s");
	htmlf(&body, "<p><a href=\"%s/admin\">Back to the people</a></p>", a->sv->base);
	admin_page(a, 200, "Bulk prompt queued", body.p);
out:
	if (lock >= 0)
		run_unlock(lock);
	free(ids);
	admin_query_free(&hold);
	buf_free(&body);
	buf_free(&qs);
	return WO_OK;
}

/* ---- auto-prompt ---- */

enum web_outcome
admin_auto_prompt(struct admin_req *a)
{
	char *set = admin_form_get(a->body, "set");
	struct failure f;
	struct txn *t;
	int on = 0, rc = -1;

	if (set == NULL || (strcmp(set, "on") != 0 && strcmp(set, "off") != 0)) {
		admin_notice(a, 400, "Not changed", "Say on or off.", NULL);
		free(set);
		return WO_OK;
	}
	pthread_mutex_lock(&a->sv->wmu);
	rc = rec_auto_prompt(a->sv->st, set, &on, &f) == FAIL_NONE ? 0 : -1;
	pthread_mutex_unlock(&a->sv->wmu);
	if (rc == 0 && (t = begin_write(a->sv)) == NULL)
		rc = -1;
	else if (rc == 0) {
		rc = admin_record(a, t, 0, "auto-prompt", "turned auto-prompt %s", set);
		rc = end_write(a->sv, t, rc == 0) < 0 ? -1 : rc;
	}
	if (rc < 0)
		admin_write_failed(a, "auto-prompt");
	else
		admin_notice(a, 200, on ? "Auto-prompt is on" : "Auto-prompt is off", on ?
		    "People with status off are prompted when they message someone (the next "
		    "reconcile run reads the events)." : "Nobody is prompted for their messages "
		    "any more.", NULL);
	free(set);
	return WO_OK;
}
