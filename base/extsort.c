/*
 * extsort.c — external merge sort of byte records (include/extsort.h).
 *
 * In memory: the records back to back, each behind its 4-byte length, and an index of them
 * that also holds each record's first 24 bytes as three integers, so that most comparisons of
 * the sort touch the index only (the records are read when those bytes agree); both count
 * against the budget. When the next record would not fit, the index is sorted and the
 * records written in that order to the run file (one unlinked file for all runs, each run a
 * byte range). Reading: with no run spilled, straight from memory;
 * otherwise the last records are spilled too and the runs are merged through a binary heap
 * of their current records, each run read with pread through its own buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extsort.h"
#include "util.h"

#define REC_MAX		(1u << 20)
#define READ_CHUNK	(64u << 10)

struct run {
	off_t		 off, end;	/* what is left of the run in the file */
	char		*buf;
	size_t		 cap, len, pos;	/* the buffer: bytes read, the current record's start */
	const char	*rec;		/* the current record */
	size_t		 n;
};

/* A record in memory: its first 24 bytes (big-endian, zero-padded), where it is. Keys
 * that share a long start (the people index's team entries) are told apart there. */
struct slot {
	uint64_t	 p0, p1, p2;
	uint32_t	 off, len;
};

struct extsort {
	char		*dir;
	size_t		 budget;
	char		*mem;		/* records: length (4 bytes), bytes */
	size_t		 used;
	struct slot	*at;		/* their index */
	size_t		 nat, capat;
	size_t		 count;
	int		 fd;		/* the run file, -1 before the first spill */
	off_t		 fend;
	struct run	*run;
	size_t		 nrun;
	size_t		*heap;		/* run indices, the smallest current record first */
	size_t		 nheap;
	int		 reading;	/* 1: from memory, 2: merging */
	size_t		 next;		/* reading from memory: the next offset's index */
	char		 err[300];
};

struct extsort *
extsort_new(const char *dir, size_t budget)
{
	struct extsort *x = xcalloc(1, sizeof(*x));

	x->dir = xstrdup(dir);
	x->budget = budget < READ_CHUNK ? READ_CHUNK : budget;
	x->fd = -1;
	return x;
}

static int
fail_errno(struct extsort *x, const char *what)
{
	snprintf(x->err, sizeof(x->err), "%s: temporary file: %s: %s", x->dir, what,
	    strerror(errno));
	return -1;
}

const char *
extsort_error(const struct extsort *x)
{
	return x->err;
}

size_t
extsort_count(const struct extsort *x)
{
	return x->count;
}

static uint32_t
get32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* memcmp order, a prefix first. */
static int
rec_cmp(const void *a, size_t an, const void *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c ? c : (an > bn) - (an < bn);
}

/* Up to 8 bytes of p from at, big-endian, zero-padded. */
static uint64_t
prefix8(const unsigned char *p, size_t n, size_t at)
{
	uint64_t v = 0;

	for (size_t i = 0; i < 8; i++)
		v = v << 8 | (at + i < n ? p[at + i] : 0);
	return v;
}

/* Slot order: the 24-byte prefixes, then the rest of the records (mem holds them). */
static inline int
slot_less(const char *mem, const struct slot *x, const struct slot *y)
{
	if (x->p0 != y->p0)
		return x->p0 < y->p0;
	if (x->p1 != y->p1)
		return x->p1 < y->p1;
	if (x->p2 != y->p2)
		return x->p2 < y->p2;
	if (x->len <= 24 || y->len <= 24)
		return x->len < y->len;
	return rec_cmp(mem + x->off + 4 + 24, x->len - 24, mem + y->off + 4 + 24,
	    y->len - 24) < 0;
}

static void
slot_swap(struct slot *a, struct slot *b)
{
	struct slot t = *a;

	*a = *b;
	*b = t;
}

static void
slot_sift(const char *mem, struct slot *a, size_t i, size_t n)
{
	for (size_t c; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && slot_less(mem, &a[c], &a[c + 1]))
			c++;
		if (!slot_less(mem, &a[i], &a[c]))
			break;
		slot_swap(&a[i], &a[c]);
	}
}

/*
 * Introsort of the index: quicksort (median of three) down to runs of 16, finished by one
 * insertion sort, with a heapsort for a range that recurses too deep. The comparison is
 * inline (qsort's callback and its copying were most of a spill's time).
 */
