/*
 * graph.c — Microsoft Graph (Teams): app-only token by client credentials, roster through
 * GET /users ($select, $top, @odata.nextLink) and incremental runs through /users/delta.
 * Facts: shared/docs/platform-apis.md §2. $select is mandatory for accountEnabled, userType,
 * otherMails and proxyAddresses; nextLink and deltaLink are used verbatim.
 *
 * Pull strategy:
 *  - full: first GET /users/delta?$deltaToken=latest ("sync from now": a deltaLink and no
 *    data), then the roster through /users with the largest page ($top=999). The deltaLink
 *    is taken before the roster so no change made during the pull is missed next time.
 *  - incremental: GET the stored deltaLink, follow nextLinks to the new deltaLink. Changed
 *    users carry their selected properties; removed ones {"id","@removed":{reason}}.
 *  - a deltaLink Graph rejects (410 Gone, syncStateNotFound, resyncRequired: expired after
 *    7 days) falls back to a full pull, said in a warning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "json.h"
#include "paging.h"

#define SELECT	"id,userPrincipalName,mail,otherMails,proxyAddresses,accountEnabled," \
		"userType,displayName,givenName,externalUserState"

struct graph_priv {
	char	*token;
	double	 expires;	/* monotonic seconds */
};

static int
graph_init(struct driver_ctx *ctx, char *err, size_t errlen)
{
	const struct cfg_teams *t = &ctx->cfg->teams;

	if (t->client_secret == NULL || t->client_id == NULL || t->tenant_id == NULL) {
		snprintf(err, errlen, "teams: tenant_id, client_id and a client secret are needed");
		return -1;
	}
	ctx->priv = xcalloc(1, sizeof(struct graph_priv));
	return 0;
}

static void
graph_fini(struct driver_ctx *ctx)
{
	struct graph_priv *gp = ctx->priv;

	if (gp) {
		if (gp->token) {
			explicit_bzero(gp->token, strlen(gp->token));
			free(gp->token);
		}
		free(gp);
	}
	ctx->priv = NULL;
}

/* Client-credentials token, kept until a minute before it expires. */
static int
graph_token(struct driver_ctx *ctx, int force, char *err, size_t errlen)
{
	struct graph_priv *gp = ctx->priv;
	const struct cfg_teams *t = &ctx->cfg->teams;
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	struct buf url = { 0 }, body = { 0 };
	int64_t expires_in = 3599;
	int rc = -1;

	if (!force && gp->token && ps_monotonic() < gp->expires)
		return 0;
	buf_printf(&url, "%s/", t->login_url);
	buf_urlencode(&url, t->tenant_id, strlen(t->tenant_id));
	buf_adds(&url, "/oauth2/v2.0/token");
	buf_adds(&body, "grant_type=client_credentials&client_id=");
	buf_urlencode(&body, t->client_id, strlen(t->client_id));
	buf_adds(&body, "&client_secret=");
	buf_urlencode(&body, t->client_secret, strlen(t->client_secret));
	buf_adds(&body, "&scope=");
	buf_urlencode(&body, "https://graph.microsoft.com/.default", 36);
	http_set_bearer(ctx->http, NULL);
	if (http_json(ctx->http, "POST", url.p, NULL, "application/x-www-form-urlencoded", body.p,
	    body.len, "POST token (client credentials)", &resp, &j, err, errlen) < 0)
		goto out;
	if (resp.status != 200 || j.ntok == 0) {
		char *code = j.ntok ? json_strdup(&j, json_get(&j, 0, "error")) : NULL;
		snprintf(err, errlen, "teams: POST token (client credentials): HTTP %ld%s%s",
		    resp.status, code ? ", error " : "", code ? code : "");
		free(code);
		goto out;
	}
	if (gp->token) {
		explicit_bzero(gp->token, strlen(gp->token));
		free(gp->token);
	}
	gp->token = json_strdup(&j, json_get(&j, 0, "access_token"));
	if (gp->token == NULL || *gp->token == '\0') {
		snprintf(err, errlen, "teams: POST token: no access_token in the answer");
		goto out;
	}
	json_i64(&j, json_get(&j, 0, "expires_in"), &expires_in);
	gp->expires = ps_monotonic() + (double)(expires_in > 120 ? expires_in - 60 : expires_in / 2);
	rc = 0;
out:
	if (gp->token)
		http_set_bearer(ctx->http, gp->token);
	explicit_bzero(body.p, body.len);
	buf_free(&body);
	buf_free(&url);
	json_free(&j);
	http_resp_free(&resp);
	return rc;
}

