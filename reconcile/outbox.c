/*
 * outbox.c — sending the queued prompts in rate-limited batches, a thread per platform
 * instance (each Slack workspace entry with its own token and buckets: the account's team
 * picks it, include/workspace.h), never twice, never lost (queue.c fills the outbox).
 *
 * A prompt moves queued -> sending -> delivered | failed | cancelled. "sending" is committed
 * (and synced to disk) before the request; a prompt found in "sending" by a later run is in
 * doubt: the platform's DM history is searched for its reference before it is sent again.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"
#include "linktoken.h"
#include "outbox.h"
#include "outbox_p.h"
#include "workspace.h"

/* ---- sending ---- */

struct sender {
	const struct config		*cfg;
	struct store			*st;
	const struct driver		*drv;
	const struct cfg_platform	*pc;		/* the instance that sends */
	struct prompt_platform_summary	*sum;		/* &own */
	struct prompt_platform_summary	 own;
	struct ids			 ids;		/* prompts to send, in id order */
	atomic_long			 done;		/* for the progress line */
	atomic_int			 finished;
	double				 started;
};

/* Writes the outcome of prompt q (and the person's new status on delivery). */
static int
record_outcome(struct sender *s, struct prompt *q, int delivered, const char *error,
    const struct dm_out *o)
{
	struct txn *t;
	struct person p;
	time_t now = ps_now();
	int r;

	if ((t = store_begin(s->st, 1)) == NULL)
		return -1;
	q->updated_at = now;
	if (o->channel && !q->channel)
		q->channel = xstrdup(o->channel);
	if (delivered) {
		q->state = PQ_DELIVERED;
		q->delivered_at = now;
		free(q->message_id);
		q->message_id = o->message_id ? xstrdup(o->message_id) : NULL;
		r = store_person_get(t, q->person_id, &p);
		if (r == 0) {
			int was = p.status;
			p.prompt_count++;
			p.last_prompted_at = now;
			if (p.status == ST_OFF)
				p.status = ST_PENDING;
			r = store_person_put(t, &p);
			if (r == 0)
				r = store_history_add(t, p.id, now, was != (int)p.status ? "status" :
				    "prompt", "%sprompt %s delivered on %s to %s (%d of %d)",
				    was != (int)p.status ? "off -> pending: " : "", q->ref,
				    platform_name(q->platform), q->user_id, p.prompt_count,
				    s->cfg->prompts.max_prompts);
			person_free(&p);
		} else if (r == STORE_NOTFOUND) {
			r = 0;
		}
		if (r == 0 && q->channel)
			r = store_dm_channel_put(t, q->platform, q->team_id, q->user_id, q->channel);
	} else {
		q->state = PQ_FAILED;
		free(q->error);
		q->error = xstrdup(error);
		r = store_history_add(t, q->person_id, now, "prompt", "prompt %s failed on %s: %s",
		    q->ref, platform_name(q->platform), error);
	}
	if (r < 0 || store_prompt_put(t, q) < 0) {
		store_abort(t);
		return -1;
	}
	return store_commit(t);
}

/* Handles one pending prompt; returns 0 to go on, -1 to stop this platform. */
/* One pending prompt on its way: what send_one and its steps share. */
struct one {
	struct prompt		 q;
	struct pview		 v;
	struct dm_out		 o;
	struct dm		 m;
	struct buf		 chan;		/* the DM channel stored for the account */
	const struct account	*to;		/* the account of q, still the person's */
	char			 err[480];
};

/* Loads prompt id, its person and their DM channel: 0, 1 (settled meanwhile, or the person
 * is gone: nothing to do), -1 (store error). */
