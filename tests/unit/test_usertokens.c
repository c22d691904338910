/*
 * test_usertokens.c — rec_refresh_user_tokens() against the loopback fake
 * (tests/fakes/fakeserver.py, started here): due tokens of all three platforms are refreshed
 * and stored encrypted; a failure worth retrying changes nothing; a dead grant marks the
 * record and flags the person PERSON_REAUTH with a history entry; dead records are never
 * tried again; nothing secret reaches the log. Runs from the repository root (make test).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "http.h"
#include "json.h"
#include "oauth.h"
#include "usertoken_store.h"
#include "usertokens.h"
#include "store.h"

#define PY	"/usr/bin/python3"

struct acct {
	char	*team, *user;
};

struct fx {
	char		 dir[64];
	pid_t		 fake;
	char		*base;		/* http://127.0.0.1:PORT */
	struct config	 boot;		/* for talking to the fake before the real config */
	struct config	 c;
	struct store	*st;
	struct buf	 orgtext;
	struct json	 org;
	struct acct	 a[2][PLAT_COUNT];	/* two people with an account on each platform */
	uint64_t	 pid[2];
	struct buf	 secrets;	/* every token seen, NUL-separated, for the log check */
	char		*log;		/* where stderr goes during refreshes */
};

static char *
path_in(struct fx *f, const char *name)
{
	return xasprintf("%s/%s", f->dir, name);
}

static void
put_file(struct fx *f, const char *name, const char *text)
{
	char *p = path_in(f, name);

	assert_int_equal(write_file_atomic(p, text, strlen(text), 0600), 0);
	free(p);
}

