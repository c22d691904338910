/*
 * http.h — the HTTP core every driver shares: one reused libcurl handle per platform
 * (keep-alive), timeouts, retries with jittered exponential backoff on 5xx and network errors,
 * 429 honoured through Retry-After, a response-size cap, token buckets, and errors that name
 * platform, endpoint and HTTP status — never a token.
 */
#ifndef PS_HTTP_H
#define PS_HTTP_H

#include <stddef.h>

#include "config.h"
#include "util.h"

struct json;

struct http_resp {
	long		 status;	/* final HTTP status, 0 if none */
	struct buf	 body;
	char		*link_next;	/* Link header rel="next" URL, or NULL */
	double		 retry_after;	/* seconds from Retry-After, < 0 if absent */
	char		*location;	/* Location header, or NULL */
	char		*tracking_id;	/* Webex TrackingId / Graph request-id header, or NULL */
	char		*scopes;	/* Slack X-OAuth-Scopes header (granted scopes), or NULL */
};
void	http_resp_free(struct http_resp *r);	/* frees members; struct reusable */

struct http_stats {
	long	requests;		/* attempts sent */
	long	retries;		/* attempts that were retries */
	long	throttled;		/* 429 answers received */
	double	waited;			/* seconds slept for backoff / Retry-After */
};

struct http_client;

/* A client for one platform; name ("slack") prefixes every error. Never NULL. */
struct http_client *http_new(const char *name, const struct config *cfg);
void	http_free(struct http_client *c);
/* Sets the bearer token sent with each request (copied; NULL clears it). */
void	http_set_bearer(struct http_client *c, const char *token);
const struct http_stats *http_stats(const struct http_client *c);
const char *http_name(const struct http_client *c);

/* One request. */
struct http_req {
	const char		*method;	/* "GET", "POST", ... */
	const char		*url;
	const char *const	*headers;	/* NULL, or a NULL-terminated "Name: value" array */
	const char		*content_type;	/* of body; NULL: form-urlencoded */
	const char		*body;		/* NULL: none (GET) */
	size_t			 bodylen;
	const char		*what;		/* names the endpoint in errors: "GET users.list
						   page 3" */
	int			 once;		/* must not be repeated blindly: see below */
};

/*
 * Sends rq with the retry policy. Returns 0 when a response was received that is not retried
 * (2xx, 3xx, 4xx other than 429: the caller judges it), -1 when retries ran out or the request
 * could not be made; then err holds "slack: GET users.list page 3: HTTP 503 (5 attempts)" or
 * a network reason.
 * j: NULL, or the body is parsed into it: a 2xx answer whose body is not valid JSON is
 * retried like a 5xx (proxies truncate); on 0, j holds the parsed body (ntok 0 for an error
 * page that is not JSON, and for a 204 No Content, which has no body; callers check
 * resp->status).
 * rq->once, for a request that must not be repeated blindly (posting a message): it is sent
 * on a connection of its own (libcurl silently replays a request whose reused connection
 * died before an answer, when the server may already have acted on it), and repeated only
 * when the server surely did not act on it: no connection could be made, or HTTP 429. A
 * reset, a timeout, a 5xx or a 2xx body that is not JSON returns -1 at once, err ending in
 * "not repeated, since the request may have been acted on": the outcome is in doubt, and
 * the caller looks before sending again.
 */
int	http_send(struct http_client *c, const struct http_req *rq, struct http_resp *resp,
	    struct json *j, char *err, size_t errlen);

/*
 * http_send in two halves, for a pull that parses one page while the next is on its way:
 * http_start sends rq's first attempt and returns without its answer, which arrives in the
 * socket meanwhile; http_finish waits for it and goes on as http_send (retries and all).
 * Nothing else may use c between the two; rq (and its strings) and resp must live until
 * http_finish. With no request started, http_finish is http_send. http_drop forgets a
 * started request (so does http_free).
 */
void	http_start(struct http_client *c, const struct http_req *rq, struct http_resp *resp);
int	http_finish(struct http_client *c, const struct http_req *rq, struct http_resp *resp,
	    struct json *parse, char *err, size_t errlen);
void	http_drop(struct http_client *c);

/* http_send of a request that may be repeated, the body parsed into j (http_json) or not
 * (http_request). extra_headers, content_type and body as in struct http_req. */
int	http_json(struct http_client *c, const char *method, const char *url,
	    const char *const *extra_headers, const char *content_type, const char *body,
	    size_t bodylen, const char *what, struct http_resp *resp, struct json *j,
	    char *err, size_t errlen);
int	http_request(struct http_client *c, const char *method, const char *url,
	    const char *const *extra_headers, const char *content_type, const char *body,
	    size_t bodylen, const char *what, struct http_resp *resp, char *err, size_t errlen);

/* Is host of url a loopback address? (config: http is allowed only there) */
int	url_is_loopback(const char *url);

/* Token bucket: rate tokens per second, at most burst stored. bucket_take sleeps until a
 * token is available; bucket_pause stops the bucket for s seconds (after a 429). */
struct bucket {
	double	rate;
	double	burst;
	double	tokens;
	double	last;
	double	paused_until;
};
void	bucket_init(struct bucket *b, double rate, double burst);
double	bucket_wait_time(struct bucket *b, double now);	/* seconds until a token */
void	bucket_take(struct bucket *b);
void	bucket_pause(struct bucket *b, double seconds);

#endif
