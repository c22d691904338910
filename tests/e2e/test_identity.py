"""End-to-end: one person per human across Slack, Teams and Webex."""
import json
import re

from tests.e2e.harness import E2E, people_jsonl


def account_sets(people):
    return {frozenset((a["platform"], a["user_id"]) for a in p["accounts"]) for p in people}


class ThreePlatforms(E2E):
    org_args = dict(people=1000, seed=21, platforms=("slack", "teams", "webex"))
    platforms = ("slack", "teams", "webex")

    def truth_sets(self):
        return {frozenset((a["platform"], a["user_id"]) for a in t["accounts"])
                for t in self.org["truth"]}

    def test_one_person_per_human(self):
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        for p in ("slack", "teams", "webex"):
            self.assertRegex(r.out, p + r": pulled \d+ accounts")
        people = people_jsonl(self.cfg)
        self.assertEqual(len(people), len(self.org["truth"]))
        got, want = account_sets(people), self.truth_sets()
        missing = want - got
        extra = got - want
        self.assertFalse(missing or extra,
                         f"{len(missing)} humans not matched, e.g. {list(missing)[:3]}; "
                         f"{len(extra)} unexpected, e.g. {list(extra)[:3]}")
        # active flags per account and per person
        truth_acct = {(a["platform"], a["user_id"]): a["active"]
                      for t in self.org["truth"] for a in t["accounts"]}
        by_set = {frozenset((a["platform"], a["user_id"]) for a in t["accounts"]): t
                  for t in self.org["truth"]}
        for p in people:
            t = by_set[frozenset((a["platform"], a["user_id"]) for a in p["accounts"])]
            self.assertEqual(p["active"], t["active"], p)
            self.assertEqual(p["email"], t["email"], p)
            for a in p["accounts"]:
                self.assertEqual(a["active"], truth_acct[(a["platform"], a["user_id"])], a)
            if p["active"]:
                self.assertEqual(p["primary_source"], "inferred")
                self.assertIn(p["primary_platform"], ("slack", "teams", "webex"))
                self.assertEqual(p["sync_type"],
                                 "user" if p["primary_platform"] == "slack" else "bot")
        self.assertRc(self.ps("db", "verify"), 0)

    def test_second_run_uses_delta_and_writes_nothing(self):
        self.assertRc(self.ps("reconcile"), 0)
        first = people_jsonl(self.cfg)
        writes = re.search(r"record writes\s+(\d+)", self.ps("db", "stats").out).group(1)
        n_before = len(self.fake.requests())
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        self.assertEqual(re.search(r"record writes\s+(\d+)", self.ps("db", "stats").out).group(1),
                         writes, "an unchanged roster writes no new record versions")
        self.assertRegex(r.out, r"teams: pulled 0 accounts in 1 pages")
        reqs = self.fake.requests()[n_before:]
        graph = [q for q in reqs if q["path"].startswith("/graph/")]
        self.assertEqual(len(graph), 1, graph)
        self.assertIn("/users/delta", graph[0]["path"])
        self.assertIn("$deltatoken", json.dumps(graph[0]["query"]))
        self.assertEqual(people_jsonl(self.cfg), first)
        # a deletion on the Graph side arrives through @removed
        victim = next(u for u in self.org["teams"]["users"] if u.get("accountEnabled", True)
                      and u.get("userType") != "Guest")
        self.fake.control({"op": "remove", "platform": "teams", "user_id": victim["id"],
                           "reason": "deleted"})
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        self.assertRegex(r.out, r"teams: pulled 1 accounts in 1 pages .*1 deactivated")
        after = people_jsonl(self.cfg)
        acct = [a for p in after for a in p["accounts"] if a["user_id"] == victim["id"]]
        self.assertEqual(len(acct), 1)
        self.assertFalse(acct[0]["active"])
        self.assertRc(self.ps("db", "verify"), 0)

    def test_expired_delta_link_falls_back_to_full_pull(self):
        self.assertRc(self.ps("reconcile"), 0)
        first = people_jsonl(self.cfg)
        self.fake.control({"op": "expire_delta_tokens"})
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        self.assertIn("rejected", r.err)
        self.assertIn("full pull", r.err)
        self.assertEqual(people_jsonl(self.cfg), first)

    def test_webex_outage_leaves_webex_untouched(self):
        self.assertRc(self.ps("reconcile"), 0)
        before = {p["email"]: p for p in people_jsonl(self.cfg)}
        s = next(m for m in self.org["slack"]["members"] if m.get("profile", {}).get("email")
                 and not m.get("deleted") and not m.get("is_bot"))
        w = next(p for p in self.org["webex"]["people"] if p.get("type") == "person")
        self.fake.control({"op": "mutate", "platform": "slack", "user_id": s["id"],
                           "set": {"real_name": "Slack Renamed"}})
        self.fake.control({"op": "mutate", "platform": "webex", "user_id": w["id"],
                           "set": {"displayName": "Webex Renamed"}})
        self.fake.control({"op": "fail", "spec": "webex:people:all:status=503"})
        r = self.ps("reconcile")
        self.assertRc(r, 69)
        self.assertIn("webex: GET people page 1: HTTP 503", r.err)
        self.assertNotIn("slack:", r.err)
        after = {p["email"]: p for p in people_jsonl(self.cfg)}
        names = {p["name"] for p in after.values()}
        self.assertNotIn("Webex Renamed", names)
        renamed = [p for p in after.values() if p["name"] == "Slack Renamed"]
        # the Slack change committed (unless the person's primary is elsewhere)
        self.assertTrue(renamed or any(
            a["user_id"] == s["id"] for p in after.values() for a in p["accounts"]))
        self.assertRegex(r.out, r"slack: pulled \d+ accounts")
        self.assertRegex(r.out, r"teams: pulled \d+ accounts")
        self.assertIn("webex: FAILED", r.out)
