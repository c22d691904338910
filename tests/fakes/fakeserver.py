#!/usr/bin/env python3
"""fakeserver.py -- one loopback process playing Slack, Microsoft Graph (+ the identity
platform's token endpoint) and Webex for peoplesync's tests and demo.

    fakeserver.py --org org.json [--port 0] [--port-file F] [--log requests.jsonl]
                  [--fail SPEC ...] [--rate PLATFORM:ENDPOINT=N/SECONDS ...]
                  [--latency MS] [--token-ttl S] [--rotate-refresh] [--unpaged-max N]

Paths (base URLs for a peoplesync config are in README.md):
    /slack/api/<method>                      Slack Web API
    /login/<tenant>/oauth2/v2.0/token        Microsoft identity platform token endpoint
    /graph/v1.0/...                          Microsoft Graph
    /webex/v1/...                            Webex
    /slack/oauth/v2/authorize                Slack OAuth v2 authorize page (users listed)
    /login/<tenant>/oauth2/v2.0/authorize    Microsoft identity platform authorize page
    /webex/v1/authorize, /webex/v1/access_token   Webex integration OAuth
    /_control, /_control/<what>              test control (not logged, not counted)

The behaviour copies the real services as described in shared/docs/platform-apis.md and
the samples in tests/data/fixtures/; README.md next to this file documents every choice, the
failure SPEC grammar and the control operations.  Standard library only.
"""

import argparse
import base64
import bisect
import collections
import copy
import email.utils
import hashlib
import http
import http.server
import json
import math
import os
import random
import re
import secrets
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import genorg  # noqa: E402  (sibling module)

PLATFORM_ALIASES = {"slack": "slack", "teams": "teams", "graph": "teams", "webex": "webex",
                    "*": "*"}
ENDPOINTS = {
    "slack": {"users.list", "users.info", "users.lookupByEmail", "conversations.open",
              "chat.postMessage", "conversations.history", "auth.test", "oauth.v2.access",
              "authorize"},
    "teams": {"token", "users", "users.get", "users.delta", "me", "chats", "chats.get",
              "chats.messages", "chats.messages.list", "authorize"},
    "webex": {"people", "people.get", "people.me", "messages", "messages.list",
              "messages.direct", "authorize", "access_token"},
}
PAGED = {("slack", "users.list"), ("teams", "users"), ("teams", "users.delta"),
         ("webex", "people")}

SLACK_CT = "application/json; charset=utf-8"
GRAPH_CT = ("application/json;odata.metadata=minimal;odata.streaming=true;"
            "IEEE754Compatible=false;charset=utf-8")
WEBEX_CT = "application/json;charset=UTF-8"
TOKEN_CT = "application/json; charset=utf-8"

GRAPH_DEFAULT_FIELDS = ["businessPhones", "displayName", "givenName", "jobTitle", "mail",
                        "mobilePhone", "officeLocation", "preferredLanguage", "surname",
                        "userPrincipalName", "id"]
# Properties $select may name (a user-resource subset); unknown names get Graph's 400.
GRAPH_KNOWN_FIELDS = set(GRAPH_DEFAULT_FIELDS) | {
    "accountEnabled", "userType", "otherMails", "proxyAddresses", "externalUserState",
    "creationType", "onPremisesSyncEnabled", "deletedDateTime", "createdDateTime",
    "department", "companyName", "employeeId", "city", "country", "usageLocation",
    "mailNickname", "onPremisesImmutableId", "identities", "imAddresses", "ageGroup",
    "externalUserStateChangeDateTime", "lastPasswordChangeDateTime", "showInAddressList"}
GRAPH_FIELD_CASE = {f.lower(): f for f in GRAPH_KNOWN_FIELDS}

WEBEX_MAX_CAP = 1000
WEBEX_MESSAGE_MAX = 7439
SLACK_LIMIT_MAX = 1000
SLACK_TEXT_MAX = 40000

MAX_BODY = 8 * 1024 * 1024
SECRET_KEYS = ("client_secret", "refresh_token", "code", "token", "client_assertion",
               "access_token", "code_verifier")


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
# Failure rules

FLAGS = {"truncate", "malformed", "badutf8", "reset", "reset_after", "repeat_cursor",
         "empty", "short", "maxnull"}


class Rule:
    """One parsed failure SPEC (grammar in README.md)."""
    _ids = 0

    def __init__(self, spec):
        self.spec = spec
        parts = spec.split(":")
        if len(parts) < 3:
            raise ValueError("%s: want PLATFORM:ENDPOINT:ITEM[:ITEM...]" % spec)
        plat = PLATFORM_ALIASES.get(parts[0].lower())
        if plat is None:
            raise ValueError("%s: unknown platform %r" % (spec, parts[0]))
        ep = parts[1]
        if ep != "*" and plat != "*" and ep not in ENDPOINTS[plat]:
            raise ValueError("%s: unknown %s endpoint %r (known: %s)"
                             % (spec, plat, ep, ", ".join(sorted(ENDPOINTS[plat]))))
        self.platform, self.endpoint = plat, ep
        self.page = None
        self.status = None
        self.error = None
        self.retry_after = None
        self.times = None
        self.after = 0
        self.slow = 0
        self.user = None
        self.flags = set()
        for tok in parts[2:]:
            if tok in ("", "all"):
                continue
            if "=" in tok:
                k, v = tok.split("=", 1)
                try:
                    if k == "page":
                        self.page = None if v == "all" else int(v)
                        if self.page is not None and self.page < 1:
                            raise ValueError
                    elif k == "status":
                        self.status = int(v)
                        if not 100 <= self.status <= 599:
                            raise ValueError
                    elif k == "retry_after":
                        if float(v) < 0:
                            raise ValueError
                        self.retry_after = v
                    elif k == "times":
                        self.times = int(v)
                    elif k == "after":
                        self.after = int(v)
                    elif k == "slow":
                        self.slow = int(v)
                    elif k == "error":
                        if not v:
                            raise ValueError
                        self.error = v
                    elif k == "user":
                        self.user = v.lower()
                    else:
                        raise KeyError(k)
                except KeyError:
                    raise ValueError("%s: unknown item %r" % (spec, tok))
                except ValueError:
                    raise ValueError("%s: bad value in %r" % (spec, tok))
            elif tok in FLAGS:
                self.flags.add(tok)
            else:
                raise ValueError("%s: unknown item %r" % (spec, tok))
        if not (self.status or self.error or self.slow or self.flags):
            raise ValueError("%s: no action (status=, error=, slow= or a flag)" % spec)
        Rule._ids += 1
        self.id = Rule._ids
        self.seen = 0
        self.fired = 0

    def applies(self, ctx):
        if self.platform != "*" and self.platform != ctx.platform:
            return False
        if self.endpoint != "*" and self.endpoint != ctx.endpoint:
            return False
        if self.page is not None and self.page != ctx.page:
            return False
        if self.user is not None and self.user not in ctx.recipients:
            return False
        return True

    def has(self, flag):
        return flag in self.flags

    def describe(self):
        return {"id": self.id, "spec": self.spec, "seen": self.seen, "fired": self.fired,
                "times": self.times, "exhausted": self.times is not None and self.fired >= self.times}


class Faults:
    def __init__(self):
        self.rules = []
        self.lock = threading.Lock()

    def add(self, spec):
        r = Rule(spec)
        with self.lock:
            self.rules.append(r)
        return r

    def clear(self):
        with self.lock:
            self.rules = []

    def pick(self, ctx):
        """The first rule that applies and still has shots left; counts it as fired."""
        with self.lock:
            for r in self.rules:
                if not r.applies(ctx):
                    continue
                r.seen += 1
                if r.seen <= r.after:
                    continue
                if r.times is not None and r.fired >= r.times:
                    continue
                r.fired += 1
                return r
        return None


class RateRule:
    """--rate slack:chat.postMessage=50/60: at most 50 answered requests in any 60 s window
    (sliding log).  Refused requests do not enter the window."""

    def __init__(self, spec):
        m = re.match(r"^([A-Za-z*]+):([A-Za-z.*]+)=(\d+)/(\d+(?:\.\d+)?)$", spec)
        if not m:
            raise ValueError("%s: want PLATFORM:ENDPOINT=N/SECONDS" % spec)
        plat = PLATFORM_ALIASES.get(m.group(1).lower())
        if plat is None:
            raise ValueError("%s: unknown platform" % spec)
        ep = m.group(2)
        if ep != "*" and plat != "*" and ep not in ENDPOINTS[plat]:
            raise ValueError("%s: unknown endpoint %r" % (spec, ep))
        self.spec, self.platform, self.endpoint = spec, plat, ep
        self.n, self.window = int(m.group(3)), float(m.group(4))
        if self.n < 1 or self.window <= 0:
            raise ValueError("%s: N and SECONDS must be positive" % spec)
        self.hits = collections.defaultdict(collections.deque)   # per endpoint key

    def check(self, ctx, now):
        if self.platform != "*" and self.platform != ctx.platform:
            return None
        if self.endpoint != "*" and self.endpoint != ctx.endpoint:
            return None
        q = self.hits[(ctx.platform, ctx.endpoint)]
        while q and q[0] <= now - self.window:
            q.popleft()
        if len(q) >= self.n:
            return max(0.001, q[0] + self.window - now)
        q.append(now)
        return None


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
# Server state

class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.faults = Faults()
        self.rates = []
        self.latency_ms = args.latency
        self.log_lock = threading.Lock()
        self.logf = open(args.log, "a", encoding="utf-8") if args.log else None
        self.port = 0
        self.conn_ids = 0
        self.load()
        for spec in args.fail or []:
            self.faults.add(spec)
        for spec in args.rate or []:
            self.rates.append(RateRule(spec))

    def load(self):
        """(Re)load org.json and forget everything learnt since."""
        with open(self.args.org, encoding="utf-8") as f:
            org = json.load(f)
        self.org = org
        self.sec = org.get("secrets", {})
        self.oauth_clients = oauth_clients(org)
        self.version = 1
        self.delta_gen = secrets.token_hex(4)   # a restart invalidates every delta token
        self.slack = self.graph = self.webex = None
        if "slack" in org:
            self.slack = Roster(org["slack"]["members"])
            for r in self.slack.recs.values():       # pre-serialise once: pages are joins
                r.cache["s"] = sdump(r.obj)
        if "teams" in org:
            self.graph = Roster(org["teams"]["users"])
        if "webex" in org:
            self.webex = Roster(org["webex"]["people"])
            for r in self.webex.recs.values():
                r.cache["w"] = jdump(r.obj)
        self.slack_cursor_pages = {}  # (cursor issued, limit) -> page it leads to
        self.slack_dm = {}            # user id -> D channel
        self.slack_dm_rev = {}        # D channel -> user id
        self.slack_opened = set()
        self.slack_revoked = False
        self.webex_revoked = False
        # Tokens survive "reset": a client that already refreshed keeps working.
        self.graph_access = getattr(self, "graph_access", {})
        self.graph_refresh = getattr(self, "graph_refresh", set())
        if self.sec.get("graph_refresh_token"):
            self.graph_refresh.add(self.sec["graph_refresh_token"])
        self.chats = {}               # chat id -> {"members": [...], "created": iso}
        self.chat_by_pair = {}
        self.messages = []            # every DM, in order
        self.channel_msgs = collections.defaultdict(list)
        self.last_ts = 0.0
        self.stats = collections.Counter()
        self.status_stats = collections.defaultdict(collections.Counter)
        self.ratelimited = collections.Counter()
        self.add_seq = 0

    def bump(self):
        self.version += 1
        return self.version

    def roster(self, platform):
        return {"slack": self.slack, "teams": self.graph, "webex": self.webex}.get(platform)

    def slack_ts(self):
        with self.lock:
            t = max(time.time(), self.last_ts + 0.000001)
            self.last_ts = t
            return "%d.%06d" % (int(t), int(round((t % 1) * 1e6)) % 1000000)

    def log(self, rec):
        if self.logf is None:
            return
        line = json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
        with self.log_lock:
            self.logf.write(line + "\n")
            self.logf.flush()

    def reserialize(self, platform, r):
        r.cache = {}
        if platform == "slack":
            r.cache["s"] = sdump(r.obj)
        elif platform == "webex":
            r.cache["w"] = jdump(r.obj)


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


