/*
 * paging.h — shared paging helpers: a guard that refuses a cursor (or next-page URL) seen
 * before in the same pull, whatever platform carries it.
 */
#ifndef PS_PAGING_H
#define PS_PAGING_H

#include <stddef.h>
#include <stdint.h>

struct cursor_guard {
	uint64_t	*seen;		/* hashes of cursors seen, unsorted */
	size_t		 n, cap;
};

/* Records cursor; returns 1 if it was seen before in this pull, else 0. */
int	cursor_guard_seen(struct cursor_guard *g, const char *cursor);
void	cursor_guard_free(struct cursor_guard *g);

#endif
