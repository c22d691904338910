/*
 * events.c — what the three event receivers (events_slack.c, events_teams.c,
 * events_webex.c) share: their short text/plain answers, the HMAC of a signed body, and
 * the commit of verified events to the inbox (include/inbox.h) before the 2xx.
 *
 * A receiver verifies, deduplicates and commits; nothing else. The work (the auto-prompt
 * rule, lookups) is the next reconcile's. A refused request writes nothing at all.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "inbox.h"
#include "web_p.h"

void
ev_reply(struct reply *rp, unsigned status, const char *text)
{
	rp->status = status;
	rp->ctype = "text/plain; charset=utf-8";
	buf_reset(&rp->html);
	buf_adds(&rp->html, text);
}

enum web_outcome
ev_refuse(struct reply *rp, unsigned status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rp->note, sizeof(rp->note), fmt, ap);
	va_end(ap);
	ev_reply(rp, status, status == 413 ? "too large\n" : status == 400 ? "bad request\n" :
	    "refused\n");
	return WO_OK;
}

/* The HMAC implementation, fetched once for the process (a fetch looks providers up). */
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;
static EVP_MAC *hmac_mac;

static void
hmac_fetch(void)
{
	hmac_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

int
ev_hmac_hex(const char *md_name, const void *key, size_t klen, const struct buf *parts,
    int nparts, char *out, size_t outlen)
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *c;
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t n = 0, i;
	int rc = -1;

	pthread_once(&hmac_once, hmac_fetch);
	c = hmac_mac ? EVP_MAC_CTX_new(hmac_mac) : NULL;
	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)md_name, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (c == NULL || EVP_MAC_init(c, key, klen, params) != 1)
		goto out;
	for (i = 0; i < (size_t)nparts; i++)
		if (parts[i].len && EVP_MAC_update(c, (const unsigned char *)parts[i].p,
		    parts[i].len) != 1)
			goto out;
	if (EVP_MAC_final(c, md, &n, sizeof(md)) != 1 || outlen < 2 * n + 1)
		goto out;
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	EVP_MAC_CTX_free(c);
	explicit_bzero(md, sizeof(md));
	return rc;
}

int
ev_id_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n <= max && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_.:@=+/") == n;
}

void
ev_item_free(struct ev_item *it)
{
	free(it->msgkey);
	free(it->from);
	free(it->to);
	memset(it, 0, sizeof(*it));
}

/*
 * Group commit: each commit syncs the database, so the receivers' threads share commits.
 * A request queues its job; the first to find no leader becomes one, takes every job queued
 * so far and writes them in one transaction, and the next leader takes those that came
 * meanwhile. Each job still learns its own outcome before its 2xx; a failed transaction
 * fails every job in it (nothing of them was written).
 */
struct ev_job {
	const char	*platform;
	struct ev_item	*items;
	int		 n;
	int		(*also)(struct txn *t, void *arg);
	void		*arg;
	int		 added, rc, done;
	struct ev_job	*next;
};

static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cv = PTHREAD_COND_INITIALIZER;
static struct ev_job *q_head, **q_tail = &q_head;
static int q_leader;

/* One job's writes in t: 0 or -1. */
static int
job_write(struct txn *t, struct ev_job *j)
{
	char name[48];
	int i, r = 0, dup = 0;

	j->added = 0;
	for (i = 0; i < j->n && r >= 0; i++) {
		if ((r = store_inbox_add(t, j->items[i].msgkey, j->items[i].from,
		    j->items[i].to, j->items[i].ts)) == 0)
			j->added++;
		else if (r == 1)
			dup++;
	}
	snprintf(name, sizeof(name), "%s.events", j->platform);
	if (r >= 0 && j->added)
		r = store_inbox_counter_add(t, name, (uint64_t)j->added);
	snprintf(name, sizeof(name), "%s.duplicates", j->platform);
	if (r >= 0 && dup)
		r = store_inbox_counter_add(t, name, (uint64_t)dup);
	if (r >= 0 && j->also)
		r = j->also(t, j->arg);
	return r < 0 ? -1 : 0;
}

/* The batch in one write txn; every job's outcome set. */
static void
run_batch(struct server *sv, struct ev_job *batch)
{
	struct txn *t = begin_write(sv);
	struct ev_job *j;
	int rc = t ? 0 : -1;

	for (j = batch; j && rc == 0; j = j->next)
		rc = job_write(t, j);
	if (t && rc < 0) {
		log_err("serve: %s events: %s", batch->platform, store_error(sv->st));
		end_write(sv, t, 0);
	} else if (t && end_write(sv, t, 1) < 0) {
		log_err("serve: %s events: %s", batch->platform, store_error(sv->st));
		rc = -1;
	}
	pthread_mutex_lock(&q_mu);
	for (j = batch; j; j = j->next) {
		j->rc = rc;
		j->added = rc < 0 ? 0 : j->added;
		j->done = 1;
	}
	pthread_mutex_unlock(&q_mu);
}

int
ev_commit(struct server *sv, const char *platform, struct ev_item *items, int n,
    int (*also)(struct txn *t, void *arg), void *arg, int *added)
{
	struct ev_job job = { platform, items, n, also, arg, 0, -1, 0, NULL };
	struct ev_job *batch;

	pthread_mutex_lock(&q_mu);
	*q_tail = &job;
	q_tail = &job.next;
	while (!job.done) {
		if (q_leader) {
			pthread_cond_wait(&q_cv, &q_mu);
			continue;
		}
		q_leader = 1;
		batch = q_head;
		q_head = NULL;
		q_tail = &q_head;
		pthread_mutex_unlock(&q_mu);
		run_batch(sv, batch);
		pthread_mutex_lock(&q_mu);
		q_leader = 0;
		pthread_cond_broadcast(&q_cv);
	}
	pthread_mutex_unlock(&q_mu);
	*added = job.added;
	return job.rc;
}
