"""End-to-end: prompts — one at a time, in bulk, auto-prompt; never twice, never lost."""
import collections
import json
import os
import random
import re
import signal
import subprocess
import time

from tests.e2e.harness import BIN, E2E, people_jsonl

LINK = re.compile(r"http://127\.0\.0\.1:8099/s/([A-Za-z0-9_-]{87})")
REF = re.compile(r"PS-[0-9A-Z]+-[0-9A-Z]{4}")


def by_email(people):
    return {p["email"]: p for p in people}


class AdminPrompts(E2E):
    org_args = dict(people=60, seed=31, platforms=("slack", "teams", "webex"))
    platforms = ("slack", "teams", "webex")
    cfg_extra = 'prompts = { quiet_hours = ""; cooldown_hours = 72; max_prompts = 2; };'

    def messages(self, **q):
        qs = "&".join(f"{k}={v}" for k, v in q.items())
        return self.fake.get("/_control/messages" + ("?" + qs if qs else ""))

    def pick(self, platform):
        for p in people_jsonl(self.cfg):
            if p["active"] and p["primary_platform"] == platform and p["status"] == "off":
                acc = [a for a in p["accounts"] if a["platform"] == platform and a["active"]]
                if acc:
                    return p, acc[0]
        raise AssertionError("nobody with primary " + platform)

    def test_admin_prompt_on_each_platform_once(self):
        self.assertRc(self.ps("reconcile"), 0)
        for platform in ("slack", "teams", "webex"):
            p, acc = self.pick(platform)
            r = self.ps("prompt", p["email"])
            self.assertRc(r, 0)
            self.assertIn("queued", r.out)
            r = self.ps("reconcile")
            self.assertRc(r, 0)
            self.assertRegex(r.out, platform + r" prompts: 1 delivered, 0 failed")
            msgs = [m for m in self.messages(platform=platform) if m["to"] == acc["user_id"]]
            self.assertEqual(len(msgs), 1, msgs)
            text = msgs[0]["text"] if platform != "webex" else msgs[0].get("markdown")
            self.assertRegex(text, LINK)
            self.assertRegex(text, REF)
            first = (p["name"] or "").split(" ")[0]
            self.assertIn("Hi ", text)
            after = by_email(people_jsonl(self.cfg))[p["email"]]
            self.assertEqual(after["status"], "pending")
            self.assertEqual(after["prompt_count"], 1)
            self.assertIsNotNone(after["last_prompted_at"])
            # never twice: another run sends nothing, another prompt waits for the cooldown
            r = self.ps("reconcile")
            self.assertRc(r, 0)
            self.assertEqual(len([m for m in self.messages(platform=platform)
                                  if m["to"] == acc["user_id"]]), 1)
            r = self.ps("prompt", p["email"])
            self.assertIn("cooldown until", r.out)
            self.assertIn("1 of 2 prompts used", r.out)
            ex = self.ps("explain", p["email"])
            self.assertRc(ex, 0)
            self.assertIn("status: pending", ex.out)
            self.assertIn("cooldown until", ex.out)
            self.assertIn("delivered", ex.out)
            del first
        self.assertRc(self.ps("db", "verify"), 0)

    def test_max_prompts_and_dry_run(self):
        self.assertRc(self.ps("reconcile"), 0)
        p, acc = self.pick("slack")
        for i in range(2):
            env = {"PEOPLESYNC_NOW": str(int(time.time()) + i * 100 * 3600)}
            r = self.ps("prompt", p["email"], env=env)
            self.assertRc(r, 0)
            self.assertIn("queued", r.out)
            r = self.ps("reconcile", "--dry-run", env=env)
            self.assertRc(r, 0)
            self.assertIn("to be prompted on slack", r.out)
            self.assertEqual(len(self.messages(to=acc["user_id"])), i)
            self.assertRc(self.ps("reconcile", env=env), 0)
            self.assertEqual(len(self.messages(to=acc["user_id"])), i + 1)
        env = {"PEOPLESYNC_NOW": str(int(time.time()) + 400 * 3600)}
        r = self.ps("prompt", p["email"], env=env)
        self.assertIn("all 2 prompts used", r.out)

    def test_refused_and_unavailable(self):
        self.assertRc(self.ps("reconcile"), 0)
        p, acc = self.pick("slack")
        q, qacc = self.pick("webex")
        self.assertRc(self.ps("prompt", p["email"], q["email"]), 0)
        self.fake.control({"op": "fail", "spec": "slack:conversations.open:all:error=user_not_found"})
        self.fake.control({"op": "fail", "spec": "webex:messages:all:status=503"})
        r = self.ps("reconcile")
        self.assertRc(r, 69)
        self.assertIn("webex: POST messages: HTTP 503", r.err)
        self.assertRegex(r.out, r"slack prompts: 0 delivered, 1 failed")
        ex = self.ps("explain", p["email"])
        self.assertIn("user_not_found", ex.out)
        # the Webex prompt was in doubt; once Webex is back it is delivered exactly once
        self.fake.control({"op": "clear_failures"})
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        self.assertEqual(len(self.messages(platform="webex", to=qacc["user_id"])), 1)
        self.assertRc(self.ps("db", "verify"), 0)

    def test_unknown_person(self):
        self.assertRc(self.ps("reconcile"), 0)
        r = self.ps("prompt", "nobody@nowhere.example")
        self.assertRc(r, 65)
        self.assertIn("nobody@nowhere.example", r.err)
        self.assertRc(self.ps("prompt"), 64)
        self.assertRc(self.ps("prompt", "--all", "x@y.z"), 64)


