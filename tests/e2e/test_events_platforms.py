"""End-to-end: Webex webhooks and Graph change notifications feed auto-prompt through the
real `serve` (POST /events/webex, /events/teams) and the next `reconcile`, with the
subscriptions `reconcile` itself made (tests/e2e/test_subscriptions.py's set-up).

Webex: an off person DMs a synced one: exactly one prompt; a replayed delivery, a second
message and a forged signature change nothing. Graph: the subscription is made through
serve's validation handshake; a notification (without resource data) is recorded with its
recipient, the sender found by reconcile in the recipient's one-on-one chats: one prompt;
a wrong clientState is refused without a trace; a lifecycle notification marks the
subscription, which the next run renews."""
import re

from tests.e2e.harness import people_jsonl
from tests.e2e.test_events_slack import Deliveries
from tests.e2e.test_subscriptions import SyncedCase


class PlatformEvents(Deliveries, SyncedCase):
    def stats(self):
        out = self.ps("db", "stats").out
        return "\n".join(l for l in out.splitlines() if not re.match(r"^(map|txn|last)", l))

    def dm(self, platform, frm, to, **kw):
        op = {"op": "send_dm", "platform": platform, "from": frm, "to": to, "no_retry": True}
        op.update(kw)
        return self.wait_delivered(self.fake.control(op)["deliveries"])

    def off_sender(self, platform, but=None):
        p = next(p for p in people_jsonl(self.cfg) if p["status"] == "off" and p["active"]
                 and p["email"] != but and any(a["platform"] == platform and a["active"]
                                               for a in p["accounts"]))
        return next(a["user_id"] for a in p["accounts"] if a["platform"] == platform)


class WebexEvents(PlatformEvents):
    def test_a_dm_to_a_synced_person_prompts_once(self):
        t = self.pick(0)
        self.sync(t)
        me = self.account(t, "webex")["user_id"]
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)     # the webhook is made
        sender = self.off_sender("webex", t["email"])
        before = self.stats()
        forged = self.dm("webex", sender, me, forge=True)
        self.assertEqual([a["status"] for a in forged[0]["attempts"]], [401])
        self.assertEqual(self.stats(), before)
        d = self.dm("webex", sender, me)
        self.assertEqual([a["status"] for a in d[0]["attempts"]], [200])
        self.assertEqual(self.fake.control({"op": "replay", "delivery": d[0]["id"]})["status"],
                         200)                      # a replay: verified, a duplicate
        self.dm("webex", sender, me)               # a second message: the cooldown holds
        self.dm("webex", me, sender)               # the owner's own reply: ignored
        st = self.ps("db", "stats").out
        self.assertRegex(st, r"webex.events\s+2")
        self.assertRegex(st, r"webex.duplicates\s+1")
        self.assertIn("owner's own message", self.serve.log())
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        self.assertEqual(len(self.prompts_to(sender)), 1)
        self.assertRc(self.ps("reconcile"), 0)
        self.assertEqual(len(self.prompts_to(sender)), 1)
        self.assertRegex(self.ps("explain", "webex:" + sender).out,
                         r"queued by the message event webex:\S+ at ")
        self.assertNotIn("webex hello", self.serve.log())


class GraphEvents(PlatformEvents):
    """Slack and Teams, Slack first and auto-sync: the Teams-only people are on (each gets
    a subscription), the others stay off."""
    org_args = dict(people=30, seed=11, platforms=("slack", "teams"))
    platforms = ("slack", "teams")

    def setUp(self):
        super().setUp()
        with open(self.cfg) as f:
            text = f.read()
        text = text.replace('page_limit = 200;', 'page_limit = 200; auto_sync = true;', 1)
        with open(self.cfg, "w") as f:
            f.write(text)
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)     # auto-sync: on
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)     # their subscriptions

    def pair(self):
        people = people_jsonl(self.cfg)

        def teams(p):
            return next((a["user_id"] for a in p["accounts"]
                         if a["platform"] == "teams" and a["active"]), None)
        on = next(teams(p) for p in people if p["status"] == "on" and teams(p))
        return self.off_sender("teams"), on

    def subs(self):
        return {s["user"]: s for s in self.fake.get("/_control/subscriptions")}

    def test_a_notification_prompts_the_sender_once(self):
        sender, me = self.pair()
        self.assertIn(me, self.subs())
        self.assertIn("validation handshake answered", self.serve.log())
        before = self.stats()
        wrong = self.dm("teams", sender, me, forge=True)
        self.assertEqual([a["status"] for a in wrong[0]["attempts"]], [403])
        self.assertEqual(self.stats(), before)
        self.assertIn("wrong clientState", self.serve.log())
        d = self.dm("teams", sender, me)
        self.assertEqual([a["status"] for a in d[0]["attempts"]], [202])
        self.assertIn("event inbox: 1 pending", self.ps("db", "stats").out)
        r = self.ps("reconcile")
        self.assertRc(r, 0)
        self.assertEqual(len(self.prompts_to(sender)), 1)
        self.fake.control({"op": "replay", "delivery": d[0]["id"]})
        self.assertRc(self.ps("reconcile"), 0)
        self.assertEqual(len(self.prompts_to(sender)), 1)
        self.assertRegex(self.ps("explain", "teams:" + sender).out,
                         r"queued by the message event teams:19:\S+/\d+ at ")

    def test_lifecycle_notification_marks_the_subscription(self):
        sender, me = self.pair()
        sid = self.subs()[me]["id"]
        r = self.fake.control({"op": "subscription_lifecycle", "id": sid,
                               "event": "reauthorizationRequired"})
        self.assertEqual(r["status"], 202)
        self.assertIn("needs-renewal", self.ps("show", "teams:" + me).out)
        r = self.ps("-v", "reconcile", "--no-prompts")
        self.assertRc(r, 0)
        self.assertIn("1 renewed", r.err)


class GraphEventsNoCatchUp(GraphEvents):
    """The same with the catch-up off (catchup_hours = 0): the sender is found by reconcile's
    own look-up in the recipient's one-on-one chats (reconcile/resolve.c)."""
    serve_extra = "events = { catchup_hours = 0; subscriptions = true; };\n"
    test_lifecycle_notification_marks_the_subscription = None

    def test_a_notification_prompts_the_sender_once(self):
        super().test_a_notification_prompts_the_sender_once()
        self.assertNotIn("catch-up read 1", self.ps("-v", "reconcile").err)
