#!/usr/bin/env python3
"""genenterprise.py -- a deterministic enterprise for the fakes: two Slack workspaces, an
Enterprise Grid of three workspaces (one user id in several of them), a Teams tenant and a
Webex org, each platform's team with a name of its own, each person with a zone of their own.

    genenterprise.py --people N --seed S -o DIR

writes DIR/ws_a.json, ws_b.json, grid.json (each the org.json of one fake server: a
workspace's bot token, or the Grid's org-wide token) and ms.json (Teams and Webex), and
DIR/truth.json: one entry per human with every account, its active flag, the person's
zone and the name of every team.  Every random choice comes from random.Random(seed);
the same arguments give byte-identical files.

Zones: Slack members carry "tz" (IANA), Webex people "timezone" (IANA), Graph users a
mailbox zone in Windows form (org["teams"]["mailbox"], answered by the fake's
/users/{id}/mailboxSettings/timeZone).  The first three people are fixed for the quiet-hours
test: a Teams-only and a Webex-only person in Asia/Dubai (midday when Paris is at 09:00 in
December), a Webex-only person in America/New_York (03:00 then), a Teams-only person in
America/Los_Angeles (midnight) and a Teams-only person whose mailbox has no zone.
"""

import argparse
import json
import os
import random
import sys

import genorg

# IANA zone -> its Windows name (as CLDR's windowsZones.xml maps them, territory 001).
ZONES = [
    ("Europe/Paris", "Romance Standard Time"),
    ("Europe/London", "GMT Standard Time"),
    ("Europe/Berlin", "W. Europe Standard Time"),
    ("America/New_York", "Eastern Standard Time"),
    ("America/Los_Angeles", "Pacific Standard Time"),
    ("Asia/Tokyo", "Tokyo Standard Time"),
    ("Asia/Kolkata", "India Standard Time"),
    ("Asia/Dubai", "Arabian Standard Time"),
]
WINDOWS = dict(ZONES)
FIXED = [  # (slots, zone): the quiet-hours test's people
    ({"teams"}, "Asia/Dubai"),
    ({"webex"}, "Asia/Dubai"),
    ({"webex"}, "America/New_York"),
    ({"A", "B"}, "Europe/Paris"),           # two workspaces: one person, two accounts
    ({"G", "teams"}, "Europe/London"),       # in two Grid workspaces and in Teams
    ({"A"}, "Europe/Berlin"),                # one person per Slack instance, alone
    ({"B"}, "America/Los_Angeles"),
    ({"G"}, "Asia/Tokyo"),
    ({"teams"}, "America/Los_Angeles"),      # a Teams mailbox at midnight then
    ({"teams"}, None),                       # no zone anywhere: the host's
]


def _token(rng, prefix):
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "%s-%d-%s" % (prefix, rng.randint(10 ** 10, 10 ** 11),
                         "".join(rng.choice(alnum) for _ in range(24)))


def _team_id(rng, prefix, used):
    return genorg._slack_id(rng, prefix, used, long_share=0)


def _slack_org(rng, used, team_id, name, domain, token):
    return {"format": "peoplesync-fake-org/1", "domain": "corp.com", "domain_aliases": [],
            "secrets": {"slack_bot_token": token},
            "slack": {"team_id": team_id, "team_name": name, "domain": domain,
                      "bot_user_id": genorg._slack_id(rng, "U", used),
                      "bot_id": genorg._slack_id(rng, "B", used),
                      "app_id": genorg._slack_id(rng, "A", used), "members": []}}


def _slots(rng):
    """Where a random person has accounts: any of A, B, G (Grid), teams, webex."""
    while True:
        s = {x for x in ("A", "B", "G", "teams", "webex") if rng.random() < 0.4}
        if s:
            return s


def _slack_member(rng, team, uid, p, active, grid=None):
    tzname = p["zone"]
    u = genorg.slack_human(rng, uid=uid, team_id=team, handle=p["local"], real_name=p["name"],
                           first=p["first"], last=p["last"], email=p["email"],
                           tz=(tzname, tzname, 0), deleted=not active,
                           updated=genorg.BASE_EPOCH - 86400)
    if grid is not None:
        u["enterprise_user"] = {"id": uid, "enterprise_id": grid["enterprise_id"],
                                "enterprise_name": grid["enterprise_name"],
                                "is_admin": False, "is_owner": False,
                                "is_primary_owner": False, "teams": list(p["grid_teams"])}
    return u


