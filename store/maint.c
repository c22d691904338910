/*
 * maint.c — maintenance: `db stats` (counts of every sub-database, map use), `db verify`
 * (the pages, then every index consistent with its records; the outcome recorded) and
 * `db backup` (a compacted copy).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "inbox.h"
#include "store_p.h"

/* ---- stats ---- */

static void
stats_head(struct store *s, struct txn *t, FILE *f)
{
	MDB_envinfo info;
	MDB_stat est;
	uint64_t writes = 0, last = 0, schema = 0;
	struct buf b = { 0 };

	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &est);
	if (store_meta_get(t, "schema", &b) == 0 && b.len == 8)
		schema = get_be64((unsigned char *)b.p);
	buf_free(&b);
	store_record_writes(t, &writes);
	st_meta_get_u64(t, "last_person_id", &last);
	fprintf(f, "database       %s\n", s->path);
	fprintf(f, "schema         %llu\n", (unsigned long long)schema);
	fprintf(f, "map size       %zu MiB, %zu MiB used (%zu pages of %u bytes)\n",
	    info.me_mapsize >> 20, ((size_t)(info.me_last_pgno + 1) * est.ms_psize) >> 20,
	    (size_t)info.me_last_pgno + 1, est.ms_psize);
	fprintf(f, "record writes  %llu\n", (unsigned long long)writes);
	fprintf(f, "last person id %llu\n", (unsigned long long)last);
}

/* The event inbox (include/inbox.h): pending events, seen keys, the receivers' counters. */
static int
inbox_stats(struct txn *t, FILE *f)
{
	static const char *const names[] = { "slack.events", "slack.duplicates",
	    "slack.rate_limited", "teams.events", "teams.duplicates", "webex.events",
	    "webex.duplicates" };
	size_t pending, seen, i;
	uint64_t n;

	if (store_inbox_count(t, &pending, &seen) < 0)
		return -1;
	fprintf(f, "event inbox: %zu pending, %zu message keys seen (kept %d days)\n", pending,
	    seen, INBOX_SEEN_DAYS);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (store_inbox_counter_get(t, names[i], &n) == 0 && n)
			fprintf(f, "events received: %-18s %llu\n", names[i], (unsigned long long)n);
	return 0;
}

int
store_stats(struct store *s, FILE *f)
{
	struct txn *t = store_begin(s, 0);
	MDB_stat st;
	int i, rc, ret = -1;

	if (t == NULL)
		return -1;
	stats_head(s, t, f);
	fprintf(f, "%-12s %10s %6s %10s\n", "sub-db", "entries", "depth", "pages");
	for (i = 0; i < DB_COUNT; i++) {
		if ((rc = mdb_stat(t->txn, s->dbi[i], &st)) != 0) {
			st_fail(s, "stat", rc);
			goto out;
		}
		fprintf(f, "%-12s %10zu %6u %10zu\n", st_db_names[i], st.ms_entries, st.ms_depth,
		    st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages);
	}
	if (st_sub_stats(t, f) < 0 || inbox_stats(t, f) < 0)
		goto out;
	ret = 0;
out:
	store_abort(t);
	return ret;
}

/* ---- upgrade ---- */

int
store_upgrade(struct store *s)
{
	int mark = st_read_with(s, st_pidx_mark);

	/* no mark: written before the people index existed (or new); or in its first format
	 * (entries of every field): built whole, once */
	return mark < 0 ? -1 : mark == 0 || mark == PIDX_EXACT_V1 ? st_pidx_rebuild(s) : 0;
}

/* ---- verify ---- */

struct verify {
	struct txn	*t;
	FILE		*f;
	long		 problems;
	uint64_t	 last_id;
	struct buf	 key;
	const char	*email;		/* verify_email: the address looked for */
	int		 no_emails;	/* the email index is not whole: not checked */
	int		 found;		/* ... and whether an account has it */
};

static void
problem(struct verify *vf, const char *fmt, ...)
{
	va_list ap;

	vf->problems++;
	if (vf->problems > 1000)
		return;
	va_start(ap, fmt);
	vfprintf(vf->f, fmt, ap);
	va_end(ap);
	fputc('\n', vf->f);
}

