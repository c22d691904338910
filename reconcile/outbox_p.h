/*
 * outbox_p.h — private to reconcile/: a growing list of record ids (prompts, people) that
 * the outbox files share.
 */
#ifndef PS_OUTBOX_P_H
#define PS_OUTBOX_P_H

#include <stdint.h>
#include <stdlib.h>

#include "util.h"

struct ids {
	uint64_t	*v;
	size_t		 n, cap;
};

static inline void
ids_add(struct ids *ids, uint64_t id)
{
	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? ids->cap * 2 : 64;
		ids->v = xrealloc(ids->v, ids->cap * sizeof(*ids->v));
	}
	ids->v[ids->n++] = id;
}

#endif
