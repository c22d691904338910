/*
 * check.c — data.mdb checked before LMDB trusts it: the two meta pages and the B-tree pages,
 * read with pread (never through the map), with bounds and flags checked before a page
 * number is followed. LMDB itself follows page numbers blindly: a page past the end of the
 * file is SIGBUS, a garbage page an assertion or SIGSEGV.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_p.h"

/*
 * LMDB's on-disk format (mdb.c, LMDB_0.9): native byte order, pgno_t and txnid_t are
 * size_t. Every page starts with a header; the meta pages (0 and 1) hold an MDB_meta after
 * it; branch and leaf pages an array of node offsets, the nodes at the end of the page.
 */
struct lm_page {
	size_t		pgno;
	uint16_t	pad;
	uint16_t	flags;
	uint16_t	lower;		/* overflow pages: a uint32_t page count over both */
	uint16_t	upper;
};
struct lm_db {
	uint32_t	pad;		/* the free DB's: the page size */
	uint16_t	flags;
	uint16_t	depth;
	size_t		branch, leaf, overflow, entries, root;
};
struct lm_meta {
	uint32_t	magic;
	uint32_t	version;
	size_t		address;
	size_t		mapsize;
	struct lm_db	dbs[2];		/* FREE_DBI, MAIN_DBI */
	size_t		last_pg;
	size_t		txnid;
};
struct lm_node {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint16_t	lo, hi;		/* data size, or (branch) the child's page number */
#else
	uint16_t	hi, lo;
#endif
	uint16_t	flags;		/* (branch) bits 32-47 of the child's page number */
	uint16_t	ksize;
};

#define HDR		sizeof(struct lm_page)	/* PAGEHDRSZ */
#define NODESZ		sizeof(struct lm_node)
#define LM_MAGIC	0xBEEFC0DEu
#define LM_VERSION	1
#define P_BRANCH	0x01
#define P_LEAF		0x02
#define P_OVERFLOW	0x04
#define P_META		0x08
#define F_BIGDATA	0x01
#define F_SUBDATA	0x02
#define F_DUPDATA	0x04
#define P_INVALID	((size_t)-1)
#define MAX_DEPTH	32		/* LMDB's cursor stack */
#define QUICK_BUDGET	256		/* pages a quick check reads beyond free/main/meta */
#define MAX_SUBS	64

enum tree_kind { TREE_FREE, TREE_MAIN, TREE_DATA };

struct sub {
	char		name[32];
	struct lm_db	db;
};

struct chk {
	char		 path[1024];	/* dir/data.mdb, for messages */
	int		 fd;
	int		 deep;
	FILE		*out;		/* deep: every problem printed here */
	struct failure	*f;		/* the first problem */
	long		 problems;
	int		 io;		/* a read failed: FAIL_IO */
	size_t		 psize, npages, last_pg, txnid;
	struct lm_meta	 meta;		/* the chosen one */
	const char	*tree;		/* the tree walked, for messages */
	enum tree_kind	 kind;
	int		 descend;	/* quick, large tree: root page only */
	size_t		 reads;		/* quick: data tree pages read */
	size_t		 n_entries, n_branch, n_leaf, n_over;
	unsigned char	*seen;		/* deep: pages already reached */
	size_t		*freepg;	/* the free DB's page numbers, when collected */
	size_t		 nfree, capfree;
	int		 collect;
	struct sub	 subs[MAX_SUBS];
	int		 nsubs;
};

static void
problem(struct chk *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
problem(struct chk *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->problems++ == 0)
		fail_set(c->f, c->io ? FAIL_IO : FAIL_DATA, "%s: %s", c->path, msg);
	if (c->out && c->problems <= 1000)
		fprintf(c->out, "%s: %s\n", c->path, msg);
}

/* Reads n bytes at off: 0, or -1 after a problem (short: the file ends there). */
static int
read_at(struct chk *c, void *p, size_t n, size_t off, const char *what)
{
	ssize_t r = pread(c->fd, p, n, (off_t)off);

	if (r == (ssize_t)n)
		return 0;
	if (r < 0) {
		c->io = 1;
		problem(c, "%s: cannot be read: %s", what, strerror(errno));
	} else {
		problem(c, "%s: beyond the end of the file", what);
	}
	return -1;
}