/* store_person_get's answer for pid (0, STORE_NOTFOUND or -1), the record dropped. */
static int
person_lookup(struct verify *vf, uint64_t pid)
{
	struct person p;
	int rc = store_person_get(vf->t, pid, &p);

	if (rc == 0)
		person_free(&p);
	return rc;
}

/* Whether key k is present in sub-database dbi. */
static int
has_key(struct verify *vf, int dbi, MDB_val *k)
{
	MDB_val v;

	return mdb_get(vf->t->txn, vf->t->s->dbi[dbi], k, &v) == 0;
}

static int
verify_account(MDB_val *k, MDB_val *v, void *arg)
{
	struct verify *vf = arg;
	struct account a;
	struct buf pk = { 0 };
	MDB_val kk;

	if (codec_account_decode(v->mv_data, v->mv_size, &a) < 0) {
		problem(vf, "accounts: undecodable record");
		return 0;
	}
	if (st_account_key(&vf->key, a.platform, a.team_id, a.user_id) < 0 ||
	    vf->key.len != k->mv_size || memcmp(vf->key.p, k->mv_data, k->mv_size) != 0)
		problem(vf, "accounts: %s:%s stored under a key that does not match it",
		    platform_name(a.platform), a.user_id);
	if (a.person_id) {
		if (person_lookup(vf, a.person_id) == STORE_NOTFOUND)
			problem(vf, "accounts: %s:%s links to person %llu, which does not exist",
			    platform_name(a.platform), a.user_id, (unsigned long long)a.person_id);
		st_pacct_key(&pk, a.person_id, &vf->key);
		kk = val_of(pk.p, pk.len);
		if (!has_key(vf, DB_PACCT, &kk))
			problem(vf, "pacct: missing entry for person %llu -> %s:%s",
			    (unsigned long long)a.person_id, platform_name(a.platform), a.user_id);
	}
	buf_free(&pk);
	account_free(&a);
	return 0;
}

static int
verify_pacct(MDB_val *k, MDB_val *v, void *arg)
{
	struct verify *vf = arg;
	struct account a;
	uint64_t pid;
	int rc;

	(void)v;
	if (k->mv_size < 10) {
		problem(vf, "pacct: malformed key");
		return 0;
	}
	pid = get_be64(k->mv_data);
	rc = st_rec_get(vf->t, REC_ACCOUNT, (char *)k->mv_data + 8, k->mv_size - 8, &a);
	if (rc == STORE_NOTFOUND) {
		problem(vf, "pacct: person %llu lists an account that does not exist",
		    (unsigned long long)pid);
	} else if (rc == 0) {
		if (a.person_id != pid)
			problem(vf, "pacct: person %llu lists %s:%s, which belongs to person %llu",
			    (unsigned long long)pid, platform_name(a.platform), a.user_id,
			    (unsigned long long)a.person_id);
		account_free(&a);
	}
	return 0;
}

/* Notes in vf->found whether account a has the address vf->email. */
static int
has_email_cb(const struct account *a, void *arg)
{
	struct verify *vf = arg;
	int i;

	for (i = 0; i < a->nemails; i++)
		vf->found |= strcmp(a->emails[i], vf->email) == 0;
	return 0;
}

static int
verify_email(MDB_val *k, MDB_val *v, void *arg)
{
	struct verify *vf = arg;
	char *email = xstrndup(k->mv_data, k->mv_size);
	uint64_t pid = v->mv_size == 8 ? get_be64(v->mv_data) : 0;
	int rc;

	vf->email = email;
	vf->found = 0;
	rc = person_lookup(vf, pid);
	if (rc == STORE_NOTFOUND)
		problem(vf, "emails: %s points to person %llu, which does not exist", email,
		    (unsigned long long)pid);
	else if (rc == 0 && store_person_accounts(vf->t, pid, has_email_cb, vf) == 0 &&
	    !vf->found)
		problem(vf, "emails: %s points to person %llu, none of whose accounts has it",
		    email, (unsigned long long)pid);
	free(email);
	return 0;
}

static int
count_accounts_cb(const struct account *a, void *arg)
{
	int *n = arg;

	(void)a;
	*n += 1;
	return 0;
}

