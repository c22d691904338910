/*
 * config.c — the libconfig file, validated once into struct config.
 *
 * One table (keys[] below) names every key with its type, bounds, default and where it is
 * stored. The table drives everything: defaults are applied from it, the parsed tree is walked
 * and each setting is looked up in it (unknown keys get a "did you mean"), and config_free()
 * releases what it names. Every problem is printed as "FILE:LINE: key: problem" and loading
 * goes on, so that one run shows them all.
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

#include "config.h"
#include "util.h"

#define CONFIG_MAX	(1024 * 1024)	/* bytes in a config file */
#define SECRET_MAX	65536		/* bytes in a secret file */
#define KEY_MIN		32		/* bytes in link_key_file / token_key_file */
#define STR_MAX		4096		/* bytes in a one-line string value */
#define TEXT_MAX	16384		/* bytes in a prompt template */

enum kind {
	K_GROUP,	/* { ... }; members are rows of their own */
	K_BOOL,		/* int */
	K_INT,		/* int in min..max */
	K_LLONG,	/* long long in min..max */
	K_FLOAT,	/* double in min..max; an integer is accepted */
	K_RATE_MIN,	/* per minute, stored per second (double) */
	K_STR,		/* one line of text */
	K_ID,		/* one line of text without spaces (client ids) */
	K_TENANT,	/* a tenant GUID or domain: [A-Za-z0-9.-] */
	K_TEXT,		/* text that may span lines (prompt templates) */
	K_URL,		/* https://host[:port][/path], http only to a loopback host */
	K_PATH,		/* resolved against the config file's directory */
	K_SECRET_FILE,	/* char * read from the file named */
	K_SECRET_ENV,	/* char * read from the environment variable named */
	K_KEY_FILE,	/* path at off, raw bytes at off2, length at off3 */
	K_TOKEN_FILE,	/* path at off, contents at off2 when the platform is enabled */
	K_QUIET,	/* "HH:MM-HH:MM" or "": minutes at off and off2 */
	K_TZ,		/* a tz database name */
	K_LISTEN,	/* ADDR:PORT */
	K_ALIASES,	/* identity.domain_aliases */
	K_ORDER,	/* identity.platform_order */
};

#define F_REQ	0x01	/* required (when its platform is enabled, if it has one) */
#define F_ALIAS	0x02	/* another row with the same off carries the default */

struct key {
	const char	*path;		/* dotted, as written in the file */
	enum kind	 kind;
	int		 plat;		/* platform whose enabled gates secrets and F_REQ, or -1 */
	int		 flags;
	size_t		 off, off2, off3;	/* into struct config */
	double		 min, max;	/* bounds of numbers */
	double		 def;		/* default of numbers and booleans */
	const char	*sdef;		/* default of strings */
};

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
/* token_url (and teams' authorize_url) default from the API base in finish(). */
#define OAUTH(p, pl, m, authorize, scp) \
	GROUP(p, pl), \
	STR(p ".authorize_url", K_URL, pl, 0, m.authorize_url, authorize), \
	STR(p ".token_url", K_URL, pl, 0, m.token_url, NULL), \
	STR(p ".client_id", K_ID, pl, 0, m.client_id, NULL), \
	SECRET(p ".client_secret", pl, 0, m.client_secret), \
	STR(p ".scopes", K_STR, pl, 0, m.scopes, scp)

static const struct key keys[] = {
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
	BOOL("slack.enabled", SL, slack.enabled, 0),
	STR("slack.api_url", K_URL, SL, 0, slack.api_url, "https://slack.com/api"),
	SECRET("slack.bot_token", SL, F_REQ, slack.bot_token),
	BOOL("slack.auto_sync", SL, slack.auto_sync, 0),
	INT("slack.page_limit", SL, slack.page_limit, 1, 1000, 200),
	BOOL("slack.include_guests", SL, slack.include_guests, 0),
	GROUP("slack.rate", SL),
	RATE("slack.rate.open", SL, slack.rate_open, 50.0 / 60.0, 5),
	RATE("slack.rate.post", SL, slack.rate_post, 1, 1),
	OAUTH("slack.oauth", SL, slack.oauth, "https://slack.com/oauth/v2/authorize",
	    "users:read,users:read.email"),
	STR("slack.prompt_template", K_TEXT, SL, 0, slack.prompt_template, NULL),

	GROUP("teams", TM),
	BOOL("teams.enabled", TM, teams.enabled, 0),
	STR("teams.graph_url", K_URL, TM, 0, teams.graph_url, "https://graph.microsoft.com/v1.0"),
	STR("teams.login_url", K_URL, TM, 0, teams.login_url, "https://login.microsoftonline.com"),
	STR("teams.tenant_id", K_TENANT, TM, F_REQ, teams.tenant_id, NULL),
	STR("teams.tenant_name", K_STR, TM, 0, teams.tenant_name, NULL),
	STR("teams.client_id", K_ID, TM, F_REQ, teams.client_id, NULL),
	SECRET("teams.client_secret", TM, F_REQ, teams.client_secret),
	{ "teams.service_user_refresh_token_file", K_TOKEN_FILE, TM, 0,
	  O(teams.service_user_refresh_token_file), O(teams.service_user_refresh_token), 0,
	  0, 0, 0, NULL },
	INT("teams.page_size", TM, teams.page_size, 1, 999, 999),
	BOOL("teams.use_delta", TM, teams.use_delta, 1),
	BOOL("teams.include_guests", TM, teams.include_guests, 0),
	GROUP("teams.rate", TM),
	RATE("teams.rate.chat", TM, teams.rate_chat, 2, 2),
	RATE("teams.rate.post", TM, teams.rate_post, 2, 2),
	OAUTH("teams.oauth", TM, teams.oauth, NULL,
	    "openid profile email offline_access User.Read"),
	STR("teams.prompt_template", K_TEXT, TM, 0, teams.prompt_template, NULL),

	GROUP("webex", WX),
	BOOL("webex.enabled", WX, webex.enabled, 0),
	STR("webex.api_url", K_URL, WX, 0, webex.api_url, "https://webexapis.com/v1"),
	SECRET("webex.token", WX, F_REQ, webex.token),
	STR("webex.org_name", K_STR, WX, 0, webex.org_name, NULL),
	INT("webex.page_max", WX, webex.page_max, 1, 1000, 1000),
	BOOL("webex.include_guests", WX, webex.include_guests, 0),
	GROUP("webex.rate", WX),
	RATE("webex.rate.post", WX, webex.rate_post, 5, 5),
	OAUTH("webex.oauth", WX, webex.oauth, NULL, "spark:people_read"),
	STR("webex.prompt_template", K_TEXT, WX, 0, webex.prompt_template, NULL),

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

	GROUP("serve", NP),
	STR("serve.listen", K_LISTEN, NP, 0, serve.listen, "127.0.0.1:8080"),
};

