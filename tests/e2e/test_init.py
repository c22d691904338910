"""`peoplesync init`: the files and modes it creates, the lines left to do, a second run that
changes nothing, an existing config never overwritten, and a config that passes check-config
and runs reconcile against the fake once its secret files are filled (no hand edit)."""
import grp
import hashlib
import os
import pwd
import shutil
import stat
import tempfile
import unittest

from tests.e2e.harness import E2E, run, write_secret


def service_user():
    try:
        return pwd.getpwnam("peoplesync")
    except KeyError:
        return None


def snapshot(top):
    """path -> (mode, uid, gid, mtime_ns, sha256 of contents) of everything under top."""
    out = {}
    for d, dirs, files in os.walk(top):
        for name in dirs + files:
            p = os.path.join(d, name)
            st = os.lstat(p)
            digest = None
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            out[p] = (st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, digest)
    return out


def todo_lines(out):
    """The numbered lines after "left to do:", without their numbers."""
    lines = out.split("\n")
    i = lines.index("left to do:")
    return [l.split(". ", 1)[1] for l in lines[i + 1:] if l.strip()]


class InitFiles(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ps-init-")
        self.etc = os.path.join(self.dir, "etc")
        self.db = os.path.join(self.dir, "db")
        self.spool = os.path.join(self.dir, "spool")
        self.cfg = os.path.join(self.etc, "peoplesync.cfg")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def init(self, *args):
        return run(None, "init", "--database", self.db, "--spool", self.spool, *args, self.etc)

    def mode(self, p):
        return stat.S_IMODE(os.stat(p).st_mode)

    def test_fresh_directory(self):
        r = self.init()
        self.assertEqual(r.rc, 0, r)
        e = self.etc
        self.assertEqual(self.mode(e), 0o755)
        self.assertEqual(self.mode(self.cfg), 0o640)
        p = os.path.join(e, "link.key")
        self.assertEqual(self.mode(p), 0o600)
        with open(p, "rb") as f:
            key = f.read()
        self.assertEqual(len(key), 32)          # 32 random bytes
        self.assertNotEqual(key[-1:], b"\n")    # which the loader would trim
        self.assertIn(f"created {p} (mode 0600, random key, 32 bytes)", r.out)
        # the token key is derived from the link key unless the admin wants a file of its own
        self.assertFalse(os.path.exists(os.path.join(e, "token.key")))
        for sec in ("slack-bot.token", "teams-client.secret", "webex-bot.token"):
            p = os.path.join(e, sec)
            self.assertEqual(self.mode(p), 0o600, sec)
            self.assertEqual(os.path.getsize(p), 0, sec)
        # the OAuth client secrets go with a client id the admin has not given yet
        self.assertFalse(os.path.exists(os.path.join(e, "slack-oauth.secret")))
        self.assertEqual(self.mode(self.db), 0o700)
        self.assertEqual(self.mode(self.spool), 0o770)
        self.assertIn(f"created {self.cfg} (mode 0640", r.out)
        user = service_user()
        if os.geteuid() == 0 and user is not None:
            self.assertEqual(os.stat(os.path.join(e, "link.key")).st_uid, user.pw_uid)
            self.assertEqual(os.stat(self.db).st_uid, user.pw_uid)
        elif os.geteuid() == 0:
            self.assertIn("user peoplesync does not exist: the files above are left to root",
                          r.out)
            self.assertEqual(os.stat(self.db).st_uid, 0)

        todo = todo_lines(r.out)
        c = f" -c {self.cfg}"
        for want in (
                f"run `peoplesync{c} slack-manifest` and create the Slack app from it",
                f"put the Slack bot token (xoxb-...) in {e}/slack-bot.token (mode 0600)",
                f"set slack.oauth.client_id in {self.cfg}",
                f"set teams.tenant_id in {self.cfg}",
                f"set teams.client_id in {self.cfg}",
                f"put the app registration's client secret in {e}/teams-client.secret",
                f"run `peoplesync{c} login teams`",
                f"put the Webex bot's access token",
                f"set public_url in {self.cfg}",
                f"check the config and the credentials: peoplesync{c} check-config --online"):
            self.assertTrue(any(l.startswith(want) for l in todo), f"{want!r} not in {todo}")
        # in the order of the work: the app, then its token
        self.assertLess([i for i, l in enumerate(todo) if "slack-manifest" in l][0],
                        [i for i, l in enumerate(todo) if "bot token" in l][0])

        # the config is commented and passes the loader but for what the admin must supply
        with open(self.cfg) as f:
            text = f.read()
        self.assertIn("# public_url = ", text)
        cc = run(self.cfg, "check-config")
        self.assertEqual(cc.rc, 78, cc)
        self.assertIn(f"slack.bot_token_file: {e}/slack-bot.token is empty; put the secret in "
                      "it (one line, mode 0600)", cc.err)
        self.assertIn("public_url: required", cc.err)
        self.assertNotIn("unknown key", cc.err)

    def test_second_run_changes_nothing(self):
        r = self.init("--platforms", "slack,webex")
        self.assertEqual(r.rc, 0, r)
        before = snapshot(self.dir)
        r2 = self.init("--platforms", "slack,webex")
        self.assertEqual(r2.rc, 0, r2)
        self.assertEqual(snapshot(self.dir), before)
        for p in (self.etc, self.cfg, self.db, self.spool,
                  os.path.join(self.etc, "link.key"), os.path.join(self.etc, "slack-bot.token")):
            self.assertIn(f"kept {p} (exists)", r2.out)
        self.assertNotIn("created", r2.out)
        self.assertNotIn("teams", "\n".join(todo_lines(r2.out)))

    def test_existing_config_is_never_overwritten(self):
        os.mkdir(self.etc)
        mine = 'database = "/somewhere";\n# my own\n'
        with open(self.cfg, "w") as f:
            f.write(mine)
        os.chmod(self.cfg, 0o644)
        digest = hashlib.sha256(mine.encode()).hexdigest()
        r = self.init("--public-url", "https://sync.example.org")
        self.assertEqual(r.rc, 0, r)
        self.assertIn(f"kept {self.cfg} (exists)", r.out)
        with open(self.cfg, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), digest)
        self.assertEqual(self.mode(self.cfg), 0o644)
        # a symlink at the name is not followed nor replaced either
        os.unlink(os.path.join(self.etc, "link.key"))
        target = os.path.join(self.dir, "elsewhere")
        os.symlink(target, os.path.join(self.etc, "link.key"))
        r = self.init()
        self.assertEqual(r.rc, 0, r)
        self.assertFalse(os.path.exists(target))
        self.assertTrue(os.path.islink(os.path.join(self.etc, "link.key")))

    def test_set_names_a_token_key_file(self):
        r = self.init("--platforms", "webex", "--set", "token_key_file=token.key",
                      "--set", "webex.token_env=WEBEX_TOKEN")
        self.assertEqual(r.rc, 0, r)
        p = os.path.join(self.etc, "token.key")     # relative: against the config's directory
        self.assertEqual(self.mode(p), 0o600)
        self.assertEqual(os.path.getsize(p), 32)
        with open(self.cfg) as f:
            text = f.read()
        self.assertIn('token_key_file = "token.key";', text)
        # an _env key replaces its _file: no file to fill, none written in the config
        self.assertIn('token_env = "WEBEX_TOKEN";', text)
        self.assertNotIn("token_file =", text)
        self.assertFalse(os.path.exists(os.path.join(self.etc, "webex-bot.token")))
        self.assertNotIn("slack", text)
        cc = run(self.cfg, "check-config", env={"WEBEX_TOKEN": "tok"})
        self.assertNotIn("webex.token", cc.err)
        self.assertNotIn("token_key_file", cc.err)

    def test_refused_set_creates_nothing(self):
        for bad, msg in (("slack.bot_tokn_file=x", "no such key"),
                         ("prompts.max_prompts=1000", "expected an integer in 1..100"),
                         ("slack.auto_sync=yes", "expected true or false"),
                         ("identity.domain_aliases=x", "not a single value"),
                         ("noequals", "expected KEY=VALUE")):
            r = self.init("--set", bad)
            self.assertEqual(r.rc, 64, r)
            self.assertIn(msg, r.err)
        r = self.init("--platforms", "slack", "--set", "teams.tenant_id=t")
        self.assertEqual(r.rc, 64, r)
        self.assertIn("teams is not among the platforms", r.err)
        r = self.init("--platforms", "slack,irc")
        self.assertEqual(r.rc, 64, r)
        self.assertFalse(os.path.exists(self.etc))

    def test_cannot_create(self):
        r = run(None, "init", "--database", self.db, "--spool", self.spool,
                os.path.join(self.dir, "missing", "etc"))
        self.assertEqual(r.rc, 73, r)
        self.assertIn(os.path.join(self.dir, "missing", "etc"), r.err)
        # what could be created was
        self.assertTrue(os.path.isdir(self.db))


