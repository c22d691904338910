"""From `init` to a running deployment against the fakes, with no file edited by hand: init
with the fakes' URLs, the commands its to-do list prints run exactly as printed
(`slack-manifest`, `login teams` with the test playing the service user who enters the code),
the secret files filled as the list says, `check-config --online` (all good: exit 0; a bot
token lacking a scope: 78 naming scope and feature; a platform down: 69, the others still
checked), then `reconcile`, a Teams prompt sent with the token the device login stored, and
`serve` answering /healthz.  Then each branch of the device login: slow_down, decline, expiry."""
import json
import os
import re
import shlex
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import unittest
import urllib.request

from tests.e2e.harness import BIN, Fake, genorg, run, write_secret


def todo_lines(out):
    lines = out.split("\n")
    i = lines.index("left to do:")
    return [l.split(". ", 1)[1] for l in lines[i + 1:] if l.strip()]


def command_in(line):
    """The command between backticks of a to-do line, as argv with our binary."""
    m = re.search(r"`(peoplesync [^`]*)`", line)
    assert m, line
    argv = shlex.split(m.group(1))
    return [BIN] + argv[1:]


def env():
    e = dict(os.environ)
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1")
    e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    e["PEOPLESYNC_NO_TTY"] = "1"
    return e


class SetupBase(unittest.TestCase):
    platforms = ("slack", "teams", "webex")

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ps-setup-")
        self.org = genorg.generate(people=40, seed=12, platforms=self.platforms)
        org_path = os.path.join(self.dir, "org.json")
        with open(org_path, "w") as f:
            json.dump(self.org, f)
        self.fake = Fake(self.dir, org_path)
        self.etc = os.path.join(self.dir, "etc")
        self.cfg = os.path.join(self.etc, "peoplesync.cfg")
        self.token_file = os.path.join(self.dir, "db", "teams-service-user.token")

    def tearDown(self):
        self.fake.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def init(self):
        """`init` pointed at the fakes by its options alone."""
        sec, base = self.org["secrets"], self.fake.base
        sets = {"slack": [f"slack.api_url={base}/slack/api"],
                "teams": [f"teams.graph_url={base}/graph/v1.0", f"teams.login_url={base}/login",
                          f"teams.tenant_id={self.org.get('teams', {}).get('tenant_id')}",
                          f"teams.client_id={sec.get('graph_client_id')}"],
                "webex": [f"webex.api_url={base}/webex/v1"]}
        args = [a for p in self.platforms for s in sets[p] for a in ("--set", s)]
        r = run(None, "init", "--platforms", ",".join(self.platforms),
                "--database", os.path.join(self.dir, "db"),
                "--spool", os.path.join(self.dir, "spool"),
                "--public-url", "http://127.0.0.1:8099", *args,
                "--set", "prompts.quiet_hours=",
                "--set", "http.retries=1", "--set", "http.backoff_base=0.05",
                "--set", "http.backoff_max=0.2", "--set", "http.timeout=10",
                self.etc)
        self.assertEqual(r.rc, 0, r)
        return r

    def fill_secrets(self):
        sec = self.org["secrets"]
        files = {"slack": ("slack-bot.token", "slack_bot_token"),
                 "teams": ("teams-client.secret", "graph_client_secret"),
                 "webex": ("webex-bot.token", "webex_token")}
        for p in self.platforms:
            write_secret(os.path.join(self.etc, files[p][0]), sec[files[p][1]])

    def start_login(self, argv=None):
        """`login teams` started; returns (process, verification URI, user code)."""
        p = subprocess.Popen(argv or [BIN, "-c", self.cfg, "login", "teams"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env())
        seen = []
        while True:
            line = p.stderr.readline()
            if not line:
                p.wait(10)
                self.fail("login teams printed no code: %s" % "".join(seen))
            seen.append(line)
            m = re.search(r"open (\S+) in a browser and enter the code (\S+) ", line)
            if m:
                return p, m.group(1), m.group(2)

    def finish(self, p, timeout=60):
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out, err

    def devices(self):
        return self.fake.get("/_control/oauth/devices")


class SetupFlow(SetupBase):
    def test_init_login_check_reconcile_serve(self):
        t0 = time.monotonic()
        r = self.init()
        todo = todo_lines(r.out)
        manifest_line = [l for l in todo if "slack-manifest" in l]
        login_line = [l for l in todo if "login teams" in l]
        self.assertEqual(len(manifest_line), 1, todo)
        self.assertEqual(len(login_line), 1, todo)
        self.assertIn(self.token_file, login_line[0])

        # the app is created from the manifest the to-do list names, as printed
        m = subprocess.run(command_in(manifest_line[0]), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=env())
        self.assertEqual(m.returncode, 0, m.stderr)
        manifest = json.loads(m.stdout)
        scopes = manifest["oauth_config"]["scopes"]
        self.assertIn("im:write", scopes["bot"])
        self.assertEqual(manifest["oauth_config"]["redirect_urls"],
                         ["http://127.0.0.1:8099/oauth/slack/callback"])
        self.assertEqual(manifest["settings"]["event_subscriptions"]["request_url"],
                         "http://127.0.0.1:8099/events/slack")
        self.fake.control({"op": "slack_scopes", "scopes": ",".join(scopes["bot"])})
        self.fill_secrets()

        # login teams, as printed; the service user enters the code in a browser
        p, uri, code = self.start_login(command_in(login_line[0]))
        self.assertEqual(uri, self.fake.base + "/login/devicelogin")
        time.sleep(1.5)                            # a poll or two while pending
        self.fake.control({"op": "device_approve", "user_code": code})
        rc, out, err = self.finish(p)
        self.assertEqual(rc, 0, out + err)
        self.assertIn(f"stored in {self.token_file} (mode 0600)", out)
        self.assertEqual(stat.S_IMODE(os.stat(self.token_file).st_mode), 0o600)
        with open(self.token_file) as f:
            refresh = f.read().strip()
        issued = self.fake.get("/_control/oauth/issued")
        self.assertIn(refresh, issued["refresh"])
        self.assertNotIn(refresh, out + err)
        d = self.devices()
        self.assertEqual(len(d), 1)
        self.assertEqual(d[0]["scope"], "offline_access User.Read Chat.Create "
                                        "ChatMessage.Send Chat.Read")
        self.assertGreaterEqual(d[0]["polls"], 2)
        self.assertEqual(d[0]["slow_downs"], 0)    # never polled faster than asked

        # check-config --online: every platform proves its credentials
        r = run(self.cfg, "check-config", "--online")
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.out, r"slack: bot token: team T\w+ .*; granted users:read,")
        self.assertRegex(r.out, r"teams: app registration: client .*; granted User.Read.All "
                                r"Organization.Read.All Chat.Read.All")
        self.assertRegex(r.out, r"teams: service user: tenant .*; granted .*ChatMessage.Send")
        self.assertRegex(r.out, r"webex: token: People Sync Service \(person\)")
        for k in ("slack_bot_token", "graph_client_secret", "webex_token"):
            self.assertNotIn(self.org["secrets"][k], r.out + r.err)
        with open(self.token_file) as f:
            rotated = f.read().strip()
        self.assertNotIn(rotated, r.out + r.err)

        # a bot token lacking a scope: 78, naming the scope and the feature
        self.fake.control({"op": "slack_scopes", "scopes": ",".join(
            s for s in scopes["bot"] if s != "im:write")})
        r = run(self.cfg, "check-config", "--online")
        self.assertEqual(r.rc, 78, r)
        self.assertIn("slack: bot token lacks im:write (needed by: prompts by direct "
                      "message)", r.err)
        self.assertRegex(r.out, r"webex: token: ")      # the others still checked
        self.fake.control({"op": "slack_scopes", "scopes": ",".join(scopes["bot"])})
        # an app registration without the catch-up's permission (its token's roles claim)
        self.fake.control({"op": "graph_roles", "roles": ["User.Read.All",
                                                          "Organization.Read.All"]})
        r = run(self.cfg, "check-config", "--online")
        self.assertEqual(r.rc, 78, r)
        self.assertIn("teams: app registration lacks Chat.Read.All (needed by: the catch-up "
                      "of missed direct messages)", r.err)
        self.fake.control({"op": "graph_roles", "roles": ["User.Read.All",
                                                          "Organization.Read.All",
                                                          "Chat.Read.All"]})

        # a platform down: 69, the others still checked
        self.fake.control({"op": "fail", "spec": "webex:people.me:status=503"})
        r = run(self.cfg, "check-config", "--online")
        self.assertEqual(r.rc, 69, r)
        self.assertIn("webex: GET /people/me: HTTP 503", r.err)
        self.assertRegex(r.out, r"slack: bot token: ")
        self.assertRegex(r.out, r"teams: service user: ")
        self.fake.control({"op": "clear_failures"})

        # reconcile, and a prompt on Teams sent with the token the device login stored
        r = run(self.cfg, "reconcile")
        self.assertEqual(r.rc, 0, r)
        people = [json.loads(l) for l in run(self.cfg, "people", "--format", "jsonl")
                  .out.split("\n") if l.strip()]
        teams = [x for x in people if x["primary_platform"] == "teams" and x["email"]]
        self.assertTrue(teams, people)
        r = run(self.cfg, "prompt", teams[0]["email"])
        self.assertEqual(r.rc, 0, r)
        r = run(self.cfg, "reconcile")
        self.assertEqual(r.rc, 0, r)
        sent = self.fake.get("/_control/messages?platform=teams")
        self.assertEqual(len(sent), 1, sent)

        # serve answers
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        srv = subprocess.Popen([BIN, "-c", self.cfg, "serve", "--listen", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env())
        try:
            deadline = time.time() + 20
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                                timeout=5) as h:
                        self.assertEqual(h.status, 200)
                        break
                except OSError:
                    if time.time() > deadline or srv.poll() is not None:
                        raise
                    time.sleep(0.1)
        finally:
            srv.terminate()
            srv.wait(10)
        # the whole set-up, init to serve, well within a minute on the fakes
        self.assertLess(time.monotonic() - t0, 60)


