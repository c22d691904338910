/* synclink.c — a fresh Sync now link for one person (include/synclink.h). */
#include <string.h>

#include "linktoken.h"
#include "lookup.h"
#include "synclink.h"

enum fail
rec_sync_link(const struct config *cfg, struct store *st, const char *who, time_t expires,
    struct buf *url, struct failure *f)
{
	struct person p;
	struct txn *t;
	uint64_t id = 0;
	enum fail rc;
	int r;

	memset(&p, 0, sizeof(p));
	if ((t = store_begin(st, 0)) == NULL)
		return fail_set(f, FAIL_IO, "%s", store_error(st));
	r = rec_find_person(cfg, t, who, &id);
	if (r == 0)
		r = store_person_get(t, id, &p);
	store_abort(t);
	if (r < 0)
		rc = fail_set(f, FAIL_IO, "%s", store_error(st));
	else if (r == STORE_NOTFOUND)
		rc = fail_set(f, FAIL_DATA, "sync-link: no person '%s' in %s", who, cfg->database);
	else if (!p.active)
		rc = fail_set(f, FAIL_DATA, "sync-link: %s has no active account; a link would "
		    "lead nowhere", who);
	else
		rc = FAIL_NONE;
	person_free(&p);
	if (rc == FAIL_NONE)
		(void)linktoken_url(cfg, id, expires, url);	/* fails only without link_key */
	return rc;
}
