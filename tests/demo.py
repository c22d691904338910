#!/usr/bin/env python3
"""make demo: the whole job on an embedded default config, against the loopback fakes of
Slack, Microsoft Teams and Webex.

A generated company is served by the fake platforms; the demo writes the config below,
reconciles, shows one person's accounts on three platforms and how each was linked, has an
admin prompt people on each platform, walks one person through Sync now (the fake sign-in
pages, scripted with urllib and a cookie jar), writes the HTML and CSV reports, and shows
what Slack auto-sync would change (on a copy of the database).

Environment: DEMO_PEOPLE (default 300) people; DEMO_DIR (default build/demo, replaced at
each run and kept afterwards) the work dir; PEOPLESYNC_BIN (default ./peoplesync).
"""
import collections
import csv
import difflib
import html
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("PEOPLESYNC_BIN", os.path.join(ROOT, "peoplesync"))
sys.path.insert(0, ROOT)

from tests.e2e.harness import BIN, Fake, genorg, write_secret  # noqa: E402
from tests.e2e.test_serve import TITLES, Browser, Serve, free_port  # noqa: E402

PLATFORMS = ("slack", "teams", "webex")
LINK = re.compile(r"http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]{87}")

# The embedded default: every platform enabled, pointing at the fakes; secrets in 0600
# files beside it; serve needs only link_key_file (the token key is derived from it).
CONFIG = """\
# peoplesync demo config, written by tests/demo.py: the fakes of Slack, Microsoft Teams and
# Webex on {base}; secrets in the 0600 files next to this one.
database = "{db}";
public_url = "http://127.0.0.1:{port}";
link_key_file = "link.key";
slack = {{
  api_url = "{base}/slack/api";
  bot_token_file = "slack.token";
  # the fakes take any pace (the defaults suit the real Slack: 1 message a second)
  rate = {{ open = {{ per_second = 100; burst = 1; }};
           post = {{ per_second = 100; burst = 1; }}; }};
  auto_sync = {auto_sync};
  signing_secret_file = "slack.signing";   # checks the events Slack posts to serve
  oauth = {{ authorize_url = "{base}/slack/oauth/v2/authorize";
            client_id = "{slack_id}";
            client_secret_file = "slack.oauth.secret"; }};
}};
teams = {{
  graph_url = "{base}/graph/v1.0";
  login_url = "{base}/login";
  tenant_id = "{tenant}";
  tenant_name = "Corp Teams";
  client_id = "{teams_id}";
  client_secret_file = "teams.secret";
  service_user_refresh_token_file = "teams.refresh";
  rate = {{ chat = {{ per_second = 100; burst = 1; }};
           post = {{ per_second = 100; burst = 1; }}; }};
}};
webex = {{
  api_url = "{base}/webex/v1";
  token_file = "webex.token";
  org_name = "Corp Webex";
  rate = {{ post = {{ per_second = 100; burst = 1; }}; }};
  oauth = {{ client_id = "{webex_id}";
            client_secret_file = "webex.oauth.secret"; }};
}};
identity = {{ domain_aliases = ( ("corp.onmicrosoft.com", "corp.com") ); }};
prompts = {{ quiet_hours = ""; }};    # the demo runs at any hour
serve = {{ listen = "127.0.0.1:{port}"; }};
"""


def write_config(work, name, fake, org, port, db, auto_sync=False):
    sec, clients = org["secrets"], fake.get("/_control/oauth")["clients"]
    for fname, value in (("link.key", os.urandom(32).hex()),
                         ("slack.token", sec["slack_bot_token"]),
                         ("slack.oauth.secret", clients["slack"]["client_secret"]),
                         ("teams.secret", sec["graph_client_secret"]),
                         ("teams.refresh", sec["graph_refresh_token"]),
                         ("webex.token", sec["webex_token"]),
                         ("webex.oauth.secret", clients["webex"]["client_secret"]),
                         ("slack.signing", os.urandom(16).hex())):
        if not os.path.exists(os.path.join(work, fname)):
            write_secret(os.path.join(work, fname), value)
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(CONFIG.format(base=fake.base, db=db, port=port,
                              auto_sync=str(auto_sync).lower(),
                              slack_id=clients["slack"]["client_id"],
                              tenant=org["teams"]["tenant_id"], teams_id=sec["graph_client_id"],
                              webex_id=clients["webex"]["client_id"]))
    return path


