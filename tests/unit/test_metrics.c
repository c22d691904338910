/*
 * test_metrics.c — the Prometheus textfile: every line against the text-format grammar,
 * HELP and TYPE for every family, the counts of a known database, last-success times that
 * outlive a failed run, dry runs that write nothing, and an unwritable path that fails
 * cleanly without leaving a temporary file.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "store.h"
#include "util.h"

struct fx {
	char		 dir[PATH_MAX];
	char		*file;		/* DIR/out/peoplesync.prom */
	struct store	*st;
	struct config	 cfg;
};

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
add_person(struct txn *t, const char *email, int active, int status, int primary, int type,
    enum platform *plats, int nplats)
{
	struct person p = { 0 };
	int i;

	p.email = xstrdup(email);
	p.name = xstrdup(email);
	p.active = active;
	p.status = (uint8_t)status;
	p.primary_platform = (int8_t)primary;
	p.primary_team_id = primary >= 0 ? xstrdup("T1") : NULL;
	p.sync_type = (uint8_t)type;
	assert_int_equal(store_person_put(t, &p), 0);
	for (i = 0; i < nplats; i++) {
		struct account a = { 0 };
		a.platform = plats[i];
		a.team_id = xstrdup("T1");
		a.user_id = xasprintf("%s-%d", email, i);
		account_add_email(&a, email, LINK_EMAIL);
		a.flags = active ? 0 : ACCT_DELETED;
		a.person_id = p.id;
		assert_int_equal(store_account_put(t, &a, 0), 0);
		account_free(&a);
	}
	person_free(&p);
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	enum platform slack[] = { PLAT_SLACK }, both[] = { PLAT_SLACK, PLAT_TEAMS };
	enum platform teams[] = { PLAT_TEAMS };
	struct failure fl;
	char *db, *out;
	struct txn *t;
	struct account bot = { 0 };

	snprintf(f->dir, sizeof(f->dir), "/tmp/ps_test_metrics_XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	db = xasprintf("%s/db", f->dir);
	out = xasprintf("%s/out", f->dir);
	mkdir(out, 0755);
	f->file = xasprintf("%s/peoplesync.prom", out);
	free(out);
	f->st = store_open(db, 64, 0, &fl);
	free(db);
	if (f->st == NULL)
		return -1;
	f->cfg.plat[PLAT_SLACK].enabled = 1;
	f->cfg.plat[PLAT_TEAMS].enabled = 1;
	f->cfg.metrics.file = f->file;
	t = store_begin(f->st, 1);
	add_person(t, "a@corp.com", 1, ST_OFF, PLAT_SLACK, SYNC_USER, slack, 1);
	add_person(t, "b@corp.com", 1, ST_OFF, PLAT_SLACK, SYNC_USER, both, 2);
	add_person(t, "c@corp.com", 1, ST_ON, PLAT_TEAMS, SYNC_BOT, teams, 1);
	add_person(t, "d@corp.com", 1, ST_PENDING, PLAT_SLACK, SYNC_USER, slack, 1);
	add_person(t, "e@corp.com", 0, ST_OFF, -1, SYNC_NONE, teams, 1);
	bot.platform = PLAT_SLACK;
	bot.team_id = xstrdup("T1");
	bot.user_id = xstrdup("B1");
	bot.flags = ACCT_BOT;
	assert_int_equal(store_account_put(t, &bot, 0), 0);
	account_free(&bot);
	assert_int_equal(store_commit(t), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->st);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f->file);
	free(f);
	return 0;
}

static struct metrics_run
a_run(int ok, time_t finished)
{
	struct metrics_run r;

	memset(&r, 0, sizeof(r));
	r.ok = ok;
	r.finished = finished;
	r.seconds = 1.25;
	r.p[PLAT_SLACK].ran = 1;
	r.p[PLAT_SLACK].ok = 1;
	r.p[PLAT_SLACK].pulled = 6;
	r.p[PLAT_SLACK].requests = 3;
	r.p[PLAT_TEAMS].ran = 1;
	r.p[PLAT_TEAMS].ok = ok;
	r.p[PLAT_TEAMS].errors = ok ? 0 : 1;
	r.p[PLAT_TEAMS].pulled = ok ? 2 : 0;
	r.p[PLAT_SLACK].prompts_queued = 4;
	r.p[PLAT_SLACK].prompts_sent = 2;
	r.p[PLAT_SLACK].prompts_failed = 1;
	return r;
}

static char *
slurp(const char *path)
{
	struct buf b = { 0 };

	assert_int_equal(read_file(path, 1 << 20, &b), 0);
	return b.p ? b.p : xstrdup("");
}

/*
 * The text format (version 0.0.4), as node_exporter's textfile collector parses it:
 *	# HELP name text		# TYPE name counter|gauge|histogram|summary|untyped
 *	name{label="value",...} value [timestamp]
 * Names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*, label values with
 * \\ \" \n escapes, values Go floats (or NaN, +Inf, -Inf). Plus our own rules: every family
 * has HELP then TYPE before its samples, exactly once, and no series repeats.
 */
