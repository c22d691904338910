/*
 * config_draft.c — the commented config that `peoplesync init` writes: a template of keys
 * with a comment each, --set KEY=VALUE checked against the key table, rendered as libconfig.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_p.h"
#include "util.h"

#define NP	(-1)
#define SL	PLAT_SLACK
#define TM	PLAT_TEAMS
#define WX	PLAT_WEBEX

/* How a template key is written. */
enum how {
	H_GROUP,	/* a group: its comment goes above "name = {" */
	H_SET,		/* written with its value */
	H_OPT,		/* commented out: an optional key, its value an example */
	H_REQ,		/* commented out until --set: the admin must set it (a to-do) */
	H_WANT,		/* commented out until --set: wanted for the Sync now sign-in (a to-do) */
	H_WITH,		/* written when the key named in `with` is written, else commented out */
};

/*
 * The template. Values are raw (quoted by the key's kind when written); "@dir", "@db" and
 * "@spool" at the start of a value stand for the directories of struct draft_opts.
 */
static const struct tpl {
	const char	*path;
	int		 plat;
	enum how	 how;
	const char	*value;
	const char	*comment;
	const char	*with;
} tpl[] = {
	{ "database", NP, H_SET, "@db", "LMDB environment directory (created if missing; its parent "
	  "must exist). Back it up with `peoplesync db backup DEST`.", NULL },
	{ "public_url", NP, H_REQ, "https://sync.example.com", "Required: the https address where "
	  "`peoplesync serve` is reached (behind a TLS proxy): base of the Sync now links "
	  "PUBLIC_URL/s/<token>, of the OAuth redirects and of the event URLs.", NULL },
	{ "link_key_file", NP, H_SET, "@dir/link.key", "Key signing the Sync now links and the "
	  "web sessions: 32 random bytes, mode 0600. Replacing it invalidates every link and "
	  "session issued before (and, without token_key_file, the stored user tokens).", NULL },
	{ "token_key_file", NP, H_OPT, "@dir/token.key", "Key encrypting the users' OAuth tokens "
	  "kept in the database (at least 32 bytes, mode 0600). Default: derived from the link "
	  "key; a file of its own lets the two keys be rotated apart.", NULL },
	{ "link_ttl_hours", NP, H_OPT, "168", "How long a Sync now link stays valid, in hours.", NULL },

	{ "slack", SL, H_GROUP, NULL, "Slack: the bot of a Slack app (`peoplesync slack-manifest` "
	  "prints the app's manifest). A platform whose block is present is enabled.", NULL },
	{ "slack.api_url", SL, H_SET, "https://slack.com/api", "Web API base.", NULL },
	{ "slack.bot_token_file", SL, H_SET, "@dir/slack-bot.token", "The bot token (xoxb-...), "
	  "mode 0600; or bot_token_env = \"VAR\" naming an environment variable.", NULL },
	{ "slack.auto_sync", SL, H_SET, "false", "true: Teams and Webex primaries are synced "
	  "automatically (status on, no prompt needed).", NULL },
	{ "slack.signing_secret_file", SL, H_OPT, "@dir/slack-signing.secret", "The app's "
	  "Signing Secret (Basic Information), mode 0600: serve checks the events Slack posts to "
	  "PUBLIC_URL/events/slack with it.", NULL },
	{ "slack.oauth", SL, H_GROUP, NULL, "Sign-in with Slack for the Sync now flow: the app's "
	  "Client ID and Client Secret (Basic Information), given together.", NULL },
	{ "slack.oauth.client_id", SL, H_WANT, "1234567890.1234567890123", "The app's Client ID.",
	  NULL },
	{ "slack.oauth.client_secret_file", SL, H_WITH, "@dir/slack-oauth.secret", "The app's "
	  "Client Secret, mode 0600.", "slack.oauth.client_id" },

	{ "teams", TM, H_GROUP, NULL, "Microsoft Teams: an app registration in Entra ID "
	  "(application permission User.Read.All; delegated Chat.Create, ChatMessage.Send for the "
	  "service user that sends the prompts).", NULL },
	{ "teams.graph_url", TM, H_SET, "https://graph.microsoft.com/v1.0", "Microsoft Graph base.",
	  NULL },
	{ "teams.login_url", TM, H_SET, "https://login.microsoftonline.com", "Identity platform "
	  "base (tokens, device sign-in of `peoplesync login teams`).", NULL },
	{ "teams.tenant_id", TM, H_REQ, "00000000-0000-0000-0000-000000000000", "Required: the "
	  "directory (tenant) id, or its primary domain.", NULL },
	{ "teams.client_id", TM, H_REQ, "00000000-0000-0000-0000-000000000000", "Required: the "
	  "application (client) id of the app registration.", NULL },
	{ "teams.client_secret_file", TM, H_SET, "@dir/teams-client.secret", "The app "
	  "registration's client secret, mode 0600; or client_secret_env = \"VAR\".", NULL },
	{ "teams.service_user_refresh_token_file", TM, H_SET, "@db/teams-service-user.token",
	  "Refresh token of the service user that sends the prompts as chats, written by "
	  "`peoplesync login teams` and rewritten on rotation (its directory must be writable "
	  "by peoplesync).", NULL },

	{ "webex", WX, H_GROUP, NULL, "Webex: a bot (developer.webex.com) for the rosters and the "
	  "prompts; an integration for the Sync now sign-in.", NULL },
	{ "webex.api_url", WX, H_SET, "https://webexapis.com/v1", "REST API base.", NULL },
	{ "webex.token_file", WX, H_SET, "@dir/webex-bot.token", "The bot's access token, mode "
	  "0600; or token_env = \"VAR\".", NULL },
	{ "webex.oauth", WX, H_GROUP, NULL, "Sign-in with Webex for the Sync now flow: the "
	  "integration's Client ID and Client Secret, given together.", NULL },
	{ "webex.oauth.client_id", WX, H_WANT, "C0123456789abcdef", "The integration's Client ID.",
	  NULL },
	{ "webex.oauth.client_secret_file", WX, H_WITH, "@dir/webex-oauth.secret", "The "
	  "integration's Client Secret, mode 0600.", "webex.oauth.client_id" },

	{ "prompts", NP, H_GROUP, NULL, "Prompts asking people to sync.", NULL },
	{ "prompts.cooldown_hours", NP, H_SET, "72", "Hours between two prompts to one person.",
	  NULL },
	{ "prompts.max_prompts", NP, H_SET, "3", "Prompts per person at most.", NULL },
	{ "prompts.quiet_hours", NP, H_SET, "20:00-08:00", "No prompts then, in the person's "
	  "local time; \"\" for none.", NULL },

	{ "events", NP, H_GROUP, NULL, "Message events for auto-prompt.", NULL },
	{ "events.spool_dir", NP, H_SET, "@spool", "*.jsonl files read at the start of each "
	  "reconcile, each moved to done/ once committed. A writable directory.", NULL },
	{ "events.catchup_hours", NP, H_SET, "2", "Hours of synced people's DMs each reconcile "
	  "reads back (0..144; 0: never), for events lost while serve was down.", NULL },
	{ "events.subscriptions", NP, H_SET, "false", "true: keep Graph subscriptions and Webex "
	  "webhooks of the synced people; serve must answer at public_url.", NULL },

	{ "metrics", NP, H_GROUP, NULL, "Prometheus textfile, rewritten after every run.", NULL },
	{ "metrics.file", NP, H_OPT, "/var/lib/prometheus/node-exporter/peoplesync.prom",
	  "Path of the textfile; default: none.", NULL },

	{ "admin", NP, H_GROUP, NULL, "The admin console at public_url/admin.", NULL },
	{ "admin.emails", NP, H_OPT, "[\"it-admin@corp.com\"]", "Addresses allowed to sign in "
	  "(through a platform's sign-in; any case); default: nobody.", NULL },

	{ "serve", NP, H_GROUP, NULL, "The web endpoint (`peoplesync serve`).", NULL },
	{ "serve.listen", NP, H_SET, "127.0.0.1:8080", "ADDR:PORT it listens on; the TLS proxy "
	  "at public_url forwards here.", NULL },
};

