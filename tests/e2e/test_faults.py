"""End-to-end: the fault matrix. Every platform's roster pull and prompt sending meets 429
storms, 5xx, timeouts, connection resets, broken and hostile bodies, paging tricks, token
trouble and a roster that shrinks by half, on the loopback fakes.

Each test says what must happen: either "retried, then succeeded" (the retry counts of the
run summary agree with what the fake's /_control/stats saw), or "a clean failure": exit 69
(65 for the accidental-deactivation guard) with one message naming platform, endpoint, page
and HTTP status. In every case a failed or suspicious pull deactivates nobody and changes
nothing (`people --all --format jsonl` before and after), and `db verify` passes.

Cases already covered elsewhere are not repeated here: test_pull_failures.py (Slack: 429 on
page 1, truncated + malformed page 1, persistent 503 on page 1, 500 on page 3, repeating
cursor on page 1, invalid_auth), test_roster_pull.py (the guard at the default share), test_identity.py (expired delta link,
Webex 503 on every page), test_prompts.py (a refused and an unavailable send)."""
import collections
import json
import re
import threading
import time
import unittest

from tests.e2e.harness import E2E, people_jsonl

PLATFORMS = ("slack", "teams", "webex")
# the paged roster endpoint of each platform: fake SPEC prefix, and how errors name it
PAGED = {"slack": "slack:users.list", "teams": "teams:users", "webex": "webex:people"}
WHAT = {"slack": "GET users.list", "teams": "GET users", "webex": "GET people"}
STAT = {"slack": "slack:users.list", "teams": "teams:users", "webex": "webex:people"}

OK_LINE = re.compile(r"^(slack|teams|webex): pulled (\d+) accounts in (\d+) pages \((\d+) "
                     r"requests, (\d+) retries, (\d+) rate-limited, ([\d.]+) s\)", re.M)
FAILED_LINE = re.compile(r"^(slack|teams|webex): FAILED after (\d+) accounts, (\d+) pages, "
                         r"(\d+) requests \((\d+) retries, (\d+) rate-limited\)", re.M)


def messages(r):
    """stderr's log lines (level=... msg="JSON string"), decoded, one a line."""
    out = []
    for line in r.err.splitlines():
        m = re.match(r'^level=\w+ msg=(".*")$', line)
        out.append(json.loads(m.group(1)) if m else line)
    return "\n".join(out)


def summary(out):
    """platform -> {ok, pulled, pages, requests, retries, throttled, seconds}"""
    res = {}
    for m in OK_LINE.finditer(out):
        res[m.group(1)] = dict(ok=True, pulled=int(m.group(2)), pages=int(m.group(3)),
                               requests=int(m.group(4)), retries=int(m.group(5)),
                               throttled=int(m.group(6)), seconds=float(m.group(7)))
    for m in FAILED_LINE.finditer(out):
        res[m.group(1)] = dict(ok=False, pulled=int(m.group(2)), pages=int(m.group(3)),
                               requests=int(m.group(4)), retries=int(m.group(5)),
                               throttled=int(m.group(6)))
    return res


def rewrite_config(path, slack="", teams="", webex="", http=None, identity=None, extra=""):
    """Adds settings to the platform blocks make_config wrote, replaces its http block."""
    with open(path) as f:
        text = f.read()
    if slack:
        text = re.sub(r"(page_limit = \d+;)", lambda m: m.group(1) + " " + slack, text, 1)
    if teams:
        text = text.replace('client_secret_file = "graph.secret";',
                            'client_secret_file = "graph.secret"; ' + teams, 1)
    if webex:
        text = text.replace('token_file = "webex.token";', 'token_file = "webex.token"; ' +
                            webex, 1)
    if http is not None:
        block = "http = { " + " ".join(f"{k} = {v};" for k, v in http.items()) + " };"
        text, n = re.subn(r"^http = \{[^}]*\};", block, text, flags=re.M)
        assert n == 1, "make_config's http block not found"
    if identity is not None:
        text, n = re.subn(r"^identity = \{.*\};$", identity, text, flags=re.M)
        assert n == 1
    text += extra + "\n"
    with open(path, "w") as f:
        f.write(text)


FAST_HTTP = dict(retries=3, backoff_base=0.01, backoff_max=0.05, timeout=10)


