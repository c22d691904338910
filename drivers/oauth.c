/*
 * oauth.c — the three platforms' OAuth for Sync now (include/oauth.h). The user tokens it
 * yields are stored by reconcile/usertoken_store.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "http.h"
#include "json.h"
#include "linktoken.h"
#include "oauth.h"
#include "util.h"

/* ---- small helpers ---- */

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
	if (t == NULL)
		return;
	wipe_free(t->access);
	wipe_free(t->refresh);
	memset(t, 0, sizeof(*t));
}

void
oauth_identity_free(struct oauth_identity *id)
{
	if (id == NULL)
		return;
	free(id->team_id);
	free(id->user_id);
	memset(id, 0, sizeof(*id));
}

const char *
oauth_platform_title(enum platform p)
{
	switch (p) {
	case PLAT_SLACK:
		return "Slack";
	case PLAT_TEAMS:
		return "Microsoft Teams";
	case PLAT_WEBEX:
		return "Webex";
	default:
		return "?";
	}
}

static const struct cfg_oauth *
oa(const struct config *cfg, enum platform p)
{
	return p == PLAT_SLACK ? &cfg->slack.oauth : p == PLAT_TEAMS ? &cfg->teams.oauth :
	    &cfg->webex.oauth;
}

static int
enabled(const struct config *cfg, enum platform p)
{
	return p == PLAT_SLACK ? cfg->slack.enabled : p == PLAT_TEAMS ? cfg->teams.enabled :
	    p == PLAT_WEBEX ? cfg->webex.enabled : 0;
}

int
oauth_configured(const struct config *cfg, enum platform p)
{
	const struct cfg_oauth *o;

	if ((int)p < 0 || p >= PLAT_COUNT || !enabled(cfg, p))
		return 0;
	o = oa(cfg, p);
	return o->client_id && o->client_secret && o->authorize_url && o->token_url;
}

void
oauth_random_string(char *out, size_t n)
{
	size_t nb = n * 3 / 4 + 3;
	unsigned char *raw = xmalloc(nb);
	struct buf b = { 0 };

	random_bytes(raw, nb);
	b64url_encode(&b, raw, nb);
	memcpy(out, b.p, n);
	out[n] = '\0';
	explicit_bzero(raw, nb);
	explicit_bzero(b.p, b.len);
	free(raw);
	buf_free(&b);
}

void
oauth_pkce_challenge(const char *verifier, char *out)
{
	unsigned char md[32];
	unsigned int mdlen = sizeof(md);
	struct buf b = { 0 };

	if (EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(), NULL) != 1) {
		fputs("peoplesync: SHA-256 failed\n", stderr);
		abort();
	}
	b64url_encode(&b, md, mdlen);
	memcpy(out, b.p, b.len + 1);		/* 43 characters */
	buf_free(&b);
}

static void
param(struct buf *b, const char *name, const char *value)
{
	if (b->len && b->p[b->len - 1] != '?' && b->p[b->len - 1] != '&')
		buf_addc(b, '&');
	buf_adds(b, name);
	buf_addc(b, '=');
	buf_urlencode(b, value, strlen(value));
}

void
oauth_authorize_url(const struct config *cfg, enum platform p, const char *redirect_uri,
    const char *state, const char *challenge, struct buf *out)
{
	const struct cfg_oauth *o = oa(cfg, p);
	const char *scopes = o->scopes ? o->scopes : "";

	buf_adds(out, o->authorize_url);
	buf_addc(out, strchr(o->authorize_url, '?') ? '&' : '?');
	param(out, "client_id", o->client_id);
	switch (p) {
	case PLAT_SLACK:
		param(out, "user_scope", scopes);
		param(out, "redirect_uri", redirect_uri);
		param(out, "state", state);
		break;
	case PLAT_TEAMS:
		param(out, "response_type", "code");
		param(out, "redirect_uri", redirect_uri);
		param(out, "response_mode", "query");
		param(out, "scope", scopes);
		param(out, "state", state);
		if (challenge) {
			param(out, "code_challenge", challenge);
			param(out, "code_challenge_method", "S256");
		}
		break;
	default:
		param(out, "response_type", "code");
		param(out, "redirect_uri", redirect_uri);
		param(out, "scope", scopes);
		param(out, "state", state);
		break;
	}
}

