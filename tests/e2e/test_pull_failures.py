"""End-to-end: a Slack roster pull that meets failures — a page failing mid-pull changes
nobody, 429 with Retry-After and truncated or malformed pages are retried, a persistent 5xx
and a repeating cursor fail cleanly (exit 69), and a bad token is named by its error, never
shown."""
import os

from tests.e2e.harness import E2E, people_jsonl, record_writes, run


class SlackPullFailures(E2E):
    """Failures injected into the fake Slack's users.list (paged by 20)."""
    org_args = dict(people=120, seed=11, platforms=("slack",))
    page_limit = 20

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
