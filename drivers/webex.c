/*
 * webex.c — Webex REST v1: roster through GET /people (admin token) with max at its cap,
 * paging through the Link header's rel="next". Facts: shared/docs/platform-apis.md §3:
 * invitePending/loginEnabled come as JSON booleans or as "true"/"false" strings; next links
 * have been seen with an errant max=null parameter that breaks them, which is removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "json.h"
#include "paging.h"
#include "tokens.h"

static int
webex_init(struct driver_ctx *ctx, char *err, size_t errlen)
{
	if (drv_inst(ctx, PLAT_WEBEX)->token == NULL) {
		snprintf(err, errlen, "webex: no token configured");
		return -1;
	}
	http_set_bearer(ctx->http, drv_inst(ctx, PLAT_WEBEX)->token);
	return 0;
}

static void
webex_fini(struct driver_ctx *ctx)
{
	(void)ctx;
}

int
webex_parse_person(const struct json *j, int p, struct account *a)
{
	int v, arr, e;
	char *s;
	time_t t;

	memset(a, 0, sizeof(*a));
	a->platform = PLAT_WEBEX;
	a->user_id = json_strdup(j, json_get(j, p, "id"));
	if (a->user_id == NULL || *a->user_id == '\0') {
		account_free(a);
		return -1;
	}
	a->team_id = json_strdup(j, json_get(j, p, "orgId"));
	if (a->team_id == NULL || *a->team_id == '\0') {
		free(a->team_id);
		a->team_id = xstrdup("unknown");
	}
	arr = json_get(j, p, "emails");
	if (json_is_array(j, arr))
		for (e = json_first(j, arr); e >= 0; e = json_next(j, arr, e)) {
			s = json_strdup(j, e);
			drv_add_email(a, s, LINK_EMAIL);
			free(s);
		}
	s = json_strdup(j, json_get(j, p, "type"));
	if (s && strcmp(s, "bot") == 0)
		a->flags |= ACCT_BOT;
	else if (s && strcmp(s, "appuser") == 0)
		a->flags |= ACCT_APP;	/* a guest-issuer app identity, not a person */
	free(s);
	if (json_boolish(j, json_get(j, p, "invitePending"), &v) == 0 && v)
		a->flags |= ACCT_INVITED;
	if (json_boolish(j, json_get(j, p, "loginEnabled"), &v) == 0 && !v)
		a->flags |= ACCT_NOLOGIN;
	a->name = json_strdup(j, json_get(j, p, "displayName"));
	a->first_name = json_strdup(j, json_get(j, p, "firstName"));
	a->tz = json_strdup(j, json_get(j, p, "timezone"));	/* IANA, e.g. "America/Denver" */
	if (a->tz != NULL && *a->tz == '\0') {
		free(a->tz);
		a->tz = NULL;
	}
	s = json_strdup(j, json_get(j, p, "lastActivity"));
	if (s && parse_iso8601(s, &t) == 0)
		a->updated = (int64_t)t;
	free(s);
	drv_clip_account(a);
	return 0;
}

/* webex_parse_person as a drv_parse_fn: a person's org comes from the item itself. */
static int
parse_person(const struct json *j, int p, const char *team, struct account *a)
{
	(void)team;
	return webex_parse_person(j, p, a);
}

/* Removes max=null query parameters (a known defect of Webex next links). */
static char *
clean_next(const char *url)
{
	struct buf b = { 0 };
	const char *q = strchr(url, '?'), *p;

	if (q == NULL)
		return xstrdup(url);
	buf_add(&b, url, (size_t)(q - url));
	for (p = q + 1; *p; ) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);
		if (!(n == 8 && strncmp(p, "max=null", 8) == 0)) {
			buf_addc(&b, b.len == (size_t)(q - url) ? '?' : '&');
			buf_add(&b, p, n);
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return b.p;
}

/* A Webex answer: FAIL_NONE for a 2xx, else err "webex: what: HTTP n, message, trackingId
 * id" and its class: 401 the token's trouble, not the message's (FAIL_CONFIG); 423 and 5xx
 * the platform's (FAIL_LATER); anything else refuses the request (FAIL_DATA). */
