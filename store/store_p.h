/*
 * store_p.h — private to store/: the environment and txn structs, the sub-database table,
 * the helpers the store's files share, and the record codec (codec.c).
 */
#ifndef PS_STORE_P_H
#define PS_STORE_P_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <lmdb.h>

#include "store.h"
struct sub;
struct extsort;
struct email_defer;
struct email_pending;

/* The sub-databases, in the order of st_db_names (see store.h for what each holds). */
enum { DB_META, DB_ACCOUNTS, DB_PEOPLE, DB_EMAILS, DB_PACCT, DB_HISTORY, DB_TEAMS,
	DB_STAGE_SLACK, DB_STAGE_TEAMS, DB_STAGE_WEBEX, DB_KV, DB_OUTBOX, DB_OUTQ, DB_PIDX, DB_AUDIT, DB_COUNT };

extern const char *const st_db_names[DB_COUNT];
_Static_assert(DB_COUNT <= 32, "struct txn's noappend has a bit per dbi");
#define ST_META_DB	"meta"		/* st_db_names[DB_META], for check.c */

#define KEY_MAX		480		/* under LMDB's default 511-byte key limit */

/*
 * The people index's counter changes (index.c): key (field byte, value, active byte) and
 * the amount to add.
 */
struct pidx_count {
	char		*key;
	size_t		 len;
	int64_t		 d;
};
struct pidx_counts {
	struct pidx_count *c;
	size_t		 n;
	size_t		 last[8];	/* per field: the counter found last, looked at first */
};

/*
 * A deferral of the people index's writes (store_pidx_defer): the entry writes of each
 * committed txn, as sortable records (st_pidx_op_record), and the sum of their counter
 * changes, written by store_pidx_settle (index_build.c).
 */
struct pidx_defer {
	struct extsort	*ops;
	struct pidx_counts counts;
	uint64_t	 seq;		/* the next op's order among all ops */
	int		 lost;		/* an op could not be kept: settle rebuilds */
};

struct store {
	MDB_env		*env;
	MDB_dbi		 dbi[DB_COUNT];
	char		*path;
	int		 readonly;
	unsigned char	 absent[DB_COUNT];	/* read-only, older: no such sub-database */
	struct pidx_defer *pd;		/* index writes deferred by this process, or NULL */
	void		(*pd_free)(struct store *);	/* index.c's, called by store_close */
	struct email_defer *ed;		/* email index writes deferred (emails.c), or NULL */
	void		(*ed_free)(struct store *);
	char		 err[512];
};

struct txn {
	struct store	*s;
	MDB_txn		*txn;
	int		 write;
	uint64_t	 writes;	/* record versions written in this txn */
	uint64_t	 last_person;	/* cached id counter, saved at commit */
	struct buf	 tmp[4];	/* scratch of the record writers, kept for the txn */
	unsigned	 noappend;	/* bit per dbi: a key of this txn fell before the last */
	uint64_t	 hist_tail;	/* history: the last key's person and seq, when this txn */
	uint64_t	 hist_seq;	/* appended it (0: unknown) */
	int		 person_loaded;
	int		 person_dirty;
	struct pidx_pending *pp;	/* people index writes not yet applied (index.c) */
	int		(*pp_flush)(struct txn *);	/* ... written at commit */
	void		(*pp_after)(struct txn *);	/* ... after a commit that succeeded */
	void		(*pp_drop)(struct txn *);	/* ... forgotten at abort */
	struct email_pending *ep;	/* email index writes of this txn (emails.c) */
	int		(*ep_flush)(struct txn *);
	void		(*ep_after)(struct txn *);
	void		(*ep_drop)(struct txn *);
};

/* The scratch buffers of struct txn, each emptied by its user (nested users take others). */
enum { TMP_VAL, TMP_KEY, TMP_KEY2, TMP_TEXT };

static inline struct buf *
st_tmp(struct txn *t, int i)
{
	buf_reset(&t->tmp[i]);
	return &t->tmp[i];
}

static inline MDB_val
val_of(const void *p, size_t n)
{
	MDB_val v = { n, (void *)p };
	return v;
}

