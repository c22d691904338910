/*
 * apply.c — the identity step of a run: a complete pull merged into the accounts (the
 * deactivation guard first), each human account linked to its person, people re-derived.
 * Also the two moves that admin.c shares: run_refresh_person and run_reindex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lookup.h"
#include "reconcile.h"
#include "run_p.h"

#define APPLY_BATCH	10000

/* ---- apply ---- */

struct apply {
	const struct config	*cfg;
	struct platform_summary	*sum;
	enum platform		 p;
	int			 write;
	time_t			 now;
	uint64_t		 fresh_pid;	/* person created for the account at hand */
	long			 active_before;	/* counting pass: staged, stored active */
	long			 missing;	/* stored active, absent from a full pull */
	long			 would_deactivate;
	char			 err[512];
};

static const char *
pname(const struct account *a)
{
	return platform_name(a->platform);
}

/* Re-derives a person from their accounts; deletes a person left without accounts. */
static int
refresh_person(struct apply *ap, struct txn *t, uint64_t pid)
{
	return run_refresh_person(ap->cfg, t, pid, ap->now);
}

int
run_refresh_person(const struct config *cfg, struct txn *t, uint64_t pid, time_t now)
{
	struct person p;
	struct account *a = NULL;
	int rc, was_active, n = 0;

	if (pid == 0)
		return 0;
	rc = store_person_get(t, pid, &p);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc < 0)
		return -1;
	if (rec_person_accounts(t, pid, &a, &n) < 0)
		goto fail;
	if (n == 0) {
		if (p.email) {
			uint64_t idx;
			if (store_email_get(t, p.email, &idx) == 0 && idx == pid &&
			    store_email_del(t, p.email) < 0)
				goto fail;
		}
		rc = store_person_del(t, pid);
		person_free(&p);
		rec_accounts_free(&a, &n);
		return rc;
	}
	was_active = p.active;
	if (rec_person_derive(&p, a, n, cfg)) {
		if (was_active != p.active &&
		    store_history_add(t, pid, now, p.active ? "reactivated" : "deactivated",
		    p.active ? "an account is active again" :
		    "every account is deactivated or gone") < 0)
			goto fail;
		if (store_person_put(t, &p) < 0)
			goto fail;
	}
	person_free(&p);
	rec_accounts_free(&a, &n);
	return 0;
fail:
	person_free(&p);
	rec_accounts_free(&a, &n);
	return -1;
}

struct same_team {
	const struct account	*a;
	int			 clash;
};

static int
same_team_cb(const struct account *o, void *arg)
{
	struct same_team *st = arg;

	if (o->platform == st->a->platform && strcmp(o->team_id, st->a->team_id) == 0 &&
	    strcmp(o->user_id, st->a->user_id) != 0 && rec_account_is_active(o))
		st->clash = 1;
	return 0;
}

static int
new_person(struct apply *ap, struct txn *t, struct account *a, uint32_t flags)
{
	struct person p = { 0 };

	p.primary_platform = -1;
	p.created_at = ap->now;
	p.flags = flags;
	/* derived from its one account right away: one write, no re-read */
	rec_person_derive(&p, a, 1, ap->cfg);
	if (store_person_put(t, &p) < 0)
		return -1;
	a->person_id = p.id;
	a->link_how = LINK_NEW;
	ap->fresh_pid = p.id;
	ap->sum->people_new++;
	if (store_history_add(t, p.id, ap->now, "created", "first seen as %s:%s%s%s",
	    pname(a), a->user_id, a->email ? " " : "", a->email ? a->email : "") < 0) {
		person_free(&p);
		return -1;
	}
	person_free(&p);
	return 0;
}

