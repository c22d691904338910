/*
 * oauth.c — the grant mechanics of Sync now (include/oauth.h): state, PKCE, the authorize
 * URL, the code exchange and the refresh on any platform, through the platform's struct
 * driver_oauth. The user tokens it yields are stored by reconcile/usertoken_store.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "driver.h"
#include "http.h"
#include "json.h"
#include "linktoken.h"
#include "oauth.h"
#include "scopes.h"
#include "util.h"

const char *
oauth_platform_title(enum platform p)
{
	const struct driver *d = driver_for(p);

	return d ? d->title : "?";
}

int
oauth_uses_pkce(enum platform p)
{
	const struct driver *d = driver_for(p);

	return d && (d->oauth->flags & OAUTH_PKCE);
}

/* The instance whose client a grant uses: pc, or the platform's own block. */
static const struct cfg_platform *
inst_of(const struct config *cfg, enum platform p, const struct cfg_platform *pc)
{
	return pc != NULL ? pc : &cfg->plat[p];
}

int
oauth_inst_configured(const struct config *cfg, enum platform p, const struct cfg_platform *pc)
{
	const struct cfg_oauth *o;

	if ((int)p < 0 || p >= PLAT_COUNT || !config_enabled(cfg, p))
		return 0;
	o = &inst_of(cfg, p, pc)->oauth;
	return o->client_id && o->client_secret && o->authorize_url && o->token_url;
}

int
oauth_configured(const struct config *cfg, enum platform p)
{
	return oauth_inst_configured(cfg, p, NULL);
}

int
oauth_any_configured(const struct config *cfg, enum platform p)
{
	if ((int)p < 0 || p >= PLAT_COUNT)
		return 0;
	for (int i = 0; i < config_ninst(cfg, p); i++)
		if (oauth_inst_configured(cfg, p, config_inst(cfg, p, i)))
			return 1;
	return 0;
}

