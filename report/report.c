/*
 * report.c — the filters, rows and row writers that `people` and `export` share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lookup.h"
#include "reconcile.h"
#include "report.h"

int
report_filter_opt(struct report_filter *f, int ch, const char *arg, const char *cmd)
{
	enum platform pl;

	switch (ch) {
	case 'p':
		if (platform_parse(arg, &pl) < 0) {
			log_err("%s: --platform: '%s' is not slack, teams or webex", cmd, arg);
			return -1;
		}
		f->platform = (int)pl;
		return 1;
	case 's':
		f->status = strcmp(arg, "on") == 0 ? ST_ON : strcmp(arg, "off") == 0 ? ST_OFF :
		    strcmp(arg, "pending") == 0 ? ST_PENDING : -2;
		if (f->status == -2) {
			log_err("%s: --status: '%s' is not on, off or pending", cmd, arg);
			return -1;
		}
		return 1;
	case 't':
		f->type = strcmp(arg, "user") == 0 ? SYNC_USER : strcmp(arg, "bot") == 0 ?
		    SYNC_BOT : -2;
		if (f->type == -2) {
			log_err("%s: --type: '%s' is not bot or user", cmd, arg);
			return -1;
		}
		return 1;
	case 'T':
		if (*arg == '\0') {
			log_err("%s: --team: empty team", cmd);
			return -1;
		}
		f->team = arg;
		return 1;
	case 'a':
		f->all = 1;
		return 1;
	case 'S':
		f->stale = 1;
		return 1;
	default:
		return 0;
	}
}

void
report_filter_finish(struct report_filter *f, const struct config *cfg)
{
	if (f->stale)
		f->stale_before = ps_now() - (time_t)cfg->prompts.stale_days * 86400;
}

/* key then a JSON array of the comma-separated items of list. */
static void
json_str_list(struct buf *b, const char *key, const char *list)
{
	const char *p = list;

	buf_adds(b, key);
	buf_addc(b, '[');
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		char *item = xstrndup(p, n);

		if (p != list)
			buf_addc(b, ',');
		buf_json_str(b, item);
		free(item);
		p += n + (p[n] == ',');
	}
	buf_addc(b, ']');
}

static void
json_str_or_null(struct buf *b, const char *s)
{
	if (s)
		buf_json_str(b, s);
	else
		buf_adds(b, "null");
}

void
report_filter_json(struct buf *b, const struct report_filter *f)
{
	buf_adds(b, "{\"platform\":");
	json_str_or_null(b, f->platform >= 0 ? platform_name((enum platform)f->platform) : NULL);
	buf_adds(b, ",\"status\":");
	json_str_or_null(b, f->status >= 0 ? status_name((enum status)f->status) : NULL);
	buf_adds(b, ",\"type\":");
	json_str_or_null(b, f->type > 0 ? sync_type_name((enum sync_type)f->type) : NULL);
	buf_adds(b, ",\"team\":");
	json_str_or_null(b, f->team);
	buf_printf(b, ",\"all\":%s,\"stale\":%s}", f->all ? "true" : "false",
	    f->stale ? "true" : "false");
}

void
report_row_free(struct report_row *r)
{
	if (r == NULL)
		return;
	person_free(&r->p);
	rec_accounts_free(&r->a, &r->na);
	free(r->team_name);
	memset(r, 0, sizeof(*r));
}

int
report_row_load(struct txn *t, struct report_row *r)
{
	struct buf name = { 0 };

	if (rec_person_accounts(t, r->p.id, &r->a, &r->na) < 0)
		return -1;
	if (r->p.primary_platform >= 0 && r->p.primary_team_id &&
	    store_team_name_get(t, (enum platform)r->p.primary_platform, r->p.primary_team_id,
	    &name) == 0)
		r->team_name = xstrdup(name.p);
	buf_free(&name);
	return 0;
}