/* The Graph error code of an error body, or NULL. Keys matched case-insensitively. */
static char *
graph_error_code(const struct json *j)
{
	int e;

	if (j->ntok == 0)
		return NULL;
	e = json_get_ci(j, 0, "error");
	if (json_is_object(j, e))
		return json_strdup(j, json_get_ci(j, e, "code"));
	return json_strdup(j, e);
}

/* GET with the token; renews the token once on a 401. On 0, resp/j hold a 2xx answer,
 * or *rejected is set for a delta link Graph refused. */
static int
graph_get(struct driver_ctx *ctx, const char *url, const char *what, struct http_resp *resp,
    struct json *j, int *rejected, char *err, size_t errlen)
{
	int renewed = 0;
	char *code;

	if (graph_token(ctx, 0, err, errlen) < 0)
		return -1;
	for (;;) {
		if (http_json(ctx->http, "GET", url, NULL, NULL, NULL, 0, what, resp, j, err,
		    errlen) < 0)
			return -1;
		if (resp->status >= 200 && resp->status < 300)
			return 0;
		code = graph_error_code(j);
		if (resp->status == 401 && !renewed) {
			free(code);
			renewed = 1;
			if (graph_token(ctx, 1, err, errlen) < 0)
				return -1;
			continue;
		}
		if (rejected && (resp->status == 410 || (code && (strcmp(code,
		    "syncStateNotFound") == 0 || strcmp(code, "resyncRequired") == 0 ||
		    strcmp(code, "syncStateInvalid") == 0)))) {
			snprintf(err, errlen, "teams: %s: HTTP %ld%s%s", what, resp->status,
			    code ? " " : "", code ? code : "");
			*rejected = 1;
			free(code);
			return 0;
		}
		snprintf(err, errlen, "teams: %s: HTTP %ld%s%s", what, resp->status,
		    code ? ", error " : "", code ? code : "");
		free(code);
		return -1;
	}
}

static void
add_list(struct account *a, const struct json *j, int arr, enum link_how how, int proxy)
{
	int e;

	if (!json_is_array(j, arr))
		return;
	for (e = json_first(j, arr); e >= 0; e = json_next(j, arr, e)) {
		char *s = json_strdup(j, e);
		if (s == NULL)
			continue;
		/* proxyAddresses: only SMTP entries are mail addresses (SIP:, X500: are not) */
		if (!proxy || strncasecmp(s, "smtp:", 5) == 0)
			account_add_email(a, proxy ? s + 5 : s, how);
		free(s);
	}
}

int
graph_parse_user(const struct json *j, int u, const char *tenant, struct account *a)
{
	char *s;
	int v;
	int rem = json_get(j, u, "@removed");

	memset(a, 0, sizeof(*a));
	a->platform = PLAT_TEAMS;
	a->user_id = json_strdup(j, json_get(j, u, "id"));
	if (a->user_id == NULL || *a->user_id == '\0') {
		account_free(a);
		return -1;
	}
	a->team_id = xstrdup(tenant);
	if (rem >= 0) {
		a->flags |= ACCT_REMOVED;	/* merged with what we stored */
		return 0;
	}
	s = json_strdup(j, json_get(j, u, "mail"));
	if (s && *s)
		account_add_email(a, s, LINK_EMAIL);
	free(s);
	add_list(a, j, json_get(j, u, "proxyAddresses"), LINK_PROXY, 1);
	add_list(a, j, json_get(j, u, "otherMails"), LINK_OTHERMAIL, 0);
	s = json_strdup(j, json_get(j, u, "userPrincipalName"));
	if (s && *s && strstr(s, "#EXT#") == NULL)	/* a guest's UPN is no address */
		account_add_email(a, s, LINK_UPN);
	free(s);
	if (json_bool(j, json_get(j, u, "accountEnabled"), &v) == 0 && !v)
		a->flags |= ACCT_DELETED;
	if (json_str_eq(j, json_get(j, u, "userType"), "Guest"))
		a->flags |= ACCT_GUEST;
	if (json_str_eq(j, json_get(j, u, "externalUserState"), "PendingAcceptance"))
		a->flags |= ACCT_INVITED;
	a->name = json_strdup(j, json_get(j, u, "displayName"));
	a->first_name = json_strdup(j, json_get(j, u, "givenName"));
	return 0;
}

/* Follows one paged sequence from url; collects the final deltaLink when delta. */
static int
graph_pages(struct driver_ctx *ctx, const char *start, const char *label, int delta,
    struct pull_sink *sink, struct pull_result *res, int *rejected)
{
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	struct cursor_guard guard = { 0 };
	struct buf what = { 0 };
	struct account *accts = NULL;
	char *url = xstrdup(start);
	int rc = -1, cap = 0;

