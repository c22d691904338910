/*
 * devicegrant.c — the OAuth 2.0 device authorization grant (RFC 8628; Microsoft identity
 * platform shapes) of include/devicegrant.h: the device code, the polling rules, the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devicegrant.h"
#include "http.h"
#include "json.h"

#define GRANT_TYPE	"urn:ietf:params:oauth:grant-type:device_code"
#define SLOW_DOWN_STEP	5	/* RFC 8628 §3.5: every later poll 5 s further apart */

void
device_code_free(struct device_code *dc)
{
	if (dc->device_code)
		explicit_bzero(dc->device_code, strlen(dc->device_code));
	free(dc->device_code);
	free(dc->user_code);
	free(dc->verification_uri);
	memset(dc, 0, sizeof(*dc));
}

void
device_poll_init(struct device_poll *p, const struct device_code *dc, double now)
{
	memset(p, 0, sizeof(*p));
	p->interval = dc->interval > 0 ? dc->interval : 5;
	p->deadline = now + (dc->expires_in > 0 ? dc->expires_in : 900);
}

enum device_next
device_judge(struct device_poll *p, long status, const char *code, double now)
{
	p->polls++;
	if (status == 200)
		return DEVICE_TOKEN;
	if (strcmp(code, "slow_down") == 0) {
		p->slow_downs++;
		p->interval += SLOW_DOWN_STEP;
	} else if (strcmp(code, "access_denied") == 0 ||
	    strcmp(code, "authorization_declined") == 0) {
		return DEVICE_DENIED;
	} else if (strcmp(code, "expired_token") == 0) {
		return DEVICE_EXPIRED;
	} else if (strcmp(code, "authorization_pending") != 0) {
		return DEVICE_REFUSED;
	}
	/* pending (or slowed down): on until the codes expire */
	return now >= p->deadline ? DEVICE_EXPIRED : DEVICE_WAIT;
}

/* A string member, or NULL when absent or empty. */
static char *
member(const struct json *j, const char *key)
{
	char *s = json_strdup(j, json_get(j, 0, key));

	if (s && *s == '\0') {
		free(s);
		s = NULL;
	}
	return s;
}

static int
member_int(const struct json *j, const char *key, int dflt)
{
	int64_t v;

	if (json_i64(j, json_get(j, 0, key), &v) < 0 || v <= 0 || v > 86400)
		return dflt;
	return (int)v;
}

/* A refused answer: err from the token endpoint's error, the class of a client refused. */
static enum fail
refused(const char *name, const char *what, const struct http_resp *resp,
    const struct json *j, char *err, size_t errlen)
{
	char code[80];
	size_t n;

	token_error(name, what, resp, j, NULL, code, sizeof(code), err, errlen);
	n = strlen(err);
	if ((strcmp(code, "invalid_client") == 0 || strcmp(code, "unauthorized_client") == 0) &&
	    n < errlen)
		snprintf(err + n, errlen - n, " (does the app registration allow public client "
		    "flows?)");
	return resp->status >= 500 ? FAIL_LATER : FAIL_CONFIG;
}

/* POST the device authorization request; FAIL_NONE with dc filled. */
static enum fail
device_start(struct http_client *h, const char *name, const struct config *cfg,
    const struct driver_device *dev, struct device_code *dc, char *err, size_t errlen)
{
	struct buf form = { 0 }, scope = { 0 };
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	char *url = dev->device_url(cfg);
	enum fail rc = FAIL_LATER;

	memset(dc, 0, sizeof(*dc));
	scopes_needed(cfg, dev->holder, ' ', 1, &scope);
	token_param(&form, "client_id", dev->client_id(cfg));
	token_param(&form, "scope", scope.p ? scope.p : "");
	if (token_post(h, url, NULL, NULL, &form, "POST devicecode", &resp, &j, err,
	    errlen) < 0)
		goto out;
	if (resp.status != 200) {
		rc = refused(name, "POST devicecode", &resp, &j, err, errlen);
		goto out;
	}
	dc->device_code = member(&j, "device_code");
	dc->user_code = member(&j, "user_code");
	dc->verification_uri = member(&j, "verification_uri");
	if (dc->verification_uri == NULL)	/* the v1 endpoint's spelling */
		dc->verification_uri = member(&j, "verification_url");
	dc->expires_in = member_int(&j, "expires_in", 900);
	dc->interval = member_int(&j, "interval", 5);
	rc = FAIL_NONE;
	if (!dc->device_code || !dc->user_code || !dc->verification_uri) {
		snprintf(err, errlen, "%s: POST devicecode: the answer lacks device_code, "
		    "user_code or verification_uri", name);
		device_code_free(dc);
		rc = FAIL_DATA;
	}
out:
	free(url);
	buf_free(&form);
	buf_free(&scope);
	json_free(&j);
	http_resp_free(&resp);
	return rc;
}

