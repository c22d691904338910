/*
 * admin_query.c — the console's filters, sort and page as they travel in a URL (GET forms
 * and links) or in the hidden fields of a form that acts on them (web/admin_p.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_p.h"

#define SIZE_DEFAULT	50
#define SIZE_MAX_PAGE	500

const char *const admin_status_names[3] = { "off", "pending", "on" };
const char *const admin_type_names[3] = { "", "user", "bot" };

int
admin_name_index(const char *s, const char *const *names, int n)
{
	for (int i = 0; s && i < n; i++)
		if (names[i][0] && strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

struct qsrc {
	struct admin_req	*a;
	const struct buf	*body;
	struct buf		*hold;
};

/* A parameter of the query: from the body (a POST acting on the filters) or the URL. */
static const char *
param(struct qsrc *s, const char *name)
{
	char *v;

	if (s->body == NULL)
		return admin_arg(s->a, name);
	if ((v = admin_form_get(s->body, name)) == NULL)
		return NULL;
	/* kept in hold until the request ends: offsets would move, so each value is its own
	 * allocation recorded in hold */
	buf_add(s->hold, &v, sizeof(v));
	return v;
}

void
admin_query(struct admin_req *a, const struct buf *body, struct query *q, struct buf *hold)
{
	struct report_filter init = REPORT_FILTER_INIT;
	struct qsrc s = { a, body, hold };
	const char *v;
	long long n;
	enum platform pl;

	memset(q, 0, sizeof(*q));
	q->f = init;
	if ((v = param(&s, "platform")) && platform_parse(v, &pl) == 0)
		q->f.platform = (int)pl;
	q->f.status = admin_name_index(param(&s, "status"), admin_status_names, 3);
	q->f.type = admin_name_index(param(&s, "type"), admin_type_names, 3);
	if ((v = param(&s, "team")) && *v)
		q->f.team = v;
	q->f.all = (v = param(&s, "all")) && strcmp(v, "1") == 0;
	q->f.stale = (v = param(&s, "stale")) && strcmp(v, "1") == 0;
	report_filter_finish(&q->f, a->sv->cfg);
	if ((v = param(&s, "q")) && *v)
		q->search = v;
	q->sort = QS_NAME;
	if ((v = param(&s, "sort")) && admin_name_index(v, query_sort_names, QS_COUNT) >= 0)
		q->sort = (enum query_sort)admin_name_index(v, query_sort_names, QS_COUNT);
	q->desc = (v = param(&s, "desc")) && strcmp(v, "1") == 0;
	q->size = SIZE_DEFAULT;
	if ((v = param(&s, "size")) && parse_ll(v, 1, SIZE_MAX_PAGE, &n) == 0)
		q->size = (size_t)n;
	if ((v = param(&s, "page")) && parse_ll(v, 1, 1000000000, &n) == 0)
		q->page = (uint64_t)n - 1;
}

/* Appends name=value (value URL-encoded; the whole escaped for an attribute). */
static void
qs_add(struct buf *out, const char *name, const char *value)
{
	struct buf enc = { 0 };

	buf_urlencode(&enc, value, strlen(value));
	if (out->len)
		buf_adds(out, "&amp;");
	htmlf(out, "%r=%s", name, enc.p ? enc.p : "");
	buf_free(&enc);
}

void
admin_query_string(const struct query *q, int filters_only, struct buf *out)
{
	char n[24];

	if (q->f.platform >= 0)
		qs_add(out, "platform", platform_name((enum platform)q->f.platform));
	if (q->f.status >= 0)
		qs_add(out, "status", admin_status_names[q->f.status]);
	if (q->f.type > 0)
		qs_add(out, "type", admin_type_names[q->f.type]);
	if (q->f.team)
		qs_add(out, "team", q->f.team);
	if (q->f.all)
		qs_add(out, "all", "1");
	if (q->f.stale)
		qs_add(out, "stale", "1");
	if (q->search)
		qs_add(out, "q", q->search);
	if (filters_only)
		return;
	if (q->sort != QS_NAME)
		qs_add(out, "sort", query_sort_names[q->sort]);
	if (q->desc)
		qs_add(out, "desc", "1");
	if (q->size != SIZE_DEFAULT) {
		snprintf(n, sizeof(n), "%zu", q->size);
		qs_add(out, "size", n);
	}
}

void
admin_query_fields(const struct query *q, struct buf *out)
{
	const char *names[] = { "platform", "status", "type", "team", "all", "stale", "q" };
	const char *vals[] = {
		q->f.platform >= 0 ? platform_name((enum platform)q->f.platform) : NULL,
		q->f.status >= 0 ? admin_status_names[q->f.status] : NULL,
		q->f.type > 0 ? admin_type_names[q->f.type] : NULL, q->f.team,
		q->f.all ? "1" : NULL, q->f.stale ? "1" : NULL, q->search
	};

	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (vals[i])
			htmlf(out, "<input type=\"hidden\" name=\"%r\" value=\"%s\">", names[i],
			    vals[i]);
}

void
admin_query_free(struct buf *hold)
{
	for (size_t i = 0; i + sizeof(char *) <= hold->len; i += sizeof(char *)) {
		char *v;
		memcpy(&v, hold->p + i, sizeof(v));
		free(v);
	}
	buf_free(hold);
}