static enum fail
webex_status(const struct http_resp *resp, const struct json *j, const char *what, char *err,
    size_t errlen)
{
	char *m;

	if (resp->status >= 200 && resp->status < 300)
		return FAIL_NONE;
	m = j->ntok ? json_strdup(j, json_get(j, 0, "message")) : NULL;
	snprintf(err, errlen, "webex: %s: HTTP %ld%s%s%s%s", what, resp->status, m ? ", " : "",
	    m ? m : "", resp->tracking_id ? ", trackingId " : "",
	    resp->tracking_id ? resp->tracking_id : "");
	free(m);
	if (resp->status == 401)
		return FAIL_CONFIG;
	return resp->status >= 500 || resp->status == 423 ? FAIL_LATER : FAIL_DATA;
}

/* The org's name: the config's org_name, else GET /organizations/{id} (displayName). */
static void
webex_org_name(struct driver_ctx *ctx, struct pull_sink *sink, const char *org)
{
	const struct cfg_platform *pc = drv_inst(ctx, PLAT_WEBEX);
	struct buf url = { 0 };

	if (pc->team_name != NULL) {
		if (sink->team)
			sink->team(sink, org, pc->team_name);
		return;
	}
	buf_printf(&url, "%s/organizations/", pc->api_url);
	buf_urlencode(&url, org, strlen(org));
	drv_team_name(ctx, sink, org, url.p, "GET /organizations/{id}", 0, "displayName",
	    org);
	buf_free(&url);
}

static int
webex_pull(struct driver_ctx *ctx, const char *cursor_in, struct pull_sink *sink,
    struct pull_result *res)
{
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	struct cursor_guard guard = { 0 };
	struct buf what = { 0 };
	struct account *accts = NULL;
	char *url;
	int rc = -1, cap = 0, named = 0;

	(void)cursor_in;
	res->full = 1;
	url = xasprintf("%s/people?max=%d", drv_inst(ctx, PLAT_WEBEX)->api_url,
	    drv_inst(ctx, PLAT_WEBEX)->page_size > 0 ? drv_inst(ctx, PLAT_WEBEX)->page_size : 1000);
	for (;;) {
		int arr, n;

		buf_reset(&what);
		buf_printf(&what, "GET people page %ld", res->pages + 1);
		if (http_json(ctx->http, "GET", url, NULL, NULL, NULL, 0, what.p, &resp, &j,
		    res->err, sizeof(res->err)) < 0) {
			res->cls = FAIL_LATER;
			goto out;
		}
		if (webex_status(&resp, &j, what.p, res->err, sizeof(res->err)) != FAIL_NONE) {
			res->cls = drv_status_fail(resp.status);
			goto out;
		}
		arr = json_get(&j, 0, "items");
		if (!json_is_array(&j, arr)) {
			pull_fail(res, FAIL_DATA, "webex: %s: no \"items\" array", what.p);
			goto out;
		}
		n = drv_parse_items(&j, arr, parse_person, NULL, &accts, &cap);
		if (!named && n > 0) {
			webex_org_name(ctx, sink, accts[0].team_id);
			named = 1;
		}
		if ((rc = drv_page(sink, res, accts, n)) < 0)
			goto out;
		rc = -1;
		free(url);
		url = NULL;
		if (resp.link_next == NULL)
			break;
		url = clean_next(resp.link_next);
		if (cursor_guard_seen(&guard, url)) {
			pull_fail(res, FAIL_DATA, "webex: %s: Link rel=\"next\" repeats an earlier "
			    "link; refusing to loop", what.p);
			goto out;
		}
	}
	res->complete = 1;
	rc = 0;
out:
	drv_pull_free(url, accts, &guard, &what, &j, &resp);
	return rc;
}

/* ---- direct messages ---- */

static int
webex_dm_init(struct driver_ctx *ctx, char *err, size_t errlen)
{
	const struct cfg_platform *c = drv_inst(ctx, PLAT_WEBEX);

	if (c->token == NULL) {
		snprintf(err, errlen, "webex: no token configured");
		return DM_REFUSED;
	}
	http_set_bearer(ctx->http, c->token);
	drv_buckets_init(ctx, PLAT_WEBEX);
	return DM_OK;
}

