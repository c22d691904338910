/*
 * people.c — `people` and `show`: listing people with filters in table, CSV and JSON Lines.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "reconcile.h"
#include "util.h"

enum fmt { FMT_TABLE, FMT_CSV, FMT_JSONL };

struct filter {
	int	platform;	/* -1 any */
	int	status;		/* -1 any */
	int	type;		/* -1 any */
	int	all;
};

struct row {
	struct person	 p;
	struct account	*a;
	int		 na;
	char		*team_name;
};

static void
row_free(struct row *r)
{
	person_free(&r->p);
	for (int i = 0; i < r->na; i++)
		account_free(&r->a[i]);
	free(r->a);
	free(r->team_name);
	memset(r, 0, sizeof(*r));
}

static int
row_acct_cb(const struct account *a, void *arg)
{
	struct row *r = arg;

	r->a = xrealloc(r->a, (size_t)(r->na + 1) * sizeof(*r->a));
	account_copy(&r->a[r->na++], a);
	return 0;
}

/* Loads a person's accounts and primary team name into r (r->p already set). */
static int
row_load(struct txn *t, struct row *r)
{
	struct buf name = { 0 };

	if (store_person_accounts(t, r->p.id, row_acct_cb, r) < 0)
		return -1;
	if (r->p.primary_platform >= 0 && r->p.primary_team_id &&
	    store_team_name_get(t, (enum platform)r->p.primary_platform, r->p.primary_team_id,
	    &name) == 0)
		r->team_name = xstrdup(name.p);
	buf_free(&name);
	return 0;
}

static int
filter_match(const struct filter *f, const struct person *p)
{
	if (!f->all && !p->active)
		return 0;
	if (f->platform >= 0 && p->primary_platform != f->platform)
		return 0;
	if (f->status >= 0 && p->status != f->status)
		return 0;
	if (f->type >= 0 && p->sync_type != f->type)
		return 0;
	return 1;
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

static void
json_str_or_null(struct buf *b, const char *s)
{
	if (s)
		buf_json_str(b, s);
	else
		buf_adds(b, "null");
}

static void
emit_jsonl(struct buf *b, const struct row *r)
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
		buf_printf(b, ",\"active\":%s,\"bot\":%s}", rec_account_is_active(a) ? "true" :
		    "false", (a->flags & ACCT_BOT) ? "true" : "false");
	}
	buf_printf(b, "],\"prompt_count\":%d,\"last_prompted_at\":", p->prompt_count);
	json_time(b, p->last_prompted_at);
	buf_adds(b, ",\"synced_at\":");
	json_time(b, p->synced_at);
	buf_adds(b, "}\n");
}

/* RFC 4180 cell; a cell a spreadsheet would run as a formula gets a leading apostrophe. */
static void
csv_cell(struct buf *b, const char *s, int first)
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

static const char csv_header[] = "email,name,active,status,primary_platform,"
    "primary_team_id,primary_team_name,primary_source,sync_type,slack_user_id,"
    "teams_user_id,webex_user_id,prompt_count,last_prompted_at,synced_at\r\n";

static void
emit_csv(struct buf *b, const struct row *r)
{
	const struct person *p = &r->p;
	struct buf ids = { 0 };
	char iso[32], num[32];
	int pl, i;

	csv_cell(b, p->email, 1);
	csv_cell(b, p->name, 0);
	csv_cell(b, p->active ? "true" : "false", 0);
	csv_cell(b, status_name((enum status)p->status), 0);
	csv_cell(b, p->primary_platform >= 0 ? platform_name((enum platform)p->primary_platform) :
	    NULL, 0);
	csv_cell(b, p->primary_team_id, 0);
	csv_cell(b, r->team_name, 0);
	csv_cell(b, primary_source_name((enum primary_source)p->primary_source), 0);
	csv_cell(b, sync_type_name((enum sync_type)p->sync_type), 0);
	for (pl = 0; pl < PLAT_COUNT; pl++) {
		buf_reset(&ids);
		for (i = 0; i < r->na; i++) {
			if ((int)r->a[i].platform != pl)
				continue;
			if (ids.len)
				buf_addc(&ids, ' ');
			buf_adds(&ids, r->a[i].user_id);
		}
		csv_cell(b, ids.len ? ids.p : NULL, 0);
	}
	snprintf(num, sizeof(num), "%d", p->prompt_count);
	csv_cell(b, num, 0);
	fmt_iso8601((time_t)p->last_prompted_at, iso);
	csv_cell(b, iso[0] ? iso : NULL, 0);
	fmt_iso8601((time_t)p->synced_at, iso);
	csv_cell(b, iso[0] ? iso : NULL, 0);
	buf_adds(b, "\r\n");
	buf_free(&ids);
}

/* ---- table ---- */

