/*
 * outbox.h — getting people prompted: the decision for a stored person and queueing
 * (reconcile/queue.c), sending (reconcile/outbox.c), and the `prompt` and `explain` commands.
 */
#ifndef PS_OUTBOX_H
#define PS_OUTBOX_H

#include <stdio.h>

#include "config.h"
#include "fail.h"
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
	long	zones;		/* people's zones fetched (Graph mailboxes) */
	long	events, events_queued;
};

/* Re-consent: one prompt to each person flagged PERSON_REAUTH (a user token that can no
 * longer be refreshed), at most once per person (kv space "reauth"). *n = queued. */
int	prompts_reauth(const struct config *cfg, struct store *st, time_t now, long *n);

/* Slack auto-sync: Teams and Webex primaries become on (sync type bot, primary auto). */
int	prompts_auto_sync(const struct config *cfg, struct store *st, time_t now, long *n);

/* Sends every due prompt, a thread per platform, rate-limited (reconcile/outbox.c). dry_run:
 * lists each pending prompt with its decision on out and sends nothing. Returns FAIL_NONE,
 * FAIL_LATER when a platform could not be reached (its prompts stay queued or in doubt for
 * the next run; logged), or FAIL_IO (store error). */
enum fail prompts_send(const struct config *cfg, struct store *st, int dry_run, FILE *out,
	    struct prompt_summary *sum);
void	prompts_print_summary(const struct prompt_summary *sum, FILE *f);

/* What `prompt` asks for. */
struct prompt_request {
	int		 all;		/* bulk: everyone active with status off (and filters) */
	int		 dry_run;	/* decide and say why, queue nothing */
	int		 platform;	/* with all: the primary platform, -1 any */
	int		 type;		/* with all: the sync type, -1 any */
	char	       **people;	/* without all: the people named (email or
					 * PLATFORM:USER_ID) */
	int		 npeople;
};

/*
 * The `prompt` command (reconcile/queue.c): under the run lock, in one write txn, queues a
 * prompt for each person of rq when the rules allow (a dry run only decides), and says on
 * out what became of each (every one named; in bulk, those not queued) and a closing count.
 * Returns FAIL_NONE, FAIL_DATA when a name is nobody (each logged as "prompt: no person
 * 'X'"; the others are queued), FAIL_AGAIN (run lock held) or FAIL_IO, with f->msg.
 */
enum fail rec_prompt(const struct config *cfg, struct store *st,
	    const struct prompt_request *rq, FILE *out, struct failure *f);

/*
 * The `explain` command (reconcile/explain.c): why the person spec names has their status
 * and primary, and whether they would be prompted now and why (not), then their prompts, as
 * text on out. FAIL_DATA ("explain: no person 'X'") or FAIL_IO, with f->msg.
 */
enum fail rec_explain(const struct config *cfg, struct store *st, const char *spec, FILE *out,
	    struct failure *f);

/* The events reader (events.h) was declared here before it had a file of its own. */
#include "events.h"

#endif
