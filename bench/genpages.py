#!/usr/bin/env python3
"""Pre-rendered users.list pages of a synthetic Slack workspace, for `make bench`.

    genpages.py N OUTDIR [--page 1000] [--changed 0.01]

Writes OUTDIR/page-00001.json ... (bodies exactly as the fake Slack would answer them:
members shaped like tests/data/fixtures/slack/users.list.page4_mixed_humans_bots.json, about
1.2-1.5 KB each, '/' escaped as '\\/', non-ASCII as \\uXXXX), OUTDIR/cursors.json (cursor
-> page file) and, with --changed F, a second set OUTDIR/changed/ where a share F of the
people have a new display name and title (the "1% changed" rerun). Deterministic.

    genpages.py N OUTDIR --grid W

An Enterprise Grid of W workspaces instead (org-wide token): N users in all, user i in
workspace i % W and, for one in five, in the next one too (one user id listed by two
workspaces: one account); pages OUTDIR/wK-page-NNNNN.json, cursors.json keyed
"TEAM_ID|cursor", teams.json (the auth.teams.list answer).
"""
import argparse
import base64
import hashlib
import json
import os
import random

GIVEN = ["Amélie", "José", "Zoë", "Björn", "Søren", "Iñigo", "Chloé", "Ana", "Liam", "Olivia",
         "Noah", "Emma", "Mateo", "Sofía", "Lucas", "Mia", "Ngozi", "Aarav", "Tomás", "Ewa",
         "太郎", "陽菜", "민준", "Σοφία", "Дмитрий", "محمد", "נועה", "राहुल"]
FAMILY = ["Muñoz", "Ødegaard", "Müller", "O'Brien", "García", "Łukasiewicz", "Smith",
          "Nguyen", "Kowalski", "Dubois", "Peña", "Okafor", "Patel", "Silva", "Rossi",
          "山田", "김", "Παπαδόπουλος", "Иванов", "الحسن", "כהן", "शर्मा"]
TZS = [("Europe/Paris", "Central European Time", 3600),
       ("America/Los_Angeles", "Pacific Standard Time", -28800),
       ("Asia/Tokyo", "Japan Standard Time", 32400),
       ("America/Indiana/Indianapolis", "Eastern Standard Time", -18000)]
TEAM = "T0BENCH01"


def slack_dumps(obj):
    # like Slack's servers: ASCII only, '/' escaped
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def member(i, rng, changed=False):
    uid = "U%08X" % (0x10000000 + i)
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    real = f"{given} {family}" + (" (renamed)" if changed else "")
    h = hashlib.md5(uid.encode()).hexdigest()
    local = f"user{i}"
    tz = TZS[i % len(TZS)]
    img = f"https://secure.gravatar.com/avatar/{h}.jpg?s=%d&d=https%%3A%%2F%%2Fa.slack-edge.com%%2Fdf10d%%2Fimg%%2Favatars%%2Fava_0009-%d.png"
    profile = {
        "title": "Engineer" if not changed else "Senior engineer", "phone": "", "skype": "",
        "real_name": real, "real_name_normalized": real, "display_name": local,
        "display_name_normalized": local, "fields": None, "status_text": "",
        "status_emoji": "", "status_emoji_display_info": [], "status_expiration": 0,
        "avatar_hash": "g" + h[:11], "email": f"{local}@corp.com", "first_name": given,
        "last_name": family,
        "image_24": img % (24, 24), "image_32": img % (32, 32), "image_48": img % (48, 48),
        "image_72": img % (72, 72), "status_text_canonical": "", "team": TEAM}
    return {"id": uid, "team_id": TEAM, "name": local, "deleted": False, "color": h[:6],
            "real_name": real, "tz": tz[0], "tz_label": tz[1], "tz_offset": tz[2],
            "profile": profile, "is_admin": False, "is_owner": False,
            "is_primary_owner": False, "is_restricted": False, "is_ultra_restricted": False,
            "is_bot": False, "is_app_user": False, "updated": 1569143041 + (7 if changed else 0),
            "is_email_confirmed": True, "who_can_share_contact_card": "EVERYONE"}


def cursor_for(uid):
    return base64.b64encode(("user:" + uid).encode()).decode()