/* Appends s padded, or cut with an ellipsis, to exactly w terminal columns. Control
 * characters become spaces and bidi embedding/override characters from rosters are dropped,
 * so a hostile name cannot garble the terminal or reorder the following columns. */
static void
cell(struct buf *b, const char *s, int w)
{
	struct buf clean = { 0 };
	const unsigned char *p = (const unsigned char *)(s ? s : "-");
	int used = 0, total;

	while (*p) {
		int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : 4;
		for (int k = 1; k < n; k++)
			if (p[k] == '\0')
				n = k;	/* a cut sequence: never step over the terminator */
		if (*p < 0x20 || *p == 0x7f)
			buf_addc(&clean, ' ');
		else if (!(n == 3 && p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae))
			buf_add(&clean, p, (size_t)n);
		p += n;
	}
	total = clean.p ? utf8_width(clean.p) : 0;
	if (total <= w) {
		buf_add(b, clean.p ? clean.p : "", clean.len);
		used = total;
	} else {
		const unsigned char *q = (const unsigned char *)clean.p;
		while (*q) {
			int n = *q < 0x80 ? 1 : (*q & 0xe0) == 0xc0 ? 2 : (*q & 0xf0) == 0xe0 ? 3 : 4;
			char ch[5] = { 0 };
			int cw;
			memcpy(ch, q, (size_t)n);
			cw = utf8_width(ch);
			if (used + cw > w - 1)
				break;
			buf_add(b, q, (size_t)n);
			used += cw;
			q += n;
		}
		buf_adds(b, "\xe2\x80\xa6");	/* … */
		used++;
	}
	for (; used < w; used++)
		buf_addc(b, ' ');
	buf_free(&clean);
}

static int
row_cmp(const void *a, const void *b)
{
	const struct row *ra = a, *rb = b;
	const char *na = ra->p.name ? ra->p.name : ra->p.email ? ra->p.email : "";
	const char *nb = rb->p.name ? rb->p.name : rb->p.email ? rb->p.email : "";
	int c = strcasecmp(na, nb);

	return c ? c : (ra->p.id < rb->p.id ? -1 : ra->p.id > rb->p.id);
}

static void
emit_table(FILE *f, struct row *rows, size_t n)
{
	struct buf b = { 0 };
	size_t i;
	int counts[3] = { 0 };

	qsort(rows, n, sizeof(*rows), row_cmp);
	cell(&b, "NAME", 26);
	buf_addc(&b, ' ');
	cell(&b, "EMAIL", 32);
	buf_addc(&b, ' ');
	cell(&b, "STATUS", 8);
	cell(&b, "PRIMARY", 8);
	cell(&b, "PRIMARY TEAM", 18);
	cell(&b, "TYPE", 5);
	cell(&b, "ACCOUNTS", 18);
	buf_adds(&b, "\n");
	for (i = 0; i < n; i++) {
		const struct person *p = &rows[i].p;
		struct buf acc = { 0 };
		char *team;
		int k;
		counts[p->status]++;
		for (k = 0; k < rows[i].na; k++) {
			if (acc.len)
				buf_addc(&acc, ',');
			buf_adds(&acc, platform_name(rows[i].a[k].platform));
			if (!rec_account_is_active(&rows[i].a[k]))
				buf_addc(&acc, '*');
		}
		cell(&b, p->name, 26);
		buf_addc(&b, ' ');
		cell(&b, p->email, 32);
		buf_addc(&b, ' ');
		cell(&b, status_name((enum status)p->status), 8);
		cell(&b, p->primary_platform >= 0 ? platform_name((enum platform)p->primary_platform)
		    : NULL, 8);
		team = rows[i].team_name ? rows[i].team_name : p->primary_team_id;
		cell(&b, team, 18);
		cell(&b, sync_type_name((enum sync_type)p->sync_type), 5);
		cell(&b, acc.p ? acc.p : "-", 18);
		buf_adds(&b, (p->flags & PERSON_CONFLICT) ? " conflict" : "");
		buf_adds(&b, p->active ? "" : " inactive");
		while (b.len && b.p[b.len - 1] == ' ')
			b.len--;
		buf_addc(&b, '\n');
		buf_free(&acc);
		if (b.len > 65536) {
			fwrite(b.p, 1, b.len, f);
			buf_reset(&b);
		}
	}
	buf_printf(&b, "%zu %s: %d on, %d pending, %d off%s\n", n, n == 1 ? "person" : "people",
	    counts[ST_ON], counts[ST_PENDING], counts[ST_OFF],
	    n ? " (* = inactive account)" : "");
	fwrite(b.p, 1, b.len, f);
	buf_free(&b);
}

