/* paging.c — cursor guard (include/paging.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "paging.h"
#include "util.h"

static uint64_t
hash64(const char *s)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	uint64_t v = 0;

	/* A cryptographic hash: a colliding pair of distinct cursors would stop a pull. */
	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	memcpy(&v, md, sizeof(v));
	return v;
}

int
cursor_guard_seen(struct cursor_guard *g, const char *cursor)
{
	uint64_t h = hash64(cursor);
	size_t i;

	/* Pulls have at most thousands of pages: a linear scan is cheaper than a table. */
	for (i = 0; i < g->n; i++)
		if (g->seen[i] == h)
			return 1;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->seen = xrealloc(g->seen, g->cap * sizeof(*g->seen));
	}
	g->seen[g->n++] = h;
	return 0;
}

void
cursor_guard_free(struct cursor_guard *g)
{
	free(g->seen);
	g->seen = NULL;
	g->n = g->cap = 0;
}
