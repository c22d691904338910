/*
 * inbox.c — the durable event inbox (include/inbox.h): seen message keys with their age
 * index, the pending events, and the event that queued each auto-prompt. Three kv spaces
 * share one key shape for a message: its first-seen time (8 bytes, big-endian) then its key,
 * so that the age index and the pending list walk oldest first and expire together.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbox.h"
#include "store_p.h"

#define EXPIRE_PER_ADD	2		/* seen keys expired by each add (amortised) */

/* BE time | msgkey into k. */
static void
age_key(struct buf *k, time_t seen, const char *msgkey)
{
	unsigned char b[8];

	put_be64(b, (uint64_t)seen);
	buf_reset(k);
	buf_add(k, b, sizeof(b));
	buf_adds(k, msgkey);
}

/* The first-seen time of msgkey: 0 (*seen set), STORE_NOTFOUND or -1. */
static int
seen_at(struct txn *t, const char *msgkey, time_t *seen)
{
	struct buf v = { 0 };
	int rc = store_kv_get(t, STORE_KV_ISEEN, msgkey, strlen(msgkey), &v);

	if (rc == 0 && v.len != 8)
		rc = st_failf(t->s, "%s: seen record of %zu bytes", STORE_KV_ISEEN, v.len);
	if (rc == 0)
		*seen = (time_t)get_be64((const unsigned char *)v.p);
	buf_free(&v);
	return rc;
}

/* A seen key again, now with its sender: a pending event still without one (a Graph
 * notification) takes it. 1 (nothing else written) or -1. */
static int
fill_sender(struct txn *t, const char *msgkey, time_t seen, const char *from)
{
	struct buf k = { 0 }, v = { 0 };
	int rc;

	age_key(&k, seen, msgkey);
	rc = store_kv_get(t, STORE_KV_IPEND, k.p, k.len, &v);
	if (rc == 0 && v.len > 0 && v.p[0] == '\0')
		rc = store_inbox_resolve(t, msgkey, from);
	buf_free(&k);
	buf_free(&v);
	return rc < 0 ? -1 : 1;
}

int
store_inbox_add(struct txn *t, const char *msgkey, const char *from, const char *to, time_t ts)
{
	struct buf k = { 0 }, v = { 0 };
	unsigned char b[8];
	time_t now = ps_now(), seen;
	int rc;

	if (msgkey == NULL || msgkey[0] == '\0' || strlen(msgkey) > INBOX_KEY_MAX ||
	    from == NULL || to == NULL)
		return st_failf(t->s, "inbox: event \"%.40s\": no key, a key over %d bytes, or "
		    "no accounts", msgkey ? msgkey : "", INBOX_KEY_MAX);
	if ((rc = seen_at(t, msgkey, &seen)) == 0)
		return from[0] ? fill_sender(t, msgkey, seen, from) : 1;
	if (rc != STORE_NOTFOUND)
		return -1;
	put_be64(b, (uint64_t)now);
	age_key(&k, now, msgkey);
	buf_adds(&v, from);
	buf_addc(&v, '\0');
	buf_adds(&v, to);
	buf_addc(&v, '\0');
	buf_printf(&v, "%lld", (long long)ts);
	rc = store_kv_put(t, STORE_KV_ISEEN, msgkey, strlen(msgkey), b, sizeof(b));
	if (rc == 0)
		rc = store_kv_put(t, STORE_KV_IAGE, k.p, k.len, "", 0);
	if (rc == 0)
		rc = store_kv_put(t, STORE_KV_IPEND, k.p, k.len, v.p, v.len);
	if (rc == 0 && store_inbox_expire(t, now, EXPIRE_PER_ADD) < 0)
		rc = -1;
	buf_free(&k);
	buf_free(&v);
	return rc;
}

/* ---- walking the pending list ---- */

struct pend {
	char	*key;		/* the kv key: BE time | msgkey */
	size_t	 klen;
	char	*val;		/* from NUL to NUL ts */
	size_t	 vlen;
};