class QuietHours(E2E):
    org_args = dict(people=30, seed=8, platforms=("slack",))
    cfg_extra = 'prompts = { quiet_hours = "20:00-08:00"; default_tz = "UTC"; };'

    def test_quiet_hours_in_the_persons_zone(self):
        self.assertRc(self.ps("reconcile"), 0)
        m = next(m for m in self.org["slack"]["members"] if m.get("tz") == "Asia/Tokyo"
                 and not m.get("deleted") and m.get("profile", {}).get("email")
                 and not m.get("is_restricted") and not m.get("is_bot")) \
            if any(m.get("tz") == "Asia/Tokyo" for m in self.org["slack"]["members"]) else None
        if m is None:
            m = next(m for m in self.org["slack"]["members"] if m.get("tz")
                     and not m.get("deleted") and m.get("profile", {}).get("email")
                     and not m.get("is_restricted") and not m.get("is_bot")
                     and not m.get("is_app_user"))
        email = m["profile"]["email"].lower()
        # 2026-11-25 at 23:30 local time of that person
        import zoneinfo
        import datetime
        zone = zoneinfo.ZoneInfo(m["tz"])
        night = datetime.datetime(2026, 11, 25, 23, 30, tzinfo=zone).timestamp()
        day = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=zone).timestamp()
        r = self.ps("prompt", email, env={"PEOPLESYNC_NOW": str(int(night))})
        self.assertIn("quiet hours", r.out)
        r = self.ps("reconcile", env={"PEOPLESYNC_NOW": str(int(night))})
        self.assertRc(r, 0)
        self.assertRegex(r.out, r"slack prompts: 0 delivered, 0 failed, 1 waiting")
        ex = self.ps("explain", email, env={"PEOPLESYNC_NOW": str(int(night))})
        self.assertIn("quiet hours in " + m["tz"], ex.out)
        r = self.ps("reconcile", env={"PEOPLESYNC_NOW": str(int(day))})
        self.assertRegex(r.out, r"slack prompts: 1 delivered")


