/*
 * json_value.c — the JSON layer's typed reads of single tokens: booleans and numbers
 * (kinds and strings, which need the escape decoder, stay in json.c; nothing there calls
 * here).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_p.h"

#define valid_tok json_tok_valid

/* 1 if token i is the literal starting with first (true, false). */
static int
is_literal(const struct json *j, int i, char first)
{
	return valid_tok(j, i) && json_toks(j)[i].type == JSMN_PRIMITIVE &&
	    j->text[json_toks(j)[i].start] == first;
}

int
json_bool(const struct json *j, int i, int *out)
{
	if (is_literal(j, i, 't'))
		*out = 1;
	else if (is_literal(j, i, 'f'))
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
	if (json_str_eq(j, i, "true"))
		*out = 1;
	else if (json_str_eq(j, i, "false"))
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
