/*
 * records.c — the records and their indexes: accounts, people, the person -> accounts index
 * (pacct), history and team names; and the typed record walks that the
 * store_*_each functions share.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_p.h"

/* ---- records of a kind: read, decode, walk ---- */

static const struct {
	const char	*name;		/* in messages: "undecodable account record" */
	int		 dbi;		/* where the records live */
	const char	*index;		/* the index that names them, for messages */
} rec_kinds[] = {
	[REC_ACCOUNT] = { "account", DB_ACCOUNTS, "person index" },
	[REC_PERSON] = { "person", DB_PEOPLE, "people index" },
	[REC_PROMPT] = { "prompt", DB_OUTBOX, "outbox index" },
};

/* Decodes v into out (a struct of kind's type), or says which record is damaged. */
static int
rec_decode(struct txn *t, enum st_rec kind, const MDB_val *v, void *out)
{
	int rc = -1;

	switch (kind) {
	case REC_ACCOUNT:
		rc = codec_account_decode(v->mv_data, v->mv_size, out);
		break;
	case REC_PERSON:
		rc = codec_person_decode(v->mv_data, v->mv_size, out);
		break;
	case REC_PROMPT:
		rc = codec_prompt_decode(v->mv_data, v->mv_size, out);
		break;
	}
	return rc < 0 ? st_failf(t->s, "undecodable %s record", rec_kinds[kind].name) : 0;
}

/* Reads the raw record under key k: 0, STORE_NOTFOUND or -1. */
static int
rec_read(struct txn *t, enum st_rec kind, MDB_val *k, MDB_val *v)
{
	int rc = mdb_get(t->txn, t->s->dbi[rec_kinds[kind].dbi], k, v);

	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc != 0)
		return st_failf(t->s, "read %s: %s", rec_kinds[kind].name, mdb_strerror(rc));
	return 0;
}

int
st_rec_get(struct txn *t, enum st_rec kind, const void *key, size_t klen, void *out)
{
	MDB_val k = val_of(key, klen), v;
	int rc = rec_read(t, kind, &k, &v);

	return rc != 0 ? rc : rec_decode(t, kind, &v, out);
}

int
st_put_id(struct txn *t, int dbi, uint64_t id, const struct buf *val, int append,
    const char *what)
{
	unsigned char b[8];
	MDB_val k = st_id_key(b, id), v = val_of(val->p, val->len);
	int rc;

	rc = mdb_put(t->txn, t->s->dbi[dbi], &k, &v, append ? MDB_APPEND : 0);
	if (rc == MDB_KEYEXIST && append)
		rc = mdb_put(t->txn, t->s->dbi[dbi], &k, &v, 0);
	return rc ? st_fail(t->s, what, rc) : 0;
}

int
st_put_in_order(struct txn *t, int dbi, MDB_val *k, MDB_val *v)
{
	int rc = MDB_KEYEXIST;

	if (!(t->noappend & (1u << dbi)) &&
	    (rc = mdb_put(t->txn, t->s->dbi[dbi], k, v, MDB_APPEND)) == MDB_KEYEXIST)
		t->noappend |= 1u << dbi;
	if (rc == MDB_KEYEXIST)
		rc = mdb_put(t->txn, t->s->dbi[dbi], k, v, 0);
	return rc;
}

/* Decodes one record and hands it to the walk's callback. */
static int
rec_visit(struct st_walk *w, const MDB_val *v)
{
	union {
		struct account	a;
		struct person	p;
		struct prompt	q;
	} r;
	int rc;

	if (rec_decode(w->t, w->kind, v, &r) < 0)
		return -1;
	switch (w->kind) {
	case REC_ACCOUNT:
		rc = w->cb.account(&r.a, w->arg);
		account_free(&r.a);
		break;
	case REC_PERSON:
		rc = w->cb.person(&r.p, w->arg);
		person_free(&r.p);
		break;
	default:
		rc = w->cb.prompt(&r.q, w->arg);
		prompt_free(&r.q);
		break;
	}
	return rc;
}

static int
walk_record_cb(MDB_val *k, MDB_val *v, void *arg)
{
	(void)k;
	return rec_visit(arg, v);
}

static int
walk_index_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct st_walk *w = arg;
	MDB_val rk, rv;
	int rc;

	(void)v;
	if (k->mv_size <= 8 || (w->keylen && k->mv_size != w->keylen))
		return 0;
	rk = val_of((char *)k->mv_data + 8, k->mv_size - 8);
	rc = rec_read(w->t, w->kind, &rk, &rv);
	if (rc == STORE_NOTFOUND)
		return st_failf(w->t->s, "%s names a missing %s (run 'peoplesync db verify')",
		    rec_kinds[w->kind].index, rec_kinds[w->kind].name);
	return rc < 0 ? -1 : rec_visit(w, &rv);
}

