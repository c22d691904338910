"""core.py -- what every part of the fake shares: platform and endpoint names, content
types, small helpers (JSON encodings, opaque tokens, query strings), the Resp answer, the
rosters (users by id, tombstones kept), the per-request Ctx and each platform's error body."""

import base64
import bisect
import hashlib
import json
import re
import time
import urllib.parse
import uuid

import genorg

PLATFORM_ALIASES = {"slack": "slack", "teams": "teams", "graph": "teams", "webex": "webex",
                    "*": "*"}
ENDPOINTS = {
    "slack": {"users.list", "users.info", "users.lookupByEmail", "conversations.open",
              "chat.postMessage", "conversations.history", "conversations.list", "auth.test",
              "oauth.v2.access", "authorize", "team.info", "auth.teams.list"},
    "teams": {"token", "users", "users.get", "users.delta", "me", "chats", "chats.get",
              "chats.messages", "chats.messages.list", "authorize", "users.chats",
              "subscriptions", "subscriptions.list", "subscriptions.get",
              "subscriptions.patch", "subscriptions.delete", "organization", "users.tz",
              "devicecode"},
    "webex": {"people", "people.get", "people.me", "messages", "messages.list",
              "messages.direct", "authorize", "access_token", "webhooks", "webhooks.list",
              "webhooks.get", "webhooks.put", "webhooks.delete", "rooms", "organizations.get"},
}
PAGED = {("slack", "users.list"), ("teams", "users"), ("teams", "users.delta"),
         ("webex", "people")}

SLACK_CT = "application/json; charset=utf-8"
GRAPH_CT = ("application/json;odata.metadata=minimal;odata.streaming=true;"
            "IEEE754Compatible=false;charset=utf-8")
WEBEX_CT = "application/json;charset=UTF-8"
TOKEN_CT = "application/json; charset=utf-8"


# ---------------------------------------------------------------------------------------
# Small helpers

def now_iso_ms():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


def now_iso_graph():
    """Graph style: 2020-12-04T23:10:28.51Z (trailing zeros of the fraction dropped)."""
    t = time.time()
    frac = ("%.3f" % (t % 1))[1:].rstrip("0").rstrip(".")
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + frac + "Z"


