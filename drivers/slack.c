/*
 * slack.c — the Slack Web API: roster through users.list with cursor paging, for one
 * workspace (ctx->pc, a slack.workspaces entry) or for every workspace of an Enterprise Grid
 * (org_wide: auth.teams.list, then users.list per team_id); team names from team.info; a
 * member into an account in slack_member.c. Facts: shared/docs/platform-apis.md §1 (HTTP
 * 200 with ok:false errors, '/' escaped as '\/').
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "json.h"
#include "paging.h"
#include "tokens.h"

struct slack_priv {
	char	*team_id;	/* from auth.test */
	char	*team_name;
};

static int
slack_init(struct driver_ctx *ctx, char *err, size_t errlen)
{
	if (drv_inst(ctx, PLAT_SLACK)->token == NULL) {
		snprintf(err, errlen, "slack: no bot token configured");
		return -1;
	}
	http_set_bearer(ctx->http, drv_inst(ctx, PLAT_SLACK)->token);
	ctx->priv = xcalloc(1, sizeof(struct slack_priv));
	return 0;
}

static void
slack_fini(struct driver_ctx *ctx)
{
	struct slack_priv *sp = ctx->priv;

	if (sp) {
		free(sp->team_id);
		free(sp->team_name);
		free(sp);
	}
	ctx->priv = NULL;
}

/*
 * What a Slack error code says against: the credential (FAIL_CONFIG: gone, revoked, not
 * allowed), nobody (FAIL_LATER: too fast, Slack had trouble), else the request itself
 * (FAIL_DATA).
 */
static enum fail
slack_error_class(const char *code)
{
	static const char *const credential[] = {
		"not_authed", "invalid_auth", "account_inactive", "token_revoked",
		"token_expired", "no_permission", "missing_scope", "not_allowed_token_type",
		"org_login_required", "ekm_access_denied", "two_factor_setup_required",
		"team_added_to_org", NULL
	};
	static const char *const trouble[] = {
		"ratelimited", "rate_limited", "fatal_error", "internal_error",
		"service_unavailable", "request_timeout", NULL
	};

	for (int i = 0; code && credential[i]; i++)
		if (strcmp(code, credential[i]) == 0)
			return FAIL_CONFIG;
	for (int i = 0; code && trouble[i]; i++)
		if (strcmp(code, trouble[i]) == 0)
			return FAIL_LATER;
	return FAIL_DATA;
}

/* Slack answers logical errors with HTTP 200 and {"ok":false,"error":"..."}. FAIL_NONE, or
 * the class of the trouble with err set. */
static enum fail
slack_check(const struct json *j, const struct http_resp *resp, const char *what, char *err,
    size_t errlen)
{
	char *code = json_strdup(j, json_get(j, 0, "error"));
	enum fail cls = slack_error_class(code);
	int ok = 0;

	if (resp->status != 200) {
		snprintf(err, errlen, "slack: %s: HTTP %ld", what, resp->status);
		if (resp->status == 401 || resp->status == 403)
			cls = FAIL_CONFIG;
	} else if (j->ntok == 0 || json_bool(j, json_get(j, 0, "ok"), &ok) < 0) {
		snprintf(err, errlen, "slack: %s: HTTP 200 without an \"ok\" field", what);
		cls = FAIL_DATA;
	} else if (ok) {
		cls = FAIL_NONE;
	} else {
		snprintf(err, errlen, "slack: %s: HTTP 200, error \"%s\"", what,
		    code ? code : "unknown");
	}
	free(code);
	return cls;
}

/* POST auth.test with the bot token: the team (kept in ctx->priv) and, when scopes is not
 * NULL, the granted scopes of the X-OAuth-Scopes header (NULL when absent) and "who" the
 * token is. 0, or -1 with *cls and err. */