static int
webex_dm_send(struct driver_ctx *ctx, const struct dm *m, struct dm_out *o, char *err,
    size_t errlen)
{
	struct dm_answer a = { 0 };
	struct buf body = { 0 };
	char *url = xasprintf("%s/messages", drv_inst(ctx, PLAT_WEBEX)->api_url);
	int rc;

	buf_adds(&body, "{\"toPersonId\":");
	buf_json_str(&body, m->to->user_id);
	buf_adds(&body, ",\"markdown\":");
	buf_json_str(&body, m->text);
	buf_addc(&body, '}');
	/* a post whose answer was lost is in doubt: never repeated blindly */
	rc = drv_dm_call(ctx, &(const struct dm_call){ RATE_POST, { "POST", url, NULL,
	    "application/json", body.p, body.len, "POST messages", 1 }, webex_status, NULL },
	    &a, err, errlen);
	if (rc == DM_OK) {
		o->message_id = json_strdup(a.j, json_get(a.j, 0, "id"));
		o->channel = json_strdup(a.j, json_get(a.j, 0, "roomId"));
	}
	dm_answer_free(&a);
	buf_free(&body);
	free(url);
	return rc;
}

static int
webex_dm_find(struct driver_ctx *ctx, const struct dm *m, int *found, struct dm_out *o,
    char *err, size_t errlen)
{
	struct dm_answer a = { 0 };
	struct buf url = { 0 };
	int rc;

	*found = 0;
	buf_printf(&url, "%s/messages/direct?personId=", drv_inst(ctx, PLAT_WEBEX)->api_url);
	buf_urlencode(&url, m->to->user_id, strlen(m->to->user_id));
	rc = drv_dm_call(ctx, &(const struct dm_call){ RATE_OPEN, { "GET", url.p, NULL, NULL,
	    NULL, 0, "GET messages/direct", 0 }, webex_status, NULL }, &a, err, errlen);
	drv_dm_search(a.j, rc == DM_OK ? json_get(a.j, 0, "items") : -1,
	    (const char *const[]){ "markdown", "text", NULL }, "id", m->ref, found, o);
	buf_free(&url);
	dm_answer_free(&a);
	return rc;
}

/* ---- events (issue 11): webhooks and the catch-up ---- */

static int
webex_ev_init(struct driver_ctx *ctx, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	drv_buckets_init(ctx, PLAT_WEBEX);
	return 0;
}

/* One call with the person's token (a webhook is its creator's; so is a room list). */
static int
webex_ev_call(struct driver_ctx *ctx, const char *token, const char *method, const char *url,
    const struct buf *body, const char *what, struct dm_answer *a, enum fail *cls, char *err,
    size_t errlen)
{
	http_set_bearer(ctx->http, token ? token : ctx->cfg->plat[PLAT_WEBEX].token);
	return ev_call(ctx, &(const struct dm_call){ RATE_OPEN, { method, url, NULL,
	    body ? "application/json" : NULL, body ? body->p : NULL, body ? body->len : 0, what,
	    0 }, webex_status, NULL }, a, cls, err, errlen);
}

/* The body of a create (POST) or re-activation (PUT: name and targetUrl are required). */
static void
webhook_body(struct buf *b, const struct evsub *s, int create)
{
	buf_adds(b, "{\"name\":\"peoplesync direct messages\",\"targetUrl\":");
	buf_json_str(b, s->url);
	if (create)
		buf_adds(b, ",\"resource\":\"messages\",\"event\":\"created\","
		    "\"filter\":\"roomType=direct\"");
	else
		buf_adds(b, ",\"status\":\"active\"");
	buf_adds(b, ",\"secret\":");
	buf_json_str(b, s->secret);
	buf_addc(b, '}');
}

static int
webex_ev_sub(struct driver_ctx *ctx, enum evsub_op op, const struct evsub *s,
    struct evsub_out *o, enum fail *cls, char *err, size_t errlen)
{
	static const char *const what[] = { "POST webhooks", "PUT webhooks/{id} (renew)",
	    "PUT webhooks/{id}", "DELETE webhooks/{id}", "GET webhooks/{id}" };
	static const char *const method[] = { "POST", "PUT", "PUT", "DELETE", "GET" };
	struct dm_answer a = { 0 };
	struct buf url = { 0 }, body = { 0 };
	char *st;
	int rc;

