/* driver.c — the table of drivers, and helpers the drivers share. */
#include <stdlib.h>
#include <string.h>

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
	struct bucket *b = &ctx->rate[which];

	if (http_stats(ctx->http)->throttled > throttled_before)
		b->tokens = 0;	/* the HTTP core already waited Retry-After: no burst now */
	/*
	 * Refill restarts when the answer arrives, not when the request left: a platform
	 * counts a request when it handles it, somewhere between the two, so spacing the
	 * sends alone lets a slow answer followed by a fast one land closer than the limit
	 * allows. Anchored at the answer, consecutive requests are at least 1/rate apart as
	 * the platform sees them, whatever their latencies.
	 */
	b->last = ps_monotonic();
}

/* Cuts s to at most max bytes without splitting a UTF-8 sequence. */
static void
clip_utf8(char *s, size_t max)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) <= max)
		return;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;		/* s[n] continues a sequence: cut before its lead byte */
	s[n] = '\0';
}

void
drv_clip_account(struct account *a)
{
	clip_utf8(a->name, DRV_NAME_MAX);
	clip_utf8(a->first_name, DRV_NAME_MAX);
	if (a->tz && strlen(a->tz) > DRV_TZ_MAX) {
		free(a->tz);
		a->tz = NULL;
	}
}

int
drv_add_email(struct account *a, const char *email, enum link_how how)
{
	size_t n = email ? strlen(email) : 0;

	if (n == 0 || n > DRV_EMAIL_MAX)
		return 0;
	return account_add_email(a, email, how);
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
