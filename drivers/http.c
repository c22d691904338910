/*
 * http.c — the shared HTTP core (include/http.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "http.h"
#include "json.h"

struct http_client {
	CURL			*curl;
	CURLM			*multi;		/* every transfer: one connection cache */
	struct curl_slist	*hdrs;		/* the transfer's, freed when it ends */
	struct buf		 ct;
	int			 inflight;	/* http_start'ed, not yet finished */
	char			*name;
	char			*auth;		/* "Authorization: Bearer ..." — never logged */
	const struct config	*cfg;
	size_t			 max_body;
	int			 body_overflow;
	struct http_resp	*cur;
	struct http_stats	 stats;
};

/* Forgets the headers kept of an answer. */
static void
headers_free(struct http_resp *r)
{
	free(r->link_next);
	free(r->location);
	free(r->tracking_id);
	free(r->scopes);
	r->link_next = r->location = r->tracking_id = r->scopes = NULL;
	r->retry_after = -1;
}

void
http_resp_free(struct http_resp *r)
{
	buf_free(&r->body);
	headers_free(r);
	r->status = 0;
}

struct http_client *
http_new(const char *name, const struct config *cfg)
{
	struct http_client *c = xcalloc(1, sizeof(*c));

	c->name = xstrdup(name);
	c->cfg = cfg;
	c->max_body = (size_t)(cfg->http.max_body_mb > 0 ? cfg->http.max_body_mb : 64) << 20;
	c->curl = curl_easy_init();
	c->multi = curl_multi_init();
	if (c->curl == NULL || c->multi == NULL) {
		fputs("peoplesync: curl_easy_init failed\n", stderr);
		abort();
	}
	return c;
}

void
http_free(struct http_client *c)
{
	if (c == NULL)
		return;
	http_drop(c);
	buf_free(&c->ct);
	curl_multi_cleanup(c->multi);
	curl_easy_cleanup(c->curl);
	if (c->auth) {
		explicit_bzero(c->auth, strlen(c->auth));
		free(c->auth);
	}
	free(c->name);
	free(c);
}

void
http_set_bearer(struct http_client *c, const char *token)
{
	if (c->auth) {
		explicit_bzero(c->auth, strlen(c->auth));
		free(c->auth);
		c->auth = NULL;
	}
	if (token)
		c->auth = xasprintf("Authorization: Bearer %s", token);
}

const struct http_stats *
http_stats(const struct http_client *c)
{
	return &c->stats;
}

const char *
http_name(const struct http_client *c)
{
	return c->name;
}

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_client *c = arg;
	size_t n = size * nmemb;

	if (c->cur->body.len + n > c->max_body) {
		c->body_overflow = 1;
		return 0;		/* makes curl fail the transfer with CURLE_WRITE_ERROR */
	}
	buf_add(&c->cur->body, ptr, n);
	return n;
}

static char *
trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* Link: <https://...>; rel="next", <...>; rel="prev" */
static char *
parse_link_next(const char *v, size_t n)
{
	const char *p = v, *end = v + n;

	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p)), *gt, *next;
		if (lt == NULL)
			return NULL;
		gt = memchr(lt, '>', (size_t)(end - lt));
		if (gt == NULL)
			return NULL;
		next = memchr(gt, ',', (size_t)(end - gt));
		if (next == NULL)
			next = end;
		/* params between gt and next */
		for (const char *q = gt; q + 3 < next; q++) {
			if (strncasecmp(q, "rel=", 4) == 0) {
				const char *r = q + 4;
				if (*r == '"')
					r++;
				if ((size_t)(next - r) >= 4 && strncasecmp(r, "next", 4) == 0 &&
				    (r + 4 == next || r[4] == '"' || r[4] == ';' || r[4] == ' ' ||
				     r[4] == ','))
					return xstrndup(lt + 1, (size_t)(gt - lt - 1));
			}
		}
		p = next + 1;
	}
	return NULL;
}

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_client *c = arg;
	struct http_resp *r = c->cur;
	size_t n = size * nmemb;
	const char *colon;
	size_t klen;

	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		/* A new response (after a 100 Continue or redirect): forget earlier headers. */
		headers_free(r);
		return n;
	}
	colon = memchr(ptr, ':', n);
	if (colon == NULL)
		return n;
	klen = (size_t)(colon - ptr);
	colon++;
	n -= klen + 1;
	if (klen == 4 && strncasecmp(ptr, "link", 4) == 0) {
		char *next = parse_link_next(colon, n);
		if (next) {
			free(r->link_next);
			r->link_next = next;
		}
	} else if (klen == 11 && strncasecmp(ptr, "retry-after", 11) == 0) {
		char *v = trimmed(colon, n), *end;
		double d;
		errno = 0;
		d = strtod(v, &end);
		if (errno == 0 && end != v && *end == '\0' && d >= 0 && isfinite(d))
			r->retry_after = d;
		free(v);
	} else if (klen == 8 && strncasecmp(ptr, "location", 8) == 0) {
		free(r->location);
		r->location = trimmed(colon, n);
	} else if ((klen == 10 && strncasecmp(ptr, "trackingid", 10) == 0) ||
	    (klen == 10 && strncasecmp(ptr, "request-id", 10) == 0)) {
		free(r->tracking_id);
		r->tracking_id = trimmed(colon, n);
	} else if (klen == 14 && strncasecmp(ptr, "x-oauth-scopes", 14) == 0) {
		free(r->scopes);
		r->scopes = trimmed(colon, n);
	}
	return n + klen + 1;
}

