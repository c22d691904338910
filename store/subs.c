/*
 * subs.c — subscription records (include/subs.h): the "sub" kv space and its "subp" index
 * by person, the secrets derived from a record's salt, their lines in `db stats` and their
 * checks in `db verify`.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "linktoken.h"
#include "store_p.h"
#include "subs.h"

static const char *const state_names[SUB_STATE_COUNT] = {
	"active", "needs-renewal", "removed", "disabled"
};

void
sub_init(struct sub *s, enum platform p, const char *id, uint64_t person_id, const char *team,
    const char *user, const char *resource, time_t now)
{
	memset(s, 0, sizeof(*s));
	s->platform = p;
	s->id = id ? xstrdup(id) : NULL;
	s->person_id = person_id;
	s->team = team ? xstrdup(team) : NULL;
	s->user = user ? xstrdup(user) : NULL;
	s->resource = resource ? xstrdup(resource) : NULL;
	random_bytes(s->salt, SUB_SALT_LEN);
	s->created = (int64_t)now;
	s->state = SUB_ACTIVE;
}

void
sub_copy(struct sub *dst, const struct sub *src)
{
	*dst = *src;
	dst->id = src->id ? xstrdup(src->id) : NULL;
	dst->team = src->team ? xstrdup(src->team) : NULL;
	dst->user = src->user ? xstrdup(src->user) : NULL;
	dst->resource = src->resource ? xstrdup(src->resource) : NULL;
}

void
sub_free(struct sub *s)
{
	if (s == NULL)
		return;
	free(s->id);
	free(s->team);
	free(s->user);
	free(s->resource);
	memset(s, 0, sizeof(*s));
}

const char *
sub_state_name(int state)
{
	return state >= 0 && state < SUB_STATE_COUNT ? state_names[state] : "?";
}

int
sub_secret(const struct config *cfg, const struct sub *s, char out[SUB_SECRET_LEN + 1])
{
	static const char label[] = "peoplesync sub v1";
	unsigned char msg[sizeof(label) + 1 + SUB_SALT_LEN], mac[32];
	unsigned int maclen = 0;
	struct buf b = { 0 };
	int rc = -1;

	out[0] = '\0';
	if (cfg->token_key == NULL || cfg->token_key_len < 32)
		return -1;
	memcpy(msg, label, sizeof(label));		/* with its NUL: a separator */
	msg[sizeof(label)] = (unsigned char)s->platform;
	memcpy(msg + sizeof(label) + 1, s->salt, SUB_SALT_LEN);
	if (HMAC(EVP_sha256(), cfg->token_key, (int)cfg->token_key_len, msg, sizeof(msg), mac,
	    &maclen) == NULL || maclen != sizeof(mac))
		goto out;
	b64url_encode(&b, mac, sizeof(mac));
	if (b.len != SUB_SECRET_LEN)
		goto out;
	memcpy(out, b.p, SUB_SECRET_LEN + 1);
	rc = 0;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	if (b.p)
		OPENSSL_cleanse(b.p, b.len);
	buf_free(&b);
	return rc;
}

/* ---- keys ---- */

/* The "sub" key of (p, id): platform byte, id; -1 when id is empty or too long. */
static int
sub_key(struct buf *k, enum platform p, const char *id)
{
	size_t n = id ? strlen(id) : 0;

	buf_reset(k);
	if (n == 0 || n > SUB_ID_MAX || (unsigned)p >= PLAT_COUNT)
		return -1;
	buf_addc(k, (char)p);
	buf_add(k, id, n);
	return 0;
}

/* The kv prefix of a space (its name and NUL), then extra bytes. */
static void
space_prefix(struct buf *k, const char *space, const void *extra, size_t n)
{
	buf_reset(k);
	buf_adds(k, space);
	buf_addc(k, '\0');
	if (n)
		buf_add(k, extra, n);
}

/* ---- records ---- */

/* Reads the record under skey: 0, STORE_NOTFOUND or -1 (undecodable is -1, named). */
static int
sub_read(struct txn *t, const struct buf *skey, struct sub *out)
{
	struct buf v = { 0 };
	int rc = store_kv_get(t, STORE_KV_SUB, skey->p, skey->len, &v);

	memset(out, 0, sizeof(*out));
	if (rc == 0 && codec_sub_decode(v.p, v.len, out) < 0)
		rc = st_failf(t->s, "%s: subscription %s:%.*s: undecodable record",
		    STORE_KV_SUB, platform_name((enum platform)(unsigned char)skey->p[0]),
		    (int)skey->len - 1, skey->p + 1);
	buf_free(&v);
	return rc;
}