#define NKEYS	ARRAY_LEN(keys)

static const char *const plat_names[PLAT_COUNT] = { "slack", "teams", "webex" };

struct loader {
	const char		*name;		/* in messages */
	char			*base;		/* absolute dir that relative paths resolve against */
	struct config		*cfg;
	config_t		 lc;
	int			 nerr;
	int			 enabled[PLAT_COUNT];
	const config_setting_t	*seen[NKEYS];	/* the setting given for each row */
	unsigned		*bigline;	/* lines holding an integer libconfig wraps */
	size_t			 nbigline;
};

const char *
platform_name(enum platform p)
{
	if ((unsigned)p >= PLAT_COUNT)
		return "?";
	return plat_names[p];
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

static char **
str_at(struct config *c, size_t off)
{
	return (char **)(void *)((char *)c + off);
}

static int *
int_at(struct config *c, size_t off)
{
	return (int *)(void *)((char *)c + off);
}

static void
wipe_free(void *p, size_t n)
{
	if (p == NULL)
		return;
	explicit_bzero(p, n);
	free(p);
}

static void
wipe_str(char **p)
{
	if (*p != NULL)
		wipe_free(*p, strlen(*p));
	*p = NULL;
}

static void
set_str(struct config *c, size_t off, char *v)
{
	free(*str_at(c, off));
	*str_at(c, off) = v;
}

static void
set_secret(struct config *c, size_t off, char *v)
{
	wipe_str(str_at(c, off));
	*str_at(c, off) = v;
}

static int
find_key(const char *path)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].path, path) == 0)
			return (int)i;
	return -1;
}

/* List elements may carry no line of their own; their list's line is the best we have. */
static unsigned
setting_line(const config_setting_t *s)
{
	while (s != NULL && config_setting_source_line(s) == 0)
		s = config_setting_parent(s);
	return s != NULL ? config_setting_source_line(s) : 0;
}

static void problem_at(struct loader *, unsigned, const char *, const char *, ...)
    __attribute__((format(printf, 4, 5)));
