/*
 * metrics.h — the Prometheus text file (exposition format 0.0.4) that node_exporter's
 * textfile collector reads: written at the end of every reconcile run, failed or not, to
 * cfg->metrics.file, atomically (temporary file in the same directory, fsync, rename), so the
 * collector never reads half a file.
 *
 * Every metric is a gauge describing the database after the run or the run itself:
 *	peoplesync_people{status,primary_platform,sync_type}	active people
 *	peoplesync_people_inactive				people with no active account
 *	peoplesync_accounts{platform,active}			human accounts stored
 *	peoplesync_prompts_queued{platform}			prompts waiting in the outbox
 *	peoplesync_prompts_sent{platform}			prompts delivered by the run
 *	peoplesync_prompts_failed{platform}			prompts that failed in the run
 *	peoplesync_run_duration_seconds, peoplesync_run_success,
 *	peoplesync_last_run_timestamp_seconds, peoplesync_last_success_timestamp_seconds
 *	peoplesync_platform_up{platform}			its pull was applied
 *	peoplesync_platform_errors{platform}			errors in the run
 *	peoplesync_platform_pulled_accounts{platform}		accounts in its pull
 *	peoplesync_platform_requests{platform}, _retries, _throttled
 *	peoplesync_platform_duration_seconds{platform}
 *	peoplesync_events_received{platform}, _duplicates, _rate_limited
 *		the event receivers' counters since the database was created (store/inbox.c)
 *	peoplesync_platform_last_success_timestamp_seconds{platform}
 * Per-platform series exist for the platforms that are enabled in the config.
 */
#ifndef PS_METRICS_H
#define PS_METRICS_H

#include <time.h>

#include "config.h"
#include "store.h"
#include "util.h"

struct run_summary;
struct prompt_summary;

/* What one run did on one platform. */
struct metrics_platform {
	int	 ran;			/* enabled and selected by the run */
	int	 ok;			/* its pull was complete and applied */
	long	 pulled;		/* accounts in the pull */
	long	 errors;		/* errors in the run (a failed pull counts one) */
	long	 requests, retries, throttled;
	double	 seconds;		/* pull and apply */
	long	 prompts_queued;	/* in the outbox after the run */
	long	 prompts_sent;		/* delivered during the run */
	long	 prompts_failed;	/* failed for good during the run */
};

/* What one run did. */
struct metrics_run {
	int			dry_run;	/* metrics_write does nothing for a dry run */
	int			ok;		/* the whole run succeeded (it exits 0) */
	time_t			finished;	/* wall clock at the end; 0 = now */
	double			seconds;	/* duration */
	struct metrics_platform	p[PLAT_COUNT];
};

/* Fills m from the figures a reconcile run returned (include/run.h): its pulls, its prompts,
 * and whether the whole run succeeded (ok). */
void	metrics_run_from(struct metrics_run *m, const struct run_summary *sum,
	    const struct prompt_summary *ps, int dry_run, int ok);

/*
 * Records the run in the database (meta: the time of the last successful run, and of each
 * platform's last applied pull, which later runs report) and, when cfg->metrics.file is set,
 * writes the metrics file (mode 0644: node_exporter reads it as another user).
 * Call it at the end of every run, failed or not, while the run lock is held.
 * Returns 0, or -1 after logging what failed ("metrics: cannot write FILE: reason", or the
 * store's message); the caller need not log again.
 */
int	metrics_write(const struct config *cfg, struct store *st, const struct metrics_run *run);

/* The text of the file into out (appended); reads the store and the recorded times, writes
 * nothing. 0, or -1 with the store's message in store_error(). */
int	metrics_format(const struct config *cfg, struct store *st, const struct metrics_run *run,
	    struct buf *out);

#endif