class AutoPrompt(E2E):
    org_args = dict(people=80, seed=13, platforms=("slack", "teams", "webex"))
    platforms = ("slack", "teams", "webex")
    cfg_extra = ""

    def setUp(self):
        super().setUp()
        self.spool = os.path.join(self.dir, "spool")
        os.makedirs(self.spool)
        with open(self.cfg, "a") as f:
            f.write(f'events = {{ spool_dir = "{self.spool}"; }};\n')
        # Slack auto-sync puts Teams and Webex primaries on: the recipients of the rule
        with open(self.cfg) as f:
            text = f.read()
        with open(self.cfg, "w") as f:
            f.write(text.replace('page_limit = 200;', 'page_limit = 200; auto_sync = true;'))

    def test_rule_and_cooldown_across_runs(self):
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        self.assertRegex(r.out, r"auto-sync: \d+ people synced automatically")
        people = people_jsonl(self.cfg)
        on = [p for p in people if p["status"] == "on"]
        off = [p for p in people if p["status"] == "off" and p["active"]
               and p["primary_platform"] == "slack"]
        self.assertTrue(on and len(off) >= 3)
        for p in on:
            self.assertEqual(p["primary_source"], "auto")
            self.assertEqual(p["sync_type"], "bot")
        # auto-sync: Teams/Webex primaries are never prompted
        self.assertRc(self.ps("prompt", on[0]["email"]), 0)

        def acct(p, platform=None):
            return next(a for a in p["accounts"] if a["active"]
                        and (platform is None or a["platform"] == platform))

        s1, s2, s3 = off[0], off[1], off[2]
        rcpt = on[0]
        events = [
            {"ts": "2026-11-24T10:00:00Z", "from": "slack:" + acct(s1, "slack")["user_id"],
             "to": f"{acct(rcpt)['platform']}:{acct(rcpt)['user_id']}"},      # prompts s1
            {"ts": "2026-11-24T10:01:00Z", "from": "slack:" + acct(s2, "slack")["user_id"],
             "to": "slack:" + acct(s3, "slack")["user_id"]},                   # recipient off
            {"ts": "2026-11-24T10:02:00Z", "from": f"{acct(rcpt)['platform']}:{acct(rcpt)['user_id']}",
             "to": "slack:" + acct(s3, "slack")["user_id"]},                   # sender on
        ]
        path = os.path.join(self.dir, "ev.jsonl")
        with open(path, "w") as f:
            for e in events:
                f.write(json.dumps(e) + "\n")
            f.write("{not json\n")
            f.write('{"ts":"2026-11-24T10:00:00Z","from":"myspace:1","to":"slack:U1"}\n')
        r = self.ps("events", "ingest", path)
        self.assertRc(r, 65)
        self.assertIn("auto-prompt is off", r.err)
        self.assertIn("ev.jsonl:4:", r.err)
        self.assertIn("ev.jsonl:5:", r.err)
        self.assertIn("0 auto-prompts queued", r.out)
        self.assertRc(self.ps("auto-prompt", "on"), 0)
        self.assertIn("on", self.ps("auto-prompt", "status").out)
        # through the spool this time
        with open(os.path.join(self.spool, "batch1.jsonl"), "w") as f:
            for e in events:
                f.write(json.dumps(e) + "\n")
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        self.assertIn("events: 3 read, 1 auto-prompts queued", r.out)
        self.assertTrue(os.path.exists(os.path.join(self.spool, "done", "batch1.jsonl")))
        msgs = self.fake.get("/_control/messages")
        self.assertEqual([m["to"] for m in msgs], [acct(s1, "slack")["user_id"]])
        # the same sender writes again: the cooldown holds across runs
        with open(os.path.join(self.spool, "batch2.jsonl"), "w") as f:
            f.write(json.dumps(events[0]) + "\n")
        r = self.ps("reconcile")
        self.assertIn("events: 1 read, 0 auto-prompts queued", r.out)
        self.assertEqual(len(self.fake.get("/_control/messages")), 1)
        self.assertRc(self.ps("db", "verify"), 0)


