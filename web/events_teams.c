/*
 * events_teams.c — POST /events/teams: Microsoft Graph change notifications and lifecycle
 * notifications (docs/events.md).
 *
 *	?validationToken=T	the handshake of a new subscription: T echoed, text/plain,
 *				200, before anything else (Graph waits 10 s at most)
 *	{"value":[...]}		each item names its subscription (subscriptionId); every
 *				item's clientState must equal that subscription's secret
 *				(include/subs.h, compared in constant time), else the whole
 *				request is refused (403) and nothing is recorded
 * A lifecycle item (reauthorizationRequired, subscriptionRemoved, missed) marks the
 * subscription's record for the next reconcile (store_sub_mark). A `created` chat message
 * item (resource chats('CHAT')/messages('ID')) of a per-person subscription is recorded as
 * teams:CHAT/ID to that person, sender unknown: notifications come without resource data,
 * so the sender, and that the chat is one-on-one, are learnt by reconcile from the
 * recipient's one-on-one chats (the catch-up's reading names the same key). Channel
 * messages and other resources are ignored. All of a request's items go in one write
 * transaction before the 202.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbox.h"
#include "json.h"
#include "subs.h"
#include "web_p.h"

#define GRAPH_ITEMS_MAX	200		/* items of one request */

struct mark {
	char		*id;
	enum sub_mark	 m;
};

struct teams_req {
	struct ev_item	 it[GRAPH_ITEMS_MAX];
	int		 nit;
	struct mark	 mk[GRAPH_ITEMS_MAX];
	int		 nmk;
};

/* "chats('CHAT')/messages('ID')": CHAT and ID into new strings. 0 or -1. */
static int
chat_resource(const char *r, char **chat, char **msg)
{
	const char *a, *b;

	*chat = *msg = NULL;
	if (r == NULL || strncmp(r, "chats('", 7) != 0 || (a = strstr(r + 7, "')/messages('")) ==
	    NULL || (b = strstr(a + 13, "')")) == NULL || b[2] != '\0')
		return -1;
	*chat = xstrndup(r + 7, (size_t)(a - r - 7));
	*msg = xstrndup(a + 13, (size_t)(b - a - 13));
	if (!ev_id_ok(*chat, 200) || !ev_id_ok(*msg, 64)) {
		free(*chat);
		free(*msg);
		*chat = *msg = NULL;
		return -1;
	}
	return 0;
}

/* One verified item into q (a mark, an event, or nothing). */
static void
teams_item(const struct json *j, int item, const struct sub *s, struct teams_req *q)
{
	static const struct { const char *name; enum sub_mark m; } life[] = {
		{ "reauthorizationRequired", SUB_MARK_REAUTH },
		{ "subscriptionRemoved", SUB_MARK_REMOVED },
		{ "missed", SUB_MARK_MISSED },
	};
	int le = json_get(j, item, "lifecycleEvent");
	char *res, *chat, *msg;
	size_t i;

	if (le >= 0) {
		for (i = 0; i < sizeof(life) / sizeof(life[0]); i++)
			if (json_str_eq(j, le, life[i].name)) {
				q->mk[q->nmk].id = xstrdup(s->id);
				q->mk[q->nmk++].m = life[i].m;
			}
		return;
	}
	if (!json_str_eq(j, json_get(j, item, "changeType"), "created") || s->user == NULL)
		return;
	res = json_strdup(j, json_get(j, item, "resource"));
	if (chat_resource(res, &chat, &msg) == 0) {
		q->it[q->nit].msgkey = xasprintf("teams:%s/%s", chat, msg);
		q->it[q->nit].from = xstrdup("");
		q->it[q->nit].to = xasprintf("teams:%s", s->user);
		q->it[q->nit++].ts = ps_now();
		free(chat);
		free(msg);
	}
	free(res);
}

/* Every item's subscription and clientState, then each item into q: 0, or -1 with the
 * refusal in rp (q may hold the items before the bad one: the caller drops them). */
static int
teams_items(struct server *sv, const struct json *j, int arr, struct teams_req *q,
    struct reply *rp)
{
	char secret[SUB_SECRET_LEN + 1], *sid = NULL, *cs = NULL;
	struct txn *t = store_begin(sv->st, 0);
	struct sub s = { 0 };
	int e, r, rc = -1;

	if (t == NULL)
		return ev_refuse(rp, 500, "store error"), -1;
	for (e = json_first(j, arr); e >= 0; e = json_next(j, arr, e)) {
		sid = json_strdup(j, json_get(j, e, "subscriptionId"));
		cs = json_strdup(j, json_get(j, e, "clientState"));
		if (!ev_id_ok(sid, SUB_ID_MAX) || (r = store_sub_get(t, PLAT_TEAMS, sid, &s)) ==
		    STORE_NOTFOUND) {
			ev_refuse(rp, 403, "unknown subscription");
			goto out;
		}
		if (r < 0 || sub_secret(sv->cfg, &s, secret) < 0) {
			ev_refuse(rp, r < 0 ? 500 : 403, "subscription record or key unusable");
			goto out;
		}
		r = cs != NULL && secret_eq(secret, cs);
		explicit_bzero(secret, sizeof(secret));
		if (!r) {
			ev_refuse(rp, 403, "wrong clientState");
			goto out;
		}
		teams_item(j, e, &s, q);
		sub_free(&s);
		free(sid);
		free(cs);
		sid = cs = NULL;
	}
	rc = 0;
out:
	sub_free(&s);
	free(sid);
	free(cs);
	store_abort(t);
	return rc;
}

/* The marks, in the inbox's transaction. */
static int
teams_marks(struct txn *t, void *arg)
{
	struct teams_req *q = arg;

	for (int i = 0; i < q->nmk; i++)
		if (store_sub_mark(t, PLAT_TEAMS, q->mk[i].id, q->mk[i].m, ps_now()) < 0)
			return -1;
	return 0;
}

static void
teams_free(struct teams_req *q)
{
	for (int i = 0; i < q->nit; i++)
		ev_item_free(&q->it[i]);
	for (int i = 0; i < q->nmk; i++)
		free(q->mk[i].id);
	free(q);
}

enum web_outcome
h_events_teams(struct server *sv, struct MHD_Connection *conn, const struct buf *body,
    struct reply *rp)
{
	const char *vt = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
	    "validationToken");
	struct teams_req *q;
	struct json j = { 0 };
	int arr, added = 0;

	if (vt) {
		ev_reply(rp, 200, vt);
		snprintf(rp->note, sizeof(rp->note), "validation handshake answered");
		return WO_OK;
	}
	if (json_parse(&j, body->p ? body->p : "", body->len, NULL, 0) < 0 ||
	    !json_is_array(&j, (arr = json_get(&j, 0, "value"))) ||
	    json_count(&j, arr) == 0 || json_count(&j, arr) > GRAPH_ITEMS_MAX) {
		json_free(&j);
		return ev_refuse(rp, 403, "not a notification of ours");
	}
	q = xcalloc(1, sizeof(*q));
	if (teams_items(sv, &j, arr, q, rp) == 0) {
		if (ev_commit(sv, "teams", q->it, q->nit, teams_marks, q, &added) < 0)
			ev_refuse(rp, 500, "store error (logged)");
		else {
			snprintf(rp->note, sizeof(rp->note), "%d items: %d recorded, %d marks",
			    json_count(&j, arr), added, q->nmk);
			ev_reply(rp, 202, "");
		}
	}
	teams_free(q);
	json_free(&j);
	return WO_OK;
}