struct collect {
	struct pend	*v;
	size_t		 n, max;
	int		 unresolved;	/* -1: every entry (expiry) */
	time_t		 before;	/* expiry: only entries first seen before this */
};

static int
collect_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct collect *c = arg;
	struct pend *p;

	if (c->n == c->max)
		return 1;
	if (klen <= 8)
		return 0;			/* not ours: skipped */
	if (c->unresolved < 0 && (time_t)get_be64(key) >= c->before)
		return 1;			/* in age order: the rest are younger */
	if (c->unresolved >= 0 && (vlen == 0 || (((const char *)val)[0] == '\0') !=
	    (c->unresolved != 0)))
		return 0;
	p = &c->v[c->n++];
	p->key = xmalloc(klen + 1);
	memcpy(p->key, key, klen);
	p->key[klen] = '\0';
	p->klen = klen;
	p->val = xmalloc(vlen + 1);
	memcpy(p->val, val, vlen);
	p->val[vlen] = '\0';
	p->vlen = vlen;
	return 0;
}

static void
collect_free(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].key);
		free(c->v[i].val);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

/* Splits a pending value: from NUL to NUL ts. 0 or -1 (malformed). */
static int
pend_parse(const struct pend *p, struct inbox_event *ev)
{
	const char *to, *ts, *end = p->val + p->vlen;
	long long v;

	ev->msgkey = p->key + 8;
	ev->seen = (time_t)get_be64((const unsigned char *)p->key);
	ev->from = p->val;
	to = memchr(p->val, '\0', p->vlen);
	if (to == NULL || ++to >= end || (ts = memchr(to, '\0', (size_t)(end - to))) == NULL ||
	    parse_ll(ts + 1, 0, INT64_MAX, &v) < 0)
		return -1;
	ev->to = to;
	ev->ts = (time_t)v;
	return 0;
}

long
store_inbox_each(struct txn *t, int unresolved, size_t max, inbox_cb cb, void *arg)
{
	struct collect c = { xcalloc(max ? max : 1, sizeof(struct pend)), 0, max,
	    unresolved != 0, 0 };
	struct inbox_event ev;
	long n = -1;
	size_t i;
	int r = 0;

	if (store_kv_each(t, STORE_KV_IPEND, collect_cb, &c) < 0)
		goto out;
	for (i = 0; i < c.n && r >= 0; i++) {
		if (pend_parse(&c.v[i], &ev) < 0) {
			/* unreadable: dropped, never retried forever */
			r = store_kv_del(t, STORE_KV_IPEND, c.v[i].key, c.v[i].klen);
			continue;
		}
		if ((r = cb(t, &ev, arg)) == 1)
			r = store_kv_del(t, STORE_KV_IPEND, c.v[i].key, c.v[i].klen);
	}
	if (r >= 0)
		n = (long)c.n;
out:
	collect_free(&c);
	return n;
}

int
store_inbox_resolve(struct txn *t, const char *msgkey, const char *from)
{
	struct buf k = { 0 }, v = { 0 }, nv = { 0 };
	struct pend p;
	struct inbox_event ev;
	time_t seen;
	int rc;

	if ((rc = seen_at(t, msgkey, &seen)) != 0)
		return rc;
	age_key(&k, seen, msgkey);
	if ((rc = store_kv_get(t, STORE_KV_IPEND, k.p, k.len, &v)) != 0)
		goto out;
	buf_addc(&v, '\0');
	p = (struct pend){ k.p, k.len, v.p, v.len - 1 };
	if (from == NULL || pend_parse(&p, &ev) < 0) {
		rc = store_kv_del(t, STORE_KV_IPEND, k.p, k.len);
		goto out;
	}
	buf_adds(&nv, from);
	buf_addc(&nv, '\0');
	buf_adds(&nv, ev.to);
	buf_addc(&nv, '\0');
	buf_printf(&nv, "%lld", (long long)ev.ts);
	rc = store_kv_put(t, STORE_KV_IPEND, k.p, k.len, nv.p, nv.len);
out:
	buf_free(&k);
	buf_free(&v);
	buf_free(&nv);
	return rc;
}