static void
slot_sort(const char *mem, struct slot *a, size_t n, int depth)
{
	while (n > 16) {
		size_t m = n / 2, i = 0, j = n - 1;
		if (depth-- == 0) {
			for (size_t k = n / 2; k-- > 0;)
				slot_sift(mem, a, k, n);
			for (size_t k = n - 1; k > 0; k--) {
				slot_swap(&a[0], &a[k]);
				slot_sift(mem, a, 0, k);
			}
			return;
		}
		/* median of first, middle and last into the middle: the pivot */
		if (slot_less(mem, &a[m], &a[0]))
			slot_swap(&a[m], &a[0]);
		if (slot_less(mem, &a[n - 1], &a[m])) {
			slot_swap(&a[n - 1], &a[m]);
			if (slot_less(mem, &a[m], &a[0]))
				slot_swap(&a[m], &a[0]);
		}
		struct slot piv = a[m];
		for (;;) {		/* Hoare: a[0] <= piv <= a[n-1] bound both scans */
			while (slot_less(mem, &a[i], &piv))
				i++;
			while (slot_less(mem, &piv, &a[j]))
				j--;
			if (i >= j)
				break;
			slot_swap(&a[i], &a[j]);
			i++;
			j--;
		}
		/* [0, j] <= piv <= [j+1, n): the smaller side recursively, the larger in the loop */
		if (j + 1 < n - j - 1) {
			slot_sort(mem, a, j + 1, depth);
			a += j + 1;
			n -= j + 1;
		} else {
			slot_sort(mem, a + j + 1, n - j - 1, depth);
			n = j + 1;
		}
	}
}

static void
sort_slots(struct extsort *x)
{
	int depth = 0;

	if (x->nat == 0)
		return;
	for (size_t n = x->nat; n > 1; n >>= 1)
		depth += 2;
	slot_sort(x->mem, x->at, x->nat, depth);
	/* the runs of up to 16 left by the quicksort, in place */
	for (size_t i = 1; i < x->nat; i++) {
		struct slot v = x->at[i];
		size_t j = i;
		for (; j > 0 && slot_less(x->mem, &v, &x->at[j - 1]); j--)
			x->at[j] = x->at[j - 1];
		x->at[j] = v;
	}
}

/* The run file, created on first use in x->dir and unlinked at once. */
static int
run_file(struct extsort *x)
{
	char *path;

	if (x->fd >= 0)
		return 0;
#ifdef O_TMPFILE
	x->fd = open(x->dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
#endif
	if (x->fd < 0) {
		path = xasprintf("%s/.extsort.XXXXXX", x->dir);
		x->fd = mkostemp(path, O_CLOEXEC);
		if (x->fd >= 0)
			unlink(path);
		free(path);
	}
	return x->fd < 0 ? fail_errno(x, "create") : 0;
}

static int
write_all(struct extsort *x, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = pwrite(x->fd, p, n, x->fend)) < 0) {
			if (errno == EINTR)
				continue;
			return fail_errno(x, "write");
		}
		p += w;
		n -= (size_t)w;
		x->fend += w;
	}
	return 0;
}

/* Sorts the records in memory and writes them as one run. */
static int
spill(struct extsort *x)
{
	char *out = xmalloc(READ_CHUNK);
	size_t i, o = 0, n;
	off_t start;
	int rc = 0;

	if (x->nat == 0 || run_file(x) < 0) {
		free(out);
		return x->nat == 0 ? 0 : -1;
	}
	sort_slots(x);
	start = x->fend;
	for (i = 0; i < x->nat && rc == 0; i++) {
		n = 4 + (size_t)x->at[i].len;
		if (o + n > READ_CHUNK) {
			rc = write_all(x, out, o);
			o = 0;
		}
		if (rc == 0 && n > READ_CHUNK)
			rc = write_all(x, x->mem + x->at[i].off, n);
		else if (rc == 0) {
			memcpy(out + o, x->mem + x->at[i].off, n);
			o += n;
		}
	}
	if (rc == 0 && o > 0)
		rc = write_all(x, out, o);
	free(out);
	if (rc == 0) {
		x->run = xrealloc(x->run, (x->nrun + 1) * sizeof(*x->run));
		memset(&x->run[x->nrun], 0, sizeof(x->run[0]));
		x->run[x->nrun].off = start;
		x->run[x->nrun].end = x->fend;
		x->nrun++;
	}
	x->nat = 0;
	x->used = 0;
	return rc;
}

int
extsort_add(struct extsort *x, const void *rec, size_t n)
{
	uint32_t len = (uint32_t)n;

	if (n >= REC_MAX || n + 8 > x->budget || x->reading) {
		snprintf(x->err, sizeof(x->err), "%s: record of %zu bytes refused", x->dir, n);
		return -1;
	}
	if (x->mem && (x->used + 4 + n + (x->nat + 1) * sizeof(*x->at) > x->budget) &&
	    spill(x) < 0)
		return -1;
	if (x->mem == NULL)
		x->mem = xmalloc(x->budget);
	if (x->nat == x->capat) {
		x->capat = x->capat ? x->capat * 2 : 1024;
		x->at = xrealloc(x->at, x->capat * sizeof(*x->at));
	}
	x->at[x->nat].p0 = prefix8(rec, n, 0);
	x->at[x->nat].p1 = prefix8(rec, n, 8);
	x->at[x->nat].p2 = prefix8(rec, n, 16);
	x->at[x->nat].off = (uint32_t)x->used;
	x->at[x->nat++].len = len;
	memcpy(x->mem + x->used, &len, 4);
	memcpy(x->mem + x->used + 4, rec, n);
	x->used += 4 + n;
	x->count++;
	return 0;
}