static void problem(struct loader *, const config_setting_t *, const char *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

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

static void
problem_at(struct loader *ld, unsigned line, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(ld, line, key, fmt, ap);
	va_end(ap);
}

static void
problem(struct loader *ld, const config_setting_t *s, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(ld, s != NULL ? setting_line(s) : 0, key, fmt, ap);
	va_end(ap);
}

/* The setting given for path, or for another row storing into the same place. */
static const config_setting_t *
given(const struct loader *ld, const char *path)
{
	int ki = find_key(path);
	size_t j;

	if (ki < 0)
		return NULL;
	if (ld->seen[ki] != NULL || keys[ki].kind == K_GROUP)
		return ld->seen[ki];
	for (j = 0; j < NKEYS; j++)
		if (keys[j].kind != K_GROUP && keys[j].off == keys[ki].off && ld->seen[j] != NULL)
			return ld->seen[j];
	return NULL;
}

static const char *
type_name(const config_setting_t *s)
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

static void
wrong_type(struct loader *ld, const config_setting_t *s, const char *key, const char *want)
{
	problem(ld, s, key, "expected %s, not %s", want, type_name(s));
}

/*
 * Relative paths resolve against the directory of the config file (the current directory for
 * a config from memory), made absolute so that a later chdir changes nothing.
 */
static char *
base_dir(const char *file)
{
	char cwd[PATH_MAX];
	const char *slash = file != NULL ? strrchr(file, '/') : NULL;
	char *dir, *abs;

	if (slash == file && slash != NULL)
		return xstrdup("/");
	dir = slash != NULL ? xstrndup(file, (size_t)(slash - file)) : xstrdup(".");
	if (dir[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return dir;
	if (strcmp(dir, ".") == 0)
		abs = xstrdup(cwd);
	else
		abs = xasprintf("%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", dir);
	free(dir);
	return abs;
}

static char *
resolve(const struct loader *ld, const char *p)
{
	size_t n = strlen(ld->base);

	if (p[0] == '/')
		return xstrdup(p);
	return xasprintf("%s%s%s", ld->base, n > 0 && ld->base[n - 1] == '/' ? "" : "/", p);
}

static int
is_ctl(unsigned char c, int multiline)
{
	if (multiline && (c == '\n' || c == '\t' || c == '\r'))
		return 0;
	return c < 0x20 || c == 0x7f;
}

static int
has_ctl(const char *s, size_t n, int multiline)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (is_ctl((unsigned char)s[i], multiline))
			return 1;
	return 0;
}

/* ---- libconfig quirks ---------------------------------------------------------------------- */

/*
 * libconfig 1.5 silently wraps a decimal integer that does not fit in 32 bits (99999999999
 * reads as 1215752191) unless it carries an L suffix. This scan of the raw text notes the
 * lines holding such literals so that the key is refused instead of taking a wrapped value.
 * It also refuses @include (a config is one file, so every line number names the file it is
 * in) and NUL bytes (libconfig would silently stop reading there). -1 after such a problem.
 */
static void
note_literal(struct loader *ld, const char *tok, size_t n, unsigned line)
{
	char tmp[64];
	long long v;
	size_t i;
	int hex;

	if (tok[n - 1] == 'L' || n >= sizeof(tmp))
		goto big;
	hex = n > 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X');
	for (i = 0; i < n && !hex; i++)
		if (tok[i] == '.' || tok[i] == 'e' || tok[i] == 'E')
			return;			/* a float: libconfig reads doubles right */
	memcpy(tmp, tok, n);
	tmp[n] = '\0';
	errno = 0;
	v = strtoll(tmp, NULL, hex ? 16 : 10);
	if (errno == 0 && v >= INT_MIN && v <= INT_MAX)
		return;
big:
	if (tok[n - 1] == 'L')
		return;			/* 64-bit literal: read right; range checks apply */
	ld->bigline = xrealloc(ld->bigline, (ld->nbigline + 1) * sizeof(*ld->bigline));
	ld->bigline[ld->nbigline++] = line;
}

static int
prescan(struct loader *ld, const char *t, size_t n)
{
	const char *nul = memchr(t, '\0', n);
	unsigned line = 1;
	size_t i = 0, start;

	if (nul != NULL) {
		for (i = 0; t + i < nul; i++)
			line += t[i] == '\n';
		problem_at(ld, line, NULL, "syntax error: NUL byte");
		return -1;
	}
	while (i < n) {
		unsigned char c = (unsigned char)t[i];

		if (c == '\n') {
			line++;
			i++;
		} else if (c == '#' || (c == '/' && i + 1 < n && t[i + 1] == '/')) {
			while (i < n && t[i] != '\n')
				i++;
		} else if (c == '/' && i + 1 < n && t[i + 1] == '*') {
			for (i += 2; i < n && !(t[i] == '*' && i + 1 < n && t[i + 1] == '/'); i++)
				line += t[i] == '\n';
			i = i < n ? i + 2 : n;
		} else if (c == '"') {
			for (i++; i < n && t[i] != '"'; i++) {
				if (t[i] == '\\' && i + 1 < n)
					i++;
				line += t[i] == '\n';
			}
			i = i < n ? i + 1 : n;
		} else if (c == '@') {
			if (n - i >= 8 && memcmp(t + i, "@include", 8) == 0) {
				problem_at(ld, line, NULL,
				    "@include is not supported; keep the whole config in one file");
				return -1;
			}
			i++;
		} else if (isalpha(c) || c == '*') {
			while (i < n && (isalnum((unsigned char)t[i]) || t[i] == '-' || t[i] == '_' ||
			    t[i] == '*'))
				i++;
		} else if (isdigit(c) || ((c == '-' || c == '+') && i + 1 < n &&
		    isdigit((unsigned char)t[i + 1]))) {
			start = i++;
			while (i < n && (isalnum((unsigned char)t[i]) || t[i] == '.' ||
			    ((t[i] == '-' || t[i] == '+') && (t[i - 1] == 'e' || t[i - 1] == 'E'))))
				i++;
			note_literal(ld, t + start, i - start, line);
		} else {
			i++;
		}
	}
	return 0;
}

static int
wrapped(const struct loader *ld, const config_setting_t *s)
{
	unsigned line = config_setting_source_line(s);
	size_t i;

	if (config_setting_type(s) != CONFIG_TYPE_INT)
		return 0;
	for (i = 0; i < ld->nbigline; i++)
		if (ld->bigline[i] == line)
			return 1;
	return 0;
}

/* ---- value checks -------------------------------------------------------------------------- */

static int
is_loopback(const char *host, int bracketed)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (bracketed)
		return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return 0;
}

static int
host_chars_ok(const char *h)
{
	if (*h == '\0' || *h == '.' || *h == '-')
		return 0;
	for (; *h != '\0'; h++)
		if (!isalnum((unsigned char)*h) && *h != '.' && *h != '-' && *h != '_')
			return 0;
	return 1;
}

/* 1..65535 written as 1 to 5 digits. */
static int
port_ok(const char *p, size_t n)
{
	size_t i;
	long v = 0;

	if (n == 0 || n > 5)
		return 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return 0;
		v = v * 10 + (p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/*
 * scheme://host[:port][/path]: https, or http when the host is loopback (localhost,
 * 127.0.0.0/8, [::1]). Returns a copy without trailing '/' (callers append "/endpoint"), or
 * NULL after a problem.
 */
static char *
check_url(struct loader *ld, const config_setting_t *s, const char *key, const char *u)
{
	const char *h, *e, *rest;
	char *host = NULL, *out = NULL;
	size_t n, keep;
	int https, bracketed = 0;

	if (strncasecmp(u, "https://", 8) == 0) {
		https = 1;
		h = u + 8;
	} else if (strncasecmp(u, "http://", 7) == 0) {
		https = 0;
		h = u + 7;
	} else {
		problem(ld, s, key, "%s is not a URL (expected https://host[:port][/path])", u);
		goto out;
	}
	e = h + strcspn(h, "/?#");
	if (memchr(h, '@', (size_t)(e - h)) != NULL) {
		/* Not echoed: the part before '@' may be a password. */
		problem(ld, s, key, "credentials in a URL are not allowed; use the *_file keys");
		goto out;
	}
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(e - h));
		if (rb == NULL) {
			problem(ld, s, key, "%s: unterminated [IPv6] host", u);
			goto out;
		}
		host = xstrndup(h + 1, (size_t)(rb - h - 1));
		bracketed = 1;
		rest = rb + 1;
		if (inet_pton(AF_INET6, host, &(struct in6_addr){ 0 }) != 1) {
			problem(ld, s, key, "%s: bad IPv6 address", u);
			goto out;
		}
	} else {
		rest = h + strcspn(h, ":/?#");
		host = xstrndup(h, (size_t)(rest - h));
		if (!host_chars_ok(host)) {
			problem(ld, s, key, "%s: bad host name", u);
			goto out;
		}
	}
	if (*rest == ':') {
		if (!port_ok(rest + 1, (size_t)(e - rest - 1))) {
			problem(ld, s, key, "%s: bad port (1..65535)", u);
			goto out;
		}
	} else if (rest != e) {
		problem(ld, s, key, "%s: bad host name", u);
		goto out;
	}
	if (*e == '#' || strchr(e, '#') != NULL || strchr(e, ' ') != NULL) {
		problem(ld, s, key, "%s: a base URL takes no fragment or spaces", u);
		goto out;
	}
	if (!https && !is_loopback(host, bracketed)) {
		problem(ld, s, key, "%s is not https and its host is not loopback "
		    "(localhost, 127.0.0.0/8, [::1])", u);
		goto out;
	}
	keep = (size_t)(e - u);
	n = strlen(u);
	while (n > keep && u[n - 1] == '/')
		n--;
	out = xstrndup(u, n);
out:
	free(host);
	return out;
}

/* "HH:MM" -> minute of day, or -1. */
static int
parse_hhmm(const char *s)
{
	int h, m;

	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59)
		return -1;
	return h * 60 + m;
}

/* "HH:MM-HH:MM" -> start, end; "" -> -1, -1. 0, or -1 when malformed or empty range. */
static int
parse_quiet(const char *s, int *start, int *end)
{
	if (*s == '\0') {
		*start = *end = -1;
		return 0;
	}
	if (strlen(s) != 11 || s[5] != '-')
		return -1;
	*start = parse_hhmm(s);
	*end = parse_hhmm(s + 6);
	if (*start < 0 || *end < 0 || *start == *end)
		return -1;
	return 0;
}

