/*
 * oauth.h — OAuth 2.0 for "Sync now": the grant mechanics (state, PKCE, authorize URL, code
 * exchange, who the user is, refresh) on any platform. What differs between platforms is
 * each driver's struct driver_oauth (driver.h: Slack's user_scope and authed_user, Teams'
 * PKCE and /me, Webex's /people/me). The tokens it yields are stored by
 * include/usertoken_store.h.
 *
 * Nothing here logs or puts a token, code, verifier or client secret into an error message:
 * errors name the platform, the step and the HTTP status or the platform's error code.
 */
#ifndef PS_OAUTH_H
#define PS_OAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "tokens.h"
#include "util.h"

#define OAUTH_STATE_LEN		43	/* 32 random bytes, base64url */
#define OAUTH_VERIFIER_LEN	43	/* PKCE code_verifier: 32 random bytes, base64url */
#define OAUTH_CHALLENGE_LEN	43	/* base64url(SHA-256(verifier)) */

/* Display name of a platform in pages: "Slack", "Microsoft Teams", "Webex". */
const char *oauth_platform_title(enum platform p);
/* 1 when platform p's grant uses PKCE (oauth_authorize_url wants a challenge, oauth_exchange
 * the verifier). */
int	oauth_uses_pkce(enum platform p);

/*
 * Each instance of a platform (a slack.workspaces entry, include/workspace.h) may have its
 * own OAuth client: the *_inst functions take the instance pc whose client (authorize and
 * token URLs, client id and secret, scopes) the grant uses; pc NULL is the platform's own
 * block, &cfg->plat[p], which the functions without _inst use. A code goes back to the
 * client that asked for it: the caller keeps which instance started a sign-in.
 */
/* 1 when platform p is enabled and pc has what OAuth needs: client id and secret, authorize
 * and token URLs. */
int	oauth_configured(const struct config *cfg, enum platform p);
int	oauth_inst_configured(const struct config *cfg, enum platform p,
	    const struct cfg_platform *pc);
/* 1 when some instance of platform p is oauth_inst_configured. */
int	oauth_any_configured(const struct config *cfg, enum platform p);

/* Random URL-safe string of n characters (state, session ids, CSRF tokens); out holds n+1. */
void	oauth_random_string(char *out, size_t n);
/* PKCE S256: challenge = base64url(SHA-256(verifier)), out holds OAUTH_CHALLENGE_LEN + 1. */
void	oauth_pkce_challenge(const char *verifier, char *out);

/* Appends the authorize URL of platform p to out. challenge is the PKCE S256 challenge (used
 * by Teams; NULL elsewhere). */
void	oauth_authorize_url(const struct config *cfg, enum platform p, const char *redirect_uri,
	    const char *state, const char *challenge, struct buf *out);
void	oauth_inst_authorize_url(const struct config *cfg, enum platform p,
	    const struct cfg_platform *pc, const char *redirect_uri, const char *state,
	    const char *challenge, struct buf *out);

/*
 * Exchanges an authorization code (verifier: the PKCE verifier for Teams, else NULL) and
 * asks the platform who signed in. On 0, tok and id are filled (caller frees). On -1, err
 * says what failed ("slack: POST oauth.v2.access: invalid_code") and nothing is filled.
 */
int	oauth_exchange(const struct config *cfg, enum platform p, const char *code,
	    const char *redirect_uri, const char *verifier, struct oauth_tokens *tok,
	    struct oauth_identity *id, char *err, size_t errlen);
int	oauth_inst_exchange(const struct config *cfg, enum platform p,
	    const struct cfg_platform *pc, const char *code, const char *redirect_uri,
	    const char *verifier, struct oauth_tokens *tok, struct oauth_identity *id, char *err,
	    size_t errlen);

/*
 * The refresh_token grant. Returns 0 with new tokens in tok (a refresh token the platform
 * did not rotate is kept: tok->refresh is a copy of refresh_token then); -1 on a failure
 * worth retrying later (network, 5xx, rate limit); -2 when the grant is dead
 * (invalid_grant, revoked, expired: the person must go through Sync now again).
 */
int	oauth_refresh(const struct config *cfg, enum platform p, const char *refresh_token,
	    struct oauth_tokens *tok, char *err, size_t errlen);
int	oauth_inst_refresh(const struct config *cfg, enum platform p,
	    const struct cfg_platform *pc, const char *refresh_token, struct oauth_tokens *tok,
	    char *err, size_t errlen);

#endif