class FaultBase(E2E):
    """Three platforms, ten users a page everywhere, full pulls every run (the Teams delta
    has its own cases), quick backoff."""
    org_args = dict(people=60, seed=41, platforms=PLATFORMS)
    platforms = PLATFORMS
    page_limit = 10
    slack_cfg = ""
    teams_cfg = "page_size = 10; use_delta = false;"
    webex_cfg = "page_max = 10;"
    http = FAST_HTTP
    identity = None
    more_cfg = ""

    def setUp(self):
        super().setUp()
        rewrite_config(self.cfg, self.slack_cfg, self.teams_cfg, self.webex_cfg, self.http,
                       self.identity, self.more_cfg)

    # ---- helpers ------------------------------------------------------------------------
    def ps(self, *args, **kw):
        r = super().ps(*args, **kw)
        r.msgs = messages(r)
        return r

    def baseline(self):
        """A clean run; remembers people, the request log and the fake's counters."""
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 0)
        self.base_sum = summary(r.out)
        self.before = people_jsonl(self.cfg)
        self.assertRc(self.ps("db", "verify"), 0)
        self.mark = len(self.fake.requests())
        self.stats0 = self.fake.get("/_control/stats")
        return self.before

    def use_delta(self):
        """Teams as configured by default: incremental pulls through the delta link."""
        with open(self.cfg) as f:
            text = f.read()
        with open(self.cfg, "w") as f:
            f.write(text.replace("use_delta = false;", "use_delta = true;"))

    def new_requests(self):
        return self.fake.requests()[self.mark:]

    def status_counts(self, endpoint):
        """{status: n} the fake answered on endpoint since the baseline."""
        now = self.fake.get("/_control/stats")["status"].get(endpoint, {})
        was = self.stats0["status"].get(endpoint, {})
        return {k: v - was.get(k, 0) for k, v in now.items() if v - was.get(k, 0)}

    def inject(self, *specs):
        for s in specs:
            self.fake.control({"op": "fail", "spec": s})

    def assert_nothing_changed(self):
        self.assertEqual(people_jsonl(self.cfg), self.before)
        self.assertRc(self.ps("db", "verify"), 0)

    def assert_nobody_deactivated(self):
        after = {p["email"]: p for p in people_jsonl(self.cfg)}
        for p in self.before:
            self.assertIn(p["email"], after, "a person was lost")
            if p["active"]:
                self.assertTrue(after[p["email"]]["active"], p["email"])
            acc = {(a["platform"], a["user_id"]): a["active"] for a in after[p["email"]]
                   ["accounts"]}
            for a in p["accounts"]:
                self.assertIn((a["platform"], a["user_id"]), acc)
                if a["active"]:
                    self.assertTrue(acc[(a["platform"], a["user_id"])], a)
        self.assertRc(self.ps("db", "verify"), 0)

    def humans(self, platform):
        """Active human accounts of the truth on platform, in the fake's roster order."""
        ids = {a["user_id"] for t in self.org["truth"] for a in t["accounts"]
               if a["platform"] == platform and a["active"]}
        objs = {"slack": self.org["slack"]["members"], "teams": self.org["teams"]["users"],
                "webex": self.org["webex"]["people"]}[platform]
        return [o["id"] for o in objs if o["id"] in ids]

    def prime_changes(self):
        """Changes a complete pull would apply: one rename and one removal per platform.
        A failed pull must apply neither; assert_changes_arrive sees both come later."""
        for p in PLATFORMS:
            hs = self.humans(p)
            field = {"slack": "real_name", "teams": "displayName", "webex": "displayName"}[p]
            self.fake.control({"op": "mutate", "platform": p, "user_id": hs[0],
                               "set": {field: f"Renamed On {p.title()}"}})
            self.fake.control({"op": "remove", "platform": p, "user_id": hs[1]})

    def assert_changes_arrive(self):
        self.fake.control({"op": "clear_failures"})
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 0)
        s = summary(r.out)
        for p in PLATFORMS:
            self.assertTrue(s[p]["ok"], r)
        # the rename and the removal of each platform
        self.assertEqual(len(re.findall(r" 1 changed, 1 deactivated,", r.out)), 3, r)
        self.assertRc(self.ps("db", "verify"), 0)

    def assertNoSecret(self, r):
        for v in self.org["secrets"].values():
            self.assertNotIn(v, r.out + r.err)


