/*
 * json.h — the JSON layer: a tokenizer plus a validator, typed accessors and decoding.
 *
 * The tokens are the layer's own (drivers/json.c, on top of jsmn): callers hold token
 * indexes, ints, and read through the accessors below; -1 means "absent". json_parse()
 * validates the full RFC 8259 grammar and UTF-8 of the text; a document it accepted is valid
 * JSON. Tokens point into the caller's text, which must outlive the struct json and is not
 * modified.
 */
#ifndef PS_JSON_H
#define PS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define JSON_MAX_DEPTH	512		/* deeper documents are rejected, not recursed into */

struct json_tok;			/* opaque: known to drivers/json.c only */

struct json {
	const char	*text;
	size_t		 len;
	struct json_tok	*tok;		/* the token array; token 0 is the root */
	int		 ntok;		/* tokens in the parsed document; 0 when none */
	int		 cap;		/* allocated tokens (kept across parses for reuse) */
};

/* A zero-initialised struct json is ready to use; json_free() releases the token array. */
void	json_free(struct json *j);

/*
 * Parses and validates text[0..len). Reuses j's token array (grows it as needed, never beyond
 * what the text can need). Returns 0, or -1 with a message such as
 * "invalid JSON at byte 1234: unexpected character" in err (errlen bytes, may be NULL).
 * Whitespace around the root is allowed; anything else after it is an error. A UTF-8 BOM is
 * rejected. Invalid UTF-8 anywhere and lone surrogate escapes (\ud800) are rejected.
 */
int	json_parse(struct json *j, const char *text, size_t len, char *err, size_t errlen);

/* Index of the first token after the subtree rooted at i (i.e. its next sibling). */
int	json_skip(const struct json *j, int i);

/* Value of key in object token obj (exact, case-sensitive key match, decoded keys compared
 * correctly even if they contain escapes); -1 if obj is not an object or key is absent.
 * json_get_ci compares keys ASCII-case-insensitively (Graph's innerError/innererror). */
int	json_get(const struct json *j, int obj, const char *key);
int	json_get_ci(const struct json *j, int obj, const char *key);
/* Several keys of object obj in one walk over its keys: vals[k] = the value of keys[k] (as
 * json_get would give it), or -1. Returns how many were found. Cheaper than a json_get per
 * key when an object has many keys and several are wanted (a roster's member). At most
 * JSON_PICK_MAX keys (more: nothing is found). */
#define JSON_PICK_MAX	32
int	json_pick(const struct json *j, int obj, const char *const *keys, int nkeys, int *vals);
/* Follows a dotted path of object keys: json_path(j, 0, "response_metadata.next_cursor"). */
int	json_path(const struct json *j, int obj, const char *path);

/* Iteration over an array's elements or an object's values:
 *	for (int e = json_first(j, arr); e >= 0; e = json_next(j, arr, e))
 * For objects, json_first/json_next return the key tokens; the value is key + 1. */
int	json_first(const struct json *j, int container);
int	json_next(const struct json *j, int container, int cur);
int	json_count(const struct json *j, int container);	/* elements; 0 if no container */
/* Notes: a duplicate key resolves to its first occurrence; json_path splits on '.', so keys
 * containing a dot need json_get; after a failed parse ntok is 0 and every accessor
 * returns -1. */

int	json_is_null(const struct json *j, int i);		/* 1 if i >= 0 and it is null */
int	json_is_string(const struct json *j, int i);
int	json_is_object(const struct json *j, int i);
int	json_is_array(const struct json *j, int i);

/*
 * Decodes string token i (all escapes, \uXXXX with surrogate pairs into UTF-8) and appends
 * to out. Returns 0, or -1 if i < 0 or not a string (out untouched).
 */
int	json_str(const struct json *j, int i, struct buf *out);
/* Decoded copy of string token i, or NULL when i < 0, null, not a string, or when it decodes
 * to an embedded NUL (so "a@x.com\u0000.evil" never passes as "a@x.com"). Caller frees. */
char	*json_strdup(const struct json *j, int i);
/* 1 if string token i decodes exactly to s. */
int	json_str_eq(const struct json *j, int i, const char *s);
/* Booleans: json_bool accepts true/false only; json_boolish also "true"/"false" strings
 * (Webex quirk). Return 0 and set *out, or -1 (absent, null or other type: *out untouched). */
int	json_bool(const struct json *j, int i, int *out);
int	json_boolish(const struct json *j, int i, int *out);
/* Integers (no fraction or exponent, fits in int64) and numbers as double; 0 or -1. */
int	json_i64(const struct json *j, int i, int64_t *out);
int	json_double(const struct json *j, int i, double *out);

#endif
