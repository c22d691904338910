/*
 * web_p.h — private to web/: the server's state, a reply being built, the outcomes a
 * handler ends with (one table of status, title and text in pages.c), sessions and the
 * handlers of the Sync now flow.
 */
#ifndef PS_WEB_P_H
#define PS_WEB_P_H

#include <sys/socket.h>

#include <pthread.h>
#include <time.h>

#include <microhttpd.h>

#include "config.h"
#include "store.h"
#include "util.h"

struct server {
	const struct config	*cfg;
	struct store		*st;
	char			*listen;	/* as given, for the log */
	struct sockaddr_storage	 addr;		/* ... and parsed */
	char			*base;		/* public_url without a trailing '/' */
	char			*prefix;	/* its path ("" or "/sync-app") */
	char			*origin;	/* scheme://host[:port] */
	int			 secure;	/* https: cookies get Secure */
	pthread_mutex_t		 wmu;		/* serializes our write txns (sessions.c) */
	time_t			 last_sweep;
	struct guard		*guard;		/* slow connections (guard.c) */
};

struct reply {
	unsigned	 status;
	struct buf	 html;
	const char	*ctype;
	char		*location;
	char		*cookie;
	const char	*subject;	/* what an outcome's text names (a platform's title) */
	const char	*csp;		/* the page's Content-Security-Policy, NULL: the default */
	char		*disposition;	/* Content-Disposition of a download, or NULL */
	char		 note[400];	/* outcome for the log line: never a secret */
};

/*
 * How a request ends. A handler checks, notes what it found in rp->note and returns an
 * outcome; route() (serve.c) turns every outcome but WO_OK into its page through the one
 * table in pages.c (status, title, text, "what happens next", or a redirect). WO_OK: the
 * handler wrote its own page (the Sync now page, the confirmation); from a step a handler
 * calls (sess_load, load_person...): go on.
 */
enum web_outcome {
	WO_OK = 0,
	WO_HOME,
	WO_TO_SYNC,		/* 303 to /sync */
	WO_TO_DONE,		/* 303 to /done */
	WO_TO_SIGNIN,		/* 302 to rp->location, the platform's authorize page */
	WO_LINK_MALFORMED,
	WO_LINK_FORGED,
	WO_LINK_EXPIRED,
	WO_LINK_USED,		/* the link's flow completed before */
	WO_LINK_USED_MEANWHILE,	/* ... while this session was open */
	WO_PERSON_GONE,
	WO_STORE,
	WO_BUSY,		/* no room for another session now */
	WO_NO_SESSION,
	WO_NOTHING_TO_CONNECT,
	WO_STATE_MISMATCH,
	WO_STATE_SPENT,
	WO_SIGNIN_CANCELLED,
	WO_SIGNIN_INCOMPLETE,
	WO_EXCHANGE_FAILED,
	WO_NOT_YOURS,
	WO_SESSION_ENDED_SIGNIN,
	WO_FORM_EXPIRED,
	WO_NO_TEAM,
	WO_UNKNOWN_TEAM,
	WO_SESSION_ENDED_CONFIRM,
	WO_NOT_CONNECTED,
	WO_NOT_YOUR_TEAM,
	WO_NOT_FOUND,
	WO_BAD_METHOD,
	WO_ONLY_GET_POST,
	WO_TOO_BIG,
	WO_INTERNAL,
	WO_COUNT
};

/* ---- guard.c: a deadline for each request, the oldest waiting connections pushed out ---- */

/* The sweeper thread started (NULL with errno: it could not be); guard_free (g not NULL)
 * stops it, after MHD_stop_daemon. */
struct guard *guard_new(void);
void	guard_free(struct guard *g);
/* MHD_OPTION_NOTIFY_CONNECTION's callback (cls: the guard). */
void	guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
	    enum MHD_ConnectionNotificationCode code);
/* The connection's request is in (in != 0: no deadline while it is handled) or done (0: the
 * next one has the deadline). */
