/*
 * evsub_p.h — private to reconcile/subscriptions.c and reconcile/catchup.c: the people an
 * event subscription or a catch-up is for, and the driver context of the events calls.
 */
#ifndef PS_EVSUB_P_H
#define PS_EVSUB_P_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "driver.h"
#include "store.h"

/* A synced person's account on one platform, with their user token when one was asked. */
struct ev_target {
	uint64_t	 person;
	char		*team;
	char		*user;
	char		*token;		/* access token (wiped when freed), or NULL */
	int		 done;		/* subscriptions.c: its record was seen */
};

struct ev_targets {
	struct ev_target	*v;
	size_t			 n, cap;
};

/*
 * The synced people (status on, active) with an active account on p: the first such account
 * of each. need_token: only those with a live stored user token (Sync now), token filled.
 * 0, or -1 on a store error (message in store_error). ev_targets_free wipes the tokens.
 */
int	ev_targets_collect(const struct config *cfg, struct store *st, enum platform p,
	    int need_token, struct ev_targets *out);
void	ev_targets_free(struct ev_targets *ts);

/* The driver context of platform p's events calls (http client, ev_init) on instance pc (a
 * Slack workspace entry; NULL: the platform's only one): 0, or -1 with err set (ctx then
 * needs no closing). */
int	ev_ctx_open(const struct config *cfg, const struct driver *d,
	    const struct cfg_platform *pc, struct driver_ctx *ctx, char *err, size_t errlen);
void	ev_ctx_close(const struct driver *d, struct driver_ctx *ctx);

/* A person's stored user token on (p, team, user) into a new string (NULL when none or dead). */
char	*ev_user_token(const struct config *cfg, struct store *st, enum platform p,
	    const char *team, const char *user);

#endif
