"""events_bench.py -- `make bench`'s event rows: signed Slack events accepted per second by
`serve` on loopback (every one committed to the inbox before its 2xx), the time to the 2xx at
a steady 500 events/s (p50, p99), and the time from an event to its queued prompt (the 2xx,
then the next run's drain).

The load comes from two client processes, each with keep-alive connections sending
pre-signed requests (raw HTTP on sockets: the client must not be the bottleneck); distinct
messages, so none is a duplicate. Afterwards `db stats` must show every event pending."""
import hashlib
import hmac
import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SECRET = "bench-signing-secret-0123456789ab"
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests", "fakes")]


def requests_for(port, start, n):
    """n signed event_callback requests (raw bytes), messages start..start+n-1."""
    out = []
    ts = str(int(time.time()))
    for i in range(start, start + n):
        env = {"type": "event_callback", "team_id": "T0BENCH", "api_app_id": "A0BENCH",
               "event_id": "Ev%08d" % i, "event_time": int(ts),
               "event": {"type": "message", "channel_type": "im", "channel": "D0BENCH%04d" % (i % 97),
                         "user": "U0S%06d" % i, "text": "bench message", "ts": "%s.%06d" % (ts, i),
                         "event_ts": "%s.%06d" % (ts, i)},
               "authorizations": [{"team_id": "T0BENCH", "user_id": "U0R%06d" % (i % 50),
                                   "is_bot": False}]}
        body = json.dumps(env).encode()
        sig = "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body,
                               hashlib.sha256).hexdigest()
        head = ("POST /events/slack HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                "Content-Type: application/json\r\nX-Slack-Request-Timestamp: %s\r\n"
                "X-Slack-Signature: %s\r\nContent-Length: %d\r\n\r\n"
                % (port, ts, sig, len(body))).encode()
        out.append(head + body)
    return out


def read_reply(sock, buf):
    """One HTTP reply off a keep-alive socket: (status, rest of buf)."""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("closed")
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
    n = int(m.group(1)) if m else 0
    while len(rest) < n:
        rest += sock.recv(65536)
    return status, rest[n:]


def client(port, reqs, rate, q):
    """Sends reqs over one connection; rate > 0 paces them (open loop per connection).
    Puts (statuses, latencies) on q."""
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf, sts, lat = b"", [], []
    t0 = time.monotonic()
    for i, r in enumerate(reqs):
        if rate:
            due = t0 + i / rate
            d = due - time.monotonic()
            if d > 0:
                time.sleep(d)
        a = time.monotonic()
        s.sendall(r)
        st, buf = read_reply(s, buf)
        lat.append(time.monotonic() - a)
        sts.append(st)
    s.close()
    q.put((sts, lat))


def blast(port, start, n, conns, rate=0.0):
    reqs = requests_for(port, start, n)
    q = multiprocessing.Queue()
    per = [reqs[i::conns] for i in range(conns)]
    procs = [multiprocessing.Process(target=client, args=(port, p, rate / conns if rate else 0,
                                                          q)) for p in per]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    res = [q.get() for _ in procs]
    wall = time.monotonic() - t0
    for p in procs:
        p.join()
    sts = [x for r in res for x in r[0]]
    lat = sorted(x for r in res for x in r[1])
    return dict(wall=wall, ok=sum(1 for s in sts if s == 200), n=n, lat=lat)


def pct(lat, p):
    return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000 if lat else float("nan")


def fake_org(work, what, people, seed, extra=()):
    """A directory under work, a three-platform org of people written there, and the fake
    serving it (with extra arguments): (dir, org, fake)."""
    import genorg
    from tests.e2e.harness import Fake
    d = tempfile.mkdtemp(prefix="ps-bench-%s-" % what, dir=work)
    org = genorg.generate(people=people, seed=seed, platforms=("slack", "teams", "webex"))
    path = os.path.join(d, "org.json")
    with open(path, "w") as f:
        json.dump(org, f)
    return d, org, Fake(d, path, extra=extra)


