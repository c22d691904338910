"""End-to-end: the event subscriptions `reconcile` keeps (Graph change-notification
subscriptions, Webex webhooks) and the catch-up that recovers direct messages sent while
`serve` was down, against the fakes (tests/fakes/fake/graphsubs.py, webhooks.py,
history.py).

Graph: one subscription per synced person, created through the validation handshake,
renewed before it expires, recreated after Graph removed it, deleted when the person
leaves; a handshake that fails is a platform failure (exit 69) that stops nothing else.
Webex: a webhook per synced person made with their own token, re-activated after Webex
disabled it, deleted when they leave. Catch-up: a DM sent while nothing listened prompts
once, and a DM that came both by event and by catch-up prompts once."""
import http.server
import json
import os
import re
import threading
import time
import urllib.parse

from tests.e2e.harness import E2E, people_jsonl, run
from tests.e2e.test_serve import Browser, Serve, ServeCase, free_port, serve_config


def wait_deliveries(case, ids, timeout=20):
    """Until the fake's deliveries ids are done; each answered 2xx at its first attempt."""
    ds = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        ds = [d for d in case.fake.get("/_control/deliveries") if d["id"] in ids]
        if ds and all(d["done"] for d in ds):
            break
        time.sleep(0.05)
    for d in ds:
        case.assertIn([a["status"] for a in d["attempts"]], ([200], [202]), d)
    return ds


def auto_sync(case, public_url=None):
    """Slack auto-sync on, platforms in case.order (the first one's primaries are synced at
    once), public_url replaced when given; then a reconcile makes them so."""
    with open(case.cfg) as f:
        text = f.read()
    if public_url:
        text = re.sub(r'public_url = "[^"]*";', 'public_url = "%s";' % public_url, text)
    text = text.replace('page_limit = 200;', 'page_limit = 200; auto_sync = true;', 1)
    text = text.replace('"corp.com") ); };', '"corp.com") ); '
                        'platform_order = [%s]; };' % case.order, 1)
    with open(case.cfg, "w") as f:
        f.write(text)
    case.assertRc(case.ps("reconcile", "--no-prompts"), 0)


def teams_pair(cfg):
    """The Teams ids of an off person and of an on one (each with an active account)."""
    people = people_jsonl(cfg)

    def teams(p):
        return next((a["user_id"] for a in p["accounts"]
                     if a["platform"] == "teams" and a["active"]), None)
    off = next(teams(p) for p in people if p["status"] == "off" and p["active"] and teams(p))
    on = next(teams(p) for p in people if p["status"] == "on" and teams(p))
    return off, on


class Endpoint:
    """A stand-in for serve's /events/teams while serve is not the point: it answers
    Graph's validation handshake (or refuses it, refuse = True) and keeps what it got."""

    def __init__(self):
        self.refuse = False
        self.got = []
        self.ctypes = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                outer.got.append((self.path, body))
                outer.ctypes.append(self.headers.get("Content-Type"))
                tok = q.get("validationToken", [None])[0]
                out = (b"nope" if outer.refuse else tok.encode()) if tok else b""
                self.send_response(200 if tok else 202)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


