/*
 * config_set.c — one setting of the file into struct config, by its row of the key table:
 * the type and bounds checked, strings checked (length, UTF-8, control characters) and
 * turned into what the row stores (URLs, paths, secrets, zones...). Used by the walk of the
 * file (config.c) and of each slack.workspaces entry (config_ws.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "config_p.h"
#include "util.h"

/* The kinds whose value names a file or a variable to read. */
typedef void file_fn(struct loader *, const struct key *, const config_setting_t *,
    const char *, const char *);
static file_fn *const file_value[] = {
	[K_SECRET_FILE] = cfg_secret_file, [K_SECRET_ENV] = cfg_secret_env,
	[K_KEY_FILE] = cfg_key_file, [K_TOKEN_FILE] = cfg_token_file,
};

/* v stored when ok, else "\"v\" is not WHAT". */
static void
checked(struct loader *ld, const struct key *k, const config_setting_t *s, const char *key,
    const char *v, int ok, const char *what)
{
	if (ok)
		cfg_set_str(ld->cfg, k->off, xstrdup(v));
	else
		cfg_problem(ld, s, key, "\"%s\" is not %s", v, what);
}

static void
str_value(struct loader *ld, const struct key *k, const config_setting_t *s, const char *key,
    const char *v)
{
	struct config *c = ld->cfg;
	size_t n = strlen(v);
	char *u;

	if (n == 0 && k->kind != K_QUIET) {
		cfg_problem(ld, s, key, "must not be empty");
		return;
	}
	if (n > (k->kind == K_TEXT ? TEXT_MAX : STR_MAX)) {
		cfg_problem(ld, s, key, "longer than %d bytes", k->kind == K_TEXT ? TEXT_MAX : STR_MAX);
		return;
	}
	if (!utf8_valid(v, n)) {
		cfg_problem(ld, s, key, "not valid UTF-8");
		return;
	}
	if (cfg_has_ctl(v, n, k->kind == K_TEXT)) {
		cfg_problem(ld, s, key, "contains control characters");
		return;
	}
	switch (k->kind) {
	case K_STR:
	case K_TEXT:
		cfg_set_str(c, k->off, xstrdup(v));
		break;
	case K_ID:
		if (strchr(v, ' ') != NULL)
			cfg_problem(ld, s, key, "must not contain spaces");
		else
			cfg_set_str(c, k->off, xstrdup(v));
		break;
	case K_TENANT:
		checked(ld, k, s, key, v, strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
		    "RSTUVWXYZ0123456789.-") == n, "a tenant id (a GUID or a domain name)");
		break;
	case K_URL:
		if ((u = cfg_check_url(ld, s, key, v)) != NULL)
			cfg_set_str(c, k->off, u);
		break;
	case K_PATH:
		cfg_set_str(c, k->off, cfg_resolve(ld, v));
		break;
	case K_SECRET_FILE:
	case K_SECRET_ENV:
	case K_KEY_FILE:
	case K_TOKEN_FILE:
		file_value[k->kind](ld, k, s, key, v);
		break;
	case K_QUIET:
		if (cfg_parse_quiet(v, cfg_int_at(c, k->off), cfg_int_at(c, k->off2)) == -1) {
			cfg_problem(ld, s, key, "\"%s\" is not HH:MM-HH:MM (or \"\" for none)", v);
			cfg_parse_quiet(k->sdef, cfg_int_at(c, k->off), cfg_int_at(c, k->off2));
		}
		break;
	case K_TZ:
		checked(ld, k, s, key, v, cfg_tz_ok(v), "a time zone name (like Europe/Paris)");
		break;
	case K_LISTEN:
		checked(ld, k, s, key, v, cfg_listen_ok(v), "ADDR:PORT (like 127.0.0.1:8080)");
		break;
	default:
		break;
	}
}

void
cfg_handle(struct loader *ld, int ki, const config_setting_t *s, const char *key)
{
	const struct key *k = &cfg_keys[ki];
	struct config *c = ld->cfg;
	int t = config_setting_type(s);
	long long iv;
	double dv;
	size_t j;

	for (j = 0; j < NKEYS; j++) {
		if ((int)j != ki && cfg_keys[j].kind != K_GROUP && cfg_keys[j].off == k->off &&
		    ld->seen[j] != NULL) {
			cfg_problem(ld, s, key, "conflicts with %s (line %u); give only one",
			    cfg_keys[j].path, cfg_setting_line(ld->seen[j]));
			return;
		}
	}
	ld->seen[ki] = s;

	switch (k->kind) {
	case K_BOOL:
		if (t != CONFIG_TYPE_BOOL)
			cfg_wrong_type(ld, s, key, "true or false");
		else
			*cfg_int_at(c, k->off) = config_setting_get_bool(s);
		return;
	case K_INT:
	case K_LLONG:
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
			cfg_wrong_type(ld, s, key, "an integer");
			return;
		}
		iv = config_setting_get_int64(s);
		if (cfg_wrapped(ld, s) || (double)iv < k->min || (double)iv > k->max) {
			if (cfg_wrapped(ld, s))
				cfg_problem(ld, s, key, "integer too large (range %.0f..%.0f)",
				    k->min, k->max);
			else
				cfg_problem(ld, s, key, "%lld is out of range (%.0f..%.0f)", iv,
				    k->min, k->max);
			return;
		}
		if (k->kind == K_INT)
			*cfg_int_at(c, k->off) = (int)iv;
		else
			*(long long *)(void *)((char *)c + k->off) = iv;
		return;
	case K_FLOAT:
	case K_RATE_MIN:
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64 && t != CONFIG_TYPE_FLOAT) {
			cfg_wrong_type(ld, s, key, "a number");
			return;
		}
		if (cfg_wrapped(ld, s)) {
			cfg_problem(ld, s, key, "number too large (range %g..%g)", k->min, k->max);
			return;
		}
		iv = config_setting_get_int64(s);	/* 0 for a float */
		dv = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(s) : (double)iv;
		if (!isfinite(dv) || dv < k->min || dv > k->max) {
			cfg_problem(ld, s, key, "%g is out of range (%g..%g)", dv, k->min, k->max);
			return;
		}
		*(double *)(void *)((char *)c + k->off) = k->kind == K_RATE_MIN ? dv / 60.0 : dv;
		return;
	case K_ALIASES:
		cfg_aliases(ld, s, key);
		return;
	case K_ORDER:
		cfg_order(ld, s, key);
		return;
	case K_WORKSPACES:
		ld->ws_list = 1;	/* read after the walk: the defaults may follow it */
		return;
	case K_EMAILS:
		cfg_emails(ld, s, key);
		return;
	default:
		break;
	}
	if (t != CONFIG_TYPE_STRING) {
		cfg_wrong_type(ld, s, key, "a string");
		return;
	}
	str_value(ld, k, s, key, config_setting_get_string(s));
}
