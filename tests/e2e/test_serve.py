"""End-to-end: Sync now — `peoplesync serve` against the fake's OAuth providers.

A three-platform org is reconciled, `serve` runs as a subprocess on a free loopback port, and
each test drives it with urllib and a cookie jar: the signed link, the landing page, Connect
(-> the fake's authorize page -> the callback), the primary-team form and the confirmation,
plus every refusal (tampered, expired and spent links, a wrong state, a missing cookie, a
sign-in as someone else, hostile roster names). No page, log line or database byte may carry
a token, code, client secret or key.
"""
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from tests.e2e.harness import BIN, E2E, make_config, people_jsonl, run, write_secret

PLATFORMS = ("slack", "teams", "webex")
TITLES = {"slack": "Slack", "teams": "Microsoft Teams", "webex": "Webex"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def serve_config(workdir, fake, org, port, platforms=PLATFORMS, extra=""):
    """harness.make_config plus what serve needs: the keys, public_url on port, each
    platform's OAuth client (the fake's) and friendly team names."""
    clients = fake.get("/_control/oauth")["clients"]
    write_secret(os.path.join(workdir, "link.key"), os.urandom(32).hex())
    write_secret(os.path.join(workdir, "token.key"), os.urandom(32).hex())
    for p in ("slack", "webex"):
        if p in clients:
            write_secret(os.path.join(workdir, p + ".oauth.secret"), clients[p]["client_secret"])
    cfg = make_config(workdir, fake, org, platforms,
                      'link_key_file = "link.key";\ntoken_key_file = "token.key";\n'
                      'serve = { listen = "127.0.0.1:%d"; };\n%s' % (port, extra))
    with open(cfg) as f:
        text = f.read()
    text, n = re.subn(r'public_url = "[^"]*";', 'public_url = "http://127.0.0.1:%d";' % port,
                      text)
    assert n == 1, "harness config without public_url"
    if "slack" in clients:
        text = text.replace(
            'bot_token_file = "slack.token";',
            'bot_token_file = "slack.token"; oauth = { authorize_url = '
            '"%s/slack/oauth/v2/authorize"; client_id = "%s"; client_secret_file = '
            '"slack.oauth.secret"; };' % (fake.base, clients["slack"]["client_id"]), 1)
    if "teams" in clients:
        text = text.replace('client_secret_file = "graph.secret";',
                            'client_secret_file = "graph.secret"; tenant_name = "Corp Teams";',
                            1)
    if "webex" in clients:
        text = text.replace(
            'token_file = "webex.token";',
            'token_file = "webex.token"; org_name = "Corp Webex"; oauth = { client_id = "%s"; '
            'client_secret_file = "webex.oauth.secret"; };' % clients["webex"]["client_id"], 1)
    with open(cfg, "w") as f:
        f.write(text)
    return cfg


class Serve:
    """`peoplesync serve` as a subprocess; stderr (its log) goes to a file."""

    def __init__(self, cfg, workdir, port, env=None, prefix=""):
        self.port = port
        self.base = "http://127.0.0.1:%d%s" % (port, prefix)
        self.log_path = os.path.join(workdir, "serve.log")
        e = dict(os.environ, PEOPLESYNC_NO_TTY="1",
                 ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS",
                                             "detect_leaks=1:halt_on_error=1"))
        e.update(env or {})
        self.errf = open(self.log_path, "w")
        self.proc = subprocess.Popen([BIN, "-c", cfg, "serve", "--listen",
                                      "127.0.0.1:%d" % port], stdout=subprocess.DEVNULL,
                                     stderr=self.errf, env=e)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("serve exited %s: %s" % (self.proc.returncode, self.log()))
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as r:
                    if r.read() == b"ok\n":
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("serve did not start: " + self.log())

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        """SIGTERM (or sig); returns the exit status."""
        if self.errf.closed:
            return self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.errf.close()
        return self.proc.returncode


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Browser:
    """urllib with a cookie jar; remembers every page body it saw."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.follow = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.nofollow = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)
        self.pages = []

    def open(self, url, data=None, follow=True, method=None):
        """(status, final url, headers, body text)."""
        req = urllib.request.Request(url, data=data, method=method)
        op = self.follow if follow else self.nofollow
        try:
            with op.open(req, timeout=30) as r:
                st, u, h, b = r.status, r.geturl(), r.headers, r.read()
        except urllib.error.HTTPError as e:
            st, u, h, b = e.code, e.geturl(), e.headers, e.read()
        text = b.decode("utf-8", "replace")
        self.pages.append((u, text))
        return st, u, h, text


def query_of(url):
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}


class ServeCase(E2E):
    """A reconciled three-platform org and `serve` on a free loopback port; the helpers of
    the flow. No tests here: test_serve.py and test_serve_abuse.py hold them."""
    org_args = dict(people=40, seed=5, platforms=PLATFORMS)
    platforms = PLATFORMS
    serve_extra = ""        # more config (a subclass's)

    def setUp(self):
        super().setUp()
        # one person gets a roster name carrying markup before the first pull
        self.victim = self.pick(2)
        self.fake.control({"op": "mutate", "platform": "slack",
                           "user_id": self.account(self.victim, "slack")["user_id"],
                           "set": {"real_name": "<script>alert(1)</script> Mallory",
                                   "profile.real_name": "<script>alert(1)</script> Mallory"}})
        self.port = free_port()
        self.cfg = serve_config(self.dir, self.fake, self.org, self.port,
                                extra=self.serve_extra)
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        self.serve = Serve(self.cfg, self.dir, self.port)

    def tearDown(self):
        rc = self.serve.stop()
        log = self.serve.log()
        super().tearDown()
        # a clean stop: exit 0, nothing from the sanitizers (leaks included)
        self.assertEqual(rc, 0, log[-3000:])
        self.assertNotIn("Sanitizer", log)
        self.assertNotIn("runtime error", log)

    # the org ----------------------------------------------------------------------------
    def candidates(self):
        """People with an active, non-guest account on every platform, in truth order."""
        out = []
        for t in self.org["truth"]:
            acc = {a["platform"]: a for a in t["accounts"]}
            if (set(acc) == set(PLATFORMS) and t["active"] and not t["guest"] and
                    all(a["active"] and not a["guest"] for a in acc.values())):
                out.append(t)
        return out

    def pick(self, i=0):
        c = self.candidates()
        self.assertGreater(len(c), i + 1, "the org needs people on all three platforms")
        return c[i]

    def account(self, t, platform):
        return next(a for a in t["accounts"] if a["platform"] == platform)

    def link(self, t, env=None):
        r = self.ps("sync-link", t["email"], env=env)
        self.assertRc(r, 0)
        url = r.out.strip()
        self.assertRegex(url, r"^%s/s/[A-Za-z0-9_-]{87}$" % re.escape(self.serve.base))
        return url

    def person(self, email):
        return next(p for p in people_jsonl(self.cfg) if p["email"] == email)

    # the flow -----------------------------------------------------------------------------
    def connect(self, b, platform, as_user, expect=200):
        """Connect on the landing page -> the fake's authorize page -> pick as_user."""
        st, url, h, page = b.open(self.serve.base + "/connect/" + platform, follow=False)
        self.assertEqual(st, 302, page)
        authz = h["Location"]
        self.assertTrue(authz.startswith(self.fake.base), authz)
        q = query_of(authz)
        self.assertEqual(q["redirect_uri"],
                         "%s/oauth/%s/callback" % (self.serve.base, platform))
        self.assertTrue(q["state"])
        if platform == "teams":
            self.assertEqual(q["code_challenge_method"], "S256")
            self.assertRegex(q["code_challenge"], r"^[A-Za-z0-9_-]{43}$")
        st, url, h, page = b.open(authz)                 # the authorize page lists the org
        self.assertEqual(st, 200, page)
        self.assertIn('value="%s"' % as_user, page)
        st, url, h, page = b.open(authz + "&" + urllib.parse.urlencode({"user": as_user}))
        self.assertEqual(st, expect, page)
        return url, page

    def csrf(self, page):
        m = re.search(r'name="csrf" value="([A-Za-z0-9_-]+)"', page)
        self.assertTrue(m, page)
        return m.group(1)

    def choose(self, b, page, platform, team):
        data = urllib.parse.urlencode({"csrf": self.csrf(page),
                                       "team": "%s:%s" % (platform, team)}).encode()
        return b.open(self.serve.base + "/sync/primary", data=data)

    def full_flow(self, t, primary="teams"):
        b = Browser()
        link = self.link(t)
        st, url, h, page = b.open(link)
        self.assertEqual(st, 200, page)
        self.assertTrue(url.endswith("/sync"), url)
        for p in PLATFORMS:
            self.assertIn("Connect " + TITLES[p], page)
        for p in PLATFORMS:
            url, page = self.connect(b, p, self.account(t, p)["user_id"])
            self.assertTrue(url.endswith("/sync"), url)
        self.assertIn("Choose your primary team", page)
        self.assertEqual(page.count("&#10003; Connected"), 3, page)
        team = self.account(t, primary)["team_id"]
        # the right CSRF token sent from another site (its Origin) changes nothing
        data = urllib.parse.urlencode({"csrf": self.csrf(page),
                                       "team": "%s:%s" % (primary, team)}).encode()
        req = urllib.request.Request(self.serve.base + "/sync/primary", data=data,
                                     headers={"Origin": "http://evil.example"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            b.follow.open(req, timeout=30)
        self.assertEqual(cm.exception.code, 403)
        self.assertEqual(self.person(t["email"])["status"], "off")
        st, url, h, page = self.choose(b, page, primary, team)
        self.assertEqual(st, 200, page)
        self.assertTrue(url.endswith("/done"), url)
        return b, link, page



class SyncNow(ServeCase):
    def test_full_flow_sets_the_primary_team(self):
        t = self.pick(0)
        before = self.person(t["email"])
        self.assertEqual(before["status"], "off")
        b, link, page = self.full_flow(t, "teams")
        self.assertIn("You&#39;re synced", page)
        self.assertIn("Microsoft Teams — Corp Teams", page)
        self.assertIn("What happens next", page)
        p = self.person(t["email"])
        self.assertEqual(p["status"], "on")
        self.assertEqual(p["primary_platform"], "teams")
        self.assertEqual(p["primary_team"], {"platform": "teams",
                                             "id": self.org["teams"]["tenant_id"],
                                             "name": "Corp Teams"})
        self.assertEqual(p["primary_source"], "chosen")
        self.assertEqual(p["sync_type"], "bot")
        self.assertIsNotNone(p["synced_at"])
        shown = self.ps("show", t["email"])
        self.assertIn("off -> on: completed Sync now, primary teams team %s 'Corp Teams'"
                      % self.org["teams"]["tenant_id"], shown.out)
        # a later reconcile keeps the choice
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        p = self.person(t["email"])
        self.assertEqual((p["status"], p["primary_platform"], p["primary_source"]),
                         ("on", "teams", "chosen"))
        # the spent link: 409, and nothing changes
        st, url, h, page = Browser().open(link)
        self.assertEqual(st, 409, page)
        self.assertIn("already", page)
        self.assertEqual(self.person(t["email"]), p)
        # the same browser sees its confirmation again
        st, url, h, page = b.open(self.serve.base + "/done")
        self.assertEqual(st, 200)
        self.assertIn("Corp Teams", page)
        self.assertRc(self.ps("db", "verify"), 0)
        self.assert_no_secrets([t for u, t in b.pages if u.startswith(self.serve.base)])

    def test_public_url_with_a_path(self):
        # public_url = http://host:port/people-sync/: links, redirects, the form, the
        # redirect_uri and the cookie path all carry the prefix
        t = self.pick(1)
        self.serve.stop()
        with open(self.cfg) as f:
            text = f.read().replace('public_url = "http://127.0.0.1:%d";' % self.port,
                                    'public_url = "http://127.0.0.1:%d/people-sync/";'
                                    % self.port)
        self.cfg = os.path.join(self.dir, "prefix.cfg")
        with open(self.cfg, "w") as f:
            f.write(text)
        self.serve = Serve(self.cfg, self.dir, self.port, prefix="/people-sync")
        b, link, page = self.full_flow(t, "webex")
        self.assertIn("/people-sync/s/", link)
        self.assertTrue(all(c.path == "/people-sync" for c in b.jar))
        p = self.person(t["email"])
        self.assertEqual((p["status"], p["primary_platform"], p["primary_team"]["name"]),
                         ("on", "webex", "Corp Webex"))

    def test_slack_primary_is_user_sync(self):
        t = self.pick(1)
        b, link, page = self.full_flow(t, "slack")
        self.assertIn("Slack — %s" % self.org["slack"]["team_name"], page)
        p = self.person(t["email"])
        self.assertEqual((p["status"], p["primary_platform"], p["primary_source"],
                          p["sync_type"]), ("on", "slack", "chosen", "user"))
        self.assertEqual(p["primary_team"]["id"], self.org["slack"]["team_id"])

    def test_tampered_links_are_refused(self):
        t = self.pick(0)
        link = self.link(t)
        head, tok = link.rsplit("/", 1)
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        for i in (0, 1, 5, 12, 20, 30, 43, 44, 60, 70, 80, 85, 86):
            c = alphabet[(alphabet.index(tok[i]) + 1) % 64]
            bad = tok[:i] + c + tok[i + 1:]
            b = Browser()
            st, url, h, page = b.open(head + "/" + bad)
            self.assertIn(st, (400, 403), (i, page))
            self.assertIsNone(h.get("Set-Cookie"))
            self.assertEqual(len(b.jar), 0)
            self.assertIn("What happens next", page)
        for bad in (tok[:-1], tok + "A", tok[:40], "x", tok.replace(tok[3], "!", 1),
                    tok[:-2] + "==", "%00" + tok):
            st, url, h, page = Browser().open(head + "/" + bad)
            self.assertIn(st, (400, 403, 404), bad)
        # another key signs a well-formed token: 403
        other = os.path.join(self.dir, "other.cfg")
        with open(self.cfg) as f:
            text = f.read().replace('link_key_file = "link.key";',
                                    'link_key_file = "other.key";')
        write_secret(os.path.join(self.dir, "other.key"), os.urandom(32).hex())
        with open(other, "w") as f:
            f.write(text)
        r = run(other, "sync-link", t["email"])
        self.assertRc(r, 0)
        st, url, h, page = Browser().open(r.out.strip())
        self.assertEqual(st, 403, page)
        self.assertIn("not valid", page)
        self.assertEqual(self.person(t["email"])["status"], "off")

    def test_expired_link_is_refused(self):
        t = self.pick(0)
        ttl = 168 * 3600
        link = self.link(t, env={"PEOPLESYNC_NOW": str(int(time.time()) - ttl - 60)})
        b = Browser()
        st, url, h, page = b.open(link)
        self.assertEqual(st, 410, page)
        self.assertIn("expired", page)
        self.assertEqual(len(b.jar), 0)
        # the server's clock decides: the same link is fine for a server living in the past
        self.serve.stop()
        self.serve = Serve(self.cfg, self.dir, self.port,
                           env={"PEOPLESYNC_NOW": str(int(time.time()) - ttl)})
        st, url, h, page = Browser().open(link)
        self.assertEqual(st, 200, page)

    def test_wrong_state_missing_cookie_and_replay_are_refused(self):
        t = self.pick(0)
        b = Browser()
        st, url, h, page = b.open(self.link(t))
        self.assertEqual(st, 200)
        st, url, h, page = b.open(self.serve.base + "/connect/slack", follow=False)
        authz = h["Location"]
        state = query_of(authz)["state"]
        uid = self.account(t, "slack")["user_id"]
        # the provider's answer, not followed: we replay it by hand
        st, url, h, page = b.open(authz + "&user=" + uid, follow=False)
        self.assertEqual(st, 302)
        cb = h["Location"]
        self.assertEqual(query_of(cb)["state"], state)
        wrong = cb.replace("state=" + state, "state=" + "A" * len(state))
        st, url, h, page = b.open(wrong)
        self.assertEqual(st, 400, page)
        self.assertIn("does not belong to your session", page)
        no_state = re.sub(r"[&?]state=[^&]*", "", cb)
        st, url, h, page = b.open(no_state)
        self.assertEqual(st, 400, page)
        # the right state without the session cookie (another browser): refused
        st, url, h, page = Browser().open(cb)
        self.assertEqual(st, 403, page)
        self.assertIn("session has ended", page)
        # ...or with another person's session cookie: refused
        b2 = Browser()
        st, url, h, page = b2.open(self.link(self.pick(1)))
        self.assertEqual(st, 200)
        st, url, h, page = b2.open(cb)
        self.assertEqual(st, 400, page)
        st, url, h, page = b2.open(self.serve.base + "/sync")
        self.assertIn("Connect Slack", page)
        # nothing was connected by any of these
        st, url, h, page = b.open(self.serve.base + "/sync")
        self.assertIn("Connect Slack", page)
        # the genuine answer is accepted once...
        st, url, h, page = b.open(cb)
        self.assertEqual(st, 200, page)
        self.assertTrue(url.endswith("/sync"))
        self.assertNotIn("Connect Slack", page)
        # ...and never again
        st, url, h, page = b.open(cb)
        self.assertEqual(st, 400, page)
        # a code the platform does not know: 502, nothing stored, no code in log or page
        st, url, h, page = b.open(self.serve.base + "/connect/webex", follow=False)
        authz = h["Location"]
        st, url, h, page = b.open(authz + "&user=" + self.account(t, "webex")["user_id"],
                                  follow=False)
        bogus = re.sub(r"code=[^&]*", "code=bogus-code-4711", h["Location"])
        st, url, h, page = b.open(bogus)
        self.assertEqual(st, 502, page)
        self.assertIn("did not complete", page)
        self.assertNotIn("bogus-code-4711", page)
        log = self.serve.log()
        self.assertIn("webex callback: exchange failed", log)
        self.assertIn("invalid_grant (HTTP 400)", log)
        self.assertNotIn("bogus-code-4711", log)
        st, url, h, page = b.open(self.serve.base + "/sync")
        self.assertIn("Connect Webex", page)
        # a POST without the CSRF token changes nothing
        data = urllib.parse.urlencode({"team": "slack:" + self.org["slack"]["team_id"]})
        st, url, h, page = b.open(self.serve.base + "/sync/primary", data=data.encode())
        self.assertEqual(st, 403, page)
        self.assertEqual(self.person(t["email"])["status"], "off")

    def test_sign_in_as_someone_else_is_refused(self):
        t, other = self.pick(0), self.pick(1)
        b = Browser()
        st, url, h, page = b.open(self.link(t))
        self.assertEqual(st, 200)
        for p in PLATFORMS:
            url, page = self.connect(b, p, self.account(other, p)["user_id"], expect=403)
            self.assertIn("not your account", page)
            self.assertIn("nothing was saved", page)
        st, url, h, page = b.open(self.serve.base + "/sync")
        for p in PLATFORMS:
            self.assertIn("Connect " + TITLES[p], page)
        self.assertNotIn('name="csrf"', page)
        # no user token was stored
        self.assertNotIn(b"utoken\0", self.db_bytes())
        # choosing a team before connecting anything is refused
        st, url, h, page = b.open(self.serve.base + "/sync/primary", data=urllib.parse.urlencode(
            {"csrf": "x" * 43, "team": "slack:" + self.org["slack"]["team_id"]}).encode())
        self.assertEqual(st, 403)
        self.assertEqual(self.person(t["email"])["status"], "off")
        self.assertEqual(self.person(other["email"])["status"], "off")
        self.assertIn("identity of someone else", self.serve.log())

    def test_roster_markup_is_escaped(self):
        t = self.victim
        b = Browser()
        st, url, h, page = b.open(self.link(t))
        self.assertEqual(st, 200)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt; Mallory", page)
        self.assertNotIn("<script", page)
        self.assertIn("default-src 'none'", h["Content-Security-Policy"])
        for p in PLATFORMS:
            url, page = self.connect(b, p, self.account(t, p)["user_id"])
        self.assertNotIn("<script", page)
        st, url, h, page = self.choose(b, page, "slack", self.account(t, "slack")["team_id"])
        self.assertEqual(st, 200)
        self.assertNotIn("<script", page)
        self.assertIn("&lt;script&gt;", page)

    def test_methods_sizes_and_unknown_pages(self):
        st, url, h, page = Browser().open(self.serve.base + "/sync", method="PUT", data=b"x")
        self.assertEqual(st, 405)
        self.assertIn("GET", h["Allow"])
        st, url, h, page = Browser().open(self.serve.base + "/", method="DELETE")
        self.assertEqual(st, 405)
        st, url, h, page = Browser().open(self.serve.base + "/sync/primary",
                                          data=b"csrf=" + b"a" * 20000)
        self.assertEqual(st, 413)
        st, url, h, page = Browser().open(self.serve.base + "/nope")
        self.assertEqual(st, 404)
        self.assertIn("What happens next", page)
        st, url, h, page = Browser().open(self.serve.base + "/")
        self.assertEqual(st, 200)
        st, url, h, page = Browser().open(self.serve.base + "/sync")
        self.assertEqual(st, 403)                # no session
        st, url, h, page = Browser().open(self.serve.base + "/connect/slack")
        self.assertEqual(st, 403)
        # the server still answers, and stops cleanly on SIGINT (SIGTERM: every tearDown)
        self.assertEqual(self.serve.stop(signal.SIGINT), 0)
        self.assertIn("stopped", self.serve.log())

    def test_cookie_flags_and_log_lines(self):
        t = self.pick(0)
        b = Browser()
        st, url, h, page = b.open(self.link(t), follow=False)
        self.assertEqual(st, 303)
        c = h["Set-Cookie"]
        self.assertIn("HttpOnly", c)
        self.assertIn("SameSite=Lax", c)
        self.assertNotIn("Secure", c)        # public_url is http (loopback)
        self.assertIn("Max-Age=", c)
        self.full_flow(self.pick(1))
        log = self.serve.log()
        lines = [l for l in log.splitlines() if "serve: GET" in l or "serve: POST" in l]
        self.assertGreater(len(lines), 8)
        self.assertIn("/s/<token>", log)
        self.assertNotIn("?", "".join(re.findall(r'serve: (?:GET|POST) (\S+)', log)))
        self.assertIn("teams connected", log)
        self.assertIn("synced: person", log)
        # behind a TLS proxy (public_url https): the cookie is Secure
        self.serve.stop()
        with open(self.cfg) as f:
            text = f.read().replace('public_url = "http://', 'public_url = "https://')
        self.cfg = os.path.join(self.dir, "https.cfg")
        with open(self.cfg, "w") as f:
            f.write(text)
        self.serve = Serve(self.cfg, self.dir, self.port)
        link = self.ps("sync-link", t["email"]).out.strip()
        self.assertTrue(link.startswith("https://"), link)
        st, url, h, page = Browser().open("http://" + link[len("https://"):], follow=False)
        self.assertEqual(st, 303)
        self.assertIn("; Secure", h["Set-Cookie"])
        self.assertTrue(h["Location"].startswith("https://127.0.0.1:%d/sync" % self.port))

    # secrets --------------------------------------------------------------------------------
    def db_bytes(self):
        with open(os.path.join(self.dir, "db", "data.mdb"), "rb") as f:
            return f.read()

    def assert_no_secrets(self, pages):
        issued = self.fake.get("/_control/oauth/issued")
        sec = dict(self.org["secrets"])
        clients = self.fake.get("/_control/oauth")["clients"]
        secrets_ = [v for k, v in sec.items() if v and not k.endswith("_client_id")]
        for c in clients.values():
            secrets_.append(c["client_secret"])
        secrets_ += issued["codes"] + issued["access"] + issued["refresh"]
        for name in ("link.key", "token.key"):
            with open(os.path.join(self.dir, name)) as f:
                secrets_.append(f.read().strip())
        self.assertGreater(len(issued["access"]), 2)
        log = self.serve.log()
        links = re.findall(r"/s/([A-Za-z0-9_-]{87})", "".join(pages))
        db = self.db_bytes()
        self.assertIn(b"utoken\0", db)
        for s in secrets_:
            self.assertNotIn(s, log)
            for p in pages:
                self.assertNotIn(s, p)
        for s in issued["access"] + issued["refresh"]:
            self.assertNotIn(s.encode(), db, "a user token is stored unencrypted")
        for tok in links:
            self.assertNotIn(tok, log)
        self.assertNotRegex(log, r"code=|state=|xox[a-z]-")
