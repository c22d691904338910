/*
 * usertoken_store.c — the user tokens of Sync now, encrypted (AES-256-GCM under the token key)
 * in the store's "utoken" kv space (include/usertoken_store.h).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "usertoken_store.h"
#include "util.h"

#define UT_VERSION	1
#define UT_HEAD		(1 + 8 + 8 + 4)
#define UT_IV		12
#define UT_TAG		16
#define UT_KEYLEN	32
#define UT_AAD_LABEL	"peoplesync-utoken-v1"

void
utoken_free(struct utoken *u)
{
	if (u != NULL) {
		oauth_tokens_free(&u->tok);
		free(u->team_id);
		free(u->user_id);
		memset(u, 0, sizeof(*u));
	}
}

/* Frees a buffer that held clear text, wiped first. */
static void
wipe_buf(struct buf *b)
{
	if (b->p)
		explicit_bzero(b->p, b->cap);
	buf_free(b);
}

static void
put_be(unsigned char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t
get_be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void
utoken_key(struct buf *k, enum platform p, const char *team, const char *user)
{
	buf_reset(k);
	buf_printf(k, "%s|%s|%s", platform_name(p), team, user);
}

static void
aad_of(struct buf *aad, const struct buf *key, const unsigned char *head)
{
	buf_reset(aad);
	buf_add(aad, UT_AAD_LABEL, sizeof(UT_AAD_LABEL));	/* with its NUL: a separator */
	buf_add(aad, key->p, key->len);
	buf_addc(aad, '\0');
	buf_add(aad, head, UT_HEAD);
}

static void
add_str(struct buf *b, const char *s)
{
	unsigned char n[4];
	size_t len = s ? strlen(s) : 0;

	put_be(n, s ? len : 0xffffffffu, 4);
	buf_add(b, n, 4);
	if (s)
		buf_add(b, s, len);
}

static int
get_str(const unsigned char **p, const unsigned char *end, char **out)
{
	uint32_t n;

	*out = NULL;
	if (end - *p < 4)
		return -1;
	n = (uint32_t)get_be(*p, 4);
	*p += 4;
	if (n == 0xffffffffu)
		return 0;
	if ((size_t)(end - *p) < n)
		return -1;
	*out = xstrndup((const char *)*p, n);
	*p += n;
	return 0;
}

int
utoken_put(const struct config *cfg, struct txn *t, const struct utoken *u)
{
	struct buf key = { 0 }, pt = { 0 }, aad = { 0 }, val = { 0 };
	unsigned char head[UT_HEAD], iv[UT_IV], tag[UT_TAG], re[8];
	EVP_CIPHER_CTX *ctx = NULL;
	int len, rc = -1;

	if (cfg->token_key == NULL || cfg->token_key_len < UT_KEYLEN)
		return -1;
	utoken_key(&key, u->platform, u->team_id, u->user_id);
	head[0] = UT_VERSION;
	put_be(head + 1, u->person_id, 8);
	put_be(head + 9, (uint64_t)u->tok.expires, 8);
	put_be(head + 17, u->flags, 4);
	add_str(&pt, u->tok.access);
	add_str(&pt, u->tok.refresh);
	put_be(re, (uint64_t)u->tok.refresh_expires, 8);
	buf_add(&pt, re, 8);
	aad_of(&aad, &key, head);
	random_bytes(iv, sizeof(iv));

	buf_add(&val, head, UT_HEAD);
	buf_add(&val, iv, UT_IV);
	buf_reserve(&val, pt.len + UT_TAG);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, UT_IV, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, cfg->token_key, iv) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &len, (unsigned char *)aad.p, (int)aad.len) != 1 ||
	    EVP_EncryptUpdate(ctx, (unsigned char *)val.p + val.len, &len,
	    (unsigned char *)pt.p, (int)pt.len) != 1)
		goto out;
	val.len += (size_t)len;
	if (EVP_EncryptFinal_ex(ctx, (unsigned char *)val.p + val.len, &len) != 1)
		goto out;
	val.len += (size_t)len;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, UT_TAG, tag) != 1)
		goto out;
	buf_add(&val, tag, UT_TAG);
	rc = store_utoken_put(t, key.p, key.len, val.p, val.len);
out:
	EVP_CIPHER_CTX_free(ctx);
	wipe_buf(&pt);
	buf_free(&key);
	buf_free(&aad);
	buf_free(&val);
	return rc;
}