GRAPH_STATUS_CODES = {400: "invalidRequest", 401: "InvalidAuthenticationToken",
                      403: "accessDenied", 404: "itemNotFound", 409: "conflict",
                      410: "syncStateNotFound", 500: "generalException",
                      502: "badGateway", 503: "serviceNotAvailable", 504: "gatewayTimeout"}
SLACK_STATUS_ERRORS = {429: "ratelimited"}


def fault_response(ctx, rule):
    """The answer a rule with status= and/or error= produces, in the platform's shape."""
    status = rule.status
    ra = rule.retry_after
    if status == 429 and ra is None:
        ra = "1"
    hdrs = [("Retry-After", ra)] if ra is not None else []
    if ctx.platform == "slack":
        code = rule.error or SLACK_STATUS_ERRORS.get(status) or (
            "fatal_error" if (status or 200) >= 500 else "invalid_request" if status else None)
        return slack_error(code, status or 200, headers=hdrs)
    if ctx.platform == "teams":
        if ctx.endpoint == "token":
            st = status or 400
            return token_error(st, rule.error or ("temporarily_unavailable" if st >= 500
                                                  else "invalid_request"),
                               50000 if st >= 500 else 90014, "Injected failure.", 50000)
        if status == 429 and not rule.error:
            return graph_429(ra)
        st = status or 400
        return graph_error(st, rule.error or GRAPH_STATUS_CODES.get(st, "UnknownError"),
                           "Injected failure (%s)." % rule.spec, hdrs)
    st = status or 400
    if rule.error:
        msg = rule.error
    elif st in http.HTTPStatus._value2member_map_:
        msg = http.HTTPStatus(st).phrase
    else:
        msg = "Error"
    return webex_error(st, msg, headers=hdrs)


def rate_response(ctx, wait):
    if ctx.platform == "teams":
        return graph_429("%.3f" % wait) if ctx.endpoint != "token" else \
            token_error(429, "temporarily_unavailable", 50196, "Too many requests.", 50196)
    ra = str(max(1, int(math.ceil(wait))))
    if ctx.platform == "slack":
        return slack_error("ratelimited", 429, headers=[("Retry-After", ra)])
    return webex_error(429, "Too Many Requests", "Too many requests, retry later.",
                       headers=[("Retry-After", ra)])


# ---------------------------------------------------------------------------------------
# Slack

def slack_cursor(uid, page=None):
    raw = "user:%s" % uid if page is None else "user:%s:%d" % (uid, page)
    return base64.b64encode(raw.encode()).decode()


def slack_decode_cursor(c):
    try:
        raw = base64.b64decode(c, validate=True).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    parts = raw.split(":")
    if parts[0] != "user" or len(parts) not in (2, 3) or not parts[1]:
        return None
    page = None
    if len(parts) == 3:
        if not parts[2].isdigit():
            return None
        page = int(parts[2])
    return parts[1], page


