/*
 * table.c — the people table of `people` (the default format): fixed columns that a hostile
 * roster cannot garble, sorted by name, and a closing count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile.h"
#include "report.h"

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

void
report_table(FILE *f, struct report_row *rows, size_t n)
{
	static const struct { const char *title; int w; } cols[] = {
		{ "NAME", 26 }, { "EMAIL", 32 }, { "STATUS", 8 }, { "PRIMARY", 8 },
		{ "PRIMARY TEAM", 18 }, { "TYPE", 5 }, { "ACCOUNTS", 20 }
	};
	struct buf b = { 0 };
	size_t i, c;
	int counts[3] = { 0 }, starred = 0;

	qsort(rows, n, sizeof(*rows), report_row_cmp);
	for (c = 0; c < ARRAY_LEN(cols); c++) {
		cell(&b, cols[c].title, cols[c].w - 1);
		buf_addc(&b, ' ');
	}
	while (b.len && b.p[b.len - 1] == ' ')
		b.len--;
	buf_addc(&b, '\n');
	for (i = 0; i < n; i++) {
		const struct person *p = &rows[i].p;
		struct buf acc = { 0 };
		const char *v[ARRAY_LEN(cols)];
		int k;

		counts[p->status]++;
		for (k = 0; k < rows[i].na; k++) {
			if (acc.len)
				buf_addc(&acc, ',');
			buf_adds(&acc, platform_name(rows[i].a[k].platform));
			if (!rec_account_is_active(&rows[i].a[k])) {
				buf_addc(&acc, '*');
				starred = 1;
			}
		}
		v[0] = p->name;
		v[1] = p->email;
		v[2] = status_name((enum status)p->status);
		v[3] = p->primary_platform >= 0 ?
		    platform_name((enum platform)p->primary_platform) : NULL;
		v[4] = rows[i].team_name ? rows[i].team_name : p->primary_team_id;
		v[5] = sync_type_name((enum sync_type)p->sync_type);
		v[6] = acc.p ? acc.p : "-";
		/* every cell is one column narrower than its slot: a cut value never runs into
		 * the next column */
		for (c = 0; c < ARRAY_LEN(cols); c++) {
			cell(&b, v[c], cols[c].w - 1);
			buf_addc(&b, ' ');
		}
		if (p->flags & PERSON_CONFLICT)
			buf_adds(&b, "conflict ");
		if (p->flags & PERSON_GUEST)
			buf_adds(&b, "guest ");
		if (p->flags & PERSON_REAUTH)
			buf_adds(&b, "needs-reauth ");
		if (!p->active)
			buf_adds(&b, "inactive ");
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
	    starred ? " (* = inactive account)" : "");
	fwrite(b.p, 1, b.len, f);
	buf_free(&b);
}
