"""End-to-end: `export` (CSV, JSON, HTML) against a three-platform org with hostile names, and
the Prometheus metrics file of a reconcile run checked line by line against the text format.

The HTML report is also opened in Chromium by tests/browser/report.test.mjs (its own org)."""
import base64
import csv
import hashlib
import io
import json
import os
import re
import subprocess

from tests.e2e.harness import BIN, E2E

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Names a roster may carry that must come out of every format as the same text: formulas for
# spreadsheets, quotes and separators for CSV, markup and script for HTML, other scripts and
# directions for everyone.
HOSTILE = [
    '=HYPERLINK("http://evil.example","x")',
    "+1",
    "-2",
    "@cmd",
    'a "quoted", name',
    "two\nlines",
    "مرحبا",
    "\tTabbed",
    "\rCarriage",
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(2)> & co",
    "\u2028line\u2029sep",
]


def neutralised(s):
    """What a CSV cell holds for s: the text, with an apostrophe first if a spreadsheet
    would otherwise run it."""
    return "'" + s if s and s.startswith(FORMULA_START) else s


def csv_rows(text):
    return list(csv.DictReader(io.StringIO(text, newline="")))


def flat(p):
    """A people --format jsonl object as its CSV row (before neutralisation)."""
    ids = {pl: " ".join(a["user_id"] for a in p["accounts"] if a["platform"] == pl)
           for pl in ("slack", "teams", "webex")}
    team = p["primary_team"] or {}
    return {"email": p["email"] or "", "name": p["name"] or "",
            "active": "true" if p["active"] else "false", "status": p["status"],
            "primary_platform": p["primary_platform"] or "",
            "primary_team_id": team.get("id") or "", "primary_team_name": team.get("name") or "",
            "primary_source": p["primary_source"] or "", "sync_type": p["sync_type"] or "",
            "slack_user_id": ids["slack"], "teams_user_id": ids["teams"],
            "webex_user_id": ids["webex"], "prompt_count": str(p["prompt_count"]),
            "last_prompted_at": p["last_prompted_at"] or "", "synced_at": p["synced_at"] or ""}


# The Prometheus text format 0.0.4 (what node_exporter's textfile collector accepts).
METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
HELP_RE = re.compile(rf"^# HELP ({METRIC_NAME}) (?:[^\\\n]|\\\\|\\n)*$")
TYPE_RE = re.compile(rf"^# TYPE ({METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$")
SAMPLE_RE = re.compile(rf"^({METRIC_NAME})(\{{(?:{LABEL}(?:,{LABEL})*,?)?\}})? "
                       r"(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|NaN|\+Inf|-Inf)"
                       r"(?: -?[0-9]+)?$")


def parse_metrics(test, text):
    """Checks every line; returns {series: value} and {family: type}."""
    test.assertTrue(text.endswith("\n"), "the file ends with a new line")
    samples, types, helped, family = {}, {}, set(), None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        m = HELP_RE.match(line)
        if m:
            test.assertNotIn(m.group(1), helped, f"line {n}: a second HELP")
            helped.add(m.group(1))
            family = None
            last_help = m.group(1)
            continue
        m = TYPE_RE.match(line)
        if m:
            test.assertEqual(m.group(1), last_help, f"line {n}: TYPE right after its HELP")
            types[m.group(1)] = m.group(2)
            family = m.group(1)
            continue
        m = SAMPLE_RE.match(line)
        test.assertIsNotNone(m, f"line {n} is not in the text format: {line!r}")
        test.assertEqual(m.group(1), family, f"line {n}: sample outside its family")
        series = m.group(1) + (m.group(2) or "")
        test.assertNotIn(series, samples, f"line {n}: series repeated")
        samples[series] = float(m.group(3))
    test.assertEqual(helped, set(types), "every family has HELP and TYPE")
    return samples, types