	buf_printf(&url, "%s/webhooks", ctx->cfg->plat[PLAT_WEBEX].api_url);
	if (op != EVSUB_CREATE) {
		buf_addc(&url, '/');
		buf_urlencode(&url, s->id, strlen(s->id));
	}
	if (op == EVSUB_CREATE || op == EVSUB_REACTIVATE || op == EVSUB_RENEW)
		webhook_body(&body, s, op == EVSUB_CREATE);
	rc = webex_ev_call(ctx, s->token, method[op], url.p, body.len ? &body : NULL, what[op],
	    &a, cls, err, errlen);
	if (rc == EV_OK && op == EVSUB_CREATE &&
	    (o->id = json_strdup(a.j, json_get(a.j, 0, "id"))) == NULL) {
		snprintf(err, errlen, "webex: POST webhooks: no id in the answer");
		*cls = FAIL_DATA;
		rc = EV_FAIL;
	}
	if (rc == EV_OK && (st = json_strdup(a.j, json_get(a.j, 0, "status"))) != NULL) {
		o->inactive = strcmp(st, "inactive") == 0;
		free(st);
	}
	if (body.p)
		explicit_bzero(body.p, body.len);	/* the secret */
	buf_free(&body);
	buf_free(&url);
	dm_answer_free(&a);
	return rc;
}

/* The messages of room (newest first) sent by others since h->since. */
static int
webex_room_messages(struct driver_ctx *ctx, const struct ev_history *h, const char *room,
    enum fail *cls, char *err, size_t errlen)
{
	struct dm_answer a = { 0 };
	struct buf url = { 0 }, key = { 0 };
	struct ev_msg m;
	char *id, *from, *created;
	int rc, arr, e;

	buf_printf(&url, "%s/messages?max=100&roomId=", ctx->cfg->plat[PLAT_WEBEX].api_url);
	buf_urlencode(&url, room, strlen(room));
	rc = webex_ev_call(ctx, h->token, "GET", url.p, NULL, "GET messages?roomId=", &a, cls,
	    err, errlen);
	arr = rc == EV_OK ? json_get(a.j, 0, "items") : -1;
	for (e = json_first(a.j, arr); e >= 0 && rc == EV_OK; e = json_next(a.j, arr, e)) {
		id = json_strdup(a.j, json_get(a.j, e, "id"));
		from = json_strdup(a.j, json_get(a.j, e, "personId"));
		created = json_strdup(a.j, json_get(a.j, e, "created"));
		buf_reset(&key);
		buf_printf(&key, "webex:%s", id ? id : "");
		m = (struct ev_msg){ key.p, from, 0 };
		if (id && from && created && parse_iso8601(created, &m.ts) == 0 &&
		    m.ts >= h->since && strcmp(from, h->user) != 0 && h->cb(&m, h->arg) < 0) {
			*cls = FAIL_IO;
			rc = EV_FAIL;
		}
		free(id);
		free(from);
		free(created);
	}
	buf_free(&key);
	buf_free(&url);
	dm_answer_free(&a);
	return rc == EV_GONE ? EV_OK : rc;	/* a room gone since the list: nothing in it */
}

/* The person's direct rooms (GET rooms?type=direct, most recent activity first), then the
 * recent messages of each that was active since h->since. */
static int
webex_ev_history(struct driver_ctx *ctx, const struct ev_history *h, enum fail *cls,
    char *err, size_t errlen)
{
	struct dm_answer a = { 0 };
	char *url, *room, *active;
	size_t n = 0;
	time_t t;
	int rc, arr, e;

	url = xasprintf("%s/rooms?type=direct&sortBy=lastactivity&max=%zu",
	    ctx->cfg->plat[PLAT_WEBEX].api_url, h->max_rooms ? h->max_rooms : 100);
	rc = webex_ev_call(ctx, h->token, "GET", url, NULL, "GET rooms?type=direct", &a, cls,
	    err, errlen);
	arr = rc == EV_OK ? json_get(a.j, 0, "items") : -1;
	for (e = json_first(a.j, arr); e >= 0 && rc == EV_OK && n < h->max_rooms;
	    e = json_next(a.j, arr, e), n++) {
		room = json_strdup(a.j, json_get(a.j, e, "id"));
		active = json_strdup(a.j, json_get(a.j, e, "lastActivity"));
		if (room && (active == NULL || parse_iso8601(active, &t) < 0 || t >= h->since))
			rc = webex_room_messages(ctx, h, room, cls, err, errlen);
		free(room);
		free(active);
	}
	free(url);
	dm_answer_free(&a);
	return rc;
}

