/* driver.c — the table of drivers. */
#include <stdlib.h>

#include "driver.h"

void
pull_result_free(struct pull_result *r)
{
	free(r->cursor_out);
	r->cursor_out = NULL;
}

void
dm_out_free(struct dm_out *o)
{
	free(o->channel);
	free(o->message_id);
	o->channel = o->message_id = NULL;
}

void
rate_before(struct driver_ctx *ctx, int which)
{
	bucket_take(&ctx->rate[which]);
}

void
rate_after(struct driver_ctx *ctx, int which, long throttled_before)
{
	if (http_stats(ctx->http)->throttled > throttled_before) {
		/* the HTTP core already waited Retry-After; start again from an empty bucket */
		ctx->rate[which].tokens = 0;
		ctx->rate[which].last = ps_monotonic();
	}
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