class RetriedThenSucceeded(FaultBase):
    """Transient faults: the run absorbs them, says how many retries it took, and the
    result is the same as a clean run's."""

    def test_429_storm_with_retry_after_honoured(self):
        self.baseline()
        self.inject("slack:users.list:page=2:status=429:retry_after=1:times=2",
                  "slack:users.list:page=4:status=429:retry_after=0:times=3",
                  # Graph's Retry-After is fractional: waited as given, not rounded up
                  "teams:users:page=2:status=429:retry_after=0.25:times=3",
                  "teams:users:page=3:status=429:retry_after=0.5:times=2",
                  "webex:people:page=2:status=429:retry_after=1:times=2",
                  "webex:people:page=3:status=429:retry_after=0:times=3")
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 0)
        s = summary(r.out)
        for p in PLATFORMS:
            self.assertEqual((s[p]["retries"], s[p]["throttled"]), (5, 5), r)
            self.assertEqual(self.status_counts(STAT[p]).get("429"), 5, p)
            self.assertEqual(s[p]["pulled"], self.base_sum[p]["pulled"])
        self.assertGreaterEqual(s["slack"]["seconds"], 1.9, "Retry-After: 1 not waited")
        self.assertGreaterEqual(s["webex"]["seconds"], 1.9, "Retry-After: 1 not waited")
        # 3 x 0.25 + 2 x 0.5 = 1.75 s; rounded up to whole seconds it would be 5 s
        self.assertGreaterEqual(s["teams"]["seconds"], 1.7, r)
        self.assertLess(s["teams"]["seconds"], 4.5, r)
        self.assert_nothing_changed()

    def test_5xx_transient_then_recovering(self):
        self.baseline()
        self.inject("slack:users.list:page=2:status=500:times=2",
                  "slack:users.list:page=3:status=502:times=1",
                  "teams:users:page=2:status=503:times=3",
                  "webex:people:page=2:status=502:times=1",
                  "webex:people:page=3:status=503:retry_after=0:times=1",
                  "webex:people:page=4:status=500:times=1")
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 0)
        s = summary(r.out)
        self.assertEqual(s["slack"]["retries"], 3, r)
        self.assertEqual(s["teams"]["retries"], 3, r)
        self.assertEqual(s["webex"]["retries"], 3, r)
        self.assertEqual(self.status_counts("slack:users.list").get("500"), 2)
        self.assertEqual(self.status_counts("slack:users.list").get("502"), 1)
        self.assertEqual(self.status_counts("teams:users").get("503"), 3)
        w = self.status_counts("webex:people")
        self.assertEqual((w.get("500"), w.get("502"), w.get("503")), (1, 1, 1))
        self.assert_nothing_changed()

    def test_connection_resets_then_recovering(self):
        self.baseline()
        for p in PLATFORMS:
            self.inject(f"{PAGED[p]}:page=2:reset:times=2")
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 0)
        s = summary(r.out)
        for p in PLATFORMS:
            self.assertEqual(self.status_counts(STAT[p]).get("reset"), 2, p)
            # libcurl itself replays a GET whose reused connection died before any answer,
            # so one or both resets may be absorbed below the retry loop
            self.assertIn(s[p]["retries"], (1, 2), r)
        self.assert_nothing_changed()

    def test_truncated_malformed_and_bad_utf8_then_recovering(self):
        self.baseline()
        self.inject("slack:users.list:page=2:badutf8:times=1",
                  "slack:users.list:page=3:truncate:times=1",
                  "teams:users:page=2:truncate:times=1",
                  "teams:users:page=3:malformed:times=1",
                  "teams:users:page=4:badutf8:times=1",
                  "webex:people:page=2:malformed:times=1",
                  "webex:people:page=3:truncate:times=1",
                  "webex:people:page=4:badutf8:times=1")
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 0)
        s = summary(r.out)
        self.assertEqual([s[p]["retries"] for p in PLATFORMS], [2, 3, 3], r)
        rules = self.fake.get("/_control/rules")
        self.assertTrue(all(x["exhausted"] for x in rules), rules)
        self.assert_nothing_changed()

    def test_empty_and_short_pages_that_carry_a_next_cursor(self):
        self.baseline()
        # empty pages (two in a row on Teams and Webex) and half-full pages, more to come:
        # neither is the end of the roster
        self.inject("slack:users.list:page=2:empty", "slack:users.list:page=4:short",
                  "teams:users:page=1:empty", "teams:users:page=3:empty",
                  "teams:users:page=2:short",
                  "webex:people:page=2:empty", "webex:people:page=3:empty",
                  "webex:people:page=5:short")
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 0)
        s = summary(r.out)
        for p in PLATFORMS:
            self.assertEqual(s[p]["pulled"], self.base_sum[p]["pulled"], p)
            self.assertGreater(s[p]["pages"], self.base_sum[p]["pages"], p)
            self.assertIn(", 0 deactivated,", r.out)
        self.assert_nothing_changed()

    def test_enormous_display_names_are_clipped(self):
        self.baseline()
        big = "Big Name " + "x" * (5 << 20)
        for p in PLATFORMS:
            field = {"slack": "real_name", "teams": "displayName", "webex": "displayName"}[p]
            self.fake.control({"op": "mutate", "platform": p, "user_id": self.humans(p)[2],
                               "set": {field: big}})
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 0)
        s = summary(r.out)
        self.assertEqual([s[p]["retries"] for p in PLATFORMS], [0, 0, 0])
        people = people_jsonl(self.cfg)
        longest = max(len((p["name"] or "").encode()) for p in people)
        self.assertLessEqual(longest, 1024, "a 5 MB name was stored whole")
        self.assertTrue(any((p["name"] or "").startswith("Big Name x") for p in people))
        self.assert_nobody_deactivated()
        # `people` and `show` stay usable
        self.assertRc(self.ps("people", "--all"), 0)

    def test_graph_token_expiring_mid_pull_is_renewed_once(self):
        self.baseline()
        # page 2 is slow; while it is on the wire every access token issued so far dies
        self.inject("teams:users:page=2:slow=800:times=1")
        token_before = self.fake.get("/_control/stats")["requests"].get("teams:token", 0)
        out = {}
        t = threading.Thread(target=lambda: out.update(r=self.ps("reconcile", "--no-prompts")))
        t.start()
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.fake.get("/_control/rules")[0]["fired"]:
                break
            time.sleep(0.02)
        self.fake.control({"op": "expire_tokens"})
        t.join(60)
        r = out["r"]
        self.assertRc(r, 0)
        st = self.fake.get("/_control/stats")
        self.assertEqual(st["requests"]["teams:token"] - token_before, 2, "renewed once")
        self.assertEqual(self.status_counts("teams:users").get("401"), 1)
        self.assertNoSecret(r)
        self.assert_nothing_changed()

    def test_webex_next_link_with_max_null(self):
        """Webex's known defect: a next link carrying max=null, which Webex itself then
        refuses; the driver drops the parameter."""
        self.baseline()
        self.inject("webex:people:page=2:maxnull", "webex:people:page=4:maxnull")
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 0)
        self.assertEqual(summary(r.out)["webex"]["retries"], 0, r)
        self.assertEqual(self.status_counts("webex:people").get("400"), None)
        self.assert_nothing_changed()

    def test_graph_delta_429_fractional_retry_after(self):
        # the default: incremental pulls through the stored delta link
        self.use_delta()
        self.baseline()
        self.inject("teams:users.delta:page=1:status=429:retry_after=0.3:times=2")
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 0)
        s = summary(r.out)
        self.assertEqual((s["teams"]["retries"], s["teams"]["throttled"]), (2, 2), r)
        self.assertEqual(self.status_counts("teams:users.delta").get("429"), 2)
        self.assert_nothing_changed()


