/*
 * tokens.h — the OAuth 2.0 token endpoint (RFC 6749 §3.2, §5), below the drivers: the grants
 * of Sync now (drivers/oauth.c) and a driver's own credentials (Teams' client credentials
 * and service user) post their forms, read the answers and name their errors here.
 *
 * Nothing here puts a token, code, secret or form into an error message: errors name the
 * platform, the step and the HTTP status or the platform's error code (made safe to show).
 */
#ifndef PS_TOKENS_H
#define PS_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http.h"
#include "util.h"

struct oauth_tokens {
	char	*access;
	char	*refresh;		/* NULL when the platform gave none */
	int64_t	 expires;		/* unix seconds; 0 = does not expire */
	int64_t	 refresh_expires;	/* unix seconds; 0 = unknown / does not expire */
	char	*scope;			/* the granted scopes the answer lists, or NULL */
};
/* Wipes and frees the strings; the struct is zeroed. NULL is fine. */
void	oauth_tokens_free(struct oauth_tokens *t);

struct oauth_identity {
	char	*team_id;		/* Slack team id, tenant id, Webex orgId */
	char	*user_id;
};
/* Frees the strings; the struct is zeroed (id is not NULL). */
void	oauth_identity_free(struct oauth_identity *id);

/* Appends name=value (value URL-encoded) to a form or query, after a '&' unless b is empty
 * or ends in '?' or '&'. */
void	token_param(struct buf *b, const char *name, const char *value);

/*
 * POSTs form (application/x-www-form-urlencoded) to the token endpoint url with h, then wipes
 * the form (it holds secrets). basic_id/basic_secret: NULL, or the client's credentials sent
 * as HTTP Basic instead of in the form. On 0, resp and j hold the answer, whatever its status
 * (the caller judges it); -1 with err from the HTTP core.
 */
int	token_post(struct http_client *h, const char *url, const char *basic_id,
	    const char *basic_secret, struct buf *form, const char *what, struct http_resp *resp,
	    struct json *j, char *err, size_t errlen);

/* The "error" of a token answer made safe to show ([A-Za-z0-9_.-], at most 64 characters)
 * into code; "" when there is none. */
void	token_error_code(const struct json *j, char *code, size_t codelen);

/* A refused token answer as err "name: what: code<detail> (HTTP n)", or "name: what: HTTP n"
 * when it has no error code; code as token_error_code. detail may be NULL. */
void	token_error(const char *name, const char *what, const struct http_resp *resp,
	    const struct json *j, const char *detail, char *code, size_t codelen, char *err,
	    size_t errlen);

/* Fills tok from the answer's object obj: access_token (required: else -1 and tok zeroed),
 * refresh_token (NULL when absent or ""), expires_in and refresh_token_expires_in as unix
 * times from now (0 when absent), scope (NULL when absent). */
int	token_take(const struct json *j, int obj, int64_t now, struct oauth_tokens *tok);

#endif
