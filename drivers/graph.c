/*
 * graph.c — Microsoft Graph (Teams): app-only token by client credentials (the tokens come
 * from drivers/msid.c), roster through GET /users ($select, $top, @odata.nextLink) and
 * incremental runs through /users/delta.
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
#include "graph_p.h"
#include "json.h"
#include "paging.h"
#include "tokens.h"
#include "graph_p.h"

#define SELECT	"id,userPrincipalName,mail,otherMails,proxyAddresses,accountEnabled," \
		"userType,displayName,givenName,externalUserState"

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
		ms_zfree(&gp->token);
		ms_zfree(&gp->utoken);
		ms_zfree(&gp->refresh);
		free(gp->me);
		free(gp->uscope);
		free(gp);
	}
	ctx->priv = NULL;
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

/* ---- check-config --online, login teams ---- */

/* One GET of the check, with the bearer set: FAIL_NONE with a 200 answer in resp and j,
 * else the class with c->err set ("teams: GET /organization: HTTP 403"). */
static enum fail
check_get(struct driver_ctx *ctx, const char *path, const char *what, struct http_resp *resp,
    struct json *j, struct drv_check *c)
{
	char *url = xasprintf("%s%s", ctx->cfg->plat[PLAT_TEAMS].api_url, path);
	enum fail cls = FAIL_NONE;

	http_resp_free(resp);
	json_free(j);
	if (http_json(ctx->http, "GET", url, NULL, NULL, NULL, 0, what, resp, j, c->err,
	    sizeof(c->err)) < 0)
		cls = FAIL_LATER;
	else if (resp->status != 200) {
		snprintf(c->err, sizeof(c->err), "teams: %s: HTTP %ld", what, resp->status);
		cls = drv_status_fail(resp->status);
	}
	free(url);
	return cls;
}

/*
 * check-config --online. The app registration: its token, the application permissions its
 * roles claim lists, and GET /users proven by use (without a roles claim, a 403 there is an
 * empty grant the caller names). The
 * service user: its refresh token renewed (the rotated one saved), the scopes the answer
 * lists, and GET /organization with its token (User.Read) naming the tenant.
 */
static int
graph_check_online(struct driver_ctx *ctx, struct drv_check *c)
{
	const struct cfg_teams *t = &ctx->cfg->teams;
	struct graph_priv *gp = ctx->priv;
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	char *who = xasprintf("client %s in tenant %s", t->client_id, t->tenant_id), *name, *id;
	char *roles = NULL;
	enum fail cls;
	int org;

	if ((cls = graph_token(ctx, 0, c->err, sizeof(c->err))) != FAIL_NONE)
		goto out;
	roles = ms_token_roles(gp->token);
	cls = check_get(ctx, "/users?$top=1&$select=id", "GET /users", &resp, &j, c);
	if (cls != FAIL_NONE && resp.status != 403)
		goto out;
	/* the token's roles claim lists the permissions; without one, a 403 from the roster's
	 * call says at least that none of them is there */
	drv_check_add(c, SH_TEAMS_APP, "app registration", who, roles ? roles : cls ? "" : NULL);
	cls = FAIL_NONE;
	if (t->service_user_refresh_token == NULL) {
		drv_check_add(c, SH_COUNT, "service user", "none yet (prompts on Teams wait for "
		    "`peoplesync login teams`)", NULL);
		goto out;
	}
	gp->refresh = xstrdup(t->service_user_refresh_token);
	if (graph_user_token(ctx, 1, c->err, sizeof(c->err)) != DM_OK) {
		cls = gp->ucls;
		goto out;
	}
	cls = check_get(ctx, "/organization?$select=id,displayName", "GET /organization", &resp,
	    &j, c);
	if (cls != FAIL_NONE)
		goto out;
	org = json_first(&j, json_get(&j, 0, "value"));
	name = json_strdup(&j, json_get(&j, org, "displayName"));
	id = json_strdup(&j, json_get(&j, org, "id"));
	free(who);
	who = xasprintf("tenant %s (%s)", id ? id : "?", name ? name : "?");
	drv_check_add(c, SH_TEAMS_SERVICE, "service user", who, gp->uscope ? gp->uscope : "");
	free(name);
	free(id);
out:
	free(roles);
	free(who);
	json_free(&j);
	http_resp_free(&resp);
	return cls == FAIL_NONE ? 0 : drv_check_fail(c, cls);
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
	.check = graph_check_online,
	.device = &graph_device,
};