/* The user scopes the sign-in of instance pc asks for (caller frees). */
static char *
inst_scopes(const struct config *cfg, enum platform p, const struct cfg_platform *pc)
{
	const char *set = inst_of(cfg, p, pc)->oauth.scopes;

	return set != NULL ? xstrdup(set) : scopes_signin(cfg, p);
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

void
oauth_authorize_url(const struct config *cfg, enum platform p, const char *redirect_uri,
    const char *state, const char *challenge, struct buf *out)
{
	oauth_inst_authorize_url(cfg, p, NULL, redirect_uri, state, challenge, out);
}

void
oauth_inst_authorize_url(const struct config *cfg, enum platform p,
    const struct cfg_platform *pc, const char *redirect_uri, const char *state,
    const char *challenge, struct buf *out)
{
	const struct cfg_oauth *o = &inst_of(cfg, p, pc)->oauth;
	const char *const *n;

	buf_adds(out, o->authorize_url);
	buf_addc(out, strchr(o->authorize_url, '?') ? '&' : '?');
	for (n = driver_for(p)->oauth->authorize; *n; n++) {
		const char *eq = strchr(*n, '=');

		if (eq) {
			char *name = xstrndup(*n, (size_t)(eq - *n));
			token_param(out, name, eq + 1);
			free(name);
		} else if (strcmp(*n, "client_id") == 0) {
			token_param(out, *n, o->client_id);
		} else if (strcmp(*n, "redirect_uri") == 0) {
			token_param(out, *n, redirect_uri);
		} else if (strcmp(*n, "state") == 0) {
			token_param(out, *n, state);
		} else if (strcmp(*n, "code_challenge") == 0) {
			if (challenge) {
				token_param(out, *n, challenge);
				token_param(out, "code_challenge_method", "S256");
			}
		} else {
			char *scopes = inst_scopes(cfg, p, pc);

			token_param(out, *n, scopes);
			free(scopes);
		}
	}
}

/* One grant at the token endpoint: its form, the answer, what errors call it. */
struct grant {
	const struct driver	*d;
	const struct cfg_platform *pc;	/* the instance whose client it is */
	const struct cfg_oauth	*o;
	struct buf		 form;
	struct http_resp	 resp;
	struct json		 j;
	int			 obj;		/* the object of the answer with the tokens */
	char			 what[64];	/* "POST token (refresh)" */
	char			 ecode[80];	/* a refused answer's error code, or "" */
};

/* Starts grant type grant_type on instance pc of platform p: the form with the client's
 * credentials (unless they go as HTTP Basic). 0, or -1 with err when its OAuth is not
 * configured. */
static int
grant_begin(struct grant *g, const struct config *cfg, enum platform p,
    const struct cfg_platform *pc, const char *grant_type, const char *step, char *err,
    size_t errlen)
{
	memset(g, 0, sizeof(*g));
	if (!oauth_inst_configured(cfg, p, pc)) {
		if (pc != NULL && config_ninst(cfg, p) > 1)
			snprintf(err, errlen, "%s: OAuth is not configured (%s.workspaces[%d]"
			    ".oauth.client_id)", platform_name(p), platform_name(p), pc->index);
		else
			snprintf(err, errlen, "%s: OAuth is not configured (%s.oauth.client_id)",
			    platform_name(p), platform_name(p));
		return -1;
	}
	g->d = driver_for(p);
	g->pc = inst_of(cfg, p, pc);
	g->o = &g->pc->oauth;
	snprintf(g->what, sizeof(g->what), "POST %s (%s)", g->d->oauth->endpoint, step);
	if (!(g->d->oauth->flags & OAUTH_BASIC)) {
		token_param(&g->form, "client_id", g->o->client_id);
		token_param(&g->form, "client_secret", g->o->client_secret);
	}
	token_param(&g->form, "grant_type", grant_type);
	return 0;
}

static void
grant_end(struct grant *g)
{
	buf_free(&g->form);
	json_free(&g->j);
	http_resp_free(&g->resp);
}

/*
 * Posts the grant's form (wiped) to the platform's token endpoint and judges the answer.
 * Returns 0 with g->obj set, -1 when no answer came, -2 for a refused answer (g->ecode holds
 * its error code); err says why.
 */
static int
grant_post(const struct config *cfg, struct grant *g, int exchange, char *err, size_t errlen)
{
	const struct driver_oauth *da = g->d->oauth;
	struct http_client *h = http_new(g->d->name, cfg);
	char detail[32] = "";
	int ok = 1, rc;

	if (da->flags & OAUTH_SCOPED) {
		char *scopes = inst_scopes(cfg, g->d->platform, g->pc);

		token_param(&g->form, "scope", scopes);
		free(scopes);
	}
	rc = token_post(h, g->o->token_url, da->flags & OAUTH_BASIC ? g->o->client_id : NULL,
	    g->o->client_secret, &g->form, g->what, &g->resp, &g->j, err, errlen);
	http_free(h);
	if (rc < 0)
		return -1;
	if (da->flags & OAUTH_OK_FIELD && json_bool(&g->j, json_get(&g->j, 0, "ok"), &ok) < 0)
		ok = 0;
	if (g->resp.status != 200 || !ok) {
		if (da->error_detail)
			da->error_detail(&g->j, detail, sizeof(detail));
		token_error(g->d->name, g->what, &g->resp, &g->j, detail, g->ecode,
		    sizeof(g->ecode), err, errlen);
		return -2;
	}
	g->obj = da->tokens_at ? da->tokens_at(&g->j, exchange) : 0;
	return 0;
}

/* Asks platform d who holds access (struct driver_oauth's me, team_key, team). */
static int
whoami(const struct config *cfg, const struct driver *d, const char *access,
    struct oauth_identity *id, char *err, size_t errlen)
{
	const struct driver_oauth *da = d->oauth;
	struct http_client *h = http_new(d->name, cfg);
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	char *url = da->me(cfg);
	int rc = -1;

	http_set_bearer(h, access);
	if (http_json(h, "GET", url, NULL, NULL, NULL, 0, da->me_what, &resp, &j, err,
	    errlen) < 0)
		goto out;
	if (resp.status != 200) {
		snprintf(err, errlen, "%s: %s: HTTP %ld", d->name, da->me_what, resp.status);
		goto out;
	}
	id->user_id = json_strdup(&j, json_get(&j, 0, "id"));
	id->team_id = da->team_key ? json_strdup(&j, json_get(&j, 0, da->team_key)) :
	    xstrdup(da->team(cfg) ? da->team(cfg) : "");
	if (id->user_id == NULL || *id->user_id == '\0')
		snprintf(err, errlen, "%s: %s: no id in the answer", d->name, da->me_what);
	else if (id->team_id == NULL || *id->team_id == '\0')
		snprintf(err, errlen, "%s: %s: no %s in the answer", d->name, da->me_what,
		    da->team_key ? da->team_key : "team");
	else
		rc = 0;
out:
	http_free(h);
	free(url);
	http_resp_free(&resp);
	json_free(&j);
	return rc;
}

int
oauth_exchange(const struct config *cfg, enum platform p, const char *code,
    const char *redirect_uri, const char *verifier, struct oauth_tokens *tok,
    struct oauth_identity *id, char *err, size_t errlen)
{
	return oauth_inst_exchange(cfg, p, NULL, code, redirect_uri, verifier, tok, id, err,
	    errlen);
}

int
oauth_inst_exchange(const struct config *cfg, enum platform p, const struct cfg_platform *pc,
    const char *code, const char *redirect_uri, const char *verifier, struct oauth_tokens *tok,
    struct oauth_identity *id, char *err, size_t errlen)
{
	struct grant g;
	int rc = -1;

	memset(tok, 0, sizeof(*tok));
	memset(id, 0, sizeof(*id));
	if (grant_begin(&g, cfg, p, pc, "authorization_code", "code exchange", err, errlen) < 0)
		return -1;
	token_param(&g.form, "code", code);
	token_param(&g.form, "redirect_uri", redirect_uri);
	if ((g.d->oauth->flags & OAUTH_PKCE) && verifier)
		token_param(&g.form, "code_verifier", verifier);
	if (grant_post(cfg, &g, 1, err, errlen) < 0)
		goto out;
	if (token_take(&g.j, g.obj, (int64_t)ps_now(), tok) < 0) {
		snprintf(err, errlen, "%s: %s: %s", g.d->name, g.what, g.d->oauth->no_token ?
		    g.d->oauth->no_token : "no access_token in the answer");
		goto out;
	}
	if (g.d->oauth->identity)
		rc = g.d->oauth->identity(&g.j, g.what, id, err, errlen);
	else
		rc = whoami(cfg, g.d, tok->access, id, err, errlen);
out:
	if (rc < 0) {
		oauth_tokens_free(tok);
		oauth_identity_free(id);
	}
	grant_end(&g);
	return rc;
}

int
oauth_refresh(const struct config *cfg, enum platform p, const char *refresh_token,
    struct oauth_tokens *tok, char *err, size_t errlen)
{
	return oauth_inst_refresh(cfg, p, NULL, refresh_token, tok, err, errlen);
}

int
oauth_inst_refresh(const struct config *cfg, enum platform p, const struct cfg_platform *pc,
    const char *refresh_token, struct oauth_tokens *tok, char *err, size_t errlen)
{
	struct grant g;
	int rc = -1;

	memset(tok, 0, sizeof(*tok));
	if (grant_begin(&g, cfg, p, pc, "refresh_token", "refresh", err, errlen) < 0)
		return -1;
	token_param(&g.form, "refresh_token", refresh_token);
	switch (grant_post(cfg, &g, 0, err, errlen)) {
	case -2:
		if (g.d->oauth->grant_dead(g.resp.status, g.ecode, &g.j))
			rc = -2;
		goto out;
	case -1:
		goto out;
	}
	if (token_take(&g.j, g.obj, (int64_t)ps_now(), tok) < 0) {
		snprintf(err, errlen, "%s: %s: no access_token in the answer", g.d->name, g.what);
		goto out;
	}
	if (tok->refresh == NULL)
		tok->refresh = xstrdup(refresh_token);	/* not rotated: the old one stays */
	rc = 0;
out:
	if (rc < 0)
		oauth_tokens_free(tok);
	grant_end(&g);
	return rc;
}
