"""End-to-end: reading people back after a Slack pull — `show` by email or by platform id,
`people` with its filters and output formats, and usage errors for bad values."""
from tests.e2e.harness import E2E


class PeopleListing(E2E):
    """`show` and `people` over a pulled Slack roster."""
    org_args = dict(people=120, seed=11, platforms=("slack",))
    page_limit = 20

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
