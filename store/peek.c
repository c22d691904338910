/*
 * peek.c — people read in place for the admin console's searches and sorts (include/store.h,
 * "people read in place"): a cursor over the people records decoded without a copy
 * (codec_person_view), one person the same way, and the people behind a user id found from
 * the accounts' keys (platform, team id, NUL, user id) without decoding the others.
 */
#include <string.h>
#include <strings.h>

#include "store_p.h"

/* The walks of this file: the people read in place (view), or the accounts of user id uid
 * (len bytes) whose people go to id. */
struct peek {
	struct txn		*t;
	store_person_view_cb	 view;
	store_id_cb		 id;
	const char		*uid;
	size_t			 len;
	void			*arg;
};

static int
view_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct person_view pv;
	struct peek *w = arg;

	if (codec_person_view(v->mv_data, v->mv_size, &pv) < 0)
		return st_failf(w->t->s, "undecodable person record %llu (run 'peoplesync db "
		    "verify')", (unsigned long long)(k->mv_size == 8 ? get_be64(k->mv_data) : 0));
	return w->view(&pv, w->arg);
}

int
store_person_view_each(struct txn *t, store_person_view_cb cb, void *arg)
{
	struct peek w = { .t = t, .view = cb, .arg = arg };

	return st_each(t, DB_PEOPLE, NULL, 0, view_cb, &w);
}

int
store_person_view_get(struct txn *t, uint64_t id, struct person_view *pv)
{
	unsigned char b[8];
	MDB_val k = st_id_key(b, id), v;
	int rc = mdb_get(t->txn, t->s->dbi[DB_PEOPLE], &k, &v);

	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc != 0)
		return st_fail(t->s, "read person", rc);
	if (codec_person_view(v.mv_data, v.mv_size, pv) < 0)
		return st_failf(t->s, "undecodable person record %llu (run 'peoplesync db "
		    "verify')", (unsigned long long)id);
	return 0;
}

static int
uid_cb(MDB_val *k, MDB_val *v, void *arg)
{
	const char *key = k->mv_data, *nul;
	struct peek *w = arg;
	struct account a;
	int r = 0;

	/* the user id: after the NUL that ends the team id */
	if (k->mv_size < 2 + w->len || key[k->mv_size - w->len - 1] != '\0' ||
	    strncasecmp(key + k->mv_size - w->len, w->uid, w->len) != 0)
		return 0;
	nul = memchr(key + 1, '\0', k->mv_size - 1);
	if (nul != key + k->mv_size - w->len - 1)
		return 0;		/* the NUL found is not the first one */
	if (codec_account_decode(v->mv_data, v->mv_size, &a) < 0)
		return st_failf(w->t->s, "undecodable account record (run 'peoplesync db "
		    "verify')");
	if (a.person_id != 0)
		r = w->id(a.person_id, w->arg);
	account_free(&a);
	return r;
}

int
store_account_user_people(struct txn *t, const char *uid, store_id_cb cb, void *arg)
{
	struct peek w = { .t = t, .id = cb, .uid = uid, .len = strlen(uid), .arg = arg };

	if (w.len == 0 || memchr(uid, '\0', w.len) != NULL)
		return 0;
	return st_each(t, DB_ACCOUNTS, NULL, 0, uid_cb, &w);
}
