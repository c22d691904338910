/*
 * cmd_admin.c — `link`, `unlink`, `conflicts` and `audit`: an admin settles identity by hand
 * (reconcile/admin.c does the moves).
 */
#include <stdint.h>
#include <stdio.h>
#include <sysexits.h>

#include "admin.h"
#include "cli.h"
#include "store.h"

static const char link_usage[] =
"usage: peoplesync link PERSON PLATFORM:USER_ID\n"
"       peoplesync unlink PLATFORM:USER_ID\n"
"\n"
"link: the account PLATFORM:USER_ID belongs to PERSON (an email address or another of their\n"
"accounts as PLATFORM:USER_ID). unlink: the account is a person of its own. Either way the\n"
"decision is the admin's: every later run keeps it, whatever the addresses say.\n";

/* link PERSON PLATFORM:USER_ID (to a person) and unlink PLATFORM:USER_ID (its own person). */
static int
relink(struct cli *c, int argc, char **argv, int unlink)
{
	struct failure f;
	int rc;

	if (cli_start(c, argc, argv, unlink ? 2 : 3, link_usage, 0, &rc))
		return rc;
	if (unlink)
		rec_unlink(&c->cfg, c->st, argv[1], &f);
	else
		rec_link(&c->cfg, c->st, argv[1], argv[2], &f);
	if (f.cls != FAIL_NONE)
		return cli_fail(&f);
	if (unlink)
		printf("%s is now a person of its own; later runs keep it apart\n", argv[1]);
	else
		printf("%s now belongs to %s; later runs keep this link\n", argv[2], argv[1]);
	return 0;
}

int
cmd_link(struct cli *c, int argc, char **argv)
{
	return relink(c, argc, argv, 0);
}

int
cmd_unlink(struct cli *c, int argc, char **argv)
{
	return relink(c, argc, argv, 1);
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
	struct failure f;
	long n;
	int rc;

	if (cli_start(c, argc, argv, 1, conflicts_usage, 1, &rc))
		return rc;
	if (rec_conflicts(c->st, stdout, &n, &f) != FAIL_NONE)
		return cli_fail(&f);
	printf("%ld conflict%s waiting for an admin\n", n, n == 1 ? "" : "s");
	return 0;
}

static const char audit_usage[] =
"usage: peoplesync audit\n"
"\n"
"Prints the audit list: every action of an admin in the console at public_url/admin\n"
"(sign-ins, prompts, bulk prompts, auto-prompt, link, unlink, Sync now links), oldest\n"
"first, one per line: TIME ADMIN ACTION PERSON DETAILS (PERSON is - when the action is\n"
"about nobody in particular).\n";

static int
audit_line(const struct audit *a, void *arg)
{
	char iso[32];

	(void)arg;
	fmt_iso8601((time_t)a->ts, iso);
	if (a->person)
		printf("%s %s %s %llu %s\n", iso, a->admin, a->action,
		    (unsigned long long)a->person, a->text);
	else
		printf("%s %s %s - %s\n", iso, a->admin, a->action, a->text);
	return 0;
}

int
cmd_audit(struct cli *c, int argc, char **argv)
{
	struct txn *t;
	int rc;

	if (cli_start(c, argc, argv, 1, audit_usage, 1, &rc))
		return rc;
	if ((t = store_begin(c->st, 0)) == NULL)
		return cli_store_error(c);
	rc = store_audit_each(t, 0, SIZE_MAX, audit_line, NULL);
	store_abort(t);
	if (rc < 0)
		return cli_store_error(c);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : EX_CANTCREAT;
}
