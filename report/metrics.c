/*
 * metrics.c — the Prometheus textfile of a run (see metrics.h for the metrics).
 *
 * Series are written in a fixed order, every family with its HELP and TYPE lines, so the
 * file diffs cleanly between runs. The last-success times outlive a failed run: they are kept
 * in the database's meta, since the file itself is rewritten whole every run.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "inbox.h"
#include "metrics.h"
#include "reconcile.h"
#include "run.h"
#include "util.h"

#define META_LAST_SUCCESS	"metrics.last_success"	/* + ".<platform>" for a platform */

void
metrics_run_from(struct metrics_run *m, const struct run_summary *sum,
    const struct prompt_summary *ps, int dry_run, int ok)
{
	memset(m, 0, sizeof(*m));
	m->dry_run = dry_run;
	m->ok = ok;
	m->seconds = sum->seconds;
	for (int p = 0; p < PLAT_COUNT; p++) {
		const struct platform_summary *pl = &sum->p[p];
		m->p[p].ran = pl->ran;
		m->p[p].ok = pl->ran && pl->ok;
		m->p[p].pulled = pl->pulled;
		m->p[p].errors = pl->ran && !pl->ok ? 1 : 0;
		m->p[p].requests = pl->requests;
		m->p[p].retries = pl->retries;
		m->p[p].throttled = pl->throttled;
		m->p[p].seconds = pl->seconds;
		m->p[p].prompts_queued = ps->p[p].waiting + ps->p[p].unresolved;
		m->p[p].prompts_sent = ps->p[p].delivered;
		m->p[p].prompts_failed = ps->p[p].failed;
		if (ps->p[p].err[0])
			m->p[p].errors++;
	}
}

/* ---- counting the database ---- */

#define N_PLAT	(PLAT_COUNT + 1)	/* primary platforms and "none" */
#define N_TYPE	3			/* enum sync_type */

struct counts {
	long	 people[3][N_PLAT][N_TYPE];	/* active: status x primary platform x sync type */
	long	 inactive;
	long	 accounts[PLAT_COUNT][2];	/* human accounts: platform x active */
};

static int
count_person(const struct person *p, void *arg)
{
	struct counts *c = arg;
	int st = p->status <= ST_ON ? p->status : ST_OFF;
	int pl = p->primary_platform >= 0 && p->primary_platform < PLAT_COUNT ?
	    p->primary_platform : PLAT_COUNT;
	int ty = p->sync_type < N_TYPE ? p->sync_type : SYNC_NONE;

	if (p->active)
		c->people[st][pl][ty]++;
	else
		c->inactive++;
	return 0;
}

static int
count_account(const struct account *a, void *arg)
{
	struct counts *c = arg;

	if (rec_account_is_human(a) && (int)a->platform >= 0 && a->platform < PLAT_COUNT)
		c->accounts[a->platform][rec_account_is_active(a) ? 1 : 0]++;
	return 0;
}

static int64_t
meta_time(struct txn *t, const char *key)
{
	struct buf b = { 0 };
	int64_t v = 0;

	if (store_meta_get(t, key, &b) == 0 && b.len == 8)
		for (int i = 0; i < 8; i++)
			v = (int64_t)(((uint64_t)v << 8) | (unsigned char)b.p[i]);
	buf_free(&b);
	return v;
}

static int
meta_time_put(struct txn *t, const char *key, int64_t v)
{
	unsigned char d[8];

	for (int i = 7; i >= 0; i--) {
		d[i] = (unsigned char)(v & 0xff);
		v = (int64_t)((uint64_t)v >> 8);
	}
	return store_meta_put(t, key, d, sizeof(d));
}

/* ---- the exposition format ---- */