long
store_inbox_expire(struct txn *t, time_t now, size_t max)
{
	struct collect c = { xcalloc(max ? max : 1, sizeof(struct pend)), 0, max, -1,
	    now - (time_t)INBOX_SEEN_DAYS * 86400 };
	long n = -1;
	size_t i;
	int r = 0;

	if (store_kv_each(t, STORE_KV_IAGE, collect_cb, &c) < 0)
		goto out;
	for (i = 0; i < c.n && r == 0; i++) {
		r = store_kv_del(t, STORE_KV_IAGE, c.v[i].key, c.v[i].klen);
		if (r == 0)
			r = store_kv_del(t, STORE_KV_IPEND, c.v[i].key, c.v[i].klen);
		if (r == 0)
			r = store_kv_del(t, STORE_KV_ISEEN, c.v[i].key + 8, c.v[i].klen - 8);
	}
	if (r == 0)
		n = (long)c.n;
out:
	collect_free(&c);
	return n;
}

static int
count_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	++*(size_t *)arg;
	return 0;
}

int
store_inbox_count(struct txn *t, size_t *pending, size_t *seen)
{
	*pending = *seen = 0;
	if (store_kv_each(t, STORE_KV_IPEND, count_cb, pending) < 0 ||
	    store_kv_each(t, STORE_KV_ISEEN, count_cb, seen) < 0)
		return -1;
	return 0;
}

/* ---- "pcause": the event behind an auto-prompt ---- */

int
store_prompt_cause_put(struct txn *t, uint64_t prompt_id, const char *msgkey, time_t ts)
{
	struct buf v = { 0 };
	unsigned char b[8];
	int rc;

	put_be64(b, prompt_id);
	buf_adds(&v, msgkey);
	buf_addc(&v, '\0');
	buf_printf(&v, "%lld", (long long)ts);
	rc = store_kv_put(t, STORE_KV_PCAUSE, b, sizeof(b), v.p, v.len);
	buf_free(&v);
	return rc;
}

int
store_prompt_cause_get(struct txn *t, uint64_t prompt_id, struct buf *out)
{
	struct buf v = { 0 };
	unsigned char b[8];
	const char *ts;
	long long s = 0;
	char iso[32];
	int rc;

	put_be64(b, prompt_id);
	if ((rc = store_kv_get(t, STORE_KV_PCAUSE, b, sizeof(b), &v)) == 0) {
		buf_addc(&v, '\0');
		ts = memchr(v.p, '\0', v.len - 1);
		if (ts)
			(void)parse_ll(ts + 1, 0, INT64_MAX, &s);
		fmt_iso8601((time_t)s, iso);
		buf_printf(out, "%s at %s", v.p, iso);
	}
	buf_free(&v);
	return rc;
}

/* ---- "icount": event counters ---- */

int
store_inbox_counter_get(struct txn *t, const char *name, uint64_t *out)
{
	struct buf v = { 0 };
	int rc = store_kv_get(t, STORE_KV_ICOUNT, name, strlen(name), &v);

	*out = 0;
	if (rc == 0 && v.len == 8)
		*out = get_be64((const unsigned char *)v.p);
	buf_free(&v);
	return rc < 0 ? -1 : 0;
}

int
store_inbox_counter_add(struct txn *t, const char *name, uint64_t n)
{
	unsigned char b[8];
	uint64_t v;

	if (store_inbox_counter_get(t, name, &v) < 0)
		return -1;
	put_be64(b, v + n);
	return store_kv_put(t, STORE_KV_ICOUNT, name, strlen(name), b, sizeof(b));
}
