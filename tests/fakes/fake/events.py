"""events.py -- the fakes' outgoing side: when a fake user sends a direct message (the
control op send_dm), each platform posts its event to the receiver the test configured
(op events_config), signed and retried the way the platform does (docs/platform-events.md):

  Slack  one event_callback per installed recipient (authorizations[0].user_id), signed
         with the app's signing secret (v0 HMAC-SHA256 of "v0:TS:BODY"); a late answer
         (> timeout, 3 s) or a non-2xx is retried with X-Slack-Retry-Num/-Reason after
         retry_delays (Slack: at once, ~1 min, ~5 min; tests shorten them).
  Webex  one POST per active webhook (messages/created) of the sender or the recipient,
         X-Spark-Signature = HMAC-SHA1 hex of the body with that webhook's secret; a webhook
         failing disable_after times in a row (Webex: 100 within 5 minutes) turns inactive.
  Graph  one change notification per subscription of the sender or the recipient, posted to
         its notificationUrl with its clientState, without resource data; a non-2xx or a late
         answer is retried (Graph: for up to 4 hours).

The webhooks and subscriptions are kept in S.events.webhooks / .subscriptions (ops
webhook_put, subscription_put, or the platforms' own endpoints). Every attempt is listed
by GET /_control/deliveries; every sent DM by GET /_control/dms. Message text is generated,
never a secret."""

import hashlib
import hmac
import http.client
import json
import secrets
import threading
import time
import urllib.parse
import uuid

import genorg
from .core import now_iso_ms

DEFAULTS = {
    "slack": {"url": None, "signing_secret": None, "installed": None, "timeout": 3.0,
              "retry_delays": [0.0, 60.0, 300.0], "app_id": "A0PEOPLESYNC"},
    "teams": {"timeout": 3.0, "retry_delays": [1.0, 5.0, 30.0]},
    "webex": {"timeout": 10.0, "retry_delays": [1.0, 5.0], "disable_after": 100},
}


def graph_now():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%07dZ" % int((t % 1) * 1e7)


def post(url, body, headers, timeout):
    """One POST; (status or None, reason, seconds). Reason as Slack names it."""
    u = urllib.parse.urlsplit(url)
    t0 = time.monotonic()
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        path = u.path + ("?" + u.query if u.query else "")
        conn.request("POST", path, body=body, headers=headers)
        r = conn.getresponse()
        r.read()
        status = r.status
        reason = None if 200 <= status < 300 else "http_error"
    except TimeoutError:
        status, reason = None, "http_timeout"
    except OSError:
        status, reason = None, "connection_failed"
    finally:
        conn.close()
    return status, reason, time.monotonic() - t0