struct list_ctx {
	struct txn		*t;
	const struct filter	*f;
	enum fmt		 fmt;
	struct buf		 out;
	struct row		*rows;
	size_t			 nrows, cap;
	int			 err;
};

static int
list_cb(const struct person *p, void *arg)
{
	struct list_ctx *lc = arg;
	struct row r = { 0 };

	if (!filter_match(lc->f, p))
		return 0;
	person_copy(&r.p, p);
	if (row_load(lc->t, &r) < 0) {
		row_free(&r);
		lc->err = 1;
		return -1;
	}
	if (lc->fmt == FMT_TABLE) {
		if (lc->nrows == lc->cap) {
			lc->cap = lc->cap ? lc->cap * 2 : 256;
			lc->rows = xrealloc(lc->rows, lc->cap * sizeof(*lc->rows));
		}
		lc->rows[lc->nrows++] = r;
		return 0;
	}
	if (lc->fmt == FMT_JSONL)
		emit_jsonl(&lc->out, &r);
	else
		emit_csv(&lc->out, &r);
	row_free(&r);
	if (lc->out.len > 65536) {
		if (fwrite(lc->out.p, 1, lc->out.len, stdout) != lc->out.len) {
			lc->err = 2;
			return -1;
		}
		buf_reset(&lc->out);
	}
	return 0;
}

static const char people_usage[] =
"usage: peoplesync people [--platform slack|teams|webex] [--status on|off|pending]\n"
"                         [--type bot|user] [--all] [--format table|csv|jsonl]\n"
"\n"
"Lists people, one per human, with their sync status, primary platform and team, sync type\n"
"and accounts. Only active people unless --all. Filters: --platform is the primary\n"
"platform, --status the sync status, --type the sync type.\n";