class BulkAtTheLimit(E2E):
    """2,000 people prompted in bulk against fakes that enforce the configured rate."""
    org_args = dict(people=2000, seed=17, platforms=("slack",))
    fake_extra = ("--rate", "slack:chat.postMessage=100/1", "slack:conversations.open=100/1")
    cfg_extra = ('slack = { rate = { open = { per_second = 100; burst = 1; }; '
                 'post = { per_second = 100; burst = 1; }; }; };')

    def setUp(self):
        super().setUp()
        # the rate block belongs inside slack = {...}: merge it
        with open(self.cfg) as f:
            text = f.read()
        extra = self.cfg_extra
        text = text.replace(extra, "")
        text = text.replace("page_limit = 200;", "page_limit = 200; rate = { open = { "
                            "per_second = 100.0; burst = 1; }; post = { per_second = 100.0; "
                            "burst = 1; }; };")
        with open(self.cfg, "w") as f:
            f.write(text)

    def test_bulk_every_one_exactly_once_no_429(self):
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        r = self.ps("prompt", "--all")
        self.assertRc(r, 0)
        n = int(re.search(r"(\d+) prompts queued", r.out).group(1))
        self.assertGreater(n, 1500)
        r = self.ps("reconcile", timeout=600)
        self.assertRc(r, 0)
        self.assertRegex(r.out, rf"slack prompts: {n} delivered, 0 failed")
        self.assertRegex(r.out, r", 0 rate-limited \(429\)")
        msgs = self.fake.get("/_control/messages")
        per = collections.Counter(m["to"] for m in msgs)
        self.assertEqual(len(per), n)
        self.assertEqual(max(per.values()), 1)
        stats = self.fake.get("/_control/stats")
        self.assertEqual(sum(stats.get("ratelimited", {}).values()), 0, stats)


class CrashDuringBulk(E2E):
    """SIGKILL at random moments of a bulk send; every queued prompt arrives exactly once."""
    org_args = dict(people=300, seed=23, platforms=("slack",))
    fake_extra = ("--latency", "15")

    def setUp(self):
        super().setUp()
        with open(self.cfg) as f:
            text = f.read()
        with open(self.cfg, "w") as f:
            f.write(text.replace("page_limit = 200;", "page_limit = 200; rate = { open = { "
                                 "per_second = 200.0; burst = 5; }; post = { per_second = "
                                 "200.0; burst = 5; }; };"))

    def test_kill_at_random_moments(self):
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        r = self.ps("prompt", "--all")
        n = int(re.search(r"(\d+) prompts queued", r.out).group(1))
        rng = random.Random(int(os.environ.get("PEOPLESYNC_CRASH_SEED", "1234")))
        kills = 0
        env = dict(os.environ, PEOPLESYNC_NO_TTY="1",
                   ASAN_OPTIONS="detect_leaks=0:halt_on_error=1")
        while kills < int(os.environ.get("PEOPLESYNC_CRASH_KILLS", "20")):
            p = subprocess.Popen([BIN, "-c", self.cfg, "reconcile"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.05, 0.8))
            if p.poll() is not None:
                break                       # finished before the kill: all sent
            p.send_signal(signal.SIGKILL)
            p.wait()
            kills += 1
            v = self.ps("db", "verify")
            self.assertRc(v, 0)
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        msgs = self.fake.get("/_control/messages")
        per = collections.Counter(m["to"] for m in msgs)
        self.assertEqual(len(per), n, f"after {kills} kills")
        dup = {k: v for k, v in per.items() if v > 1}
        self.assertEqual(dup, {}, f"sent twice after {kills} kills")
        people = people_jsonl(self.cfg)
        self.assertEqual(sum(1 for p in people if p["status"] == "pending"), n)
        self.assertGreaterEqual(kills, 10, "the run finished before enough kills")


class StalePending(E2E):
    org_args = dict(people=20, seed=41, platforms=("slack",))
    cfg_extra = 'prompts = { quiet_hours = ""; stale_days = 14; };'

    def test_pending_too_long_is_listed(self):
        self.assertRc(self.ps("reconcile"), 0)
        p = next(p for p in people_jsonl(self.cfg) if p["active"] and p["status"] == "off"
                 and p["email"])
        self.assertRc(self.ps("prompt", p["email"]), 0)
        self.assertRc(self.ps("reconcile"), 0)
        args = ("people", "--status", "pending", "--stale", "--format", "jsonl")
        self.assertEqual(self.ps(*args).out, "")
        later = {"PEOPLESYNC_NOW": str(int(time.time()) + 15 * 86400)}
        r = self.ps(*args, env=later)
        self.assertRc(r, 0)
        self.assertEqual([json.loads(l)["email"] for l in r.out.split("\n") if l], [p["email"]])
        self.assertIn("stale", self.ps("explain", p["email"], env=later).out)