static int
tz_ok(const char *s)
{
	const char *p;
	size_t seg = 0;

	if (strlen(s) > 64 || *s == '/')
		return 0;
	for (p = s; *p != '\0'; p++) {
		if (*p == '/') {
			if (seg == 0)
				return 0;
			seg = 0;
		} else if (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '+') {
			seg++;
		} else {
			return 0;
		}
	}
	return seg > 0;
}

static int
listen_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *host;
	int ok;

	if (colon == NULL || colon == s || !port_ok(colon + 1, strlen(colon + 1)))
		return 0;
	host = xstrndup(s, (size_t)(colon - s));
	if (host[0] == '[') {
		size_t n = strlen(host);
		ok = n > 2 && host[n - 1] == ']';
		if (ok) {
			host[n - 1] = '\0';
			ok = inet_pton(AF_INET6, host + 1, &(struct in6_addr){ 0 }) == 1;
		}
	} else {
		ok = host_chars_ok(host);
	}
	free(host);
	return ok;
}

/* A lower-case DNS domain: labels of [a-z0-9-], dot separated. Lower-cases d in place. */
static int
domain_ok(char *d)
{
	size_t n = strlen(d), i;

	str_lower(d);
	if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.' || strstr(d, "..") != NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)d[i]) && d[i] != '.' && d[i] != '-')
			return 0;
	return 1;
}

/* ---- secrets ------------------------------------------------------------------------------- */

/*
 * Reads a secret file: a regular file without any group/other permission bit, at most
 * SECRET_MAX bytes, one trailing "\n" or "\r\n" trimmed, not empty. 0 and *out (NUL-terminated;
 * wipe it before freeing) or -1 after a problem. The contents never reach a message.
 */
static int
read_secret(struct loader *ld, const config_setting_t *s, const char *key, const char *path,
    char **out, size_t *outlen)
{
	struct stat st;
	char *p = NULL;
	size_t len = 0, cap = SECRET_MAX + 1;
	ssize_t n;
	int fd, rc = -1;

	/* O_NONBLOCK: a FIFO named by mistake must not hang the load (S_ISREG refuses it). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		problem(ld, s, key, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		problem(ld, s, key, "%s: %s", path, strerror(errno));
		goto out_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		problem(ld, s, key, "%s: not a regular file", path);
		goto out_fd;
	}
	if (st.st_mode & 0044) {
		problem(ld, s, key, "%s is readable by group or others (mode %04o); chmod 600 it",
		    path, (unsigned)(st.st_mode & 07777));
		goto out_fd;
	}
	if (st.st_mode & 0033) {
		problem(ld, s, key, "%s is writable by group or others (mode %04o); chmod 600 it",
		    path, (unsigned)(st.st_mode & 07777));
		goto out_fd;
	}
	p = xmalloc(cap);
	while (len < cap) {
		n = read(fd, p + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			problem(ld, s, key, "%s: %s", path, strerror(errno));
			goto out_fd;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > SECRET_MAX) {
		problem(ld, s, key, "%s: larger than %d bytes", path, SECRET_MAX);
		goto out_fd;
	}
	if (len > 0 && p[len - 1] == '\n') {
		len--;
		if (len > 0 && p[len - 1] == '\r')
			len--;
	}
	if (len == 0) {
		problem(ld, s, key, "%s is empty", path);
		goto out_fd;
	}
	p[len] = '\0';
	*out = p;
	*outlen = len;
	p = NULL;
	rc = 0;
out_fd:
	close(fd);
out:
	wipe_free(p, len < cap ? len : cap);
	return rc;
}

static int
gated_off(const struct loader *ld, const struct key *k)
{
	return k->plat >= 0 && !ld->enabled[k->plat];
}

static void
secret_file(struct loader *ld, const struct key *k, const config_setting_t *s, const char *key,
    const char *v)
{
	char *path, *sec = NULL;
	size_t len;

	if (gated_off(ld, k))
		return;			/* a disabled platform's secrets are not read */
	path = resolve(ld, v);
	if (read_secret(ld, s, key, path, &sec, &len) == 0) {
		if (has_ctl(sec, len, 0)) {
			problem(ld, s, key, "%s: contains control characters", path);
		} else {
			set_secret(ld->cfg, k->off, sec);
			sec = NULL;
		}
	}
	if (sec != NULL)
		wipe_free(sec, len);
	free(path);
}

