/*
 * config.c — the libconfig file, validated once into struct config.
 *
 * One table (cfg_keys[] below) names every key with its type, bounds, default and where it is
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
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "config_p.h"
#include "util.h"


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

/* ---- the walk ------------------------------------------------------------------------------ */

/* A "did you mean": the closest sibling, else the same name in another group. */
static void
unknown(struct loader *ld, const config_setting_t *s, const char *prefix, const char *path,
    const char *name)
{
	size_t plen = prefix != NULL ? strlen(prefix) : 0, i;
	const char *best = NULL, *last;
	int bestd = 1000, d, limit;

	for (i = 0; i < NKEYS; i++) {
		const char *kp = cfg_keys[i].path;

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
		last = strrchr(cfg_keys[i].path, '.');
		if (last != NULL && strcmp(last + 1, name) == 0)
			best = cfg_keys[i].path;
	}
	if (best != NULL)
		cfg_problem(ld, s, path, "unknown key; did you mean '%s'?", best);
	else
		cfg_problem(ld, s, path, "unknown key");
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
		ki = cfg_find_key(path);
		if (ki < 0) {
			unknown(ld, s, prefix, path, name);
		} else if (cfg_keys[ki].kind != K_GROUP) {
			cfg_handle(ld, ki, s, path);
		} else if (!config_setting_is_group(s)) {
			ld->seen[ki] = s;
			cfg_wrong_type(ld, s, path, "a group { ... }");
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
		g = config_lookup(&ld->lc, platform_name(p));
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
		const struct key *k = &cfg_keys[i];

		if (!(k->flags & F_REQ) || cfg_gated_off(ld, k) || cfg_given(ld, k->path) != NULL)
			continue;
		if (ld->ws_list && k->off == offsetof(struct config, plat[PLAT_SLACK].token))
			continue;	/* each workspace has one, checked by cfg_workspaces */
		alt = NULL;
		for (j = 0; j < NKEYS; j++)
			if (j != i && cfg_keys[j].kind != K_GROUP && cfg_keys[j].off == k->off)
				alt = cfg_keys[j].path;
		dot = strrchr(k->path, '.');
		g = NULL;
		if (dot != NULL) {
			parent = xstrndup(k->path, (size_t)(dot - k->path));
			g = config_lookup(&ld->lc, parent);
			free(parent);
		}
		if (k->plat >= 0)
			cfg_problem(ld, g, k->path, "required when %s is enabled%s%s%s",
			    platform_name(k->plat), alt ? " (or give " : "", alt ? alt : "",
			    alt ? ")" : "");
		else
			cfg_problem(ld, g, k->path, "required%s%s%s", alt ? " (or give " : "",
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
	snprintf(id, sizeof(id), "%s.oauth.client_id", platform_name(p));
	snprintf(sf, sizeof(sf), "%s.oauth.client_secret_file", platform_name(p));
	snprintf(se, sizeof(se), "%s.oauth.client_secret_env", platform_name(p));
	gi = cfg_given(ld, id);
	gs = cfg_given(ld, sf);
	if (gi != NULL && gs == NULL)
		cfg_problem(ld, gi, id, "given without %s or %s", sf, se);
	else if (gi == NULL && gs != NULL)
		cfg_problem(ld, gs, config_setting_name(gs) != NULL &&
		    strcmp(config_setting_name(gs), "client_secret_env") == 0 ? se : sf,
		    "given without %s", id);
}

/*
 * Without token_key_file, the key that encrypts stored user tokens is derived from the link
 * key: HKDF-SHA-256 (RFC 5869), no salt, its own label. One secret file is then enough, and
 * the two keys stay independent (a Sync now link reveals nothing of the token key). Rotating
 * link_key_file therefore also makes the stored user tokens unreadable (docs/sync-now.md).
 */
static void
derive_token_key(struct config *c)
{
	static const char label[] = "peoplesync token key v1";
	unsigned char *out;
	size_t outlen = 32;
	EVP_PKEY_CTX *pctx;

	if (c->token_key != NULL || c->link_key == NULL)
		return;
	out = xmalloc(outlen);
	pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	if (pctx == NULL || EVP_PKEY_derive_init(pctx) <= 0 ||
	    EVP_PKEY_CTX_set_hkdf_md(pctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set1_hkdf_key(pctx, c->link_key, (int)c->link_key_len) <= 0 ||
	    EVP_PKEY_CTX_add1_hkdf_info(pctx, (const unsigned char *)label,
	    (int)(sizeof(label) - 1)) <= 0 ||
	    EVP_PKEY_derive(pctx, out, &outlen) <= 0 || outlen != 32) {
		fputs("peoplesync: HKDF-SHA-256 failed\n", stderr);
		abort();
	}
	EVP_PKEY_CTX_free(pctx);
	c->token_key = out;
	c->token_key_len = outlen;
	c->token_key_derived = 1;
}

/*
 * prompts.default_tz, when the file does not give it, is the host's zone: TZ (a zone name,
 * with or without POSIX's leading ':'), else the zone /etc/localtime links to, else UTC.
 * A person's own zone comes first anyway (reconcile/zones.c); this is for those whose
 * platforms say none.
 */
static void
host_zone(struct loader *ld)
{
	struct config *c = ld->cfg;
	char link[PATH_MAX];
	const char *tz = getenv("TZ"), *z;
	ssize_t n;

	if (cfg_given(ld, "prompts.default_tz") != NULL) {
		c->prompts.default_tz_from = "the config";
		return;
	}
	if (tz != NULL && *tz == ':')
		tz++;
	if (tz != NULL && *tz != '\0' && tz[0] != '/' && cfg_tz_ok(tz)) {
		cfg_set_str(c, offsetof(struct config, prompts.default_tz), xstrdup(tz));
		c->prompts.default_tz_from = "TZ";
		return;
	}
	n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		z = strstr(link, "zoneinfo/");
		if (z != NULL && cfg_tz_ok(z + 9)) {
			cfg_set_str(c, offsetof(struct config, prompts.default_tz), xstrdup(z + 9));
			c->prompts.default_tz_from = "/etc/localtime";
			return;
		}
	}
	c->prompts.default_tz_from = "UTC: the host names no zone";
}

static void
finish(struct loader *ld)
{
	struct config *c = ld->cfg;
	struct cfg_platform *sl = &c->plat[PLAT_SLACK], *tm = &c->plat[PLAT_TEAMS];
	struct cfg_platform *wx = &c->plat[PLAT_WEBEX];
	const config_setting_t *s;

	for (int p = 0; p < PLAT_COUNT; p++)
		c->plat[p].enabled = ld->enabled[p];

	if (!(ld->flags & CONFIG_NO_SECRETS))
		required(ld);
	cfg_workspaces(ld);

	/* Teams signs users in with the same app registration unless told otherwise, so each of
	 * teams.oauth.client_id / client_secret falls back to the teams block on its own. */
	if (tm->oauth.client_id == NULL && c->teams.client_id != NULL)
		tm->oauth.client_id = xstrdup(c->teams.client_id);
	if (tm->oauth.client_secret == NULL && c->teams.client_secret != NULL)
		tm->oauth.client_secret = xstrdup(c->teams.client_secret);
	oauth_pair(ld, PLAT_SLACK);
	oauth_pair(ld, PLAT_WEBEX);


	/* Endpoints that follow from the API base, so a loopback fake needs one URL only. */
	if (sl->oauth.token_url == NULL && sl->api_url != NULL)
		sl->oauth.token_url = xasprintf("%s/oauth.v2.access", sl->api_url);
	if (c->teams.login_url != NULL) {
		const char *t = c->teams.tenant_id != NULL ? c->teams.tenant_id : "common";

		if (tm->oauth.authorize_url == NULL)
			tm->oauth.authorize_url = xasprintf("%s/%s/oauth2/v2.0/authorize",
			    c->teams.login_url, t);
		if (tm->oauth.token_url == NULL)
			tm->oauth.token_url = xasprintf("%s/%s/oauth2/v2.0/token",
			    c->teams.login_url, t);
	}
	if (wx->api_url != NULL) {
		if (wx->oauth.authorize_url == NULL)
			wx->oauth.authorize_url = xasprintf("%s/authorize", wx->api_url);
		if (wx->oauth.token_url == NULL)
			wx->oauth.token_url = xasprintf("%s/access_token", wx->api_url);
	}

	derive_token_key(c);
	host_zone(ld);

	if (c->http.backoff_base > c->http.backoff_max) {
		s = cfg_given(ld, "http.backoff_base");
		cfg_problem(ld, s != NULL ? s : cfg_given(ld, "http.backoff_max"), "http.backoff_base",
		    "%g is more than http.backoff_max (%g)", c->http.backoff_base,
		    c->http.backoff_max);
	}
	if (c->http.connect_timeout > c->http.timeout) {
		s = cfg_given(ld, "http.connect_timeout");
		cfg_problem(ld, s != NULL ? s : cfg_given(ld, "http.timeout"), "http.connect_timeout",
		    "%d is longer than http.timeout (%d)", c->http.connect_timeout,
		    c->http.timeout);
	}
}

static void
apply_defaults(struct config *c)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		const struct key *k = &cfg_keys[i];

		if (k->flags & F_ALIAS)
			continue;
		switch (k->kind) {
		case K_BOOL:
		case K_INT:
			*cfg_int_at(c, k->off) = (int)k->def;
			break;
		case K_LLONG:
			*(long long *)(void *)((char *)c + k->off) = (long long)k->def;
			break;
		case K_FLOAT:
			*(double *)(void *)((char *)c + k->off) = k->def;
			break;
		case K_QUIET:
			cfg_parse_quiet(k->sdef, cfg_int_at(c, k->off), cfg_int_at(c, k->off2));
			break;
		case K_ORDER:
			cfg_order_fill(c, NULL, 0);
			break;
		case K_STR: case K_ID: case K_TENANT: case K_TEXT: case K_URL: case K_PATH:
		case K_TZ: case K_LISTEN:
			if (k->sdef != NULL)
				*cfg_str_at(c, k->off) = xstrdup(k->sdef);
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
	ld->flags = check_files;
	ld->seen = xcalloc(NKEYS, sizeof(*ld->seen));
	config_init(&ld->lc);
	cfg->path = xstrdup(name);
	apply_defaults(cfg);
	ld->base = base_dir(file);

	if (cfg_prescan(ld, text, len) == -1)
		goto out;
	if (config_read_string(&ld->lc, text) != CONFIG_TRUE) {
		cfg_problem_at(ld, (unsigned)config_error_line(&ld->lc), NULL, "syntax error: %s",
		    config_error_text(&ld->lc) != NULL ? config_error_text(&ld->lc) : "?");
		goto out;
	}
	find_enabled(ld);
	walk(ld, config_root_setting(&ld->lc), NULL);
	finish(ld);
	if (check_files & CONFIG_CHECK_FILES)
		cfg_check_paths(ld);
	if (ld->nerr == 0)
		rc = 0;
out:
	config_destroy(&ld->lc);
	free(ld->base);
	free(ld->bigline);
	free(ld->seen);
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
		const struct key *k = &cfg_keys[i];
		unsigned char **bytes;
		size_t *blen;

		switch (k->kind) {
		case K_STR: case K_ID: case K_TENANT: case K_TEXT: case K_URL: case K_PATH:
		case K_TZ: case K_LISTEN:
			free(*cfg_str_at(cfg, k->off));
			*cfg_str_at(cfg, k->off) = NULL;
			break;
		case K_SECRET_FILE:
		case K_SECRET_ENV:
			cfg_wipe_str(cfg_str_at(cfg, k->off));
			break;
		case K_KEY_FILE:
			free(*cfg_str_at(cfg, k->off));
			*cfg_str_at(cfg, k->off) = NULL;
			bytes = (unsigned char **)(void *)((char *)cfg + k->off2);
			blen = (size_t *)(void *)((char *)cfg + k->off3);
			cfg_wipe_free(*bytes, *blen);
			*bytes = NULL;
			break;
		case K_TOKEN_FILE:
			free(*cfg_str_at(cfg, k->off));
			*cfg_str_at(cfg, k->off) = NULL;
			cfg_wipe_str(cfg_str_at(cfg, k->off2));
			break;
		default:
			break;
		}
	}
	for (j = 0; j < PLAT_COUNT; j++) {
		if (cfg->inst[j] == NULL || cfg->inst[j] == &cfg->plat[j])
			continue;
		for (int w = 0; w < cfg->ninst[j]; w++)
			cfg_platform_free(&cfg->inst[j][w]);
		free(cfg->inst[j]);
	}
	for (j = 0; j < cfg->identity.naliases; j++) {
		free(cfg->identity.aliases[j].from);
		free(cfg->identity.aliases[j].to);
	}
	free(cfg->identity.aliases);
	for (j = 0; j < cfg->admin.nemails; j++)
		free(cfg->admin.emails[j]);
	free(cfg->admin.emails);
	free(cfg->path);
	explicit_bzero(cfg, sizeof(*cfg));
}