class SlackAPI:
    def __init__(self, S):
        self.S = S

    def params(self, ctx):
        """Query + form or JSON body, as Slack merges them."""
        p = {k: v[0] for k, v in ctx.query.items()}
        ct = (ctx.header("Content-Type") or "").lower()
        if ctx.body:
            if "application/json" in ct:
                try:
                    d = json.loads(ctx.body.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    return None
                if not isinstance(d, dict):
                    return None
                p.update(d)
            else:
                for k, v in urllib.parse.parse_qs(ctx.body.decode("utf-8", "replace"),
                                                  keep_blank_values=True).items():
                    p[k] = v[0]
        return p

    def handle(self, ctx, method, h):
        S = self.S
        ctx.endpoint = method if method in ENDPOINTS["slack"] else "unknown"
        if S.slack is None:
            return slack_error("team_not_found", 404)
        if method not in ENDPOINTS["slack"]:
            return slack_error("unknown_method", extra={"req_method": method})
        p = self.params(ctx)
        if p is None:
            return slack_error("invalid_json")
        early = h.pre_checks(ctx, lambda: self.recipients(p))
        if early is not None:
            return early
        if method == "oauth.v2.access":
            return S.api_oauth.slack_access(ctx, p, h)      # client credentials, no token
        if method == "authorize":
            return slack_error("unknown_method", extra={"req_method": method})
        tok = ctx.bearer()
        if tok is None:
            tok = p.get("token")
        if not tok:
            return slack_error("not_authed")
        if tok != S.sec.get("slack_bot_token"):
            u = S.api_oauth.access_user("slack", tok)
            if u is None:
                return slack_error("invalid_auth")
            if method != "auth.test":
                return slack_error("not_allowed_token_type")
            o = S.org["slack"]
            return Resp(200, sdump({"ok": True, "url": "https://%s.slack.com/" % o["domain"],
                                    "team": o["team_name"], "user": u["user"],
                                    "team_id": u["team"], "user_id": u["user"],
                                    "is_enterprise_install": False}), SLACK_CT)
        if S.slack_revoked:
            return slack_error("token_revoked")
        if ("slack", method) not in PAGED:
            r = h.apply_fault(ctx)
            if r is not None:
                return r
        return getattr(self, method.replace(".", "_"))(ctx, p, h)

    def recipients(self, p):
        out = set()
        for k in ("users", "user", "channel", "email"):
            v = p.get(k)
            if isinstance(v, str) and v:
                for x in v.split(","):
                    out.add(x.lower())
                    u = self.S.slack_dm_rev.get(x)
                    if u:
                        out.add(u.lower())
        return out

    # users.list -----------------------------------------------------------------------
    def users_list(self, ctx, p, h):
        S = self.S
        ros = S.slack
        try:
            limit = int(str(p.get("limit", "0")) or "0")
        except ValueError:
            return slack_error("invalid_limit")
        if limit < 0 or limit > SLACK_LIMIT_MAX:
            return slack_error("invalid_limit")
        cursor = str(p.get("cursor", "") or "")
        with S.lock:
            if cursor:
                dec = slack_decode_cursor(cursor)
                if dec is None or ros.get(dec[0]) is None:
                    return slack_error("invalid_cursor")
                start = ros.index(dec[0])
                page = S.slack_cursor_pages.get((cursor, limit)) or dec[1] or (
                    start // limit + 1 if limit else 1)
            else:
                start, page = 0, 1
            if limit == 0 and len(ros.keys) > S.args.unpaged_max:
                return slack_error("limit_required")
        ctx.page = page
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        f = ctx.fault
        n = limit or len(ros.keys) or 1
        with S.lock:
            if f and f.has("empty"):
                recs, nxt = ros.scan(start, 0, is_live)
            else:
                if f and f.has("short"):
                    n = max(1, n // 2)
                recs, nxt = ros.scan(start, n, is_live)
            if f and f.has("repeat_cursor"):
                first = recs[0].id if recs else (nxt or (ros.keys[0] if ros.keys else ""))
                nc = cursor or slack_cursor(first)
                S.slack_cursor_pages.setdefault((nc, limit), page)
            elif nxt is None:
                nc = ""
            else:
                # After an empty page the next cursor names the same user as this one; the
                # page number in it keeps the two apart.
                nc = slack_cursor(nxt, page + 1 if (f and f.has("empty")) else None)
                S.slack_cursor_pages[(nc, limit)] = page + 1
            members = b",".join(rr.cache["s"] for rr in recs)
        head = b'{"ok":true,'
        if nxt is not None:
            head += b'"offset":' + sdump(nxt) + b","
        body = (head + b'"members":[' + members + b'],"cache_ts":' +
                str(int(time.time())).encode() + b',"response_metadata":{"next_cursor":' +
                sdump(nc) + b"}}")
        return Resp(200, body, SLACK_CT)

    def users_info(self, ctx, p, h):
        with self.S.lock:
            r = self.S.slack.live(str(p.get("user", "")))
            if r is None:
                return slack_error("user_not_found")
            return Resp(200, b'{"ok":true,"user":' + r.cache["s"] + b"}", SLACK_CT)

    def users_lookupByEmail(self, ctx, p, h):
        e = str(p.get("email", "")).strip().lower()
        with self.S.lock:
            for r in self.S.slack.live_recs():
                if str(r.obj.get("profile", {}).get("email", "")).lower() == e and e:
                    return Resp(200, b'{"ok":true,"user":' + r.cache["s"] + b"}", SLACK_CT)
        return slack_error("users_not_found")

    def auth_test(self, ctx, p, h):
        o = self.S.org["slack"]
        return Resp(200, sdump({"ok": True, "url": "https://%s.slack.com/" % o["domain"],
                                "team": o["team_name"], "user": "peoplesync",
                                "team_id": o["team_id"], "user_id": o["bot_user_id"],
                                "bot_id": o["bot_id"], "is_enterprise_install": False}),
                    SLACK_CT)

    # DMs --------------------------------------------------------------------------------
    def dm_channel(self, uid):
        S = self.S
        ch = S.slack_dm.get(uid)
        if ch is None:
            h = hashlib.sha1(("%s:%s" % (S.org["slack"]["team_id"], uid)).encode()).hexdigest()
            ch = "D0" + "".join(genorg._SLACK_ALPHABET[int(h[i:i + 2], 16) % 36]
                                for i in range(0, 16, 2))
            S.slack_dm[uid] = ch
            S.slack_dm_rev[ch] = uid
        return ch

    def conversations_open(self, ctx, p, h):
        S = self.S
        users = [u for u in str(p.get("users", "") or "").split(",") if u]
        chan = str(p.get("channel", "") or "")
        if not users and chan:
            with S.lock:
                if chan not in S.slack_dm_rev:
                    return slack_error("channel_not_found")
                users = [S.slack_dm_rev[chan]]
        if not users:
            return slack_error("users_list_not_supplied")
        if len(users) > 1:
            return slack_error("invalid_arguments", extra={"response_metadata": {
                "messages": ["[ERROR] this fake only opens 1:1 DMs"]}})
        with S.lock:
            r = S.slack.live(users[0])
            if r is None:
                return slack_error("user_not_found")
            if r.obj.get("deleted"):
                return slack_error("user_disabled")
            ch = self.dm_channel(r.id)
            already = ch in S.slack_opened
            S.slack_opened.add(ch)
        if not truthy(p.get("return_im", False)):
            return Resp(200, sdump({"ok": True, "channel": {"id": ch}}), SLACK_CT)
        d = {"ok": True}
        if already:
            d.update(no_op=True, already_open=True)
        d["channel"] = {"id": ch, "created": int(time.time()), "is_im": True,
                        "is_org_shared": False, "user": r.id, "last_read": "0000000000.000000",
                        "latest": None, "unread_count": 0, "unread_count_display": 0,
                        "is_open": True, "priority": 0}
        return Resp(200, sdump(d), SLACK_CT)

    def chat_postMessage(self, ctx, p, h):
        S = self.S
        o = S.org["slack"]
        ch = str(p.get("channel", "") or "")
        with S.lock:
            if ch[:1] in ("U", "W"):
                # legacy: a user id as channel posts into the app's DM with that user
                r = S.slack.live(ch)
                if r is None:
                    return slack_error("channel_not_found")
                ch = self.dm_channel(r.id)
            uid = S.slack_dm_rev.get(ch)
            if uid is None:
                return slack_error("channel_not_found")
            r = S.slack.live(uid)
            if r is None or r.obj.get("deleted"):
                return slack_error("is_archived")
        text = p.get("text")
        text = "" if text is None else str(text)
        blocks = p.get("blocks")
        if isinstance(blocks, str) and blocks:
            try:
                blocks = json.loads(blocks)
            except ValueError:
                return slack_error("invalid_blocks")
        if not text and not blocks and not p.get("attachments"):
            return slack_error("no_text")
        if len(text) > SLACK_TEXT_MAX:
            return slack_error("msg_too_long")
        ts = S.slack_ts()
        msg = {"text": text, "username": "People Sync", "bot_id": o["bot_id"]}
        if blocks:
            msg["blocks"] = blocks
        msg.update(type="message", subtype="bot_message", ts=ts)
        with S.lock:
            S.channel_msgs[ch].append(msg)
            S.messages.append({"platform": "slack", "to": uid, "channel": ch, "text": text,
                               "ts": ts, "blocks": blocks or None,
                               "team_id": o["team_id"]})
        return Resp(200, sdump({"ok": True, "channel": ch, "ts": ts, "message": msg}),
                    SLACK_CT)

    def conversations_history(self, ctx, p, h):
        S = self.S
        ch = str(p.get("channel", "") or "")
        try:
            limit = int(p.get("limit", 100) or 100)
        except ValueError:
            return slack_error("invalid_limit")
        limit = max(1, min(limit, 999))
        cur = str(p.get("cursor", "") or "")
        start = 0
        if cur:
            try:
                raw = base64.b64decode(cur, validate=True).decode()
                if not raw.startswith("next_ts_offset:"):
                    raise ValueError
                start = int(raw.split(":", 1)[1])
            except (ValueError, UnicodeDecodeError):
                return slack_error("invalid_cursor")
        with S.lock:
            if ch not in S.slack_dm_rev:
                return slack_error("channel_not_found")
            msgs = list(reversed(S.channel_msgs.get(ch, [])))
        page = msgs[start:start + limit]
        more = start + limit < len(msgs)
        d = {"ok": True, "messages": page, "has_more": more, "pin_count": 0,
             "channel_actions_ts": None, "channel_actions_count": 0}
        if more:
            d["response_metadata"] = {"next_cursor": base64.b64encode(
                ("next_ts_offset:%d" % (start + limit)).encode()).decode()}
        return Resp(200, sdump(d), SLACK_CT)


# ---------------------------------------------------------------------------------------
# Microsoft identity platform + Graph

class GraphAPI:
    def __init__(self, S):
        self.S = S

    # token endpoint ---------------------------------------------------------------------
    def token(self, ctx, tenant, h):
        S = self.S
        ctx.platform, ctx.endpoint = "teams", "token"
        early = h.pre_checks(ctx, set)
        if early is not None:
            return early
        if S.graph is None:
            return token_error(400, "invalid_request", 90002,
                               "Tenant '%s' not found." % tenant, 90002)
        t = S.org["teams"]
        if ctx.method != "POST":
            return token_error(405, "invalid_request", 900561,
                               "The endpoint only accepts POST requests.", 900561)
        if tenant.lower() not in (t["tenant_id"].lower(), t["tenant_domain"].lower(),
                                  S.org.get("domain", "").lower()):
            return token_error(400, "invalid_request", 90002,
                               "Tenant '%s' not found. Check to make sure you have the correct "
                               "tenant ID and are signing into the correct cloud." % tenant,
                               90002)
        f = {k: v[0] for k, v in urllib.parse.parse_qs(
            ctx.body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        cid, grant = f.get("client_id", ""), f.get("grant_type", "")
        if not grant:
            return token_error(400, "invalid_request", 900144, "The request body must contain "
                               "the following parameter: 'grant_type'.", 900144)
        if cid != S.sec.get("graph_client_id"):
            return token_error(400, "unauthorized_client", 700016,
                               "Application with identifier '%s' was not found in the "
                               "directory '%s'." % (cid, t["tenant_domain"]), 700016)
        if f.get("client_secret") != S.sec.get("graph_client_secret"):
            # Entra answers a wrong secret with 401 invalid_client (AADSTS7000215).
            return token_error(401, "invalid_client", 7000215,
                               "Invalid client secret provided. Ensure the secret being sent "
                               "in the request is the client secret value, not the client "
                               "secret ID, for a secret added to app '%s'." % cid, 7000215)
        ttl = S.args.token_ttl
        if grant == "client_credentials":
            scope = f.get("scope")
            if not scope:
                return token_error(400, "invalid_request", 900144, "The request body must "
                                   "contain the following parameter: 'scope'.", 900144)
            if scope.strip() != "https://graph.microsoft.com/.default":
                return token_error(400, "invalid_scope", 70011,
                                   "The provided value for the input parameter 'scope' is not "
                                   "valid. The scope %s is not valid." % scope, 70011)
            tok = self.new_access("app", ttl)
            return Resp(200, jdump({"token_type": "Bearer", "expires_in": ttl,
                                    "access_token": tok}), TOKEN_CT)
        if grant == "refresh_token":
            r = S.api_oauth.ms_refresh(f)
            if r is not None:
                return r                   # a Sync now user's refresh token
            rt = f.get("refresh_token", "")
            with S.lock:
                ok = rt in S.graph_refresh
                if ok and S.args.rotate_refresh:
                    S.graph_refresh.discard(rt)
            if not ok:
                return token_error(400, "invalid_grant", 700082,
                                   "The refresh token has expired due to inactivity.", 700082)
            tok = self.new_access("user", ttl)
            new_rt = "0.A" + secrets.token_urlsafe(90)
            with S.lock:
                S.graph_refresh.add(new_rt)
            scope = f.get("scope") or ("Chat.Create ChatMessage.Send User.Read "
                                       "User.ReadBasic.All offline_access")
            return Resp(200, jdump({"token_type": "Bearer", "scope": scope, "expires_in": ttl,
                                    "access_token": tok, "refresh_token": new_rt}), TOKEN_CT)
        if grant == "authorization_code":
            return S.api_oauth.ms_code(f)
        return token_error(400, "unsupported_grant_type", 70003, "The app requested an "
                           "unsupported grant type '%s'." % grant, 70003)

    def new_access(self, kind, ttl, user=None):
        # JWT-shaped, about 1.2 KB like real Graph tokens, random every time. user: the
        # signed-in user of a Sync now token (None: the service user / the app)
        tok = "eyJ0eXAiOiJKV1QiLCJub25jZSI6IiIsImFsZyI6IlJTMjU2In0.%s.%s" % (
            secrets.token_urlsafe(700), secrets.token_urlsafe(256))
        with self.S.lock:
            self.S.graph_access[tok] = (kind, time.monotonic() + ttl, user)
        return tok

    # Graph ------------------------------------------------------------------------------
    def handle(self, ctx, rest, h):
        S = self.S
        ctx.platform = "teams"
        m = ctx.method
        parts = [urllib.parse.unquote(x) for x in rest.strip("/").split("/")] if rest.strip("/") else []
        ep, arg = "unknown", None
        if parts == ["users"] and m == "GET":
            ep = "users"
        elif parts == ["users", "delta"] and m == "GET":
            ep = "users.delta"
        elif len(parts) == 2 and parts[0] == "users" and m == "GET":
            ep, arg = "users.get", parts[1]
        elif parts == ["me"] and m == "GET":
            ep = "me"
        elif parts == ["chats"] and m == "POST":
            ep = "chats"
        elif len(parts) == 2 and parts[0] == "chats" and m == "GET":
            ep, arg = "chats.get", parts[1]
        elif len(parts) == 3 and parts[0] == "chats" and parts[2] == "messages":
            ep, arg = ("chats.messages" if m == "POST" else "chats.messages.list"), parts[1]
        ctx.endpoint = ep
        if S.graph is None:
            return graph_error(404, "Request_ResourceNotFound", "No Graph tenant in this org.")
        if ep == "unknown":
            return graph_error(400, "BadRequest", "Resource not found for the segment '%s'."
                               % (parts[-1] if parts else ""))
        early = h.pre_checks(ctx, lambda: self.recipients(ep, arg))
        if early is not None:
            return early
        tok = ctx.bearer()
        if not tok:
            return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.",
                               [("WWW-Authenticate", 'Bearer realm="", authorization_uri='
                                 '"https://login.microsoftonline.com/common/oauth2/authorize"')])
        with S.lock:
            info = S.graph_access.get(tok)
        if info is None:
            return graph_error(401, "InvalidAuthenticationToken",
                               "IDX14100: JWT is not well formed, there are no dots (.)."
                               if "." not in tok else "Access token validation failure.")
        if info[1] < time.monotonic():
            return graph_error(401, "InvalidAuthenticationToken",
                               "Lifetime validation failed, the token is expired.")
        ctx.token_kind = info[0]
        ctx.token_user = info[2] if len(info) > 2 else None
        if ("teams", ep) not in PAGED:
            r = h.apply_fault(ctx)
            if r is not None:
                return r
        return getattr(self, ep.replace(".", "_"))(ctx, arg, h)

    def recipients(self, ep, arg):
        if ep in ("chats.messages", "chats.messages.list", "chats.get") and arg:
            c = self.S.chats.get(arg)
            if c:
                return {x.lower() for x in c["members"]}
        return set()

    def parse_select(self, ctx):
        raw = ctx.q("$select")
        if raw is None or raw.strip() == "":
            return None, None
        out = []
        for f in raw.split(","):
            f = f.strip()
            canon = GRAPH_FIELD_CASE.get(f.lower())
            if canon is None:
                return None, graph_error(400, "Request_BadRequest", "Could not find a property "
                                         "named '%s' on type 'microsoft.graph.user'." % f)
            if canon not in out:
                out.append(canon)
        return out, None

    def ser(self, r, sel, delta=False):
        key = ("g", tuple(sel) if sel else None, delta)
        c = r.cache.get(key)
        if c is None:
            o = r.obj
            if sel is None:
                d = {k: o.get(k) for k in GRAPH_DEFAULT_FIELDS}
            else:
                d = {k: o.get(k) for k in sel}
                if delta and "id" not in d:
                    d["id"] = o["id"]
            c = r.cache[key] = jdump(d)
        return c

    def context_url(self, ctx, sel):
        return "%s/graph/v1.0/$metadata#users%s" % (ctx.base(), "(%s)" % ",".join(sel) if sel else "")

    def parse_filter(self, ctx):
        """Enough of $filter for roster pulls: `prop eq value` joined by `and`."""
        raw = ctx.q("$filter")
        if not raw:
            return (lambda o: True), None
        conds = []
        for clause in re.split(r"\s+and\s+", raw.strip()):
            m = re.match(r"^(\w+)\s+eq\s+('(?:[^']|'')*'|true|false|null)$", clause.strip())
            if not m or GRAPH_FIELD_CASE.get(m.group(1).lower()) is None:
                return None, graph_error(400, "Request_UnsupportedQuery",
                                         "Unsupported or invalid query filter clause specified "
                                         "for property '%s' of resource 'User'." % clause)
            prop = GRAPH_FIELD_CASE[m.group(1).lower()]
            v = m.group(2)
            val = (True if v == "true" else False if v == "false" else None if v == "null"
                   else v[1:-1].replace("''", "'"))
            conds.append((prop, val))

        def pred(o):
            for prop, val in conds:
                x = o.get(prop)
                if isinstance(val, str) and isinstance(x, str):
                    if x.lower() != val.lower():
                        return False
                elif x != val:
                    return False
            return True
        return pred, None

    def users(self, ctx, arg, h):
        S = self.S
        top = ctx.q("$top")
        if top is None:
            top = 100
        else:
            try:
                top = int(top)
            except ValueError:
                top = -1
            if not 1 <= top <= 999:
                return graph_error(400, "Request_UnsupportedQuery", "Invalid page size "
                                   "specified: '%s'. Must be between 1 and 999 inclusive."
                                   % ctx.q("$top"))
        sel, err = self.parse_select(ctx)
        if err:
            return err
        pred_o, err = self.parse_filter(ctx)
        if err:
            return err
        want_count = truthy(ctx.q("$count", "false"))
        if want_count and (ctx.header("ConsistencyLevel") or "").lower() != "eventual":
            return graph_error(400, "Request_BadRequest",
                               "$count is not currently supported.")
        if ctx.q("$search") is not None:
            return graph_error(400, "Request_UnsupportedQuery",
                               "$search is not supported by this fake.")
        skip = ctx.q("$skiptoken")
        start, page = 0, 1
        with S.lock:
            if skip is not None:
                t = dec_token(skip)
                if t is None or t.get("t") != "u" or S.graph.get(t.get("k")) is None:
                    return graph_error(400, "Directory_ExpiredPageToken", "The specified page "
                                       "token value has expired and can no longer be included "
                                       "in your request.")
                start, page = S.graph.index(t["k"]), int(t.get("p", 1))
        ctx.page = page
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        f = ctx.fault
        n = 0 if (f and f.has("empty")) else max(1, top // 2) if (f and f.has("short")) else top

        def pred(rr):
            return rr.removed is None and pred_o(rr.obj)

        with S.lock:
            recs, nxt = S.graph.scan(start, n, pred)
            items = b",".join(self.ser(rr, sel) for rr in recs)
            total = sum(1 for k in S.graph.keys if pred(S.graph.recs[k])) \
                if (want_count and page == 1) else None
        head = {"@odata.context": self.context_url(ctx, sel)}
        if total is not None:
            head["@odata.count"] = total
        if f and f.has("repeat_cursor"):
            head["@odata.nextLink"] = ctx.base() + ctx.h.path
        elif nxt is not None:
            pairs = [(k, v) for k, v in ctx.pairs if k != "$skiptoken"]
            pairs.append(("$skiptoken", enc_token({"t": "u", "k": nxt, "p": page + 1})))
            head["@odata.nextLink"] = "%s/graph/v1.0/users?%s" % (ctx.base(), qenc(pairs))
        body = jdump(head)[:-1] + b',"value":[' + items + b"]}"
        return Resp(200, body, GRAPH_CT)

    def users_delta(self, ctx, arg, h):
        S = self.S
        dtok, stok = ctx.q("$deltatoken", ctx.q("$deltaToken")), ctx.q("$skiptoken")
        fresh = "%s/graph/v1.0/users/delta" % ctx.base()
        with S.lock:
            cur_version, gen = S.version, S.delta_gen
        if dtok is not None and dtok.lower() == "latest":
            # "sync from now": no data, a deltaLink for the current state (Entra users and
            # groups support $deltaToken=latest)
            sel, err = self.parse_select(ctx)
            if err:
                return err
            r = h.apply_fault(ctx)
            if r is not None:
                return r
            head = {"@odata.context": self.context_url(ctx, sel),
                    "@odata.deltaLink": fresh + "?$deltatoken=" + enc_token(
                        {"t": "d", "g": gen, "v": cur_version, "s": sel, "n": 100})}
            return Resp(200, jdump(head)[:-1] + b',"value":[]}', GRAPH_CT)
        if dtok is not None or stok is not None:
            t = dec_token(dtok if dtok is not None else stok)
            ok = t is not None and t.get("g") == gen and t.get("t") == ("d" if dtok is not None
                                                                        else "ds")
            if not ok:
                sel = t.get("s") if t else None
                loc = fresh + ("?" + qenc([("$select", ",".join(sel))]) if sel else "")
                return graph_error(410, "syncStateNotFound", "The sync state generation is not "
                                   "found or has expired. Please start a full resync.",
                                   [("Location", loc)], inner_code="resyncRequired")
            sel, n = t.get("s"), int(t.get("n", 100))
            if dtok is not None:
                v0, v1, start_key, page = int(t["v"]), cur_version, None, 1
            else:
                v0, v1, start_key, page = int(t["v0"]), int(t["v1"]), t.get("k"), int(t["p"])
        else:
            sel, err = self.parse_select(ctx)
            if err:
                return err
            n = 100
            pref = ctx.header("Prefer") or ""
            m = re.search(r"odata\.maxpagesize=(\d+)", pref)
            if ctx.q("$top"):
                try:
                    n = int(ctx.q("$top"))
                except ValueError:
                    n = -1
            elif m:
                n = int(m.group(1))
            if not 1 <= n <= 999:
                return graph_error(400, "Request_UnsupportedQuery", "Invalid page size "
                                   "specified: '%s'. Must be between 1 and 999 inclusive." % n)
            v0, v1, start_key, page = 0, cur_version, None, 1
        ctx.page = page
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        f = ctx.fault
        if v0 == 0:
            def pred(rr):
                return rr.removed is None
        else:
            def pred(rr):
                return rr.version > v0
        cnt = 0 if (f and f.has("empty")) else max(1, n // 2) if (f and f.has("short")) else n
        with S.lock:
            start = S.graph.index(start_key) if start_key is not None else 0
            recs, nxt = S.graph.scan(start, cnt, pred)
            parts = []
            for rr in recs:
                if rr.removed is not None:
                    parts.append(jdump({"id": rr.id, "@removed": {"reason": rr.removed}}))
                else:
                    parts.append(self.ser(rr, sel, delta=True))
        head = {"@odata.context": self.context_url(ctx, sel)}
        if f and f.has("repeat_cursor"):
            head["@odata.nextLink"] = ctx.base() + ctx.h.path
        elif nxt is not None:
            head["@odata.nextLink"] = fresh + "?$skiptoken=" + enc_token(
                {"t": "ds", "g": gen, "v0": v0, "v1": v1, "k": nxt, "p": page + 1, "s": sel,
                 "n": n})
        else:
            head["@odata.deltaLink"] = fresh + "?$deltatoken=" + enc_token(
                {"t": "d", "g": gen, "v": v1, "s": sel, "n": n})
        body = jdump(head)[:-1] + b',"value":[' + b",".join(parts) + b"]}"
        return Resp(200, body, GRAPH_CT)

    def find_user(self, key):
        """By object id or UPN (case-insensitive); the service user counts too."""
        S = self.S
        svc = S.org["teams"]["service_user"]
        k = key.lower()
        if k in (svc["id"].lower(), svc["userPrincipalName"].lower()):
            return svc
        r = S.graph.live(key)
        if r is not None:
            return r.obj
        for rr in S.graph.live_recs():
            if str(rr.obj.get("userPrincipalName", "")).lower() == k:
                return rr.obj
        return None

    def users_get(self, ctx, arg, h):
        sel, err = self.parse_select(ctx)
        if err:
            return err
        d = {"@odata.context": "%s/graph/v1.0/$metadata#users/$entity" % ctx.base()}
        with self.S.lock:
            o = self.find_user(arg)
            r = self.S.graph.live(o["id"]) if o is not None else None
            if r is not None:
                return Resp(200, jdump(d)[:-1] + b"," + self.ser(r, sel)[1:], GRAPH_CT)
        if o is None:
            return graph_error(404, "Request_ResourceNotFound", "Resource '%s' does not exist "
                               "or one of its queried reference-property objects are not "
                               "present." % arg)
        d.update(o)                      # the service user
        return Resp(200, jdump(d), GRAPH_CT)

    def me(self, ctx, arg, h):
        if ctx.token_kind != "user":
            return graph_error(400, "BadRequest", "/me request is only valid with delegated "
                               "authentication flow.")
        d = {"@odata.context": "%s/graph/v1.0/$metadata#users/$entity" % ctx.base()}
        if ctx.token_user is not None:
            with self.S.lock:
                r = self.S.graph.live(ctx.token_user)
                if r is None:
                    return graph_error(404, "Request_ResourceNotFound", "Resource '%s' does "
                                       "not exist." % ctx.token_user)
                return Resp(200, jdump(d)[:-1] + b"," + self.ser(r, None)[1:], GRAPH_CT)
        d.update(self.S.org["teams"]["service_user"])
        return Resp(200, jdump(d), GRAPH_CT)

    def body_json(self, ctx):
        try:
            d = json.loads(ctx.body.decode("utf-8"))
            return d if isinstance(d, dict) else None
        except (ValueError, UnicodeDecodeError):
            return None

    def chat_json(self, ctx, cid, c):
        return {"@odata.context": "%s/graph/v1.0/$metadata#chats/$entity" % ctx.base(),
                "id": cid, "topic": None, "createdDateTime": c["created"],
                "lastUpdatedDateTime": c["updated"], "chatType": "oneOnOne"}

    def chats(self, ctx, arg, h):
        S = self.S
        d = self.body_json(ctx)
        if d is None:
            return graph_error(400, "BadRequest", "Invalid JSON body.")
        if d.get("chatType") != "oneOnOne":
            return graph_error(400, "BadRequest", "This fake supports chatType 'oneOnOne' only.")
        mem = d.get("members")
        if not isinstance(mem, list) or len(mem) != 2:
            return graph_error(400, "BadRequest", "A oneOnOne chat must have exactly 2 members.")
        ids = []
        with S.lock:
            for mm in mem:
                bind = (mm or {}).get("user@odata.bind", "") if isinstance(mm, dict) else ""
                m = re.search(r"users\('((?:[^']|'')*)'\)", urllib.parse.unquote(bind))
                if not m:
                    return graph_error(400, "BadRequest", "Invalid member: missing or malformed "
                                       "user@odata.bind.")
                o = self.find_user(m.group(1).replace("''", "'"))
                if o is None:
                    return graph_error(404, "NotFound", "User '%s' not found." % m.group(1))
                ids.append(o["id"])
            svc = S.org["teams"]["service_user"]["id"]
            if ids[0] == ids[1]:
                return graph_error(400, "BadRequest", "Both members are the same user.")
            if ctx.token_kind == "user" and svc not in ids:
                return graph_error(403, "Forbidden", "The caller must be one of the members "
                                   "of a oneOnOne chat.")
            pair = tuple(sorted(ids))
            cid = S.chat_by_pair.get(pair)
            if cid is None:
                cid = "19:%s_%s@unq.gbl.spaces" % pair
                ts = now_iso_graph()
                S.chats[cid] = {"members": list(pair), "created": ts, "updated": ts,
                                "messages": []}
                S.chat_by_pair[pair] = cid
            c = S.chats[cid]
        return Resp(201, jdump(self.chat_json(ctx, cid, c)), GRAPH_CT)

    def chats_get(self, ctx, arg, h):
        c = self.S.chats.get(arg)
        if c is None:
            return graph_error(404, "NotFound", "Chat '%s' not found." % arg)
        return Resp(200, jdump(self.chat_json(ctx, arg, c)), GRAPH_CT)

    def chats_messages(self, ctx, arg, h):
        S = self.S
        svc = S.org["teams"]["service_user"]
        with S.lock:
            c = S.chats.get(arg)
        if c is None:
            return graph_error(404, "NotFound", "Chat '%s' not found." % arg)
        if ctx.token_kind != "user":
            # Sending chat messages needs a delegated token (platform-apis.md §2.5).
            return graph_error(403, "Forbidden", "Message POST is allowed in application-only "
                               "context only for import purposes.")
        if svc["id"] not in c["members"]:
            return graph_error(403, "Forbidden", "The caller is not a member of this chat.")
        d = self.body_json(ctx)
        b = d.get("body") if d else None
        content = b.get("content") if isinstance(b, dict) else None
        if not isinstance(content, str) or not content:
            return graph_error(400, "BadRequest", "Missing or empty body.content.")
        if len(content.encode("utf-8")) > 28 * 1024:
            return graph_error(413, "RequestEntityTooLarge", "Message is too large.")
        ctype = (b.get("contentType") or "text") if isinstance(b, dict) else "text"
        with S.lock:
            mid = str(int(time.time() * 1000))
            while any(m["id"] == mid for m in c["messages"][-5:]):
                mid = str(int(mid) + 1)
            ts = now_iso_graph()
            msg = {"@odata.context": "%s/graph/v1.0/$metadata#chats('%s')/messages/$entity"
                                     % (ctx.base(), urllib.parse.quote(arg, safe="")),
                   "id": mid, "replyToId": None, "etag": mid, "messageType": "message",
                   "createdDateTime": ts, "lastModifiedDateTime": ts,
                   "lastEditedDateTime": None, "deletedDateTime": None, "subject": None,
                   "summary": None, "chatId": arg, "importance": "normal", "locale": "en-us",
                   "webUrl": None, "channelIdentity": None, "policyViolation": None,
                   "from": {"application": None, "device": None, "conversation": None,
                            "user": {"id": svc["id"], "displayName": svc["displayName"],
                                     "userIdentityType": "aadUser"}},
                   "body": {"contentType": ctype, "content": content},
                   "attachments": [], "mentions": [], "reactions": []}
            c["messages"].append(msg)
            c["updated"] = ts
            for to in c["members"]:
                if to != svc["id"]:
                    S.messages.append({"platform": "teams", "to": to, "channel": arg,
                                       "text": content, "ts": ts, "id": mid,
                                       "content_type": ctype,
                                       "team_id": S.org["teams"]["tenant_id"]})
        return Resp(201, jdump(msg), GRAPH_CT)

    def chats_messages_list(self, ctx, arg, h):
        S = self.S
        with S.lock:
            c = S.chats.get(arg)
            msgs = list(reversed(c["messages"])) if c else None
        if msgs is None:
            return graph_error(404, "NotFound", "Chat '%s' not found." % arg)
        try:
            top = int(ctx.q("$top", "20"))
        except ValueError:
            top = -1
        if not 1 <= top <= 50:
            return graph_error(400, "BadRequest", "$top must be between 1 and 50.")
        t = dec_token(ctx.q("$skiptoken")) if ctx.q("$skiptoken") else {"o": 0}
        if t is None:
            return graph_error(400, "BadRequest", "Invalid $skiptoken.")
        off = int(t.get("o", 0))
        page = msgs[off:off + top]
        d = {"@odata.context": "%s/graph/v1.0/$metadata#chats('%s')/messages"
                               % (ctx.base(), urllib.parse.quote(arg, safe="")),
             "@odata.count": len(page)}
        if off + top < len(msgs):
            d["@odata.nextLink"] = "%s/graph/v1.0/chats/%s/messages?%s" % (
                ctx.base(), urllib.parse.quote(arg, safe=""),
                qenc([("$top", str(top)), ("$skiptoken", enc_token({"o": off + top}))]))
        d["value"] = [{k: v for k, v in m.items() if k != "@odata.context"} for m in page]
        return Resp(200, jdump(d), GRAPH_CT)


# ---------------------------------------------------------------------------------------
# Webex

class WebexAPI:
    def __init__(self, S):
        self.S = S

    def handle(self, ctx, rest, h):
        S = self.S
        ctx.platform = "webex"
        m = ctx.method
        parts = [urllib.parse.unquote(x) for x in rest.strip("/").split("/")] if rest.strip("/") else []
        if parts == ["authorize"]:
            return S.api_oauth.authorize(ctx, "webex", h)
        if parts == ["access_token"]:
            return S.api_oauth.webex_token(ctx, h)
        ep, arg = "unknown", None
        if parts == ["people"] and m == "GET":
            ep = "people"
        elif parts == ["people", "me"] and m == "GET":
            ep = "people.me"
        elif len(parts) == 2 and parts[0] == "people" and m == "GET":
            ep, arg = "people.get", parts[1]
        elif parts == ["messages"] and m == "POST":
            ep = "messages"
        elif parts == ["messages"] and m == "GET":
            ep = "messages.list"
        elif parts == ["messages", "direct"] and m == "GET":
            ep = "messages.direct"
        ctx.endpoint = ep
        if S.webex is None:
            return webex_error(404, "No Webex org in this fake's org.json.")
        if ep == "unknown":
            return webex_error(404, "The requested resource could not be found.")
        early = h.pre_checks(ctx, lambda: self.recipients(ctx, ep))
        if early is not None:
            return early
        tok = ctx.bearer()
        if tok and tok != S.sec.get("webex_token") and ep in ("people.me", "people.get"):
            u = S.api_oauth.access_user("webex", tok)      # a Sync now user's token
            if u is not None:
                ctx.token_user = u["user"]
        if not tok or (ctx.token_user is None and (tok != S.sec.get("webex_token") or
                                                   S.webex_revoked)):
            msg = "The request requires a valid access token set in the Authorization request header."
            return webex_error(401, msg, msg)
        if ("webex", ep) not in PAGED:
            r = h.apply_fault(ctx)
            if r is not None:
                return r
        return getattr(self, ep.replace(".", "_"))(ctx, arg, h)

    def recipients(self, ctx, ep):
        out = set()
        if ep == "messages":
            try:
                d = json.loads(ctx.body.decode("utf-8") or "{}")
            except (ValueError, UnicodeDecodeError):
                return out
            if isinstance(d, dict):
                for k in ("toPersonId", "toPersonEmail"):
                    if isinstance(d.get(k), str):
                        out.add(d[k].lower())
                e = d.get("toPersonEmail")
                if isinstance(e, str):
                    r = self.by_email(e)
                    if r is not None:
                        out.add(r.id.lower())
        elif ep == "messages.direct":
            for k in ("personId", "personEmail"):
                if ctx.q(k):
                    out.add(ctx.q(k).lower())
        return out

    def ok(self, body, status=200, headers=None):
        tid = "ROUTER_" + uuid.uuid4().hex.upper()[:24]
        return Resp(status, body, WEBEX_CT, (headers or []) + [("TrackingId", tid)])

    def by_email(self, e):
        e = e.strip().lower()
        for r in self.S.webex.live_recs():
            if any(str(x).lower() == e for x in r.obj.get("emails", [])):
                return r
        return None

    def people(self, ctx, arg, h):
        S = self.S
        raw = ctx.q("max")
        if raw is None:
            n = 100
        else:
            try:
                n = int(raw)
            except ValueError:
                return webex_error(400, "Invalid value for max: '%s'." % raw)
            if n < 1:
                return webex_error(400, "max must be a positive integer.")
            n = min(n, WEBEX_MAX_CAP)       # above the cap: silently the cap
        email = ctx.q("email")
        dname = ctx.q("displayName")
        ids = ctx.q("id")
        cur = ctx.q("cursor")
        start_key, page = None, 1
        if cur is not None:
            t = dec_token(cur)
            if t is None or t.get("t") != "p":
                return webex_error(400, "Invalid cursor.")
            start_key, page = t.get("k"), int(t.get("p", 1))
        if ids:
            r = h.apply_fault(ctx)
            if r is not None:
                return r
            want = [x for x in ids.split(",") if x]
            if len(want) > 85:
                return webex_error(400, "Too many ids (max 85).")
            with S.lock:
                recs = [S.webex.live(x) for x in want]
                items = [r.cache["w"] for r in recs if r is not None]
                nf = [x for x, r in zip(want, recs) if r is None]
            return self.ok(b'{"items":[' + b",".join(items) + b'],"notFoundIds":' +
                           jdump(nf or None) + b"}")
        ctx.page = page
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        f = ctx.fault

        def pred(rr):
            if rr.removed is not None:
                return False
            o = rr.obj
            if email and not any(str(x).lower() == email.lower() for x in o.get("emails", [])):
                return False
            if dname and not str(o.get("displayName", "")).lower().startswith(dname.lower()):
                return False
            return True

        cnt = 0 if (f and f.has("empty")) else max(1, n // 2) if (f and f.has("short")) else n
        with S.lock:
            start = S.webex.index(start_key) if start_key is not None else 0
            recs, nxt = S.webex.scan(start, cnt, pred)
            items = b",".join(rr.cache["w"] for rr in recs)
        hdrs = []
        if f and f.has("repeat_cursor"):
            hdrs.append(("Link", '<%s%s>; rel="next"' % (ctx.base(), ctx.h.path)))
        elif nxt is not None:
            pairs = [(k, v) for k, v in ctx.pairs if k not in ("cursor", "max")]
            pairs.append(("max", "null" if (f and f.has("maxnull")) else str(n)))
            pairs.append(("cursor", enc_token({"t": "p", "k": nxt, "p": page + 1})))
            hdrs.append(("Link", '<%s/webex/v1/people?%s>; rel="next"' % (ctx.base(), qenc(pairs))))
        return self.ok(b'{"items":[' + items + b'],"notFoundIds":null}', headers=hdrs)

    def people_get(self, ctx, arg, h):
        with self.S.lock:
            r = self.S.webex.live(arg)
            if r is None:
                return webex_error(404, "Person not found.")
            return self.ok(r.cache["w"])

    def people_me(self, ctx, arg, h):
        if ctx.token_user is not None:
            return self.people_get(ctx, ctx.token_user, h)
        o = self.S.org["webex"]
        sp = dict(o["service_person"])
        sp.update(orgId=o["org_id"], type="person", status="active")
        return self.ok(jdump(sp))

    def room_id(self, key):
        return genorg.webex_id("ROOM", str(uuid.uuid5(uuid.NAMESPACE_URL, "room:" + key)))

    def messages(self, ctx, arg, h):
        S = self.S
        try:
            d = json.loads(ctx.body.decode("utf-8") or "{}")
        except (ValueError, UnicodeDecodeError):
            return webex_error(400, "Invalid JSON in request body.")
        if not isinstance(d, dict):
            return webex_error(400, "Invalid JSON in request body.")
        to_id, to_email, room = d.get("toPersonId"), d.get("toPersonEmail"), d.get("roomId")
        given = [x for x in (to_id, to_email, room) if x]
        if len(given) != 1:
            return webex_error(400, "Exactly one of roomId, toPersonId or toPersonEmail must be "
                               "given.")
        text, md = d.get("text"), d.get("markdown")
        if not text and not md and not d.get("files"):
            return webex_error(400, "A message needs text, markdown or files.")
        if len((md or text or "").encode("utf-8")) > WEBEX_MESSAGE_MAX:
            return webex_error(400, "Message length exceeds %d bytes." % WEBEX_MESSAGE_MAX)
        w = S.org["webex"]
        with S.lock:
            r = None
            if to_id:
                r = S.webex.live(to_id)
                if r is None:
                    return webex_error(404, "Could not find a person with the given id.")
            elif to_email:
                r = self.by_email(to_email)      # unknown addresses may still be messaged
            elif room:
                hit = [m for m in S.messages if m["platform"] == "webex" and m["channel"] == room]
                if not hit:
                    return webex_error(404, "Could not find a room with the given id.")
                r = S.webex.live(hit[-1]["to"]) if hit[-1]["to"] else None
                to_email = to_email or hit[-1].get("email")
            pid = r.id if r is not None else None
            pemail = (r.obj.get("emails") or [None])[0] if r is not None else to_email
            rid = room or self.room_id(pid or to_email.lower())
            mid = genorg.webex_id("MESSAGE", str(uuid.uuid4()))
            msg = {"id": mid, "roomId": rid, "roomType": "direct"}
            if pid:
                msg["toPersonId"] = pid
            if pemail:
                msg["toPersonEmail"] = pemail
            msg["text"] = text if text else md
            if md:
                msg["markdown"] = md
            msg.update(personId=w["service_person"]["id"],
                       personEmail=w["service_person"]["emails"][0], created=now_iso_ms(),
                       isVoiceClip=False)
            S.channel_msgs[rid].append(msg)
            S.messages.append({"platform": "webex", "to": pid, "email": pemail, "channel": rid,
                               "text": msg["text"], "markdown": md, "ts": msg["created"],
                               "id": mid, "team_id": w["org_id"]})
        return self.ok(jdump(msg))

    def messages_list(self, ctx, arg, h):
        room = ctx.q("roomId")
        if not room:
            return webex_error(400, "roomId is required.")
        with self.S.lock:
            items = list(reversed(self.S.channel_msgs.get(room, [])))
        return self.ok(jdump({"items": items[:int(ctx.q("max", "50") or 50)]}))

    def messages_direct(self, ctx, arg, h):
        pid, pem = ctx.q("personId"), ctx.q("personEmail")
        if not pid and not pem:
            return webex_error(400, "personId or personEmail is required.")
        with self.S.lock:
            if pem and not pid:
                r = self.by_email(pem)
                key = r.id if r is not None else pem.lower()
            else:
                key = pid
            items = list(reversed(self.S.channel_msgs.get(self.room_id(key), [])))
        return self.ok(jdump({"items": items}))


# ---------------------------------------------------------------------------------------
# OAuth providers: authorize pages, token endpoints, user-bound tokens (README: "OAuth")

HTML_CT = "text/html; charset=utf-8"
CODE_TTL = 600                    # seconds an authorization code stays valid
USER_TTL = {"slack": 43200, "teams": 3599, "webex": 1209600}
REFRESH_TTL = {"slack": 0, "teams": 0, "webex": 7776000}    # 0: no expiry announced
PLATFORM_TITLES = {"slack": "Slack", "teams": "Microsoft", "webex": "Webex"}


def oauth_clients(org):
    """The OAuth app credentials the fake accepts, per platform of the org.  Teams uses the
    Graph app (secrets.graph_client_id / _secret); Slack and Webex take secrets.slack_client_id
    / slack_client_secret / webex_client_id / webex_client_secret when org.json has them, else
    values derived from the org's other secrets (stable for one org.json)."""
    sec = org.get("secrets", {})
    seed = hashlib.sha256(("peoplesync-fake-oauth:%s:%s" % (
        sec.get("slack_bot_token", ""), sec.get("webex_token", ""))).encode()).hexdigest()
    out = {}
    if "slack" in org:
        out["slack"] = {
            "client_id": sec.get("slack_client_id") or "%d.%d" % (
                int(seed[0:10], 16) % 10 ** 12, int(seed[10:21], 16) % 10 ** 13),
            "client_secret": sec.get("slack_client_secret") or seed[21:53]}
    if "teams" in org:
        out["teams"] = {"client_id": sec.get("graph_client_id", ""),
                        "client_secret": sec.get("graph_client_secret", "")}
    if "webex" in org:
        out["webex"] = {
            "client_id": sec.get("webex_client_id") or "C" + hashlib.sha256(
                (seed + ":webex-id").encode()).hexdigest(),
            "client_secret": sec.get("webex_client_secret") or hashlib.sha256(
                (seed + ":webex-secret").encode()).hexdigest()}
    return out


def pkce_s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def add_query(url, pairs):
    return url + ("&" if "?" in url else "?") + urllib.parse.urlencode(pairs)


def html_page(title, body, status=200):
    doc = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
           "<title>%s</title><style>body{font:15px/1.4 sans-serif;margin:1.5rem;"
           "max-width:40rem}button{margin:.2rem 0;padding:.4rem .7rem;font:inherit;"
           "text-align:left;width:100%%;overflow-wrap:anywhere}h1{overflow-wrap:anywhere}"
           "ul{list-style:none;padding:0}.fake{color:#a33}"
           "</style></head><body><p class=\"fake\">peoplesync test fake — not a real "
           "sign-in page</p>%s</body></html>\n") % (html_escape(title), body)
    return Resp(status, doc.encode("utf-8"), HTML_CT)


def html_escape(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


class OAuth:
    """The three platforms' user sign-in.  Codes and user tokens live here; they survive the
    `reset` control op (like Graph tokens) and die with the process."""

    def __init__(self, S):
        self.S = S
        self.lock = threading.Lock()
        self.codes = {}              # code -> grant dict
        self.access = {}             # (platform, access token) -> {"user","team","exp"}
        self.refresh = {}            # (platform, refresh token) -> {"user","team","exp"}
        self.slack_rotation = True
        self.ttl = dict(USER_TTL)
        self.refresh_ttl = dict(REFRESH_TTL)
        self.counts = collections.Counter()
        self.issued = {"codes": [], "access": [], "refresh": []}   # for leak checks

    # who may sign in ---------------------------------------------------------------------
    def users(self, platform):
        """(id, name, email, team) of every account that can sign in, by name."""
        S = self.S
        out = []
        ros = S.roster(platform)
        if ros is None:
            return out
        for r in ros.live_recs():
            o = r.obj
            if platform == "slack":
                if (o.get("deleted") or o.get("is_bot") or o.get("is_app_user")
                        or o.get("is_invited_user") or o["id"] == "USLACKBOT"):
                    continue
                prof = o.get("profile") or {}
                name = o.get("real_name") or prof.get("real_name") or o.get("name")
                out.append((o["id"], name, prof.get("email"),
                            o.get("team_id") or S.org["slack"]["team_id"]))
            elif platform == "teams":
                if o.get("accountEnabled") is False or \
                        o.get("externalUserState") == "PendingAcceptance":
                    continue
                out.append((o["id"], o.get("displayName"),
                            o.get("mail") or o.get("userPrincipalName"),
                            S.org["teams"]["tenant_id"]))
            else:
                if o.get("type", "person") != "person" or \
                        not truthy(o.get("loginEnabled", True)) or \
                        truthy(o.get("invitePending", False)):
                    continue
                out.append((o["id"], o.get("displayName"), (o.get("emails") or [None])[0],
                            o.get("orgId") or S.org["webex"]["org_id"]))
        out.sort(key=lambda u: (str(u[1] or "").lower(), u[0]))
        return out

    def find(self, platform, key):
        k = str(key).strip().lower()
        for u in self.users(platform):
            if u[0].lower() == k or (u[2] and u[2].lower() == k):
                return u
        return None

    # tokens -------------------------------------------------------------------------------
    def new_token(self, platform, kind):
        if platform == "slack":
            if kind == "refresh":
                return "xoxe-1-" + secrets.token_hex(60)
            return ("xoxe.xoxp-1-" if self.slack_rotation else "xoxp-") + "-".join(
                str(random.randint(10 ** 11, 10 ** 12)) for _ in range(3)) + "-" + \
                secrets.token_hex(32)
        if platform == "teams":
            if kind == "refresh":
                return "0.AU" + secrets.token_urlsafe(180)
            return None                 # Graph access tokens come from GraphAPI.new_access
        return secrets.token_urlsafe(48) + "_PF84_" + str(uuid.uuid4()) if kind == "access" \
            else secrets.token_urlsafe(60)

    def issue(self, platform, user, team, ttl=None, refresh=None):
        """New access token (and refresh token, unless refresh is given to keep) for user.
        Returns (access, refresh or None, expires_in or None, refresh_expires_in or None)."""
        ttl = self.ttl[platform] if ttl is None else int(ttl)
        now = time.time()
        if platform == "teams":
            at = self.S.api_graph.new_access("user", ttl, user)
        else:
            at = self.new_token(platform, "access")
        rotating = platform != "slack" or self.slack_rotation
        with self.lock:
            self.access[(platform, at)] = {"user": user, "team": team,
                                           "exp": now + ttl if rotating else None}
            self.issued["access"].append(at)
            rt = refresh
            if rotating and rt is None:
                rt = self.new_token(platform, "refresh")
                rttl = self.refresh_ttl[platform]
                self.refresh[(platform, rt)] = {"user": user, "team": team,
                                                "exp": now + rttl if rttl else None}
                self.issued["refresh"].append(rt)
            self.counts["tokens"] += 1
        if not rotating:
            return at, None, None, None
        return at, rt, ttl, (self.refresh_ttl[platform] or None)

    def access_user(self, platform, tok):
        """The (user, team) a live user access token belongs to, or None."""
        with self.lock:
            e = self.access.get((platform, tok))
        if e is None or (e["exp"] is not None and e["exp"] < time.time()):
            return None
        return e

    def use_refresh(self, platform, rt, rotate):
        with self.lock:
            e = self.refresh.get((platform, rt))
            if e is None or (e["exp"] is not None and e["exp"] < time.time()):
                return None
            if rotate:
                del self.refresh[(platform, rt)]
            return e

    def take_code(self, platform, code, client_id, redirect_uri):
        """The grant of a code (single use).  Returns (grant, None) or (None, reason)."""
        with self.lock:
            g = self.codes.get(code or "")
            if g is None or g["platform"] != platform:
                return None, "unknown"
            if g["used"]:
                return None, "used"
            g["used"] = True
        if g["exp"] < time.time():
            return None, "expired"
        if g["client_id"] != client_id:
            return None, "client"
        if redirect_uri:
            if redirect_uri != g["redirect_uri"]:
                return None, "redirect_uri"
        elif platform != "slack":         # Slack alone lets the exchange omit it
            return None, "redirect_uri"
        return g, None

    def revoke(self, platform=None):
        with self.lock:
            for d in (self.access, self.refresh):
                for k in [k for k in d if platform in (None, "*", k[0])]:
                    del d[k]
        if platform in (None, "*", "teams"):
            with self.S.lock:
                for k in [k for k, v in self.S.graph_access.items()
                          if len(v) > 2 and v[2] is not None]:
                    del self.S.graph_access[k]

    # authorize pages ------------------------------------------------------------------------
    def authorize(self, ctx, platform, h, tenant=None):
        S = self.S
        ctx.platform, ctx.endpoint = platform, "authorize"
        early = h.pre_checks(ctx, set)
        if early is not None:
            return early
        if S.roster(platform) is None:
            return html_page("No such org", "<p>This fake has no %s org.</p>"
                             % PLATFORM_TITLES[platform], 404)
        if ctx.method != "GET":
            return html_page("Method not allowed", "<p>GET only.</p>", 405)
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        q = {k: v[0] for k, v in ctx.query.items()}
        client = S.oauth_clients.get(platform, {})
        if platform == "teams" and tenant is not None and tenant.lower() not in (
                S.org["teams"]["tenant_id"].lower(), S.org["teams"]["tenant_domain"].lower(),
                S.org.get("domain", "").lower(), "common", "organizations"):
            return html_page("Sign in", "<p>AADSTS90002: Tenant '%s' not found.</p>"
                             % html_escape(tenant), 400)
        if q.get("client_id") != client.get("client_id"):
            return html_page("Sign in", "<p>Error: invalid_client_id — this app (client_id "
                             "%s) is not known.</p>" % html_escape(q.get("client_id", "")), 400)
        ru = q.get("redirect_uri", "")
        if not re.match(r"^https?://[^\s]+$", ru):
            return html_page("Sign in", "<p>Error: bad_redirect_uri — a redirect_uri is "
                             "required.</p>", 400)
        state = q.get("state")
        back = [("state", state)] if state is not None else []
        if platform != "slack" and q.get("response_type") != "code":
            return Resp(302, b"", HTML_CT, [("Location", add_query(
                ru, [("error", "unsupported_response_type")] + back))])
        challenge, method = q.get("code_challenge"), q.get("code_challenge_method", "plain")
        if challenge is not None and (platform != "teams" or method not in ("S256", "plain")):
            return Resp(302, b"", HTML_CT, [("Location", add_query(
                ru, [("error", "invalid_request")] + back))])
        if q.get("deny"):
            return Resp(302, b"", HTML_CT, [("Location", add_query(
                ru, [("error", "access_denied")] + back))])
        scope = q.get("user_scope", q.get("scope", "")) if platform == "slack" \
            else q.get("scope", "")
        who = q.get("user")
        if who:
            u = self.find(platform, who)
            if u is None:
                return html_page("Sign in", "<p>No account %s can sign in here.</p>"
                                 % html_escape(who), 400)
            code = secrets.token_urlsafe(32)
            with self.lock:
                self.codes[code] = {"platform": platform, "user": u[0], "team": u[3],
                                    "client_id": client["client_id"], "redirect_uri": ru,
                                    "scope": scope, "challenge": challenge, "method": method,
                                    "exp": time.time() + CODE_TTL, "used": False}
                self.counts["codes"] += 1
                self.issued["codes"].append(code)
            return Resp(302, b"", HTML_CT, [("Location", add_query(
                ru, [("code", code)] + back))])
        org = (S.org["slack"]["team_name"] if platform == "slack" else
               S.org["teams"]["tenant_domain"] if platform == "teams" else
               S.org.get("domain", ""))
        hidden = "".join('<input type="hidden" name="%s" value="%s">' % (
            html_escape(k), html_escape(v)) for k, v in q.items() if k not in ("user", "deny"))
        items = "".join(
            '<li><button type="submit" name="user" value="%s" data-email="%s">%s '
            '&lt;%s&gt;</button></li>' % (html_escape(u[0]), html_escape((u[2] or "").lower()),
                                          html_escape(u[1] or u[0]), html_escape(u[2] or "-"))
            for u in self.users(platform))
        body = ('<h1>%s — sign in to %s</h1><p>An app asks to act as you (scopes: <code>%s'
                '</code>). Pick the account to sign in as:</p><form method="get" action="%s">'
                '%s<ul>%s</ul><button type="submit" name="deny" value="1" id="deny">Cancel'
                '</button></form>') % (PLATFORM_TITLES[platform], html_escape(org),
                                       html_escape(scope), html_escape(ctx.path), hidden, items)
        return html_page("%s sign-in (fake)" % PLATFORM_TITLES[platform], body)

    # Slack: oauth.v2.access -----------------------------------------------------------------
    def slack_access(self, ctx, p, h):
        S = self.S
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        client = S.oauth_clients["slack"]
        cid, csec = p.get("client_id"), p.get("client_secret")
        auth = ctx.header("Authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                cid, csec = base64.b64decode(auth[6:].strip()).decode().split(":", 1)
            except (ValueError, UnicodeDecodeError):
                return slack_error("invalid_client_id")
        if cid != client["client_id"]:
            return slack_error("invalid_client_id")
        if csec != client["client_secret"]:
            return slack_error("bad_client_secret")
        grant = p.get("grant_type") or "authorization_code"
        app_id = S.org["slack"].get("app_id")
        if grant == "refresh_token":
            e = self.use_refresh("slack", str(p.get("refresh_token") or ""), False)
            if e is None:
                return slack_error("invalid_refresh_token")
            at, rt, ttl, _ = self.issue("slack", e["user"], e["team"],
                                        refresh=str(p["refresh_token"]))
            return Resp(200, sdump({"ok": True, "app_id": app_id, "token_type": "user",
                                    "access_token": at, "expires_in": ttl,
                                    "refresh_token": rt, "team": {"id": e["team"]},
                                    "enterprise": None, "is_enterprise_install": False}),
                        SLACK_CT)
        if grant != "authorization_code":
            return slack_error("invalid_grant_type")
        g, why = self.take_code("slack", str(p.get("code") or ""), cid,
                                p.get("redirect_uri"))
        if g is None:
            return slack_error("bad_redirect_uri" if why == "redirect_uri" else "invalid_code")
        at, rt, ttl, _ = self.issue("slack", g["user"], g["team"])
        au = {"id": g["user"], "scope": g["scope"], "access_token": at, "token_type": "user"}
        if rt:
            au.update(expires_in=ttl, refresh_token=rt)
        return Resp(200, sdump({"ok": True, "app_id": app_id, "authed_user": au,
                                "team": {"id": g["team"]}, "enterprise": None,
                                "is_enterprise_install": False}), SLACK_CT)

    # Microsoft: authorization_code and user refresh grants (called by GraphAPI.token) -------
    def ms_code(self, f):
        g, why = self.take_code("teams", f.get("code", ""), f.get("client_id", ""),
                                f.get("redirect_uri", ""))
        if g is None:
            if why == "redirect_uri":
                return token_error(400, "invalid_grant", 50011, "The redirect URI specified "
                                   "in the request does not match the redirect URIs "
                                   "configured for the application.", 50011)
            return token_error(400, "invalid_grant", 70000, "The provided authorization code "
                               "or refresh token has expired due to inactivity, was already "
                               "redeemed or is malformed.", 70000)
        if g["challenge"] is not None:
            v = f.get("code_verifier")
            if not v:
                return token_error(400, "invalid_request", 50148, "The code_verifier does "
                                   "not match the code_challenge supplied in the "
                                   "authorization request for PKCE.", 50148)
            if (pkce_s256(v) if g["method"] == "S256" else v) != g["challenge"]:
                return token_error(400, "invalid_grant", 501481, "The Code_Verifier does not "
                                   "match the code_challenge supplied in the authorization "
                                   "request.", 501481)
        return self.ms_answer(g["user"], g["team"], g["scope"] or f.get("scope", ""))

    def ms_answer(self, user, team, scope):
        at, rt, ttl, _ = self.issue("teams", user, team)
        return Resp(200, jdump({"token_type": "Bearer", "scope": scope or "User.Read",
                                "expires_in": ttl, "ext_expires_in": ttl, "access_token": at,
                                "refresh_token": rt}), TOKEN_CT)

    def ms_refresh(self, f):
        """A user's refresh token, or None when it is not one of ours (the caller goes on)."""
        rt = f.get("refresh_token", "")
        with self.lock:
            known = ("teams", rt) in self.refresh
        if not known:
            return None
        e = self.use_refresh("teams", rt, self.S.args.rotate_refresh)
        if e is None:
            return token_error(400, "invalid_grant", 700082, "The refresh token has expired "
                               "due to inactivity.", 700082)
        return self.ms_answer(e["user"], e["team"], f.get("scope", ""))

    # Webex: /access_token ---------------------------------------------------------------------
    def webex_token(self, ctx, h):
        S = self.S
        ctx.platform, ctx.endpoint = "webex", "access_token"
        early = h.pre_checks(ctx, set)
        if early is not None:
            return early
        if ctx.method != "POST":
            return webex_error(405, "Method not allowed.")
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        f = {k: v[0] for k, v in urllib.parse.parse_qs(
            ctx.body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        client = S.oauth_clients["webex"]

        def bad(status, error, message):
            resp = webex_error(status, message)
            d = json.loads(resp.body)
            d["error"] = error
            resp.body = jdump(d)
            return resp

        if f.get("client_id") != client["client_id"] or \
                f.get("client_secret") != client["client_secret"]:
            return bad(401, "invalid_client", "The client credentials are invalid.")
        grant = f.get("grant_type")
        if grant == "authorization_code":
            g, why = self.take_code("webex", f.get("code", ""), f["client_id"],
                                    f.get("redirect_uri", ""))
            if g is None:
                return bad(400, "invalid_grant", "The authorization code is invalid, expired "
                           "or was already used (%s)." % why)
            user, team = g["user"], g["team"]
        elif grant == "refresh_token":
            e = self.use_refresh("webex", f.get("refresh_token", ""), False)
            if e is None:
                return bad(400, "invalid_grant", "The refresh token provided is expired, "
                           "revoked, malformed, or invalid.")
            user, team = e["user"], e["team"]
        else:
            return bad(400, "unsupported_grant_type", "Unsupported grant_type.")
        keep = f.get("refresh_token") if grant == "refresh_token" else None
        at, rt, ttl, rttl = self.issue("webex", user, team, refresh=keep)
        tid = "ROUTER_" + uuid.uuid4().hex.upper()[:24]
        return Resp(200, jdump({"access_token": at, "expires_in": ttl, "refresh_token": rt,
                                "refresh_token_expires_in": rttl}), WEBEX_CT,
                    [("TrackingId", tid)])


# ---------------------------------------------------------------------------------------
# Control

class Control:
    def __init__(self, S):
        self.S = S

    def handle(self, ctx):
        S = self.S
        path = ctx.path.rstrip("/")
        if ctx.method == "GET":
            if path == "/_control/health":
                return self.j({"ok": True, "port": S.port})
            if path == "/_control/messages":
                plat, to = ctx.q("platform"), ctx.q("to")
                with S.lock:
                    ms = [m for m in S.messages
                          if (not plat or m["platform"] == PLATFORM_ALIASES.get(plat, plat))
                          and (not to or (m.get("to") or "") == to)]
                return self.j(ms)
            if path == "/_control/stats":
                with S.lock:
                    return self.j({"requests": dict(S.stats),
                                   "total": sum(S.stats.values()),
                                   "status": {k: {str(s): n for s, n in v.items()}
                                              for k, v in S.status_stats.items()},
                                   "ratelimited": dict(S.ratelimited),
                                   "rules": [r.describe() for r in S.faults.rules]})
            if path == "/_control/rules":
                return self.j([r.describe() for r in S.faults.rules])
            if path == "/_control/oauth":
                return self.j(self.oauth_info())
            if path == "/_control/oauth/issued":
                o = S.api_oauth
                with o.lock:
                    return self.j({k: list(v) for k, v in o.issued.items()})
            if path == "/_control/org":
                plat = PLATFORM_ALIASES.get(ctx.q("platform", ""), "")
                ros = S.roster(plat)
                if ros is None:
                    return self.j({"ok": False, "error": "unknown platform"}, 400)
                with S.lock:
                    return self.j([r.obj for r in ros.live_recs()])
            return self.j({"ok": False, "error": "unknown control path"}, 404)
        if ctx.method != "POST" or path != "/_control":
            return self.j({"ok": False, "error": "POST /_control with a JSON op"}, 405)
        try:
            d = json.loads(ctx.body.decode("utf-8"))
            if not isinstance(d, dict):
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            return self.j({"ok": False, "error": "body must be a JSON object"}, 400)
        op = d.get("op")
        fn = getattr(self, "op_" + str(op), None)
        if fn is None:
            return self.j({"ok": False, "error": "unknown op %r" % op}, 400)
        try:
            with S.lock:
                out = fn(d)
        except (ValueError, KeyError, TypeError) as e:
            return self.j({"ok": False, "error": "%s: %s" % (op, e)}, 400)
        res = {"ok": True}
        res.update(out or {})
        return self.j(res)

    def j(self, obj, status=200):
        return Resp(status, jdump(obj), "application/json")

    def roster(self, d):
        plat = PLATFORM_ALIASES.get(str(d.get("platform", "")).lower())
        ros = self.S.roster(plat) if plat and plat != "*" else None
        if ros is None:
            raise ValueError("platform must be one of the org's slack/teams/webex")
        return plat, ros

    def rec(self, d, ros, live=True):
        uid = d.get("user_id")
        r = ros.live(uid) if live else ros.get(uid)
        if r is None:
            raise KeyError("no such user %r" % uid)
        return r

    def touch(self, plat, obj):
        if plat == "slack" and "updated" in obj:
            obj["updated"] = int(time.time())
        elif plat == "webex":
            obj["lastModified"] = now_iso_ms()

    def change(self, plat, r, obj):
        S = self.S
        r.obj = obj
        r.version = S.bump()
        S.reserialize(plat, r)

    # ops --------------------------------------------------------------------------------
    def op_fail(self, d):
        r = self.S.faults.add(str(d.get("spec", "")))
        return {"rule": r.describe()}

    def op_clear_failures(self, d):
        self.S.faults.clear()

    def op_rate(self, d):
        self.S.rates.append(RateRule(str(d.get("spec", ""))))

    def op_clear_rates(self, d):
        self.S.rates = []

    def op_latency(self, d):
        self.S.latency_ms = int(d.get("ms", 0))

    def op_mutate(self, d):
        plat, ros = self.roster(d)
        r = self.rec(d, ros)
        obj = copy.deepcopy(r.obj)
        self.touch(plat, obj)
        for k, v in (d.get("set") or {}).items():
            if k == "id":
                raise ValueError("the id cannot change")
            set_path(obj, k, v)
        for k in d.get("unset") or []:
            del_path(obj, k)
        self.change(plat, r, obj)
        return {"user": obj}

    def op_deactivate(self, d):
        """Deactivate the way each platform shows it (Slack: deleted + fields dropped)."""
        plat, ros = self.roster(d)
        r = self.rec(d, ros)
        obj = copy.deepcopy(r.obj)
        self.touch(plat, obj)
        if plat == "slack":
            keep = ("id", "team_id", "name", "deleted", "profile", "is_bot", "is_app_user",
                    "updated")
            obj["deleted"] = True
            obj = {k: obj[k] for k in keep if k in obj}
        elif plat == "teams":
            obj["accountEnabled"] = False
        else:
            obj["loginEnabled"] = False if isinstance(obj.get("loginEnabled"), bool) else "false"
            obj["status"] = "inactive"
        self.change(plat, r, obj)
        return {"user": obj}

    def op_remove(self, d):
        plat, ros = self.roster(d)
        r = self.rec(d, ros)
        reason = d.get("reason", "deleted")
        if reason not in ("deleted", "changed"):
            raise ValueError("reason must be 'deleted' or 'changed'")
        r.removed = reason
        r.version = self.S.bump()
        return {"removed": r.id}

    def op_restore(self, d):
        plat, ros = self.roster(d)
        r = self.rec(d, ros, live=False)
        r.removed = None
        r.version = self.S.bump()
        return {"restored": r.id}

    def op_add(self, d):
        S = self.S
        plat, ros = self.roster(d)
        obj = d.get("user")
        if obj is None:
            S.add_seq += 1
            obj = genorg.new_account(S.org, plat, email=str(d["email"]),
                                     name=str(d.get("name") or d["email"].split("@")[0]),
                                     seed=S.add_seq, used_ids=ros.keys, uid=d.get("user_id"))
        if not isinstance(obj, dict) or not obj.get("id"):
            raise ValueError("user must be an object with an id")
        if ros.live(obj["id"]) is not None:
            raise ValueError("user %s already exists" % obj["id"])
        for k, v in (d.get("set") or {}).items():
            set_path(obj, k, v)
        r = ros.put(obj, S.bump())
        S.reserialize(plat, r)
        return {"user": obj}

    def op_shrink(self, d):
        plat, ros = self.roster(d)
        frac = float(d.get("fraction", 0.5))
        if not 0 <= frac <= 1:
            raise ValueError("fraction must be within 0..1")
        cand = [r for r in ros.live_recs() if r.id != "USLACKBOT"]
        k = int(len(cand) * frac)
        pick = random.Random("shrink:%s:%s:%d" % (plat, frac, len(cand))).sample(cand, k)
        for r in pick:
            r.removed = d.get("reason", "deleted")
            r.version = self.S.bump()
        return {"removed": len(pick), "remaining": len(cand) - k + (
            1 if ros.live("USLACKBOT") else 0)}

    def op_expire_delta_tokens(self, d):
        self.S.delta_gen = secrets.token_hex(4)

    def op_expire_tokens(self, d):
        """Graph access tokens issued so far stop working (the next call gets 401)."""
        self.S.graph_access.clear()

    def op_revoke_token(self, d):
        plat = PLATFORM_ALIASES.get(str(d.get("platform", "")).lower())
        if plat == "slack":
            self.S.slack_revoked = bool(d.get("revoked", True))
        elif plat == "webex":
            self.S.webex_revoked = bool(d.get("revoked", True))
        elif plat == "teams":
            self.S.graph_access.clear()
            self.S.graph_refresh.clear()
        else:
            raise ValueError("platform?")

    def op_clear_messages(self, d):
        self.S.messages = []
        self.S.channel_msgs.clear()
        for c in self.S.chats.values():
            c["messages"] = []

    def oauth_info(self):
        o = self.S.api_oauth
        with o.lock:
            return {"ok": True, "clients": self.S.oauth_clients,
                    "slack_rotation": o.slack_rotation, "ttl": o.ttl,
                    "refresh_ttl": o.refresh_ttl, "codes": o.counts["codes"],
                    "tokens": o.counts["tokens"],
                    "live_access": len(o.access), "live_refresh": len(o.refresh)}

    def oauth_platform(self, d, required=True):
        plat = PLATFORM_ALIASES.get(str(d.get("platform", "")).lower())
        if plat in ("slack", "teams", "webex") and self.S.roster(plat) is not None:
            return plat
        if not required and d.get("platform") in (None, "*"):
            return None
        raise ValueError("platform must be one of the org's slack/teams/webex")

    def op_oauth(self, d):
        o = self.S.api_oauth
        if "slack_rotation" in d:
            o.slack_rotation = bool(d["slack_rotation"])
        for key, table in (("ttl", o.ttl), ("refresh_ttl", o.refresh_ttl)):
            for k, v in (d.get(key) or {}).items():
                plat = PLATFORM_ALIASES.get(str(k).lower())
                if plat not in table or int(v) < 0:
                    raise ValueError("%s: want {platform: seconds >= 0}" % key)
                table[plat] = int(v)
        return self.oauth_info()

    def op_mint_user_token(self, d):
        """Tokens for a user as if they had signed in (skips the authorize page)."""
        plat = self.oauth_platform(d)
        u = self.S.api_oauth.find(plat, d.get("user_id") or d.get("user") or "")
        if u is None:
            raise KeyError("no account %r can sign in on %s" % (d.get("user_id"), plat))
        at, rt, ttl, rttl = self.S.api_oauth.issue(plat, u[0], u[3], ttl=d.get("ttl"))
        return {"access_token": at, "refresh_token": rt, "expires_in": ttl,
                "refresh_token_expires_in": rttl, "user_id": u[0], "team_id": u[3]}

    def op_revoke_user_tokens(self, d):
        """Every Sync now user token (access and refresh) of the platform (default: all)
        stops working: refresh grants answer invalid_grant / invalid_refresh_token."""
        self.S.api_oauth.revoke(self.oauth_platform(d, required=False))

    def op_reset(self, d):
        S = self.S
        S.load()
        S.faults.clear()
        for spec in S.args.fail or []:
            S.faults.add(spec)
        S.rates = [RateRule(s) for s in S.args.rate or []]
        S.latency_ms = S.args.latency


# ---------------------------------------------------------------------------------------
# HTTP

LOG_HEADERS = ("Authorization", "Content-Type", "Content-Length", "User-Agent", "Accept",
               "Accept-Encoding", "ConsistencyLevel", "Prefer", "Connection", "Expect",
               "client-request-id", "Host", "Transfer-Encoding")
_SECRET_RE = re.compile(r"((?:^|&)(?:%s)=)[^&]*" % "|".join(SECRET_KEYS))


def redact_query(query):
    out = {}
    for k, v in query.items():
        if k in SECRET_KEYS:
            v = ["<redacted>"] * len(v)
        out[k] = v[0] if len(v) == 1 else v
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "peoplesync-fake/1"
    sys_version = ""
    timeout = 300                  # idle keep-alive connections are dropped after this

    def setup(self):
        super().setup()
        try:
            # One write per response and no Nagle: small answers must not wait for ACKs.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        S = self.server.state
        with S.lock:
            S.conn_ids += 1
            self.conn_id = S.conn_ids
        self.nreq = 0

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = b""
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline(8)
                if len(out) > MAX_BODY:
                    raise ValueError("body too large")
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    # shared steps used by the platform handlers -------------------------------------------
    def pre_checks(self, ctx, recipients):
        """Counting, rate limits; called once the endpoint is known."""
        S = self.server.state
        key = "%s:%s" % (ctx.platform, ctx.endpoint)
        try:
            ctx.recipients = recipients() or set()
        except Exception:      # a malformed body is the handler's to report
            ctx.recipients = set()
        now = time.monotonic()
        with S.lock:
            for rr in S.rates:
                wait = rr.check(ctx, now)
                if wait is not None:
                    S.ratelimited[key] += 1
                    return rate_response(ctx, wait)
        return None

    def apply_fault(self, ctx):
        """Pick the failure rule for this request (ctx.page is set by paged handlers).
        Returns the error answer for status=/error= rules and RESET for `reset`; other
        actions are carried out by the handler or when sending."""
        rule = self.server.state.faults.pick(ctx)
        ctx.fault = rule
        if rule is None:
            return None
        if rule.has("reset"):
            return RESET
        if rule.status or rule.error:
            return fault_response(ctx, rule)
        return None

    def route(self, ctx):
        S = self.server.state
        p = ctx.path
        if p.startswith("/slack/api/"):
            ctx.platform = "slack"
            return S.api_slack.handle(ctx, p[len("/slack/api/"):], self)
        if p.startswith("/graph/v1.0"):
            return S.api_graph.handle(ctx, p[len("/graph/v1.0"):], self)
        m = re.match(r"^/login/([^/]+)/oauth2/v2\.0/token/?$", p)
        if m:
            return S.api_graph.token(ctx, urllib.parse.unquote(m.group(1)), self)
        m = re.match(r"^/login/([^/]+)/oauth2/v2\.0/authorize/?$", p)
        if m:
            return S.api_oauth.authorize(ctx, "teams", self, urllib.parse.unquote(m.group(1)))
        if p.rstrip("/") == "/slack/oauth/v2/authorize":
            return S.api_oauth.authorize(ctx, "slack", self)
        if p.startswith("/webex/v1/") or p == "/webex/v1":
            return S.api_webex.handle(ctx, p[len("/webex/v1"):], self)
        ctx.platform, ctx.endpoint = "none", "unknown"
        return Resp(404, jdump({"error": "no fake API at %s" % p}), "application/json")

    def serve(self):
        S = self.server.state
        t0 = time.monotonic()
        self.nreq += 1
        u = urllib.parse.urlsplit(self.path)
        pairs = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
        query = {}
        for k, v in pairs:
            query.setdefault(k, []).append(v)
        try:
            body = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self.send(None, Resp(400, b'{"error":"bad request body"}', "application/json"))
            return
        ctx = Ctx(self, self.command, u.path, query, pairs, body)
        if u.path == "/_control" or u.path.startswith("/_control/"):
            self.send(ctx, S.control.handle(ctx))
            return
        try:
            resp = self.route(ctx)
        except Exception:
            traceback.print_exc()
            resp = Resp(500, b'{"error":"fake server bug, see its stderr"}', "application/json")
        if S.latency_ms:
            time.sleep(S.latency_ms / 1000.0)
        key = "%s:%s" % (ctx.platform, ctx.endpoint)
        try:
            self.send(ctx, resp)
        finally:
            with S.lock:
                S.stats[key] += 1
                S.status_stats[key][ctx.status] += 1
            self.log_request_line(ctx, t0)

    def send(self, ctx, resp):
        f = ctx.fault if ctx is not None else None
        if f is not None and f.slow:
            time.sleep(f.slow / 1000.0)
        if resp is RESET or (f is not None and f.has("reset_after")):
            # Drop the connection with a TCP RST and no answer.
            if ctx is not None:
                ctx.status = "reset"
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()
            except OSError:
                pass
            return
        body = resp.body
        if f is not None and f.has("malformed"):
            # Still a complete HTTP answer, but the JSON's last '}' becomes ']'.
            body = body[:-1] + b"]" if body else b"{"
        if f is not None and f.has("badutf8"):
            i = body.find(b'":"')
            i = i + 3 if i >= 0 else 0
            body = body[:i] + b"\xff\xfe\xc3(" + body[i:]
        reason = http.HTTPStatus(resp.status).phrase if resp.status in \
            http.HTTPStatus._value2member_map_ else "Unknown"
        head = ["HTTP/1.1 %d %s" % (resp.status, reason),
                "Date: " + email.utils.formatdate(usegmt=True),
                "Content-Type: " + resp.ctype,
                "Content-Length: %d" % len(body)]
        for k, v in resp.headers:
            head.append("%s: %s" % (k, v))
        if ctx is not None and ctx.platform == "teams" and ctx.endpoint != "token":
            head.append("request-id: " + str(uuid.uuid4()))
            head.append("client-request-id: " + (self.headers.get("client-request-id")
                                                  or str(uuid.uuid4())))
        if self.close_connection:
            head.append("Connection: close")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        if ctx is not None:
            ctx.status = resp.status
        try:
            if f is not None and f.has("truncate"):
                # Headers promise the whole body; half of it arrives, then FIN.
                self.wfile.write(data[:len(data) - len(body) + len(body) // 2])
                self.close_connection = True
            else:
                self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def log_request_line(self, ctx, t0):
        S = self.server.state
        if S.logf is None:
            return
        hdrs = {}
        for k in LOG_HEADERS:
            v = self.headers.get(k)
            if v is None:
                continue
            if k == "Authorization":
                scheme = v.split(None, 1)[0] if v.strip() else ""
                v = "%s <redacted>" % scheme if scheme else "<redacted>"
            hdrs[k] = v
        tok = ctx.bearer()
        if tok is None:
            tok = (ctx.query.get("token") or [None])[0]
        body = None
        if ctx.method in ("POST", "PUT", "PATCH") or ctx.body:
            body = ctx.body.decode("utf-8", "replace")
            if "json" not in (self.headers.get("Content-Type") or ""):
                body = _SECRET_RE.sub(r"\1<redacted>", body)
        S.log({"ts": now_iso_ms(), "conn": self.conn_id, "conn_seq": self.nreq,
               "method": ctx.method, "path": ctx.path, "query": redact_query(ctx.query),
               "headers": hdrs, "token_present": bool(tok),
               "token_sha256": fingerprint(tok) if tok else None,
               "platform": ctx.platform, "endpoint": ctx.endpoint, "page": ctx.page,
               "status": ctx.status, "fault": ctx.fault.spec if ctx.fault else None,
               "ms": round((time.monotonic() - t0) * 1000, 2), "body": body})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def write_port_file(path, port):
    """Atomically: readers see either nothing or the whole number."""
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Loopback fakes of Slack, Graph and Webex.")
    ap.add_argument("--org", required=True, help="org.json written by genorg.py")
    ap.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    ap.add_argument("--port", type=int, default=0, help="0 = any free port")
    ap.add_argument("--port-file", help="write the port here once listening (atomically)")
    ap.add_argument("--log", help="append one JSON line per request here")
    ap.add_argument("--fail", action="extend", nargs="+", metavar="SPEC", default=[],
                    help="failure rule(s), see README.md")
    ap.add_argument("--rate", action="extend", nargs="+", metavar="P:EP=N/S", default=[],
                    help="rate limit(s), e.g. slack:chat.postMessage=50/60")
    ap.add_argument("--latency", type=int, default=0, metavar="MS",
                    help="delay every API answer by MS milliseconds")
    ap.add_argument("--token-ttl", type=int, default=3599,
                    help="lifetime of Graph access tokens in seconds (default 3599)")
    ap.add_argument("--rotate-refresh", action="store_true",
                    help="a Graph refresh token works once (default: old ones stay valid)")
    ap.add_argument("--unpaged-max", type=int, default=1000,
                    help="users.list without limit answers limit_required above this many "
                         "members (default 1000)")
    args = ap.parse_args(argv)
    if not (args.host.startswith("127.") or args.host == "localhost"):
        ap.error("--host must be a loopback address")
    try:
        for spec in args.fail:
            Rule(spec)
        for spec in args.rate:
            RateRule(spec)
    except ValueError as e:
        ap.error(str(e))
    try:
        state = State(args)
    except (OSError, ValueError) as e:
        print("fakeserver: %s: %s" % (args.org, e), file=sys.stderr)
        return 66
    state.api_slack, state.api_graph = SlackAPI(state), GraphAPI(state)
    state.api_webex, state.control = WebexAPI(state), Control(state)
    state.api_oauth = OAuth(state)
    srv = Server((args.host, args.port), Handler)
    srv.state = state
    state.port = srv.server_address[1]
    if args.port_file:
        write_port_file(args.port_file, state.port)
    print("PORT=%d" % state.port, flush=True)

    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    try:
        srv.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