/* Whether pgno may hold a tree page: past the metas, allocated, inside the file. */
static int
pgno_ok(struct chk *c, size_t pgno, size_t n, const char *from)
{
	if (pgno < 2 || n > c->npages || pgno > c->npages - n || pgno + n - 1 > c->last_pg) {
		problem(c, "%s: %s points to page %zu, outside the file (%zu pages, last page "
		    "%zu)", c->tree, from, pgno, c->npages, c->last_pg);
		return 0;
	}
	if (c->seen && (c->seen[pgno / 8] & (1u << (pgno % 8)))) {
		problem(c, "%s: page %zu is reached twice", c->tree, pgno);
		return 0;
	}
	if (c->seen)
		c->seen[pgno / 8] |= (unsigned char)(1u << (pgno % 8));
	return 1;
}

static void
free_add(struct chk *c, size_t pgno)
{
	if (c->nfree == c->capfree) {
		c->capfree = c->capfree ? c->capfree * 2 : 256;
		c->freepg = xrealloc(c->freepg, c->capfree * sizeof(*c->freepg));
	}
	c->freepg[c->nfree++] = pgno;
}

/* A free DB record (an IDL: count, then page numbers) collected into c->freepg. */
static void
free_collect(struct chk *c, const unsigned char *d, size_t n)
{
	size_t cnt, i, v;

	if (n < sizeof(size_t))
		return;
	memcpy(&cnt, d, sizeof(cnt));
	for (i = 1; i <= cnt && (i + 1) * sizeof(size_t) <= n; i++) {
		memcpy(&v, d + i * sizeof(size_t), sizeof(v));
		free_add(c, v);
	}
}

/* A value on overflow pages: the pages inside the file and marked as such. */
static void
overflow_check(struct chk *c, size_t pgno, size_t dsize, size_t at)
{
	size_t n = (HDR - 1 + dsize) / c->psize + 1;
	struct lm_page h;
	uint32_t pages;
	char what[64];
	unsigned char *d;

	if (!pgno_ok(c, pgno, n, "a large value"))
		return;
	snprintf(what, sizeof(what), "%s: page %zu", c->tree, pgno);
	if (read_at(c, &h, sizeof(h), pgno * c->psize, what) < 0)
		return;
	memcpy(&pages, &h.lower, sizeof(pages));
	if (h.pgno != pgno || h.flags != P_OVERFLOW || pages != n) {
		problem(c, "%s: page %zu (a large value at page %zu) is not an overflow page of %zu",
		    c->tree, pgno, at, n);
		return;
	}
	for (size_t i = 1; c->seen && i < n; i++)
		c->seen[(pgno + i) / 8] |= (unsigned char)(1u << ((pgno + i) % 8));
	c->n_over += n;
	if (c->collect && c->kind == TREE_FREE) {
		d = xmalloc(dsize);
		if (read_at(c, d, dsize, pgno * c->psize + HDR, what) == 0)
			free_collect(c, d, dsize);
		free(d);
	}
}

/* The named databases: main DB leaves with F_SUBDATA hold an MDB_db. */
static void
sub_add(struct chk *c, const unsigned char *key, size_t ks, const unsigned char *d, size_t ds)
{
	struct sub *sb;

	if (ds != sizeof(struct lm_db)) {
		problem(c, "%s: the record of a named database has %zu bytes", c->tree, ds);
		return;
	}
	if (c->nsubs == MAX_SUBS)
		return;
	sb = &c->subs[c->nsubs++];
	snprintf(sb->name, sizeof(sb->name), "%.*s", (int)(ks < 31 ? ks : 31), key);
	memcpy(&sb->db, d, sizeof(sb->db));
}

static void walk(struct chk *c, size_t pgno, unsigned level, unsigned depth);