def write_set(n, outdir, page, changed_share, seed):
    os.makedirs(outdir, exist_ok=True)
    rng = random.Random(seed)
    chg = random.Random(seed + 1)
    cursors = {"": "page-00001.json"}
    npages = (n + page - 1) // page
    size = 0
    for p in range(npages):
        lo, hi = p * page, min(n, (p + 1) * page)
        ms = []
        for i in range(lo, hi):
            r = random.Random(seed * 1000003 + i)
            ms.append(slack_dumps(member(i, r, changed_share > 0 and chg.random() < changed_share)))
        nxt = cursor_for("U%08X" % (0x10000000 + hi)) if hi < n else ""
        head = '{"ok":true,' + ('"offset":"U%08X",' % (0x10000000 + hi) if nxt else "")
        body = head + '"members":[' + ",".join(ms) + '],"cache_ts":1700000000,' \
            '"response_metadata":{"next_cursor":"' + nxt + '"}}'
        name = "page-%05d.json" % (p + 1)
        with open(os.path.join(outdir, name), "w") as f:
            f.write(body)
        size += len(body)
        if nxt:
            cursors[nxt] = "page-%05d.json" % (p + 2)
    with open(os.path.join(outdir, "cursors.json"), "w") as f:
        json.dump(cursors, f)
    return npages, size


GRID = "E0BENCH01"


def write_grid(n, outdir, page, nws, seed):
    os.makedirs(outdir, exist_ok=True)
    teams = ["T0GRID%03d" % (w + 1) for w in range(nws)]
    cursors, listed, size = {}, 0, 0
    for w, tid in enumerate(teams):
        ids = [i for i in range(n) if i % nws == w or (i % 5 == 0 and (i + 1) % nws == w)]
        npages = (len(ids) + page - 1) // page
        cursors[tid + "|"] = "w%d-page-00001.json" % w
        for p in range(npages):
            chunk = ids[p * page:(p + 1) * page]
            ms = []
            for i in chunk:
                m = member(i, random.Random(seed * 1000003 + i))
                ws = sorted({teams[i % nws]} | ({teams[(i + 1) % nws]} if i % 5 == 0 else set()))
                m["team_id"] = ws[0]
                m["enterprise_user"] = {"id": m["id"], "enterprise_id": GRID,
                                        "enterprise_name": "Bench Grid", "is_admin": False,
                                        "is_owner": False, "is_primary_owner": False,
                                        "teams": ws}
                ms.append(slack_dumps(m))
            last = p == npages - 1
            nxt = "" if last else cursor_for("U%08X" % (0x10000000 + ids[(p + 1) * page]))
            body = '{"ok":true,"members":[' + ",".join(ms) + '],"cache_ts":1700000000,' \
                '"response_metadata":{"next_cursor":"' + nxt + '"}}'
            name = "w%d-page-%05d.json" % (w, p + 1)
            with open(os.path.join(outdir, name), "w") as f:
                f.write(body)
            size += len(body)
            listed += len(chunk)
            if nxt:
                cursors[tid + "|" + nxt] = "w%d-page-%05d.json" % (w, p + 2)
    with open(os.path.join(outdir, "cursors.json"), "w") as f:
        json.dump(cursors, f)
    with open(os.path.join(outdir, "teams.json"), "w") as f:
        json.dump({"ok": True, "teams": [{"id": t, "name": "Bench %s" % t} for t in teams],
                   "response_metadata": {"next_cursor": ""}}, f)
    return listed, size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("outdir")
    ap.add_argument("--page", type=int, default=1000)
    ap.add_argument("--changed", type=float, default=0.0)
    ap.add_argument("--grid", type=int, default=0, help="workspaces of an Enterprise Grid")
    a = ap.parse_args()
    if a.grid:
        listed, size = write_grid(a.n, a.outdir, a.page, a.grid, 42)
        print(f"{a.n} Grid users listed {listed} times by {a.grid} workspaces, "
              f"{size / 1e6:.1f} MB")
        return
    np_, size = write_set(a.n, a.outdir, a.page, 0.0, 42)
    print(f"{a.n} members, {np_} pages, {size / 1e6:.1f} MB, {size / a.n:.0f} B/member")
    if a.changed:
        write_set(a.n, os.path.join(a.outdir, "changed"), a.page, a.changed, 42)


if __name__ == "__main__":
    main()