/* One poll of the token endpoint: its status and error code, tokens taken on a 200.
 * FAIL_NONE when an answer came (judge it), else the class with err. */
static enum fail
device_poll_once(struct http_client *h, const char *name, const char *url,
    const char *client_id, const struct device_code *dc, long *status, char *code,
    size_t codelen, struct oauth_tokens *tok, char *err, size_t errlen)
{
	struct buf form = { 0 };
	struct http_resp resp = { 0 };
	struct json j = { 0 };
	enum fail rc = FAIL_LATER;

	token_param(&form, "grant_type", GRANT_TYPE);
	token_param(&form, "client_id", client_id);
	token_param(&form, "device_code", dc->device_code);
	if (token_post(h, url, NULL, NULL, &form, "POST token (device_code)", &resp, &j, err,
	    errlen) < 0)
		goto out;
	*status = resp.status;
	token_error_code(&j, code, codelen);
	rc = FAIL_NONE;
	if (resp.status == 200 && (token_take(&j, 0, (int64_t)ps_now(), tok) < 0 ||
	    tok->refresh == NULL)) {
		oauth_tokens_free(tok);
		snprintf(err, errlen, "%s: POST token (device_code): no refresh_token in the "
		    "answer (is offline_access among the scopes?)", name);
		rc = FAIL_DATA;
	} else if (resp.status != 200 && code[0] == '\0') {
		rc = refused(name, "POST token (device_code)", &resp, &j, err, errlen);
	} else if (resp.status != 200) {
		token_error(name, "POST token (device_code)", &resp, &j, NULL, code, codelen, err,
		    errlen);
	}
out:
	buf_free(&form);
	json_free(&j);
	http_resp_free(&resp);
	return rc;
}

enum fail
device_login(const struct config *cfg, const char *name, const struct driver_device *dev,
    const struct device_ui *ui, struct oauth_tokens *tok, char *err, size_t errlen)
{
	struct http_client *h = http_new(name, cfg);
	struct device_code dc;
	struct device_poll p;
	char *url = NULL, code[80];
	long status = 0;
	enum fail rc;

	memset(tok, 0, sizeof(*tok));
	if ((rc = device_start(h, name, cfg, dev, &dc, err, errlen)) != FAIL_NONE)
		goto out;
	ui->show(&dc, ui->arg);
	url = dev->token_url(cfg);
	device_poll_init(&p, &dc, ui->now(ui->arg));
	for (;;) {
		ui->sleep(p.interval, ui->arg);
		rc = device_poll_once(h, name, url, dev->client_id(cfg), &dc, &status, code,
		    sizeof(code), tok, err, errlen);
		if (rc != FAIL_NONE)
			break;
		switch (device_judge(&p, status, code, ui->now(ui->arg))) {
		case DEVICE_TOKEN:
			goto out;
		case DEVICE_WAIT:
			continue;
		case DEVICE_DENIED:
			snprintf(err, errlen, "%s: the sign-in was declined (%s)", name, code);
			rc = FAIL_DENIED;
			goto out;
		case DEVICE_EXPIRED:
			snprintf(err, errlen, "%s: the code %s expired before the sign-in was "
			    "completed; run the command again", name, dc.user_code);
			rc = FAIL_AGAIN;
			goto out;
		case DEVICE_REFUSED:
			rc = FAIL_CONFIG;	/* err from device_poll_once */
			goto out;
		}
	}
out:
	if (rc != FAIL_NONE)
		oauth_tokens_free(tok);
	device_code_free(&dc);
	free(url);
	http_free(h);
	return rc;
}
