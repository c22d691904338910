/*
 * events.h — message events for auto-prompt (reconcile/events.c): who wrote to whom, as JSON
 * Lines from a file or the spool directory; the auto-prompt switch.
 */
#ifndef PS_EVENTS_H
#define PS_EVENTS_H

#include <stdio.h>
#include <time.h>

#include "config.h"
#include "fail.h"
#include "store.h"

/* One line of an events file (without its line end): {"from":"PLATFORM:USER_ID",
 * "to":"PLATFORM:USER_ID","ts":"ISO 8601"}. Pure: no store, no clock, no logging.
 * Returns 0 with *from and *to (new strings, the caller frees them) and *ts set, or -1 with
 * *from = *to = NULL and the problem in err ("\"ts\": not an ISO 8601 time"). */
int	events_parse_line(const char *line, size_t len, char **from, char **to, time_t *ts,
	    char *err, size_t errlen);

/* One message event from -> to ("PLATFORM:USER_ID" each) through the auto-prompt rule:
 * sender known, active, status off; recipient known, status on; then prompt_queue's pacing
 * (cooldown, cap, quiet hours, one pending prompt). 1 queued (*prompt_id set when not
 * NULL), 0 not, -1 store error. */
int	events_apply(const struct config *cfg, struct txn *t, const char *from, const char *to,
	    time_t now, uint64_t *prompt_id);

/*
 * The event inbox (include/inbox.h) drained (reconcile/events.c): every pending event whose
 * sender is known goes through events_apply in batches of 1,000, each batch one write
 * transaction that also removes its events from the pending list and records, with each
 * prompt queued, the event that caused it (explain shows it). With auto-prompt off the
 * events are removed and prompt nobody. Seen keys past their window are expired. The caller
 * holds the run lock. Adds to *events (drained) and *queued. 0, or -1 (store error: logged;
 * the batches before it stay committed).
 */
int	events_drain(const struct config *cfg, struct store *st, long *events, long *queued);

/* The senders of the Teams events recorded without one (Graph notifications carry no
 * resource data): found in the recipients' one-on-one chats (reconcile/resolve.c), with
 * network calls and no transaction open meanwhile; those unresolved for a day are dropped.
 * Adds to *resolved. 0 or -1 (store error; a platform's failure is only logged). */
int	events_resolve(const struct config *cfg, struct store *st, long *resolved);

/* What an events file held. */
struct event_counts {
	long	events;		/* good lines */
	long	queued;		/* auto-prompts queued */
	long	bad;		/* lines reported and skipped */
};

/* Reads message events (JSON Lines) from fp, named name in messages, and queues
 * auto-prompts by the rule, adding to *n. Lines longer than 64 KiB and bad lines are
 * reported as name:line: problem, skipped and counted in n->bad. Never holds a write
 * transaction (nor the run lock) while it waits for input: events are applied in batches
 * (1,000 events, or when the input pauses for 0.2 s), each in one short transaction,
 * taken with run_lock_wait(lockdir) unless lockdir is NULL (the caller holds the run lock).
 * Memory stays bounded whatever the input. Returns 0, or -1 with f set: FAIL_IO (read or
 * store error; batches before it stay committed). */
int	events_ingest(const struct config *cfg, struct store *st, FILE *fp, const char *name,
	    const char *lockdir, struct event_counts *n, struct failure *f);
/* The spool: every *.jsonl of events.spool_dir, moved to done/ once committed. */
int	events_spool(const struct config *cfg, struct store *st, long *events, long *queued);

/* Is auto-prompt on (kept in the database)? */
int	auto_prompt_get(struct store *st);

/* The `events ingest` command: fails at once when a run holds the run lock, then
 * events_ingest taking the lock per batch (a warning first when auto-prompt is off). FAIL_NONE, FAIL_DATA when a line was bad (each logged as
 * NAME:LINE: problem; the others were read), FAIL_AGAIN (run lock held) or FAIL_IO, with
 * f->msg. *n is set unless the lock or the store failed. */
enum fail rec_events_ingest(const struct config *cfg, struct store *st, FILE *fp,
	    const char *name, struct event_counts *n, struct failure *f);

/* The `auto-prompt` command: set ("on" or "off") it, or with set NULL read it; *on is the
 * state after. FAIL_IO with the store's message. */
enum fail rec_auto_prompt(struct store *st, const char *set, int *on, struct failure *f);

#endif
