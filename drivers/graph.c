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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "json.h"
#include "paging.h"
#include "tokens.h"
#include "graph_p.h"

#define SELECT	"id,userPrincipalName,mail,otherMails,proxyAddresses,accountEnabled," \
		"userType,displayName,givenName,externalUserState"

struct graph_priv {
	char	*token;		/* app-only (client credentials): the roster */
	double	 expires;	/* monotonic seconds */
	char	*utoken;	/* the service user's delegated token: direct messages */
	double	 uexpires;
	char	*refresh;	/* its current refresh token (rotated: saved back to the file) */
	char	*me;		/* the service user's object id */
};

static void
zfree(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

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
		zfree(&gp->token);
		zfree(&gp->utoken);
		zfree(&gp->refresh);
		free(gp->me);
		free(gp);
	}
	ctx->priv = NULL;
}

/*
 * The Microsoft identity platform's token endpoint, {login}/{tenant}/oauth2/v2.0/token: the
 * roster's app-only token (client credentials: refresh is NULL) and the service user's
 * delegated one (the refresh_token grant). On 0, tok holds the tokens (caller frees) and
 * *expires when to renew the access token (monotonic seconds: a minute before it expires).
 * On -1, err says why ("teams: POST token (client credentials): HTTP 401, error
 * invalid_client") with its class (FAIL_LATER: no answer; FAIL_CONFIG: refused; FAIL_DATA:
 * an answer without a token), and code holds the answer's error code, or "".
 */
static enum fail
ms_token(struct driver_ctx *ctx, const char *refresh, const char *scope, const char *what,
    struct oauth_tokens *tok, double *expires, char *code, size_t codelen, char *err,
    size_t errlen)
{
	const struct cfg_teams *t = &ctx->cfg->teams;
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	struct buf url = { 0 }, form = { 0 };
	int64_t now = (int64_t)ps_now(), in;
	enum fail rc = FAIL_LATER;

	code[0] = '\0';
	buf_printf(&url, "%s/", t->login_url);
	buf_urlencode(&url, t->tenant_id, strlen(t->tenant_id));
	buf_adds(&url, "/oauth2/v2.0/token");
	token_param(&form, "grant_type", refresh ? "refresh_token" : "client_credentials");
	token_param(&form, "client_id", t->client_id);
	token_param(&form, "client_secret", t->client_secret);
	if (refresh)
		token_param(&form, "refresh_token", refresh);
	token_param(&form, "scope", scope);
	http_set_bearer(ctx->http, NULL);
	if (token_post(ctx->http, url.p, NULL, NULL, &form, what, &resp, &j, err, errlen) < 0)
		goto out;
	rc = resp.status == 200 ? FAIL_DATA : FAIL_CONFIG;
	if (resp.status != 200 || j.ntok == 0) {
		token_error_code(&j, code, codelen);
		snprintf(err, errlen, "teams: %s: HTTP %ld%s%s", what, resp.status,
		    code[0] ? ", error " : "", code);
		goto out;
	}
	if (token_take(&j, 0, now, tok) < 0) {
		snprintf(err, errlen, "teams: %s: no access_token in the answer", what);
		goto out;
	}
	in = tok->expires ? tok->expires - now : 3599;
	*expires = ps_monotonic() + (double)(in > 120 ? in - 60 : in / 2);
	rc = FAIL_NONE;
out:
	buf_free(&form);
	buf_free(&url);
	json_free(&j);
	http_resp_free(&resp);
	return rc;
}

/* Client-credentials token, kept until a minute before it expires. FAIL_NONE, or the class
 * of the trouble (ms_token) with err set. */