static void
secret_env(struct loader *ld, const struct key *k, const config_setting_t *s, const char *key,
    const char *v)
{
	const char *p, *val;

	if (!isalpha((unsigned char)v[0]) && v[0] != '_')
		goto badname;
	for (p = v; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			goto badname;
	if (gated_off(ld, k))
		return;
	val = getenv(v);
	if (val == NULL)
		problem(ld, s, key, "environment variable %s is not set", v);
	else if (*val == '\0')
		problem(ld, s, key, "environment variable %s is empty", v);
	else if (has_ctl(val, strlen(val), 0))
		problem(ld, s, key, "environment variable %s contains control characters", v);
	else
		set_secret(ld->cfg, k->off, xstrdup(val));
	return;
badname:
	problem(ld, s, key, "\"%s\" is not an environment variable name", v);
}

static void
key_file(struct loader *ld, const struct key *k, const config_setting_t *s, const char *key,
    const char *v)
{
	struct config *c = ld->cfg;
	unsigned char **bytes = (unsigned char **)(void *)((char *)c + k->off2);
	size_t *blen = (size_t *)(void *)((char *)c + k->off3);
	char *path = resolve(ld, v), *sec = NULL;
	size_t len;

	set_str(c, k->off, path);
	if (read_secret(ld, s, key, path, &sec, &len) == -1)
		return;
	if (len < KEY_MIN) {
		problem(ld, s, key, "%s holds %zu bytes; a key needs at least %d "
		    "(openssl rand -hex 32 > %s)", path, len, KEY_MIN, path);
		wipe_free(sec, len);
		return;
	}
	wipe_free(*bytes, *blen);
	*bytes = (unsigned char *)sec;
	*blen = len;
}

static void
token_file(struct loader *ld, const struct key *k, const config_setting_t *s, const char *key,
    const char *v)
{
	struct config *c = ld->cfg;
	char *path = resolve(ld, v), *sec = NULL;
	size_t len;

	set_str(c, k->off, path);
	if (gated_off(ld, k))
		return;
	if (read_secret(ld, s, key, path, &sec, &len) == -1)
		return;
	if (has_ctl(sec, len, 0)) {
		problem(ld, s, key, "%s: contains control characters", path);
		wipe_free(sec, len);
		return;
	}
	set_secret(c, k->off2, sec);
}

/* ---- lists --------------------------------------------------------------------------------- */

static void
aliases(struct loader *ld, const config_setting_t *s, const char *key)
{
	struct config *c = ld->cfg;
	int i, j, n, t = config_setting_type(s);

	if (t != CONFIG_TYPE_LIST && !(t == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0)) {
		wrong_type(ld, s, key, "a list of (\"from\", \"to\") pairs");
		return;
	}
	n = config_setting_length(s);
	c->identity.aliases = xcalloc((size_t)n + 1, sizeof(*c->identity.aliases));
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const config_setting_t *f, *to;
		struct domain_alias a;
		char ek[64];

		snprintf(ek, sizeof(ek), "%s[%d]", key, i);
		if ((config_setting_type(e) != CONFIG_TYPE_LIST &&
		    config_setting_type(e) != CONFIG_TYPE_ARRAY) || config_setting_length(e) != 2 ||
		    config_setting_type(f = config_setting_get_elem(e, 0)) != CONFIG_TYPE_STRING ||
		    config_setting_type(to = config_setting_get_elem(e, 1)) != CONFIG_TYPE_STRING) {
			problem(ld, e, ek, "expected (\"from.example\", \"to.example\")");
			continue;
		}
		a.from = xstrdup(config_setting_get_string(f));
		a.to = xstrdup(config_setting_get_string(to));
		if (!domain_ok(a.from) || !domain_ok(a.to)) {
			problem(ld, e, ek, "\"%s\" is not a domain", !domain_ok(a.from) ?
			    config_setting_get_string(f) : config_setting_get_string(to));
			goto drop;
		}
		if (strcmp(a.from, a.to) == 0) {
			problem(ld, e, ek, "maps %s to itself", a.from);
			goto drop;
		}
		for (j = 0; j < c->identity.naliases; j++) {
			if (strcmp(c->identity.aliases[j].from, a.from) == 0) {
				problem(ld, e, ek, "%s is already mapped to %s", a.from,
				    c->identity.aliases[j].to);
				goto drop;
			}
		}
		c->identity.aliases[c->identity.naliases++] = a;
		continue;
drop:
		free(a.from);
		free(a.to);
	}
	/* Aliases are applied once, not followed: a target that is itself aliased is a mistake. */
	for (i = 0; i < c->identity.naliases; i++)
		for (j = 0; j < c->identity.naliases; j++)
			if (strcmp(c->identity.aliases[i].to, c->identity.aliases[j].from) == 0)
				problem(ld, s, key, "%s maps to %s, which is itself an alias of %s",
				    c->identity.aliases[i].from, c->identity.aliases[i].to,
				    c->identity.aliases[j].to);
}

/* Fills identity.order: the platforms listed, then the rest in the default order. */
static void
order_fill(struct config *c, const int *listed, int n)
{
	int seen[PLAT_COUNT] = { 0 }, i;

	c->identity.norder = 0;
	for (i = 0; i < n; i++) {
		c->identity.order[c->identity.norder++] = (enum platform)listed[i];
		seen[listed[i]] = 1;
	}
	for (i = 0; i < PLAT_COUNT; i++)
		if (!seen[i])
			c->identity.order[c->identity.norder++] = (enum platform)i;
}

static void
order(struct loader *ld, const config_setting_t *s, const char *key)
{
	int listed[PLAT_COUNT], n = 0, i, j, len, bad = 0, t = config_setting_type(s);
	enum platform p;

	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		wrong_type(ld, s, key, "a list of platform names");
		return;
	}
	len = config_setting_length(s);
	if (len == 0) {
		problem(ld, s, key, "names no platform (slack, teams, webex)");
		return;
	}
	for (i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			problem(ld, e, key, "expected platform names, not %s", type_name(e));
			bad = 1;
			continue;
		}
		v = config_setting_get_string(e);
		if (platform_parse(v, &p) == -1) {
			problem(ld, e, key, "unknown platform \"%s\" (slack, teams, webex)", v);
			bad = 1;
			continue;
		}
		for (j = 0; j < n; j++)
			if (listed[j] == (int)p)
				break;
		if (j < n) {
			problem(ld, e, key, "%s is listed twice", plat_names[p]);
			bad = 1;
			continue;
		}
		listed[n++] = (int)p;
	}
	if (!bad)
		order_fill(ld->cfg, listed, n);
}

/* ---- the walk ------------------------------------------------------------------------------ */

static void
str_value(struct loader *ld, const struct key *k, const config_setting_t *s, const char *key,
    const char *v)
{
	struct config *c = ld->cfg;
	size_t n = strlen(v);
	char *u;

	if (n == 0 && k->kind != K_QUIET) {
		problem(ld, s, key, "must not be empty");
		return;
	}
	if (n > (k->kind == K_TEXT ? TEXT_MAX : STR_MAX)) {
		problem(ld, s, key, "longer than %d bytes", k->kind == K_TEXT ? TEXT_MAX : STR_MAX);
		return;
	}
	if (!utf8_valid(v, n)) {
		problem(ld, s, key, "not valid UTF-8");
		return;
	}
	if (has_ctl(v, n, k->kind == K_TEXT)) {
		problem(ld, s, key, "contains control characters");
		return;
	}
	switch (k->kind) {
	case K_STR:
	case K_TEXT:
		set_str(c, k->off, xstrdup(v));
		break;
	case K_ID:
		if (strchr(v, ' ') != NULL)
			problem(ld, s, key, "must not contain spaces");
		else
			set_str(c, k->off, xstrdup(v));
		break;
	case K_TENANT:
		if (strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != n)
			problem(ld, s, key, "\"%s\" is not a tenant id (a GUID or a domain name)", v);
		else
			set_str(c, k->off, xstrdup(v));
		break;
	case K_URL:
		if ((u = check_url(ld, s, key, v)) != NULL)
			set_str(c, k->off, u);
		break;
	case K_PATH:
		set_str(c, k->off, resolve(ld, v));
		break;
	case K_SECRET_FILE:
		secret_file(ld, k, s, key, v);
		break;
	case K_SECRET_ENV:
		secret_env(ld, k, s, key, v);
		break;
	case K_KEY_FILE:
		key_file(ld, k, s, key, v);
		break;
	case K_TOKEN_FILE:
		token_file(ld, k, s, key, v);
		break;
	case K_QUIET:
		if (parse_quiet(v, int_at(c, k->off), int_at(c, k->off2)) == -1) {
			problem(ld, s, key, "\"%s\" is not HH:MM-HH:MM (or \"\" for none)", v);
			parse_quiet(k->sdef, int_at(c, k->off), int_at(c, k->off2));
		}
		break;
	case K_TZ:
		if (!tz_ok(v))
			problem(ld, s, key, "\"%s\" is not a time zone name (like Europe/Paris)", v);
		else
			set_str(c, k->off, xstrdup(v));
		break;
	case K_LISTEN:
		if (!listen_ok(v))
			problem(ld, s, key, "\"%s\" is not ADDR:PORT (like 127.0.0.1:8080)", v);
		else
			set_str(c, k->off, xstrdup(v));
		break;
	default:
		break;
	}
}