/* Chooses the person of a human account a (whose stored person, if any, is a->person_id). */
static int
relink(struct apply *ap, struct txn *t, struct account *a)
{
	uint64_t *found = xcalloc((size_t)(a->nemails ? a->nemails : 1), sizeof(uint64_t));
	uint64_t old = a->person_id, pid;
	enum link_how how;
	int ambiguous, i, rc = -1;

	for (i = 0; i < a->nemails; i++) {
		int r = store_email_get(t, a->emails[i], &found[i]);
		if (r < 0)
			goto out;
		if (r == STORE_NOTFOUND)
			found[i] = 0;
	}
	pid = rec_match(a, found, &how, &ambiguous);
	a->flags &= ~ACCT_CONFLICT;
	if (ambiguous) {
		a->flags |= ACCT_CONFLICT;
		if (old == 0 && new_person(ap, t, a, PERSON_CONFLICT) < 0)
			goto out;
		rc = store_history_add(t, a->person_id, ap->now, "conflict",
		    "%s:%s: its addresses belong to different people; kept apart for an admin",
		    pname(a), a->user_id);
		goto out;
	}
	if (pid != 0 && pid != old) {
		struct same_team st = { a, 0 };
		if (store_person_accounts(t, pid, same_team_cb, &st) < 0)
			goto out;
		if (st.clash && rec_account_is_active(a)) {
			/* two active humans on one team claim one address: never merge silently */
			a->flags |= ACCT_CONFLICT;
			if (old == 0 && new_person(ap, t, a, PERSON_CONFLICT) < 0)
				goto out;
			rc = store_history_add(t, a->person_id, ap->now, "conflict",
			    "%s:%s claims %s, which another active account of team %s has; kept "
			    "apart for an admin", pname(a), a->user_id, a->email ? a->email : "",
			    a->team_id);
			goto out;
		}
		a->person_id = pid;
		a->link_how = (uint8_t)how;
		if (store_history_add(t, pid, ap->now, old ? "moved" : "linked",
		    "%s:%s %s by %s%s%s", pname(a), a->user_id, old ? "moved here" : "linked",
		    link_how_name(how), a->email ? " " : "", a->email ? a->email : "") < 0)
			goto out;
		if (old && store_history_add(t, old, ap->now, "moved",
		    "%s:%s moved to another person after its address changed to %s", pname(a),
		    a->user_id, a->email ? a->email : "(none)") < 0)
			goto out;
		rc = 0;
		goto out;
	}
	if (pid == 0 && old == 0) {
		rc = new_person(ap, t, a, 0);
		goto out;
	}
	rc = 0;			/* stays with its person */
out:
	free(found);
	return rc;
}

struct has_addr {
	const char	*email;
	int		 found;
};

static int
has_addr_cb(const struct account *o, void *arg)
{
	struct has_addr *h = arg;

	for (int i = 0; i < o->nemails; i++)
		if (strcmp(o->emails[i], h->email) == 0)
			h->found = 1;
	return 0;
}

int
run_reindex(struct txn *t, const struct account *a, const struct account *old)
{
	uint64_t idx;
	int i, r;

	if (old && old->person_id) {
		for (i = 0; i < old->nemails; i++) {
			struct has_addr h = { old->emails[i], 0 };
			r = store_email_get(t, old->emails[i], &idx);
			if (r < 0)
				return -1;
			if (r == STORE_NOTFOUND || idx != old->person_id)
				continue;
			if (store_person_accounts(t, old->person_id, has_addr_cb, &h) < 0)
				return -1;
			if (!h.found && store_email_del(t, old->emails[i]) < 0)
				return -1;
		}
	}
	if (a->person_id == 0 || (a->flags & ACCT_CONFLICT))
		return 0;
	for (i = 0; i < a->nemails; i++) {
		r = store_email_get(t, a->emails[i], &idx);
		if (r < 0)
			return -1;
		if (r == STORE_NOTFOUND && store_email_put(t, a->emails[i], a->person_id) < 0)
			return -1;
	}
	return 0;
}

/* The addresses of a new account whose new person relink just made: none of them was
 * indexed (relink looked each up), so they are written without a second look. */
static int
index_new(struct txn *t, const struct account *a)
{
	for (int i = 0; i < a->nemails; i++)
		if (store_email_put(t, a->emails[i], a->person_id) < 0)
			return -1;
	return 0;
}

