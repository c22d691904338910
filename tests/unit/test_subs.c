/* Unit tests of store/subs.c: subscription records, their index by person, marks, secrets,
 * `db verify` over them, and the record codec against hostile bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../store/store_p.h"
#include "store_fixture.h"
#include "subs.h"

/* A person with one account, so that verify has someone for the records to point to. */
static uint64_t
mk_person(struct txn *t, const char *user)
{
	struct person p;
	struct account a;
	uint64_t id;

	memset(&p, 0, sizeof(p));
	p.email = strdup("x@corp.com");
	p.flags = PERSON_CONFLICT;	/* keeps verify from asking for the email index */
	p.active = 1;
	assert_int_equal(store_person_put(t, &p), 0);
	memset(&a, 0, sizeof(a));
	a.platform = PLAT_WEBEX;
	a.team_id = strdup("org");
	a.user_id = strdup(user);
	a.person_id = p.id;
	assert_int_equal(store_account_put(t, &a, 0), 0);
	account_free(&a);
	id = p.id;
	person_free(&p);
	return id;
}

static int
collect_cb(const struct sub *s, void *arg)
{
	struct buf *b = arg;

	buf_printf(b, "%s:%s:%s;", platform_name(s->platform), s->id, sub_state_name(s->state));
	return 0;
}

