/*
 * serve.c — `serve`: the web endpoint behind "Sync now" links (include/serve.h). This file
 * is the server: libmicrohttpd's set-up, limits and shutdown, the request glue, routing and
 * the log line of each request; the pages are in pages.c, sessions in sessions.c, the
 * handlers in link.c, sync.c and signin.c.
 *
 * The flow (docs/sync-now.md):
 *	GET  /s/<token>			verify the signed link, start a session (cookie), -> /sync
 *	GET  /sync			who you are, one Connect step per platform, then the
 *					primary-team form
 *	GET  /connect/<platform>	new OAuth state (+ PKCE for Teams) in the session, 302 to
 *					the platform's authorize page
 *	GET  /oauth/<platform>/callback	state and cookie checked, code exchanged, identity
 *					checked against the person's account, token stored
 *	POST /sync/primary		CSRF token checked; the person becomes on with the chosen
 *					primary team; the link's nonce is spent; -> /done
 *	GET  /done			the confirmation page
 *	POST /events/<platform>		the platforms' message events (events*.c)
 *
 * libmicrohttpd runs one thread per connection (OAuth callbacks wait on the platforms; they
 * must not hold up other people's pages); guard.c keeps slow clients from holding those
 * connections (a deadline per request, a cap per client address). Each request uses its own short LMDB transaction;
 * none is held across a network call. Read transactions never wait; write transactions are
 * serialized by LMDB and, inside this process, by wmu (which also keeps store_error()'s
 * message ours while we copy it).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "oauth.h"
#include "serve.h"
#include "web_p.h"

#define BODY_MAX	8192		/* bytes of a request body (the one form is tiny) */
#define CONN_LIMIT	64		/* under LMDB's 126 reader slots */
#define CONN_PER_IP	16		/* connections of one client address at most */
#define CONN_TIMEOUT	30		/* seconds of silence before a connection is closed (a
					 * request must also come whole within guard.c's deadline) */
#define CONN_MEMORY	(64 * 1024)	/* per-connection buffer for headers and body */

struct req {
	double		 t0;
	struct buf	 body;
	size_t		 cap;		/* BODY_MAX, EVENTS_BODY_MAX for the event receivers */
	int		 too_big;
};

/* ---- libmicrohttpd glue ---- */

/* The path as logged: printable ASCII only, link tokens left out, at most 80 characters. */
static void
log_path(const char *path, char *out, size_t outlen)
{
	size_t o = 0;

	if (strncmp(path, "/s/", 3) == 0)
		path = "/s/<token>";
	for (; *path && o + 1 < outlen && o < 80; path++)
		out[o++] = (*path > ' ' && *path < 0x7f && *path != '"' && *path != '\\') ?
		    *path : '?';
	out[o] = '\0';
}

static enum MHD_Result
send_reply(const struct server *sv, struct MHD_Connection *conn, const char *method,
    const char *path, struct req *r, struct reply *rp)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char lp[96];

	if (rp->ctype == NULL) {
		unsigned status = rp->status;
		outcome_page(sv, rp, WO_INTERNAL);
		if (status)
			rp->status = status;
	}
	resp = MHD_create_response_from_buffer(rp->html.len, rp->html.p, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", rp->ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Content-Security-Policy", rp->csp ? rp->csp :
	    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
	    "frame-ancestors 'none'; base-uri 'none'");
	if (rp->disposition)
		MHD_add_response_header(resp, "Content-Disposition", rp->disposition);
	if (rp->status == 405)
		MHD_add_response_header(resp, "Allow", "GET, POST");
	if (rp->location)
		MHD_add_response_header(resp, "Location", rp->location);
	if (rp->cookie)
		MHD_add_response_header(resp, "Set-Cookie", rp->cookie);
	ret = MHD_queue_response(conn, rp->status, resp);
	MHD_destroy_response(resp);
	log_path(path, lp, sizeof(lp));
	log_info("serve: %.8s %s %u %.0f ms%s%s%s", method, lp, rp->status,
	    (ps_monotonic() - r->t0) * 1000, rp->note[0] ? " (" : "", rp->note,
	    rp->note[0] ? ")" : "");
	return ret;
}

