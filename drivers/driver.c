/* driver.c — helpers the platform drivers share (below them: the table is registry.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "json.h"
#include "paging.h"

void
pull_result_free(struct pull_result *r)
{
	free(r->cursor_out);
	r->cursor_out = NULL;
}

void
pull_fail(struct pull_result *res, enum fail cls, const char *fmt, ...)
{
	va_list ap;

	res->cls = cls;
	va_start(ap, fmt);
	vsnprintf(res->err, sizeof(res->err), fmt, ap);
	va_end(ap);
}

enum fail
drv_status_fail(long status)
{
	if (status == 401 || status == 403)
		return FAIL_CONFIG;
	return status >= 500 ? FAIL_LATER : FAIL_DATA;
}

struct account *
drv_accounts(struct account *accts, int *cap, int n)
{
	if (n > *cap) {
		*cap = n;
		accts = xrealloc(accts, (size_t)n * sizeof(*accts));
	}
	return accts;
}

int
drv_parse_items(const struct json *j, int arr, drv_parse_fn parse, const char *team,
    struct account **accts, int *cap)
{
	int e, n = 0;

	*accts = drv_accounts(*accts, cap, json_count(j, arr));
	for (e = json_first(j, arr); e >= 0; e = json_next(j, arr, e))
		if (parse(j, e, team, &(*accts)[n]) == 0)
			n++;
	return n;
}

void
drv_pull_free(char *url, struct account *accts, struct cursor_guard *g, struct buf *what,
    struct json *j, struct http_resp *resp)
{
	free(url);
	free(accts);
	cursor_guard_free(g);
	buf_free(what);
	json_free(j);
	http_resp_free(resp);
}

int
drv_page(struct pull_sink *sink, struct pull_result *res, struct account *accts, int n)
{
	int rc;

	res->pages++;
	res->accounts += n;
	rc = sink->page(sink, accts, n);
	for (int i = 0; i < n; i++)
		account_free(&accts[i]);
	if (rc < 0)
		res->cls = FAIL_IO;
	return rc < 0 ? -1 : 0;
}

void
dm_out_free(struct dm_out *o)
{
	free(o->channel);
	free(o->message_id);
	o->channel = o->message_id = NULL;
}

static void
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

void
dm_answer_free(struct dm_answer *a)
{
	http_resp_free(&a->resp);
	json_free(a->j);
	free(a->j);
	a->j = NULL;
}

void
drv_team_name(struct driver_ctx *ctx, struct pull_sink *sink, const char *team,
    const char *url, const char *what, int arr, const char *key, const char *fallback)
{
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	char err[512] = "", *name = NULL;
	int obj = 0;

	if (sink->team == NULL || team == NULL ||
	    (sink->team_known != NULL && sink->team_known(sink, team)))
		return;
	if (http_json(ctx->http, "GET", url, NULL, NULL, NULL, 0, what, &resp, &j, err,
	    sizeof(err)) == 0 && resp.status == 200) {
		if (arr)
			obj = json_first(&j, json_get(&j, 0, "value"));
		name = obj >= 0 ? json_strdup(&j, json_path(&j, obj, key)) : NULL;
	} else if (err[0] == '\0') {
		snprintf(err, sizeof(err), "%s: %s: HTTP %ld", http_name(ctx->http), what,
		    resp.status);
	}
	if (name == NULL || *name == '\0')
		log_warn("%s%s%s%s (team %s keeps %s)", err[0] ? "" : http_name(ctx->http),
		    err[0] ? "" : ": ", err[0] ? err : what, err[0] ? "" : ": no name in the answer",
		    team, fallback ? fallback : "no name");
	if (name != NULL && *name != '\0')
		sink->team(sink, team, name);
	else if (fallback != NULL)
		sink->team(sink, team, fallback);
	free(name);
	json_free(&j);
	http_resp_free(&resp);
}

const struct cfg_platform *
drv_inst(const struct driver_ctx *ctx, enum platform p)
{
	return ctx->pc != NULL ? ctx->pc : &ctx->cfg->plat[p];
}

void
drv_buckets_init(struct driver_ctx *ctx, enum platform p)
{
	const struct cfg_rate *r = drv_inst(ctx, p)->rate;
	/* A platform without a separate "open a DM" endpoint (Webex) paces both by its post. */
	const struct cfg_rate *open = r[RATE_OPEN].per_second > 0 ? &r[RATE_OPEN] : &r[RATE_POST];

	bucket_init(&ctx->rate[RATE_OPEN], open->per_second, open->burst);
	bucket_init(&ctx->rate[RATE_POST], r[RATE_POST].per_second, r[RATE_POST].burst);
}

