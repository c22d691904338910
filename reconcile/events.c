/*
 * events.c — message events for auto-prompt: parsing a JSON Lines line, ingesting a file or
 * the spool directory, draining the event inbox, and the auto-prompt switch.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "events.h"
#include "inbox.h"
#include "json.h"
#include "lookup.h"
#include "outbox.h"
#include "run.h"

/* ---- auto-prompt and events ---- */

int
auto_prompt_get(struct store *st)
{
	struct txn *t = store_begin(st, 0);
	struct buf b = { 0 };
	int on = 0;

	if (t && store_meta_get(t, "auto_prompt", &b) == 0)
		on = b.len == 2 && memcmp(b.p, "on", 2) == 0;
	store_abort(t);
	buf_free(&b);
	return on;
}

enum fail
rec_auto_prompt(struct store *st, const char *set, int *on, struct failure *f)
{
	struct txn *t;

	fail_set(f, FAIL_NONE, "%s", "");
	if (set == NULL) {
		*on = auto_prompt_get(st);
		return FAIL_NONE;
	}
	if ((t = store_begin(st, 1)) == NULL || store_meta_put(t, "auto_prompt", set,
	    strlen(set)) < 0 || store_commit(t) < 0)
		return fail_set(f, FAIL_IO, "%s", store_error(st));
	*on = strcmp(set, "on") == 0;
	return FAIL_NONE;
}

static int
valid_spec(const char *s)
{
	const char *c = s ? strchr(s, ':') : NULL;
	enum platform p;
	char pn[16];
	size_t n;

	if (c == NULL || c[1] == '\0' || (n = (size_t)(c - s)) >= sizeof(pn))
		return 0;
	memcpy(pn, s, n);
	pn[n] = '\0';
	return platform_parse(pn, &p) == 0;
}

int
events_apply(const struct config *cfg, struct txn *t, const char *from, const char *to,
    time_t now, uint64_t *prompt_id)
{
	struct account fa = { 0 }, ta = { 0 };
	struct person sp = { 0 }, rp = { 0 };
	struct prompt_decision d;
	int r, rc = 0;

	if ((r = rec_find_account(t, from, &fa)) != 0 || fa.person_id == 0) {
		rc = r < 0 ? -1 : 0;
		goto out;
	}
	if ((r = rec_find_account(t, to, &ta)) != 0 || ta.person_id == 0) {
		rc = r < 0 ? -1 : 0;
		goto out;
	}
	if (store_person_get(t, fa.person_id, &sp) != 0 ||
	    store_person_get(t, ta.person_id, &rp) != 0)
		goto out;
	/* the rule: sender active with status off, recipient already synced */
	if (!sp.active || sp.status != ST_OFF || rp.status != ST_ON || sp.id == rp.id)
		goto out;
	rc = prompt_queue(cfg, t, sp.id, PR_AUTO, (int)fa.platform, fa.user_id, now, &d);
	if (rc == 1 && prompt_id && store_prompt_pending(t, sp.id, prompt_id) < 0)
		rc = -1;
out:
	account_free(&fa);
	account_free(&ta);
	person_free(&sp);
	person_free(&rp);
	return rc;
}

int
events_parse_line(const char *line, size_t len, char **from, char **to, time_t *ts,
    char *err, size_t errlen)
{
	struct json j = { 0 };
	char jerr[160], *f = NULL, *t = NULL, *s = NULL;
	int rc = -1;

	*from = *to = NULL;
	if (json_parse(&j, line, len, jerr, sizeof(jerr)) < 0 || !json_is_object(&j, 0)) {
		snprintf(err, errlen, "%s", j.ntok ? "not a JSON object" : jerr);
		goto out;
	}
	f = json_strdup(&j, json_get(&j, 0, "from"));
	t = json_strdup(&j, json_get(&j, 0, "to"));
	s = json_strdup(&j, json_get(&j, 0, "ts"));
	if (!valid_spec(f) || !valid_spec(t)) {
		snprintf(err, errlen, "\"%s\": not PLATFORM:USER_ID",
		    !valid_spec(f) ? "from" : "to");
		goto out;
	}
	if (s == NULL || parse_iso8601(s, ts) < 0) {
		snprintf(err, errlen, "\"ts\": not an ISO 8601 time");
		goto out;
	}
	*from = f;
	*to = t;
	f = t = NULL;
	rc = 0;
out:
	free(f);
	free(t);
	free(s);
	json_free(&j);
	return rc;
}

