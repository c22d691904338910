/*
 * explain.c — the `explain` command's text: why a person has their status and primary, and
 * whether they would be prompted now and why (not), then their prompts.
 */
#include <stdio.h>
#include <string.h>

#include "inbox.h"
#include "lookup.h"
#include "zones.h"
#include "outbox.h"
#include "reconcile.h"

struct person_prompts {
	uint64_t	 pid;
	FILE		*out;
	struct txn	*t;
};

static int
print_prompt_cb(const struct prompt *q, void *arg)
{
	struct person_prompts *pp = arg;
	struct buf cause = { 0 };
	char iso[32];

	if (q->person_id != pp->pid)
		return 0;
	fmt_iso8601((time_t)(q->delivered_at ? q->delivered_at : q->updated_at), iso);
	fprintf(pp->out, "  %s  %-9s %-10s %s:%s  %s%s%s\n", iso,
	    prompt_state_name((enum prompt_state)q->state),
	    prompt_reason_name((enum prompt_reason)q->reason), platform_name(q->platform),
	    q->user_id, q->ref ? q->ref : "", q->error ? "  " : "", q->error ? q->error : "");
	if (q->reason == PR_AUTO && store_prompt_cause_get(pp->t, q->id, &cause) == 0)
		fprintf(pp->out, "    queued by the message event %s\n", cause.p);
	buf_free(&cause);
	return 0;
}

static void
explain_status(const struct config *cfg, const struct pview *v, FILE *out)
{
	const struct person *p = &v->p;
	char iso[32];
	int i, active = 0;

	for (i = 0; i < v->n; i++)
		active += rec_account_is_active(&v->a[i]);
	fprintf(out, "%s <%s>\n", p->name ? p->name : "(no name)",
	    p->email ? p->email : "no email");
	fprintf(out, "status: %s — ", status_name((enum status)p->status));
	fmt_iso8601((time_t)p->synced_at, iso);
	if (p->status == ST_ON && p->primary_source == PS_AUTO)
		fprintf(out, "synced automatically by Slack auto-sync on %s (a %s primary)\n", iso,
		    platform_name((enum platform)p->primary_platform));
	else if (p->status == ST_ON)
		fprintf(out, "completed the Sync now flow on %s\n", iso);
	else if (p->status == ST_PENDING) {
		fmt_iso8601((time_t)p->last_prompted_at, iso);
		fprintf(out, "prompted %d time%s (last %s), has not completed Sync now yet%s\n",
		    p->prompt_count, p->prompt_count == 1 ? "" : "s", iso,
		    rec_pending_stale(cfg, p, ps_now()) ? " (stale: longer than "
		    "prompts.stale_days)" : "");
	} else
		fprintf(out, "has not synced and has not been prompted\n");
	fprintf(out, "active: %s — %d of %d account%s active\n", p->active ? "yes" : "no",
	    active, v->n, v->n == 1 ? "" : "s");
}

/* The primary team as "Name (id)", its name from the platform (or the config). */
static void
explain_primary(struct txn *t, const struct person *p, FILE *out)
{
	const char *pl = p->primary_platform >= 0 ?
	    platform_name((enum platform)p->primary_platform) : NULL;
	struct buf team = { 0 };

	if (pl == NULL) {
		fprintf(out, "primary: none — no active account\n");
		return;
	}
	if (store_team_name_get(t, (enum platform)p->primary_platform, p->primary_team_id,
	    &team) == 0 && strcmp(team.p, p->primary_team_id) != 0) {
		buf_printf(&team, " (%s)", p->primary_team_id);
	} else {
		buf_reset(&team);
		buf_adds(&team, p->primary_team_id);
	}
	if (p->primary_source == PS_CHOSEN)
		fprintf(out, "primary: %s team %s — chosen by the person in the Sync now flow\n",
		    pl, team.p);
	else if (p->primary_source == PS_AUTO)
		fprintf(out, "primary: %s team %s — set by Slack auto-sync\n", pl, team.p);
	else
		fprintf(out, "primary: %s team %s — inferred: the first platform of identity."
		    "platform_order with an active account, then the most recently active team\n",
		    pl, team.p);
	buf_free(&team);
}

/* Would they be prompted now? For a prompt already queued, why it has not gone out yet. */
static int
explain_prompt(const struct config *cfg, struct txn *t, const struct pview *v, FILE *out)
{
	struct prompt_decision d;
	struct prompt q = { 0 };
	uint64_t qid = 0;

	char from[160];
	const char *zone;

	if (prompt_decide_for(cfg, t, v, v->p.status == ST_OFF ? PR_BULK : PR_ADMIN, -1, NULL,
	    ps_now(), &d) < 0)
		return -1;
	zone = rec_person_zone(cfg, &v->p, v->a, v->n, d.target, from, sizeof(from));
	fprintf(out, "zone: %s — from %s\n", zone, from);
	if (d.hold != HOLD_PENDING) {
		fprintf(out, "prompt: %s\n", d.why);
		return 0;
	}
	store_prompt_pending(t, v->p.id, &qid);
	if (qid && store_prompt_get(t, qid, &q) == 0) {
		if (prompt_decide_for_queued(cfg, t, v, &q, ps_now(), &d) == 0)
			fprintf(out, "prompt: %s %s — %s\n", q.ref,
			    prompt_state_name((enum prompt_state)q.state), d.why);
		prompt_free(&q);
	}
	return 0;
}

enum fail
rec_explain(const struct config *cfg, struct store *st, const char *spec, FILE *out,
    struct failure *f)
{
	struct person_prompts pp = { 0, out, NULL };
	struct pview v;
	struct txn *t;
	int rc;

	if (rec_person_txn(cfg, st, "explain", spec, NULL, &t, &pp.pid, f) != FAIL_NONE)
		return f->cls;
	if ((rc = pview_load(t, pp.pid, &v)) != 0) {
		if (rc == STORE_NOTFOUND)
			fail_set(f, FAIL_DATA, "explain: no person '%s'", spec);
		else
			fail_set(f, FAIL_IO, "%s", store_error(st));
		goto out;
	}
	explain_status(cfg, &v, out);
	explain_primary(t, &v.p, out);
	if (explain_prompt(cfg, t, &v, out) < 0)
		fail_set(f, FAIL_IO, "%s", store_error(st));
	else {
		fprintf(out, "prompts:\n");
		pp.t = t;
		store_prompt_each(t, 0, print_prompt_cb, &pp);
	}
	pview_free(&v);
out:
	store_abort(t);
	return f->cls;
}
