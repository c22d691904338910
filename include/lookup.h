/* lookup.h — the person or account an admin names (an email address or PLATFORM:USER_ID),
 * and a person's accounts. */
#ifndef PS_LOOKUP_H
#define PS_LOOKUP_H

#include <stdint.h>

#include "config.h"
#include "fail.h"
#include "store.h"

/* The account named PLATFORM:USER_ID (deep copy into out, free with account_free):
 * 0, STORE_NOTFOUND or -1 (store error). */
int	rec_find_account(struct txn *t, const char *spec, struct account *out);

/* The person named by an email address (normalised with cfg's alias domains) or by one of
 * their accounts as PLATFORM:USER_ID: 0 and *id, STORE_NOTFOUND, or -1 (store error). */
int	rec_find_person(const struct config *cfg, struct txn *t, const char *spec, uint64_t *id);

/* Appends deep copies of person pid's accounts, in key order, to *a (*n entries; the array
 * grows with xrealloc): 0, or -1 on a store error. rec_accounts_free frees them and empties
 * the list. */
int	rec_person_accounts(struct txn *t, uint64_t pid, struct account **a, int *n);
void	rec_accounts_free(struct account **a, int *n);

/* For a command that reads one person: begins a read txn and finds the person spec names.
 * FAIL_NONE with *t (the caller aborts it) and *id; else *t = NULL and FAIL_DATA
 * ("CMD: no person 'SPEC'", plus " in WHERE" when where is not NULL) or FAIL_IO (the
 * store's message), in f. */
enum fail rec_person_txn(const struct config *cfg, struct store *st, const char *cmd,
	    const char *spec, const char *where, struct txn **t, uint64_t *id,
	    struct failure *f);

#endif
