"""server.py -- the HTTP side of the fake: the server State (org, rosters, tokens,
messages, counters, faults, the request log), the request Handler (body reading, routing to
the platform modules, rate limits and faults, sending, one JSON line per request in the
log) and the threading Server."""

import collections
import email.utils
import http
import http.server
import json
import os
import re
import secrets
import socket
import struct
import threading
import time
import traceback
import urllib.parse
import uuid

from .events import Events
from .core import Ctx, Resp, RESET, Roster, fingerprint, jdump, now_iso_ms, sdump
from .faults import Faults, RateRule, fault_response, rate_response
from .oauth import oauth_clients

MAX_BODY = 8 * 1024 * 1024
SECRET_KEYS = ("client_secret", "refresh_token", "code", "token", "client_assertion",
               "access_token", "code_verifier")


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
        self.events = Events(self)
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
        # the bot scopes auth.test reports (X-OAuth-Scopes): a Slack app created from
        # `peoplesync slack-manifest`; the `slack_scopes` control op changes them
        self.slack_scopes = ("users:read,users:read.email,chat:write,im:write,im:history,"
                             "team:read")
        # the application permissions of the Graph app (roles claim of its tokens)
        self.graph_roles = ["User.Read.All", "Organization.Read.All", "Chat.Read.All"]
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
            return S.api_oauth.ms_token(ctx, urllib.parse.unquote(m.group(1)), self)
        m = re.match(r"^/login/([^/]+)/oauth2/v2\.0/devicecode/?$", p)
        if m:
            return S.api_oauth.ms_devicecode(ctx, urllib.parse.unquote(m.group(1)), self)
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