# ---- printing -------------------------------------------------------------------------
SECTION = [0]


def section(title, why):
    SECTION[0] += 1
    bold = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
    print("\n%s%d. %s%s\n   %s" % (bold[0], SECTION[0], title, bold[1], why), flush=True)


def say(text=""):
    print("   " + text if text else "", flush=True)


def short(s):
    """Long ids and link tokens cut to their ends, so that lines stay readable."""
    return re.sub(r"[A-Za-z0-9_-]{40,}", lambda m: m.group(0)[:10] + "…" + m.group(0)[-4:], s)


def head(text, n):
    """The first n lines of text (and a table's closing "N people: ..." line)."""
    lines = [l for l in text.rstrip("\n").split("\n") if l]
    last = lines.pop() if len(lines) > n and re.match(r"\d+ people: ", lines[-1]) else None
    for line in lines[:n]:
        say("  " + short(line))
    if len(lines) > n:
        say("  … and %d more" % (len(lines) - n))
    if last:
        say("  " + last)


def ps(cfg, *args, show=20, keep=None, echo=True):
    """Runs peoplesync; prints the command and (the first `show` lines of, or the lines
    matching `keep` in) its output; stops the demo on failure."""
    if echo:
        named = "" if cfg.endswith("/peoplesync.cfg") else "-c " + os.path.basename(cfg) + " "
        print("   $ peoplesync " + named + " ".join(map(shlex.quote, args)), flush=True)
    p = subprocess.run([BIN, "-c", cfg] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True,
                       env=dict(os.environ, PEOPLESYNC_NO_TTY="1"))
    if p.returncode != 0:
        sys.exit("peoplesync %s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout,
                                                   p.stderr))
    out = p.stdout
    if keep:
        out = "\n".join(l for l in out.split("\n") if re.search(keep, l))
    if show:
        head(out, show)
    return p.stdout


def people(cfg):
    out = ps(cfg, "people", "--format", "jsonl", show=0, echo=False)
    return [json.loads(l) for l in out.split("\n") if l.strip()]


def active_platforms(p):
    return sorted({a["platform"] for a in p["accounts"] if a["active"]}, key=PLATFORMS.index)


def status_table(everyone):
    n = collections.Counter((p["primary_platform"], p["status"]) for p in everyone)
    say("(peoplesync people --format jsonl, counted)")
    say("%-8s %8s %8s %8s" % ("primary", "on", "pending", "off"))
    for pl in PLATFORMS:
        say("%-8s %8d %8d %8d" % (pl, n[pl, "on"], n[pl, "pending"], n[pl, "off"]))


# ---- Sync now, as a browser would walk it ---------------------------------------------
def hop(b, url, data=None):
    """One request without following redirects: (status, Location path or URL, body)."""
    st, _, h, body = b.open(url, data=data, follow=False)
    return st, h.get("Location") or "", body


def path(url):
    return urllib.parse.urlsplit(url).path


