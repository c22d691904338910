/*
 * inbox.h — the durable event inbox (store/inbox.c): the platforms' message events ("PERSON A
 * wrote a direct message to PERSON B"), committed by serve's receivers before they answer
 * 2xx and by reconcile's catch-up, and drained by the next reconcile (or `events ingest`)
 * through the auto-prompt rule (reconcile/inbox.c).
 *
 * A message counts once: its key (msgkey) names the MESSAGE, not the delivery, so that an
 * event, the platform's retries of it, a replayed delivery and the catch-up's copy of it are
 * one:
 *	Slack	"slack:CHANNEL/TS"		(event.channel, event.ts)
 *	Webex	"webex:MESSAGE_ID"		(data.id)
 *	Teams	"teams:CHAT_ID/MESSAGE_ID"	(from the notification's resource)
 * from and to are "PLATFORM:USER_ID". Message text is never stored, nor anything else of the
 * message: the key, the two accounts and the time.
 *
 * Storage (kv spaces, store.h):
 *	"iseen"	msgkey -> first-seen time (8 bytes, big-endian): the seen keys
 *	"iage"	first-seen time (8 bytes) | msgkey -> "": the seen keys in age order, for expiry
 *	"ipend"	first-seen time (8 bytes) | msgkey -> from NUL to NUL ts: the pending events
 * Seen keys are kept INBOX_SEEN_DAYS (8 days) after they were first seen, then expired (a few
 * at every add, the rest at each drain): longer than every platform's redelivery (Slack
 * retries for about 5 minutes, Graph for 4 hours, Webex documents none) and than the
 * catch-up's window, which must stay under 7 days. A duplicate inside the window stays a
 * duplicate; the window bounds the space to the events of 8 days.
 *
 * Return values as store.h: 0, STORE_NOTFOUND, -1 with store_error().
 */
#ifndef PS_INBOX_H
#define PS_INBOX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store.h"

#define STORE_KV_ISEEN		"iseen"
#define STORE_KV_IAGE		"iage"
#define STORE_KV_IPEND		"ipend"
#define STORE_KV_PCAUSE		"pcause"
#define STORE_KV_ICOUNT		"icount"

#define INBOX_SEEN_DAYS		8
#define INBOX_KEY_MAX		300	/* longest msgkey accepted */

/*
 * Records the message msgkey sent by from to to at ts (the platform's time of the message,
 * unix seconds). Returns 0 when added (pending for the next drain), 1 when the key was seen
 * already (nothing written), -1 on error (a msgkey that is empty or longer than
 * INBOX_KEY_MAX, or from/to NULL, is an error naming the key). from may be "" when only a
 * lookup can tell the sender (a Graph notification without resource data): the drain leaves
 * such an event pending until store_inbox_resolve gives it one, or until the same key is
 * added again with a sender (the catch-up's copy): that fills it in (and still returns 1).
 * Expires a few old seen keys.
 */
int	store_inbox_add(struct txn *t, const char *msgkey, const char *from, const char *to,
	    time_t ts);

/* A pending event, valid during the callback only. */
struct inbox_event {
	const char	*msgkey;
	const char	*from;		/* "" until resolved */
	const char	*to;
	time_t		 ts;		/* the message's time */
	time_t		 seen;		/* when it was first recorded */
};

/*
 * Visits at most max pending events in the order they came (oldest first) whose sender is
 * known (unresolved = 0) or unknown (unresolved = 1), calling cb; an event whose cb returned
 * 1 is removed from the pending list in t (0 leaves it, -1 stops with an error). The seen
 * keys stay. Returns the number visited, or -1.
 */
typedef int (*inbox_cb)(struct txn *t, const struct inbox_event *ev, void *arg);
long	store_inbox_each(struct txn *t, int unresolved, size_t max, inbox_cb cb, void *arg);

/* Gives the pending event msgkey its sender (from "PLATFORM:USER_ID"), or drops it when
 * from is NULL (not a direct message, or the message is gone). 0, STORE_NOTFOUND or -1. */
int	store_inbox_resolve(struct txn *t, const char *msgkey, const char *from);

/* Expires the seen keys first seen before now - INBOX_SEEN_DAYS, at most max of them
 * (pending events older than that go too). Returns the number expired or -1. */
long	store_inbox_expire(struct txn *t, time_t now, size_t max);

/* Counts: pending events and seen keys (for `db stats`, metrics, tests). 0 or -1. */
int	store_inbox_count(struct txn *t, size_t *pending, size_t *seen);

/* Event counters (kv space "icount", name -> 8 bytes, big-endian), for metrics: what the
 * receivers took in ("slack.events", "slack.duplicates", "slack.rate_limited", ...). add
 * adds n; get reads 0 for a counter never written. 0 or -1. */
int	store_inbox_counter_add(struct txn *t, const char *name, uint64_t n);
int	store_inbox_counter_get(struct txn *t, const char *name, uint64_t *out);

/* The event that queued prompt id: put records it with the prompt; get appends
 * "MSGKEY at ISO-TIME" to out (0, STORE_NOTFOUND or -1). */
int	store_prompt_cause_put(struct txn *t, uint64_t prompt_id, const char *msgkey, time_t ts);
int	store_prompt_cause_get(struct txn *t, uint64_t prompt_id, struct buf *out);

#endif
