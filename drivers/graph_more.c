/*
 * graph_more.c — Microsoft Graph beyond the roster: the tenant's name (GET /organization)
 * and a person's own time zone, the one of their mailbox
 * (GET /users/{id}/mailboxSettings/timeZone, application permission MailboxSettings.Read).
 * Graph gives it in the Windows format by default ("Romance Standard Time"): mapped to IANA
 * with CLDR's table (include/winzones.h); a mailbox set to IANA names passes through.
 * `$select=mailboxSettings` on GET /users is refused by Graph (one mailbox per request).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_p.h"
#include "json.h"
#include "winzones.h"

void
graph_org_name(struct driver_ctx *ctx, struct pull_sink *sink)
{
	char *url = xasprintf("%s/organization?$select=id,displayName",
	    drv_inst(ctx, PLAT_TEAMS)->api_url);

	drv_team_name(ctx, sink, ctx->cfg->teams.tenant_id, url, "GET /organization", 1,
	    "displayName", ctx->cfg->teams.tenant_id);
	free(url);
}

/* A zone name as Graph gave it, in IANA form (NULL: not one we can use). */
static char *
iana_of(const char *v)
{
	const char *z = winzone_iana(v);

	if (z != NULL)
		return xstrdup(z);
	/* an IANA name: Area/Location, nothing else */
	if (strchr(v, '/') != NULL && strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
	    "vwxyz0123456789/_+-") == strlen(v) && strlen(v) <= DRV_TZ_MAX && v[0] != '/' &&
	    strstr(v, "..") == NULL)
		return xstrdup(v);
	return NULL;
}

int
graph_mailbox_zone(struct driver_ctx *ctx, const struct account *a, char **tz, int *denied,
    char *err, size_t errlen)
{
	static const char what[] = "GET /users/{id}/mailboxSettings/timeZone";
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	struct buf url = { 0 };
	char *v = NULL;
	int rc = -1;

	*tz = NULL;
	*denied = 0;
	buf_printf(&url, "%s/users/", drv_inst(ctx, PLAT_TEAMS)->api_url);
	buf_urlencode(&url, a->user_id, strlen(a->user_id));
	buf_adds(&url, "/mailboxSettings/timeZone");
	if (http_json(ctx->http, "GET", url.p, NULL, NULL, NULL, 0, what, &resp, &j, err,
	    errlen) < 0)
		goto out;
	if (resp.status == 200) {
		v = json_strdup(&j, json_get(&j, 0, "value"));
		*tz = v != NULL ? iana_of(v) : NULL;
		rc = 0;
	} else if (resp.status == 404) {
		rc = 0;			/* no mailbox (not licensed, on premises): no zone */
	} else {
		*denied = resp.status == 403;	/* the app lacks MailboxSettings.Read */
		snprintf(err, errlen, "%s: %s: HTTP %ld", http_name(ctx->http), what,
		    resp.status);
	}
out:
	free(v);
	json_free(&j);
	http_resp_free(&resp);
	buf_free(&url);
	return rc;
}