static enum fail
graph_token(struct driver_ctx *ctx, int force, char *err, size_t errlen)
{
	struct graph_priv *gp = ctx->priv;
	struct oauth_tokens tok = { 0 };
	char code[80];
	enum fail rc;

	if (!force && gp->token && ps_monotonic() < gp->expires)
		return FAIL_NONE;
	rc = ms_token(ctx, NULL, "https://graph.microsoft.com/.default",
	    "POST token (client credentials)", &tok, &gp->expires, code, sizeof(code), err,
	    errlen);
	if (rc == FAIL_NONE) {
		zfree(&gp->token);
		gp->token = tok.access;
		tok.access = NULL;
	}
	if (gp->token)
		http_set_bearer(ctx->http, gp->token);
	oauth_tokens_free(&tok);
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

/* GET with the token; renews the token once on a 401. On FAIL_NONE, resp/j hold a 2xx
 * answer, or *rejected is set for a delta link Graph refused; else the class of the trouble,
 * err set. */
static enum fail
graph_get(struct driver_ctx *ctx, const char *url, const char *what, struct http_resp *resp,
    struct json *j, int *rejected, char *err, size_t errlen)
{
	enum fail cls;
	int renewed = 0;
	char *code;

	if ((cls = graph_token(ctx, 0, err, errlen)) != FAIL_NONE)
		return cls;
	for (;;) {
		if (http_json(ctx->http, "GET", url, NULL, NULL, NULL, 0, what, resp, j, err,
		    errlen) < 0)
			return FAIL_LATER;
		if (resp->status >= 200 && resp->status < 300)
			return FAIL_NONE;
		code = graph_error_code(j);
		if (resp->status == 401 && !renewed) {
			free(code);
			renewed = 1;
			if ((cls = graph_token(ctx, 1, err, errlen)) != FAIL_NONE)
				return cls;
			continue;
		}
		if (rejected && (resp->status == 410 || (code && (strcmp(code,
		    "syncStateNotFound") == 0 || strcmp(code, "resyncRequired") == 0 ||
		    strcmp(code, "syncStateInvalid") == 0)))) {
			snprintf(err, errlen, "teams: %s: HTTP %ld%s%s", what, resp->status,
			    code ? " " : "", code ? code : "");
			*rejected = 1;
			free(code);
			return FAIL_NONE;
		}
		snprintf(err, errlen, "teams: %s: HTTP %ld%s%s", what, resp->status,
		    code ? ", error " : "", code ? code : "");
		free(code);
		return drv_status_fail(resp->status);
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
			drv_add_email(a, proxy ? s + 5 : s, how);
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
	drv_add_email(a, s, LINK_EMAIL);
	free(s);
	add_list(a, j, json_get(j, u, "proxyAddresses"), LINK_PROXY, 1);
	add_list(a, j, json_get(j, u, "otherMails"), LINK_OTHERMAIL, 0);
	s = json_strdup(j, json_get(j, u, "userPrincipalName"));
	if (s && strstr(s, "#EXT#") == NULL)	/* a guest's UPN is no address */
		drv_add_email(a, s, LINK_UPN);
	free(s);
	if (json_bool(j, json_get(j, u, "accountEnabled"), &v) == 0 && !v)
		a->flags |= ACCT_DELETED;
	if (json_str_eq(j, json_get(j, u, "userType"), "Guest"))
		a->flags |= ACCT_GUEST;
	if (json_str_eq(j, json_get(j, u, "externalUserState"), "PendingAcceptance"))
		a->flags |= ACCT_INVITED;
	a->name = json_strdup(j, json_get(j, u, "displayName"));
	a->first_name = json_strdup(j, json_get(j, u, "givenName"));
	drv_clip_account(a);
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
	long page = 0;
	int rc = -1, cap = 0;

	for (;;) {
		int arr, n;

		/* pages counted per sequence: errors name the page the way the service numbers
		 * them, whatever came before (the deltaLink of a full pull) */
		buf_reset(&what);
		buf_printf(&what, "GET %s page %ld", label, ++page);
		if ((res->cls = graph_get(ctx, url, what.p, &resp, &j, rejected, res->err,
		    sizeof(res->err))) != FAIL_NONE)
			goto out;
		if (rejected && *rejected) {
			rc = 0;
			goto out;
		}
		arr = json_get(&j, 0, "value");
		if (!json_is_array(&j, arr)) {
			pull_fail(res, FAIL_DATA, "teams: %s: no \"value\" array", what.p);
			goto out;
		}
		n = drv_parse_items(&j, arr, graph_parse_user, ctx->cfg->teams.tenant_id, &accts,
		    &cap);
		if ((rc = drv_page(sink, res, accts, n)) < 0)
			goto out;
		rc = -1;
		free(url);
		url = json_strdup(&j, json_get(&j, 0, "@odata.nextLink"));
		if (url == NULL) {
			if (delta) {
				char *dl = json_strdup(&j, json_get(&j, 0, "@odata.deltaLink"));
				if (dl == NULL) {
					pull_fail(res, FAIL_DATA, "teams: %s: neither "
					    "@odata.nextLink nor @odata.deltaLink", what.p);
					goto out;
				}
				free(res->cursor_out);
				res->cursor_out = dl;
			}
			break;
		}
		if (cursor_guard_seen(&guard, url)) {
			pull_fail(res, FAIL_DATA, "teams: %s: @odata.nextLink repeats an earlier "
			    "link; refusing to loop", what.p);
			goto out;
		}
	}
	rc = 0;
out:
	drv_pull_free(url, accts, &guard, &what, &j, &resp);
	return rc;
}

/* "Sync from now": a deltaLink without data. */
static char *
graph_latest_delta(struct driver_ctx *ctx)
{
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	char *url = xasprintf("%s/users/delta?$select=" SELECT "&$deltaToken=latest",
	    drv_inst(ctx, PLAT_TEAMS)->api_url), *dl = NULL;
	char err[512] = "";

	if (graph_get(ctx, url, "GET users/delta ($deltaToken=latest)", &resp, &j, NULL, err,
	    sizeof(err)) == FAIL_NONE)
		dl = json_strdup(&j, json_get(&j, 0, "@odata.deltaLink"));
	if (dl == NULL)
		log_warn("teams: no delta link this run (%s); the next run pulls in full",
		    err[0] ? err : "no @odata.deltaLink");
	free(url);
	json_free(&j);
	http_resp_free(&resp);
	return dl;
}

/* The driver's zone hook: a mailbox's zone, with a valid token (graph_more.c). */
static int
graph_zone(struct driver_ctx *ctx, const struct account *a, char **tz, int *denied,
    char *err, size_t errlen)
{
	*tz = NULL;
	*denied = 0;
	if (graph_token(ctx, 0, err, errlen) != FAIL_NONE)
		return -1;
	return graph_mailbox_zone(ctx, a, tz, denied, err, errlen);
}

static int
graph_pull(struct driver_ctx *ctx, const char *cursor_in, struct pull_sink *sink,
    struct pull_result *res)
{
	const struct cfg_teams *t = &ctx->cfg->teams;
	const struct cfg_platform *pc = drv_inst(ctx, PLAT_TEAMS);
	char *dl = NULL, *url;
	int rejected = 0, rc;

	if (pc->team_name != NULL && sink->team)
		sink->team(sink, t->tenant_id, pc->team_name);	/* the config's name wins */
	else if (graph_token(ctx, 0, res->err, sizeof(res->err)) == FAIL_NONE)
		graph_org_name(ctx, sink);
	res->err[0] = '\0';	/* a token refused: the roster's first request says so */
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
		dl = graph_latest_delta(ctx);	/* a request, not a roster page */
	url = xasprintf("%s/users?$select=" SELECT "&$top=%d", pc->api_url,
	    pc->page_size > 0 ? pc->page_size : 999);
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

/* ---- direct messages (delegated token of the service user) ---- */

/*
 * Sending chat messages needs a delegated token (application permissions are not
 * supported): the service user's refresh token is exchanged for an access token; the answer
 * carries a new refresh token, which replaces the stored one atomically (mode 0600), so a
 * crash never leaves the file half-written or the old token lost. Returns enum dm_rc: with
 * no delegated token every prompt waits, none is the person's fault.
 */
static int
graph_user_token(struct driver_ctx *ctx, int force, char *err, size_t errlen)
{
	struct graph_priv *gp = ctx->priv;
	const char *path = ctx->cfg->teams.service_user_refresh_token_file;
	struct oauth_tokens tok = { 0 };
	struct buf file = { 0 };
	char code[80];
	int rc = DM_UNAVAILABLE;

	if (!force && gp->utoken && ps_monotonic() < gp->uexpires)
		return DM_OK;
	if (ms_token(ctx, gp->refresh, "offline_access Chat.Create ChatMessage.Send User.Read",
	    "POST token (refresh_token, service user)", &tok, &gp->uexpires, code, sizeof(code),
	    err, errlen) != FAIL_NONE) {
		size_t n = strlen(err);

		if (strcmp(code, "invalid_grant") == 0 && n < errlen)
			snprintf(err + n, errlen - n, " (the service user must sign in again and "
			    "teams.service_user_refresh_token_file be replaced)");
		goto out;
	}
	zfree(&gp->utoken);
	gp->utoken = tok.access;
	tok.access = NULL;
	if (tok.refresh && strcmp(tok.refresh, gp->refresh) != 0) {
		buf_adds(&file, tok.refresh);
		buf_addc(&file, '\n');
		if (write_file_atomic(path, file.p, file.len, 0600) < 0) {
			snprintf(err, errlen, "teams: %s: cannot save the rotated refresh token: %s",
			    path, strerror(errno));
			goto out;
		}
		zfree(&gp->refresh);
		gp->refresh = tok.refresh;
		tok.refresh = NULL;
	}
	rc = DM_OK;
out:
	if (gp->utoken)
		http_set_bearer(ctx->http, gp->utoken);
	oauth_tokens_free(&tok);
	if (file.p)
		explicit_bzero(file.p, file.len);
	buf_free(&file);
	return rc;
}

/* A delegated call's answer: a 401 even with a renewed token is the credential's trouble,
 * not the message's (FAIL_CONFIG); a 5xx the platform's (FAIL_LATER); else FAIL_DATA. */
static enum fail
graph_dm_status(const struct http_resp *resp, const struct json *j, const char *what,
    char *err, size_t errlen)
{
	char *code;

	if (resp->status >= 200 && resp->status < 300)
		return FAIL_NONE;
	code = graph_error_code(j);
	snprintf(err, errlen, "teams: %s: HTTP %ld%s%s", what, resp->status, code ? ", error " : "",
	    code ? code : "");
	free(code);
	if (resp->status == 401)
		return FAIL_CONFIG;
	return resp->status >= 500 ? FAIL_LATER : FAIL_DATA;
}

/* A delegated call, rate-limited on bucket which, with the service user's token renewed
 * once on a 401 (drv_dm_call). once: a call that must not be repeated blindly. */
static int
graph_dm_call(struct driver_ctx *ctx, int which, const char *method, const char *url,
    const struct buf *body, int once, const char *what, struct dm_answer *a, char *err,
    size_t errlen)
{
	const struct dm_call c = { which, { method, url, NULL, body ? "application/json" : NULL,
	    body ? body->p : NULL, body ? body->len : 0, what, once }, graph_dm_status,
	    graph_user_token };

	return drv_dm_call(ctx, &c, a, err, errlen);
}

static int
graph_dm_init(struct driver_ctx *ctx, char *err, size_t errlen)
{
	const struct cfg_teams *t = &ctx->cfg->teams;
	struct graph_priv *gp;
	struct dm_answer a = { 0 };
	char *url;
	int rc;

	if (t->service_user_refresh_token == NULL) {
		snprintf(err, errlen, "teams: direct messages need the service user's refresh "
		    "token (teams.service_user_refresh_token_file)");
		return DM_REFUSED;
	}
	if (ctx->priv == NULL && graph_init(ctx, err, errlen) < 0)
		return DM_REFUSED;
	gp = ctx->priv;
	gp->refresh = xstrdup(t->service_user_refresh_token);
	drv_buckets_init(ctx, PLAT_TEAMS);
	url = xasprintf("%s/me?$select=id", drv_inst(ctx, PLAT_TEAMS)->api_url);
	rc = graph_dm_call(ctx, RATE_OPEN, "GET", url, NULL, 0, "GET me (service user)", &a,
	    err, errlen);
	if (rc == DM_OK && (gp->me = json_strdup(a.j, json_get(a.j, 0, "id"))) == NULL) {
		snprintf(err, errlen, "teams: GET me: no id");
		rc = DM_UNAVAILABLE;
	}
	free(url);
	dm_answer_free(&a);
	return rc;
}

static void
member(struct buf *b, const char *graph_url, const char *id)
{
	struct buf ref = { 0 };

	buf_printf(&ref, "%s/users('%s')", graph_url, id);
	buf_adds(b, "{\"@odata.type\":\"#microsoft.graph.aadUserConversationMember\","
	    "\"roles\":[\"owner\"],\"user@odata.bind\":");
	buf_json_str(b, ref.p);
	buf_addc(b, '}');
	buf_free(&ref);
}

/* The 1:1 chat of the service user and the person (Graph returns the existing one). */
static int
graph_chat(struct driver_ctx *ctx, const struct dm *m, struct dm_out *o, char *err,
    size_t errlen)
{
	struct graph_priv *gp = ctx->priv;
	const char *g = drv_inst(ctx, PLAT_TEAMS)->api_url;
	struct dm_answer a = { 0 };
	struct buf body = { 0 };
	char *url;
	int rc;

	free(o->channel);
	o->channel = m->channel ? xstrdup(m->channel) : NULL;
	if (o->channel)
		return DM_OK;
	buf_adds(&body, "{\"chatType\":\"oneOnOne\",\"members\":[");
	member(&body, g, gp->me);
	buf_addc(&body, ',');
	member(&body, g, m->to->user_id);
	buf_adds(&body, "]}");
	url = xasprintf("%s/chats", g);
	rc = graph_dm_call(ctx, RATE_OPEN, "POST", url, &body, 0, "POST chats", &a, err, errlen);
	if (rc == DM_OK && (o->channel = json_strdup(a.j, json_get(a.j, 0, "id"))) == NULL) {
		snprintf(err, errlen, "teams: POST chats: no chat id");
		rc = DM_UNAVAILABLE;
	}
	free(url);
	buf_free(&body);
	dm_answer_free(&a);
	return rc;
}

static char *
chat_messages_url(struct driver_ctx *ctx, const char *chat)
{
	struct buf u = { 0 };

	buf_printf(&u, "%s/chats/", drv_inst(ctx, PLAT_TEAMS)->api_url);
	buf_urlencode(&u, chat, strlen(chat));
	buf_adds(&u, "/messages");
	return u.p;
}

static int
graph_dm_send(struct driver_ctx *ctx, const struct dm *m, struct dm_out *o, char *err,
    size_t errlen)
{
	struct dm_answer a = { 0 };
	struct buf body = { 0 };
	char *url;
	int rc;

	if ((rc = graph_chat(ctx, m, o, err, errlen)) != DM_OK)
		return rc;
	buf_adds(&body, "{\"body\":{\"contentType\":\"html\",\"content\":");
	buf_json_str(&body, m->text);
	buf_adds(&body, "}}");
	url = chat_messages_url(ctx, o->channel);
	/* a post whose answer was lost is in doubt: never repeated blindly */
	rc = graph_dm_call(ctx, RATE_POST, "POST", url, &body, 1, "POST chats/{id}/messages",
	    &a, err, errlen);
	if (rc == DM_OK)
		o->message_id = json_strdup(a.j, json_get(a.j, 0, "id"));
	free(url);
	buf_free(&body);
	dm_answer_free(&a);
	return rc;
}

static int
graph_dm_find(struct driver_ctx *ctx, const struct dm *m, int *found, struct dm_out *o,
    char *err, size_t errlen)
{
	struct dm_answer a = { 0 };
	char *url, *full;
	int rc;

	*found = 0;
	if ((rc = graph_chat(ctx, m, o, err, errlen)) != DM_OK)
		return rc;
	url = chat_messages_url(ctx, o->channel);
	full = xasprintf("%s?$top=50", url);
	rc = graph_dm_call(ctx, RATE_OPEN, "GET", full, NULL, 0, "GET chats/{id}/messages",
	    &a, err, errlen);
	drv_dm_search(a.j, rc == DM_OK ? json_get(a.j, 0, "value") : -1,
	    (const char *const[]){ "body.content", NULL }, "id", m->ref, found, o);
	free(full);
	free(url);
	dm_answer_free(&a);
	return rc;
}

/* ---- events (issue 11): subscriptions and the catch-up, with the app's token ---- */

/* graph_token as drv_dm_call's credential hook. */
static int
graph_app_credential(struct driver_ctx *ctx, int force, char *err, size_t errlen)
{
	return graph_token(ctx, force, err, errlen) == FAIL_NONE ? DM_OK : DM_UNAVAILABLE;
}

static int
graph_ev_init(struct driver_ctx *ctx, char *err, size_t errlen)
{
	if (ctx->priv == NULL && graph_init(ctx, err, errlen) < 0)
		return -1;
	drv_buckets_init(ctx, PLAT_TEAMS);
	return 0;
}

static int
graph_ev_call(struct driver_ctx *ctx, const char *method, const char *url,
    const struct buf *body, const char *what, struct dm_answer *a, enum fail *cls, char *err,
    size_t errlen)
{
	return ev_call(ctx, &(const struct dm_call){ RATE_OPEN, { method, url, NULL,
	    body ? "application/json" : NULL, body ? body->p : NULL, body ? body->len : 0, what,
	    0 }, graph_dm_status, graph_app_credential }, a, cls, err, errlen);
}

/* The body of a create (every field) or a renewal (the expiry alone). */
static void
subscription_body(struct buf *b, const struct evsub *s, int create)
{
	char iso[32];

	fmt_iso8601(s->expires, iso);
	buf_adds(b, "{\"expirationDateTime\":");
	buf_json_str(b, iso);
	if (create) {
		buf_adds(b, ",\"changeType\":\"created\",\"notificationUrl\":");
		buf_json_str(b, s->url);
		buf_adds(b, ",\"lifecycleNotificationUrl\":");
		buf_json_str(b, s->url);
		buf_adds(b, ",\"resource\":");
		buf_printf(b, "\"/users/%s/chats/getAllMessages\"", s->user);
		buf_adds(b, ",\"clientState\":");
		buf_json_str(b, s->secret);
	}
	buf_addc(b, '}');
}

static int
graph_ev_sub(struct driver_ctx *ctx, enum evsub_op op, const struct evsub *s,
    struct evsub_out *o, enum fail *cls, char *err, size_t errlen)
{
	static const char *const what[] = { "POST subscriptions", "PATCH subscriptions/{id}",
	    "PATCH subscriptions/{id}", "DELETE subscriptions/{id}", "GET subscriptions/{id}" };
	static const char *const method[] = { "POST", "PATCH", "PATCH", "DELETE", "GET" };
	struct dm_answer a = { 0 };
	struct buf url = { 0 }, body = { 0 };
	char *exp;
	int rc;

	if (op == EVSUB_CREATE && strspn(s->user, "0123456789abcdefABCDEF-") != strlen(s->user)) {
		snprintf(err, errlen, "teams: POST subscriptions: user id %.80s is no object id",
		    s->user);
		*cls = FAIL_DATA;
		return EV_FAIL;
	}
	buf_printf(&url, "%s/subscriptions", ctx->cfg->plat[PLAT_TEAMS].api_url);
	if (op != EVSUB_CREATE) {
		buf_addc(&url, '/');
		buf_urlencode(&url, s->id, strlen(s->id));
	}
	if (op == EVSUB_CREATE || op == EVSUB_RENEW || op == EVSUB_REACTIVATE)
		subscription_body(&body, s, op == EVSUB_CREATE);
	rc = graph_ev_call(ctx, method[op], url.p, body.len ? &body : NULL, what[op], &a, cls,
	    err, errlen);
	if (rc == EV_OK && op == EVSUB_CREATE &&
	    (o->id = json_strdup(a.j, json_get(a.j, 0, "id"))) == NULL) {
		snprintf(err, errlen, "teams: POST subscriptions: no id in the answer");
		*cls = FAIL_DATA;
		rc = EV_FAIL;
	}
	if (rc == EV_OK && (exp = json_strdup(a.j, json_get(a.j, 0, "expirationDateTime")))) {
		if (parse_iso8601(exp, &o->expires) < 0)
			o->expires = 0;
		free(exp);
	}
	if (body.p)
		explicit_bzero(body.p, body.len);	/* the clientState */
	buf_free(&body);
	buf_free(&url);
	dm_answer_free(&a);
	return rc;
}

/* The messages of chat (newest first, one page) sent by others since h->since. */
static int
graph_chat_messages(struct driver_ctx *ctx, const struct ev_history *h, const char *chat,
    enum fail *cls, char *err, size_t errlen)
{
	struct dm_answer a = { 0 };
	struct buf key = { 0 };
	struct ev_msg m;
	char *base = chat_messages_url(ctx, chat), *url = xasprintf("%s?$top=50", base);
	char *id, *from, *type, *created;
	int rc, arr, e;

	rc = graph_ev_call(ctx, "GET", url, NULL, "GET chats/{id}/messages", &a, cls, err,
	    errlen);
	arr = rc == EV_OK ? json_get(a.j, 0, "value") : -1;
	for (e = json_first(a.j, arr); e >= 0 && rc == EV_OK; e = json_next(a.j, arr, e)) {
		id = json_strdup(a.j, json_get(a.j, e, "id"));
		from = json_strdup(a.j, json_path(a.j, e, "from.user.id"));
		type = json_strdup(a.j, json_get(a.j, e, "messageType"));
		created = json_strdup(a.j, json_get(a.j, e, "createdDateTime"));
		buf_reset(&key);
		buf_printf(&key, "teams:%s/%s", chat, id ? id : "");
		m = (struct ev_msg){ key.p, from, 0 };
		if (id && from && type && strcmp(type, "message") == 0 && created &&
		    parse_iso8601(created, &m.ts) == 0 && m.ts >= h->since &&
		    strcmp(from, h->user) != 0 && h->cb(&m, h->arg) < 0) {
			*cls = FAIL_IO;
			rc = EV_FAIL;
		}
		free(id);
		free(from);
		free(type);
		free(created);
	}
	buf_free(&key);
	free(url);
	free(base);
	dm_answer_free(&a);
	return rc == EV_GONE ? EV_OK : rc;
}

/* The person's one-on-one chats (GET users/{id}/chats, filtered), then each one's recent
 * messages. */
static int
graph_ev_history(struct driver_ctx *ctx, const struct ev_history *h, enum fail *cls,
    char *err, size_t errlen)
{
	struct dm_answer a = { 0 };
	struct buf url = { 0 };
	char *chat;
	size_t n = 0;
	int rc, arr, e;

	buf_printf(&url, "%s/users/", ctx->cfg->plat[PLAT_TEAMS].api_url);
	buf_urlencode(&url, h->user, strlen(h->user));
	buf_adds(&url, "/chats?$filter=chatType%20eq%20'oneOnOne'&$top=50");
	rc = graph_ev_call(ctx, "GET", url.p, NULL, "GET users/{id}/chats", &a, cls, err,
	    errlen);
	arr = rc == EV_OK ? json_get(a.j, 0, "value") : -1;
	for (e = json_first(a.j, arr); e >= 0 && rc == EV_OK && n < h->max_rooms;
	    e = json_next(a.j, arr, e), n++) {
		if ((chat = json_strdup(a.j, json_get(a.j, e, "id"))) != NULL)
			rc = graph_chat_messages(ctx, h, chat, cls, err, errlen);
		free(chat);
	}
	buf_free(&url);
	dm_answer_free(&a);
	return rc == EV_GONE ? EV_OK : rc;
}

/* ---- Sync now (drivers/oauth.c) ---- */

/* The user behind the new token: GET /me, in the configured tenant. */
static char *
graph_me(const struct config *cfg)
{
	return xasprintf("%s/me?$select=id", cfg->plat[PLAT_TEAMS].api_url);
}

static const char *
graph_tenant(const struct config *cfg)
{
	return cfg->teams.tenant_id;
}

static int
graph_grant_dead(long status, const char *code, const struct json *j)
{
	(void)j;
	return status == 400 && (strcmp(code, "invalid_grant") == 0 ||
	    strcmp(code, "interaction_required") == 0);
}

/* The first of error_codes, as " (AADSTS70000)". */
static void
graph_error_detail(const struct json *j, char *out, size_t outlen)
{
	int ec = json_get(j, 0, "error_codes");
	int64_t v;

	if (json_is_array(j, ec) && json_i64(j, json_first(j, ec), &v) == 0)
		snprintf(out, outlen, " (AADSTS%lld)", (long long)v);
}

static const struct driver_oauth graph_oauth = {
	.flags = OAUTH_PKCE | OAUTH_SCOPED,
	.endpoint = "token",
	.authorize = (const char *const[]){ "client_id", "response_type=code", "redirect_uri",
	    "response_mode=query", "scope", "state", "code_challenge", NULL },
	.me = graph_me,
	.me_what = "GET /me",
	.team = graph_tenant,
	.grant_dead = graph_grant_dead,
	.error_detail = graph_error_detail,
};

/* HTML: a name is text, also inside an attribute. */
static const char *const graph_escape[128] = {
	['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;",
};

const struct driver graph_driver = {
	.platform = PLAT_TEAMS,
	.name = "teams",
	.title = "Microsoft Teams",
	.caps = DRV_CAP_DM | DRV_CAP_DELTA,
	.oauth = &graph_oauth,
	.prompt_default = "<p>Hi {first_name}!</p><p>Our company chats across Slack, Microsoft "
	    "Teams and Webex. Sync your account once so that messages from colleagues on the "
	    "other platforms reach you here, as normal Teams messages.</p><p><a href=\"{link}\">"
	    "<b>Sync now</b></a> <small>(ref {ref})</small></p>",
	.escape = graph_escape,
	.init = graph_init,
	.fini = graph_fini,
	.pull = graph_pull,
	.dm_init = graph_dm_init,
	.dm_send = graph_dm_send,
	.dm_find = graph_dm_find,
	.zone = graph_zone,
	.ev_init = graph_ev_init,
	.ev_sub = graph_ev_sub,
	.ev_history = graph_ev_history,
};
