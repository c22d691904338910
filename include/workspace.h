/*
 * workspace.h — which instance of a platform (a slack.workspaces entry: its token, URL,
 * rate buckets, OAuth client) serves a team: the one place that answers it, for prompts
 * (reconcile/outbox.c) and for the platforms' events routed by team_id.
 */
#ifndef PS_WORKSPACE_H
#define PS_WORKSPACE_H

#include "config.h"
#include "store.h"

/*
 * The instance of platform p that serves team (a Slack workspace id T..., a Grid's
 * enterprise id E..., a tenant or org id): the platform's only instance; else the entry
 * whose team_id is team (config); else the entry that pulled the team last (its team record
 * in the store, read in t; t may be NULL to skip it). NULL when none is known (a team no
 * pull has seen yet, or a record naming an entry that the config no longer has).
 */
const struct cfg_platform *rec_instance(const struct config *cfg, struct txn *t,
	    enum platform p, const char *team);

#endif
