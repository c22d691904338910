/*
 * query_p.h — report/'s own: the candidates of a page of the console's table that is not in
 * the default order (query_sort.c), for query.c.
 *
 * A candidate keeps its sort key and its place in the default order (the name, else the
 * address, ASCII lower-cased and cut at QUERY_TIE_MAX bytes as the store's people indexes
 * cut them, then the id) in a few numbers, and the whole texts in one arena: no allocation
 * per person, and most comparisons end on the numbers.
 */
#ifndef PS_QUERY_P_H
#define PS_QUERY_P_H

#include "query.h"

#define QUERY_TIE_MAX	160	/* include/store.h: names cut at 160 bytes, then the id */

struct qcand {
	uint64_t	 k[2];	/* the sort key: a number (its sign bit flipped) and 0, or the
				 * first 16 bytes of the text (big-endian) */
	uint64_t	 t[2];	/* the first 16 bytes of the default order's text */
	uint64_t	 id;
	size_t		 ks, ts; /* offsets of the whole texts (NUL-ended) in the arena */
};

struct qcands {
	struct qcand	*c;
	size_t		 n, cap;
	struct buf	 arena;
	enum query_sort	 sort;
	int		 desc;	/* the sort key descending (ties stay in the default order);
				 * by name, the default order reversed */
};

/* Adds person v with its keys for s->sort. */
void	qc_add(struct qcands *s, const struct person_view *v);
/* Orders s->c so that c[from..to) hold, in order, the candidates of those ranks in the
 * sort (the others in no order): a partial quicksort, about n + (to - from) log(to - from)
 * comparisons. from < to <= n. */
void	qc_select(struct qcands *s, size_t from, size_t to);
void	qc_free(struct qcands *s);

#endif