class GraphSubscriptions(E2E):
    """Slack + Teams, Slack auto-sync on: the Teams primaries are synced (status on) and
    each gets a subscription on /users/{id}/chats/getAllMessages."""
    org_args = dict(people=30, seed=11, platforms=("slack", "teams"))
    platforms = ("slack", "teams")
    order = '"teams", "slack"'
    catchup_hours = 0

    def setUp(self):
        self.ep = Endpoint()
        self.cfg_extra = 'token_key_file = "token.key";\nevents = { catchup_hours = %d; subscriptions = true; };\n' \
            % self.catchup_hours
        super().setUp()
        with open(os.path.join(self.dir, "token.key"), "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        os.chmod(os.path.join(self.dir, "token.key"), 0o600)
        auto_sync(self, 'http://127.0.0.1:%d/' % self.ep.port)

    def tearDown(self):
        self.ep.stop()
        super().tearDown()

    def synced_teams_users(self):
        out = set()
        for p in people_jsonl(self.cfg):
            if p["status"] == "on" and p["active"]:
                out |= {a["user_id"] for a in p["accounts"]
                        if a["platform"] == "teams" and a["active"]}
        return out

    def subs(self):
        return {s["user"]: s for s in self.fake.get("/_control/subscriptions")}

    def sub_requests(self, method=None):
        return [r for r in self.fake.requests() if (r["endpoint"] or "").startswith(
            "subscriptions") and (method is None or r["method"] == method)]

    def later(self, minutes):
        return {"PEOPLESYNC_NOW": str(int(time.time()) + minutes * 60)}

    def test_created_renewed_recreated_and_deleted(self):
        r = self.ps("-v", "reconcile", "--no-prompts")
        self.assertRc(r, 0)
        users = self.synced_teams_users()
        self.assertGreater(len(users), 2)
        subs = self.subs()
        self.assertEqual(set(subs), users)
        base = "http://127.0.0.1:%d/events/teams" % self.ep.port      # no doubled /
        for s in subs.values():
            self.assertEqual(s["resource"], "/users/%s/chats/getAllMessages" % s["user"])
            self.assertEqual(s["notificationUrl"], base)
            self.assertEqual(s["lifecycleNotificationUrl"], base)
            self.assertEqual(s["changeType"], "created")
        self.assertTrue(all(v["ok"] for v in self.fake.get("/_control/validations")))
        self.assertIn("%d created" % len(users), r.err)
        # the clientState of each is secret: in neither the store, nor a log, nor `show`
        states = [json.loads(b)["clientState"] for p, b in self.ep.got if b] + \
            [json.loads(r2["body"])["clientState"] for r2 in self.sub_requests("POST")]
        self.assertTrue(states and all(len(c) == 43 for c in states))
        with open(os.path.join(self.dir, "db", "data.mdb"), "rb") as f:
            data = f.read()
        for c in states:
            self.assertNotIn(c.encode(), data)
            self.assertNotIn(c, r.err + r.out)
        st = self.ps("db", "stats")
        self.assertIn("subscriptions  teams %d, active %d" % (len(users), len(users)), st.out)
        self.assertRc(self.ps("db", "verify"), 0)
        one = sorted(users)[0]
        shown = self.ps("show", "teams:" + one)
        self.assertIn("subscriptions:\n  teams  %s  /users/%s/chats/getAllMessages  active, "
                      "expires " % (subs[one]["id"], one), shown.out)

        # a second run changes nothing: no call to /subscriptions
        before = len(self.sub_requests())
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        self.assertEqual(len(self.sub_requests()), before)

        # 25 minutes on, every subscription has less than 40 minutes left: renewed
        r = self.ps("-v", "reconcile", "--no-prompts", env=self.later(25))
        self.assertRc(r, 0)
        self.assertEqual(len(self.sub_requests("PATCH")), len(users))
        self.assertTrue(all(s.get("renewed") == 1 for s in self.subs().values()))
        self.assertIn("%d renewed" % len(users), r.err)

        # Graph removes one without a word: at its next renewal (404) it is made again
        gone = subs[one]["id"]
        self.fake.control({"op": "subscription_lifecycle", "id": gone, "silent": True})
        self.assertNotIn(one, self.subs())
        r = self.ps("-v", "reconcile", "--no-prompts", env=self.later(50))
        self.assertRc(r, 0)
        now = self.subs()
        self.assertEqual(set(now), users)
        self.assertNotEqual(now[one]["id"], gone)
        self.assertIn("1 recreated", r.err)
        self.assertNotIn(gone, self.ps("show", "teams:" + one).out)

        # the person leaves: their subscription is deleted
        self.fake.control({"op": "deactivate", "platform": "teams", "user_id": one})
        r = self.ps("-v", "reconcile", "--no-prompts", env=self.later(50))
        self.assertRc(r, 0)
        self.assertNotIn(one, self.subs())
        self.assertIn("1 deleted", r.err)
        self.assertEqual(len(self.sub_requests("DELETE")), 1)
        self.assertRc(self.ps("db", "verify"), 0)

    def test_an_expired_subscription_is_recreated(self):
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        first = {u: s["id"] for u, s in self.subs().items()}
        # no run for two hours: every one expired (Graph deleted them); all made again
        for sid in first.values():
            self.fake.control({"op": "subscription_expire", "id": sid, "seconds": 0})
        r = self.ps("-v", "reconcile", "--no-prompts", env=self.later(120))
        self.assertRc(r, 0)
        self.assertIn("%d recreated" % len(first), r.err)
        self.assertEqual(len(self.sub_requests("PATCH")), 0)
        again = {u: s["id"] for u, s in self.subs().items()}
        self.assertEqual(set(again), set(first))
        self.assertFalse(set(again.values()) & set(first.values()))

    def test_a_refused_handshake_is_a_platform_failure_that_stops_nothing_else(self):
        self.ep.refuse = True
        r = self.ps("-v", "reconcile")
        self.assertRc(r, 69)
        self.assertIn("teams: POST subscriptions: HTTP 400, error ValidationError", r.err)
        self.assertEqual(self.subs(), {})
        self.assertFalse(any(v["ok"] for v in self.fake.get("/_control/validations")))
        # the roster run itself went through, and a later run with a working endpoint
        # makes them
        self.assertIn("teams: pulled", r.out + r.err)
        self.ep.refuse = False
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        self.assertEqual(set(self.subs()), self.synced_teams_users())

    def test_the_fake_graph_speaks_as_the_fixtures(self):
        """The handshake and a lifecycle notification the fake sends have the documented
        shape (tests/data/fixtures/events/, platform-events.md 4.3 and 4.6)."""
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        self.assertTrue(self.ep.got)
        path, body = self.ep.got[0]
        self.assertEqual(body, b"")
        self.assertTrue(self.ep.ctypes[0].startswith("text/plain"))
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        self.assertEqual(list(q), ["validationToken"])
        sub = next(iter(self.subs().values()))
        n = len(self.ep.got)
        out = self.fake.control({"op": "subscription_lifecycle", "id": sub["id"],
                                 "event": "reauthorizationRequired"})
        self.assertEqual(out["status"], 202)
        got = json.loads(self.ep.got[n][1])
        fixture = os.path.join(os.path.dirname(__file__), "..", "data", "fixtures", "events",
                               "graph_lifecycle_notification.json")
        with open(fixture) as f:
            want = json.load(f)
        self.assertEqual(set(got["value"][0]), set(want["value"][0]))
        self.assertEqual(got["value"][0]["lifecycleEvent"], "reauthorizationRequired")
        self.assertEqual(got["value"][0]["subscriptionId"], sub["id"])

    def test_turned_off_they_are_deleted_and_nothing_else_is_asked(self):
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        n = len(self.subs())
        self.assertGreater(n, 0)
        with open(self.cfg) as f:
            text = f.read()
        with open(self.cfg, "w") as f:
            f.write(text.replace("subscriptions = true;", "subscriptions = false;"))
        r = self.ps("-v", "reconcile", "--no-prompts")
        self.assertRc(r, 0)
        self.assertEqual(self.subs(), {})
        self.assertIn("%d deleted" % n, r.err)
        self.assertIn("subscriptions  teams 0,", self.ps("db", "stats").out)
        before = len(self.sub_requests())
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        self.assertEqual(len(self.sub_requests()), before)

    def test_graph_unavailable_is_exit_69(self):
        self.fake.control({"op": "fail", "spec": "teams:subscriptions:status=503"})
        r = self.ps("reconcile", "--no-prompts")
        self.assertRc(r, 69)
        self.assertIn("teams: POST subscriptions: HTTP 503", r.err)
        # one failure stops the platform's subscriptions for the run: not one per person
        self.assertEqual(r.err.count("POST subscriptions"), 1)


class GraphCatchUp(GraphSubscriptions):
    """Slack first: people with a Slack account stay off (Slack primaries sync themselves),
    Teams-only people are on; an off person DMs an on one on Teams while nothing listens."""
    order = '"slack", "teams"'
    catchup_hours = 2

    # GraphSubscriptions' tests are not run again here (None: not collected)
    test_created_renewed_recreated_and_deleted = test_an_expired_subscription_is_recreated = \
        test_a_refused_handshake_is_a_platform_failure_that_stops_nothing_else = \
        test_graph_unavailable_is_exit_69 = \
        test_turned_off_they_are_deleted_and_nothing_else_is_asked = \
        test_the_fake_graph_speaks_as_the_fixtures = None

    def test_a_dm_sent_while_nothing_listened_prompts_once(self):
        off, on = teams_pair(self.cfg)
        self.assertRc(self.ps("auto-prompt", "on"), 0)
        self.fake.control({"op": "send_dm", "platform": "teams", "from": off, "to": on})
        r = self.ps("-v", "reconcile")
        self.assertRc(r, 0)
        self.assertRegex(r.err, r"catch-up read \d+ people, 1 messages, 1 new")
        prompts = [m for m in self.fake.get("/_control/messages") if m.get("to") == off]
        self.assertEqual(len(prompts), 1)
        self.assertRc(self.ps("reconcile"), 0)
        prompts = [m for m in self.fake.get("/_control/messages") if m.get("to") == off]
        self.assertEqual(len(prompts), 1)


class SyncedCase(ServeCase):
    """serve on a free port over an org of self.platforms, auto-prompt on; sync() takes a
    person through Sync now (their user tokens stored: webhooks and the catch-up use them).
    """
    org_args = dict(people=30, seed=13, platforms=("webex",))
    platforms = ("webex",)
    serve_extra = "events = { catchup_hours = 2; subscriptions = true; };\n"

    def setUp(self):
        E2E.setUp(self)
        self.port = free_port()
        self.cfg = serve_config(self.dir, self.fake, self.org, self.port, self.platforms,
                                extra=self.serve_extra)
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        self.assertRc(self.ps("auto-prompt", "on"), 0)
        self.serve = Serve(self.cfg, self.dir, self.port)

    def candidates(self):
        return [t for t in self.org["truth"] if t["active"] and not t["guest"] and
                {a["platform"] for a in t["accounts"] if a["active"] and not a["guest"]} ==
                set(self.platforms)]

    def sync(self, t):
        b = Browser()
        st, url, h, page = b.open(self.link(t))
        self.assertEqual(st, 200, page)
        for p in self.platforms:
            url, page = self.connect(b, p, self.account(t, p)["user_id"])
        if "Choose your primary team" in page:
            p = self.platforms[0]
            st, url, h, page = self.choose(b, page, p, self.account(t, p)["team_id"])
        self.assertTrue(url.endswith("/done"), (url, page))
        self.assertEqual(self.person(t["email"])["status"], "on")

    def prompts_to(self, user):
        return [m for m in self.fake.get("/_control/messages") if m.get("to") == user]

    def send_dm(self, platform, frm, to):
        return self.fake.control({"op": "send_dm", "platform": platform, "from": frm,
                                  "to": to})


class WebexWebhooks(SyncedCase):
    def hooks(self):
        return self.fake.get("/_control/webhooks")

    def test_made_with_the_persons_token_reactivated_and_deleted(self):
        t = self.pick(0)
        me = self.account(t, "webex")["user_id"]
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        self.assertEqual(self.hooks(), [])                 # nobody synced yet
        self.sync(t)
        r = self.ps("-v", "reconcile", "--no-prompts")
        self.assertRc(r, 0)
        hooks = self.hooks()
        self.assertEqual(len(hooks), 1, hooks)
        w = hooks[0]
        self.assertEqual(w["owner"], me)                   # the person's token made it
        self.assertEqual((w["resource"], w["event"], w["filter"], w["status"]),
                         ("messages", "created", "roomType=direct", "active"))
        self.assertEqual(w["targetUrl"], self.serve.base + "/events/webex")
        shown = self.ps("show", t["email"]).out
        self.assertIn("  webex  %s  messages created, roomType=direct  active\n" % w["id"],
                      shown)
        # the secret Webex signs with is in neither the store nor a log
        posted = [json.loads(q["body"]) for q in self.fake.requests()
                  if q["endpoint"] == "webhooks" and q["method"] == "POST"]
        secret = posted[0]["secret"]
        self.assertEqual(len(secret), 43)
        with open(os.path.join(self.dir, "db", "data.mdb"), "rb") as f:
            self.assertNotIn(secret.encode(), f.read())
        self.assertNotIn(secret, r.err + r.out + self.serve.log() + shown)

        # a run with nothing to do only looks at it
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        self.assertEqual([h["id"] for h in self.hooks()], [w["id"]])

        # Webex disables it (failed deliveries): the next run re-activates it
        self.fake.control({"op": "webhook_disable", "id": w["id"]})
        r = self.ps("-v", "reconcile", "--no-prompts")
        self.assertRc(r, 0)
        self.assertIn("1 re-activated", r.err)
        again = self.hooks()
        self.assertEqual([(h["id"], h["status"]) for h in again], [(w["id"], "active")])
        puts = [json.loads(q["body"]) for q in self.fake.requests()
                if q["endpoint"] == "webhooks.put"]
        self.assertEqual(puts[-1]["secret"], secret)       # the same secret, derived again

        # they leave: their webhook goes (deleted with their own token)
        self.fake.control({"op": "deactivate", "platform": "webex", "user_id": me})
        r = self.ps("-v", "reconcile", "--no-prompts")
        self.assertRc(r, 0)
        self.assertEqual(self.hooks(), [])
        self.assertIn("1 deleted", r.err)
        self.assertNotIn("subscriptions:\n  webex", self.ps("show", t["email"]).out)
        self.assertRc(self.ps("db", "verify"), 0)

    def test_catch_up_prompts_a_dm_sent_while_nothing_listened_once(self):
        t = self.pick(0)
        self.sync(t)
        me = self.account(t, "webex")["user_id"]
        off = next(p for p in people_jsonl(self.cfg) if p["status"] == "off" and p["active"]
                   and any(a["platform"] == "webex" and a["active"] for a in p["accounts"]))
        sender = next(a["user_id"] for a in off["accounts"] if a["platform"] == "webex")
        self.send_dm("webex", sender, me)
        r = self.ps("-v", "reconcile")
        self.assertRc(r, 0)
        self.assertIn("catch-up read 1 people, 1 messages, 1 new", r.err)
        self.assertEqual(len(self.prompts_to(sender)), 1)
        r = self.ps("-v", "reconcile")
        self.assertRc(r, 0)
        self.assertIn("catch-up read 1 people, 1 messages, 0 new", r.err)
        self.assertEqual(len(self.prompts_to(sender)), 1)
        ex = self.ps("explain", "webex:" + sender)
        self.assertIn("webex:", ex.out)


class WebexEventAndCatchUp(SyncedCase):
    def test_a_dm_that_came_by_webhook_and_by_catch_up_prompts_once(self):
        t = self.pick(0)
        self.sync(t)
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)     # the webhook
        me = self.account(t, "webex")["user_id"]
        off = next(p for p in people_jsonl(self.cfg) if p["status"] == "off" and p["active"]
                   and any(a["platform"] == "webex" and a["active"] for a in p["accounts"]))
        sender = next(a["user_id"] for a in off["accounts"] if a["platform"] == "webex")
        out = self.send_dm("webex", sender, me)
        self.assertEqual(len(out["deliveries"]), 1)
        wait_deliveries(self, out["deliveries"])
        r = self.ps("-v", "reconcile")
        self.assertRc(r, 0)
        self.assertIn("catch-up read 1 people, 1 messages, 0 new", r.err)  # seen: the event
        self.assertEqual(len(self.prompts_to(sender)), 1)
        self.assertRc(self.ps("reconcile"), 0)
        self.assertEqual(len(self.prompts_to(sender)), 1)


