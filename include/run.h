/*
 * run.h — one reconcile run: pull every enabled platform into staging (a thread each), then
 * apply each complete pull to the store, platform by platform (reconcile/run.c, pull.c,
 * apply.c); then the prompts of the run (outbox.h). rec_reconcile is the whole command.
 */
#ifndef PS_RUN_H
#define PS_RUN_H

#include <stdio.h>

#include "config.h"
#include "fail.h"
#include "outbox.h"
#include "store.h"

struct run_opts {
	int	dry_run;		/* pull and count, change nothing */
	int	only[PLAT_COUNT];	/* nonzero: restrict to these (all zero: every enabled) */
	int	accept_deactivations;	/* override the accidental-deactivation guard */
	int	no_prompts;		/* rec_reconcile: send no prompts this run */
};

struct platform_summary {
	int	 ran;			/* enabled and selected */
	int	 ok;			/* pulled and applied */
	int	 guard_tripped;
	long	 pulled, pages, requests, retries, throttled;
	long	 n_new, n_changed, n_deactivated, n_reactivated, n_unchanged;
	long	 people_new;
	double	 seconds;
	char	 err[1024];
};

struct run_summary {
	struct platform_summary	p[PLAT_COUNT];
	long			people_active, people_total;
	double			seconds;
};

/* What rec_reconcile did: the pulls, then the prompts. */
struct run_result {
	struct run_summary	run;
	struct prompt_summary	prompts;
};

/* The pulls and their apply. Returns FAIL_NONE, FAIL_LATER (a platform failed, the others
 * were applied; wins over FAIL_DATA), FAIL_DATA (the deactivation guard refused a pull) or
 * FAIL_IO (store error). Logs each failing platform's error once. */
enum fail run_reconcile(const struct config *cfg, struct store *st, const struct run_opts *o,
	    struct run_summary *sum);
void	run_print_summary(const struct run_summary *sum, int dry_run, FILE *f);

/*
 * The `reconcile` command, with the run lock held by the caller (who writes the metrics from
 * *res before releasing it): run_reconcile, then (unless a dry run) token upkeep, re-consent
 * prompts, the events spool and Slack auto-sync, then (unless o->no_prompts) prompts_send.
 * The summaries go to out (always on failure, else at log level info); a dry run lists the
 * prompts it would send there. Returns the run's class: that of the pulls, else that of the
 * prompts (FAIL_LATER: a platform could not be reached), or FAIL_IO (store error). f->msg
 * is set when the caller has a message to log, else "" (logged already).
 */
enum fail rec_reconcile(const struct config *cfg, struct store *st, const struct run_opts *o,
	    FILE *out, struct run_result *res, struct failure *f);

/* Shared with admin commands (link/unlink), inside a write txn:
 * run_refresh_person re-derives person pid from their accounts (deleting a person left with
 * none) and records status/activity changes in the history; run_reindex keeps the email
 * index in step after account a was written (old: the record before, or NULL). */
int	run_refresh_person(const struct config *cfg, struct txn *t, uint64_t pid, time_t now);
int	run_reindex(struct txn *t, const struct account *a, const struct account *old);

/* The run lock: a file in the database directory held with flock for the whole run, plus
 * a record (fcntl) lock through which the kernel names the holder's pid to others.
 * Returns an fd >= 0, or -1 with f set (nothing logged): FAIL_AGAIN "another run (pid N)
 * holds DIR/peoplesync.lock; ..." when another process (or this one) holds it, N known
 * even right after the holder took it; FAIL_IO when the lock file cannot be opened. */
int	run_lock(const char *dbdir, struct failure *f);
/* The same, waiting while another process holds it (FAIL_IO only). */
int	run_lock_wait(const char *dbdir, struct failure *f);
void	run_unlock(int fd);

#endif
