#!/usr/bin/env python3
"""Peak memory of a full Slack pull at several roster sizes.

For each size: generate an org, serve it from the fake, run `./peoplesync reconcile` on a
fresh database under /usr/bin/time -v, sampling RssAnon from /proc/PID/status every 5 ms.
Prints one row per size: accounts, wall s, peak RssAnon MiB, VmHWM MiB, max RSS (time -v).
The roster is processed page by page, so RssAnon must not grow with the roster.

usage: bench/rss.py [SIZE ...]      (default: 5000 50000)
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
import genorg  # noqa: E402
from harness import Fake, make_config  # noqa: E402

BIN = os.path.join(ROOT, "peoplesync")


def status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def measure(size):
    work = tempfile.mkdtemp(prefix="ps-rss-")
    fake = None
    try:
        org = genorg.generate(people=size, seed=5, platforms=("slack",), mix="truth")
        path = os.path.join(work, "org.json")
        with open(path, "w") as f:
            json.dump(org, f)
        fake = Fake(work, path)
        cfg = make_config(work, fake, org, ("slack",))
        t0 = time.time()
        p = subprocess.Popen(["/usr/bin/time", "-v", BIN, "-q", "-c", cfg, "reconcile"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        child = None
        peak_anon = hwm = 0
        while p.poll() is None:
            if child is None:
                try:
                    kids = open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()
                    child = int(kids[0]) if kids else None
                except OSError:
                    pass
            if child:
                a = status_kb(child, "RssAnon")
                h = status_kb(child, "VmHWM")
                if a:
                    peak_anon = max(peak_anon, a)
                if h:
                    hwm = max(hwm, h)
            time.sleep(0.005)
        err = p.stderr.read()
        wall = time.time() - t0
        if p.returncode != 0:
            raise SystemExit(f"reconcile failed at {size}: {err}")
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
        maxrss = int(m.group(1)) if m else 0
        return dict(accounts=len(org["slack"]["members"]), wall=wall,
                    anon=peak_anon / 1024, hwm=hwm / 1024, maxrss=maxrss / 1024)
    finally:
        if fake:
            fake.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [5000, 50000]
    print(f"{'accounts':>9} {'wall s':>7} {'RssAnon MiB':>12} {'VmHWM MiB':>10} "
          f"{'maxRSS MiB':>11}")
    for s in sizes:
        r = measure(s)
        print(f"{r['accounts']:>9} {r['wall']:>7.1f} {r['anon']:>12.1f} {r['hwm']:>10.1f} "
              f"{r['maxrss']:>11.1f}", flush=True)


if __name__ == "__main__":
    main()
