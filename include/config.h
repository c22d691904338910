/*
 * config.h — the libconfig file, validated once into a plain struct.
 *
 * Every key of docs/interface.md is accepted (also for features built later). Problems are
 * reported as "FILE:LINE: key.path: problem" on stderr (all of them, not just the first);
 * unknown keys get a "did you mean 'x'?" when a known key is close. Secrets are read from files
 * (mode must not allow group/other access) or from *_env environment variables, trailing
 * newline trimmed; they live only in this struct and never appear in any message.
 */
#ifndef PS_CONFIG_H
#define PS_CONFIG_H

#include <time.h>

enum platform { PLAT_SLACK = 0, PLAT_TEAMS = 1, PLAT_WEBEX = 2, PLAT_COUNT = 3 };

const char *platform_name(enum platform p);		/* "slack", "teams", "webex" */
int platform_parse(const char *s, enum platform *out);	/* 0 or -1 */


struct cfg_oauth {
	char	*authorize_url;		/* default per platform */
	char	*token_url;		/* default per platform */
	char	*client_id;
	char	*client_secret;		/* from client_secret_file / client_secret_env */
	char	*scopes;		/* user scopes; NULL: the scope table's (scopes_signin) */
};

struct cfg_rate {
	double	 per_second;		/* sustained rate of a token bucket */
	int	 burst;			/* bucket size */
};

/* Rate-limited endpoints of direct messages, per platform (token buckets): opening a DM
 * (Slack conversations.open, Teams POST /chats; Webex has none) and posting into it. */
enum { RATE_OPEN = 0, RATE_POST = 1, RATE_COUNT = 2 };

/*
 * What every platform has, read one way: cfg->plat[p].enabled, .api_url, .token ... The keys
 * keep their platform's names in the file (slack.page_limit, teams.page_size, webex.page_max
 * are all page_size here); the comments give each platform's key and default.
 */
struct cfg_platform {
	int		 enabled;		/* the block is present (or enabled = true) */
	char		*api_url;		/* slack.api_url "https://slack.com/api",
						   teams.graph_url "https://graph.microsoft.com/v1.0",
						   webex.api_url "https://webexapis.com/v1" */
	char		*token;			/* slack.bot_token_file, webex.token_file (or *_env);
						   required if enabled; Teams: NULL (app credentials) */
	char		*team_name;		/* teams.tenant_name (default tenant_id),
						   webex.org_name; Slack: from auth.test */
	int		 page_size;		/* slack.page_limit 1..1000 (200), teams.page_size
						   1..999 (999), webex.page_max 1..1000 (1000) */
	int		 include_guests;	/* prompt guests too; default 0 */
	struct cfg_rate	 rate[RATE_COUNT];	/* slack.rate.open (50/min, 5) and .post (1/s, 1),
						   teams.rate.chat and .post (2/s, 2),
						   webex.rate.post (5/s, 5) */
	struct cfg_oauth oauth;			/* the Sync now sign-in */
	char		*prompt_template;	/* NULL = built-in default */
	/* Slack only (a workspace): */
	char		*team_id;		/* slack.team_id: the workspace, when given (events
						   and prompts route by it before the first pull) */
	int		 org_wide;		/* slack.org_wide: an Enterprise Grid org-wide token;
						   the workspaces come from auth.teams.list */
	int		 index;			/* its place in the platform's instances */
};

/* What only Slack has. */
struct cfg_slack {
	int		 auto_sync;		/* default 0 */
	char		*signing_secret;	/* signing_secret_file / _env: the app's Signing
						   Secret, checks /events/slack; NULL = none */
};

/* What only Teams has: the app registration, the service user that sends prompts. */
struct cfg_teams {
	char		*login_url;		/* default "https://login.microsoftonline.com" */
	char		*tenant_id;		/* required if enabled */
	char		*client_id;		/* required if enabled */
	char		*client_secret;		/* client_secret_file / client_secret_env; required */
	char		*service_user_refresh_token_file; /* path (written back on rotation) */
	char		*service_user_refresh_token;	/* its contents when teams is enabled, or NULL */
	int		 use_delta;		/* default 1 */
};

struct domain_alias {
	char	*from;				/* lower-case domain, e.g. "corp.onmicrosoft.com" */
	char	*to;				/* lower-case canonical domain, e.g. "corp.com" */
};

struct config {
	char		*path;			/* the file loaded */
	char		*database;		/* LMDB env dir, default "/var/lib/peoplesync" */
	long long	 map_size_mb;		/* db.map_size_mb / top-level "map_size_mb": default 4096 */
	char		*public_url;		/* required; https unless loopback */
	char		*link_key_file;		/* path; contents loaded into link_key */
	unsigned char	*link_key;		/* raw bytes of the key file (>= 32 bytes), or NULL */
	size_t		 link_key_len;
	char		*token_key_file;	/* AES key for stored user tokens, optional */
	unsigned char	*token_key;		/* raw bytes of token_key_file (>= 32 bytes); without
						   it, 32 bytes derived from link_key (HKDF-SHA-256,
						   label "peoplesync token key v1"); NULL if neither */
	size_t		 token_key_len;
	int		 token_key_derived;	/* token_key came from link_key */
	int		 link_ttl_hours;	/* default 168 */

	struct cfg_platform plat[PLAT_COUNT];	/* indexed by enum platform; with
						   slack.workspaces, Slack's are the defaults */
	/* The instances pulled, config_ninst / config_inst read them: one per platform
	 * (&plat[p]), except Slack with slack.workspaces (a list of entries, each the
	 * defaults above overridden by the entry's keys). */
	struct cfg_platform *inst[PLAT_COUNT];
	int		 ninst[PLAT_COUNT];
	struct cfg_slack slack;
	struct cfg_teams teams;

