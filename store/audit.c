/*
 * audit.c — the audit list of admin actions (include/store.h, "audit"): entries keyed by a
 * sequence number that only grows (8 bytes, big-endian), each holding the time, the person
 * acted on, the admin's address, the action and its text.
 * Value: ts (8 bytes), person (8 bytes), admin NUL action NUL text.
 */
#include <stdlib.h>
#include <string.h>

#include "store_p.h"

int
store_audit_add(struct txn *t, int64_t ts, const char *admin, const char *action,
    uint64_t person, const char *text)
{
	struct buf val = { 0 };
	unsigned char b[8];
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t seq = 1;
	int rc;

	if (t->s->absent[DB_AUDIT])
		return st_failf(t->s, "no audit list: opened read-only");
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_AUDIT], &c)) != 0)
		return st_fail(t->s, "audit cursor", rc);
	if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
		seq = get_be64(k.mv_data) + 1;
	mdb_cursor_close(c);
	put_be64(b, (uint64_t)ts);
	buf_add(&val, b, 8);
	put_be64(b, person);
	buf_add(&val, b, 8);
	buf_add(&val, admin, strlen(admin) + 1);
	buf_add(&val, action, strlen(action) + 1);
	buf_adds(&val, text ? text : "");
	rc = st_put_id(t, DB_AUDIT, seq, &val, 1, "write audit list");
	buf_free(&val);
	return rc;
}

/* Decodes one entry into a (its strings point into v). 0 or -1 (malformed). */
static int
audit_decode(const MDB_val *k, const MDB_val *v, struct audit *a, struct buf *tmp)
{
	const char *p = (const char *)v->mv_data + 16, *end = (const char *)v->mv_data + v->mv_size;
	const char *z1, *z2;

	if (k->mv_size != 8 || v->mv_size < 18 ||
	    (z1 = memchr(p, '\0', (size_t)(end - p))) == NULL ||
	    (z2 = memchr(z1 + 1, '\0', (size_t)(end - z1 - 1))) == NULL)
		return -1;
	buf_reset(tmp);
	buf_add(tmp, v->mv_data, v->mv_size);	/* NUL-terminates the text */
	a->seq = get_be64(k->mv_data);
	a->ts = (int64_t)get_be64((const unsigned char *)v->mv_data);
	a->person = get_be64((const unsigned char *)v->mv_data + 8);
	a->admin = tmp->p + 16;
	a->action = tmp->p + (z1 + 1 - (const char *)v->mv_data);
	a->text = tmp->p + (z2 + 1 - (const char *)v->mv_data);
	return 0;
}

int
store_audit_each(struct txn *t, int newest_first, size_t max, store_audit_cb cb, void *arg)
{
	struct buf tmp = { 0 };
	struct audit a;
	MDB_cursor *c;
	MDB_val k, v;
	int rc, r = 0;

	if (t->s->absent[DB_AUDIT])
		return 0;
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_AUDIT], &c)) != 0)
		return st_fail(t->s, "audit cursor", rc);
	for (rc = mdb_cursor_get(c, &k, &v, newest_first ? MDB_LAST : MDB_FIRST);
	    rc == 0 && r == 0 && max > 0;
	    rc = mdb_cursor_get(c, &k, &v, newest_first ? MDB_PREV : MDB_NEXT)) {
		if (audit_decode(&k, &v, &a, &tmp) < 0)
			continue;	/* informative: skip what cannot be read */
		max--;
		r = cb(&a, arg);
	}
	mdb_cursor_close(c);
	buf_free(&tmp);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_fail(t->s, "read audit list", rc);
	return r < 0 ? -1 : 0;
}