	for (;;) {
		int arr, e, n = 0;

		buf_reset(&what);
		buf_printf(&what, "GET %s page %ld", label, res->pages + 1);
		if (graph_get(ctx, url, what.p, &resp, &j, rejected, res->err,
		    sizeof(res->err)) < 0)
			goto out;
		if (rejected && *rejected) {
			rc = 0;
			goto out;
		}
		arr = json_get(&j, 0, "value");
		if (!json_is_array(&j, arr)) {
			snprintf(res->err, sizeof(res->err), "teams: %s: no \"value\" array", what.p);
			goto out;
		}
		if (json_count(&j, arr) > cap) {
			cap = json_count(&j, arr);
			accts = xrealloc(accts, (size_t)cap * sizeof(*accts));
		}
		for (e = json_first(&j, arr); e >= 0; e = json_next(&j, arr, e))
			if (graph_parse_user(&j, e, ctx->cfg->teams.tenant_id, &accts[n]) == 0)
				n++;
		res->pages++;
		res->accounts += n;
		rc = sink->page(sink, accts, n);
		for (e = 0; e < n; e++)
			account_free(&accts[e]);
		if (rc < 0) {
			rc = -1;
			goto out;
		}
		rc = -1;
		free(url);
		url = json_strdup(&j, json_get(&j, 0, "@odata.nextLink"));
		if (url == NULL) {
			if (delta) {
				char *dl = json_strdup(&j, json_get(&j, 0, "@odata.deltaLink"));
				if (dl == NULL) {
					snprintf(res->err, sizeof(res->err), "teams: %s: neither "
					    "@odata.nextLink nor @odata.deltaLink", what.p);
					goto out;
				}
				free(res->cursor_out);
				res->cursor_out = dl;
			}
			break;
		}
		if (cursor_guard_seen(&guard, url)) {
			snprintf(res->err, sizeof(res->err), "teams: %s: @odata.nextLink repeats an "
			    "earlier link; refusing to loop", what.p);
			goto out;
		}
	}
	rc = 0;
out:
	free(url);
	free(accts);
	cursor_guard_free(&guard);
	buf_free(&what);
	json_free(&j);
	http_resp_free(&resp);
	return rc;
}

/* "Sync from now": a deltaLink without data. */
static char *
graph_latest_delta(struct driver_ctx *ctx, struct pull_result *res)
{
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	char *url = xasprintf("%s/users/delta?$select=" SELECT "&$deltaToken=latest",
	    ctx->cfg->teams.graph_url), *dl = NULL;
	char err[512];

	if (graph_get(ctx, url, "GET users/delta ($deltaToken=latest)", &resp, &j, NULL, err,
	    sizeof(err)) == 0) {
		dl = json_strdup(&j, json_get(&j, 0, "@odata.deltaLink"));
		res->pages++;
	}
	if (dl == NULL)
		log_warn("teams: no delta link this run (%s); the next run pulls in full",
		    err[0] ? err : "no @odata.deltaLink");
	free(url);
	json_free(&j);
	http_resp_free(&resp);
	return dl;
}

static int
graph_pull(struct driver_ctx *ctx, const char *cursor_in, struct pull_sink *sink,
    struct pull_result *res)
{
	const struct cfg_teams *t = &ctx->cfg->teams;
	char *dl = NULL, *url;
	int rejected = 0, rc;

	if (sink->team)
		sink->team(sink, t->tenant_id, t->tenant_name ? t->tenant_name : t->tenant_id);
	if (t->use_delta && cursor_in) {
		res->full = 0;
		rc = graph_pages(ctx, cursor_in, "users/delta", 1, sink, res, &rejected);
		if (rc < 0)
			return -1;
		if (!rejected) {
			res->complete = 1;
			return 0;
		}
		log_warn("%s: the stored delta link was rejected; doing a full pull", res->err);
		res->err[0] = '\0';
		res->pages = 0;
		/* pages already staged are a subset of the full pull: harmless */
	}
	res->full = 1;
	if (t->use_delta)
		dl = graph_latest_delta(ctx, res);
	url = xasprintf("%s/users?$select=" SELECT "&$top=%d", t->graph_url,
	    t->page_size > 0 ? t->page_size : 999);
	rc = graph_pages(ctx, url, "users", 0, sink, res, NULL);
	free(url);
	if (rc < 0) {
		free(dl);
		return -1;
	}
	free(res->cursor_out);
	res->cursor_out = dl;
	res->complete = 1;
	return 0;
}

const struct driver graph_driver = {
	.platform = PLAT_TEAMS,
	.name = "teams",
	.caps = DRV_CAP_DM | DRV_CAP_DELTA,
	.init = graph_init,
	.fini = graph_fini,
	.pull = graph_pull,
};