class RateLimitStorm(FaultBase):
    """The fakes enforce sliding-window limits far below what peoplesync asks for: a storm
    of 429s whose Retry-After (whole seconds on Slack and Webex, fractional on Graph) is
    computed from the window."""
    http = dict(FAST_HTTP, retries=8)
    fake_extra = ("--rate", "slack:users.list=3/1", "teams:users=2/0.4", "webex:people=3/1")

    def test_pulls_ride_out_a_429_storm(self):
        self.baseline()
        self.fake.control({"op": "reset"})     # counters and windows from zero
        self.stats0 = self.fake.get("/_control/stats")
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 0)
        s = summary(r.out)
        limited = self.fake.get("/_control/stats")["ratelimited"]
        for p in PLATFORMS:
            self.assertGreater(s[p]["throttled"], 0, r)
            self.assertEqual(s[p]["throttled"], limited.get(STAT[p], 0), p)
            self.assertEqual(s[p]["retries"], s[p]["throttled"], r)
            self.assertEqual(s[p]["pulled"], self.base_sum[p]["pulled"])
        self.assert_nothing_changed()


class Timeouts(FaultBase):
    """Answers slower than http.timeout (1 s): the request is abandoned and retried."""
    http = dict(FAST_HTTP, timeout=1, connect_timeout=1)

    def test_timeout_then_recovering(self):
        self.baseline()
        for p in PLATFORMS:
            self.inject(f"{PAGED[p]}:page=2:slow=1600:times=1")
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 0)
        s = summary(r.out)
        for p in PLATFORMS:
            self.assertEqual(s[p]["retries"], 1, r)
        self.assert_nothing_changed()

    def test_persistent_timeout_fails_cleanly(self):
        self.baseline()
        self.prime_changes()
        for p in PLATFORMS:
            self.inject(f"{PAGED[p]}:page=3:slow=1500")
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 69)
        for p in PLATFORMS:
            self.assertRegex(r.msgs, rf"{p}: {WHAT[p]} page 3: Timeout was reached "
                                    rf"\(4 attempts\); nothing from {p} was changed")
            self.assertFalse(summary(r.out)[p]["ok"])
        self.assert_nothing_changed()
        self.assert_changes_arrive()


