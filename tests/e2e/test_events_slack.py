"""End-to-end: Slack's own message events feed auto-prompt. The fake Slack posts signed
event_callbacks to the real `serve` (POST /events/slack) when one of its users sends a direct
message; the next `reconcile` drains the inbox through the auto-prompt rule.

An off person DMs a synced person: exactly one prompt; a second message, a retry and a replay
change nothing; forged, stale and oversized requests are refused and leave no trace in the
store; serve killed with SIGKILL right after its 2xx loses nothing."""
import json
import os
import re
import signal
import time
import urllib.error
import urllib.request

from tests.e2e.harness import E2E, people_jsonl, write_secret
from tests.e2e.test_serve import Serve, free_port, serve_config

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"      # Slack's worked example (fixture SOURCES.md)


class Deliveries:
    """What the fakes' deliveries did (GET /_control/deliveries), once they are done."""

    def wait_delivered(self, ids, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            ds = [d for d in self.fake.get("/_control/deliveries") if d["id"] in ids]
            if ds and all(d["done"] for d in ds):
                return ds
            time.sleep(0.05)
        self.fail("deliveries not done: %s" % self.fake.get("/_control/deliveries"))


class EventsCase(Deliveries, E2E):
    """A three-platform org reconciled with Slack auto-sync (Teams and Webex primaries are
    on: the recipients), auto-prompt on, serve running with the events configured."""
    org_args = dict(people=60, seed=21, platforms=("slack", "teams", "webex"))
    platforms = ("slack", "teams", "webex")

    def setUp(self):
        super().setUp()
        self.port = free_port()
        self.cfg = serve_config(self.dir, self.fake, self.org, self.port)
        write_secret(os.path.join(self.dir, "slack.signing"), SECRET)
        with open(self.cfg) as f:
            text = f.read()
        text = text.replace('page_limit = 200;', 'page_limit = 200; auto_sync = true; '
                            'signing_secret_file = "slack.signing";', 1)
        # Teams and Webex first: people with a Slack account among the synced ones too
        text = text.replace('"corp.com") ); };', '"corp.com") ); '
                            'platform_order = ["teams", "webex", "slack"]; };', 1)
        self.metrics_file = os.path.join(self.dir, "peoplesync.prom")
        text += 'metrics = { file = "%s"; };\n' % self.metrics_file
        # the receivers alone: no catch-up (it would read the synced people's DMs too)
        text += 'events = { catchup_hours = 0; };\n'
        with open(self.cfg, "w") as f:
            f.write(text)
        self.assertRc(self.ps("reconcile"), 0)
        self.assertRc(self.ps("auto-prompt", "on"), 0)
        self.fake.control({"op": "clear_messages"})
        self.serve = Serve(self.cfg, self.dir, self.port)
        self.url = self.serve.base + "/events/"

    def tearDown(self):
        self.serve.stop()
        super().tearDown()

    def pair(self, platform):
        """An off sender and an on recipient, each with an active account on platform."""
        people = people_jsonl(self.cfg)

        def acct(p):
            return next((a["user_id"] for a in p["accounts"]
                         if a["active"] and a["platform"] == platform), None)
        off = [p for p in people if p["status"] == "off" and p["active"] and acct(p)]
        on = [p for p in people if p["status"] == "on" and acct(p)]
        self.assertTrue(off and on, "the org has no off/on pair on " + platform)
        return (off[0], acct(off[0])), (on[0], acct(on[0]))

    def prompts_to(self, user):
        return [m for m in self.fake.get("/_control/messages") if m["to"] == user]

    def stats(self):
        r = self.ps("db", "stats")
        self.assertRc(r, 0)
        # the generation/txn header lines change with any reader; the counts do not
        return "\n".join(l for l in r.out.splitlines() if not re.match(r"^(map|txn|last)", l))

    def post(self, path, body, headers):
        req = urllib.request.Request(self.url + path, data=body, headers=headers,
                                     method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()


class SlackEvents(EventsCase):
    def setUp(self):
        super().setUp()
        self.fake.control({"op": "events_config", "config": {"slack": {
            "url": self.url + "slack", "signing_secret": SECRET,
            "retry_delays": [0.2, 0.4, 0.6]}}})

    def dm(self, frm, to, **kw):
        op = {"op": "send_dm", "platform": "slack", "from": frm, "to": to}
        op.update(kw)
        return self.wait_delivered(self.fake.control(op)["deliveries"])

    def test_an_off_person_writing_to_a_synced_one_is_prompted_once(self):
        (sender, su), (rcpt, ru) = self.pair("slack")
        d = self.dm(su, ru)
        self.assertEqual([a["status"] for a in d[0]["attempts"]], [200])
        self.dm(su, ru)                         # a second message: the cooldown holds
        self.dm(ru, su)                         # the synced person's own reply: sender on
        self.assertIn("event inbox: 3 pending", self.ps("db", "stats").out)
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        self.assertIn("events: 3 read, 1 auto-prompts queued", r.out)
        self.assertEqual(len(self.prompts_to(su)), 1)
        self.assertEqual(self.prompts_to(ru), [])
        ex = self.ps("explain", "slack:" + su)
        self.assertRegex(ex.out, r"queued by the message event slack:D1\w+/\d+\.\d+ at "
                                 r"\d{4}-\d\d-\d\dT")
        r = self.ps("reconcile")
        self.assertNotIn("auto-prompts queued", r.out)       # nothing left to read
        self.assertEqual(len(self.prompts_to(su)), 1)
        # no message text in the log, the store or the database's files
        dms = self.fake.get("/_control/dms")
        log = self.serve.log()
        with open(os.path.join(self.dir, "db", "data.mdb"), "rb") as f:
            data = f.read()
        for m in dms:
            self.assertNotIn(m["text"], log)
            self.assertNotIn(m["text"].encode(), data)
        self.assertNotIn(SECRET, log)
        self.assertRc(self.ps("db", "verify"), 0)

    def test_a_retry_and_a_replay_count_once(self):
        (sender, su), (rcpt, ru) = self.pair("slack")
        # the answer is lost on the way back twice: Slack retries with a new signature
        d = self.dm(su, ru, lose_answers=2)
        at = d[0]["attempts"]
        self.assertEqual([a["reason"] for a in at], ["http_timeout", "http_timeout", None])
        self.assertEqual(at[1]["headers"], {"X-Slack-Retry-Num": "1",
                                            "X-Slack-Retry-Reason": "http_timeout"})
        self.assertEqual(self.fake.control({"op": "replay", "delivery": d[0]["id"]})["status"],
                         200)
        st = self.ps("db", "stats").out
        self.assertIn("event inbox: 1 pending", st)
        self.assertRegex(st, r"slack.duplicates\s+3")
        self.assertRegex(self.serve.log(), r"POST /events/slack 200 .*retry 2.*duplicate")
        r = self.ps("reconcile")
        self.assertIn("events: 1 read, 1 auto-prompts queued", r.out)
        self.assertEqual(len(self.prompts_to(su)), 1)

    def test_forged_stale_and_oversized_are_refused_without_a_trace(self):
        (sender, su), (rcpt, ru) = self.pair("slack")
        before = self.stats()
        forged = self.dm(su, ru, forge=True, no_retry=True)
        stale = self.dm(su, ru, age=360, no_retry=True)
        self.assertEqual(forged[0]["attempts"][0]["status"], 401)
        self.assertEqual(stale[0]["attempts"][0]["status"], 401)
        ts = str(int(time.time()))
        big = b'{"type":"event_callback","pad":"' + b"x" * (300 << 10) + b'"}'
        sig = "v0=" + __import__("hmac").new(SECRET.encode(), b"v0:" + ts.encode() + b":" + big,
                                             "sha256").hexdigest()
        st, _ = self.post("slack", big, {"X-Slack-Request-Timestamp": ts,
                                         "X-Slack-Signature": sig,
                                         "Content-Type": "application/json"})
        self.assertEqual(st, 413)
        st, _ = self.post("slack", b'{"type":"event_callback"}', {})
        self.assertEqual(st, 401)
        self.assertEqual(self.stats(), before)
        log = self.serve.log()
        self.assertIn("bad signature", log)
        self.assertRegex(log, r"timestamp 36\d s from now")
        r = self.ps("reconcile")
        self.assertNotIn("auto-prompts queued", r.out)
        self.assertEqual(self.prompts_to(su), [])

    def test_signed_by_slacks_worked_example(self):
        """The sheet's test vector: serve accepts its signature at its time (then finds no
        JSON object: 400), and refuses the same request a minute later."""
        body = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
                b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
                b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
                b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id="
                b"398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
        hdr = {"X-Slack-Request-Timestamp": "1531420618", "X-Slack-Signature":
               "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"}
        self.serve.stop()
        for now, want in (("1531420618", 400), ("1531420919", 401)):
            serve = Serve(self.cfg, self.dir, self.port, env={"PEOPLESYNC_NOW": now})
            try:
                self.serve = serve
                self.assertEqual(self.post("slack", body, hdr)[0], want, serve.log())
            finally:
                serve.stop()

    def test_url_verification_rate_limits_and_ignored_messages(self):
        with open(os.path.join(os.path.dirname(__file__), "..", "data", "fixtures", "events",
                               "slack_url_verification.json")) as f:
            env = json.load(f)
        d = self.fake.control({"op": "slack_event", "envelope": env})
        self.wait_delivered([d["delivery"]])
        with open(os.path.join(os.path.dirname(__file__), "..", "data", "fixtures", "events",
                               "slack_app_rate_limited.json")) as f:
            rl = json.load(f)
        d2 = self.fake.control({"op": "slack_event", "envelope": rl})
        self.wait_delivered([d2["delivery"]])
        log = self.serve.log()
        self.assertIn("url_verification answered", log)
        self.assertIn("app_rate_limited for team T123456", log)
        (sender, su), (rcpt, ru) = self.pair("slack")
        for extra in ({"subtype": "message_changed", "hidden": True},
                      {"subtype": "message_deleted"}, {"bot_id": "B01", "subtype": "bot_message"},
                      {"channel_type": "channel"}):
            self.dm(su, ru, event_extra=extra)
        st = self.ps("db", "stats").out
        self.assertIn("event inbox: 0 pending", st)
        self.assertRegex(st, r"slack.rate_limited\s+1")
        r = self.ps("reconcile")
        self.assertEqual(self.prompts_to(su), [])
        metrics = self.metrics()
        self.assertRegex(metrics, r'peoplesync_events_rate_limited\{platform="slack"\} 1')
        self.assertRegex(metrics, r'peoplesync_events_received\{platform="slack"\} 0')

    def metrics(self):
        with open(self.metrics_file) as f:
            return f.read()

    def test_kill_9_right_after_the_2xx_loses_nothing(self):
        (sender, su), (rcpt, ru) = self.pair("slack")
        d = self.dm(su, ru, no_retry=True)
        self.assertEqual(d[0]["attempts"][0]["status"], 200)
        self.serve.stop(signal.SIGKILL)
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        self.assertIn("1 auto-prompts queued", r.out)
        self.assertEqual(len(self.prompts_to(su)), 1)
        self.assertRc(self.ps("db", "verify"), 0)

    def test_serve_down_the_retry_delivers_once(self):
        (sender, su), (rcpt, ru) = self.pair("slack")
        self.serve.stop()
        self.fake.control({"op": "events_config", "config": {"slack": {
            "retry_delays": [1.5, 1.5, 1.5]}}})
        ids = self.fake.control({"op": "send_dm", "platform": "slack", "from": su,
                                 "to": ru})["deliveries"]
        self.serve = Serve(self.cfg, self.dir, self.port)       # back before the retry
        d = self.wait_delivered(ids)
        self.assertEqual([a["reason"] for a in d[0]["attempts"]], ["connection_failed", None])
        self.assertEqual(d[0]["attempts"][1]["headers"]["X-Slack-Retry-Reason"],
                         "connection_failed")
        r = self.ps("reconcile")
        self.assertIn("1 auto-prompts queued", r.out)
        self.assertEqual(len(self.prompts_to(su)), 1)