/* The person's email is indexed, to the person. */
static void
verify_person_email(struct verify *vf, const struct person *p, uint64_t pid)
{
	uint64_t idx;

	if (store_email_get(vf->t, p->email, &idx) != 0)
		problem(vf, "emails: %s (person %llu) is not indexed", p->email,
		    (unsigned long long)pid);
	else if (idx != pid)
		problem(vf, "emails: %s is indexed to person %llu, not to its person %llu",
		    p->email, (unsigned long long)idx, (unsigned long long)pid);
}

static int
verify_person(MDB_val *k, MDB_val *v, void *arg)
{
	struct verify *vf = arg;
	struct person p;
	uint64_t pid;
	int n = 0;

	if (k->mv_size != 8 || codec_person_decode(v->mv_data, v->mv_size, &p) < 0) {
		problem(vf, "people: undecodable record");
		return 0;
	}
	pid = get_be64(k->mv_data);
	if (p.id != pid)
		problem(vf, "people: record %llu says it is person %llu", (unsigned long long)pid,
		    (unsigned long long)p.id);
	if (pid > vf->last_id)
		problem(vf, "people: id %llu is above the id counter %llu", (unsigned long long)pid,
		    (unsigned long long)vf->last_id);
	store_person_accounts(vf->t, pid, count_accounts_cb, &n);
	if (n == 0)
		problem(vf, "people: person %llu (%s) has no accounts", (unsigned long long)pid,
		    p.email ? p.email : "no email");
	if (p.email && !(p.flags & PERSON_CONFLICT) && !vf->no_emails)
		verify_person_email(vf, &p, pid);
	person_free(&p);
	return 0;
}

static int
verify_history(MDB_val *k, MDB_val *v, void *arg)
{
	struct verify *vf = arg;

	(void)v;
	if (k->mv_size != 16)
		problem(vf, "history: malformed key");
	else if (person_lookup(vf, get_be64(k->mv_data)) != 0)
		problem(vf, "history: entry for person %llu, who does not exist",
		    (unsigned long long)get_be64(k->mv_data));
	return 0;
}

static int
verify_prompt(MDB_val *k, MDB_val *v, void *arg)
{
	struct verify *vf = arg;
	struct prompt p;
	unsigned char q[16];
	MDB_val kk;
	int indexed;

	if (k->mv_size != 8 || codec_prompt_decode(v->mv_data, v->mv_size, &p) < 0) {
		problem(vf, "outbox: undecodable prompt");
		return 0;
	}
	if (person_lookup(vf, p.person_id) != 0)
		problem(vf, "outbox: prompt %llu is for person %llu, who does not exist",
		    (unsigned long long)p.id, (unsigned long long)p.person_id);
	kk = st_outq_key(q, p.person_id, p.id);
	indexed = has_key(vf, DB_OUTQ, &kk);
	if (indexed != st_prompt_pending_state(p.state))
		problem(vf, "outq: prompt %llu (%s) is %sin the pending index",
		    (unsigned long long)p.id, prompt_state_name((enum prompt_state)p.state),
		    indexed ? "" : "not ");
	prompt_free(&p);
	return 0;
}

static int
verify_outq(MDB_val *k, MDB_val *v, void *arg)
{
	struct verify *vf = arg;
	uint64_t id;
	struct prompt p;

	(void)v;
	if (k->mv_size != 16) {
		problem(vf, "outq: malformed key");
		return 0;
	}
	id = get_be64((unsigned char *)k->mv_data + 8);
	if (store_prompt_get(vf->t, id, &p) == 0)
		prompt_free(&p);
	else
		problem(vf, "outq: names prompt %llu, which does not exist", (unsigned long long)id);
	return 0;
}