/*
 * check.c: data.mdb in dir read with pread, never through LMDB's map: both meta pages, then
 * the B-trees from their roots, every page number checked (inside the file, the right kind of
 * page, nodes inside it) before it is followed. deep walks every page of every tree and
 * prints each problem to out (may be NULL); otherwise (quick, at every open) the free list,
 * the main and meta trees and small trees whole, the root page of large ones. Returns the
 * number of problems, the first in f (FAIL_DATA; FAIL_IO when the file cannot be read);
 * 0 when sound or when there is no data.mdb yet.
 */
long	st_check_file(const char *dir, int deep, FILE *out, struct failure *f);

/*
 * store_open with flags: ST_RDONLY, ST_ANY (`db verify`: opens a database that a failed
 * verify marked). The marked meta key holds "db verify found N problems on DATE".
 */
#define ST_RDONLY	0x1
#define ST_ANY		0x2
#define ST_VERIFY_MARK	"verify_failed"
struct store	*st_open(const char *dir, size_t map_mb, int flags, struct failure *f);

/* Sets s->err to "path: what: LMDB's reason" and returns -1. */
int	st_fail(struct store *s, const char *what, int rc);
/* Sets s->err to "path: " and the formatted text and returns -1. */
int	st_failf(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends the value under k in dbi to out: 0, STORE_NOTFOUND or -1 (what names the read). */
int	st_get_into(struct txn *t, int dbi, MDB_val *k, struct buf *out, const char *what);

/* The 8-byte big-endian key of a person or prompt id. */
MDB_val	st_id_key(unsigned char b[8], uint64_t id);

/*
 * Iterates sub-database dbi from the first key with the given prefix (all when plen == 0),
 * calling cb on each entry until it returns non-zero. 0 when cb never returned < 0, else -1.
 */
typedef int (*st_each_cb)(MDB_val *k, MDB_val *v, void *arg);
int	st_each(struct txn *t, int dbi, const void *prefix, size_t plen, st_each_cb cb,
	    void *arg);

/* Meta counters (8-byte big-endian values); a missing key reads as 0. */
int	st_meta_get_u64(struct txn *t, const char *key, uint64_t *out);
int	st_meta_put_u64(struct txn *t, const char *key, uint64_t v);
int	st_meta_add_u64(struct txn *t, const char *key, uint64_t add);

/*
 * Decoded records of the three kinds that have one: st_rec_get reads key from the kind's
 * sub-database into out (a struct account, person or prompt): 0, STORE_NOTFOUND or -1.
 */
enum st_rec { REC_ACCOUNT, REC_PERSON, REC_PROMPT };
int	st_rec_get(struct txn *t, enum st_rec kind, const void *key, size_t klen, void *out);
/* Writes an encoded record under an id key; append (ids that only grow) packs the tree. */
/*
 * A put that appends when the key falls past the last one of dbi (a bulk load in key order:
 * no search, pages filled whole) and else inserts; after one key that did not, the txn
 * stops trying for that dbi. The LMDB code (0 on success).
 */
int	st_put_in_order(struct txn *t, int dbi, MDB_val *k, MDB_val *v);
int	st_put_id(struct txn *t, int dbi, uint64_t id, const struct buf *val, int append,
	    const char *what);

/*
 * A walk over records of one kind, for the store_*_each functions: st_walk_records visits
 * the records of dbi (under prefix), st_walk_index the records that an index's keys name
 * (the 8 bytes after the key's first 8 are skipped to find the record's key). cb is the
 * caller's typed callback (store_account_cb, store_person_cb or store_prompt_cb).
 */
struct st_walk {
	struct txn	*t;
	enum st_rec	 kind;
	union {
		store_account_cb	account;
		store_person_cb		person;
		store_prompt_cb		prompt;
	} cb;
	void		*arg;
	size_t		 keylen;	/* index keys of another length are skipped (0: any) */
};
int	st_walk_records(struct st_walk *w, int dbi, const void *prefix, size_t plen);
int	st_walk_index(struct st_walk *w, int dbi, const void *prefix, size_t plen);

/* Account key: platform byte, team id, NUL, user id; -1 when too long or empty. */
int	st_account_key(struct buf *k, enum platform p, const char *team, const char *user);
/* Encodes a and writes it under key in dbi (accounts or a staging area). */
int	st_account_write(struct txn *t, int dbi, const struct buf *key, const struct account *a,
	    const char *what);
/* pacct index key: person id (8 bytes) then the account key. */
void	st_pacct_key(struct buf *pk, uint64_t person, const struct buf *akey);
/* A prompt in one of the states the outq index holds. */
int	st_prompt_pending_state(int state);
/* The outq key of a prompt: person id then prompt id, 8 bytes each. */
MDB_val	st_outq_key(unsigned char q[16], uint64_t person, uint64_t prompt);

/*
 * The people indexes (index.c): st_pidx_update moves person old's entries (NULL: a new
 * person) to cur's (NULL: deleted): the entries' writes and the counters' changes are kept
 * in t and written at commit by st_pidx_flush, in key order (sorted inserts into the
 * B-tree: a run that writes many people pays far less than for one insert at a time);
 * st_pidx_drop forgets them (abort); env.c calls both through t->pp_flush and t->pp_drop.
 * Nothing reads the index in a write txn. Under a deferral (store_pidx_defer) the commit
 * writes only the mark "out of date" and st_pidx_kept (t->pp_after) hands the txn's writes
 * to s->pd once the commit succeeded.
 * st_pidx_sort_key appends p's sort key (the table's order) to out.
 *
 * The mark (meta key "pidx"): PIDX_EXACT, PIDX_DEFERRED (a deferral's writes are not all
 * written: a run in progress, or one that was interrupted) or PIDX_TOUCHED (people were
 * written by another process while the mark was not exact: the index may be wrong); absent
 * in a database written before the index existed, PIDX_EXACT_V1 in one written by a binary
 * that kept entries of every field (store_upgrade rebuilds both). Anything but exact is
 * rebuilt by store_pidx_repair.
 */
#define PIDX_MARK_KEY	"pidx"
#define PIDX_EXACT	'3'		/* exact, entries of all and team only */
#define PIDX_EXACT_V1	'1'		/* exact, in the first format (every field's entries) */
#define PIDX_DEFERRED	'0'
#define PIDX_TOUCHED	'2'
int	st_pidx_update(struct txn *t, const struct person *old, const struct person *cur);
int	st_pidx_flush(struct txn *t);
void	st_pidx_kept(struct txn *t);
void	st_pidx_drop(struct txn *t);
void	st_pidx_sort_key(const struct person *p, struct buf *out);
/* The mark in t: its byte, or 0 when absent; -1 on a read error. */
int	st_pidx_mark(struct txn *t);
int	st_pidx_set_mark(struct txn *t, char mark);

/* For index_build.c: the fields (some with entries, all with counters), their names, the
 * entry key of field f for p (0, or -1 when p has none there), the packed facts of an
 * entry's value, counting, and writing counter changes (added to what is stored). */
#define PIDX_NFIELD	6
int	st_pidx_has_entries(int f);
#define PIDX_VAL_LEN	4
#define PIDX_COUNTER	'#'
const char *st_pidx_field_name(char field_byte);
int	st_pidx_entry_key(int f, const struct person *p, struct buf *k);
void	st_pidx_pack(const struct person *p, unsigned char v[PIDX_VAL_LEN]);
void	st_pidx_count(struct pidx_counts *cs, int f, const struct person *p, int64_t d);
void	st_pidx_counts_free(struct pidx_counts *cs);
int	st_pidx_counts_write(struct txn *t, const struct pidx_counts *cs);
/*
 * sorted.c: deferred index writes as sortable records (key, order, put or delete, value of
 * up to 255 bytes; byte order = key order then write order, for keys of which none is a
 * prefix of another or that hold no NUL), and their writer: st_sorted_write puts x's records
 * in order into sub-database dbi (the last of several writes to one key wins) in txns of
 * ST_SORTED_TXN writes, appending past the last key (ST_SORTED_TXN_INSERTS before: each
 * insert may dirty a page of its own, kept in memory until the commit); its last txn is left open in w (w->t,
 * NULL when there was nothing) for the caller to finish with st_writer_commit, or
 * st_writer_abort. st_writer_txn opens (or renews when full) w's txn.
 */
#define ST_SORTED_TXN	100000
#define ST_SORTED_TXN_INSERTS	16384	/* ... while not appending */
struct st_writer {
	struct store	*s;
	int		 dbi;
	const char	*what;		/* "write people index": errors name it */
	struct txn	*t;
	MDB_cursor	*c;
	size_t		 in_txn;
	int		 appending;	/* every put from here on is past the last key */
	struct buf	 last;		/* the sub-database's last key when t began */
};
void	st_sorted_record(struct buf *out, const void *key, size_t klen, uint64_t seq, int put,
	    const void *val, size_t vlen);
int	st_sorted_write(struct st_writer *w, struct extsort *x);
int	st_writer_txn(struct st_writer *w);
int	st_writer_commit(struct st_writer *w);
void	st_writer_abort(struct st_writer *w);
/* fn(t) in a read txn of its own: fn's result, or -1 when no txn could begin. */
int	st_read_with(struct store *s, int (*fn)(struct txn *));
/* once(s) (0 done, 1 written meanwhile by another process, -1), again after a 1: an index
 * rebuild; the error names what. 0 or -1. */
int	st_rebuild_twice(struct store *s, int (*once)(struct store *), const char *what);

/*
 * emails.c: st_email_exact is 1 when the email index is whole (its mark), 0 while writes
 * are deferred or after an interrupted deferral, -1 on a read error; st_email_rebuild writes
 * it again from the people (their own address first) and their linked accounts.
 */
int	st_email_exact(struct txn *t);
int	st_email_rebuild(struct store *s);
/* Tests: a deferral that flushes after cap addresses. */
void	st_email_defer_cap(struct store *s, size_t cap);

/*
 * index_build.c: st_pidx_rebuild writes the whole index again from the people records, in
 * key order (appends), in txns of its own; st_pidx_verify prints each missing, extra or
 * wrong entry and counter and returns their number (or -1); an index whose mark is not
 * exact is reported as such, not checked.
 */
int	st_pidx_rebuild(struct store *s);
long	st_pidx_verify(struct txn *t, FILE *f);

/*
 * Record encoding: one format byte (REC_FORMAT), then fields as protobuf-style
 * (field << 3 | wiretype) tags: wiretype 0 = varint (signed values zigzag), 2 = length +
 * bytes. Decoders skip fields they do not know, so older binaries read newer records; a
 * format byte above REC_FORMAT is refused.
 */
#define REC_FORMAT	1

void	codec_account_encode(const struct account *a, struct buf *out);
int	codec_account_decode(const void *data, size_t n, struct account *a);	/* 0 / -1 */
void	codec_person_encode(const struct person *p, struct buf *out);
int	codec_person_decode(const void *data, size_t n, struct person *p);
/* The person record's fields in place (no allocation): the strings point into data. 0 / -1
 * (the same records codec_person_decode refuses, which decodes through it). */
int	codec_person_view(const void *data, size_t n, struct person_view *p);
void	codec_prompt_encode(const struct prompt *p, struct buf *out);
int	codec_prompt_decode(const void *data, size_t n, struct prompt *p);
void	codec_history_encode(int64_t ts, const char *kind, const char *text, struct buf *out);
int	codec_history_decode(const void *data, size_t n, int64_t *ts, char **kind, char **text);
/* Subscription records (include/subs.h); decode refuses a record without platform, id or
 * salt, or with a platform or state out of range; on -1 nothing is left to free. */
void	codec_sub_encode(const struct sub *s, struct buf *out);
int	codec_sub_decode(const void *data, size_t n, struct sub *s);
/* subs.c, for maint.c: the subscription lines of `db stats`, and `db verify`'s checks of the
 * "sub" records against the "subp" index; returns the problems found (each printed to f),
 * or -1 on a store error. */
int	st_sub_stats(struct txn *t, FILE *f);
long	st_sub_verify(struct txn *t, FILE *f);
/* Web sessions. The decoder fills an empty s (store_session_init) and checks sizes and
 * ranges; on -1 the caller frees what it filled (store_session_free). */
void	codec_session_encode(const struct web_session *s, struct buf *out);
int	codec_session_decode(const void *data, size_t n, struct web_session *s);

#endif
