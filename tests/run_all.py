#!/usr/bin/env python3
"""Runs every test of peoplesync and prints one closing line 'N passed, N failed'.

    run_all.py [unit] [e2e] [browser]     (no argument: all three; `make e2e` runs `e2e`)

Unit tests: every binary under build/test/unit (cmocka, built with ASan + UBSan).
End-to-end tests: tests/e2e/test_*.py (unittest) against the loopback fakes.
Browser tests: tests/browser/*.test.mjs, each one test, run with node (pass = exit 0).
Exit status 0 only when everything passed.
"""
import glob
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ,
           ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1",
           UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")


def run_units(only=None):
    passed = failed = 0
    bins = sorted(glob.glob(os.path.join(ROOT, "build/test/unit/test_*")))
    if only:
        bins = [b for b in bins if os.path.basename(b) in only]
    for b in bins:
        name = os.path.basename(b)
        t0 = time.time()
        p = subprocess.run([b], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, errors="replace")
        out = p.stdout
        ok = sum(int(m) for m in re.findall(r"\[  PASSED  \] (\d+) test", out))
        bad = sum(int(m) for m in re.findall(r"\[  FAILED  \] (\d+) test", out))
        if p.returncode != 0 and bad == 0:
            bad = 1          # crashed or a sanitizer stopped it
        passed += ok
        failed += bad
        status = "ok" if p.returncode == 0 and bad == 0 else "FAILED"
        print(f"unit {name}: {ok} passed, {bad} failed ({time.time() - t0:.1f}s) {status}")
        if status != "ok":
            print(out[-6000:])
    return passed, failed


def run_e2e():
    e2e = os.path.join(ROOT, "tests", "e2e")
    if not glob.glob(os.path.join(e2e, "test_*.py")):
        return 0, 0
    t0 = time.time()
    p = subprocess.run([sys.executable, "-m", "unittest", "discover", "-s", e2e, "-t", ROOT,
                        "-p", "test_*.py", "-v"], cwd=ROOT, env=ENV,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors="replace")
    out = p.stdout
    m = re.search(r"^Ran (\d+) tests? in", out, re.M)
    ran = int(m.group(1)) if m else 0
    bad = 0
    m = re.search(r"^FAILED \((.*)\)", out, re.M)
    if m:
        # "failures=1, expected failures=2": expected failures are no failures
        for k, v in re.findall(r"(?:^|, )(failures|errors)=(\d+)", m.group(1)):
            bad += int(v)
    skipped = 0
    m = re.search(r"skipped=(\d+)", out)
    if m:
        skipped = int(m.group(1))
    if p.returncode != 0 and bad == 0:
        bad = 1
    # expected failures: known bugs, written down as tests (see the comment above each)
    m = re.search(r"expected failures=(\d+)", out)
    xfail = int(m.group(1)) if m else 0
    good = max(ran - bad - skipped - xfail, 0)
    lines = [l for l in out.splitlines()
             if re.search(r"\.\.\. (ok|FAIL|ERROR|skipped|expected failure|unexpected success)", l)]
    for l in lines:
        print("e2e", l)
    if p.returncode != 0:
        print(out[-20000:])
    print(f"e2e: {good} passed, {bad} failed, {skipped} skipped"
          f"{f', {xfail} expected failures (known bugs)' if xfail else ''} "
          f"({time.time() - t0:.1f}s)")
    return good, bad


def run_browser():
    """Each tests/browser/NAME.test.mjs is one test: `node FILE`, passed when it exits 0.
    Skipped, loudly, only when Chromium or tests/browser/node_modules is missing
    (scripts/deps.sh installs both)."""
    passed = failed = 0
    tests = sorted(glob.glob(os.path.join(ROOT, "tests", "browser", "*.test.mjs")))
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    modules = os.path.join(ROOT, "tests", "browser", "node_modules", "playwright-core")
    missing = [what for what, ok in ((chromium, os.access(chromium, os.X_OK)),
                                     (modules, os.path.isdir(modules))) if not ok]
    if tests and missing:
        print(f"browser: SKIPPED {len(tests)} test(s): {' and '.join(missing)} missing "
              f"(run scripts/deps.sh as root)")
        return 0, 0
    for t in tests:
        name = os.path.basename(t)
        t0 = time.time()
        try:
            p = subprocess.run(["node", t], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace",
                               timeout=600)
            ok, out = p.returncode == 0, p.stdout
        except subprocess.TimeoutExpired as e:
            ok, out = False, (e.stdout or b"").decode(errors="replace") + "\ntimed out"
        except FileNotFoundError:
            ok, out = False, "node is not installed"
        passed += ok
        failed += not ok
        print(f"browser {name}: {'ok' if ok else 'FAILED'} ({time.time() - t0:.1f}s)")
        if not ok:
            print(out[-6000:])
    return passed, failed


SECTIONS = {"unit": run_units, "e2e": run_e2e, "browser": run_browser}


def main(argv=None):
    names = sys.argv[1:] if argv is None else argv
    bad = [n for n in names if n not in SECTIONS]
    if bad:
        print(f"run_all.py: unknown section {bad[0]!r} (want {', '.join(SECTIONS)})",
              file=sys.stderr)
        return 64
    t0 = time.time()
    passed = failed = 0
    for name in SECTIONS:
        if names and name not in names:
            continue
        p, f = SECTIONS[name]()
        passed += p
        failed += f
    print(f"{' + '.join(names) if names else 'all tests'} took {time.time() - t0:.0f}s")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