static void
sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static double
backoff(const struct http_client *c, int attempt)
{
	double base = c->cfg->http.backoff_base > 0 ? c->cfg->http.backoff_base : 0.5;
	double cap = c->cfg->http.backoff_max > 0 ? c->cfg->http.backoff_max : 30;
	double d = base * pow(2, attempt);

	if (d > cap)
		d = cap;
	/* "equal jitter": half fixed, half random, so retries of many clients spread out */
	return d / 2 + random_unit() * d / 2;
}

static int
retryable_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/* Failures after which the request surely never reached the server. */
static int
never_sent(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

/* An attempt's options set and its handle added to the multi: begun, not yet driven. */
static void
begin(struct http_client *c, const struct http_req *rq, struct http_resp *resp)
{
	struct curl_slist *hdrs = NULL;
	struct buf *ct = &c->ct;
	CURL *h = c->curl;
	int i;

	/* the body's buffer is kept: a pull's pages reuse one allocation */
	buf_reset(&resp->body);
	headers_free(resp);
	resp->status = 0;
	c->cur = resp;
	c->body_overflow = 0;
	curl_easy_reset(h);		/* keeps the connection cache: keep-alive survives */
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)(c->cfg->http.connect_timeout > 0 ?
	    c->cfg->http.connect_timeout : 10));
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)(c->cfg->http.timeout > 0 ?
	    c->cfg->http.timeout : 60));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "peoplesync/0.1");
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	/*
	 * libcurl sends a request again on its own when a reused connection dies before any
	 * answer arrives — also after the server acted on it (a message posted, its answer
	 * lost). A request that must not be repeated gets a connection of its own, so any
	 * failure comes back to request_loop, which decides.
	 */
	if (rq->once)
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	if (c->cfg->http.ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cfg->http.ca_file);
	if (c->auth)
		hdrs = curl_slist_append(hdrs, c->auth);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	for (i = 0; rq->headers && rq->headers[i]; i++)
		hdrs = curl_slist_append(hdrs, rq->headers[i]);
	if (rq->body) {
		buf_reset(ct);
		buf_printf(ct, "Content-Type: %s", rq->content_type ? rq->content_type :
		    "application/x-www-form-urlencoded");
		hdrs = curl_slist_append(hdrs, ct->p);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->bodylen);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body);
	}
	if (strcmp(rq->method, "GET") != 0 && !(strcmp(rq->method, "POST") == 0 && rq->body))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	c->hdrs = hdrs;
	c->stats.requests++;
	curl_multi_add_handle(c->multi, h);
}

/* The handle out of the multi and the attempt's headers freed: no transfer in flight. */
static void
detach(struct http_client *c)
{
	curl_multi_remove_handle(c->multi, c->curl);
	curl_slist_free_all(c->hdrs);
	c->hdrs = NULL;
	c->cur = NULL;
	c->inflight = 0;
}

