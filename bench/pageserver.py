#!/usr/bin/env python3
"""Serves pre-rendered users.list pages (bench/genpages.py) on loopback, fast: each answer
is one sendfile() of a file written beforehand, so the server is not the bottleneck.

    pageserver.py DIR --port-file F [--token T]

GET /slack/api/users.list?limit=..&cursor=.. -> DIR/<page for cursor>; POST /slack/api/auth.test.
A Grid set (genpages.py --grid): users.list?team_id=T.. pages, GET auth.teams.list.
Counts requests per path in DIR-independent memory; GET /_stats returns them. SIGTERM stops it.
A file DIR/SWITCH naming another directory (e.g. "changed") serves that set from then on.
"""
import http.server
import json
import os
import socketserver
import sys
import urllib.parse

ROOT = sys.argv[1]
PORT_FILE = sys.argv[sys.argv.index("--port-file") + 1]
STATS = {}


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def base(self):
        sw = os.path.join(ROOT, "SWITCH")
        if os.path.exists(sw):
            with open(sw) as f:
                return os.path.join(ROOT, f.read().strip())
        return ROOT

    def send_body(self, body, ctype="application/json; charset=utf-8"):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        path = urllib.parse.urlsplit(self.path).path
        STATS[path] = STATS.get(path, 0) + 1
        if path.endswith("/auth.test"):
            self.send_body(b'{"ok":true,"url":"https:\\/\\/bench.slack.com\\/","team":"Bench Corp",'
                           b'"user":"peoplesync","team_id":"T0BENCH01","user_id":"U0BOT"}')
        else:
            self.send_error(404)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        STATS[u.path] = STATS.get(u.path, 0) + 1
        if u.path == "/_stats":
            self.send_body(json.dumps(STATS).encode())
            return
        base = self.base()
        if u.path.endswith("/auth.teams.list"):      # an Enterprise Grid set (--grid)
            with open(os.path.join(base, "teams.json"), "rb") as f:
                self.send_body(f.read())
            return
        if not u.path.endswith("/users.list"):
            self.send_error(404)
            return
        q = urllib.parse.parse_qs(u.query)
        cur = q.get("cursor", [""])[0]
        if "team_id" in q:
            cur = q["team_id"][0] + "|" + cur
        with open(os.path.join(base, "cursors.json")) as f:
            cursors = json.load(f)   # small: one entry per page
        name = cursors.get(cur)
        if name is None:
            self.send_body(b'{"ok":false,"error":"invalid_cursor"}')
            return
        path = os.path.join(base, name)
        size = os.path.getsize(path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        self.wfile.flush()
        with open(path, "rb") as f:
            off = 0
            while off < size:
                off += os.sendfile(self.connection.fileno(), f.fileno(), off, size - off)


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = S(("127.0.0.1", 0), H)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
srv.serve_forever()