int
st_walk_records(struct st_walk *w, int dbi, const void *prefix, size_t plen)
{
	return st_each(w->t, dbi, prefix, plen, walk_record_cb, w);
}

int
st_walk_index(struct st_walk *w, int dbi, const void *prefix, size_t plen)
{
	return st_each(w->t, dbi, prefix, plen, walk_index_cb, w);
}

/* ---- accounts ---- */

int
st_account_key(struct buf *k, enum platform p, const char *team, const char *user)
{
	size_t tl = strlen(team), ul = strlen(user);

	buf_reset(k);
	if (tl + ul + 2 > KEY_MAX || memchr(team, 0, tl) || tl == 0 || ul == 0)
		return -1;
	buf_addc(k, (char)('0' + p));
	buf_add(k, team, tl);
	buf_addc(k, '\0');
	buf_add(k, user, ul);
	return 0;
}

void
st_pacct_key(struct buf *pk, uint64_t person, const struct buf *akey)
{
	unsigned char b[8];

	put_be64(b, person);
	buf_reset(pk);
	buf_add(pk, b, 8);
	buf_add(pk, akey->p, akey->len);
}

int
st_account_write(struct txn *t, int dbi, const struct buf *key, const struct account *a,
    const char *what)
{
	struct buf *val = st_tmp(t, TMP_VAL);
	MDB_val k = val_of(key->p, key->len), v;
	int rc;

	codec_account_encode(a, val);
	v = val_of(val->p, val->len);
	rc = st_put_in_order(t, dbi, &k, &v);
	return rc ? st_fail(t->s, what, rc) : 0;
}

int
store_account_get(struct txn *t, enum platform p, const char *team, const char *user,
    struct account *out)
{
	struct buf key = { 0 };
	int rc = STORE_NOTFOUND;

	if (st_account_key(&key, p, team, user) == 0)
		rc = st_rec_get(t, REC_ACCOUNT, key.p, key.len, out);
	buf_free(&key);
	return rc;
}

/* Adds (link) or removes the pacct entry of person -> account key. */
static int
pacct_set(struct txn *t, uint64_t person, const struct buf *akey, int link)
{
	struct buf *pk = st_tmp(t, TMP_KEY2);
	MDB_val k, v = val_of("", 0);
	int rc;

	st_pacct_key(pk, person, akey);
	k = val_of(pk->p, pk->len);
	if (link)
		rc = st_put_in_order(t, DB_PACCT, &k, &v);
	else if ((rc = mdb_del(t->txn, t->s->dbi[DB_PACCT], &k, NULL)) == MDB_NOTFOUND)
		rc = 0;
	return rc ? st_fail(t->s, link ? "link account" : "unlink account", rc) : 0;
}

int
store_account_put(struct txn *t, struct account *a, uint64_t old_person)
{
	struct buf *key = st_tmp(t, TMP_KEY);
	int ret = -1;

	if (st_account_key(key, a->platform, a->team_id, a->user_id) < 0) {
		st_failf(t->s, "account id too long or empty: %s:%s", platform_name(a->platform),
		    a->user_id);
		goto out;
	}
	a->version++;
	if (st_account_write(t, DB_ACCOUNTS, key, a, "write account") < 0)
		goto out;
	t->writes++;
	if (old_person != a->person_id && old_person != 0 &&
	    pacct_set(t, old_person, key, 0) < 0)
		goto out;
	if (a->person_id != 0 && old_person != a->person_id &&
	    pacct_set(t, a->person_id, key, 1) < 0)
		goto out;
	ret = 0;
out:
	return ret;
}

int
store_account_each(struct txn *t, int p, store_account_cb cb, void *arg)
{
	struct st_walk w = { .t = t, .kind = REC_ACCOUNT, .cb.account = cb, .arg = arg };
	char prefix = (char)('0' + p);

	return st_walk_records(&w, DB_ACCOUNTS, &prefix, p < 0 ? 0 : 1);
}

/* ---- people ---- */

int
store_person_get(struct txn *t, uint64_t id, struct person *out)
{
	unsigned char b[8];

	put_be64(b, id);
	return st_rec_get(t, REC_PERSON, b, 8, out);
}

