/*
 * run.h — one reconcile run: pull every enabled platform into staging (a thread each), then
 * apply each complete pull to the store, platform by platform.
 */
#ifndef PS_RUN_H
#define PS_RUN_H

#include "config.h"
#include "store.h"

struct run_opts {
	int	dry_run;		/* pull and count, change nothing */
	int	only[PLAT_COUNT];	/* nonzero: restrict to these (all zero: every enabled) */
	int	accept_deactivations;	/* override the accidental-deactivation guard */
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

/* Returns a sysexits code: 0, 69 (a platform failed, the others were applied), 65 (the
 * deactivation guard refused a pull), 74/75 (store error / lock held). Prints the failing
 * platform's error once. */
int	run_reconcile(const struct config *cfg, struct store *st, const struct run_opts *o,
	    struct run_summary *sum);
void	run_print_summary(const struct run_summary *sum, int dry_run, FILE *f);

/* Shared with admin commands (link/unlink), inside a write txn:
 * run_refresh_person re-derives person pid from their accounts (deleting a person left with
 * none) and records status/activity changes in the history; run_reindex keeps the email
 * index in step after account a was written (old: the record before, or NULL). */
int	run_refresh_person(const struct config *cfg, struct txn *t, uint64_t pid, time_t now);
int	run_reindex(struct txn *t, const struct account *a, const struct account *old);

/* The run lock: a file in the database directory held with flock for the whole run.
 * Returns an fd >= 0, or -1 after printing "another run (pid N) holds DIR/peoplesync.lock". */
int	run_lock(const char *dbdir);
void	run_unlock(int fd);

#endif
