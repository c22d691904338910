/*
 * appsetup.c — setting up the platforms' apps (include/appsetup.h): the manifests printed
 * from the scope table, the device login of the Teams service user, the online check.
 */
#include <sys/stat.h>

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appsetup.h"
#include "driver.h"
#include "scopes.h"

#define APP_NAME	"People Sync"

/* list (scopes separated by ',' or ' ') as a JSON array of strings. */
static void
json_list(struct buf *out, const char *list)
{
	const char *p = list, *e;
	int n = 0;

	buf_addc(out, '[');
	while (*p != '\0') {
		while (*p == ',' || *p == ' ')
			p++;
		for (e = p; *e != '\0' && *e != ',' && *e != ' '; e++)
			;
		if (e > p) {
			char *s = xstrndup(p, (size_t)(e - p));

			buf_adds(out, n++ ? ", " : "");
			buf_json_str(out, s);
			free(s);
		}
		p = e;
	}
	buf_addc(out, ']');
}

/* The scopes of holder h as a JSON array. */
static void
json_scopes(struct buf *out, const struct config *cfg, enum scope_holder h)
{
	struct buf b = { 0 };

	scopes_needed(cfg, h, ',', 1, &b);
	json_list(out, b.p ? b.p : "");
	buf_free(&b);
}

/* base/path as a JSON string (base's trailing '/'s dropped). */
static void
json_url(struct buf *out, const char *base, const char *path)
{
	size_t n = strlen(base);
	char *u;

	while (n > 0 && base[n - 1] == '/')
		n--;
	u = xasprintf("%.*s%s", (int)n, base, path);
	buf_json_str(out, u);
	free(u);
}

/* The Slack manifest's text. */
static void
slack_body(const struct config *cfg, const char *redir, const char *user, struct buf *out)
{
	buf_adds(out, "{\n  \"_metadata\": { \"major_version\": 1, \"minor_version\": 1 },\n"
	    "  \"display_information\": {\n    \"name\": \"" APP_NAME "\",\n"
	    "    \"description\": \"Asks the people who have not synced their chat identity "
	    "across Slack, Teams and Webex to sync it.\"\n  },\n  \"features\": {\n"
	    "    \"app_home\": { \"home_tab_enabled\": false, \"messages_tab_enabled\": true, "
	    "\"messages_tab_read_only_enabled\": true },\n"
	    "    \"bot_user\": { \"display_name\": \"" APP_NAME "\", \"always_online\": true }\n"
	    "  },\n  \"oauth_config\": {\n    \"redirect_urls\": [");
	buf_json_str(out, redir);
	buf_adds(out, "],\n    \"scopes\": {\n      \"bot\": ");
	json_scopes(out, cfg, SH_SLACK_BOT);
	buf_adds(out, ",\n      \"user\": ");
	json_list(out, user);
	buf_adds(out, "\n    }\n  },\n  \"settings\": {\n");
	if (scope_has_events(cfg, SH_SLACK_USER)) {
		buf_adds(out, "    \"event_subscriptions\": {\n      \"request_url\": ");
		json_url(out, cfg->public_url, "/events/slack");
		buf_adds(out, ",\n      \"user_events\": ");
		scope_events_json(cfg, SH_SLACK_USER, out);
		buf_adds(out, "\n    },\n");
	}
	/* rotation off: the bot token in slack.bot_token_file must not expire */
	buf_adds(out, "    \"org_deploy_enabled\": false,\n    \"socket_mode_enabled\": false,\n"
	    "    \"token_rotation_enabled\": false\n  }\n}\n");
}

/* The Webex integration's settings. */
static void
webex_body(const struct config *cfg, const char *redir, const char *scopes, struct buf *out)
{
	(void)cfg;
	buf_adds(out, "{\n  \"name\": \"" APP_NAME "\",\n  \"redirect_uris\": [");
	buf_json_str(out, redir);
	buf_adds(out, "],\n  \"scopes\": ");
	json_list(out, scopes);
	buf_adds(out, "\n}\n");
}

/* Platform p's app settings written by body from its redirect URI and sign-in scopes:
 * p enabled and public_url set, else FAIL_CONFIG naming what (the command). */
static enum fail
app_settings(const struct config *cfg, enum platform p, const char *what,
    void (*body)(const struct config *, const char *, const char *, struct buf *),
    struct buf *out, struct failure *f)
{
	struct buf redir = { 0 };
	char *scopes;

	if (!config_enabled(cfg, p))
		return fail_set(f, FAIL_CONFIG, "%s: %s is not enabled in %s", what,
		    platform_name(p), cfg->path);
	if (cfg->public_url == NULL)
		return fail_set(f, FAIL_CONFIG, "%s: set public_url in %s first (the URLs of the "
		    "app are under it)", what, cfg->path);
	oauth_redirect_uri(cfg->public_url, p, &redir);
	scopes = scopes_signin(cfg, p);
	body(cfg, redir.p, scopes, out);
	free(scopes);
	buf_free(&redir);
	return FAIL_NONE;
}

enum fail
rec_slack_manifest(const struct config *cfg, struct buf *out, struct failure *f)
{
	return app_settings(cfg, PLAT_SLACK, "slack-manifest", slack_body, out, f);
}

enum fail
rec_webex_integration(const struct config *cfg, struct buf *out, struct failure *f)
{
	return app_settings(cfg, PLAT_WEBEX, "webex-integration", webex_body, out, f);
}

/* The directory of path must let us write the file: said before the person signs in. */
static enum fail
writable_dir(const char *path, const char *key, struct stat *st, struct failure *f)
{
	char *copy = xstrdup(path), *dir = dirname(copy);
	const char *why = NULL;

	if (stat(dir, st) < 0 || access(dir, W_OK) < 0)
		why = strerror(errno);
	else if (!S_ISDIR(st->st_mode))
		why = "not a directory";
	if (why)
		fail_set(f, FAIL_OUTPUT, "%s: cannot write %s in %s: %s", key, path, dir, why);
	free(copy);
	return why ? FAIL_OUTPUT : FAIL_NONE;
}