static void
reply_free(struct reply *rp)
{
	buf_free(&rp->html);
	free(rp->location);
	free(rp->disposition);
	if (rp->cookie) {
		explicit_bzero(rp->cookie, strlen(rp->cookie));
		free(rp->cookie);
	}
}

/* The platform named by path segment s (up to '/' or the end). */
static int
seg_platform(const char *s, size_t n, enum platform *pl)
{
	char name[16];

	if (n == 0 || n >= sizeof(name))
		return -1;
	memcpy(name, s, n);
	name[n] = '\0';
	return platform_parse(name, pl);
}

enum route { R_NONE, R_BAD_METHOD, R_HOME, R_HEALTH, R_LINK, R_SYNC, R_PRIMARY, R_DONE,
	R_CONNECT, R_CALLBACK, R_EVENTS, R_ADMIN };

/* Which page path names (platform set for connect and callback). */
static enum route
route_of(const char *path, enum platform *pl)
{
	const char *rest;

	if (strcmp(path, "/") == 0)
		return R_HOME;
	if (strcmp(path, "/healthz") == 0)
		return R_HEALTH;
	if (strncmp(path, "/s/", 3) == 0)
		return R_LINK;
	if (strcmp(path, "/sync") == 0)
		return R_SYNC;
	if (strcmp(path, "/sync/primary") == 0)
		return R_PRIMARY;
	if (strcmp(path, "/done") == 0)
		return R_DONE;
	if (strncmp(path, "/events/", 8) == 0 && seg_platform(path + 8, strlen(path + 8), pl) == 0)
		return R_EVENTS;
	if (strncmp(path, "/admin", 6) == 0 && (path[6] == '\0' || path[6] == '/'))
		return R_ADMIN;		/* the console routes its own (admin.c) */
	if (strncmp(path, "/connect/", 9) == 0 &&
	    seg_platform(path + 9, strlen(path + 9), pl) == 0)
		return R_CONNECT;
	if (strncmp(path, "/oauth/", 7) == 0 && (rest = strchr(path + 7, '/')) != NULL &&
	    strcmp(rest, "/callback") == 0 &&
	    seg_platform(path + 7, (size_t)(rest - path - 7), pl) == 0)
		return R_CALLBACK;
	return R_NONE;
}

/* The handler of path; every outcome but WO_OK becomes its page here. */
static void
route(struct server *sv, struct MHD_Connection *conn, const char *method, const char *path,
    struct req *r, struct reply *rp)
{
	enum platform pl = PLAT_SLACK;
	enum route rt = route_of(path, &pl);
	int post = strcmp(method, "POST") == 0;
	enum web_outcome o = WO_OK;

	if (rt != R_NONE && rt != R_ADMIN && post != (rt == R_PRIMARY || rt == R_EVENTS))
		rt = R_BAD_METHOD;
	switch (rt) {
	case R_NONE:
		o = WO_NOT_FOUND;
		break;
	case R_BAD_METHOD:
		o = WO_BAD_METHOD;
		break;
	case R_HOME:
		o = WO_HOME;
		break;
	case R_HEALTH:
		rp->status = 200;
		rp->ctype = "text/plain; charset=utf-8";
		buf_adds(&rp->html, "ok\n");
		break;
	case R_LINK:
		o = h_link(sv, conn, path + 3, rp);
		break;
	case R_SYNC:
		o = h_sync(sv, conn, rp);
		break;
	case R_PRIMARY:
		o = h_primary(sv, conn, &r->body, rp);
		break;
	case R_DONE:
		o = h_done(sv, conn, rp);
		break;
	case R_CONNECT:
		o = h_connect(sv, conn, pl, rp);
		break;
	case R_CALLBACK:
		o = h_callback(sv, conn, pl, rp);
		break;
	case R_EVENTS:
		o = pl == PLAT_SLACK ? h_events_slack(sv, conn, &r->body, rp) :
		    pl == PLAT_TEAMS ? h_events_teams(sv, conn, &r->body, rp) :
		    h_events_webex(sv, conn, &r->body, rp);
		break;
	case R_ADMIN:
		o = h_admin(sv, conn, method, path, &r->body, rp);
		break;
	}
	if (o != WO_OK)
		outcome_page(sv, rp, o);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct server *sv = cls;
	struct req *r = *con_cls;
	struct reply rp;
	const char *path = url;
	size_t pn = strlen(sv->prefix);
	enum MHD_Result ret;

