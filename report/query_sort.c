/*
 * query_sort.c — the order of the console's table when it is not the default one
 * (report/query_p.h): candidates with their keys as numbers and their texts in one arena,
 * and a partial quicksort that puts only the ranks of the page in place.
 */
#include <stdlib.h>
#include <string.h>

#include "query_p.h"

#define SIGN	(UINT64_C(1) << 63)

/* Appends s (n bytes, at most max) lower-cased (ASCII) and a NUL to the arena; its offset,
 * and in pre its first 16 bytes big-endian (zero-padded). */
static size_t
text(struct qcands *s, const char *str, size_t n, size_t max, uint64_t pre[2])
{
	size_t at = s->arena.len;
	char *d;

	if (n > max)
		n = max;
	buf_reserve(&s->arena, n + 1);
	d = s->arena.p + at;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)str[i];
		d[i] = (char)((unsigned)(c - 'A') < 26u ? c + 32 : c);
	}
	d[n] = '\0';
	pre[0] = pre[1] = 0;
	for (size_t i = 0; i < 16 && i < n; i++)
		pre[i / 8] |= (uint64_t)(unsigned char)d[i] << (56 - 8 * (i % 8));
	s->arena.len += n + 1;
	return at;
}

static void
num(int64_t v, uint64_t k[2])
{
	k[0] = (uint64_t)v ^ SIGN;
	k[1] = 0;
}

/* The order of two 16-byte prefixes. */
static inline int
pre_cmp(const uint64_t a[2], const uint64_t b[2])
{
	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	return a[1] < b[1] ? -1 : a[1] > b[1];
}

void
qc_add(struct qcands *s, const struct person_view *v)
{
	struct qcand *c;
	const char *tie = v->name ? v->name : v->email ? v->email : "";
	size_t tlen = v->name ? v->name_len : v->email ? v->email_len : 0;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->c = xrealloc(s->c, s->cap * sizeof(*s->c));
	}
	c = &s->c[s->n++];
	c->id = v->id;
	c->ts = text(s, tie, tlen, QUERY_TIE_MAX, c->t);
	c->ks = c->ts;
	c->k[0] = c->t[0];
	c->k[1] = c->t[1];
	switch (s->sort) {
	case QS_EMAIL:
		c->ks = text(s, v->email ? v->email : "", v->email ? v->email_len : 0, SIZE_MAX,
		    c->k);
		break;
	case QS_TEAM:
		c->ks = text(s, v->team ? v->team : "", v->team ? v->team_len : 0, SIZE_MAX,
		    c->k);
		break;
	case QS_STATUS: num(v->status, c->k); break;
	case QS_PLATFORM: num(v->primary_platform, c->k); break;
	case QS_TYPE: num(v->sync_type, c->k); break;
	case QS_PROMPTED: num(v->last_prompted_at, c->k); break;
	case QS_PROMPTS: num(v->prompt_count, c->k); break;
	case QS_SYNCED: num(v->synced_at, c->k); break;
	default: break;			/* QS_NAME: the default order's text */
	}
}

/* The default order of x and y: the name (else the address), then the id. */
static inline int
default_cmp(const struct qcands *s, const struct qcand *x, const struct qcand *y)
{
	int c = pre_cmp(x->t, y->t);

	if (c == 0 && (x->t[1] & 0xff) != 0)	/* texts of 16 bytes or more */
		c = strcmp(s->arena.p + x->ts, s->arena.p + y->ts);
	return c ? c : (x->id < y->id ? -1 : x->id > y->id);
}

/* The sort's order of x and y: the key (descending with desc), then the default order; by
 * name, the default order (reversed with desc). */
static inline int
cmp(const struct qcands *s, const struct qcand *x, const struct qcand *y)
{
	int c = 0;

	if (s->sort == QS_NAME)
		return s->desc ? -default_cmp(s, x, y) : default_cmp(s, x, y);
	c = pre_cmp(x->k, y->k);
	if (c == 0 && (s->sort == QS_EMAIL || s->sort == QS_TEAM) && (x->k[1] & 0xff) != 0)
		c = strcmp(s->arena.p + x->ks, s->arena.p + y->ks);
	if (s->desc)
		c = -c;
	return c ? c : default_cmp(s, x, y);
}

static inline void
swap(struct qcand *c, size_t i, size_t j)
{
	struct qcand x = c[i];

	c[i] = c[j];
	c[j] = x;
}

static void
insertion(const struct qcands *s, size_t lo, size_t hi)
{
	for (size_t i = lo + 1; i < hi; i++)
		for (size_t j = i; j > lo && cmp(s, &s->c[j], &s->c[j - 1]) < 0; j--)
			swap(s->c, j, j - 1);
}

/* Partitions c[lo..hi) (hi - lo >= 4) around the median of three: the pivot's place. */
static size_t
partition(const struct qcands *s, size_t lo, size_t hi)
{
	struct qcand *c = s->c;
	size_t mid = lo + (hi - lo) / 2, i = lo, j = hi - 2;

	if (cmp(s, &c[mid], &c[lo]) < 0)
		swap(c, mid, lo);
	if (cmp(s, &c[hi - 1], &c[lo]) < 0)
		swap(c, hi - 1, lo);
	if (cmp(s, &c[hi - 1], &c[mid]) < 0)
		swap(c, hi - 1, mid);
	/* c[lo] <= pivot <= c[hi - 1]: the scans below stop at them */
	swap(c, mid, hi - 2);
	for (;;) {
		while (cmp(s, &c[++i], &c[hi - 2]) < 0)
			;
		while (cmp(s, &c[hi - 2], &c[--j]) < 0)
			;
		if (i >= j)
			break;
		swap(c, i, j);
	}
	swap(c, i, hi - 2);
	return i;
}

/* qc_select on c[lo..hi) */
static void
select_range(const struct qcands *s, size_t lo, size_t hi, size_t from, size_t to)
{
	size_t p;

	/* every candidate is distinct (the id ends each comparison): a strict order */
	while (hi - lo > 16) {
		if (hi <= from || lo >= to)
			return;
		p = partition(s, lo, hi);
		/* the smaller side by recursion (a depth of log n), the other by the loop */
		if (p - lo < hi - p - 1) {
			if (from < p)
				select_range(s, lo, p, from, to);
			lo = p + 1;
		} else {
			if (to > p + 1)
				select_range(s, p + 1, hi, from, to);
			hi = p;
		}
	}
	if (hi > from && lo < to)
		insertion(s, lo, hi);
}

void
qc_select(struct qcands *s, size_t from, size_t to)
{
	select_range(s, 0, s->n, from, to);
}

void
qc_free(struct qcands *s)
{
	free(s->c);
	buf_free(&s->arena);
	memset(s, 0, sizeof(*s));
}