/* One key of the draft. */
struct dent {
	char		*path;
	char		*value;		/* raw, as given or substituted */
	const char	*comment;	/* NULL for keys added by --set */
	enum how	 how;
	int		 written;	/* 1: written; 0: commented out */
	int		 dropped;	/* replaced by another row of the same place (_env, alias) */
	const char	*with;
};

struct config_draft {
	struct dent	*e;
	size_t		 n, cap;
};

static char *
substitute(const struct draft_opts *o, const char *v)
{
	static const struct { const char *mark; size_t off; } m[] = {
		{ "@dir", offsetof(struct draft_opts, dir) },
		{ "@db", offsetof(struct draft_opts, database) },
		{ "@spool", offsetof(struct draft_opts, spool_dir) },
	};
	size_t i, n;

	for (i = 0; i < ARRAY_LEN(m); i++) {
		n = strlen(m[i].mark);
		if (strncmp(v, m[i].mark, n) == 0 && (v[n] == '\0' || v[n] == '/'))
			return xasprintf("%s%s",
			    *(const char *const *)(const void *)((const char *)o + m[i].off), v + n);
	}
	return xstrdup(v);
}

static struct dent *
draft_insert(struct config_draft *d, size_t at)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		d->e = xrealloc(d->e, d->cap * sizeof(*d->e));
	}
	memmove(d->e + at + 1, d->e + at, (d->n - at) * sizeof(*d->e));
	d->n++;
	memset(&d->e[at], 0, sizeof(d->e[at]));
	return &d->e[at];
}

