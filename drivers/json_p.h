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

#endif
