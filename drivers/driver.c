/* driver.c — the table of drivers. */
#include <stdlib.h>

#include "driver.h"

void
pull_result_free(struct pull_result *r)
{
	free(r->cursor_out);
	r->cursor_out = NULL;
}

const struct driver *
driver_for(enum platform p)
{
	switch (p) {
	case PLAT_SLACK:
		return &slack_driver;
	case PLAT_TEAMS:
		return &graph_driver;
	case PLAT_WEBEX:
		return &webex_driver;
	default:
		return NULL;
	}
}