static int
one_load(struct sender *s, uint64_t id, struct one *x)
{
	struct txn *t;
	int r, i;

	if ((t = store_begin(s->st, 0)) == NULL)
		return -1;
	r = store_prompt_get(t, id, &x->q);
	if (r == 0 && (x->q.state == PQ_QUEUED || x->q.state == PQ_SENDING))
		r = pview_load(t, x->q.person_id, &x->v);
	else if (r == 0)
		r = 1;		/* settled meanwhile */
	if (r == 0 && store_dm_channel_get(t, x->q.platform, x->q.team_id, x->q.user_id,
	    &x->chan) == 0)
		x->m.channel = x->chan.p;
	store_abort(t);
	if (r != 0)
		return r < 0 ? -1 : 1;
	for (i = 0; i < x->v.n; i++)
		if (x->v.a[i].platform == x->q.platform &&
		    strcmp(x->v.a[i].team_id, x->q.team_id) == 0 &&
		    strcmp(x->v.a[i].user_id, x->q.user_id) == 0)
			x->to = &x->v.a[i];
	if (x->q.channel)
		x->m.channel = x->q.channel;
	x->m.to = x->to;
	x->m.ref = x->q.ref;
	return 0;
}

/* Found delivered after all (in doubt, then found in the DM history). */
static int
one_recovered(struct sender *s, struct one *x)
{
	s->sum->recovered++;
	s->sum->delivered++;
	return record_outcome(s, &x->q, 1, NULL, &x->o);
}

/* Intent before side effect: "sending" is on disk before the request. 0 or -1. */
static int
one_mark_sending(struct sender *s, struct one *x)
{
	struct txn *t;

	if ((t = store_begin(s->st, 1)) == NULL)
		return -1;
	x->q.state = PQ_SENDING;
	x->q.attempts++;
	x->q.updated_at = ps_now();
	if (store_prompt_put(t, &x->q) < 0) {
		store_abort(t);
		return -1;
	}
	return store_commit(t) < 0 || store_sync(s->st) < 0 ? -1 : 0;
}

/*
 * The answer to the post was lost. Look at once: found, it was delivered; not found, it
 * stays in "sending" for the next run (which looks again before sending: a history can lag
 * behind a post) and this platform goes on with the others. Only when the platform cannot
 * even be asked does it stop for this run (-1).
 */
static int
one_lost(struct sender *s, struct driver_ctx *ctx, struct one *x)
{
	size_t used = strlen(x->err);
	int found = 0, r;

	dm_out_free(&x->o);
	r = s->drv->dm_find(ctx, &x->m, &found, &x->o, x->err + used, sizeof(x->err) - used);
	if (r == DM_OK && found)
		return one_recovered(s, x);
	s->sum->unresolved++;
	if (s->sum->err[0] == '\0')	/* the run then exits 69 */
		snprintf(s->sum->err, sizeof(s->sum->err), "%s", x->err);
	return r != DM_OK ? -1 : 0;
}

/* Renders and posts the prompt (marked "sending" first). 0 to go on, -1 to stop. */
static int
one_post(struct sender *s, struct driver_ctx *ctx, struct one *x)
{
	const struct config *cfg = s->cfg;
	struct buf link = { 0 }, text = { 0 };
	int r, rc = -1;

	if (one_mark_sending(s, x) < 0)
		goto out;
	if (linktoken_url(cfg, x->q.person_id, ps_now() + (time_t)cfg->link_ttl_hours * 3600,
	    &link) < 0) {
		snprintf(s->sum->err, sizeof(s->sum->err), "%s: cannot make Sync now links: "
		    "link_key_file is not set in the config", s->drv->name);
		goto out;
	}
	prompt_render(cfg, x->q.platform, x->to->first_name ? x->to->first_name : x->v.p.name,
	    link.p, x->q.ref, &text);
	x->m.text = text.p;
	r = s->drv->dm_send(ctx, &x->m, &x->o, x->err, sizeof(x->err));
	if (r == DM_OK) {
		rc = record_outcome(s, &x->q, 1, NULL, &x->o);
		s->sum->delivered++;
	} else if (r == DM_REFUSED) {
		rc = record_outcome(s, &x->q, 0, x->err, &x->o);
		s->sum->failed++;
	} else {
		rc = one_lost(s, ctx, x);
	}
out:
	x->m.text = NULL;
	buf_free(&link);
	buf_free(&text);
	return rc;
}

