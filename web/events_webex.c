/*
 * events_webex.c — POST /events/webex: Webex webhooks (docs/events.md).
 *
 * A delivery names its webhook (the envelope's id); the webhook's record (include/subs.h,
 * kept by reconcile) gives its secret and its owner, the synced person whose token created
 * it. X-Spark-Signature must be the hex HMAC-SHA1 of the raw body under that secret
 * (compared in constant time, either case of hex). An unknown webhook is 403, a missing or
 * wrong signature 401: nothing is recorded.
 *
 * A `messages`/`created` delivery in a direct room (the webhook's filter is roomType=direct;
 * a data.roomType, when present, must say so) from someone other than the owner is a direct
 * message to the owner: recorded as webex:MESSAGE_ID, from data.personId (the author) to
 * the owner. The payload carries no text, and needs none: the sender, the room type and the
 * message id are all the rule and the key need, so nothing is looked up. Webex signs no
 * time: a replayed delivery is caught by the message key (a duplicate).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "subs.h"
#include "web_p.h"

#define WEBEX_ID_MAX	SUB_ID_MAX

/* The message a verified delivery reports: 1 (it counts: *it set) or 0 (why in rp->note). */
static int
webex_message(const struct json *j, const struct sub *s, struct ev_item *it, struct reply *rp)
{
	int data = json_get(j, 0, "data"), rt = json_get(j, data, "roomType");
	char *mid = json_strdup(j, json_get(j, data, "id"));
	char *from = json_strdup(j, json_get(j, data, "personId"));
	char *created = json_strdup(j, json_get(j, data, "created"));
	const char *why = NULL;
	time_t ts = 0;

	if (!json_str_eq(j, json_get(j, 0, "resource"), "messages") ||
	    !json_str_eq(j, json_get(j, 0, "event"), "created"))
		why = "not messages/created";
	else if (rt >= 0 && !json_str_eq(j, rt, "direct"))
		why = "not a direct room";
	else if (!ev_id_ok(mid, WEBEX_ID_MAX) || !ev_id_ok(from, WEBEX_ID_MAX))
		why = "no message id or author";
	else if (s->user == NULL)
		why = "the webhook watches nobody";
	else if (strcmp(from, s->user) == 0)
		why = "the owner's own message";
	if (why == NULL) {
		if (created == NULL || parse_iso8601(created, &ts) < 0)
			ts = ps_now();
		it->msgkey = xasprintf("webex:%s", mid);
		it->from = xasprintf("webex:%s", from);
		it->to = xasprintf("webex:%s", s->user);
		it->ts = ts;
	} else
		snprintf(rp->note, sizeof(rp->note), "ignored: %s", why);
	free(mid);
	free(from);
	free(created);
	return why == NULL;
}

/* The delivery's signature under the webhook's secret: 0, or -1 with the refusal in rp. */
static int
webex_verify(const struct server *sv, struct MHD_Connection *conn, const struct sub *s,
    const struct buf *body, struct reply *rp)
{
	const char *hdr = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Spark-Signature");
	char secret[SUB_SECRET_LEN + 1], want[2 * 20 + 1], got[2 * 20 + 1];
	struct buf part = { .p = body->p, .len = body->len };
	size_t i, n = hdr ? strlen(hdr) : 0;
	int rc = -1;

	if (n == 0 || n >= sizeof(got)) {
		ev_refuse(rp, 401, "no X-Spark-Signature");
		return -1;
	}
	for (i = 0; i <= n; i++)
		got[i] = (char)tolower((unsigned char)hdr[i]);
	if (sub_secret(sv->cfg, s, secret) < 0)
		ev_refuse(rp, 403, "no token key: webhook secrets cannot be checked");
	else if (ev_hmac_hex("sha1", secret, strlen(secret), &part, 1, want, sizeof(want)) < 0)
		ev_refuse(rp, 500, "HMAC failed");
	else if (!secret_eq(want, got))
		ev_refuse(rp, 401, "bad signature");
	else
		rc = 0;
	explicit_bzero(secret, sizeof(secret));
	return rc;
}

/* The webhook named by the delivery: 0 (*s filled), or -1 with the refusal in rp. */
static int
webex_hook(struct server *sv, const struct json *j, struct sub *s, struct reply *rp)
{
	char *id = json_strdup(j, json_get(j, 0, "id"));
	struct txn *t;
	int r = -1;

	if (!ev_id_ok(id, WEBEX_ID_MAX)) {
		ev_refuse(rp, 403, "no webhook id");
	} else if ((t = store_begin(sv->st, 0)) == NULL) {
		ev_refuse(rp, 500, "store error");
	} else {
		r = store_sub_get(t, PLAT_WEBEX, id, s);
		store_abort(t);
		if (r == STORE_NOTFOUND)
			ev_refuse(rp, 403, "unknown webhook");
		else if (r < 0)
			ev_refuse(rp, 500, "webhook record unreadable");
		r = r == 0 ? 0 : -1;
	}
	free(id);
	return r;
}

enum web_outcome
h_events_webex(struct server *sv, struct MHD_Connection *conn, const struct buf *body,
    struct reply *rp)
{
	struct json j = { 0 };
	struct sub s = { 0 };
	struct ev_item it = { 0 };
	int added = 0;

	if (json_parse(&j, body->p ? body->p : "", body->len, NULL, 0) < 0 ||
	    !json_is_object(&j, 0)) {
		json_free(&j);
		return ev_refuse(rp, 401, "not a signed webhook delivery");
	}
	if (webex_hook(sv, &j, &s, rp) < 0 || webex_verify(sv, conn, &s, body, rp) < 0)
		goto out;
	if (!webex_message(&j, &s, &it, rp))
		ev_reply(rp, 200, "ok\n");
	else if (ev_commit(sv, "webex", &it, 1, NULL, NULL, &added) < 0)
		ev_refuse(rp, 500, "store error (logged)");
	else {
		snprintf(rp->note, sizeof(rp->note), "%s %s", it.msgkey, added ? "recorded" :
		    "duplicate");
		ev_reply(rp, 200, "ok\n");
	}
out:
	ev_item_free(&it);
	sub_free(&s);
	json_free(&j);
	return WO_OK;
}
