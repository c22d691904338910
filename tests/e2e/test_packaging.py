"""Packaging: the systemd units pass `systemd-analyze verify`, the man page renders without a
single groff warning, and `make install` puts every file in its place with sane modes.

No fake server here: nothing is run against a platform.

How the units are verified (systemd-analyze verify, as a packager would):
- verify refuses a unit whose ExecStart= binary does not exist ("Command ... is not
  executable"), and the units name /usr/local/bin/peoplesync, the installed path. `--root=`
  does not help: it wants a whole system under that root (sysinit.target and the rest). So
  the units are copied to a temporary directory with the Exec lines pointing at a binary
  that exists (the tree's own peoplesync, or a stub), everything else byte for byte.
- Templates cannot be verified as such: verify is given instances (peoplesync@demo.service
  ...) by path in that directory, and loads the template from beside them. A negative
  control (a bogus key in a template) proves the template really is read.
- verify runs `man peoplesync(1)` for Documentation=man:peoplesync(1): MANPATH points at a
  directory holding this tree's peoplesync.1, so the reference is checked against our page.
- --recursive-errors=no: only our units count, not whatever the host's own units say.
"""
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT_SRC = os.path.join(ROOT, "etc", "systemd")
MAN_SRC = os.path.join(ROOT, "peoplesync.1")
INSTALLED_BIN = "/usr/local/bin/peoplesync"     # what the units in the tree name

SERVICES = ["peoplesync.service", "peoplesync-web.service"]
TIMERS = ["peoplesync.timer"]
TEMPLATES = ["peoplesync@.service", "peoplesync@.timer", "peoplesync-web@.service"]
INSTANCES = ["peoplesync@demo.service", "peoplesync@demo.timer", "peoplesync-web@demo.service"]
ALL_UNITS = SERVICES + TIMERS + TEMPLATES

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
GROFF = shutil.which("groff")
MAN = shutil.which("man")
SYSUSERS = shutil.which("systemd-sysusers")
TMPFILES = shutil.which("systemd-tmpfiles")
NO_SYSTEMD = "systemd-analyze not installed (apt-get install systemd)"


def clean_env(**extra):
    """The environment for child tools: no inherited make jobserver, a fixed locale."""
    e = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    e.update(LC_ALL="C.UTF-8", LANG="C.UTF-8")
    e.update(extra)
    return e


def run(argv, **kw):
    kw.setdefault("timeout", 120)
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          errors="replace", **kw)


