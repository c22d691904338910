/* lookup.h — the person or account an admin names: an email address or PLATFORM:USER_ID. */
#ifndef PS_LOOKUP_H
#define PS_LOOKUP_H

#include <stdint.h>

#include "config.h"
#include "store.h"

/* The account named PLATFORM:USER_ID (deep copy into out, free with account_free):
 * 0, STORE_NOTFOUND or -1 (store error). */
int	rec_find_account(struct txn *t, const char *spec, struct account *out);

/* The person named by an email address (normalised with cfg's alias domains) or by one of
 * their accounts as PLATFORM:USER_ID: 0 and *id, STORE_NOTFOUND, or -1 (store error). */
int	rec_find_person(const struct config *cfg, struct txn *t, const char *spec, uint64_t *id);

#endif