class Events:
    def __init__(self, S):
        self.S = S
        self.lock = threading.Lock()
        self.cfg = json.loads(json.dumps(DEFAULTS))
        self.deliveries = []          # every delivery with its attempts
        self.dms = []                 # every DM a fake user sent
        self.webhooks = {}            # Webex: id -> webhook (with "secret", "owner")
        self.subscriptions = {}       # Graph: id -> subscription (with "clientState", "user")
        self.seq = 0

    # control -------------------------------------------------------------------------
    def configure(self, d):
        with self.lock:
            for plat, conf in d.items():
                if plat not in self.cfg or not isinstance(conf, dict):
                    raise ValueError("events_config: want {slack|teams|webex: {...}}")
                for k, v in conf.items():
                    if k not in self.cfg[plat] and k != "url":
                        raise ValueError("events_config: %s: unknown key %r" % (plat, k))
                    self.cfg[plat][k] = v
            return {"config": {p: {k: ("<set>" if "secret" in k and v else v)
                                   for k, v in c.items()} for p, c in self.cfg.items()}}

    def listing(self, what):
        with self.lock:
            src = self.deliveries if what == "deliveries" else self.dms
            return [{k: v for k, v in r.items() if not k.startswith("_")} for r in src]

    def webhook_put(self, d):
        """A Webex webhook as the fake keeps it (the subs side may create them through the
        API instead): id, targetUrl, secret, owner (person id), status, filter."""
        w = {"id": d.get("id") or "WH" + secrets.token_hex(8), "targetUrl": d["targetUrl"],
             "secret": d.get("secret"), "owner": d["owner"], "status": d.get("status", "active"),
             "resource": "messages", "event": "created",
             "filter": d.get("filter", "roomType=direct"), "failures": 0}
        with self.lock:
            self.webhooks[w["id"]] = w
        return {"webhook": {k: v for k, v in w.items() if k != "secret"}}

    def subscription_put(self, d):
        s = {"id": d.get("id") or "%s" % secrets.token_hex(16),
             "notificationUrl": d["notificationUrl"], "clientState": d.get("clientState"),
             "user": d["user"], "resource": "/users/%s/chats/getAllMessages" % d["user"],
             "expirationDateTime": d.get("expirationDateTime", "2099-01-01T00:00:00Z")}
        with self.lock:
            self.subscriptions[s["id"]] = s
        return {"subscription": {k: v for k, v in s.items() if k != "clientState"}}

    # a DM ----------------------------------------------------------------------------
    def send_dm(self, d):
        plat = d.get("platform")
        frm, to = str(d["from"]), str(d["to"])
        fn = {"slack": self.slack_dm, "webex": self.webex_dm, "teams": self.graph_dm}.get(plat)
        if fn is None:
            raise ValueError("send_dm: platform must be slack, teams or webex")
        with self.lock:
            self.seq += 1
            dm = {"platform": plat, "from": frm, "to": to, "seq": self.seq,
                  "text": d.get("text", "hello %d" % self.seq), "sent": now_iso_ms()}
            self.dms.append(dm)
        jobs = fn(dm, d)
        return {"dm": dm, "deliveries": [j["id"] for j in jobs]}

    def new_delivery(self, plat, target, body, extra):
        with self.lock:
            rec = {"id": "dl%d" % (len(self.deliveries) + 1), "platform": plat,
                   "url": target, "attempts": [], "done": False, "extra": extra}
            self.deliveries.append(rec)
        rec["_body"] = body
        return rec

    def run(self, rec, sign, delays, timeout, on_fail=None, lose=0):
        """Attempts with retries in a thread: sign(attempt, previous reason) -> headers.
        lose: that many first answers are lost on the way back (taken as timeouts)."""
        def go():
            reason = None
            for n in range(len(delays) + 1):
                if n:
                    time.sleep(delays[n - 1])
                headers = sign(n, reason)
                status, reason, secs = post(rec["url"], rec["_body"], headers, timeout)
                if n < lose:
                    status, reason = None, "http_timeout"
                with self.lock:
                    rec["attempts"].append({"n": n, "status": status, "reason": reason,
                                            "ms": round(secs * 1000, 1),
                                            "headers": {k: v for k, v in headers.items()
                                                        if k.startswith("X-Slack-Retry")}})
                if reason is None:
                    break
                if on_fail and on_fail():
                    break
            with self.lock:
                rec["done"] = True
        threading.Thread(target=go, daemon=True).start()

    def replay(self, d):
        """The same bytes, with the same signature headers, once more (an attacker's replay
        or a platform's duplicate delivery)."""
        with self.lock:
            rec = next(r for r in self.deliveries if r["id"] == d["delivery"])
        status, reason, secs = post(rec["url"], rec["_body"], rec["_headers"], 10)
        return {"status": status, "reason": reason}

    # Slack -----------------------------------------------------------------------------
    def slack_sign(self, secret, body, ts):
        base = b"v0:" + str(ts).encode() + b":" + body
        return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()

    def slack_channel(self, a, b):
        h = hashlib.sha1(("dm:%s:%s" % tuple(sorted((a, b)))).encode()).hexdigest().upper()
        return "D1" + h[:9]

    def slack_dm(self, dm, d):
        c = self.cfg["slack"]
        S = self.S
        team = S.org["slack"]["team_id"]
        ch = self.slack_channel(dm["from"], dm["to"])
        ts = S.slack_ts()
        dm.update(channel=ch, ts=ts)
        with S.lock:
            S.channel_msgs[ch].append({"type": "message", "user": dm["from"], "text": dm["text"],
                                       "ts": ts, "client_msg_id": secrets.token_hex(8)})
        inst = c.get("installed")
        if not c.get("url") or (inst is not None and dm["to"] not in inst):
            return []
        ev = {"type": "message", "channel": ch, "user": dm["from"], "text": dm["text"],
              "ts": ts, "event_ts": ts, "channel_type": "im", "team": team}
        ev.update(d.get("event_extra") or {})
        env = {"token": "legacy-verification-token", "team_id": team,
               "api_app_id": c["app_id"], "event": ev, "type": "event_callback",
               "event_id": "Ev" + secrets.token_hex(5).upper(), "event_time": int(float(ts)),
               "authorizations": [{"enterprise_id": None, "team_id": team,
                                   "user_id": dm["to"], "is_bot": False,
                                   "is_enterprise_install": False}],
               "is_ext_shared_channel": False,
               "event_context": "4-%s" % secrets.token_urlsafe(12)}
        return [self.slack_post(env, d)]

    def slack_post(self, env, d):
        """Posts an envelope (event_callback, app_rate_limited...) signed; d may carry
        age (seconds the timestamp is shifted back) and forge (a wrong secret)."""
        c = self.cfg["slack"]
        body = json.dumps(env).encode()
        rec = self.new_delivery("slack", c["url"], body, {"event_id": env.get("event_id")})
        secret = "not-the-secret" if d.get("forge") else c["signing_secret"]

        def sign(n, reason):
            ts = int(time.time()) - int(d.get("age", 0))
            h = {"Content-Type": "application/json",
                 "X-Slack-Request-Timestamp": str(ts),
                 "X-Slack-Signature": self.slack_sign(secret, body, ts)}
            if n:
                h["X-Slack-Retry-Num"] = str(n)
                h["X-Slack-Retry-Reason"] = reason or "unknown_error"
            rec.setdefault("_headers", h)
            return h
        self.run(rec, sign, list(c["retry_delays"])[:3] if not d.get("no_retry") else [],
                 float(c["timeout"]), lose=int(d.get("lose_answers", 0)))
        return rec

    def slack_raw(self, d):
        """A signed envelope the test gives (url_verification, app_rate_limited)."""
        return {"delivery": self.slack_post(d["envelope"], d)["id"]}

    # Webex ------------------------------------------------------------------------------
    def webex_dm(self, dm, d):
        """One delivery per active messages webhook of the sender or the recipient."""
        S = self.S
        a, b = sorted((dm["from"], dm["to"]))
        dm.setdefault("room", genorg.webex_id("ROOM", str(uuid.uuid5(
            uuid.NAMESPACE_URL, "dmroom:%s:%s" % (a, b)))))
        dm.setdefault("message_id", genorg.webex_id("MESSAGE", str(uuid.uuid5(
            uuid.NAMESPACE_URL, "dm:%d" % int(dm["seq"])))))
        dm.setdefault("created", dm["sent"])
        c = self.cfg["webex"]
        with self.lock:
            hooks = [w for w in self.webhooks.values() if w["status"] == "active"
                     and w["owner"] in (dm["from"], dm["to"])
                     and w.get("resource") in ("messages", "all")]
        out = []
        for w in hooks:
            env = {"id": w["id"], "name": w.get("name", "peoplesync"), "resource": "messages",
                   "event": "created", "filter": w.get("filter"),
                   "orgId": S.org["webex"].get("org_id"), "createdBy": w["owner"],
                   "appId": w.get("appId"), "ownedBy": "creator", "status": "active",
                   "actorId": dm["from"],
                   "data": {"id": dm["message_id"], "roomId": dm["room"], "roomType": "direct",
                            "personId": dm["from"], "created": dm["created"]}}
            body = json.dumps(env).encode()
            rec = self.new_delivery("webex", w["targetUrl"], body, {"webhook": w["id"]})
            secret = "not-the-secret" if d.get("forge") else (w.get("secret") or "")

            def sign(n, reason, body=body, secret=secret, rec=rec):
                h = {"Content-Type": "application/json"}
                if secret:
                    h["X-Spark-Signature"] = hmac.new(secret.encode(), body,
                                                      hashlib.sha1).hexdigest()
                rec.setdefault("_headers", h)
                return h

            def failed(w=w):
                """Webex disables a webhook after disable_after failures in a row."""
                with self.lock:
                    w["failures"] = w.get("failures", 0) + 1
                    if w["failures"] >= int(c["disable_after"]):
                        w["status"] = "inactive"
                        return True
                return False
            self.run(rec, sign, [] if d.get("no_retry") else list(c["retry_delays"]),
                     float(c["timeout"]), on_fail=failed, lose=int(d.get("lose_answers", 0)))
            out.append(rec)
        return out

    # Graph ------------------------------------------------------------------------------
    def graph_dm(self, dm, d):
        """One change notification (without resource data) per subscription of the sender
        or the recipient, to its notificationUrl with its clientState."""
        S = self.S
        a, b = sorted((dm["from"], dm["to"]))
        dm.setdefault("chat", "19:%s_%s@unq.gbl.spaces" % (a, b))
        dm.setdefault("message_id", str(1700000000000 + int(dm["seq"])))
        dm.setdefault("created", dm["sent"][:-1] + "0000Z")
        c = self.cfg["teams"]
        with self.lock:
            subs = [x for x in self.subscriptions.values() if x.get("user") in (a, b)]
        out = []
        res = "chats('%s')/messages('%s')" % (dm["chat"], dm["message_id"])
        for x in subs:
            item = {"subscriptionId": x["id"],
                    "subscriptionExpirationDateTime": x.get("expirationDateTime"),
                    "changeType": "created", "resource": res,
                    "resourceData": {"id": dm["message_id"],
                                     "@odata.type": "#Microsoft.Graph.chatMessage",
                                     "@odata.id": res},
                    "clientState": "wrong" if d.get("forge") else x.get("clientState"),
                    "tenantId": S.org["teams"]["tenant_id"]}
            body = json.dumps({"value": [item]}).encode()
            rec = self.new_delivery("teams", x["notificationUrl"], body,
                                    {"subscription": x["id"]})

            def sign(n, reason, rec=rec):
                h = {"Content-Type": "application/json; charset=utf-8"}
                rec.setdefault("_headers", h)
                return h
            self.run(rec, sign, [] if d.get("no_retry") else list(c["retry_delays"]),
                     float(c["timeout"]), lose=int(d.get("lose_answers", 0)))
            out.append(rec)
        return out