static int
slack_auth_test(struct driver_ctx *ctx, enum fail *cls, char *err, size_t errlen,
    char **scopes, char **who)
{
	struct slack_priv *sp = ctx->priv;
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	char *url = xasprintf("%s/auth.test", drv_inst(ctx, PLAT_SLACK)->api_url), *uid;
	int rc = -1;

	if (http_json(ctx->http, "POST", url, NULL, NULL, "", 0, "POST auth.test", &resp, &j,
	    err, errlen) < 0) {
		*cls = FAIL_LATER;
		goto out;
	}
	if ((*cls = slack_check(&j, &resp, "POST auth.test", err, errlen)) != FAIL_NONE)
		goto out;
	sp->team_id = json_strdup(&j, json_get(&j, 0, "team_id"));
	sp->team_name = json_strdup(&j, json_get(&j, 0, "team"));
	if (scopes) {
		*scopes = resp.scopes ? xstrdup(resp.scopes) : NULL;
		uid = json_strdup(&j, json_get(&j, 0, "user_id"));
		*who = xasprintf("team %s (%s), bot user %s", sp->team_id ? sp->team_id : "?",
		    sp->team_name ? sp->team_name : "?", uid ? uid : "?");
		free(uid);
	}
	rc = 0;
out:
	json_free(&j);
	http_resp_free(&resp);
	free(url);
	return rc;
}

/* The answer to a GET of Slack's begun with http_start (or, when none was, the whole GET),
 * which must say "ok": 0, or -1 with res->cls and res->err. */
static int
slack_finish(struct driver_ctx *ctx, const struct http_req *rq, struct http_resp *resp,
    struct json *j, struct pull_result *res)
{
	if (http_finish(ctx->http, rq, resp, j, res->err, sizeof(res->err)) < 0) {
		res->cls = FAIL_LATER;
		return -1;
	}
	if ((res->cls = slack_check(j, resp, rq->what, res->err, sizeof(res->err))) != FAIL_NONE)
		return -1;
	return 0;
}

/* A GET of Slack's whose answer must say "ok": 0, or -1 with res->cls and res->err. */
static int
slack_get(struct driver_ctx *ctx, const char *url, const char *what, struct http_resp *resp,
    struct json *j, struct pull_result *res)
{
	const struct http_req rq = { .method = "GET", .url = url, .what = what };

	return slack_finish(ctx, &rq, resp, j, res);
}

/*
 * The workspace's name from team.info (team: the workspace, or NULL for the token's own),
 * handed to the sink; the config's team_name overrides it. A token without team:read
 * keeps what auth.test said: a name is no reason to fail a pull.
 */
static void
slack_team_info(struct driver_ctx *ctx, const char *team, const char *fallback,
    struct pull_sink *sink)
{
	const struct cfg_platform *pc = drv_inst(ctx, PLAT_SLACK);
	struct pull_result tmp = { 0 };
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	struct buf url = { 0 };
	char *name = NULL;

	if (sink->team == NULL || team == NULL ||
	    (sink->team_known != NULL && sink->team_known(sink, team)))
		return;
	if (pc->team_name != NULL && !pc->org_wide) {
		sink->team(sink, team, pc->team_name);
		return;
	}
	buf_printf(&url, "%s/team.info?team=", pc->api_url);
	buf_urlencode(&url, team, strlen(team));
	if (slack_get(ctx, url.p, "GET team.info", &resp, &j, &tmp) == 0)
		name = json_strdup(&j, json_path(&j, 0, "team.name"));
	else
		log_warn("%s (the name of %s is kept)", tmp.err, team);
	if ((name != NULL && *name != '\0') || fallback != NULL)
		sink->team(sink, team, name != NULL && *name != '\0' ? name : fallback);
	free(name);
	json_free(&j);
	http_resp_free(&resp);
	buf_free(&url);
}

