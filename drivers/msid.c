/*
 * msid.c — the Microsoft identity platform for the Teams driver (drivers/graph_p.h): the
 * token endpoint {login_url}/{tenant}/oauth2/v2.0/token for the roster's app-only token and
 * the service user's delegated one (its rotated refresh token saved back), and the device
 * grant's endpoints that `login teams` uses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_p.h"
#include "json.h"
#include "linktoken.h"
#include "tokens.h"

#define JWT_PAYLOAD_MAX	16384

void
ms_zfree(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

/* {login_url}/{tenant}/oauth2/v2.0/<what> */
static char *
ms_url(const struct config *cfg, const char *what)
{
	struct buf url = { 0 };

	buf_printf(&url, "%s/", cfg->teams.login_url);
	buf_urlencode(&url, cfg->teams.tenant_id, strlen(cfg->teams.tenant_id));
	buf_printf(&url, "/oauth2/v2.0/%s", what);
	return url.p;
}

/*
 * The Microsoft identity platform's token endpoint, {login}/{tenant}/oauth2/v2.0/token: the
 * roster's app-only token (client credentials: refresh is NULL) and the service user's
 * delegated one (the refresh_token grant). On 0, tok holds the tokens (caller frees) and
 * *expires when to renew the access token (monotonic seconds: a minute before it expires).
 * On -1, err says why ("teams: POST token (client credentials): HTTP 401, error
 * invalid_client") with its class (FAIL_LATER: no answer; FAIL_CONFIG: refused; FAIL_DATA:
 * an answer without a token), and code holds the answer's error code, or "".
 */
static enum fail
ms_token(struct driver_ctx *ctx, const char *refresh, const char *scope, const char *what,
    struct oauth_tokens *tok, double *expires, char *code, size_t codelen, char *err,
    size_t errlen)
{
	const struct cfg_teams *t = &ctx->cfg->teams;
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	struct buf form = { 0 };
	char *url = ms_url(ctx->cfg, "token");
	int64_t now = (int64_t)ps_now(), in;
	enum fail rc = FAIL_LATER;

	code[0] = '\0';
	token_param(&form, "grant_type", refresh ? "refresh_token" : "client_credentials");
	token_param(&form, "client_id", t->client_id);
	/* The service user's refresh token comes from the device grant of `login teams`, a
	 * public client flow: Microsoft refuses a secret with it (AADSTS700025). */
	if (refresh)
		token_param(&form, "refresh_token", refresh);
	else
		token_param(&form, "client_secret", t->client_secret);
	token_param(&form, "scope", scope);
	http_set_bearer(ctx->http, NULL);
	if (token_post(ctx->http, url, NULL, NULL, &form, what, &resp, &j, err, errlen) < 0)
		goto out;
	rc = resp.status == 200 ? FAIL_DATA : FAIL_CONFIG;
	if (resp.status != 200 || j.ntok == 0) {
		token_error_code(&j, code, codelen);
		snprintf(err, errlen, "teams: %s: HTTP %ld%s%s", what, resp.status,
		    code[0] ? ", error " : "", code);
		goto out;
	}
	if (token_take(&j, 0, now, tok) < 0) {
		snprintf(err, errlen, "teams: %s: no access_token in the answer", what);
		goto out;
	}
	in = tok->expires ? tok->expires - now : 3599;
	*expires = ps_monotonic() + (double)(in > 120 ? in - 60 : in / 2);
	rc = FAIL_NONE;
out:
	buf_free(&form);
	free(url);
	json_free(&j);
	http_resp_free(&resp);
	return rc;
}

/* Client-credentials token, kept until a minute before it expires. FAIL_NONE, or the class
 * of the trouble (ms_token) with err set. */
enum fail
graph_token(struct driver_ctx *ctx, int force, char *err, size_t errlen)
{
	struct graph_priv *gp = ctx->priv;
	struct oauth_tokens tok = { 0 };
	char code[80];
	enum fail rc;

	if (!force && gp->token && ps_monotonic() < gp->expires)
		return FAIL_NONE;
	rc = ms_token(ctx, NULL, "https://graph.microsoft.com/.default",
	    "POST token (client credentials)", &tok, &gp->expires, code, sizeof(code), err,
	    errlen);
	if (rc == FAIL_NONE) {
		ms_zfree(&gp->token);
		gp->token = tok.access;
		tok.access = NULL;
	}
	if (gp->token)
		http_set_bearer(ctx->http, gp->token);
	oauth_tokens_free(&tok);
	return rc;
}

