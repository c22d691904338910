/*
 * tokens.c — the OAuth 2.0 token endpoint shared by the grants and the drivers' own
 * credentials: forms, answers, errors (include/tokens.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "json.h"
#include "tokens.h"

static void
wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
oauth_tokens_free(struct oauth_tokens *t)
{
	if (t != NULL) {
		wipe_free(t->access);
		wipe_free(t->refresh);
		free(t->scope);
		memset(t, 0, sizeof(*t));
	}
}

void
oauth_identity_free(struct oauth_identity *id)
{
	free(id->team_id);
	free(id->user_id);
	memset(id, 0, sizeof(*id));
}

void
token_param(struct buf *b, const char *name, const char *value)
{
	if (b->len && b->p[b->len - 1] != '?' && b->p[b->len - 1] != '&')
		buf_addc(b, '&');
	buf_adds(b, name);
	buf_addc(b, '=');
	buf_urlencode(b, value, strlen(value));
}

/* "Authorization: Basic base64(id:secret)" (standard base64 with padding). */
static char *
basic_auth(const char *id, const char *secret)
{
	char *pair = xasprintf("%s:%s", id, secret);
	size_t n = strlen(pair);
	unsigned char *enc = xmalloc(4 * ((n + 2) / 3) + 1);
	char *hdr;

	EVP_EncodeBlock(enc, (const unsigned char *)pair, (int)n);
	hdr = xasprintf("Authorization: Basic %s", enc);
	explicit_bzero(pair, n);
	explicit_bzero(enc, strlen((char *)enc));
	free(pair);
	free(enc);
	return hdr;
}

int
token_post(struct http_client *h, const char *url, const char *basic_id,
    const char *basic_secret, struct buf *form, const char *what, struct http_resp *resp,
    struct json *j, char *err, size_t errlen)
{
	char *basic = basic_id ? basic_auth(basic_id, basic_secret) : NULL;
	const char *hdrs[2] = { basic, NULL };
	int rc;

	rc = http_json(h, "POST", url, basic ? hdrs : NULL, "application/x-www-form-urlencoded",
	    form->p, form->len, what, resp, j, err, errlen);
	if (form->p)
		explicit_bzero(form->p, form->len);
	wipe_free(basic);
	return rc;
}

void
token_error_code(const struct json *j, char *code, size_t codelen)
{
	char *s = j->ntok > 0 ? json_strdup(j, json_get(j, 0, "error")) : NULL;
	size_t i, o = 0;

	for (i = 0; s && s[i] && o + 1 < codelen && o < 64; i++)
		if (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-')
			code[o++] = s[i];
	code[o] = '\0';
	free(s);
}

void
token_error(const char *name, const char *what, const struct http_resp *resp,
    const struct json *j, const char *detail, char *code, size_t codelen, char *err,
    size_t errlen)
{
	token_error_code(j, code, codelen);
	if (code[0])
		snprintf(err, errlen, "%s: %s: %s%s (HTTP %ld)", name, what, code,
		    detail ? detail : "", resp->status);
	else
		snprintf(err, errlen, "%s: %s: HTTP %ld", name, what, resp->status);
}

static int64_t
expiry(const struct json *j, int tok, int64_t now)
{
	int64_t v;

	if (tok < 0 || json_i64(j, tok, &v) < 0 || v <= 0)
		return 0;
	return now + v;
}

int
token_take(const struct json *j, int obj, int64_t now, struct oauth_tokens *tok)
{
	memset(tok, 0, sizeof(*tok));
	tok->access = json_strdup(j, json_get(j, obj, "access_token"));
	if (tok->access == NULL || *tok->access == '\0') {
		oauth_tokens_free(tok);
		return -1;
	}
	tok->refresh = json_strdup(j, json_get(j, obj, "refresh_token"));
	if (tok->refresh && *tok->refresh == '\0') {
		free(tok->refresh);
		tok->refresh = NULL;
	}
	tok->expires = expiry(j, json_get(j, obj, "expires_in"), now);
	tok->refresh_expires = expiry(j, json_get(j, obj, "refresh_token_expires_in"), now);
	tok->scope = json_strdup(j, json_get(j, obj, "scope"));
	return 0;
}
