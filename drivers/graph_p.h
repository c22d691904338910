/*
 * graph_p.h — private to drivers/graph*.c: what graph.c asks of graph_more.c (the tenant's
 * name, a mailbox's zone). Both expect ctx->http to carry a valid app token already.
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

#endif