	(void)version;
	if (r == NULL) {
		const char *cl;
		long long n;
		r = xcalloc(1, sizeof(*r));
		r->t0 = ps_monotonic();
		*con_cls = r;
		r->cap = strncmp(url + (strncmp(url, sv->prefix, pn) == 0 ? pn : 0), "/events/",
		    8) == 0 ? EVENTS_BODY_MAX : BODY_MAX;
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (cl && (parse_ll(cl, 0, LLONG_MAX, &n) < 0 || n > (long long)r->cap))
			r->too_big = 1;
		if (strcmp(method, "GET") == 0 || strcmp(method, "POST") == 0) {
			if (!r->too_big)
				return MHD_YES;		/* the body (if any) comes next */
		}
	} else if (*upload_size != 0) {
		if (r->body.len + *upload_size > r->cap)
			r->too_big = 1;
		else
			buf_add(&r->body, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	guard_request(conn, 1);
	memset(&rp, 0, sizeof(rp));
	if (pn && strncmp(path, sv->prefix, pn) == 0 && (path[pn] == '/' || path[pn] == '\0'))
		path = path[pn] ? path + pn : "/";
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		outcome_page(sv, &rp, WO_ONLY_GET_POST);
	else if (r->too_big)
		outcome_page(sv, &rp, WO_TOO_BIG);
	else
		route(sv, conn, method, path, r, &rp);
	ret = send_reply(sv, conn, method, path, r, &rp);
	reply_free(&rp);
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)toe;
	guard_request(conn, 0);
	if (r == NULL)
		return;
	if (r->body.p)
		explicit_bzero(r->body.p, r->body.len);
	buf_free(&r->body);
	free(r);
	*con_cls = NULL;
}

/*
 * libmicrohttpd's messages: about one client's connection (reset, a header too large) at
 * info; trouble on our side (threads, memory) at warn. A start that fails is reported by
 * serve_run itself.
 */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct buf b = { 0 };

	(void)cls;
	buf_vprintf(&b, fmt, ap);
	while (b.len && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == '\r'))
		b.p[--b.len] = '\0';
	if (b.p && (strcasestr(b.p, "thread") || strcasestr(b.p, "memory")))
		log_warn("serve: libmicrohttpd: %s", b.p);
	else
		log_info("serve: libmicrohttpd: %s", b.p ? b.p : "");
	buf_free(&b);
}

