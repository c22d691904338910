"""End-to-end: the Slack spine — roster -> LMDB -> people, against the fake Slack."""
import fcntl
import json
import os
import re

from tests.e2e.harness import E2E, people_jsonl, run

FIELDS = {"email", "name", "active", "status", "primary_platform", "primary_team",
          "primary_source", "sync_type", "accounts", "prompt_count", "last_prompted_at",
          "synced_at"}


def record_writes(r):
    m = re.search(r"record writes\s+(\d+)", r.out)
    assert m, r
    return int(m.group(1))


class SlackSpine(E2E):
    org_args = dict(people=120, seed=11, platforms=("slack",))
    page_limit = 20

    def test_people_match_the_truth(self):
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        self.assertRegex(r.out, r"slack: pulled \d+ accounts")
        people = people_jsonl(self.cfg)
        truth = {t["email"]: t for t in self.org["truth"]}
        by_email = {p["email"]: p for p in people}
        self.assertEqual(len(people), len(truth), "one person per human")
        self.assertEqual(set(by_email), set(truth))
        members = {m["id"]: m for m in self.org["slack"]["members"]}
        for p in people:
            self.assertEqual(set(p), FIELDS)
            t = truth[p["email"]]
            self.assertEqual(p["active"], t["active"], p)
            self.assertEqual(p["status"], "off")
            self.assertEqual(p["prompt_count"], 0)
            self.assertIsNone(p["last_prompted_at"])
            self.assertIsNone(p["synced_at"])
            want = sorted((a["platform"], a["team_id"], a["user_id"], a["active"])
                          for a in t["accounts"])
            got = sorted((a["platform"], a["team_id"], a["user_id"], a["active"])
                         for a in p["accounts"])
            self.assertEqual(got, want, p)
            for a in p["accounts"]:
                self.assertFalse(a["bot"])
                m = members[a["user_id"]]
                self.assertFalse(m.get("is_bot") or m.get("is_app_user") or
                                 m["id"] == "USLACKBOT")
            if p["active"]:
                self.assertEqual(p["primary_platform"], "slack")
                self.assertEqual(p["primary_source"], "inferred")
                self.assertEqual(p["sync_type"], "user")
                self.assertEqual(p["primary_team"]["platform"], "slack")
                self.assertEqual(p["primary_team"]["id"], self.org["slack"]["team_id"])
                self.assertEqual(p["primary_team"]["name"], self.org["slack"]["team_name"])
        # bots, app users and Slackbot are not people
        user_ids = {a["user_id"] for p in people for a in p["accounts"]}
        self.assertNotIn("USLACKBOT", user_ids)
        for m in self.org["slack"]["members"]:
            if m.get("is_bot") or m.get("is_app_user"):
                self.assertNotIn(m["id"], user_ids)
        # default listing: active people only
        active = [l for l in self.ps("people", "--format", "jsonl").out.splitlines() if l]
        self.assertEqual(len(active), sum(1 for t in truth.values() if t["active"]))
        self.assertRc(self.ps("db", "verify"), 0)

    def test_second_run_writes_no_new_versions(self):
        self.assertRc(self.ps("reconcile"), 0)
        before = record_writes(self.ps("db", "stats"))
        first = people_jsonl(self.cfg)
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        self.assertIn("0 new, 0 changed, 0 deactivated", r.out)
        self.assertEqual(record_writes(self.ps("db", "stats")), before)
        self.assertEqual(people_jsonl(self.cfg), first)

    def test_failure_on_page_3_changes_nobody(self):
        self.assertRc(self.ps("reconcile"), 0)
        before = people_jsonl(self.cfg)
        writes = record_writes(self.ps("db", "stats"))
        # changes that a complete pull would apply, then a platform failing on page 3
        humans = [m for m in self.org["slack"]["members"]
                  if not m.get("is_bot") and not m.get("deleted") and m["id"] != "USLACKBOT"
                  and not m.get("is_app_user")]
        self.fake.control({"op": "mutate", "platform": "slack", "user_id": humans[0]["id"],
                           "set": {"real_name": "Renamed Person"}})
        self.fake.control({"op": "remove", "platform": "slack", "user_id": humans[1]["id"]})
        self.fake.control({"op": "fail", "spec": "slack:users.list:page=3:status=500"})
        r = self.ps("reconcile")
        self.assertRc(r, 69)
        self.assertIn("slack", r.err)
        self.assertIn("users.list page 3", r.err)
        self.assertIn("HTTP 500", r.err)
        self.assertEqual(people_jsonl(self.cfg), before)
        self.assertEqual(record_writes(self.ps("db", "stats")), writes)
        self.assertRc(self.ps("db", "verify"), 0)
        # once the platform is back, the changes arrive
        self.fake.control({"op": "clear_failures"})
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        self.assertIn("1 deactivated", r.out)
        after = {p["email"]: p for p in people_jsonl(self.cfg)}
        self.assertTrue(any(p["name"] == "Renamed Person" for p in after.values()))

    def test_deactivation_and_guard(self):
        self.assertRc(self.ps("reconcile"), 0)
        self.fake.control({"op": "shrink", "platform": "slack", "fraction": 0.5})
        before = people_jsonl(self.cfg)
        r = self.ps("reconcile")
        self.assertRc(r, 65)
        self.assertIn("max_deactivate_share", r.err)
        self.assertEqual(people_jsonl(self.cfg), before)
        r = self.ps("reconcile", "--accept-deactivations")
        self.assertRc(r, 0)
        after = people_jsonl(self.cfg)
        self.assertLess(sum(p["active"] for p in after), sum(p["active"] for p in before))
        self.assertEqual(len(after), len(before), "deactivated people are kept")
        was_active = {p["email"] for p in before if p["active"]}
        inactive = [p for p in after if not p["active"] and p["email"] in was_active]
        self.assertTrue(inactive)
        shown = self.ps("show", inactive[-1]["email"])
        self.assertRc(shown, 0)
        self.assertIn("deactivated", shown.out)
        self.assertRc(self.ps("db", "verify"), 0)

    def test_429_is_retried_after_retry_after(self):
        self.fake.control({"op": "fail",
                           "spec": "slack:users.list:page=1:status=429:retry_after=1:times=2"})
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        self.assertRegex(r.out, r"2 retries, 2 rate-limited")

    def test_truncated_and_malformed_pages_are_retried(self):
        self.fake.control({"op": "fail", "spec": "slack:users.list:page=1:truncate:times=1"})
        self.fake.control({"op": "fail", "spec": "slack:users.list:page=1:malformed:times=1"})
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        self.assertRegex(r.out, r"2 retries")

    def test_persistent_5xx_fails_cleanly(self):
        self.fake.control({"op": "fail", "spec": "slack:users.list:page=1:status=503"})
        r = self.ps("reconcile")
        self.assertRc(r, 69)
        self.assertIn("slack: GET users.list page 1: HTTP 503 (4 attempts)", r.err)

    def test_repeating_cursor_is_refused(self):
        self.fake.control({"op": "fail", "spec": "slack:users.list:page=1:repeat_cursor"})
        r = self.ps("reconcile")
        self.assertRc(r, 69)
        self.assertIn("repeats", r.err)

    def test_invalid_auth_names_the_error_not_the_token(self):
        with open(os.path.join(self.dir, "slack.token"), "w") as f:
            f.write("xoxb-wrong-token\n")
        r = self.ps("-v", "reconcile") if False else run(self.cfg, "-v", "reconcile")
        self.assertRc(r, 69)
        self.assertIn("invalid_auth", r.err)
        self.assertNotIn("xoxb-wrong-token", r.err + r.out)
        self.assertNotIn(self.org["secrets"]["slack_bot_token"], r.err + r.out)

    def test_show_by_email_and_by_id(self):
        self.assertRc(self.ps("reconcile"), 0)
        t = next(t for t in self.org["truth"] if t["active"])
        uid = t["accounts"][0]["user_id"]
        r1 = self.ps("show", t["email"].upper())
        r2 = self.ps("show", "slack:" + uid)
        self.assertRc(r1, 0)
        self.assertEqual(r1.out, r2.out)
        self.assertIn(uid, r1.out)
        self.assertIn("linked by", r1.out)
        self.assertIn("created", r1.out)
        r = self.ps("show", "nobody@nowhere.example")
        self.assertRc(r, 65)
        self.assertIn("nobody@nowhere.example", r.err)

    def test_filters_and_formats(self):
        self.assertRc(self.ps("reconcile"), 0)
        r = self.ps("people", "--platform", "teams", "--format", "jsonl")
        self.assertRc(r, 0)
        self.assertEqual(r.out, "")
        r = self.ps("people", "--status", "off", "--type", "user", "--format", "csv")
        self.assertRc(r, 0)
        lines = r.out.splitlines()
        self.assertTrue(lines[0].startswith("email,name,active,status,primary_platform"))
        self.assertEqual(len(lines) - 1, sum(1 for t in self.org["truth"] if t["active"]))
        self.assertRc(self.ps("people", "--status", "bogus"), 64)
        self.assertRc(self.ps("people", "--format", "xml"), 64)

    def test_lock_held_exits_75_naming_the_pid(self):
        os.makedirs(os.path.join(self.dir, "db"), exist_ok=True)
        with open(os.path.join(self.dir, "db", "peoplesync.lock"), "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write("4242\n")
            f.flush()
            r = self.ps("reconcile")
        self.assertRc(r, 75)
        self.assertIn("4242", r.err)

    def test_dry_run_writes_nothing(self):
        r = self.ps("reconcile", "--dry-run")
        self.assertRc(r, 0)
        self.assertIn("dry run", r.out)
        self.assertEqual(people_jsonl(self.cfg), [])


class Cli(E2E):
    org_args = dict(people=5, seed=3, platforms=("slack",))

    def test_help_for_every_command(self):
        for cmd in (["--help"], ["reconcile", "--help"], ["people", "--help"],
                    ["show", "--help"], ["check-config", "--help"], ["db", "--help"]):
            r = run(None, *cmd)
            self.assertRc(r, 0)
            self.assertIn("usage:", r.out)

    def test_usage_errors(self):
        self.assertRc(run(None), 64)
        self.assertRc(run(None, "frobnicate"), 64)
        self.assertRc(run(self.cfg, "reconcile", "--only", "myspace"), 64)
        self.assertRc(run(self.cfg, "reconcile", "--only", "teams"), 64)

    def test_check_config(self):
        r = self.ps("check-config")
        self.assertRc(r, 0)
        with open(self.cfg, "a") as f:
            f.write("reconcile = { max_deactivate_shar = 0.2; };\n")
        r = self.ps("check-config")
        self.assertRc(r, 78)
        self.assertRegex(r.err, r"peoplesync\.cfg:\d+: reconcile\.max_deactivate_shar")
        self.assertIn("did you mean", r.err)

    def test_missing_config(self):
        r = run(os.path.join(self.dir, "nope.cfg"), "people")
        self.assertRc(r, 78)
        self.assertIn("nope.cfg", r.err)

    def test_group_readable_secret_is_refused(self):
        os.chmod(os.path.join(self.dir, "slack.token"), 0o640)
        r = self.ps("reconcile")
        self.assertRc(r, 78)
        self.assertIn("slack.token", r.err)
        self.assertNotIn(self.org["secrets"]["slack_bot_token"], r.err)

    def test_people_before_any_run(self):
        r = self.ps("people")
        self.assertRc(r, 74)
        self.assertIn("reconcile", r.err)