int
cmd_people(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ "status", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' },
		{ "all", no_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct filter f = { -1, -1, -1, 0 };
	struct list_ctx lc = { 0 };
	enum platform pl;
	int ch, rc;

	lc.fmt = FMT_TABLE;
	while ((ch = getopt_long(argc, argv, "p:s:t:af:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (platform_parse(optarg, &pl) < 0) {
				log_err("people: --platform: '%s' is not slack, teams or webex", optarg);
				return EX_USAGE;
			}
			f.platform = (int)pl;
			break;
		case 's':
			f.status = strcmp(optarg, "on") == 0 ? ST_ON : strcmp(optarg, "off") == 0 ?
			    ST_OFF : strcmp(optarg, "pending") == 0 ? ST_PENDING : -2;
			if (f.status == -2) {
				log_err("people: --status: '%s' is not on, off or pending", optarg);
				return EX_USAGE;
			}
			break;
		case 't':
			f.type = strcmp(optarg, "user") == 0 ? SYNC_USER : strcmp(optarg, "bot") == 0 ?
			    SYNC_BOT : -2;
			if (f.type == -2) {
				log_err("people: --type: '%s' is not bot or user", optarg);
				return EX_USAGE;
			}
			break;
		case 'a':
			f.all = 1;
			break;
		case 'f':
			if (strcmp(optarg, "table") == 0)
				lc.fmt = FMT_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				lc.fmt = FMT_CSV;
			else if (strcmp(optarg, "jsonl") == 0)
				lc.fmt = FMT_JSONL;
			else {
				log_err("people: --format: '%s' is not table, csv or jsonl", optarg);
				return EX_USAGE;
			}
			break;
		case 'h':
			fputs(people_usage, stdout);
			return 0;
		default:
			fputs(people_usage, stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		log_err("people: unexpected argument '%s'", argv[optind]);
		return EX_USAGE;
	}
	if ((rc = cli_open_store(c, 1)) != 0)
		return rc;
	if ((lc.t = store_begin(c->st, 0)) == NULL) {
		log_err("%s", store_error(c->st));
		return EX_IOERR;
	}
	lc.f = &f;
	if (lc.fmt == FMT_CSV)
		buf_adds(&lc.out, csv_header);
	rc = store_person_each(lc.t, list_cb, &lc);
	if (rc < 0 && !lc.err)
		lc.err = 1;
	if (lc.fmt == FMT_TABLE && !lc.err)
		emit_table(stdout, lc.rows, lc.nrows);
	for (size_t i = 0; i < lc.nrows; i++)
		row_free(&lc.rows[i]);
	free(lc.rows);
	if (lc.out.len)
		fwrite(lc.out.p, 1, lc.out.len, stdout);
	buf_free(&lc.out);
	store_abort(lc.t);
	if (fflush(stdout) != 0 || lc.err == 2) {
		log_err("people: writing output: %s", strerror(errno));
		return EX_IOERR;
	}
	if (lc.err) {
		log_err("%s", store_error(c->st));
		return EX_IOERR;
	}
	return 0;
}

/* ---- show ---- */

int
cli_find_person(struct cli *c, struct txn *t, const char *spec, uint64_t *id)
{
	const char *colon = strchr(spec, ':');

	if (colon && !strchr(spec, '@')) {
		struct account a = { 0 };
		int r = cli_find_account(t, spec, &a);
		if (r == 0 && a.person_id == 0)
			r = STORE_NOTFOUND;	/* a bot's account: no person */
		*id = a.person_id;
		account_free(&a);
		return r;
	} else {
		int aliased;
		char *e = rec_email_normalize(spec, &c->cfg, &aliased);
		int r;
		if (e == NULL)
			return STORE_NOTFOUND;
		r = store_email_get(t, e, id);
		free(e);
		return r;
	}
}

static int
print_history_cb(const struct history *h, void *arg)
{
	char iso[32];

	fmt_iso8601((time_t)h->ts, iso);
	fprintf(arg, "  %s  %-11s %s\n", iso, h->kind, h->text);
	return 0;
}

static const char show_usage[] =
"usage: peoplesync show PERSON\n"
"\n"
"One person: sync status, primary platform and team, every account (and how it was linked\n"
"to this person) and the history of changes. PERSON is an email address or\n"
"PLATFORM:USER_ID.\n";

int
cmd_show(struct cli *c, int argc, char **argv)
{
	struct row r = { 0 };
	struct txn *t;
	uint64_t id;
	char iso[32];
	int rc, i;

	if (wants_help(argc, argv)) {
		fputs(show_usage, stdout);
		return 0;
	}
	if (argc != 2) {
		fputs(show_usage, stderr);
		return EX_USAGE;
	}
	if ((rc = cli_open_store(c, 1)) != 0)
		return rc;
	if ((t = store_begin(c->st, 0)) == NULL) {
		log_err("%s", store_error(c->st));
		return EX_IOERR;
	}
	rc = cli_find_person(c, t, argv[1], &id);
	if (rc == 0)
		rc = store_person_get(t, id, &r.p);
	if (rc == STORE_NOTFOUND) {
		log_err("show: no person '%s' in %s", argv[1], c->cfg.database);
		store_abort(t);
		return EX_DATAERR;
	}
	if (rc < 0 || row_load(t, &r) < 0) {
		log_err("%s", store_error(c->st));
		store_abort(t);
		row_free(&r);
		return EX_IOERR;
	}
	printf("%s <%s>\n", r.p.name ? r.p.name : "(no name)", r.p.email ? r.p.email : "no email");
	printf("  person        %llu%s%s\n", (unsigned long long)r.p.id,
	    r.p.active ? "" : ", inactive", (r.p.flags & PERSON_CONFLICT) ? ", in conflict" : "");
	printf("  status        %s\n", status_name((enum status)r.p.status));
	if (r.p.primary_platform >= 0)
		printf("  primary       %s, team %s%s%s%s (%s)\n",
		    platform_name((enum platform)r.p.primary_platform), r.p.primary_team_id,
		    r.team_name ? " \"" : "", r.team_name ? r.team_name : "",
		    r.team_name ? "\"" : "",
		    primary_source_name((enum primary_source)r.p.primary_source));
	else
		printf("  primary       none\n");
	printf("  sync type     %s\n", sync_type_name((enum sync_type)r.p.sync_type) ?
	    sync_type_name((enum sync_type)r.p.sync_type) : "none");
	fmt_iso8601((time_t)r.p.last_prompted_at, iso);
	printf("  prompts       %d%s%s\n", r.p.prompt_count, iso[0] ? ", last " : "", iso);
	fmt_iso8601((time_t)r.p.synced_at, iso);
	printf("  synced        %s\n", iso[0] ? iso : "never");
	printf("accounts:\n");
	for (i = 0; i < r.na; i++) {
		const struct account *a = &r.a[i];
		printf("  %-6s %s/%s  %s  %s  linked by %s%s\n", platform_name(a->platform),
		    a->team_id, a->user_id, a->email ? a->email : "(no email)",
		    rec_account_is_active(a) ? "active" : (a->flags & ACCT_MISSING) ?
		    "gone from roster" : (a->flags & ACCT_DELETED) ? "deactivated" : "inactive",
		    link_how_name((enum link_how)a->link_how),
		    (a->flags & ACCT_CONFLICT) ? ", CONFLICT" : (a->flags & ACCT_GUEST) ?
		    ", guest" : "");
		for (int k = 1; k < a->nemails; k++)
			printf("         also %s (%s)\n", a->emails[k],
			    link_how_name((enum link_how)(a->email_how ? a->email_how[k] : 0)));
	}
	printf("history:\n");
	store_history_each(t, r.p.id, print_history_cb, stdout);
	store_abort(t);
	row_free(&r);
	return 0;
}