class Export(E2E):
    org_args = dict(people=150, seed=23, platforms=("slack", "teams", "webex"))
    platforms = ("slack", "teams", "webex")

    def setUp(self):
        super().setUp()
        self.metrics_file = os.path.join(self.dir, "metrics", "peoplesync.prom")
        os.makedirs(os.path.dirname(self.metrics_file))
        with open(self.cfg, "a") as f:
            f.write(f'metrics = {{ file = "{self.metrics_file}"; }};\n')
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)

    def rename_slack_people(self, names):
        """Gives Slack-only people (their name is their Slack name) these names; returns
        {email: name}."""
        only = [t for t in self.org["truth"] if t["active"] and len(t["accounts"]) == 1
                and t["accounts"][0]["platform"] == "slack" and t["accounts"][0]["active"]]
        self.assertGreaterEqual(len(only), len(names))
        want = {}
        for t, name in zip(only, names):
            self.fake.control({"op": "mutate", "platform": "slack",
                               "user_id": t["accounts"][0]["user_id"],
                               "set": {"real_name": name, "profile.real_name": name}})
            want[t["email"]] = name
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        return want

    def raw(self, *args):
        """Standard output of a command as bytes (no new-line translation)."""
        p = subprocess.run([BIN, "-c", self.cfg, *args], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=dict(os.environ, PEOPLESYNC_NO_TTY="1"))
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def jsonl(self, *args):
        """people --format jsonl ARGS as objects. Lines end at "\n" only: a name may hold
        U+2028, which str.splitlines() would take for a line end."""
        r = self.ps("people", "--format", "jsonl", *args)
        self.assertRc(r, 0)
        return [json.loads(l) for l in r.out.split("\n") if l]

    def export(self, fmt, *args):
        out = os.path.join(self.dir, "out." + fmt)
        r = self.ps("export", "--format", fmt, "-o", out, *args)
        self.assertRc(r, 0)
        self.assertEqual(r.out, "")
        with open(out, encoding="utf-8", newline="") as f:
            return f.read()

    def test_csv_hostile_names_read_back(self):
        want = self.rename_slack_people(HOSTILE)
        text = self.export("csv", "--all")
        self.assertTrue(text.startswith("email,name,active,status,primary_platform,"
                                        "primary_team_id,primary_team_name,primary_source,"
                                        "sync_type,slack_user_id,teams_user_id,"
                                        "webex_user_id,prompt_count,last_prompted_at,"
                                        "synced_at\r\n"))
        rows = csv_rows(text)
        self.assertTrue(text.endswith("\r\n"))
        self.assertGreaterEqual(text.count("\r\n"), len(rows) + 1, "CRLF record ends")
        people = self.jsonl("--all")
        self.assertEqual(len(rows), len(people))
        by_email = {r["email"]: r for r in rows}
        for email, name in want.items():
            self.assertEqual(by_email[email]["name"], neutralised(name), email)
        for row, p in zip(rows, people):  # the same people in the same order
            self.assertEqual(row, {k: neutralised(v) for k, v in flat(p).items()})
        # no cell at all starts a formula
        for r in rows:
            for k, v in r.items():
                self.assertFalse(v.startswith(FORMULA_START), f"{k}={v!r}")
        # the same bytes as `people --format csv`, and on standard output without -o
        self.assertEqual(self.raw("people", "--all", "--format", "csv"), text.encode())
        self.assertEqual(self.raw("export", "--format", "csv", "--all"), text.encode())

    def test_json_matches_people_jsonl(self):
        self.rename_slack_people(HOSTILE[:4])
        doc = json.loads(self.export("json"))
        self.assertEqual(set(doc), {"generated_at", "filters", "counts", "people"})
        self.assertRegex(doc["generated_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(doc["filters"], {"platform": None, "status": None, "type": None,
                                          "team": None, "all": False, "stale": False})
        lines = self.jsonl()
        self.assertEqual(doc["people"], lines)
        c = doc["counts"]
        self.assertEqual(c["people"], len(lines))
        self.assertEqual(sum(c["status"].values()), c["people"])
        self.assertEqual(sum(c["primary_platform"].values()), c["people"])
        for st in ("on", "pending", "off"):
            self.assertEqual(c["status"][st], sum(p["status"] == st for p in doc["people"]))
        for pl in ("slack", "teams", "webex"):
            self.assertEqual(c["primary_platform"][pl],
                             sum(p["primary_platform"] == pl for p in doc["people"]))
        # filters: the same people as `people` with the same filters
        for args in (("--status", "off", "--platform", "teams"), ("--type", "bot"),
                     ("--platform", "slack", "--all"), ("--status", "on")):
            doc = json.loads(self.export("json", *args))
            want = self.jsonl(*args)
            self.assertEqual(doc["people"], want, args)
            self.assertEqual(doc["counts"]["people"], len(want))
        self.assertEqual(doc["filters"]["status"], "on")
        # the primary team filter, by id and by name
        team = self.org["slack"]["team_name"]
        doc = json.loads(self.export("json", "--team", team))
        self.assertTrue(doc["people"])
        self.assertTrue(all(p["primary_team"]["name"] == team for p in doc["people"]))
        self.assertEqual(doc["filters"]["team"], team)
        doc2 = json.loads(self.export("json", "--team", self.org["slack"]["team_id"].lower()))
        self.assertEqual(doc2["people"], doc["people"])

    def test_html_is_self_contained_and_escaped(self):
        want = self.rename_slack_people(HOSTILE)
        html = self.export("html")
        # one page, nothing fetched: no external reference of any kind
        self.assertTrue(html.startswith("<!DOCTYPE html>"))
        data_re = r'<script type="application/json" id="ps-data">(.*?)</script>'
        markup = re.sub(data_re, "", html, flags=re.S)
        for bad in (r"(?i)\s(src|href|action|srcset|poster|data)\s*=", r"(?i)url\(",
                    r"(?i)@import", r"(?i)<(link|iframe|object|embed|img|base)\b"):
            m = re.search(bad, markup)
            self.assertIsNone(m, f"external reference {m and m.group(0)!r}")
        self.assertEqual(len(re.findall(r"(?i)<script", html)), 2)
        self.assertEqual(len(re.findall(r"(?i)</script", html)), 2)
        self.assertIn("<svg", html)
        # the policy pins the one inline script by its hash
        csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
        self.assertIsNotNone(csp)
        self.assertIn("default-src 'none'", csp.group(1))
        script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        self.assertIn(f"script-src 'sha256-{digest}'", csp.group(1))
        # the data: valid JSON, no raw markup characters, the names exactly
        data = re.search(data_re, html, re.S).group(1)
        self.assertNotIn("<", data)
        self.assertNotIn(">", data)
        self.assertNotIn("&", data)
        doc = json.loads(data)
        people = self.jsonl()
        rows = {r[1]: r for r in doc["rows"]}
        self.assertEqual(set(rows), {p["email"] for p in people})
        for p in people:
            r = rows[p["email"]]
            self.assertEqual(r[0], p["name"])
            self.assertEqual(r[2], p["status"])
            self.assertEqual(r[3], p["primary_platform"] or "")
            self.assertEqual(r[5], p["sync_type"] or "")
            self.assertEqual(sorted((a[0], a[1]) for a in r[6]),
                             sorted((a["platform"], a["user_id"]) for a in p["accounts"]))
        for email, name in want.items():
            self.assertEqual(rows[email][0], name)
        # the hostile names appear nowhere raw in the page
        for name in HOSTILE:
            if "<" in name:
                self.assertNotIn(name, html)

    def test_unwritable_output_exits_73(self):
        for fmt in ("csv", "json", "html"):
            missing = os.path.join(self.dir, "no", "such", "dir", "out." + fmt)
            r = self.ps("export", "--format", fmt, "-o", missing)
            self.assertRc(r, 73)
            self.assertIn(missing, r.err)
            self.assertFalse(os.path.exists(os.path.dirname(missing)))
        # a parent that is a file
        afile = os.path.join(self.dir, "afile")
        open(afile, "w").close()
        r = self.ps("export", "--format", "csv", "-o", os.path.join(afile, "x.csv"))
        self.assertRc(r, 73)
        self.assertIn("afile/x.csv", r.err)
        # a directory in the way: nothing replaced, no temporary file left behind
        target = os.path.join(self.dir, "outdir")
        os.makedirs(os.path.join(target, "keep"))
        before = sorted(os.listdir(self.dir))
        r = self.ps("export", "--format", "html", "-o", target)
        self.assertRc(r, 73)
        self.assertIn(target, r.err)
        self.assertEqual(sorted(os.listdir(self.dir)), before)
        self.assertEqual(os.listdir(target), ["keep"])

    def test_replaces_whole_file_and_usage(self):
        out = os.path.join(self.dir, "report.csv")
        with open(out, "w") as f:
            f.write("old content that is longer than nothing\n" * 1000)
        self.assertRc(self.ps("export", "--format", "csv", "--platform", "webex", "-o", out), 0)
        with open(out, newline="") as f:
            text = f.read()
        self.assertEqual(text.encode(), self.raw("people", "--platform", "webex", "--format", "csv"))
        self.assertEqual([n for n in os.listdir(self.dir) if ".tmp." in n], [])
        self.assertRc(self.ps("export", "-o", out), 64)
        self.assertRc(self.ps("export", "--format", "xml"), 64)
        self.assertRc(self.ps("export", "--format", "csv", "--status", "maybe"), 64)
        self.assertRc(self.ps("export", "--format", "csv", "extra"), 64)
        r = self.ps("export", "--help")
        self.assertRc(r, 0)
        self.assertIn("--format csv|json|html", r.out)

    def test_metrics_file_grammar(self):
        if not os.path.exists(self.metrics_file):
            self.skipTest("reconcile does not call metrics_write yet")
        with open(self.metrics_file) as f:
            samples, types = parse_metrics(self, f.read())
        self.assertEqual(set(types.values()), {"gauge"})
        people = self.jsonl("--all")
        active = [p for p in people if p["active"]]
        total = sum(v for k, v in samples.items() if k.startswith("peoplesync_people{"))
        self.assertEqual(total, len(active))
        self.assertEqual(samples["peoplesync_people_inactive"], len(people) - len(active))
        for pl in ("slack", "teams", "webex"):
            n = sum(1 for p in active if p["primary_platform"] == pl and p["status"] == "off")
            self.assertEqual(samples[f'peoplesync_people{{status="off",primary_platform="{pl}",'
                                     f'sync_type="{"user" if pl == "slack" else "bot"}"}}'], n)
            self.assertEqual(samples[f'peoplesync_platform_up{{platform="{pl}"}}'], 1)
            self.assertGreater(samples[f'peoplesync_platform_pulled_accounts{{platform="{pl}"}}'],
                               0)
            for m in ("prompts_queued", "prompts_sent", "prompts_failed", "platform_errors"):
                self.assertIn(f'peoplesync_{m}{{platform="{pl}"}}', samples)
        self.assertEqual(samples["peoplesync_run_success"], 1)
        ok_at = samples["peoplesync_last_success_timestamp_seconds"]
        self.assertGreater(ok_at, 1.7e9)
        self.assertGreaterEqual(samples["peoplesync_run_duration_seconds"], 0)
        self.assertEqual(os.stat(self.metrics_file).st_mode & 0o777, 0o644)
        # a failed run: still written, the last success kept, the failing platform down
        self.fake.control({"op": "fail", "spec": "webex:people:all:status=503"})
        r = self.ps("reconcile", "--no-prompts", env={"PEOPLESYNC_NOW": str(int(ok_at) + 3600)})
        self.assertRc(r, 69)
        with open(self.metrics_file) as f:
            samples, _ = parse_metrics(self, f.read())
        self.assertEqual(samples["peoplesync_run_success"], 0)
        self.assertEqual(samples["peoplesync_last_success_timestamp_seconds"], ok_at)
        self.assertEqual(samples['peoplesync_platform_up{platform="webex"}'], 0)
        self.assertGreaterEqual(samples['peoplesync_platform_errors{platform="webex"}'], 1)
        self.assertEqual(samples['peoplesync_platform_up{platform="slack"}'], 1)
        self.assertEqual(
            samples['peoplesync_platform_last_success_timestamp_seconds{platform="webex"}'],
            ok_at)
        self.assertEqual([n for n in os.listdir(os.path.dirname(self.metrics_file))],
                         ["peoplesync.prom"])
