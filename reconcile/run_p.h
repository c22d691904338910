/*
 * run_p.h — private to reconcile/: the pieces of one run that run.c, pull.c and apply.c share.
 */
#ifndef PS_RUN_P_H
#define PS_RUN_P_H

#include <pthread.h>

#include "driver.h"
#include "run.h"

struct pipe;

/* A team's display name learnt during a pull, stored by the writer when the pull ends. */
struct pull_team {
	char	*id, *name;
};

/*
 * The pull of one instance of a platform (a Slack workspace entry): filled by run.c, run by
 * pull_thread, staged through the pipe by the run's thread. A platform's jobs share its
 * staging area; when the last of them ends, its first (lead) is applied for all by
 * apply_platform. The pulling thread owns everything but what the pipe's lock guards
 * (spare, wfail, werr) until it has sent its last batch.
 */
struct apply;		/* apply.c's state of a merge */

struct pull_job {
	const struct config	*cfg;
	struct store		*st;
	struct pipe		*pipe;
	pthread_t		 th;
	struct stage_batch	*batch;		/* being filled */
	const struct driver	*drv;
	const struct cfg_platform *pc;		/* the instance pulled */
	struct platform_summary	*sum;		/* &own while pulling; the platform's to apply */
	struct platform_summary	 own;
	struct pull_job		*lead;		/* the platform's first job */
	int			 pending;	/* lead: the platform's jobs not ended yet */
	int			 failed;	/* lead: one of them failed (ferr says why) */
	int			 partial;	/* lead: one of them was not a full roster */
	struct apply		*stream;	/* lead: a first pull merged as it arrives (apply.c) */
	char			 ferr[512];
	struct pull_result	 res;
	char			*cursor_in;
	struct pull_team	*teams;
	int			 nteams;
	int			 rc;
	double			 started;
	/* under the pipe's lock */
	struct stage_batch	*spare;		/* written, back for reuse */
	int			 wfail;		/* a batch of this pull could not be staged */
	char			 werr[512];	/* why (the store's error) */
};

/* The pull of job into batches handed to job->pipe (a thread's body: arg is the struct
 * pull_job). It always ends by sending its last batch (pipe_put last), and touches nothing
 * of the job after. job->rc is 0 when the pull went through, else -1 with job->res.err set;
 * its batches were all staged only if the writer left job->wfail at 0. */
void	*pull_thread(void *arg);
void	 pull_job_free(struct pull_job *job);	/* after the thread was joined */

/*
 * The pipe: pulling threads put full batches, the run's thread (the one writer) stages them
 * in order. At most PIPE_DEPTH batches wait; pipe_put blocks while the queue is full.
 */
#define PIPE_DEPTH	2
struct pipe_item {
	struct pull_job		*job;
	struct stage_batch	*b;		/* NULL: nothing to write (a last item) */
	int			 last;		/* the pull's last item */
};
struct pipe {
	pthread_mutex_t		 mu;
	pthread_cond_t		 room, ready;
	struct pipe_item	 q[PIPE_DEPTH];
	int			 head, n;
	int			 producers;	/* pulls that have not sent their last item */
};
void	pipe_init(struct pipe *p);
void	pipe_destroy(struct pipe *p);
/* A pull about to start (+1), or one that could not be started after all (-1). */
void	pipe_producers(struct pipe *p, int delta);
/* Queues batch b of job (the pipe then owns b; NULL with last). Unless last, *next is a
 * spare batch of job's to fill next, or NULL. 0, or -1 when a batch of job could not be
 * staged (job->werr says why; the pull must fail; read it after this call only). */
int	pipe_put(struct pipe *p, struct pull_job *job, struct stage_batch *b, int last,
	    struct stage_batch **next);
/* The writer: stages every batch in the order queued until each producer has sent its last
 * item, calling done(job, arg) right after a job's last (outside the lock; the pulling
 * thread is then finishing and may be joined). */
void	pipe_drain(struct pipe *p, struct store *st,
	    void (*done)(struct pull_job *job, void *arg), void *arg);

/* Applies a complete pull (job) to the store, after the deactivation guard. 0, or -1 with
 * job->sum->err set (and job->sum->guard_tripped when the guard refused it). */
int	apply_platform(const struct config *cfg, struct store *st, const struct run_opts *o,
	    struct pull_job *job);

/*
 * A platform's first full pull (nothing of it stored, not a dry run) is merged as its
 * batches arrive instead of staged: it cannot deactivate anyone, so the guard has nothing
 * to weigh, and the merge runs on the writer's core while the pulls fetch and parse. A first
 * pull cut short keeps the accounts merged before (each whole and linked, as a merge cut
 * short between two commits); the next run pulls again and merges the rest.
 * apply_stream_begin sets lead->stream when this applies (0, or -1 on a store error);
 * apply_stream_batch merges one batch (0, or -1 with err); apply_stream_end writes the
 * deferred indexes and, when ok, the pull's state (0, or -1 with the summary's err set).
 */
int	apply_stream_begin(const struct config *cfg, struct store *st, const struct run_opts *o,
	    struct pull_job *lead, struct platform_summary *sum);
int	apply_stream_batch(struct pull_job *lead, struct stage_batch *b, struct store *st,
	    char *err, size_t errlen);
int	apply_stream_end(struct store *st, struct pull_job *lead, int ok);

#endif