enum fail
rec_login(const struct config *cfg, enum platform p, const struct device_ui *ui,
    const char **path, struct failure *f)
{
	const struct driver *d = driver_for(p);
	const struct driver_device *dev = d ? d->device : NULL;
	struct oauth_tokens tok = { 0 };
	struct buf file = { 0 };
	struct stat st;
	const char *key;

	f->cls = FAIL_NONE;
	f->msg[0] = '\0';
	if (dev == NULL)
		return fail_set(f, FAIL_USAGE, "login: %s has no sign-in of its own (only teams "
		    "has: its service user)", platform_name(p));
	if (!config_enabled(cfg, p))
		return fail_set(f, FAIL_CONFIG, "login: %s is not enabled in %s", platform_name(p),
		    cfg->path);
	if ((key = dev->missing(cfg)) != NULL)
		return fail_set(f, FAIL_CONFIG, "login: %s: set %s in %s first", platform_name(p),
		    key, cfg->path);
	if ((*path = dev->token_file(cfg)) == NULL)
		return fail_set(f, FAIL_CONFIG, "login: %s: %s is not set in %s", platform_name(p),
		    dev->token_key, cfg->path);
	if (writable_dir(*path, dev->token_key, &st, f) != FAIL_NONE)
		return f->cls;
	f->cls = device_login(cfg, d->name, dev, ui, &tok, f->msg, sizeof(f->msg));
	if (f->cls != FAIL_NONE)
		goto out;
	buf_adds(&file, tok.refresh);
	buf_addc(&file, '\n');
	/* as root, the file goes to whoever owns its directory (the service user, who
	 * rewrites it when the token rotates) */
	if (write_file_atomic(*path, file.p, file.len, 0600) < 0 || (geteuid() == 0 &&
	    st.st_uid != 0 && chown(*path, st.st_uid, st.st_gid) < 0))
		fail_set(f, FAIL_OUTPUT, "%s: %s: cannot store the refresh token: %s",
		    dev->token_key, *path, strerror(errno));
out:
	if (file.p)
		explicit_bzero(file.p, file.len);
	buf_free(&file);
	oauth_tokens_free(&tok);
	return f->cls;
}

/* One platform's grants: printed, and each compared with the scope table. */
static enum fail
report_grants(const struct config *cfg, const char *name, const struct drv_check *c,
    FILE *out)
{
	enum fail worst = FAIL_NONE;
	struct buf miss = { 0 };
	char *line, *save = NULL;

	for (int i = 0; i < c->n; i++) {
		const struct drv_grant *g = &c->g[i];

		fprintf(out, "%s: %s: %s", name, g->label, g->who);
		if (g->granted && *g->granted)
			fprintf(out, "; granted %s", g->granted);
		fputc('\n', out);
		if (g->holder == SH_COUNT || g->granted == NULL)
			continue;
		buf_reset(&miss);
		if (scopes_missing(cfg, g->holder, g->granted, &miss) == 0)
			continue;
		worst = FAIL_CONFIG;
		for (line = strtok_r(miss.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			log_err("%s: %s lacks %s", name, g->label, line);
	}
	buf_free(&miss);
	return worst;
}

/* Instance pc of driver d proven: its grants printed under name ("slack", or
 * "slack.workspaces[1]" with several), its failure logged naming the instance. */
static enum fail
check_one(const struct config *cfg, const struct driver *d, const struct cfg_platform *pc,
    const char *name, FILE *out)
{
	struct driver_ctx ctx = { .cfg = cfg, .pc = pc };
	struct drv_check c = { .cls = FAIL_NONE };
	enum fail worst = FAIL_NONE;

	ctx.http = http_new(d->name, cfg);
	if (d->init(&ctx, c.err, sizeof(c.err)) < 0)
		drv_check_fail(&c, FAIL_CONFIG);
	else if (d->check(&ctx, &c) == 0)
		worst = report_grants(cfg, name, &c, out);
	if (c.cls != FAIL_NONE && strcmp(name, d->name) == 0) {
		log_err("%s", c.err);
	} else if (c.cls != FAIL_NONE) {
		/* which workspace: its place in the config, and its team when given */
		struct buf where = { 0 };

		buf_adds(&where, name);
		if (pc->team_id || pc->team_name)
			buf_printf(&where, " (team %s%s%s)", pc->team_id ? pc->team_id : "",
			    pc->team_id && pc->team_name ? " " : "",
			    pc->team_name ? pc->team_name : "");
		log_err("%s: %s", where.p, c.err);
		buf_free(&where);
	}
	worst = fail_worse(worst, c.cls);
	if (d->fini)
		d->fini(&ctx);
	drv_check_free(&c);
	http_free(ctx.http);
	return worst;
}

enum fail
rec_check_online(const struct config *cfg, FILE *out)
{
	enum fail worst = FAIL_NONE;

	for (int p = 0; p < PLAT_COUNT; p++) {
		const struct driver *d = driver_for((enum platform)p);
		int n = config_ninst(cfg, (enum platform)p);

		if (!config_enabled(cfg, (enum platform)p) || d == NULL || d->check == NULL)
			continue;
		for (int i = 0; i < n; i++) {
			char *name = n > 1 ? xasprintf("%s.workspaces[%d]", d->name, i) :
			    xstrdup(d->name);

			worst = fail_worse(worst, check_one(cfg, d,
			    config_inst(cfg, (enum platform)p, i), name, out));
			free(name);
		}
	}
	return worst;
}
