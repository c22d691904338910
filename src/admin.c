/*
 * admin.c — an admin settles identity by hand: `link`, `unlink` and `conflicts`.
 * Links made here carry ACCT_ADMIN_LINK, which every later run keeps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "reconcile.h"
#include "run.h"
#include "util.h"

static const char link_usage[] =
"usage: peoplesync link PERSON PLATFORM:USER_ID\n"
"       peoplesync unlink PLATFORM:USER_ID\n"
"\n"
"link: the account PLATFORM:USER_ID belongs to PERSON (an email address or another of their\n"
"accounts as PLATFORM:USER_ID). unlink: the account is a person of its own. Either way the\n"
"decision is the admin's: every later run keeps it, whatever the addresses say.\n";

/* Moves account a to person to (0: a new person of its own) as an admin decision. */
static int
admin_move(struct cli *c, struct txn *t, struct account *a, uint64_t to, const char *why)
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
	if ((from && from != to && run_refresh_person(&c->cfg, t, from, now) < 0) ||
	    run_refresh_person(&c->cfg, t, to, now) < 0)
		goto fail;
	account_free(&old);
	return 0;
fail:
	account_free(&old);
	return -1;
}

/* admin_move and commit; the txn is gone either way (*tp = NULL). A sysexits code. */
static int
admin_commit(struct cli *c, struct txn **tp, struct account *a, uint64_t to, const char *why)
{
	int r = admin_move(c, *tp, a, to, why);

	if (r < 0)
		store_abort(*tp);
	else
		r = store_commit(*tp);
	*tp = NULL;
	if (r < 0) {
		log_err("%s", store_error(c->st));
		return EX_IOERR;
	}
	return 0;
}

static int
admin_txn(struct cli *c, struct txn **t)
{
	int rc;

	if ((rc = cli_open_store(c, 0)) != 0)
		return rc;
	if ((*t = store_begin(c->st, 1)) == NULL) {
		log_err("%s", store_error(c->st));
		return EX_IOERR;
	}
	return 0;
}

/* link PERSON PLATFORM:USER_ID (to a person) and unlink PLATFORM:USER_ID (its own person). */
static int
admin_relink(struct cli *c, int argc, char **argv, int unlink)
{
	const char *cmd = unlink ? "unlink" : "link", *spec;
	struct account a = { 0 };
	struct txn *t = NULL;
	uint64_t pid = 0;
	int rc, lock;

	if (wants_help(argc, argv)) {
		fputs(link_usage, stdout);
		return 0;
	}
	if (argc != (unlink ? 2 : 3)) {
		fputs(link_usage, stderr);
		return EX_USAGE;
	}
	spec = argv[unlink ? 1 : 2];
	if ((rc = cli_load_config(c)) != 0 || (rc = cli_open_store(c, 0)) != 0)
		return rc;
	if ((lock = run_lock(c->cfg.database)) < 0)
		return lock == -2 ? EX_TEMPFAIL : EX_IOERR;
	if ((rc = admin_txn(c, &t)) != 0)
		goto out;
	rc = unlink ? 0 : rec_find_person(&c->cfg, t, argv[1], &pid);
	if (rc == STORE_NOTFOUND) {
		log_err("%s: no person '%s'", cmd, argv[1]);
		rc = EX_DATAERR;
		goto out;
	}
	if (rc == 0)
		rc = rec_find_account(t, spec, &a);
	if (rc == STORE_NOTFOUND) {
		log_err("%s: no account '%s' (PLATFORM:USER_ID, as `show` prints it)", cmd, spec);
		rc = EX_DATAERR;
		goto out;
	}
	if (rc < 0) {
		log_err("%s", store_error(c->st));
		rc = EX_IOERR;
		goto out;
	}
	if (!rec_account_is_human(&a)) {
		log_err("%s: %s is a bot or app account, not a person's", cmd, spec);
		rc = EX_DATAERR;
		goto out;
	}
	if ((rc = admin_commit(c, &t, &a, pid, unlink ? "unlink" : argv[1])) == 0) {
		if (unlink)
			printf("%s is now a person of its own; later runs keep it apart\n", spec);
		else
			printf("%s now belongs to %s; later runs keep this link\n", spec, argv[1]);
	}
out:
	store_abort(t);
	account_free(&a);
	run_unlock(lock);
	return rc;
}

int
cmd_link(struct cli *c, int argc, char **argv)
{
	return admin_relink(c, argc, argv, 0);
}

int
cmd_unlink(struct cli *c, int argc, char **argv)
{
	return admin_relink(c, argc, argv, 1);
}

/* ---- conflicts ---- */

struct conflicts {
	struct txn	*t;
	long		 n;
};

struct claimant {
	const struct account	*a;
	struct buf		*out;
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
	printf("%s:%s (team %s, %s, %s) claims %s", platform_name(a->platform), a->user_id,
	    a->team_id, a->name ? a->name : "no name",
	    rec_account_is_active(a) ? "active" : "inactive", a->email ? a->email : "no address");
	if (others.len)
		printf(", which belongs to %s", others.p);
	printf("\n  settle it: peoplesync link %s %s:%s   (same human)\n"
	    "         or: peoplesync unlink %s:%s   (a different human)\n",
	    a->email ? a->email : "PERSON", platform_name(a->platform), a->user_id,
	    platform_name(a->platform), a->user_id);
	buf_free(&others);
	return 0;
}

static const char conflicts_usage[] =
"usage: peoplesync conflicts\n"
"\n"
"Lists accounts whose addresses are contested (two active people of one team claiming one\n"
"address, or addresses that point at different people). Such accounts are kept apart as\n"
"people of their own, never merged silently; settle each with `link` or `unlink`.\n";

int
cmd_conflicts(struct cli *c, int argc, char **argv)
{
	struct conflicts cf = { 0 };
	int rc;

	if (wants_help(argc, argv)) {
		fputs(conflicts_usage, stdout);
		return 0;
	}
	if (argc != 1) {
		fputs(conflicts_usage, stderr);
		return EX_USAGE;
	}
	if ((rc = cli_open_store(c, 1)) != 0)
		return rc;
	if ((cf.t = store_begin(c->st, 0)) == NULL ||
	    store_account_each(cf.t, -1, conflict_cb, &cf) < 0) {
		log_err("%s", store_error(c->st));
		store_abort(cf.t);
		return EX_IOERR;
	}
	store_abort(cf.t);
	printf("%ld conflict%s waiting for an admin\n", cf.n, cf.n == 1 ? "" : "s");
	return 0;
}