/* Drives the begun attempt to its end. Returns its CURLcode. */
static CURLcode
drive(struct http_client *c, struct http_resp *resp)
{
	CURLcode cc = CURLE_RECV_ERROR;
	CURLMsg *m;
	int running = 1, left;

	while (running) {
		if (curl_multi_perform(c->multi, &running) != CURLM_OK)
			break;
		if (running && curl_multi_poll(c->multi, NULL, 0, 1000, NULL) != CURLM_OK)
			break;
	}
	while ((m = curl_multi_info_read(c->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE && m->easy_handle == c->curl)
			cc = m->data.result;
	detach(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	return cc;
}

/* One attempt. Returns the CURLcode. */
static CURLcode
perform(struct http_client *c, const struct http_req *rq, struct http_resp *resp)
{
	begin(c, rq, resp);
	return drive(c, resp);
}

/*
 * The retry loop. parse: when non-NULL, a 2xx body must parse as JSON into it.
 * rq->once: the request must not be repeated unless the server surely did not act on it (no
 * connection, or a 429); any other failure ends the loop at once, "in doubt".
 */
static int
send_loop(struct http_client *c, const struct http_req *rq, struct http_resp *resp,
    struct json *parse, char *err, size_t errlen, const CURLcode *first)
{
	const char *what = rq->what;
	int once = rq->once;
	int tries = (c->cfg->http.retries >= 0 ? c->cfg->http.retries : 5) + 1;
	double max_ra = c->cfg->http.max_retry_after > 0 ? c->cfg->http.max_retry_after : 120;
	char last[256] = "";
	char jerr[160];
	int attempt;

	for (attempt = 0; attempt < tries; attempt++) {
		CURLcode cc;
		double wait;

		if (attempt > 0)
			c->stats.retries++;
		cc = attempt == 0 && first ? *first : perform(c, rq, resp);
		if (cc != CURLE_OK) {
			if (c->body_overflow) {
				snprintf(err, errlen, "%s: %s: response larger than %zu MiB", c->name,
				    what, c->max_body >> 20);
				return -1;
			}
			snprintf(last, sizeof(last), "%s", curl_easy_strerror(cc));
			if (!retryable_curl(cc))
				break;
			if (once && !never_sent(cc))
				goto in_doubt;
			wait = backoff(c, attempt);
		} else if (resp->status == 429) {
			c->stats.throttled++;
			snprintf(last, sizeof(last), "HTTP 429 (rate limited)");
			wait = resp->retry_after >= 0 ? resp->retry_after : backoff(c, attempt);
			if (wait > max_ra) {
				snprintf(err, errlen, "%s: %s: HTTP 429, Retry-After %.0f s is longer "
				    "than http.max_retry_after (%.0f s)", c->name, what, wait, max_ra);
				return -1;
			}
		} else if (resp->status >= 500) {
			snprintf(last, sizeof(last), "HTTP %ld", resp->status);
			if (once)
				goto in_doubt;
			wait = resp->retry_after >= 0 && resp->retry_after <= max_ra ?
			    resp->retry_after : backoff(c, attempt);
		} else if (parse && resp->status >= 200 && resp->status < 300 &&
		    resp->status != 204 &&	/* No Content: no body to parse (j empty) */
		    json_parse(parse, resp->body.p ? resp->body.p : "", resp->body.len, jerr,
		    sizeof(jerr)) < 0) {
			snprintf(last, sizeof(last), "HTTP %ld with %s", resp->status, jerr);
			if (once)
				goto in_doubt;
			wait = backoff(c, attempt);
		} else {
			if (parse && (resp->status < 200 || resp->status >= 300) &&
			    json_parse(parse, resp->body.p ? resp->body.p : "", resp->body.len,
			    NULL, 0) < 0)
				parse->ntok = 0;	/* an error page that is not JSON */
			return 0;
		}
		if (attempt + 1 < tries) {
			log_debug("%s: %s: %s; retrying in %.1f s", c->name, what, last, wait);
			c->stats.waited += wait;
			sleep_s(wait);
		}
	}
	snprintf(err, errlen, "%s: %s: %s (%d attempt%s)", c->name, what, last, attempt,
	    attempt == 1 ? "" : "s");
	return -1;
in_doubt:
	snprintf(err, errlen, "%s: %s: %s; not repeated, since the request may have been acted "
	    "on", c->name, what, last);
	return -1;
}

int
http_send(struct http_client *c, const struct http_req *rq, struct http_resp *resp,
    struct json *parse, char *err, size_t errlen)
{
	return send_loop(c, rq, resp, parse, err, errlen, NULL);
}

void
http_start(struct http_client *c, const struct http_req *rq, struct http_resp *resp)
{
	int running = 1;
	long sent = 0;

	begin(c, rq, resp);
	c->inflight = 1;
	/* until the request is out (at once on a kept connection; a new one takes a few
	 * rounds): from then on the server answers into the socket while the caller works */
	for (int i = 0; i < 100 && running && sent == 0; i++) {
		if (curl_multi_perform(c->multi, &running) != CURLM_OK)
			break;
		curl_easy_getinfo(c->curl, CURLINFO_REQUEST_SIZE, &sent);
		if (running && sent == 0)
			curl_multi_poll(c->multi, NULL, 0, 10, NULL);
	}
}

void
http_drop(struct http_client *c)
{
	if (c->inflight)
		detach(c);
}

int
http_finish(struct http_client *c, const struct http_req *rq, struct http_resp *resp,
    struct json *parse, char *err, size_t errlen)
{
	CURLcode cc;

	if (!c->inflight)
		return send_loop(c, rq, resp, parse, err, errlen, NULL);
	cc = drive(c, resp);
	return send_loop(c, rq, resp, parse, err, errlen, &cc);
}

int
http_json(struct http_client *c, const char *method, const char *url,
    const char *const *extra_headers, const char *content_type, const char *body,
    size_t bodylen, const char *what, struct http_resp *resp, struct json *j,
    char *err, size_t errlen)
{
	const struct http_req rq = { method, url, extra_headers, content_type, body, bodylen,
	    what, 0 };

	return http_send(c, &rq, resp, j, err, errlen);
}

int
http_request(struct http_client *c, const char *method, const char *url,
    const char *const *extra_headers, const char *content_type, const char *body,
    size_t bodylen, const char *what, struct http_resp *resp, char *err, size_t errlen)
{
	return http_json(c, method, url, extra_headers, content_type, body, bodylen, what, resp,
	    NULL, err, errlen);
}

int
url_is_loopback(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	struct in_addr a4;
	struct in6_addr a6;
	size_t n;
	int r = 0;

	if (u == NULL)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		/* addresses, not prefixes: "127.0.0.1.example.com" is no loopback host */
		n = strlen(host);
		if (strcasecmp(host, "localhost") == 0)
			r = 1;
		else if (inet_pton(AF_INET, host, &a4) == 1)
			r = (ntohl(a4.s_addr) >> 24) == 127;
		else if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
			host[n - 1] = '\0';
			r = inet_pton(AF_INET6, host + 1, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
		}
		curl_free(host);
	}
	curl_url_cleanup(u);
	return r;
}

/* ---- token buckets ---- */

void
bucket_init(struct bucket *b, double rate, double burst)
{
	b->rate = rate > 0 ? rate : 1;
	b->burst = burst >= 1 ? burst : 1;
	b->tokens = b->burst;
	b->last = ps_monotonic();
	b->paused_until = 0;
}

static void
refill(struct bucket *b, double now)
{
	if (now > b->last) {
		b->tokens += (now - b->last) * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last = now;
	}
}

double
bucket_wait_time(struct bucket *b, double now)
{
	double w = 0;

	if (b->paused_until > now)
		return b->paused_until - now;
	refill(b, now);
	if (b->tokens < 1)
		w = (1 - b->tokens) / b->rate;
	return w;
}

void
bucket_take(struct bucket *b)
{
	double w;

	while ((w = bucket_wait_time(b, ps_monotonic())) > 0)
		sleep_s(w);
	b->tokens -= 1;
}

void
bucket_pause(struct bucket *b, double seconds)
{
	double now = ps_monotonic();

	if (now + seconds > b->paused_until)
		b->paused_until = now + seconds;
	b->tokens = 0;
	b->last = now + seconds;
}
