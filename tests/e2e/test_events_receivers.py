"""End-to-end: the Graph and Webex receivers of `serve` on what needs no subscription of
ours: Graph's validation handshake is echoed; notifications and webhook deliveries naming a
subscription or webhook we never made, or carrying no signature, are refused and leave no
trace in the store; bodies over the cap are 413; the wrong methods are 405."""
import json
import os
import urllib.parse

from tests.e2e.test_events_slack import EventsCase

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data",
                    "fixtures", "events")


def fixture(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


class Receivers(EventsCase):
    def test_graph_validation_handshake_is_echoed(self):
        tok = "Validation: Testing client application reachability for subscription Request-Id: 1f2e"
        req = "teams?validationToken=" + urllib.parse.quote(tok)
        st, body = self.post(req, b"", {"Content-Type": "text/plain; charset=utf-8"})
        self.assertEqual((st, body.decode()), (200, tok))
        self.assertIn("validation handshake answered", self.serve.log())

    def test_unknown_subscriptions_webhooks_and_unsigned_are_refused_without_a_trace(self):
        before = self.stats()
        # Graph: the documentation's samples name subscriptions that are not ours
        for name in ("graph_change_notification_chatmessage.json",
                     "graph_lifecycle_notification.json"):
            st, _ = self.post("teams", fixture(name), {"Content-Type": "application/json"})
            self.assertEqual(st, 403, name)
        st, _ = self.post("teams", b'{"value": 3}', {})
        self.assertEqual(st, 403)
        # Webex: an unknown webhook, signed or not; a body that is not a delivery
        body = fixture("webex_webhook_messages_created.json")
        st, _ = self.post("webex", body, {"X-Spark-Signature": "0" * 40})
        self.assertEqual(st, 403)
        st, _ = self.post("webex", body, {})
        self.assertEqual(st, 403)
        st, _ = self.post("webex", b"[]", {"X-Spark-Signature": "0" * 40})
        self.assertEqual(st, 401)
        # over the cap, on each platform
        big = json.dumps({"value": [], "pad": "x" * (300 << 10)}).encode()
        for path in ("teams", "webex", "slack"):
            self.assertEqual(self.post(path, big, {})[0], 413, path)
        self.assertEqual(self.stats(), before)
        log = self.serve.log()
        self.assertIn("unknown subscription", log)
        self.assertIn("unknown webhook", log)

    def test_only_post(self):
        import urllib.request
        import urllib.error
        for path in ("slack", "teams", "webex"):
            try:
                urllib.request.urlopen(self.url + path, timeout=5)
                self.fail("GET accepted")
            except urllib.error.HTTPError as e:
                self.assertEqual(e.code, 405, path)


class ReceiverFuzz(EventsCase):
    """Property: whatever a signed Slack body or an unsigned Graph/Webex body holds (the
    fixtures with values replaced, keys dropped, types changed, bytes cut), the sanitized
    serve answers 200/400 (Slack) or 401/403 (others), never crashes, and records at most
    well-formed direct messages."""

    def mutations(self, doc, rnd, n):
        vals = [None, 0, -1, 1e308, "", "x" * 300, [], {}, True, "D1/../x", "U1\u0000",
                "\ud7ff", 2 ** 63]

        def walk(o):
            if isinstance(o, dict):
                for k in list(o):
                    r = rnd.random()
                    if r < 0.15:
                        del o[k]
                    elif r < 0.35:
                        o[k] = rnd.choice(vals)
                    else:
                        walk(o[k])
            elif isinstance(o, list):
                for i in range(len(o)):
                    walk(o[i])
        for _ in range(n):
            d = json.loads(json.dumps(doc))
            walk(d)
            body = json.dumps(d).encode()
            if rnd.random() < 0.1:
                body = body[:rnd.randrange(len(body) + 1)]
            yield body

    def test_mutated_bodies(self):
        import hmac
        import random
        import time
        from tests.e2e.test_events_slack import SECRET
        rnd = random.Random(11)
        ev = json.loads(fixture("slack_message_im_event_callback.json"))
        ev["authorizations"] = [{"user_id": "U0RCPT", "team_id": "T061EG9R6"}]
        for body in self.mutations(ev, rnd, 150):
            ts = str(int(time.time()))
            sig = "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body,
                                   "sha256").hexdigest()
            st, _ = self.post("slack", body, {"X-Slack-Request-Timestamp": ts,
                                              "X-Slack-Signature": sig})
            self.assertIn(st, (200, 400), body[:200])
        for name, path in (("graph_change_notification_chatmessage.json", "teams"),
                           ("graph_lifecycle_notification.json", "teams"),
                           ("webex_webhook_messages_created.json", "webex")):
            for body in self.mutations(json.loads(fixture(name)), rnd, 60):
                st, _ = self.post(path, body, {"X-Spark-Signature": "ab" * 20})
                self.assertIn(st, (401, 403), body[:200])
        self.assertIsNone(self.serve.proc.poll(), self.serve.log()[-2000:])
        # only the well-formed direct messages were recorded, each once
        pend = int(__import__("re").search(r"event inbox: (\d+) pending",
                                           self.ps("db", "stats").out).group(1))
        self.assertLessEqual(pend, 150)
