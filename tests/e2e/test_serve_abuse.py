"""End-to-end: `peoplesync serve` under abuse and misuse (issue 15's probe, on loopback).

Trickling sockets from one client, a second client beside them, thousands of opens of one
link, a session that outlives its link, a second serve on the same address, and a clean
start that logs no warning. Every load is bounded in count and time and goes to loopback.
"""
import base64
import hashlib
import hmac
import http.client
import os
import re
import socket
import struct
import subprocess
import time
import urllib.parse

from tests.e2e.harness import BIN
from tests.e2e.test_serve import PLATFORMS, Browser, Serve, ServeCase


class ServeAbuse(ServeCase):
    # start ------------------------------------------------------------------------------------
    def test_clean_start_logs_no_warning(self):
        log = self.serve.log()
        self.assertIn("listening on", log)
        self.assertNotIn("level=warn", log)
        self.assertNotIn("level=error", log)
        self.assertNotIn("MHD_OPTION", log)

    def test_second_serve_on_the_same_address_exits(self):
        addr = "127.0.0.1:%d" % self.port
        t0 = time.time()
        r = subprocess.run([BIN, "-c", self.cfg, "serve", "--listen", addr],
                           capture_output=True, text=True, timeout=20,
                           env=dict(os.environ, PEOPLESYNC_NO_TTY="1"))
        self.assertEqual(r.returncode, 69, r.stderr)
        self.assertLess(time.time() - t0, 10)
        self.assertIn("cannot listen on " + addr, r.stderr)
        self.assertIn("Address already in use", r.stderr)
        # the first one still answers, alone
        for _ in range(20):
            st, url, h, page = Browser().open(self.serve.base + "/healthz")
            self.assertEqual((st, page), (200, "ok\n"))

    # sessions -----------------------------------------------------------------------------------
    def test_a_session_does_not_outlive_its_link(self):
        t = self.pick(0)
        now = int(time.time())
        ttl = 168 * 3600
        # a link that expires in two minutes; the session started now would live an hour
        link = self.link(t, env={"PEOPLESYNC_NOW": str(now - ttl + 120)})
        b = Browser()
        st, url, h, page = b.open(link)
        self.assertEqual(st, 200, page)
        for p in PLATFORMS:
            url, page = self.connect(b, p, self.account(t, p)["user_id"])
        self.assertIn("Choose your primary team", page)
        # five minutes on (the server's clock), the link has expired: the session with it
        self.serve.stop()
        self.serve = Serve(self.cfg, self.dir, self.port, env={"PEOPLESYNC_NOW": str(now + 300)})
        st, url, h, page = self.choose(b, page, "teams", self.account(t, "teams")["team_id"])
        self.assertEqual(st, 410, page)
        self.assertIn("expired", page)
        self.assertEqual(self.person(t["email"])["status"], "off")
        st, url, h, page = b.open(self.serve.base + "/sync")
        self.assertEqual(st, 410, page)
        st, url, h, page = b.open(self.serve.base + "/connect/slack", follow=False)
        self.assertEqual(st, 410, page)


def kv_entries(case):
    r = case.ps("db", "stats")
    case.assertRc(r, 0)
    m = re.search(r"^kv\s+(\d+)", r.out, re.M)
    case.assertTrue(m, r.out)
    return int(m.group(1))


def get_many(port, paths):
    """GET each path on one keep-alive connection, no cookies: the statuses."""
    out = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for p in paths:
            conn.request("GET", p)
            r = conn.getresponse()
            r.read()
            out.append(r.status)
    finally:
        conn.close()
    return out