static int
apply_cb(struct txn *t, const struct account *staged, const struct account *stored, void *arg)
{
	struct apply *ap = arg;
	struct account m;
	uint64_t old_person;
	int human, rc = -1;

	if (staged == NULL) {
		/* in the stored roster, not in this complete pull: gone from the platform */
		if (stored->flags & ACCT_MISSING)
			return 0;
		if (!ap->write) {
			if (rec_account_is_active(stored)) {
				ap->would_deactivate++;
				ap->missing++;
			}
			return 0;
		}
		account_copy(&m, stored);
		m.flags |= ACCT_MISSING;
		if (store_account_put(t, &m, m.person_id) < 0 || refresh_person(ap, t, m.person_id) < 0)
			goto out;
		if (rec_account_is_active(stored))
			ap->sum->n_deactivated++;
		if (m.person_id && store_history_add(t, m.person_id, ap->now, "account",
		    "%s:%s no longer in the %s roster", pname(&m), m.user_id, pname(&m)) < 0)
			goto out;
		rc = 0;
		goto out;
	}
	if ((staged->flags & ACCT_REMOVED) && stored == NULL)
		return 0;		/* removed before we ever saw it */
	if (!ap->write) {
		if (stored && rec_account_is_active(stored)) {
			struct account mm;
			ap->active_before++;
			/* deactivated by what this pull says (deleted, disabled, @removed) */
			rec_account_merge(&mm, staged, stored);
			if (!rec_account_is_active(&mm))
				ap->would_deactivate++;
			account_free(&mm);
		}
		if (stored == NULL)
			ap->sum->n_new++;
		else if (rec_account_changed(stored, staged))
			ap->sum->n_changed++;
		else
			ap->sum->n_unchanged++;
		return 0;
	}
	rec_account_merge(&m, staged, stored);
	human = rec_account_is_human(&m);
	if (stored && !rec_account_changed(stored, &m) && (!human || stored->person_id != 0)) {
		ap->sum->n_unchanged++;
		account_free(&m);
		return 0;		/* nothing new: no new record version */
	}
	old_person = stored ? stored->person_id : 0;
	if (human) {
		if (stored == NULL || m.person_id == 0 ||
		    (rec_emails_changed(stored, &m) && !(m.flags & ACCT_ADMIN_LINK))) {
			if (relink(ap, t, &m) < 0)
				goto out;
		}
	} else {
		m.person_id = 0;
		m.link_how = LINK_NONE;
	}
	if (store_account_put(t, &m, old_person) < 0 || (stored == NULL &&
	    m.link_how == LINK_NEW && m.person_id == ap->fresh_pid && !(m.flags & ACCT_CONFLICT) ?
	    index_new(t, &m) : run_reindex(t, &m, stored)) < 0)
		goto out;
	if (stored == NULL)
		ap->sum->n_new++;
	else {
		ap->sum->n_changed++;
		if (!rec_account_is_active(stored) && rec_account_is_active(&m))
			ap->sum->n_reactivated++;
		else if (rec_account_is_active(stored) && !rec_account_is_active(&m))
			ap->sum->n_deactivated++;
	}
	if (old_person && old_person != m.person_id && refresh_person(ap, t, old_person) < 0)
		goto out;
	if (m.person_id != ap->fresh_pid && refresh_person(ap, t, m.person_id) < 0)
		goto out;
	ap->fresh_pid = 0;
	rc = 0;
out:
	if (rc < 0 && ap->err[0] == '\0')
		snprintf(ap->err, sizeof(ap->err), "%s: applying %s:%s: %s", platform_name(ap->p),
		    platform_name(ap->p), (staged ? staged : stored)->user_id, "store error");
	account_free(&m);
	return rc;
}

static int
count_active_cb(const struct account *a, void *arg)
{
	if (rec_account_is_active(a))
		(*(long *)arg)++;
	return 0;
}

/* Active accounts of platform p as stored. */
static int
count_active(struct store *st, enum platform p, long *n)
{
	struct txn *t = store_begin(st, 0);
	int rc;

	*n = 0;
	if (t == NULL)
		return -1;
	rc = store_account_each(t, (int)p, count_active_cb, n);
	store_abort(t);
	return rc;
}

static int
any_cb(const struct account *a, void *arg)
{
	(void)a;
	*(int *)arg = 1;
	return 1;		/* one is enough */
}

/* 1 if platform p has a stored account, 0 if none, -1 on a store error. */
static int
has_accounts(struct store *st, enum platform p)
{
	struct txn *t = store_begin(st, 0);
	int any = 0, rc;

	if (t == NULL)
		return -1;
	rc = store_account_each(t, (int)p, any_cb, &any);
	store_abort(t);
	return rc < 0 ? -1 : any;
}

static int	pull_state(struct store *st, struct pull_job *job, enum platform p);

int
apply_platform(const struct config *cfg, struct store *st, const struct run_opts *o,
    struct pull_job *job)
{
	struct apply ap = { 0 };
	struct platform_summary *sum = job->sum;
	enum platform p = job->drv->platform;
	double share = cfg->reconcile.max_deactivate_share;
	long total;
	int rc = 0;

