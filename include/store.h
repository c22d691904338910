/*
 * store.h — the database. store/ is the only code that knows LMDB.
 *
 * One LMDB environment (a directory) with named sub-databases:
 *	meta	    schema version, id counters, per-platform cursors (delta links), run stats
 *	accounts    platform|team_id|0|user_id -> account record
 *	people	    person id (8 bytes, big-endian) -> person record
 *	emails	    normalised address -> person id     (index)
 *	pacct	    person id | account key -> ""        (index: a person's accounts)
 *	history	    person id | seq -> history record    (audit trail)
 *	teams	    platform|team_id -> team record (name, fetched_at, instance)
 *	stage.slack, stage.teams, stage.webex
 *		    account key -> account record        (a pull in progress, one per platform)
 *	kv	    space name | NUL | key -> value      (the key-value spaces below)
 *	outbox	    prompt id (8 bytes) -> prompt record
 *	outq	    person id | prompt id -> ""          (index: the pending prompts)
 *	pidx	    field | value | sort key | person id -> active  (the people indexes, and
 *		    their counters; store/index.c)
 *	audit	    sequence -> admin action             (the audit list; store/audit.c)
 * Records are versioned encodings (store/codec.c); a record written by a newer binary with
 * unknown fields is read without them.
 *
 * Code: env.c (open, schema, txns, meta), stage.c (staging and merge), records.c (accounts,
 * people, indexes, history, teams), prompts.c (the outbox), kv.c (kv spaces), maint.c
 * (stats, verify, backup), check.c (data.mdb's pages checked before LMDB reads them),
 * index.c (the people indexes), audit.c (the audit list).
 *
 * Return values: 0 success; STORE_NOTFOUND when a looked-up key is absent; -1 on error with a
 * message available from store_error() (names the operation and LMDB's reason).
 * Strings filled into caller structs are owned by the caller (free with account_free /
 * person_free).
 */
#ifndef PS_STORE_H
#define PS_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fail.h"
#include "model.h"
#include "util.h"

#define STORE_SCHEMA	1
#define STORE_NOTFOUND	1

struct store;
struct txn;

/*
 * Opens (creating if needed, mode 0700) the environment in dir. readonly opens for reading
 * only (and does not create). Before LMDB maps it, data.mdb passes a quick check (its meta
 * pages, free list, main and meta trees and the roots of the others, read with pread; a
 * few hundred pages at most) and must not carry the mark of a failed `db verify`.
 * Returns NULL on failure with f (if not NULL) set: FAIL_CONFIG when the database's schema
 * is newer than STORE_SCHEMA ("database schema 3 is newer than this peoplesync understands
 * (1): upgrade peoplesync"), FAIL_DATA when data.mdb is damaged or marked ("DIR/data.mdb:
 * meta page 1: ..."), FAIL_IO otherwise; the message, naming dir, in f->msg. On success
 * f->cls is FAIL_NONE.
 */
struct store	*store_open(const char *dir, size_t map_mb, int readonly, struct failure *f);
void		 store_close(struct store *s);
const char	*store_error(struct store *s);
const char	*store_path(struct store *s);
/* Forces committed data to disk (see store.c on sync modes). */
int		 store_sync(struct store *s);

/* Transactions. A write txn is exclusive (LMDB single writer); keep it short and never hold it
 * across a network call. store_commit/store_abort free the txn in every case. */
struct txn	*store_begin(struct store *s, int write);
int		 store_commit(struct txn *t);
void		 store_abort(struct txn *t);

/* Accounts. */
int	store_account_get(struct txn *t, enum platform p, const char *team, const char *user,
	    struct account *out);
/* Writes a (bumped version) and keeps the pacct index in step with a->person_id:
 * old_person is the person the stored record pointed to (0 if none/new). */
int	store_account_put(struct txn *t, struct account *a, uint64_t old_person);
typedef int (*store_account_cb)(const struct account *a, void *arg); /* non-zero stops */
/* Every account of platform p (all platforms if p < 0), in key order. */
int	store_account_each(struct txn *t, int p, store_account_cb cb, void *arg);