class DeviceLogin(SetupBase):
    platforms = ("slack", "teams")

    def setUp(self):
        super().setUp()
        self.init()
        self.fill_secrets()

    def test_slow_down_makes_every_later_poll_5s_further_apart(self):
        self.fake.control({"op": "device", "slow_down_once": True, "approve_after": 2})
        t0 = time.monotonic()
        p, _, _ = self.start_login()
        rc, out, err = self.finish(p)
        took = time.monotonic() - t0
        self.assertEqual(rc, 0, out + err)
        d = self.devices()[0]
        # poll 1 after 1 s: slow_down; poll 2 after 1 + 5 s: approved. A client that kept
        # the old interval would poll early and be slowed down again.
        self.assertEqual((d["polls"], d["slow_downs"]), (2, 1), d)
        self.assertGreaterEqual(took, 6.5)
        self.assertTrue(os.path.exists(self.token_file))

    def test_declined_sign_in_exits_77_and_stores_nothing(self):
        p, _, code = self.start_login()
        self.fake.control({"op": "device_deny", "user_code": code})
        rc, out, err = self.finish(p)
        self.assertEqual(rc, 77, out + err)
        self.assertIn("teams: the sign-in was declined (authorization_declined)", err)
        self.assertFalse(os.path.exists(self.token_file))

    def test_rfc_access_denied_is_a_decline_too(self):
        p, _, code = self.start_login()
        self.fake.control({"op": "device_deny", "user_code": code, "error": "access_denied"})
        rc, out, err = self.finish(p)
        self.assertEqual(rc, 77, out + err)
        self.assertIn("declined (access_denied)", err)

    def test_expired_code_exits_75_and_stores_nothing(self):
        self.fake.control({"op": "device", "expires_in": 2})
        p, _, code = self.start_login()
        rc, out, err = self.finish(p)
        self.assertEqual(rc, 75, out + err)
        self.assertIn(f"the code {code} expired before the sign-in was completed", err)
        self.assertFalse(os.path.exists(self.token_file))

    def test_identity_platform_down_exits_69(self):
        self.fake.control({"op": "fail", "spec": "teams:devicecode:status=503"})
        r = run(self.cfg, "login", "teams")
        self.assertEqual(r.rc, 69, r)
        self.assertIn("teams: POST devicecode: HTTP 503", r.err)

    def test_unknown_app_exits_78(self):
        r = run(None, "init", "--platforms", "teams", "--database", os.path.join(self.dir, "d2"),
                "--spool", os.path.join(self.dir, "s2"), "--public-url", "http://127.0.0.1:1",
                "--set", f"teams.login_url={self.fake.base}/login",
                "--set", f"teams.tenant_id={self.org['teams']['tenant_id']}",
                "--set", "teams.client_id=00000000-0000-0000-0000-000000000000",
                os.path.join(self.dir, "etc2"))
        self.assertEqual(r.rc, 0, r)
        r = run(os.path.join(self.dir, "etc2", "peoplesync.cfg"), "login", "teams")
        self.assertEqual(r.rc, 78, r)
        self.assertIn("unauthorized_client", r.err)
        self.assertIn("allow public client flows", r.err)

    def test_a_device_token_refreshes_without_the_client_secret(self):
        """Microsoft refuses a client secret with a public client's refresh token
        (AADSTS700025): check-config --online renews it as the prompts will."""
        p, _, code = self.start_login()
        self.fake.control({"op": "device_approve", "user_code": code})
        self.assertEqual(self.finish(p)[0], 0)
        with open(self.token_file) as f:
            first = f.read()
        r = run(self.cfg, "check-config", "--online")
        self.assertEqual(r.rc, 0, r)
        with open(self.token_file) as f:
            self.assertNotEqual(f.read(), first)           # rotated and saved back
        self.assertEqual(stat.S_IMODE(os.stat(self.token_file).st_mode), 0o600)


class Manifests(SetupBase):
    platforms = ("slack", "webex")

    def test_manifest_and_integration_before_any_secret_is_filled(self):
        self.init()                      # secrets still empty, client ids unset
        r = run(self.cfg, "slack-manifest")
        self.assertEqual(r.rc, 0, r)
        m = json.loads(r.out)
        self.assertEqual(m["oauth_config"]["scopes"]["bot"],
                         ["users:read", "users:read.email", "chat:write", "im:write",
                          "im:history", "team:read"])
        self.assertEqual(m["oauth_config"]["scopes"]["user"],
                         ["users:read", "users:read.email", "im:history", "im:read"])
        self.assertEqual(m["settings"]["event_subscriptions"]["user_events"], ["message.im"])
        self.assertFalse(m["settings"]["token_rotation_enabled"])
        r = run(self.cfg, "webex-integration")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(json.loads(r.out), {
            "name": "People Sync",
            "redirect_uris": ["http://127.0.0.1:8099/oauth/webex/callback"],
            "scopes": ["spark:people_read", "spark:messages_read", "spark:rooms_read"]})


if __name__ == "__main__":
    unittest.main()