/* The filters a person record answers alone (the team needs the row's team name). */
static int
filter_person(const struct report_filter *f, const struct person *p)
{
	if (!f->all && !p->active)
		return 0;
	if (f->platform >= 0 && p->primary_platform != f->platform)
		return 0;
	if (f->status >= 0 && p->status != f->status)
		return 0;
	if (f->type >= 0 && p->sync_type != f->type)
		return 0;
	if (f->team && (p->primary_platform < 0 || p->primary_team_id == NULL))
		return 0;
	if (f->stale && !(p->status == ST_PENDING && p->last_prompted_at > 0 &&
	    p->last_prompted_at < f->stale_before))
		return 0;
	return 1;
}

static int
filter_team(const struct report_filter *f, const struct report_row *r)
{
	if (f->team == NULL)
		return 1;
	return strcasecmp(f->team, r->p.primary_team_id) == 0 ||
	    (r->team_name && strcasecmp(f->team, r->team_name) == 0);
}

struct each_ctx {
	struct txn			*t;
	const struct report_filter	*f;
	report_row_cb			 cb;
	void				*arg;
	int				 ret;	/* cb's stop value, or -1: store error */
};

static int
each_cb(const struct person *p, void *arg)
{
	struct each_ctx *e = arg;
	struct report_row r = { 0 };
	int rc = 0;

	if (!filter_person(e->f, p))
		return 0;
	person_copy(&r.p, p);
	if (report_row_load(e->t, &r) < 0) {
		e->ret = -1;
		rc = -1;
	} else if (filter_team(e->f, &r) && (e->ret = e->cb(&r, e->arg)) != 0) {
		rc = 1;
	}
	report_row_free(&r);
	return rc;
}

int
report_each(struct txn *t, const struct report_filter *f, report_row_cb cb, void *arg)
{
	struct each_ctx e = { t, f, cb, arg, 0 };

	if (store_person_each(t, each_cb, &e) < 0)
		return -1;
	return e.ret;
}

static void
json_time(struct buf *b, int64_t t)
{
	char iso[32];

	if (t == 0) {
		buf_adds(b, "null");
		return;
	}
	fmt_iso8601((time_t)t, iso);
	buf_json_str(b, iso);
}

void
report_json(struct buf *b, const struct report_row *r)
{
	const struct person *p = &r->p;
	int i;

	buf_adds(b, "{\"email\":");
	json_str_or_null(b, p->email);
	buf_adds(b, ",\"name\":");
	json_str_or_null(b, p->name);
	buf_printf(b, ",\"active\":%s,\"status\":\"%s\",\"primary_platform\":",
	    p->active ? "true" : "false", status_name((enum status)p->status));
	json_str_or_null(b, p->primary_platform >= 0 ?
	    platform_name((enum platform)p->primary_platform) : NULL);
	buf_adds(b, ",\"primary_team\":");
	if (p->primary_platform >= 0 && p->primary_team_id) {
		buf_printf(b, "{\"platform\":\"%s\",\"id\":",
		    platform_name((enum platform)p->primary_platform));
		buf_json_str(b, p->primary_team_id);
		buf_adds(b, ",\"name\":");
		json_str_or_null(b, r->team_name);
		buf_addc(b, '}');
	} else {
		buf_adds(b, "null");
	}
	buf_adds(b, ",\"primary_source\":");
	json_str_or_null(b, primary_source_name((enum primary_source)p->primary_source));
	buf_adds(b, ",\"sync_type\":");
	json_str_or_null(b, sync_type_name((enum sync_type)p->sync_type));
	buf_adds(b, ",\"accounts\":[");
	for (i = 0; i < r->na; i++) {
		const struct account *a = &r->a[i];
		if (i)
			buf_addc(b, ',');
		buf_printf(b, "{\"platform\":\"%s\",\"team_id\":", platform_name(a->platform));
		buf_json_str(b, a->team_id);
		buf_adds(b, ",\"user_id\":");
		buf_json_str(b, a->user_id);
		buf_adds(b, ",\"email\":");
		json_str_or_null(b, a->email);
		buf_printf(b, ",\"active\":%s,\"bot\":%s", rec_account_is_active(a) ? "true" :
		    "false", (a->flags & ACCT_BOT) ? "true" : "false");
		if (a->workspaces != NULL)
			json_str_list(b, ",\"workspaces\":", a->workspaces);
		buf_addc(b, '}');
	}
	buf_printf(b, "],\"prompt_count\":%d,\"last_prompted_at\":", p->prompt_count);
	json_time(b, p->last_prompted_at);
	buf_adds(b, ",\"synced_at\":");
	json_time(b, p->synced_at);
	buf_addc(b, '}');
}

