/*
 * events.c — message events (JSON Lines: who wrote to whom) for auto-prompt: parsing a
 * line, ingesting a file or the spool directory, and the auto-prompt switch.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "events.h"
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

/* One event: queues an auto-prompt by the rule. 1 queued, 0 not, -1 store error. */
static int
event_apply(const struct config *cfg, struct txn *t, const char *from, const char *to,
    time_t now)
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

int
events_ingest(const struct config *cfg, struct store *st, FILE *fp, const char *name,
    long *events, long *queued, long *bad)
{
	struct txn *t = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0, in_txn = 0;
	time_t now = ps_now();
	char perr[192];
	int rc = -1, on = auto_prompt_get(st);

	if ((t = store_begin(st, 1)) == NULL)
		return -1;
	while ((len = getline(&line, &cap, fp)) >= 0) {
		char *from, *to;
		time_t ts;
		int r;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (events_parse_line(line, (size_t)len, &from, &to, &ts, perr,
		    sizeof(perr)) < 0) {
			log_err("%s:%ld: %s", name, lineno, perr);
			(*bad)++;
			continue;
		}
		(*events)++;
		r = on ? event_apply(cfg, t, from, to, now) : 0;
		free(from);
		free(to);
		if (r < 0)
			goto out;
		*queued += r;
		/* commit in batches: a huge file does not hold the writer lock throughout */
		if (++in_txn >= 1000) {
			if (store_commit(t) < 0 || (t = store_begin(st, 1)) == NULL) {
				t = NULL;
				goto out;
			}
			in_txn = 0;
		}
	}
	if (ferror(fp)) {
		log_err("%s: read error: %s", name, strerror(errno));
		goto out;
	}
	rc = store_commit(t);
	t = NULL;
out:
	store_abort(t);
	free(line);
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
		char *path, *dest;
		long bad = 0;
		FILE *fp;

		if (l < 7 || strcmp(nm + l - 6, ".jsonl") != 0 || nm[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, nm);
		dest = xasprintf("%s/%s", done, nm);
		if ((fp = fopen(path, "r")) == NULL) {
			log_warn("%s: %s", path, strerror(errno));
		} else {
			if (events_ingest(cfg, st, fp, path, events, queued, &bad) < 0)
				rc = -1;
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

enum fail
rec_events_ingest(const struct config *cfg, struct store *st, FILE *fp, const char *name,
    struct event_counts *n, struct failure *f)
{
	int lock, rc;

	memset(n, 0, sizeof(*n));
	if ((lock = run_lock(cfg->database, f)) < 0)
		return f->cls;
	if (!auto_prompt_get(st))
		log_warn("auto-prompt is off: events are read but prompt nobody "
		    "(peoplesync auto-prompt on)");
	rc = events_ingest(cfg, st, fp, name, &n->events, &n->queued, &n->bad);
	run_unlock(lock);
	if (rc < 0)
		return fail_set(f, FAIL_IO, "%s", store_error(st));
	/* each bad line was logged as NAME:LINE: problem */
	return fail_set(f, n->bad ? FAIL_DATA : FAIL_NONE, "%s", "");
}