/* The URL and label of page `page` after cursor (NULL: the first). */
static void
users_url(const struct cfg_platform *pc, const char *team, const char *cursor, long page,
    struct buf *url, struct buf *what)
{
	buf_reset(url);
	buf_printf(url, "%s/users.list?limit=%d", pc->api_url,
	    pc->page_size > 0 ? pc->page_size : 200);
	if (team) {
		buf_adds(url, "&team_id=");
		buf_urlencode(url, team, strlen(team));
	}
	if (cursor) {
		buf_adds(url, "&cursor=");
		buf_urlencode(url, cursor, strlen(cursor));
	}
	buf_reset(what);
	buf_printf(what, "GET users.list%s%s page %ld", team ? " team " : "", team ? team : "",
	    page);
}

/* The page's members into accounts, handed to the sink. 0, or -1 with res set. */
static int
users_page(const struct json *j, const char *what, const char *team,
    struct account **accts, int *cap, struct pull_sink *sink, struct pull_result *res)
{
	int members = json_get(j, 0, "members"), m, n = 0;

	if (!json_is_array(j, members)) {
		pull_fail(res, FAIL_DATA, "slack: %s: no \"members\" array", what);
		return -1;
	}
	*accts = drv_accounts(*accts, cap, json_count(j, members));
	for (m = json_first(j, members); m >= 0; m = json_next(j, members, m))
		if (slack_parse_member(j, m, team, &(*accts)[n]) == 0)
			n++;
	if (drv_page(sink, res, *accts, n) < 0) {
		if (res->err[0] == '\0')
			snprintf(res->err, sizeof(res->err), "slack: %s: storing the page failed",
			    what);
		return -1;
	}
	return 0;
}

/*
 * users.list of one workspace (team: its id with an org-wide token, else NULL), page by
 * page into the sink. The next page is asked for before this one is parsed (http_start):
 * the platform answers while we parse, in one thread. 0, or -1 with res set.
 */
static int
slack_users(struct driver_ctx *ctx, const char *team, struct pull_sink *sink,
    struct pull_result *res)
{
	const struct cfg_platform *pc = drv_inst(ctx, PLAT_SLACK);
	struct slack_priv *sp = ctx->priv;
	struct http_resp resp[2] = { { 0 }, { 0 } };
	struct json j[2] = { { 0 }, { 0 } };
	struct buf url[2] = { { 0 }, { 0 } }, what[2] = { { 0 }, { 0 } };
	struct cursor_guard guard = { 0 };
	struct account *accts = NULL;
	char *cursor = NULL;
	int rc = -1, cap = 0, cur = 0, more;
	long page = 1;

	users_url(pc, team, NULL, page, &url[cur], &what[cur]);
	if (slack_get(ctx, url[cur].p, what[cur].p, &resp[cur], &j[cur], res) < 0)
		goto out;
	for (;;) {
		int nxt = !cur;
		struct http_req rq = { .method = "GET" };

		free(cursor);
		cursor = json_strdup(&j[cur], json_path(&j[cur], 0,
		    "response_metadata.next_cursor"));
		/* "", null or absent: the end (not a short page) */
		more = cursor != NULL && *cursor != '\0';
		if (more && cursor_guard_seen(&guard, cursor)) {
			pull_fail(res, FAIL_DATA, "slack: %s: next_cursor repeats an earlier "
			    "cursor; refusing to loop", what[cur].p);
			goto out;
		}
		if (more) {
			users_url(pc, team, cursor, page + 1, &url[nxt], &what[nxt]);
			rq.url = url[nxt].p;
			rq.what = what[nxt].p;
			http_start(ctx->http, &rq, &resp[nxt]);
		}
		if (users_page(&j[cur], what[cur].p, team ? team : sp->team_id, &accts, &cap,
		    sink, res) < 0)
			goto out;
		if (!more)
			break;
		page++;
		if (slack_finish(ctx, &rq, &resp[nxt], &j[nxt], res) < 0)
			goto out;
		cur = nxt;
	}
	rc = 0;
out:
	http_drop(ctx->http);
	free(accts);
	free(cursor);
	cursor_guard_free(&guard);
	for (int i = 0; i < 2; i++) {
		json_free(&j[i]);
		http_resp_free(&resp[i]);
		buf_free(&url[i]);
		buf_free(&what[i]);
	}
	return rc;
}

