/*
 * test_json.c — unit tests of the JSON layer (include/json.h): every accessor, escapes, the
 * real platform fixtures under $PEOPLESYNC_TESTDATA/fixtures (else tests/data/fixtures), token
 * array reuse, and hostile input that jsmn alone would accept or choke on.
 */
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../drivers/json_p.h"
#include "util.h"

/* Parses a C string literal that must be valid; fails the test with the validator's
 * message otherwise, or when its tokens are not those jsmn makes of the text. */
static void
parse_ok(struct json *j, const char *s)
{
	char err[160] = "";
	int d;

	if (json_parse(j, s, strlen(s), err, sizeof(err)) != 0)
		fail_msg("rejected %s: %s", s, err);
	if ((d = json_tokens_vs_jsmn(j)) != -1)
		fail_msg("token %d differs from jsmn's: %s", d, s);
}

/* Parses s[0..n) that must be invalid; returns the message. */
static const char *
parse_bad_n(const char *s, size_t n)
{
	static char err[160];
	struct json j = { 0 };

	err[0] = '\0';
	if (json_parse(&j, s, n, err, sizeof(err)) == 0)
		fail_msg("accepted invalid JSON (%zu bytes): %.*s", n, (int)n, s);
	assert_int_equal(j.ntok, 0);
	json_free(&j);
	return err;
}

static const char *
parse_bad(const char *s)
{
	return parse_bad_n(s, strlen(s));
}

/* json_strdup() of token i compared with want (NULL: expects NULL). */
static void
check_str(const struct json *j, int i, const char *want)
{
	char *got = json_strdup(j, i);

	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_true(json_str_eq(j, i, want));
	free(got);
}

static char *
testdata_path(const char *sub)
{
	const char *data = getenv("PEOPLESYNC_TESTDATA");

	return xasprintf("%s/%s", data != NULL && *data != '\0' ? data : "tests/data", sub);
}

static void
load(const char *sub, struct buf *b)
{
	char *path = testdata_path(sub);

	buf_reset(b);
	if (read_file(path, 1u << 24, b) != 0)
		fail_msg("%s: cannot read", path);
	free(path);
}

static void
test_types_and_counts(void **state)
{
	struct json j = { 0 };
	int a;

	(void)state;
	parse_ok(&j, " {\"s\":\"x\",\"n\":-1.5e3,\"t\":true,\"f\":false,\"z\":null,"
	    "\"a\":[1,[2,3],{}],\"o\":{\"k\":\"v\"}} \n");
	assert_true(json_is_object(&j, 0));
	assert_int_equal(json_count(&j, 0), 7);
	assert_true(json_is_string(&j, json_get(&j, 0, "s")));
	assert_false(json_is_string(&j, json_get(&j, 0, "n")));
	assert_true(json_is_null(&j, json_get(&j, 0, "z")));
	assert_false(json_is_null(&j, json_get(&j, 0, "f")));
	assert_false(json_is_null(&j, json_get(&j, 0, "missing")));
	a = json_get(&j, 0, "a");
	assert_true(json_is_array(&j, a));
	assert_false(json_is_object(&j, a));
	assert_int_equal(json_count(&j, a), 3);
	assert_true(json_is_object(&j, json_get(&j, 0, "o")));
	assert_int_equal(json_count(&j, json_get(&j, 0, "o")), 1);
	assert_int_equal(json_count(&j, json_get(&j, 0, "s")), 0);
	assert_int_equal(json_skip(&j, 0), j.ntok);
	/* Absent indexes are never anything. */
	assert_false(json_is_null(&j, -1));
	assert_false(json_is_string(&j, -1));
	assert_false(json_is_object(&j, j.ntok));
	assert_false(json_is_array(&j, INT_MAX));
	assert_int_equal(json_count(&j, -1), 0);
	assert_int_equal(json_get(&j, -1, "s"), -1);
	assert_int_equal(json_get(&j, a, "s"), -1);
	assert_int_equal(json_get(&j, 0, NULL), -1);
	json_free(&j);
	json_free(&j);			/* idempotent */
	json_free(NULL);
}