	ap.cfg = cfg;
	ap.sum = sum;
	ap.p = p;
	ap.now = ps_now();
	/*
	 * Counting pass: what would this pull change? Guards act on it before any write. With
	 * nothing stored for the platform (its first pull) nobody can be deactivated and a
	 * real run counts again as it writes: only a dry run needs the pass then.
	 */
	if ((o->dry_run || (rc = has_accounts(st, p)) != 0) &&
	    (rc < 0 || store_stage_merge(st, p, job->res.full, 0, 0, apply_cb, &ap) < 0)) {
		snprintf(sum->err, sizeof(sum->err), "%s: %s", platform_name(p), store_error(st));
		return -1;
	}
	/*
	 * The base of the share: the platform's active accounts before this pull. A full pull
	 * saw them all (staged and still active, plus those it would drop); a delta saw only
	 * what changed, so they are counted — only when the delta deactivates anyone.
	 */
	total = job->res.full ? ap.active_before + ap.missing : 0;
	if (!job->res.full && ap.would_deactivate > 0 &&
	    count_active(st, p, &total) < 0) {
		snprintf(sum->err, sizeof(sum->err), "%s: %s", platform_name(p), store_error(st));
		return -1;
	}
	if (!o->accept_deactivations && ap.would_deactivate > 0 &&
	    total >= cfg->reconcile.min_roster_for_guard &&
	    (double)ap.would_deactivate > share * (double)total) {
		snprintf(sum->err, sizeof(sum->err), "%s: the pull would deactivate %ld of %ld "
		    "active accounts (%.0f%%), above reconcile.max_deactivate_share (%.0f%%); "
		    "nothing was changed. If the roster really shrank, rerun with "
		    "--accept-deactivations", platform_name(p), ap.would_deactivate, total,
		    100.0 * (double)ap.would_deactivate / (double)total, 100.0 * share);
		sum->guard_tripped = 1;
		return -1;
	}
	if (o->dry_run) {
		sum->n_deactivated = ap.would_deactivate;
		return 0;
	}
	sum->n_new = sum->n_changed = sum->n_unchanged = 0;
	ap.write = 1;
	/* the people and email indexes are written sorted, after the merge (store.h) */
	store_pidx_defer(st);
	store_email_defer(st);
	rc = store_stage_merge(st, p, job->res.full, APPLY_BATCH, 1, apply_cb, &ap);
	if (rc < 0)
		snprintf(sum->err, sizeof(sum->err), "%s", ap.err[0] ? ap.err : store_error(st));
	if ((store_email_settle(st) < 0 || store_pidx_settle(st) < 0) && rc == 0) {
		snprintf(sum->err, sizeof(sum->err), "%s: %s", platform_name(p), store_error(st));
		rc = -1;
	}
	if (rc < 0)
		return -1;
	return pull_state(st, job, p);
}

/* Pull state for the next run (delta link) and a clean staging area. 0, or -1 with the
 * summary's err set. */
static int
pull_state(struct store *st, struct pull_job *job, enum platform p)
{
	struct platform_summary *sum = job->sum;
	struct txn *t;

	if ((t = store_begin(st, 1)) == NULL)
		goto fail;
	{
		char *key = xasprintf("cursor.%s", platform_name(p));
		int r = job->res.cursor_out ? store_meta_put(t, key, job->res.cursor_out,
		    strlen(job->res.cursor_out)) : store_meta_del(t, key);
		free(key);
		if (r < 0 || store_stage_clear(t, p) < 0) {
			store_abort(t);
			goto fail;
		}
	}
	if (store_commit(t) < 0)
		goto fail;
	return 0;
fail:
	snprintf(sum->err, sizeof(sum->err), "%s: %s", platform_name(p), store_error(st));
	return -1;
}

/* ---- a first pull, merged as it arrives ---- */

int
apply_stream_begin(const struct config *cfg, struct store *st, const struct run_opts *o,
    struct pull_job *lead, struct platform_summary *sum)
{
	struct apply *ap;
	int r;

	if (o->dry_run || lead->cursor_in != NULL)
		return 0;
	if ((r = has_accounts(st, lead->drv->platform)) != 0)
		return r < 0 ? -1 : 0;
	ap = xcalloc(1, sizeof(*ap));
	ap->cfg = cfg;
	ap->sum = sum;
	ap->p = lead->drv->platform;
	ap->write = 1;
	ap->now = ps_now();
	lead->stream = ap;
	/* the people and email indexes are written sorted, after the merge (store.h) */
	store_pidx_defer(st);
	store_email_defer(st);
	return 0;
}

int
apply_stream_batch(struct pull_job *lead, struct stage_batch *b, struct store *st,
    char *err, size_t errlen)
{
	struct apply *ap = lead->stream;

	if (store_stage_batch_merge(b, APPLY_BATCH, apply_cb, ap) == 0)
		return 0;
	snprintf(err, errlen, "%s", ap->err[0] ? ap->err : store_error(st));
	return -1;
}

int
apply_stream_end(struct store *st, struct pull_job *lead, int ok)
{
	struct platform_summary *sum = lead->stream ? lead->stream->sum : NULL;
	enum platform p = lead->drv->platform;
	int rc = 0;

	free(lead->stream);
	lead->stream = NULL;
	if (sum == NULL)
		return -1;
	if (store_email_settle(st) < 0 || store_pidx_settle(st) < 0) {
		snprintf(sum->err, sizeof(sum->err), "%s: %s", platform_name(p), store_error(st));
		rc = -1;
	}
	if (rc == 0 && ok) {
		lead->sum = sum;
		rc = pull_state(st, lead, p);
	}
	return rc;
}