static void
handle(struct loader *ld, int ki, const config_setting_t *s, const char *key)
{
	const struct key *k = &keys[ki];
	struct config *c = ld->cfg;
	int t = config_setting_type(s);
	long long iv;
	double dv;
	size_t j;

	for (j = 0; j < NKEYS; j++) {
		if ((int)j != ki && keys[j].kind != K_GROUP && keys[j].off == k->off &&
		    ld->seen[j] != NULL) {
			problem(ld, s, key, "conflicts with %s (line %u); give only one",
			    keys[j].path, setting_line(ld->seen[j]));
			return;
		}
	}
	ld->seen[ki] = s;

	switch (k->kind) {
	case K_BOOL:
		if (t != CONFIG_TYPE_BOOL)
			wrong_type(ld, s, key, "true or false");
		else
			*int_at(c, k->off) = config_setting_get_bool(s);
		return;
	case K_INT:
	case K_LLONG:
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
			wrong_type(ld, s, key, "an integer");
			return;
		}
		iv = config_setting_get_int64(s);
		if (wrapped(ld, s) || (double)iv < k->min || (double)iv > k->max) {
			if (wrapped(ld, s))
				problem(ld, s, key, "integer too large (range %.0f..%.0f)",
				    k->min, k->max);
			else
				problem(ld, s, key, "%lld is out of range (%.0f..%.0f)", iv,
				    k->min, k->max);
			return;
		}
		if (k->kind == K_INT)
			*int_at(c, k->off) = (int)iv;
		else
			*(long long *)(void *)((char *)c + k->off) = iv;
		return;
	case K_FLOAT:
	case K_RATE_MIN:
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64 && t != CONFIG_TYPE_FLOAT) {
			wrong_type(ld, s, key, "a number");
			return;
		}
		if (wrapped(ld, s)) {
			problem(ld, s, key, "number too large (range %g..%g)", k->min, k->max);
			return;
		}
		iv = config_setting_get_int64(s);	/* 0 for a float */
		dv = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(s) : (double)iv;
		if (!isfinite(dv) || dv < k->min || dv > k->max) {
			problem(ld, s, key, "%g is out of range (%g..%g)", dv, k->min, k->max);
			return;
		}
		*(double *)(void *)((char *)c + k->off) = k->kind == K_RATE_MIN ? dv / 60.0 : dv;
		return;
	case K_ALIASES:
		aliases(ld, s, key);
		return;
	case K_ORDER:
		order(ld, s, key);
		return;
	default:
		break;
	}
	if (t != CONFIG_TYPE_STRING) {
		wrong_type(ld, s, key, "a string");
		return;
	}
	str_value(ld, k, s, key, config_setting_get_string(s));
}

/* A "did you mean": the closest sibling, else the same name in another group. */
static void
unknown(struct loader *ld, const config_setting_t *s, const char *prefix, const char *path,
    const char *name)
{
	size_t plen = prefix != NULL ? strlen(prefix) : 0, i;
	const char *best = NULL, *last;
	int bestd = 1000, d, limit;

	for (i = 0; i < NKEYS; i++) {
		const char *kp = keys[i].path;

		if (prefix != NULL && (strncmp(kp, prefix, plen) != 0 || kp[plen] != '.'))
			continue;
		last = prefix != NULL ? kp + plen + 1 : kp;
		if (strchr(last, '.') != NULL)
			continue;
		d = str_distance(name, last);
		limit = (int)strlen(last) / 3;
		if (limit < 2)
			limit = 2;
		if (d < bestd && d <= limit && d < (int)strlen(last) && d < (int)strlen(name)) {
			bestd = d;
			best = kp;
		}
	}
	for (i = 0; best == NULL && i < NKEYS; i++) {
		last = strrchr(keys[i].path, '.');
		if (last != NULL && strcmp(last + 1, name) == 0)
			best = keys[i].path;
	}
	if (best != NULL)
		problem(ld, s, path, "unknown key; did you mean '%s'?", best);
	else
		problem(ld, s, path, "unknown key");
}

static void
walk(struct loader *ld, const config_setting_t *group, const char *prefix)
{
	int i, n = config_setting_length(group), ki;

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		char *path;

		if (name == NULL)
			continue;
		path = prefix != NULL ? xasprintf("%s.%s", prefix, name) : xstrdup(name);
		ki = find_key(path);
		if (ki < 0) {
			unknown(ld, s, prefix, path, name);
		} else if (keys[ki].kind != K_GROUP) {
			handle(ld, ki, s, path);
		} else if (!config_setting_is_group(s)) {
			ld->seen[ki] = s;
			wrong_type(ld, s, path, "a group { ... }");
		} else {
			ld->seen[ki] = s;
			walk(ld, s, path);
		}
		free(path);
	}
}

/* A platform is enabled when its block is present, unless it says enabled = false. */
static void
find_enabled(struct loader *ld)
{
	const config_setting_t *g, *e;
	int p;

	for (p = 0; p < PLAT_COUNT; p++) {
		g = config_lookup(&ld->lc, plat_names[p]);
		ld->enabled[p] = 0;
		if (g == NULL || !config_setting_is_group(g))
			continue;
		e = config_setting_get_member(g, "enabled");
		if (e == NULL)
			ld->enabled[p] = 1;
		else if (config_setting_type(e) == CONFIG_TYPE_BOOL)
			ld->enabled[p] = config_setting_get_bool(e);
	}
}