def headline(body):
    m = re.search(r"<h1[^>]*>(.*?)</h1>", body, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", m.group(1))).strip() if m else "?"


def sync_now(serve, link, person, primary, verbose):
    """Opens the link, connects every platform of the person on the fake's sign-in page,
    chooses the primary team and returns the confirmation page's headline."""
    b = Browser()
    st, loc, body = hop(b, link)
    steps = ["GET /s/%s… -> %d %s (a session cookie; the token leaves the address bar)"
             % (path(link)[3:13], st, path(loc))]
    st, loc, body = hop(b, serve.base + "/sync")
    steps.append("GET /sync -> %d: %s" % (st, ", ".join(
        '"Connect %s"' % TITLES[p] for p in PLATFORMS if "Connect " + TITLES[p] in body)))
    mine = {a["platform"]: a for a in person["accounts"] if a["active"]}
    for pl in active_platforms(person):
        st, authz, _ = hop(b, serve.base + "/connect/" + pl)
        st2, _, page = hop(b, authz)                        # the fake's sign-in page
        if st != 302 or st2 != 200 or mine[pl]["user_id"] not in page:
            sys.exit("connect %s: %d, then the sign-in page %d" % (pl, st, st2))
        st3, cb, _ = hop(b, authz + "&" + urllib.parse.urlencode({"user": mine[pl]["user_id"]}))
        st4, back, _ = hop(b, cb)                           # the callback on serve
        uid = mine[pl]["user_id"]
        steps.append("connect %s -> %d fake sign-in page -> signed in as %s -> %d %s -> %d %s"
                     % (TITLES[pl], st, uid if len(uid) < 14 else uid[:10] + "…", st3,
                        path(cb), st4, path(back)))
    st, _, body = hop(b, serve.base + "/sync")
    csrf = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
    teams = re.findall(r'name="team" value="([^"]+)"', body)
    steps.append("GET /sync -> %d \"%s\": %d teams to choose from" % (st, headline(body),
                                                                      len(teams)))
    team = next(t for t in teams if t.startswith(primary + ":"))
    st, loc, _ = hop(b, serve.base + "/sync/primary",
                     urllib.parse.urlencode({"csrf": csrf, "team": team}).encode())
    steps.append("POST /sync/primary team=%s -> %d %s" % (short(team), st, path(loc)))
    st, _, body = hop(b, serve.base + "/done")
    paras = re.findall(r"<p[^>]*>(.*?)</p>", body, re.S)[:2]
    detail = html.unescape(re.sub(r"<[^>]+>", "", " ".join(paras)))
    steps.append("GET /done -> %d \"%s\" %s" % (st, headline(body), detail))
    for s in steps if verbose else []:
        say("  " + s)
    return headline(body)


# ---- the story -------------------------------------------------------------------------
def dm_auto_prompt(cfg, fake, serve, work, everyone, picks, star):
    """Someone never prompted writes to the synced star on Slack: the fake Slack posts the
    signed event to serve, the next reconcile prompts the writer, explain names the event."""
    picked = {p["email"] for pl in PLATFORMS for p in picks[pl]}
    slack_id = lambda p: next((a["user_id"] for a in p["accounts"]          # noqa: E731
                               if a["active"] and a["platform"] == "slack"), None)
    writer = next(p for p in everyone if p["status"] == "off" and p["email"] not in picked
                  and p["primary_platform"] == "slack" and slack_id(p))
    section("Auto-prompt from a direct message", "%s (off) sends %s (now on) a Slack DM; "
            "Slack posts the signed event to serve, which only records it; the next reconcile "
            "prompts the writer." % (writer["name"], star["name"]))
    ps(cfg, "auto-prompt", "on", show=1)
    with open(os.path.join(work, "slack.signing")) as f:
        secret = f.read().strip()
    fake.control({"op": "events_config", "config": {"slack": {
        "url": serve.base + "/events/slack", "signing_secret": secret}}})
    ids = fake.control({"op": "send_dm", "platform": "slack", "from": slack_id(writer),
                        "to": slack_id(star)})["deliveries"]
    for _ in range(200):
        ds = [d for d in fake.get("/_control/deliveries") if d["id"] in ids]
        if ds and all(d["done"] for d in ds):
            break
        time.sleep(0.05)
    line = [l for l in serve.log().splitlines() if "/events/slack" in l][-1]
    say("serve's log: " + re.sub(r"^.*?serve: ", "", line))
    ps(cfg, "reconcile", keep="events:|prompts:")
    ps(cfg, "explain", "slack:" + slack_id(writer), keep=r"auto|queued by")
    got = [m for m in fake.get("/_control/messages?platform=slack")
           if m["to"] == slack_id(writer)]
    say("%d DM to %s on the fake Slack: the auto-prompt" % (len(got), writer["name"]))


def main():
    t0 = time.time()
    n_people = int(os.environ.get("DEMO_PEOPLE", "300"))
    work = os.path.abspath(os.environ.get("DEMO_DIR") or os.path.join(ROOT, "build", "demo"))
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    fake = serve = None
    print("peoplesync demo: the whole job against loopback fakes of Slack, Microsoft Teams "
          "and Webex\nwork dir %s (config, keys, database, reports; kept afterwards)" % work)
    try:
        section("The organisation", "A generated company; the fakes serve its rosters, "
                "sign-in pages and DMs on loopback.")
        org = genorg.generate(people=n_people, seed=2026, mix="demo")
        with open(os.path.join(work, "org.json"), "w") as f:
            json.dump(org, f)
        fake = Fake(work, os.path.join(work, "org.json"))
        port = free_port()
        cfg = write_config(work, "peoplesync.cfg", fake, org, port, os.path.join(work, "db"))
        say("%d people: Slack %d accounts, Teams %d, Webex %d (bots and app users included), "
            "fakes on %s" % (n_people, len(org["slack"]["members"]),
                             len(org["teams"]["users"]), len(org["webex"]["people"]), fake.base))
        say("config: %s (the embedded default; no secret in it)" % cfg)

        section("Pull and reconcile", "Every roster is pulled; accounts become people, one "
                "per human, matched by address across platforms.")
        ps(cfg, "reconcile")
        everyone = people(cfg)
        spread = collections.Counter(len(active_platforms(p)) for p in everyone)
        say("-> %d active people: %d on three platforms, %d on two, %d on one"
            % (len(everyone), spread[3], spread[2], spread[1]))
        how, shown = collections.Counter(), {}
        for p in everyone:
            if len(active_platforms(p)) > 1:
                shown[p["email"]] = ps(cfg, "show", p["email"], show=0, echo=False)
                how.update(re.findall(r"^  \w+ .*linked by ([\w ]+?)\s*$", shown[p["email"]],
                                      re.M))
        new = how.pop("new", 0)
        say("   their %d accounts, as `show` tells: %d started their person, the others were "
            "linked %s" % (new + sum(how.values()), new,
                           ", ".join("by %s %d" % (k, n) for k, n in how.most_common())))

        guests = {t["email"] for t in org["truth"] if t["guest"]}
        ok = [p for p in everyone if p["status"] == "off" and p["email"] not in guests]
        trio = [p for p in ok if active_platforms(p) == list(PLATFORMS)
                and p["primary_platform"] == "slack"]
        star = max(trio, key=lambda p: len(set(re.findall(r"linked by (\w+)",
                                                          shown[p["email"]]))))
        section("One person, three platforms", "`show` lists the accounts and how each was "
                "linked to this person (email, alias domain, proxyAddresses, ...).")
        ps(cfg, "show", star["email"], show=16)

        section("A prompt on each platform", "An admin queues prompts; the next reconcile "
                "sends each as a DM on the person's primary platform, with a Sync now link.")
        # a quarter of each platform's people (at least two), Ewa first
        picks = {}
        for pl in PLATFORMS:
            mine = [p for p in ok if p["primary_platform"] == pl and p is not star]
            picks[pl] = mine[::4] if len(mine) >= 8 else mine[:2]
        picks["slack"].insert(0, star)
        emails = [p["email"] for pl in PLATFORMS for p in picks[pl]]
        print("   $ peoplesync prompt %s %s … (%d people)" % (emails[0], emails[1], len(emails)))
        ps(cfg, "prompt", *emails, show=1, keep="prompts queued", echo=False)
        ps(cfg, "reconcile", keep="prompts:")
        links = {}
        for pl in PLATFORMS:
            sent = {m["to"]: m.get("markdown") or m["text"]
                    for m in fake.get("/_control/messages?platform=" + pl)}
            for i, p in enumerate(picks[pl]):
                to = next(a["user_id"] for a in p["accounts"] if a["platform"] == pl)
                text = sent[to]
                links[p["email"]] = LINK.search(text).group(0)
                if i == 0:
                    say("the DM the fake %s received (to %s, %s):" % (TITLES[pl], short(to),
                                                                      p["name"]))
                    for line in short(text).split("\n"):
                        for w in textwrap.wrap(line, 96) or [""]:
                            say("  | " + w)

        section("Sync now", "%s opens the link from the Slack DM; `peoplesync serve` answers "
                "on 127.0.0.1:%d; each platform's sign-in is the fake's page." %
                (star["name"], port))
        serve = Serve(cfg, work, port)
        done = sync_now(serve, links[star["email"]], star, "slack", True)
        ps(cfg, "show", star["email"], keep=r"^  (status|primary|sync type) |-> on")
        # half of the others prompted follow their links too, each choosing a team on their
        # primary platform
        more = collections.Counter()
        for pl in PLATFORMS:
            for p in picks[pl][2 if pl == "slack" else 0::2]:
                h = sync_now(serve, links[p["email"]], p, pl, False)
                if h != done:
                    sys.exit("Sync now of %s ended on \"%s\"" % (p["email"], h))
                more[pl] += 1
        say("%d more people follow the links they received the same way: %s -> \"%s\"" % (
            sum(more.values()), ", ".join("%d choose %s" % (more[pl], TITLES[pl])
                                         for pl in PLATFORMS), done))
        dm_auto_prompt(cfg, fake, serve, work, everyone, picks, star)
        rc, serve = serve.stop(), None
        if rc != 0:
            sys.exit("peoplesync serve: exit %d (%s)" % (rc, os.path.join(work, "serve.log")))

        section("Statuses", "off: never synced; pending: prompted, not yet synced; on: "
                "completed Sync now. Active people by primary platform:")
        everyone = people(cfg)
        status_table(everyone)
        ps(cfg, "people", "--status", "pending", show=8)

        section("The reports", "The HTML report (summary chart, a table to filter, search "
                "and sort; no network) and the CSV, for admins.")
        report, csv_path = os.path.join(work, "report.html"), os.path.join(work, "people.csv")
        ps(cfg, "export", "--format", "html", "-o", report)
        ps(cfg, "export", "--format", "csv", "-o", csv_path)
        with open(report, encoding="utf-8") as f:
            chart = re.findall(r"<title>([^<:]+): ([\d,]+) (on|pending|off)</title>", f.read())
        bars = collections.defaultdict(dict)
        for label, n, st in chart:
            bars[label][st] = n
        for label, n in bars.items():
            say("report summary  %-16s %5s on  %5s pending  %5s off" % (
                label, n.get("on", "0"), n.get("pending", "0"), n.get("off", "0")))
        with open(csv_path, encoding="utf-8") as f:
            rows = list(csv.reader(f))
        say("%s: %d rows, columns %s" % (csv_path, len(rows) - 1, ", ".join(rows[0][:7]) + ", …"))

        section("Slack auto-sync", "With slack.auto_sync = true, Teams and Webex primaries "
                "need no sign-in: they become on at once, sync type bot (their Slack presence "
                "is a bot). Shown on a copy of the database, so the report above stays as is.")
        auto_db = os.path.join(work, "db-autosync")
        ps(cfg, "db", "backup", auto_db, show=0)
        auto_cfg = write_config(work, "autosync.cfg", fake, org, port, auto_db, auto_sync=True)
        say("autosync.cfg differs from peoplesync.cfg in two lines:")
        with open(cfg) as f1, open(auto_cfg) as f2:
            for line in difflib.ndiff(f1.readlines(), f2.readlines()):
                if line.startswith("+ "):
                    say("  " + line[2:].rstrip())
        ps(auto_cfg, "reconcile", keep="auto-sync")
        status_table(people(auto_cfg))
        ps(auto_cfg, "people", "--type", "bot", "--status", "on", show=5)
    finally:
        if serve:
            serve.stop()
        if fake:
            fake.stop()
    took = time.time() - t0
    section("Done in %.1f s" % took, "Everything is in %s (%s). Open:" % (work, (
        "kept until the next make demo or make clean" if "DEMO_DIR" not in os.environ
        else "DEMO_DIR, kept")))
    say("report       %s" % report)
    say("CSV          %s" % csv_path)
    say("database     %s (and %s, the auto-sync copy)" % (os.path.join(work, "db"), auto_db))
    say("explore      %s -c %s people" % (os.path.abspath(BIN), cfg))
    say("             (and show, explain, export; the fakes are stopped: no reconcile, serve)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