/* Makes the run's next record current: 1, 0 at its end, -1 on a read error. */
static int
run_advance(struct extsort *x, struct run *r)
{
	ssize_t got;
	size_t need;

	if (r->rec)
		r->pos += 4 + r->n;
	r->rec = NULL;
	for (;;) {
		need = 4;
		if (r->len - r->pos >= 4)
			need = 4 + get32(r->buf + r->pos);
		if (r->len - r->pos >= need)
			break;
		if (r->off >= r->end && r->len == r->pos)
			return 0;
		if (r->off >= r->end) {
			errno = EIO;
			return fail_errno(x, "run cut short");
		}
		if (r->pos > 0)
			memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
		if (r->cap < need || r->cap - r->len < READ_CHUNK / 2) {
			r->cap = (need > r->len + READ_CHUNK ? need : r->len + READ_CHUNK);
			r->buf = xrealloc(r->buf, r->cap);
		}
		got = pread(x->fd, r->buf + r->len, (size_t)(r->end - r->off) < r->cap - r->len ?
		    (size_t)(r->end - r->off) : r->cap - r->len, r->off);
		if (got <= 0) {
			if (got == 0)
				errno = EIO;
			return fail_errno(x, "read");
		}
		r->len += (size_t)got;
		r->off += got;
	}
	r->n = get32(r->buf + r->pos);
	r->rec = r->buf + r->pos + 4;
	return 1;
}

static int
heap_less(struct extsort *x, size_t a, size_t b)
{
	const struct run *ra = &x->run[x->heap[a]], *rb = &x->run[x->heap[b]];

	return rec_cmp(ra->rec, ra->n, rb->rec, rb->n) < 0;
}

static void
sift_down(struct extsort *x, size_t i)
{
	size_t l, m, tmp;

	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < x->nheap && heap_less(x, l, m))
			m = l;
		if (l + 1 < x->nheap && heap_less(x, l + 1, m))
			m = l + 1;
		if (m == i)
			return;
		tmp = x->heap[i];
		x->heap[i] = x->heap[m];
		x->heap[m] = tmp;
		i = m;
	}
}

/* Spills the rest, frees the memory records and fills the heap with each run's first. */
static int
merge_begin(struct extsort *x)
{
	size_t i;
	int r;

	if (spill(x) < 0)
		return -1;
	free(x->mem);
	free(x->at);
	x->mem = NULL;
	x->at = NULL;
	x->heap = xcalloc(x->nrun ? x->nrun : 1, sizeof(*x->heap));
	for (i = 0; i < x->nrun; i++) {
		if ((r = run_advance(x, &x->run[i])) < 0)
			return -1;
		if (r > 0)
			x->heap[x->nheap++] = i;
	}
	for (i = x->nheap / 2; i-- > 0;)
		sift_down(x, i);
	return 0;
}

int
extsort_next(struct extsort *x, const void **rec, size_t *n)
{
	struct run *r;
	int got;

	if (x->reading == 0) {
		x->reading = x->nrun == 0 ? 1 : 2;
		if (x->reading == 1)
			sort_slots(x);
		else if (merge_begin(x) < 0)
			return -1;
	} else if (x->reading == 2 && x->nheap > 0) {
		/* the record returned last is the top's: move its run on */
		r = &x->run[x->heap[0]];
		if ((got = run_advance(x, r)) < 0)
			return -1;
		if (got == 0)
			x->heap[0] = x->heap[--x->nheap];
		sift_down(x, 0);
	}
	if (x->reading == 1) {
		if (x->next >= x->nat)
			return 0;
		*rec = x->mem + x->at[x->next].off + 4;
		*n = x->at[x->next++].len;
		return 1;
	}
	if (x->nheap == 0)
		return 0;
	r = &x->run[x->heap[0]];
	*rec = r->rec;
	*n = r->n;
	return 1;
}

void
extsort_reset(struct extsort *x)
{
	for (size_t i = 0; i < x->nrun; i++)
		free(x->run[i].buf);
	free(x->run);
	free(x->heap);
	x->run = NULL;
	x->heap = NULL;
	if (x->at == NULL)
		x->capat = 0;
	x->nrun = x->nheap = x->nat = x->used = x->count = x->next = 0;
	x->fend = 0;		/* the file's bytes are written over, its pages reused */
	x->reading = 0;
	x->err[0] = '\0';
}

void
extsort_free(struct extsort *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < x->nrun; i++)
		free(x->run[i].buf);
	if (x->fd >= 0)
		close(x->fd);
	free(x->run);
	free(x->heap);
	free(x->mem);
	free(x->at);
	free(x->dir);
	free(x);
}
