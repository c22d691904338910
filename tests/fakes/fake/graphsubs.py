"""graphsubs.py -- the fake Graph's change-notification subscriptions (/subscriptions):
create with the validation handshake (Graph POSTs notificationUrl and
lifecycleNotificationUrl with ?validationToken=, wants it echoed as text/plain within 10 s,
else refuses the creation with 400), renew (PATCH expirationDateTime), delete, get, list.
A subscription past its expirationDateTime is gone, as Graph deletes it.  Control ops
(control.py) remove one and send lifecycle notifications (subscriptionRemoved,
reauthorizationRequired, missed) to its lifecycleNotificationUrl.

The subscriptions live in S.events.subscriptions (events.py posts their change
notifications): id -> {id, resource, changeType, notificationUrl, lifecycleNotificationUrl,
clientState, expirationDateTime, user, ...}.  Facts: platform-events.md section 4."""

import calendar
import http.client
import json
import re
import time
import urllib.parse
import uuid

from .core import GRAPH_CT, Resp, graph_error, jdump

MAX_MINUTES_PLAIN = 60          # without lifecycleNotificationUrl (platform-events.md 4.2)
MAX_MINUTES_LIFECYCLE = 4230    # with one (Graph's chatMessage maximum; unverified, 4.2)
VALIDATION_TIMEOUT = 10.0
RESOURCE_RE = re.compile(r"^/?(users/([^/]+)/chats/getAllMessages|chats/getAllMessages|"
                         r"chats/([^/]+)/messages)(\?.*)?$")


def parse_time(s):
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$", str(s or ""))
    if not m:
        return None
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + float(
        m.group(2) or 0)