void	guard_request(struct MHD_Connection *conn, int in);

/* ---- pages.c ---- */

/*
 * Appends fmt to b: "%s" inserts an argument HTML-escaped, "%r" a trusted fragment as is,
 * "%%" a '%'. Every other character is copied.
 */
void	htmlf(struct buf *b, const char *fmt, ...);
/* The whole page: title (our text), body and the "what happens next" paragraph (HTML). */
void	page(struct reply *rp, unsigned status, const char *h1class, const char *title,
	    const char *body, const char *next);
/* The page of outcome o (o != WO_OK); a redirect's Location is under sv->base. */
void	outcome_page(const struct server *sv, struct reply *rp, enum web_outcome o);
/* Logs the store error we just hit (while wmu still keeps it ours) and notes it:
 * returns WO_STORE. */
enum web_outcome store_fail(const struct server *sv, struct reply *rp, const char *what);

/* ---- sessions.c ---- */

/* Equal strings, in time that depends on the length only (an empty a never matches). */
int	secret_eq(const char *a, const char *b);
/* The key of the request's session cookie: 0, or -1 when it has no well-formed cookie.
 * cookie_key_named: the same for the cookie name (the console's). */
int	cookie_key(struct MHD_Connection *conn, unsigned char key[SESSION_KEY_LEN]);
int	cookie_key_named(struct MHD_Connection *conn, const char *name,
	    unsigned char key[SESSION_KEY_LEN]);
/* SHA-256 of n bytes (a cookie, a state: what the store keeps of them). */
void	sha256(const void *data, size_t n, unsigned char out[SESSION_KEY_LEN]);
/* The request's session (read txn): WO_OK with *s filled (caller frees), or the outcome
 * of its absence (WO_NO_SESSION), of its link's expiry (WO_LINK_EXPIRED) or of a store
 * error, *s empty. */
enum web_outcome sess_load(struct server *sv, struct MHD_Connection *conn, struct reply *rp,
	    struct web_session *s);
/* A session lives no longer than its link: WO_OK while the link is valid (or the session
 * is done: its confirmation stays), else WO_LINK_EXPIRED (noted). sess_load and
 * load_person check it. */
enum web_outcome sess_link_live(const struct web_session *s, struct reply *rp);
/* Starts a session for a verified link: stored (the link's oldest session goes when it has
 * too many), expired ones swept now and then, and its cookie set in rp. WO_TO_SYNC, WO_BUSY
 * (too many sessions in all) or WO_STORE. */
enum web_outcome sess_start(struct server *sv, struct reply *rp, uint64_t person,
	    const unsigned char nonce[SESSION_NONCE_LEN], time_t link_expires, time_t now);
/* Re-reads the session of key in a write txn (another request may have changed it), lets
 * edit change it (edit returns 0) or leave it (non-zero), writes it back and commits:
 * 0, STORE_NOTFOUND (the session is gone, or edit left it) or -1 (store error, not logged). */
int	sess_update(struct server *sv, const unsigned char key[SESSION_KEY_LEN],
	    int (*edit)(struct web_session *cur, void *arg), void *arg);
/* A write txn, serialized with the other threads' (NULL: store error); end_write commits
 * (commit != 0: 0 or -1) or aborts it (0), and lets the next writer in. */
struct txn *begin_write(struct server *sv);
int	end_write(struct server *sv, struct txn *t, int commit);

/* ---- the handlers: link.c, sync.c, signin.c ---- */

enum web_outcome h_link(struct server *sv, struct MHD_Connection *conn, const char *token,
	    struct reply *rp);
enum web_outcome h_sync(struct server *sv, struct MHD_Connection *conn, struct reply *rp);
enum web_outcome h_primary(struct server *sv, struct MHD_Connection *conn,
	    const struct buf *body, struct reply *rp);
enum web_outcome h_done(struct server *sv, struct MHD_Connection *conn, struct reply *rp);
enum web_outcome h_connect(struct server *sv, struct MHD_Connection *conn, enum platform pl,
	    struct reply *rp);
