/*
 * events_slack.c — POST /events/slack: the Slack Events API (docs/events.md).
 *
 * Every request is signed: X-Slack-Signature = "v0=" + hex HMAC-SHA256 over
 * "v0:" + X-Slack-Request-Timestamp + ":" + the raw body, keyed with the app's Signing
 * Secret (slack.signing_secret_file), compared in constant time; a timestamp more than 300 s
 * from now is refused (a replay). Then:
 *	url_verification	the challenge echoed (text/plain)
 *	app_rate_limited	logged and counted (metrics): Slack drops events past 30,000 an
 *				hour; the catch-up recovers them
 *	event_callback		a `message` event of channel_type `im` from a person (no
 *				subtype but file_share / thread_broadcast, no bot_id) to the
 *				installing user authorizations[0].user_id, who is not the
 *				sender: recorded in the inbox as slack:CHANNEL/TS
 * A retry (X-Slack-Retry-Num) carries the same message: its key makes it a duplicate.
 * Whatever is ignored is answered 200 (so Slack does not retry it); only a refused
 * signature or timestamp is 401, and a store error 500 (Slack retries).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbox.h"
#include "json.h"
#include "web_p.h"

#define SLACK_SKEW	300		/* seconds a request's timestamp may be off */
#define SLACK_ID_MAX	64

static const char *
header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* The signature and the timestamp: 0, or -1 with the refusal in rp. */
static int
slack_verify(const char *secret, struct MHD_Connection *conn, const struct buf *body,
    time_t now, struct reply *rp)
{
	const char *ts = header(conn, "X-Slack-Request-Timestamp");
	const char *sig = header(conn, "X-Slack-Signature");
	char want[3 + 2 * 64 + 1];
	struct buf parts[4];
	long long t;

	if (ts == NULL || sig == NULL)
		return ev_refuse(rp, 401, "no X-Slack-Signature or X-Slack-Request-Timestamp"), -1;
	if (parse_ll(ts, 0, 1LL << 40, &t) < 0)
		return ev_refuse(rp, 401, "X-Slack-Request-Timestamp is not a time"), -1;
	if (t > (long long)now + SLACK_SKEW || t < (long long)now - SLACK_SKEW)
		return ev_refuse(rp, 401, "timestamp %lld s from now (more than %d)",
		    (long long)now - t, SLACK_SKEW), -1;
	parts[0] = (struct buf){ .p = (char *)"v0:", .len = 3 };
	parts[1] = (struct buf){ .p = (char *)ts, .len = strlen(ts) };
	parts[2] = (struct buf){ .p = (char *)":", .len = 1 };
	parts[3] = (struct buf){ .p = body->p, .len = body->len };
	memcpy(want, "v0=", 3);
	if (ev_hmac_hex("sha256", secret, strlen(secret), parts, 4, want + 3,
	    sizeof(want) - 3) < 0)
		return ev_refuse(rp, 500, "HMAC failed"), -1;
	if (!secret_eq(want, sig))
		return ev_refuse(rp, 401, "bad signature"), -1;
	return 0;
}

