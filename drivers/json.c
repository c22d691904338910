/*
 * json.c — RFC 8259 validation on top of jsmn, and typed accessors over its tokens.
 *
 * jsmn 1.1.0 is a tokenizer, not a validator: even with JSMN_STRICT it takes numbers such as
 * 01 or 1., raw control characters and bad UTF-8 in strings, lone surrogate escapes, trailing
 * garbage and several structural mistakes. So json_parse() first runs validate(), one linear
 * pass over the bytes with an explicit depth stack (no recursion, so hostile nesting fails in
 * O(JSON_MAX_DEPTH) memory), which also counts the tokens jsmn will produce; the token array
 * is then sized exactly once and jsmn runs once. Both must agree or the text is rejected.
 */

/* This is the one translation unit that compiles jsmn's implementation: include it before
 * json_p.h, whose JSMN_HEADER inclusion is then skipped. */
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

/* json_parse() fills the parent field itself for a bare root scalar. */
#ifndef JSMN_PARENT_LINKS
#error "build with -DJSMN_PARENT_LINKS -DJSMN_STRICT (see Makefile DEFS)"
#endif

/* Result of validate(): the token count jsmn must return, or where and why the text is bad. */
struct vres {
	size_t		 ntok;
	size_t		 errpos;
	const char	*why;
	int		 root_prim;	/* the root is a number, true, false or null */
	size_t		 root_start;
	size_t		 root_end;
};

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

/*
 * The whole RFC 8259 grammar plus UTF-8, iteratively: stack[] holds the open containers
 * ('{' or '['), so the C stack use is fixed whatever the input. Returns 0 or -1 (r->errpos,
 * r->why set).
 */
static int
validate(const char *text, size_t len, struct vres *r)
{
	const unsigned char *s = (const unsigned char *)text;
	const unsigned char *p = s, *end = s + len, *q = s, *errp = s;
	unsigned char stack[JSON_MAX_DEPTH];
	const char *why = "unexpected character";
	size_t ntok = 0;
	int depth = 0;
	int rc = -1;

	r->root_prim = 0;
	if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
		why = "byte order mark not allowed";
		goto out;
	}

value:
	p = skip_ws(p, end);
	if (p == end) {
		why = "unexpected end of input";
		goto bad;
	}
	ntok++;
	switch (*p) {
	case '{':
	case '[':
		if (depth == JSON_MAX_DEPTH) {
			why = "nesting too deep";
			goto bad;
		}
		stack[depth++] = *p;
		p = skip_ws(p + 1, end);
		if (p < end && *p == (stack[depth - 1] == '{' ? '}' : ']')) {
			p++;
			depth--;
			goto after;
		}
		if (stack[depth - 1] == '{')
			goto key;
		goto value;
	case '"':
		if ((p = scan_string(p, end, &errp, &why)) == NULL)
			goto out;
		goto after;
	case 't':
	case 'f':
	case 'n':
		q = p;
		if (*p == 't' && end - p >= 4 && memcmp(p, "true", 4) == 0)
			p += 4;
		else if (*p == 'f' && end - p >= 5 && memcmp(p, "false", 5) == 0)
			p += 5;
		else if (*p == 'n' && end - p >= 4 && memcmp(p, "null", 4) == 0)
			p += 4;
		else {
			why = "invalid literal";
			goto bad;
		}
		goto primitive;
	case '-': case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
	case '8': case '9':
		q = p;
		if ((p = scan_number(p, end, &errp, &why)) == NULL)
			goto out;
		goto primitive;
	default:
		goto bad;
	}

primitive:
	if (depth == 0) {
		/* jsmn cannot tokenize a bare root number/literal at the very end of the text
		 * (strict mode wants a delimiter after it), so json_parse() builds that token. */
		r->root_prim = 1;
		r->root_start = (size_t)(q - s);
		r->root_end = (size_t)(p - s);
	}
	goto after;

key:
	/* p is at the first non-blank after '{' or ','. */
	if (p == end || *p != '"') {
		why = p == end ? "unexpected end of input" : "expected string key";
		goto bad;
	}
	ntok++;
	if ((p = scan_string(p, end, &errp, &why)) == NULL)
		goto out;
	p = skip_ws(p, end);
	if (p == end || *p != ':') {
		why = p == end ? "unexpected end of input" : "expected ':'";
		goto bad;
	}
	p++;
	goto value;

after:
	p = skip_ws(p, end);
	if (depth == 0) {
		if (p != end) {
			why = "trailing data after document";
			goto bad;
		}
		r->ntok = ntok;
		rc = 0;
		goto out;
	}
	if (p == end) {
		why = "unexpected end of input";
		goto bad;
	}
	if (*p == ',') {
		p = skip_ws(p + 1, end);
		if (stack[depth - 1] == '{')
			goto key;
		goto value;
	}
	if (*p == (stack[depth - 1] == '{' ? '}' : ']')) {
		p++;
		depth--;
		goto after;
	}
	why = stack[depth - 1] == '{' ? "expected ',' or '}'" : "expected ',' or ']'";
	/* FALLTHROUGH */