/* Handles one pending prompt; returns 0 to go on, -1 to stop this platform. */
static int
send_one(struct sender *s, struct driver_ctx *ctx, uint64_t id)
{
	struct one x = { 0 };
	int rc, r, found = 0;

	if ((rc = one_load(s, id, &x)) != 0) {
		rc = rc < 0 ? -1 : 0;
		goto out;
	}
	if (x.to == NULL) {
		rc = record_outcome(s, &x.q, 0, "the account is no longer the person's", &x.o);
		s->sum->failed++;
		goto out;
	}
	if (x.q.state == PQ_SENDING) {
		/* in doubt: a crash came between "sending" and its outcome */
		r = s->drv->dm_find(ctx, &x.m, &found, &x.o, x.err, sizeof(x.err));
		if (r == DM_UNAVAILABLE) {
			snprintf(s->sum->err, sizeof(s->sum->err), "%s", x.err);
			s->sum->unresolved++;
			rc = -1;
			goto out;
		}
		if (found) {
			rc = one_recovered(s, &x);
			goto out;
		}
		dm_out_free(&x.o);
	}
	rc = one_post(s, ctx, &x);
out:
	prompt_free(&x.q);
	pview_free(&x.v);
	dm_out_free(&x.o);
	buf_free(&x.chan);
	return rc;
}

static void *
sender_thread(void *arg)
{
	struct sender *s = arg;
	struct driver_ctx ctx = { .cfg = s->cfg, .pc = s->pc };
	char err[512] = "";
	size_t i;

	ctx.http = http_new(s->drv->name, s->cfg);
	if (s->drv->dm_init(&ctx, err, sizeof(err)) != DM_OK) {
		snprintf(s->sum->err, sizeof(s->sum->err), "%s", err);
		s->sum->unresolved += (long)s->ids.n;
		goto out;
	}
	s->sum->limit = ctx.rate[RATE_POST].rate < ctx.rate[RATE_OPEN].rate ||
	    ctx.rate[RATE_OPEN].rate <= 0 ? ctx.rate[RATE_POST].rate : ctx.rate[RATE_OPEN].rate;
	for (i = 0; i < s->ids.n; i++) {
		if (send_one(s, &ctx, s->ids.v[i]) < 0) {
			if (s->sum->err[0] == '\0')
				snprintf(s->sum->err, sizeof(s->sum->err), "%s: %s", s->drv->name,
				    store_error(s->st));
			break;
		}
		atomic_fetch_add(&s->done, 1);
	}
out:
	if (s->drv->fini)
		s->drv->fini(&ctx);
	s->sum->throttled = http_stats(ctx.http)->throttled;
	s->sum->requests = http_stats(ctx.http)->requests;
	http_free(ctx.http);
	s->sum->seconds = ps_monotonic() - s->started;
	atomic_store(&s->finished, 1);
	return NULL;
}

struct plan {
	const struct config	*cfg;
	struct txn		*t;
	struct sender		*senders;	/* one per instance: base[p] + its index */
	int			 base[PLAT_COUNT];
	FILE			*out;
	int			 dry_run;
	time_t			 now;
	struct prompt_summary	*sum;
	int			 err;
	struct ids		 cancel;
};

