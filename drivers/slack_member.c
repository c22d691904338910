/*
 * slack_member.c — one users.list member into an account (slack_parse_member, driver.h):
 * the names Slack may give, the zone, and a Grid member's enterprise id and workspaces.
 * Facts: shared/docs/platform-apis.md §1 (Slackbot reports is_bot:false, deleted records
 * lack most booleans).
 */
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "json.h"

/* The first of tokens vals[idx[0..]] (idx ends with -1) that is a non-empty string, copied. */
static char *
first_nonempty(const struct json *j, const int *vals, const int *idx)
{
	for (; *idx >= 0; idx++) {
		char *s = json_strdup(j, vals[*idx]);
		if (s && *s)
			return s;
		free(s);
	}
	return NULL;
}

static int
str_cmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The workspaces of a Grid member, sorted and comma-separated, or NULL. */
static char *
grid_teams(const struct json *j, int arr)
{
	char **v = NULL, *out = NULL;
	struct buf b = { 0 };
	int n = 0, t;

	for (t = json_first(j, arr); t >= 0; t = json_next(j, arr, t)) {
		char *id = json_strdup(j, t);

		if (id == NULL || *id == '\0' || strchr(id, ',') != NULL) {
			free(id);
			continue;
		}
		v = xrealloc(v, (size_t)(n + 1) * sizeof(*v));
		v[n++] = id;
	}
	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v), str_cmp_ptr);
	for (t = 0; t < n; t++)
		if (t == 0 || strcmp(v[t], v[t - 1]) != 0)
			buf_printf(&b, "%s%s", b.len ? "," : "", v[t]);
	for (t = 0; t < n; t++)
		free(v[t]);
	free(v);
	if (b.len > 0)
		out = xstrdup(b.p);
	buf_free(&b);
	return out;
}

/*
 * An Enterprise Grid member (enterprise_user present) is one user across the Grid's
 * workspaces (shared/docs/platform-events.md §2): its account is keyed by the enterprise
 * id, so that the same user listed by several workspaces is one account, and keeps the list
 * of its workspaces (enterprise_user.teams, else the workspace that listed it).
 */
static void
grid_member(const struct json *j, int m, struct account *a)
{
	int eu = json_get(j, m, "enterprise_user");
	char *eid;

	if (!json_is_object(j, eu))
		return;
	eid = json_strdup(j, json_get(j, eu, "enterprise_id"));
	if (eid == NULL || *eid == '\0') {
		free(eid);
		return;
	}
	a->workspaces = grid_teams(j, json_get(j, eu, "teams"));
	if (a->workspaces == NULL)
		a->workspaces = xstrdup(a->team_id);
	free(a->team_id);
	a->team_id = eid;
}

/* The keys of a member slack_parse_member reads, found in one walk (json_pick). */
enum { M_ID, M_TEAM, M_DELETED, M_BOT, M_APP, M_RESTRICTED, M_ULTRA, M_INVITED, M_STRANGER,
	M_REAL_NAME, M_NAME, M_TZ, M_UPDATED, M_PROFILE,
	/* profile's, after the member's own */
	P_EMAIL, P_REAL_NAME, P_DISPLAY_NAME, P_FIRST_NAME, M_KEYS };
static const char *const member_keys[] = { "id", "team_id", "deleted", "is_bot",
    "is_app_user", "is_restricted", "is_ultra_restricted", "is_invited_user", "is_stranger",
    "real_name", "name", "tz", "updated", "profile" };
static const char *const profile_keys[] = { "email", "real_name", "display_name",
    "first_name" };

/* Maps one member object to an account. Returns 0, or -1 when it has no id. */
int
slack_parse_member(const struct json *j, int m, const char *default_team, struct account *a)
{
	static const struct { int key; uint32_t flags; } flag_keys[] = {
		{ M_DELETED, ACCT_DELETED }, { M_BOT, ACCT_BOT }, { M_APP, ACCT_APP },
		{ M_RESTRICTED, ACCT_GUEST }, { M_ULTRA, ACCT_GUEST | ACCT_ULTRA },
		{ M_INVITED, ACCT_INVITED }, { M_STRANGER, ACCT_STRANGER } };
	static const int names[] = { M_REAL_NAME, P_REAL_NAME, P_DISPLAY_NAME, M_NAME, -1 };
	static const int firsts[] = { P_FIRST_NAME, -1 };
	int v[M_KEYS];
	char *email;
	int64_t updated = 0;
	size_t i;

	memset(a, 0, sizeof(*a));
	a->platform = PLAT_SLACK;
	json_pick(j, m, member_keys, M_PROFILE + 1, v);
	json_pick(j, v[M_PROFILE], profile_keys, M_KEYS - P_EMAIL, v + P_EMAIL);
	a->user_id = json_strdup(j, v[M_ID]);
	if (a->user_id == NULL || *a->user_id == '\0') {
		account_free(a);
		return -1;
	}
	a->team_id = json_strdup(j, v[M_TEAM]);
	if (a->team_id == NULL || *a->team_id == '\0') {
		free(a->team_id);
		a->team_id = xstrdup(default_team ? default_team : "unknown");
	}
	for (i = 0; i < sizeof(flag_keys) / sizeof(flag_keys[0]); i++) {
		int on = 0;
		/* absent or null: false (deleted users lack most booleans) */
		if (json_bool(j, v[flag_keys[i].key], &on) == 0 && on)
			a->flags |= flag_keys[i].flags;
	}
	if (strcmp(a->user_id, "USLACKBOT") == 0)
		a->flags |= ACCT_SLACKBOT;
	email = json_strdup(j, v[P_EMAIL]);
	drv_add_email(a, email, LINK_EMAIL);
	free(email);
	a->name = first_nonempty(j, v, names);
	a->first_name = first_nonempty(j, v, firsts);
	a->tz = json_strdup(j, v[M_TZ]);
	if (a->tz && *a->tz == '\0') {
		free(a->tz);
		a->tz = NULL;
	}
	json_i64(j, v[M_UPDATED], &updated);
	a->updated = updated;
	grid_member(j, m, a);
	drv_clip_account(a);
	return 0;
}