long
store_verify(struct store *s, FILE *f)
{
	static const struct {
		int		dbi;
		st_each_cb	cb;
	} checks[] = {
		{ DB_ACCOUNTS, verify_account }, { DB_PACCT, verify_pacct },
		{ DB_EMAILS, verify_email }, { DB_PEOPLE, verify_person },
		{ DB_HISTORY, verify_history }, { DB_OUTBOX, verify_prompt },
		{ DB_OUTQ, verify_outq },
	};
	struct verify vf = { 0 };
	long ret = -1, pidx;
	size_t i;
	int exact;

	vf.f = f;
	if ((vf.t = store_begin(s, 0)) == NULL)
		return -1;
	if (st_meta_get_u64(vf.t, "last_person_id", &vf.last_id) < 0 ||
	    (exact = st_email_exact(vf.t)) < 0)
		goto out;
	vf.no_emails = !exact;
	if (!exact)
		fprintf(f, "emails: not checked: out of date since a run that did not finish "
		    "writing it (or one in progress); the next 'peoplesync reconcile' rebuilds it\n");
	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if ((checks[i].dbi != DB_EMAILS || exact) &&
		    st_each(vf.t, checks[i].dbi, NULL, 0, checks[i].cb, &vf) < 0)
			goto out;
	if ((ret = st_sub_verify(vf.t, f)) < 0 || (pidx = st_pidx_verify(vf.t, f)) < 0) {
		ret = -1;
		goto out;
	}
	ret += vf.problems + pidx;
out:
	store_abort(vf.t);
	buf_free(&vf.key);
	return ret;
}

/*
 * Records (problems > 0) or clears (0) a failed verify in meta: store_open refuses a marked
 * database. Written only when the quick check passes (free list, main and meta trees sound:
 * the write touches nothing else); a database that fails it is refused without a mark.
 */
static void
verify_record(const char *dir, size_t map_mb, long problems, FILE *out)
{
	struct failure f;
	struct store *s = st_open(dir, map_mb, ST_ANY, &f);
	struct txn *t;
	char text[128], when[32];
	time_t now = time(NULL);
	struct tm tm;
	int rc = -1;

	if (s == NULL) {
		if (f.cls != FAIL_DATA)
			fprintf(out, "(not recorded: %s)\n", f.msg);
		return;
	}
	if ((t = store_begin(s, 1)) != NULL) {
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime_r(&now, &tm));
		snprintf(text, sizeof(text), "'db verify' found %ld problem%s on %s", problems,
		    problems == 1 ? "" : "s", when);
		rc = problems ? store_meta_put(t, ST_VERIFY_MARK, text, strlen(text)) :
		    store_meta_del(t, ST_VERIFY_MARK);
		if (rc == 0)
			rc = store_commit(t);
		else
			store_abort(t);
	}
	if (rc < 0)
		fprintf(out, "(not recorded: %s)\n", store_error(s));
	store_close(s);
}

long
store_verify_db(const char *dir, size_t map_mb, FILE *out, struct failure *f)
{
	struct store *s;
	struct buf b = { 0 };
	struct txn *t;
	long n;
	int marked = 0;

	fail_set(f, FAIL_NONE, "%s", "");
	if ((n = st_check_file(dir, 1, out, f)) > 0 && f->cls == FAIL_IO)
		return -1;
	if (n == 0) {
		/* the pages are sound: LMDB may read them */
		if ((s = st_open(dir, map_mb, ST_RDONLY | ST_ANY, f)) == NULL)
			return -1;
		if ((t = store_begin(s, 0)) != NULL)
			marked = store_meta_get(t, ST_VERIFY_MARK, &b) == 0;
		store_abort(t);
		buf_free(&b);
		n = t ? store_verify(s, out) : -1;
		if (n < 0)
			fail_set(f, FAIL_IO, "%s", store_error(s));
		store_close(s);
		if (n < 0 || (n == 0 && !marked))
			return n;
	}
	verify_record(dir, map_mb, n, out);
	return n;
}

/* ---- backup ---- */

int
store_backup(struct store *s, const char *dest)
{
	int rc;

	if (mkdir(dest, 0700) < 0 && errno != EEXIST) {
		snprintf(s->err, sizeof(s->err), "%s: %s", dest, strerror(errno));
		return -1;
	}
	if ((rc = mdb_env_copy2(s->env, dest, MDB_CP_COMPACT)) != 0) {
		snprintf(s->err, sizeof(s->err), "%s: backup: %s", dest, mdb_strerror(rc));
		return -1;
	}
	return 0;
}