/*
 * Reading: lines of at most EV_LINE_MAX bytes (an event is about 100), straight from the
 * descriptor so that we know when the input goes quiet. Nothing is held while we wait for
 * input: events are parsed into a batch, and a batch is applied in one short write
 * transaction (under the run lock, for `events ingest`) when it is full or the input pauses.
 */
#define EV_LINE_MAX	65536
#define EV_BATCH	1000
#define EV_BATCH_BYTES	(1 << 20)
#define EV_IDLE_MS	200

struct reader {
	FILE	*fp;
	int	 fd;		/* -1: fp has none (a memory stream): fread, no pauses */
	int	 eof, ready;
	size_t	 off, len, n;
	int	 toolong;	/* the line went past EV_LINE_MAX: its bytes are dropped */
	char	 in[16384];
	char	 line[EV_LINE_MAX];
};

enum { RD_ERR = -1, RD_EOF, RD_LINE, RD_IDLE };

/* Fills r->in; RD_IDLE when pending events wait and no input came for EV_IDLE_MS. */
static int
refill(struct reader *r, int pending)
{
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	ssize_t got;

	if (pending && r->fd >= 0 && poll(&pfd, 1, EV_IDLE_MS) == 0)
		return RD_IDLE;
	do {
		if (r->fd >= 0)
			got = read(r->fd, r->in, sizeof(r->in));
		else
			got = (ssize_t)fread(r->in, 1, sizeof(r->in), r->fp);
	} while (got < 0 && errno == EINTR);
	if (got < 0 || (r->fd < 0 && got == 0 && ferror(r->fp)))
		return RD_ERR;
	r->eof = got == 0;
	r->off = 0;
	r->len = (size_t)got;
	return RD_LINE;
}

/* The next line into r->line (r->n bytes, no line end) or r->toolong. */
static int
next_line(struct reader *r, int pending)
{
	const char *nl;
	size_t take;
	int rc;

	if (r->ready)
		r->n = 0, r->toolong = 0, r->ready = 0;
	for (;;) {
		if (r->off == r->len) {
			if (r->eof) {
				r->ready = r->n > 0 || r->toolong;
				return r->ready ? RD_LINE : RD_EOF;
			}
			if ((rc = refill(r, pending)) != RD_LINE)
				return rc;
			continue;
		}
		nl = memchr(r->in + r->off, '\n', r->len - r->off);
		take = nl ? (size_t)(nl - (r->in + r->off)) : r->len - r->off;
		if (r->toolong || r->n + take > sizeof(r->line))
			r->toolong = 1;
		else
			memcpy(r->line + r->n, r->in + r->off, take);
		r->n += r->toolong ? 0 : take;
		r->off += take + (nl != NULL);
		if (nl) {
			r->ready = 1;
			return RD_LINE;
		}
	}
}

struct batch {
	char	*from[EV_BATCH], *to[EV_BATCH];
	int	 n;
	size_t	 bytes;
};

static void
batch_clear(struct batch *b)
{
	int i;

	for (i = 0; i < b->n; i++) {
		free(b->from[i]);
		free(b->to[i]);
	}
	b->n = 0;
	b->bytes = 0;
}