/* One node of page pg (at pgno): inside the page; a leaf's data checked, a branch followed. */
static void
node_check(struct chk *c, const unsigned char *pg, size_t pgno, unsigned i, unsigned level,
    unsigned depth)
{
	const struct lm_page *h = (const void *)pg;
	uint16_t ptr;
	struct lm_node nd;
	size_t ds, child, end;

	memcpy(&ptr, pg + HDR + 2 * i, 2);
	if (ptr < h->upper || ptr > c->psize - NODESZ) {
		problem(c, "%s: page %zu: node %u at offset %u, outside the page's node area",
		    c->tree, pgno, i, ptr);
		return;
	}
	memcpy(&nd, pg + ptr, NODESZ);
	end = ptr + NODESZ + nd.ksize;
	ds = (size_t)nd.lo | (size_t)nd.hi << 16;
	if (h->flags == P_BRANCH) {
		child = ds | (sizeof(size_t) > 4 ? (size_t)nd.flags << 16 << 16 : 0);
		if (end > c->psize)
			problem(c, "%s: page %zu: node %u runs past the page", c->tree, pgno, i);
		else if (pgno_ok(c, child, 1, "a branch") && c->descend)
			walk(c, child, level + 1, depth);
		return;
	}
	c->n_entries++;
	if (nd.flags & ~(F_BIGDATA | F_SUBDATA) || (nd.flags & F_SUBDATA && c->kind != TREE_MAIN) ||
	    end + ((nd.flags & F_BIGDATA) ? sizeof(size_t) : ds) > c->psize) {
		problem(c, "%s: page %zu: node %u is malformed (flags %#x, %u + %zu bytes)",
		    c->tree, pgno, i, nd.flags, nd.ksize, ds);
		return;
	}
	if (nd.flags & F_BIGDATA) {
		memcpy(&child, pg + end, sizeof(child));
		overflow_check(c, child, ds, pgno);
	} else if (nd.flags & F_SUBDATA) {
		sub_add(c, pg + ptr + NODESZ, nd.ksize, pg + end, ds);
	} else if (c->collect && c->kind == TREE_FREE) {
		free_collect(c, pg + end, ds);
	}
}

/* The page at pgno (already bounds-checked), at level of a tree of depth levels. */
static void
walk(struct chk *c, size_t pgno, unsigned level, unsigned depth)
{
	unsigned char *pg = xmalloc(c->psize);
	const struct lm_page *h = (const void *)pg;
	char what[64];
	unsigned n, i;

	snprintf(what, sizeof(what), "%s: page %zu", c->tree, pgno);
	if (read_at(c, pg, c->psize, pgno * c->psize, what) < 0)
		goto out;
	if (h->pgno != pgno || (h->flags != P_BRANCH && h->flags != P_LEAF) ||
	    h->lower < HDR || (h->lower - HDR) % 2 || h->lower > h->upper ||
	    h->upper > c->psize) {
		problem(c, "%s: page %zu is not a B-tree page (header: page %zu, flags %#x, "
		    "lower %u, upper %u)", c->tree, pgno, h->pgno, h->flags, h->lower, h->upper);
		goto out;
	}
	n = (h->lower - HDR) / 2;
	if ((h->flags == P_BRANCH) != (level + 1 < depth) || (h->flags == P_BRANCH && n == 0)) {
		problem(c, "%s: page %zu: a %s page with %u keys at level %u of %u", c->tree,
		    pgno, h->flags == P_BRANCH ? "branch" : "leaf", n, level + 1, depth);
		goto out;
	}
	/* quick: a tree whose record understates it is not read whole */
	if (!c->deep && c->kind == TREE_DATA && ++c->reads > 4 * QUICK_BUDGET)
		c->descend = 0;
	if (h->flags == P_BRANCH)
		c->n_branch++;
	else
		c->n_leaf++;
	for (i = 0; i < n; i++)
		node_check(c, pg, pgno, i, level, depth);
out:
	free(pg);
}