/* POST /_control with a JSON op; the answer parsed into *j (text kept in *out). */
static void
control(struct fx *f, const char *op, struct buf *out, struct json *j)
{
	struct http_client *h = http_new("fake", &f->boot);
	struct http_resp r = { 0 };
	char *url = xasprintf("%s/_control", f->base), err[256];

	assert_int_equal(http_request(h, "POST", url, NULL, "application/json", op, strlen(op),
	    "control", &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, 200);
	buf_reset(out);
	buf_add(out, r.body.p, r.body.len);
	assert_int_equal(json_parse(j, out->p, out->len, err, sizeof(err)), 0);
	http_resp_free(&r);
	http_free(h);
	free(url);
}

static void
get_json(struct fx *f, const char *path, struct buf *out, struct json *j)
{
	struct http_client *h = http_new("fake", &f->boot);
	struct http_resp r = { 0 };
	char *url = xasprintf("%s%s", f->base, path), err[256];

	assert_int_equal(http_request(h, "GET", url, NULL, NULL, NULL, 0, "control", &r, err,
	    sizeof(err)), 0);
	assert_int_equal(r.status, 200);
	buf_reset(out);
	buf_add(out, r.body.p, r.body.len);
	assert_int_equal(json_parse(j, out->p, out->len, err, sizeof(err)), 0);
	http_resp_free(&r);
	http_free(h);
	free(url);
}

static void
remember(struct fx *f, const char *secret)
{
	if (secret && *secret)
		buf_add(&f->secrets, secret, strlen(secret) + 1);
}

/* Count of requests the fake answered at endpoint key ("slack:oauth.v2.access"). */
static long
fake_count(struct fx *f, const char *key)
{
	struct buf b = { 0 };
	struct json j = { 0 };
	int64_t n = 0;
	int reqs;

	get_json(f, "/_control/stats", &b, &j);
	reqs = json_get(&j, 0, "requests");
	if (json_get(&j, reqs, key) >= 0)
		assert_int_equal(json_i64(&j, json_get(&j, reqs, key), &n), 0);
	json_free(&j);
	buf_free(&b);
	return (long)n;
}

/* People of org.json's truth with an active, non-guest account on all three platforms. */
static void
pick_people(struct fx *f)
{
	int truth = json_get(&f->org, 0, "truth"), found = 0;

	for (int t = json_first(&f->org, truth); t >= 0 && found < 2;
	    t = json_next(&f->org, truth, t)) {
		int accts = json_get(&f->org, t, "accounts"), ok = 1, g = 0;
		struct acct tmp[PLAT_COUNT] = { { NULL, NULL } };
		if (json_bool(&f->org, json_get(&f->org, t, "guest"), &g) == 0 && g)
			continue;
		if (json_count(&f->org, accts) != PLAT_COUNT)
			continue;
		for (int a = json_first(&f->org, accts); a >= 0; a = json_next(&f->org, accts, a)) {
			int act = 0, guest = 0;
			enum platform p;
			char *pn = json_strdup(&f->org, json_get(&f->org, a, "platform"));
			assert_int_equal(platform_parse(pn, &p), 0);
			free(pn);
			json_bool(&f->org, json_get(&f->org, a, "active"), &act);
			json_bool(&f->org, json_get(&f->org, a, "guest"), &guest);
			ok &= act && !guest;
			tmp[p].team = json_strdup(&f->org, json_get(&f->org, a, "team_id"));
			tmp[p].user = json_strdup(&f->org, json_get(&f->org, a, "user_id"));
		}
		for (int p = 0; p < PLAT_COUNT; p++) {
			if (ok)
				f->a[found][p] = tmp[p];
			else {
				free(tmp[p].team);
				free(tmp[p].user);
			}
		}
		found += ok;
	}
	assert_int_equal(found, 2);
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct buf b = { 0 }, cfgtext = { 0 };
	struct json j = { 0 };
	char *org = NULL, *portf = NULL, *cmd, *s, *sid, *wid, *sec;
	char err[512];
	struct failure fl;
	int i;

	snprintf(f->dir, sizeof(f->dir), "/tmp/ps-refresh-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->boot.http.timeout = 10;
	f->boot.http.connect_timeout = 5;
	f->boot.http.retries = 0;
	org = path_in(f, "org.json");
	portf = path_in(f, "fake.port");
	f->log = path_in(f, "refresh.log");
	cmd = xasprintf(PY " tests/fakes/genorg.py --people 40 --seed 9 -o %s >/dev/null 2>&1",
	    org);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_int_equal(read_file(org, 64 << 20, &f->orgtext), 0);
	assert_int_equal(json_parse(&f->org, f->orgtext.p, f->orgtext.len, err, sizeof(err)), 0);
	pick_people(f);

	f->fake = fork();
	assert_true(f->fake >= 0);
	if (f->fake == 0) {
		char *logp = path_in(f, "requests.jsonl"), *errp = path_in(f, "fake.err");
		int fd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600), nul = open("/dev/null",
		    O_WRONLY);
		dup2(nul, 1);
		dup2(fd, 2);
		execl(PY, "python3", "tests/fakes/fakeserver.py", "--org", org, "--port", "0",
		    "--port-file", portf, "--log", logp, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 400; i++) {
		buf_reset(&b);
		if (read_file(portf, 64, &b) == 0 && b.len > 1)
			break;
		usleep(50000);
	}
	assert_true(b.len > 1);
	b.p[strcspn(b.p, "\n")] = '\0';
	f->base = xasprintf("http://127.0.0.1:%s", b.p);

	/* the fake's OAuth apps and the org's secrets make the config */
	get_json(f, "/_control/oauth", &b, &j);
	sid = json_strdup(&j, json_path(&j, 0, "clients.slack.client_id"));
	sec = json_strdup(&j, json_path(&j, 0, "clients.slack.client_secret"));
	put_file(f, "slack.oauth", sec);
	remember(f, sec);
	free(sec);
	wid = json_strdup(&j, json_path(&j, 0, "clients.webex.client_id"));
	sec = json_strdup(&j, json_path(&j, 0, "clients.webex.client_secret"));
	put_file(f, "webex.oauth", sec);
	remember(f, sec);
	free(sec);
	json_free(&j);
	s = json_strdup(&f->org, json_path(&f->org, 0, "secrets.slack_bot_token"));
	put_file(f, "slack.token", s);
	free(s);
	s = json_strdup(&f->org, json_path(&f->org, 0, "secrets.webex_token"));
	put_file(f, "webex.token", s);
	free(s);
	s = json_strdup(&f->org, json_path(&f->org, 0, "secrets.graph_client_secret"));
	put_file(f, "graph.secret", s);
	remember(f, s);
	free(s);
	put_file(f, "token.key", "0123456789abcdef0123456789abcdef-token-key");
	remember(f, "0123456789abcdef0123456789abcdef-token-key");
	{
		char *gid = json_strdup(&f->org, json_path(&f->org, 0, "secrets.graph_client_id"));
		char *ten = json_strdup(&f->org, json_path(&f->org, 0, "teams.tenant_id"));
		buf_printf(&cfgtext,
		    "database = \"%s/db\";\npublic_url = \"http://127.0.0.1:8099\";\n"
		    "token_key_file = \"%s/token.key\";\n"
		    "slack = { enabled = true; api_url = \"%s/slack/api\"; "
		    "bot_token_file = \"%s/slack.token\"; oauth = { client_id = \"%s\"; "
		    "client_secret_file = \"%s/slack.oauth\"; }; };\n"
		    "teams = { enabled = true; graph_url = \"%s/graph/v1.0\"; "
		    "login_url = \"%s/login\"; tenant_id = \"%s\"; client_id = \"%s\"; "
		    "client_secret_file = \"%s/graph.secret\"; };\n"
		    "webex = { enabled = true; api_url = \"%s/webex/v1\"; "
		    "token_file = \"%s/webex.token\"; oauth = { client_id = \"%s\"; "
		    "client_secret_file = \"%s/webex.oauth\"; }; };\n"
		    "http = { retries = 1; backoff_base = 0.01; backoff_max = 0.05; "
		    "timeout = 10; };\n",
		    f->dir, f->dir, f->base, f->dir, sid, f->dir, f->base, f->base, ten, gid,
		    f->dir, f->base, f->dir, wid, f->dir);
		free(gid);
		free(ten);
	}
	free(sid);
	free(wid);
	assert_int_equal(config_load_string("refresh.cfg", cfgtext.p, &f->c, 0), 0);
	s = path_in(f, "db");
	f->st = store_open(s, 64, 0, &fl);
	free(s);
	assert_non_null(f->st);

	/* two people */
	for (i = 0; i < 2; i++) {
		struct person p;
		struct txn *t = store_begin(f->st, 1);
		memset(&p, 0, sizeof(p));
		p.name = xasprintf("Person %d", i);
		p.active = 1;
		p.status = ST_ON;
		p.primary_platform = PLAT_SLACK;
		assert_int_equal(store_person_put(t, &p), 0);
		f->pid[i] = p.id;
		person_free(&p);
		assert_int_equal(store_commit(t), 0);
	}
	buf_free(&b);
	buf_free(&cfgtext);
	free(org);
	free(portf);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char *cmd;
	int st;

	store_close(f->st);
	config_free(&f->c);
	if (f->fake > 0) {
		kill(f->fake, SIGTERM);
		waitpid(f->fake, &st, 0);
	}
	if (getenv("PEOPLESYNC_KEEP_TMP") == NULL) {
		cmd = xasprintf("rm -rf %s", f->dir);
		assert_int_equal(system(cmd), 0);
		free(cmd);
	} else {
		fprintf(stderr, "kept %s\n", f->dir);
	}
	for (int i = 0; i < 2; i++)
		for (int p = 0; p < PLAT_COUNT; p++) {
			free(f->a[i][p].team);
			free(f->a[i][p].user);
		}
	json_free(&f->org);
	buf_free(&f->orgtext);
	buf_free(&f->secrets);
	free(f->base);
	free(f->log);
	free(f);
	return 0;
}

/* Tokens for person i on platform p as if they had signed in; stored due in 'due' s. */
static void
sign_in(struct fx *f, int i, enum platform p, long due)
{
	struct buf b = { 0 }, op = { 0 };
	struct json j = { 0 };
	struct utoken u;
	struct txn *t;
	int64_t v;

	buf_printf(&op, "{\"op\":\"mint_user_token\",\"platform\":\"%s\",\"user_id\":",
	    platform_name(p));
	buf_json_str(&op, f->a[i][p].user);
	buf_addc(&op, '}');
	control(f, op.p, &b, &j);
	memset(&u, 0, sizeof(u));
	u.platform = p;
	u.team_id = json_strdup(&j, json_get(&j, 0, "team_id"));
	u.user_id = json_strdup(&j, json_get(&j, 0, "user_id"));
	assert_string_equal(u.team_id, f->a[i][p].team);
	assert_string_equal(u.user_id, f->a[i][p].user);
	u.person_id = f->pid[i];
	u.tok.access = json_strdup(&j, json_get(&j, 0, "access_token"));
	u.tok.refresh = json_strdup(&j, json_get(&j, 0, "refresh_token"));
	assert_non_null(u.tok.refresh);
	remember(f, u.tok.access);
	remember(f, u.tok.refresh);
	u.tok.expires = (int64_t)time(NULL) + due;
	if (json_i64(&j, json_get(&j, 0, "refresh_token_expires_in"), &v) == 0)
		u.tok.refresh_expires = (int64_t)time(NULL) + v;
	assert_non_null(t = store_begin(f->st, 1));
	assert_int_equal(utoken_put(&f->c, t, &u), 0);
	assert_int_equal(store_commit(t), 0);
	utoken_free(&u);
	json_free(&j);
	buf_free(&b);
	buf_free(&op);
}

static void
get_token(struct fx *f, int i, enum platform p, struct utoken *u)
{
	struct txn *t = store_begin(f->st, 0);

	assert_non_null(t);
	assert_int_equal(utoken_get(&f->c, t, p, f->a[i][p].team, f->a[i][p].user, u), 0);
	store_abort(t);
}

/* Makes a stored token due (expires in 'due' seconds) without changing anything else. */
static void
make_due(struct fx *f, int i, enum platform p, long due, int64_t refresh_expires)
{
	struct utoken u;
	struct txn *t;

	get_token(f, i, p, &u);
	u.tok.expires = (int64_t)time(NULL) + due;
	if (refresh_expires)
		u.tok.refresh_expires = refresh_expires;
	assert_non_null(t = store_begin(f->st, 1));
	assert_int_equal(utoken_put(&f->c, t, &u), 0);
	assert_int_equal(store_commit(t), 0);
	utoken_free(&u);
}

/* rec_refresh_user_tokens with stderr captured into f->log (appended). */
static int
refresh(struct fx *f)
{
	int saved = dup(2), fd = open(f->log, O_WRONLY | O_CREAT | O_APPEND, 0600), rc;

	fflush(stderr);
	dup2(fd, 2);
	close(fd);
	rc = rec_refresh_user_tokens(&f->c, f->st);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	return rc;
}

static uint32_t
person_flags(struct fx *f, int i)
{
	struct person p;
	struct txn *t = store_begin(f->st, 0);
	uint32_t fl;

	assert_int_equal(store_person_get(t, f->pid[i], &p), 0);
	store_abort(t);
	fl = p.flags;
	person_free(&p);
	return fl;
}

static int
hist_cb(const struct history *h, void *arg)
{
	struct buf *b = arg;

	buf_printf(b, "%s: %s\n", h->kind, h->text);
	return 0;
}

static void
history(struct fx *f, int i, struct buf *out)
{
	struct txn *t = store_begin(f->st, 0);

	buf_reset(out);
	assert_int_equal(store_history_each(t, f->pid[i], hist_cb, out), 0);
	store_abort(t);
}

static void
no_secret_in_log(struct fx *f)
{
	struct buf log = { 0 };

	if (read_file(f->log, 16 << 20, &log) < 0)
		return;			/* nothing logged at all */
	for (size_t o = 0; o < f->secrets.len; o += strlen(f->secrets.p + o) + 1)
		if (log.p && strstr(log.p, f->secrets.p + o) != NULL)
			fail_msg("a secret is in the log: %.12s...", f->secrets.p + o);
	buf_free(&log);
}

static void
test_refresh(void **state)
{
	struct fx *f = *state;
	struct utoken before[2][PLAT_COUNT], after;
	struct buf h = { 0 };
	long slack_calls, teams_calls, webex_calls;
	int p, i;

	/* person 0 and 1 sign in everywhere; person 0's tokens are due, person 1's are not */
	for (p = 0; p < PLAT_COUNT; p++) {
		sign_in(f, 0, (enum platform)p, 600);
		sign_in(f, 1, (enum platform)p, 6 * 3600);
	}
	for (i = 0; i < 2; i++)
		for (p = 0; p < PLAT_COUNT; p++)
			get_token(f, i, (enum platform)p, &before[i][p]);

	/* 1. the due ones are refreshed and stored encrypted, the others left alone */
	assert_int_equal(refresh(f), 3);
	for (p = 0; p < PLAT_COUNT; p++) {
		int64_t want = p == PLAT_SLACK ? 43200 : p == PLAT_TEAMS ? 3599 : 1209600;
		get_token(f, 0, (enum platform)p, &after);
		remember(f, after.tok.access);
		remember(f, after.tok.refresh);
		assert_string_not_equal(after.tok.access, before[0][p].tok.access);
		assert_non_null(after.tok.refresh);
		assert_true(after.tok.expires >= (int64_t)time(NULL) + want - 30 &&
		    after.tok.expires <= (int64_t)time(NULL) + want + 1);
		assert_int_equal(after.flags, 0);
		assert_true(after.person_id == f->pid[0]);
		utoken_free(&after);
		get_token(f, 1, (enum platform)p, &after);
		assert_string_equal(after.tok.access, before[1][p].tok.access);
		utoken_free(&after);
	}
	assert_int_equal(fake_count(f, "slack:oauth.v2.access"), 1);
	assert_int_equal(fake_count(f, "teams:token"), 1);
	assert_int_equal(fake_count(f, "webex:access_token"), 1);
	/* a refreshed Teams token lives 3599 s, inside the hour ahead: due again next run */
	assert_int_equal(refresh(f), 1);
	assert_int_equal(fake_count(f, "teams:token"), 2);
	assert_int_equal(person_flags(f, 0) & PERSON_REAUTH, 0);

	/* 2. the platforms fail for a while: nothing changes, nobody is flagged */
	{
		struct buf b = { 0 };
		struct json j = { 0 };
		control(f, "{\"op\":\"fail\",\"spec\":\"slack:oauth.v2.access:status=503\"}", &b,
		    &j);
		json_free(&j);
		control(f, "{\"op\":\"fail\",\"spec\":\"teams:token:status=500\"}", &b, &j);
		json_free(&j);
		control(f, "{\"op\":\"fail\",\"spec\":\"webex:access_token:status=502\"}", &b, &j);
		json_free(&j);
		for (p = 0; p < PLAT_COUNT; p++)
			make_due(f, 1, (enum platform)p, 60, 0);
		slack_calls = fake_count(f, "slack:oauth.v2.access");
		assert_int_equal(refresh(f), 0);
		assert_true(fake_count(f, "slack:oauth.v2.access") > slack_calls);
		for (p = 0; p < PLAT_COUNT; p++) {
			get_token(f, 1, (enum platform)p, &after);
			assert_string_equal(after.tok.access, before[1][p].tok.access);
			assert_string_equal(after.tok.refresh, before[1][p].tok.refresh);
			assert_int_equal(after.flags, 0);
			utoken_free(&after);
		}
		assert_int_equal(person_flags(f, 1) & PERSON_REAUTH, 0);
		control(f, "{\"op\":\"clear_failures\"}", &b, &j);
		json_free(&j);
		buf_free(&b);
	}

	/* 3. the grants die (revoked): records marked dead, the person flagged, with history */
	{
		struct buf b = { 0 };
		struct json j = { 0 };
		control(f, "{\"op\":\"revoke_user_tokens\"}", &b, &j);
		json_free(&j);
		buf_free(&b);
	}
	assert_int_equal(refresh(f), 0);
	for (i = 0; i < 2; i++)
		assert_int_not_equal(person_flags(f, i) & PERSON_REAUTH, 0);
	for (p = 0; p < PLAT_COUNT; p++) {
		get_token(f, 1, (enum platform)p, &after);
		assert_int_equal(after.flags & UTOKEN_DEAD, UTOKEN_DEAD);
		utoken_free(&after);
	}
	/* person 0: only the due Teams token was tried (Slack and Webex are not due yet) */
	get_token(f, 0, PLAT_TEAMS, &after);
	assert_int_equal(after.flags & UTOKEN_DEAD, UTOKEN_DEAD);
	utoken_free(&after);
	get_token(f, 0, PLAT_SLACK, &after);
	assert_int_equal(after.flags & UTOKEN_DEAD, 0);
	utoken_free(&after);
	history(f, 1, &h);
	assert_non_null(strstr(h.p, "reauth: slack user token of"));
	assert_non_null(strstr(h.p, "invalid_refresh_token"));
	assert_non_null(strstr(h.p, "reauth: teams user token of"));
	assert_non_null(strstr(h.p, "invalid_grant"));
	assert_non_null(strstr(h.p, "reauth: webex user token of"));

	/* 4. dead records are never tried again */
	slack_calls = fake_count(f, "slack:oauth.v2.access");
	teams_calls = fake_count(f, "teams:token");
	webex_calls = fake_count(f, "webex:access_token");
	for (p = 0; p < PLAT_COUNT; p++)
		make_due(f, 1, (enum platform)p, 60, 0);
	assert_int_equal(refresh(f), 0);
	assert_int_equal(fake_count(f, "slack:oauth.v2.access"), slack_calls);
	assert_int_equal(fake_count(f, "teams:token"), teams_calls);
	assert_int_equal(fake_count(f, "webex:access_token"), webex_calls);

	/* 5. a refresh token past its own expiry is dead without asking */
	make_due(f, 0, PLAT_WEBEX, 60, (int64_t)time(NULL) - 5);
	assert_int_equal(refresh(f), 0);
	assert_int_equal(fake_count(f, "webex:access_token"), webex_calls);
	get_token(f, 0, PLAT_WEBEX, &after);
	assert_int_equal(after.flags & UTOKEN_DEAD, UTOKEN_DEAD);
	utoken_free(&after);
	history(f, 0, &h);
	assert_non_null(strstr(h.p, "refresh token expired"));

	no_secret_in_log(f);
	for (i = 0; i < 2; i++)
		for (p = 0; p < PLAT_COUNT; p++)
			utoken_free(&before[i][p]);
	buf_free(&h);
}

static void
test_no_token_key(void **state)
{
	struct fx *f = *state;
	unsigned char *k = f->c.token_key;

	f->c.token_key = NULL;
	assert_int_equal(refresh(f), -1);
	f->c.token_key = k;
	assert_int_equal(refresh(f), 0);	/* nothing stored: nothing to do */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_token_key, setup, teardown),
	};

	if (access(PY, X_OK) != 0 || access("tests/fakes/fakeserver.py", R_OK) != 0) {
		fprintf(stderr, "test_usertokens: needs %s and tests/fakes/ (run from the "
		    "repository root)\n", PY);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