/* ---- after the walk ------------------------------------------------------------------------ */

static void
required(struct loader *ld)
{
	const config_setting_t *g;
	char *parent;
	const char *dot, *alt;
	size_t i, j;

	for (i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		if (!(k->flags & F_REQ) || gated_off(ld, k) || given(ld, k->path) != NULL)
			continue;
		alt = NULL;
		for (j = 0; j < NKEYS; j++)
			if (j != i && keys[j].kind != K_GROUP && keys[j].off == k->off)
				alt = keys[j].path;
		dot = strrchr(k->path, '.');
		g = NULL;
		if (dot != NULL) {
			parent = xstrndup(k->path, (size_t)(dot - k->path));
			g = config_lookup(&ld->lc, parent);
			free(parent);
		}
		if (k->plat >= 0)
			problem(ld, g, k->path, "required when %s is enabled%s%s%s",
			    plat_names[k->plat], alt ? " (or give " : "", alt ? alt : "",
			    alt ? ")" : "");
		else
			problem(ld, g, k->path, "required%s%s%s", alt ? " (or give " : "",
			    alt ? alt : "", alt ? ")" : "");
	}
}

/* OAuth client ids and secrets go in pairs. */
static void
oauth_pair(struct loader *ld, enum platform p)
{
	char id[64], sf[64], se[64];
	const config_setting_t *gi, *gs;

	if (!ld->enabled[p])
		return;
	snprintf(id, sizeof(id), "%s.oauth.client_id", plat_names[p]);
	snprintf(sf, sizeof(sf), "%s.oauth.client_secret_file", plat_names[p]);
	snprintf(se, sizeof(se), "%s.oauth.client_secret_env", plat_names[p]);
	gi = given(ld, id);
	gs = given(ld, sf);
	if (gi != NULL && gs == NULL)
		problem(ld, gi, id, "given without %s or %s", sf, se);
	else if (gi == NULL && gs != NULL)
		problem(ld, gs, config_setting_name(gs) != NULL &&
		    strcmp(config_setting_name(gs), "client_secret_env") == 0 ? se : sf,
		    "given without %s", id);
}

static void
finish(struct loader *ld)
{
	struct config *c = ld->cfg;
	const config_setting_t *s;

	c->slack.enabled = ld->enabled[PLAT_SLACK];
	c->teams.enabled = ld->enabled[PLAT_TEAMS];
	c->webex.enabled = ld->enabled[PLAT_WEBEX];

	required(ld);

	/* Teams signs users in with the same app registration unless told otherwise, so each of
	 * teams.oauth.client_id / client_secret falls back to the teams block on its own. */
	if (c->teams.oauth.client_id == NULL && c->teams.client_id != NULL)
		c->teams.oauth.client_id = xstrdup(c->teams.client_id);
	if (c->teams.oauth.client_secret == NULL && c->teams.client_secret != NULL)
		c->teams.oauth.client_secret = xstrdup(c->teams.client_secret);
	oauth_pair(ld, PLAT_SLACK);
	oauth_pair(ld, PLAT_WEBEX);

	if (c->teams.tenant_name == NULL && c->teams.tenant_id != NULL)
		c->teams.tenant_name = xstrdup(c->teams.tenant_id);

	/* Endpoints that follow from the API base, so a loopback fake needs one URL only. */
	if (c->slack.oauth.token_url == NULL && c->slack.api_url != NULL)
		c->slack.oauth.token_url = xasprintf("%s/oauth.v2.access", c->slack.api_url);
	if (c->teams.login_url != NULL) {
		const char *t = c->teams.tenant_id != NULL ? c->teams.tenant_id : "common";

		if (c->teams.oauth.authorize_url == NULL)
			c->teams.oauth.authorize_url = xasprintf("%s/%s/oauth2/v2.0/authorize",
			    c->teams.login_url, t);
		if (c->teams.oauth.token_url == NULL)
			c->teams.oauth.token_url = xasprintf("%s/%s/oauth2/v2.0/token",
			    c->teams.login_url, t);
	}
	if (c->webex.api_url != NULL) {
		if (c->webex.oauth.authorize_url == NULL)
			c->webex.oauth.authorize_url = xasprintf("%s/authorize", c->webex.api_url);
		if (c->webex.oauth.token_url == NULL)
			c->webex.oauth.token_url = xasprintf("%s/access_token", c->webex.api_url);
	}

	if (c->http.backoff_base > c->http.backoff_max) {
		s = given(ld, "http.backoff_base");
		problem(ld, s != NULL ? s : given(ld, "http.backoff_max"), "http.backoff_base",
		    "%g is more than http.backoff_max (%g)", c->http.backoff_base,
		    c->http.backoff_max);
	}
	if (c->http.connect_timeout > c->http.timeout) {
		s = given(ld, "http.connect_timeout");
		problem(ld, s != NULL ? s : given(ld, "http.timeout"), "http.connect_timeout",
		    "%d is longer than http.timeout (%d)", c->http.connect_timeout,
		    c->http.timeout);
	}
}

/* dir exists as a directory we can write into, or can be created in its existing parent. */
static void
check_dir(struct loader *ld, const char *key, const char *dir, int creatable)
{
	const config_setting_t *s = given(ld, key);
	struct stat st;
	char *parent;
	const char *slash;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			problem(ld, s, key, "%s is not a directory", dir);
		else if (access(dir, W_OK | X_OK) == -1)
			problem(ld, s, key, "%s: %s", dir, strerror(errno));
		return;
	}
	if (errno != ENOENT || !creatable) {
		problem(ld, s, key, "%s: %s", dir, strerror(errno));
		return;
	}
	slash = strrchr(dir, '/');
	parent = slash == NULL ? xstrdup(".") : slash == dir ? xstrdup("/") :
	    xstrndup(dir, (size_t)(slash - dir));
	if (stat(parent, &st) == -1)
		problem(ld, s, key, "%s does not exist and cannot be created: %s: %s", dir, parent,
		    strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		problem(ld, s, key, "%s cannot be created: %s is not a directory", dir, parent);
	else if (access(parent, W_OK | X_OK) == -1)
		problem(ld, s, key, "%s does not exist and cannot be created: %s: %s", dir, parent,
		    strerror(errno));
	free(parent);
}

