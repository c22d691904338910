/*
 * config_keys.c — the key table (every key with its type, bounds, default and place in struct
 * config) and what every part of the loader uses: problem reporting, looking a key up.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libconfig.h>

#include "config_p.h"
#include "util.h"

#define NP	(-1)
#define SL	PLAT_SLACK
#define TM	PLAT_TEAMS
#define WX	PLAT_WEBEX
#define O(m)	offsetof(struct config, m)

#define GROUP(p, pl)		{ p, K_GROUP, pl, 0, 0, 0, 0, 0, 0, 0, NULL }
#define BOOL(p, pl, m, d)	{ p, K_BOOL, pl, 0, O(m), 0, 0, 0, 1, d, NULL }
#define INT(p, pl, m, lo, hi, d) { p, K_INT, pl, 0, O(m), 0, 0, lo, hi, d, NULL }
#define FLOAT(p, pl, m, lo, hi, d) { p, K_FLOAT, pl, 0, O(m), 0, 0, lo, hi, d, NULL }
#define STR(p, k, pl, fl, m, d)	{ p, k, pl, fl, O(m), 0, 0, 0, 0, 0, d }
#define SECRET(p, pl, fl, m) \
	{ p "_file", K_SECRET_FILE, pl, fl, O(m), 0, 0, 0, 0, 0, NULL }, \
	{ p "_env", K_SECRET_ENV, pl, 0, O(m), 0, 0, 0, 0, 0, NULL }
/* A token bucket: per_second or per_minute (one of them), and burst. */
#define RATE(p, pl, m, ps, bst) \
	GROUP(p, pl), \
	FLOAT(p ".per_second", pl, m.per_second, 0.001, 1000, ps), \
	{ p ".per_minute", K_RATE_MIN, pl, F_ALIAS, O(m.per_second), 0, 0, 0.1, 60000, 0, NULL }, \
	INT(p ".burst", pl, m.burst, 1, 1000, bst)
/* token_url (and teams' authorize_url) default from the API base in finish(); scopes
 * default to the sign-in's row of the scope table (drivers/scopes.c, scopes_signin). */
#define OAUTH(p, pl, m, authorize, scp) \
	GROUP(p, pl), \
	STR(p ".authorize_url", K_URL, pl, 0, m.authorize_url, authorize), \
	STR(p ".token_url", K_URL, pl, 0, m.token_url, NULL), \
	STR(p ".client_id", K_ID, pl, 0, m.client_id, NULL), \
	SECRET(p ".client_secret", pl, 0, m.client_secret), \
	STR(p ".scopes", K_STR, pl, 0, m.scopes, scp)

