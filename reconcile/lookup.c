/*
 * lookup.c — finds the person or account an admin names on a command line or a page:
 * an email address (normalised as matching does) or PLATFORM:USER_ID.
 */
#include <stdlib.h>
#include <string.h>

#include "lookup.h"
#include "reconcile.h"

struct accts {
	struct account	**a;
	int		 *n;
};

static int
accts_cb(const struct account *a, void *arg)
{
	struct accts *l = arg;

	*l->a = xrealloc(*l->a, (size_t)(*l->n + 1) * sizeof(**l->a));
	account_copy(&(*l->a)[(*l->n)++], a);
	return 0;
}

int
rec_person_accounts(struct txn *t, uint64_t pid, struct account **a, int *n)
{
	struct accts l = { a, n };

	return store_person_accounts(t, pid, accts_cb, &l) < 0 ? -1 : 0;
}

void
rec_accounts_free(struct account **a, int *n)
{
	for (int i = 0; i < *n; i++)
		account_free(&(*a)[i]);
	free(*a);
	*a = NULL;
	*n = 0;
}

struct find_acct {
	const char	*uid;
	struct account	*out;
	int		 found;
};

static int
find_acct_cb(const struct account *a, void *arg)
{
	struct find_acct *fa = arg;

	if (strcmp(a->user_id, fa->uid) != 0)
		return 0;
	if (fa->found++ == 0)
		account_copy(fa->out, a);
	return 0;
}

int
rec_find_account(struct txn *t, const char *spec, struct account *out)
{
	const char *colon = strchr(spec, ':');
	struct find_acct fa = { NULL, out, 0 };
	enum platform pl;
	char *pn;
	int r;

	if (colon == NULL)
		return STORE_NOTFOUND;
	pn = xstrndup(spec, (size_t)(colon - spec));
	r = platform_parse(pn, &pl);
	free(pn);
	if (r < 0)
		return STORE_NOTFOUND;
	fa.uid = colon + 1;
	if (store_account_each(t, (int)pl, find_acct_cb, &fa) < 0)
		return -1;
	return fa.found ? 0 : STORE_NOTFOUND;
}

int
rec_find_person(const struct config *cfg, struct txn *t, const char *spec, uint64_t *id)
{
	const char *colon = strchr(spec, ':');

	if (colon && !strchr(spec, '@')) {
		struct account a = { 0 };
		int r = rec_find_account(t, spec, &a);
		if (r == 0 && a.person_id == 0)
			r = STORE_NOTFOUND;	/* a bot's account: no person */
		*id = a.person_id;
		account_free(&a);
		return r;
	} else {
		int aliased;
		char *e = rec_email_normalize(spec, cfg, &aliased);
		int r;
		if (e == NULL)
			return STORE_NOTFOUND;
		r = store_email_get(t, e, id);
		free(e);
		return r;
	}
}

enum fail
rec_person_txn(const struct config *cfg, struct store *st, const char *cmd, const char *spec,
    const char *where, struct txn **t, uint64_t *id, struct failure *f)
{
	int r;

	fail_set(f, FAIL_NONE, "%s", "");
	if ((*t = store_begin(st, 0)) == NULL)
		return fail_set(f, FAIL_IO, "%s", store_error(st));
	r = rec_find_person(cfg, *t, spec, id);
	if (r == 0)
		return FAIL_NONE;
	if (r == STORE_NOTFOUND)
		fail_set(f, FAIL_DATA, "%s: no person '%s'%s%s", cmd, spec, where ? " in " : "",
		    where ? where : "");
	else
		fail_set(f, FAIL_IO, "%s", store_error(st));
	store_abort(*t);
	*t = NULL;
	return f->cls;
}
