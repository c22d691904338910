/*
 * fuzz_linktoken.c — libFuzzer target for the signed "Sync now" links (base/linktoken.c),
 * under a fixed test key:
 *  - the input as a token (a C string: up to its first NUL) through linktoken_verify: only a
 *    genuine token of this key may verify (LT_OK / LT_EXPIRED), never under another key, and
 *    the outputs are written for genuine tokens only;
 *  - the input through b64url_decode / b64url_encode: decoding is strict (one encoding per
 *    byte string) and encoding round-trips;
 *  - a token made from the input's first bytes (person id, expiry, now) verifies with what
 *    went in, and changing any one character of it (position and byte from the input),
 *    cutting it or lengthening it never verifies.
 *
 *	make fuzz FUZZ_TARGETS=fuzz_linktoken
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "linktoken.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_linktoken: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		abort();						\
	}								\
} while (0)

static unsigned char key[32] = "peoplesync fuzz link key 0123456";
static unsigned char other_key[32] = "peoplesync fuzz link key 0123457";

static uint64_t
be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int
genuine(int st)
{
	return st == LT_OK || st == LT_EXPIRED;
}

/* The input as a token, now = 1e9 (2001) so that tokens expiring later are valid. */
static void
check_verify(const struct config *cfg, const struct config *other, const char *tok)
{
	unsigned char nonce[LINKTOKEN_NONCE_LEN], raw[80];
	uint64_t pid = 42;
	time_t exp = 42;
	size_t rawlen;
	int st;

	memset(nonce, 0xa5, sizeof(nonce));
	st = linktoken_verify(cfg, tok, 1000000000, &pid, &exp, nonce);
	CHECK(st >= LT_OK && st <= LT_EXPIRED);
	if (!genuine(st)) {
		CHECK(pid == 42 && exp == 42 && nonce[0] == 0xa5 && nonce[15] == 0xa5);
		return;
	}
	CHECK(strlen(tok) == LINKTOKEN_LEN);
	CHECK(b64url_decode(tok, LINKTOKEN_LEN, raw, sizeof(raw), &rawlen) == 0 && rawlen == 65);
	CHECK(raw[0] == 1 && pid == be64(raw + 1) && (uint64_t)(int64_t)exp == be64(raw + 9));
	CHECK(memcmp(nonce, raw + 17, LINKTOKEN_NONCE_LEN) == 0);
	CHECK((st == LT_EXPIRED) == (exp <= 1000000000));
	CHECK(linktoken_verify(other, tok, 1000000000, NULL, NULL, NULL) == LT_BADSIG);
}

static void
check_b64(const uint8_t *data, size_t size)
{
	unsigned char *out = xmalloc(size + 1);
	struct buf enc = { 0 };
	size_t n = 0, m;

	if (b64url_decode((const char *)data, size, out, size, &n) == 0) {
		/* strict: the bytes encode back to exactly the input */
		CHECK(n <= size);
		b64url_encode(&enc, out, n);
		CHECK(enc.len == size && memcmp(enc.p, data, size) == 0);
		if (n > 0)
			CHECK(b64url_decode((const char *)data, size, out, n - 1, &m) < 0);
	}
	buf_reset(&enc);
	b64url_encode(&enc, data, size);
	CHECK(enc.len == size / 3 * 4 + (size % 3 ? size % 3 + 1 : 0));
	free(out);
	out = xmalloc(size + 1);
	CHECK(b64url_decode(enc.p, enc.len, out, size, &n) == 0 && n == size);
	CHECK(size == 0 || memcmp(out, data, size) == 0);
	buf_free(&enc);
	free(out);
}

static void
check_roundtrip(const struct config *cfg, const struct config *other, const uint8_t *data,
    size_t size)
{
	unsigned char p[20] = { 0 }, nonce[LINKTOKEN_NONCE_LEN];
	char tok[LINKTOKEN_BUFSZ], bad[LINKTOKEN_BUFSZ + 1];
	uint64_t pid, got_pid;
	time_t exp, now, got_exp;
	size_t pos;
	int st;

	memcpy(p, data, size < sizeof(p) ? size : sizeof(p));
	pid = be64(p);
	exp = (time_t)(int64_t)be64(p + 8);
	/* now: just before, at or just after the expiry, or far from it */
	now = (p[16] & 0x80) ? (time_t)(int64_t)((uint64_t)exp + (uint64_t)(int8_t)p[17]) :
	    (time_t)(int64_t)(be64(p + 9) >> 1);
	CHECK(linktoken_make(cfg, pid, exp, tok) == 0);
	CHECK(strlen(tok) == LINKTOKEN_LEN && strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
	    "klmnopqrstuvwxyz0123456789-_") == LINKTOKEN_LEN);
	st = linktoken_verify(cfg, tok, now, &got_pid, &got_exp, nonce);
	CHECK(st == (now >= exp ? LT_EXPIRED : LT_OK));
	CHECK(got_pid == pid && got_exp == exp);
	CHECK(linktoken_verify(other, tok, now, NULL, NULL, NULL) == LT_BADSIG);

	/* one character changed: to another character of the alphabet or to any byte */
	pos = p[18] % LINKTOKEN_LEN;
	memcpy(bad, tok, sizeof(tok));
	bad[pos] = (char)p[19];
	if (bad[pos] != tok[pos])
		CHECK(!genuine(linktoken_verify(cfg, bad, now, NULL, NULL, NULL)));
	for (const char *c = "AQgw_-09az"; *c; c++) {
		bad[pos] = *c;
		if (*c != tok[pos])
			CHECK(!genuine(linktoken_verify(cfg, bad, now, NULL, NULL, NULL)));
	}
	/* cut short, or one more character */
	memcpy(bad, tok, sizeof(tok));
	bad[pos] = '\0';
	CHECK(linktoken_verify(cfg, bad, now, NULL, NULL, NULL) == LT_MALFORMED);
	memcpy(bad, tok, LINKTOKEN_LEN);
	bad[LINKTOKEN_LEN] = 'A';
	bad[LINKTOKEN_LEN + 1] = '\0';
	CHECK(linktoken_verify(cfg, bad, now, NULL, NULL, NULL) == LT_MALFORMED);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg, other, nokey;
	char *tok;

	memset(&cfg, 0, sizeof(cfg));
	cfg.link_key = key;
	cfg.link_key_len = sizeof(key);
	other = cfg;
	other.link_key = other_key;
	memset(&nokey, 0, sizeof(nokey));

	tok = xmalloc(size + 1);
	memcpy(tok, data, size);
	tok[size] = '\0';
	check_verify(&cfg, &other, tok);
	CHECK(linktoken_verify(&nokey, tok, 0, NULL, NULL, NULL) == LT_NOKEY);
	free(tok);
	check_b64(data, size);
	check_roundtrip(&cfg, &other, data, size);
	return 0;
}
