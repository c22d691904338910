/*
 * test_config.c — the config loader: every key, every default, and the exact shape of every
 * kind of problem ("FILE:LINE: key: problem"), with secrets in temporary files.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "util.h"

#define PUB	"public_url = \"https://sync.example.com\";\n"

struct fx {
	char	 dir[PATH_MAX];
	char	*cfg;		/* DIR/peoplesync.cfg */
	char	*err;		/* stderr of the last load */
	int	 rc;
	struct config c;
};

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/ps_test_config_XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->cfg = xasprintf("%s/peoplesync.cfg", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	config_free(&f->c);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f->cfg);
	free(f->err);
	free(f);
	return 0;
}

static char *
in_dir(struct fx *f, const char *name)
{
	return xasprintf("%s/%s", f->dir, name);
}

/* Writes DIR/name with exactly content and mode. */
static void
put(struct fx *f, const char *name, const char *content, mode_t mode)
{
	char *p = in_dir(f, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	assert_int_equal(chmod(p, mode), 0);
	free(p);
}

/* Runs fn with fd 2 sent to a temp file; returns what was written there. */
static char *
capture_begin(int *saved, int *fd)
{
	char tmpl[] = "/tmp/ps_test_err_XXXXXX";

	fflush(stderr);
	*fd = mkstemp(tmpl);
	assert_true(*fd >= 0);
	unlink(tmpl);
	*saved = dup(2);
	dup2(*fd, 2);
	return NULL;
}

static char *
capture_end(int saved, int fd)
{
	struct buf b = { 0 };
	char tmp[4096];
	ssize_t n;

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		buf_add(&b, tmp, (size_t)n);
	close(fd);
	buf_addc(&b, '\0');
	return b.p;
}

/* Loads DIR/peoplesync.cfg (written from text unless text is NULL) into f->c. */
static void
load(struct fx *f, const char *text, int check_files)
{
	int saved, fd;

	if (text != NULL)
		put(f, "peoplesync.cfg", text, 0644);
	config_free(&f->c);
	free(f->err);
	capture_begin(&saved, &fd);
	f->rc = config_load(f->cfg, &f->c, check_files);
	f->err = capture_end(saved, fd);
}

static void
load_string(struct fx *f, const char *name, const char *text)
{
	int saved, fd;

	config_free(&f->c);
	free(f->err);
	capture_begin(&saved, &fd);
	f->rc = config_load_string(name, text, &f->c, 0);
	f->err = capture_end(saved, fd);
}

/* Asserts the load failed with exactly these lines; each fmt line is "%1$s" for the cfg path
 * and "%2$s" for the temp dir. */
static void
expect_err(struct fx *f, const char *fmt)
{
	struct buf want = { 0 };
	const char *p;

	for (p = fmt; *p != '\0'; p++) {
		if (p[0] == '@' && p[1] == 'C') {
			buf_adds(&want, f->cfg);
			p++;
		} else if (p[0] == '@' && p[1] == 'D') {
			buf_adds(&want, f->dir);
			p++;
		} else {
			buf_addc(&want, *p);
		}
	}
	assert_string_equal(f->err, want.p);
	assert_int_equal(f->rc, -1);
	buf_free(&want);
}

static void
expect_ok(struct fx *f)
{
	assert_string_equal(f->err, "");
	assert_int_equal(f->rc, 0);
}

/* ---- a full, good config ------------------------------------------------------------------ */

static void
test_full_good(void **state)
{
	struct fx *f = *state;
	char *dbdir, *spool, *tokpath;

	put(f, "link.key", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
	    0600);
	put(f, "token.key", "fedcba9876543210fedcba9876543210", 0400);
	put(f, "slack-bot.token", "xoxb-1-2-3\n", 0600);
	put(f, "slack-oauth.secret", "slacksecret\r\n", 0600);
	put(f, "teams.secret", "teams~secret.value", 0600);
	put(f, "teams-su.token", "0.AAAArefresh\n", 0600);
	put(f, "webex.token", "webextoken\n", 0600);
	put(f, "webex-oauth.secret", "webexsecret\n", 0600);
	spool = in_dir(f, "spool");
	assert_int_equal(mkdir(spool, 0700), 0);
	load(f,
	    "# full\n"
	    "database = \"db\";\n"
	    "map_size_mb = 512;\n"
	    "public_url = \"https://sync.example.com/\";\n"
	    "link_key_file = \"link.key\";\n"
	    "token_key_file = \"token.key\";\n"
	    "link_ttl_hours = 24;\n"
	    "slack = {\n"
	    "  enabled = true;\n"
	    "  api_url = \"http://127.0.0.1:18081/api\";\n"
	    "  bot_token_file = \"slack-bot.token\";\n"
	    "  auto_sync = true;\n"
	    "  page_limit = 2;\n"
	    "  include_guests = true;\n"
	    "  rate = { open = { per_minute = 120; burst = 7; }; post = { per_second = 3.5; burst = 4; }; };\n"
	    "  oauth = { authorize_url = \"http://localhost:18081/oauth/v2/authorize\";\n"
	    "            token_url = \"http://localhost:18081/api/oauth.v2.access\";\n"
	    "            client_id = \"123.456\"; client_secret_file = \"slack-oauth.secret\";\n"
	    "            scopes = \"users:read\"; };\n"
	    "  prompt_template = \"Hi {name},\\nplease sync: {link}\";\n"
	    "};\n"
	    "teams = {\n"
	    "  enabled = true;\n"
	    "  graph_url = \"http://[::1]:18082/v1.0\";\n"
	    "  login_url = \"http://127.0.0.1:18082\";\n"
	    "  tenant_id = \"contoso.onmicrosoft.com\";\n"
	    "  tenant_name = \"Contoso\";\n"
	    "  client_id = \"app-1\";\n"
	    "  client_secret_file = \"teams.secret\";\n"
	    "  service_user_refresh_token_file = \"teams-su.token\";\n"
	    "  page_size = 50;\n"
	    "  use_delta = false;\n"
	    "  include_guests = true;\n"
	    "  rate = { chat = { per_second = 1; burst = 1; }; post = { per_second = 4; burst = 8; }; };\n"
	    "  oauth = { scopes = \"openid User.Read\"; };\n"
	    "  prompt_template = \"teams {link}\";\n"
	    "};\n"
	    "webex = {\n"
	    "  enabled = true;\n"
	    "  api_url = \"https://webex.example.net/v1\";\n"
	    "  token_file = \"webex.token\";\n"
	    "  org_name = \"Contoso Webex\";\n"
	    "  page_max = 10;\n"
	    "  include_guests = false;\n"
	    "  rate = { post = { per_minute = 30; burst = 2; }; };\n"
	    "  oauth = { client_id = \"Cabc\"; client_secret_file = \"webex-oauth.secret\"; };\n"
	    "  prompt_template = \"webex {link}\";\n"
	    "};\n"
	    "identity = {\n"
	    "  domain_aliases = ( (\"Corp.OnMicrosoft.com\", \"CORP.COM\"), [\"old.example\", \"corp.com\"] );\n"
	    "  platform_order = [\"teams\", \"webex\", \"slack\"];\n"
	    "};\n"
	    "prompts = { cooldown_hours = 0; max_prompts = 5; quiet_hours = \"22:30-06:15\";\n"
	    "            default_tz = \"UTC\"; stale_days = 7; batch_size = 100; };\n"
	    "events = { spool_dir = \"spool\"; };\n"
	    "http = { connect_timeout = 3; timeout = 30; retries = 0; max_retry_after = 2;\n"
	    "         ca_file = \"link.key\"; backoff_base = 0.05; backoff_max = 1; max_body_mb = 8; };\n"
	    "reconcile = { max_deactivate_share = 0.25; min_roster_for_guard = 5; };\n"
	    "metrics = { file = \"peoplesync.prom\"; };\n"
	    "serve = { listen = \"0.0.0.0:9090\"; };\n", 1);
	expect_ok(f);

	struct config *c = &f->c;
	dbdir = in_dir(f, "db");
	tokpath = in_dir(f, "teams-su.token");
	assert_string_equal(c->path, f->cfg);
	assert_string_equal(c->database, dbdir);
	assert_int_equal(c->map_size_mb, 512);
	assert_string_equal(c->public_url, "https://sync.example.com");
	assert_int_equal(c->link_key_len, 64);
	assert_memory_equal(c->link_key, "0123456789abcdef", 16);
	assert_int_equal(c->token_key_len, 32);
	assert_int_equal(c->link_ttl_hours, 24);

	assert_true(c->plat[PLAT_SLACK].enabled);
	assert_string_equal(c->plat[PLAT_SLACK].api_url, "http://127.0.0.1:18081/api");
	assert_string_equal(c->plat[PLAT_SLACK].token, "xoxb-1-2-3");
	assert_true(c->slack.auto_sync);
	assert_int_equal(c->plat[PLAT_SLACK].page_size, 2);
	assert_true(c->plat[PLAT_SLACK].include_guests);
	assert_true(c->plat[PLAT_SLACK].rate[RATE_OPEN].per_second > 1.999 && c->plat[PLAT_SLACK].rate[RATE_OPEN].per_second < 2.001);
	assert_int_equal(c->plat[PLAT_SLACK].rate[RATE_OPEN].burst, 7);
	assert_true(c->plat[PLAT_SLACK].rate[RATE_POST].per_second == 3.5);
	assert_int_equal(c->plat[PLAT_SLACK].rate[RATE_POST].burst, 4);
	assert_string_equal(c->plat[PLAT_SLACK].oauth.authorize_url, "http://localhost:18081/oauth/v2/authorize");
	assert_string_equal(c->plat[PLAT_SLACK].oauth.token_url, "http://localhost:18081/api/oauth.v2.access");
	assert_string_equal(c->plat[PLAT_SLACK].oauth.client_id, "123.456");
	assert_string_equal(c->plat[PLAT_SLACK].oauth.client_secret, "slacksecret");
	assert_string_equal(c->plat[PLAT_SLACK].oauth.scopes, "users:read");
	assert_string_equal(c->plat[PLAT_SLACK].prompt_template, "Hi {name},\nplease sync: {link}");

	assert_true(c->plat[PLAT_TEAMS].enabled);
	assert_string_equal(c->plat[PLAT_TEAMS].api_url, "http://[::1]:18082/v1.0");
	assert_string_equal(c->teams.login_url, "http://127.0.0.1:18082");
	assert_string_equal(c->teams.tenant_id, "contoso.onmicrosoft.com");
	assert_string_equal(c->plat[PLAT_TEAMS].team_name, "Contoso");
	assert_string_equal(c->teams.client_id, "app-1");
	assert_string_equal(c->teams.client_secret, "teams~secret.value");
	assert_string_equal(c->teams.service_user_refresh_token_file, tokpath);
	assert_string_equal(c->teams.service_user_refresh_token, "0.AAAArefresh");
	assert_int_equal(c->plat[PLAT_TEAMS].page_size, 50);
	assert_false(c->teams.use_delta);
	assert_true(c->plat[PLAT_TEAMS].include_guests);
	assert_true(c->plat[PLAT_TEAMS].rate[RATE_OPEN].per_second == 1.0);
	assert_int_equal(c->plat[PLAT_TEAMS].rate[RATE_POST].burst, 8);
	assert_string_equal(c->plat[PLAT_TEAMS].oauth.authorize_url,
	    "http://127.0.0.1:18082/contoso.onmicrosoft.com/oauth2/v2.0/authorize");
	assert_string_equal(c->plat[PLAT_TEAMS].oauth.token_url,
	    "http://127.0.0.1:18082/contoso.onmicrosoft.com/oauth2/v2.0/token");
	assert_string_equal(c->plat[PLAT_TEAMS].oauth.client_id, "app-1");
	assert_string_equal(c->plat[PLAT_TEAMS].oauth.client_secret, "teams~secret.value");
	assert_string_equal(c->plat[PLAT_TEAMS].oauth.scopes, "openid User.Read");
	assert_string_equal(c->plat[PLAT_TEAMS].prompt_template, "teams {link}");

	assert_true(c->plat[PLAT_WEBEX].enabled);
	assert_string_equal(c->plat[PLAT_WEBEX].api_url, "https://webex.example.net/v1");
	assert_string_equal(c->plat[PLAT_WEBEX].token, "webextoken");
	assert_string_equal(c->plat[PLAT_WEBEX].team_name, "Contoso Webex");
	assert_int_equal(c->plat[PLAT_WEBEX].page_size, 10);
	assert_false(c->plat[PLAT_WEBEX].include_guests);
	assert_true(c->plat[PLAT_WEBEX].rate[RATE_POST].per_second == 0.5);
	assert_string_equal(c->plat[PLAT_WEBEX].oauth.authorize_url, "https://webex.example.net/v1/authorize");
	assert_string_equal(c->plat[PLAT_WEBEX].oauth.token_url, "https://webex.example.net/v1/access_token");
	assert_string_equal(c->plat[PLAT_WEBEX].oauth.client_secret, "webexsecret");
	assert_string_equal(c->plat[PLAT_WEBEX].prompt_template, "webex {link}");

	assert_int_equal(c->identity.naliases, 2);
	assert_string_equal(c->identity.aliases[0].from, "corp.onmicrosoft.com");
	assert_string_equal(c->identity.aliases[0].to, "corp.com");
	assert_string_equal(c->identity.aliases[1].from, "old.example");
	assert_int_equal(c->identity.norder, 3);
	assert_int_equal(c->identity.order[0], PLAT_TEAMS);
	assert_int_equal(c->identity.order[1], PLAT_WEBEX);
	assert_int_equal(c->identity.order[2], PLAT_SLACK);

	assert_int_equal(c->prompts.cooldown_hours, 0);
	assert_int_equal(c->prompts.max_prompts, 5);
	assert_int_equal(c->prompts.quiet_start, 22 * 60 + 30);
	assert_int_equal(c->prompts.quiet_end, 6 * 60 + 15);
	assert_string_equal(c->prompts.default_tz, "UTC");
	assert_int_equal(c->prompts.stale_days, 7);
	assert_int_equal(c->prompts.batch_size, 100);
	assert_string_equal(c->events.spool_dir, spool);
	assert_int_equal(c->http.connect_timeout, 3);
	assert_int_equal(c->http.timeout, 30);
	assert_int_equal(c->http.retries, 0);
	assert_true(c->http.max_retry_after == 2.0);
	assert_non_null(strstr(c->http.ca_file, "/link.key"));
	assert_true(c->http.backoff_base == 0.05);
	assert_true(c->http.backoff_max == 1.0);
	assert_int_equal(c->http.max_body_mb, 8);
	assert_true(c->reconcile.max_deactivate_share == 0.25);
	assert_int_equal(c->reconcile.min_roster_for_guard, 5);
	assert_non_null(strstr(c->metrics.file, "/peoplesync.prom"));
	assert_string_equal(c->serve.listen, "0.0.0.0:9090");
	free(dbdir);
	free(spool);
	free(tokpath);
}

/* The shipped example parses and names nothing unknown (its files do not exist here). */
static void
test_example_config_keys(void **state)
{
	struct fx *f = *state;
	const char *p;

	free(f->cfg);
	f->cfg = xstrdup("etc/peoplesync.cfg");
	if (access(f->cfg, R_OK) != 0) {
		free(f->cfg);
		f->cfg = xstrdup("../../etc/peoplesync.cfg");
	}
	if (access(f->cfg, R_OK) != 0)
		skip();
	load(f, NULL, 0);
	assert_null(strstr(f->err, "unknown key"));
	assert_null(strstr(f->err, "syntax error"));
	assert_null(strstr(f->err, "expected"));
	assert_null(strstr(f->err, "out of range"));
	/* Only missing secret files. */
	for (p = f->err; *p != '\0'; p = strchr(p, '\n') + 1)
		assert_true(strstr(p, "No such file or directory") < strchr(p, '\n'));
}

/* ---- defaults ------------------------------------------------------------------------------ */

static void
test_defaults(void **state)
{
	struct fx *f = *state;
	struct config *c = &f->c;
	char *tz = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	/* prompts.default_tz: the host's zone, TZ first (":" allowed) */
	setenv("TZ", ":America/Chicago", 1);
	load(f, PUB, 0);
	expect_ok(f);
	assert_string_equal(c->prompts.default_tz, "America/Chicago");
	assert_string_equal(c->prompts.default_tz_from, "TZ");
	unsetenv("TZ");
	load(f, PUB, 0);
	if (tz != NULL) {
		setenv("TZ", tz, 1);
		free(tz);
	}
	expect_ok(f);
	assert_true(strcmp(c->prompts.default_tz_from, "/etc/localtime") == 0 ||
	    strcmp(c->prompts.default_tz, "UTC") == 0);
	assert_string_equal(c->database, "/var/lib/peoplesync");
	assert_int_equal(c->map_size_mb, 4096);
	assert_null(c->link_key_file);
	assert_null(c->link_key);
	assert_int_equal(c->link_key_len, 0);
	assert_null(c->token_key_file);
	assert_null(c->token_key);
	assert_int_equal(c->link_ttl_hours, 168);

	assert_false(c->plat[PLAT_SLACK].enabled);
	assert_string_equal(c->plat[PLAT_SLACK].api_url, "https://slack.com/api");
	assert_null(c->plat[PLAT_SLACK].token);
	assert_false(c->slack.auto_sync);
	assert_int_equal(c->plat[PLAT_SLACK].page_size, 200);
	assert_false(c->plat[PLAT_SLACK].include_guests);
	assert_true(c->plat[PLAT_SLACK].rate[RATE_OPEN].per_second > 0.8333 && c->plat[PLAT_SLACK].rate[RATE_OPEN].per_second < 0.8334);
	assert_int_equal(c->plat[PLAT_SLACK].rate[RATE_OPEN].burst, 5);
	assert_true(c->plat[PLAT_SLACK].rate[RATE_POST].per_second == 1.0);
	assert_int_equal(c->plat[PLAT_SLACK].rate[RATE_POST].burst, 1);
	assert_string_equal(c->plat[PLAT_SLACK].oauth.authorize_url, "https://slack.com/oauth/v2/authorize");
	assert_string_equal(c->plat[PLAT_SLACK].oauth.token_url, "https://slack.com/api/oauth.v2.access");
	assert_null(c->plat[PLAT_SLACK].oauth.client_id);
	assert_null(c->plat[PLAT_SLACK].oauth.client_secret);
	assert_null(c->plat[PLAT_SLACK].oauth.scopes);	/* the scope table's (scopes_signin) */
	assert_null(c->plat[PLAT_SLACK].prompt_template);

	assert_false(c->plat[PLAT_TEAMS].enabled);
	assert_string_equal(c->plat[PLAT_TEAMS].api_url, "https://graph.microsoft.com/v1.0");
	assert_string_equal(c->teams.login_url, "https://login.microsoftonline.com");
	assert_null(c->teams.tenant_id);
	assert_null(c->plat[PLAT_TEAMS].team_name);
	assert_null(c->teams.client_id);
	assert_null(c->teams.client_secret);
	assert_null(c->teams.service_user_refresh_token_file);
	assert_null(c->teams.service_user_refresh_token);
	assert_int_equal(c->plat[PLAT_TEAMS].page_size, 999);
	assert_true(c->teams.use_delta);
	assert_false(c->plat[PLAT_TEAMS].include_guests);
	assert_true(c->plat[PLAT_TEAMS].rate[RATE_OPEN].per_second == 2.0);
	assert_int_equal(c->plat[PLAT_TEAMS].rate[RATE_OPEN].burst, 2);
	assert_true(c->plat[PLAT_TEAMS].rate[RATE_POST].per_second == 2.0);
	assert_int_equal(c->plat[PLAT_TEAMS].rate[RATE_POST].burst, 2);
	assert_string_equal(c->plat[PLAT_TEAMS].oauth.authorize_url,
	    "https://login.microsoftonline.com/common/oauth2/v2.0/authorize");
	assert_string_equal(c->plat[PLAT_TEAMS].oauth.token_url,
	    "https://login.microsoftonline.com/common/oauth2/v2.0/token");
	assert_null(c->plat[PLAT_TEAMS].oauth.scopes);	/* the scope table's (scopes_signin) */
	assert_null(c->plat[PLAT_TEAMS].prompt_template);

	assert_false(c->plat[PLAT_WEBEX].enabled);
	assert_string_equal(c->plat[PLAT_WEBEX].api_url, "https://webexapis.com/v1");
	assert_null(c->plat[PLAT_WEBEX].token);
	assert_null(c->plat[PLAT_WEBEX].team_name);
	assert_int_equal(c->plat[PLAT_WEBEX].page_size, 1000);
	assert_false(c->plat[PLAT_WEBEX].include_guests);
	assert_true(c->plat[PLAT_WEBEX].rate[RATE_POST].per_second == 5.0);
	assert_int_equal(c->plat[PLAT_WEBEX].rate[RATE_POST].burst, 5);
	assert_string_equal(c->plat[PLAT_WEBEX].oauth.authorize_url, "https://webexapis.com/v1/authorize");
	assert_string_equal(c->plat[PLAT_WEBEX].oauth.token_url, "https://webexapis.com/v1/access_token");
	assert_null(c->plat[PLAT_WEBEX].oauth.scopes);	/* the scope table's (scopes_signin) */

	assert_int_equal(c->identity.naliases, 0);
	assert_int_equal(c->identity.norder, 3);
	assert_int_equal(c->identity.order[0], PLAT_SLACK);
	assert_int_equal(c->identity.order[1], PLAT_TEAMS);
	assert_int_equal(c->identity.order[2], PLAT_WEBEX);

	assert_int_equal(c->prompts.cooldown_hours, 72);
	assert_int_equal(c->prompts.max_prompts, 3);
	assert_int_equal(c->prompts.quiet_start, 20 * 60);
	assert_int_equal(c->prompts.quiet_end, 8 * 60);
	assert_int_equal(c->prompts.stale_days, 14);
	assert_int_equal(c->prompts.batch_size, 10000);
	assert_null(c->events.spool_dir);
	assert_int_equal(c->http.connect_timeout, 10);
	assert_int_equal(c->http.timeout, 60);
	assert_int_equal(c->http.retries, 5);
	assert_true(c->http.max_retry_after == 120.0);
	assert_null(c->http.ca_file);
	assert_true(c->http.backoff_base == 0.5);
	assert_true(c->http.backoff_max == 30.0);
	assert_int_equal(c->http.max_body_mb, 64);
	assert_true(c->reconcile.max_deactivate_share == 0.10);
	assert_int_equal(c->reconcile.min_roster_for_guard, 20);
	assert_null(c->metrics.file);
	assert_string_equal(c->serve.listen, "127.0.0.1:8080");
}

/* A block that is present is enabled unless it says otherwise. */
static void
test_block_present_means_enabled(void **state)
{
	struct fx *f = *state;

	setenv("PS_TEST_BOT", "xoxb-env", 1);
	load(f, PUB "slack = { bot_token_env = \"PS_TEST_BOT\"; };\n", 0);
	expect_ok(f);
	assert_true(f->c.plat[PLAT_SLACK].enabled);
	assert_false(f->c.plat[PLAT_TEAMS].enabled);
	unsetenv("PS_TEST_BOT");
}

/* ---- file-level errors --------------------------------------------------------------------- */

static void
test_missing_file(void **state)
{
	struct fx *f = *state;

	load(f, NULL, 0);
	expect_err(f, "@C: cannot read: No such file or directory\n");
}

static void
test_directory_as_file(void **state)
{
	struct fx *f = *state;

	free(f->cfg);
	f->cfg = xstrdup(f->dir);
	load(f, NULL, 0);
	expect_err(f, "@C: cannot read: Is a directory\n");
}

static void
test_syntax_error(void **state)
{
	struct fx *f = *state;

	load(f, PUB "slack = {\n  enabled = ;\n};\n", 0);
	expect_err(f, "@C:3: syntax error: syntax error\n");
	load(f, PUB "prompts = { max_prompts = 3; };\nprompts = { max_prompts = 4; };\n", 0);
	expect_err(f, "@C:3: syntax error: duplicate setting name\n");
}

static void
test_include_refused(void **state)
{
	struct fx *f = *state;

	load(f, PUB "  @include \"other.cfg\"\n", 0);
	expect_err(f, "@C:2: @include is not supported; keep the whole config in one file\n");
}

static void
test_nul_byte(void **state)
{
	struct fx *f = *state;
	char *p = in_dir(f, "peoplesync.cfg");
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_int_equal(write(fd, PUB "a\0b", sizeof(PUB "a\0b") - 1), (ssize_t)sizeof(PUB "a\0b") - 1);
	close(fd);
	free(p);
	load(f, NULL, 0);
	expect_err(f, "@C:2: syntax error: NUL byte\n");
}

/* ---- unknown keys -------------------------------------------------------------------------- */

static void
test_unknown_keys(void **state)
{
	struct fx *f = *state;

	load(f,
	    PUB
	    "slack = {\n"
	    "  enabled = false;\n"
	    "  bot_tokn_file = \"x\";\n"
	    "  rate = { post = { per_secnd = 1; }; };\n"
	    "};\n"
	    "prompts = { cooldown_hour = 5; };\n"
	    "frobnicate = 1;\n"
	    "bot_token_file = \"x\";\n"
	    "slak = { enabled = true; };\n"
	    "Database = \"/x\";\n", 0);
	expect_err(f,
	    "@C:4: slack.bot_tokn_file: unknown key; did you mean 'slack.bot_token_file'?\n"
	    "@C:5: slack.rate.post.per_secnd: unknown key; did you mean 'slack.rate.post.per_second'?\n"
	    "@C:7: prompts.cooldown_hour: unknown key; did you mean 'prompts.cooldown_hours'?\n"
	    "@C:8: frobnicate: unknown key\n"
	    "@C:9: bot_token_file: unknown key; did you mean 'slack.bot_token_file'?\n"
	    "@C:10: slak: unknown key; did you mean 'slack'?\n"
	    "@C:11: Database: unknown key; did you mean 'database'?\n");
}

/* ---- types and ranges ---------------------------------------------------------------------- */

static void
test_type_errors(void **state)
{
	struct fx *f = *state;

	load(f,
	    PUB
	    "slack = {\n"
	    "  enabled = 1;\n"
	    "  page_limit = \"200\";\n"
	    "};\n"
	    "prompts = { cooldown_hours = 1.5; quiet_hours = 20; };\n"
	    "reconcile = { max_deactivate_share = true; };\n"
	    "http = \"fast\";\n"
	    "identity = { platform_order = \"slack\"; domain_aliases = \"a.com=b.com\"; };\n"
	    "map_size_mb = [1, 2];\n", 0);
	expect_err(f,
	    "@C:3: slack.enabled: expected true or false, not an integer\n"
	    "@C:4: slack.page_limit: expected an integer, not a string\n"
	    "@C:6: prompts.cooldown_hours: expected an integer, not a float\n"
	    "@C:6: prompts.quiet_hours: expected a string, not an integer\n"
	    "@C:7: reconcile.max_deactivate_share: expected a number, not a boolean\n"
	    "@C:8: http: expected a group { ... }, not a string\n"
	    "@C:9: identity.platform_order: expected a list of platform names, not a string\n"
	    "@C:9: identity.domain_aliases: expected a list of (\"from\", \"to\") pairs, not a string\n"
	    "@C:10: map_size_mb: expected an integer, not an array\n");
}

static void
test_int_accepted_for_float(void **state)
{
	struct fx *f = *state;

	load(f, PUB "reconcile = { max_deactivate_share = 1; };\nhttp = { max_retry_after = 30; };\n"
	    "map_size_mb = 8192L;\n", 0);
	expect_ok(f);
	assert_true(f->c.reconcile.max_deactivate_share == 1.0);
	assert_true(f->c.http.max_retry_after == 30.0);
	assert_int_equal(f->c.map_size_mb, 8192);
}

static void
test_range_errors(void **state)
{
	struct fx *f = *state;

	load(f,
	    PUB
	    "slack = { enabled = false; page_limit = 5000; };\n"
	    "teams = { enabled = false; page_size = 0; };\n"
	    "webex = { enabled = false; page_max = 99999999999; };\n"
	    "reconcile = { max_deactivate_share = 1.5; };\n"
	    "link_ttl_hours = -1;\n"
	    "map_size_mb = 99999999999L;\n"
	    "http = { max_retry_after = 1e400; };\n", 0);
	expect_err(f,
	    "@C:2: slack.page_limit: 5000 is out of range (1..1000)\n"
	    "@C:3: teams.page_size: 0 is out of range (1..999)\n"
	    "@C:4: webex.page_max: integer too large (range 1..1000)\n"
	    "@C:5: reconcile.max_deactivate_share: 1.5 is out of range (0..1)\n"
	    "@C:6: link_ttl_hours: -1 is out of range (1..8760)\n"
	    "@C:7: map_size_mb: 99999999999 is out of range (1..1048576)\n"
	    "@C:8: http.max_retry_after: inf is out of range (0..3600)\n");
}

/* A wrapped 32-bit value that happens to land in range is still refused. */
static void
test_wrapped_integer_refused(void **state)
{
	struct fx *f = *state;

	/* 4294967496 wraps to 200 in libconfig 1.5. */
	load(f, PUB "slack = { enabled = false;\n  page_limit = 4294967496; };\n", 0);
	expect_err(f, "@C:3: slack.page_limit: integer too large (range 1..1000)\n");
}

static void
test_http_timeouts(void **state)
{
	struct fx *f = *state;

	load(f, PUB "http = {\n  connect_timeout = 100;\n  timeout = 50;\n};\n", 0);
	expect_err(f, "@C:3: http.connect_timeout: 100 is longer than http.timeout (50)\n");
	load(f, PUB "http = {\n  backoff_base = 5;\n  backoff_max = 2.5;\n  max_body_mb = 0;\n};\n", 0);
	expect_err(f,
	    "@C:5: http.max_body_mb: 0 is out of range (1..4096)\n"
	    "@C:3: http.backoff_base: 5 is more than http.backoff_max (2.5)\n");
	/* The e2e harness's settings. */
	load(f, PUB "http = { retries = 3; backoff_base = 0.05; backoff_max = 0.5; timeout = 10; };\n", 0);
	expect_ok(f);
}

/* ---- secrets ------------------------------------------------------------------------------- */

#define SLACK_FILE(name) PUB "slack = {\n  enabled = true;\n  bot_token_file = \"" name "\";\n};\n"

static void
test_secret_group_readable(void **state)
{
	struct fx *f = *state;

	put(f, "bot.token", "xoxb-1\n", 0640);
	load(f, SLACK_FILE("bot.token"), 0);
	expect_err(f, "@C:4: slack.bot_token_file: @D/bot.token is readable by group or others "
	    "(mode 0640); chmod 600 it\n");
	put(f, "bot.token", "xoxb-1\n", 0604);
	load(f, SLACK_FILE("bot.token"), 0);
	expect_err(f, "@C:4: slack.bot_token_file: @D/bot.token is readable by group or others "
	    "(mode 0604); chmod 600 it\n");
	put(f, "bot.token", "xoxb-1\n", 0620);
	load(f, SLACK_FILE("bot.token"), 0);
	expect_err(f, "@C:4: slack.bot_token_file: @D/bot.token is writable by group or others "
	    "(mode 0620); chmod 600 it\n");
	put(f, "bot.token", "xoxb-1\n", 0400);
	load(f, SLACK_FILE("bot.token"), 0);
	expect_ok(f);
}

static void
test_secret_missing_empty_dir(void **state)
{
	struct fx *f = *state;
	char *d = in_dir(f, "adir");

	load(f, SLACK_FILE("none.token"), 0);
	expect_err(f, "@C:4: slack.bot_token_file: @D/none.token: No such file or directory; "
	    "put the secret in it (one line, mode 0600)\n");
	put(f, "empty.token", "\n", 0600);
	load(f, SLACK_FILE("empty.token"), 0);
	expect_err(f, "@C:4: slack.bot_token_file: @D/empty.token is empty; put the secret in it "
	    "(one line, mode 0600)\n");
	put(f, "empty.token", "", 0600);
	load(f, SLACK_FILE("empty.token"), 0);
	expect_err(f, "@C:4: slack.bot_token_file: @D/empty.token is empty; put the secret in it "
	    "(one line, mode 0600)\n");
	assert_int_equal(mkdir(d, 0700), 0);
	load(f, SLACK_FILE("adir"), 0);
	expect_err(f, "@C:4: slack.bot_token_file: @D/adir: not a regular file\n");
	free(d);
}

static void
test_secret_trailing_newline(void **state)
{
	struct fx *f = *state;

	put(f, "bot.token", "xoxb-abc\n", 0600);
	load(f, SLACK_FILE("bot.token"), 0);
	expect_ok(f);
	assert_string_equal(f->c.plat[PLAT_SLACK].token, "xoxb-abc");
	put(f, "bot.token", "xoxb-abc\r\n", 0600);
	load(f, SLACK_FILE("bot.token"), 0);
	expect_ok(f);
	assert_string_equal(f->c.plat[PLAT_SLACK].token, "xoxb-abc");
	put(f, "bot.token", "xoxb-abc", 0600);
	load(f, SLACK_FILE("bot.token"), 0);
	expect_ok(f);
	assert_string_equal(f->c.plat[PLAT_SLACK].token, "xoxb-abc");
	/* Only one newline is trimmed; what remains is not a token. */
	put(f, "bot.token", "xoxb-abc\n\n", 0600);
	load(f, SLACK_FILE("bot.token"), 0);
	expect_err(f, "@C:4: slack.bot_token_file: @D/bot.token: contains control characters\n");
}

static void
test_secret_absolute_path(void **state)
{
	struct fx *f = *state;
	char *p = in_dir(f, "abs.token"), *text;

	put(f, "abs.token", "tok\n", 0600);
	text = xasprintf(PUB "webex = { token_file = \"%s\"; };\n", p);
	load(f, text, 0);
	expect_ok(f);
	assert_string_equal(f->c.plat[PLAT_WEBEX].token, "tok");
	free(text);
	free(p);
}

static void
test_secret_env(void **state)
{
	struct fx *f = *state;

	setenv("PS_TEST_TOKEN", "xoxb-from-env", 1);
	setenv("PS_TEST_EMPTY", "", 1);
	unsetenv("PS_TEST_UNSET");
	load(f, PUB "slack = { bot_token_env = \"PS_TEST_TOKEN\"; };\n", 0);
	expect_ok(f);
	assert_string_equal(f->c.plat[PLAT_SLACK].token, "xoxb-from-env");
	load(f,
	    PUB
	    "slack = {\n  bot_token_env = \"PS_TEST_UNSET\";\n};\n"
	    "webex = {\n  token_env = \"PS_TEST_EMPTY\";\n};\n"
	    "teams = {\n  tenant_id = \"t\"; client_id = \"c\";\n  client_secret_env = \"1BAD\";\n};\n",
	    0);
	expect_err(f,
	    "@C:3: slack.bot_token_env: environment variable PS_TEST_UNSET is not set\n"
	    "@C:6: webex.token_env: environment variable PS_TEST_EMPTY is empty\n"
	    "@C:10: teams.client_secret_env: \"1BAD\" is not an environment variable name\n");
	unsetenv("PS_TEST_TOKEN");
	unsetenv("PS_TEST_EMPTY");
}

static void
test_secret_file_and_env(void **state)
{
	struct fx *f = *state;

	setenv("PS_TEST_TOKEN", "xoxb-from-env", 1);
	put(f, "bot.token", "xoxb-1\n", 0600);
	load(f,
	    PUB
	    "slack = {\n"
	    "  bot_token_file = \"bot.token\";\n"
	    "  bot_token_env = \"PS_TEST_TOKEN\";\n"
	    "};\n", 0);
	expect_err(f, "@C:4: slack.bot_token_env: conflicts with slack.bot_token_file (line 3); "
	    "give only one\n");
	unsetenv("PS_TEST_TOKEN");
}

/* No secret value ever reaches a message, whatever else goes wrong. */
static void
test_secret_never_in_messages(void **state)
{
	struct fx *f = *state;

	setenv("PS_TEST_TOKEN", "SEKRIT-env", 1);
	put(f, "bot.token", "SEKRIT-file\001\n", 0600);
	put(f, "teams.secret", "SEKRIT-teams\n", 0644);
	put(f, "link.key", "SEKRIT-short\n", 0600);
	load(f,
	    "link_key_file = \"link.key\";\n"
	    "slack = { bot_token_file = \"bot.token\"; oauth = { client_id = \"x\"; }; };\n"
	    "webex = { token_env = \"PS_TEST_TOKEN\"; page_max = 0; };\n"
	    "teams = { tenant_id = \"t\"; client_id = \"c\"; client_secret_file = \"teams.secret\"; };\n"
	    "public_url = \"https://user:SEKRIT@host\";\n", 0);
	assert_int_equal(f->rc, -1);
	assert_non_null(strstr(f->err, "bot.token: contains control characters"));
	assert_non_null(strstr(f->err, "credentials in a URL are not allowed"));
	assert_null(strstr(f->err, "SEKRIT"));
	unsetenv("PS_TEST_TOKEN");
}

static void
test_required_when_enabled(void **state)
{
	struct fx *f = *state;

	load(f,
	    "slack = {\n"
	    "  enabled = true;\n"
	    "};\n"
	    "teams = {\n"
	    "  enabled = true;\n"
	    "};\n"
	    "webex = {\n"
	    "};\n", 0);
	expect_err(f,
	    "@C: public_url: required\n"
	    "@C:1: slack.bot_token_file: required when slack is enabled (or give slack.bot_token_env)\n"
	    "@C:4: teams.tenant_id: required when teams is enabled\n"
	    "@C:4: teams.client_id: required when teams is enabled\n"
	    "@C:4: teams.client_secret_file: required when teams is enabled "
	    "(or give teams.client_secret_env)\n"
	    "@C:7: webex.token_file: required when webex is enabled (or give webex.token_env)\n");
}

static void
test_disabled_without_secrets(void **state)
{
	struct fx *f = *state;

	load(f,
	    PUB
	    "database = \"db\";\n"
	    "teams = { enabled = false; client_secret_file = \"/nonexistent/teams.secret\";\n"
	    "          service_user_refresh_token_file = \"/nonexistent/su.token\"; };\n"
	    "webex = { enabled = false; token_file = \"/nonexistent/webex.token\";\n"
	    "          oauth = { client_id = \"x\"; }; };\n"
	    "slack = { enabled = false; bot_token_env = \"PS_TEST_SURELY_UNSET\"; };\n", 1);
	expect_ok(f);
	assert_false(f->c.plat[PLAT_TEAMS].enabled);
	assert_false(f->c.plat[PLAT_WEBEX].enabled);
	assert_false(f->c.plat[PLAT_SLACK].enabled);
	assert_null(f->c.teams.client_secret);
	assert_null(f->c.teams.service_user_refresh_token);
	assert_null(f->c.plat[PLAT_WEBEX].token);
	assert_null(f->c.plat[PLAT_SLACK].token);
}

static void
test_teams_oauth_fallback(void **state)
{
	struct fx *f = *state;

	put(f, "teams.secret", "s3cret\n", 0600);
	put(f, "oauth.secret", "other\n", 0600);
	load(f,
	    PUB
	    "teams = { tenant_id = \"0e3b1a52-7d4c-4a6e-9c1f-2b8e5d6a7f90\"; client_id = \"app\";\n"
	    "          client_secret_file = \"teams.secret\"; };\n", 0);
	expect_ok(f);
	assert_string_equal(f->c.plat[PLAT_TEAMS].oauth.client_id, "app");
	assert_string_equal(f->c.plat[PLAT_TEAMS].oauth.client_secret, "s3cret");
	/* the tenant's name is Graph's (GET /organization) unless tenant_name overrides it */
	assert_null(f->c.plat[PLAT_TEAMS].team_name);
	assert_string_equal(f->c.plat[PLAT_TEAMS].oauth.authorize_url, "https://login.microsoftonline.com/"
	    "0e3b1a52-7d4c-4a6e-9c1f-2b8e5d6a7f90/oauth2/v2.0/authorize");
	load(f,
	    PUB
	    "teams = { tenant_id = \"t\"; client_id = \"app\"; client_secret_file = \"teams.secret\";\n"
	    "          oauth = { client_secret_file = \"oauth.secret\"; }; };\n", 0);
	expect_ok(f);
	assert_string_equal(f->c.plat[PLAT_TEAMS].oauth.client_id, "app");
	assert_string_equal(f->c.plat[PLAT_TEAMS].oauth.client_secret, "other");
	load(f, PUB "teams = { enabled = false; tenant_id = \"not a tenant\"; };\n", 0);
	expect_err(f, "@C:2: teams.tenant_id: \"not a tenant\" is not a tenant id "
	    "(a GUID or a domain name)\n");
}

static void
test_oauth_pairs(void **state)
{
	struct fx *f = *state;

	setenv("PS_TEST_TOKEN", "tok", 1);
	setenv("PS_TEST_SECRET", "sec", 1);
	load(f,
	    PUB
	    "slack = { bot_token_env = \"PS_TEST_TOKEN\";\n"
	    "  oauth = { client_id = \"123.456\"; }; };\n"
	    "webex = { token_env = \"PS_TEST_TOKEN\";\n"
	    "  oauth = { client_secret_env = \"PS_TEST_SECRET\"; }; };\n", 0);
	expect_err(f,
	    "@C:3: slack.oauth.client_id: given without slack.oauth.client_secret_file or "
	    "slack.oauth.client_secret_env\n"
	    "@C:5: webex.oauth.client_secret_env: given without webex.oauth.client_id\n");
	unsetenv("PS_TEST_TOKEN");
	unsetenv("PS_TEST_SECRET");
}

/* ---- keys ---------------------------------------------------------------------------------- */

static void
test_link_key(void **state)
{
	struct fx *f = *state;

	put(f, "link.key", "short\n", 0600);
	load(f, PUB "link_key_file = \"link.key\";\n", 0);
	expect_err(f, "@C:2: link_key_file: @D/link.key holds 5 bytes; a key needs at least 32 "
	    "(openssl rand -hex 32 > @D/link.key)\n");
	put(f, "link.key", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
	    0644);
	load(f, PUB "link_key_file = \"link.key\";\n", 0);
	expect_err(f, "@C:2: link_key_file: @D/link.key is readable by group or others "
	    "(mode 0644); chmod 600 it\n");
	put(f, "link.key", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
	    0600);
	load(f, PUB "link_key_file = \"link.key\";\ntoken_key_file = \"nope.key\";\n", 0);
	expect_err(f, "@C:3: token_key_file: @D/nope.key: No such file or directory; put a key in "
	    "it (openssl rand -hex 32), mode 0600\n");
	load(f, PUB "link_key_file = \"link.key\";\n", 0);
	expect_ok(f);
	assert_int_equal(f->c.link_key_len, 64);
	assert_memory_equal(f->c.link_key, "0123456789abcdef0123456789abcdef", 32);
}

/* Without token_key_file the token key is HKDF-SHA-256(link key, label): the expected bytes
 * were computed independently (RFC 5869 by hand with Python's hmac). With the file, its bytes. */
static void
test_token_key_derived(void **state)
{
	struct fx *f = *state;
	static const unsigned char want[32] =
	    "\xec\x54\xfd\x8e\xb2\x45\xe9\x8b\xe3\x66\x31\x64\x9a\x37\x4d\x7d"
	    "\x66\xa3\x9f\xee\xb2\xc2\x1d\x27\x3a\xa4\xe2\x3f\xd2\x40\x7e\x82";

	put(f, "link.key", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
	    0600);
	load(f, PUB "link_key_file = \"link.key\";\n", 0);
	expect_ok(f);
	assert_int_equal(f->c.token_key_derived, 1);
	assert_int_equal(f->c.token_key_len, 32);
	assert_memory_equal(f->c.token_key, want, 32);

	put(f, "token.key", "fedcba9876543210fedcba9876543210\n", 0600);
	load(f, PUB "link_key_file = \"link.key\";\ntoken_key_file = \"token.key\";\n", 0);
	expect_ok(f);
	assert_int_equal(f->c.token_key_derived, 0);
	assert_int_equal(f->c.token_key_len, 32);
	assert_memory_equal(f->c.token_key, "fedcba9876543210fedcba9876543210", 32);

	load(f, PUB, 0);
	expect_ok(f);
	assert_null(f->c.token_key);
}

/* ---- URLs ---------------------------------------------------------------------------------- */

static void
test_url_http_refused(void **state)
{
	struct fx *f = *state;

	load(f,
	    "public_url = \"http://sync.example.com\";\n"
	    "slack = { enabled = false;\n"
	    "  api_url = \"http://slack.example.com/api\"; };\n"
	    "teams = { enabled = false;\n"
	    "  graph_url = \"http://127.0.0.1.nip.io/v1.0\";\n"
	    "  login_url = \"ftp://login.example.com\"; };\n"
	    "webex = { enabled = false;\n"
	    "  api_url = \"https://\";\n"
	    "  oauth = { authorize_url = \"https://webex.example.com:0/authorize\";\n"
	    "            token_url = \"https://webex.example.com/a#b\"; }; };\n"
	    "http = { ca_file = \"\"; };\n", 0);
	expect_err(f,
	    "@C:1: public_url: http://sync.example.com is not https and its host is not loopback "
	    "(localhost, 127.0.0.0/8, [::1])\n"
	    "@C:3: slack.api_url: http://slack.example.com/api is not https and its host is not "
	    "loopback (localhost, 127.0.0.0/8, [::1])\n"
	    "@C:5: teams.graph_url: http://127.0.0.1.nip.io/v1.0 is not https and its host is not "
	    "loopback (localhost, 127.0.0.0/8, [::1])\n"
	    "@C:6: teams.login_url: ftp://login.example.com is not a URL "
	    "(expected https://host[:port][/path])\n"
	    "@C:8: webex.api_url: https://: bad host name\n"
	    "@C:9: webex.oauth.authorize_url: https://webex.example.com:0/authorize: "
	    "bad port (1..65535)\n"
	    "@C:10: webex.oauth.token_url: https://webex.example.com/a#b: a base URL takes no "
	    "fragment or spaces\n"
	    "@C:11: http.ca_file: must not be empty\n");
}

static void
test_url_loopback_ok(void **state)
{
	struct fx *f = *state;

	load(f,
	    "public_url = \"http://127.0.0.1:8080/\";\n"
	    "slack = { enabled = false; api_url = \"http://127.0.0.1:18081/api/\"; };\n"
	    "teams = { enabled = false; graph_url = \"http://localhost:18082/v1.0\";\n"
	    "          login_url = \"http://127.5.6.7:9\"; };\n"
	    "webex = { enabled = false; api_url = \"http://[::1]:18083/v1\"; };\n", 0);
	expect_ok(f);
	assert_string_equal(f->c.public_url, "http://127.0.0.1:8080");
	assert_string_equal(f->c.plat[PLAT_SLACK].api_url, "http://127.0.0.1:18081/api");
	assert_string_equal(f->c.plat[PLAT_SLACK].oauth.token_url, "http://127.0.0.1:18081/api/oauth.v2.access");
	assert_string_equal(f->c.plat[PLAT_TEAMS].api_url, "http://localhost:18082/v1.0");
	assert_string_equal(f->c.plat[PLAT_WEBEX].api_url, "http://[::1]:18083/v1");
	assert_string_equal(f->c.plat[PLAT_WEBEX].oauth.token_url, "http://[::1]:18083/v1/access_token");
}

/* ---- identity ------------------------------------------------------------------------------ */

static void
test_domain_aliases(void **state)
{
	struct fx *f = *state;

	load(f,
	    PUB
	    "identity = { domain_aliases = ( (\"Corp.OnMicrosoft.COM\", \"CORP.com\"),\n"
	    "                                [\"Old.Example\", \"Example.COM\"] ); };\n", 0);
	expect_ok(f);
	assert_int_equal(f->c.identity.naliases, 2);
	assert_string_equal(f->c.identity.aliases[0].from, "corp.onmicrosoft.com");
	assert_string_equal(f->c.identity.aliases[0].to, "corp.com");
	assert_string_equal(f->c.identity.aliases[1].from, "old.example");
	assert_string_equal(f->c.identity.aliases[1].to, "example.com");

	load(f,
	    PUB
	    "identity = { domain_aliases = (\n"
	    "  (\"a.com\", \"A.com\"),\n"
	    "  (\"b.com\"),\n"
	    "  (\"c.com\", \"d.com\"),\n"
	    "  (\"C.com\", \"e.com\"),\n"
	    "  (\"bad domain\", \"e.com\"),\n"
	    "  (\"d.com\", \"f.com\")\n"
	    "); };\n", 0);
	expect_err(f,
	    "@C:3: identity.domain_aliases[0]: maps a.com to itself\n"
	    "@C:4: identity.domain_aliases[1]: expected (\"from.example\", \"to.example\")\n"
	    "@C:6: identity.domain_aliases[3]: c.com is already mapped to d.com\n"
	    "@C:7: identity.domain_aliases[4]: \"bad domain\" is not a domain\n"
	    "@C:2: identity.domain_aliases: c.com maps to d.com, which is itself an alias of "
	    "f.com\n");
}

static void
test_platform_order(void **state)
{
	struct fx *f = *state;

	load(f, PUB "identity = { platform_order = [\"webex\", \"slack\"]; };\n", 0);
	expect_ok(f);
	assert_int_equal(f->c.identity.norder, 3);
	assert_int_equal(f->c.identity.order[0], PLAT_WEBEX);
	assert_int_equal(f->c.identity.order[1], PLAT_SLACK);
	assert_int_equal(f->c.identity.order[2], PLAT_TEAMS);
	load(f, PUB "identity = { platform_order = [\"webex\", \"zoom\", \"webex\"]; };\n", 0);
	expect_err(f,
	    "@C:2: identity.platform_order: unknown platform \"zoom\" (slack, teams, webex)\n"
	    "@C:2: identity.platform_order: webex is listed twice\n");
	load(f, PUB "identity = { platform_order = []; };\n", 0);
	expect_err(f, "@C:2: identity.platform_order: names no platform (slack, teams, webex)\n");
}

/* ---- prompts, serve ------------------------------------------------------------------------ */

static void
test_quiet_hours_tz_listen(void **state)
{
	struct fx *f = *state;

	load(f, PUB "prompts = { quiet_hours = \"\"; default_tz = \"America/New_York\"; };\n"
	    "serve = { listen = \"[::1]:9090\"; };\n", 0);
	expect_ok(f);
	assert_int_equal(f->c.prompts.quiet_start, -1);
	assert_int_equal(f->c.prompts.quiet_end, -1);
	assert_string_equal(f->c.prompts.default_tz, "America/New_York");
	assert_string_equal(f->c.serve.listen, "[::1]:9090");
	load(f,
	    PUB
	    "prompts = {\n"
	    "  quiet_hours = \"25:00-08:00\";\n"
	    "  default_tz = \"../etc/passwd\";\n"
	    "};\n"
	    "serve = { listen = \"localhost\"; };\n", 0);
	expect_err(f,
	    "@C:3: prompts.quiet_hours: \"25:00-08:00\" is not HH:MM-HH:MM (or \"\" for none)\n"
	    "@C:4: prompts.default_tz: \"../etc/passwd\" is not a time zone name (like Europe/Paris)\n"
	    "@C:6: serve.listen: \"localhost\" is not ADDR:PORT (like 127.0.0.1:8080)\n");
	load(f, PUB "prompts = { quiet_hours = \"08:00-08:00\"; };\n", 0);
	expect_err(f, "@C:2: prompts.quiet_hours: \"08:00-08:00\" is not HH:MM-HH:MM (or \"\" for none)\n");
}

static void
test_rates_and_aliases(void **state)
{
	struct fx *f = *state;

	load(f, PUB "slack = { enabled = false; rate = { open = { per_minute = 120; }; }; };\n"
	    "db = { map_size_mb = 100; };\n", 0);
	expect_ok(f);
	assert_true(f->c.plat[PLAT_SLACK].rate[RATE_OPEN].per_second == 2.0);
	assert_int_equal(f->c.plat[PLAT_SLACK].rate[RATE_OPEN].burst, 5);
	assert_int_equal(f->c.map_size_mb, 100);
	load(f,
	    PUB
	    "slack = { enabled = false; rate = { open = {\n"
	    "  per_minute = 120;\n"
	    "  per_second = 2; }; }; };\n"
	    "map_size_mb = 1;\n"
	    "db = { map_size_mb = 2; };\n", 0);
	expect_err(f,
	    "@C:4: slack.rate.open.per_second: conflicts with slack.rate.open.per_minute (line 3); "
	    "give only one\n"
	    "@C:6: db.map_size_mb: conflicts with map_size_mb (line 5); give only one\n");
}

/* ---- paths --------------------------------------------------------------------------------- */

static void
test_relative_paths(void **state)
{
	struct fx *f = *state;
	char *db = in_dir(f, "db"), *spool = in_dir(f, "sub/spool");

	load(f, PUB "database = \"db\";\nevents = { spool_dir = \"sub/spool\"; };\n", 0);
	expect_ok(f);
	assert_string_equal(f->c.database, db);
	assert_string_equal(f->c.events.spool_dir, spool);
	free(db);
	free(spool);
}

static void
test_check_files(void **state)
{
	struct fx *f = *state;
	const char *text = PUB
	    "database = \"/nonexistent-ps-test/sub/db\";\n"
	    "events = { spool_dir = \"spool.file\"; };\n"
	    "metrics = { file = \"/nonexistent-ps-test/m.prom\"; };\n";

	put(f, "spool.file", "", 0600);
	load(f, text, 0);
	expect_ok(f);
	load(f, text, 1);
	expect_err(f,
	    "@C:2: database: /nonexistent-ps-test/sub/db does not exist and cannot be created: "
	    "/nonexistent-ps-test/sub: No such file or directory\n"
	    "@C:3: events.spool_dir: @D/spool.file is not a directory\n"
	    "@C:4: metrics.file: /nonexistent-ps-test: No such file or directory\n");
	load(f, PUB "database = \"db\";\nevents = { spool_dir = \"nospool\"; };\n", 1);
	expect_err(f, "@C:3: events.spool_dir: @D/nospool: No such file or directory\n");
	load(f, PUB "database = \"db\";\n", 1);
	expect_ok(f);
}

/* ---- config from memory -------------------------------------------------------------------- */

static void
test_load_string(void **state)
{
	struct fx *f = *state;
	char cwd[PATH_MAX], *want;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	want = xasprintf("%s/demo-db", cwd);
	load_string(f, "demo", PUB "database = \"demo-db\";\n");
	expect_ok(f);
	assert_string_equal(f->c.database, want);
	assert_string_equal(f->c.path, "demo");
	load_string(f, "demo", PUB "slack = {\n  enabld = false;\n};\n");
	assert_int_equal(f->rc, -1);
	assert_string_equal(f->err, "demo:3: slack.enabld: unknown key; did you mean "
	    "'slack.enabled'?\n"
	    "demo:2: slack.bot_token_file: required when slack is enabled "
	    "(or give slack.bot_token_env)\n");
	load_string(f, "demo", "");
	assert_int_equal(f->rc, -1);
	assert_string_equal(f->err, "demo: public_url: required\n");
	free(want);
}

/* ---- odds and ends ------------------------------------------------------------------------- */

static void
test_platform_name_parse(void **state)
{
	enum platform p;

	(void)state;
	assert_string_equal(platform_name(PLAT_SLACK), "slack");
	assert_string_equal(platform_name(PLAT_TEAMS), "teams");
	assert_string_equal(platform_name(PLAT_WEBEX), "webex");
	assert_string_equal(platform_name(PLAT_COUNT), "?");
	assert_int_equal(platform_parse("teams", &p), 0);
	assert_int_equal(p, PLAT_TEAMS);
	assert_int_equal(platform_parse("Webex", &p), 0);
	assert_int_equal(p, PLAT_WEBEX);
	assert_int_equal(platform_parse("zoom", &p), -1);
	assert_int_equal(platform_parse("", &p), -1);
}

static void
test_free_null_and_twice(void **state)
{
	struct fx *f = *state;
	struct config c;

	config_free(NULL);
	memset(&c, 0, sizeof(c));
	config_free(&c);
	load(f, PUB, 0);
	expect_ok(f);
	config_free(&f->c);
	config_free(&f->c);
	assert_null(f->c.database);
}

static void
test_strings_checked(void **state)
{
	struct fx *f = *state;

	load(f,
	    PUB
	    "webex = { enabled = false;\n"
	    "  org_name = \"a\\x01b\";\n"
	    "  oauth = { client_id = \"has space\"; }; };\n"
	    "teams = { enabled = false; tenant_name = \"\\xff\"; };\n"
	    "database = \"\";\n", 0);
	expect_err(f,
	    "@C:3: webex.org_name: contains control characters\n"
	    "@C:4: webex.oauth.client_id: must not contain spaces\n"
	    "@C:5: teams.tenant_name: not valid UTF-8\n"
	    "@C:6: database: must not be empty\n");
}


/* ---- slack.workspaces ---------------------------------------------------------------------- */

static void
test_workspaces_list(void **state)
{
	struct fx *f = *state;
	const struct cfg_platform *w0, *w1;

	setenv("PS_TEST_TOK_A", "xoxb-a", 1);
	setenv("PS_TEST_TOK_G", "xoxb-g", 1);
	load(f, PUB "slack = {\n"
	    "  page_limit = 300; bot_token_env = \"PS_TEST_TOK_A\";\n"
	    "  rate = { post = { per_second = 2; }; };\n"
	    "  workspaces = (\n"
	    "    { team_id = \"T1\"; },\n"
	    "    { bot_token_env = \"PS_TEST_TOK_G\"; org_wide = true;\n"
	    "      api_url = \"http://127.0.0.1:9/api\"; rate = { post = { burst = 7; }; }; }\n"
	    "  );\n"
	    "};\n", 0);
	expect_ok(f);
	assert_int_equal(config_ninst(&f->c, PLAT_SLACK), 2);
	assert_int_equal(config_ninst(&f->c, PLAT_TEAMS), 1);
	w0 = config_inst(&f->c, PLAT_SLACK, 0);
	w1 = config_inst(&f->c, PLAT_SLACK, 1);
	assert_null(config_inst(&f->c, PLAT_SLACK, 2));
	/* the keys outside the list are the defaults of each entry */
	assert_string_equal(w0->token, "xoxb-a");
	assert_string_equal(w0->team_id, "T1");
	assert_int_equal(w0->page_size, 300);
	assert_string_equal(w0->api_url, "https://slack.com/api");
	assert_string_equal(w0->oauth.token_url, "https://slack.com/api/oauth.v2.access");
	assert_int_equal(w0->org_wide, 0);
	assert_int_equal(w0->index, 0);
	assert_true(w0->rate[RATE_POST].per_second == 2);
	assert_string_equal(w1->token, "xoxb-g");
	assert_int_equal(w1->org_wide, 1);
	assert_int_equal(w1->index, 1);
	assert_string_equal(w1->api_url, "http://127.0.0.1:9/api");
	assert_string_equal(w1->oauth.token_url, "http://127.0.0.1:9/api/oauth.v2.access");
	assert_true(w1->rate[RATE_POST].per_second == 2);
	assert_int_equal(w1->rate[RATE_POST].burst, 7);
	assert_ptr_equal(config_inst_by_team(&f->c, PLAT_SLACK, "T1"), w0);
	assert_null(config_inst_by_team(&f->c, PLAT_SLACK, "T2"));
	/* the one-workspace form is the one-entry list */
	load(f, PUB "slack = { bot_token_env = \"PS_TEST_TOK_G\"; team_id = \"T9\"; };\n", 0);
	expect_ok(f);
	assert_int_equal(config_ninst(&f->c, PLAT_SLACK), 1);
	assert_ptr_equal(config_inst(&f->c, PLAT_SLACK, 0), &f->c.plat[PLAT_SLACK]);
	assert_string_equal(config_inst(&f->c, PLAT_SLACK, 0)->token, "xoxb-g");
	unsetenv("PS_TEST_TOK_A");
	unsetenv("PS_TEST_TOK_G");
	assert_ptr_equal(config_inst_by_team(&f->c, PLAT_SLACK, "T9"), &f->c.plat[PLAT_SLACK]);
}

/* Every problem of an entry names the file, the line and the entry's index. */
static void
test_workspaces_errors(void **state)
{
	static const char *const bad[][2] = {
		{ PUB "slack = { workspaces = (); };\n",
		  "@C:2: slack.workspaces: lists 0 workspaces (1..256)\n" },
		{ PUB "slack = { workspaces = { a = 1; }; };\n",
		  "@C:2: slack.workspaces: expected a list ( { ... }, ... ), not a group\n" },
	};
	struct fx *f = *state;

	put(f, "a.token", "xoxb-a\n", 0600);
	load(f, PUB "slack = {\n"
	    "  workspaces = (\n"
	    "    { bot_token_file = \"a.token\"; team_id = \"T1\"; },\n"
	    "    { team_id = \"T2\"; },\n"
	    "    { bot_token_file = \"a.token\"; auto_sync = true; page_limit = 0;\n"
	    "      colour = 1; team_id = \"T1\"; },\n"
	    "    7\n"
	    "  );\n"
	    "};\n", 0);
	expect_err(f,
	    "@C:5: slack.workspaces[1]: no bot_token_file (or bot_token_env), here or outside "
	    "slack.workspaces\n"
	    "@C:6: slack.workspaces[2].auto_sync: not a workspace's setting: give it outside "
	    "slack.workspaces\n"
	    "@C:6: slack.workspaces[2].page_limit: 0 is out of range (1..1000)\n"
	    "@C:7: slack.workspaces[2].colour: unknown key\n"
	    "@C:6: slack.workspaces[2]: team_id \"T1\" is also slack.workspaces[0]'s\n"
	    "@C:8: slack.workspaces[3]: expected a group { ... }, not an integer\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		load(f, bad[i][0], 0);
		expect_err(f, bad[i][1]);
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_full_good),
		T(test_workspaces_list),
		T(test_workspaces_errors),
		T(test_example_config_keys),
		T(test_defaults),
		T(test_block_present_means_enabled),
		T(test_missing_file),
		T(test_directory_as_file),
		T(test_syntax_error),
		T(test_include_refused),
		T(test_nul_byte),
		T(test_unknown_keys),
		T(test_type_errors),
		T(test_int_accepted_for_float),
		T(test_range_errors),
		T(test_wrapped_integer_refused),
		T(test_http_timeouts),
		T(test_secret_group_readable),
		T(test_secret_missing_empty_dir),
		T(test_secret_trailing_newline),
		T(test_secret_absolute_path),
		T(test_secret_env),
		T(test_secret_file_and_env),
		T(test_secret_never_in_messages),
		T(test_required_when_enabled),
		T(test_disabled_without_secrets),
		T(test_teams_oauth_fallback),
		T(test_oauth_pairs),
		T(test_link_key),
		T(test_token_key_derived),
		T(test_url_http_refused),
		T(test_url_loopback_ok),
		T(test_domain_aliases),
		T(test_platform_order),
		T(test_quiet_hours_tz_listen),
		T(test_rates_and_aliases),
		T(test_relative_paths),
		T(test_check_files),
		T(test_load_string),
		T(test_platform_name_parse),
		T(test_free_null_and_twice),
		T(test_strings_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
