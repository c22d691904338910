/*
 * extsort.h — an external merge sort of byte records in memcmp order (a record that is a
 * prefix of another comes first): records are kept in memory up to a budget, sorted and
 * spilled as runs to one unlinked temporary file when it is reached, and read back in order
 * through a k-way merge. Memory stays within the budget (plus a 64 KiB reader per run)
 * whatever the number of records. Used by store/ to write the people index's changes in key
 * order (callers shape their records so that byte order is the order they need).
 */
#ifndef PS_EXTSORT_H
#define PS_EXTSORT_H

#include <stddef.h>

struct extsort;

/*
 * A new sorter whose runs go to a temporary file in dir (created when the first run is
 * spilled, unlinked at once), keeping at most budget bytes in memory (records and 32 bytes
 * of index per record; at least 64 KiB). Never NULL.
 */
struct extsort	*extsort_new(const char *dir, size_t budget);

/* Adds a record of n bytes (n < 1 MiB): 0, or -1 with extsort_error set (I/O). */
int	extsort_add(struct extsort *x, const void *rec, size_t n);

/* The number of records added. */
size_t	extsort_count(const struct extsort *x);

/*
 * Records in order, after the last add: 1 with *rec / *n (valid until the next call), 0 at
 * the end, -1 with extsort_error set. The first call sorts what is in memory.
 */
int	extsort_next(struct extsort *x, const void **rec, size_t *n);

/* Why the last call failed: "DIR: temporary file: reason". */
const char *extsort_error(const struct extsort *x);

/* Empty again, for a new set of records: its memory and its file are kept for reuse. */
void	extsort_reset(struct extsort *x);

void	extsort_free(struct extsort *x);

#endif