int
store_person_put(struct txn *t, struct person *p)
{
	struct buf *val = st_tmp(t, TMP_VAL);
	struct person old;
	int append = 0, rc, had = 0;

	memset(&old, 0, sizeof(old));
	if (p->id != 0) {
		/* the stored record's index entries are the ones to move */
		if ((rc = store_person_get(t, p->id, &old)) < 0)
			return -1;
		had = rc == 0;
	} else {
		/* the counter is read once per txn and written at commit */
		if (!t->person_loaded && st_meta_get_u64(t, "last_person_id", &t->last_person) < 0)
			return -1;
		t->person_loaded = 1;
		p->id = ++t->last_person;
		t->person_dirty = 1;
		append = 1;	/* ids only grow: appends keep the tree packed */
	}
	p->version++;
	codec_person_encode(p, val);
	rc = st_put_id(t, DB_PEOPLE, p->id, val, append, "write person");
	if (rc == 0)
		t->writes++;
	if (rc == 0)
		rc = st_pidx_update(t, had ? &old : NULL, p);
	person_free(&old);
	return rc;
}

int
store_person_each(struct txn *t, store_person_cb cb, void *arg)
{
	struct st_walk w = { .t = t, .kind = REC_PERSON, .cb.person = cb, .arg = arg };

	return st_walk_records(&w, DB_PEOPLE, NULL, 0);
}

int
store_person_accounts(struct txn *t, uint64_t id, store_account_cb cb, void *arg)
{
	struct st_walk w = { .t = t, .kind = REC_ACCOUNT, .cb.account = cb, .arg = arg };
	unsigned char b[8];

	put_be64(b, id);
	return st_walk_index(&w, DB_PACCT, b, 8);
}

int
store_person_del(struct txn *t, uint64_t id)
{
	unsigned char b[8];
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	struct person old;

	if ((rc = store_person_get(t, id, &old)) < 0)
		return -1;
	if (rc == 0) {
		rc = st_pidx_update(t, &old, NULL);
		person_free(&old);
		if (rc < 0)
			return -1;
	}
	k = st_id_key(b, id);
	rc = mdb_del(t->txn, t->s->dbi[DB_PEOPLE], &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_fail(t->s, "delete person", rc);
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_HISTORY], &c)) != 0)
		return st_fail(t->s, "history cursor", rc);
	for (;;) {
		/* re-seek after each delete rather than rely on cursor position rules */
		k = val_of(b, 8);
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc != 0 || k.mv_size != 16 || memcmp(k.mv_data, b, 8) != 0)
			break;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_fail(t->s, "delete history", rc);
	t->writes++;
	return 0;
}

/* ---- history ---- */

/* The next sequence number of a person's history, and whether its entry goes at the end. */
static int
history_next(struct txn *t, uint64_t person_id, uint64_t *seq, unsigned *flags)
{
	unsigned char kb[16];
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	*seq = 1;
	*flags = 0;
	/* this txn appended the last key: no need to look */
	if (t->hist_tail != 0 && person_id >= t->hist_tail) {
		*seq = person_id == t->hist_tail ? t->hist_seq + 1 : 1;
		*flags = MDB_APPEND;
		return 0;
	}
	/* one past the last key with its prefix */
	put_be64(kb, person_id + 1);
	memset(kb + 8, 0, 8);
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_HISTORY], &c)) != 0)
		return st_fail(t->s, "history cursor", rc);
	/* the common case of a new person: everything in history is an older person's, and
	 * the entry is appended at the end */
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 16 && get_be64(k.mv_data) < person_id) {
		*flags = MDB_APPEND;
	} else if (rc == 0) {
		k = val_of(kb, 16);
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		rc = rc == 0 ? mdb_cursor_get(c, &k, &v, MDB_PREV) :
		    mdb_cursor_get(c, &k, &v, MDB_LAST);
		if (rc == 0 && k.mv_size == 16 && get_be64(k.mv_data) == person_id)
			*seq = get_be64((unsigned char *)k.mv_data + 8) + 1;
	}
	mdb_cursor_close(c);
	return 0;
}

int
store_history_add(struct txn *t, uint64_t person_id, int64_t ts, const char *kind,
    const char *fmt, ...)
{
	struct buf *text = st_tmp(t, TMP_TEXT), *val = st_tmp(t, TMP_VAL);
	unsigned char kb[16];
	MDB_val k, v;
	uint64_t seq;
	unsigned flags;
	va_list ap;
	int rc;

	if (history_next(t, person_id, &seq, &flags) < 0)
		return -1;
	va_start(ap, fmt);
	buf_vprintf(text, fmt, ap);
	va_end(ap);
	put_be64(kb, person_id);
	put_be64(kb + 8, seq);
	codec_history_encode(ts, kind, text->p ? text->p : "", val);
	k = val_of(kb, 16);
	v = val_of(val->p, val->len);
	rc = mdb_put(t->txn, t->s->dbi[DB_HISTORY], &k, &v, flags);
	if (rc == 0 && (flags & MDB_APPEND)) {
		t->hist_tail = person_id;
		t->hist_seq = seq;
	}
	return rc ? st_fail(t->s, "write history", rc) : 0;
}