/* Applies and empties b: one write txn, under the run lock unless lockdir is NULL. */
static int
flush(const struct config *cfg, struct store *st, struct batch *b, const char *lockdir,
    long *queued, struct failure *f)
{
	struct txn *t = NULL;
	time_t now = ps_now();
	int i, r, lock = -1, rc = -1;

	if (b->n == 0)
		return 0;
	if (lockdir && (lock = run_lock_wait(lockdir, f)) < 0)
		goto out;
	if ((t = store_begin(st, 1)) == NULL) {
		fail_set(f, FAIL_IO, "%s", store_error(st));
		goto out;
	}
	for (i = 0; i < b->n; i++) {
		if ((r = events_apply(cfg, t, b->from[i], b->to[i], now, NULL)) < 0) {
			fail_set(f, FAIL_IO, "%s", store_error(st));
			goto out;
		}
		*queued += r;
	}
	if (store_commit(t) < 0) {
		t = NULL;
		fail_set(f, FAIL_IO, "%s", store_error(st));
		goto out;
	}
	t = NULL;
	rc = 0;
out:
	store_abort(t);
	run_unlock(lock);
	batch_clear(b);
	return rc;
}

/* One line read: counted, reported when bad, added to b when auto-prompt is on. */
static void
take_line(struct reader *r, const char *name, long lineno, int on, struct batch *b,
    struct event_counts *n)
{
	char perr[192], *from, *to;
	time_t ts;

	while (r->n > 0 && r->line[r->n - 1] == '\r')
		r->n--;
	if (r->toolong) {
		log_err("%s:%ld: line longer than %d bytes", name, lineno, EV_LINE_MAX);
		n->bad++;
		return;
	}
	if (r->n == 0)
		return;
	if (events_parse_line(r->line, r->n, &from, &to, &ts, perr, sizeof(perr)) < 0) {
		log_err("%s:%ld: %s", name, lineno, perr);
		n->bad++;
		return;
	}
	n->events++;
	if (!on) {
		free(from);
		free(to);
		return;
	}
	b->bytes += strlen(from) + strlen(to);
	b->from[b->n] = from;
	b->to[b->n++] = to;
}

int
events_ingest(const struct config *cfg, struct store *st, FILE *fp, const char *name,
    const char *lockdir, struct event_counts *n, struct failure *f)
{
	struct reader *r = xcalloc(1, sizeof(*r));
	struct batch *b = xcalloc(1, sizeof(*b));
	long lineno = 0;
	int rd, rc = -1, on = auto_prompt_get(st);

	fail_set(f, FAIL_NONE, "%s", "");
	r->fp = fp;
	r->fd = fileno(fp);
	while ((rd = next_line(r, b->n > 0)) != RD_EOF) {
		if (rd == RD_ERR) {
			fail_set(f, FAIL_IO, "%s: read error: %s", name, strerror(errno));
			goto out;
		}
		if (rd == RD_LINE)
			take_line(r, name, ++lineno, on, b, n);
		if ((rd == RD_IDLE || b->n == EV_BATCH || b->bytes >= EV_BATCH_BYTES) &&
		    flush(cfg, st, b, lockdir, &n->queued, f) < 0)
			goto out;
	}
	rc = flush(cfg, st, b, lockdir, &n->queued, f);
out:
	batch_clear(b);
	free(r);
	free(b);
	return rc;
}

