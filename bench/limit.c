/*
 * limit.c — the honest ceiling for the work `reconcile` does on a Slack roster, for
 * `make bench`. It does the least that work needs, and nothing else:
 *   - fetch every users.list page with ONE keep-alive libcurl handle (limit=1000 + cursor),
 *     asking for the next page as soon as this one's cursor is known, before its members
 *     are stored (the server answers into the socket meanwhile: one thread, as reconcile);
 *   - tokenize each page with jsmn (JSMN_PARENT_LINKS), no separate validation pass;
 *   - per member, take the fields reconcile keeps for an account (id, team_id, the eight
 *     flags, profile.email lower-cased, the display name as reconcile picks it, first name,
 *     tz, updated), JSON string escapes decoded;
 *   - put one compact record per account (flags, updated, length-prefixed strings) under the
 *     same key shape reconcile uses (platform byte, team id, NUL, user id) into LMDB,
 *     in write transactions of 10,000, the environment opened with MDB_NOSYNC, and one
 *     mdb_env_sync at the end (durable once, like reconcile's end-of-run sync).
 * What it does NOT do, and reconcile must: identity (people, the email index, links),
 * history, staging and the merge with what is stored, the deactivation guard, run metadata.
 * So reconcile / limit is the price of all that over the bare pipeline.
 *
 *	limit URL DBDIR		URL = .../slack/api
 * Prints: accounts pages requests seconds
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <jsmn.h>
#include <lmdb.h>

#define TXN_RECORDS	10000

struct buf {
	char	*p;
	size_t	 len, cap;
};

static void
reserve(struct buf *b, size_t add)
{
	if (b->len + add + 1 <= b->cap)
		return;
	b->cap = (b->len + add + 1) * 2;
	if ((b->p = realloc(b->p, b->cap)) == NULL)
		abort();
}

static size_t
on_body(char *ptr, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t add = size * n;

	reserve(b, add);
	memcpy(b->p + b->len, ptr, add);
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}

static int
eq(const char *js, const jsmntok_t *t, const char *s)
{
	return t->type == JSMN_STRING && (int)strlen(s) == t->end - t->start &&
	    strncmp(js + t->start, s, (size_t)(t->end - t->start)) == 0;
}

/* The index after token i and everything inside it. */
static int
skip(const jsmntok_t *t, int i, int n)
{
	int end = t[i].end;

	for (i++; i < n && t[i].start < end; i++)
		;
	return i;
}

/* The value of key in object obj, or -1. */
static int
get(const char *js, const jsmntok_t *t, int n, int obj, const char *key)
{
	int f;

	if (obj < 0 || t[obj].type != JSMN_OBJECT)
		return -1;
	for (f = obj + 1; f < n && t[f].start < t[obj].end; f = skip(t, f + 1, n))
		if (eq(js, &t[f], key))
			return f + 1;
	return -1;
}

static int
flag(const char *js, const jsmntok_t *t, int n, int obj, const char *key)
{
	int v = get(js, t, n, obj, key);

	return v > 0 && t[v].type == JSMN_PRIMITIVE && js[t[v].start] == 't';
}

