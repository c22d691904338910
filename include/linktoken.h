/*
 * linktoken.h — the signed "Sync now" link: public_url/s/<token>.
 *
 * A token is base64url without padding (RFC 4648 §5) of 65 bytes:
 *	version (1 byte, 1) | person id (8, big-endian) | expires (8, big-endian, unix seconds) |
 *	nonce (16 random bytes) | HMAC-SHA-256 under cfg->link_key of the 33 bytes before (32)
 * so it is LINKTOKEN_LEN (87) characters of [A-Za-z0-9_-]. Nothing in it is secret but the
 * key; the nonce makes a link single-use once its Sync now flow completed (serve marks the
 * nonce in store_kv space "nonce").
 */
#ifndef PS_LINKTOKEN_H
#define PS_LINKTOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "util.h"

#define LINKTOKEN_NONCE_LEN	16
#define LINKTOKEN_LEN		87		/* characters of a token */
#define LINKTOKEN_BUFSZ		(LINKTOKEN_LEN + 1)

/* What linktoken_verify found; the serve pages map them to 400, 403 and 410. */
enum linktoken_status {
	LT_OK = 0,
	LT_MALFORMED,		/* not base64url, wrong length or version */
	LT_BADSIG,		/* well-formed, but not signed with this key (tampered, forged) */
	LT_EXPIRED,		/* genuine, but its expiry has passed */
	LT_NOKEY		/* cfg->link_key is not set (link_key_file missing from config) */
};
const char *linktoken_status_name(enum linktoken_status s);	/* "malformed", ... */

/*
 * Writes a new token for person_id, valid until expires, with a fresh random nonce, into
 * out (NUL-terminated). Returns 0, or -1 (LT_NOKEY) when cfg has no link key.
 */
int	linktoken_make(const struct config *cfg, uint64_t person_id, time_t expires,
	    char out[LINKTOKEN_BUFSZ]);

/*
 * Checks token against cfg->link_key (constant-time comparison of the MAC) and its expiry
 * against now. Returns an enum linktoken_status. person_id, expires and nonce_out (each may
 * be NULL) are set for LT_OK and LT_EXPIRED only, i.e. only from a genuine token.
 */
int	linktoken_verify(const struct config *cfg, const char *token, time_t now,
	    uint64_t *person_id, time_t *expires, unsigned char nonce_out[LINKTOKEN_NONCE_LEN]);

/* The whole link: public_url (without a trailing '/') + "/s/" + a new token, appended to
 * out. Returns 0 or -1 as linktoken_make. */
int	linktoken_url(const struct config *cfg, uint64_t person_id, time_t expires,
	    struct buf *out);

/* base64url without padding. Decoding is strict: only [A-Za-z0-9_-], no '=', no length
 * that is 1 mod 4, and the unused low bits of the last character must be zero (so one
 * byte string has exactly one encoding). Returns 0 and *outlen, or -1 (also when the
 * decoded bytes would exceed cap). */
void	b64url_encode(struct buf *out, const void *data, size_t n);
int	b64url_decode(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen);

#endif
