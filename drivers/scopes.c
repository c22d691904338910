/*
 * scopes.c — the one table of what each platform's app must be granted, by feature
 * (include/scopes.h). A scope is added here, next to the call that needs it, and nowhere
 * else: the sign-in, `login teams`, the manifests and `check-config --online` all read it.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scopes.h"

#define QUIET	0x1u	/* asked for, but not listed in a token answer's granted scopes */

static const struct scope_row {
	enum scope_holder	 holder;
	const char		*scope;
	enum feature		 feat;
	unsigned		 flags;
} rows[] = {
	/* Slack bot: users.list, its profile.email; conversations.open + chat.postMessage;
	 * conversations.history of the DM for a prompt in doubt; team.info. */
	{ SH_SLACK_BOT, "users:read", FEAT_ROSTER, 0 },
	{ SH_SLACK_BOT, "users:read.email", FEAT_ROSTER, 0 },
	{ SH_SLACK_BOT, "chat:write", FEAT_DM, 0 },
	{ SH_SLACK_BOT, "im:write", FEAT_DM, 0 },
	{ SH_SLACK_BOT, "im:history", FEAT_DM_LOOKUP, 0 },
	{ SH_SLACK_BOT, "team:read", FEAT_TEAM_NAME, 0 },
	/* Slack sign-in: a user token (Slack issues none without a user scope); im:history on
	 * it delivers the message.im events of the DMs the person receives
	 * (platform-events.md 1.6). */
	{ SH_SLACK_USER, "users:read", FEAT_SIGNIN, 0 },
	{ SH_SLACK_USER, "users:read.email", FEAT_SIGNIN, 0 },
	{ SH_SLACK_USER, "im:history", FEAT_EVENTS, 0 },
	/* the catch-up: conversations.list?types=im, conversations.history (subscriptions.md) */
	{ SH_SLACK_USER, "im:read", FEAT_CATCHUP, 0 },
	{ SH_SLACK_USER, "im:history", FEAT_CATCHUP, 0 },
	/* Graph application permission: GET /users and /users/delta. */
	{ SH_TEAMS_APP, "User.Read.All", FEAT_ROSTER, 0 },
	/* GET /organization: the tenant's name (drivers/graph_more.c) */
	{ SH_TEAMS_APP, "Organization.Read.All", FEAT_TEAM_NAME, 0 },
	/* /users/{id}/chats/getAllMessages subscriptions, the catch-up's chats and messages */
	{ SH_TEAMS_APP, "Chat.Read.All", FEAT_SUBS, 0 },
	{ SH_TEAMS_APP, "Chat.Read.All", FEAT_CATCHUP, 0 },
	/* The service user: GET /me, POST /chats, POST and GET /chats/{id}/messages, and a
	 * refresh token (offline_access), which Microsoft does not list among the granted. */
	{ SH_TEAMS_SERVICE, "offline_access", FEAT_DM, QUIET },
	{ SH_TEAMS_SERVICE, "User.Read", FEAT_DM, 0 },
	{ SH_TEAMS_SERVICE, "Chat.Create", FEAT_DM, 0 },
	{ SH_TEAMS_SERVICE, "ChatMessage.Send", FEAT_DM, 0 },
	{ SH_TEAMS_SERVICE, "Chat.Read", FEAT_DM_LOOKUP, 0 },
	/* Teams sign-in: who signed in (GET /me), kept by a refresh token. */
	{ SH_TEAMS_USER, "openid", FEAT_SIGNIN, QUIET },
	{ SH_TEAMS_USER, "profile", FEAT_SIGNIN, QUIET },
	{ SH_TEAMS_USER, "email", FEAT_SIGNIN, QUIET },
	{ SH_TEAMS_USER, "offline_access", FEAT_SIGNIN, QUIET },
	{ SH_TEAMS_USER, "User.Read", FEAT_SIGNIN, 0 },
	/* Webex sign-in: GET /people/me. */
	{ SH_WEBEX_USER, "spark:people_read", FEAT_SIGNIN, 0 },
	/* a messages webhook made with the person's token; the catch-up's rooms and messages */
	{ SH_WEBEX_USER, "spark:messages_read", FEAT_SUBS, 0 },
	{ SH_WEBEX_USER, "spark:messages_read", FEAT_CATCHUP, 0 },
	{ SH_WEBEX_USER, "spark:rooms_read", FEAT_CATCHUP, 0 },
};

/* Slack Events API subscriptions, by the holder whose scope delivers them. */
static const struct {
	enum scope_holder	 holder;
	const char		*event;
	enum feature		 feat;
} events[] = {
	{ SH_SLACK_USER, "message.im", FEAT_EVENTS },
};

static const char *const feature_names[FEAT_COUNT] = {
	[FEAT_ROSTER] = "roster pull",
	[FEAT_DM] = "prompts by direct message",
	[FEAT_DM_LOOKUP] = "looking up a prompt in doubt",
	[FEAT_TEAM_NAME] = "team names",
	[FEAT_SIGNIN] = "Sync now sign-in",
	[FEAT_EVENTS] = "auto-prompt from direct messages (events)",
	[FEAT_CATCHUP] = "the catch-up of missed direct messages",
	[FEAT_SUBS] = "event subscriptions",
};

