/*
 * promptcmd.c — `prompt`, `auto-prompt`, `events ingest` and `explain`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "outbox.h"
#include "reconcile.h"
#include "run.h"
#include "util.h"

static const char prompt_usage[] =
"usage: peoplesync prompt [--dry-run] PERSON...\n"
"       peoplesync prompt --all [--dry-run] [--platform P] [--type bot|user]\n"
"\n"
"Queues a Sync now prompt for each PERSON (an admin prompting one at a time), or with --all\n"
"for everyone with status off who matches the filters (bulk). The prompts are sent by the\n"
"next `peoplesync reconcile`, rate-limited. People who are synced, inactive, guests, inside\n"
"their cooldown or out of prompts are not queued; each line says why.\n";

struct bulk {
	const struct config	*cfg;
	struct txn		*t;
	int			 platform, type, dry;
	long			 queued, skipped;
	struct { uint64_t *v; size_t n, cap; } ids;
};

static int
bulk_cb(const struct person *p, void *arg)
{
	struct bulk *b = arg;

	if (!p->active || p->status != ST_OFF)
		return 0;
	if (b->platform >= 0 && p->primary_platform != b->platform)
		return 0;
	if (b->type >= 0 && p->sync_type != b->type)
		return 0;
	if (b->ids.n == b->ids.cap) {
		b->ids.cap = b->ids.cap ? b->ids.cap * 2 : 256;
		b->ids.v = xrealloc(b->ids.v, b->ids.cap * sizeof(uint64_t));
	}
	b->ids.v[b->ids.n++] = p->id;
	return 0;
}

static void
say(const struct person *p, const char *spec, const char *what)
{
	printf("%s%s%s: %s\n", p && p->email ? p->email : spec,
	    p && p->name ? " " : "", p && p->name ? p->name : "", what);
}

int
cmd_prompt(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "platform", required_argument, NULL, 'p' },
		{ "type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct bulk b = { 0 };
	struct txn *t = NULL;
	time_t now = ps_now();
	int all = 0, ch, rc, lock = -1, i, missing = 0;
	size_t k;
	enum platform pl;

	b.platform = b.type = -1;
	while ((ch = getopt_long(argc, argv, "anp:t:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': all = 1; break;
		case 'n': b.dry = 1; break;
		case 'p':
			if (platform_parse(optarg, &pl) < 0) {
				log_err("prompt: --platform: '%s' is not slack, teams or webex", optarg);
				return EX_USAGE;
			}
			b.platform = (int)pl;
			break;
		case 't':
			b.type = strcmp(optarg, "user") == 0 ? SYNC_USER : strcmp(optarg, "bot") == 0 ?
			    SYNC_BOT : -2;
			if (b.type == -2) {
				log_err("prompt: --type: '%s' is not bot or user", optarg);
				return EX_USAGE;
			}
			break;
		case 'h':
			fputs(prompt_usage, stdout);
			return 0;
		default:
			fputs(prompt_usage, stderr);
			return EX_USAGE;
		}
	}
	if (all == (optind < argc)) {
		log_err("prompt: name people, or --all (not both)");
		fputs(prompt_usage, stderr);
		return EX_USAGE;
	}
	if (!all && (b.platform >= 0 || b.type >= 0)) {
		log_err("prompt: --platform and --type filter --all");
		return EX_USAGE;
	}
	if ((rc = cli_open_store(c, 0)) != 0)
		return rc;
	if ((lock = run_lock(c->cfg.database)) < 0)
		return lock == -2 ? EX_TEMPFAIL : EX_IOERR;
	if ((t = store_begin(c->st, 1)) == NULL)
		goto ioerr;
	b.cfg = &c->cfg;
	b.t = t;
	if (all) {
		if (store_person_each(t, bulk_cb, &b) < 0)
			goto ioerr;
	} else {
		for (i = optind; i < argc; i++) {
			uint64_t id;
			int r = rec_find_person(&c->cfg, t, argv[i], &id);
			if (r < 0)
				goto ioerr;
			if (r == STORE_NOTFOUND) {
				log_err("prompt: no person '%s'", argv[i]);
				missing++;
				continue;
			}
			if (b.ids.n == b.ids.cap) {
				b.ids.cap = b.ids.cap ? b.ids.cap * 2 : 16;
				b.ids.v = xrealloc(b.ids.v, b.ids.cap * sizeof(uint64_t));
			}
			b.ids.v[b.ids.n++] = id;
		}
	}
	for (k = 0; k < b.ids.n; k++) {
		struct prompt_decision d;
		struct pview v;
		int r;

		if (b.dry) {
			if (pview_load(t, b.ids.v[k], &v) != 0)
				continue;
			if (prompt_decide_for(&c->cfg, t, &v, all ? PR_BULK : PR_ADMIN, -1, NULL, now,
			    &d) < 0) {
				pview_free(&v);
				goto ioerr;
			}
			say(&v.p, "", d.why);
			b.queued += d.d != DEC_NEVER;
			pview_free(&v);
			continue;
		}
		r = prompt_queue(&c->cfg, t, b.ids.v[k], all ? PR_BULK : PR_ADMIN, -1, NULL, now, &d);
		if (r < 0)
			goto ioerr;
		if (r == 1)
			b.queued++;
		else
			b.skipped++;
		if (!all || r == 0 || log_get_level() >= LOG_DEBUG) {
			struct person p;
			if (store_person_get(t, b.ids.v[k], &p) == 0) {
				say(&p, "", r == 1 ? (d.d == DEC_WAIT ? "queued; it waits for the end of "
				    "the person's quiet hours" : "queued; the next reconcile sends it") :
				    d.why);
				person_free(&p);
			}
		}
	}
	if (b.dry) {
		store_abort(t);
		t = NULL;
	} else if (store_commit(t) < 0) {
		t = NULL;
		goto ioerr;
	}
	t = NULL;
	printf("%ld prompt%s %s, %ld not%s\n", b.queued, b.queued == 1 ? "" : "s",
	    b.dry ? "would be queued (dry run)" : "queued", b.skipped,
	    b.dry ? "" : " queued");
	free(b.ids.v);
	run_unlock(lock);
	return missing ? EX_DATAERR : 0;
ioerr:
	log_err("%s", store_error(c->st));
	store_abort(t);
	free(b.ids.v);
	run_unlock(lock);
	return EX_IOERR;
}

static const char auto_usage[] =
"usage: peoplesync auto-prompt on|off|status\n"
"\n"
"With auto-prompt on, people with status off are prompted when they send messages to people\n"
"who have synced (message events: `peoplesync events ingest` and events.spool_dir). Kept in\n"
"the database.\n";

int
cmd_auto_prompt(struct cli *c, int argc, char **argv)
{
	struct txn *t;
	int rc;

	if (wants_help(argc, argv)) {
		fputs(auto_usage, stdout);
		return 0;
	}
	if (argc != 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "off") &&
	    strcmp(argv[1], "status"))) {
		fputs(auto_usage, stderr);
		return EX_USAGE;
	}
	if ((rc = cli_open_store(c, strcmp(argv[1], "status") == 0)) != 0)
		return rc;
	if (strcmp(argv[1], "status") == 0) {
		printf("auto-prompt is %s\n", auto_prompt_get(c->st) ? "on" : "off");
		return 0;
	}
	if ((t = store_begin(c->st, 1)) == NULL || store_meta_put(t, "auto_prompt", argv[1],
	    strlen(argv[1])) < 0 || store_commit(t) < 0) {
		log_err("%s", store_error(c->st));
		return EX_IOERR;
	}
	printf("auto-prompt is %s\n", argv[1]);
	return 0;
}

static const char events_usage[] =
"usage: peoplesync events ingest FILE|-\n"
"\n"
"Reads message events, one JSON object per line:\n"
"  {\"ts\":\"2026-11-24T10:00:00Z\",\"from\":\"slack:U1\",\"to\":\"teams:9f...\"}\n"
"With auto-prompt on, a sender with status off who messages someone synced gets a prompt\n"
"(queued; the next reconcile sends it). Bad lines are reported as FILE:LINE and skipped;\n"
"the exit status is then 65.\n";

int
cmd_events(struct cli *c, int argc, char **argv)
{
	long events = 0, queued = 0, bad = 0;
	FILE *fp;
	int rc, lock;

	if (wants_help(argc, argv)) {
		fputs(events_usage, stdout);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "ingest") != 0) {
		fputs(events_usage, stderr);
		return EX_USAGE;
	}
	if ((rc = cli_open_store(c, 0)) != 0)
		return rc;
	if (strcmp(argv[2], "-") == 0)
		fp = stdin;
	else if ((fp = fopen(argv[2], "r")) == NULL) {
		log_err("events: %s: %s", argv[2], strerror(errno));
		return EX_NOINPUT;
	}
	if ((lock = run_lock(c->cfg.database)) < 0) {
		if (fp != stdin)
			fclose(fp);
		return lock == -2 ? EX_TEMPFAIL : EX_IOERR;
	}
	if (!auto_prompt_get(c->st))
		log_warn("auto-prompt is off: events are read but prompt nobody "
		    "(peoplesync auto-prompt on)");
	rc = events_ingest(&c->cfg, c->st, fp, strcmp(argv[2], "-") == 0 ? "stdin" : argv[2],
	    &events, &queued, &bad);
	if (fp != stdin)
		fclose(fp);
	run_unlock(lock);
	if (rc < 0) {
		log_err("%s", store_error(c->st));
		return EX_IOERR;
	}
	printf("%ld events read, %ld auto-prompts queued, %ld bad lines\n", events, queued, bad);
	return bad ? EX_DATAERR : 0;
}

/* ---- explain ---- */

