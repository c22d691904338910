/*
 * config_ws.c — slack.workspaces: several Slack workspaces, or an Enterprise Grid org-wide
 * token (org_wide = true), each entry the settings of one workspace over the defaults given
 * outside the list:
 *
 *	slack = { page_limit = 500;
 *		  workspaces = ( { bot_token_file = "eu.token"; },
 *				 { bot_token_file = "grid.token"; org_wide = true; } ); };
 *
 * An entry takes the per-workspace keys of the key table (api_url, bot_token_file/_env,
 * team_id, team_name, org_wide, page_limit, include_guests, rate.*, oauth.*,
 * prompt_template), read by the same rows and checks as outside the list: the entry is
 * walked into a scratch struct config whose plat[PLAT_SLACK] starts as a copy of the
 * defaults. Problems name the entry: "FILE:LINE: slack.workspaces[1].bot_token_file: ...".
 * Without the list, every platform has one instance, &cfg->plat[p].
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "config_p.h"
#include "util.h"

#define WS_MAX	256	/* workspace entries at most */

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
cfg_platform_copy(struct cfg_platform *dst, const struct cfg_platform *src)
{
	*dst = *src;
	dst->api_url = dup_or_null(src->api_url);
	dst->token = dup_or_null(src->token);
	dst->team_name = dup_or_null(src->team_name);
	dst->prompt_template = dup_or_null(src->prompt_template);
	dst->team_id = dup_or_null(src->team_id);
	dst->oauth.authorize_url = dup_or_null(src->oauth.authorize_url);
	dst->oauth.token_url = dup_or_null(src->oauth.token_url);
	dst->oauth.client_id = dup_or_null(src->oauth.client_id);
	dst->oauth.client_secret = dup_or_null(src->oauth.client_secret);
	dst->oauth.scopes = dup_or_null(src->oauth.scopes);
}

void
cfg_platform_free(struct cfg_platform *pc)
{
	free(pc->api_url);
	cfg_wipe_str(&pc->token);
	free(pc->team_name);
	free(pc->prompt_template);
	free(pc->team_id);
	free(pc->oauth.authorize_url);
	free(pc->oauth.token_url);
	free(pc->oauth.client_id);
	cfg_wipe_str(&pc->oauth.client_secret);
	free(pc->oauth.scopes);
	explicit_bzero(pc, sizeof(*pc));
}

/* Row k stores into Slack's struct cfg_platform (not its enabled): a workspace's key. */
static int
per_workspace(const struct key *k)
{
	size_t lo = offsetof(struct config, plat[PLAT_SLACK]);

	if (k->kind == K_GROUP) {
		size_t n = strlen(k->path);

		for (size_t i = 0; i < NKEYS; i++)
			if (cfg_keys[i].kind != K_GROUP && strncmp(cfg_keys[i].path, k->path, n) == 0 &&
			    cfg_keys[i].path[n] == '.' && per_workspace(&cfg_keys[i]))
				return 1;
		return 0;
	}
	return k->plat == PLAT_SLACK && k->off >= lo && k->off < lo + sizeof(struct cfg_platform) &&
	    k->off != lo + offsetof(struct cfg_platform, enabled);
}

/* The settings of group g (an entry, or a group inside one) through the key table: path
 * the key's name in the table ("slack.rate"), shown its name in messages. */
static void
walk_entry(struct loader *ld, const config_setting_t *g, const char *path, const char *shown)
{
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		char *kp, *ks;
		int ki;

		if (name == NULL)
			continue;
		kp = xasprintf("%s.%s", path, name);
		ks = xasprintf("%s.%s", shown, name);
		ki = cfg_find_key(kp);
		if (ki < 0)
			cfg_problem(ld, s, ks, "unknown key");
		else if (!per_workspace(&cfg_keys[ki]))
			cfg_problem(ld, s, ks, "not a workspace's setting: give it outside "
			    "slack.workspaces");
		else if (cfg_keys[ki].kind != K_GROUP)
			cfg_handle(ld, ki, s, ks);
		else if (!config_setting_is_group(s))
			cfg_wrong_type(ld, s, ks, "a group { ... }");
		else
			walk_entry(ld, s, kp, ks);
		free(kp);
		free(ks);
	}
}

/* Entry i (setting e) over the defaults into *out. */
static void
one_entry(struct loader *ld, const config_setting_t *e, int i, struct cfg_platform *out)
{
	struct config *saved = ld->cfg, *sc = xcalloc(1, sizeof(*sc));
	const config_setting_t **seen = ld->seen;
	struct cfg_platform *w = &sc->plat[PLAT_SLACK];
	char *shown = xasprintf("slack.workspaces[%d]", i);

	cfg_platform_copy(w, &saved->plat[PLAT_SLACK]);
	ld->cfg = sc;
	ld->seen = xcalloc(NKEYS, sizeof(*ld->seen));
	walk_entry(ld, e, "slack", shown);
	if (w->token == NULL)
		cfg_problem(ld, e, shown, "no bot_token_file (or bot_token_env), here or outside "
		    "slack.workspaces");
	if ((w->oauth.client_id == NULL) != (w->oauth.client_secret == NULL))
		cfg_problem(ld, e, shown, "oauth.client_id and oauth.client_secret_file go "
		    "together");
	if (w->oauth.token_url == NULL && w->api_url != NULL)
		w->oauth.token_url = xasprintf("%s/oauth.v2.access", w->api_url);
	free(ld->seen);
	ld->seen = seen;
	ld->cfg = saved;
	*out = *w;
	out->enabled = 1;
	out->index = i;
	free(sc);
	free(shown);
}

void
cfg_workspaces(struct loader *ld)
{
	struct config *c = ld->cfg;
	const config_setting_t *l;
	int n, i, j;

	for (i = 0; i < PLAT_COUNT; i++) {
		c->inst[i] = &c->plat[i];
		c->ninst[i] = 1;
	}
	if (!ld->ws_list || !ld->enabled[PLAT_SLACK])
		return;
	l = config_lookup(&ld->lc, "slack.workspaces");
	if (!config_setting_is_list(l)) {
		cfg_wrong_type(ld, l, "slack.workspaces", "a list ( { ... }, ... )");
		return;
	}
	if ((n = config_setting_length(l)) < 1 || n > WS_MAX) {
		cfg_problem(ld, l, "slack.workspaces", "lists %d workspaces (1..%d)", n, WS_MAX);
		return;
	}
	c->inst[PLAT_SLACK] = xcalloc((size_t)n, sizeof(struct cfg_platform));
	c->ninst[PLAT_SLACK] = n;
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		char *shown = xasprintf("slack.workspaces[%d]", i);

		if (!config_setting_is_group(e)) {
			cfg_wrong_type(ld, e, shown, "a group { ... }");
		} else {
			one_entry(ld, e, i, &c->inst[PLAT_SLACK][i]);
			for (j = 0; j < i; j++)
				if (c->inst[PLAT_SLACK][i].team_id != NULL &&
				    c->inst[PLAT_SLACK][j].team_id != NULL &&
				    strcmp(c->inst[PLAT_SLACK][i].team_id,
				    c->inst[PLAT_SLACK][j].team_id) == 0)
					cfg_problem(ld, e, shown, "team_id \"%s\" is also "
					    "slack.workspaces[%d]'s", c->inst[PLAT_SLACK][i].team_id, j);
		}
		free(shown);
	}
}