/* A whole tree from its MDB_db record; deep: its counts against the record's. */
static void
tree_check(struct chk *c, const char *name, enum tree_kind kind, const struct lm_db *db)
{
	long before = c->problems;

	c->tree = name;
	c->kind = kind;
	c->n_entries = c->n_branch = c->n_leaf = c->n_over = 0;
	if (db->root == P_INVALID) {
		if (db->depth || db->entries)
			problem(c, "%s: no root page, yet %zu entries", name, db->entries);
		return;
	}
	if (db->depth == 0 || db->depth > MAX_DEPTH) {
		problem(c, "%s: depth %u", name, db->depth);
		return;
	}
	if (!pgno_ok(c, db->root, 1, "the root"))
		return;
	walk(c, db->root, 0, db->depth);
	if (c->descend && c->problems == before && (c->n_entries != db->entries ||
	    c->n_branch != db->branch || c->n_leaf != db->leaf || c->n_over != db->overflow))
		problem(c, "%s: %zu entries on %zu+%zu+%zu pages, the record says %zu on "
		    "%zu+%zu+%zu", name, c->n_entries, c->n_branch, c->n_leaf, c->n_over,
		    db->entries, (size_t)db->branch, (size_t)db->leaf, (size_t)db->overflow);
}

/* Meta page i at off: flags, magic, version, page size. 0, or -1 after a problem. */
static int
meta_read(struct chk *c, int i, size_t off, struct lm_meta *m)
{
	unsigned char b[HDR + sizeof(struct lm_meta)];
	struct lm_page h;
	char what[32];
	size_t ps;

	snprintf(what, sizeof(what), "meta page %d", i);
	if (read_at(c, b, sizeof(b), off, what) < 0)
		return -1;
	memcpy(&h, b, HDR);
	memcpy(m, b + HDR, sizeof(*m));
	ps = m->dbs[0].pad;
	if (!(h.flags & P_META) || m->magic != LM_MAGIC)
		problem(c, "meta page %d: not an LMDB meta page (flags %#x, magic %#x)", i,
		    h.flags, m->magic);
	else if (m->version != LM_VERSION)
		problem(c, "meta page %d: LMDB format version %u, not %d", i, m->version,
		    LM_VERSION);
	else if (ps < 512 || ps > 65536 || (ps & (ps - 1)) || (i == 1 && ps != c->psize))
		problem(c, "meta page %d: page size %zu", i, ps);
	else
		return 0;
	return -1;
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* Every page from the end of the file to the meta's last page must be free (LMDB does not
 * write the pages a transaction allocated and freed again). */
static void
tail_check(struct chk *c, int which)
{
	size_t p, i = 0;

	qsort(c->freepg, c->nfree, sizeof(*c->freepg), cmp_size);
	for (p = c->npages; p <= c->last_pg; p++) {
		while (i < c->nfree && c->freepg[i] < p)
			i++;
		if (i == c->nfree || c->freepg[i] != p) {
			problem(c, "meta page %d: page %zu (last page %zu) is past the end of the "
			    "file (%zu pages) and not free", which, p, c->last_pg, c->npages);
			return;
		}
	}
}

/* Both metas; the one LMDB picks (the higher txnid) against the file's size. */
static int
meta_check(struct chk *c, int *which)
{
	struct lm_meta m[2];
	struct stat st;
	int w, i;

	if (meta_read(c, 0, 0, &m[0]) < 0)
		return -1;
	c->psize = m[0].dbs[0].pad;
	if (meta_read(c, 1, c->psize, &m[1]) < 0)
		return -1;
	/* after the metas: a writer writes its pages before the meta that points to them */
	if (fstat(c->fd, &st) < 0) {
		c->io = 1;
		problem(c, "cannot be read: %s", strerror(errno));
		return -1;
	}
	*which = w = m[0].txnid < m[1].txnid;
	c->meta = m[w];
	c->txnid = m[w].txnid;
	c->last_pg = m[w].last_pg;
	c->npages = (size_t)st.st_size / c->psize;
	if ((size_t)st.st_size % c->psize) {
		problem(c, "%lld bytes: not a whole number of %zu-byte pages (truncated?)",
		    (long long)st.st_size, c->psize);
		return -1;
	}
	for (i = 0; i < 2; i++)
		if (m[w].dbs[i].root != P_INVALID && (m[w].dbs[i].root >= c->npages ||
		    m[w].dbs[i].root > c->last_pg || m[w].dbs[i].root < 2)) {
			problem(c, "meta page %d: the %s root is page %zu, outside the file (%zu "
			    "pages, last page %zu)", w, i ? "main" : "free list",
			    m[w].dbs[i].root, c->npages, c->last_pg);
			return -1;
		}
	if (c->last_pg < 1 || (c->last_pg >= c->npages &&
	    c->last_pg - c->npages >= ((size_t)1 << 20))) {
		problem(c, "meta page %d: last page %zu, the file has %zu", w, c->last_pg,
		    c->npages);
		return -1;
	}
	c->collect = c->last_pg >= c->npages;
	return 0;
}