class CleanFailures(FaultBase):
    """Faults that outlast the retries: the platform's pull fails, exit 69, one message per
    platform naming endpoint, page and status, and nothing of that platform changes. Once
    the fault is gone, the changes that were waiting arrive."""

    def run_failing(self):
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 69)
        s = summary(r.out)
        for p in PLATFORMS:
            self.assertFalse(s[p]["ok"], r)
        self.assertNoSecret(r)
        self.assertEqual(len(r.err.strip().splitlines()), 3, r)
        return r

    def test_persistent_5xx(self):
        self.baseline()
        self.prime_changes()
        self.inject("slack:users.list:page=2:status=502", "teams:users:page=3:status=500",
                  "webex:people:page=2:status=503")
        r = self.run_failing()
        self.assertIn("slack: GET users.list page 2: HTTP 502 (4 attempts)", r.msgs)
        self.assertIn("teams: GET users page 3: HTTP 500 (4 attempts)", r.msgs)
        self.assertIn("webex: GET people page 2: HTTP 503 (4 attempts)", r.msgs)
        self.assertEqual(self.status_counts("slack:users.list").get("502"), 4)
        self.assertEqual(self.status_counts("teams:users").get("500"), 4)
        self.assertEqual(self.status_counts("webex:people").get("503"), 4)
        self.assert_nothing_changed()
        self.assert_changes_arrive()

    def test_persistent_429_and_a_retry_after_beyond_the_limit(self):
        self.baseline()
        self.prime_changes()
        self.inject("slack:users.list:page=3:status=429:retry_after=0",
                  "teams:users:page=2:status=429:retry_after=0.05",
                  # longer than http.max_retry_after (120 s): given up at once, not waited
                  "webex:people:page=2:status=429:retry_after=600")
        t0 = time.time()
        r = self.run_failing()
        self.assertLess(time.time() - t0, 30)
        self.assertIn("slack: GET users.list page 3: HTTP 429 (rate limited) (4 attempts)", r.msgs)
        self.assertIn("teams: GET users page 2: HTTP 429 (rate limited) (4 attempts)", r.msgs)
        self.assertIn("webex: GET people page 2: HTTP 429, Retry-After 600 s is longer than "
                      "http.max_retry_after (120 s)", r.msgs)
        self.assertEqual(self.status_counts("webex:people").get("429"), 1)
        self.assert_nothing_changed()
        self.assert_changes_arrive()

    def test_persistent_resets_and_broken_bodies(self):
        self.baseline()
        self.prime_changes()
        self.inject("slack:users.list:page=2:reset", "teams:users:page=2:malformed",
                  "webex:people:page=3:truncate")
        r = self.run_failing()
        self.assertRegex(r.msgs, r"slack: GET users\.list page 2: (Recv failure|Failure when "
                                r"receiving|Server returned nothing)[^;]*\(\d attempts\)")
        self.assertRegex(r.msgs, r"teams: GET users page 2: HTTP 200 with [^;]+\(4 attempts\)")
        self.assertRegex(r.msgs, r"webex: GET people page 3: Transferred a partial file "
                                r"\(4 attempts\)")
        self.assert_nothing_changed()
        self.fake.control({"op": "clear_failures"})
        self.inject("slack:users.list:page=3:badutf8", "teams:users:page=2:badutf8",
                  "webex:people:page=2:badutf8")
        r = self.run_failing()
        for p, page in (("slack", 3), ("teams", 2), ("webex", 2)):
            self.assertRegex(r.msgs, rf"{p}: {WHAT[p]} page {page}: HTTP 200 with [^;]*"
                                    rf"invalid UTF-8[^;]*\(4 attempts\)")
        self.assert_nothing_changed()
        self.assert_changes_arrive()

    def test_repeating_links_on_teams_and_webex(self):
        self.baseline()
        self.prime_changes()
        self.inject("slack:users.list:page=3:repeat_cursor", "teams:users:page=2:repeat_cursor",
                  "webex:people:page=3:repeat_cursor")
        r = self.run_failing()
        self.assertIn("slack: GET users.list page 3: next_cursor repeats an earlier cursor; "
                      "refusing to loop", r.msgs)
        self.assertIn("teams: GET users page 2: @odata.nextLink repeats an earlier link; "
                      "refusing to loop", r.msgs)
        self.assertIn('webex: GET people page 3: Link rel="next" repeats an earlier link; '
                      'refusing to loop', r.msgs)
        self.assert_nothing_changed()
        self.assert_changes_arrive()

    def test_revoked_and_refused_tokens(self):
        self.baseline()
        self.prime_changes()
        self.fake.control({"op": "revoke_token", "platform": "slack"})
        self.fake.control({"op": "revoke_token", "platform": "webex"})
        self.inject("teams:token:status=503")
        r = self.run_failing()
        self.assertIn('slack: POST auth.test: HTTP 200, error "token_revoked"', r.msgs)
        self.assertIn("teams: POST token (client credentials): HTTP 503 (4 attempts)", r.msgs)
        self.assertRegex(r.msgs, r"webex: GET people page 1: HTTP 401, [^;]*trackingId ")
        self.assert_nothing_changed()
        # the same, in the middle of a pull
        self.fake.control({"op": "revoke_token", "platform": "slack", "revoked": False})
        self.fake.control({"op": "revoke_token", "platform": "webex", "revoked": False})
        self.fake.control({"op": "clear_failures"})
        self.inject("slack:users.list:page=3:error=token_revoked", "teams:users:page=2:status=401",
                  "webex:people:page=2:status=401")
        tok0 = self.fake.get("/_control/stats")["requests"].get("teams:token", 0)
        r = self.run_failing()
        self.assertIn('slack: GET users.list page 3: HTTP 200, error "token_revoked"', r.msgs)
        self.assertIn("teams: GET users page 2: HTTP 401, error InvalidAuthenticationToken",
                      r.msgs)
        self.assertIn("webex: GET people page 2: HTTP 401", r.msgs)
        # a 401 from Graph renews the token once, then gives up
        tok = self.fake.get("/_control/stats")["requests"]["teams:token"] - tok0
        self.assertEqual(tok, 2)
        self.assert_nothing_changed()
        self.assert_changes_arrive()


