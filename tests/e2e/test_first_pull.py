"""End-to-end: a platform's first pull is merged as it arrives (reconcile/apply.c,
apply_stream_*). Cut short, it keeps the batches merged before the failure, says so, leaves
the database consistent and saves nothing that would make the next run skip what is
missing; the next run merges the rest and ends where a clean first pull ends."""
import os
import re

from tests.e2e.harness import E2E, people_jsonl, run


class FirstPullCutShort(E2E):
    """23,064 Slack members in pages of 1,000; the writer merges batches of 20,000."""
    org_args = dict(people=22000, seed=5, platforms=("slack",))
    page_limit = 1000

    def clean_people(self):
        """People after one clean first pull into a database of their own."""
        with open(self.cfg) as f:
            text = f.read()
        cfg2 = os.path.join(self.dir, "clean.cfg")
        with open(cfg2, "w") as f:
            f.write(text.replace(f'database = "{self.dir}/db";',
                                 f'database = "{self.dir}/clean";'))
        self.assertRc(run(cfg2, "reconcile", "--no-prompts"), 0)
        return people_jsonl(cfg2)

    def test_cut_short_keeps_the_merged_batches_and_the_next_run_ends_it(self):
        self.fake.control({"op": "fail", "spec": "slack:users.list:page=22:status=500"})
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 69)
        self.assertIn("users.list page 22", r.err)
        m = re.search(r"this first pull of slack is incomplete: the (\d+) accounts merged "
                      r"before were kept, the next run pulls again", r.err)
        self.assertIsNotNone(m, r.err)
        self.assertEqual(int(m.group(1)), 20000)    # the first batch; the rest was dropped
        kept = people_jsonl(self.cfg)
        self.assertGreater(len(kept), 15000)
        self.assertRc(self.ps("db", "verify"), 0)   # indexes written, nothing half done
        # the platform back: the rest arrives, and the result is a clean first pull's
        self.fake.control({"op": "clear_failures"})
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 0)
        self.assertRegex(r.out, r"slack: pulled 23064 accounts .*: 3064 new, 0 changed, "
                                r"0 deactivated, 0 reactivated, 20000 unchanged")
        self.assertRc(self.ps("db", "verify"), 0)
        after = people_jsonl(self.cfg)
        clean = self.clean_people()
        self.assertEqual(len(after), len(clean))
        key = lambda p: sorted((a["platform"], a["user_id"]) for a in p["accounts"])  # noqa
        self.assertEqual(sorted(map(key, after)), sorted(map(key, clean)))
        self.assertEqual(sorted(p["email"] or "" for p in after),
                         sorted(p["email"] or "" for p in clean))

    def test_a_dry_run_first_pull_writes_nothing(self):
        r = self.ps("reconcile", "--dry-run", "--no-prompts")
        self.assertRc(r, 0)
        self.assertIn("23064", r.out)
        self.assertEqual(people_jsonl(self.cfg), [])