class InitThenRun(E2E):
    """init, fill the secret files, then check-config and reconcile against the fake."""
    org_args = dict(people=40, seed=11, platforms=("slack", "teams", "webex"))
    platforms = ("slack", "teams", "webex")

    def test_init_check_config_reconcile(self):
        etc = os.path.join(self.dir, "etc")
        db = os.path.join(self.dir, "initdb")
        base = self.fake.base
        sec = self.org["secrets"]
        r = run(None, "init", "--database", db, "--spool", os.path.join(self.dir, "initspool"),
                "--public-url", "http://127.0.0.1:8099",
                "--set", f"slack.api_url={base}/slack/api",
                "--set", f"teams.graph_url={base}/graph/v1.0",
                "--set", f"teams.login_url={base}/login",
                "--set", f"teams.tenant_id={self.org['teams']['tenant_id']}",
                "--set", f"teams.client_id={sec['graph_client_id']}",
                "--set", f"webex.api_url={base}/webex/v1",
                "--set", "prompts.quiet_hours=",
                etc)
        self.assertEqual(r.rc, 0, r)
        todo = "\n".join(todo_lines(r.out))
        self.assertNotIn("set public_url", todo)
        self.assertNotIn("set teams.tenant_id", todo)
        cfg = os.path.join(etc, "peoplesync.cfg")
        # check-config names what is still missing: the secrets
        cc = run(cfg, "check-config")
        self.assertEqual(cc.rc, 78, cc)
        self.assertIn("login teams", cc.err)
        for name, value in (("slack-bot.token", sec["slack_bot_token"]),
                            ("teams-client.secret", sec["graph_client_secret"]),
                            ("webex-bot.token", sec["webex_token"])):
            write_secret(os.path.join(etc, name), value)     # keeps the file's 0600
        write_secret(os.path.join(db, "teams-service-user.token"), sec["graph_refresh_token"])
        cc = run(cfg, "check-config")
        self.assertEqual(cc.rc, 0, cc)
        self.assertIn("slack enabled, teams enabled, webex enabled", cc.out)
        rec = run(cfg, "reconcile", "--no-prompts")
        self.assertEqual(rec.rc, 0, rec)
        people = run(cfg, "people", "--all", "--format", "jsonl")
        self.assertEqual(people.rc, 0, people)
        self.assertGreater(len([l for l in people.out.split("\n") if l.strip()]), 10)
        # a second init now finds everything filled: only the checks are left
        r2 = run(None, "init", "--database", db, "--spool", os.path.join(self.dir, "initspool"),
                 etc)
        self.assertEqual(r2.rc, 0, r2)
        left = "\n".join(todo_lines(r2.out))
        self.assertNotIn("put the", left)
        self.assertNotIn("login teams", left)
        self.assertIn("check-config --online", left)


if __name__ == "__main__":
    unittest.main()