static struct dent *
draft_find(const struct config_draft *d, const char *path)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->e[i].path, path) == 0)
			return &d->e[i];
	return NULL;
}

/* Length of the group part two dotted paths share ("slack.oauth" of slack.oauth.x and .y). */
static size_t
shared_groups(const char *a, const char *b)
{
	size_t i, last = 0;

	for (i = 0; a[i] != '\0' && a[i] == b[i]; i++)
		if (a[i] == '.')
			last = i + 1;
	return last;
}

/* Where a key missing from the template goes: after the last key of its deepest group. */
static size_t
insert_point(const struct config_draft *d, const char *path)
{
	size_t i, best = d->n, bestlen = 0, k;

	for (i = 0; i < d->n; i++) {
		k = shared_groups(d->e[i].path, path);
		if (d->e[i].how == H_GROUP && strncmp(path, d->e[i].path, strlen(d->e[i].path)) == 0 &&
		    path[strlen(d->e[i].path)] == '.')
			k = strlen(d->e[i].path) + 1;
		if (k > 0 && k >= bestlen) {
			bestlen = k;
			best = i + 1;
		}
	}
	return best;
}

/* A value checked against its key's kind: 0, or -1 with the reason in why. */
static int
value_check(const struct key *k, const char *v, char *why, size_t n)
{
	long long ll;
	double f;
	char *end;

	switch (k->kind) {
	case K_BOOL:
		snprintf(why, n, "expected true or false");
		return strcmp(v, "true") == 0 || strcmp(v, "false") == 0 ? 0 : -1;
	case K_INT:
	case K_LLONG:
		snprintf(why, n, "expected an integer in %.0f..%.0f", k->min, k->max);
		return parse_ll(v, (long long)k->min, (long long)k->max, &ll);
	case K_FLOAT:
	case K_RATE_MIN:
		snprintf(why, n, "expected a number in %g..%g", k->min, k->max);
		f = strtod(v, &end);
		return *v != '\0' && *end == '\0' && isfinite(f) && f >= k->min && f <= k->max ?
		    0 : -1;
	case K_GROUP:
	case K_ALIASES:
	case K_ORDER:
	case K_WORKSPACES:
	case K_EMAILS:
		snprintf(why, n, "not a single value; edit the file for it");
		return -1;
	default:
		snprintf(why, n, strlen(v) > STR_MAX ? "too long" : "contains control characters");
		return strlen(v) > STR_MAX || cfg_has_ctl(v, strlen(v), 0) ? -1 : 0;
	}
}