const struct key cfg_keys[] = {
	STR("database", K_PATH, NP, 0, database, "/var/lib/peoplesync"),
	{ "map_size_mb", K_LLONG, NP, 0, O(map_size_mb), 0, 0, 1, 1048576, 4096, NULL },
	GROUP("db", NP),
	{ "db.map_size_mb", K_LLONG, NP, F_ALIAS, O(map_size_mb), 0, 0, 1, 1048576, 0, NULL },
	STR("public_url", K_URL, NP, F_REQ, public_url, NULL),
	{ "link_key_file", K_KEY_FILE, NP, 0, O(link_key_file), O(link_key), O(link_key_len),
	  0, 0, 0, NULL },
	{ "token_key_file", K_KEY_FILE, NP, 0, O(token_key_file), O(token_key), O(token_key_len),
	  0, 0, 0, NULL },
	INT("link_ttl_hours", NP, link_ttl_hours, 1, 8760, 168),

	GROUP("slack", SL),
	BOOL("slack.enabled", SL, plat[PLAT_SLACK].enabled, 0),
	STR("slack.api_url", K_URL, SL, 0, plat[PLAT_SLACK].api_url, "https://slack.com/api"),
	SECRET("slack.bot_token", SL, F_REQ, plat[PLAT_SLACK].token),
	BOOL("slack.auto_sync", SL, slack.auto_sync, 0),
	SECRET("slack.signing_secret", SL, 0, slack.signing_secret),
	INT("slack.page_limit", SL, plat[PLAT_SLACK].page_size, 1, 1000, 200),
	BOOL("slack.include_guests", SL, plat[PLAT_SLACK].include_guests, 0),
	GROUP("slack.rate", SL),
	RATE("slack.rate.open", SL, plat[PLAT_SLACK].rate[RATE_OPEN], 50.0 / 60.0, 5),
	RATE("slack.rate.post", SL, plat[PLAT_SLACK].rate[RATE_POST], 1, 1),
	OAUTH("slack.oauth", SL, plat[PLAT_SLACK].oauth, "https://slack.com/oauth/v2/authorize",
	    NULL),
	STR("slack.prompt_template", K_TEXT, SL, 0, plat[PLAT_SLACK].prompt_template, NULL),
	STR("slack.team_id", K_ID, SL, 0, plat[PLAT_SLACK].team_id, NULL),
	STR("slack.team_name", K_STR, SL, 0, plat[PLAT_SLACK].team_name, NULL),
	BOOL("slack.org_wide", SL, plat[PLAT_SLACK].org_wide, 0),
	{ "slack.workspaces", K_WORKSPACES, SL, 0, 0, 0, 0, 0, 0, 0, NULL },

	GROUP("teams", TM),
	BOOL("teams.enabled", TM, plat[PLAT_TEAMS].enabled, 0),
	STR("teams.graph_url", K_URL, TM, 0, plat[PLAT_TEAMS].api_url, "https://graph.microsoft.com/v1.0"),
	STR("teams.login_url", K_URL, TM, 0, teams.login_url, "https://login.microsoftonline.com"),
	STR("teams.tenant_id", K_TENANT, TM, F_REQ, teams.tenant_id, NULL),
	STR("teams.tenant_name", K_STR, TM, 0, plat[PLAT_TEAMS].team_name, NULL),
	STR("teams.client_id", K_ID, TM, F_REQ, teams.client_id, NULL),
	SECRET("teams.client_secret", TM, F_REQ, teams.client_secret),
	{ "teams.service_user_refresh_token_file", K_TOKEN_FILE, TM, 0,
	  O(teams.service_user_refresh_token_file), O(teams.service_user_refresh_token), 0,
	  0, 0, 0, NULL },
	INT("teams.page_size", TM, plat[PLAT_TEAMS].page_size, 1, 999, 999),
	BOOL("teams.use_delta", TM, teams.use_delta, 1),
	BOOL("teams.include_guests", TM, plat[PLAT_TEAMS].include_guests, 0),
	GROUP("teams.rate", TM),
	RATE("teams.rate.chat", TM, plat[PLAT_TEAMS].rate[RATE_OPEN], 2, 2),
	RATE("teams.rate.post", TM, plat[PLAT_TEAMS].rate[RATE_POST], 2, 2),
	OAUTH("teams.oauth", TM, plat[PLAT_TEAMS].oauth, NULL, NULL),
	STR("teams.prompt_template", K_TEXT, TM, 0, plat[PLAT_TEAMS].prompt_template, NULL),

	GROUP("webex", WX),
	BOOL("webex.enabled", WX, plat[PLAT_WEBEX].enabled, 0),
	STR("webex.api_url", K_URL, WX, 0, plat[PLAT_WEBEX].api_url, "https://webexapis.com/v1"),
	SECRET("webex.token", WX, F_REQ, plat[PLAT_WEBEX].token),
	STR("webex.org_name", K_STR, WX, 0, plat[PLAT_WEBEX].team_name, NULL),
	INT("webex.page_max", WX, plat[PLAT_WEBEX].page_size, 1, 1000, 1000),
	BOOL("webex.include_guests", WX, plat[PLAT_WEBEX].include_guests, 0),
	GROUP("webex.rate", WX),
	RATE("webex.rate.post", WX, plat[PLAT_WEBEX].rate[RATE_POST], 5, 5),
	OAUTH("webex.oauth", WX, plat[PLAT_WEBEX].oauth, NULL, NULL),
	STR("webex.prompt_template", K_TEXT, WX, 0, plat[PLAT_WEBEX].prompt_template, NULL),

	GROUP("identity", NP),
	{ "identity.domain_aliases", K_ALIASES, NP, 0, O(identity.aliases), 0, 0, 0, 0, 0, NULL },
	{ "identity.platform_order", K_ORDER, NP, 0, O(identity.order), 0, 0, 0, 0, 0, NULL },

	GROUP("prompts", NP),
	INT("prompts.cooldown_hours", NP, prompts.cooldown_hours, 0, 8760, 72),
	INT("prompts.max_prompts", NP, prompts.max_prompts, 1, 100, 3),
	{ "prompts.quiet_hours", K_QUIET, NP, 0, O(prompts.quiet_start), O(prompts.quiet_end), 0,
	  0, 0, 0, "20:00-08:00" },
	STR("prompts.default_tz", K_TZ, NP, 0, prompts.default_tz, "UTC"),
	INT("prompts.stale_days", NP, prompts.stale_days, 1, 3650, 14),
	INT("prompts.batch_size", NP, prompts.batch_size, 1, 1000000, 10000),

	GROUP("events", NP),
	STR("events.spool_dir", K_PATH, NP, 0, events.spool_dir, NULL),
	INT("events.catchup_hours", NP, events.catchup_hours, 0, 144, 2),
	BOOL("events.subscriptions", NP, events.subscriptions, 0),

	GROUP("http", NP),
	INT("http.connect_timeout", NP, http.connect_timeout, 1, 600, 10),
	INT("http.timeout", NP, http.timeout, 1, 3600, 60),
	INT("http.retries", NP, http.retries, 0, 20, 5),
	FLOAT("http.max_retry_after", NP, http.max_retry_after, 0, 3600, 120),
	STR("http.ca_file", K_PATH, NP, 0, http.ca_file, NULL),
	FLOAT("http.backoff_base", NP, http.backoff_base, 0.001, 60, 0.5),
	FLOAT("http.backoff_max", NP, http.backoff_max, 0.001, 3600, 30),
	{ "http.max_body_mb", K_LLONG, NP, 0, O(http.max_body_mb), 0, 0, 1, 4096, 64, NULL },

	GROUP("reconcile", NP),
	FLOAT("reconcile.max_deactivate_share", NP, reconcile.max_deactivate_share, 0, 1, 0.10),
	INT("reconcile.min_roster_for_guard", NP, reconcile.min_roster_for_guard, 0, 10000000, 20),

	GROUP("metrics", NP),
	STR("metrics.file", K_PATH, NP, 0, metrics.file, NULL),

	GROUP("admin", NP),
	{ "admin.emails", K_EMAILS, NP, 0, O(admin.emails), 0, 0, 0, 0, 0, NULL },

	GROUP("serve", NP),
	STR("serve.listen", K_LISTEN, NP, 0, serve.listen, "127.0.0.1:8080"),
};

