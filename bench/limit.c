/*
 * limit.c — this machine's limit for the work `reconcile` does on a Slack roster, for
 * `make bench`: fetch every users.list page with one keep-alive libcurl handle, tokenize it
 * with jsmn (JSMN_PARENT_LINKS), and put one record per account (id -> the member's JSON)
 * into LMDB in transactions of 10,000, with a sync at the end. Nothing else.
 *
 *	limit URL DBDIR		URL = .../slack/api
 * Prints: accounts pages requests seconds
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <jsmn.h>
#include <lmdb.h>

struct buf {
	char	*p;
	size_t	 len, cap;
};

static size_t
on_body(char *ptr, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t add = size * n;

	if (b->len + add + 1 > b->cap) {
		b->cap = (b->len + add + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
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

static int
skip(const jsmntok_t *t, int i, int n)
{
	int end = t[i].end;

	for (i++; i < n && t[i].start < end; i++)
		;
	return i;
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "limit: %s: %s\n", what, mdb_strerror(rc));
	exit(1);
}

int
main(int argc, char **argv)
{
	struct buf body = { 0 };
	char url[4096], cursor[1024] = "";
	unsigned ntok = 65536;
	jsmntok_t *tok = malloc(ntok * sizeof(*tok));	/* jsmn counts without writing on NULL */
	long accounts = 0, pages = 0, in_txn = 0;
	struct timespec t0, t1;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	CURL *h;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: limit URL DBDIR\n");
		return 64;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mkdir(argv[2], 0700);
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_mapsize(env, (size_t)16 << 30)) ||
	    (rc = mdb_env_open(env, argv[2], 0, 0600)))
		die("open", rc);
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) || (rc = mdb_dbi_open(txn, NULL, 0, &dbi)))
		die("begin", rc);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	for (;;) {
		jsmn_parser p;
		int n, i, members = -1, next = -1;
		char *esc = curl_easy_escape(h, cursor, 0);

		snprintf(url, sizeof(url), "%s/users.list?limit=1000%s%s", argv[1],
		    cursor[0] ? "&cursor=" : "", cursor[0] ? esc : "");
		curl_free(esc);
		body.len = 0;
		curl_easy_setopt(h, CURLOPT_URL, url);
		if (curl_easy_perform(h) != CURLE_OK) {
			fprintf(stderr, "limit: %s: fetch failed\n", url);
			return 69;
		}
		pages++;
		for (;;) {
			jsmn_init(&p);
			n = jsmn_parse(&p, body.p, body.len, tok, ntok);
			if (n != JSMN_ERROR_NOMEM)
				break;
			ntok *= 2;
			if ((tok = realloc(tok, ntok * sizeof(*tok))) == NULL)
				abort();
		}
		if (n < 1) {
			fprintf(stderr, "limit: bad JSON\n");
			return 65;
		}
		for (i = 1; i < n; i = skip(tok, i + 1, n)) {
			if (eq(body.p, &tok[i], "members"))
				members = i + 1;
			else if (eq(body.p, &tok[i], "response_metadata"))
				next = i + 1;
		}
		if (members > 0) {
			int e = members + 1, k;
			for (k = 0; k < tok[members].size; k++) {
				int f, id = -1;
				for (f = e + 1; f < n && tok[f].start < tok[e].end; f = skip(tok, f + 1, n))
					if (eq(body.p, &tok[f], "id")) {
						id = f + 1;
						break;
					}
				if (id > 0) {
					MDB_val key = { (size_t)(tok[id].end - tok[id].start),
					    body.p + tok[id].start };
					MDB_val val = { (size_t)(tok[e].end - tok[e].start),
					    body.p + tok[e].start };
					if ((rc = mdb_put(txn, dbi, &key, &val, 0)))
						die("put", rc);
					accounts++;
					if (++in_txn == 10000) {
						if ((rc = mdb_txn_commit(txn)) ||
						    (rc = mdb_txn_begin(env, NULL, 0, &txn)))
							die("commit", rc);
						in_txn = 0;
					}
				}
				e = skip(tok, e, n);
			}
		}
		cursor[0] = '\0';
		if (next > 0) {
			int f;
			for (f = next + 1; f < n && tok[f].start < tok[next].end; f = skip(tok, f + 1, n))
				if (eq(body.p, &tok[f], "next_cursor")) {
					int len = tok[f + 1].end - tok[f + 1].start;
					if (len > 0 && len < (int)sizeof(cursor)) {
						memcpy(cursor, body.p + tok[f + 1].start, (size_t)len);
						cursor[len] = '\0';
					}
				}
		}
		if (cursor[0] == '\0')
			break;
	}
	if ((rc = mdb_txn_commit(txn)))
		die("commit", rc);
	mdb_env_sync(env, 1);
	mdb_env_close(env);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%ld %ld %ld %.3f\n", accounts, pages, pages,
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	curl_easy_cleanup(h);
	free(body.p);
	free(tok);
	return 0;
}
