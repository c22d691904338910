/*
 * workspace.c — team id -> the platform instance (Slack workspace entry) that serves it
 * (include/workspace.h).
 */
#include <stddef.h>

#include "workspace.h"

const struct cfg_platform *
rec_instance(const struct config *cfg, struct txn *t, enum platform p, const char *team)
{
	const struct cfg_platform *pc;
	struct team_rec r;

	if (config_ninst(cfg, p) == 1)
		return config_inst(cfg, p, 0);
	if ((pc = config_inst_by_team(cfg, p, team)) != NULL || t == NULL || team == NULL)
		return pc;
	if (store_team_get(t, p, team, &r) == 0)
		pc = config_inst(cfg, p, r.inst);	/* NULL when out of range */
	team_rec_free(&r);
	return pc;
}
