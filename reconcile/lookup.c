/*
 * lookup.c — finds the person or account an admin names on a command line or a page:
 * an email address (normalised as matching does) or PLATFORM:USER_ID.
 */
#include <stdlib.h>
#include <string.h>

#include "lookup.h"
#include "reconcile.h"

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
