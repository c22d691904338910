"""End-to-end: a reconcile run pulls the Slack roster into LMDB and people come out matching
the generated org's ground truth; a second run writes nothing new, a dry run writes nothing,
the deactivation guard holds a mass deactivation back, and a held run lock exits 75."""
import fcntl
import os

from tests.e2e.harness import E2E, people_jsonl, record_writes

FIELDS = {"email", "name", "active", "status", "primary_platform", "primary_team",
          "primary_source", "sync_type", "accounts", "prompt_count", "last_prompted_at",
          "synced_at"}


class SlackRosterPull(E2E):
    """Roster -> LMDB -> people against the fake Slack (paged by 20)."""
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
