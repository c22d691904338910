"""End-to-end: the bad configuration matrix. Every broken config is refused before anything
is done — exit 78 (EX_CONFIG), or 74 where the contract calls it an I/O error (a database
that cannot be created or opened) — with one line per problem that names the file, the line
and the setting (or the path at fault), and never a secret.

test_cli_basics.py already has: `people` with a missing file, one misspelt reconcile key
through check-config, and a group-readable Slack token through reconcile."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from tests.e2e.harness import run, write_secret

SECRETS = {
    "slack.token": "xoxb-1111-badconfig-slack-secret",
    "graph.secret": "graph~badconfig~client~secret~2222",
    "webex.token": "webex-badconfig-token-3333",
    "link.key": "6b" * 32,
}


class BadConfig(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ps-badcfg-")
        for name, value in SECRETS.items():
            write_secret(os.path.join(self.dir, name), value)
        self.path = os.path.join(self.dir, "peoplesync.cfg")
        self.db = os.path.join(self.dir, "db")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, body, database=None):
        """A config: the first line is the database, the second the public URL; body after
        (so line numbers in messages are body's line + 2)."""
        text = (f'database = "{database or self.db}";\n'
                'public_url = "https://sync.example.com";\n' + body)
        with open(self.path, "w") as f:
            f.write(text)
        return self.path

    def good_body(self):
        return ('link_key_file = "link.key";\n'
                'slack = { enabled = true; api_url = "http://127.0.0.1:9/slack/api"; '
                'bot_token_file = "slack.token"; };\n'
                'teams = { enabled = true; graph_url = "http://127.0.0.1:9/graph/v1.0"; '
                'login_url = "http://127.0.0.1:9/login"; tenant_id = "t1"; client_id = "c1"; '
                'client_secret_file = "graph.secret"; };\n'
                'webex = { enabled = true; api_url = "http://127.0.0.1:9/webex/v1"; '
                'token_file = "webex.token"; };\n')

    def refused(self, *args, rc=78, cfg=None, env=None):
        """Runs args (default: check-config and reconcile) and checks the exit code, that no
        secret leaks and that nothing was created. Returns stderr of the last run."""
        cmds = [args] if args else [("check-config",), ("reconcile",)]
        err = ""
        for cmd in cmds:
            r = run(cfg if cfg is not None else self.path, *cmd, env=env)
            self.assertEqual(r.rc, rc, msg=f"{cmd}: {r!r}")
            self.assertNoSecret(r)
            err = r.err
        if rc == 78:
            self.assertFalse(os.path.exists(self.db), "a refused config created the database")
        return err

    def assertNoSecret(self, r):
        for v in SECRETS.values():
            self.assertNotIn(v, r.out + r.err)
            self.assertNotIn(v[:12], r.out + r.err)

    def line_of(self, needle):
        with open(self.path) as f:
            for i, line in enumerate(f, 1):
                if needle in line:
                    return i
        raise AssertionError(needle)

    def assertProblem(self, err, needle, key, what):
        """err has "FILE:LINE: key: what" where LINE is the line holding needle."""
        want = f"{self.path}:{self.line_of(needle)}: {key}: "
        lines = [l for l in err.splitlines() if l.startswith(want)]
        self.assertTrue(lines, f"no line starting {want!r} in\n{err}")
        self.assertTrue(any(re.search(what, l[len(want):]) for l in lines),
                        f"{what!r} not in {lines}")

    # ---- the matrix ---------------------------------------------------------------------
    def test_good_config_is_accepted(self):
        """The base every other case breaks in one way."""
        self.write(self.good_body())
        r = run(self.path, "check-config")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("OK (slack enabled, teams enabled, webex enabled", r.out)
        self.assertNoSecret(r)

    def test_missing_file(self):
        nope = os.path.join(self.dir, "nope.cfg")
        err = self.refused(cfg=nope)
        self.assertEqual(err, f"{nope}: cannot read: No such file or directory\n")
        # the default path from the environment
        err = self.refused("check-config", cfg="", env={"PEOPLESYNC_CONFIG": nope})
        self.assertIn(f"{nope}: cannot read: No such file or directory", err)
        # a directory is no config file
        err = self.refused("reconcile", cfg=self.dir)
        self.assertIn(f"{self.dir}: cannot read: Is a directory", err)

    def test_syntax_errors_name_the_line(self):
        self.write(self.good_body() + "http = { retries = ; };\n")
        err = self.refused()
        self.assertIn(f"{self.path}:{self.line_of('retries = ;')}: syntax error", err)
        # a string never closed, holding something secret-looking: not echoed
        self.write('slack = { enabled = true;\n  bot_token_file = "slack.token;\n};\n'
                   'webex = { enabled = false; };\n')
        err = self.refused()
        self.assertRegex(err, rf"^{re.escape(self.path)}:\d+: syntax error")
        self.assertNotIn("slack.token", err)
        # a group never closed
        self.write(self.good_body() + "reconcile = { max_deactivate_share = 0.2;\n")
        err = self.refused()
        self.assertRegex(err, rf"^{re.escape(self.path)}:\d+: syntax error")

    def test_wrong_types_every_problem_reported(self):
        self.write(
            'slack = { enabled = "yes"; bot_token_file = "slack.token"; page_limit = "ten"; };\n'
            'webex = "on";\n'
            'identity = { domain_aliases = "corp.com"; };\n'
            'reconcile = { max_deactivate_share = 2; min_roster_for_guard = 1.5; };\n'
            'http = { timeout = 5.5; retries = -1; max_body_mb = 0; backoff_base = "fast"; };\n'
            'teams = { enabled = true; tenant_id = "t1"; client_id = "c1"; '
            'client_secret_file = "graph.secret"; page_size = [1, 2]; use_delta = 1; };\n'
            'prompts = { quiet_hours = "25:00-08:00"; max_prompts = 0; };\n')
        err = self.refused()
        P = self.assertProblem
        P(err, "page_limit", "slack.enabled", r"expected true or false, not a string")
        P(err, "page_limit", "slack.page_limit", r"expected an integer, not a string")
        P(err, 'webex = "on"', "webex", r"expected a group \{ \.\.\. \}, not a string")
        P(err, "domain_aliases", "identity.domain_aliases", r"not a string")
        P(err, "max_deactivate_share", "reconcile.max_deactivate_share",
          r"2 is out of range \(0\.\.1\)")
        P(err, "max_deactivate_share", "reconcile.min_roster_for_guard",
          r"expected an integer, not a float")
        P(err, "timeout = 5.5", "http.timeout", r"expected an integer, not a float")
        P(err, "timeout = 5.5", "http.retries", r"-1 is out of range \(0\.\.20\)")
        P(err, "timeout = 5.5", "http.max_body_mb", r"0 is out of range \(1\.\.4096\)")
        P(err, "timeout = 5.5", "http.backoff_base", r"not a string|expected")
        P(err, "page_size", "teams.page_size", r"expected an integer, not an array")
        P(err, "page_size", "teams.use_delta", r"expected true or false")
        P(err, "quiet_hours", "prompts.quiet_hours", r"25:00")
        P(err, "quiet_hours", "prompts.max_prompts", r"0 is out of range")
        self.assertGreaterEqual(len(err.splitlines()), 14)

    def test_required_settings(self):
        with open(self.path, "w") as f:
            f.write(f'database = "{self.db}";\n'
                    'teams = { enabled = true; client_secret_file = "graph.secret"; };\n')
        err = self.refused()
        self.assertIn(f"{self.path}: public_url: required", err)
        self.assertIn(f"{self.path}:2: teams.tenant_id: required when teams is enabled", err)
        self.assertIn(f"{self.path}:2: teams.client_id: required when teams is enabled", err)

    def test_unknown_keys_did_you_mean(self):
        self.write(self.good_body() +
                   'databse = "/tmp/x";\n'
                   'slak = { enabled = false; };\n'
                   'http = { retrys = 3; timout = 5; };\n'
                   'reconcile = { max_deactivate = 0.2; };\n'
                   'frobnicate = 3;\n')
        err = self.refused()
        P = self.assertProblem
        P(err, "databse", "databse", r"unknown key; did you mean 'database'\?")
        P(err, "slak", "slak", r"unknown key; did you mean 'slack'\?")
        P(err, "retrys", "http.retrys", r"unknown key; did you mean 'http.retries'\?")
        P(err, "retrys", "http.timout", r"unknown key; did you mean 'http.timeout'\?")
        P(err, "max_deactivate =", "reconcile.max_deactivate",
          r"unknown key; did you mean 'reconcile.max_deactivate_share'\?")
        P(err, "frobnicate", "frobnicate", r"^unknown key$")
        # a secret written inline is no setting, and its value is never repeated
        self.write('slack = { enabled = true; bot_token = "xoxb-inline-9999-secret"; };\n')
        r = run(self.path, "check-config")
        self.assertEqual(r.rc, 78, r)
        self.assertProblem(r.err, "bot_token", "slack.bot_token",
                           r"unknown key; did you mean 'slack.bot_token_(env|file)'\?")
        self.assertNotIn("xoxb-inline", r.err + r.out)

    def test_missing_secret_files(self):
        self.write(self.good_body()
                   .replace('"slack.token"', '"gone/slack.token"')
                   .replace('"graph.secret"', '"graph.secret.missing"')
                   .replace('"webex.token"', f'"{self.dir}/nowhere/webex.token"')
                   .replace('"link.key"', '"link.key.missing"'))
        err = self.refused()
        P = self.assertProblem
        P(err, "gone/slack.token", "slack.bot_token_file",
          re.escape(f"{self.dir}/gone/slack.token: No such file or directory"))
        P(err, "graph.secret.missing", "teams.client_secret_file",
          re.escape(f"{self.dir}/graph.secret.missing: No such file or directory"))
        P(err, "nowhere/webex.token", "webex.token_file",
          re.escape(f"{self.dir}/nowhere/webex.token: No such file or directory"))
        P(err, "link.key.missing", "link_key_file",
          re.escape(f"{self.dir}/link.key.missing: No such file or directory"))

    def test_secret_files_open_to_others(self):
        self.write(self.good_body())
        os.chmod(os.path.join(self.dir, "graph.secret"), 0o640)    # group-readable
        os.chmod(os.path.join(self.dir, "webex.token"), 0o604)     # world-readable
        os.chmod(os.path.join(self.dir, "link.key"), 0o620)        # group-writable
        err = self.refused()
        P = self.assertProblem
        P(err, "graph.secret", "teams.client_secret_file",
          re.escape(f"{self.dir}/graph.secret is readable by group or others (mode 0640); "
                    "chmod 600 it"))
        P(err, "webex.token", "webex.token_file",
          re.escape(f"{self.dir}/webex.token is readable by group or others (mode 0604)"))
        P(err, "link.key", "link_key_file",
          re.escape(f"{self.dir}/link.key is writable by group or others (mode 0620)"))
        # not a regular file, and an empty one
        os.chmod(os.path.join(self.dir, "graph.secret"), 0o600)
        os.chmod(os.path.join(self.dir, "webex.token"), 0o600)
        os.chmod(os.path.join(self.dir, "link.key"), 0o600)
        os.mkdir(os.path.join(self.dir, "adir"), 0o700)
        write_secret(os.path.join(self.dir, "empty.token"), "")
        with open(os.path.join(self.dir, "empty.token"), "w"):
            pass
        self.write(self.good_body().replace('"slack.token"', '"adir"')
                   .replace('"webex.token"', '"empty.token"'))
        err = self.refused()
        self.assertProblem(err, '"adir"', "slack.bot_token_file", "not a regular file")
        self.assertProblem(err, "empty.token", "webex.token_file", "is empty")

    def test_http_url_to_a_host_that_is_not_loopback(self):
        self.write(self.good_body()
                   .replace("http://127.0.0.1:9/slack/api", "http://slack.example.com/api")
                   .replace("http://127.0.0.1:9/login", "http://127.0.0.1.evil.example/login")
                   .replace("http://127.0.0.1:9/webex/v1", "http://[::2]:9/webex/v1")
                   + 'serve = { listen = "127.0.0.1:8080"; };\n')
        with open(self.path) as f:
            text = f.read()
        with open(self.path, "w") as f:
            f.write(text.replace("https://sync.example.com", "http://sync.example.com"))
        err = self.refused()
        P = self.assertProblem
        P(err, "slack.example.com", "slack.api_url",
          r"http://slack\.example\.com/api is not https and its host is not loopback")
        P(err, "evil.example", "teams.login_url", r"is not https and its host is not loopback")
        P(err, "[::2]", "webex.api_url", r"is not https and its host is not loopback")
        P(err, "sync.example.com", "public_url", r"is not https and its host is not loopback")
        # loopback in its spellings is fine
        self.write(self.good_body()
                   .replace("http://127.0.0.1:9/slack/api", "http://localhost:9/slack/api")
                   .replace("http://127.0.0.1:9/login", "http://127.0.0.2:9/login")
                   .replace("http://127.0.0.1:9/webex/v1", "http://[::1]:9/webex/v1"))
        r = run(self.path, "check-config")
        self.assertEqual(r.rc, 0, r)

    def test_database_directory_that_cannot_be_created(self):
        # as root, permissions do not stop mkdir: the parent is a regular file instead
        afile = os.path.join(self.dir, "afile")
        with open(afile, "w") as f:
            f.write("not a directory\n")
        db = os.path.join(afile, "db")
        self.write(self.good_body(), database=db)
        err = self.refused("check-config")
        self.assertIn(f"{self.path}:1: database: {db}: Not a directory", err)
        err = self.refused("reconcile", rc=74)
        self.assertIn(f"{db}: cannot create database directory: Not a directory", err)
        err = self.refused("people", rc=74)
        self.assertIn(f"{db}: no database here", err)
        # the database path is a regular file itself
        self.write(self.good_body(), database=afile)
        err = self.refused("check-config")
        self.assertIn(f"{self.path}:1: database: {afile} is not a directory", err)
        err = self.refused("reconcile", rc=74)
        self.assertIn(f"{afile}: cannot open database: Not a directory", err)
        with open(afile) as f:
            self.assertEqual(f.read(), "not a directory\n", "the file was touched")

    @unittest.skipUnless(shutil.which("mdb_load") and shutil.which("mdb_dump"),
                         "lmdb-utils (mdb_load, mdb_dump) not installed")
    def test_newer_database_schema_is_refused(self):
        # no platform enabled: a run creates the database and nothing else
        self.write('link_key_file = "link.key";\n')
        r = run(self.path, "reconcile")
        self.assertEqual(r.rc, 0, r)
        dump = subprocess.run(["mdb_dump", "-p", "-s", "meta", self.db], capture_output=True,
                              text=True, check=True).stdout
        self.assertRegex(dump, r" schema\n \\00\\00\\00\\00\\00\\00\\00\\01\n")
        # schema 99, written with LMDB's own tool
        subprocess.run(["mdb_load", "-T", "-s", "meta", self.db], check=True, text=True,
                       input="schema\n\\00\\00\\00\\00\\00\\00\\00\\63\n")
        before = subprocess.run(["mdb_dump", "-s", "meta", self.db], capture_output=True,
                                check=True).stdout
        want = (f"{self.db}: database schema 99 is newer than this peoplesync understands "
                "(1): upgrade peoplesync")
        for cmd in (("reconcile",), ("people",), ("db", "verify"), ("db", "stats")):
            r = run(self.path, *cmd)
            self.assertEqual(r.rc, 78, f"{cmd}: {r!r}")
            self.assertIn(want, r.err)
            self.assertNoSecret(r)
        after = subprocess.run(["mdb_dump", "-s", "meta", self.db], capture_output=True,
                               check=True).stdout
        self.assertEqual(after, before, "the newer database was written to")
