#!/usr/bin/env python3
"""make demo: the whole job against the loopback fakes, on the embedded default config.

Generates an organisation of a few hundred people (names with accents, CJK, emoji,
apostrophes, right-to-left scripts), starts the fake platform server on a free loopback
port, writes the embedded config below into a temporary directory, runs `peoplesync
reconcile`, then shows the people table, one person in detail, the database check, and a
second (incremental, nothing changed) run.
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "e2e"))
sys.path.insert(0, os.path.join(HERE, "fakes"))

import genorg  # noqa: E402
from harness import Fake, make_config  # noqa: E402

BIN = os.path.join(ROOT, "peoplesync")


def banner(text):
    print()
    print("\033[1m== " + text + "\033[0m" if sys.stdout.isatty() else "== " + text)


def sh(cfg, *args):
    cmd = [BIN, "-c", cfg] + list(args)
    print("$ peoplesync " + " ".join(args), flush=True)
    p = subprocess.run(cmd, env=dict(os.environ))
    return p.returncode


def main():
    people = int(os.environ.get("DEMO_PEOPLE", "300"))
    work = tempfile.mkdtemp(prefix="peoplesync-demo-")
    fake = None
    try:
        org = genorg.generate(people=people, seed=2026, platforms=("slack",), mix="demo")
        org_path = os.path.join(work, "org.json")
        import json
        with open(org_path, "w") as f:
            json.dump(org, f)
        fake = Fake(work, org_path)
        cfg = make_config(work, fake, org, ("slack",))
        banner(f"fake Slack workspace with {len(org['slack']['members'])} accounts on "
               f"{fake.base}; config and database in {work}")
        banner("first run: pull the roster and reconcile")
        rc = sh(cfg, "reconcile")
        if rc != 0:
            print(f"reconcile exited {rc}")
            return rc
        banner("people (active people; --all adds the deactivated)")
        sh(cfg, "people")
        truth = org["truth"]
        someone = next((t for t in truth if t.get("active") and "'" in t["name"]), truth[0])
        banner(f"one person in detail: {someone['email']}")
        sh(cfg, "show", someone["email"])
        banner("an admin prompts two people; the next run sends the prompts")
        off = [t for t in truth if t.get("active") and not t.get("guest") and t.get("email")][:2]
        sh(cfg, "prompt", *[t["email"] for t in off])
        sh(cfg, "reconcile")
        import urllib.request
        with urllib.request.urlopen(fake.base + "/_control/messages") as r:
            msgs = json.loads(r.read())
        if msgs:
            print("\nthe direct message the fake Slack received:\n")
            print("    " + msgs[0]["text"].replace("\n", "\n    "))
        banner(f"explain {off[0]['email']}")
        sh(cfg, "explain", off[0]["email"])
        banner("export: an HTML report for admins")
        report = os.path.join(tempfile.gettempdir(), "peoplesync-demo-report.html")
        sh(cfg, "export", "--format", "html", "-o", report)
        print(f"open {report} in a browser: a chart of the statuses, a table to filter")
        banner("third run: nothing changed, nothing written")
        sh(cfg, "reconcile")
        banner("database check")
        sh(cfg, "db", "verify")
        return 0
    finally:
        if fake:
            fake.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
