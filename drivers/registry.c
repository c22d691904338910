/*
 * registry.c — the table of platform drivers: the one place that names them all, above the
 * platform files (which never call it).
 */
#include <stddef.h>

#include "driver.h"

static const struct driver *const drivers[PLAT_COUNT] = {
	[PLAT_SLACK] = &slack_driver,
	[PLAT_TEAMS] = &graph_driver,
	[PLAT_WEBEX] = &webex_driver,
};

const struct driver *
driver_for(enum platform p)
{
	return (int)p >= 0 && p < PLAT_COUNT ? drivers[p] : NULL;
}
