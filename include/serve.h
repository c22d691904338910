/*
 * serve.h — the web endpoint behind "Sync now" links (`peoplesync serve`, src/serve.c) and
 * the upkeep of the user tokens it collects. The flow is described in docs/sync-now.md.
 */
#ifndef PS_SERVE_H
#define PS_SERVE_H

#include "config.h"
#include "store.h"

/* Refresh stored user tokens expiring within this many seconds. */
#define SERVE_REFRESH_AHEAD	3600

/*
 * Refreshes every stored user token (store_kv space "utoken") that expires within
 * SERVE_REFRESH_AHEAD seconds of ps_now() and has a refresh token, through each platform's
 * refresh_token grant, and stores the new tokens (encrypted). When a platform says the grant
 * is dead (invalid_grant and its kin), the record is marked dead, its person gets
 * PERSON_REAUTH and a "reauth" history entry. Failures worth retrying (network, 5xx) leave
 * the record as it was and are logged as one warning each (no secrets).
 * No transaction is held across a network call. Returns the number of tokens refreshed, or
 * -1 on a store error or when cfg has no token_key (message logged).
 */
int	serve_refresh_tokens(const struct config *cfg, struct store *st);

#endif
