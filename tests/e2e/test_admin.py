"""End-to-end: conflicts, moved accounts, and an admin's link / unlink kept by later runs."""
from tests.e2e.harness import E2E, people_jsonl


def person_of(people, platform, uid):
    for p in people:
        for a in p["accounts"]:
            if a["platform"] == platform and a["user_id"] == uid:
                return p
    return None


class Admin(E2E):
    org_args = dict(people=80, seed=5, platforms=("slack", "teams", "webex"))
    platforms = ("slack", "teams", "webex")

    def active_slack_human(self, skip=()):
        for t in self.org["truth"]:
            if t["email"] in skip:
                continue
            for a in t["accounts"]:
                if a["platform"] == "slack" and a["active"] and not a["guest"]:
                    return t, a
        raise AssertionError("no active slack human")

    def test_conflict_is_kept_apart_then_settled(self):
        self.assertRc(self.ps("reconcile"), 0)
        t, a = self.active_slack_human()
        new = self.fake.control({"op": "add", "platform": "slack", "email": t["email"].upper(),
                                 "name": "Impostor Twin"})["user"]
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        people = people_jsonl(self.cfg)
        mine = person_of(people, "slack", a["user_id"])
        twin = person_of(people, "slack", new["id"])
        self.assertIsNotNone(twin)
        self.assertNotEqual(mine, twin, "never merged silently")
        r = self.ps("conflicts")
        self.assertRc(r, 0)
        self.assertIn("slack:" + new["id"], r.out)
        self.assertIn("1 conflict waiting", r.out)
        self.assertIn("conflict", self.ps("people").out)
        self.assertRc(self.ps("db", "verify"), 0)
        # the admin says: a different human
        r = self.ps("unlink", "slack:" + new["id"])
        self.assertRc(r, 0)
        self.assertIn("0 conflicts", self.ps("conflicts").out)
        self.assertRc(self.ps("reconcile"), 0)
        people = people_jsonl(self.cfg)
        self.assertNotEqual(person_of(people, "slack", a["user_id"]),
                            person_of(people, "slack", new["id"]))
        self.assertIn("0 conflicts", self.ps("conflicts").out)
        # and then changes their mind: the same human with two accounts
        r = self.ps("link", t["email"], "slack:" + new["id"])
        self.assertRc(r, 0)
        self.assertRc(self.ps("reconcile"), 0)
        people = people_jsonl(self.cfg)
        self.assertEqual(person_of(people, "slack", a["user_id"]),
                         person_of(people, "slack", new["id"]))
        shown = self.ps("show", "slack:" + new["id"])
        self.assertIn("linked by admin", shown.out)
        self.assertRc(self.ps("db", "verify"), 0)

    def test_email_change_moves_the_account(self):
        self.assertRc(self.ps("reconcile"), 0)
        # someone without a Slack account, and a Slack-only person
        target = next(t for t in self.org["truth"] if t["email"] and t["active"] and
                      not any(a["platform"] == "slack" for a in t["accounts"]))
        mover = next(t for t in self.org["truth"] if t["email"] and t["active"] and
                     [a["platform"] for a in t["accounts"]] == ["slack"])
        uid = mover["accounts"][0]["user_id"]
        before = len(people_jsonl(self.cfg))
        self.fake.control({"op": "mutate", "platform": "slack", "user_id": uid,
                           "set": {"profile.email": target["email"]}})
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        people = people_jsonl(self.cfg)
        self.assertEqual(len(people), before - 1, "the emptied person is gone")
        p = person_of(people, "slack", uid)
        self.assertEqual(p["email"], target["email"])
        self.assertEqual(len(p["accounts"]), len(target["accounts"]) + 1)
        shown = self.ps("show", target["email"])
        self.assertIn("moved here", shown.out)
        self.assertRc(self.ps("db", "verify"), 0)

    def test_unlink_and_link_survive_runs(self):
        self.assertRc(self.ps("reconcile"), 0)
        t = next(t for t in self.org["truth"] if t["active"] and len(t["accounts"]) >= 2 and
                 t["email"])
        acc = next(a for a in t["accounts"] if a["platform"] != "slack")
        spec = f"{acc['platform']}:{acc['user_id']}"
        self.assertRc(self.ps("unlink", spec), 0)
        for _ in range(2):
            self.assertRc(self.ps("reconcile"), 0)
            people = people_jsonl(self.cfg)
            alone = person_of(people, acc["platform"], acc["user_id"])
            self.assertEqual(len(alone["accounts"]), 1)
        self.assertRc(self.ps("link", t["email"], spec), 0)
        for _ in range(2):
            self.assertRc(self.ps("reconcile"), 0)
            people = people_jsonl(self.cfg)
            back = person_of(people, acc["platform"], acc["user_id"])
            self.assertEqual(len(back["accounts"]), len(t["accounts"]))
        self.assertRc(self.ps("db", "verify"), 0)

    def test_bad_admin_input(self):
        self.assertRc(self.ps("reconcile"), 0)
        r = self.ps("link", "nobody@nowhere.example", "slack:U000")
        self.assertRc(r, 65)
        self.assertIn("nobody@nowhere.example", r.err)
        t, a = self.active_slack_human()
        r = self.ps("link", t["email"], "slack:UNOPE")
        self.assertRc(r, 65)
        self.assertIn("slack:UNOPE", r.err)
        self.assertRc(self.ps("link", t["email"]), 64)
        self.assertRc(self.ps("unlink"), 64)