/* ---- Sync now (drivers/oauth.c) ---- */

/* The person behind the new token: GET /people/me (id, orgId). */
/* check-config --online: webex.token proven by GET /people/me, which says whose it is (the
 * answer lists no scopes: nothing to compare). */
static int
webex_check_online(struct driver_ctx *ctx, struct drv_check *c)
{
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	char *url = xasprintf("%s/people/me", ctx->cfg->plat[PLAT_WEBEX].api_url);
	char *name = NULL, *type = NULL, *who;
	int rc = -1;

	if (http_json(ctx->http, "GET", url, NULL, NULL, NULL, 0, "GET /people/me", &resp, &j,
	    c->err, sizeof(c->err)) < 0) {
		c->cls = FAIL_LATER;
		goto out;
	}
	if ((c->cls = webex_status(&resp, &j, "GET /people/me", c->err, sizeof(c->err))) !=
	    FAIL_NONE) {
		if (resp.status == 403)
			c->cls = FAIL_CONFIG;
		goto out;
	}
	name = json_strdup(&j, json_get(&j, 0, "displayName"));
	type = json_strdup(&j, json_get(&j, 0, "type"));
	who = xasprintf("%s (%s)", name ? name : "?", type ? type : "?");
	drv_check_add(c, SH_COUNT, "token", who, NULL);
	free(who);
	rc = 0;
out:
	free(name);
	free(type);
	free(url);
	json_free(&j);
	http_resp_free(&resp);
	return rc;
}

static char *
webex_me(const struct config *cfg)
{
	return xasprintf("%s/people/me", cfg->plat[PLAT_WEBEX].api_url);
}

/* A dead refresh token: invalid_grant, or a 400 whose message speaks of the refresh token. */
static int
webex_grant_dead(long status, const char *code, const struct json *j)
{
	char *m;
	int dead;

	if (status != 400)
		return 0;
	m = j->ntok > 0 ? json_strdup(j, json_get(j, 0, "message")) : NULL;
	dead = strcmp(code, "invalid_grant") == 0 || (m && strcasestr(m, "refresh token"));
	free(m);
	return dead;
}

static const struct driver_oauth webex_oauth = {
	.endpoint = "access_token",
	.authorize = (const char *const[]){ "client_id", "response_type=code", "redirect_uri",
	    "scope", "state", NULL },
	.me = webex_me,
	.me_what = "GET /people/me",
	.team_key = "orgId",
	.grant_dead = webex_grant_dead,
};

/* Markdown: HTML's three, and markdown punctuation in a name stays text. */
static const char *const webex_escape[128] = {
	['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;",
	['['] = "\\[", [']'] = "\\]", ['*'] = "\\*", ['_'] = "\\_", ['`'] = "\\`",
	['\\'] = "\\\\",
};

const struct driver webex_driver = {
	.platform = PLAT_WEBEX,
	.name = "webex",
	.title = "Webex",
	.caps = DRV_CAP_DM,
	.oauth = &webex_oauth,
	.prompt_default = "Hi {first_name}! Our company chats across Slack, Microsoft Teams "
	    "and Webex. Sync your account once so that messages from colleagues on the other "
	    "platforms reach you here, as normal Webex messages.\n\n**[Sync now]({link})** "
	    "(ref {ref})",
	.escape = webex_escape,
	.init = webex_init,
	.fini = webex_fini,
	.pull = webex_pull,
	.dm_init = webex_dm_init,
	.dm_send = webex_dm_send,
	.dm_find = webex_dm_find,
	.ev_init = webex_ev_init,
	.ev_sub = webex_ev_sub,
	.ev_history = webex_ev_history,
	.check = webex_check_online,
};