def fmt_time(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%07dZ" % int((t % 1) * 1e7)


def post(url, body, ctype, timeout):
    """(status, body bytes) or (None, reason)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        conn.request("POST", u.path + ("?" + u.query if u.query else ""), body=body,
                     headers={"Content-Type": ctype})
        r = conn.getresponse()
        return r.status, r.read()
    except OSError as e:
        return None, str(e).encode()
    finally:
        conn.close()


class GraphSubscriptions:
    def __init__(self, S):
        self.S = S
        self.validations = []           # (url, status, ok) of every handshake, for tests

    def table(self):
        return self.S.events.subscriptions

    def purge(self):
        """Expired subscriptions are deleted (Graph does the same)."""
        now = time.time()
        with self.S.events.lock:
            for sid in [k for k, v in self.table().items()
                        if (parse_time(v["expirationDateTime"]) or 0) <= now]:
                del self.table()[sid]

    def body(self, ctx):
        return self.S.api_graph.body_json(ctx)

    def check_expiry(self, value, lifecycle):
        t = parse_time(value)
        if t is None:
            return None, graph_error(400, "InvalidRequest", "expirationDateTime is missing or "
                                     "not an ISO 8601 UTC time.")
        left = (t - time.time()) / 60
        cap = MAX_MINUTES_LIFECYCLE if lifecycle else MAX_MINUTES_PLAIN
        if left <= 0:
            return None, graph_error(400, "InvalidRequest", "Subscription expiration can only "
                                     "be in the future.")
        if left > cap:
            return None, graph_error(400, "InvalidRequest", "Subscription expiration can only "
                                     "be %d minutes in the future%s." % (cap, "" if lifecycle
                                     else " without a lifecycleNotificationUrl"))
        return t, None

    def validate(self, url):
        """The handshake: POST url?validationToken=..., the token echoed in 10 s."""
        token = "Validation: Testing client application reachability for subscription " \
            "Request-Id: " + str(uuid.uuid4())
        sep = "&" if "?" in url else "?"
        full = url + sep + "validationToken=" + urllib.parse.quote(token, safe="")
        t0 = time.monotonic()
        status, got = post(full, b"", "text/plain; charset=utf-8", VALIDATION_TIMEOUT)
        ok = status == 200 and got == token.encode() and \
            time.monotonic() - t0 <= VALIDATION_TIMEOUT
        self.validations.append({"url": url, "status": status, "ok": ok})
        return ok

    def view(self, ctx, s):
        d = {"@odata.context": "%s/graph/v1.0/$metadata#subscriptions/$entity" % ctx.base()}
        d.update({k: v for k, v in s.items() if k not in ("user", "failures")})
        d["clientState"] = None          # Graph never shows it back
        return d

    def subscriptions(self, ctx, arg, h):
        d = self.body(ctx)
        if d is None:
            return graph_error(400, "BadRequest", "Invalid JSON body.")
        for k in ("changeType", "notificationUrl", "resource", "expirationDateTime"):
            if not isinstance(d.get(k), str) or not d[k]:
                return graph_error(400, "InvalidRequest", "%s is required." % k)
        m = RESOURCE_RE.match(d["resource"])
        if not m:
            return graph_error(400, "InvalidRequest", "Resource '%s' is not supported."
                               % d["resource"])
        cs = d.get("clientState")
        if cs is not None and (not isinstance(cs, str) or len(cs) > 128):
            return graph_error(400, "InvalidRequest", "clientState: at most 128 characters.")
        life = d.get("lifecycleNotificationUrl")
        exp, err = self.check_expiry(d["expirationDateTime"], bool(life))
        if err:
            return err
        for url in dict.fromkeys([d["notificationUrl"]] + ([life] if life else [])):
            if not self.validate(url):
                return graph_error(400, "ValidationError", "Subscription validation request "
                                   "failed. Notification endpoint must respond with 200 OK "
                                   "to validation request.")
        s = {"id": str(uuid.uuid4()), "resource": d["resource"],
             "applicationId": self.S.sec.get("graph_client_id"),
             "changeType": d["changeType"], "clientState": cs,
             "notificationUrl": d["notificationUrl"], "lifecycleNotificationUrl": life,
             "expirationDateTime": fmt_time(exp), "creatorId": str(uuid.uuid4()),
             "includeResourceData": bool(d.get("includeResourceData")),
             "latestSupportedTlsVersion": "v1_2", "notificationUrlAppId": None,
             "user": m.group(2)}
        with self.S.events.lock:
            self.table()[s["id"]] = s
        return Resp(201, jdump(self.view(ctx, s)), GRAPH_CT)

    def find(self, sid):
        self.purge()
        with self.S.events.lock:
            return self.table().get(sid)

    def gone(self, sid):
        return graph_error(404, "ResourceNotFound", "The object was not found.")

    def subscriptions_get(self, ctx, arg, h):
        s = self.find(arg)
        return Resp(200, jdump(self.view(ctx, s)), GRAPH_CT) if s else self.gone(arg)

    def subscriptions_list(self, ctx, arg, h):
        self.purge()
        with self.S.events.lock:
            vals = [self.view(ctx, s) for s in self.table().values()]
        return Resp(200, jdump({"@odata.context": "%s/graph/v1.0/$metadata#subscriptions"
                                % ctx.base(), "value": vals}), GRAPH_CT)

    def subscriptions_patch(self, ctx, arg, h):
        s = self.find(arg)
        if s is None:
            return self.gone(arg)
        d = self.body(ctx)
        if d is None or "expirationDateTime" not in d:
            return graph_error(400, "InvalidRequest", "expirationDateTime is required.")
        exp, err = self.check_expiry(d["expirationDateTime"], bool(s["lifecycleNotificationUrl"]))
        if err:
            return err
        with self.S.events.lock:
            s["expirationDateTime"] = fmt_time(exp)
            s["renewed"] = s.get("renewed", 0) + 1
        return Resp(200, jdump(self.view(ctx, s)), GRAPH_CT)

    def subscriptions_delete(self, ctx, arg, h):
        if self.find(arg) is None:
            return self.gone(arg)
        with self.S.events.lock:
            self.table().pop(arg, None)
        return Resp(204, b"", GRAPH_CT)

    # control --------------------------------------------------------------------------
    def lifecycle(self, d):
        """Sends lifecycleEvent (subscriptionRemoved removes the subscription first) to the
        subscription's lifecycleNotificationUrl; returns the receiver's status."""
        sid, ev = d["id"], d.get("event", "subscriptionRemoved")
        if ev not in ("subscriptionRemoved", "reauthorizationRequired", "missed"):
            raise ValueError("event: subscriptionRemoved, reauthorizationRequired or missed")
        s = self.find(sid)
        if s is None:
            raise KeyError("no subscription %r" % sid)
        if ev == "subscriptionRemoved":
            with self.S.events.lock:
                self.table().pop(sid, None)
        url = s.get("lifecycleNotificationUrl")
        if not url or d.get("silent"):
            return {"status": None}
        body = json.dumps({"value": [{
            "subscriptionId": sid, "subscriptionExpirationDateTime": s["expirationDateTime"],
            "tenantId": self.S.org["teams"]["tenant_id"], "clientState": s["clientState"],
            "lifecycleEvent": ev}]}).encode()
        status, _ = post(url, body, "application/json; charset=utf-8", 10.0)
        return {"status": status}

    def expire_in(self, d):
        """The subscription expires in d['seconds'] (<= 0: at once, and is gone)."""
        s = self.find(d["id"])
        if s is None:
            raise KeyError("no subscription %r" % d["id"])
        with self.S.events.lock:
            s["expirationDateTime"] = fmt_time(time.time() + float(d.get("seconds", 0)))
        return {"expirationDateTime": s["expirationDateTime"]}

    def listing(self):
        self.purge()
        with self.S.events.lock:
            return [{k: v for k, v in s.items() if k != "clientState"}
                    for s in self.table().values()]