/* The directory a file is to be written into (atomic replace needs it writable). */
static void
check_parent(struct loader *ld, const char *key, const char *file)
{
	const char *slash = strrchr(file, '/');
	char *dir = slash == NULL ? xstrdup(".") : slash == file ? xstrdup("/") :
	    xstrndup(file, (size_t)(slash - file));
	const config_setting_t *s = given(ld, key);
	struct stat st;

	if (stat(dir, &st) == -1)
		problem(ld, s, key, "%s: %s", dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		problem(ld, s, key, "%s is not a directory", dir);
	else if (access(dir, W_OK | X_OK) == -1)
		problem(ld, s, key, "%s: %s", dir, strerror(errno));
	free(dir);
}

static void
check_paths(struct loader *ld)
{
	struct config *c = ld->cfg;
	const char *tzdir;
	struct stat st;
	char *zone;
	int fd;

	if (c->database != NULL)
		check_dir(ld, "database", c->database, 1);
	if (c->events.spool_dir != NULL)
		check_dir(ld, "events.spool_dir", c->events.spool_dir, 0);
	if (c->metrics.file != NULL)
		check_parent(ld, "metrics.file", c->metrics.file);
	if (c->teams.enabled && c->teams.service_user_refresh_token != NULL)
		check_parent(ld, "teams.service_user_refresh_token_file",
		    c->teams.service_user_refresh_token_file);
	if (c->http.ca_file != NULL) {
		fd = open(c->http.ca_file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd == -1)
			problem(ld, given(ld, "http.ca_file"), "http.ca_file", "%s: %s",
			    c->http.ca_file, strerror(errno));
		else
			close(fd);
	}
	/* Only where a zoneinfo tree exists to ask; "UTC" needs none. */
	tzdir = getenv("TZDIR");
	if (tzdir == NULL || *tzdir == '\0')
		tzdir = "/usr/share/zoneinfo";
	if (c->prompts.default_tz != NULL && strcmp(c->prompts.default_tz, "UTC") != 0 &&
	    stat(tzdir, &st) == 0 && S_ISDIR(st.st_mode)) {
		zone = xasprintf("%s/%s", tzdir, c->prompts.default_tz);
		if (stat(zone, &st) == -1 || !S_ISREG(st.st_mode))
			problem(ld, given(ld, "prompts.default_tz"), "prompts.default_tz",
			    "unknown time zone \"%s\" (not in %s)", c->prompts.default_tz, tzdir);
		free(zone);
	}
}

static void
apply_defaults(struct config *c)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		if (k->flags & F_ALIAS)
			continue;
		switch (k->kind) {
		case K_BOOL:
		case K_INT:
			*int_at(c, k->off) = (int)k->def;
			break;
		case K_LLONG:
			*(long long *)(void *)((char *)c + k->off) = (long long)k->def;
			break;
		case K_FLOAT:
			*(double *)(void *)((char *)c + k->off) = k->def;
			break;
		case K_QUIET:
			parse_quiet(k->sdef, int_at(c, k->off), int_at(c, k->off2));
			break;
		case K_ORDER:
			order_fill(c, NULL, 0);
			break;
		case K_STR: case K_ID: case K_TENANT: case K_TEXT: case K_URL: case K_PATH:
		case K_TZ: case K_LISTEN:
			if (k->sdef != NULL)
				*str_at(c, k->off) = xstrdup(k->sdef);
			break;
		default:
			break;
		}
	}
}

static int
load(const char *name, const char *file, const char *text, size_t len, struct config *cfg,
    int check_files)
{
	struct loader *ld;
	int rc = -1;

	ld = xcalloc(1, sizeof(*ld));
	ld->name = name;
	ld->cfg = cfg;
	config_init(&ld->lc);
	cfg->path = xstrdup(name);
	apply_defaults(cfg);
	ld->base = base_dir(file);

	if (prescan(ld, text, len) == -1)
		goto out;
	if (config_read_string(&ld->lc, text) != CONFIG_TRUE) {
		problem_at(ld, (unsigned)config_error_line(&ld->lc), NULL, "syntax error: %s",
		    config_error_text(&ld->lc) != NULL ? config_error_text(&ld->lc) : "?");
		goto out;
	}
	find_enabled(ld);
	walk(ld, config_root_setting(&ld->lc), NULL);
	finish(ld);
	if (check_files)
		check_paths(ld);
	if (ld->nerr == 0)
		rc = 0;
out:
	config_destroy(&ld->lc);
	free(ld->base);
	free(ld->bigline);
	free(ld);
	if (rc == -1)
		config_free(cfg);
	return rc;
}

int
config_load(const char *path, struct config *cfg, int check_files)
{
	struct buf b = { 0 };
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	if (read_file(path, CONFIG_MAX, &b) == -1) {
		fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
		goto out;
	}
	rc = load(path, path, b.p, b.len, cfg, check_files);
out:
	buf_free(&b);
	return rc;
}

int
config_load_string(const char *name, const char *text, struct config *cfg, int check_files)
{
	memset(cfg, 0, sizeof(*cfg));
	return load(name, NULL, text, strlen(text), cfg, check_files);
}

void
config_free(struct config *cfg)
{
	size_t i;
	int j;

	if (cfg == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		unsigned char **bytes;
		size_t *blen;

		switch (k->kind) {
		case K_STR: case K_ID: case K_TENANT: case K_TEXT: case K_URL: case K_PATH:
		case K_TZ: case K_LISTEN:
			free(*str_at(cfg, k->off));
			*str_at(cfg, k->off) = NULL;
			break;
		case K_SECRET_FILE:
		case K_SECRET_ENV:
			wipe_str(str_at(cfg, k->off));
			break;
		case K_KEY_FILE:
			free(*str_at(cfg, k->off));
			*str_at(cfg, k->off) = NULL;
			bytes = (unsigned char **)(void *)((char *)cfg + k->off2);
			blen = (size_t *)(void *)((char *)cfg + k->off3);
			wipe_free(*bytes, *blen);
			*bytes = NULL;
			break;
		case K_TOKEN_FILE:
			free(*str_at(cfg, k->off));
			*str_at(cfg, k->off) = NULL;
			wipe_str(str_at(cfg, k->off2));
			break;
		default:
			break;
		}
	}
	for (j = 0; j < cfg->identity.naliases; j++) {
		free(cfg->identity.aliases[j].from);
		free(cfg->identity.aliases[j].to);
	}
	free(cfg->identity.aliases);
	free(cfg->path);
	explicit_bzero(cfg, sizeof(*cfg));
}
