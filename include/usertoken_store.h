/*
 * usertoken_store.h — the user tokens Sync now yields (include/oauth.h), stored encrypted.
 */
#ifndef PS_USERTOKEN_STORE_H
#define PS_USERTOKEN_STORE_H

#include <stdint.h>

#include "config.h"
#include "oauth.h"
#include "store.h"

/*
 * Stored user tokens: store_kv space "utoken", key "platform|team|user". The value is
 *	version (1) | person id (8) | expires (8) | flags (4) | IV (12) | ciphertext | tag (16)
 * where the ciphertext is AES-256-GCM under the first 32 bytes of cfg->token_key of the
 * access and refresh tokens and the refresh expiry, and the key and clear header are
 * authenticated as additional data (a record cannot be moved to another account).
 * utoken_put returns 0 or -1 (no token key, store error); utoken_get returns 0,
 * STORE_NOTFOUND or -1 (store error, or a record that does not decrypt under this key).
 */
#define UTOKEN_DEAD	0x1u	/* the refresh grant died: kept for audit, never refreshed */

struct utoken {
	enum platform		 platform;
	char			*team_id;
	char			*user_id;
	uint64_t		 person_id;
	uint32_t		 flags;
	struct oauth_tokens	 tok;
};
void	utoken_free(struct utoken *u);

int	utoken_put(const struct config *cfg, struct txn *t, const struct utoken *u);
int	utoken_get(const struct config *cfg, struct txn *t, enum platform p, const char *team,
	    const char *user, struct utoken *out);

/* Every stored user token, decrypted (records that do not decrypt are skipped with a
 * warning). cb returns non-zero to stop. 0 or -1. */
typedef int (*utoken_cb)(const struct utoken *u, void *arg);
int	utoken_each(const struct config *cfg, struct txn *t, utoken_cb cb, void *arg);

#endif
