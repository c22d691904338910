/*
 * cmd_admin.c — `link`, `unlink` and `conflicts`: an admin settles identity by hand
 * (reconcile/admin.c does the moves).
 */
#include <stdio.h>

#include "admin.h"
#include "cli.h"

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
