/*
 * linktoken.c — signed, expiring, single-use "Sync now" links (include/linktoken.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "linktoken.h"

#define LT_VERSION	1
#define LT_BODY		(1 + 8 + 8 + LINKTOKEN_NONCE_LEN)	/* signed part */
#define LT_MAC		32
#define LT_RAW		(LT_BODY + LT_MAC)

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const char *
linktoken_status_name(enum linktoken_status s)
{
	switch (s) {
	case LT_OK:
		return "valid";
	case LT_MALFORMED:
		return "malformed";
	case LT_BADSIG:
		return "bad signature";
	case LT_EXPIRED:
		return "expired";
	case LT_NOKEY:
		return "no link key";
	}
	return "?";
}

void
b64url_encode(struct buf *out, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t i;

	buf_reserve(out, (n + 2) / 3 * 4);
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		buf_addc(out, b64url[v >> 18 & 63]);
		buf_addc(out, b64url[v >> 12 & 63]);
		buf_addc(out, b64url[v >> 6 & 63]);
		buf_addc(out, b64url[v & 63]);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		buf_addc(out, b64url[v >> 18 & 63]);
		buf_addc(out, b64url[v >> 12 & 63]);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		buf_addc(out, b64url[v >> 18 & 63]);
		buf_addc(out, b64url[v >> 12 & 63]);
		buf_addc(out, b64url[v >> 6 & 63]);
	}
}

static int
b64url_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int
b64url_decode(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0;

	if (n % 4 == 1 || n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > cap)
		return -1;
	for (i = 0; i < n; i++) {
		int v = b64url_val((unsigned char)s[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	/* leftover bits must be zero: otherwise two strings would decode to the same bytes */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return -1;
	*outlen = o;
	return 0;
}

static void
mac(const struct config *cfg, const unsigned char *body, unsigned char out[LT_MAC])
{
	unsigned int len = LT_MAC;

	if (HMAC(EVP_sha256(), cfg->link_key, (int)cfg->link_key_len, body, LT_BODY, out,
	    &len) == NULL || len != LT_MAC) {
		fputs("peoplesync: HMAC-SHA-256 failed\n", stderr);
		abort();
	}
}

int
linktoken_make(const struct config *cfg, uint64_t person_id, time_t expires,
    char out[LINKTOKEN_BUFSZ])
{
	unsigned char raw[LT_RAW];
	struct buf b = { 0 };

	out[0] = '\0';
	if (cfg->link_key == NULL || cfg->link_key_len == 0)
		return -1;
	raw[0] = LT_VERSION;
	put_be64(raw + 1, person_id);
	put_be64(raw + 9, (uint64_t)(int64_t)expires);
	random_bytes(raw + 17, LINKTOKEN_NONCE_LEN);
	mac(cfg, raw, raw + LT_BODY);
	b64url_encode(&b, raw, sizeof(raw));
	memcpy(out, b.p, b.len + 1);		/* b.len == LINKTOKEN_LEN */
	buf_free(&b);
	return 0;
}

int
linktoken_verify(const struct config *cfg, const char *token, time_t now,
    uint64_t *person_id, time_t *expires, unsigned char nonce_out[LINKTOKEN_NONCE_LEN])
{
	unsigned char raw[LT_RAW], want[LT_MAC];
	size_t n, len;
	time_t exp;

	if (cfg->link_key == NULL || cfg->link_key_len == 0)
		return LT_NOKEY;
	if (token == NULL)
		return LT_MALFORMED;
	n = strnlen(token, LINKTOKEN_LEN + 1);
	if (n != LINKTOKEN_LEN || b64url_decode(token, n, raw, sizeof(raw), &len) < 0 ||
	    len != LT_RAW || raw[0] != LT_VERSION)
		return LT_MALFORMED;
	mac(cfg, raw, want);
	if (CRYPTO_memcmp(want, raw + LT_BODY, LT_MAC) != 0)
		return LT_BADSIG;
	exp = (time_t)(int64_t)get_be64(raw + 9);
	if (person_id)
		*person_id = get_be64(raw + 1);
	if (expires)
		*expires = exp;
	if (nonce_out)
		memcpy(nonce_out, raw + 17, LINKTOKEN_NONCE_LEN);
	return now >= exp ? LT_EXPIRED : LT_OK;
}

int
linktoken_url(const struct config *cfg, uint64_t person_id, time_t expires, struct buf *out)
{
	char tok[LINKTOKEN_BUFSZ];
	size_t n = cfg->public_url ? strlen(cfg->public_url) : 0;

	if (linktoken_make(cfg, person_id, expires, tok) < 0)
		return -1;
	while (n > 0 && cfg->public_url[n - 1] == '/')
		n--;
	buf_add(out, cfg->public_url ? cfg->public_url : "", n);
	buf_adds(out, "/s/");
	buf_adds(out, tok);
	return 0;
}
