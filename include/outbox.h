/* prompts.h — private to src/: queueing, planning and sending prompts (src/prompts.c). */
#ifndef PS_PROMPTS_H
#define PS_PROMPTS_H

#include <stdio.h>

#include "config.h"
#include "prompt.h"
#include "store.h"

/* A person with all their accounts, loaded for a decision. */
struct pview {
	struct person	 p;
	struct account	*a;
	int		 n;
};
int	pview_load(struct txn *t, uint64_t pid, struct pview *v);	/* 0, NOTFOUND, -1 */
void	pview_free(struct pview *v);

/* The decision for v now (reason, via for auto-prompts); has_pending looked up. */
int	prompt_decide_for(const struct config *cfg, struct txn *t, const struct pview *v,
	    enum prompt_reason reason, int via_platform, const char *via_user, time_t now,
	    struct prompt_decision *d);

/* The decision for an already queued prompt q of person v (its own pending entry does not
 * count as "another prompt queued"). */
int	prompt_decide_for_queued(const struct config *cfg, struct txn *t, const struct pview *v,
	    const struct prompt *q, time_t now, struct prompt_decision *d);

/* Queues a prompt for person pid when due (or waiting for quiet hours): 1 queued,
 * 0 not (d->why says why), -1 store error. */
int	prompt_queue(const struct config *cfg, struct txn *t, uint64_t pid,
	    enum prompt_reason reason, int via_platform, const char *via_user, time_t now,
	    struct prompt_decision *d);

struct prompt_platform_summary {
	int	 ran;
	long	 due, delivered, failed, cancelled, waiting, recovered, unresolved;
	long	 throttled, requests;
	double	 seconds;
	double	 limit;		/* configured sends per second (the slowest bucket) */
	char	 err[512];
};
struct prompt_summary {
	struct prompt_platform_summary p[PLAT_COUNT];
	long	auto_synced;
	long	reauth;		/* re-consent prompts queued */
	long	events, events_queued;
};

/* Re-consent: one prompt to each person flagged PERSON_REAUTH (a user token that can no
 * longer be refreshed), at most once per person (kv space "reauth"). *n = queued. */
int	prompts_reauth(const struct config *cfg, struct store *st, time_t now, long *n);

/* Slack auto-sync: Teams and Webex primaries become on (sync type bot, primary auto). */
int	prompts_auto_sync(const struct config *cfg, struct store *st, time_t now, long *n);

/* Sends every due prompt, a thread per platform, rate-limited. dry_run: lists each pending
 * prompt with its decision on out and sends nothing. Returns 0, or EX_UNAVAILABLE when a
 * platform could not be reached (its prompts stay queued or in doubt for the next run). */
int	prompts_send(const struct config *cfg, struct store *st, int dry_run, FILE *out,
	    struct prompt_summary *sum);
void	prompts_print_summary(const struct prompt_summary *sum, FILE *f);

/* One line of an events file (without its line end): {"from":"PLATFORM:USER_ID",
 * "to":"PLATFORM:USER_ID","ts":"ISO 8601"}. Pure: no store, no clock, no logging.
 * Returns 0 with *from and *to (new strings, the caller frees them) and *ts set, or -1 with
 * *from = *to = NULL and the problem in err ("\"ts\": not an ISO 8601 time"). */
int	events_parse_line(const char *line, size_t len, char **from, char **to, time_t *ts,
	    char *err, size_t errlen);

/* Reads message events (JSON Lines) from fp, named name in messages, and queues
 * auto-prompts by the rule. Bad lines are reported as name:line: problem and counted in
 * *bad. Returns 0 or -1 (store error). */
int	events_ingest(const struct config *cfg, struct store *st, FILE *fp, const char *name,
	    long *events, long *queued, long *bad);
/* The spool: every *.jsonl of events.spool_dir, moved to done/ once committed. */
int	events_spool(const struct config *cfg, struct store *st, long *events, long *queued);

/* Is auto-prompt on (kept in the database)? */
int	auto_prompt_get(struct store *st);

#endif
