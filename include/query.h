/*
 * query.h — a page of the people table for the admin console (report/query.c): the
 * filters of `people` (report_filter) and a search, a sort, a page. A page in the table's
 * default order, filtered by any of status, primary platform, sync type and primary team
 * (or not at all), is read from the store's people indexes alone; a search, the stale
 * filter or another sort walk the index's range and read each person in it.
 */
#ifndef PS_QUERY_H
#define PS_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

enum query_sort { QS_NAME, QS_EMAIL, QS_STATUS, QS_PLATFORM, QS_TEAM, QS_TYPE, QS_PROMPTED,
	QS_PROMPTS, QS_SYNCED, QS_COUNT };

/* The URL names of the sorts ("name", "email", ...), QS_COUNT of them. */
extern const char *const query_sort_names[QS_COUNT];

struct query {
	struct report_filter	 f;	/* f.team: a primary team as "platform:team id" */
	const char		*search; /* part of the name or address, or a whole user id
					  * (any case); NULL or "": none */
	enum query_sort		 sort;
	int			 desc;
	uint64_t		 page;	/* from 0 */
	size_t			 size;	/* people per page, >= 1 */
};

struct query_result {
	struct report_row	*rows;	/* the page, loaded (report_row_load) */
	size_t			 n;
	uint64_t		 total;	/* people matching, on every page */
	int			 indexed; /* 1: answered from the indexes alone */
};

/* The page q asks for. 0, or -1 with the store's message in store_error(). */
int	query_run(struct txn *t, const struct query *q, struct query_result *r);
void	query_result_free(struct query_result *r);

/* Every person q matches (all pages), in q's order: *ids (xrealloc'd, caller frees), *n.
 * 0 or -1. */
int	query_ids(struct txn *t, const struct query *q, uint64_t **ids, size_t *n);

/* Parses "platform:team id" into *pl and a pointer to the id within s: 0 or -1. */
int	query_team_parse(const char *s, int *pl, const char **team);

#endif
