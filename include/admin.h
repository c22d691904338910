/*
 * admin.h — an admin settles identity by hand (reconcile/admin.c): `link`, `unlink` and
 * `conflicts`. Links made here carry ACCT_ADMIN_LINK, which every later run keeps.
 */
#ifndef PS_ADMIN_H
#define PS_ADMIN_H

#include <stdio.h>

#include "config.h"
#include "fail.h"
#include "store.h"

/*
 * `link PERSON PLATFORM:USER_ID`: the account spec belongs to person (an email address or
 * another of their accounts), and `unlink PLATFORM:USER_ID`: the account becomes a person of
 * its own. Under the run lock, in one write txn. Returns FAIL_NONE, FAIL_DATA ("link: no
 * person 'X'", "unlink: no account 'X' ...", "...: X is a bot or app account, not a
 * person's"), FAIL_AGAIN (run lock held) or FAIL_IO, with f->msg.
 */
enum fail rec_link(const struct config *cfg, struct store *st, const char *person,
	    const char *spec, struct failure *f);
enum fail rec_unlink(const struct config *cfg, struct store *st, const char *spec,
	    struct failure *f);

/* `conflicts`: every contested account on out with the two commands that settle it;
 * *n = how many. FAIL_NONE or FAIL_IO with f->msg. */
enum fail rec_conflicts(struct store *st, FILE *out, long *n, struct failure *f);

#endif