/*
 * Sending chat messages needs a delegated token (application permissions are not
 * supported): the service user's refresh token is exchanged for an access token; the answer
 * carries a new refresh token, which replaces the stored one atomically (mode 0600), so a
 * crash never leaves the file half-written or the old token lost. Returns enum dm_rc: with
 * no delegated token every prompt waits, none is the person's fault.
 */
int
graph_user_token(struct driver_ctx *ctx, int force, char *err, size_t errlen)
{
	struct graph_priv *gp = ctx->priv;
	const char *path = ctx->cfg->teams.service_user_refresh_token_file;
	struct oauth_tokens tok = { 0 };
	struct buf file = { 0 }, scope = { 0 };
	char code[80];
	int rc = DM_UNAVAILABLE;

	if (!force && gp->utoken && ps_monotonic() < gp->uexpires)
		return DM_OK;
	scopes_needed(ctx->cfg, SH_TEAMS_SERVICE, ' ', 1, &scope);
	if ((gp->ucls = ms_token(ctx, gp->refresh, scope.p, "POST token (refresh_token, service "
	    "user)", &tok, &gp->uexpires, code, sizeof(code), err, errlen)) != FAIL_NONE) {
		size_t n = strlen(err);

		if (strcmp(code, "invalid_grant") == 0 && n < errlen)
			snprintf(err + n, errlen - n, " (the service user must sign in again and "
			    "teams.service_user_refresh_token_file be replaced)");
		goto out;
	}
	ms_zfree(&gp->utoken);
	gp->utoken = tok.access;
	tok.access = NULL;
	free(gp->uscope);
	gp->uscope = tok.scope;
	tok.scope = NULL;
	if (tok.refresh && strcmp(tok.refresh, gp->refresh) != 0) {
		buf_adds(&file, tok.refresh);
		buf_addc(&file, '\n');
		if (write_file_atomic(path, file.p, file.len, 0600) < 0) {
			snprintf(err, errlen, "teams: %s: cannot save the rotated refresh token: %s",
			    path, strerror(errno));
			gp->ucls = FAIL_IO;
			goto out;
		}
		ms_zfree(&gp->refresh);
		gp->refresh = tok.refresh;
		tok.refresh = NULL;
	}
	rc = DM_OK;
out:
	if (gp->utoken)
		http_set_bearer(ctx->http, gp->utoken);
	oauth_tokens_free(&tok);
	if (file.p)
		explicit_bzero(file.p, file.len);
	buf_free(&file);
	buf_free(&scope);
	return rc;
}

static char *
ms_device_url(const struct config *cfg)
{
	return ms_url(cfg, "devicecode");
}

static char *
ms_token_url(const struct config *cfg)
{
	return ms_url(cfg, "token");
}

static const char *
ms_client_id(const struct config *cfg)
{
	return cfg->teams.client_id;
}

static const char *
ms_token_file(const struct config *cfg)
{
	return cfg->teams.service_user_refresh_token_file;
}

static const char *
ms_missing(const struct config *cfg)
{
	if (cfg->teams.tenant_id == NULL)
		return "teams.tenant_id";
	return cfg->teams.client_id == NULL ? "teams.client_id" : NULL;
}

const struct driver_device graph_device = {
	.device_url = ms_device_url,
	.token_url = ms_token_url,
	.client_id = ms_client_id,
	.token_file = ms_token_file,
	.missing = ms_missing,
	.token_key = "teams.service_user_refresh_token_file",
	.holder = SH_TEAMS_SERVICE,
};

char *
ms_token_roles(const char *jwt)
{
	const char *p = jwt ? strchr(jwt, '.') : NULL, *e = p ? strchr(p + 1, '.') : NULL;
	unsigned char *raw;
	struct json j = { 0 };
	struct buf out = { 0 };
	char err[64], *r;
	size_t n;
	int arr, i;

	if (e == NULL || (size_t)(e - p - 1) > JWT_PAYLOAD_MAX * 4 / 3)
		return NULL;
	raw = xmalloc(JWT_PAYLOAD_MAX);
	if (b64url_decode(p + 1, (size_t)(e - p - 1), raw, JWT_PAYLOAD_MAX, &n) == 0 &&
	    json_parse(&j, (const char *)raw, n, err, sizeof(err)) == 0 &&
	    json_is_array(&j, arr = json_get(&j, 0, "roles"))) {
		buf_adds(&out, "");		/* an empty claim is no permission, not none */
		for (i = json_first(&j, arr); i >= 0; i = json_next(&j, arr, i)) {
			if ((r = json_strdup(&j, i)) != NULL)
				buf_printf(&out, "%s%s", out.len ? " " : "", r);
			free(r);
		}
	}
	json_free(&j);
	free(raw);
	return out.p ? out.p : NULL;
}