/* public_url's origin, path prefix and scheme. 0 or -1. */
static int
parse_public(struct server *sv, const char *public_url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	size_t n;
	int rc = -1;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, public_url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	sv->secure = strcasecmp(scheme, "https") == 0;
	sv->origin = port ? xasprintf("%s://%s:%s", scheme, host, port) :
	    xasprintf("%s://%s", scheme, host);
	sv->prefix = xstrdup(path ? path : "");
	n = strlen(sv->prefix);
	while (n > 0 && sv->prefix[n - 1] == '/')
		sv->prefix[--n] = '\0';
	n = strlen(public_url);
	while (n > 0 && public_url[n - 1] == '/')
		n--;
	sv->base = xstrndup(public_url, n);
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

/* ADDR:PORT (ADDR may be [v6]) into a socket address; port 0 allowed here. 0 or -1. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	const char *colon = strrchr(s, ':');
	struct addrinfo hints, *res = NULL;
	char *host;
	int rc;

	if (colon == NULL || colon == s || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || strlen(colon + 1) > 5)
		return -1;
	host = xstrndup(s, (size_t)(colon - s));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	free(host);
	if (rc != 0 || res == NULL || res->ai_addrlen > sizeof(*ss)) {
		if (res)
			freeaddrinfo(res);
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* The OAuth clients people need: a warning for each enabled platform without one. */
static void
warn_unconfigured(const struct config *cfg)
{
	for (int p = 0; p < PLAT_COUNT; p++) {
		if (config_enabled(cfg, (enum platform)p) &&
		    !oauth_any_configured(cfg, (enum platform)p))
			log_warn("serve: %s: no %s.oauth.client_id / client_secret_file: people "
			    "cannot connect their %s accounts", platform_name((enum platform)p),
			    platform_name((enum platform)p),
			    oauth_platform_title((enum platform)p));
	}
}

struct server *
serve_new(const struct config *cfg, const char *listen, struct failure *f)
{
	struct server *sv;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;

	memset(&ss, 0, sizeof(ss));
	if (parse_listen(listen, &ss, &sslen) < 0) {
		fail_set(f, FAIL_USAGE, "serve: --listen: \"%s\" is not ADDR:PORT (like "
		    "127.0.0.1:8080)", listen);
		return NULL;
	}
	if (cfg->link_key == NULL) {
		fail_set(f, FAIL_CONFIG, "%s: link_key_file: not set; serve needs it to check "
		    "Sync now links", cfg->path);
		return NULL;
	}
	if (cfg->token_key == NULL) {
		fail_set(f, FAIL_CONFIG, "%s: token_key_file: not set; serve needs it to store "
		    "user tokens encrypted", cfg->path);
		return NULL;
	}
	warn_unconfigured(cfg);
	sv = xcalloc(1, sizeof(*sv));
	sv->cfg = cfg;
	sv->listen = xstrdup(listen);
	sv->addr = ss;
	if (parse_public(sv, cfg->public_url) < 0) {
		fail_set(f, FAIL_CONFIG, "%s: public_url: \"%s\" is not a URL", cfg->path,
		    cfg->public_url);
		serve_free(sv);
		return NULL;
	}
	return sv;
}

void
serve_free(struct server *sv)
{
	if (sv == NULL)
		return;
	free(sv->listen);
	free(sv->base);
	free(sv->prefix);
	free(sv->origin);
	free(sv);
}

/*
 * The listen socket, ours alone: SO_REUSEADDR (a restart need not wait for TIME_WAIT; on
 * Linux it never lets two sockets listen on one address) and no SO_REUSEPORT, so a second
 * serve on the same address fails here. The socket, or -1 with errno.
 */
static int
listen_socket(const struct server *sv)
{
	socklen_t len = sv->addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	int fd, one = 1, e;

	fd = socket(sv->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&sv->addr, len) < 0 || listen(fd, SOMAXCONN) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* The daemon on socket fd, one thread per connection, within this file's limits (NULL:
 * it could not start; it logged why). */
static struct MHD_Daemon *
start(struct server *sv, int fd)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_ERROR_LOG;

	/* the logger first: options before it would log through MHD's own (stderr) */
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, sv,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONN_LIMIT,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)CONN_PER_IP,
	    MHD_OPTION_NOTIFY_CONNECTION, guard_notify, sv->guard,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_END);
}

enum fail
serve_run(struct server *sv, struct store *st, struct failure *f)
{
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	sigset_t sigs;
	enum fail rc = FAIL_NONE;
	int sig = 0, fd;

	sv->st = st;
	pthread_mutex_init(&sv->wmu, NULL);

	/* signals go to sigwait() below: block them before MHD's threads inherit the mask */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((fd = listen_socket(sv)) < 0) {
		rc = fail_set(f, FAIL_LATER, "serve: cannot listen on %s: %s%s", sv->listen,
		    strerror(errno), errno == EADDRINUSE ? " (another serve, or another "
		    "program, listens there)" : "");
		goto out;
	}
	if ((sv->guard = guard_new()) == NULL) {
		close(fd);
		rc = fail_set(f, FAIL_LATER, "serve: cannot start a thread: %s", strerror(errno));
		goto out;
	}
	if ((d = start(sv, fd)) == NULL) {
		close(fd);
		rc = fail_set(f, FAIL_LATER, "serve: %s: the web server did not start",
		    sv->listen);
		goto out;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	log_info("serve: listening on %s (port %u) for %s", sv->listen, info ? info->port : 0u,
	    sv->base);
	while (sigwait(&sigs, &sig) != 0)
		;
	log_info("serve: %s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	MHD_stop_daemon(d);
	log_info("serve: stopped");
out:
	if (sv->guard)
		guard_free(sv->guard);
	sv->guard = NULL;
	pthread_mutex_destroy(&sv->wmu);
	sv->st = NULL;
	return rc;
}
