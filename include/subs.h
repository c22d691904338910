/*
 * subs.h — the event subscriptions peoplesync keeps on the platforms (issue 11), one record
 * each in the store: Graph change-notification subscriptions and Webex webhooks. reconcile/
 * creates, renews, re-activates and deletes them (reconcile/subscriptions.c); serve's
 * receivers look a delivery's subscription up (store_sub_get) to check its secret, and mark
 * it when the platform says something happened to it (store_sub_mark); reconcile acts on
 * the mark at its next run.
 *
 * Storage: kv space "sub", key platform byte | platform id -> record (store/codec.c), and
 * the index kv space "subp", key person id (8 bytes, big-endian) | platform byte | platform
 * id -> "" (a person's subscriptions; tenant-wide ones are under person 0). `db verify`
 * checks the two against each other; `db stats` counts them.
 *
 * The secret the platform signs with (Graph clientState, Webex webhook secret) is never
 * stored: a record holds a random salt (RAND_bytes, SUB_SALT_LEN bytes) and the secret is
 * HMAC-SHA-256 of it under the token key (cfg->token_key, itself from token_key_file or
 * derived from link_key), base64url: sub_secret(). A stolen database alone gives no secret.
 * Changing the token key changes every secret: reconcile then recreates the subscriptions
 * (docs/subscriptions.md).
 *
 * Return values as store.h: 0, STORE_NOTFOUND, -1 with store_error().
 */
#ifndef PS_SUBS_H
#define PS_SUBS_H

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "store.h"

#define STORE_KV_SUB		"sub"
#define STORE_KV_SUBP		"subp"

#define SUB_SALT_LEN		16
#define SUB_SECRET_LEN		43	/* base64url of 32 bytes, no padding */
#define SUB_ID_MAX		300	/* longest platform id accepted as a key */

enum sub_state {
	SUB_ACTIVE = 0,		/* working, as far as we know */
	SUB_RENEW = 1,		/* Graph reauthorizationRequired: renew at the next reconcile */
	SUB_REMOVED = 2,	/* Graph subscriptionRemoved, or found expired/absent: recreate */
	SUB_DISABLED = 3,	/* Webex made it inactive: re-activate (PUT status=active) */
	SUB_STATE_COUNT
};

/* What a receiver (or a reconcile that looked) learnt about a subscription. */
enum sub_mark {
	SUB_MARK_REAUTH,	/* Graph lifecycleEvent reauthorizationRequired -> SUB_RENEW */
	SUB_MARK_REMOVED,	/* Graph lifecycleEvent subscriptionRemoved -> SUB_REMOVED */
	SUB_MARK_MISSED,	/* Graph lifecycleEvent missed: state kept, SUB_F_MISSED set */
	SUB_MARK_DISABLED	/* Webex webhook status inactive -> SUB_DISABLED */
};

#define SUB_F_MISSED	0x1u	/* notifications were lost: catch-up reads this person's DMs */

struct sub {
	enum platform	 platform;	/* PLAT_TEAMS or PLAT_WEBEX (Slack needs none) */
	char		*id;		/* Graph subscription id, Webex webhook id */
	uint64_t	 person_id;	/* the synced person it watches; 0 = tenant-wide */
	char		*team;		/* the watched account (whose token made a Webex */
	char		*user;		/*   webhook): team and user id; NULL when tenant-wide */
	char		*resource;	/* "/users/{id}/chats/getAllMessages", "messages" ... */
	unsigned char	 salt[SUB_SALT_LEN];	/* the secret's salt (see above) */
	int64_t		 created;	/* unix seconds */
	int64_t		 expires;	/* unix seconds; 0 = does not expire (Webex) */
	int64_t		 marked;	/* when the state or a flag last changed; 0 = never */
	int		 state;		/* enum sub_state */
	uint32_t	 flags;		/* SUB_F_* */
};

/* A new record: platform and copies of id, team, user, resource; a fresh random salt;
 * state active, created = now. NULL strings are kept NULL. */
void	sub_init(struct sub *s, enum platform p, const char *id, uint64_t person_id,
	    const char *team, const char *user, const char *resource, time_t now);
/* dst = a deep copy of src (free it with sub_free). */
void	sub_copy(struct sub *dst, const struct sub *src);
/* Frees the strings of s (sub_free(NULL) is fine); s is zeroed. */
void	sub_free(struct sub *s);
/* "active", "needs-renewal", "removed", "disabled" ("?" out of range). */
const char *sub_state_name(int state);

/*
 * The secret of s: out (SUB_SECRET_LEN + 1 bytes) = base64url(HMAC-SHA-256(token key,
 * "peoplesync sub v1" | platform byte | salt)), NUL-terminated. -1 when cfg has no token key
 * (neither token_key_file nor link_key): nothing can be signed then. Never log out.
 */
int	sub_secret(const struct config *cfg, const struct sub *s, char out[SUB_SECRET_LEN + 1]);

/* Writes s (replacing the record of the same platform and id, and moving its index entry
 * when the person changed). -1 when s->id is empty or longer than SUB_ID_MAX. */
int	store_sub_put(struct txn *t, const struct sub *s);
/* The record of (p, id) into *out (caller sub_free()s): 0, STORE_NOTFOUND or -1 (an
 * undecodable record is -1, naming it). */
int	store_sub_get(struct txn *t, enum platform p, const char *id, struct sub *out);
/* Deletes the record and its index entry: 0 (also when absent) or -1. */
int	store_sub_del(struct txn *t, enum platform p, const char *id);
/* Applies a mark to the record of (p, id) at now: 0, STORE_NOTFOUND (not ours) or -1. A
 * mark that changes nothing writes nothing. */
int	store_sub_mark(struct txn *t, enum platform p, const char *id, enum sub_mark m,
	    time_t now);

/* cb returns non-zero to stop; s is valid only during the call. */
typedef int (*store_sub_cb)(const struct sub *s, void *arg);
/* Every record of platform p (all when p < 0), in key order. Undecodable records are
 * skipped with a warning. 0 or -1. */
int	store_sub_each(struct txn *t, int p, store_sub_cb cb, void *arg);
/* The records of a person (0: the tenant-wide ones), through the index. 0 or -1. */
int	store_sub_person(struct txn *t, uint64_t person_id, store_sub_cb cb, void *arg);

#endif
