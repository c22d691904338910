#!/usr/bin/env python3
"""make bench: reconcile end to end at 10k, 100k and 1M Slack accounts against this
machine's limit for the same work (bench/limit.c), and prompts per second against the
configured rate limits, signed Slack events accepted by serve (bench/events_bench.py), and
the admin console's server time for a page of the people table at 1M people
(bench/console.c). Prints one table; with --record writes bench/RESULTS.md too.

    run_bench.py [--sizes 10000,100000,1000000] [--record] [--no-prompts] [--no-events]
                 [--console N]

Pages are pre-rendered once per size into $BENCH_DIR (default /tmp/peoplesync-bench) and
served by bench/pageserver.py with sendfile(), so the server is not the bottleneck.
Memory: RssAnon (anonymous memory, sampled from /proc every 5 ms) and VmHWM (which also
counts the pages of the LMDB map the process touched).
"""
import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import events_bench

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.environ.get("PEOPLESYNC_BIN", os.path.join(ROOT, "peoplesync"))
# The rows that borrow the e2e harness (events) run this same binary, not build/test's.
os.environ["PEOPLESYNC_BIN"] = BIN
LIMIT = os.path.join(ROOT, "build", "bench", "limit")
CONSOLE = os.path.join(ROOT, "build", "bench", "console")
PY = "/usr/bin/python3"
BENCH_DIR = os.environ.get("BENCH_DIR", "/tmp/peoplesync-bench")
LOAD_BEFORE = ""


def status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        tck = os.sysconf("SC_CLK_TCK")
        return (int(parts[11]) + int(parts[12])) / tck
    except OSError:
        return 0.0


def measure(argv, env=None):
    """Runs argv; returns wall, cpu, peak RssAnon MiB, VmHWM MiB, stdout."""
    t0 = time.time()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)
    anon = hwm = cpu = 0
    while p.poll() is None:
        anon = max(anon, status_kb(p.pid, "RssAnon"))
        hwm = max(hwm, status_kb(p.pid, "VmHWM"))
        cpu = max(cpu, cpu_seconds(p.pid))
        time.sleep(0.005)
    out, err = p.communicate()
    wall = time.time() - t0
    if p.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({p.returncode}): {err[-2000:]}")
    return dict(wall=wall, cpu=cpu, anon=anon / 1024, hwm=hwm / 1024, out=out, err=err)


