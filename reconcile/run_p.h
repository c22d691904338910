/*
 * run_p.h — private to reconcile/: the pieces of one run that run.c, pull.c and apply.c share.
 */
#ifndef PS_RUN_P_H
#define PS_RUN_P_H

#include "driver.h"
#include "run.h"

/* One platform's pull: filled by run.c, run by pull_thread, applied by apply_platform. */
struct pull_job {
	const struct config	*cfg;
	struct store		*st;
	struct stage_batch	*batch;
	const struct driver	*drv;
	struct platform_summary	*sum;
	struct pull_result	 res;
	char			*cursor_in;
	int			 rc;
	double			 started;
};

/* The pull of job into staging (a thread's body: arg is the struct pull_job). job->rc is 0
 * when the pull went through, else -1 with job->res.err set. */
void	*pull_thread(void *arg);

/* Applies a complete pull (job) to the store, after the deactivation guard. 0, or -1 with
 * job->sum->err set (and job->sum->guard_tripped when the guard refused it). */
int	apply_platform(const struct config *cfg, struct store *st, const struct run_opts *o,
	    struct pull_job *job);

#endif