static void
test_roundtrip_and_index(void **state)
{
	struct fx *f = *state;
	struct txn *t = store_begin(f->st, 1);
	struct sub s, g;
	struct buf b = { 0 };
	uint64_t p1 = mk_person(t, "w1"), p2 = mk_person(t, "w2");

	sub_init(&s, PLAT_WEBEX, "Y2lzY29zcGFyazovL3VzL1dFQkhPT0svOTZhYmMyYWEt", p1, "org",
	    "w1", "messages", 1700000000);
	assert_int_equal(store_sub_put(t, &s), 0);
	assert_int_equal(store_sub_get(t, PLAT_WEBEX, s.id, &g), 0);
	assert_string_equal(g.id, s.id);
	assert_string_equal(g.team, "org");
	assert_string_equal(g.user, "w1");
	assert_string_equal(g.resource, "messages");
	assert_memory_equal(g.salt, s.salt, SUB_SALT_LEN);
	assert_int_equal(g.person_id, p1);
	assert_int_equal(g.created, 1700000000);
	sub_free(&g);
	assert_int_equal(store_sub_get(t, PLAT_TEAMS, s.id, &g), STORE_NOTFOUND);
	/* the person changes: the index follows */
	s.person_id = p2;
	assert_int_equal(store_sub_put(t, &s), 0);
	assert_int_equal(store_sub_person(t, p1, collect_cb, &b), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(store_sub_person(t, p2, collect_cb, &b), 0);
	assert_non_null(strstr(b.p, "webex:Y2lz"));
	buf_reset(&b);
	assert_int_equal(store_sub_each(t, PLAT_TEAMS, collect_cb, &b), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(store_sub_each(t, -1, collect_cb, &b), 0);
	assert_true(b.len > 0);
	assert_int_equal(store_commit(t), 0);
	assert_int_equal(store_verify(f->st, stderr), 0);
	t = store_begin(f->st, 1);
	assert_int_equal(store_sub_del(t, PLAT_WEBEX, s.id), 0);
	assert_int_equal(store_sub_del(t, PLAT_WEBEX, s.id), 0);
	assert_int_equal(store_sub_get(t, PLAT_WEBEX, s.id, &g), STORE_NOTFOUND);
	buf_reset(&b);
	assert_int_equal(store_sub_person(t, p2, collect_cb, &b), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(store_commit(t), 0);
	sub_free(&s);
	buf_free(&b);
}

static void
test_marks(void **state)
{
	struct fx *f = *state;
	struct txn *t = store_begin(f->st, 1);
	struct sub s, g;

	sub_init(&s, PLAT_TEAMS, "7f105c7d-2dc5-4530-97cd-4e7ae6534c07", 0, NULL, NULL,
	    "/chats/getAllMessages", 100);
	assert_int_equal(store_sub_put(t, &s), 0);
	assert_int_equal(store_sub_mark(t, PLAT_TEAMS, "nope", SUB_MARK_REMOVED, 200),
	    STORE_NOTFOUND);
	assert_int_equal(store_sub_mark(t, PLAT_TEAMS, s.id, SUB_MARK_REAUTH, 200), 0);
	assert_int_equal(store_sub_get(t, PLAT_TEAMS, s.id, &g), 0);
	assert_int_equal(g.state, SUB_RENEW);
	assert_int_equal(g.marked, 200);
	sub_free(&g);
	assert_int_equal(store_sub_mark(t, PLAT_TEAMS, s.id, SUB_MARK_MISSED, 300), 0);
	assert_int_equal(store_sub_mark(t, PLAT_TEAMS, s.id, SUB_MARK_REMOVED, 400), 0);
	/* a removed one is not brought back to "renew" by a late reauthorization notice */
	assert_int_equal(store_sub_mark(t, PLAT_TEAMS, s.id, SUB_MARK_REAUTH, 500), 0);
	assert_int_equal(store_sub_get(t, PLAT_TEAMS, s.id, &g), 0);
	assert_int_equal(g.state, SUB_REMOVED);
	assert_true(g.flags & SUB_F_MISSED);
	assert_int_equal(g.marked, 400);
	assert_string_equal(sub_state_name(g.state), "removed");
	sub_free(&g);
	assert_int_equal(store_commit(t), 0);
	sub_free(&s);
}

static void
test_secret(void **state)
{
	struct config cfg;
	unsigned char key[32];
	struct sub a, b;
	char sa[SUB_SECRET_LEN + 1], sa2[SUB_SECRET_LEN + 1], sb[SUB_SECRET_LEN + 1];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(key, 7, sizeof(key));
	sub_init(&a, PLAT_WEBEX, "w", 1, NULL, NULL, NULL, 0);
	sub_init(&b, PLAT_WEBEX, "w", 1, NULL, NULL, NULL, 0);
	assert_int_equal(sub_secret(&cfg, &a, sa), -1);		/* no key: no secret */
	assert_string_equal(sa, "");
	cfg.token_key = key;
	cfg.token_key_len = sizeof(key);
	assert_int_equal(sub_secret(&cfg, &a, sa), 0);
	assert_int_equal(strlen(sa), SUB_SECRET_LEN);
	assert_int_equal(sub_secret(&cfg, &a, sa2), 0);
	assert_string_equal(sa, sa2);				/* stable */
	assert_int_equal(sub_secret(&cfg, &b, sb), 0);
	assert_string_not_equal(sa, sb);			/* per salt */
	key[0] ^= 1;
	assert_int_equal(sub_secret(&cfg, &a, sa2), 0);
	assert_string_not_equal(sa, sa2);			/* per key */
	sub_free(&a);
	sub_free(&b);
}

static void
test_verify_index(void **state)
{
	struct fx *f = *state;
	struct txn *t = store_begin(f->st, 1);
	struct sub s;
	unsigned char pk[8 + 1 + 5];
	FILE *out = tmpfile();

	sub_init(&s, PLAT_WEBEX, "hook1", 77, "org", "w", "messages", 1); /* no person 77 */
	assert_int_equal(store_sub_put(t, &s), 0);
	put_be64(pk, 5);
	pk[8] = PLAT_WEBEX;
	memcpy(pk + 9, "ghost", 5);				/* index entry, no record */
	assert_int_equal(store_kv_put(t, STORE_KV_SUBP, pk, sizeof(pk), "", 0), 0);
	assert_int_equal(store_commit(t), 0);
	assert_int_equal(store_verify(f->st, out), 2);
	t = store_begin(f->st, 1);
	put_be64(pk, 77);
	memcpy(pk + 9, "hook1", 5);
	assert_int_equal(store_kv_del(t, STORE_KV_SUBP, pk, sizeof(pk)), 0);
	assert_int_equal(store_commit(t), 0);
	assert_int_equal(store_verify(f->st, out), 3);		/* and now it is unindexed */
	fclose(out);
	sub_free(&s);
}

/* Every prefix and every one-byte change of a valid record decodes or fails cleanly; what
 * decodes has an id and a salt and encodes again to something that decodes the same. */
static void
test_codec_hostile(void **state)
{
	struct sub s, d, d2;
	struct buf enc = { 0 }, re = { 0 };
	unsigned char m[512];
	size_t i, n;
	int bit, ok = 0;

	(void)state;
	sub_init(&s, PLAT_TEAMS, "7f105c7d", 3, "tenant", "u", "/users/u/chats/getAllMessages", 9);
	s.expires = -5;
	s.state = SUB_DISABLED;
	codec_sub_encode(&s, &enc);
	assert_true(enc.len < sizeof(m));
	assert_int_equal(codec_sub_decode(enc.p, enc.len, &d), 0);
	assert_int_equal(d.expires, -5);
	assert_int_equal(d.state, SUB_DISABLED);
	sub_free(&d);
	for (n = 0; n <= enc.len; n++) {
		for (i = 0; i < n + 1 && i < enc.len; i++) {
			for (bit = 0; bit < 8; bit++) {
				memcpy(m, enc.p, n);
				if (i < n)
					m[i] ^= (unsigned char)(1u << bit);
				if (codec_sub_decode(m, n, &d) < 0)
					continue;
				ok++;
				assert_non_null(d.id);
				assert_true((unsigned)d.platform < PLAT_COUNT);
				assert_true(d.state >= 0 && d.state < SUB_STATE_COUNT);
				buf_reset(&re);
				codec_sub_encode(&d, &re);
				assert_int_equal(codec_sub_decode(re.p, re.len, &d2), 0);
				assert_string_equal(d2.id, d.id);
				assert_int_equal(d2.person_id, d.person_id);
				sub_free(&d2);
				sub_free(&d);
			}
		}
	}
	assert_true(ok > 0);
	assert_int_equal(codec_sub_decode("", 0, &d), -1);
	assert_int_equal(codec_sub_decode("\x02", 1, &d), -1);	/* newer format */
	sub_free(&s);
	buf_free(&enc);
	buf_free(&re);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_and_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marks, setup, teardown),
		cmocka_unit_test(test_secret),
		cmocka_unit_test_setup_teardown(test_verify_index, setup, teardown),
		cmocka_unit_test(test_codec_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