class PageServer:
    def __init__(self, root):
        self.port_file = os.path.join(root, "port")
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.proc = subprocess.Popen([PY, os.path.join(HERE, "pageserver.py"), root,
                                      "--port-file", self.port_file])
        for _ in range(200):
            if os.path.exists(self.port_file):
                break
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.port = int(f.read())
        self.root = root
        self.switch(None)

    def switch(self, name):
        sw = os.path.join(self.root, "SWITCH")
        if name:
            with open(sw, "w") as f:
                f.write(name)
        elif os.path.exists(sw):
            os.unlink(sw)

    def stats(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stats") as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def requests_of(srv, before):
    now = srv.stats()
    return sum(v for k, v in now.items() if k != "/_stats") - \
        sum(v for k, v in before.items() if k != "/_stats")


def dir_mb(path):
    total = 0
    for dp, _, fs in os.walk(path):
        for f in fs:
            total += os.path.getsize(os.path.join(dp, f))
    return total / 1e6


def bench_token(work):
    tok = os.path.join(work, "tok")
    with open(tok, "w") as f:
        f.write("xoxb-bench\n")
    os.chmod(tok, 0o600)
    return tok


def bench_config(work, name, db, slack):
    """A Slack-only config: database db, slack = { <slack> }."""
    cfg = os.path.join(work, name)
    with open(cfg, "w") as f:
        f.write(f'database = "{db}";\npublic_url = "http://127.0.0.1:8099";\n'
                f'slack = {{ {slack} }};\nteams = {{ enabled = false; }};\n'
                f'webex = {{ enabled = false; }};\n')
    return cfg


def settle(pages=None):
    """Writes back what earlier runs left dirty and lets the disk go quiet, so that a
    measured run does not pay for the one before it; with pages, reads that set of served
    pages first, so that neither of two measured programs reads them from disk (the limit
    ran first and paid for it before, reconcile did not)."""
    if pages:
        for name in sorted(os.listdir(pages)):
            path = os.path.join(pages, name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    while f.read(1 << 20):
                        pass
    os.sync()
    time.sleep(2)


def load1():
    """The 1-minute load average (the machine may be shared: every figure carries it)."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def bench_size(n, work):
    pages = os.path.join(BENCH_DIR, str(n))
    if not os.path.exists(os.path.join(pages, "changed", "cursors.json")):
        subprocess.run([PY, os.path.join(HERE, "genpages.py"), str(n), pages,
                        "--changed", "0.01"], check=True, stdout=subprocess.DEVNULL)
    srv = PageServer(pages)
    try:
        url = f"http://127.0.0.1:{srv.port}/slack/api"
        load = load1()
        print(f"bench: {n:,}: load {load:.2f} before the limit", file=sys.stderr, flush=True)
        settle(pages)
        lim = measure([LIMIT, url, os.path.join(work, f"limit-{n}")])
        # each measured program starts alike: the other's database gone, nothing dirty
        shutil.rmtree(os.path.join(work, f"limit-{n}"), ignore_errors=True)
        settle(pages)
        tok = bench_token(work)
        db = os.path.join(work, f"db-{n}")
        cfg = bench_config(work, f"bench-{n}.cfg", db,
                           f'enabled = true; api_url = "{url}"; bot_token_file = "{tok}"; '
                           f'page_limit = 1000;')
        argv = [BIN, "-q", "-c", cfg, "reconcile", "--no-prompts"]
        b = srv.stats()
        full = measure(argv)
        full["requests"] = requests_of(srv, b)
        full["load"] = load
        print(f"bench: {n:,}: limit {lim['wall']:.2f} s ({lim['cpu']:.2f} s CPU), reconcile "
              f"{full['wall']:.2f} s ({full['cpu']:.2f} s CPU), ratio "
              f"{full['wall'] / lim['wall']:.2f}, load {load:.2f} -> {load1():.2f}",
              file=sys.stderr, flush=True)
        full["db_mb"] = dir_mb(db)
        b = srv.stats()
        same = measure(argv)
        same["requests"] = requests_of(srv, b)
        srv.switch("changed")
        settle(os.path.join(pages, "changed"))
        changed = measure(argv)
        srv.switch(None)
        v = subprocess.run([BIN, "-c", cfg, "db", "verify"], capture_output=True, text=True)
        return dict(n=n, limit=lim, full=full, same=same, changed=changed,
                    verify=v.returncode == 0)
    finally:
        srv.stop()
        shutil.rmtree(os.path.join(work, f"db-{n}"), ignore_errors=True)
        shutil.rmtree(os.path.join(work, f"limit-{n}"), ignore_errors=True)


def bench_grid(n, nws, work):
    """A Grid of nws workspaces, n users in all (one in five in two workspaces), pulled with
    one org-wide token: reconcile time and memory."""
    pages = os.path.join(BENCH_DIR, f"grid{nws}-{n}")
    if not os.path.exists(os.path.join(pages, "teams.json")):
        subprocess.run([PY, os.path.join(HERE, "genpages.py"), str(n), pages, "--grid",
                        str(nws)], check=True, stdout=subprocess.DEVNULL)
    srv = PageServer(pages)
    db = os.path.join(work, f"db-grid-{n}")
    try:
        url = f"http://127.0.0.1:{srv.port}/slack/api"
        tok = bench_token(work)
        cfg = bench_config(work, f"bench-grid-{n}.cfg", db,
                           f'page_limit = 1000; workspaces = ( {{ api_url = "{url}"; '
                           f'bot_token_file = "{tok}"; org_wide = true; }} );')
        b = srv.stats()
        full = measure([BIN, "-q", "-c", cfg, "reconcile", "--no-prompts"])
        full["requests"] = requests_of(srv, b)
        full["db_mb"] = dir_mb(db)
        v = subprocess.run([BIN, "-c", cfg, "db", "stats"], capture_output=True, text=True)
        m = re.search(r"accounts\s+(\d+)", v.stdout)
        ok = subprocess.run([BIN, "-c", cfg, "db", "verify"], capture_output=True).returncode
        return dict(n=n, nws=nws, full=full, accounts=int(m.group(1)) if m else -1,
                    verify=ok == 0)
    finally:
        srv.stop()
        shutil.rmtree(db, ignore_errors=True)


def bench_prompts(work):
    """Bulk prompts on three platforms against fakes enforcing the configured limits."""
    from tests.e2e.harness import make_config
    d, org, fake = events_bench.fake_org(work, "prompts", 400, 99, extra=(
        "--rate", "slack:chat.postMessage=5/1", "slack:conversations.open=5/1",
        "teams:chats=2/1", "teams:chats.messages=2/1", "webex:messages=5/1"))
    try:
        cfg = make_config(d, fake, org, ("slack", "teams", "webex"))
        with open(cfg) as f:
            text = f.read()
        text = text.replace("page_limit = 200;", "page_limit = 200; rate = { open = { "
                            "per_second = 5.0; burst = 1; }; post = { per_second = 5.0; "
                            "burst = 1; }; };")
        text = text.replace('client_secret_file = "graph.secret";',
                            'client_secret_file = "graph.secret"; rate = { chat = { '
                            'per_second = 2.0; burst = 1; }; post = { per_second = 2.0; '
                            'burst = 1; }; };')
        text = text.replace('token_file = "webex.token";', 'token_file = "webex.token"; '
                            'rate = { post = { per_second = 5.0; burst = 1; }; };')
        with open(cfg, "w") as f:
            f.write(text)
        env = dict(os.environ, PEOPLESYNC_NO_TTY="1")
        subprocess.run([BIN, "-q", "-c", cfg, "reconcile", "--no-prompts"], check=True, env=env)
        out = subprocess.run([BIN, "-c", cfg, "prompt", "--all"], capture_output=True,
                             text=True, env=env).stdout
        queued = int(re.search(r"(\d+) prompts? queued", out).group(1))
        r = subprocess.run([BIN, "-c", cfg, "reconcile"], capture_output=True, text=True,
                           env=env, timeout=3600)
        rows = []
        for pl in ("slack", "teams", "webex"):
            m = re.search(pl + r" prompts: (\d+) delivered.*?; ([0-9.]+)/s \(limit ([0-9.]+)/s\), "
                          r"(\d+) rate-limited", r.stdout)
            if m:
                rows.append(dict(platform=pl, delivered=int(m.group(1)), rate=float(m.group(2)),
                                 limit=float(m.group(3)), r429=int(m.group(4))))
        stats = fake.get("/_control/stats")
        return dict(queued=queued, rows=rows, fake429=sum(stats.get("ratelimited", {}).values()))
    finally:
        fake.stop()
        shutil.rmtree(d, ignore_errors=True)


def bench_console(work, n):
    """The admin console's server time for a page of the people table on n people
    (bench/console.c: the query of a page, its rows loaded, best of 5)."""
    db = os.path.join(work, "console-db")
    os.makedirs(db, exist_ok=True)
    try:
        out = subprocess.run([CONSOLE, db, str(n)], capture_output=True, text=True, check=True)
    finally:
        shutil.rmtree(db, ignore_errors=True)
    rows = []
    for line in out.stdout.splitlines():
        f = line.split("\t")
        if f[0] == "populate":
            populate = float(f[1]) / 1000
        elif len(f) == 5:
            rows.append(dict(case=f[0], ms=float(f[1]), rows=int(f[2]), total=int(f[3]),
                             how=f[4]))
    return dict(n=n, populate=populate, rows=rows)


def console_table(c):
    L = ["", f"console: a page of 50 of the people table, {c['n']:,} people (written through "
         f"store_person_put in {c['populate']:.1f} s), server time in the store, best of 5",
         "", "| page | ms | rows | matching | read by |", "|---|---:|---:|---:|---|"]
    for r in c["rows"]:
        L.append(f"| {r['case']} | {r['ms']:.2f} | {r['rows']} | {r['total']:,} | "
                 f"{'index cursor' if r['how'] == 'indexed' else 'people read in place, page selected'} |")
    return "\n".join(L)


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    return f"{os.cpu_count()} cores ({model}), {mem:.0f} GiB, Linux {platform.release()}"


def table(results, prompts, grid=None):
    L = []
    L.append("| accounts | load | limit s | limit CPU s | reconcile s | ratio | CPU s | RssAnon MiB | "
             "VmHWM MiB | accounts/s | DB MB | requests | rerun same s | rerun/full | rerun 1% s "
             "| verify |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        f, lim = r["full"], r["limit"]
        L.append(f"| {r['n']:,} | {f['load']:.2f} | {lim['wall']:.2f} | {lim['cpu']:.2f} | "
                 f"{f['wall']:.2f} | "
                 f"{f['wall'] / lim['wall']:.2f} | {f['cpu']:.2f} | {f['anon']:.1f} | "
                 f"{f['hwm']:.0f} | {r['n'] / f['wall']:,.0f} | {f['db_mb']:.0f} | "
                 f"{f['requests']} (min {r['n'] // 1000 + (1 if r['n'] % 1000 else 0) + 1}) | "
                 f"{r['same']['wall']:.2f} | {r['same']['wall'] / f['wall']:.2f} | "
                 f"{r['changed']['wall']:.2f} | {'ok' if r['verify'] else 'FAILED'} |")
    if grid:
        f = grid["full"]
        L.append("")
        L.append("| Enterprise Grid | accounts | reconcile s | CPU s | RssAnon MiB | VmHWM MiB | "
                 "accounts/s | DB MB | requests | verify |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        L.append(f"| {grid['nws']} workspaces, org-wide token | {grid['accounts']:,} | "
                 f"{f['wall']:.2f} | {f['cpu']:.2f} | {f['anon']:.1f} | {f['hwm']:.0f} | "
                 f"{grid['accounts'] / f['wall']:,.0f} | {f['db_mb']:.0f} | {f['requests']} | "
                 f"{'ok' if grid['verify'] else 'FAILED'} |")
    if prompts:
        L.append("")
        L.append(f"prompts: {prompts['queued']} queued in bulk; fake's 429 count: "
                 f"{prompts['fake429']}")
        L.append("")
        L.append("| platform | delivered | prompts/s | limit/s | of limit | 429s |")
        L.append("|---|---:|---:|---:|---:|---:|")
        for p in prompts["rows"]:
            L.append(f"| {p['platform']} | {p['delivered']} | {p['rate']:.2f} | "
                     f"{p['limit']:.2f} | {100 * p['rate'] / p['limit']:.1f}% | {p['r429']} |")
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--no-prompts", action="store_true")
    ap.add_argument("--no-events", action="store_true")
    ap.add_argument("--grid", type=int, default=300000,
                    help="accounts of the 3-workspace Enterprise Grid row (0: none)")
    ap.add_argument("--console", type=int, default=1000000,
                    help="people in the console's benchmark (0: none)")
    a = ap.parse_args()
    global LOAD_BEFORE
    LOAD_BEFORE = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"bench: {LOAD_BEFORE}", file=sys.stderr, flush=True)
    os.makedirs(BENCH_DIR, exist_ok=True)
    work = tempfile.mkdtemp(prefix="run-", dir=BENCH_DIR)
    results = []
    console = None
    try:
        for n in [int(x) for x in a.sizes.split(",")]:
            print(f"bench: {n:,} accounts ...", file=sys.stderr, flush=True)
            results.append(bench_size(n, work))
        grid = None
        if a.grid:
            print(f"bench: Enterprise Grid, 3 workspaces, {a.grid:,} accounts ...",
                  file=sys.stderr, flush=True)
            grid = bench_grid(a.grid, 3, work)
        prompts = None if a.no_prompts else bench_prompts(work)
        events = None if a.no_events else events_bench.bench_events(work, BIN)
        if a.console:
            print(f"bench: console, {a.console:,} people ...", file=sys.stderr, flush=True)
            console = bench_console(work, a.console)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    t = table(results, prompts, grid)
    if events:
        t += "\n\n" + events_bench.table(events)
    if console:
        t += console_table(console)
    print(t)
    if a.record:
        path = os.path.join(HERE, "RESULTS.md")
        notes = ""
        if os.path.exists(path):       # the notes under the table are kept (## Notes ...)
            with open(path) as f:
                old = f.read()
            if "\n## Notes" in old:
                notes = old[old.index("\n## Notes"):]
        with open(path, "w") as f:
            f.write("# peoplesync benchmark results\n\n")
            f.write(f"Machine: {machine()}. Recorded {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
                    f"by `make bench-record`.\n\n")
            f.write(f"Load before the run (`uptime`): {LOAD_BEFORE}\n\n")
            f.write("`limit`: bench/limit.c, the honest ceiling — the same pages fetched with "
                    "one keep-alive libcurl handle, the next page asked for as soon as this "
                    "one's cursor is known and before its members are stored (as reconcile "
                    "does), tokenized with jsmn (JSMN_PARENT_LINKS, no "
                    "separate validation pass), and per account a compact record of the "
                    "fields reconcile keeps (id, team, flags, email, names, tz, updated; escapes "
                    "decoded) under reconcile's key shape, in LMDB write transactions of 10,000 "
                    "with MDB_NOSYNC and one sync at the end. It does no identity, history, "
                    "staging or merge, in one thread. `reconcile`: a full pull into an empty database "
                    "(people, indexes, history too; a first pull, so merged as it arrives). Requests: users.list pages of 1,000 (the API's "
                    "maximum) plus one auth.test. `load`: the 1-minute load average just "
                    "before the size's limit run (the machine may be shared). CPU s: user + "
                    "system time of the process. Before each of the two runs (and the rerun of "
                    "1%): every served page read once (from the page cache then, for both), "
                    "os.sync() and 2 s of quiet, and the limit's database removed before "
                    "reconcile runs.\n\n")
            f.write(t + "\n")
            f.write(notes)


if __name__ == "__main__":
    main()