class SessionBounds(ServeCase):
    """A 3 MB map, as in the probe: one link opened thousands of times filled it."""
    serve_extra = "map_size_mb = 3;\n"
    PER_LINK = 4                        # web/sessions.c
    MAP_SHARE = 8192                    # include/store.h: one session per 8 KiB of map

    def mint(self, pid, key, n):
        """n fresh links for person pid, made as linktoken_make() does."""
        exp = int(time.time()) + 3600
        out = []
        for _ in range(n):
            body = bytes([1]) + struct.pack(">QQ", pid, exp) + os.urandom(16)
            tok = base64.urlsafe_b64encode(body + hmac.new(key, body, hashlib.sha256).digest())
            out.append("/s/" + tok.decode().rstrip("="))
        return out

    def test_one_link_opened_thousands_of_times(self):
        t = self.pick(0)
        path = urllib.parse.urlsplit(self.link(t)).path
        before = kv_entries(self)
        st = get_many(self.port, [path] * 2000)
        self.assertEqual(set(st), {303})
        # the link's sessions (and their index entries) stay at the bound
        self.assertLessEqual(kv_entries(self) - before, 2 * self.PER_LINK)
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        # and the link still works for its person
        b = Browser()
        st, url, h, page = b.open(self.link(t))
        self.assertEqual(st, 200, page)
        self.assertIn("Connect Slack", page)

    def test_many_links_fill_no_more_than_the_bound(self):
        t = self.pick(0)
        tok = self.link(t).rsplit("/", 1)[1]
        pid = struct.unpack(">Q", base64.urlsafe_b64decode(tok + "=")[1:9])[0]
        with open(os.path.join(self.dir, "link.key"), "rb") as f:
            key = f.read()
        # the key as the config reads it: the file's bytes (found by a link's signature)
        keys = [key, key.rstrip(b"\n")]
        key = next(k for k in keys if get_many(self.port, self.mint(pid, k, 1)) == [303])
        cap = 3 * 1024 * 1024 // self.MAP_SHARE
        before = kv_entries(self)
        st = get_many(self.port, self.mint(pid, key, cap + 40))
        self.assertEqual(st.count(503), 41, st)         # the one before, and 40 past the cap
        self.assertEqual(set(st[-40:]), {503})
        self.assertLessEqual(kv_entries(self) - before, 2 * cap)
        st, url, h, page = Browser().open(self.link(t))
        self.assertEqual(st, 503, page)
        self.assertIn("try again in a few minutes", page)
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)


class SlowClients(ServeCase):
    """Sockets that trickle a header line now and then, as the probe's did."""
    DEADLINE = 10                       # web/guard.c: seconds to deliver a whole request

    def trickler(self, src="127.0.0.1"):
        s = socket.socket()
        s.bind((src, 0))
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", self.port))
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            pass                        # refused at once: fine
        return s

    def healthz(self, src):
        """Seconds a fresh connection from src takes to get "ok" (fails the test if none)."""
        t0 = time.time()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5,
                                          source_address=(src, 0))
        try:
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            self.assertEqual((r.status, r.read()), (200, b"ok\n"))
        finally:
            conn.close()
        return time.time() - t0

    def test_trickling_sockets_do_not_shut_serve_out(self):
        socks = [self.trickler() for _ in range(70)]
        time.sleep(1)                   # serve takes them all in (most pushed out at once)
        try:
            for i in range(6):          # three seconds of trickling
                for s in socks:
                    try:
                        s.sendall(b"X-Slow-%d: 1\r\n" % i)
                    except OSError:
                        pass
                self.assertLess(self.healthz("127.0.0.1"), 1.0)     # the same client
                self.assertLess(self.healthz("127.0.0.2"), 1.0)     # another one
                time.sleep(0.5)
        finally:
            for s in socks:
                s.close()

    def test_trickling_does_not_extend_the_deadline(self):
        s = self.trickler()
        t0 = time.time()
        closed = None
        try:
            while time.time() - t0 < self.DEADLINE + 5:
                try:
                    s.sendall(b"X-Slow: 1\r\n")
                    s.settimeout(1)
                    if s.recv(4096) == b"":
                        closed = time.time() - t0
                        break
                except socket.timeout:
                    continue
                except OSError:
                    closed = time.time() - t0
                    break
        finally:
            s.close()
        self.assertIsNotNone(closed, "a trickling socket was kept past the deadline")
        self.assertGreater(closed, self.DEADLINE - 1)
        # a whole request in time is answered as always, and keep-alive still works
        self.assertEqual(get_many(self.port, ["/healthz"] * 3), [200] * 3)