int
store_sub_put(struct txn *t, const struct sub *s)
{
	struct buf k = { 0 }, pk = { 0 }, v = { 0 };
	struct sub old;
	int rc = -1, had;

	if (sub_key(&k, s->platform, s->id) < 0) {
		st_failf(t->s, "%s: subscription id empty or longer than %d bytes", STORE_KV_SUB,
		    SUB_ID_MAX);
		goto out;
	}
	if ((had = sub_read(t, &k, &old)) < 0)
		goto out;
	if (had == 0 && old.person_id != s->person_id) {
		st_pacct_key(&pk, old.person_id, &k);
		if (store_kv_del(t, STORE_KV_SUBP, pk.p, pk.len) < 0)
			goto out_old;
	}
	codec_sub_encode(s, &v);
	st_pacct_key(&pk, s->person_id, &k);
	if (store_kv_put(t, STORE_KV_SUB, k.p, k.len, v.p, v.len) < 0 ||
	    store_kv_put(t, STORE_KV_SUBP, pk.p, pk.len, "", 0) < 0)
		goto out_old;
	rc = 0;
out_old:
	if (had == 0)
		sub_free(&old);
out:
	buf_free(&k);
	buf_free(&pk);
	buf_free(&v);
	return rc;
}

int
store_sub_get(struct txn *t, enum platform p, const char *id, struct sub *out)
{
	struct buf k = { 0 };
	int rc = STORE_NOTFOUND;

	memset(out, 0, sizeof(*out));
	if (sub_key(&k, p, id) == 0)
		rc = sub_read(t, &k, out);
	buf_free(&k);
	return rc;
}

int
store_sub_del(struct txn *t, enum platform p, const char *id)
{
	struct buf k = { 0 }, pk = { 0 };
	struct sub old;
	int rc = 0, had;

	if (sub_key(&k, p, id) < 0)
		goto out;
	had = sub_read(t, &k, &old);
	if (had == 0) {
		st_pacct_key(&pk, old.person_id, &k);
		rc = store_kv_del(t, STORE_KV_SUBP, pk.p, pk.len);
		sub_free(&old);
	}
	/* an undecodable record goes too: its index entry is left for `db verify` to name */
	if (rc == 0 && had != STORE_NOTFOUND)
		rc = store_kv_del(t, STORE_KV_SUB, k.p, k.len);
out:
	buf_free(&k);
	buf_free(&pk);
	return rc;
}

int
store_sub_mark(struct txn *t, enum platform p, const char *id, enum sub_mark m, time_t now)
{
	struct sub s;
	int rc, state;
	uint32_t flags;

	if ((rc = store_sub_get(t, p, id, &s)) != 0)
		return rc;
	state = s.state;
	flags = s.flags;
	switch (m) {
	case SUB_MARK_REAUTH:
		/* a removed subscription stays removed: renewing it cannot work */
		if (s.state != SUB_REMOVED)
			s.state = SUB_RENEW;
		break;
	case SUB_MARK_REMOVED: s.state = SUB_REMOVED; break;
	case SUB_MARK_MISSED: s.flags |= SUB_F_MISSED; break;
	case SUB_MARK_DISABLED: s.state = SUB_DISABLED; break;
	}
	if (s.state != state || s.flags != flags) {
		s.marked = (int64_t)now;
		rc = store_sub_put(t, &s);
	}
	sub_free(&s);
	return rc;
}

/* ---- walks ---- */

struct sub_walk {
	struct txn	*t;
	store_sub_cb	 cb;
	void		*arg;
	size_t		 plen;		/* the prefix before the "sub" key */
	int		 index;		/* walking "subp": read each record */
};

static int
sub_walk_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct sub_walk *w = arg;
	struct buf skey = { 0 };
	struct sub s;
	int rc;

	if (w->index) {
		buf_add(&skey, (char *)k->mv_data + w->plen, k->mv_size - w->plen);
		rc = skey.len > 1 ? sub_read(w->t, &skey, &s) : STORE_NOTFOUND;
	} else {
		rc = codec_sub_decode(v->mv_data, v->mv_size, &s) < 0 ? -1 : 0;
	}
	buf_free(&skey);
	if (rc != 0) {
		log_warn("store: a subscription record is missing or undecodable "
		    "(run 'peoplesync db verify')");
		return 0;
	}
	rc = w->cb(&s, w->arg);
	sub_free(&s);
	return rc > 0 ? 1 : rc;
}

int
store_sub_each(struct txn *t, int p, store_sub_cb cb, void *arg)
{
	struct buf pre = { 0 };
	char pb = (char)p;
	struct sub_walk w = { t, cb, arg, sizeof(STORE_KV_SUB), 0 };
	int rc;

	space_prefix(&pre, STORE_KV_SUB, &pb, p >= 0 ? 1 : 0);
	rc = st_each(t, DB_KV, pre.p, pre.len, sub_walk_cb, &w);
	buf_free(&pre);
	return rc;
}

int
store_sub_person(struct txn *t, uint64_t person_id, store_sub_cb cb, void *arg)
{
	struct buf pre = { 0 };
	unsigned char b[8];
	struct sub_walk w = { t, cb, arg, sizeof(STORE_KV_SUBP) + 8, 1 };
	int rc;

	put_be64(b, person_id);
	space_prefix(&pre, STORE_KV_SUBP, b, 8);
	rc = st_each(t, DB_KV, pre.p, pre.len, sub_walk_cb, &w);
	buf_free(&pre);
	return rc;
}

/* ---- stats and verify ---- */