static const char explain_usage[] =
"usage: peoplesync explain PERSON\n"
"\n"
"Why this person has their status and their primary platform and team, and whether they\n"
"would be prompted now, and why (not).\n";

static int
print_prompt_cb(const struct prompt *q, void *arg)
{
	uint64_t *pid = arg;
	char iso[32];

	if (q->person_id != *pid)
		return 0;
	fmt_iso8601((time_t)(q->delivered_at ? q->delivered_at : q->updated_at), iso);
	printf("  %s  %-9s %-10s %s:%s  %s%s%s\n", iso, prompt_state_name((enum prompt_state)q->state),
	    prompt_reason_name((enum prompt_reason)q->reason), platform_name(q->platform),
	    q->user_id, q->ref ? q->ref : "", q->error ? "  " : "", q->error ? q->error : "");
	return 0;
}

int
cmd_explain(struct cli *c, int argc, char **argv)
{
	struct prompt_decision d;
	struct pview v;
	struct txn *t;
	uint64_t id;
	char iso[32];
	int rc, i, active = 0;

	if (wants_help(argc, argv)) {
		fputs(explain_usage, stdout);
		return 0;
	}
	if (argc != 2) {
		fputs(explain_usage, stderr);
		return EX_USAGE;
	}
	if ((rc = cli_open_store(c, 1)) != 0)
		return rc;
	if ((t = store_begin(c->st, 0)) == NULL)
		goto ioerr;
	rc = rec_find_person(&c->cfg, t, argv[1], &id);
	if (rc == 0)
		rc = pview_load(t, id, &v);
	if (rc == STORE_NOTFOUND) {
		log_err("explain: no person '%s'", argv[1]);
		store_abort(t);
		return EX_DATAERR;
	}
	if (rc < 0)
		goto ioerr;
	for (i = 0; i < v.n; i++)
		active += rec_account_is_active(&v.a[i]);
	printf("%s <%s>\n", v.p.name ? v.p.name : "(no name)", v.p.email ? v.p.email : "no email");
	printf("status: %s — ", status_name((enum status)v.p.status));
	fmt_iso8601((time_t)v.p.synced_at, iso);
	if (v.p.status == ST_ON && v.p.primary_source == PS_AUTO)
		printf("synced automatically by Slack auto-sync on %s (a %s primary)\n", iso,
		    platform_name((enum platform)v.p.primary_platform));
	else if (v.p.status == ST_ON)
		printf("completed the Sync now flow on %s\n", iso);
	else if (v.p.status == ST_PENDING) {
		fmt_iso8601((time_t)v.p.last_prompted_at, iso);
		printf("prompted %d time%s (last %s), has not completed Sync now yet%s\n",
		    v.p.prompt_count, v.p.prompt_count == 1 ? "" : "s", iso,
		    rec_pending_stale(&c->cfg, &v.p, ps_now()) ? " (stale: longer than "
		    "prompts.stale_days)" : "");
	} else
		printf("has not synced and has not been prompted\n");
	printf("active: %s — %d of %d account%s active\n", v.p.active ? "yes" : "no", active, v.n,
	    v.n == 1 ? "" : "s");
	if (v.p.primary_platform < 0)
		printf("primary: none — no active account\n");
	else if (v.p.primary_source == PS_CHOSEN)
		printf("primary: %s team %s — chosen by the person in the Sync now flow\n",
		    platform_name((enum platform)v.p.primary_platform), v.p.primary_team_id);
	else if (v.p.primary_source == PS_AUTO)
		printf("primary: %s team %s — set by Slack auto-sync\n",
		    platform_name((enum platform)v.p.primary_platform), v.p.primary_team_id);
	else
		printf("primary: %s team %s — inferred: the first platform of identity."
		    "platform_order with an active account, then the most recently active team\n",
		    platform_name((enum platform)v.p.primary_platform), v.p.primary_team_id);
	if (prompt_decide_for(&c->cfg, t, &v, v.p.status == ST_OFF ? PR_BULK : PR_ADMIN, -1,
	    NULL, ps_now(), &d) < 0) {
		pview_free(&v);
		goto ioerr;
	}
	if (d.d == DEC_NEVER && strstr(d.why, "already queued")) {
		/* say why the queued prompt has not gone out yet */
		struct pview w = v;
		uint64_t qid = 0;
		struct prompt q = { 0 };
		store_prompt_pending(t, v.p.id, &qid);
		if (qid && store_prompt_get(t, qid, &q) == 0) {
			struct prompt_decision d2;
			(void)w;
			if (prompt_decide_for_queued(&c->cfg, t, &v, &q, ps_now(), &d2) == 0)
				printf("prompt: %s %s — %s\n", q.ref, prompt_state_name(
				    (enum prompt_state)q.state), d2.why);
			prompt_free(&q);
		}
	} else
		printf("prompt: %s\n", d.why);
	printf("prompts:\n");
	store_prompt_each(t, 0, print_prompt_cb, &id);
	pview_free(&v);
	store_abort(t);
	return 0;
ioerr:
	log_err("%s", store_error(c->st));
	store_abort(t);
	return EX_IOERR;
}