def jdump(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sdump(obj):
    """Slack's encoding: ASCII with \\u escapes, '/' escaped."""
    return genorg.slack_dumps(obj).encode("ascii")


def enc_token(d):
    raw = json.dumps(d, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def dec_token(s):
    """Inverse of enc_token; None if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
        d = json.loads(raw.decode())
        return d if isinstance(d, dict) else None
    except (ValueError, UnicodeDecodeError, TypeError):
        return None


def fingerprint(tok):
    return hashlib.sha256(tok.encode("utf-8", "replace")).hexdigest()[:8]


def truthy(v):
    if isinstance(v, bool):
        return v
    return str(v).lower() in ("1", "true", "yes", "on")


def qenc(pairs):
    """Query string the way the services write theirs: spaces as '+', '$' and ',' kept."""
    return "&".join("%s=%s" % (urllib.parse.quote_plus(k, safe="$,"),
                               urllib.parse.quote_plus(v, safe="$,()"))
                    for k, v in pairs)


def set_path(obj, path, value):
    parts = path.split(".")
    for p in parts[:-1]:
        obj = obj.setdefault(p, {})
    obj[parts[-1]] = value


def del_path(obj, path):
    parts = path.split(".")
    for p in parts[:-1]:
        obj = obj.get(p, {})
    obj.pop(parts[-1], None)


class Resp:
    """One HTTP answer.  body is bytes; headers a list of (name, value)."""
    __slots__ = ("status", "body", "headers", "ctype")

    def __init__(self, status, body, ctype=SLACK_CT, headers=None):
        self.status, self.body, self.ctype = status, body, ctype
        self.headers = headers or []


RESET = Resp(0, b"")        # sentinel: drop the connection without answering


# ---------------------------------------------------------------------------------------
# Rosters

class Rec:
    __slots__ = ("id", "obj", "version", "removed", "cache")

    def __init__(self, rid, obj, version):
        self.id, self.obj, self.version = rid, obj, version
        self.removed = None          # None, or the @removed reason
        self.cache = {}              # serialisations, dropped on every change


class Roster:
    """One platform's users ordered by id.  Removed users stay as tombstones so that a
    cursor naming them stays valid and Graph delta can report them."""

    def __init__(self, objs):
        self.recs = {}
        self.keys = []
        for o in objs:
            self.recs[o["id"]] = Rec(o["id"], o, 1)
        self.keys = sorted(self.recs)

    def get(self, rid):
        return self.recs.get(rid)

    def live(self, rid):
        r = self.recs.get(rid)
        return r if r is not None and r.removed is None else None

    def index(self, rid):
        return bisect.bisect_left(self.keys, rid)

    def put(self, obj, version):
        rid = obj["id"]
        r = self.recs.get(rid)
        if r is None:
            r = self.recs[rid] = Rec(rid, obj, version)
            bisect.insort(self.keys, rid)
        else:
            r.obj, r.version, r.removed = obj, version, None
            r.cache = {}
        return r

    def scan(self, start, n, pred):
        """Up to n records from index start matching pred -> (records, id of the next
        matching record or None)."""
        keys, recs, out = self.keys, self.recs, []
        i, end = start, len(keys)
        while i < end and len(out) < n:
            r = recs[keys[i]]
            i += 1
            if pred(r):
                out.append(r)
        while i < end:
            r = recs[keys[i]]
            if pred(r):
                return out, r.id
            i += 1
        return out, None

    def live_recs(self):
        return [self.recs[k] for k in self.keys if self.recs[k].removed is None]


def is_live(r):
    return r.removed is None


# ---------------------------------------------------------------------------------------
# One request

class Ctx:
    """Everything about one request that handlers and the logger share."""

    def __init__(self, handler, method, path, query, pairs, body):
        self.h = handler
        self.method, self.path, self.query, self.pairs, self.body = (
            method, path, query, pairs, body)
        self.platform = None
        self.endpoint = None
        self.page = None
        self.recipients = set()
        self.fault = None
        self.status = None
        self.token_kind = None
        self.token_user = None        # user-bound (Sync now) tokens: whose

    def q(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default

    def header(self, name, default=None):
        return self.h.headers.get(name, default)

    def bearer(self):
        a = self.h.headers.get("Authorization")
        if not a:
            return None
        parts = a.split(None, 1)
        if len(parts) == 2 and parts[0].lower() == "bearer":
            return parts[1].strip()
        return ""

    def base(self):
        """Absolute base for links: the Host the client used, else 127.0.0.1:port."""
        host = self.h.headers.get("Host", "")
        if not re.match(r"^[A-Za-z0-9.\-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$", host):
            host = "127.0.0.1:%d" % self.h.server.state.port
        return "http://" + host


# ---------------------------------------------------------------------------------------
# Error bodies, one shape per platform

def slack_error(code, status=200, extra=None, headers=None):
    d = {"ok": False, "error": code}
    if extra:
        d.update(extra)
    return Resp(status, sdump(d), SLACK_CT, headers)


def graph_error(status, code, message, headers=None, inner_code=None):
    inner = {"date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
             "request-id": str(uuid.uuid4()), "client-request-id": str(uuid.uuid4())}
    if inner_code:
        inner = {"code": inner_code, **inner}
    return Resp(status, jdump({"error": {"code": code, "message": message,
                                         "innerError": inner}}), GRAPH_CT, headers)


def graph_429(retry_after, headers=None):
    """The documented throttling body (fixture error_429_too_many_requests.json)."""
    body = {"error": {"code": "TooManyRequests",
                      "innerError": {"code": "429",
                                     "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
                                     "message": "Please retry after",
                                     "request-id": str(uuid.uuid4()), "status": "429"},
                      "message": "Please retry again later."}}
    return Resp(429, jdump(body), GRAPH_CT, (headers or []) + [("Retry-After", retry_after)])


def webex_error(status, message, description=None, headers=None):
    tid = "ROUTER_" + uuid.uuid4().hex.upper()[:24]
    body = {"message": message, "errors": [{"description": description or message}],
            "trackingId": tid}
    return Resp(status, jdump(body), WEBEX_CT, (headers or []) + [("TrackingId", tid)])


def token_error(status, error, aadsts, text, code):
    trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
    ts = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    body = {"error": error,
            "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\n"
                                 "Timestamp: %s" % (aadsts, text, trace, corr, ts),
            "error_codes": [code], "timestamp": ts, "trace_id": trace,
            "correlation_id": corr,
            "error_uri": "https://login.microsoftonline.com/error?code=%d" % code}
    return Resp(status, jdump(body), TOKEN_CT)