const size_t cfg_nkeys = ARRAY_LEN(cfg_keys);
static const char *const plat_names[PLAT_COUNT] = { "slack", "teams", "webex" };


const char *
platform_name(enum platform p)
{
	if ((unsigned)p >= PLAT_COUNT)
		return "?";
	return plat_names[p];
}

int
config_enabled(const struct config *cfg, enum platform p)
{
	return (unsigned)p < PLAT_COUNT && cfg->plat[p].enabled;
}

int
config_ninst(const struct config *cfg, enum platform p)
{
	if ((unsigned)p >= PLAT_COUNT)
		return 0;
	return cfg->inst[p] != NULL ? cfg->ninst[p] : 1;
}

const struct cfg_platform *
config_inst(const struct config *cfg, enum platform p, int i)
{
	if ((unsigned)p >= PLAT_COUNT || i < 0 || i >= config_ninst(cfg, p))
		return NULL;
	return cfg->inst[p] != NULL ? &cfg->inst[p][i] : &cfg->plat[p];
}

const struct cfg_platform *
config_inst_by_team(const struct config *cfg, enum platform p, const char *team)
{
	const struct cfg_platform *pc;

	for (int i = 0; team != NULL && i < config_ninst(cfg, p); i++)
		if ((pc = config_inst(cfg, p, i))->team_id != NULL && strcmp(pc->team_id, team) == 0)
			return pc;
	return NULL;
}