class BodyLimit(FaultBase):
    """A response over http.max_body_mb is refused at once (not retried: it would be as
    big again), and the pull fails cleanly."""
    http = dict(FAST_HTTP, max_body_mb=1)

    def test_body_over_max_body_mb(self):
        self.baseline()
        big = "x" * (3 << 20)
        for p in PLATFORMS:
            field = {"slack": "real_name", "teams": "displayName", "webex": "displayName"}[p]
            self.fake.control({"op": "mutate", "platform": p, "user_id": self.humans(p)[-1],
                               "set": {field: big}})
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 69)
        for p in PLATFORMS:
            self.assertRegex(r.msgs, rf"{p}: {WHAT[p]} page \d+: response larger than 1 MiB; "
                                    rf"nothing from {p} was changed")
            pages = [q["page"] for q in self.new_requests() if q["endpoint"] ==
                     STAT[p].split(":")[1] and q["platform"] == p]
            self.assertEqual(len(pages), len(set(pages)), f"{p}: a page was fetched twice")
        self.assertNoSecret(r)
        self.assert_nothing_changed()


class Guard(FaultBase):
    """The accidental-deactivation guard, with the threshold from the config (30 %)."""
    more_cfg = "reconcile = { max_deactivate_share = 0.3; };"

    def test_half_the_roster_gone_on_each_platform(self):
        self.baseline()
        for p in PLATFORMS:
            self.fake.control({"op": "mutate", "platform": p, "user_id": self.humans(p)[0],
                               "set": {"displayName" if p != "slack" else "real_name":
                                       "Waits With The Rest"}})
            self.fake.control({"op": "shrink", "platform": p, "fraction": 0.5})
            r = self.ps("reconcile", "--no-prompts")
            self.assertRc(r, 65)
            self.assertRegex(r.msgs, rf"^{p}: the pull would deactivate \d+ of \d+ active "
                                     r"accounts \((4|5|6)\d%\), above reconcile\."
                                     r"max_deactivate_share \(30%\); nothing was changed\. If "
                                     r"the roster really shrank, rerun with "
                                     r"--accept-deactivations$")
            self.assertEqual(len(r.msgs.splitlines()), 1, r)     # the others were applied
            self.assert_nothing_changed()
            r = self.ps("reconcile", "--no-prompts", "--accept-deactivations")
            self.assertRc(r, 0)
            self.assertRegex(r.out, rf"{p}: pulled .* [1-9]\d* deactivated,")
            after = people_jsonl(self.cfg)
            self.assertEqual(len(after), len(self.before), "deactivated people are kept")
            self.assertLess(sum(q["active"] for q in after),
                            sum(q["active"] for q in self.before))
            self.assertRc(self.ps("db", "verify"), 0)
            self.before = after

    def test_guard_on_two_platforms_in_one_run_exits_65(self):
        self.baseline()
        for p in ("teams", "webex"):
            self.fake.control({"op": "shrink", "platform": p, "fraction": 0.5})
        r = self.ps("reconcile", "--no-prompts")
        self.assert_nothing_changed()
        self.assertEqual(len(re.findall("above reconcile.max_deactivate_share", r.msgs)), 2)
        self.assertRc(r, 65)

    def test_threshold_comes_from_the_config(self):
        self.baseline()
        self.fake.control({"op": "shrink", "platform": "webex", "fraction": 0.2})
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 0)        # about a fifth: under 30 %
        self.assertRegex(r.out, r"webex: pulled .* [1-9]\d* deactivated")
        self.before = people_jsonl(self.cfg)
        self.fake.control({"op": "shrink", "platform": "webex", "fraction": 0.5})
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 65)
        self.assertIn("above reconcile.max_deactivate_share (30%)", r.msgs)
        self.assertNotIn("slack:", r.msgs)
        self.assert_nothing_changed()

    def test_teams_delta_reporting_half_the_directory_removed(self):
        self.use_delta()
        self.baseline()
        self.assertRegex(self.ps("reconcile", "--no-prompts").out, r"teams: pulled 0 accounts")
        self.fake.control({"op": "shrink", "platform": "teams", "fraction": 0.5})
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 65)
        self.assertIn("teams: the pull would deactivate", r.msgs)
        self.assert_nothing_changed()