	struct {
		struct domain_alias	*aliases;
		int			 naliases;
		enum platform		 order[PLAT_COUNT];	/* inferred-primary tie-break order */
		int			 norder;
	} identity;

	struct {
		int	 cooldown_hours;	/* default 72, 0..8760 */
		int	 max_prompts;		/* default 3, 1..100 */
		int	 quiet_start;		/* minute of day, default 20*60; -1 = no quiet hours */
		int	 quiet_end;		/* minute of day, default 8*60 */
		char	*default_tz;		/* default: the host's zone (TZ, else the
						   target of /etc/localtime, else "UTC") */
		const char *default_tz_from;	/* where default_tz came from (static):
						   "the config", "TZ", "/etc/localtime" */
		int	 stale_days;		/* pending longer than this is stale, default 14 */
		int	 batch_size;		/* prompts per run at most, default 10000 */
	} prompts;

	struct {
		char	*spool_dir;		/* default NULL (no spool) */
		int	 catchup_hours;		/* the catch-up's window, 0..144, default 2;
						   0: no catch-up */
		int	 subscriptions;		/* keep Graph subscriptions and Webex webhooks
						   (serve answers at public_url/events/...);
						   default 0 */
	} events;

	struct {
		int	 connect_timeout;	/* seconds, default 10 */
		int	 timeout;		/* seconds per request, default 60 */
		int	 retries;		/* default 5 */
		double	 max_retry_after;	/* seconds we will wait for one Retry-After, default 120 */
		char	*ca_file;		/* optional CA bundle (tests) */
		double	 backoff_base;		/* first retry delay, seconds, default 0.5 */
		double	 backoff_max;		/* retry delay cap, seconds, default 30 */
		long long max_body_mb;		/* response size cap, default 64 */
	} http;

	struct {
		double	 max_deactivate_share;	/* accidental-deactivation guard, default 0.10 */
		int	 min_roster_for_guard;	/* guard applies from this roster size, default 20 */
	} reconcile;

	struct {
		char	*file;			/* Prometheus textfile path, optional */
	} metrics;

	struct {
		char	*listen;		/* serve default "127.0.0.1:8080" */
	} serve;

	struct {
		char	**emails;		/* admin.emails, lower-cased; none: nobody */
		int	  nemails;
	} admin;
};

/* 1 when platform p is enabled in cfg (0 for a p out of range). */
int	config_enabled(const struct config *cfg, enum platform p);
/* How many instances platform p has (Slack workspace entries; 1 for the others, also for a
 * struct config not made by config_load), and instance i of them (0 <= i < that). */
int	config_ninst(const struct config *cfg, enum platform p);
const struct cfg_platform *config_inst(const struct config *cfg, enum platform p, int i);
/* The instance of platform p whose team_id is team (given in the config), or NULL. The
 * store learns the rest at each pull: reconcile's rec_instance is the lookup to use. */
const struct cfg_platform *config_inst_by_team(const struct config *cfg, enum platform p,
	    const char *team);

/*
 * Loads and validates path. On success returns 0 and fills *cfg (caller calls config_free).
 * On failure prints every problem to stderr as "path:line: key: problem" and returns -1
 * (the caller exits 78 / EX_CONFIG). A missing or unreadable file is
 * "path: cannot read: strerror".
 * check_files: flags. CONFIG_CHECK_FILES (1) also validates files the config names beyond
 * secrets (database dir creatable/writable, spool dir) as check-config does;
 * CONFIG_NO_SECRETS reads no secret, key or token file nor *_env variable (they stay NULL)
 * and requires no key: what the set-up commands need before the admin has filled them
 * (`slack-manifest`, `login teams`, which check what they use themselves).
 */
#define CONFIG_CHECK_FILES	0x1
#define CONFIG_NO_SECRETS	0x2
int	config_load(const char *path, struct config *cfg, int check_files);
void	config_free(struct config *cfg);

/* Parses a config from memory (for the embedded demo config and the fuzzer); name is used in
 * messages in place of a path. Same contract as config_load. */
int	config_load_string(const char *name, const char *text, struct config *cfg, int check_files);

/*
 * A new config file, as `peoplesync init` writes it (base/config_draft.c): every key with a
 * comment; keys the admin must choose (public_url, teams.tenant_id...) commented out until
 * given. Paths in draft_opts are absolute.
 */
struct buf;
struct config_draft;
struct draft_opts {
	int		 platform[PLAT_COUNT];	/* the platform blocks to write */
	const char	*dir;			/* key and secret files go here */
	const char	*database;
	const char	*spool_dir;
	const char	*public_url;		/* NULL: left for the admin */
};
/* sets: "KEY=VALUE", any single-valued key of the key table (of a platform written), value
 * checked against the key's type; it replaces the template's value or joins its group, and
 * a row storing into the same place (bot_token_file vs bot_token_env) is left out.
 * NULL after naming a refused --set on stderr. */
struct config_draft *config_draft_new(const struct draft_opts *o, char *const *sets,
	    size_t nsets);
void	config_draft_free(struct config_draft *d);
/* Appends the file's text (header: the opening comment) to out. */
void	config_draft_text(const struct config_draft *d, const char *header, struct buf *out);
/* The value key is written with (paths absolute unless a --set gave a relative one), or
 * NULL when the key is absent or commented out. Valid until config_draft_free. */
const char *config_draft_str(const struct config_draft *d, const char *key);
/* "required" or "wanted" when key is one the admin still has to set (commented out), else
 * NULL. */
const char *config_draft_unset(const struct config_draft *d, const char *key);

#endif