class SlackCatchUp(SyncedCase):
    org_args = dict(people=30, seed=13, platforms=("slack",))
    platforms = ("slack",)

    def pair(self):
        t = self.pick(0)
        self.sync(t)
        me = self.account(t, "slack")["user_id"]
        off = next(p for p in people_jsonl(self.cfg) if p["status"] == "off" and p["active"]
                   and p["email"] != t["email"]
                   and any(a["platform"] == "slack" and a["active"] for a in p["accounts"]))
        return me, next(a["user_id"] for a in off["accounts"] if a["platform"] == "slack")

    def test_serve_down_the_catch_up_prompts_once(self):
        me, sender = self.pair()
        self.send_dm("slack", sender, me)          # no event: nothing listens
        self.send_dm("slack", me, sender)          # their own reply counts for nobody
        r = self.ps("-v", "reconcile")
        self.assertRc(r, 0)
        self.assertIn("catch-up read 1 people, 1 messages, 1 new", r.err)
        self.assertEqual(len(self.prompts_to(sender)), 1)
        self.assertRc(self.ps("reconcile"), 0)
        self.assertEqual(len(self.prompts_to(sender)), 1)
        calls = [q for q in self.fake.requests() if q["endpoint"] == "conversations.history"
                 and "oldest" in q["query"]]
        self.assertTrue(calls)
        self.assertTrue(all(q["token_sha256"] != self.fake_bot_fp() for q in calls))

    def fake_bot_fp(self):
        import hashlib
        return hashlib.sha256(self.org["secrets"]["slack_bot_token"].encode()).hexdigest()[:8]

    def test_a_dm_that_came_by_event_and_by_catch_up_prompts_once(self):
        me, sender = self.pair()
        with open(self.cfg) as f:
            text = f.read()
        secret = "8f742231b10e8888abcd99yyyzzz85a5"
        with open(os.path.join(self.dir, "slack.signing"), "w") as f:
            f.write(secret + "\n")
        os.chmod(os.path.join(self.dir, "slack.signing"), 0o600)
        text = text.replace('page_limit = 200;', 'page_limit = 200; '
                            'signing_secret_file = "slack.signing";', 1)
        with open(self.cfg, "w") as f:
            f.write(text)
        self.serve.stop()
        self.serve = Serve(self.cfg, self.dir, self.port)
        self.fake.control({"op": "events_config", "config": {"slack": {
            "url": self.serve.base + "/events/slack", "signing_secret": secret,
            "installed": [me]}}})
        out = self.fake.control({"op": "send_dm", "platform": "slack", "from": sender,
                                 "to": me})
        wait_deliveries(self, out["deliveries"])
        r = self.ps("-v", "reconcile")
        self.assertRc(r, 0)
        self.assertIn("catch-up read 1 people, 1 messages, 0 new", r.err)  # seen: the event
        self.assertEqual(len(self.prompts_to(sender)), 1)