def bench_events(work, binary):
    from tests.e2e.harness import people_jsonl, write_secret
    from tests.e2e.test_serve import free_port, serve_config
    d, org, fake = fake_org(work, "events", 60, 21)
    env = dict(os.environ, PEOPLESYNC_NO_TTY="1")
    serve = None
    try:
        port = free_port()
        cfg = serve_config(d, fake, org, port)
        write_secret(os.path.join(d, "slack.signing"), SECRET)
        with open(cfg) as f:
            text = f.read()
        text = text.replace('page_limit = 200;', 'page_limit = 200; auto_sync = true; '
                            'signing_secret_file = "slack.signing";', 1)
        text = text.replace('"corp.com") ); };', '"corp.com") ); '
                            'platform_order = ["teams", "webex", "slack"]; };', 1)
        text += 'events = { catchup_hours = 0; };\n'     # the receiver and the drain alone
        with open(cfg, "w") as f:
            f.write(text)

        def ps(*args):
            return subprocess.run([binary, "-c", cfg] + list(args), capture_output=True,
                                  text=True, env=env, check=True)
        ps("reconcile", "--no-prompts")
        ps("auto-prompt", "on")
        errf = open(os.path.join(d, "serve.log"), "w")
        serve = subprocess.Popen([binary, "-c", cfg, "serve", "--listen",
                                  "127.0.0.1:%d" % port], stderr=errf, env=env)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.05)
        n = int(os.environ.get("BENCH_EVENTS", "6000"))
        thr = blast(port, 0, n, 8)
        steady = blast(port, n, 2500, 8, rate=500.0)
        st = ps("db", "stats").stdout
        pending = int(re.search(r"event inbox: (\d+) pending", st).group(1))
        t0 = time.monotonic()
        ps("events", "ingest", "/dev/null")            # drains the inbox: the rule on each
        drain = time.monotonic() - t0
        # one real event: an off person writes to a synced one, then the next run's drain
        people = people_jsonl(cfg)
        acct = lambda p: next((a["user_id"] for a in p["accounts"]        # noqa: E731
                               if a["active"] and a["platform"] == "slack"), None)
        su = next(acct(p) for p in people if p["status"] == "off" and p["active"] and acct(p))
        ru = next(acct(p) for p in people if p["status"] == "on" and acct(p))
        fake.control({"op": "events_config", "config": {"slack": {
            "url": "http://127.0.0.1:%d/events/slack" % port, "signing_secret": SECRET}}})
        t0 = time.monotonic()
        dl = fake.control({"op": "send_dm", "platform": "slack", "from": su, "to": ru,
                           "no_retry": True})["deliveries"]
        while not all(x["done"] for x in fake.get("/_control/deliveries") if x["id"] in dl):
            time.sleep(0.002)
        to_2xx = time.monotonic() - t0
        t1 = time.monotonic()
        r = ps("reconcile", "--no-prompts")
        run_s = time.monotonic() - t1
        t1 = time.monotonic()
        ps("events", "ingest", "/dev/null")
        one_drain = time.monotonic() - t1
        queued = "1 auto-prompts queued" in r.stdout
        return dict(n=n, thr=thr, steady=steady, pending=pending, expect=n + 2500,
                    drain=drain, to_2xx=to_2xx, run_s=run_s, one_drain=one_drain,
                    queued=queued)
    finally:
        if serve is not None:
            serve.terminate()
            serve.wait()
        fake.stop()
        shutil.rmtree(d, ignore_errors=True)


def table(e):
    t, s = e["thr"], e["steady"]
    L = ["| signed Slack events | accepted/s | 2xx | p50 ms | p99 ms | durable (pending after) |",
         "|---|---:|---:|---:|---:|---|",
         f"| {t['n']:,} as fast as 8 connections go | {t['n'] / t['wall']:,.0f} | "
         f"{t['ok']:,} | {pct(t['lat'], .5):.1f} | {pct(t['lat'], .99):.1f} | |",
         f"| 2,500 at 500/s | {s['n'] / s['wall']:,.0f} | {s['ok']:,} | "
         f"{pct(s['lat'], .5):.1f} | {pct(s['lat'], .99):.1f} | "
         f"{e['pending']:,} of {e['expect']:,} |",
         "",
         f"event to queued prompt: {e['to_2xx'] * 1000:.0f} ms to the 2xx (fake Slack, one "
         f"DM), then the next reconcile's drain ({'queued' if e['queued'] else 'NOT queued'}; "
         f"the whole run {e['run_s']:.2f} s); draining {e['expect']:,} events through the "
         f"rule: {e['drain']:.2f} s ({e['expect'] / e['drain']:,.0f} events/s)"]
    return "\n".join(L)


if __name__ == "__main__":
    w = tempfile.mkdtemp(prefix="ps-bench-")
    try:
        print(table(bench_events(w, os.environ.get("PEOPLESYNC_BIN",
                                                   os.path.join(ROOT, "peoplesync")))))
    finally:
        shutil.rmtree(w, ignore_errors=True)
