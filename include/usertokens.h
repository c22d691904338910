/*
 * usertokens.h — upkeep of the user tokens that Sync now collects (the engine's part; the
 * OAuth grant itself is drivers/ work, the records are utoken_* of usertoken_store.h).
 */
#ifndef PS_USERTOKENS_H
#define PS_USERTOKENS_H

#include "config.h"
#include "store.h"

/* Refresh stored user tokens expiring within this many seconds. */
#define REC_TOKEN_REFRESH_AHEAD	3600

/*
 * Refreshes every stored user token (store_kv space "utoken") that expires within
 * REC_TOKEN_REFRESH_AHEAD seconds of ps_now() and has a refresh token, through each
 * platform's refresh_token grant, and stores the new tokens (encrypted). When a platform says
 * the grant is dead (invalid_grant and its kin), the record is marked dead, its person gets
 * PERSON_REAUTH and a "reauth" history entry. Failures worth retrying (network, 5xx) leave
 * the record as it was and are logged as one warning each (no secrets).
 * No transaction is held across a network call. Returns the number of tokens refreshed, or
 * -1 on a store error or when cfg has no token_key (message logged).
 */
int	rec_refresh_user_tokens(const struct config *cfg, struct store *st);

#endif
