/*
 * test_linktoken.c — the signed Sync now link: make/verify round trip, a changed character or
 * bit anywhere, expiry, another key, truncation and garbage; base64url's strictness.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "linktoken.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static unsigned char key1[32], key2[32];

static void
cfg_with(struct config *c, unsigned char *key, size_t len)
{
	memset(c, 0, sizeof(*c));
	c->link_key = key;
	c->link_key_len = len;
	c->public_url = "https://sync.example.com/";
}

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < 32; i++) {
		key1[i] = (unsigned char)(i * 7 + 1);
		key2[i] = (unsigned char)(i * 7 + 2);
	}
	return 0;
}

static void
test_roundtrip(void **state)
{
	struct config c;
	char a[LINKTOKEN_BUFSZ], b[LINKTOKEN_BUFSZ];
	unsigned char n1[LINKTOKEN_NONCE_LEN], n2[LINKTOKEN_NONCE_LEN];
	uint64_t pid = 0;
	time_t exp = 0;

	(void)state;
	cfg_with(&c, key1, sizeof(key1));
	assert_int_equal(linktoken_make(&c, 0x0102030405060708ull, 2000000000, a), 0);
	assert_int_equal(strlen(a), LINKTOKEN_LEN);
	assert_int_equal(strspn(a, alphabet), LINKTOKEN_LEN);
	assert_int_equal(linktoken_verify(&c, a, 1999999999, &pid, &exp, n1), LT_OK);
	assert_true(pid == 0x0102030405060708ull);
	assert_true(exp == 2000000000);
	/* the same person and expiry again: another nonce, another token, both valid */
	assert_int_equal(linktoken_make(&c, 0x0102030405060708ull, 2000000000, b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(linktoken_verify(&c, b, 1000, NULL, NULL, n2), LT_OK);
	assert_memory_not_equal(n1, n2, LINKTOKEN_NONCE_LEN);
	/* person ids and expiries at the edges */
	assert_int_equal(linktoken_make(&c, 1, 1, a), 0);
	assert_int_equal(linktoken_verify(&c, a, 0, &pid, &exp, NULL), LT_OK);
	assert_true(pid == 1 && exp == 1);
	assert_int_equal(linktoken_make(&c, UINT64_MAX, (time_t)INT64_MAX, a), 0);
	assert_int_equal(linktoken_verify(&c, a, 2000000000, &pid, &exp, NULL), LT_OK);
	assert_true(pid == UINT64_MAX);
}

/* Every other character at every position: never valid, never "expired". */
static void
test_tampered_character_anywhere(void **state)
{
	struct config c;
	char tok[LINKTOKEN_BUFSZ], bad[LINKTOKEN_BUFSZ];
	int tried = 0;

	(void)state;
	cfg_with(&c, key1, sizeof(key1));
	assert_int_equal(linktoken_make(&c, 42, 2000000000, tok), 0);
	for (int i = 0; i < LINKTOKEN_LEN; i++) {
		for (int k = 0; k < 64; k++) {
			int r;
			if (alphabet[k] == tok[i])
				continue;
			memcpy(bad, tok, sizeof(tok));
			bad[i] = alphabet[k];
			r = linktoken_verify(&c, bad, 1000, NULL, NULL, NULL);
			if (r != LT_BADSIG && r != LT_MALFORMED)
				fail_msg("position %d char %c: %s", i, alphabet[k],
				    linktoken_status_name(r));
			tried++;
		}
	}
	assert_int_equal(tried, LINKTOKEN_LEN * 63);
}

/* Every bit of the decoded bytes: the version byte makes it malformed, any other bit a bad
 * signature (the MAC covers person, expiry and nonce; the MAC itself is compared). */
static void
test_tampered_bit_anywhere(void **state)
{
	struct config c;
	char tok[LINKTOKEN_BUFSZ];
	unsigned char raw[65];
	size_t n;

	(void)state;
	cfg_with(&c, key1, sizeof(key1));
	assert_int_equal(linktoken_make(&c, 42, 2000000000, tok), 0);
	assert_int_equal(b64url_decode(tok, strlen(tok), raw, sizeof(raw), &n), 0);
	assert_int_equal(n, 65);
	for (size_t byte = 0; byte < n; byte++) {
		for (int bit = 0; bit < 8; bit++) {
			struct buf b = { 0 };
			raw[byte] ^= (unsigned char)(1u << bit);
			b64url_encode(&b, raw, n);
			assert_int_equal(linktoken_verify(&c, b.p, 1000, NULL, NULL, NULL),
			    byte == 0 ? LT_MALFORMED : LT_BADSIG);
			raw[byte] ^= (unsigned char)(1u << bit);
			buf_free(&b);
		}
	}
	/* a later expiry written into a genuine token does not verify */
	raw[9 + 7] ^= 0x40;
	{
		struct buf b = { 0 };
		b64url_encode(&b, raw, n);
		assert_int_equal(linktoken_verify(&c, b.p, 2000000000 + 100, NULL, NULL, NULL),
		    LT_BADSIG);
		buf_free(&b);
	}
}

static void
test_expired(void **state)
{
	struct config c;
	char tok[LINKTOKEN_BUFSZ];
	unsigned char nonce[LINKTOKEN_NONCE_LEN] = { 0 }, zero[LINKTOKEN_NONCE_LEN] = { 0 };
	uint64_t pid = 0;
	time_t exp = 0;

	(void)state;
	cfg_with(&c, key1, sizeof(key1));
	assert_int_equal(linktoken_make(&c, 7, 1700000000, tok), 0);
	assert_int_equal(linktoken_verify(&c, tok, 1699999999, NULL, NULL, NULL), LT_OK);
	assert_int_equal(linktoken_verify(&c, tok, 1700000000, &pid, &exp, nonce), LT_EXPIRED);
	/* genuine but expired: what it names is reported */
	assert_true(pid == 7 && exp == 1700000000);
	assert_memory_not_equal(nonce, zero, sizeof(nonce));
	assert_int_equal(linktoken_verify(&c, tok, 1800000000, NULL, NULL, NULL), LT_EXPIRED);
}

static void
test_wrong_key(void **state)
{
	struct config c1, c2, c3;
	char tok[LINKTOKEN_BUFSZ];
	uint64_t pid = 99;

	(void)state;
	cfg_with(&c1, key1, sizeof(key1));
	cfg_with(&c2, key2, sizeof(key2));
	cfg_with(&c3, key1, 31);		/* a prefix of the key is another key */
	assert_int_equal(linktoken_make(&c1, 5, 2000000000, tok), 0);
	assert_int_equal(linktoken_verify(&c2, tok, 1000, &pid, NULL, NULL), LT_BADSIG);
	assert_true(pid == 99);			/* nothing reported from a forged token */
	assert_int_equal(linktoken_verify(&c3, tok, 1000, NULL, NULL, NULL), LT_BADSIG);
	/* no key at all */
	cfg_with(&c3, NULL, 0);
	assert_int_equal(linktoken_make(&c3, 5, 2000000000, tok), -1);
	assert_string_equal(tok, "");
	assert_int_equal(linktoken_verify(&c3, "x", 1000, NULL, NULL, NULL), LT_NOKEY);
}

static void
test_truncated_and_extended(void **state)
{
	struct config c;
	char tok[LINKTOKEN_BUFSZ], cut[LINKTOKEN_BUFSZ + 8];

	(void)state;
	cfg_with(&c, key1, sizeof(key1));
	assert_int_equal(linktoken_make(&c, 5, 2000000000, tok), 0);
	for (size_t n = 0; n < LINKTOKEN_LEN; n++) {
		memcpy(cut, tok, n);
		cut[n] = '\0';
		assert_int_equal(linktoken_verify(&c, cut, 1000, NULL, NULL, NULL), LT_MALFORMED);
	}
	snprintf(cut, sizeof(cut), "%sA", tok);
	assert_int_equal(linktoken_verify(&c, cut, 1000, NULL, NULL, NULL), LT_MALFORMED);
	snprintf(cut, sizeof(cut), "%s=", tok);
	assert_int_equal(linktoken_verify(&c, cut, 1000, NULL, NULL, NULL), LT_MALFORMED);
}

static void
test_garbage(void **state)
{
	struct config c;
	char s[LINKTOKEN_BUFSZ];
	static const char *junk[] = {
		"", "x", "!!!!", "s/../../etc/passwd", "%41%41",
		"\xff\xfe\xfd", "AAAA AAAA", "AAAA\nAAAA",
	};

	(void)state;
	cfg_with(&c, key1, sizeof(key1));
	assert_int_equal(linktoken_verify(&c, NULL, 1000, NULL, NULL, NULL), LT_MALFORMED);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_int_equal(linktoken_verify(&c, junk[i], 1000, NULL, NULL, NULL),
		    LT_MALFORMED);
	/* right length, wrong characters */
	memset(s, '=', LINKTOKEN_LEN);
	s[LINKTOKEN_LEN] = '\0';
	assert_int_equal(linktoken_verify(&c, s, 1000, NULL, NULL, NULL), LT_MALFORMED);
	memset(s, '+', LINKTOKEN_LEN);
	assert_int_equal(linktoken_verify(&c, s, 1000, NULL, NULL, NULL), LT_MALFORMED);
	memset(s, 0x80, LINKTOKEN_LEN);
	assert_int_equal(linktoken_verify(&c, s, 1000, NULL, NULL, NULL), LT_MALFORMED);
	/* right length and alphabet: version 0 */
	memset(s, 'A', LINKTOKEN_LEN);
	assert_int_equal(linktoken_verify(&c, s, 1000, NULL, NULL, NULL), LT_MALFORMED);
	/* version 1 with a made-up MAC: "AQ" then zeros (the last character keeps its spare
	 * bits zero) */
	memcpy(s, "AQ", 2);
	assert_int_equal(linktoken_verify(&c, s, 1000, NULL, NULL, NULL), LT_BADSIG);
	/* random tokens of the right shape never pass */
	for (int i = 0; i < 2000; i++) {
		unsigned char raw[65];
		struct buf b = { 0 };
		random_bytes(raw, sizeof(raw));
		raw[0] = 1;
		b64url_encode(&b, raw, sizeof(raw));
		assert_int_equal(linktoken_verify(&c, b.p, 1000, NULL, NULL, NULL), LT_BADSIG);
		buf_free(&b);
	}
}

static void
test_url(void **state)
{
	struct config c;
	struct buf b = { 0 };
	uint64_t pid = 0;

	(void)state;
	cfg_with(&c, key1, sizeof(key1));
	assert_int_equal(linktoken_url(&c, 77, 2000000000, &b), 0);
	assert_int_equal(strncmp(b.p, "https://sync.example.com/s/", 27), 0);
	assert_int_equal(strlen(b.p), 27 + LINKTOKEN_LEN);
	assert_int_equal(linktoken_verify(&c, b.p + 27, 1000, &pid, NULL, NULL), LT_OK);
	assert_true(pid == 77);
	buf_free(&b);
	c.public_url = "http://127.0.0.1:8080";
	assert_int_equal(linktoken_url(&c, 77, 2000000000, &b), 0);
	assert_int_equal(strncmp(b.p, "http://127.0.0.1:8080/s/", 24), 0);
	buf_free(&b);
	cfg_with(&c, NULL, 0);
	assert_int_equal(linktoken_url(&c, 77, 2000000000, &b), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

/* RFC 4648 §10 vectors (in the URL alphabet, without padding) and strictness. */
static void
test_base64url(void **state)
{
	static const char *const v[][2] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
		{ "\xfb\xff\xbf", "-_-_" }, { "\xfb\xef", "--8" },
	};
	unsigned char out[16];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct buf b = { 0 };
		b64url_encode(&b, v[i][0], strlen(v[i][0]));
		assert_string_equal(b.p ? b.p : "", v[i][1]);
		assert_int_equal(b64url_decode(v[i][1], strlen(v[i][1]), out, sizeof(out), &n), 0);
		assert_int_equal(n, strlen(v[i][0]));
		assert_memory_equal(out, v[i][0], n);
		buf_free(&b);
	}
	assert_int_equal(b64url_decode("Zh", 2, out, sizeof(out), &n), -1);	/* spare bits */
	assert_int_equal(b64url_decode("Zm9", 3, out, sizeof(out), &n), -1);	/* "Zm8" is "fo" */
	assert_int_equal(b64url_decode("Zm9=", 4, out, sizeof(out), &n), -1);
	assert_int_equal(b64url_decode("Zm9vY", 5, out, sizeof(out), &n), -1);	/* 1 mod 4 */
	assert_int_equal(b64url_decode("Zm+v", 4, out, sizeof(out), &n), -1);	/* std alphabet */
	assert_int_equal(b64url_decode("Zm/v", 4, out, sizeof(out), &n), -1);
	assert_int_equal(b64url_decode("Zm9vYmFy", 8, out, 5, &n), -1);		/* cap */
	assert_int_equal(b64url_decode("Zm9vYmFy", 8, out, 6, &n), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_tampered_character_anywhere),
		cmocka_unit_test(test_tampered_bit_anywhere),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_truncated_and_extended),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_base64url),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