int
drv_dm_call(struct driver_ctx *ctx, const struct dm_call *c, struct dm_answer *a, char *err,
    size_t errlen)
{
	int renewed = 0, rc;

	if (a->j == NULL)
		a->j = xcalloc(1, sizeof(*a->j));
	for (;;) {
		long before = http_stats(ctx->http)->throttled;

		if (c->credential && (rc = c->credential(ctx, renewed, err, errlen)) != DM_OK) {
			a->cls = FAIL_LATER;
			return rc;
		}
		bucket_take(&ctx->rate[c->which]);
		rc = http_send(ctx->http, &c->rq, &a->resp, a->j, err, errlen);
		rate_after(ctx, c->which, before);
		if (rc < 0) {
			a->cls = FAIL_LATER;
			return DM_UNAVAILABLE;
		}
		if (a->resp.status == 401 && c->credential && !renewed) {
			renewed = 1;
			continue;
		}
		a->cls = c->status(&a->resp, a->j, c->rq.what, err, errlen);
		return a->cls == FAIL_NONE ? DM_OK : a->cls == FAIL_DATA ? DM_REFUSED :
		    DM_UNAVAILABLE;
	}
}

void
drv_dm_search(const struct json *j, int arr, const char *const *text_paths,
    const char *id_key, const char *ref, int *found, struct dm_out *o)
{
	int e;

	*found = 0;
	for (e = json_first(j, arr); e >= 0 && !*found; e = json_next(j, arr, e)) {
		for (const char *const *p = text_paths; *p && !*found; p++) {
			char *text = json_strdup(j, json_path(j, e, *p));

			*found = text && strstr(text, ref);
			free(text);
		}
		if (*found)
			o->message_id = json_strdup(j, json_get(j, e, id_key));
	}
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

/* ---- events (issue 11) ---- */

int
ev_call(struct driver_ctx *ctx, const struct dm_call *c, struct dm_answer *a, enum fail *cls,
    char *err, size_t errlen)
{
	int rc = drv_dm_call(ctx, c, a, err, errlen);

	*cls = a->cls;
	if (rc == DM_OK)
		return EV_OK;
	if (a->resp.status == 404 || a->resp.status == 410)
		return EV_GONE;
	/* the credential refused (401 after a renewal, 403) is the config's to fix */
	if (a->resp.status == 401 || a->resp.status == 403)
		*cls = FAIL_CONFIG;
	return EV_FAIL;
}

void
evsub_out_free(struct evsub_out *o)
{
	if (o == NULL)
		return;
	free(o->id);
	memset(o, 0, sizeof(*o));
}

void
drv_check_add(struct drv_check *c, enum scope_holder holder, const char *label,
    const char *who, const char *granted)
{
	struct drv_grant *g;

	if (c->n >= DRV_GRANTS_MAX)
		return;
	g = &c->g[c->n++];
	g->holder = holder;
	g->label = xstrdup(label);
	g->who = xstrdup(who ? who : "");
	g->granted = granted ? xstrdup(granted) : NULL;
}

void
drv_check_free(struct drv_check *c)
{
	for (int i = 0; i < c->n; i++) {
		free(c->g[i].label);
		free(c->g[i].who);
		free(c->g[i].granted);
	}
	c->n = 0;
}

int
drv_check_fail(struct drv_check *c, enum fail cls)
{
	c->cls = cls;
	return -1;
}