/* Staging of a pull in progress, one area per platform. */
int	store_stage_clear(struct txn *t, enum platform p);
int	store_stage_put(struct txn *t, const struct account *a);
/*
 * Staging in batches: accounts are encoded into memory as pages arrive and written in one
 * txn, in key order, by store_stage_flush: fewer, larger commits and sorted inserts. A batch
 * holds at most `limit` accounts' records. Filling a batch touches no database (a pulling
 * thread fills it while another one writes: reconcile/pipe.c); flushing it is a write txn.
 */
struct stage_batch;
struct stage_batch *store_stage_batch_new(struct store *s, enum platform p, size_t limit);
/* Adds a (copied, encoded): 1 when the batch is now full (flush it before adding more), 0,
 * or -1 when a cannot be keyed (store_stage_batch_error says why; the batch is unchanged). */
int	store_stage_add(struct stage_batch *b, const struct account *a);
const char *store_stage_batch_error(const struct stage_batch *b);
/* Writes what the batch holds in one txn and empties it. 0, or -1 (store error). */
int	store_stage_flush(struct stage_batch *b);
void	store_stage_batch_free(struct stage_batch *b);	/* drops what was not flushed */

int	store_stage_count(struct txn *t, enum platform p, size_t *n);

/*
 * Merge of a platform's staged pull with its stored accounts, both in key order.
 * For each key present on either side, cb(staged or NULL, stored or NULL, arg) is called;
 * after 'batch' calls the txn is committed and a new one begun (batch 0: never), so a long
 * apply does not hold the writer lock throughout. Resumes from the last key.
 * write = 0 runs the same walk in a read txn (counting, dry runs); the callback must not
 * write then. With write, the callback may write through store_* with the txn it receives.
 */
typedef int (*store_merge_cb)(struct txn *t, const struct account *staged,
    const struct account *stored, void *arg);
int	store_stage_merge(struct store *s, enum platform p, int full, size_t batch, int write,
	    store_merge_cb cb, void *arg);
/*
 * A batch merged without staging (a platform's first full pull, reconcile/apply.c): its
 * accounts in key order, each with the stored one of its key if any (an account seen twice),
 * handed to cb in write txns of `batch` accounts; the batch is emptied. 0, or -1.
 */
int	store_stage_batch_merge(struct stage_batch *b, size_t batch, store_merge_cb cb,
	    void *arg);

/* People. store_person_put assigns a new id when p->id == 0. */
int	store_person_get(struct txn *t, uint64_t id, struct person *out);
int	store_person_put(struct txn *t, struct person *p);
typedef int (*store_person_cb)(const struct person *p, void *arg);
int	store_person_each(struct txn *t, store_person_cb cb, void *arg);
/* Deletes a person record and its history (its accounts must already point elsewhere). */
int	store_person_del(struct txn *t, uint64_t id);
int	store_person_accounts(struct txn *t, uint64_t id, store_account_cb cb, void *arg);

/* Email index (store/emails.c). */
int	store_email_get(struct txn *t, const char *email, uint64_t *person_id);
int	store_email_put(struct txn *t, const char *email, uint64_t person_id);
int	store_email_del(struct txn *t, const char *email);
/*
 * Its deferral, for a bulk writer: after store_email_defer, puts are kept (reads of this
 * store see them) and written sorted, every 65,536 addresses and at store_email_settle;
 * deletes are written at once. Other processes read the index without the kept writes
 * meanwhile. settle: 0 or -1; the mark and the repair as for the people index below
 * (store_email_repair: 1 rebuilt, 0 whole, -1).
 */
void	store_email_defer(struct store *s);
int	store_email_settle(struct store *s);
int	store_email_repair(struct store *s);

/*
 * The prompt outbox: prompts keyed by id (assigned by store_prompt_put when p->id == 0),
 * and an index of the pending ones (queued or sending) by person, kept in step by
 * store_prompt_put.
 */