/* An org-wide token's workspaces (auth.teams.list, paged): ids into *ids (*n), their
 * names to the sink (sink->team may be NULL). 0, or -1 with res set. */
static int
slack_grid_teams(struct driver_ctx *ctx, struct pull_sink *sink, char ***ids, int *n,
    struct pull_result *res)
{
	const struct cfg_platform *pc = drv_inst(ctx, PLAT_SLACK);
	struct cursor_guard guard = { 0 };
	char *cursor = NULL;
	int rc = -1, arr, t;
	struct http_resp resp = { 0 };
	struct buf url = { 0 };
	struct json j = { 0 };

	for (;;) {
		buf_reset(&url);
		buf_printf(&url, "%s/auth.teams.list?limit=1000", pc->api_url);
		if (cursor) {
			buf_adds(&url, "&cursor=");
			buf_urlencode(&url, cursor, strlen(cursor));
		}
		if (slack_get(ctx, url.p, "GET auth.teams.list", &resp, &j, res) < 0)
			goto out;
		if (!json_is_array(&j, arr = json_get(&j, 0, "teams"))) {
			pull_fail(res, FAIL_DATA, "slack: GET auth.teams.list: no \"teams\" array");
			goto out;
		}
		for (t = json_first(&j, arr); t >= 0; t = json_next(&j, arr, t)) {
			char *id = json_strdup(&j, json_get(&j, t, "id"));
			char *name = json_strdup(&j, json_get(&j, t, "name"));

			if (id != NULL && *id != '\0') {
				*ids = xrealloc(*ids, (size_t)(*n + 1) * sizeof(**ids));
				(*ids)[(*n)++] = xstrdup(id);
				if (sink->team && name != NULL && *name != '\0')
					sink->team(sink, id, name);
			}
			free(id);
			free(name);
		}
		free(cursor);
		cursor = json_strdup(&j, json_path(&j, 0, "response_metadata.next_cursor"));
		if (cursor == NULL || *cursor == '\0')
			break;
		if (cursor_guard_seen(&guard, cursor)) {
			pull_fail(res, FAIL_DATA, "slack: GET auth.teams.list: next_cursor repeats "
			    "an earlier cursor; refusing to loop");
			goto out;
		}
	}
	rc = 0;
out:
	free(cursor);
	cursor_guard_free(&guard);
	json_free(&j);
	http_resp_free(&resp);
	buf_free(&url);
	return rc;
}