class PromptFaults(FaultBase):
    """Prompt sending under faults: every queued prompt is delivered exactly once,
    eventually (over as many runs as it takes)."""
    org_args = dict(people=80, seed=43, platforms=PLATFORMS)
    slack_cfg = ("rate = { open = { per_second = 50.0; burst = 5; }; "
                 "post = { per_second = 50.0; burst = 5; }; };")
    teams_cfg = ("page_size = 10; use_delta = false; rate = { chat = { per_second = 50.0; "
                 "burst = 5; }; post = { per_second = 50.0; burst = 5; }; };")
    webex_cfg = "page_max = 10; rate = { post = { per_second = 50.0; burst = 5; }; };"
    http = dict(FAST_HTTP, timeout=1, connect_timeout=1)
    # a mix of primaries, so that each platform gets prompts
    identity = ('identity = { domain_aliases = ( ("corp.onmicrosoft.com", "corp.com") ); '
                'platform_order = ["webex", "teams", "slack"]; };')
    per_platform = 12

    def queue(self):
        self.baseline()
        by = collections.defaultdict(list)
        for p in self.before:
            if p["active"] and p["status"] == "off" and p["primary_platform"]:
                by[p["primary_platform"]].append(p["email"])
        emails = [e for p in PLATFORMS for e in by[p][:self.per_platform]]
        r = self.ps("prompt", *emails)
        self.assertRc(r, 0)
        self.queued = set(re.findall(r"^(\S+) .*: queued;", r.out, re.M))
        primary = {p["email"]: p["primary_platform"] for p in self.before}
        n = collections.Counter(primary[e] for e in self.queued)
        for p in PLATFORMS:
            self.assertGreaterEqual(n[p], 6, (p, r.out))
        return self.queued

    def send_until_done(self, max_runs=6):
        outs = []
        for _ in range(max_runs):
            r = self.ps("reconcile")
            outs.append(r)
            self.assertIn(r.rc, (0, 69), r)
            self.assertNotIn("FAILED", r.out)       # pulls are not what this is about
            if r.rc == 0 and "left for the next run" not in r.out:
                break
        else:
            self.fail(f"prompts still undelivered after {max_runs} runs: {outs[-1]}")
        return outs

    def assert_each_exactly_once(self):
        msgs = self.fake.get("/_control/messages")
        per = collections.Counter((m["platform"], m["to"]) for m in msgs)
        dup = {k: v for k, v in per.items() if v > 1}
        self.assertEqual(dup, {}, "sent twice")
        people = {p["email"]: p for p in people_jsonl(self.cfg)}
        for e in self.queued:
            self.assertEqual(people[e]["prompt_count"], 1, e)
            self.assertEqual(people[e]["status"], "pending", e)
        self.assertEqual(len(msgs), len(self.queued))
        mine = {(a["platform"], a["user_id"]) for e in self.queued for a in people[e]["accounts"]}
        self.assertTrue(set(per) <= mine)
        self.assertRc(self.ps("db", "verify"), 0)

    def test_429_storms_on_every_send_endpoint(self):
        self.queue()
        # sliding-window limits far below the configured rates, and on top of them runs
        # of 429s longer than the retries allow
        for spec in ("slack:chat.postMessage=3/1", "teams:chats.messages=3/0.5",
                     "webex:messages=3/1"):
            self.fake.control({"op": "rate", "spec": spec})
        self.inject("slack:chat.postMessage:after=2:status=429:retry_after=0:times=6",
                  "teams:chats.messages:after=3:status=429:retry_after=0.05:times=6",
                  "webex:messages:after=1:status=429:retry_after=0:times=6")
        outs = self.send_until_done()
        self.assertGreaterEqual(len(outs), 2, "a post throttled beyond the retries waits")
        text = "".join(r.out for r in outs)
        for p in PLATFORMS:
            n = sum(int(x) for x in re.findall(rf"{p} prompts: .*?(\d+) rate-limited \(429\)",
                                               text))
            self.assertGreater(n, 6, f"{p}: no 429 storm seen")
        limited = self.fake.get("/_control/stats")["ratelimited"]
        for ep in ("slack:chat.postMessage", "teams:chats.messages", "webex:messages"):
            self.assertGreater(limited.get(ep, 0), 0, ep)
        self.assert_each_exactly_once()

    def test_answers_lost_after_the_message_was_posted(self):
        """The platform acted on the post, but the answer never arrived whole: the prompt
        is in doubt, never posted again blindly; the next run finds it in the DM history."""
        self.queue()
        self.inject("slack:chat.postMessage:after=1:reset_after:times=1",
                  "slack:chat.postMessage:after=3:malformed:times=1",
                  "teams:chats.messages:after=1:truncate:times=1",
                  "teams:chats.messages:after=3:slow=1500:times=1",
                  "webex:messages:after=0:reset_after:times=1",
                  "webex:messages:after=2:malformed:times=1",
                  # refused before it was processed: nothing in the history, sent again
                  "webex:messages:after=4:status=502:times=1")
        outs = self.send_until_done()
        text = "".join(r.out for r in outs)
        found = sum(int(x) for x in re.findall(r"(\d+) found already delivered after an "
                                                  r"interruption", text))
        self.assertGreaterEqual(found, 3, text)
        self.assertIn("not repeated, since the request may have been acted on",
                      "".join(r.err for r in outs))
        self.assertTrue(all(x["exhausted"] for x in self.fake.get("/_control/rules")))
        self.assert_each_exactly_once()

    def test_5xx_and_resets_before_the_post_was_processed(self):
        self.queue()
        self.inject("slack:conversations.open:after=1:status=503:times=2",
                  "slack:chat.postMessage:after=2:reset:times=1",
                  "teams:chats:after=1:status=500:times=1",
                  "teams:chats.messages:after=2:status=503:times=1",
                  "webex:messages:after=1:reset:times=1")
        self.send_until_done()
        self.assertTrue(all(x["exhausted"] for x in self.fake.get("/_control/rules")))
        self.assert_each_exactly_once()

    def test_token_trouble_while_sending_fails_no_prompt(self):
        """A revoked or refused credential is the platform's trouble, not the person's: the
        prompts wait (exit 69, "left for the next run") instead of being marked failed, and
        go out once the credential works again."""
        self.queue()
        self.fake.control({"op": "revoke_token", "platform": "slack"})
        self.fake.control({"op": "revoke_token", "platform": "webex"})
        # the service user's refresh token refused at the token endpoint
        self.inject("teams:token:status=400:error=invalid_grant")
        r = self.ps("reconcile")
        self.assertRc(r, 69)
        for p in PLATFORMS:
            self.assertRegex(r.out, rf"{p} prompts: 0 delivered, 0 failed, .*left for the "
                                    r"next run")
        self.assertNotIn("failed on", self.ps("explain", sorted(self.queued)[0]).out)
        self.assertNoSecret(r)
        self.fake.control({"op": "revoke_token", "platform": "slack", "revoked": False})
        self.fake.control({"op": "revoke_token", "platform": "webex", "revoked": False})
        self.fake.control({"op": "clear_failures"})
        self.send_until_done()
        self.assert_each_exactly_once()

    def test_credentials_lost_in_the_middle_of_sending(self):
        self.queue()
        self.inject("slack:chat.postMessage:after=2:error=token_revoked:times=1",
                    "teams:chats.messages:after=2:status=401:times=2",
                    "webex:messages:after=2:status=401:times=1")
        r = self.ps("reconcile")
        self.assertRc(r, 69)
        self.assertNotRegex(r.out, r"prompts: \d+ delivered, [1-9]\d* failed")
        self.send_until_done()
        self.assert_each_exactly_once()

    def test_slack_throttle_answered_with_http_200(self):
        """chat.postMessage's own "rate_limited" (HTTP 200, ok:false: posting too fast) and
        Slack's transient errors are no refusal: the prompt waits, then goes out once."""
        self.queue()
        self.inject("slack:chat.postMessage:after=1:error=rate_limited:times=1",
                    "slack:chat.postMessage:after=3:error=fatal_error:times=1",
                    "slack:conversations.open:after=5:error=ratelimited:times=1")
        outs = self.send_until_done()
        self.assertNotRegex("".join(r.out for r in outs), r"slack prompts: \d+ delivered, "
                                                          r"[1-9]\d* failed")
        self.assert_each_exactly_once()