int	store_prompt_put(struct txn *t, struct prompt *p);
int	store_prompt_get(struct txn *t, uint64_t id, struct prompt *out);
typedef int (*store_prompt_cb)(const struct prompt *p, void *arg);
/* All prompts (pending_only = 0, in id order) or only queued/sending ones (by person). */
int	store_prompt_each(struct txn *t, int pending_only, store_prompt_cb cb, void *arg);
/* The pending prompt of a person, if any: 0 (id set), STORE_NOTFOUND or -1. */
int	store_prompt_pending(struct txn *t, uint64_t person_id, uint64_t *prompt_id);

/* History (audit) of a person: appended, never rewritten. */
struct history {
	int64_t	 ts;
	char	*kind;		/* "created", "status", "linked", "moved", "deactivated", ... */
	char	*text;
};
int	store_history_add(struct txn *t, uint64_t person_id, int64_t ts, const char *kind,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
typedef int (*store_history_cb)(const struct history *h, void *arg);
int	store_history_each(struct txn *t, uint64_t person_id, store_history_cb cb, void *arg);

/* Teams (a Slack workspace or Grid, a Teams tenant, a Webex org): the name the platform
 * gives it (or the config's override), when it was fetched, and which instance of the
 * platform (a slack.workspaces entry) pulled it last: events and prompts route by it. */
struct team_rec {
	char	*name;		/* NULL if none known */
	int64_t	 fetched_at;	/* unix seconds; 0 unknown */
	int	 inst;		/* index into the platform's instances, -1 unknown */
	int	 from_config;	/* the name is the config's (team_name, tenant_name, org_name) */
};
int	store_team_put(struct txn *t, enum platform p, const char *team, const struct team_rec *r);
/* 0 with *out filled (team_rec_free), STORE_NOTFOUND (out empty, inst -1) or -1. */
int	store_team_get(struct txn *t, enum platform p, const char *team, struct team_rec *out);
void	team_rec_free(struct team_rec *r);
/* The team's name appended to out: 0, STORE_NOTFOUND (no team or no name) or -1. */
int	store_team_name_get(struct txn *t, enum platform p, const char *team, struct buf *out);

/*
 * Key-value spaces for small records that need no index. A space is a short name; keys are
 * bytes (at most 400). Values are opaque to the store. The spaces in use:
 *	"session"  web sessions (web/)
 *	"nonce"    nonces of used Sync now links: a link is single-use (web/)
 *	"slink"    web sessions by link (link nonce + session key -> expiry): bounds sessions per link (web/)
 *	"utoken"   encrypted user tokens: key "platform|team|user", value sealed by its owner
 *	"dm"	   DM channel ids: key "platform number|team|user", value the channel id
 *	"reauth"   re-consent marks: key the person id (8 bytes, host order), value "1"
 *	"sub"	   event subscriptions (Graph, Webex) and "subp" their index by person: see subs.h
 * Code outside store/ uses the typed functions below for "utoken", "dm" and "reauth".
 */
#define STORE_KV_SESSION	"session"
#define STORE_KV_NONCE		"nonce"
#define STORE_KV_UTOKEN		"utoken"
#define STORE_KV_DM		"dm"
#define STORE_KV_REAUTH		"reauth"

int	store_kv_get(struct txn *t, const char *space, const void *key, size_t klen,
	    struct buf *out);				/* 0, STORE_NOTFOUND or -1 */
int	store_kv_put(struct txn *t, const char *space, const void *key, size_t klen,
	    const void *val, size_t vlen);
int	store_kv_del(struct txn *t, const char *space, const void *key, size_t klen);
typedef int (*store_kv_cb)(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg);
int	store_kv_each(struct txn *t, const char *space, store_kv_cb cb, void *arg);

/* The DM channel of an account, as the platform named it on a delivered prompt: get appends
 * it to out (0, STORE_NOTFOUND or -1); team and user may be NULL (read as ""). */
int	store_dm_channel_get(struct txn *t, enum platform p, const char *team, const char *user,
	    struct buf *out);
int	store_dm_channel_put(struct txn *t, enum platform p, const char *team, const char *user,
	    const char *channel);
/* Re-consent marks: a person asked once to re-consent is marked, never asked again.
 * get: 0 (marked), STORE_NOTFOUND or -1. */
int	store_reauth_get(struct txn *t, uint64_t person_id);
int	store_reauth_put(struct txn *t, uint64_t person_id);
/* Encrypted user tokens, as raw bytes: the store neither builds the key nor reads the value.
 * get appends the value to out: 0, STORE_NOTFOUND or -1. */
int	store_utoken_get(struct txn *t, const void *key, size_t klen, struct buf *out);
int	store_utoken_put(struct txn *t, const void *key, size_t klen, const void *val,
	    size_t vlen);
int	store_utoken_each(struct txn *t, store_kv_cb cb, void *arg);

/* Meta: small named values (delta links, auto-prompt flag, run stats). */
int	store_meta_get(struct txn *t, const char *key, struct buf *out);
int	store_meta_put(struct txn *t, const char *key, const void *data, size_t n);
int	store_meta_del(struct txn *t, const char *key);

/* What a database written by an older binary lacks, added once (the people indexes: every
 * person indexed). Called by the commands that open the database for writing; cheap when
 * there is nothing to do. 0 or -1. */
int	store_upgrade(struct store *s);

/* `db stats`: counts of every sub-database, record writes, map use; printed to f. */
int	store_stats(struct store *s, FILE *f);
/* `db verify`: every index consistent with its records; prints each problem to f and
 * returns the number of problems (0 = consistent), or -1 on error. */
long	store_verify(struct store *s, FILE *f);
/*
 * `db verify DIR`: data.mdb's pages first, read without trusting them (store/check.c), then,
 * when they are sound, store_verify. Each problem is printed to out. A database with
 * problems is marked (in meta) so that store_open refuses it, with FAIL_DATA and a message
 * naming data.mdb and `db verify`, until a verify passes (after a restored backup); a
 * database whose meta, free list or main tree is damaged is refused at open without a mark.
 * Returns the number of problems, or -1 with f (not NULL) set: FAIL_IO when the file cannot
 * be read, FAIL_CONFIG for a newer schema, as store_open.
 */
long	store_verify_db(const char *dir, size_t map_mb, FILE *out, struct failure *f);
/* Total record versions ever written (accounts + people); meta counter. */
int	store_record_writes(struct txn *t, uint64_t *out);
/* `db backup DEST`: a consistent compacted copy. */
int	store_backup(struct store *s, const char *dest);

/* ---- people indexes (store/index.c) ---- */
/*
 * Every person is indexed by status, primary platform, sync type and primary team (and in
 * one list of everyone), each in the people table's default order (report_row_cmp: the
 * name, else the address, case-insensitively, then the id; names that agree on their first
 * 160 bytes fall back to the id), with a counter of each value (and of each primary
 * platform and status together). store_person_put and store_person_del keep them exact;
 * store_verify checks them.
 * A selection: the facts a person must have (any combination); the walk reads the range of
 * the team, else of the rarest constrained fact, and checks the others on each entry
 * without reading the person.
 */
#define PIDX_ANY	(-2)
struct pidx_sel {
	int		 status;	/* enum status, -1 any */
	int		 platform;	/* primary platform: enum platform, -1 none, PIDX_ANY */
	int		 type;		/* enum sync_type, -1 any */
	const char	*team;		/* primary team id (with platform >= 0), NULL any */
	int		 all;		/* 0: active people only (as `people` without --all) */
};
#define PIDX_SEL_INIT	{ -1, PIDX_ANY, -1, NULL, 0 }
/* How many people sel takes: from the counters when sel constrains at most one fact (or
 * the platform and the status), else by a walk of the index. 0 or -1. */
int	store_pidx_count(struct txn *t, const struct pidx_sel *sel, uint64_t *n);
/* The people sel takes, in the default order, skipping the first skip and stopping after n
 * (or when cb returns non-zero; < 0 is an error returned as -1): cb(person id, active, arg).
 * Reads index entries only: the skipped people are never read. 0 or -1. */
typedef int (*store_pidx_cb)(uint64_t id, int active, void *arg);
int	store_pidx_page(struct txn *t, const struct pidx_sel *sel, uint64_t skip, size_t n,
	    store_pidx_cb cb, void *arg);
/* Every primary team with active people: cb(platform, team id, how many, arg), by platform
 * then team id; cb's non-zero stops. 0 or -1. */
typedef int (*store_pidx_team_cb)(enum platform p, const char *team, uint64_t n, void *arg);
int	store_pidx_teams(struct txn *t, store_pidx_team_cb cb, void *arg);

/* ---- people read in place (store/peek.c): the console's searches and sorts ---- */
/* A person record's fields without a copy: the strings point into the database's map, are
 * not NUL-terminated (NULL: absent; a present empty one is non-NULL with length 0) and stay
 * valid until the callback returns (store_person_view_each) or until the txn ends or
 * writes (store_person_view_get). */
struct person_view {
	uint64_t	 id;
	const char	*email, *name, *team;	/* team: the primary team id */
	size_t		 email_len, name_len, team_len;
	int		 active;
	uint8_t		 status, primary_source, sync_type;
	int8_t		 primary_platform;
	uint32_t	 flags, version;
	int32_t		 prompt_count;
	int64_t		 last_prompted_at, synced_at, created_at;
};
typedef int (*store_person_view_cb)(const struct person_view *v, void *arg);
/* Every person record in id order, read in place (a cursor over the people, no
 * allocation): cb's non-zero stops (< 0 is returned as -1). 0 or -1 (an undecodable record
 * is an error naming its id). */
int	store_person_view_each(struct txn *t, store_person_view_cb cb, void *arg);
/* Person id read in place: 0, STORE_NOTFOUND or -1. */
int	store_person_view_get(struct txn *t, uint64_t id, struct person_view *v);
/* The people with an account whose user id is uid in any case: cb(person id, arg) for
 * each such account that has a person (a person with several is named several times). Reads
 * the accounts' keys, decoding only the matches' records. cb's non-zero stops. 0 or -1. */
typedef int (*store_id_cb)(uint64_t id, void *arg);
int	store_account_user_people(struct txn *t, const char *uid, store_id_cb cb, void *arg);

/*
 * A bulk writer of people (reconcile's apply) defers the index: after store_pidx_defer,
 * each commit that writes people marks the index out of date and keeps its index writes
 * (sortable records, in a temporary file of the database's directory past 6 MiB) instead
 * of writing them; store_pidx_settle writes them all in key order (appends where past the
 * last key) in txns of 100,000, then the counters and the mark "exact", and ends the
 * deferral. When another process wrote people in between (the mark says "touched"), or a
 * write could not be kept, settle rebuilds the whole index instead. 0 or -1; after -1 (or a
 * crash before settle) the mark stays, pages may be stale, `db verify` says so, and
 * store_pidx_repair (the next reconcile, under the run lock) rebuilds: 1 when it did,
 * 0 when the index was exact, -1.
 */
void	store_pidx_defer(struct store *s);
/* The number of active people and of all people: from the index's counters when it is
 * exact, else by reading every person. 0 or -1. */
int	store_people_count(struct txn *t, uint64_t *active, uint64_t *all);
int	store_pidx_settle(struct store *s);
int	store_pidx_repair(struct store *s);

/* ---- the audit list of admin actions (store/audit.c) ---- */
/* An entry: its strings live until the callback returns. */
struct audit {
	uint64_t	 seq;
	int64_t		 ts;
	uint64_t	 person;	/* 0: not about one person (auto-prompt switched) */
	const char	*admin;		/* the admin's address */
	const char	*action;	/* "prompt", "bulk-prompt", "auto-prompt", "link", ... */
	const char	*text;
};
/* Appends an entry (in the caller's write txn). 0 or -1. */
int	store_audit_add(struct txn *t, int64_t ts, const char *admin, const char *action,
	    uint64_t person, const char *text);
typedef int (*store_audit_cb)(const struct audit *a, void *arg);
/* At most max entries, oldest or newest first; cb's non-zero stops (< 0: returned as -1).
 * 0 or -1. */
int	store_audit_each(struct txn *t, int newest_first, size_t max, store_audit_cb cb,
	    void *arg);

/* ---- web sessions ---- */
/*
 * The state web/ keeps between the requests of a Sync now flow (docs/sync-now.md):
 * sessions (kv space "session", keyed by the SHA-256 of the cookie value: the cookie itself
 * is never stored; kv space "slink" indexes them by link) and spent link nonces (kv space "nonce": a link whose flow completed).
 * Return values as above: 0, STORE_NOTFOUND, -1 with store_error().
 */
#define SESSION_KEY_LEN		32	/* SHA-256 */
#define SESSION_NONCE_LEN	16	/* a link token's nonce (LINKTOKEN_NONCE_LEN) */
#define SESSION_SECRET_LEN	43	/* OAuth state, PKCE verifier, CSRF token (base64url) */

struct web_session_plat {
	char	 state[SESSION_SECRET_LEN + 1];		/* "" unless a sign-in is under way */
	char	 verifier[SESSION_SECRET_LEN + 1];	/* PKCE, "" when none */
	char	*team;			/* the connected account, NULL until connected */
	char	*user;
	char	*signin_team;		/* the team whose instance's OAuth client the sign-in
					   under way uses (slack.workspaces), or NULL */
};

struct web_session {
	unsigned char	 key[SESSION_KEY_LEN];
	uint64_t	 person;
	unsigned char	 nonce[SESSION_NONCE_LEN];	/* of the link that started it */
	int64_t		 link_exp;
	int64_t		 exp;
	char		 csrf[SESSION_SECRET_LEN + 1];
	struct web_session_plat p[PLAT_COUNT];
	int		 done;
	int		 chosen_platform;	/* -1 until done */
	char		*chosen_team;
};

/* An empty session (no strings, chosen_platform -1). */
void	store_session_init(struct web_session *s);
/* Frees the strings of s and wipes it (secrets); then s is as after store_session_init. */
void	store_session_free(struct web_session *s);
/* The session of key, if it expires after now: 0 with *s filled and s->key = key (caller
 * frees), STORE_NOTFOUND (absent, expired or unreadable: *s empty) or -1. */
int	store_session_get(struct txn *t, const unsigned char key[SESSION_KEY_LEN], time_t now,
	    struct web_session *s);
/* Writes s under s->key (and its entry in the index by link). 0 or -1. */
int	store_session_put(struct txn *t, const struct web_session *s);
/*
 * Makes room for a new session of the link of nonce: the sessions that expired at now are
 * deleted; when the link already has per_link sessions, its oldest go. 0 (room made),
 * STORE_NOTFOUND (max sessions live already: no room, nothing written but the deletions)
 * or -1. max is lowered to one session per SESSION_MAP_SHARE bytes of the map, so that
 * sessions alone can never fill the database.
 */
#define SESSION_MAP_SHARE	8192
int	store_session_admit(struct txn *t, const unsigned char nonce[SESSION_NONCE_LEN],
	    time_t now, size_t per_link, size_t max);
/* Deletes the sessions that expired at now (or cannot be read), at most max of them.
 * 0 or -1. */
int	store_session_sweep(struct txn *t, time_t now, size_t max);
/* Whether a link's flow completed: 0 (spent), STORE_NOTFOUND or -1. */
int	store_nonce_spent(struct txn *t, const unsigned char nonce[SESSION_NONCE_LEN]);
/* Marks a link's nonce spent by person at `at` (unix seconds). 0 or -1. */
int	store_nonce_spend(struct txn *t, const unsigned char nonce[SESSION_NONCE_LEN],
	    uint64_t person, int64_t at);

#endif