static void
test_root_scalars(void **state)
{
	struct json j = { 0 };
	int64_t v = 0;
	int b = -1;

	(void)state;
	/* jsmn's strict mode cannot tokenize these bare at the end of the text. */
	parse_ok(&j, "42");
	assert_int_equal(j.ntok, 1);
	assert_int_equal(json_i64(&j, 0, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(json_skip(&j, 0), 1);
	parse_ok(&j, " -7 \t\r\n");
	assert_int_equal(json_i64(&j, 0, &v), 0);
	assert_int_equal(v, -7);
	parse_ok(&j, "true");
	assert_int_equal(json_bool(&j, 0, &b), 0);
	assert_int_equal(b, 1);
	parse_ok(&j, "null");
	assert_true(json_is_null(&j, 0));
	parse_ok(&j, "\"solo\"");
	check_str(&j, 0, "solo");
	parse_ok(&j, "[]");
	assert_int_equal(json_count(&j, 0), 0);
	assert_int_equal(json_first(&j, 0), -1);
	parse_ok(&j, "{}");
	assert_int_equal(json_first(&j, 0), -1);
	assert_int_equal(json_get(&j, 0, ""), -1);
	json_free(&j);
}

static void
test_errors(void **state)
{
	struct json j = { 0 };
	char small[16];

	(void)state;
	assert_string_equal(parse_bad("{\"a\":1,}"), "invalid JSON at byte 7: expected string key");
	assert_string_equal(parse_bad("[01]"), "invalid JSON at byte 2: leading zero in number");
	assert_string_equal(parse_bad("[1] x"), "invalid JSON at byte 4: trailing data after document");
	assert_string_equal(parse_bad("\xEF\xBB\xBF{}"), "invalid JSON at byte 0: byte order mark not allowed");
	assert_string_equal(parse_bad(""), "invalid JSON at byte 0: unexpected end of input");
	assert_string_equal(parse_bad("  \n "), "invalid JSON at byte 4: unexpected end of input");
	assert_string_equal(parse_bad("[\"abc"), "invalid JSON at byte 5: unterminated string");
	assert_string_equal(parse_bad("{\"a\" 1}"), "invalid JSON at byte 5: expected ':'");
	assert_string_equal(parse_bad("[\"\\x\"]"), "invalid JSON at byte 2: invalid escape");
	assert_string_equal(parse_bad("[\"a\xC3(\"]"), "invalid JSON at byte 3: invalid UTF-8");
	/* err may be NULL or short; a failed parse leaves no tokens to read. */
	parse_ok(&j, "[1,2]");
	assert_int_equal(json_parse(&j, "[1,", 3, NULL, 0), -1);
	assert_int_equal(j.ntok, 0);
	assert_int_equal(json_first(&j, 0), -1);
	assert_int_equal(json_skip(&j, 0), -1);
	assert_int_equal(json_parse(&j, "[1,", 3, small, sizeof(small)), -1);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(json_parse(&j, NULL, 0, small, sizeof(small)), -1);
	json_free(&j);
}

static void
test_string_escapes(void **state)
{
	struct json j = { 0 };
	struct buf b = { 0 };
	char *before;
	int k;

	(void)state;
	parse_ok(&j, "[\"caf\\u00e9\", \"\\ud83d\\ude00!\", \"https:\\/\\/a.slack-edge.com\\/x\","
	    "\"q\\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t\", \"\\u20AC\\u0041\", \"raw \xC3\xA9 \xF0\x9F\x98\x80\","
	    "\"\", \"nul\\u0000x\", \"\\uD834\\uDD1E\", 5]");
	k = json_first(&j, 0);
	check_str(&j, k, "caf\xC3\xA9");
	k = json_next(&j, 0, k);
	check_str(&j, k, "\xF0\x9F\x98\x80!");		/* U+1F600 from a surrogate pair */
	k = json_next(&j, 0, k);
	check_str(&j, k, "https://a.slack-edge.com/x");	/* Slack escapes every '/' */
	k = json_next(&j, 0, k);
	check_str(&j, k, "q\"b\\s/b\bf\fn\nr\rt\t");
	k = json_next(&j, 0, k);
	check_str(&j, k, "\xE2\x82\xAC" "A");
	k = json_next(&j, 0, k);
	check_str(&j, k, "raw \xC3\xA9 \xF0\x9F\x98\x80");
	k = json_next(&j, 0, k);
	check_str(&j, k, "");
	assert_int_equal(json_str(&j, k, &b), 0);
	assert_non_null(b.p);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.p, "");
	k = json_next(&j, 0, k);
	/* An embedded NUL is decoded by json_str (length-counted) but has no C-string copy. */
	check_str(&j, k, NULL);
	assert_false(json_str_eq(&j, k, "nul"));
	buf_reset(&b);
	assert_int_equal(json_str(&j, k, &b), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.p, "nul\0x", 5);
	k = json_next(&j, 0, k);
	check_str(&j, k, "\xF0\x9D\x84\x9E");		/* U+1D11E, upper-case hex */
	/* json_str appends; on a non-string it leaves out untouched. */
	buf_reset(&b);
	buf_adds(&b, ">");
	assert_int_equal(json_str(&j, json_first(&j, 0), &b), 0);
	assert_string_equal(b.p, ">caf\xC3\xA9");
	before = b.p;
	k = json_next(&j, 0, k);			/* the number 5 */
	assert_int_equal(json_str(&j, k, &b), -1);
	assert_int_equal(json_str(&j, 0, &b), -1);
	assert_int_equal(json_str(&j, -1, &b), -1);
	assert_ptr_equal(b.p, before);
	assert_string_equal(b.p, ">caf\xC3\xA9");
	check_str(&j, k, NULL);
	check_str(&j, -1, NULL);
	assert_false(json_str_eq(&j, k, "5"));
	assert_false(json_str_eq(&j, 0, ""));
	assert_false(json_str_eq(&j, json_first(&j, 0), NULL));
	assert_int_equal(json_next(&j, 0, k), -1);
	buf_free(&b);
	json_free(&j);
}

static void
test_get_escaped_keys(void **state)
{
	struct json j = { 0 };
	int64_t v = 0;

	(void)state;
	parse_ok(&j, "{\"na\\u006de\":1, \"a\\\"b\":2, \"\\u00e9t\\u00e9\":3, \"plain\":4,"
	    " \"a\\\\nb\":5, \"\\/path\":6, \"dup\":7, \"dup\":8, \"\":9, \"\\ud83d\\ude00\":10}");
	assert_int_equal(json_i64(&j, json_get(&j, 0, "name"), &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(json_i64(&j, json_get(&j, 0, "a\"b"), &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(json_i64(&j, json_get(&j, 0, "\xC3\xA9t\xC3\xA9"), &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(json_i64(&j, json_get(&j, 0, "plain"), &v), 0);
	assert_int_equal(v, 4);
	/* The raw key text a\\nb is the 4-byte key a\nb (backslash, n), not the 5 raw bytes. */
	assert_int_equal(json_i64(&j, json_get(&j, 0, "a\\nb"), &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(json_get(&j, 0, "a\\\\nb"), -1);
	assert_int_equal(json_get(&j, 0, "a\nb"), -1);
	assert_int_equal(json_i64(&j, json_get(&j, 0, "/path"), &v), 0);
	assert_int_equal(v, 6);
	assert_int_equal(json_get(&j, 0, "\\/path"), -1);
	assert_int_equal(json_i64(&j, json_get(&j, 0, "dup"), &v), 0);
	assert_int_equal(v, 7);				/* the first duplicate wins */
	assert_int_equal(json_i64(&j, json_get(&j, 0, ""), &v), 0);
	assert_int_equal(v, 9);
	assert_int_equal(json_i64(&j, json_get(&j, 0, "\xF0\x9F\x98\x80"), &v), 0);
	assert_int_equal(v, 10);
	/* Prefixes, extensions and raw spellings do not match. */
	assert_int_equal(json_get(&j, 0, "nam"), -1);
	assert_int_equal(json_get(&j, 0, "names"), -1);
	assert_int_equal(json_get(&j, 0, "na\\u006de"), -1);
	assert_int_equal(json_get(&j, 0, "pla"), -1);
	assert_int_equal(json_get(&j, 0, "plainx"), -1);
	assert_int_equal(json_get(&j, 0, "Plain"), -1);
	json_free(&j);
}

/* json_pick finds in one walk what json_get finds key by key: escaped keys, the first of
 * duplicates, the empty key, nested objects skipped whole, absent keys and non-objects. */
static void
test_pick(void **state)
{
	static const char *const keys[] = { "name", "a\"b", "dup", "", "absent", "x",
	    "\xF0\x9F\x98\x80", "plain" };
	int n = (int)(sizeof(keys) / sizeof(keys[0]));
	const char *many[JSON_PICK_MAX + 1];
	struct json j = { 0 };
	int v[8], mv[JSON_PICK_MAX + 1], k;

	(void)state;
	parse_ok(&j, "{\"na\\u006de\":1, \"o\":{\"x\":[1,{\"dup\":0}]}, \"a\\\"b\":2,"
	    " \"dup\":7, \"dup\":8, \"\":9, \"\\ud83d\\ude00\":10, \"plain\":4, \"x\":[]}");
	assert_int_equal(json_pick(&j, 0, keys, n, v), 7);
	for (k = 0; k < n; k++)
		assert_int_equal(v[k], json_get(&j, 0, keys[k]));
	assert_int_equal(v[4], -1);
	assert_true(json_is_array(&j, v[5]));
	/* not an object, or too many keys: nothing */
	assert_int_equal(json_pick(&j, v[5], keys, n, v), 0);
	assert_int_equal(v[0], -1);
	assert_int_equal(json_pick(&j, -1, keys, 2, v), 0);
	for (k = 0; k <= JSON_PICK_MAX; k++)
		many[k] = "plain";
	assert_int_equal(json_pick(&j, 0, many, JSON_PICK_MAX + 1, mv), 0);
	assert_int_equal(mv[0], -1);
	json_free(&j);
}

static void
test_get_ci_and_path(void **state)
{
	struct json j = { 0 };
	int e;

	(void)state;
	parse_ok(&j, "{\"error\":{\"code\":\"TooManyRequests\",\"innerError\":{\"date\":\"d1\"},"
	    "\"\\u0049NNER\":0},\"response_metadata\":{\"next_cursor\":\"dXNlcjpVMEc5V0ZYTlo=\"},"
	    "\"list\":[{\"a\":1}],\"x.y\":1}");
	e = json_get(&j, 0, "error");
	assert_int_equal(json_get(&j, e, "innererror"), -1);
	assert_int_equal(json_get_ci(&j, e, "innererror"), json_get(&j, e, "innerError"));
	assert_int_equal(json_get_ci(&j, e, "INNERERROR"), json_get(&j, e, "innerError"));
	assert_int_equal(json_get_ci(&j, e, "inner"), json_get(&j, e, "INNER"));
	assert_true(json_get(&j, e, "INNER") >= 0);
	assert_int_equal(json_get_ci(&j, e, "innererro"), -1);
	assert_int_equal(json_get_ci(&j, e, NULL), -1);
	assert_true(json_str_eq(&j, json_path(&j, 0, "error.innerError.date"), "d1"));
	assert_true(json_str_eq(&j, json_path(&j, 0, "response_metadata.next_cursor"),
	    "dXNlcjpVMEc5V0ZYTlo="));
	assert_int_equal(json_path(&j, 0, "error"), e);
	assert_int_equal(json_path(&j, 0, "error.nope"), -1);
	assert_int_equal(json_path(&j, 0, "error.code.deeper"), -1);	/* through a string */
	assert_int_equal(json_path(&j, 0, "list.a"), -1);		/* through an array */
	assert_int_equal(json_path(&j, 0, "error."), -1);
	assert_int_equal(json_path(&j, 0, ""), -1);
	assert_int_equal(json_path(&j, 0, "x.y"), -1);	/* dots always separate */
	assert_int_equal(json_path(&j, 0, NULL), -1);
	assert_int_equal(json_path(&j, -1, "error"), -1);
	json_free(&j);
}

static void
test_iteration(void **state)
{
	struct json j = { 0 };
	const char *want[] = { "a", "b", "c", "d" };
	int e, n, o, k;
	int64_t v;

	(void)state;
	parse_ok(&j, "[{\"a\":[1,{\"z\":[[],{}]}],\"b\":{\"c\":{\"d\":[]}},\"c\":\"s\",\"d\":null},"
	    "[], {}, [[[[1]]]], \"x\", 7]");
	assert_int_equal(json_count(&j, 0), 6);
	n = 0;
	for (e = json_first(&j, 0); e >= 0; e = json_next(&j, 0, e)) {
		assert_int_equal(json_toks(&j)[e].parent, 0);
		n++;
	}
	assert_int_equal(n, 6);
	o = json_first(&j, 0);
	assert_true(json_is_object(&j, o));
	/* Object iteration yields keys; the value is key + 1, whatever its size. */
	n = 0;
	for (k = json_first(&j, o); k >= 0; k = json_next(&j, o, k)) {
		assert_true(n < 4);
		assert_true(json_str_eq(&j, k, want[n]));
		assert_int_equal(json_toks(&j)[k].parent, o);
		n++;
	}
	assert_int_equal(n, 4);
	/* json_skip on a key skips its value too; on a container, its whole subtree. */
	k = json_first(&j, o);
	assert_int_equal(json_skip(&j, k), json_next(&j, o, k));
	assert_int_equal(json_skip(&j, o), json_next(&j, 0, o));
	assert_true(json_str_eq(&j, json_skip(&j, json_skip(&j, json_skip(&j, json_skip(&j,
	    o)))) , "x"));
	e = json_skip(&j, json_skip(&j, json_skip(&j, json_skip(&j, json_skip(&j, o)))));
	assert_int_equal(json_i64(&j, e, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(json_skip(&j, e), j.ntok);
	assert_int_equal(json_next(&j, 0, e), -1);
	assert_int_equal(json_skip(&j, -1), -1);
	assert_int_equal(json_skip(&j, j.ntok), -1);
	/* Not containers, or bad cursors. */
	assert_int_equal(json_first(&j, e), -1);
	assert_int_equal(json_first(&j, -1), -1);
	assert_int_equal(json_next(&j, e, e), -1);
	assert_int_equal(json_next(&j, 0, 0), -1);
	assert_int_equal(json_next(&j, 0, -1), -1);
	assert_int_equal(json_next(&j, 0, j.ntok), -1);
	json_free(&j);
}

/* A large array of nested objects: iteration and json_skip agree with jsmn's parent links. */
static void
test_iteration_large(void **state)
{
	struct json j = { 0 };
	struct buf b = { 0 };
	int e, n = 0, k, kids;

	(void)state;
	buf_adds(&b, "[");
	for (k = 0; k < 5000; k++)
		buf_printf(&b, "%s{\"id\":%d,\"p\":{\"l\":[%d,[],{\"q\":\"\\u00e9\"}]},\"s\":\"v%d\"}",
		    k ? "," : "", k, k, k);
	buf_adds(&b, "]");
	parse_ok(&j, b.p);
	for (e = json_first(&j, 0); e >= 0; e = json_next(&j, 0, e)) {
		int64_t v;

		assert_int_equal(json_i64(&j, json_get(&j, e, "id"), &v), 0);
		assert_int_equal(v, n);
		assert_int_equal(json_i64(&j, json_path(&j, e, "p.l"), &v), -1);
		n++;
	}
	assert_int_equal(n, 5000);
	/* For every container, json_first/json_next visit exactly its parent-linked children. */
	for (k = 0; k < j.ntok; k++) {
		if (!json_is_object(&j, k) && !json_is_array(&j, k))
			continue;
		kids = 0;
		for (e = json_first(&j, k); e >= 0; e = json_next(&j, k, e)) {
			assert_int_equal(json_toks(&j)[e].parent, k);
			kids++;
		}
		assert_int_equal(kids, json_count(&j, k));
	}
	buf_free(&b);
	json_free(&j);
}

static void
test_booleans(void **state)
{
	struct json j = { 0 };
	int b;

	(void)state;
	parse_ok(&j, "{\"t\":true,\"f\":false,\"st\":\"true\",\"sf\":\"false\",\"sT\":\"True\","
	    "\"z\":null,\"one\":1,\"esc\":\"\\u0074rue\",\"o\":{}}");
	b = -1;
	assert_int_equal(json_bool(&j, json_get(&j, 0, "t"), &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(json_bool(&j, json_get(&j, 0, "f"), &b), 0);
	assert_int_equal(b, 0);
	/* Strings are not booleans to json_bool; *out is untouched on failure. */
	b = 42;
	assert_int_equal(json_bool(&j, json_get(&j, 0, "st"), &b), -1);
	assert_int_equal(json_bool(&j, json_get(&j, 0, "z"), &b), -1);
	assert_int_equal(json_bool(&j, json_get(&j, 0, "one"), &b), -1);
	assert_int_equal(json_bool(&j, json_get(&j, 0, "missing"), &b), -1);
	assert_int_equal(json_bool(&j, 0, &b), -1);
	assert_int_equal(b, 42);
	/* Webex sends "true"/"false" strings. */
	assert_int_equal(json_boolish(&j, json_get(&j, 0, "st"), &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(json_boolish(&j, json_get(&j, 0, "sf"), &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(json_boolish(&j, json_get(&j, 0, "t"), &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(json_boolish(&j, json_get(&j, 0, "esc"), &b), 0);
	assert_int_equal(b, 1);
	b = 42;
	assert_int_equal(json_boolish(&j, json_get(&j, 0, "sT"), &b), -1);
	assert_int_equal(json_boolish(&j, json_get(&j, 0, "z"), &b), -1);
	assert_int_equal(json_boolish(&j, json_get(&j, 0, "one"), &b), -1);
	assert_int_equal(json_boolish(&j, json_get(&j, 0, "o"), &b), -1);
	assert_int_equal(json_boolish(&j, -1, &b), -1);
	assert_int_equal(b, 42);
	json_free(&j);
}

static void
test_i64(void **state)
{
	static const struct {
		const char	*text;
		int		 rc;
		int64_t		 v;
	} c[] = {
		{ "0", 0, 0 },
		{ "-0", 0, 0 },
		{ "1700000000", 0, 1700000000 },
		{ "-18000", 0, -18000 },
		{ "9223372036854775807", 0, INT64_MAX },
		{ "-9223372036854775808", 0, INT64_MIN },
		{ "9223372036854775808", -1, 0 },
		{ "-9223372036854775809", -1, 0 },
		{ "18446744073709551616", -1, 0 },
		{ "99999999999999999999999", -1, 0 },
		{ "1.0", -1, 0 },
		{ "1e3", -1, 0 },
		{ "1E3", -1, 0 },
		{ "-0.5", -1, 0 },
		{ "\"12\"", -1, 0 },
		{ "true", -1, 0 },
		{ "null", -1, 0 },
		{ "[1]", -1, 0 },
	};
	struct json j = { 0 };
	int64_t v;
	size_t k;

	(void)state;
	for (k = 0; k < ARRAY_LEN(c); k++) {
		parse_ok(&j, c[k].text);
		v = 12345;
		if (json_i64(&j, 0, &v) != c[k].rc)
			fail_msg("json_i64(%s) did not return %d", c[k].text, c[k].rc);
		if (c[k].rc == 0 && v != c[k].v)
			fail_msg("json_i64(%s) = %lld", c[k].text, (long long)v);
		if (c[k].rc != 0 && v != 12345)
			fail_msg("json_i64(%s) wrote *out on failure", c[k].text);
	}
	assert_int_equal(json_i64(&j, -1, &v), -1);
	json_free(&j);
}

static void
test_double(void **state)
{
	struct json j = { 0 };
	struct buf b = { 0 };
	double d;
	int k;

	(void)state;
	parse_ok(&j, "[1.5, -0.25e2, 42, 1e-400, 1e400, -1e400, \"3\", null, 0.1]");
	k = json_first(&j, 0);
	assert_int_equal(json_double(&j, k, &d), 0);
	assert_true(d == 1.5);
	k = json_next(&j, 0, k);
	assert_int_equal(json_double(&j, k, &d), 0);
	assert_true(d == -25.0);
	k = json_next(&j, 0, k);
	assert_int_equal(json_double(&j, k, &d), 0);
	assert_true(d == 42.0);
	k = json_next(&j, 0, k);
	assert_int_equal(json_double(&j, k, &d), 0);	/* underflow: nearest is 0 */
	assert_true(d == 0.0);
	d = 7.0;
	k = json_next(&j, 0, k);
	assert_int_equal(json_double(&j, k, &d), -1);	/* overflow */
	k = json_next(&j, 0, k);
	assert_int_equal(json_double(&j, k, &d), -1);
	k = json_next(&j, 0, k);
	assert_int_equal(json_double(&j, k, &d), -1);	/* a string */
	k = json_next(&j, 0, k);
	assert_int_equal(json_double(&j, k, &d), -1);	/* null */
	assert_true(d == 7.0);
	k = json_next(&j, 0, k);
	assert_int_equal(json_double(&j, k, &d), 0);
	assert_true(d == 0.1);
	assert_int_equal(json_double(&j, -1, &d), -1);
	/* A number longer than the stack copy takes the heap path; the token is not
	 * NUL-terminated, so strtod must not read the ',' that follows. */
	buf_adds(&b, "[0.");
	for (k = 0; k < 200; k++)
		buf_addc(&b, '0');
	buf_adds(&b, "125,1]");
	parse_ok(&j, b.p);
	assert_int_equal(json_double(&j, 1, &d), 0);
	assert_true(d == 1.25e-201);
	buf_free(&b);
	json_free(&j);
}

/* Every fixture must parse; visited with nftw so new fixtures are covered automatically. */
static int fixtures_seen;

static int
fixture_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct json j = { 0 };
	struct buf b = { 0 };
	char err[160] = "";
	size_t n = strlen(path);

	(void)st;
	(void)ftw;
	if (type != FTW_F || n < 5 || strcmp(path + n - 5, ".json") != 0)
		return 0;
	if (read_file(path, 1u << 24, &b) != 0)
		fail_msg("%s: cannot read", path);
	if (json_parse(&j, b.p, b.len, err, sizeof(err)) != 0)
		fail_msg("%s: %s", path, err);
	assert_int_equal(json_skip(&j, 0), j.ntok);
	fixtures_seen++;
	json_free(&j);
	buf_free(&b);
	return 0;
}

static void
test_fixtures_all_parse(void **state)
{
	char *dir = testdata_path("fixtures");

	(void)state;
	fixtures_seen = 0;
	if (nftw(dir, fixture_cb, 8, FTW_PHYS) != 0)
		fail_msg("%s: cannot walk", dir);
	assert_true(fixtures_seen >= 20);
	free(dir);
}

static void
test_fixture_values(void **state)
{
	struct json j = { 0 };
	struct buf b = { 0 };
	int m, u, it, ok, n;
	int64_t v;

	(void)state;
	load("fixtures/slack/users.list.page4_mixed_humans_bots.json", &b);
	parse_ok(&j, b.p);
	assert_int_equal(json_bool(&j, json_get(&j, 0, "ok"), &ok), 0);
	assert_int_equal(ok, 1);
	m = json_get(&j, 0, "members");
	assert_int_equal(json_count(&j, m), 5);
	u = json_first(&j, m);
	assert_true(json_str_eq(&j, json_get(&j, u, "id"), "U0HLFUZLJ"));
	assert_true(json_str_eq(&j, json_path(&j, u, "profile.email"),
	    "dblock+player1@dblock.org"));
	check_str(&j, json_get(&j, u, "tz"), "America/Indiana/Indianapolis");
	assert_int_equal(json_i64(&j, json_get(&j, u, "tz_offset"), &v), 0);
	assert_int_equal(v, -18000);
	assert_true(json_str_eq(&j, json_path(&j, 0, "response_metadata.next_cursor"),
	    "dXNlcjpVMFMwRzAyOEs="));
	n = 0;
	for (u = json_first(&j, m); u >= 0; u = json_next(&j, m, u)) {
		int bot;

		if (json_bool(&j, json_get(&j, u, "is_bot"), &bot) == 0 && bot)
			n++;
	}
	assert_int_equal(n, 4);

	load("fixtures/slack/users.list.page7_last_empty_cursor.json", &b);
	parse_ok(&j, b.p);
	check_str(&j, json_path(&j, 0, "response_metadata.next_cursor"), "");

	load("fixtures/graph/users_delta_final_deltalink.json", &b);
	parse_ok(&j, b.p);
	check_str(&j, json_get(&j, 0, "@odata.deltaLink"),
	    "https://graph.microsoft.com/v1.0/users/delta?$deltatoken=oEcOySpF_hWYmTIUZBOIfPzcwisr_"
	    "rPe8o9M54L45qEXQGmvQC6T2dbL-9O7nSU-njKhFiGlAZqewNAThmCVnNxqPu5gOBegrm1CaVZ-ZtFZ2tPOAO"
	    "98OD9y0ao460");
	assert_int_equal(json_get(&j, 0, "@odata.nextLink"), -1);
	assert_int_equal(json_count(&j, json_get(&j, 0, "value")), 2);

	load("fixtures/graph/token_error_invalid_scope.json", &b);
	parse_ok(&j, b.p);
	assert_true(json_str_eq(&j, json_get(&j, 0, "error"), "invalid_scope"));
	assert_int_equal(json_i64(&j, json_first(&j, json_get(&j, 0, "error_codes")), &v), 0);
	assert_int_equal(v, 70011);

	load("fixtures/webex/people_list.json", &b);
	parse_ok(&j, b.p);
	it = json_first(&j, json_get(&j, 0, "items"));
	assert_int_equal(json_bool(&j, json_get(&j, it, "invitePending"), &ok), -1);
	assert_int_equal(json_boolish(&j, json_get(&j, it, "invitePending"), &ok), 0);
	assert_int_equal(ok, 0);
	assert_int_equal(json_boolish(&j, json_get(&j, it, "loginEnabled"), &ok), 0);
	assert_int_equal(ok, 1);
	assert_true(json_str_eq(&j, json_first(&j, json_get(&j, it, "emails")),
	    "john.andersen@example.com"));
	assert_int_equal(json_count(&j, json_get(&j, 0, "notFoundIds")), 0);
	buf_free(&b);
	json_free(&j);
}

/* One struct json serves many parses: the token array is reused, grown only when needed. */
static void
test_reuse(void **state)
{
	struct json j = { 0 };
	struct buf big = { 0 };
	struct json_tok *tok;
	int k, cap;

	(void)state;
	buf_adds(&big, "[");
	for (k = 0; k < 2000; k++)
		buf_printf(&big, "%s{\"k\":%d}", k ? "," : "", k);
	buf_adds(&big, "]");
	parse_ok(&j, big.p);
	assert_int_equal(j.ntok, 1 + 2000 * 3);
	assert_true(j.cap >= j.ntok);
	tok = j.tok;
	cap = j.cap;
	for (k = 0; k < 3000; k++) {
		char doc[64];
		int64_t v;

		snprintf(doc, sizeof(doc), "{\"a\":[%d,{\"b\":\"x\"}]}", k);
		if (k % 7 == 3) {
			assert_int_equal(json_parse(&j, doc, strlen(doc) - 1, NULL, 0), -1);
			assert_int_equal(j.ntok, 0);
			continue;
		}
		parse_ok(&j, doc);
		assert_int_equal(j.ntok, 7);
		assert_int_equal(json_i64(&j, json_first(&j, json_get(&j, 0, "a")), &v), 0);
		assert_int_equal(v, k);
	}
	/* Small documents never shrank or moved the array. */
	assert_ptr_equal(j.tok, tok);
	assert_int_equal(j.cap, cap);
	parse_ok(&j, big.p);
	assert_ptr_equal(j.tok, tok);
	buf_free(&big);
	json_free(&j);
	assert_null(j.tok);
	assert_int_equal(j.cap, 0);
	parse_ok(&j, "[1]");		/* usable again after json_free */
	json_free(&j);
}

static void
test_depth(void **state)
{
	struct json j = { 0 };
	char *s;
	size_t n = 100000, k;
	const char *msg;
	clock_t t0;

	(void)state;
	s = xmalloc(2 * n + 16);
	/* JSON_MAX_DEPTH levels are fine... */
	for (k = 0; k < JSON_MAX_DEPTH; k++) {
		s[k] = '[';
		s[JSON_MAX_DEPTH + k] = ']';
	}
	s[2 * JSON_MAX_DEPTH] = '\0';
	parse_ok(&j, s);
	assert_int_equal(j.ntok, JSON_MAX_DEPTH);
	/* ...one more is rejected at the bracket that goes too deep. */
	memmove(s + 1, s, 2 * JSON_MAX_DEPTH + 1);
	s[0] = '[';
	s[2 * JSON_MAX_DEPTH + 1] = ']';
	s[2 * JSON_MAX_DEPTH + 2] = '\0';
	assert_string_equal(parse_bad(s), "invalid JSON at byte 512: nesting too deep");
	/* 100,000 '[' and 100,000 '{"a":' fail fast without recursion or huge allocations. */
	t0 = clock();
	memset(s, '[', n);
	assert_string_equal(parse_bad_n(s, n), "invalid JSON at byte 512: nesting too deep");
	free(s);
	s = xmalloc(5 * n);
	for (k = 0; k < n; k++)
		memcpy(s + 5 * k, "{\"a\":", 5);
	msg = parse_bad_n(s, 5 * n);
	assert_string_equal(msg, "invalid JSON at byte 2560: nesting too deep");
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
	free(s);
	json_free(&j);
}

/* Texts jsmn 1.1.0 (strict, parent links) accepts or mis-tokenizes; all must be rejected. */
static void
test_hostile(void **state)
{
	static const char *bad[] = {
		"[01]", "[-]", "[1.]", "[1e]", "[1e+]", "[.5]", "[+1]", "[-01]", "[0x1]",
		"[\"\x01\"]", "[\"\t\"]", "[\"\\a\"]", "[\"\\u12\"]", "[\"\\uZZZZ\"]",
		"[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\ud800\\u0041\"]", "[\"\\ud800x\"]",
		"[\"\\udc00\\ud800\"]", "{\"\\ud800\":1}",
		"[\"\xC0\x80\"]", "[\"\xE0\x80\x80\"]", "[\"\xF0\x80\x80\x80\"]", "[\"\xC1\xBF\"]",
		"[\"\xED\xA0\x80\"]", "[\"\xF4\x90\x80\x80\"]", "[\"\xF5\x80\x80\x80\"]",
		"[\"\x80\"]", "[\"\xE2\x82\"]", "[\"\xFF\"]", "[\"\xF0\x9F\x98\"]",
		"[1]x", "[1] [2]", "{} {}", "\"a\" \"b\"", "1 2", "[1,]", "[,1]", "[1 2]", "[1,,2]",
		"{\"a\":1,}", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "{1:2}", "{\"a\"}", "{\"a\":}",
		"[\"a\":1]", "{,}", "[}", "{]", "]", "}", "[", "{", "\"", "[\"", "tru", "nul",
		"True", "NULL", "[true1]", "[nulll]", "[1true]", "[\"a\"\"b\"]", "{\"a\":1:2}",
		"[\f]", "[\v1]", "\xEF\xBB\xBF[]", "\xEF\xBB", "[1]\xEF\xBB\xBF", "'a'", "[NaN]",
		"[Infinity]", "[-Infinity]", "/* */[]", "[]//", "[\"\\",
	};
	static const struct {
		const char	*s;
		size_t		 n;
	} nul[] = {
		{ "[1]\0", 4 }, { "[\"a\0\"]", 6 }, { "\0", 1 }, { "[1,\0 2]", 7 }, { "{\"a\0\":1}", 8 },
	};
	struct json j = { 0 };
	char big[8] = "[1]";
	char err[128];
	size_t k;

	(void)state;
	for (k = 0; k < ARRAY_LEN(bad); k++)
		parse_bad(bad[k]);
	/* jsmn stops at a NUL; the validator must not. */
	for (k = 0; k < ARRAY_LEN(nul); k++)
		parse_bad_n(nul[k].s, nul[k].n);
	/* jsmn's int positions cap documents below 2 GiB; the text is not even read. */
	assert_int_equal(json_parse(&j, big, (size_t)INT_MAX + 10, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too large"));
	assert_int_equal(json_parse(&j, big, (size_t)INT_MAX, err, sizeof(err)), -1);
	/* Bounds: accessors with nonsense indexes on a good document. */
	parse_ok(&j, "{\"a\":[1]}");
	assert_int_equal(json_get(&j, INT_MAX, "a"), -1);
	assert_int_equal(json_get(&j, INT_MIN, "a"), -1);
	assert_int_equal(json_next(&j, 0, INT_MAX), -1);
	assert_int_equal(json_first(&j, INT_MAX), -1);
	json_free(&j);
	/* A zeroed struct json answers -1 everywhere. */
	assert_int_equal(json_get(&j, 0, "a"), -1);
	assert_int_equal(json_first(&j, 0), -1);
	assert_int_equal(json_skip(&j, 0), -1);
	assert_false(json_is_object(&j, 0));
}

/* The inverse: unusual but valid texts that must be accepted. */
static void
test_valid_edges(void **state)
{
	static const char *good[] = {
		"[-0]", "[0.0e+0]", "[1E-2]", "[-1.25e10]", "[\"\\u0000\"]", "[\"\x7F\"]",
		"[\"\xF4\x8F\xBF\xBF\"]", "[\"\xEF\xBF\xBF\"]", "[\"\\uFFFF\"]", "[\"\\uDBFF\\uDFFF\"]",
		" \t\r\n[ \t\r\n1 \t\r\n, \t\r\n2 \t\r\n] \t\r\n", "{\"\":\"\"}", "[[],[[]],{}]",
		"{\"a\":{\"a\":{\"a\":[]}}}", "\"\\/\"", "0", "-1e-1",
	};
	struct json j = { 0 };
	size_t k;

	(void)state;
	for (k = 0; k < ARRAY_LEN(good); k++) {
		parse_ok(&j, good[k]);
		assert_int_equal(json_skip(&j, 0), j.ntok);
	}
	json_free(&j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types_and_counts),
		cmocka_unit_test(test_root_scalars),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_get_escaped_keys),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_get_ci_and_path),
		cmocka_unit_test(test_iteration),
		cmocka_unit_test(test_iteration_large),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_i64),
		cmocka_unit_test(test_double),
		cmocka_unit_test(test_fixtures_all_parse),
		cmocka_unit_test(test_fixture_values),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_valid_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
