/*
 * fuzz_json.c — libFuzzer target for the JSON layer: parse, then drive every token through
 * every accessor and check the invariants json.h promises (abort() on a broken one).
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -D_GNU_SOURCE \
 *	    -DJSMN_PARENT_LINKS -DJSMN_STRICT tests/fuzz/fuzz_json.c drivers/json.c base/util.c \
 *	    -o build/fuzz_json -lcrypto -lm
 *	build/fuzz_json -max_total_time=120 CORPUS_DIR SEED_DIR  (seeds: JSONTestSuite + fixtures)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../drivers/json_p.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_json: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		abort();						\
	}								\
} while (0)

/* Every container's json_first/json_next walk is exactly its jsmn children, in order. */
static void
walk_children(const struct json *j, int c)
{
	int e, prev = c, n = 0;

	for (e = json_first(j, c); e >= 0; e = json_next(j, c, e)) {
		CHECK(e > prev && e < j->ntok);
		CHECK(json_toks(j)[e].parent == c);
		prev = e;
		n++;
	}
	CHECK(n == json_count(j, c));
	CHECK(json_skip(j, c) > prev || n == 0);
}

/* json_pick of key (with a key no object has, and the empty key) agrees with json_get. */
static void
pick_vs_get(const struct json *j, int obj, const char *key)
{
	const char *const keys[] = { "\001" "absent", key, "" };
	int v[3];

	/* two wanted keys equal: the first takes the first match (as json_get) */
	json_pick(j, obj, keys, *key ? 3 : 2, v);
	CHECK(v[0] == -1 && v[1] == json_get(j, obj, key));
	CHECK(!*key || v[2] == json_get(j, obj, ""));
}

/* Each key is found by json_get (the first equal key wins, so the hit is at or before it). */
static void
check_keys(const struct json *j, int obj)
{
	struct buf key = { 0 };
	int k, v;

	for (k = json_first(j, obj); k >= 0; k = json_next(j, obj, k)) {
		CHECK(json_is_string(j, k));
		buf_reset(&key);
		CHECK(json_str(j, k, &key) == 0);
		if (memchr(key.p, '\0', key.len) != NULL) {
			CHECK(json_strdup(j, k) == NULL);
			continue;
		}
		v = json_get(j, obj, key.p);
		CHECK(v >= 0 && v <= k + 1 && json_str_eq(j, v - 1, key.p));
		v = json_get_ci(j, obj, key.p);
		CHECK(v >= 0 && v <= k + 1);
		if (strchr(key.p, '.') == NULL && key.len > 0)
			CHECK(json_path(j, obj, key.p) == json_get(j, obj, key.p));
		pick_vs_get(j, obj, key.p);
	}
	buf_free(&key);
}

static void
check_token(const struct json *j, int i)
{
	struct buf s = { 0 };
	int64_t iv;
	double dv;
	int b, sk;
	char *dup;

	CHECK(json_toks(j)[i].start >= 0 && json_toks(j)[i].start <= json_toks(j)[i].end);
	CHECK((size_t)json_toks(j)[i].end <= j->len);
	sk = json_skip(j, i);
	CHECK(sk > i && sk <= j->ntok);
	if (json_is_object(j, i) || json_is_array(j, i))
		walk_children(j, i);
	if (json_is_object(j, i))
		check_keys(j, i);
	if (json_str(j, i, &s) == 0) {
		CHECK(json_is_string(j, i));
		/* Decoding never grows the text and always yields UTF-8. */
		CHECK(s.len <= (size_t)(json_toks(j)[i].end - json_toks(j)[i].start));
		CHECK(utf8_valid(s.p, s.len));
		dup = json_strdup(j, i);
		if (memchr(s.p, '\0', s.len) == NULL) {
			CHECK(dup != NULL && strcmp(dup, s.p) == 0);
			CHECK(json_str_eq(j, i, s.p));
		} else
			CHECK(dup == NULL);
		free(dup);
	} else {
		CHECK(!json_is_string(j, i) && json_strdup(j, i) == NULL);
		CHECK(s.len == 0);
	}
	if (json_bool(j, i, &b) == 0)
		CHECK(json_boolish(j, i, &b) == 0);
	(void)json_boolish(j, i, &b);
	(void)json_is_null(j, i);
	if (json_i64(j, i, &iv) == 0) {
		CHECK(json_double(j, i, &dv) == 0);
		if (iv > -(INT64_C(1) << 53) && iv < (INT64_C(1) << 53))
			CHECK(dv == (double)iv);
	}
	if (json_double(j, i, &dv) == 0)
		CHECK(!isnan(dv) && !isinf(dv));
	buf_free(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json j;		/* reused across inputs, as callers do */
	char err[128];
	int i;

	if (json_parse(&j, (const char *)data, size, err, sizeof(err)) != 0) {
		CHECK(j.ntok == 0);
		CHECK(strncmp(err, "invalid JSON at byte ", 21) == 0);
		return 0;
	}
	CHECK(j.ntok >= 1 && j.ntok <= j.cap);
	/* the one-pass tokens are jsmn's own for every accepted text */
	CHECK(json_tokens_vs_jsmn(&j) == -1);
	CHECK(json_skip(&j, 0) == j.ntok);
	for (i = 0; i < j.ntok; i++)
		check_token(&j, i);
	CHECK(json_skip(&j, -1) == -1 && json_first(&j, j.ntok) == -1);
	return 0;
}