static void
family(struct buf *b, const char *name, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* A sample value: integers as integers, others with enough digits to read back. */
static void
value(struct buf *b, double v)
{
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		buf_printf(b, " %lld\n", (long long)v);
	else
		buf_printf(b, " %.6g\n", v);
}

/* One per-platform family: a sample for each enabled platform. */
static void
per_platform(struct buf *b, const struct config *cfg, const char *name, const char *help,
    const double v[PLAT_COUNT])
{
	family(b, name, help);
	for (int p = 0; p < PLAT_COUNT; p++) {
		if (!config_enabled(cfg, (enum platform)p))
			continue;
		buf_printf(b, "%s{platform=\"%s\"}", name, platform_name((enum platform)p));
		value(b, v[p]);
	}
}

/* The event receivers' counters (store/inbox.c), kept since the database was created. */
#define EV_FAMILIES	3
static const struct {
	const char	*counter, *name, *help;
} ev_families[EV_FAMILIES] = {
	{ "events", "peoplesync_events_received", "Message events serve's receivers recorded "
	    "(each message once), since the database was created." },
	{ "duplicates", "peoplesync_events_duplicates", "Deliveries of a message already "
	    "recorded (retries, replays), since the database was created." },
	{ "rate_limited", "peoplesync_events_rate_limited", "Slack app_rate_limited notices "
	    "(events dropped past 30,000 an hour), since the database was created." },
};

/* What the file says about the database: counts, and the recorded success times. */
struct db_view {
	struct counts	 c;
	int64_t		 last_ok, plat_ok[PLAT_COUNT];
	double		 ev[EV_FAMILIES][PLAT_COUNT];	/* the receivers' counters */
};

static int
read_db(struct store *st, struct db_view *d)
{
	struct txn *t;
	char key[64];

	memset(d, 0, sizeof(*d));
	if ((t = store_begin(st, 0)) == NULL)
		return -1;
	if (store_person_each(t, count_person, &d->c) < 0 ||
	    store_account_each(t, -1, count_account, &d->c) < 0) {
		store_abort(t);
		return -1;
	}
	d->last_ok = meta_time(t, META_LAST_SUCCESS);
	for (int p = 0; p < PLAT_COUNT; p++) {
		snprintf(key, sizeof(key), "%s.%s", META_LAST_SUCCESS,
		    platform_name((enum platform)p));
		d->plat_ok[p] = meta_time(t, key);
		for (int k = 0; k < EV_FAMILIES; k++) {
			uint64_t n = 0;
			snprintf(key, sizeof(key), "%s.%s", platform_name((enum platform)p),
			    ev_families[k].counter);
			(void)store_inbox_counter_get(t, key, &n);
			d->ev[k][p] = (double)n;
		}
	}
	store_abort(t);
	return 0;
}

/* One family of a single sample. */
static void
single(struct buf *b, const char *name, const char *help, double v)
{
	family(b, name, help);
	buf_adds(b, name);
	value(b, v);
}

/* The people and accounts families. */
static void
format_db(struct buf *out, const struct config *cfg, const struct counts *c)
{
	static const char *const type_name[N_TYPE] = { "none", "user", "bot" };
	static const int natural_type[N_PLAT] = { SYNC_USER, SYNC_BOT, SYNC_BOT, SYNC_NONE };
	int s, p, ty;

	family(out, "peoplesync_people", "Active people by sync status, primary platform and "
	    "sync type.");
	for (s = ST_ON; s >= ST_OFF; s--) {
		for (p = 0; p < N_PLAT; p++) {
			for (ty = 0; ty < N_TYPE; ty++) {
				/* the usual type of the platform always, so each series exists
				 * before its first person; any other combination when it occurs */
				if (c->people[s][p][ty] == 0 && ty != natural_type[p])
					continue;
				if (c->people[s][p][ty] == 0 && p < PLAT_COUNT &&
				    !config_enabled(cfg, (enum platform)p))
					continue;
				buf_printf(out, "peoplesync_people{status=\"%s\",primary_platform="
				    "\"%s\",sync_type=\"%s\"}", status_name((enum status)s),
				    p < PLAT_COUNT ? platform_name((enum platform)p) : "none",
				    type_name[ty]);
				value(out, (double)c->people[s][p][ty]);
			}
		}
	}
	single(out, "peoplesync_people_inactive", "People whose every account is deactivated "
	    "or gone.", (double)c->inactive);
	family(out, "peoplesync_accounts", "Human accounts in the database by platform and "
	    "whether they are active.");
	for (p = 0; p < PLAT_COUNT; p++) {
		if (!config_enabled(cfg, (enum platform)p) &&
		    c->accounts[p][0] + c->accounts[p][1] == 0)
			continue;
		for (int a = 1; a >= 0; a--) {
			buf_printf(out, "peoplesync_accounts{platform=\"%s\",active=\"%s\"}",
			    platform_name((enum platform)p), a ? "true" : "false");
			value(out, (double)c->accounts[p][a]);
		}
	}
}

/* The per-platform families, in the file's order: which figure of the run each shows. */
enum figure {
	FIG_QUEUED, FIG_SENT, FIG_FAILED, FIG_UP, FIG_ERRORS, FIG_PULLED, FIG_REQUESTS,
	FIG_RETRIES, FIG_THROTTLED, FIG_SECONDS, FIG_LAST_OK
};

static const struct {
	enum figure	 fig;
	const char	*name, *help;
} prompt_families[] = {
	{ FIG_QUEUED, "peoplesync_prompts_queued", "Prompts waiting in the outbox after the "
	    "last run." },
	{ FIG_SENT, "peoplesync_prompts_sent", "Prompts delivered during the last run." },
	{ FIG_FAILED, "peoplesync_prompts_failed", "Prompts that failed for good during the "
	    "last run." },
}, platform_families[] = {
	{ FIG_UP, "peoplesync_platform_up", "1 when the platform's roster was pulled and "
	    "applied by the last run, else 0." },
	{ FIG_ERRORS, "peoplesync_platform_errors", "Errors on the platform during the last "
	    "run (a failed pull counts one)." },
	{ FIG_PULLED, "peoplesync_platform_pulled_accounts", "Accounts in the platform's "
	    "roster pulled by the last run." },
	{ FIG_REQUESTS, "peoplesync_platform_requests", "HTTP requests to the platform during "
	    "the last run." },
	{ FIG_RETRIES, "peoplesync_platform_retries", "Requests to the platform retried during "
	    "the last run." },
	{ FIG_THROTTLED, "peoplesync_platform_throttled", "Requests the platform rate-limited "
	    "(HTTP 429) during the last run." },
	{ FIG_SECONDS, "peoplesync_platform_duration_seconds", "Time the last run spent "
	    "pulling and applying the platform's roster." },
	{ FIG_LAST_OK, "peoplesync_platform_last_success_timestamp_seconds", "Unix time of the "
	    "last run that applied the platform's roster (0: none yet)." },
};

static double
figure(const struct metrics_platform *mp, enum figure fig, time_t finished, int64_t last_ok)
{
	switch (fig) {
	case FIG_QUEUED:	return (double)mp->prompts_queued;
	case FIG_SENT:		return (double)mp->prompts_sent;
	case FIG_FAILED:	return (double)mp->prompts_failed;
	case FIG_UP:		return mp->ok ? 1 : 0;
	case FIG_ERRORS:	return (double)mp->errors;
	case FIG_PULLED:	return (double)mp->pulled;
	case FIG_REQUESTS:	return (double)mp->requests;
	case FIG_RETRIES:	return (double)mp->retries;
	case FIG_THROTTLED:	return (double)mp->throttled;
	case FIG_SECONDS:	return mp->seconds;
	default:		return (double)(mp->ok ? (int64_t)finished : last_ok);
	}
}

int
metrics_format(const struct config *cfg, struct store *st, const struct metrics_run *run,
    struct buf *out)
{
	struct db_view d;
	double v[PLAT_COUNT];
	time_t finished = run->finished ? run->finished : ps_now();
	size_t k;
	int p;

	if (read_db(st, &d) < 0)
		return -1;
	format_db(out, cfg, &d.c);
	for (k = 0; k < ARRAY_LEN(prompt_families); k++) {
		for (p = 0; p < PLAT_COUNT; p++)
			v[p] = figure(&run->p[p], prompt_families[k].fig, finished, d.plat_ok[p]);
		per_platform(out, cfg, prompt_families[k].name, prompt_families[k].help, v);
	}
	single(out, "peoplesync_run_duration_seconds", "Duration of the last run.",
	    run->seconds);
	single(out, "peoplesync_run_success", "1 when the last run succeeded on every platform, "
	    "else 0.", run->ok ? 1 : 0);
	single(out, "peoplesync_last_run_timestamp_seconds", "Unix time the last run ended.",
	    (double)finished);
	single(out, "peoplesync_last_success_timestamp_seconds", "Unix time the last successful "
	    "run ended (0: none yet).", (double)(run->ok ? (int64_t)finished : d.last_ok));
	for (k = 0; k < ARRAY_LEN(platform_families); k++) {
		for (p = 0; p < PLAT_COUNT; p++)
			v[p] = figure(&run->p[p], platform_families[k].fig, finished, d.plat_ok[p]);
		per_platform(out, cfg, platform_families[k].name, platform_families[k].help, v);
	}
	for (k = 0; k < EV_FAMILIES; k++)
		per_platform(out, cfg, ev_families[k].name, ev_families[k].help, d.ev[k]);
	return 0;
}

/* Remembers the success times for the runs to come. */
static int
record(struct store *st, const struct metrics_run *run, time_t finished)
{
	struct txn *t = NULL;
	char key[64];
	int p, rc = -1;

	for (p = 0; p < PLAT_COUNT; p++)
		if (run->p[p].ok)
			break;
	if (!run->ok && p == PLAT_COUNT)
		return 0;	/* nothing succeeded: nothing to record */
	if ((t = store_begin(st, 1)) == NULL)
		goto out;
	if (run->ok && meta_time_put(t, META_LAST_SUCCESS, (int64_t)finished) < 0)
		goto out;
	for (p = 0; p < PLAT_COUNT; p++) {
		if (!run->p[p].ok)
			continue;
		snprintf(key, sizeof(key), "%s.%s", META_LAST_SUCCESS,
		    platform_name((enum platform)p));
		if (meta_time_put(t, key, (int64_t)finished) < 0)
			goto out;
	}
	rc = store_commit(t);
	t = NULL;
out:
	if (t)
		store_abort(t);
	return rc;
}

int
metrics_write(const struct config *cfg, struct store *st, const struct metrics_run *run)
{
	struct metrics_run r = *run;
	struct buf out = { 0 };
	int rc = -1;

	if (run->dry_run)
		return 0;
	if (r.finished == 0)
		r.finished = ps_now();
	if (record(st, &r, r.finished) < 0) {
		log_err("metrics: %s", store_error(st));
		goto out;
	}
	if (cfg->metrics.file == NULL) {
		rc = 0;
		goto out;
	}
	if (metrics_format(cfg, st, &r, &out) < 0) {
		log_err("metrics: %s", store_error(st));
		goto out;
	}
	if (write_file_atomic(cfg->metrics.file, out.p, out.len, 0644) < 0) {
		log_err("metrics: cannot write %s: %s", cfg->metrics.file, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	buf_free(&out);
	return rc;
}