/* A string field of obj when it is a Slack id (letters, digits, '.'), else NULL. */
static char *
slack_id(const struct json *j, int obj, const char *key)
{
	char *s = json_strdup(j, json_get(j, obj, key));

	if (s && (strlen(s) > SLACK_ID_MAX || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789.") != strlen(s) || s[0] == '\0')) {
		free(s);
		s = NULL;
	}
	return s;
}

/* Does the inner event count (a person's direct message)? NULL, or why not. */
static const char *
slack_ignored(const struct json *j, int ev)
{
	int sub = json_get(j, ev, "subtype");

	if (!json_str_eq(j, json_get(j, ev, "type"), "message"))
		return "not a message";
	if (!json_str_eq(j, json_get(j, ev, "channel_type"), "im"))
		return "not a direct message";
	if (sub >= 0 && !json_str_eq(j, sub, "file_share") &&
	    !json_str_eq(j, sub, "thread_broadcast"))
		return "a message subtype (edit, deletion, bot, ...)";
	if (json_get(j, ev, "bot_id") >= 0)
		return "a bot's message";
	return NULL;
}

/* The message of an event_callback: 1 (it counts: *it filled), 0 (ignored: why in rp's
 * note). */
static int
slack_message(const struct json *j, struct ev_item *it, struct reply *rp)
{
	int ev = json_get(j, 0, "event");
	int auth = json_first(j, json_get(j, 0, "authorizations"));
	char *user = NULL, *chan = NULL, *ts = NULL, *to = NULL;
	const char *why = slack_ignored(j, ev);
	int64_t et = 0;
	int rc = 0;

	if (why == NULL) {
		user = slack_id(j, ev, "user");
		chan = slack_id(j, ev, "channel");
		ts = slack_id(j, ev, "ts");
		to = slack_id(j, auth, "user_id");
		if (!user || !chan || !ts)
			why = "no user, channel or ts";
		else if (to == NULL)
			why = "no authorization names the recipient";
		else if (strcmp(user, to) == 0)
			why = "the installing user's own message";
	}
	if (why) {
		snprintf(rp->note + strlen(rp->note), sizeof(rp->note) - strlen(rp->note),
		    "ignored: %s", why);
		goto out;
	}
	if (json_i64(j, json_get(j, 0, "event_time"), &et) < 0)
		et = (int64_t)strtoll(ts, NULL, 10);
	it->msgkey = xasprintf("slack:%s/%s", chan, ts);
	it->from = xasprintf("slack:%s", user);
	it->to = xasprintf("slack:%s", to);
	it->ts = (time_t)et;
	rc = 1;
out:
	free(user);
	free(chan);
	free(ts);
	free(to);
	return rc;
}

static void
slack_rate_limited(struct server *sv, const struct json *j)
{
	char *team = slack_id(j, 0, "team_id");
	int64_t minute = 0;
	struct txn *t;

	json_i64(j, json_get(j, 0, "minute_rate_limited"), &minute);
	log_warn("serve: slack: app_rate_limited for team %s at minute %lld: Slack drops "
	    "events past 30,000 an hour; the next reconcile's catch-up reads what was lost",
	    team ? team : "?", (long long)minute);
	if ((t = begin_write(sv)) != NULL) {
		if (store_inbox_counter_add(t, "slack.rate_limited", 1) < 0)
			end_write(sv, t, 0);
		else
			end_write(sv, t, 1);
	}
	free(team);
}

/* A verified body: WO_OK with the answer in rp. */
static void
slack_body(struct server *sv, struct MHD_Connection *conn, const struct json *j,
    struct reply *rp)
{
	const char *retry = header(conn, "X-Slack-Retry-Num");
	struct ev_item it = { 0 };
	char *eid = slack_id(j, 0, "event_id");
	int added = 0;

	snprintf(rp->note, sizeof(rp->note), "%s%s%s%.8s: ", eid ? "event " : "",
	    eid ? eid : "", retry ? " retry " : "", retry ? retry : "");
	free(eid);
	if (json_str_eq(j, json_get(j, 0, "type"), "app_rate_limited")) {
		slack_rate_limited(sv, j);
		strncat(rp->note, "app_rate_limited", sizeof(rp->note) - strlen(rp->note) - 1);
		ev_reply(rp, 200, "ok\n");
		return;
	}
	if (!json_str_eq(j, json_get(j, 0, "type"), "event_callback") ||
	    slack_message(j, &it, rp) == 0) {
		if (!strstr(rp->note, "ignored"))
			strncat(rp->note, "ignored: not an event_callback",
			    sizeof(rp->note) - strlen(rp->note) - 1);
		ev_reply(rp, 200, "ok\n");
		return;
	}
	if (ev_commit(sv, "slack", &it, 1, NULL, NULL, &added) < 0) {
		ev_refuse(rp, 500, "store error (logged)");
	} else {
		snprintf(rp->note + strlen(rp->note), sizeof(rp->note) - strlen(rp->note),
		    "%s %s", it.msgkey, added ? "recorded" : "duplicate");
		ev_reply(rp, 200, "ok\n");
	}
	ev_item_free(&it);
}

enum web_outcome
h_events_slack(struct server *sv, struct MHD_Connection *conn, const struct buf *body,
    struct reply *rp)
{
	const char *secret = sv->cfg->slack.signing_secret;
	struct json j = { 0 };
	char *challenge;

	if (secret == NULL)
		return ev_refuse(rp, 403, "no slack.signing_secret_file: Slack events not taken");
	if (slack_verify(secret, conn, body, ps_now(), rp) < 0)
		return WO_OK;
	if (json_parse(&j, body->p ? body->p : "", body->len, NULL, 0) < 0 ||
	    !json_is_object(&j, 0)) {
		json_free(&j);
		return ev_refuse(rp, 400, "signed, but not a JSON object");
	}
	if (json_str_eq(&j, json_get(&j, 0, "type"), "url_verification")) {
		challenge = json_strdup(&j, json_get(&j, 0, "challenge"));
		ev_reply(rp, 200, "");
		buf_adds(&rp->html, challenge ? challenge : "");
		snprintf(rp->note, sizeof(rp->note), "url_verification answered");
		free(challenge);
	} else
		slack_body(sv, conn, &j, rp);
	json_free(&j);
	return WO_OK;
}