static const enum platform holder_platform[SH_COUNT] = {
	[SH_SLACK_BOT] = PLAT_SLACK, [SH_SLACK_USER] = PLAT_SLACK,
	[SH_TEAMS_APP] = PLAT_TEAMS, [SH_TEAMS_SERVICE] = PLAT_TEAMS,
	[SH_TEAMS_USER] = PLAT_TEAMS, [SH_WEBEX_USER] = PLAT_WEBEX,
};

/* The holder of each platform's sign-in. */
static const enum scope_holder signin_holder[PLAT_COUNT] = {
	[PLAT_SLACK] = SH_SLACK_USER, [PLAT_TEAMS] = SH_TEAMS_USER, [PLAT_WEBEX] = SH_WEBEX_USER,
};

const char *
feature_name(enum feature f)
{
	return (unsigned)f < FEAT_COUNT ? feature_names[f] : "?";
}

enum platform
scope_platform(enum scope_holder h)
{
	return holder_platform[h];
}

int
feature_enabled(const struct config *cfg, enum scope_holder h, enum feature f)
{
	/* The others are on where their platform is: prompts carry Sync now links, auto-prompt
	 * is switched at run time (auto-prompt on|off), so their grants must be in place. */
	if (!config_enabled(cfg, holder_platform[h]))
		return 0;
	if (f == FEAT_CATCHUP)
		return cfg->events.catchup_hours > 0;
	return f != FEAT_SUBS || cfg->events.subscriptions;
}

/* 1 when row i is the first of its holder with its scope among the enabled ones. */
static int
first_of(const struct config *cfg, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (rows[k].holder == rows[i].holder && strcmp(rows[k].scope, rows[i].scope) == 0 &&
		    feature_enabled(cfg, rows[k].holder, rows[k].feat))
			return 0;
	return 1;
}

void
scopes_needed(const struct config *cfg, enum scope_holder h, char sep, int all,
    struct buf *out)
{
	int n = 0;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		if (rows[i].holder != h || !feature_enabled(cfg, h, rows[i].feat) ||
		    (!all && (rows[i].flags & QUIET)) || !first_of(cfg, i))
			continue;
		if (n++)
			buf_addc(out, sep);
		buf_adds(out, rows[i].scope);
	}
}

char *
scopes_signin(const struct config *cfg, enum platform p)
{
	struct buf b = { 0 };
	const char *set = cfg->plat[p].oauth.scopes;

	if (set != NULL)
		return xstrdup(set);
	scopes_needed(cfg, signin_holder[p], p == PLAT_SLACK ? ',' : ' ', 1, &b);
	return b.p ? b.p : xstrdup("");
}

/* 1 when scope is in granted (see scopes_missing). */
static int
granted_has(const char *granted, const char *scope)
{
	static const char prefix[] = "https://graph.microsoft.com/";
	const char *p = granted, *end;
	size_t n = strlen(scope);

	while (*p != '\0') {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		for (end = p; *end != '\0' && *end != ',' && !isspace((unsigned char)*end); end++)
			;
		if ((size_t)(end - p) > sizeof(prefix) - 1 &&
		    strncasecmp(p, prefix, sizeof(prefix) - 1) == 0)
			p += sizeof(prefix) - 1;
		if ((size_t)(end - p) == n && strncasecmp(p, scope, n) == 0)
			return 1;
		p = end;
	}
	return 0;
}

int
scopes_missing(const struct config *cfg, enum scope_holder h, const char *granted,
    struct buf *out)
{
	int missing = 0;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		if (rows[i].holder != h || (rows[i].flags & QUIET) ||
		    !feature_enabled(cfg, h, rows[i].feat) || !first_of(cfg, i) ||
		    granted_has(granted ? granted : "", rows[i].scope))
			continue;
		buf_printf(out, "%s (needed by: ", rows[i].scope);
		/* every enabled feature that needs it, in table order */
		for (size_t k = i, n = 0; k < ARRAY_LEN(rows); k++)
			if (rows[k].holder == h && strcmp(rows[k].scope, rows[i].scope) == 0 &&
			    feature_enabled(cfg, h, rows[k].feat))
				buf_printf(out, "%s%s", n++ ? ", " : "", feature_name(rows[k].feat));
		buf_adds(out, ")\n");
		missing++;
	}
	return missing;
}

void
scope_events_json(const struct config *cfg, enum scope_holder h, struct buf *out)
{
	int n = 0;

	buf_addc(out, '[');
	for (size_t i = 0; i < ARRAY_LEN(events); i++) {
		if (events[i].holder != h || !feature_enabled(cfg, h, events[i].feat))
			continue;
		if (n++)
			buf_addc(out, ',');
		buf_json_str(out, events[i].event);
	}
	buf_addc(out, ']');
}

int
scope_has_events(const struct config *cfg, enum scope_holder h)
{
	for (size_t i = 0; i < ARRAY_LEN(events); i++)
		if (events[i].holder == h && feature_enabled(cfg, h, events[i].feat))
			return 1;
	return 0;
}

void
oauth_redirect_uri(const char *base, enum platform p, struct buf *out)
{
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	buf_add(out, base, n);
	buf_printf(out, "/oauth/%s/callback", platform_name(p));
}