struct sub_count {
	size_t	 n[PLAT_COUNT][SUB_STATE_COUNT];
	size_t	 missed;
};

static int
count_cb(const struct sub *s, void *arg)
{
	struct sub_count *c = arg;

	if ((unsigned)s->platform < PLAT_COUNT && s->state >= 0 && s->state < SUB_STATE_COUNT)
		c->n[s->platform][s->state]++;
	c->missed += (s->flags & SUB_F_MISSED) != 0;
	return 0;
}

int
st_sub_stats(struct txn *t, FILE *f)
{
	struct sub_count c;
	int p, st;
	size_t total;

	memset(&c, 0, sizeof(c));
	if (store_sub_each(t, -1, count_cb, &c) < 0)
		return -1;
	for (p = 0; p < PLAT_COUNT; p++) {
		for (total = 0, st = 0; st < SUB_STATE_COUNT; st++)
			total += c.n[p][st];
		if (p == PLAT_SLACK && total == 0)
			continue;	/* Slack needs none */
		fprintf(f, "subscriptions  %s %zu", platform_name((enum platform)p), total);
		for (st = 0; st < SUB_STATE_COUNT; st++)
			fprintf(f, ", %s %zu", state_names[st], c.n[p][st]);
		fputc('\n', f);
	}
	if (c.missed)
		fprintf(f, "subscriptions  %zu missed notifications (catch-up pending)\n",
		    c.missed);
	return 0;
}

struct sub_verify {
	struct txn	*t;
	FILE		*f;
	long		 problems;
};

/* Each record: decodable, under its own key, indexed under its person, who exists. */
static int
verify_sub_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct sub_verify *vf = arg;
	struct buf skey = { 0 }, pk = { 0 }, seen = { 0 };
	size_t plen = sizeof(STORE_KV_SUB);
	struct person per;
	struct sub s;

	if (codec_sub_decode(v->mv_data, v->mv_size, &s) < 0) {
		fprintf(vf->f, "sub: undecodable subscription record\n");
		vf->problems++;
		return 0;
	}
	if (sub_key(&skey, s.platform, s.id) < 0 || skey.len != k->mv_size - plen ||
	    memcmp(skey.p, (char *)k->mv_data + plen, skey.len) != 0) {
		fprintf(vf->f, "sub: %s:%s stored under a key that does not match it\n",
		    platform_name(s.platform), s.id);
		vf->problems++;
	}
	st_pacct_key(&pk, s.person_id, &skey);
	if (store_kv_get(vf->t, STORE_KV_SUBP, pk.p, pk.len, &seen) != 0) {
		fprintf(vf->f, "subp: missing entry for person %llu -> %s:%s\n",
		    (unsigned long long)s.person_id, platform_name(s.platform), s.id);
		vf->problems++;
	}
	if (s.person_id && store_person_get(vf->t, s.person_id, &per) == 0)
		person_free(&per);
	else if (s.person_id) {
		fprintf(vf->f, "sub: %s:%s is for person %llu, who does not exist\n",
		    platform_name(s.platform), s.id, (unsigned long long)s.person_id);
		vf->problems++;
	}
	sub_free(&s);
	buf_free(&skey);
	buf_free(&pk);
	buf_free(&seen);
	return 0;
}

/* Each index entry names a record of the same person. */
static int
verify_subp_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct sub_verify *vf = arg;
	size_t plen = sizeof(STORE_KV_SUBP);
	struct buf skey = { 0 };
	uint64_t pid;
	struct sub s;
	int rc;

	(void)v;
	if (k->mv_size < plen + 8 + 2) {
		fprintf(vf->f, "subp: malformed key\n");
		vf->problems++;
		return 0;
	}
	pid = get_be64((unsigned char *)k->mv_data + plen);
	buf_add(&skey, (char *)k->mv_data + plen + 8, k->mv_size - plen - 8);
	rc = sub_read(vf->t, &skey, &s);
	if (rc == 0 && s.person_id != pid)
		fprintf(vf->f, "subp: person %llu lists %s:%s, which is person %llu's\n",
		    (unsigned long long)pid, platform_name(s.platform), s.id,
		    (unsigned long long)s.person_id);
	else if (rc != 0)
		fprintf(vf->f, "subp: person %llu lists a subscription that does not exist\n",
		    (unsigned long long)pid);
	vf->problems += rc != 0 || s.person_id != pid;
	if (rc == 0)
		sub_free(&s);
	buf_free(&skey);
	return 0;
}

long
st_sub_verify(struct txn *t, FILE *f)
{
	struct sub_verify vf = { t, f, 0 };
	struct buf pre = { 0 };
	long rc = -1;

	space_prefix(&pre, STORE_KV_SUB, NULL, 0);
	if (st_each(t, DB_KV, pre.p, pre.len, verify_sub_cb, &vf) < 0)
		goto out;
	space_prefix(&pre, STORE_KV_SUBP, NULL, 0);
	if (st_each(t, DB_KV, pre.p, pre.len, verify_subp_cb, &vf) < 0)
		goto out;
	rc = vf.problems;
out:
	buf_free(&pre);
	return rc;
}