static int
plan_cb(const struct prompt *q, void *arg)
{
	struct plan *pl = arg;
	struct prompt_decision d;
	const struct cfg_platform *pc;
	struct pview v;
	char *line;

	if (pview_load(pl->t, q->person_id, &v) != 0) {
		ids_add(&pl->cancel, q->id);
		return 0;
	}
	if (q->state == PQ_SENDING) {
		/* in doubt: resolved before anything else, whatever the rules say now */
		d.d = DEC_SEND;
		snprintf(d.why, sizeof(d.why), "in doubt after an interrupted run: its DM history "
		    "is checked for %s before sending", q->ref);
	} else if (prompt_decide_for_queued(pl->cfg, pl->t, &v, q, pl->now, &d) < 0) {
		pview_free(&v);
		pl->err = 1;
		return -1;
	}
	if (pl->dry_run) {
		line = xasprintf("%s %s:%s  %s <%s>  %s\n", q->ref, platform_name(q->platform),
		    q->user_id, v.p.name ? v.p.name : "", v.p.email ? v.p.email : "", d.why);
		fputs(line, pl->out);
		free(line);
	}
	if (d.d == DEC_SEND && (pc = rec_instance(pl->cfg, pl->t, q->platform,
	    q->team_id)) == NULL) {
		/* a team no pull has seen: no workspace entry of the config is known to serve it */
		log_warn("prompt %s: no %s workspace of the config serves team %s; it waits",
		    q->ref, platform_name(q->platform), q->team_id);
		pl->sum->p[q->platform].unresolved++;
	} else if (d.d == DEC_SEND) {
		pl->sum->p[q->platform].due++;
		ids_add(&pl->senders[pl->base[q->platform] + pc->index].ids, q->id);
	} else if (d.d == DEC_WAIT) {
		pl->sum->p[q->platform].waiting++;
	} else {
		ids_add(&pl->cancel, q->id);
		pl->sum->p[q->platform].cancelled++;
	}
	pview_free(&v);
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Cancels the prompts the plan found no longer due. 0 or -1 (store error). */
static int
cancel_undue(struct store *st, const struct ids *cancel, time_t now)
{
	struct txn *t;
	size_t k;

	if (cancel->n == 0)
		return 0;
	if ((t = store_begin(st, 1)) == NULL)
		return -1;
	for (k = 0; k < cancel->n; k++) {
		struct prompt q;
		if (store_prompt_get(t, cancel->v[k], &q) != 0)
			continue;
		q.state = PQ_CANCELLED;
		q.updated_at = now;
		free(q.error);
		q.error = xstrdup("no longer due when its turn came");
		if (store_prompt_put(t, &q) < 0) {
			prompt_free(&q);
			store_abort(t);
			return -1;
		}
		prompt_free(&q);
	}
	return store_commit(t);
}

/* Starts a sender thread for each instance with prompts due; started[i] says which. */
static void
start_senders(const struct config *cfg, struct store *st, struct sender *senders, int n,
    pthread_t *th, int *started)
{
	for (int i = 0; i < n; i++) {
		struct sender *s = &senders[i];
		if (s->ids.n == 0)
			continue;
		qsort(s->ids.v, s->ids.n, sizeof(*s->ids.v), cmp_u64);
		s->cfg = cfg;
		s->st = st;
		s->sum = &s->own;
		s->sum->ran = 1;
		s->started = ps_monotonic();
		if (s->drv == NULL || s->drv->dm_send == NULL) {
			snprintf(s->sum->err, sizeof(s->sum->err), "%s: cannot send direct messages",
			    s->drv != NULL ? s->drv->name : "?");
			continue;
		}
		if (pthread_create(&th[i], NULL, sender_thread, s) == 0)
			started[i] = 1;
	}
}

/* A progress line on a terminal while the senders work; returns when they are done. */
static void
watch_senders(struct sender *senders, int n, const int *started)
{
	int i, running;

	do {
		struct buf line = { 0 };
		running = 0;
		for (i = 0; i < n; i++) {
			struct sender *s = &senders[i];
			long done;
			double el, rate;
			if (!started[i])
				continue;
			if (!atomic_load(&s->finished))
				running = 1;
			done = atomic_load(&s->done);
			el = ps_monotonic() - s->started;
			rate = el > 0 ? (double)done / el : 0;
			buf_printf(&line, "%s%s %ld/%zu %.1f/s", line.len ? "  " : "",
			    s->drv->name, done, s->ids.n, rate);
			if (rate > 0 && (size_t)done < s->ids.n)
				buf_printf(&line, " ETA %.0fs", (double)(s->ids.n - (size_t)done) / rate);
		}
		if (line.len && running)
			log_progress("prompts: %s", line.p);
		buf_free(&line);
		if (running)
			usleep(250000);
	} while (running);
	log_progress_end();
}

/* A sender's figures into its platform's. */
static void
add_summary(struct prompt_platform_summary *to, const struct prompt_platform_summary *f)
{
	to->ran |= f->ran;
	to->delivered += f->delivered;
	to->failed += f->failed;
	to->recovered += f->recovered;
	to->unresolved += f->unresolved;
	to->throttled += f->throttled;
	to->requests += f->requests;
	to->limit += f->limit;
	if (f->seconds > to->seconds)
		to->seconds = f->seconds;
	if (to->err[0] == '\0')
		memcpy(to->err, f->err, sizeof(to->err));
}

/* A sender for every instance of every platform (pl->base[p]: the first of p's). */
static struct sender *
new_senders(const struct config *cfg, struct plan *pl, int *n)
{
	struct sender *senders;
	int p, i, k = 0;

	for (p = 0; p < PLAT_COUNT; p++) {
		pl->base[p] = k;
		k += config_ninst(cfg, (enum platform)p);
	}
	senders = xcalloc((size_t)k, sizeof(*senders));
	for (p = 0; p < PLAT_COUNT; p++)
		for (i = 0; i < config_ninst(cfg, (enum platform)p); i++) {
			senders[pl->base[p] + i].drv = driver_for((enum platform)p);
			senders[pl->base[p] + i].pc = config_inst(cfg, (enum platform)p, i);
			senders[pl->base[p] + i].sum = &senders[pl->base[p] + i].own;
		}
	*n = k;
	return senders;
}

enum fail
prompts_send(const struct config *cfg, struct store *st, int dry_run, FILE *out,
    struct prompt_summary *sum)
{
	struct sender *senders;
	struct plan pl = { 0 };
	pthread_t *th;
	int *started, n, i;
	enum fail ex = FAIL_IO;

	pl.cfg = cfg;
	pl.senders = senders = new_senders(cfg, &pl, &n);
	th = xcalloc((size_t)n, sizeof(*th));
	started = xcalloc((size_t)n, sizeof(*started));
	pl.out = out;
	pl.dry_run = dry_run;
	pl.now = ps_now();
	pl.sum = sum;
	if ((pl.t = store_begin(st, 0)) == NULL)
		goto out;
	if (store_prompt_each(pl.t, 1, plan_cb, &pl) < 0) {
		store_abort(pl.t);
		log_err("%s", store_error(st));
		goto out;
	}
	store_abort(pl.t);
	ex = FAIL_NONE;
	if (dry_run)
		goto out;
	if (cancel_undue(st, &pl.cancel, pl.now) < 0) {
		ex = FAIL_IO;
		goto out;
	}
	start_senders(cfg, st, senders, n, th, started);
	watch_senders(senders, n, started);
	for (i = 0; i < n; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		if (senders[i].own.ran && senders[i].drv != NULL)
			add_summary(&sum->p[senders[i].drv->platform], &senders[i].own);
		if (senders[i].own.err[0]) {
			log_err("%s; its undelivered prompts wait for the next run",
			    senders[i].own.err);
			ex = FAIL_LATER;
		}
	}
	store_sync(st);
out:
	for (i = 0; i < n; i++)
		free(senders[i].ids.v);
	free(senders);
	free(th);
	free(started);
	free(pl.cancel.v);
	return ex;
}

void
prompts_print_summary(const struct prompt_summary *sum, FILE *f)
{
	int i;

	if (sum->auto_synced)
		fprintf(f, "auto-sync: %ld people synced automatically (Slack auto-sync)\n",
		    sum->auto_synced);
	if (sum->reauth)
		fprintf(f, "re-consent: %ld prompts queued for people whose sign-in expired\n",
		    sum->reauth);
	if (sum->events)
		fprintf(f, "events: %ld read, %ld auto-prompts queued\n", sum->events,
		    sum->events_queued);
	for (i = 0; i < PLAT_COUNT; i++) {
		const struct prompt_platform_summary *p = &sum->p[i];
		if (!p->ran && !p->waiting && !p->cancelled)
			continue;
		fprintf(f, "%s prompts: %ld delivered, %ld failed, %ld waiting, %ld cancelled",
		    platform_name((enum platform)i), p->delivered, p->failed, p->waiting,
		    p->cancelled);
		if (p->recovered)
			fprintf(f, ", %ld found already delivered after an interruption", p->recovered);
		if (p->unresolved)
			fprintf(f, ", %ld left for the next run", p->unresolved);
		/* a rate means something past the first burst only */
		if (p->ran && p->seconds > 0 && p->delivered >= 10)
			fprintf(f, "; %.2f/s (limit %.2f/s)", (double)p->delivered / p->seconds,
			    p->limit);
		if (p->ran)
			fprintf(f, ", %ld rate-limited (429)", p->throttled);
		fputc('\n', f);
	}
}