def unit_settings(path):
    """{key: [values]} of one unit file (comments and sections dropped)."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;[" or "=" not in line:
                continue
            k, v = line.split("=", 1)
            out.setdefault(k.strip(), []).append(v.strip())
    return out


class Units(unittest.TestCase):
    """The units in etc/systemd: verified by systemd, and saying what the docs say."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ps-units-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_every_unit_is_there_and_runs_the_installed_binary(self):
        have = sorted(f for f in os.listdir(UNIT_SRC) if f.endswith((".service", ".timer")))
        self.assertEqual(have, sorted(ALL_UNITS))
        for u in ALL_UNITS:
            s = unit_settings(os.path.join(UNIT_SRC, u))
            if u.endswith(".service"):
                execs = s.get("ExecStart", [])
                self.assertEqual(len(execs), 1, u)
                # make install rewrites exactly this prefix: nothing else may be there
                self.assertTrue(execs[0].startswith(INSTALLED_BIN + " "), (u, execs))
                self.assertEqual(s.get("User"), ["peoplesync"], u)
                self.assertEqual(s.get("UMask"), ["0077"], u)
                self.assertEqual(s.get("CapabilityBoundingSet"), [""], u)
                for k in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices",
                          "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
                          "ProtectControlGroups", "ProtectClock", "ProtectHostname",
                          "RestrictNamespaces", "RestrictRealtime", "RestrictSUIDSGID",
                          "LockPersonality", "MemoryDenyWriteExecute"):
                    self.assertEqual(s.get(k), ["yes"], (u, k))
                self.assertEqual(s.get("ProtectSystem"), ["strict"], u)
                self.assertEqual(s.get("RestrictAddressFamilies"),
                                 ["AF_INET AF_INET6 AF_UNIX"], u)
                self.assertIn("@system-service", s.get("SystemCallFilter", []), u)
                self.assertEqual(s.get("SystemCallArchitectures"), ["native"], u)

    def test_exit_code_policy(self):
        # reconcile: 75 (lock held / try later) is success, 69 (a platform unavailable)
        # stays a failure; the web endpoint does not restart-loop on usage or config errors.
        for u, cfg in (("peoplesync.service", "/etc/peoplesync/peoplesync.cfg"),
                       ("peoplesync@.service", "/etc/peoplesync/%i.cfg")):
            s = unit_settings(os.path.join(UNIT_SRC, u))
            self.assertEqual(s["Type"], ["oneshot"], u)
            self.assertEqual(s["ExecStart"], [f"{INSTALLED_BIN} -c {cfg} reconcile"], u)
            ok = " ".join(s.get("SuccessExitStatus", [])).split()
            self.assertIn("75", ok, u)
            self.assertNotIn("69", ok, u)
            self.assertIn("TimeoutStartSec", s, u)
        self.assertEqual(unit_settings(os.path.join(UNIT_SRC, "peoplesync.service"))
                         ["StateDirectory"], ["peoplesync"])
        self.assertEqual(unit_settings(os.path.join(UNIT_SRC, "peoplesync@.service"))
                         ["StateDirectory"], ["peoplesync/%i"])
        for u in ("peoplesync-web.service", "peoplesync-web@.service"):
            s = unit_settings(os.path.join(UNIT_SRC, u))
            self.assertEqual(s["Restart"], ["on-failure"], u)
            no = " ".join(s.get("RestartPreventExitStatus", [])).split()
            self.assertIn("64", no, u)
            self.assertIn("78", no, u)
        web = unit_settings(os.path.join(UNIT_SRC, "peoplesync-web.service"))
        self.assertEqual(web["ExecStart"],
                         [f"{INSTALLED_BIN} -c /etc/peoplesync/peoplesync.cfg serve "
                          "--listen 127.0.0.1:8080"])
        self.assertEqual(web["StateDirectory"], ["peoplesync"])
        for t in ("peoplesync.timer", "peoplesync@.timer"):
            s = unit_settings(os.path.join(UNIT_SRC, t))
            self.assertEqual(s["Persistent"], ["true"], t)
            self.assertIn("OnCalendar", s, t)
            self.assertIn("RandomizedDelaySec", s, t)

    # --- systemd-analyze ---

    def stage(self, mutate=None):
        """Copies the units to self.dir/units with their Exec lines pointing at a binary that
        exists; returns (unit dir, env for systemd-analyze, extra args)."""
        binary = os.path.join(ROOT, "peoplesync")
        if not os.access(binary, os.X_OK):
            binary = os.path.join(ROOT, "build", "test", "peoplesync")
        if not os.access(binary, os.X_OK):
            binary = os.path.join(self.dir, "peoplesync")    # verify only checks it is executable
            with open(binary, "w") as f:
                f.write("#!/bin/sh\nexit 0\n")
            os.chmod(binary, 0o755)
        stage = tempfile.mkdtemp(dir=self.dir)      # one per call: a test may stage twice
        udir = os.path.join(stage, "units")
        os.makedirs(udir)
        for u in ALL_UNITS:
            with open(os.path.join(UNIT_SRC, u)) as f:
                text = f.read()
            text = re.sub(r"^(Exec[A-Za-z]*=[-@:+!]*)" + re.escape(INSTALLED_BIN),
                          lambda m: m.group(1) + binary, text, flags=re.M)
            if mutate:
                text = mutate(u, text)
            with open(os.path.join(udir, u), "w") as f:
                f.write(text)
        args = ["--recursive-errors=no"]
        env = clean_env(SYSTEMD_LOG_COLOR="0", SYSTEMD_PAGER="cat")
        if MAN:
            mandir = os.path.join(stage, "man")
            os.makedirs(os.path.join(mandir, "man1"))
            shutil.copy(MAN_SRC, os.path.join(mandir, "man1", "peoplesync.1"))
            env["MANPATH"] = mandir
        else:
            args.append("--man=no")
        return udir, env, args

    def verify(self, mutate=None):
        udir, env, args = self.stage(mutate)
        paths = [os.path.join(udir, u) for u in SERVICES + TIMERS + INSTANCES]
        return run([SYSTEMD_ANALYZE, "verify"] + args + paths, cwd=self.dir, env=env)

    @unittest.skipIf(SYSTEMD_ANALYZE is None, NO_SYSTEMD)
    def test_systemd_analyze_verify_is_clean(self):
        r = self.verify()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual((r.stdout + r.stderr).strip(), "", "systemd-analyze verify said something")

    @unittest.skipIf(SYSTEMD_ANALYZE is None, NO_SYSTEMD)
    def test_verify_really_reads_the_templates(self):
        # negative control: the clean result above must not come from templates never loaded
        def bogus(u, text):
            if u in TEMPLATES:
                text = text.replace("[Unit]\n", "[Unit]\nNoSuchKey=1\n", 1)
            return text
        r = self.verify(bogus)
        out = r.stdout + r.stderr
        for t in TEMPLATES:
            self.assertRegex(out, re.escape(t) + r":\d+: Unknown key( name)? 'NoSuchKey'", out)
        # ...and a missing binary is caught, so the Exec rewrite in stage() matters
        def missing(u, text):
            return re.sub(r"^ExecStart=\S+", "ExecStart=/nonexistent/peoplesync", text, flags=re.M)
        r = self.verify(missing)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("/nonexistent/peoplesync", r.stdout + r.stderr)

    @unittest.skipIf(SYSTEMD_ANALYZE is None, NO_SYSTEMD)
    def test_services_are_hardened(self):
        # `systemd-analyze security` scores exposure 0 (locked down) .. 10; a dropped
        # hardening line shows here. --offline needs systemd 250.
        udir, env, _ = self.stage()
        for u in SERVICES + [i for i in INSTANCES if i.endswith(".service")]:
            r = run([SYSTEMD_ANALYZE, "security", "--offline=yes", "--no-pager",
                     os.path.join(udir, u)], cwd=self.dir, env=env)
            if r.returncode != 0 and "offline" in r.stderr:
                self.skipTest("systemd-analyze security --offline needs systemd >= 250")
            m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout)
            self.assertIsNotNone(m, r.stdout + r.stderr)
            self.assertLessEqual(float(m.group(1)), 2.0, f"{u}:\n{r.stdout}")