enum web_outcome h_callback(struct server *sv, struct MHD_Connection *conn, enum platform pl,
	    struct reply *rp);

/* ---- the admin console (admin*.c, admin_p.h): every path under /admin ---- */
enum web_outcome h_admin(struct server *sv, struct MHD_Connection *conn, const char *method,
	    const char *path, const struct buf *body, struct reply *rp);

/* ---- the person of a session (sync.c) ---- */

/* Their active accounts. */
struct accts {
	struct account	*a;
	int		 n;
};
void	accts_free(struct accts *ac);
/* The person of a session and their active accounts (read or write txn t): WO_OK, or the
 * outcome that ends the request (link spent meanwhile, person gone, store error). */
enum web_outcome load_person(struct server *sv, struct txn *t, const struct web_session *s,
	    struct reply *rp, struct person *p, struct accts *ac);
/* The session and its person, for a page of the flow: WO_OK with a read txn open in *t,
 * WO_TO_DONE when the session is done, or the outcome that ends the request (*t, if not
 * NULL, is still open). The caller frees s, p and ac in every case. */
enum web_outcome flow_begin(struct server *sv, struct MHD_Connection *conn, struct reply *rp,
	    struct web_session *s, struct txn **t, struct person *p, struct accts *ac);
/* The instance whose OAuth client signs in account a (the Slack workspace entry of its
 * team, read in t), or NULL when that instance has no OAuth client. */
const struct cfg_platform *account_signin(const struct config *cfg, struct txn *t,
	    const struct account *a);
/* Platforms the person must connect: an active account there whose instance has an OAuth
 * client (account_signin; t a read or write txn). */
void	needed(const struct config *cfg, struct txn *t, const struct accts *ac,
	    int need[PLAT_COUNT]);


/* ---- events.c, events_slack.c, events_teams.c, events_webex.c: the platforms' event
 * receivers (docs/events.md): each verifies, deduplicates and commits to the inbox before
 * its 2xx; a refused request (401/403/413) records nothing ---- */

#define EVENTS_BODY_MAX	(256 * 1024)	/* bytes of an event request's body (413 above) */

/* One verified message event, for the inbox (strings owned). */
struct ev_item {
	char	*msgkey, *from, *to;
	time_t	 ts;
};
void	ev_item_free(struct ev_item *it);
/* rp becomes a short text/plain answer with status. */
void	ev_reply(struct reply *rp, unsigned status, const char *text);
/* A refusal: status (401, 403, 400, 413, 500) with a short text; the formatted reason
 * (never a secret nor message text) goes to rp->note for the log line. WO_OK. */
enum web_outcome ev_refuse(struct reply *rp, unsigned status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Lower-case hex HMAC (md_name "sha1" or "sha256") over the parts, in order, into out.
 * 0 or -1. */
int	ev_hmac_hex(const char *md_name, const void *key, size_t klen, const struct buf *parts,
	    int nparts, char *out, size_t outlen);
/* An id safe as a part of a message key: 1..max characters of [A-Za-z0-9-_.:@=+/]. */
int	ev_id_ok(const char *s, size_t max);
/* Commits items to the inbox in one write txn, counting "PLATFORM.events" and
 * ".duplicates", and runs also(t, arg) (when not NULL) in the same txn: 0 (*added = how
 * many were new) or -1 (store error, logged; nothing written). */
int	ev_commit(struct server *sv, const char *platform, struct ev_item *items, int n,
	    int (*also)(struct txn *t, void *arg), void *arg, int *added);

enum web_outcome h_events_slack(struct server *sv, struct MHD_Connection *conn,
	    const struct buf *body, struct reply *rp);
enum web_outcome h_events_teams(struct server *sv, struct MHD_Connection *conn,
	    const struct buf *body, struct reply *rp);
enum web_outcome h_events_webex(struct server *sv, struct MHD_Connection *conn,
	    const struct buf *body, struct reply *rp);

#endif
