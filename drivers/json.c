/*
 * json.c — RFC 8259 validation and jsmn's tokens in one pass, and typed accessors over them.
 *
 * jsmn 1.1.0 is a tokenizer, not a validator: even with JSMN_STRICT it takes numbers such as
 * 01 or 1., raw control characters and bad UTF-8 in strings, lone surrogate escapes, trailing
 * garbage and several structural mistakes, so a validating pass is needed anyway. Validating
 * and then running jsmn read every byte twice (a third of a roster pull's CPU went there), so
 * tokenize() is that validator making the tokens as it goes: one linear pass with an explicit
 * depth stack (no recursion, so hostile nesting fails in O(JSON_MAX_DEPTH) memory), its tokens
 * exactly those jsmn (strict, parent links) makes for a valid text — json_tokens_vs_jsmn()
 * checks that in the tests, against jsmn itself, over JSONTestSuite and the fuzzer's inputs.
 */

/* This is the one translation unit that compiles jsmn's implementation (the reference of
 * json_tokens_vs_jsmn): include it before json_p.h, whose JSMN_HEADER inclusion is then
 * skipped. */
#include <jsmn.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "json_p.h"

/* The tokens carry jsmn's parent links. */
#ifndef JSMN_PARENT_LINKS
#error "build with -DJSMN_PARENT_LINKS -DJSMN_STRICT (see Makefile DEFS)"
#endif

/* Where and why a text is bad (tokenize()). */
struct vres {
	size_t		 errpos;
	const char	*why;
};

/* The tokens being made: the open containers' token indexes, and the last key. */
struct tokz {
	struct json	*j;
	int		 n;
	int		 cont[JSON_MAX_DEPTH];
	int		 depth;
	int		 key;
	int		 max;		/* tokens the text can need at most: its length + 1 */
	int		 opened;	/* tok_value opened a container */
};

/* A new token of type at [start, end) (end -1: not known yet) under the container at the top
 * (a key) or its last key (a value in an object), counted in its parent's size as jsmn counts
 * it. Returns its index. */
static int
emit(struct tokz *z, jsmntype_t type, size_t start, size_t end, int is_key)
{
	jsmntok_t *t;
	int parent;

	if (z->n == z->j->cap) {
		/* grown by doubling, never beyond what the text can need (a token per byte) */
		z->j->cap = z->j->cap > z->max / 2 ? z->max : z->j->cap ? 2 * z->j->cap : 256;
		if (z->j->cap > z->max)
			z->j->cap = z->max;
		z->j->tok = xrealloc(z->j->tok, (size_t)z->j->cap * sizeof(jsmntok_t));
	}
	if (z->depth == 0)
		parent = -1;
	else if (!is_key && json_toks(z->j)[z->cont[z->depth - 1]].type == JSMN_OBJECT)
		parent = z->key;
	else
		parent = z->cont[z->depth - 1];
	t = &json_toks(z->j)[z->n];
	t->type = type;
	t->start = (int)start;
	t->end = (int)end;
	t->size = 0;
	t->parent = parent;
	if (parent >= 0)
		json_toks(z->j)[parent].size++;
	return z->n++;
}