static void
put_utf8(struct buf *b, unsigned cp)
{
	reserve(b, 4);
	if (cp < 0x80) {
		b->p[b->len++] = (char)cp;
	} else if (cp < 0x800) {
		b->p[b->len++] = (char)(0xc0 | cp >> 6);
		b->p[b->len++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		b->p[b->len++] = (char)(0xe0 | cp >> 12);
		b->p[b->len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b->p[b->len++] = (char)(0x80 | (cp & 0x3f));
	} else {
		b->p[b->len++] = (char)(0xf0 | cp >> 18);
		b->p[b->len++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b->p[b->len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b->p[b->len++] = (char)(0x80 | (cp & 0x3f));
	}
}

static unsigned
hex4(const char *s)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		int c = s[i];
		v = v << 4 | (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

/* Appends string token v decoded (length-prefixed, 0xffff = absent), lower-cased if asked. */
static void
put_str(struct buf *rec, const char *js, const jsmntok_t *t, int v, int lower)
{
	size_t at = rec->len, i;
	const char *s;
	int len;

	reserve(rec, 2);
	rec->len += 2;
	if (v < 0 || t[v].type != JSMN_STRING) {
		rec->p[at] = rec->p[at + 1] = (char)0xff;
		return;
	}
	s = js + t[v].start;
	len = t[v].end - t[v].start;
	for (i = 0; i < (size_t)len; i++) {
		unsigned cp;
		if (s[i] != '\\') {
			reserve(rec, 1);
			rec->p[rec->len++] = lower ? (char)tolower((unsigned char)s[i]) : s[i];
			continue;
		}
		switch (s[++i]) {
		case 'n': cp = '\n'; break;
		case 't': cp = '\t'; break;
		case 'r': cp = '\r'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'u':
			cp = hex4(s + i + 1);
			i += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < (size_t)len && s[i + 1] == '\\') {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (hex4(s + i + 3) - 0xdc00);
				i += 6;
			}
			break;
		default: cp = (unsigned char)s[i]; break;
		}
		put_utf8(rec, cp);
	}
	len = (int)(rec->len - at - 2);
	rec->p[at] = (char)(len & 0xff);
	rec->p[at + 1] = (char)(len >> 8);
}

/* The first of the paths ("a" or "a.b") whose value is a non-empty string, or -1. */
static int
first_nonempty(const char *js, const jsmntok_t *t, int n, int m, const char *const *paths)
{
	for (; *paths != NULL; paths++) {
		const char *dot = strchr(*paths, '.');
		int v;
		if (dot != NULL) {
			char head[32];
			snprintf(head, sizeof(head), "%.*s", (int)(dot - *paths), *paths);
			v = get(js, t, n, get(js, t, n, m, head), dot + 1);
		} else {
			v = get(js, t, n, m, *paths);
		}
		if (v > 0 && t[v].type == JSMN_STRING && t[v].end > t[v].start)
			return v;
	}
	return -1;
}

/* One member object m as reconcile keeps it: key and compact record. -1 without an id. */
static int
encode(const char *js, const jsmntok_t *t, int n, int m, struct buf *key, struct buf *rec)
{
	static const char *const flags[] = { "deleted", "is_bot", "is_app_user",
	    "is_restricted", "is_ultra_restricted", "is_invited_user", "is_stranger", NULL };
	static const char *const names[] = { "real_name", "profile.real_name",
	    "profile.display_name", "name", NULL };
	static const char *const firsts[] = { "profile.first_name", NULL };
	int id = get(js, t, n, m, "id"), team = get(js, t, n, m, "team_id");
	int profile = get(js, t, n, m, "profile"), upd = get(js, t, n, m, "updated");
	uint32_t fl = 0;
	int64_t updated = 0;

	if (id < 0 || t[id].type != JSMN_STRING)
		return -1;
	for (int i = 0; flags[i] != NULL; i++)
		if (flag(js, t, n, m, flags[i]))
			fl |= 1u << i;
	if (upd > 0 && t[upd].type == JSMN_PRIMITIVE)
		updated = strtoll(js + t[upd].start, NULL, 10);
	key->len = 0;
	reserve(key, 1);
	key->p[key->len++] = 0;				/* platform byte: slack */
	put_str(key, js, t, team, 0);
	reserve(key, 1);
	key->p[key->len++] = 0;
	put_str(key, js, t, id, 0);
	rec->len = 0;
	reserve(rec, 12);
	memcpy(rec->p, &fl, 4);
	memcpy(rec->p + 4, &updated, 8);
	rec->len = 12;
	put_str(rec, js, t, get(js, t, n, profile, "email"), 1);
	put_str(rec, js, t, first_nonempty(js, t, n, m, names), 0);
	put_str(rec, js, t, first_nonempty(js, t, n, m, firsts), 0);
	put_str(rec, js, t, get(js, t, n, m, "tz"), 0);
	return 0;
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "limit: %s: %s\n", what, mdb_strerror(rc));
	exit(1);
}

struct sink {
	MDB_env	*env;
	MDB_txn	*txn;
	MDB_dbi	 dbi;
	long	 in_txn, accounts;
};

static void
sink_put(struct sink *s, struct buf *key, struct buf *rec)
{
	MDB_val k = { key->len, key->p }, v = { rec->len, rec->p };
	int rc;

	if ((rc = mdb_put(s->txn, s->dbi, &k, &v, 0)))
		die("put", rc);
	s->accounts++;
	if (++s->in_txn == TXN_RECORDS) {
		if ((rc = mdb_txn_commit(s->txn)) || (rc = mdb_txn_begin(s->env, NULL, 0, &s->txn)))
			die("commit", rc);
		s->in_txn = 0;
	}
}

/* Tokenizes one page and copies its next_cursor into cursor ("" at the end): the token
 * count, or -1. */
static int
tokenize(struct buf *body, jsmntok_t **tok, unsigned *ntok, char *cursor, size_t cursorlen)
{
	jsmn_parser p;
	int n, meta, nc;

	for (;;) {
		jsmn_init(&p);
		n = jsmn_parse(&p, body->p, body->len, *tok, *ntok);
		if (n != JSMN_ERROR_NOMEM)
			break;
		*ntok *= 2;
		if ((*tok = realloc(*tok, *ntok * sizeof(**tok))) == NULL)
			abort();
	}
	if (n < 1 || (*tok)[0].type != JSMN_OBJECT)
		return -1;
	cursor[0] = '\0';
	meta = get(body->p, *tok, n, 0, "response_metadata");
	nc = get(body->p, *tok, n, meta, "next_cursor");
	if (nc > 0 && (*tok)[nc].type == JSMN_STRING) {
		int len = (*tok)[nc].end - (*tok)[nc].start;
		if (len > 0 && (size_t)len < cursorlen) {
			memcpy(cursor, body->p + (*tok)[nc].start, (size_t)len);
			cursor[len] = '\0';
		}
	}
	return n;
}

/* Stores the members of a tokenized page. */
static void
store(struct buf *body, jsmntok_t *tok, int n, struct sink *s)
{
	static struct buf key, rec;
	int members, e;

	members = get(body->p, tok, n, 0, "members");
	if (members > 0 && tok[members].type == JSMN_ARRAY) {
		e = members + 1;
		for (int k = 0; k < tok[members].size; k++, e = skip(tok, e, n))
			if (encode(body->p, tok, n, e, &key, &rec) == 0)
				sink_put(s, &key, &rec);
	}
}

/* The request for url into body, sent (kept connection: at once) but not waited for. */
static void
start(CURLM *m, CURL *h, const char *url, struct buf *body)
{
	int running = 1;
	long sent = 0;

	body->len = 0;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_multi_add_handle(m, h);
	for (int i = 0; i < 100 && running && sent == 0; i++) {
		curl_multi_perform(m, &running);
		curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
		if (running && sent == 0)
			curl_multi_poll(m, NULL, 0, 10, NULL);
	}
}

/* Waits for the started request: 0, or -1 when it failed. */
static int
finish(CURLM *m, CURL *h)
{
	CURLcode cc = CURLE_RECV_ERROR;
	CURLMsg *msg;
	int running = 1, left;
	long status = 0;

	while (running && curl_multi_perform(m, &running) == CURLM_OK)
		if (running)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	while ((msg = curl_multi_info_read(m, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE)
			cc = msg->data.result;
	curl_multi_remove_handle(m, h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	return cc == CURLE_OK && status == 200 ? 0 : -1;
}

static void
page_url(char *url, size_t n, CURL *h, const char *api, const char *cursor)
{
	char *esc = curl_easy_escape(h, cursor, 0);

	snprintf(url, n, "%s/users.list?limit=1000%s%s", api, cursor[0] ? "&cursor=" : "",
	    cursor[0] ? esc : "");
	curl_free(esc);
}

int
main(int argc, char **argv)
{
	struct buf body[2] = { { 0 }, { 0 } };
	char url[4096], cursor[1024] = "";
	int cur = 0, n;
	CURLM *m;
	unsigned ntok = 65536;
	jsmntok_t *tok = malloc(ntok * sizeof(*tok));
	long pages = 0;
	struct timespec t0, t1;
	struct sink s = { 0 };
	CURL *h;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: limit URL DBDIR\n");
		return 64;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mkdir(argv[2], 0700);
	if ((rc = mdb_env_create(&s.env)) || (rc = mdb_env_set_mapsize(s.env, (size_t)16 << 30)) ||
	    (rc = mdb_env_open(s.env, argv[2], MDB_NOSYNC, 0600)))
		die("open", rc);
	if ((rc = mdb_txn_begin(s.env, NULL, 0, &s.txn)) ||
	    (rc = mdb_dbi_open(s.txn, NULL, 0, &s.dbi)))
		die("begin", rc);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	h = curl_easy_init();
	m = curl_multi_init();
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER,
	    curl_slist_append(NULL, "Authorization: Bearer xoxb-bench"));
	page_url(url, sizeof(url), h, argv[1], cursor);
	start(m, h, url, &body[cur]);
	for (;;) {
		if (finish(m, h) < 0) {
			fprintf(stderr, "limit: %s: fetch failed\n", url);
			return 69;
		}
		pages++;
		if ((n = tokenize(&body[cur], &tok, &ntok, cursor, sizeof(cursor))) < 0) {
			fprintf(stderr, "limit: page %ld: bad JSON\n", pages);
			return 65;
		}
		if (cursor[0] != '\0') {	/* the next page on its way while this one is stored */
			page_url(url, sizeof(url), h, argv[1], cursor);
			start(m, h, url, &body[!cur]);
		}
		store(&body[cur], tok, n, &s);
		if (cursor[0] == '\0')
			break;
		cur = !cur;
	}
	if ((rc = mdb_txn_commit(s.txn)))
		die("commit", rc);
	if ((rc = mdb_env_sync(s.env, 1)))
		die("sync", rc);
	mdb_env_close(s.env);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%ld %ld %ld %.3f\n", s.accounts, pages, pages,
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	curl_multi_cleanup(m);
	curl_easy_cleanup(h);
	free(body[0].p);
	free(body[1].p);
	free(tok);
	return 0;
}
