/*
 * graph_p.h — private to the Teams driver (drivers/graph*.c, msid.c): its state; what
 * graph.c asks of graph_more.c (the tenant's name, a mailbox's zone), both expecting ctx->http
 * to carry a valid app token already; and the Microsoft identity platform's tokens
 * (drivers/msid.c).
 */
#ifndef PS_GRAPH_P_H
#define PS_GRAPH_P_H

#include "driver.h"

/* The tenant's name to the sink: GET /organization (displayName), the tenant id if none. */
void	graph_org_name(struct driver_ctx *ctx, struct pull_sink *sink);
/* A mailbox's time zone: 0 with *tz (IANA, caller frees; NULL: no mailbox or no zone we
 * can use), or -1 with err, *denied = 1 on a 403 (no MailboxSettings.Read). */
int	graph_mailbox_zone(struct driver_ctx *ctx, const struct account *a, char **tz,
	    int *denied, char *err, size_t errlen);

struct graph_priv {
	char	*token;		/* app-only (client credentials): the roster */
	double	 expires;	/* monotonic seconds */
	char	*utoken;	/* the service user's delegated token: direct messages */
	double	 uexpires;
	char	*refresh;	/* its current refresh token (rotated: saved back to the file) */
	char	*me;		/* the service user's object id */
	char	*uscope;	/* the scopes its last token answer listed, or NULL */
	enum fail ucls;		/* the class of its last token failure */
};

/* Wipes and frees *s; *s = NULL. */
void	ms_zfree(char **s);

/* The app-only (client credentials) token, kept until a minute before it expires and set as
 * the bearer. FAIL_NONE, or the class of the trouble with err set. */
enum fail graph_token(struct driver_ctx *ctx, int force, char *err, size_t errlen);

/* The service user's delegated token from its refresh token (gp->refresh; the rotated one
 * saved back to teams.service_user_refresh_token_file, mode 0600), set as the bearer.
 * enum dm_rc; on failure gp->ucls holds the class and err says why. */
int	graph_user_token(struct driver_ctx *ctx, int force, char *err, size_t errlen);

/* The application permissions the "roles" claim of an app-only token (a JWT) lists, joined
 * by ' ', or NULL when the token is no JWT or has no roles claim (caller frees). Only read
 * to tell the admin what was granted: the signature is Graph's business, not ours. */
char	*ms_token_roles(const char *jwt);

/* The device grant of `login teams`: {login_url}/{tenant}/oauth2/v2.0/devicecode, token. */
extern const struct driver_device graph_device;

#endif
