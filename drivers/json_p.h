/*
 * json_p.h — the JSON layer's tokens as jsmn made them: for drivers/json.c and the tests of
 * the JSON layer only. Everyone else sees struct json_tok as an incomplete type.
 *
 * jsmn is built with JSMN_PARENT_LINKS and JSMN_STRICT everywhere (Makefile CFLAGS); json.c
 * compiles jsmn's implementation, every other includer gets its declarations only.
 */
#ifndef PS_JSON_P_H
#define PS_JSON_P_H

#ifndef JSMN_H
#define JSMN_HEADER
#include <jsmn.h>
#undef JSMN_HEADER
#endif

#include "json.h"

/* The token array of a parsed document: j->ntok tokens, token i at json_toks(j)[i]. The
 * array holds jsmntok_t objects; struct json_tok only names it outside this header. */
static inline jsmntok_t *
json_toks(const struct json *j)
{
	return (jsmntok_t *)(void *)j->tok;
}

/* 1 if i is a token of j's parsed document. */
static inline int
json_tok_valid(const struct json *j, int i)
{
	return j != NULL && i >= 0 && i < j->ntok;
}

/* For the tests: -1 when jsmn itself tokenizes j's text (a parsed document whose root is a
 * container) into exactly j's tokens; else the first token that differs (-2: jsmn's count
 * differs). Documents with a bare root scalar are not compared (-1). */
int	json_tokens_vs_jsmn(const struct json *j);

#endif