static void
check_grammar(const char *text, int *nfamilies, int *nsamples)
{
	static const char *help_re = "^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) ([^\\\\\n]|\\\\\\\\|\\\\n)*$";
	static const char *type_re = "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
	    "(counter|gauge|histogram|summary|untyped)$";
	static const char *sample_re = "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
	    "(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
	    "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\")*,?)?\\})? "
	    "(-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|\\+Inf|-Inf)( -?[0-9]+)?$";
	regex_t help, type, sample;
	regmatch_t m[2];
	char family[256] = "", helped[256] = "", seen[64][256];
	const char *line = text, *nl;
	struct buf series = { 0 };
	int nseen = 0;

	assert_int_equal(regcomp(&help, help_re, REG_EXTENDED), 0);
	assert_int_equal(regcomp(&type, type_re, REG_EXTENDED), 0);
	assert_int_equal(regcomp(&sample, sample_re, REG_EXTENDED), 0);
	*nfamilies = *nsamples = 0;
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	buf_addc(&series, '\n');
	for (; *line; line = nl + 1) {
		char l[1024], name[256];
		size_t n;
		nl = strchr(line, '\n');
		assert_non_null(nl);
		n = (size_t)(nl - line);
		assert_true(n < sizeof(l));
		memcpy(l, line, n);
		l[n] = '\0';
		if (regexec(&help, l, 2, m, 0) == 0) {
			snprintf(name, sizeof(name), "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
			    l + m[1].rm_so);
			for (int i = 0; i < nseen; i++)
				assert_string_not_equal(seen[i], name);	/* one HELP per family */
			assert_true(nseen < 64);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
			snprintf(helped, sizeof(helped), "%s", name);
			family[0] = '\0';
			continue;
		}
		if (regexec(&type, l, 2, m, 0) == 0) {
			snprintf(name, sizeof(name), "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
			    l + m[1].rm_so);
			assert_string_equal(name, helped);		/* TYPE right after HELP */
			assert_non_null(strstr(l, " gauge"));
			snprintf(family, sizeof(family), "%s", name);
			(*nfamilies)++;
			continue;
		}
		if (regexec(&sample, l, 2, m, 0) != 0)
			fail_msg("not a line of the text format: '%s'", l);
		snprintf(name, sizeof(name), "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
		    l + m[1].rm_so);
		assert_string_equal(name, family);	/* a sample of the announced family */
		{
			/* the series (name and labels) appears once */
			char *sp = strrchr(l, ' ');
			struct buf key = { 0 };
			buf_addc(&key, '\n');
			buf_add(&key, l, (size_t)(sp - l));
			buf_addc(&key, '\n');
			assert_null(strstr(series.p, key.p));
			buf_add(&series, key.p + 1, key.len - 1);
			buf_free(&key);
		}
		(*nsamples)++;
	}
	buf_free(&series);
	regfree(&help);
	regfree(&type);
	regfree(&sample);
}

/* The value of the sample whose text before the value is exactly series. */
static double
sample(const char *text, const char *series)
{
	char *k = xasprintf("\n%s ", series);
	const char *p = strstr(text, k);
	double v;

	if (p == NULL)
		fail_msg("no sample %s in\n%s", series, text);
	v = strtod(p + strlen(k), NULL);
	free(k);
	return v;
}

