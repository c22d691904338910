/*
 * test_oauth.c — the offline parts of Sync now's OAuth: PKCE (RFC 7636 vector), the three
 * authorize URLs, random strings, and the encrypted user-token records (round trip, no
 * plaintext in the database, another key, an altered or moved record).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "oauth.h"
#include "store.h"
#include "usertoken_store.h"

struct fx {
	char		 dir[64];
	struct store	*st;
	struct config	 c;
	unsigned char	 key[32];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct failure fl;

	snprintf(f->dir, sizeof(f->dir), "/tmp/ps-oauth-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->st = store_open(f->dir, 64, 0, &fl);
	assert_non_null(f->st);
	for (int i = 0; i < 32; i++)
		f->key[i] = (unsigned char)(0xa0 + i);
	f->c.token_key = f->key;
	f->c.token_key_len = sizeof(f->key);
	f->c.public_url = "https://sync.example.com";
	f->c.plat[PLAT_SLACK].enabled = f->c.plat[PLAT_TEAMS].enabled = f->c.plat[PLAT_WEBEX].enabled = 1;
	f->c.plat[PLAT_SLACK].oauth.authorize_url = "https://slack.com/oauth/v2/authorize";
	f->c.plat[PLAT_SLACK].oauth.token_url = "https://slack.com/api/oauth.v2.access";
	f->c.plat[PLAT_SLACK].oauth.client_id = "111.222";
	f->c.plat[PLAT_SLACK].oauth.client_secret = "s3cret";
	f->c.plat[PLAT_SLACK].oauth.scopes = "users:read,users:read.email";
	f->c.plat[PLAT_TEAMS].oauth.authorize_url =
	    "https://login.microsoftonline.com/t1/oauth2/v2.0/authorize";
	f->c.plat[PLAT_TEAMS].oauth.token_url = "https://login.microsoftonline.com/t1/oauth2/v2.0/token";
	f->c.plat[PLAT_TEAMS].oauth.client_id = "cid-teams";
	f->c.plat[PLAT_TEAMS].oauth.client_secret = "s3cret";
	f->c.plat[PLAT_TEAMS].oauth.scopes = "openid offline_access User.Read";
	f->c.plat[PLAT_WEBEX].oauth.authorize_url = "https://webexapis.com/v1/authorize";
	f->c.plat[PLAT_WEBEX].oauth.token_url = "https://webexapis.com/v1/access_token";
	f->c.plat[PLAT_WEBEX].oauth.client_id = "Cwebex";
	f->c.plat[PLAT_WEBEX].oauth.client_secret = "s3cret";
	f->c.plat[PLAT_WEBEX].oauth.scopes = "spark:people_read";
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
test_pkce_rfc7636(void **state)
{
	char ch[OAUTH_CHALLENGE_LEN + 1];

	(void)state;
	/* RFC 7636 appendix B */
	oauth_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", ch);
	assert_string_equal(ch, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

static void
test_random_strings(void **state)
{
	char a[OAUTH_STATE_LEN + 1], b[OAUTH_STATE_LEN + 1];

	(void)state;
	oauth_random_string(a, OAUTH_STATE_LEN);
	oauth_random_string(b, OAUTH_STATE_LEN);
	assert_int_equal(strlen(a), OAUTH_STATE_LEN);
	assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_"), OAUTH_STATE_LEN);
	assert_string_not_equal(a, b);
	oauth_random_string(a, 5);
	assert_int_equal(strlen(a), 5);
}

static void
test_configured(void **state)
{
	struct fx *f = *state;

	for (int p = 0; p < PLAT_COUNT; p++)
		assert_true(oauth_configured(&f->c, (enum platform)p));
	f->c.plat[PLAT_WEBEX].oauth.client_secret = NULL;
	assert_false(oauth_configured(&f->c, PLAT_WEBEX));
	f->c.plat[PLAT_SLACK].enabled = 0;
	assert_false(oauth_configured(&f->c, PLAT_SLACK));
	assert_false(oauth_configured(&f->c, (enum platform)7));
}

static void
test_authorize_urls(void **state)
{
	struct fx *f = *state;
	struct buf b = { 0 };
	const char *cb = "https://sync.example.com/oauth/slack/callback";

	oauth_authorize_url(&f->c, PLAT_SLACK, cb, "ST&1", NULL, &b);
	assert_string_equal(b.p, "https://slack.com/oauth/v2/authorize?client_id=111.222&"
	    "user_scope=users%3Aread%2Cusers%3Aread.email&redirect_uri=https%3A%2F%2F"
	    "sync.example.com%2Foauth%2Fslack%2Fcallback&state=ST%261");
	buf_reset(&b);
	oauth_authorize_url(&f->c, PLAT_TEAMS, "https://x/cb", "st", "CH", &b);
	assert_string_equal(b.p, "https://login.microsoftonline.com/t1/oauth2/v2.0/authorize?"
	    "client_id=cid-teams&response_type=code&redirect_uri=https%3A%2F%2Fx%2Fcb&"
	    "response_mode=query&scope=openid%20offline_access%20User.Read&state=st&"
	    "code_challenge=CH&code_challenge_method=S256");
	buf_reset(&b);
	oauth_authorize_url(&f->c, PLAT_WEBEX, "https://x/cb", "st", NULL, &b);
	assert_string_equal(b.p, "https://webexapis.com/v1/authorize?client_id=Cwebex&"
	    "response_type=code&redirect_uri=https%3A%2F%2Fx%2Fcb&scope=spark%3Apeople_read&"
	    "state=st");
	/* an authorize URL that already has a query */
	buf_reset(&b);
	f->c.plat[PLAT_WEBEX].oauth.authorize_url = "https://idp.example/auth?tenant=a";
	oauth_authorize_url(&f->c, PLAT_WEBEX, "https://x/cb", "st", NULL, &b);
	assert_int_equal(strncmp(b.p, "https://idp.example/auth?tenant=a&client_id=Cwebex&",
	    strlen("https://idp.example/auth?tenant=a&client_id=Cwebex&")), 0);
	buf_free(&b);
}

/* Two Slack workspaces, the second with its own client: each instance's authorize URL
 * carries its own client id; a workspace without a client of its own has none. */
static void
test_workspace_clients(void **state)
{
	struct fx *f = *state;
	struct cfg_platform ws[2];
	struct buf b = { 0 };

	ws[0] = f->c.plat[PLAT_SLACK];
	ws[1] = f->c.plat[PLAT_SLACK];
	ws[1].oauth.authorize_url = "https://b.example/oauth/v2/authorize";
	ws[1].oauth.client_id = "333.444";
	ws[1].oauth.scopes = NULL;
	f->c.inst[PLAT_SLACK] = ws;
	f->c.ninst[PLAT_SLACK] = 2;
	oauth_inst_authorize_url(&f->c, PLAT_SLACK, &ws[1], "https://x/cb", "st", NULL, &b);
	assert_int_equal(strncmp(b.p, "https://b.example/oauth/v2/authorize?client_id=333.444&"
	    "user_scope=users%3Aread%2Cusers%3Aread.email&",
	    strlen("https://b.example/oauth/v2/authorize?client_id=333.444&user_scope="
	    "users%3Aread%2Cusers%3Aread.email&")), 0);
	assert_true(oauth_inst_configured(&f->c, PLAT_SLACK, &ws[1]));
	ws[0].oauth.client_id = NULL;
	assert_false(oauth_inst_configured(&f->c, PLAT_SLACK, &ws[0]));
	assert_true(oauth_any_configured(&f->c, PLAT_SLACK));
	ws[1].oauth.client_secret = NULL;
	assert_false(oauth_any_configured(&f->c, PLAT_SLACK));
	assert_true(oauth_configured(&f->c, PLAT_SLACK));	/* the defaults' block */
	f->c.inst[PLAT_SLACK] = NULL;
	f->c.ninst[PLAT_SLACK] = 0;
	buf_free(&b);
}

static void
mk(struct utoken *u, enum platform p, const char *team, const char *user, const char *access,
    const char *refresh)
{
	memset(u, 0, sizeof(*u));
	u->platform = p;
	u->team_id = strdup(team);
	u->user_id = strdup(user);
	u->person_id = 4242;
	u->tok.access = strdup(access);
	u->tok.refresh = refresh ? strdup(refresh) : NULL;
	u->tok.expires = 1800000000;
	u->tok.refresh_expires = 1900000000;
}

/* Does the database file hold these bytes? */
static int
db_has(struct fx *f, const char *needle)
{
	char path[128];
	FILE *fp;
	char *data;
	long n;
	int found = 0;

	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	assert_non_null(fp = fopen(path, "rb"));
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	data = malloc((size_t)n);
	assert_int_equal(fread(data, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	found = memmem(data, (size_t)n, needle, strlen(needle)) != NULL;
	free(data);
	return found;
}

struct count {
	int	n;
	int	dead;
};

static int
count_cb(const struct utoken *u, void *arg)
{
	struct count *c = arg;

	c->n++;
	if (u->flags & UTOKEN_DEAD)
		c->dead++;
	return 0;
}

static void
test_utoken_roundtrip(void **state)
{
	struct fx *f = *state;
	struct utoken u, v;
	struct count cnt = { 0, 0 };
	struct txn *t;

	mk(&u, PLAT_SLACK, "T1", "U1", "xoxp-PLAINTEXT-ACCESS-123", "xoxe-PLAINTEXT-REFRESH-456");
	assert_non_null(t = store_begin(f->st, 1));
	assert_int_equal(utoken_put(&f->c, t, &u), 0);
	utoken_free(&u);
	mk(&u, PLAT_WEBEX, "ORG|x", "P1", "webex-PLAINTEXT-ACCESS", NULL);
	u.flags = UTOKEN_DEAD;
	u.tok.expires = 0;
	assert_int_equal(utoken_put(&f->c, t, &u), 0);
	utoken_free(&u);
	assert_int_equal(store_commit(t), 0);
	assert_int_equal(store_sync(f->st), 0);
	assert_false(db_has(f, "PLAINTEXT"));
	assert_true(db_has(f, "slack|T1|U1"));	/* keys are not secret */

	assert_non_null(t = store_begin(f->st, 0));
	assert_int_equal(utoken_get(&f->c, t, PLAT_SLACK, "T1", "U1", &v), 0);
	assert_int_equal(v.platform, PLAT_SLACK);
	assert_string_equal(v.team_id, "T1");
	assert_string_equal(v.user_id, "U1");
	assert_true(v.person_id == 4242);
	assert_string_equal(v.tok.access, "xoxp-PLAINTEXT-ACCESS-123");
	assert_string_equal(v.tok.refresh, "xoxe-PLAINTEXT-REFRESH-456");
	assert_true(v.tok.expires == 1800000000 && v.tok.refresh_expires == 1900000000);
	assert_int_equal(v.flags, 0);
	utoken_free(&v);
	/* a team id with the separator in it still splits at the first and last '|' */
	assert_int_equal(utoken_get(&f->c, t, PLAT_WEBEX, "ORG|x", "P1", &v), 0);
	assert_null(v.tok.refresh);
	assert_int_equal(v.flags, UTOKEN_DEAD);
	assert_true(v.tok.expires == 0);
	utoken_free(&v);
	assert_int_equal(utoken_get(&f->c, t, PLAT_TEAMS, "T1", "U1", &v), STORE_NOTFOUND);
	assert_int_equal(utoken_each(&f->c, t, count_cb, &cnt), 0);
	assert_int_equal(cnt.n, 2);
	assert_int_equal(cnt.dead, 1);
	store_abort(t);
}

static void
test_utoken_wrong_key_and_tampering(void **state)
{
	struct fx *f = *state;
	struct utoken u, v;
	struct buf val = { 0 };
	struct count cnt = { 0, 0 };
	unsigned char other[32];
	struct config c2;
	struct txn *t;

	mk(&u, PLAT_TEAMS, "tenant", "user-1", "eyJ-access", "0.A-refresh");
	assert_non_null(t = store_begin(f->st, 1));
	assert_int_equal(utoken_put(&f->c, t, &u), 0);
	utoken_free(&u);
	/* another key cannot read it */
	memcpy(other, f->key, sizeof(other));
	other[31] ^= 1;
	c2 = f->c;
	c2.token_key = other;
	assert_int_equal(utoken_get(&c2, t, PLAT_TEAMS, "tenant", "user-1", &v), -1);
	assert_null(v.tok.access);
	/* no key: neither written nor read */
	c2.token_key = NULL;
	mk(&u, PLAT_TEAMS, "tenant", "user-2", "a", "r");
	assert_int_equal(utoken_put(&c2, t, &u), -1);
	utoken_free(&u);
	assert_int_equal(utoken_get(&c2, t, PLAT_TEAMS, "tenant", "user-1", &v), -1);

	assert_int_equal(store_kv_get(t, "utoken", "teams|tenant|user-1", 19, &val), 0);
	/* each byte changed in turn: the record no longer opens (header, IV, text, tag) */
	for (size_t i = 0; i < val.len; i++) {
		val.p[i] ^= 0x01;
		assert_int_equal(store_kv_put(t, "utoken", "teams|tenant|user-1", 19, val.p,
		    val.len), 0);
		assert_int_equal(utoken_get(&f->c, t, PLAT_TEAMS, "tenant", "user-1", &v), -1);
		val.p[i] ^= 0x01;
	}
	/* moved under another account's key: refused (the key is authenticated) */
	assert_int_equal(store_kv_put(t, "utoken", "teams|tenant|user-9", 19, val.p, val.len),
	    0);
	assert_int_equal(utoken_get(&f->c, t, PLAT_TEAMS, "tenant", "user-9", &v), -1);
	/* truncated */
	assert_int_equal(store_kv_put(t, "utoken", "teams|tenant|user-8", 19, val.p, 20), 0);
	assert_int_equal(utoken_get(&f->c, t, PLAT_TEAMS, "tenant", "user-8", &v), -1);
	/* the original still opens; the broken ones are skipped by utoken_each */
	assert_int_equal(store_kv_put(t, "utoken", "teams|tenant|user-1", 19, val.p, val.len),
	    0);
	assert_int_equal(utoken_get(&f->c, t, PLAT_TEAMS, "tenant", "user-1", &v), 0);
	assert_string_equal(v.tok.access, "eyJ-access");
	utoken_free(&v);
	assert_int_equal(utoken_each(&f->c, t, count_cb, &cnt), 0);
	assert_int_equal(cnt.n, 1);
	store_abort(t);
	buf_free(&val);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkce_rfc7636),
		cmocka_unit_test(test_random_strings),
		cmocka_unit_test_setup_teardown(test_configured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authorize_urls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workspace_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_utoken_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_utoken_wrong_key_and_tampering, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