static const unsigned char *
skip_ws(const unsigned char *p, const unsigned char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The four hex digits at p (caller checked they are in bounds), or -1. */
static long
hex4(const unsigned char *p)
{
	long v = 0;
	int i, d;

	for (i = 0; i < 4; i++) {
		if ((d = hexval(p[i])) < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * One UTF-8 sequence whose lead byte p[0] is >= 0x80 (RFC 3629 table: no overlongs, no
 * surrogates, nothing above U+10FFFF). Returns the byte after it, or NULL.
 */
static const unsigned char *
scan_utf8(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (c >= 0xC2 && c <= 0xDF)
		n = 1;
	else if (c >= 0xE0 && c <= 0xEF) {
		n = 2;
		if (c == 0xE0)
			lo = 0xA0;		/* overlong */
		else if (c == 0xED)
			hi = 0x9F;		/* UTF-16 surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 3;
		if (c == 0xF0)
			lo = 0x90;		/* overlong */
		else if (c == 0xF4)
			hi = 0x8F;		/* above U+10FFFF */
	} else
		return NULL;
	if ((size_t)(end - p) <= n || p[1] < lo || p[1] > hi)
		return NULL;
	for (i = 2; i <= n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return NULL;
	return p + n + 1;
}

/*
 * The string whose opening quote is at p. Returns the byte after the closing quote, or NULL
 * with *errp and *why set.
 */
static const unsigned char *
scan_string(const unsigned char *p, const unsigned char *end, const unsigned char **errp,
    const char **why)
{
	const unsigned char *q;
	long cp, lo;

	p++;
	for (;;) {
#ifdef __SSE2__
		/* Most string bytes are plain ASCII: find the next quote, backslash, control or
		 * non-ASCII byte 16 at a time (signed < 0x20 catches both 0x00-0x1F and >= 0x80). */
		while (end - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
			__m128i m = _mm_or_si128(
			    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
			    _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
			int mask = _mm_movemask_epi8(m);

			if (mask != 0) {
				p += __builtin_ctz((unsigned)mask);
				break;
			}
			p += 16;
		}
#endif
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		if (p == end) {
			*why = "unterminated string";
			goto bad;
		}
		if (*p == '"')
			return p + 1;
		if (*p < 0x20) {
			*why = "control character in string";
			goto bad;
		}
		if (*p >= 0x80) {
			if ((q = scan_utf8(p, end)) == NULL) {
				*why = "invalid UTF-8";
				goto bad;
			}
			p = q;
			continue;
		}
		/* Backslash. */
		if (end - p < 2) {
			*why = "unterminated string";
			goto bad;
		}
		switch (p[1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			p += 2;
			continue;
		case 'u':
			break;
		default:
			*why = "invalid escape";
			goto bad;
		}
		if (end - p < 6 || (cp = hex4(p + 2)) < 0) {
			*why = "invalid \\u escape";
			goto bad;
		}
		if (cp >= 0xDC00 && cp <= 0xDFFF) {
			*why = "unpaired low surrogate escape";
			goto bad;
		}
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			/* A high surrogate is only a character together with a low one. */
			if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
			    (lo = hex4(p + 8)) < 0xDC00 || lo > 0xDFFF) {
				*why = "unpaired high surrogate escape";
				goto bad;
			}
			p += 12;
		} else
			p += 6;
	}
bad:
	*errp = p;
	return NULL;
}

/* A number at p (a '-' or digit): RFC 8259 section 6 grammar. */
static const unsigned char *
scan_number(const unsigned char *p, const unsigned char *end, const unsigned char **errp,
    const char **why)
{
#define ISDIGIT(c) ((c) >= '0' && (c) <= '9')
	if (*p == '-')
		p++;
	if (p == end || !ISDIGIT(*p))
		goto bad;
	if (*p == '0') {
		p++;
		if (p < end && ISDIGIT(*p)) {
			*why = "leading zero in number";
			goto out;
		}
	} else
		while (p < end && ISDIGIT(*p))
			p++;
	if (p < end && *p == '.') {
		p++;
		if (p == end || !ISDIGIT(*p))
			goto bad;
		while (p < end && ISDIGIT(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !ISDIGIT(*p))
			goto bad;
		while (p < end && ISDIGIT(*p))
			p++;
	}
	return p;
#undef ISDIGIT
bad:
	*why = "invalid number";
out:
	*errp = p;
	return NULL;
}

/* A value's first byte at p (not blank, not the end): a scalar is scanned and its token
 * made; a container's token is made and pushed. Returns the byte after a scalar, or after
 * the opening bracket; NULL with r set. */
static const unsigned char *
tok_value(struct tokz *z, const unsigned char *s, const unsigned char *p,
    const unsigned char *end, struct vres *r)
{
	const unsigned char *q = p, *errp = p;

	z->opened = 0;
	switch (*p) {
	case '{':
	case '[':
		if (z->depth == JSON_MAX_DEPTH) {
			r->why = "nesting too deep";
			break;
		}
		z->cont[z->depth] = emit(z, *p == '{' ? JSMN_OBJECT : JSMN_ARRAY,
		    (size_t)(p - s), (size_t)-1, 0);
		z->depth++;
		z->opened = 1;
		return p + 1;
	case '"':
		if ((q = scan_string(p, end, &errp, &r->why)) == NULL)
			break;
		emit(z, JSMN_STRING, (size_t)(p + 1 - s), (size_t)(q - 1 - s), 0);
		return q;
	case 't':
	case 'f':
	case 'n':
		if (*p == 't' && end - p >= 4 && memcmp(p, "true", 4) == 0)
			q = p + 4;
		else if (*p == 'f' && end - p >= 5 && memcmp(p, "false", 5) == 0)
			q = p + 5;
		else if (*p == 'n' && end - p >= 4 && memcmp(p, "null", 4) == 0)
			q = p + 4;
		else {
			r->why = "invalid literal";
			break;
		}
		emit(z, JSMN_PRIMITIVE, (size_t)(p - s), (size_t)(q - s), 0);
		return q;
	case '-': case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
	case '8': case '9':
		if ((q = scan_number(p, end, &errp, &r->why)) == NULL)
			break;
		emit(z, JSMN_PRIMITIVE, (size_t)(p - s), (size_t)(q - s), 0);
		return q;
	default:
		r->why = "unexpected character";
		break;
	}
	r->errpos = (size_t)(errp - s);
	return NULL;
}

/*
 * The whole RFC 8259 grammar plus UTF-8 in one pass that also makes the tokens, as jsmn
 * (strict, parent links) would make them for a valid text: z->cont holds the open
 * containers, so the C stack use is fixed whatever the input. 0 or -1 (r set).
 */
static int
tokenize(struct tokz *z, const char *text, size_t len, struct vres *r)
{
	const unsigned char *s = (const unsigned char *)text;
	const unsigned char *p = s, *end = s + len;
	jsmntok_t *top;

	r->why = "unexpected character";
	if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
		r->why = "byte order mark not allowed";
		goto bad;
	}
value:
	p = skip_ws(p, end);
	if (p == end) {
		r->why = "unexpected end of input";
		goto bad;
	}
	if ((p = tok_value(z, s, p, end, r)) == NULL)
		return -1;
	if (z->opened) {
		top = &json_toks(z->j)[z->cont[z->depth - 1]];
		p = skip_ws(p, end);
		if (p < end && *p == (top->type == JSMN_OBJECT ? '}' : ']'))
			goto close;
		if (top->type == JSMN_OBJECT)
			goto key;
		goto value;
	}
	goto after;
key:
	/* p is at the first non-blank after '{' or ','. */
	if (p == end || *p != '"') {
		r->why = p == end ? "unexpected end of input" : "expected string key";
		goto bad;
	}
	{
		const unsigned char *q, *errp = p;

		if ((q = scan_string(p, end, &errp, &r->why)) == NULL) {
			r->errpos = (size_t)(errp - s);
			return -1;
		}
		z->key = emit(z, JSMN_STRING, (size_t)(p + 1 - s), (size_t)(q - 1 - s), 1);
		p = skip_ws(q, end);
	}
	if (p == end || *p != ':') {
		r->why = p == end ? "unexpected end of input" : "expected ':'";
		goto bad;
	}
	p++;
	goto value;
close:
	json_toks(z->j)[z->cont[--z->depth]].end = (int)(p + 1 - s);
	p++;
after:
	p = skip_ws(p, end);
	if (z->depth == 0) {
		if (p != end) {
			r->why = "trailing data after document";
			goto bad;
		}
		return 0;
	}
	if (p == end) {
		r->why = "unexpected end of input";
		goto bad;
	}
	top = &json_toks(z->j)[z->cont[z->depth - 1]];
	if (*p == ',') {
		p = skip_ws(p + 1, end);
		if (top->type == JSMN_OBJECT)
			goto key;
		goto value;
	}
	if (*p == (top->type == JSMN_OBJECT ? '}' : ']'))
		goto close;
	r->why = top->type == JSMN_OBJECT ? "expected ',' or '}'" : "expected ',' or ']'";
bad:
	r->errpos = (size_t)(p - s);
	return -1;
}

void
json_free(struct json *j)
{
	if (j == NULL)
		return;
	free(j->tok);
	memset(j, 0, sizeof(*j));
}

int
json_parse(struct json *j, const char *text, size_t len, char *err, size_t errlen)
{
	struct tokz *z = NULL;
	struct vres v = { 0, NULL };
	int rc = -1;

	j->text = NULL;
	j->len = 0;
	j->ntok = 0;
	if (text == NULL) {
		v.why = "no text";
		goto out;
	}
	/* tokens keep positions in ints */
	if (len >= (size_t)INT_MAX) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "JSON document too large (%zu bytes, limit 2 GiB)",
			    len);
		goto out_quiet;
	}
	z = xmalloc(sizeof(*z));
	z->j = j;
	z->n = z->depth = 0;
	z->key = -1;
	z->max = (int)len + 1;
	if (tokenize(z, text, len, &v) == -1)
		goto out;
	j->text = text;
	j->len = len;
	j->ntok = z->n;
	rc = 0;
out:
	if (rc != 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "invalid JSON at byte %zu: %s", v.errpos, v.why);
out_quiet:
	free(z);
	return rc;
}

int
json_tokens_vs_jsmn(const struct json *j)
{
	jsmntok_t *ref;
	jsmn_parser jp;
	int n, i, rc = -2;

	if (j->ntok == 0 || json_toks(j)[0].type == JSMN_PRIMITIVE)
		return -1;	/* jsmn (strict) cannot tokenize a bare root scalar at the end */
	ref = xcalloc((size_t)j->ntok + 1, sizeof(*ref));
	jsmn_init(&jp);
	n = jsmn_parse(&jp, j->text, j->len, ref, (unsigned int)j->ntok + 1);
	if (n != j->ntok)
		goto out;
	for (i = 0; i < n; i++) {
		const jsmntok_t *a = &json_toks(j)[i], *b = &ref[i];
		if (a->type != b->type || a->start != b->start || a->end != b->end ||
		    a->size != b->size || a->parent != b->parent) {
			rc = i;
			goto out;
		}
	}
	rc = -1;
out:
	free(ref);
	return rc;
}

static int
valid_tok(const struct json *j, int i)
{
	return json_tok_valid(j, i);
}

static int
is_container(const struct json *j, int i)
{
	return valid_tok(j, i) &&
	    (json_toks(j)[i].type == JSMN_OBJECT || json_toks(j)[i].type == JSMN_ARRAY);
}

int
json_skip(const struct json *j, int i)
{
	const jsmntok_t *t;
	size_t inside, hi, step, mid, n;
	int end;

	if (!valid_tok(j, i))
		return -1;
	t = json_toks(j);
	n = (size_t)j->ntok;
	/* An object key's subtree is the key and its value (jsmn makes the value its child). */
	while (t[i].type == JSMN_STRING && t[i].size > 0 && i + 1 < j->ntok)
		i++;
	if (t[i].type != JSMN_OBJECT && t[i].type != JSMN_ARRAY)
		return i + 1;
	/*
	 * Token starts increase strictly in index order, and a subtree's tokens all start before
	 * its closing bracket, so the answer is the first token starting at or after tok[i].end.
	 * Gallop then bisect: O(log k) for a subtree of k tokens, however large the document.
	 */
	end = t[i].end;
	inside = (size_t)i;
	step = 1;
	for (;;) {
		hi = n - inside > step ? inside + step : n;
		if (hi == n || t[hi].start >= end)
			break;
		inside = hi;
		step *= 2;
	}
	while (hi - inside > 1) {
		mid = inside + (hi - inside) / 2;
		if (t[mid].start >= end)
			hi = mid;
		else
			inside = mid;
	}
	return (int)hi;
}

int
json_first(const struct json *j, int container)
{
	if (!is_container(j, container) || json_toks(j)[container].size == 0)
		return -1;
	return container + 1;
}

int
json_next(const struct json *j, int container, int cur)
{
	int n;

	if (!is_container(j, container) || cur <= container || cur >= j->ntok)
		return -1;
	n = json_skip(j, cur);
	if (n < 0 || n >= j->ntok || json_toks(j)[n].start >= json_toks(j)[container].end)
		return -1;
	return n;
}

int
json_count(const struct json *j, int container)
{
	return is_container(j, container) ? json_toks(j)[container].size : 0;
}

/*
 * Decodes the escape or raw byte at *pp (inside a validated string ending at e) into out,
 * advancing *pp. Raw UTF-8 is passed through a byte at a time. Returns the bytes written (1-4).
 */
static size_t
decode_one(const unsigned char **pp, const unsigned char *e, unsigned char out[4])
{
	const unsigned char *p = *pp;
	long cp, lo;

	if (*p != '\\' || e - p < 2) {
		out[0] = *p;
		*pp = p + 1;
		return 1;
	}
	*pp = p + 2;
	switch (p[1]) {
	case 'b': out[0] = '\b'; return 1;
	case 'f': out[0] = '\f'; return 1;
	case 'n': out[0] = '\n'; return 1;
	case 'r': out[0] = '\r'; return 1;
	case 't': out[0] = '\t'; return 1;
	case 'u': break;
	default: out[0] = p[1]; return 1;	/* \" \\ \/ */
	}
	/* The validator guarantees 4 hex digits and paired surrogates; stay in bounds anyway. */
	if (e - p < 6 || (cp = hex4(p + 2)) < 0) {
		out[0] = 'u';
		return 1;
	}
	*pp = p + 6;
	if (cp >= 0xD800 && cp <= 0xDBFF && e - p >= 12 && p[6] == '\\' && p[7] == 'u' &&
	    (lo = hex4(p + 8)) >= 0xDC00 && lo <= 0xDFFF) {
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		*pp = p + 12;
	}
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xC0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xE0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (unsigned char)(0xF0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

static unsigned char
ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static int
bytes_eq(const unsigned char *a, const unsigned char *b, size_t n, int ci)
{
	size_t k;

	if (!ci)
		return memcmp(a, b, n) == 0;
	for (k = 0; k < n; k++)
		if (ascii_lower(a[k]) != ascii_lower(b[k]))
			return 0;
	return 1;
}

/* 1 if string token i decodes to s[0..n) (ASCII case folded when ci). */
static int
str_eq_n(const struct json *j, int i, const char *s, size_t n, int ci)
{
	const unsigned char *p, *e, *k = (const unsigned char *)s;
	unsigned char u[4];
	size_t raw, m, off = 0;
	int has_bs;

	if (!valid_tok(j, i) || json_toks(j)[i].type != JSMN_STRING)
		return 0;
	p = (const unsigned char *)j->text + json_toks(j)[i].start;
	e = (const unsigned char *)j->text + json_toks(j)[i].end;
	raw = (size_t)(e - p);
	/* Every escape decodes shorter than it is written, so a raw span shorter than s never
	 * matches, and one of equal length matches only byte for byte without escapes. */
	if (raw < n)
		return 0;
	has_bs = memchr(p, '\\', raw) != NULL;
	if (raw == n || !has_bs)
		return raw == n && !has_bs && bytes_eq(p, k, n, ci);
	while (p < e) {
		m = decode_one(&p, e, u);
		if (m > n - off || !bytes_eq(u, k + off, m, ci))
			return 0;
		off += m;
	}
	return off == n;
}

static int
get_n(const struct json *j, int obj, const char *key, size_t keylen, int ci)
{
	int k;

	if (!valid_tok(j, obj) || json_toks(j)[obj].type != JSMN_OBJECT || key == NULL)
		return -1;
	/* The first of duplicate keys wins. */
	for (k = json_first(j, obj); k >= 0; k = json_next(j, obj, k))
		if (str_eq_n(j, k, key, keylen, ci))
			return k + 1 < j->ntok ? k + 1 : -1;
	return -1;
}

int
json_get(const struct json *j, int obj, const char *key)
{
	return key == NULL ? -1 : get_n(j, obj, key, strlen(key), 0);
}

int
json_get_ci(const struct json *j, int obj, const char *key)
{
	return key == NULL ? -1 : get_n(j, obj, key, strlen(key), 1);
}

/* 1 if key token k (raw bytes p[0..n), escapes in it when bs) decodes to s[0..sn). */
static int
key_is(const struct json *j, int k, const char *p, size_t n, int bs, const char *s, size_t sn)
{
	if (!bs)
		return n == sn && memcmp(p, s, n) == 0;
	return str_eq_n(j, k, s, sn, 0);
}

int
json_pick(const struct json *j, int obj, const char *const *keys, int nkeys, int *vals)
{
	const jsmntok_t *t;
	size_t len[JSON_PICK_MAX];
	int i, k, w, left, found = 0;

	for (w = 0; w < nkeys; w++)
		vals[w] = -1;
	if (!valid_tok(j, obj) || json_toks(j)[obj].type != JSMN_OBJECT || nkeys > JSON_PICK_MAX)
		return 0;
	for (w = 0; w < nkeys; w++)
		len[w] = strlen(keys[w]);
	t = json_toks(j);
	left = t[obj].size;
	/* one walk over the keys: a key is followed by its value, whose subtree is skipped */
	for (k = obj + 1; left > 0 && k + 1 < j->ntok && found < nkeys; left--) {
		const char *p = j->text + t[k].start;
		size_t n = (size_t)(t[k].end - t[k].start);
		int bs = memchr(p, '\\', n) != NULL;

		for (w = 0; w < nkeys; w++) {
			if (vals[w] >= 0 || !key_is(j, k, p, n, bs, keys[w], len[w]))
				continue;
			vals[w] = k + 1;	/* the first of duplicate keys wins */
			found++;
			break;
		}
		i = k + 1;
		k = (t[i].type == JSMN_OBJECT || t[i].type == JSMN_ARRAY) ? json_skip(j, i) :
		    i + 1;
		if (k < 0)
			break;
	}
	return found;
}

int
json_path(const struct json *j, int obj, const char *path)
{
	const char *seg, *dot;
	int cur = obj;

	if (path == NULL)
		return -1;
	for (seg = path; cur >= 0; seg = dot + 1) {
		dot = strchr(seg, '.');
		cur = get_n(j, cur, seg, dot != NULL ? (size_t)(dot - seg) : strlen(seg), 0);
		if (dot == NULL)
			break;
	}
	return cur;
}

static int
is_prim(const struct json *j, int i, char first)
{
	return valid_tok(j, i) && json_toks(j)[i].type == JSMN_PRIMITIVE &&
	    j->text[json_toks(j)[i].start] == first;
}

int
json_is_null(const struct json *j, int i)
{
	return is_prim(j, i, 'n');
}

int
json_is_string(const struct json *j, int i)
{
	return valid_tok(j, i) && json_toks(j)[i].type == JSMN_STRING;
}

int
json_is_object(const struct json *j, int i)
{
	return valid_tok(j, i) && json_toks(j)[i].type == JSMN_OBJECT;
}

int
json_is_array(const struct json *j, int i)
{
	return valid_tok(j, i) && json_toks(j)[i].type == JSMN_ARRAY;
}

int
json_str(const struct json *j, int i, struct buf *out)
{
	const unsigned char *p, *e, *bs;
	unsigned char u[4];
	size_t m;

	if (!json_is_string(j, i))
		return -1;
	p = (const unsigned char *)j->text + json_toks(j)[i].start;
	e = (const unsigned char *)j->text + json_toks(j)[i].end;
	/* Decoded text is never longer than the raw span: one reservation covers it. */
	buf_reserve(out, (size_t)(e - p));
	/* buf_add() runs at least once, so out->p is terminated even for "". */
	for (;;) {
		if ((bs = memchr(p, '\\', (size_t)(e - p))) == NULL)
			bs = e;
		buf_add(out, p, (size_t)(bs - p));
		if (bs == e)
			break;
		p = bs;
		m = decode_one(&p, e, u);
		buf_add(out, u, m);
	}
	return 0;
}

char *
json_strdup(const struct json *j, int i)
{
	const unsigned char *p, *e;
	unsigned char u[4];
	char *s = NULL;
	size_t n = 0, m;

	if (!json_is_string(j, i))
		goto out;
	p = (const unsigned char *)j->text + json_toks(j)[i].start;
	e = (const unsigned char *)j->text + json_toks(j)[i].end;
	s = xmalloc((size_t)(e - p) + 1);
	while (p < e) {
		m = decode_one(&p, e, u);
		/* A \u0000 would silently cut the C string short ("a@x.com\u0000.evil" reading
		 * as "a@x.com"); a string that cannot be a C string has no C-string copy. */
		if (m == 1 && u[0] == '\0') {
			free(s);
			s = NULL;
			goto out;
		}
		memcpy(s + n, u, m);
		n += m;
	}
	s[n] = '\0';
out:
	return s;
}

int
json_str_eq(const struct json *j, int i, const char *s)
{
	return s != NULL && str_eq_n(j, i, s, strlen(s), 0);
}