def generate(people, seed):
    rng = random.Random("peoplesync-genenterprise:%d" % seed)
    used = set()
    orgs = {
        "ws_a": _slack_org(rng, used, _team_id(rng, "T", used), "Acme Europe", "acme-eu",
                           _token(rng, "xoxb")),
        "ws_b": _slack_org(rng, used, _team_id(rng, "T", used), "Acme Americas", "acme-us",
                           _token(rng, "xoxb")),
    }
    eid = _team_id(rng, "E", used)
    gteams = [{"id": _team_id(rng, "T", used), "name": n} for n in
              ("Acme Engineering", "Acme Sales", "Acme Support")]
    grid = _slack_org(rng, used, gteams[0]["id"], "Acme Engineering", "acme-grid",
                      _token(rng, "xoxe.xoxb"))
    grid["slack"].update(enterprise_id=eid, enterprise_name="Acme Grid", teams=gteams)
    orgs["grid"] = grid
    ms = genorg.generate(people=1, seed=seed, platforms=("teams", "webex"))
    ms["teams"].update(users=[], org_name="Acme Corporation", mailbox={})
    ms["webex"].update(people=[], org_name="Acme Webex")
    for k in ("truth", "people", "generator"):
        ms.pop(k, None)
    orgs["ms"] = ms
    tenant, worg = ms["teams"]["tenant_id"], ms["webex"]["org_id"]
    names = {"slack": {orgs["ws_a"]["slack"]["team_id"]: "Acme Europe",
                       orgs["ws_b"]["slack"]["team_id"]: "Acme Americas", eid: "Acme Grid"},
             "teams": {tenant: "Acme Corporation"}, "webex": {worg: "Acme Webex"}}
    for t in gteams:
        names["slack"][t["id"]] = t["name"]
    truth = []
    for i in range(people):
        slots, zone = FIXED[i] if i < len(FIXED) else (_slots(rng), rng.choice(ZONES)[0])
        first = rng.choice(genorg.LATIN_GIVEN)
        last = rng.choice(genorg.LATIN_FAMILY)
        local = "p%03d.%s" % (i, genorg.ascii_fold(first).lower().replace(" ", ""))
        p = {"name": "%s %s" % (first, last), "first": first, "last": last, "local": local,
             "email": "%s@corp.com" % local, "zone": zone}
        if "G" in slots:
            k = 2 if i < len(FIXED) else rng.choice((1, 1, 2, 3))
            p["grid_teams"] = sorted(t["id"] for t in rng.sample(gteams, k))
        accounts = []
        for slot in ("A", "B", "G", "teams", "webex"):
            if slot not in slots:
                continue
            active = i < len(FIXED) or rng.random() >= 0.1
            accounts.append(_account(rng, orgs, used, slot, p, active))
        truth.append({"email": p["email"], "name": p["name"], "zone": zone,
                      "active": any(a["active"] for a in accounts), "accounts": accounts})
    for key in ("ws_a", "ws_b", "grid"):
        orgs[key]["slack"]["members"].sort(key=lambda u: u["id"])
    ms["teams"]["users"].sort(key=lambda u: u["id"])
    ms["webex"]["people"].sort(key=lambda u: u["id"])
    return orgs, {"people": truth, "team_names": names}


def _account(rng, orgs, used, slot, p, active):
    """One account of person p in slot: added to its org, returned as the truth has it."""
    acc = {"active": active, "bot": False}
    if slot in ("A", "B"):
        o = orgs["ws_a" if slot == "A" else "ws_b"]["slack"]
        uid = genorg._slack_id(rng, "U", used)
        o["members"].append(_slack_member(rng, o["team_id"], uid, p, active))
        acc.update(platform="slack", team_id=o["team_id"], user_id=uid)
    elif slot == "G":
        o = orgs["grid"]["slack"]
        uid = genorg._slack_id(rng, "W", used)
        o["members"].append(_slack_member(rng, p["grid_teams"][0], uid, p, active, o))
        acc.update(platform="slack", team_id=o["enterprise_id"], user_id=uid,
                   workspaces=p["grid_teams"])
    elif slot == "teams":
        t = orgs["ms"]["teams"]
        gid = genorg._uuid(rng)
        t["users"].append(genorg.graph_user(
            rng, uid=gid, display_name=p["name"], given=p["first"], surname=p["last"],
            upn=p["email"], mail=p["email"], proxy=["SMTP:" + p["email"]], enabled=active))
        if p["zone"] is not None:
            t["mailbox"][gid] = WINDOWS[p["zone"]]
        acc.update(platform="teams", team_id=t["tenant_id"], user_id=gid)
    else:
        w = orgs["ms"]["webex"]
        pid = genorg.webex_id("PEOPLE", genorg._uuid(rng))
        w["people"].append(genorg.webex_person(
            rng, pid=pid, org_id=w["org_id"], emails=[p["email"]], display_name=p["name"],
            first=p["first"], last=p["last"], created=genorg.BASE_EPOCH - 86400 * 100,
            modified=genorg.BASE_EPOCH - 86400, last_activity=genorg.BASE_EPOCH - 3600,
            status="active" if active else "inactive", login_enabled=active,
            tz=p["zone"]))
        acc.update(platform="webex", team_id=w["org_id"], user_id=pid)
    acc["email"] = p["email"]
    return acc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--people", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--output", required=True, help="directory to write")
    a = ap.parse_args(argv)
    orgs, truth = generate(a.people, a.seed)
    os.makedirs(a.output, exist_ok=True)
    for k, o in list(orgs.items()) + [("truth", truth)]:
        with open(os.path.join(a.output, k + ".json"), "w", encoding="utf-8") as f:
            json.dump(o, f, ensure_ascii=False, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
