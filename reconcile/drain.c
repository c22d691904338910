/*
 * drain.c — the event inbox (include/inbox.h) drained through the auto-prompt rule
 * (events_apply): what serve's receivers and the catch-up recorded since the last run.
 * Each batch is one write transaction that queues the prompts, records the event behind
 * each, and removes its events from the pending list: a crash re-reads a batch whole or
 * not at all, so an event prompts at most once.
 */
#include <stdio.h>

#include "events.h"
#include "inbox.h"

#define DRAIN_BATCH	1000
#define EXPIRE_MAX	10000		/* seen keys expired per drain, at most */

struct drain {
	const struct config	*cfg;
	int			 on;		/* auto-prompt */
	time_t			 now;
	long			 events, queued;
};

static int
drain_cb(struct txn *t, const struct inbox_event *ev, void *arg)
{
	struct drain *d = arg;
	uint64_t qid = 0;
	int r;

	d->events++;
	if (!d->on)
		return 1;
	if ((r = events_apply(d->cfg, t, ev->from, ev->to, d->now, &qid)) < 0)
		return -1;
	if (r == 1) {
		d->queued++;
		if (store_prompt_cause_put(t, qid, ev->msgkey, ev->ts) < 0)
			return -1;
		log_info("auto-prompt: %s from %s to %s queued a prompt", ev->msgkey, ev->from,
		    ev->to);
	}
	return 1;
}

int
events_drain(const struct config *cfg, struct store *st, long *events, long *queued)
{
	struct drain d = { cfg, auto_prompt_get(st), ps_now(), 0, 0 };
	struct txn *t;
	long n;
	int rc = -1;

	do {
		if ((t = store_begin(st, 1)) == NULL)
			goto out;
		if ((n = store_inbox_each(t, 0, DRAIN_BATCH, drain_cb, &d)) < 0 ||
		    (n < DRAIN_BATCH && store_inbox_expire(t, d.now, EXPIRE_MAX) < 0)) {
			store_abort(t);
			goto out;
		}
		if (store_commit(t) < 0)
			goto out;
		*events += d.events;
		*queued += d.queued;
		d.events = d.queued = 0;
	} while (n == DRAIN_BATCH);
	rc = 0;
out:
	if (rc < 0)
		log_err("event inbox: %s", store_error(st));
	return rc;
}