static void
test_grammar_and_counts(void **state)
{
	struct fx *f = *state;
	struct metrics_run r = a_run(1, 1764547200);
	int nf, ns;
	char *text;
	struct stat sb;

	assert_int_equal(metrics_write(&f->cfg, f->st, &r), 0);
	text = slurp(f->file);
	check_grammar(text, &nf, &ns);
	assert_true(nf >= 18);
	assert_true(ns > nf);
	assert_int_equal(stat(f->file, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	assert_true(sample(text, "peoplesync_people{status=\"off\",primary_platform=\"slack\","
	    "sync_type=\"user\"}") == 2);
	assert_true(sample(text, "peoplesync_people{status=\"pending\",primary_platform=\"slack\","
	    "sync_type=\"user\"}") == 1);
	assert_true(sample(text, "peoplesync_people{status=\"on\",primary_platform=\"teams\","
	    "sync_type=\"bot\"}") == 1);
	/* zero series exist for every status of an enabled platform */
	assert_true(sample(text, "peoplesync_people{status=\"on\",primary_platform=\"slack\","
	    "sync_type=\"user\"}") == 0);
	/* webex is disabled: no webex series at all */
	assert_null(strstr(text, "webex"));
	assert_true(sample(text, "peoplesync_people_inactive") == 1);
	assert_true(sample(text, "peoplesync_accounts{platform=\"slack\",active=\"true\"}") == 3);
	assert_true(sample(text, "peoplesync_accounts{platform=\"teams\",active=\"true\"}") == 2);
	assert_true(sample(text, "peoplesync_accounts{platform=\"teams\",active=\"false\"}") == 1);
	assert_true(sample(text, "peoplesync_prompts_queued{platform=\"slack\"}") == 4);
	assert_true(sample(text, "peoplesync_prompts_sent{platform=\"slack\"}") == 2);
	assert_true(sample(text, "peoplesync_prompts_failed{platform=\"slack\"}") == 1);
	assert_true(sample(text, "peoplesync_run_duration_seconds") == 1.25);
	assert_true(sample(text, "peoplesync_run_success") == 1);
	assert_true(sample(text, "peoplesync_last_success_timestamp_seconds") == 1764547200);
	assert_true(sample(text, "peoplesync_platform_up{platform=\"teams\"}") == 1);
	assert_true(sample(text, "peoplesync_platform_pulled_accounts{platform=\"slack\"}") == 6);
	assert_true(sample(text, "peoplesync_platform_errors{platform=\"teams\"}") == 0);
	free(text);
}

/* A failed run reports the last success of before, and the platform that did work. */
static void
test_failed_run_keeps_last_success(void **state)
{
	struct fx *f = *state;
	struct metrics_run ok = a_run(1, 1764547200), bad = a_run(0, 1764550800);
	char *text;
	int nf, ns;

	assert_int_equal(metrics_write(&f->cfg, f->st, &ok), 0);
	assert_int_equal(metrics_write(&f->cfg, f->st, &bad), 0);
	text = slurp(f->file);
	check_grammar(text, &nf, &ns);
	assert_true(sample(text, "peoplesync_run_success") == 0);
	assert_true(sample(text, "peoplesync_last_run_timestamp_seconds") == 1764550800);
	assert_true(sample(text, "peoplesync_last_success_timestamp_seconds") == 1764547200);
	assert_true(sample(text, "peoplesync_platform_up{platform=\"teams\"}") == 0);
	assert_true(sample(text, "peoplesync_platform_errors{platform=\"teams\"}") == 1);
	assert_true(sample(text, "peoplesync_platform_last_success_timestamp_seconds{platform="
	    "\"teams\"}") == 1764547200);
	assert_true(sample(text, "peoplesync_platform_last_success_timestamp_seconds{platform="
	    "\"slack\"}") == 1764550800);
	free(text);
}

static void
test_first_run_failed(void **state)
{
	struct fx *f = *state;
	struct metrics_run bad = a_run(0, 1764550800);
	char *text;
	int nf, ns;

	bad.p[PLAT_SLACK].ok = 0;
	assert_int_equal(metrics_write(&f->cfg, f->st, &bad), 0);
	text = slurp(f->file);
	check_grammar(text, &nf, &ns);
	assert_true(sample(text, "peoplesync_last_success_timestamp_seconds") == 0);
	assert_true(sample(text, "peoplesync_platform_last_success_timestamp_seconds{platform="
	    "\"slack\"}") == 0);
	free(text);
}

static void
test_dry_run_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct metrics_run r = a_run(1, 1764547200);

	r.dry_run = 1;
	assert_int_equal(metrics_write(&f->cfg, f->st, &r), 0);
	assert_int_equal(access(f->file, F_OK), -1);
}

static void
test_no_file_configured(void **state)
{
	struct fx *f = *state;
	struct metrics_run r = a_run(1, 1764547200);
	struct buf b = { 0 };

	f->cfg.metrics.file = NULL;
	assert_int_equal(metrics_write(&f->cfg, f->st, &r), 0);
	assert_int_equal(access(f->file, F_OK), -1);
	/* the success was recorded all the same */
	r = a_run(0, 1764550800);
	assert_int_equal(metrics_format(&f->cfg, f->st, &r, &b), 0);
	assert_true(sample(b.p, "peoplesync_last_success_timestamp_seconds") ==
	    1764547200);
	buf_free(&b);
}

static void
test_unwritable_path(void **state)
{
	struct fx *f = *state;
	struct metrics_run r = a_run(1, 1764547200);
	char *dir = xasprintf("%s/out", f->dir), *missing = xasprintf("%s/nope/x.prom", f->dir);
	DIR *d;
	struct dirent *e;
	int n = 0;

	f->cfg.metrics.file = missing;
	assert_int_equal(metrics_write(&f->cfg, f->st, &r), -1);
	/* a directory in the way of the file: the rename fails, the temp file goes */
	mkdir(f->file, 0755);
	f->cfg.metrics.file = f->file;
	assert_int_equal(metrics_write(&f->cfg, f->st, &r), -1);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	assert_int_equal(n, 1);		/* only the directory that was in the way */
	free(dir);
	free(missing);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_grammar_and_counts),
		T(test_failed_run_keeps_last_success),
		T(test_first_run_failed),
		T(test_dry_run_writes_nothing),
		T(test_no_file_configured),
		T(test_unwritable_path),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
