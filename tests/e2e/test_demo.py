"""End-to-end: `make demo` (tests/demo.py) still tells its whole story, on a smaller org and
the sanitized binary: a prompt delivered on each platform, Sync now ending on the
confirmation page, an auto-prompt caused by a DM on the fake Slack, the report written with people on, pending and off on each platform."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from tests.e2e.harness import BIN, ROOT


class Demo(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ps-demo-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_demo_tells_the_whole_story(self):
        work = os.path.join(self.dir, "demo")
        env = dict(os.environ, DEMO_PEOPLE="60", DEMO_DIR=work, PEOPLESYNC_BIN=BIN)
        p = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "demo.py")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=env, timeout=240, cwd=ROOT)
        out = p.stdout
        self.assertEqual(p.returncode, 0, out)
        for platform in ("Slack", "Microsoft Teams", "Webex"):
            m = re.search(r"the DM the fake %s received \(to .*\n((?:     \| .*\n)+)"
                          % platform, out)
            self.assertTrue(m, out)
            self.assertIn("Sync now", m.group(1))
            self.assertRegex(m.group(1), r"/s/[A-Za-z0-9_-]{10}…")
        for platform in ("slack", "teams", "webex"):
            self.assertRegex(out, platform + r" prompts: [1-9]\d* delivered, 0 failed")
        # a direct message on the fake Slack, through serve's receiver: one auto-prompt
        self.assertRegex(out, r"POST /events/slack 200 .*recorded")
        self.assertRegex(out, r"events: \d+ read, 1 auto-prompts queued")
        self.assertRegex(out, r"queued by the message event slack:D\w+/[\d.]+ at ")
        self.assertIn("1 DM to ", out)
        # the provenance of a person on three platforms
        self.assertRegex(out, r"  teams .* linked by ")
        self.assertRegex(out, r"  webex .* linked by ")
        # Sync now, step by step, to the confirmation page
        for step in (r"GET /s/\S+ -> 303 /sync", r"connect Slack -> 302 fake sign-in page",
                     r"-> 302 /oauth/teams/callback -> 303 /sync",
                     r"POST /sync/primary team=slack:\S+ -> 303 /done",
                     r"GET /done -> 200 \"You're synced\" Thank you"):
            self.assertRegex(out, step)
        self.assertRegex(out, r"pending -> on: completed Sync now")
        # the report: its path, and on, pending and off on each platform
        m = re.search(r"^   report\s+(/\S+\.html)$", out, re.M)
        self.assertTrue(m, out)
        self.assertTrue(os.path.isfile(m.group(1)), m.group(1))
        self.assertTrue(m.group(1).startswith(work))
        for label in ("Slack", "Microsoft Teams", "Webex"):
            m = re.search(r"report summary  %s\s+(\d+) on\s+(\d+) pending\s+(\d+) off"
                          % label, out)
            self.assertTrue(m, out)
            self.assertTrue(all(int(n) > 0 for n in m.groups()), m.group(0))
        # auto-sync on the copy: Teams and Webex primaries on, as bots
        self.assertRegex(out, r"auto-sync: [1-9]\d* people synced automatically")
        self.assertRegex(out, r"\d+ people: \d+ on, 0 pending, 0 off")
        self.assertRegex(out, r"Done in \d+\.\d s")
        with open(os.path.join(work, "serve.log"), errors="replace") as f:
            log = f.read()
        self.assertNotIn("Sanitizer", log)
        self.assertNotIn("runtime error", log)


if __name__ == "__main__":
    unittest.main()
