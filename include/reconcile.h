/*
 * reconcile.h — pure logic over records: no I/O, no clock (callers pass now), no store.
 * Everything here is unit-tested with plain structs.
 */
#ifndef PS_RECONCILE_H
#define PS_RECONCILE_H

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "model.h"


/*
 * Normalises one address: trims white space, strips a "smtp:" prefix (any case), lower-cases,
 * checks the shape (one '@', non-empty local part and a dotted or plain domain, no spaces,
 * control characters or RFC 5322 specials but '.' and '@': no ( ) < > [ ] : ; \ , "), and
 * maps an alias domain of cfg->identity.aliases to its canonical domain (*aliased = 1 then).
 * Returns a new string, or NULL when raw is not an address.
 * Plus-tags are kept: "a+tag@x" and "a@x" are distinct addresses.
 */
char	*rec_email_normalize(const char *raw, const struct config *cfg, int *aliased);

/* Replaces a's raw addresses by their normalised forms (dropping non-addresses and
 * duplicates, recording LINK_ALIAS for aliased ones) and sets a->email to the first. */
void	rec_account_normalize(struct account *a, const struct config *cfg);

/* A human account: not a bot, an app user or Slackbot. Only humans become people. */
int	rec_account_is_human(const struct account *a);
/* Active: a human who can sign in and was seen in the last complete pull. */
int	rec_account_is_active(const struct account *a);

/* 1 when what the platform says of the account differs between a and b (addresses, names,
 * time zone, flags other than our own bookkeeping, updated). */
int	rec_account_changed(const struct account *a, const struct account *b);
/* 1 when the two accounts' address sets differ. */
int	rec_emails_changed(const struct account *a, const struct account *b);

/*
 * The stored account updated with a fresh observation: platform facts from fresh, our own
 * bookkeeping (person link, how, admin/conflict flags, version) from stored. out is a new
 * deep copy (free with account_free). stored may be NULL (a new account).
 */
void	rec_account_merge(struct account *out, const struct account *fresh,
	    const struct account *stored);

/*
 * Matching: the people already known under each of a's addresses (found[i] for
 * a->emails[i], 0 when unknown). Chooses the person the account belongs to:
 * returns that person id (0: a new person is needed) and sets *how to the address's
 * link_how. When the addresses point to several different people the choice is ambiguous:
 * returns 0 and sets *ambiguous (a conflict for an admin).
 */
uint64_t rec_match(const struct account *a, const uint64_t *found, enum link_how *how,
	    int *ambiguous);

/*
 * Derives a person from its accounts (all of them, any platform): active, name, canonical
 * email, guest flag, and — unless the person chose a primary (or got one automatically) that
 * is still an active account — the inferred primary platform and team:
 *   the first platform of cfg->identity.order on which the person has an active account;
 *   within it, the account with the most recent 'updated', ties by smallest team id.
 * sync_type follows the primary platform (Slack: user, Teams and Webex: bot).
 * Returns 1 when p changed.
 */
int	rec_person_derive(struct person *p, const struct account *accts, int n,
	    const struct config *cfg);

#endif