/* Applies one KEY=VALUE; -1 after naming the problem. */
static int
draft_set(struct config_draft *d, const struct draft_opts *o, const char *kv)
{
	const char *eq = strchr(kv, '=');
	const struct key *k;
	char why[96];
	struct dent *e;
	char *path;
	size_t i;
	int ki, rc = -1;

	path = eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
	if (eq == NULL) {
		log_err("init: --set %s: expected KEY=VALUE", kv);
		goto out;
	}
	if ((ki = cfg_find_key(path)) < 0) {
		log_err("init: --set %s: no such key (the keys are in peoplesync(1), CONFIGURATION)",
		    path);
		goto out;
	}
	k = &cfg_keys[ki];
	if (k->plat >= 0 && !o->platform[k->plat]) {
		log_err("init: --set %s: %s is not among the platforms written (--platforms)", path,
		    platform_name((enum platform)k->plat));
		goto out;
	}
	if (value_check(k, eq + 1, why, sizeof(why)) < 0) {
		log_err("init: --set %s: %s", path, why);
		goto out;
	}
	/* Another row storing into the same place (bot_token_file vs _env, per_minute vs
	 * per_second) must not be given as well. */
	for (i = 0; i < d->n; i++) {
		ki = cfg_find_key(d->e[i].path);
		if (ki >= 0 && cfg_keys[ki].kind != K_GROUP && k->kind != K_GROUP &&
		    cfg_keys[ki].off == k->off && strcmp(d->e[i].path, path) != 0)
			d->e[i].dropped = 1;
	}
	if ((e = draft_find(d, path)) == NULL) {
		e = draft_insert(d, insert_point(d, path));
		e->path = xstrdup(path);
		e->how = H_SET;
	}
	free(e->value);
	e->value = xstrdup(eq + 1);
	e->written = 1;
	e->dropped = 0;
	rc = 0;
out:
	free(path);
	return rc;
}

struct config_draft *
config_draft_new(const struct draft_opts *o, char *const *sets, size_t nsets)
{
	struct config_draft *d = xcalloc(1, sizeof(*d));
	struct dent *e;
	size_t i;

	for (i = 0; i < ARRAY_LEN(tpl); i++) {
		if (tpl[i].plat >= 0 && !o->platform[tpl[i].plat])
			continue;
		e = draft_insert(d, d->n);
		e->path = xstrdup(tpl[i].path);
		e->value = tpl[i].value ? substitute(o, tpl[i].value) : NULL;
		e->comment = tpl[i].comment;
		e->how = tpl[i].how;
		e->with = tpl[i].with;
		e->written = e->how == H_SET;
	}
	if (o->public_url != NULL && (e = draft_find(d, "public_url")) != NULL) {
		free(e->value);
		e->value = xstrdup(o->public_url);
		e->written = 1;
	}
	for (i = 0; i < nsets; i++) {
		if (draft_set(d, o, sets[i]) < 0) {
			config_draft_free(d);
			return NULL;
		}
	}
	for (i = 0; i < d->n; i++) {
		e = draft_find(d, d->e[i].with ? d->e[i].with : "");
		if (d->e[i].how == H_WITH && e != NULL && e->written && !e->dropped)
			d->e[i].written = 1;
	}
	return d;
}

void
config_draft_free(struct config_draft *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->e[i].path);
		free(d->e[i].value);
	}
	free(d->e);
	free(d);
}

const char *
config_draft_str(const struct config_draft *d, const char *key)
{
	const struct dent *e = draft_find(d, key);

	return e != NULL && e->written && !e->dropped && e->how != H_GROUP ? e->value : NULL;
}