bad:
	errp = p;
out:
	if (rc != 0) {
		r->errpos = (size_t)(errp - s);
		r->why = why;
	}
	return rc;
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
	struct vres v;
	jsmn_parser jp;
	size_t errpos = 0;
	const char *why = NULL;
	int n, rc = -1;

	j->text = NULL;
	j->len = 0;
	j->ntok = 0;
	if (text == NULL) {
		why = "no text";
		goto out;
	}
	/* jsmn keeps positions in ints (and its parser position in an unsigned int). */
	if (len >= (size_t)INT_MAX) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "JSON document too large (%zu bytes, limit 2 GiB)",
			    len);
		goto out_quiet;
	}
	if (validate(text, len, &v) == -1) {
		errpos = v.errpos;
		why = v.why;
		goto out;
	}
	/* The validator counted exactly the tokens jsmn will produce: at most len of them. */
	if (v.ntok > (size_t)j->cap) {
		j->tok = xrealloc(j->tok, v.ntok * sizeof(jsmntok_t));
		j->cap = (int)v.ntok;
	}
	if (v.root_prim) {
		json_toks(j)[0].type = JSMN_PRIMITIVE;
		json_toks(j)[0].start = (int)v.root_start;
		json_toks(j)[0].end = (int)v.root_end;
		json_toks(j)[0].size = 0;
		json_toks(j)[0].parent = -1;
		n = 1;
	} else {
		jsmn_init(&jp);
		n = jsmn_parse(&jp, text, len, json_toks(j), (unsigned int)j->cap);
		if (n < 0 || (size_t)n != v.ntok) {
			/* Not expected for validated text; refuse rather than hand out tokens
			 * that may not describe the document. */
			errpos = jp.pos;
			why = "tokenizer disagrees with validator";
			goto out;
		}
	}
	j->text = text;
	j->len = len;
	j->ntok = n;
	rc = 0;
out:
	if (rc != 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "invalid JSON at byte %zu: %s", errpos, why);
out_quiet:
	return rc;
}

static int
valid_tok(const struct json *j, int i)
{
	return j != NULL && i >= 0 && i < j->ntok;
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

int
json_bool(const struct json *j, int i, int *out)
{
	if (is_prim(j, i, 't'))
		*out = 1;
	else if (is_prim(j, i, 'f'))
		*out = 0;
	else
		return -1;
	return 0;
}

int
json_boolish(const struct json *j, int i, int *out)
{
	if (json_bool(j, i, out) == 0)
		return 0;
	if (str_eq_n(j, i, "true", 4, 0))
		*out = 1;
	else if (str_eq_n(j, i, "false", 5, 0))
		*out = 0;
	else
		return -1;
	return 0;
}

/* Number tokens are primitives starting with '-' or a digit (validated grammar). */
static int
is_number(const struct json *j, int i)
{
	char c;

	if (!valid_tok(j, i) || json_toks(j)[i].type != JSMN_PRIMITIVE)
		return 0;
	c = j->text[json_toks(j)[i].start];
	return c == '-' || (c >= '0' && c <= '9');
}

int
json_i64(const struct json *j, int i, int64_t *out)
{
	const char *p, *e;
	uint64_t v = 0, lim;
	unsigned d;
	int neg = 0;

	if (!is_number(j, i))
		return -1;
	p = j->text + json_toks(j)[i].start;
	e = j->text + json_toks(j)[i].end;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	/* |INT64_MIN| is one more than INT64_MAX. */
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (p == e)
		return -1;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9')
			return -1;		/* fraction or exponent */
		d = (unsigned)(*p - '0');
		if (v > (lim - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (!neg)
		*out = (int64_t)v;
	else if (v == (uint64_t)INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t)v;
	return 0;
}

int
json_double(const struct json *j, int i, double *out)
{
	char small[64], *copy = NULL, *s, *endp;
	size_t n;
	double v;
	int rc = -1;

	if (!is_number(j, i))
		goto out;
	n = (size_t)(json_toks(j)[i].end - json_toks(j)[i].start);
	/* strtod needs a terminated string and the token is not; copy it, on the stack when
	 * small. Parsing uses the C locale's '.': peoplesync never sets LC_NUMERIC. */
	if (n < sizeof(small)) {
		memcpy(small, j->text + json_toks(j)[i].start, n);
		small[n] = '\0';
		s = small;
	} else
		s = copy = xstrndup(j->text + json_toks(j)[i].start, n);
	v = strtod(s, &endp);
	/* Overflow to infinity is not a value; underflow to 0 or a subnormal is the nearest. */
	if (endp != s + n || isinf(v))
		goto out;
	*out = v;
	rc = 0;
out:
	free(copy);
	return rc;
}