/* A platform's error code, made safe to show: [A-Za-z0-9_.-], at most 64 characters. */
static void
safe_code(const struct json *j, int tok, char *out, size_t outlen)
{
	char *s = json_strdup(j, tok);
	size_t i, o = 0;

	out[0] = '\0';
	if (s == NULL)
		return;
	for (i = 0; s[i] && o + 1 < outlen && o < 64; i++)
		if (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-')
			out[o++] = s[i];
	out[o] = '\0';
	free(s);
}

/* "Authorization: Basic base64(id:secret)" (standard base64 with padding). */
static char *
basic_auth(const struct cfg_oauth *o)
{
	char *pair = xasprintf("%s:%s", o->client_id, o->client_secret);
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

static int64_t
expiry(const struct json *j, int tok, int64_t now)
{
	int64_t v;

	if (tok < 0 || json_i64(j, tok, &v) < 0 || v <= 0)
		return 0;
	return now + v;
}

/*
 * POSTs form to platform p's token endpoint and parses the answer. On 0, resp and j hold the
 * answer (any status: the caller judges). The form is wiped afterwards (it holds secrets).
 */
static int
token_post(const struct config *cfg, enum platform p, struct buf *form, const char *what,
    struct http_resp *resp, struct json *j, char *err, size_t errlen)
{
	const struct cfg_oauth *o = oa(cfg, p);
	struct http_client *h = http_new(platform_name(p), cfg);
	char *basic = p == PLAT_SLACK ? basic_auth(o) : NULL;
	const char *hdrs[2] = { basic, NULL };
	int rc;

	rc = http_json(h, "POST", o->token_url, basic ? hdrs : NULL,
	    "application/x-www-form-urlencoded", form->p, form->len, what, resp, j, err, errlen);
	explicit_bzero(form->p, form->len);
	wipe_free(basic);
	http_free(h);
	return rc;
}

/* Fills tok from the token endpoint's answer object at obj (Teams, Webex, Slack refresh). */
static int
take_tokens(const struct json *j, int obj, struct oauth_tokens *tok, int64_t now)
{
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
	return 0;
}

/* GET url with the user's token; the id (and team, when team_key is set) of the answer. */
static int
whoami(const struct config *cfg, enum platform p, const char *url, const char *what,
    const char *access, const char *team_key, struct oauth_identity *id, char *err,
    size_t errlen)
{
	struct http_client *h = http_new(platform_name(p), cfg);
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	int rc = -1;

	http_set_bearer(h, access);
	if (http_json(h, "GET", url, NULL, NULL, NULL, 0, what, &resp, &j, err, errlen) < 0)
		goto out;
	if (resp.status != 200) {
		snprintf(err, errlen, "%s: %s: HTTP %ld", platform_name(p), what, resp.status);
		goto out;
	}
	id->user_id = json_strdup(&j, json_get(&j, 0, "id"));
	if (team_key)
		id->team_id = json_strdup(&j, json_get(&j, 0, team_key));
	else
		id->team_id = xstrdup(cfg->teams.tenant_id ? cfg->teams.tenant_id : "");
	if (id->user_id == NULL || *id->user_id == '\0' || id->team_id == NULL ||
	    *id->team_id == '\0') {
		snprintf(err, errlen, "%s: %s: no %s in the answer", platform_name(p), what,
		    id->user_id == NULL || *id->user_id == '\0' ? "id" : team_key);
		oauth_identity_free(id);
		goto out;
	}
	rc = 0;
out:
	json_free(&j);
	http_resp_free(&resp);
	http_free(h);
	return rc;
}

/* A failed token answer as "platform: what: code (detail)" or "HTTP n". */
static void
token_error(enum platform p, const char *what, const struct http_resp *resp,
    const struct json *j, char *code, size_t codelen, char *err, size_t errlen)
{
	char aad[32] = "";

	code[0] = '\0';
	if (j->ntok > 0) {
		safe_code(j, json_get(j, 0, "error"), code, codelen);
		if (p == PLAT_TEAMS) {
			int ec = json_get(j, 0, "error_codes");
			int64_t v;
			if (json_is_array(j, ec) && json_i64(j, json_first(j, ec), &v) == 0)
				snprintf(aad, sizeof(aad), " (AADSTS%lld)", (long long)v);
		}
	}
	if (code[0])
		snprintf(err, errlen, "%s: %s: %s%s (HTTP %ld)", platform_name(p), what, code,
		    aad, resp->status);
	else
		snprintf(err, errlen, "%s: %s: HTTP %ld", platform_name(p), what, resp->status);
}

int
oauth_exchange(const struct config *cfg, enum platform p, const char *code,
    const char *redirect_uri, const char *verifier, struct oauth_tokens *tok,
    struct oauth_identity *id, char *err, size_t errlen)
{
	const struct cfg_oauth *o = oa(cfg, p);
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	struct buf form = { 0 }, url = { 0 };
	char ecode[80], what[64];
	int64_t now = (int64_t)ps_now();
	int rc = -1;

	memset(tok, 0, sizeof(*tok));
	memset(id, 0, sizeof(*id));
	if (!oauth_configured(cfg, p)) {
		snprintf(err, errlen, "%s: OAuth is not configured (%s.oauth.client_id)",
		    platform_name(p), platform_name(p));
		return -1;
	}
	snprintf(what, sizeof(what), "POST %s (code exchange)", p == PLAT_SLACK ?
	    "oauth.v2.access" : p == PLAT_TEAMS ? "token" : "access_token");
	if (p != PLAT_SLACK) {
		param(&form, "client_id", o->client_id);
		param(&form, "client_secret", o->client_secret);
	}
	param(&form, "grant_type", "authorization_code");
	param(&form, "code", code);
	param(&form, "redirect_uri", redirect_uri);
	if (p == PLAT_TEAMS) {
		param(&form, "scope", o->scopes ? o->scopes : "");
		if (verifier)
			param(&form, "code_verifier", verifier);
	}
	if (token_post(cfg, p, &form, what, &resp, &j, err, errlen) < 0)
		goto out;

	if (p == PLAT_SLACK) {
		int ok = 0, au = json_get(&j, 0, "authed_user");
		if (resp.status != 200 || json_bool(&j, json_get(&j, 0, "ok"), &ok) < 0 || !ok) {
			token_error(p, what, &resp, &j, ecode, sizeof(ecode), err, errlen);
			goto out;
		}
		if (!json_is_object(&j, au) || take_tokens(&j, au, tok, now) < 0) {
			snprintf(err, errlen, "slack: %s: no user token in the answer (is "
			    "slack.oauth.scopes empty?)", what);
			goto out;
		}
		id->user_id = json_strdup(&j, json_get(&j, au, "id"));
		id->team_id = json_strdup(&j, json_path(&j, 0, "team.id"));
		if (id->user_id == NULL || *id->user_id == '\0' || id->team_id == NULL ||
		    *id->team_id == '\0') {
			snprintf(err, errlen, "slack: %s: no authed_user.id or team.id in the "
			    "answer", what);
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (resp.status != 200) {
		token_error(p, what, &resp, &j, ecode, sizeof(ecode), err, errlen);
		goto out;
	}
	if (take_tokens(&j, 0, tok, now) < 0) {
		snprintf(err, errlen, "%s: %s: no access_token in the answer", platform_name(p),
		    what);
		goto out;
	}
	if (p == PLAT_TEAMS) {
		buf_printf(&url, "%s/me?$select=id", cfg->teams.graph_url);
		rc = whoami(cfg, p, url.p, "GET /me", tok->access, NULL, id, err, errlen);
	} else {
		buf_printf(&url, "%s/people/me", cfg->webex.api_url);
		rc = whoami(cfg, p, url.p, "GET /people/me", tok->access, "orgId", id, err,
		    errlen);
	}
out:
	if (rc < 0) {
		oauth_tokens_free(tok);
		oauth_identity_free(id);
	}
	buf_free(&form);
	buf_free(&url);
	json_free(&j);
	http_resp_free(&resp);
	return rc;
}

int
oauth_refresh(const struct config *cfg, enum platform p, const char *refresh_token,
    struct oauth_tokens *tok, char *err, size_t errlen)
{
	static const char *const slack_dead[] = { "invalid_refresh_token", "invalid_grant",
	    "token_revoked", "token_expired", "invalid_auth", "account_inactive", NULL };
	const struct cfg_oauth *o = oa(cfg, p);
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	struct buf form = { 0 };
	char ecode[80], what[64];
	int64_t now = (int64_t)ps_now();
	int rc = -1;

	memset(tok, 0, sizeof(*tok));
	if (!oauth_configured(cfg, p)) {
		snprintf(err, errlen, "%s: OAuth is not configured (%s.oauth.client_id)",
		    platform_name(p), platform_name(p));
		return -1;
	}
	snprintf(what, sizeof(what), "POST %s (refresh)", p == PLAT_SLACK ? "oauth.v2.access" :
	    p == PLAT_TEAMS ? "token" : "access_token");
	if (p != PLAT_SLACK) {
		param(&form, "client_id", o->client_id);
		param(&form, "client_secret", o->client_secret);
	}
	param(&form, "grant_type", "refresh_token");
	param(&form, "refresh_token", refresh_token);
	if (p == PLAT_TEAMS)
		param(&form, "scope", o->scopes ? o->scopes : "");
	if (token_post(cfg, p, &form, what, &resp, &j, err, errlen) < 0)
		goto out;
	if (p == PLAT_SLACK) {
		int ok = 0, obj = 0;
		if (resp.status != 200 || json_bool(&j, json_get(&j, 0, "ok"), &ok) < 0 || !ok) {
			token_error(p, what, &resp, &j, ecode, sizeof(ecode), err, errlen);
			for (int i = 0; slack_dead[i]; i++)
				if (strcmp(ecode, slack_dead[i]) == 0)
					rc = -2;
			goto out;
		}
		/* rotated user tokens come at the top level; some answers nest authed_user */
		if (json_get(&j, 0, "access_token") < 0 &&
		    json_is_object(&j, json_get(&j, 0, "authed_user")))
			obj = json_get(&j, 0, "authed_user");
		if (take_tokens(&j, obj, tok, now) < 0) {
			snprintf(err, errlen, "slack: %s: no access_token in the answer", what);
			goto out;
		}
	} else {
		if (resp.status != 200) {
			token_error(p, what, &resp, &j, ecode, sizeof(ecode), err, errlen);
			if (p == PLAT_TEAMS && resp.status == 400 &&
			    (strcmp(ecode, "invalid_grant") == 0 ||
			    strcmp(ecode, "interaction_required") == 0))
				rc = -2;
			if (p == PLAT_WEBEX && resp.status == 400) {
				char *m = j.ntok > 0 ? json_strdup(&j, json_get(&j, 0, "message")) :
				    NULL;
				if (strcmp(ecode, "invalid_grant") == 0 ||
				    (m && strcasestr(m, "refresh token") != NULL))
					rc = -2;
				free(m);
			}
			goto out;
		}
		if (take_tokens(&j, 0, tok, now) < 0) {
			snprintf(err, errlen, "%s: %s: no access_token in the answer",
			    platform_name(p), what);
			goto out;
		}
	}
	if (tok->refresh == NULL)
		tok->refresh = xstrdup(refresh_token);	/* not rotated: the old one stays */
	rc = 0;
out:
	if (rc < 0)
		oauth_tokens_free(tok);
	buf_free(&form);
	json_free(&j);
	http_resp_free(&resp);
	return rc;
}