class ManPage(unittest.TestCase):
    """peoplesync.1: renders without warnings and documents the whole interface."""

    def source(self):
        with open(MAN_SRC) as f:
            return f.read()

    @unittest.skipIf(GROFF is None, "groff not installed (apt-get install groff-base)")
    def test_groff_has_no_warning(self):
        r = run([GROFF, "-man", "-Tutf8", "-ww", "-z", MAN_SRC], cwd=ROOT, env=clean_env())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "", "groff -ww warned")

    @unittest.skipIf(MAN is None, "man not installed (apt-get install man-db)")
    def test_man_renders_it(self):
        for width in ("80", "132"):
            r = run([MAN, "--warnings=w", "./peoplesync.1"], cwd=ROOT,
                    env=clean_env(MANWIDTH=width, MANPAGER="cat", PAGER="cat"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr, "", f"man at width {width} warned")
            for h in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "CONFIGURATION",
                      "FILES", "EXIT STATUS", "ENVIRONMENT", "SECURITY", "EXAMPLES", "SEE ALSO"):
                self.assertRegex(r.stdout, r"(?m)^" + h + r"$", h)
            self.assertIn("PEOPLESYNC_CONFIG", r.stdout)

    def test_every_command_is_documented(self):
        src = self.source().replace("\\-", "-")
        heads = re.findall(r"(?m)^\.SS (.*)$", src)
        for cmd in ("reconcile", "people", "show", "explain", "link", "unlink", "conflicts",
                    "prompt", "prompt -all", "auto-prompt", "events ingest", "export", "serve",
                    "check-config", "db stats", "db verify", "db backup"):
            self.assertTrue(any(re.sub(r"\\f[BIPR]", "", h).replace("--", "-")
                                .startswith(cmd) for h in heads), cmd)
        for code in ("0", "64", "65", "69", "73", "74", "75", "78"):
            self.assertRegex(src, r"(?m)^\.B " + code + "$", code)

    def test_every_config_key_is_documented(self):
        # every key of the example config, commented-out ones included, appears in the page
        with open(os.path.join(ROOT, "etc", "peoplesync.cfg")) as f:
            cfg = f.read()
        keys = set(re.findall(r"(?m)^\s*#?\s*([a-z_]+)\s*=", cfg))
        keys |= set(re.findall(r"[{;]\s*([a-z_]+)\s*=", cfg))
        self.assertGreater(len(keys), 50)
        src = self.source().replace("\\-", "-")
        missing = sorted(k for k in keys if not re.search(r"\b" + k + r"\b", src))
        self.assertEqual(missing, [], "keys of etc/peoplesync.cfg missing from peoplesync.1")


