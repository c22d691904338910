"""End-to-end: the command line itself — --help for every command, usage errors (64),
check-config and its hints, a missing config, a group-readable secret refused (78), and
`people` before any run (74)."""
import os

from tests.e2e.harness import E2E, run


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
