/*
 * admin.c — an admin settles identity by hand: the account moves of `link` and `unlink`,
 * and the contested matches `conflicts` lists. Links made here carry ACCT_ADMIN_LINK, which
 * every later run keeps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "lookup.h"
#include "reconcile.h"
#include "run.h"

/* Moves account a to person to (0: a new person of its own) as an admin decision. */
static int
admin_move(const struct config *cfg, struct txn *t, struct account *a, uint64_t to,
    const char *why)
{
	struct account old;
	time_t now = ps_now();
	uint64_t from = a->person_id;

	account_copy(&old, a);
	if (to == 0) {
		struct person p = { 0 };
		p.primary_platform = -1;
		p.created_at = now;
		p.active = rec_account_is_active(a);
		if (store_person_put(t, &p) < 0) {
			account_free(&old);
			return -1;
		}
		to = p.id;
		person_free(&p);
		if (store_history_add(t, to, now, "created", "split off by an admin (%s)", why) < 0)
			goto fail;
	}
	a->person_id = to;
	a->link_how = LINK_ADMIN;
	a->flags |= ACCT_ADMIN_LINK;
	a->flags &= ~ACCT_CONFLICT;
	if (store_account_put(t, a, from) < 0 || run_reindex(t, a, &old) < 0)
		goto fail;
	if (store_history_add(t, to, now, "linked", "%s:%s linked by an admin (%s)",
	    platform_name(a->platform), a->user_id, why) < 0)
		goto fail;
	if (from && from != to && store_history_add(t, from, now, "moved",
	    "%s:%s moved to another person by an admin (%s)", platform_name(a->platform),
	    a->user_id, why) < 0)
		goto fail;
	if ((from && from != to && run_refresh_person(cfg, t, from, now) < 0) ||
	    run_refresh_person(cfg, t, to, now) < 0)
		goto fail;
	account_free(&old);
	return 0;
fail:
	account_free(&old);
	return -1;
}

/* The person (0 with unlink) and the human account an admin names, in write txn t. */
static enum fail
admin_find(const struct config *cfg, struct store *st, struct txn *t, const char *cmd,
    const char *person, const char *spec, uint64_t *pid, struct account *a,
    struct failure *f)
{
	int rc = person ? rec_find_person(cfg, t, person, pid) : 0;

	if (rc == STORE_NOTFOUND)
		return fail_set(f, FAIL_DATA, "%s: no person '%s'", cmd, person);
	if (rc == 0)
		rc = rec_find_account(t, spec, a);
	if (rc == STORE_NOTFOUND)
		return fail_set(f, FAIL_DATA, "%s: no account '%s' (PLATFORM:USER_ID, as `show` "
		    "prints it)", cmd, spec);
	if (rc < 0)
		return fail_set(f, FAIL_IO, "%s", store_error(st));
	if (!rec_account_is_human(a))
		return fail_set(f, FAIL_DATA, "%s: %s is a bot or app account, not a person's",
		    cmd, spec);
	return FAIL_NONE;
}

/* link (person set) and unlink (person NULL). */
static enum fail
relink(const struct config *cfg, struct store *st, const char *person, const char *spec,
    struct failure *f)
{
	const char *cmd = person ? "link" : "unlink";
	struct account a = { 0 };
	struct txn *t = NULL;
	uint64_t pid = 0;
	int lock;

	fail_set(f, FAIL_NONE, "%s", "");
	if ((lock = run_lock(cfg->database, f)) < 0)
		return f->cls;
	if ((t = store_begin(st, 1)) == NULL) {
		fail_set(f, FAIL_IO, "%s", store_error(st));
		goto out;
	}
	if (admin_find(cfg, st, t, cmd, person, spec, &pid, &a, f) != FAIL_NONE)
		goto out;
	if (admin_move(cfg, t, &a, pid, person ? person : "unlink") < 0) {
		fail_set(f, FAIL_IO, "%s", store_error(st));
		goto out;
	}
	if (store_commit(t) < 0)	/* the txn is gone either way */
		fail_set(f, FAIL_IO, "%s", store_error(st));
	t = NULL;
out:
	store_abort(t);
	account_free(&a);
	run_unlock(lock);
	return f->cls;
}

enum fail
rec_link(const struct config *cfg, struct store *st, const char *person, const char *spec,
    struct failure *f)
{
	return relink(cfg, st, person, spec, f);
}

enum fail
rec_unlink(const struct config *cfg, struct store *st, const char *spec, struct failure *f)
{
	return relink(cfg, st, NULL, spec, f);
}

/* ---- conflicts ---- */

struct conflicts {
	struct txn	*t;
	FILE		*out;
	long		 n;
};

static int
conflict_cb(const struct account *a, void *arg)
{
	struct conflicts *cf = arg;
	struct buf others = { 0 };
	uint64_t pid;
	int i;

	if (!(a->flags & ACCT_CONFLICT))
		return 0;
	cf->n++;
	for (i = 0; i < a->nemails; i++) {
		struct person p;
		if (store_email_get(cf->t, a->emails[i], &pid) != 0 || pid == a->person_id)
			continue;
		if (store_person_get(cf->t, pid, &p) == 0) {
			buf_printf(&others, "%s%s <%s>", others.len ? ", " : "",
			    p.name ? p.name : "(no name)", p.email ? p.email : a->emails[i]);
			person_free(&p);
		}
	}
	fprintf(cf->out, "%s:%s (team %s, %s, %s) claims %s", platform_name(a->platform), a->user_id,
	    a->team_id, a->name ? a->name : "no name",
	    rec_account_is_active(a) ? "active" : "inactive", a->email ? a->email : "no address");
	if (others.len)
		fprintf(cf->out, ", which belongs to %s", others.p);
	fprintf(cf->out, "\n  settle it: peoplesync link %s %s:%s   (same human)\n"
	    "         or: peoplesync unlink %s:%s   (a different human)\n",
	    a->email ? a->email : "PERSON", platform_name(a->platform), a->user_id,
	    platform_name(a->platform), a->user_id);
	buf_free(&others);
	return 0;
}

enum fail
rec_conflicts(struct store *st, FILE *out, long *n, struct failure *f)
{
	struct conflicts cf = { NULL, out, 0 };

	fail_set(f, FAIL_NONE, "%s", "");
	if ((cf.t = store_begin(st, 0)) == NULL ||
	    store_account_each(cf.t, -1, conflict_cb, &cf) < 0)
		fail_set(f, FAIL_IO, "%s", store_error(st));
	store_abort(cf.t);
	*n = cf.n;
	return f->cls;
}