/* One pass over the open file. */
static void
check_pass(struct chk *c)
{
	size_t budget = QUICK_BUDGET, pages;
	int which, i, is_meta;

	if (meta_check(c, &which) < 0)
		return;
	if (c->deep)
		c->seen = xcalloc(c->npages / 8 + 1, 1);
	c->descend = 1;
	tree_check(c, "free list", TREE_FREE, &c->meta.dbs[0]);
	if (c->collect && c->problems == 0)
		tail_check(c, which);
	tree_check(c, "main", TREE_MAIN, &c->meta.dbs[1]);
	for (i = 0; i < c->nsubs; i++) {
		/* quick: the meta sub-database (read at every open) and small trees whole,
		 * within a budget; of the others, the root page */
		pages = c->subs[i].db.branch + c->subs[i].db.leaf + c->subs[i].db.overflow;
		is_meta = strcmp(c->subs[i].name, ST_META_DB) == 0;
		c->descend = c->deep || is_meta || pages <= budget;
		if (!c->deep && !is_meta && c->descend)
			budget -= pages;
		tree_check(c, c->subs[i].name, TREE_DATA, &c->subs[i].db);
	}
}

/* The txnid of the meta LMDB would pick now, or 0. */
static size_t
txnid_now(struct chk *c)
{
	struct lm_meta m[2];
	size_t ps = c->psize ? c->psize : 4096;

	if (pread(c->fd, m, sizeof(m[0]), HDR) != (ssize_t)sizeof(m[0]) ||
	    pread(c->fd, &m[1], sizeof(m[1]), (off_t)(ps + HDR)) != (ssize_t)sizeof(m[1]))
		return 0;
	return m[0].txnid < m[1].txnid ? m[1].txnid : m[0].txnid;
}

long
st_check_file(const char *dir, int deep, FILE *out, struct failure *f)
{
	struct chk c;
	struct stat st;
	char *text = NULL;
	size_t textlen = 0;
	int attempt, done;
	long ret = 0;

	for (attempt = 0; attempt < 3; attempt++) {
		memset(&c, 0, sizeof(c));
		snprintf(c.path, sizeof(c.path), "%s/data.mdb", dir);
		c.f = f;
		c.deep = deep;
		if ((c.fd = open(c.path, O_RDONLY | O_CLOEXEC)) < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				return 0;	/* nothing yet: env_open creates or reports it */
			fail_set(f, FAIL_IO, "%s: cannot be read: %s", c.path, strerror(errno));
			return 1;
		}
		if (fstat(c.fd, &st) == 0 && st.st_size == 0) {
			close(c.fd);
			return 0;		/* created, never written: LMDB sets it up */
		}
		c.out = out ? open_memstream(&text, &textlen) : NULL;
		check_pass(&c);
		if (c.out)
			fclose(c.out);
		/* a writer that committed while we read may have reused pages we walked */
		ret = c.problems;
		done = c.problems == 0 || attempt == 2 || txnid_now(&c) == c.txnid;
		if (!done)
			fail_set(f, FAIL_NONE, "%s", "");
		close(c.fd);
		free(c.seen);
		free(c.freepg);
		if (done && out && text)
			fputs(text, out);
		free(text);
		text = NULL;
		if (done)
			break;
	}
	return ret;
}