class GraphThroughServe(E2E):
    """The real serve at public_url: Graph's handshake answered by /events/teams, its
    lifecycle notifications marking the records, reconcile acting on the marks at once."""
    org_args = dict(people=30, seed=11, platforms=("slack", "teams"))
    platforms = ("slack", "teams")
    order = '"teams", "slack"'

    def setUp(self):
        super().setUp()
        self.port = free_port()
        self.cfg = serve_config(self.dir, self.fake, self.org, self.port, self.platforms,
                                extra="events = { catchup_hours = 0; subscriptions = true; };\n")
        auto_sync(self)
        self.serve = Serve(self.cfg, self.dir, self.port)

    def tearDown(self):
        self.serve.stop()
        super().tearDown()

    def subs(self):
        return {s["user"]: s for s in self.fake.get("/_control/subscriptions")}

    def test_lifecycle_notifications_are_acted_upon_by_the_next_run(self):
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        subs = self.subs()
        self.assertTrue(subs)
        self.assertTrue(all(v["ok"] for v in self.fake.get("/_control/validations")))
        one, other = sorted(subs)[:2]
        # Graph removed one and said so: serve marks it, the next run makes a new one
        out = self.fake.control({"op": "subscription_lifecycle", "id": subs[one]["id"],
                                 "event": "subscriptionRemoved"})
        self.assertIn(out["status"], (200, 202))
        self.assertIn("  removed", self.ps("show", "teams:" + one).out)
        # Graph asks for reauthorization of another: renewed by the next run
        self.fake.control({"op": "subscription_lifecycle", "id": subs[other]["id"],
                           "event": "reauthorizationRequired"})
        self.assertIn("  needs-renewal", self.ps("show", "teams:" + other).out)
        r = self.ps("-v", "reconcile", "--no-prompts")
        self.assertRc(r, 0)
        self.assertIn("1 renewed, 1 recreated", r.err)
        now = self.subs()
        self.assertEqual(set(now), set(subs))
        self.assertNotEqual(now[one]["id"], subs[one]["id"])
        self.assertEqual(now[other].get("renewed"), 1)
        self.assertNotIn("removed", self.ps("show", "teams:" + one).out)
        self.assertRc(self.ps("db", "verify"), 0)


class GraphEventAndCatchUp(GraphThroughServe):
    """Slack first: people with a Slack account stay off, Teams-only people are on."""
    order = '"slack", "teams"'
    test_lifecycle_notifications_are_acted_upon_by_the_next_run = None

    def test_a_dm_that_came_by_notification_and_by_catch_up_prompts_once(self):
        off, on = teams_pair(self.cfg)      # off: a Slack primary with a Teams account
        with open(self.cfg) as f:
            text = f.read()
        with open(self.cfg, "w") as f:
            f.write(text.replace("catchup_hours = 0;", "catchup_hours = 2;"))
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)     # the subscriptions
        self.assertRc(self.ps("auto-prompt", "on"), 0)
        out = self.fake.control({"op": "send_dm", "platform": "teams", "from": off,
                                 "to": on})
        self.assertTrue(out["deliveries"])
        wait_deliveries(self, out["deliveries"])
        r = self.ps("-v", "reconcile")
        self.assertRc(r, 0)
        self.assertRegex(r.err, r"catch-up read \d+ people, 1 messages, 0 new")
        prompts = [m for m in self.fake.get("/_control/messages") if m.get("to") == off]
        self.assertEqual(len(prompts), 1)
