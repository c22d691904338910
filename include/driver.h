/*
 * driver.h — what a platform driver offers. One struct of function pointers per platform
 * (drivers/slack.c ends with slack_driver); callers ask capabilities, never the platform name.
 */
#ifndef PS_DRIVER_H
#define PS_DRIVER_H

#include "config.h"
#include "fail.h"
#include "http.h"
#include "model.h"
#include "scopes.h"

#define DRV_CAP_DELTA	0x01u	/* pulls can be incremental (cursor_in from a previous run) */
#define DRV_CAP_DM	0x02u	/* can send direct messages */

/* Receives the accounts of each page as the pull goes; accounts are the driver's and are
 * freed after the call. Returns 0, or -1 to stop the pull (the pull then fails). */
struct pull_sink {
	int	(*page)(struct pull_sink *sink, struct account *accts, int n);
	/* Team display names learnt during the pull (optional, may be NULL). */
	void	(*team)(struct pull_sink *sink, const char *team_id, const char *name);
	void	*arg;
	/* 1 when the team's name is known and fresh (fetched by this instance within a day):
	 * the driver need not ask the platform again. May be NULL (then: ask). */
	int	(*team_known)(struct pull_sink *sink, const char *team_id);
};

struct pull_result {
	int	 complete;	/* reached the last page */
	int	 full;		/* a full roster (absent accounts may be swept) vs a delta */
	char	*cursor_out;	/* state to pass as cursor_in next run (delta link), or NULL */
	long	 pages;
	long	 accounts;
	char	 err[512];	/* on failure: "slack: GET users.list page 3: HTTP 503 ..." */
	enum fail cls;		/* on failure: FAIL_LATER (the platform or the network is
				   unavailable), FAIL_CONFIG (the credential is refused),
				   FAIL_DATA (an answer we cannot use), FAIL_IO (the sink) */
};
void	pull_result_free(struct pull_result *r);
/* A failed pull: res->cls = cls and res->err the formatted message. */
void	pull_fail(struct pull_result *res, enum fail cls, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The class of an HTTP answer a pull cannot use: 401 and 403 refuse the credential
 * (FAIL_CONFIG), 5xx is the platform's trouble (FAIL_LATER), anything else FAIL_DATA. */
enum fail drv_status_fail(long status);
/* accts grown to hold n accounts (*cap: what it holds). */
struct account *drv_accounts(struct account *accts, int *cap, int n);
/* One roster item of a page into an account: 0, or -1 when it is not one (a reason logged). */
typedef int (*drv_parse_fn)(const struct json *j, int item, const char *team,
    struct account *a);
/* Every item of array arr parsed by parse (team passed on) into *accts, grown as needed (*cap:
 * what it holds). Returns how many were accounts. */
int	drv_parse_items(const struct json *j, int arr, drv_parse_fn parse, const char *team,
	    struct account **accts, int *cap);
/* The one exit of a roster page loop: frees what it held (the next URL, the account array
 * whose accounts drv_page already freed, the cursor guard, the label, the last answer). */
struct cursor_guard;
void	drv_pull_free(char *url, struct account *accts, struct cursor_guard *g, struct buf *what,
	    struct json *j, struct http_resp *resp);
/* Hands one page's n accounts to the sink and frees them; counts the page. 0, or -1 when the
 * sink refused it (res->cls FAIL_IO; the sink says why in res->err, if anyone does). */
int	drv_page(struct pull_sink *sink, struct pull_result *res, struct account *accts, int n);

/*
 * A team's name from the platform, handed to sink->team(team, name): unless the sink knows
 * it fresh already, GET url (what in messages) and take the string at key (a json_path) of
 * the answer, or of its first "value" element when arr is set (Graph's collections).
 * Without an answer (a 403 for a missing permission...) the name is fallback (NULL: none),
 * and the reason is logged as a warning: a name never fails a pull.
 */
struct driver_ctx;
void	drv_team_name(struct driver_ctx *ctx, struct pull_sink *sink, const char *team,
	    const char *url, const char *what, int arr, const char *key, const char *fallback);

/* The DM token buckets of platform p from its config (rate.open / rate.chat and rate.post;
 * a platform without an "open" endpoint paces both by rate.post). */
struct driver_ctx;
void	drv_buckets_init(struct driver_ctx *ctx, enum platform p);
/* The instance ctx works for: ctx->pc, else platform p's one. */
const struct cfg_platform *drv_inst(const struct driver_ctx *ctx, enum platform p);


struct driver_ctx {
	const struct config	*cfg;
	const struct cfg_platform *pc;		/* the instance (a Slack workspace) whose token,
						   URL and rates to use; NULL: cfg->plat[p] */
	struct http_client	*http;
	void			*priv;		/* driver's own state */
	struct bucket		 rate[RATE_COUNT];	/* set by dm_init */
};

/* One direct message. channel: a known DM channel / chat id (cached), or NULL. */
struct dm {
	const struct account	*to;
	const char		*text;
	const char		*ref;		/* the reference the text carries */
	const char		*channel;
};

/* What a send or a look-up learnt. Strings are owned by the caller (free them). */
struct dm_out {
	char	*channel;	/* the DM channel / chat id used */
	char	*message_id;	/* the platform's id of the message */
};
void	dm_out_free(struct dm_out *o);

enum dm_rc {
	DM_OK = 0,
	DM_REFUSED = -1,	/* the platform refused it for good (user_not_found, 403, ...) */
	DM_UNAVAILABLE = -2	/* network, 5xx or rate limits beyond the retries: try later */
};

struct oauth_identity;

/*
 * Sync now's OAuth on one platform: what the grants of drivers/oauth.c need to know of it.
 * Hooks may be NULL where said; they never log or put a token into err.
 */
#define OAUTH_BASIC	0x1u	/* the client authenticates with HTTP Basic, not in the form */
#define OAUTH_PKCE	0x2u	/* PKCE S256: a challenge in the authorize URL, the verifier in
				   the code exchange */
#define OAUTH_SCOPED	0x4u	/* token requests repeat the scopes */
#define OAUTH_OK_FIELD	0x8u	/* an answer is good with HTTP 200 and "ok": true only */

struct driver_oauth {
	unsigned	 flags;
	const char	*endpoint;	/* the token endpoint in errors: "oauth.v2.access" */
	/* The authorize URL's query, in order: "client_id", "redirect_uri", "state", the
	 * scopes under their parameter name ("scope", "user_scope"), "code_challenge" (with
	 * code_challenge_method=S256, when there is a challenge), or "name=value" as is. */
	const char *const *authorize;
	/* err after "what: " when a code exchange's answer has no access token; NULL: "no
	 * access_token in the answer". */
	const char	*no_token;
	/* Where a token answer keeps the tokens (exchange: the code exchange's, else a
	 * refresh's): 0 (top level), a nested object's index, or -1. NULL: the top level. */
	int	(*tokens_at)(const struct json *j, int exchange);
	/* Who signed in, after the code exchange. identity: NULL, or reads it from the answer
	 * j: 0, or -1 with err ("slack: what: no team.id ..."). Else the platform is asked:
	 * GET me(cfg) (a URL the caller frees) with the new token, me_what in errors; the user
	 * is the answer's "id", the team its team_key, or team(cfg) when team_key is NULL. */
	int	(*identity)(const struct json *j, const char *what, struct oauth_identity *id,
		    char *err, size_t errlen);
	char	*(*me)(const struct config *cfg);
	const char	*me_what;
	const char	*team_key;
	const char	*(*team)(const struct config *cfg);
	/* A refused refresh: 1 when the grant is dead (the person must sign in again), given
	 * the HTTP status, the answer's error code (made safe) and the answer. */
	int	(*grant_dead)(long status, const char *code, const struct json *j);
	/* NULL, or more about a refused token answer for err (" (AADSTS70000)"). */
	void	(*error_detail)(const struct json *j, char *out, size_t outlen);
};

/*
 * Events (issue 11): the subscriptions that make a platform send serve its message events
 * (Graph change-notification subscriptions, Webex webhooks), and the direct-message history
 * the catch-up reads. Every call takes a token of ctx->rate[RATE_OPEN] first (the DM
 * buckets, so events and prompts share one pace per platform) and goes through the HTTP
 * core (retries, Retry-After). Results: EV_OK; EV_GONE when the platform does not know the
 * subscription (HTTP 404 or 410); EV_FAIL with err naming platform, call and HTTP status
 * ("teams: POST subscriptions: HTTP 400, error InvalidRequest") and *cls FAIL_LATER (no
 * answer, 5xx, 429 beyond the retries), FAIL_CONFIG (the credential refused: 401, 403) or
 * FAIL_DATA (the request refused). No token or secret ever goes into err.
 */
#define EV_OK		0
#define EV_GONE		1
#define EV_FAIL		(-1)

enum evsub_op {
	EVSUB_CREATE,		/* a new subscription: o->id (and o->expires for Graph) */
	EVSUB_RENEW,		/* Graph: PATCH expirationDateTime = s->expires */
	EVSUB_REACTIVATE,	/* Webex: PUT status=active */
	EVSUB_DELETE,
	EVSUB_GET		/* o->inactive (Webex status), o->expires (Graph) */
};

struct evsub {
	const char	*id;		/* the platform's id (all but create) */
	const char	*user;		/* the watched account's user id (create) */
	const char	*token;		/* the person's access token (Webex: a webhook is its
					   creator's), NULL: the app's credential (Graph) */
	const char	*secret;	/* clientState / webhook secret (create, reactivate) */
	const char	*url;		/* where the platform posts (create, reactivate) */
	time_t		 expires;	/* Graph: wanted expiry (create, renew) */
};

struct evsub_out {
	char	*id;			/* create: the new subscription's id (caller frees) */
	time_t	 expires;		/* Graph: the expiry the platform granted */
	int	 inactive;		/* get: Webex says status "inactive" */
};

/* One direct message found in a history: to the watched user, from someone else. */
struct ev_msg {
	const char	*key;		/* the inbox key (include/inbox.h): "slack:CHANNEL/TS",
					   "teams:CHAT_ID/MESSAGE_ID", "webex:MESSAGE_ID" */
	const char	*from;		/* the sender's user id */
	time_t		 ts;
};

struct ev_history {
	const char	*user;		/* whose direct messages */
	const char	*token;		/* their access token (Slack, Webex), NULL: the app's */
	time_t		 since;		/* messages before this are not visited */
	size_t		 max_rooms;	/* direct conversations looked at, at most */
	/* each message received; 0 goes on, -1 stops (the call then returns EV_FAIL with
	 * *cls FAIL_IO and err left to the callback) */
	int		(*cb)(const struct ev_msg *m, void *arg);
	void		*arg;
};

/*
 * check-config --online: what a driver's credentials proved, one entry per credential (the
 * bot token, the app registration, the service user...). The engine compares each granted
 * list with the scope table (scopes.h) and prints the rest.
 */
#define DRV_GRANTS_MAX	4
struct drv_grant {
	enum scope_holder holder;	/* whose scopes these are, or SH_COUNT: none to compare */
	char		*label;		/* "bot token", "service user" */
	char		*who;		/* what the platform said it is: "team T1 (Acme), bot U1" */
	char		*granted;	/* the scopes the platform says it granted; NULL: it does
					   not say (nothing is compared) */
};
struct drv_check {
	struct drv_grant g[DRV_GRANTS_MAX];
	int		 n;
	enum fail	 cls;		/* on -1: FAIL_LATER (no answer, 5xx), FAIL_CONFIG (a
					   credential refused), FAIL_DATA (an answer we cannot use) */
	char		 err[512];
};
/* Adds a grant (strings copied; granted may be NULL). */
void	drv_check_add(struct drv_check *c, enum scope_holder holder, const char *label,
	    const char *who, const char *granted);
void	drv_check_free(struct drv_check *c);
/* Sets c->cls (c->err already says why); returns -1. */
int	drv_check_fail(struct drv_check *c, enum fail cls);

/*
 * The OAuth 2.0 device authorization grant (RFC 8628) of a platform's own user (Teams: the
 * service user that sends the prompts), as `peoplesync login` runs it (drivers/devicegrant.c).
 * URLs are the caller's to free; holder names the scopes asked for (scopes.h).
 */
struct driver_device {
	char	*(*device_url)(const struct config *cfg);	/* device authorization */
	char	*(*token_url)(const struct config *cfg);
	const char *(*client_id)(const struct config *cfg);
	const char *(*token_file)(const struct config *cfg);	/* where the refresh token goes */
	/* The first key the grant needs that cfg lacks ("teams.tenant_id"), or NULL. */
	const char *(*missing)(const struct config *cfg);
	const char	*token_key;	/* its config key, for messages */
	enum scope_holder holder;
};

struct driver {
	enum platform	 platform;
	const char	*name;
	const char	*title;		/* in pages: "Microsoft Teams" */
	unsigned	 caps;
	const struct driver_oauth *oauth;	/* Sync now's grants */
	/* Direct-message markup (Slack mrkdwn, Teams HTML, Webex markdown): the prompt text
	 * when the config has none ({first_name}, {link}, {ref} filled in), and what a
	 * character of a name becomes in it (escape[c] for c < 128, NULL: itself). */
	const char		*prompt_default;
	const char *const	*escape;
	/* Sets up ctx->priv (tokens...). 0 or -1 with err. */
	int	(*init)(struct driver_ctx *ctx, char *err, size_t errlen);
	void	(*fini)(struct driver_ctx *ctx);
	/* Pulls the roster. cursor_in: from the previous complete pull (DRV_CAP_DELTA) or NULL.
	 * Returns 0 when the last page was reached, -1 otherwise (res->err says why). */
	int	(*pull)(struct driver_ctx *ctx, const char *cursor_in, struct pull_sink *sink,
		    struct pull_result *res);
	/* Direct messages (DRV_CAP_DM). dm_init sets up the sender's credentials and ctx->rate
	 * from the config. dm_send opens the DM (when needed) and posts; dm_find looks for a
	 * message carrying m->ref in the DM history (after a crash left a prompt in doubt):
	 * *found = 1 and o filled when it is there. All return enum dm_rc with err set. */
	int	(*dm_init)(struct driver_ctx *ctx, char *err, size_t errlen);
	int	(*dm_send)(struct driver_ctx *ctx, const struct dm *m, struct dm_out *o,
		    char *err, size_t errlen);
	int	(*dm_find)(struct driver_ctx *ctx, const struct dm *m, int *found,
		    struct dm_out *o, char *err, size_t errlen);
	/* The account's own time zone where the roster does not carry it (Graph: its
	 * mailbox's, a request per person; NULL elsewhere). 0 with *tz (an IANA name the
	 * caller frees, or NULL: none known), or -1 with err, and *denied = 1 when the app
	 * lacks the permission (ask no more this run). Needs init first. */
	int	(*zone)(struct driver_ctx *ctx, const struct account *a, char **tz, int *denied,
		    char *err, size_t errlen);
	/* Events (see above); NULL where the platform needs none (Slack has no per-person
	 * subscription). ev_init sets up the app's credential and ctx->rate (as dm_init, but
	 * without the sender's credentials): 0 or -1 with err. ev_sub, ev_history: EV_*. */
	int	(*ev_init)(struct driver_ctx *ctx, char *err, size_t errlen);
	int	(*ev_sub)(struct driver_ctx *ctx, enum evsub_op op, const struct evsub *s,
		    struct evsub_out *o, enum fail *cls, char *err, size_t errlen);
	int	(*ev_history)(struct driver_ctx *ctx, const struct ev_history *h,
		    enum fail *cls, char *err, size_t errlen);
	/* check-config --online (after init): one request per credential, proving it and
	 * filling c with what it may do. 0, or -1 with c->cls and c->err. */
	int	(*check)(struct driver_ctx *ctx, struct drv_check *c);
	/* NULL, or the device grant of the platform's own user (`peoplesync login`). */
	const struct driver_device *device;
};

/*
 * The scaffolding of every direct-message call, shared by the drivers: drv_dm_call gets the
 * credential (when the call names a hook for it), takes a token of bucket which (sleeping
 * until there is one), sends rq, restarts the bucket's refill when the answer arrives (and
 * after a throttled call, a 429 seen by the HTTP core, empties it so no burst follows), and
 * maps the answer through status. A 401 renews the credential once (force) and repeats the
 * call: a 401 is no message sent. Returns enum dm_rc with err set: DM_UNAVAILABLE when no
 * answer came (err from the HTTP core), else what status or credential said. On DM_OK,
 * a->j holds the 2xx answer. dm_answer_free(a) after any outcome.
 */
struct dm_answer {
	struct http_resp	 resp;
	struct json		*j;		/* the parsed body (owned) */
	enum fail		 cls;		/* unless DM_OK: FAIL_LATER (no answer, the
						   platform's trouble), FAIL_CONFIG, FAIL_DATA */
};
void	dm_answer_free(struct dm_answer *a);

struct dm_call {
	int		 which;		/* bucket: RATE_OPEN or RATE_POST */
	struct http_req	 rq;		/* rq.once for a post: never repeated blindly */
	/* The platform's reading of an answer that came, err set unless FAIL_NONE:
	 * FAIL_DATA refuses the message (DM_REFUSED), FAIL_LATER or FAIL_CONFIG (the
	 * credential's trouble, not the message's) leave it for later (DM_UNAVAILABLE). */
	enum fail (*status)(const struct http_resp *resp, const struct json *j,
		    const char *what, char *err, size_t errlen);
	/* NULL, or (re)gets the credential (force: even if it looks valid); enum dm_rc. */
	int	(*credential)(struct driver_ctx *ctx, int force, char *err, size_t errlen);
};
int	drv_dm_call(struct driver_ctx *ctx, const struct dm_call *c, struct dm_answer *a,
	    char *err, size_t errlen);
/* dm_find's look through a history: the first element of array arr (-1: none) whose text at
 * one of text_paths (NULL-terminated json_path paths) contains ref sets *found = 1 and
 * o->message_id from its id_key; else *found = 0. */
void	drv_dm_search(const struct json *j, int arr, const char *const *text_paths,
	    const char *id_key, const char *ref, int *found, struct dm_out *o);

/*
 * The scaffolding of the events calls, shared by the drivers: ev_call sends rq (with
 * credential, as drv_dm_call, on bucket RATE_OPEN) and reads the answer through status;
 * a 404 or 410 is EV_GONE. On EV_OK, a->j holds the 2xx answer (dm_answer_free(a) after
 * any outcome). evsub_out_free frees o's strings.
 */
int	ev_call(struct driver_ctx *ctx, const struct dm_call *c, struct dm_answer *a,
	    enum fail *cls, char *err, size_t errlen);
void	evsub_out_free(struct evsub_out *o);

extern const struct driver slack_driver;
extern const struct driver graph_driver;
extern const struct driver webex_driver;

/*
 * Platform data is hostile: the parsers keep what they store bounded. A display name keeps
 * its first DRV_NAME_MAX bytes (cut at a UTF-8 character boundary); a time zone longer than
 * DRV_TZ_MAX is dropped; an address longer than DRV_EMAIL_MAX (RFC 5321's 254) is no address
 * and is not added (a cut one could be someone else's). Ids are left whole: the store
 * refuses one it cannot key, and the pull then fails cleanly.
 */
#define DRV_NAME_MAX	1024
#define DRV_TZ_MAX	64
#define DRV_EMAIL_MAX	254
void	drv_clip_account(struct account *a);
/* account_add_email unless the address is empty or longer than DRV_EMAIL_MAX; 1 if added */
int	drv_add_email(struct account *a, const char *email, enum link_how how);

struct json;
/* Page parsers, exposed for unit tests and fuzzing. Map one user object (token m of j) to an
 * account (raw addresses, not yet normalised); 0, or -1 when it has no usable id. */
int	slack_parse_member(const struct json *j, int m, const char *default_team,
	    struct account *a);
int	graph_parse_user(const struct json *j, int u, const char *tenant, struct account *a);
int	webex_parse_person(const struct json *j, int p, struct account *a);

/* The driver of platform p, or NULL when not built. */
const struct driver *driver_for(enum platform p);

#endif