const char *
config_draft_unset(const struct config_draft *d, const char *key)
{
	const struct dent *e = draft_find(d, key);

	if (e == NULL || e->written || e->dropped || (e->how != H_REQ && e->how != H_WANT))
		return NULL;
	return e->how == H_REQ ? "required" : "wanted";
}

/* "# text" wrapped at about 92 columns, indented; "\n" in text starts a new line. */
static void
put_comment(struct buf *b, int depth, const char *text)
{
	const char *p = text, *sp;
	size_t room = 92 - 2 * (size_t)depth - 2, n;

	while (*p != '\0') {
		n = strcspn(p, "\n");
		if (n > room) {
			for (sp = p + room; sp > p && *sp != ' '; sp--)
				;
			n = sp > p ? (size_t)(sp - p) : room;
		}
		buf_printf(b, "%*s#%s%.*s\n", 2 * depth, "", n > 0 ? " " : "", (int)n, p);
		p += n;
		while (*p == ' ')
			p++;
		if (*p == '\n')
			p++;
	}
}

static void
put_value(struct buf *b, const char *path, const char *v)
{
	int ki = cfg_find_key(path);
	enum kind k = ki >= 0 ? cfg_keys[ki].kind : K_STR;
	const char *p;

	if (k == K_BOOL || k == K_INT || k == K_LLONG || k == K_EMAILS) {
		buf_adds(b, v);
		return;
	}
	if (k == K_FLOAT || k == K_RATE_MIN) {
		/* libconfig reads "2" as an integer, which the loader accepts for a float too */
		buf_adds(b, v);
		return;
	}
	buf_addc(b, '"');
	for (p = v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_addc(b, '\\');
		buf_addc(b, *p);
	}
	buf_addc(b, '"');
}

/* Closes the open groups down to depth `keep`. */
static void
close_groups(struct buf *b, int *depth, int keep)
{
	while (*depth > keep) {
		(*depth)--;
		buf_printf(b, "%*s};\n", 2 * *depth, "");
	}
}

static int
dots(const char *s, size_t n)
{
	int k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == '.';
	return k;
}

/* Opens the groups of prefix ("a.b.", each ending in '.') after its first `from` bytes. */
static void
open_groups(struct buf *b, int *depth, const char *prefix, size_t from)
{
	const char *p = prefix + from, *dot;

	while ((dot = strchr(p, '.')) != NULL) {
		buf_printf(b, "%*s%.*s = {\n", 2 * *depth, "", (int)(dot - p), p);
		(*depth)++;
		p = dot + 1;
	}
}

void
config_draft_text(const struct config_draft *d, const char *header, struct buf *out)
{
	char open[256] = "";	/* the open groups, "slack.oauth.": each name ends in '.' */
	char want[256];
	const struct dent *e;
	const char *leaf;
	size_t i, keep;
	int depth = 0;

	put_comment(out, 0, header);
	for (i = 0; i < d->n; i++) {
		e = &d->e[i];
		if (e->dropped)
			continue;
		leaf = strrchr(e->path, '.');
		leaf = leaf ? leaf + 1 : e->path;
		snprintf(want, sizeof(want), "%.*s", (int)(leaf - e->path), e->path);
		/* close the groups this key is not in, open the ones it is in */
		keep = shared_groups(open, want);
		close_groups(out, &depth, dots(open, keep));
		open_groups(out, &depth, want, keep);
		if (e->comment != NULL) {
			/* a blank line between keys, none right after a group's "{" */
			if (out->len < 2 || out->p[out->len - 2] != '{')
				buf_addc(out, '\n');
			put_comment(out, depth, e->comment);
		}
		if (e->how == H_GROUP) {
			buf_printf(out, "%*s%s = {\n", 2 * depth, "", leaf);
			depth++;
			snprintf(open, sizeof(open), "%s.", e->path);
			continue;
		}
		snprintf(open, sizeof(open), "%s", want);
		buf_printf(out, "%*s%s%s = ", 2 * depth, "", e->written ? "" : "# ", leaf);
		put_value(out, e->path, e->value);
		buf_adds(out, ";\n");
	}
	close_groups(out, &depth, 0);
}
