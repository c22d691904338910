/*
 * scopes.h — what each platform's app must be granted, and why: the one table of scopes
 * (and Slack events) by feature. The Sync now sign-in asks for the user scopes it lists,
 * `login teams` and the Teams driver for the service user's, `slack-manifest` and
 * `webex-integration` print them, and `check-config --online` compares what a platform says
 * it granted with them, naming the feature of each missing scope. Also where each platform
 * calls back (the OAuth redirect URI under public_url), for the sign-in and the manifests.
 */
#ifndef PS_SCOPES_H
#define PS_SCOPES_H

#include "config.h"
#include "util.h"

/* Who holds a scope: one credential of one platform. */
enum scope_holder {
	SH_SLACK_BOT,		/* the Slack app's bot token (slack.bot_token_file) */
	SH_SLACK_USER,		/* the user tokens of the Slack sign-in (user_scope) */
	SH_TEAMS_APP,		/* application permissions of the Entra app registration */
	SH_TEAMS_SERVICE,	/* delegated permissions of the Teams service user */
	SH_TEAMS_USER,		/* delegated scopes of the Teams sign-in */
	SH_WEBEX_USER,		/* the Webex integration's scopes (its sign-in) */
	SH_COUNT
};

/* What the scopes are for. */
enum feature {
	FEAT_ROSTER,		/* "roster pull" */
	FEAT_DM,		/* "prompts by direct message" */
	FEAT_DM_LOOKUP,		/* "looking up a prompt in doubt" */
	FEAT_TEAM_NAME,		/* "team names" */
	FEAT_SIGNIN,		/* "Sync now sign-in" */
	FEAT_EVENTS,		/* "auto-prompt from direct messages (events)" */
	FEAT_CATCHUP,		/* "the catch-up of missed direct messages" (catchup_hours) */
	FEAT_SUBS,		/* "event subscriptions" (events.subscriptions) */
	FEAT_COUNT
};

const char *feature_name(enum feature f);
/* 1 when cfg uses feature f on the platform of holder h: its platform is enabled, and for
 * the catch-up events.catchup_hours > 0, for subscriptions events.subscriptions. */
int	feature_enabled(const struct config *cfg, enum scope_holder h, enum feature f);
/* The platform of a holder. */
enum platform scope_platform(enum scope_holder h);

/*
 * Appends to out the scopes holder h needs for the features cfg enables, in table order,
 * each once, separated by sep (Slack lists them with ',', Microsoft and Webex with ' ').
 * all: every scope, also those a token answer does not list (offline_access); else only
 * those a platform reports as granted.
 */
void	scopes_needed(const struct config *cfg, enum scope_holder h, char sep, int all,
	    struct buf *out);

/* The scopes the sign-in of platform p asks for: <p>.oauth.scopes when the config sets it,
 * else scopes_needed of its user holder. A string the caller frees. */
char	*scopes_signin(const struct config *cfg, enum platform p);

/*
 * Compares granted (a platform's list: separated by commas and/or spaces; Microsoft's
 * "https://graph.microsoft.com/" prefix ignored, case ignored) with what holder h needs.
 * Appends one line per missing scope to out: "SCOPE (needed by: FEATURE, FEATURE)\n".
 * Returns how many are missing.
 */
int	scopes_missing(const struct config *cfg, enum scope_holder h, const char *granted,
	    struct buf *out);

/* The Slack event types (Events API) that holder h must subscribe to for the features cfg
 * enables, as a JSON array of strings appended to out ("[]" when none). */
void	scope_events_json(const struct config *cfg, enum scope_holder h, struct buf *out);
/* 1 when holder h has any event to subscribe to. */
int	scope_has_events(const struct config *cfg, enum scope_holder h);

/* The OAuth redirect URI of platform p's sign-in under base (public_url; its trailing '/'s
 * dropped): base + "/oauth/" + platform + "/callback", appended to out. */
void	oauth_redirect_uri(const char *base, enum platform p, struct buf *out);

#endif