class Install(unittest.TestCase):
    """make install DESTDIR=... PREFIX=...: every file where expected, sane modes."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ps-install-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def make_install(self, destdir, *assigns):
        r = run(["make", "--no-print-directory", "install", "DESTDIR=" + destdir] + list(assigns),
                cwd=ROOT, env=clean_env(), timeout=900)
        self.assertEqual(r.returncode, 0, r.stdout[-4000:] + r.stderr[-4000:])

    def tree(self, top):
        """{relative path: mode} of everything under top."""
        out = {}
        for d, dirs, files in os.walk(top):
            for n in dirs + files:
                p = os.path.join(d, n)
                out[os.path.relpath(p, top)] = os.lstat(p).st_mode
        return out

    def test_install_destdir_prefix_usr(self):
        dest = os.path.join(self.dir, "root")
        self.make_install(dest, "PREFIX=/usr")
        want = {"usr/bin/peoplesync": 0o755,
                "usr/share/man/man1/peoplesync.1": 0o644,
                "usr/lib/sysusers.d/peoplesync.conf": 0o644,
                "usr/lib/tmpfiles.d/peoplesync.conf": 0o644,
                "usr/share/doc/peoplesync/peoplesync.cfg": 0o644,
                "usr/share/doc/peoplesync/README.md": 0o644}
        for u in ALL_UNITS:
            want["usr/lib/systemd/system/" + u] = 0o644
        got = self.tree(dest)
        files = {p: stat.S_IMODE(m) for p, m in got.items() if stat.S_ISREG(m)}
        self.assertEqual(files, want)
        for p, m in got.items():
            self.assertFalse(stat.S_ISLNK(m), p)
            if stat.S_ISDIR(m):
                self.assertEqual(stat.S_IMODE(m), 0o755, p)
        self.assertFalse(any(p == "etc" or p.startswith("etc/") for p in got),
                         "make install must never write /etc")

        # the binary is the real one and runs
        r = run([os.path.join(dest, "usr/bin/peoplesync"), "--version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^peoplesync \d")

        # units: identical to the tree's but for the binary's path
        for u in ALL_UNITS:
            with open(os.path.join(UNIT_SRC, u)) as f:
                src = f.read().splitlines()
            with open(os.path.join(dest, "usr/lib/systemd/system", u)) as f:
                inst = f.read().splitlines()
            self.assertEqual(len(src), len(inst), u)
            for a, b in zip(src, inst):
                if a.startswith("Exec"):
                    self.assertEqual(b, a.replace(INSTALLED_BIN, "/usr/bin/peoplesync"), u)
                    self.assertNotIn("/usr/local", b, u)
                else:
                    self.assertEqual(a, b, u)

        # the man page and the example config are the tree's
        for inst, src in (("usr/share/man/man1/peoplesync.1", MAN_SRC),
                          ("usr/share/doc/peoplesync/peoplesync.cfg",
                           os.path.join(ROOT, "etc", "peoplesync.cfg"))):
            with open(os.path.join(dest, inst), "rb") as a, open(src, "rb") as b:
                self.assertEqual(a.read(), b.read(), inst)

        # installing again over the same tree works (upgrades)
        self.make_install(dest, "PREFIX=/usr")

    @unittest.skipIf(SYSUSERS is None or TMPFILES is None, "systemd not installed")
    @unittest.skipIf(os.geteuid() != 0, "systemd-tmpfiles --root must chown: needs root")
    def test_installed_sysusers_and_tmpfiles_apply(self):
        # the user and the spool, created in a scratch root as systemd would at boot
        dest = os.path.join(self.dir, "root")
        self.make_install(dest, "PREFIX=/usr")
        os.makedirs(os.path.join(dest, "etc"))
        os.makedirs(os.path.join(dest, "var", "spool"))
        r = run([SYSUSERS, "--root=" + dest, "peoplesync.conf"], env=clean_env())
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(dest, "etc", "passwd")) as f:
            pw = [l.split(":") for l in f.read().splitlines()]
        me = [e for e in pw if e[0] == "peoplesync"]
        self.assertEqual(len(me), 1, pw)
        uid, gid = int(me[0][2]), int(me[0][3])
        self.assertLess(uid, 1000, "a system user")
        self.assertEqual(me[0][5], "/var/lib/peoplesync")
        r = run([TMPFILES, "--root=" + dest, "--create", "peoplesync.conf"], env=clean_env())
        self.assertEqual(r.returncode, 0, r.stderr)
        st = os.stat(os.path.join(dest, "var", "spool", "peoplesync"))
        self.assertTrue(stat.S_ISDIR(st.st_mode))
        self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), (uid, gid, 0o770))

    def test_install_honours_unitdir_and_prefix(self):
        dest = os.path.join(self.dir, "root")
        self.make_install(dest, "PREFIX=/opt/ps", "UNITDIR=/lib/systemd/system")
        self.assertTrue(os.access(os.path.join(dest, "opt/ps/bin/peoplesync"), os.X_OK))
        self.assertTrue(os.path.isfile(os.path.join(dest, "opt/ps/share/man/man1/peoplesync.1")))
        s = unit_settings(os.path.join(dest, "lib/systemd/system/peoplesync.service"))
        self.assertEqual(s["ExecStart"],
                         ["/opt/ps/bin/peoplesync -c /etc/peoplesync/peoplesync.cfg reconcile"])
        self.assertFalse(os.path.exists(os.path.join(dest, "opt/ps/lib/systemd")))


if __name__ == "__main__":
    unittest.main()
