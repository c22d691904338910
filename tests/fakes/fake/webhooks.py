"""webhooks.py -- the fake Webex's /webhooks: create (200, status active), list and get
(the token owner's own), PUT (name and targetUrl required; status may only go back to
active, which clears the failure count), DELETE (204).  A webhook belongs to the person
whose token created it.  They live in S.events.webhooks (events.py posts deliveries to
them and disables one after repeated failures): id -> {id, name, targetUrl, resource,
event, filter, secret, status, owner, failures, ...}.  Facts: platform-events.md 3.1-3.4."""

import json
import uuid

import genorg
from .core import jdump, now_iso_ms, webex_error, WEBEX_CT, Resp


class WebexWebhooks:
    def __init__(self, S):
        self.S = S

    def table(self):
        return self.S.events.webhooks

    def owner(self, ctx):
        return ctx.token_user or self.S.org["webex"]["service_person"]["id"]

    def body(self, ctx):
        try:
            d = json.loads(ctx.body.decode("utf-8") or "{}")
            return d if isinstance(d, dict) else None
        except (ValueError, UnicodeDecodeError):
            return None

    def view(self, w):
        return {k: v for k, v in w.items() if k not in ("secret", "owner", "failures")}

    def mine(self, ctx, wid):
        with self.S.events.lock:
            w = self.table().get(wid)
        return w if w is not None and w["owner"] == self.owner(ctx) else None

    def missing(self):
        return webex_error(404, "The requested resource could not be found.")

    def webhooks(self, ctx, arg, h):
        d = self.body(ctx)
        if d is None:
            return webex_error(400, "Invalid JSON in request body.")
        for k in ("name", "targetUrl", "resource", "event"):
            if not isinstance(d.get(k), str) or not d[k]:
                return webex_error(400, "%s is required." % k)
        if d["resource"] not in ("messages", "memberships", "rooms", "all") or \
                d["event"] not in ("created", "updated", "deleted", "all"):
            return webex_error(400, "Invalid resource or event.")
        wid = genorg.webex_id("WEBHOOK", str(uuid.uuid4()))
        me = self.owner(ctx)
        w = {"id": wid, "name": d["name"], "targetUrl": d["targetUrl"],
             "resource": d["resource"], "event": d["event"], "filter": d.get("filter"),
             "secret": d.get("secret"), "status": "active", "created": now_iso_ms(),
             "orgId": self.S.org["webex"]["org_id"], "createdBy": me,
             "appId": genorg.webex_id("APPLICATION", "peoplesync"), "ownedBy": "creator",
             "owner": me, "failures": 0}
        with self.S.events.lock:
            self.table()[wid] = w
        return Resp(200, jdump(self.view(w)), WEBEX_CT)

    def webhooks_list(self, ctx, arg, h):
        me = self.owner(ctx)
        with self.S.events.lock:
            items = [self.view(w) for w in self.table().values() if w["owner"] == me]
        return Resp(200, jdump({"items": items}), WEBEX_CT)

    def webhooks_get(self, ctx, arg, h):
        w = self.mine(ctx, arg)
        return Resp(200, jdump(self.view(w)), WEBEX_CT) if w else self.missing()

    def webhooks_put(self, ctx, arg, h):
        w = self.mine(ctx, arg)
        if w is None:
            return self.missing()
        d = self.body(ctx)
        if d is None or not d.get("name") or not d.get("targetUrl"):
            return webex_error(400, "name and targetUrl are required.")
        if d.get("status") not in (None, "active"):
            return webex_error(400, "status can only be set to active.")
        with self.S.events.lock:
            w["name"], w["targetUrl"] = d["name"], d["targetUrl"]
            if "secret" in d:
                w["secret"] = d["secret"]
            if d.get("status") == "active":
                w["status"], w["failures"] = "active", 0
                w["reactivated"] = w.get("reactivated", 0) + 1
        return Resp(200, jdump(self.view(w)), WEBEX_CT)

    def webhooks_delete(self, ctx, arg, h):
        if self.mine(ctx, arg) is None:
            return self.missing()
        with self.S.events.lock:
            self.table().pop(arg, None)
        return Resp(204, b"", WEBEX_CT)

    # control --------------------------------------------------------------------------
    def disable(self, d):
        """Webex's auto-disable after failed deliveries, at once."""
        with self.S.events.lock:
            w = self.table().get(d["id"])
            if w is None:
                raise KeyError("no webhook %r" % d["id"])
            w["status"] = "inactive"
        return {"webhook": self.view(w)}

    def listing(self):
        with self.S.events.lock:
            return [dict(self.view(w), owner=w["owner"], failures=w.get("failures", 0))
                    for w in self.table().values()]