void
report_csv_cell(struct buf *b, const char *s, int first)
{
	const char *q;

	if (!first)
		buf_addc(b, ',');
	if (s == NULL)
		return;
	if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
	    s[0] == '\r') {
		buf_adds(b, "\"'");
	} else if (strpbrk(s, ",\"\r\n") == NULL) {
		buf_adds(b, s);
		return;
	} else {
		buf_addc(b, '"');
	}
	for (q = s; *q; q++) {
		if (*q == '"')
			buf_addc(b, '"');
		buf_addc(b, *q);
	}
	buf_addc(b, '"');
}

const char report_csv_header[] = "email,name,active,status,primary_platform,"
    "primary_team_id,primary_team_name,primary_source,sync_type,slack_user_id,"
    "teams_user_id,webex_user_id,prompt_count,last_prompted_at,synced_at\r\n";

size_t
report_user_ids(const struct report_row *r, enum platform pl, struct buf *out)
{
	buf_reset(out);
	for (int i = 0; i < r->na; i++) {
		if (r->a[i].platform != pl)
			continue;
		if (out->len)
			buf_addc(out, ' ');
		buf_adds(out, r->a[i].user_id);
	}
	return out->len;
}

void
report_csv_row(struct buf *b, const struct report_row *r)
{
	const struct person *p = &r->p;
	struct buf ids = { 0 };
	char iso[32], num[32];
	int pl;

	report_csv_cell(b, p->email, 1);
	report_csv_cell(b, p->name, 0);
	report_csv_cell(b, p->active ? "true" : "false", 0);
	report_csv_cell(b, status_name((enum status)p->status), 0);
	report_csv_cell(b, p->primary_platform >= 0 ?
	    platform_name((enum platform)p->primary_platform) : NULL, 0);
	report_csv_cell(b, p->primary_team_id, 0);
	report_csv_cell(b, r->team_name, 0);
	report_csv_cell(b, primary_source_name((enum primary_source)p->primary_source), 0);
	report_csv_cell(b, sync_type_name((enum sync_type)p->sync_type), 0);
	for (pl = 0; pl < PLAT_COUNT; pl++)
		report_csv_cell(b, report_user_ids(r, (enum platform)pl, &ids) ? ids.p : NULL, 0);
	snprintf(num, sizeof(num), "%d", p->prompt_count);
	report_csv_cell(b, num, 0);
	fmt_iso8601((time_t)p->last_prompted_at, iso);
	report_csv_cell(b, iso[0] ? iso : NULL, 0);
	fmt_iso8601((time_t)p->synced_at, iso);
	report_csv_cell(b, iso[0] ? iso : NULL, 0);
	buf_adds(b, "\r\n");
	buf_free(&ids);
}

int
report_row_cmp(const void *a, const void *b)
{
	const struct report_row *ra = a, *rb = b;
	const char *na = ra->p.name ? ra->p.name : ra->p.email ? ra->p.email : "";
	const char *nb = rb->p.name ? rb->p.name : rb->p.email ? rb->p.email : "";
	int c = strcasecmp(na, nb);

	return c ? c : (ra->p.id < rb->p.id ? -1 : ra->p.id > rb->p.id);
}