/* Decrypts one record (key bytes k, value v) into out; 0 or -1. */
static int
utoken_open(const struct config *cfg, const void *k, size_t klen, const void *v, size_t vlen,
    struct utoken *out)
{
	const unsigned char *val = v, *p, *end;
	struct buf key = { 0 }, aad = { 0 }, pt = { 0 };
	EVP_CIPHER_CTX *ctx = NULL;
	const char *bar1, *bar2;
	char *ks = NULL, *pn = NULL;
	size_t ctlen;
	int len, rc = -1;
	enum platform pl;

	memset(out, 0, sizeof(*out));
	if (cfg->token_key == NULL || cfg->token_key_len < UT_KEYLEN ||
	    vlen < UT_HEAD + UT_IV + UT_TAG || val[0] != UT_VERSION)
		return -1;
	ks = xstrndup(k, klen);
	bar1 = strchr(ks, '|');
	bar2 = strrchr(ks, '|');
	if (bar1 == NULL || bar2 == bar1)
		goto out;
	pn = xstrndup(ks, (size_t)(bar1 - ks));
	if (platform_parse(pn, &pl) < 0)
		goto out;
	buf_add(&key, k, klen);
	aad_of(&aad, &key, val);
	ctlen = vlen - UT_HEAD - UT_IV - UT_TAG;
	buf_reserve(&pt, ctlen + 16);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, UT_IV, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, cfg->token_key, val + UT_HEAD) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &len, (unsigned char *)aad.p, (int)aad.len) != 1 ||
	    EVP_DecryptUpdate(ctx, (unsigned char *)pt.p, &len, val + UT_HEAD + UT_IV,
	    (int)ctlen) != 1)
		goto out;
	pt.len = (size_t)len;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, UT_TAG,
	    (void *)(val + vlen - UT_TAG)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)pt.p + pt.len, &len) != 1)
		goto out;		/* wrong key or altered record */
	pt.len += (size_t)len;
	p = (const unsigned char *)pt.p;
	end = p + pt.len;
	if (get_str(&p, end, &out->tok.access) < 0 || get_str(&p, end, &out->tok.refresh) < 0 ||
	    end - p != 8 || out->tok.access == NULL)
		goto out;
	out->tok.refresh_expires = (int64_t)get_be(p, 8);
	out->platform = pl;
	out->team_id = xstrndup(bar1 + 1, (size_t)(bar2 - bar1 - 1));
	out->user_id = xstrdup(bar2 + 1);
	out->person_id = get_be(val + 1, 8);
	out->tok.expires = (int64_t)get_be(val + 9, 8);
	out->flags = (uint32_t)get_be(val + 17, 4);
	rc = 0;
out:
	if (rc < 0)
		utoken_free(out);
	EVP_CIPHER_CTX_free(ctx);
	wipe_buf(&pt);
	buf_free(&key);
	buf_free(&aad);
	free(ks);
	free(pn);
	return rc;
}

int
utoken_get(const struct config *cfg, struct txn *t, enum platform p, const char *team,
    const char *user, struct utoken *out)
{
	struct buf key = { 0 }, val = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	utoken_key(&key, p, team, user);
	rc = store_utoken_get(t, key.p, key.len, &val);
	if (rc == 0 && utoken_open(cfg, key.p, key.len, val.p, val.len, out) < 0)
		rc = -1;
	buf_free(&key);
	buf_free(&val);
	return rc;
}

struct each_ctx {
	const struct config	*cfg;
	utoken_cb		 cb;
	void			*arg;
};

static int
each_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct each_ctx *e = arg;
	struct utoken u;
	int r;

	if (utoken_open(e->cfg, key, klen, val, vlen, &u) < 0) {
		log_warn("utoken: a stored user token (%.*s) does not decrypt with token_key_file; "
		    "skipped", (int)(klen > 200 ? 200 : klen), (const char *)key);
		return 0;
	}
	r = e->cb(&u, e->arg);
	utoken_free(&u);
	return r;
}

int
utoken_each(const struct config *cfg, struct txn *t, utoken_cb cb, void *arg)
{
	struct each_ctx e = { cfg, cb, arg };

	return store_utoken_each(t, each_cb, &e) < 0 ? -1 : 0;
}
