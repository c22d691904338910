/*
 * prompts.c — the prompt outbox: prompts by id (outbox) and the index of the pending ones by
 * person (outq), kept in step by store_prompt_put.
 */
#include <stdio.h>
#include <string.h>

#include "store_p.h"

int
st_prompt_pending_state(int state)
{
	return state == PQ_QUEUED || state == PQ_SENDING;
}

MDB_val
st_outq_key(unsigned char q[16], uint64_t person, uint64_t prompt)
{
	put_be64(q, person);
	put_be64(q + 8, prompt);
	return val_of(q, 16);
}

int
store_prompt_get(struct txn *t, uint64_t id, struct prompt *out)
{
	unsigned char b[8];

	put_be64(b, id);
	return st_rec_get(t, REC_PROMPT, b, 8, out);
}

/* Whether the stored version of prompt id (if any) is pending; -1 on error. */
static int
prompt_was_pending(struct txn *t, uint64_t id)
{
	struct prompt old;
	int rc = store_prompt_get(t, id, &old);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	rc = st_prompt_pending_state(old.state);
	prompt_free(&old);
	return rc;
}

int
store_prompt_put(struct txn *t, struct prompt *p)
{
	struct buf val = { 0 };
	unsigned char q[16];
	int was_pending = 0, append = 0, rc;
	MDB_val k, v = val_of("", 0);

	if (p->id == 0) {
		uint64_t last;
		if (st_meta_get_u64(t, "last_prompt_id", &last) < 0 ||
		    st_meta_add_u64(t, "last_prompt_id", 1) < 0)
			return -1;
		p->id = last + 1;
		append = 1;
	} else if ((was_pending = prompt_was_pending(t, p->id)) < 0) {
		return -1;
	}
	p->version++;
	codec_prompt_encode(p, &val);
	rc = st_put_id(t, DB_OUTBOX, p->id, &val, append, "write prompt");
	buf_free(&val);
	if (rc < 0)
		return -1;
	k = st_outq_key(q, p->person_id, p->id);
	if (st_prompt_pending_state(p->state) && !was_pending) {
		rc = mdb_put(t->txn, t->s->dbi[DB_OUTQ], &k, &v, 0);
	} else if (!st_prompt_pending_state(p->state) && was_pending) {
		rc = mdb_del(t->txn, t->s->dbi[DB_OUTQ], &k, NULL);
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	return rc ? st_fail(t->s, "prompt index", rc) : 0;
}

int
store_prompt_each(struct txn *t, int pending_only, store_prompt_cb cb, void *arg)
{
	struct st_walk w = { .t = t, .kind = REC_PROMPT, .cb.prompt = cb, .arg = arg,
	    .keylen = 16 };

	if (pending_only)
		return st_walk_index(&w, DB_OUTQ, NULL, 0);
	return st_walk_records(&w, DB_OUTBOX, NULL, 0);
}

struct first_pending {
	uint64_t	id;
	int		found;
};

static int
first_pending_cb(MDB_val *k, MDB_val *v, void *arg)
{
	struct first_pending *fp = arg;

	(void)v;
	fp->id = get_be64((unsigned char *)k->mv_data + 8);
	fp->found = 1;
	return 1;
}

int
store_prompt_pending(struct txn *t, uint64_t person_id, uint64_t *prompt_id)
{
	struct first_pending fp = { 0, 0 };
	unsigned char b[8];

	put_be64(b, person_id);
	if (st_each(t, DB_OUTQ, b, 8, first_pending_cb, &fp) < 0)
		return -1;
	if (!fp.found)
		return STORE_NOTFOUND;
	*prompt_id = fp.id;
	return 0;
}
