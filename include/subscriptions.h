/*
 * subscriptions.h — reconcile's part of the platforms' events (issue 11): keeping the event
 * subscriptions (Graph change-notification subscriptions, Webex webhooks; the records of
 * include/subs.h) in step with the synced people, and the catch-up that reads the synced
 * people's recent direct messages into the event inbox (include/inbox.h) so that an event
 * lost while serve was down still prompts, once. docs/subscriptions.md says why each choice.
 */
#ifndef PS_SUBSCRIPTIONS_H
#define PS_SUBSCRIPTIONS_H

#include <time.h>

#include "config.h"
#include "fail.h"
#include "store.h"
#include "subs.h"

/* Graph: the lifetime asked for a chatMessage subscription (the sheet's documented
 * maximum, 60 minutes, less a minute for clocks), and how much of it must be left for a run
 * to leave it alone: with the 15-minute timer (and its 2-minute jitter) every subscription
 * is renewed at least once before it expires, even when one run is missed. */
#define SUB_GRAPH_LIFETIME	(59 * 60)
#define SUB_RENEW_AHEAD		(40 * 60)

/* Direct conversations the catch-up reads per person and run, at most (the most recently
 * active first, where the platform sorts). */
#define CATCHUP_MAX_ROOMS	50

enum sub_action {
	SUBA_KEEP,		/* nothing to do */
	SUBA_CREATE,		/* a synced person without one */
	SUBA_RENEW,		/* Graph: expiring within SUB_RENEW_AHEAD, or reauthorization */
	SUBA_RECREATE,		/* removed by the platform, or expired: a new one */
	SUBA_REACTIVATE,	/* Webex disabled it: PUT status=active */
	SUBA_DELETE		/* the person unsynced or left */
};

/*
 * What to do about subscription s (NULL: there is none) of a person who is (wanted = 1) or
 * is not (0) to be watched, at now. Pure.
 */
enum sub_action	sub_decide(const struct sub *s, int wanted, time_t now);
const char	*sub_action_name(enum sub_action a);

struct sub_summary {
	long	created, renewed, recreated, reactivated, deleted, kept, failed;
	long	catchup_people;		/* people whose direct messages were read */
	long	catchup_seen;		/* messages found in the window */
	long	catchup_added;		/* of which new to the inbox */
};

/*
 * With events.subscriptions on, keeps the subscriptions of every enabled platform whose
 * driver has them (ev_sub) in step with the synced people (status on, active account on the platform; Webex also needs the
 * person's stored user token, whose owner a webhook is): creates the missing, renews the
 * expiring, recreates the removed, re-activates the disabled (Webex ones are looked up each
 * run: Webex disables a webhook without telling), deletes those of people no longer synced.
 * With it off, the subscriptions left from when it was on are deleted, and no other call is
 * made.
 * Without a token key (no secret can be made) or public_url nothing is done (a warning).
 * Each platform call is made outside any transaction; each outcome is committed at once.
 * A platform failure is logged once as "PLATFORM: subscriptions: ..." (naming the call and
 * HTTP status), stops that platform for this run and is FAIL_LATER; the others go on.
 * Returns FAIL_NONE, FAIL_LATER, or FAIL_IO (store error, logged).
 */
enum fail	rec_subscriptions(const struct config *cfg, struct store *st, time_t now,
		    struct sub_summary *sum);

/*
 * The catch-up: when events.catchup_hours > 0 and auto-prompt is on (DMs are read only to
 * feed it), every synced person's direct messages of the last catchup_hours (received from
 * others; at most CATCHUP_MAX_ROOMS conversations each)
 * are read with their user token (Slack, Webex; the app's on Graph) and recorded with
 * store_inbox_add under the same key serve's receivers use, so that a message counts once
 * whichever way it came. Paced by the drivers' DM buckets. Failures as rec_subscriptions
 * ("PLATFORM: catch-up: ..."). Returns FAIL_NONE, FAIL_LATER or FAIL_IO.
 */
enum fail	rec_catchup(const struct config *cfg, struct store *st, time_t now,
		    struct sub_summary *sum);

/*
 * What a reconcile runs after the pulls, before draining the event inbox: rec_subscriptions,
 * then rec_catchup (each platform's trouble logged by them); the summary logged at info
 * ("events: subscriptions 3 created, ...; catch-up read 4 people, 7 messages, 2 new").
 * FAIL_NONE, FAIL_LATER (a platform failed: the run goes on and exits 69) or FAIL_IO.
 */
enum fail	rec_events_upkeep(const struct config *cfg, struct store *st, time_t now,
		    struct sub_summary *sum);

#endif