int
events_spool(const struct config *cfg, struct store *st, long *events, long *queued)
{
	const char *dir = cfg->events.spool_dir;
	struct dirent **names = NULL;
	char *done;
	int n, i, rc = 0;

	if (dir == NULL || !auto_prompt_get(st))
		return 0;
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		log_warn("%s: cannot read the events spool: %s", dir, strerror(errno));
		return 0;
	}
	done = xasprintf("%s/done", dir);
	if (mkdir(done, 0700) < 0 && errno != EEXIST)
		log_warn("%s: %s", done, strerror(errno));
	for (i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		size_t l = strlen(nm);
		struct event_counts c = { 0 };
		struct failure f;
		char *path, *dest;
		FILE *fp;

		if (l < 7 || strcmp(nm + l - 6, ".jsonl") != 0 || nm[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, nm);
		dest = xasprintf("%s/%s", done, nm);
		if ((fp = fopen(path, "r")) == NULL) {
			log_warn("%s: %s", path, strerror(errno));
		} else {
			if (events_ingest(cfg, st, fp, path, NULL, &c, &f) < 0) {
				log_err("%s", f.msg);
				rc = -1;
			}
			*events += c.events;
			*queued += c.queued;
			fclose(fp);
			/* moved only once its events are committed: a crash re-reads it, and
			 * cooldowns and pending prompts make the second reading harmless */
			if (rc == 0 && rename(path, dest) < 0)
				log_warn("%s: cannot move to %s: %s", path, done, strerror(errno));
		}
		free(path);
		free(dest);
		if (rc < 0)
			break;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(done);
	return rc;
}

/* ---- the event inbox (include/inbox.h): what serve's receivers and the catch-up
 * recorded; each batch one write transaction that queues the prompts, records the event
 * behind each and removes its events from the pending list, so an event prompts at most once
 * ---- */

#define DRAIN_BATCH	1000
#define EXPIRE_MAX	10000		/* seen keys expired per drain, at most */

struct drain {
	const struct config	*cfg;
	int			 on;		/* auto-prompt */
	time_t			 now;
	long			 events, queued;
};

static int
drain_cb(struct txn *t, const struct inbox_event *ev, void *arg)
{
	struct drain *d = arg;
	uint64_t qid = 0;
	int r;

	d->events++;
	if (!d->on)
		return 1;
	if ((r = events_apply(d->cfg, t, ev->from, ev->to, d->now, &qid)) < 0)
		return -1;
	if (r == 1) {
		d->queued++;
		if (store_prompt_cause_put(t, qid, ev->msgkey, ev->ts) < 0)
			return -1;
		log_info("auto-prompt: %s from %s to %s queued a prompt", ev->msgkey, ev->from,
		    ev->to);
	}
	return 1;
}

int
events_drain(const struct config *cfg, struct store *st, long *events, long *queued)
{
	struct drain d = { cfg, auto_prompt_get(st), ps_now(), 0, 0 };
	struct txn *t;
	long n;
	int rc = -1;

	do {
		if ((t = store_begin(st, 1)) == NULL)
			goto out;
		if ((n = store_inbox_each(t, 0, DRAIN_BATCH, drain_cb, &d)) < 0 ||
		    (n < DRAIN_BATCH && store_inbox_expire(t, d.now, EXPIRE_MAX) < 0)) {
			store_abort(t);
			goto out;
		}
		if (store_commit(t) < 0)
			goto out;
		*events += d.events;
		*queued += d.queued;
		d.events = d.queued = 0;
	} while (n == DRAIN_BATCH);
	rc = 0;
out:
	if (rc < 0)
		log_err("event inbox: %s", store_error(st));
	return rc;
}

enum fail
rec_events_ingest(const struct config *cfg, struct store *st, FILE *fp, const char *name,
    struct event_counts *n, struct failure *f)
{
	long drained = 0;
	int lock;

	memset(n, 0, sizeof(*n));
	/* a run under way is said at once; then the lock is taken for each batch only, so
	 * that a slow input never holds other writers back */
	if ((lock = run_lock(cfg->database, f)) < 0)
		return f->cls;
	/* what serve's receivers recorded goes first, in the order it came */
	if (events_drain(cfg, st, &drained, &n->queued) < 0) {
		run_unlock(lock);
		return fail_set(f, FAIL_IO, "%s", store_error(st));
	}
	run_unlock(lock);
	if (drained)
		log_info("event inbox: %ld events drained", drained);
	if (!auto_prompt_get(st))
		log_warn("auto-prompt is off: events are read but prompt nobody "
		    "(peoplesync auto-prompt on)");
	if (events_ingest(cfg, st, fp, name, cfg->database, n, f) < 0)
		return f->cls;
	/* each bad line was logged as NAME:LINE: problem */
	return fail_set(f, n->bad ? FAIL_DATA : FAIL_NONE, "%s", "");
}