/* Every workspace of the Grid, one after the other (one token, one set of rate limits). */
static int
slack_pull_grid(struct driver_ctx *ctx, struct pull_sink *sink, struct pull_result *res)
{
	struct slack_priv *sp = ctx->priv;
	const struct cfg_platform *pc = drv_inst(ctx, PLAT_SLACK);
	char **ids = NULL;
	int n = 0, i, rc = -1;

	if (sink->team && sp->team_id)
		sink->team(sink, sp->team_id, pc->team_name ? pc->team_name :
		    sp->team_name ? sp->team_name : sp->team_id);
	if (slack_grid_teams(ctx, sink, &ids, &n, res) < 0)
		goto out;
	if (n == 0) {
		pull_fail(res, FAIL_CONFIG, "slack: GET auth.teams.list: the org-wide token is "
		    "approved for no workspace");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (slack_users(ctx, ids[i], sink, res) < 0)
			goto out;
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return rc;
}

static int
slack_pull(struct driver_ctx *ctx, const char *cursor_in, struct pull_sink *sink,
    struct pull_result *res)
{
	struct slack_priv *sp = ctx->priv;

	(void)cursor_in;		/* users.list has no incremental mode */
	res->full = 1;
	if (slack_auth_test(ctx, &res->cls, res->err, sizeof(res->err), NULL, NULL) < 0)
		return -1;
	if (drv_inst(ctx, PLAT_SLACK)->org_wide) {
		if (slack_pull_grid(ctx, sink, res) < 0)
			return -1;
	} else {
		slack_team_info(ctx, sp->team_id, sp->team_name, sink);
		if (slack_users(ctx, NULL, sink, res) < 0)
			return -1;
	}
	res->complete = 1;
	return 0;
}

/* ---- direct messages ---- */

static int
slack_dm_init(struct driver_ctx *ctx, char *err, size_t errlen)
{
	const struct cfg_platform *c = drv_inst(ctx, PLAT_SLACK);

	if (c->token == NULL) {
		snprintf(err, errlen, "slack: no bot token configured");
		return DM_REFUSED;
	}
	http_set_bearer(ctx->http, c->token);
	drv_buckets_init(ctx, PLAT_SLACK);
	return DM_OK;
}

/* How Slack answered a DM call: FAIL_DATA when Slack refused this message, FAIL_CONFIG or
 * FAIL_LATER for a credential or transient error (the Slack error code in err). */
static enum fail
slack_dm_status(const struct http_resp *resp, const struct json *j, const char *what,
    char *err, size_t errlen)
{
	if (resp->status >= 500)
		return FAIL_LATER;
	return slack_check(j, resp, what, err, errlen);
}

/* A Web API call with a JSON body, rate-limited on bucket which (drv_dm_call). once: a call
 * that must not be repeated blindly. */
static int
slack_call(struct driver_ctx *ctx, int which, const char *method, const struct buf *body,
    int once, struct dm_answer *a, char *err, size_t errlen)
{
	char *url = xasprintf("%s/%s", drv_inst(ctx, PLAT_SLACK)->api_url, method);
	char *what = xasprintf("POST %s", method);
	const struct dm_call c = { which, { "POST", url, NULL, "application/json; charset=utf-8",
	    body->p, body->len, what, once }, slack_dm_status, NULL };
	int rc;

	rc = drv_dm_call(ctx, &c, a, err, errlen);
	free(url);
	free(what);
	return rc;
}

/* The DM channel with m->to into o->channel: m->channel, or conversations.open. */
static int
slack_open(struct driver_ctx *ctx, const struct dm *m, int reopen, struct dm_out *o,
    char *err, size_t errlen)
{
	struct dm_answer a = { 0 };
	struct buf body = { 0 };
	int rc;

	free(o->channel);
	o->channel = m->channel && !reopen ? xstrdup(m->channel) : NULL;
	if (o->channel)
		return DM_OK;
	buf_adds(&body, "{\"users\":");
	buf_json_str(&body, m->to->user_id);
	if (drv_inst(ctx, PLAT_SLACK)->org_wide && m->to->workspaces != NULL) {
		/* an org-wide token names the workspace: the first of the user's */
		size_t n = strcspn(m->to->workspaces, ",");
		char *ws = xstrndup(m->to->workspaces, n);

		buf_adds(&body, ",\"team_id\":");
		buf_json_str(&body, ws);
		free(ws);
	}
	buf_addc(&body, '}');
	rc = slack_call(ctx, RATE_OPEN, "conversations.open", &body, 0, &a, err, errlen);
	if (rc == DM_OK) {
		o->channel = json_strdup(a.j, json_path(a.j, 0, "channel.id"));
		if (o->channel == NULL) {
			snprintf(err, errlen, "slack: POST conversations.open: no channel.id");
			rc = DM_UNAVAILABLE;
		}
	}
	buf_free(&body);
	dm_answer_free(&a);
	return rc;
}

static int
slack_dm_send(struct driver_ctx *ctx, const struct dm *m, struct dm_out *o, char *err,
    size_t errlen)
{
	struct dm_answer a = { 0 };
	struct buf body = { 0 };
	int rc, reopened = 0;

	if ((rc = slack_open(ctx, m, 0, o, err, errlen)) != DM_OK)
		return rc;
	for (;;) {
		buf_reset(&body);
		buf_adds(&body, "{\"channel\":");
		buf_json_str(&body, o->channel);
		buf_adds(&body, ",\"text\":");
		buf_json_str(&body, m->text);
		buf_adds(&body, ",\"unfurl_links\":false}");
		/* a post whose answer was lost is in doubt: never repeated blindly */
		rc = slack_call(ctx, RATE_POST, "chat.postMessage", &body, 1, &a, err, errlen);
		if (rc == DM_REFUSED && !reopened && m->channel && strstr(err, "channel_not_found")) {
			/* a cached channel that is gone: open the DM again, once */
			reopened = 1;
			if ((rc = slack_open(ctx, m, 1, o, err, errlen)) != DM_OK)
				break;
			continue;
		}
		break;
	}
	if (rc == DM_OK)
		o->message_id = json_strdup(a.j, json_get(a.j, 0, "ts"));
	buf_free(&body);
	dm_answer_free(&a);
	return rc;
}

static int
slack_dm_find(struct driver_ctx *ctx, const struct dm *m, int *found, struct dm_out *o,
    char *err, size_t errlen)
{
	struct dm_answer a = { 0 };
	struct buf body = { 0 };
	int rc;

	*found = 0;
	if ((rc = slack_open(ctx, m, 0, o, err, errlen)) != DM_OK)
		return rc;
	buf_adds(&body, "{\"channel\":");
	buf_json_str(&body, o->channel);
	buf_adds(&body, ",\"limit\":50}");
	/* our prompts are the newest messages of the bot's DM: the last 50 are enough */
	rc = slack_call(ctx, RATE_OPEN, "conversations.history", &body, 0, &a, err, errlen);
	drv_dm_search(a.j, rc == DM_OK ? json_get(a.j, 0, "messages") : -1,
	    (const char *const[]){ "text", NULL }, "ts", m->ref, found, o);
	buf_free(&body);
	dm_answer_free(&a);
	return rc;
}

/* ---- events (issue 11): the catch-up reads a synced person's DMs with their token ---- */

static int
slack_ev_init(struct driver_ctx *ctx, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	drv_buckets_init(ctx, PLAT_SLACK);
	return 0;
}

/* GET method?query with the person's token, on the "open" bucket (Tier 3 methods). */
static int
slack_ev_get(struct driver_ctx *ctx, const struct ev_history *h, const char *method,
    const char *query, struct dm_answer *a, enum fail *cls, char *err, size_t errlen)
{
	char *url = xasprintf("%s/%s?%s", drv_inst(ctx, PLAT_SLACK)->api_url, method, query);
	char *what = xasprintf("GET %s", method);
	int rc;

	http_set_bearer(ctx->http, h->token);
	rc = ev_call(ctx, &(const struct dm_call){ RATE_OPEN, { "GET", url, NULL, NULL, NULL, 0,
	    what, 0 }, slack_dm_status, NULL }, a, cls, err, errlen);
	free(url);
	free(what);
	return rc;
}

/* A message the catch-up counts: a person's plain post (or a file share or thread
 * broadcast), not a bot's, not the watched user's own (platform-events.md §1.5). */
static int
slack_ev_counts(const struct json *j, int m, const char *owner, char **from)
{
	char *sub = json_strdup(j, json_get(j, m, "subtype"));
	int ok = sub == NULL || strcmp(sub, "file_share") == 0 ||
	    strcmp(sub, "thread_broadcast") == 0;

	free(sub);
	*from = json_strdup(j, json_get(j, m, "user"));
	ok = ok && *from && json_get(j, m, "bot_id") < 0 && strcmp(*from, owner) != 0;
	if (!ok) {
		free(*from);
		*from = NULL;
	}
	return ok;
}

/* The messages of DM channel ch since h->since (conversations.history oldest=). */
static int
slack_ev_channel(struct driver_ctx *ctx, const struct ev_history *h, const char *ch,
    enum fail *cls, char *err, size_t errlen)
{
	struct dm_answer a = { 0 };
	struct buf q = { 0 }, key = { 0 };
	struct ev_msg m;
	char *from, *ts;
	int rc, arr, e;

	buf_adds(&q, "limit=200&channel=");
	buf_urlencode(&q, ch, strlen(ch));
	buf_printf(&q, "&oldest=%lld", (long long)h->since);
	rc = slack_ev_get(ctx, h, "conversations.history", q.p, &a, cls, err, errlen);
	arr = rc == EV_OK ? json_get(a.j, 0, "messages") : -1;
	for (e = json_first(a.j, arr); e >= 0 && rc == EV_OK; e = json_next(a.j, arr, e)) {
		if (!slack_ev_counts(a.j, e, h->user, &from))
			continue;
		ts = json_strdup(a.j, json_get(a.j, e, "ts"));
		buf_reset(&key);
		buf_printf(&key, "slack:%s/%s", ch, ts ? ts : "");
		m = (struct ev_msg){ key.p, from, ts ? (time_t)strtoll(ts, NULL, 10) : 0 };
		if (ts && m.ts >= h->since && h->cb(&m, h->arg) < 0) {
			*cls = FAIL_IO;
			rc = EV_FAIL;
		}
		free(ts);
		free(from);
	}
	buf_free(&key);
	buf_free(&q);
	dm_answer_free(&a);
	return rc;
}

/* The person's DM channels (conversations.list types=im, pages followed up to
 * h->max_rooms channels), then each one's recent history. */
static int
slack_ev_history(struct driver_ctx *ctx, const struct ev_history *h, enum fail *cls,
    char *err, size_t errlen)
{
	struct dm_answer a = { 0 };
	struct buf q = { 0 };
	char *cursor = NULL, *ch;
	size_t n = 0;
	int rc = EV_OK, arr, e, pages = 0;

	do {
		buf_reset(&q);
		buf_adds(&q, "types=im&exclude_archived=true&limit=200");
		if (cursor) {
			buf_adds(&q, "&cursor=");
			buf_urlencode(&q, cursor, strlen(cursor));
		}
		dm_answer_free(&a);
		rc = slack_ev_get(ctx, h, "conversations.list", q.p, &a, cls, err, errlen);
		arr = rc == EV_OK ? json_get(a.j, 0, "channels") : -1;
		for (e = json_first(a.j, arr); e >= 0 && rc == EV_OK && n < h->max_rooms;
		    e = json_next(a.j, arr, e), n++) {
			if ((ch = json_strdup(a.j, json_get(a.j, e, "id"))) != NULL)
				rc = slack_ev_channel(ctx, h, ch, cls, err, errlen);
			free(ch);
		}
		free(cursor);
		cursor = rc == EV_OK ? json_strdup(a.j, json_path(a.j, 0,
		    "response_metadata.next_cursor")) : NULL;
	} while (cursor && *cursor && n < h->max_rooms && ++pages < 100);
	free(cursor);
	buf_free(&q);
	dm_answer_free(&a);
	return rc == EV_GONE ? EV_OK : rc;
}

/* check-config --online: the bot token proven by auth.test, its scopes from the header;
 * an org-wide token's workspaces by auth.teams.list. */
static int
slack_check_online(struct driver_ctx *ctx, struct drv_check *c)
{
	struct pull_sink none = { 0 };
	struct pull_result res = { 0 };
	struct buf list = { 0 };
	char *scopes = NULL, *who = NULL, **ids = NULL;
	int n = 0, rc = -1;

	if (slack_auth_test(ctx, &c->cls, c->err, sizeof(c->err), &scopes, &who) < 0)
		return -1;
	drv_check_add(c, SH_SLACK_BOT, "bot token", who, scopes);
	if (!drv_inst(ctx, PLAT_SLACK)->org_wide) {
		rc = 0;
		goto out;
	}
	if (slack_grid_teams(ctx, &none, &ids, &n, &res) < 0) {
		snprintf(c->err, sizeof(c->err), "%.400s (an org-wide token needs it)", res.err);
		rc = drv_check_fail(c, res.cls);
		goto out;
	}
	buf_printf(&list, "%d workspace%s", n, n == 1 ? "" : "s");
	for (int i = 0; i < n; i++)
		buf_printf(&list, "%s%s", i ? ", " : ": ", ids[i]);
	drv_check_add(c, SH_COUNT, "org-wide token (auth.teams.list)", list.p, NULL);
	rc = 0;
out:
	for (int i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	buf_free(&list);
	pull_result_free(&res);
	free(scopes);
	free(who);
	return rc;
}

/* ---- Sync now (drivers/oauth.c) ---- */

/* The exchange's tokens are the user's, in authed_user; a refresh answers with rotated user
 * tokens at the top level, though some answers nest authed_user. */
static int
slack_tokens_at(const struct json *j, int exchange)
{
	int au = json_get(j, 0, "authed_user");

	if (exchange)
		return json_is_object(j, au) ? au : -1;
	return json_get(j, 0, "access_token") < 0 && json_is_object(j, au) ? au : 0;
}

/* oauth.v2.access says who signed in: authed_user.id in team.id, or in enterprise.id for a
 * workspace of an Enterprise Grid (a Grid's member is one account keyed by the Grid's id,
 * slack_member.c). */
static int
slack_identity(const struct json *j, const char *what, struct oauth_identity *id, char *err,
    size_t errlen)
{
	int ent = json_get(j, 0, "enterprise");
	char *eid = json_is_object(j, ent) ? json_strdup(j, json_get(j, ent, "id")) : NULL;

	id->user_id = json_strdup(j, json_path(j, 0, "authed_user.id"));
	id->team_id = json_strdup(j, json_path(j, 0, "team.id"));
	if (eid != NULL && *eid != '\0') {
		free(id->team_id);
		id->team_id = eid;
		eid = NULL;
	}
	free(eid);
	if (id->user_id == NULL || *id->user_id == '\0' || id->team_id == NULL ||
	    *id->team_id == '\0') {
		snprintf(err, errlen, "slack: %s: no authed_user.id or team.id in the answer", what);
		return -1;
	}
	return 0;
}

static int
slack_grant_dead(long status, const char *code, const struct json *j)
{
	static const char *const dead[] = { "invalid_refresh_token", "invalid_grant",
	    "token_revoked", "token_expired", "invalid_auth", "account_inactive", NULL };

	(void)status;
	(void)j;
	for (int i = 0; dead[i]; i++)
		if (strcmp(code, dead[i]) == 0)
			return 1;
	return 0;
}

static const struct driver_oauth slack_oauth = {
	.flags = OAUTH_BASIC | OAUTH_OK_FIELD,
	.endpoint = "oauth.v2.access",
	.authorize = (const char *const[]){ "client_id", "user_scope", "redirect_uri", "state",
	    NULL },
	.no_token = "no user token in the answer (is slack.oauth.scopes empty?)",
	.tokens_at = slack_tokens_at,
	.identity = slack_identity,
	.grant_dead = slack_grant_dead,
};

/* mrkdwn: &, < and > are the only characters to escape. */
static const char *const slack_escape[128] = {
	['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;",
};

const struct driver slack_driver = {
	.platform = PLAT_SLACK,
	.name = "slack",
	.title = "Slack",
	.caps = DRV_CAP_DM,
	.oauth = &slack_oauth,
	.prompt_default = "Hi {first_name}! Our company chats across Slack, Microsoft Teams "
	    "and Webex. Sync your account once so that messages from colleagues on the other "
	    "platforms reach you here, as normal Slack messages.\n<{link}|*Sync now*>  "
	    "_(ref {ref})_",
	.escape = slack_escape,
	.init = slack_init,
	.fini = slack_fini,
	.pull = slack_pull,
	.dm_init = slack_dm_init,
	.dm_send = slack_dm_send,
	.dm_find = slack_dm_find,
	.ev_init = slack_ev_init,
	.ev_history = slack_ev_history,
	.check = slack_check_online,
};