struct hist_each {
	store_history_cb	 cb;
	void			*arg;
};

static int
hist_each_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct hist_each *e = arg;
	struct history h;
	int r;

	(void)k;
	if (codec_history_decode(v->mv_data, v->mv_size, &h.ts, &h.kind, &h.text) < 0)
		return 0;		/* skip what we cannot read: history is informative */
	r = e->cb(&h, e->arg);
	free(h.kind);
	free(h.text);
	return r;
}

int
store_history_each(struct txn *t, uint64_t person_id, store_history_cb cb, void *arg)
{
	struct hist_each e = { cb, arg };
	unsigned char b[8];

	put_be64(b, person_id);
	return st_each(t, DB_HISTORY, b, 8, hist_each_cb, &e);
}

/* ---- teams ---- */

/* platform byte, team id; -1 when too long to be a key */
static int
team_key(struct buf *key, enum platform p, const char *team)
{
	buf_addc(key, (char)('0' + p));
	buf_adds(key, team);
	return key->len > KEY_MAX ? -1 : 0;
}

/*
 * A team record: TEAM_REC, fetched_at (8 bytes big-endian), the instance + 1 (4 bytes
 * big-endian, 0: unknown), flags (1 byte: 1 = the config's name), then the name. An older
 * record is the bare name (text never starts with the byte TEAM_REC).
 */
#define TEAM_REC	0x01
#define TEAM_HEAD	14

int
store_team_put(struct txn *t, enum platform p, const char *team, const struct team_rec *r)
{
	struct buf key = { 0 }, val = { 0 };
	unsigned char head[TEAM_HEAD];
	uint32_t inst = r->inst >= 0 ? (uint32_t)r->inst + 1 : 0;
	MDB_val k, v;
	int rc = 0;

	head[0] = TEAM_REC;
	put_be64(head + 1, (uint64_t)r->fetched_at);
	for (int i = 0; i < 4; i++)
		head[9 + i] = (unsigned char)(inst >> (24 - 8 * i));
	head[13] = r->from_config ? 1 : 0;
	buf_add(&val, head, sizeof(head));
	if (r->name != NULL)
		buf_adds(&val, r->name);
	if (team_key(&key, p, team) == 0) {
		k = val_of(key.p, key.len);
		v = val_of(val.p, val.len);
		rc = mdb_put(t->txn, t->s->dbi[DB_TEAMS], &k, &v, 0);
	}
	buf_free(&key);
	buf_free(&val);
	return rc ? st_fail(t->s, "write team", rc) : 0;
}

static void
team_decode(const unsigned char *d, size_t n, struct team_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->inst = -1;
	if (n >= TEAM_HEAD && d[0] == TEAM_REC) {
		uint32_t inst = 0;

		r->fetched_at = (int64_t)get_be64(d + 1);
		for (int i = 0; i < 4; i++)
			inst = inst << 8 | d[9 + i];
		r->inst = (int)inst - 1;
		r->from_config = d[13] & 1;
		d += TEAM_HEAD;
		n -= TEAM_HEAD;
	}
	r->name = n > 0 ? xstrndup((const char *)d, n) : NULL;
}

int
store_team_get(struct txn *t, enum platform p, const char *team, struct team_rec *out)
{
	struct buf key = { 0 }, val = { 0 };
	MDB_val k;
	int rc = STORE_NOTFOUND;

	memset(out, 0, sizeof(*out));
	out->inst = -1;
	if (team != NULL && team_key(&key, p, team) == 0) {
		k = val_of(key.p, key.len);
		rc = st_get_into(t, DB_TEAMS, &k, &val, "read team");
	}
	if (rc == 0)
		team_decode((const unsigned char *)val.p, val.len, out);
	buf_free(&key);
	buf_free(&val);
	return rc;
}

void
team_rec_free(struct team_rec *r)
{
	if (r != NULL) {
		free(r->name);
		r->name = NULL;
	}
}

int
store_team_name_get(struct txn *t, enum platform p, const char *team, struct buf *out)
{
	struct team_rec r;
	int rc = store_team_get(t, p, team, &r);

	if (rc == 0 && r.name == NULL)
		rc = STORE_NOTFOUND;
	if (rc == 0)
		buf_adds(out, r.name);
	team_rec_free(&r);
	return rc;
}