int
platform_parse(const char *s, enum platform *out)
{
	int p;

	for (p = 0; p < PLAT_COUNT; p++) {
		if (strcasecmp(s, plat_names[p]) == 0) {
			*out = (enum platform)p;
			return 0;
		}
	}
	return -1;
}

char **
cfg_str_at(struct config *c, size_t off)
{
	return (char **)(void *)((char *)c + off);
}

int *
cfg_int_at(struct config *c, size_t off)
{
	return (int *)(void *)((char *)c + off);
}

void
cfg_wipe_free(void *p, size_t n)
{
	if (p == NULL)
		return;
	explicit_bzero(p, n);
	free(p);
}

void
cfg_wipe_str(char **p)
{
	if (*p != NULL)
		cfg_wipe_free(*p, strlen(*p));
	*p = NULL;
}

void
cfg_set_str(struct config *c, size_t off, char *v)
{
	free(*cfg_str_at(c, off));
	*cfg_str_at(c, off) = v;
}

void
cfg_set_secret(struct config *c, size_t off, char *v)
{
	cfg_wipe_str(cfg_str_at(c, off));
	*cfg_str_at(c, off) = v;
}

int
cfg_find_key(const char *path)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(cfg_keys[i].path, path) == 0)
			return (int)i;
	return -1;
}

/* List elements may carry no line of their own; their list's line is the best we have. */
unsigned
cfg_setting_line(const config_setting_t *s)
{
	while (s != NULL && config_setting_source_line(s) == 0)
		s = config_setting_parent(s);
	return s != NULL ? config_setting_source_line(s) : 0;
}


/* "NAME:LINE: key: text" (no ":LINE" when line is 0, no "key: " when key is NULL). */
static void
vproblem(struct loader *ld, unsigned line, const char *key, const char *fmt, va_list ap)
{
	struct buf b = { 0 };

	buf_adds(&b, ld->name);
	if (line > 0)
		buf_printf(&b, ":%u", line);
	buf_adds(&b, ": ");
	if (key != NULL)
		buf_printf(&b, "%s: ", key);
	buf_vprintf(&b, fmt, ap);
	buf_addc(&b, '\n');
	fwrite(b.p, 1, b.len, stderr);
	fflush(stderr);
	buf_free(&b);
	ld->nerr++;
}

void
cfg_problem_at(struct loader *ld, unsigned line, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(ld, line, key, fmt, ap);
	va_end(ap);
}

void
cfg_problem(struct loader *ld, const config_setting_t *s, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(ld, s != NULL ? cfg_setting_line(s) : 0, key, fmt, ap);
	va_end(ap);
}

/* The setting given for path, or for another row storing into the same place. */
const config_setting_t *
cfg_given(const struct loader *ld, const char *path)
{
	int ki = cfg_find_key(path);
	size_t j;

	if (ki < 0)
		return NULL;
	if (ld->seen[ki] != NULL || cfg_keys[ki].kind == K_GROUP)
		return ld->seen[ki];
	for (j = 0; j < NKEYS; j++)
		if (cfg_keys[j].kind != K_GROUP && cfg_keys[j].off == cfg_keys[ki].off && ld->seen[j] != NULL)
			return ld->seen[j];
	return NULL;
}

const char *
cfg_type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:		return "an integer";
	case CONFIG_TYPE_FLOAT:		return "a float";
	case CONFIG_TYPE_STRING:	return "a string";
	case CONFIG_TYPE_BOOL:		return "a boolean";
	case CONFIG_TYPE_ARRAY:		return "an array";
	case CONFIG_TYPE_LIST:		return "a list";
	default:			return "nothing";
	}
}

void
cfg_wrong_type(struct loader *ld, const config_setting_t *s, const char *key, const char *want)
{
	cfg_problem(ld, s, key, "expected %s, not %s", want, cfg_type_name(s));
}


char *
cfg_resolve(const struct loader *ld, const char *p)
{
	size_t n = strlen(ld->base);

	if (p[0] == '/')
		return xstrdup(p);
	return xasprintf("%s%s%s", ld->base, n > 0 && ld->base[n - 1] == '/' ? "" : "/", p);
}


