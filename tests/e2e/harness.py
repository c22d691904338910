"""Shared harness of the end-to-end tests: a generated org, the loopback fake server, a
config in a temporary directory, and the sanitized peoplesync binary."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKES = os.path.join(ROOT, "tests", "fakes")
BIN = os.environ.get("PEOPLESYNC_BIN", os.path.join(ROOT, "build", "test", "peoplesync"))
PY = sys.executable
sys.path.insert(0, FAKES)

import genorg  # noqa: E402


class Fake:
    """The fake Slack/Graph/Webex server, started on a free loopback port."""

    def __init__(self, workdir, org_path, fail=(), extra=()):
        self.workdir = workdir
        self.log = os.path.join(workdir, "requests.jsonl")
        port_file = os.path.join(workdir, "fake.port")
        args = [PY, os.path.join(FAKES, "fakeserver.py"), "--org", org_path, "--port", "0",
                "--port-file", port_file, "--log", self.log]
        for f in fail:
            args += ["--fail", f]
        args += list(extra)
        with open(os.path.join(workdir, "fake.err"), "w") as errf:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=errf)
        deadline = time.time() + 20
        while time.time() < deadline:
            if os.path.exists(port_file):
                with open(port_file) as f:
                    txt = f.read().strip()
                if txt:
                    self.port = int(txt)
                    break
            if self.proc.poll() is not None:
                raise RuntimeError("fake server exited: " +
                                   open(os.path.join(workdir, "fake.err")).read())
            time.sleep(0.05)
        else:
            raise RuntimeError("fake server did not start")
        self.base = f"http://127.0.0.1:{self.port}"

    def control(self, op):
        req = urllib.request.Request(self.base + "/_control", data=json.dumps(op).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def get(self, path):
        with urllib.request.urlopen(self.base + path, timeout=10) as r:
            return json.loads(r.read())

    def requests(self):
        out = []
        if os.path.exists(self.log):
            with open(self.log) as f:
                for line in f:
                    line = line.strip()
                    if line:
                        out.append(json.loads(line))
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def write_secret(path, value):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return path


def make_config(workdir, fake, org, platforms=("slack",), extra="", page_limit=200):
    """Writes peoplesync.cfg for the fake and returns its path."""
    sec = org["secrets"]
    base = fake.base
    write_secret(os.path.join(workdir, "slack.token"), sec["slack_bot_token"])
    if "graph_client_secret" in sec:
        write_secret(os.path.join(workdir, "graph.secret"), sec["graph_client_secret"])
    if "webex_token" in sec:
        write_secret(os.path.join(workdir, "webex.token"), sec["webex_token"])
    teams_id = org.get("teams", {}).get("tenant_id", "tenant")
    # Defaults a test's extra can replace: a link key (prompts carry Sync now links), the
    # Teams service user's refresh token (Teams DMs), and no quiet hours (tests run at any
    # hour; the quiet-hours tests set them with a fixed PEOPLESYNC_NOW).
    defaults = ""
    if "link_key_file" not in extra:
        write_secret(os.path.join(workdir, "link.key"), "5f" * 32)
        defaults += 'link_key_file = "link.key";\n'
    if "prompts" not in extra:
        defaults += 'prompts = { quiet_hours = ""; };\n'
    teams_refresh = ""
    if "graph_refresh_token" in sec and "service_user_refresh_token_file" not in extra:
        write_secret(os.path.join(workdir, "graph.refresh"), sec["graph_refresh_token"])
        teams_refresh = 'service_user_refresh_token_file = "graph.refresh";'
    cfg = f"""
database = "{workdir}/db";
public_url = "http://127.0.0.1:8099";
slack = {{ enabled = {str('slack' in platforms).lower()}; api_url = "{base}/slack/api";
          bot_token_file = "slack.token"; page_limit = {page_limit}; }};
teams = {{ enabled = {str('teams' in platforms).lower()}; graph_url = "{base}/graph/v1.0";
          login_url = "{base}/login"; tenant_id = "{teams_id}";
          client_id = "{sec.get('graph_client_id', 'x')}"; client_secret_file = "graph.secret";
          {teams_refresh} }};
webex = {{ enabled = {str('webex' in platforms).lower()}; api_url = "{base}/webex/v1";
          token_file = "webex.token"; }};
identity = {{ domain_aliases = ( ("corp.onmicrosoft.com", "corp.com") ); }};
http = {{ retries = 3; backoff_base = 0.05; backoff_max = 0.5; timeout = 10; }};
{defaults}{extra}
"""
    path = os.path.join(workdir, "peoplesync.cfg")
    with open(path, "w") as f:
        f.write(cfg)
    return path


class Result:
    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr

    def __repr__(self):
        return f"rc={self.rc}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


def run(cfg, *args, env=None, timeout=300):
    e = dict(os.environ)
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1")
    e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    e["PEOPLESYNC_NO_TTY"] = "1"
    if env:
        e.update(env)
    argv = [BIN] + (["-c", cfg] if cfg else []) + list(args)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=e, timeout=timeout)
    return Result(p)


def people_jsonl(cfg, *args):
    r = run(cfg, "people", "--all", "--format", "jsonl", *args)
    if r.rc != 0:
        raise AssertionError(f"people failed: {r}")
    return [json.loads(l) for l in r.out.split("\n") if l.strip()]


def record_writes(r):
    """The "record writes" figure of a `db stats` result."""
    m = re.search(r"record writes\s+(\d+)", r.out)
    assert m, r
    return int(m.group(1))


class E2E(unittest.TestCase):
    """Base: a temp dir, an org (override org_args), a fake and a config per test."""
    org_args = dict(people=60, seed=7, platforms=("slack",))
    platforms = ("slack",)
    fail_specs = ()
    fake_extra = ()
    page_limit = 200
    cfg_extra = ""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ps-e2e-")
        self.org = genorg.generate(**self.org_args)
        self.org_path = os.path.join(self.dir, "org.json")
        with open(self.org_path, "w") as f:
            json.dump(self.org, f)
        self.fake = Fake(self.dir, self.org_path, self.fail_specs, self.fake_extra)
        self.cfg = make_config(self.dir, self.fake, self.org, self.platforms, self.cfg_extra,
                               page_limit=self.page_limit)

    def tearDown(self):
        self.fake.stop()
        if os.environ.get("PEOPLESYNC_KEEP_TMP"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def ps(self, *args, **kw):
        return run(self.cfg, *args, **kw)

    def assertRc(self, r, rc):
        self.assertEqual(r.rc, rc, msg=repr(r))
