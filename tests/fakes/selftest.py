#!/usr/bin/env python3
"""selftest.py -- check genorg.py and fakeserver.py against each other.

    selftest.py [--quick] [--keep DIR] [-v]

Generates organisations, starts fakeserver.py on free loopback ports, pages through every
roster the way each platform says to (Slack body cursor, Graph @odata.nextLink, Webex Link
header), compares with org.json, sends DMs, fires one failure rule of each kind, signs
users in through the three OAuth providers (pages, codes, PKCE, refresh, revoke), checks
the rate limiter, the request log and keep-alive, and (unless --quick) times 1000-member
Slack pages of a 50,000-user org.  Exits 1 on any mismatch.  Standard library only.
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import genorg  # noqa: E402

FAILS = []
VERBOSE = False


def check(cond, what):
    if cond:
        if VERBOSE:
            print("  ok   %s" % what)
    else:
        FAILS.append(what)
        print("  FAIL %s" % what)
    return cond


class Client:
    """Keep-alive HTTP client for one fake server (absolute URLs or paths)."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def _conn(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        return self.conn

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def req(self, method, url, headers=None, body=None, fresh=False):
        """-> (status, {lower-case header: value}, body bytes).  fresh: new connection and
        no retry (for failure tests, which want to see the error)."""
        u = urllib.parse.urlsplit(url)
        if u.scheme:
            assert u.hostname == "127.0.0.1" and u.port == self.port, url
        path = (u.path or "/") + ("?" + u.query if u.query else "")
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = dict(headers or {}, **{"Content-Type": "application/json"})
        elif isinstance(body, str):
            body = body.encode()
        if fresh:
            self.close()
        for attempt in (0, 1):
            c = self._conn()
            reused = getattr(c, "_used", False)
            try:
                c.request(method, path, body=body, headers=headers or {})
                r = c.getresponse()
                data = r.read()
                c._used = True
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, {k.lower(): v for k, v in r.getheaders()}, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if fresh or not reused or attempt:
                    raise
            except Exception:
                self.close()
                raise


def jget(client, url, headers=None):
    st, h, b = client.req("GET", url, headers)
    return st, h, json.loads(b.decode("utf-8"))


# ---------------------------------------------------------------------------------------

def start_server(tmp, org_path, name, extra=()):
    port_file = os.path.join(tmp, name + ".port")
    log = os.path.join(tmp, name + ".jsonl")
    cmd = [sys.executable, os.path.join(HERE, "fakeserver.py"), "--org", org_path,
           "--port", "0", "--port-file", port_file, "--log", log] + list(extra)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, name + ".err"), "w"),
                         text=True)
    line = p.stdout.readline().strip()
    m = re.match(r"^PORT=(\d+)$", line)
    if not m:
        p.kill()
        raise SystemExit("fakeserver did not print PORT=: %r (see %s.err)" % (line, name))
    port = int(m.group(1))
    with open(port_file) as f:
        check(int(f.read().strip()) == port, "%s: --port-file matches PORT= on stdout" % name)
    return p, port, log


def ctl(client, op):
    st, _, b = client.req("POST", "/_control", body=op)
    d = json.loads(b)
    if st != 200 or not d.get("ok"):
        raise SystemExit("control op %r failed: %s %s" % (op, st, d))
    return d


# ---------------------------------------------------------------------------------------
# Paging helpers, one per platform's mechanism

def slack_pull(c, token, limit, max_pages=10000):
    members, cursors, pages = [], [], 0
    cursor = ""
    while True:
        q = {"limit": str(limit)}
        if cursor:
            q["cursor"] = cursor
        st, h, raw = c.req("GET", "/slack/api/users.list?" + urllib.parse.urlencode(q),
                           {"Authorization": "Bearer " + token})
        d = json.loads(raw)
        if st != 200 or not d.get("ok"):
            return None, (st, d, pages)
        members += d["members"]
        pages += 1
        cursor = d["response_metadata"]["next_cursor"]
        cursors.append(cursor)
        if not cursor or pages >= max_pages:
            return members, (cursors, raw, d)


def graph_token(c, org, grant="client_credentials", secret=None, refresh=None):
    t = org["teams"]
    form = {"client_id": org["secrets"]["graph_client_id"],
            "client_secret": secret if secret is not None else org["secrets"]["graph_client_secret"],
            "grant_type": grant}
    if grant == "client_credentials":
        form["scope"] = "https://graph.microsoft.com/.default"
    else:
        form["refresh_token"] = refresh
        form["scope"] = "Chat.Create ChatMessage.Send offline_access"
    st, h, b = c.req("POST", "/login/%s/oauth2/v2.0/token" % t["tenant_id"],
                     {"Content-Type": "application/x-www-form-urlencoded"},
                     urllib.parse.urlencode(form))
    return st, json.loads(b)


def graph_pull(c, tok, url, retry_429=True):
    items, pages, statuses = [], 0, []
    while url:
        st, h, b = c.req("GET", url, {"Authorization": "Bearer " + tok})
        statuses.append((st, h.get("retry-after")))
        if st == 429 and retry_429:
            time.sleep(float(h.get("retry-after", "1")))
            continue
        if st != 200:
            return None, statuses, json.loads(b)
        d = json.loads(b)
        items += d["value"]
        pages += 1
        url = d.get("@odata.nextLink")
        last = d
    return items, statuses, last


def webex_next(h):
    link = h.get("link")
    if not link:
        return None
    m = re.search(r'<([^>]+)>;\s*rel="next"', link)
    return m.group(1) if m else None


def webex_pull(c, tok, url):
    items, pages = [], []
    while url:
        st, h, b = c.req("GET", url, {"Authorization": "Bearer " + tok})
        if st != 200:
            return None, (st, h, b)
        d = json.loads(b)
        items += d["items"]
        pages.append(len(d["items"]))
        url = webex_next(h)
    return items, pages


# ---------------------------------------------------------------------------------------

def test_genorg():
    print("genorg")
    a = genorg.generate(300, 5)
    b = genorg.generate(300, 5)
    check(json.dumps(a) == json.dumps(b), "deterministic per seed")
    check(json.dumps(genorg.generate(300, 6)) != json.dumps(a), "another seed differs")
    org = genorg.generate(2000, 11)
    truth = org["truth"]
    check(org["people"] is truth, "'people' and 'truth' carry the same list")
    # one entry per human, plus one per account that shows no address (nothing ties it to
    # its human, so it counts as a person of its own)
    check(len(truth) >= 2000 and sum(1 for p in truth if p["email"]) <= 2000,
          "one truth entry per human (+ addressless accounts)")
    # an account showing no address is a truth entry of its own, with email None
    emails = [p["email"] for p in truth if p["email"] is not None]
    check(len(set(emails)) == len(emails), "canonical emails unique")
    check(all(e == e.lower() for e in emails), "canonical emails lower-case")
    ids = {"slack": {u["id"]: u for u in org["slack"]["members"]},
           "teams": {u["id"]: u for u in org["teams"]["users"]},
           "webex": {u["id"]: u for u in org["webex"]["people"]}}
    seen, bad = set(), 0
    for p in truth:
        for a_ in p["accounts"]:
            if a_["user_id"] not in ids[a_["platform"]] or a_["user_id"] in seen or a_["bot"]:
                bad += 1
            seen.add(a_["user_id"])
    check(bad == 0, "every truth account exists once in its roster and is not a bot")
    counts = [len(p["accounts"]) for p in truth]
    check(all(counts.count(k) > 100 for k in (1, 2, 3)), "people on 1, 2 and 3 platforms")
    check(any(p["active"] and not all(a_["active"] for a_ in p["accounts"]) for p in truth),
          "deactivation on one platform only")
    check(any(not p["active"] for p in truth), "fully inactive people")
    check(any(p["guest"] for p in truth), "guests")
    check(any("+" in e for e in emails), "plus-addressed emails")
    check(any(a_["email"] and a_["email"] != a_["email"].lower() for p in truth
              for a_ in p["accounts"]), "mixed-case addresses on platforms")
    names = " ".join(p["name"] for p in truth)
    for what, pat in (("accents", "[éñø]"), ("CJK", "[\u4e00-\u9fff]"),
                      ("Arabic", "[\u0600-\u06ff]"), ("Hebrew", "[\u0590-\u05ff]"),
                      ("emoji", "[\U0001F300-\U0001FAFF]"), ("apostrophe", "O'Brien|D'Angelo|O'Connor")):
        check(re.search(pat, names) is not None, "names with %s" % what)
    check(any(len(p["name"]) > 60 for p in truth), "long names")
    sm = org["slack"]["members"]
    check(any(u["id"] == "USLACKBOT" and u["is_bot"] is False and "email" not in u["profile"]
              for u in sm), "Slackbot: is_bot false, no email")
    check(any(u.get("is_bot") and "bot_id" in u["profile"] and "email" not in u["profile"]
              for u in sm), "Slack bots with bot_id, no email")
    check(any(u.get("is_app_user") for u in sm), "Slack app users")
    check(any(u["deleted"] and "is_restricted" not in u and "tz" not in u for u in sm),
          "deleted Slack records lack is_restricted/tz")
    check(any(u.get("is_ultra_restricted") for u in sm) and
          any(u.get("is_restricted") and not u.get("is_ultra_restricted") for u in sm),
          "Slack guests (restricted, ultra-restricted)")
    check(all(u["id"] not in seen for u in sm if u.get("is_bot") or u.get("is_app_user")
              or u["id"] == "USLACKBOT"), "bots/app users/Slackbot not in truth")
    gu = org["teams"]["users"]
    check(any(u["mail"] is None for u in gu), "Graph users with mail null")
    check(any("#EXT#" in u["userPrincipalName"] and u["userType"] == "Guest" for u in gu),
          "Graph guests with #EXT# UPN")
    check(any(u["mail"] and u["mail"].lower().endswith("@corp.onmicrosoft.com") for u in gu),
          "Graph users only known by the onmicrosoft.com alias")
    check(all(any(x.startswith("SMTP:") for x in u["proxyAddresses"]) for u in gu),
          "proxyAddresses carry an SMTP: primary")
    check(any(u["accountEnabled"] is False for u in gu), "disabled Graph accounts")
    wp = org["webex"]["people"]
    check(any(isinstance(p["loginEnabled"], str) for p in wp) and
          any(isinstance(p["loginEnabled"], bool) for p in wp),
          "Webex loginEnabled as strings and as booleans")
    check(any(len(p["emails"]) == 2 for p in wp), "Webex people with two emails")
    check({p["type"] for p in wp} == {"person", "bot", "appuser"}, "Webex person/bot/appuser")
    import base64
    pid = base64.b64decode(wp[0]["id"] + "==").decode()
    check(pid.startswith("ciscospark://us/PEOPLE/") and "=" not in wp[0]["id"],
          "Webex ids are unpadded base64 of ciscospark://us/PEOPLE/<uuid>")
    sizes = [len(genorg.slack_dumps(u)) for u in sm]
    avg = sum(sizes) / len(sizes)
    check(900 <= avg <= 2000, "Slack member size about 1-2 KB (avg %d bytes)" % avg)
    s_only = genorg.generate(300, 1, ["slack"], "demo")
    check("teams" not in s_only and "webex" not in s_only and
          all(len(p["accounts"]) == 1 for p in s_only["truth"]), "Slack-only demo org")
    return org


def test_rosters(c, org):
    print("rosters")
    sec = org["secrets"]
    stok = sec["slack_bot_token"]
    # Slack -------------------------------------------------------------------------------
    members, info = slack_pull(c, stok, 200)
    want = [u["id"] for u in org["slack"]["members"]]
    check(members is not None and [m["id"] for m in members] == sorted(want),
          "slack users.list limit=200: all %d members, in id order, once" % len(want))
    if members is not None:
        cursors, raw, last = info
        check(cursors[-1] == "" and "offset" not in last, "slack last page: next_cursor '' and no offset")
        check(b"\\/" in raw, "slack escapes '/' as '\\/'")
        check(members == [json.loads(genorg.slack_dumps(u)) for u in
                          sorted(org["slack"]["members"], key=lambda u: u["id"])],
              "slack members equal org.json objects")
    st, _, d = jget(c, "/slack/api/users.list", {"Authorization": "Bearer " + stok})
    check(d.get("error") == "limit_required", "slack users.list without limit on a big org: limit_required")
    for hdr, err in (({"Authorization": "Bearer xoxb-wrong"}, "invalid_auth"), ({}, "not_authed")):
        st, _, d = jget(c, "/slack/api/users.list?limit=10", hdr)
        check(st == 200 and d == {"ok": False, "error": err}, "slack %s is HTTP 200 ok:false" % err)
    st, _, d = jget(c, "/slack/api/users.list?limit=10&cursor=Zm9vYmFy",
                    {"Authorization": "Bearer " + stok})
    check(d == {"ok": False, "error": "invalid_cursor"}, "slack invalid_cursor")
    st, _, d = jget(c, "/slack/api/users.list?limit=1001", {"Authorization": "Bearer " + stok})
    check(d == {"ok": False, "error": "invalid_limit"}, "slack limit>1000: invalid_limit")
    st, _, d = jget(c, "/slack/api/auth.test", {"Authorization": "Bearer " + stok})
    check(d.get("ok") and d.get("user_id") == org["slack"]["bot_user_id"], "slack auth.test")

    # Graph -------------------------------------------------------------------------------
    st, d = graph_token(c, org, secret="wrong")
    check(st == 401 and d.get("error") == "invalid_client" and "AADSTS7000215" in d.get(
        "error_description", ""), "graph token: wrong secret -> 401 invalid_client")
    st, d = graph_token(c, org)
    check(st == 200 and set(d) == {"token_type", "expires_in", "access_token"},
          "graph client_credentials token (fixture shape)")
    gtok = d["access_token"]
    st2, d2 = graph_token(c, org)
    check(d2["access_token"] != gtok, "graph tokens are fresh each time")
    sel = "id,userPrincipalName,mail,otherMails,proxyAddresses,accountEnabled,userType,displayName,externalUserState"
    base = "http://127.0.0.1:%d/graph/v1.0" % c.port
    items, sts, last = graph_pull(c, gtok, base + "/users?$select=%s&$top=300" % sel)
    gwant = sorted(u["id"] for u in org["teams"]["users"])
    check(items is not None and [u["id"] for u in items] == gwant,
          "graph /users $top=300 via @odata.nextLink: all %d users" % len(gwant))
    if items:
        check(set(items[0]) == set(sel.split(",")), "graph $select returns exactly the selected fields")
        full = {u["id"]: u for u in org["teams"]["users"]}
        check(all(all(u[k] == full[u["id"]][k] for k in u) for u in items), "graph values equal org.json")
    st, _, d = jget(c, base + "/users?$top=1000", {"Authorization": "Bearer " + gtok})
    check(st == 400 and "between 1 and 999" in d["error"]["message"], "graph $top=1000 -> 400")
    st, _, d = jget(c, base + "/users", {"Authorization": "Bearer " + gtok})
    check(st == 200 and len(d["value"]) == 100 and "businessPhones" in d["value"][0] and
          "accountEnabled" not in d["value"][0], "graph default page 100 with the default fields")
    nl = d.get("@odata.nextLink", "")
    check(nl.startswith(base + "/users?") and "$skiptoken=" in nl, "graph nextLink is an absolute URL with $skiptoken")
    for hdr in ({}, {"Authorization": "Bearer nonsense"}):
        st, _, d = jget(c, base + "/users", hdr)
        check(st == 401 and d["error"]["code"] == "InvalidAuthenticationToken",
              "graph 401 InvalidAuthenticationToken (%s)" % ("no token" if not hdr else "bad token"))

    # Graph delta -------------------------------------------------------------------------
    items, sts, last = graph_pull(c, gtok, base + "/users/delta?$select=%s&$top=400" % sel)
    check(items is not None and sorted(u["id"] for u in items) == gwant and
          "@odata.deltaLink" in last, "graph delta initial round ends in @odata.deltaLink")
    dl = last["@odata.deltaLink"]
    gu = sorted(org["teams"]["users"], key=lambda u: u["id"])
    ctl(c, {"op": "mutate", "platform": "teams", "user_id": gu[3]["id"],
            "set": {"accountEnabled": False}})
    ctl(c, {"op": "remove", "platform": "teams", "user_id": gu[4]["id"], "reason": "deleted"})
    ctl(c, {"op": "remove", "platform": "teams", "user_id": gu[5]["id"], "reason": "changed"})
    new = ctl(c, {"op": "add", "platform": "teams", "email": "new.hire@corp.com",
                  "name": "New Hire"})["user"]
    items, sts, last = graph_pull(c, gtok, dl)
    byid = {u["id"]: u for u in items or []}
    check(items is not None and len(items) == 4 and
          byid.get(gu[3]["id"], {}).get("accountEnabled") is False and
          byid.get(gu[4]["id"], {}).get("@removed") == {"reason": "deleted"} and
          byid.get(gu[5]["id"], {}).get("@removed") == {"reason": "changed"} and
          new["id"] in byid, "graph delta round 2: changed, removed (deleted/changed), added")
    items2, _, last2 = graph_pull(c, gtok, last["@odata.deltaLink"])
    check(items2 == [], "graph delta round 3: no changes")
    ctl(c, {"op": "expire_delta_tokens"})
    st, h, d = jget(c, last2["@odata.deltaLink"], {"Authorization": "Bearer " + gtok})
    check(st == 410 and d["error"]["code"] == "syncStateNotFound" and "location" in h,
          "graph expired delta token -> 410 syncStateNotFound + Location")
    ctl(c, {"op": "reset"})

    # Webex -------------------------------------------------------------------------------
    wtok = sec["webex_token"]
    wbase = "http://127.0.0.1:%d/webex/v1" % c.port
    items, pages = webex_pull(c, wtok, wbase + "/people?max=100")
    wwant = sorted(p["id"] for p in org["webex"]["people"])
    check(items is not None and [p["id"] for p in items] == wwant,
          "webex /people max=100 via Link rel=next: all %d people" % len(wwant))
    if items:
        full = {p["id"]: p for p in org["webex"]["people"]}
        check(all(p == full[p["id"]] for p in items), "webex people equal org.json")
    st, h, d = jget(c, wbase + "/people?max=5000", {"Authorization": "Bearer " + wtok})
    check(st == 200 and len(d["items"]) == min(1000, len(wwant)) and d["notFoundIds"] is None,
          "webex max=5000 silently capped at 1000")
    st, h, d = jget(c, wbase + "/people", {"Authorization": "Bearer nope"})
    check(st == 401 and d.get("trackingId") and d["errors"][0]["description"] and
          "trackingid" in h, "webex bad token -> 401 with message/errors/trackingId + TrackingId header")


def test_dms(c, org):
    print("direct messages")
    sec = org["secrets"]
    stok = {"Authorization": "Bearer " + sec["slack_bot_token"]}
    truth = org["truth"]
    live_slack = [a for p in truth for a in p["accounts"]
                  if a["platform"] == "slack" and a["active"]]
    dead_slack = [u["id"] for u in org["slack"]["members"] if u["deleted"]]
    uid = live_slack[0]["user_id"]
    st, _, b = c.req("POST", "/slack/api/conversations.open", stok, "users=" + uid)
    ch = json.loads(b)["channel"]["id"]
    check(ch.startswith("D"), "slack conversations.open -> D channel")
    st, _, b = c.req("POST", "/slack/api/conversations.open",
                     dict(stok, **{"Content-Type": "application/x-www-form-urlencoded"}),
                     "users=%s&return_im=true" % uid)
    d = json.loads(b)
    check(d["channel"]["id"] == ch and d.get("already_open") is True, "slack DM id stable; return_im shows already_open")
    for i in range(2):
        st, _, b = c.req("POST", "/slack/api/chat.postMessage", stok,
                         {"channel": ch, "text": "Please sync %d ref:R%d" % (i, i),
                          "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]})
        d = json.loads(b)
        check(d.get("ok") and d["channel"] == ch and d["message"]["text"].endswith("R%d" % i),
              "slack chat.postMessage #%d" % i)
    st, _, d = jget(c, "/slack/api/conversations.history?channel=" + ch, stok)
    check([m["text"][-2:] for m in d["messages"]] == ["R1", "R0"], "slack conversations.history newest first")
    st, _, b = c.req("POST", "/slack/api/conversations.open", stok, "users=" + dead_slack[0])
    check(json.loads(b).get("error") == "user_disabled", "slack DM to a deactivated user: user_disabled")
    st, _, b = c.req("POST", "/slack/api/conversations.open", stok, "users=UNOSUCHUSER")
    check(json.loads(b).get("error") == "user_not_found", "slack user_not_found")
    st, _, b = c.req("POST", "/slack/api/chat.postMessage", stok, "channel=DNOPE&text=x")
    check(json.loads(b).get("error") == "channel_not_found", "slack channel_not_found")

    # Teams
    gbase = "/graph/v1.0"
    st, d = graph_token(c, org, "refresh_token", refresh=sec["graph_refresh_token"])
    check(st == 200 and d.get("refresh_token") and d["refresh_token"] != sec["graph_refresh_token"],
          "graph refresh_token grant -> new access and refresh token")
    utok = {"Authorization": "Bearer " + d["access_token"]}
    st, d = graph_token(c, org)
    atok = {"Authorization": "Bearer " + d["access_token"]}
    svc = org["teams"]["service_user"]["id"]
    target = [a for p in truth for a in p["accounts"] if a["platform"] == "teams" and a["active"]][0]
    body = {"chatType": "oneOnOne", "members": [
        {"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": ["owner"],
         "user@odata.bind": "https://graph.microsoft.com/v1.0/users('%s')" % x}
        for x in (svc, target["user_id"])]}
    st, _, b = c.req("POST", gbase + "/chats", utok, body)
    chat = json.loads(b)
    check(st == 201 and chat["chatType"] == "oneOnOne" and chat["id"].endswith("@unq.gbl.spaces"),
          "graph POST /chats oneOnOne -> 201")
    st, _, b = c.req("POST", gbase + "/chats", utok, body)
    check(json.loads(b)["id"] == chat["id"], "graph same chat for the same pair")
    mpath = gbase + "/chats/%s/messages" % urllib.parse.quote(chat["id"], safe="")
    st, _, b = c.req("POST", mpath, utok, {"body": {"content": "Sync now ref:T1"}})
    m = json.loads(b)
    check(st == 201 and m["body"]["content"] == "Sync now ref:T1" and m["chatId"] == chat["id"],
          "graph POST /chats/{id}/messages -> 201")
    st, _, b = c.req("POST", mpath, atok, {"body": {"content": "app-only"}})
    check(st == 403, "graph app-only token cannot send chat messages (403)")
    st, _, d = jget(c, mpath, utok)
    check(st == 200 and [x["body"]["content"] for x in d["value"]] == ["Sync now ref:T1"],
          "graph GET /chats/{id}/messages")

    # Webex
    wt = {"Authorization": "Bearer " + sec["webex_token"]}
    wtarget = [a for p in truth for a in p["accounts"] if a["platform"] == "webex" and a["active"]][0]
    st, h, b = c.req("POST", "/webex/v1/messages", wt,
                     {"toPersonId": wtarget["user_id"], "markdown": "**Sync** ref:W1"})
    d = json.loads(b)
    check(st == 200 and d["toPersonId"] == wtarget["user_id"] and d["roomType"] == "direct",
          "webex POST /messages toPersonId -> 200")
    st, h, b = c.req("POST", "/webex/v1/messages", wt,
                     {"toPersonEmail": wtarget["email"].upper(), "text": "ref:W2"})
    d2 = json.loads(b)
    check(st == 200 and d2.get("toPersonId") == wtarget["user_id"] and d2["roomId"] == d["roomId"],
          "webex POST /messages toPersonEmail (any case) reaches the same person and room")
    st, _, d = jget(c, "/webex/v1/messages/direct?personId=" + urllib.parse.quote(wtarget["user_id"]), wt)
    check([x["text"] for x in d["items"]] == ["ref:W2", "**Sync** ref:W1"], "webex GET /messages/direct newest first")

    st, _, ms = jget(c, "/_control/messages")
    plats = [m["platform"] for m in ms]
    check(plats == ["slack", "slack", "teams", "webex", "webex"] and
          ms[0]["to"] == uid and ms[2]["to"] == target["user_id"] and ms[3]["to"] == wtarget["user_id"],
          "/_control/messages lists every DM with platform/to/channel/text/ts")
    check(all(set(("platform", "to", "channel", "text", "ts")) <= set(m) for m in ms),
          "/_control/messages fields")


def expect_exc(fn, excs):
    try:
        fn()
    except excs:
        return True
    except Exception as e:             # wrong kind of failure
        print("    (got %r)" % e)
        return False
    return False


def test_faults(c, org):
    print("failure specs")
    sec = org["secrets"]
    stok = sec["slack_bot_token"]
    sa = {"Authorization": "Bearer " + stok}
    wa = {"Authorization": "Bearer " + sec["webex_token"]}
    st, d = graph_token(c, org)
    gtok = d["access_token"]
    ga = {"Authorization": "Bearer " + gtok}
    nslack = len(org["slack"]["members"])

    def cursor_for_page(n, limit=200):
        cur = ""
        for _ in range(n - 1):
            q = "limit=%d" % limit + ("&cursor=" + urllib.parse.quote(cur) if cur else "")
            _, _, d = jget(c, "/slack/api/users.list?" + q, sa)
            cur = d["response_metadata"]["next_cursor"]
        return cur

    def fail(spec):
        ctl(c, {"op": "clear_failures"})
        ctl(c, {"op": "fail", "spec": spec})

    # status=500 on page 3, every time (retries of the same page hit the rule too)
    fail("slack:users.list:page=3:status=500")
    members, info = slack_pull(c, stok, 200)
    cur3 = cursor_for_page(3)
    st, _, d = jget(c, "/slack/api/users.list?limit=200&cursor=" + urllib.parse.quote(cur3), sa)
    check(members is None and info[0] == 500 and info[2] == 2 and st == 500,
          "status=500 on page 3 (and again on the retry)")
    # 429 with Retry-After, Slack body, times=1
    fail("slack:users.list:page=2:status=429:retry_after=1:times=1")
    cur2 = cursor_for_page(2)
    st, h, d = jget(c, "/slack/api/users.list?limit=200&cursor=" + urllib.parse.quote(cur2), sa)
    st2, _, d2 = jget(c, "/slack/api/users.list?limit=200&cursor=" + urllib.parse.quote(cur2), sa)
    check(st == 429 and h.get("retry-after") == "1" and d == {"ok": False, "error": "ratelimited"}
          and st2 == 200 and d2["ok"], "slack 429 ratelimited + Retry-After, then times=1 exhausted")
    # Graph 429 with a fractional Retry-After, twice
    fail("teams:users:page=2:status=429:retry_after=0.5:times=2")
    items, sts, last = graph_pull(c, gtok, "/graph/v1.0/users?$top=500")
    n429 = [s for s in sts if s[0] == 429]
    check(items is not None and len(items) == len(org["teams"]["users"]) and
          n429 == [(429, "0.5"), (429, "0.5")], "graph 429 Retry-After 0.5 twice on page 2, then the pull completes")
    st, h, b = c.req("GET", "/graph/v1.0/users?$top=500", ga)
    fail("teams:users:page=1:status=429")
    st, h, b = c.req("GET", "/graph/v1.0/users?$top=500", ga)
    check(st == 429 and json.loads(b)["error"]["code"] == "TooManyRequests" and
          json.loads(b)["error"]["innerError"]["status"] == "429", "graph 429 body = fixture shape")
    # truncate
    fail("webex:people:page=1:truncate")
    check(expect_exc(lambda: c.req("GET", "/webex/v1/people?max=50", wa, fresh=True),
                     (http.client.IncompleteRead,)), "truncate: half a body, then the connection closes")
    # malformed
    fail("slack:users.list:page=1:malformed")
    st, h, b = c.req("GET", "/slack/api/users.list?limit=50", sa)
    check(st == 200 and expect_exc(lambda: json.loads(b), (ValueError,)), "malformed: invalid JSON body")
    # badutf8
    fail("teams:users:page=1:badutf8")
    st, h, b = c.req("GET", "/graph/v1.0/users?$top=5", ga)
    check(st == 200 and expect_exc(lambda: b.decode("utf-8"), (UnicodeDecodeError,)),
          "badutf8: body is not valid UTF-8")
    # slow
    fail("slack:auth.test:slow=300")
    t0 = time.monotonic()
    st, h, b = c.req("GET", "/slack/api/auth.test", sa)
    check(st == 200 and time.monotonic() - t0 >= 0.3, "slow=300 delays the answer")
    # reset
    fail("webex:people:page=1:reset")
    check(expect_exc(lambda: c.req("GET", "/webex/v1/people?max=50", wa, fresh=True),
                     (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)),
          "reset: connection dropped without an answer")
    # repeat_cursor
    fail("slack:users.list:page=2:repeat_cursor")
    cur2 = cursor_for_page(2)
    st, _, d = jget(c, "/slack/api/users.list?limit=200&cursor=" + urllib.parse.quote(cur2), sa)
    check(d["response_metadata"]["next_cursor"] == cur2, "repeat_cursor: page 2 hands back its own cursor")
    fail("teams:users:page=2:repeat_cursor:times=1")
    _, _, d1 = jget(c, "/graph/v1.0/users?$top=100", ga)
    _, _, d2 = jget(c, d1["@odata.nextLink"], ga)
    check(d2["@odata.nextLink"] == d1["@odata.nextLink"], "repeat_cursor (graph): nextLink repeats")
    # empty
    fail("teams:users:page=2:empty")
    items, sts, last = graph_pull(c, gtok, "/graph/v1.0/users?$top=200")
    _, _, d1 = jget(c, "/graph/v1.0/users?$top=200", ga)
    _, _, d2 = jget(c, d1["@odata.nextLink"], ga)
    check(d2["value"] == [] and "@odata.nextLink" in d2 and items is not None and
          len(items) == len(org["teams"]["users"]), "empty: an empty page with a next link, nothing lost")
    fail("slack:users.list:page=2:empty")
    members, info = slack_pull(c, stok, 200)
    check(members is not None and len(members) == nslack, "empty (slack): page 2 empty, cursor goes on, nothing lost")
    # short
    fail("webex:people:page=1:short")
    items, pages = webex_pull(c, sec["webex_token"], "/webex/v1/people?max=100")
    check(items is not None and pages[0] == 50 and len(items) == len(org["webex"]["people"]),
          "short: fewer items than max while more pages remain")
    # maxnull
    fail("webex:people:page=1:maxnull")
    st, h, d = jget(c, "/webex/v1/people?max=100", wa)
    link = webex_next(h)
    st2, _, _ = c.req("GET", link, wa)
    check("max=null" in link and st2 == 400, "maxnull: Link carries max=null, which the API refuses")
    # error=
    fail("slack:users.list:page=2:error=invalid_auth")
    members, info = slack_pull(c, stok, 200)
    check(members is None and info[0] == 200 and info[1] == {"ok": False, "error": "invalid_auth"},
          "error=invalid_auth: HTTP 200 ok:false on page 2")
    # webex all pages 503
    fail("webex:people:all:status=503")
    st, h, d = jget(c, "/webex/v1/people?max=100", wa)
    check(st == 503 and "trackingId" in d and "trackingid" in h, "webex:people:all:status=503")
    # after= and user= on a send endpoint
    truth = org["truth"]
    tgt = [a for p in truth for a in p["accounts"] if a["platform"] == "webex" and a["active"]]
    fail("webex:messages:user=%s:status=500" % tgt[1]["user_id"])
    st1, _, _ = c.req("POST", "/webex/v1/messages", wa, {"toPersonId": tgt[0]["user_id"], "text": "a"})
    st2, _, _ = c.req("POST", "/webex/v1/messages", wa, {"toPersonEmail": tgt[1]["email"], "text": "b"})
    check(st1 == 200 and st2 == 500, "user=: only DMs to that person fail (matched by email too)")
    fail("slack:auth.test:after=1:status=503:times=1")
    sts = [c.req("GET", "/slack/api/auth.test", sa)[0] for _ in range(3)]
    check(sts == [200, 503, 200], "after=1 skips one request, times=1 fires once")
    # reset_after: the DM is recorded but the answer never arrives (an in-doubt send)
    ctl(c, {"op": "clear_messages"})
    fail("webex:messages:reset_after")
    check(expect_exc(lambda: c.req("POST", "/webex/v1/messages", wa,
                                   {"toPersonId": tgt[0]["user_id"], "text": "ref:X"}, fresh=True),
                     (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)) and
          len(jget(c, "/_control/messages")[2]) == 1, "reset_after: processed, then dropped")
    ctl(c, {"op": "clear_failures"})
    st, _, rules = jget(c, "/_control/rules")
    check(rules == [], "clear_failures")
    # bad spec
    st, _, b = c.req("POST", "/_control", body={"op": "fail", "spec": "slack:users.lst:page=1:status=500"})
    check(st == 400, "a misspelt endpoint in a SPEC is refused")


def test_oauth(c, org, log):
    """The three OAuth providers: pages, codes, PKCE, tokens, identities, refresh, revoke,
    and no secret in the request log."""
    print("oauth providers")
    st, _, info = jget(c, "/_control/oauth")
    clients = info["clients"]
    check(set(clients) == {"slack", "teams", "webex"}, "an OAuth app per platform")
    truth = [t for t in org["truth"] if t["active"] and not t["guest"] and
             len(t["accounts"]) == 3 and all(a["active"] for a in t["accounts"])]
    me, other = truth[0], truth[1]
    acc = {a["platform"]: a for a in me["accounts"]}
    oth = {a["platform"]: a for a in other["accounts"]}
    ten = org["teams"]["tenant_id"]
    authz = {"slack": "/slack/oauth/v2/authorize",
             "teams": "/login/%s/oauth2/v2.0/authorize" % ten,
             "webex": "/webex/v1/authorize"}
    cb = "http://127.0.0.1:9/cb"
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()) \
        .decode().rstrip("=")
    secrets_seen = [x["client_secret"] for x in clients.values()]

    def params(p, **extra):
        q = {"client_id": clients[p]["client_id"], "redirect_uri": cb, "state": "st-" + p}
        if p == "slack":
            q["user_scope"] = "users:read"
        else:
            q.update(response_type="code", scope="a b")
        if p == "teams":
            q.update(code_challenge=challenge, code_challenge_method="S256")
        q.update(extra)
        return authz[p] + "?" + urllib.parse.urlencode(q)

    def code_for(p, who):
        st, h, b = c.req("GET", params(p, user=who))
        if not check(st == 302, "%s: approve -> 302" % p):
            return None
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(h["location"]).query)
        check(h["location"].startswith(cb + "?") and q.get("state") == ["st-" + p],
              "%s: back to redirect_uri with the state" % p)
        secrets_seen.append(q["code"][0])
        return q["code"][0]

    def form(d):
        return urllib.parse.urlencode(d)

    def exchange(p, code, verifier_=verifier, redirect=cb):
        if p == "slack":
            auth = base64.b64encode(("%s:%s" % (clients[p]["client_id"],
                                                clients[p]["client_secret"])).encode()).decode()
            return c.req("POST", "/slack/api/oauth.v2.access",
                         {"Authorization": "Basic " + auth,
                          "Content-Type": "application/x-www-form-urlencoded"},
                         form({"code": code, "redirect_uri": redirect}))
        d = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
             "client_id": clients[p]["client_id"], "client_secret": clients[p]["client_secret"]}
        if p == "teams" and verifier_ is not None:
            d["code_verifier"] = verifier_
        url = "/login/%s/oauth2/v2.0/token" % ten if p == "teams" else "/webex/v1/access_token"
        return c.req("POST", url, {"Content-Type": "application/x-www-form-urlencoded"},
                     form(d))

    for p in ("slack", "teams", "webex"):
        st, h, b = c.req("GET", params(p))
        page = b.decode()
        check(st == 200 and "text/html" in h["content-type"], "%s: authorize page" % p)
        check(('value="%s"' % acc[p]["user_id"]) in page and
              ('value="%s"' % oth[p]["user_id"]) in page,
              "%s: the page lists the org's users (anyone can be picked)" % p)
        check('name="deny"' in page and 'name="state" value="st-%s"' % p in page,
              "%s: a Cancel button; the parameters ride along" % p)
        st, h, b = c.req("GET", params(p, client_id="nope"))
        check(st == 400, "%s: unknown client_id -> 400 page" % p)
        st, h, b = c.req("GET", params(p, deny="1"))
        check(st == 302 and "error=access_denied" in h["location"], "%s: Cancel" % p)
        code = code_for(p, acc[p]["user_id"] if p != "webex" else acc[p]["email"])
        st, h, b = exchange(p, code)
        d = json.loads(b)
        if p == "slack":
            check(d.get("ok") and d["authed_user"]["id"] == acc[p]["user_id"] and
                  d["team"]["id"] == acc[p]["team_id"] and
                  d["authed_user"]["token_type"] == "user",
                  "slack: oauth.v2.access answers authed_user and team")
            tok, rt = d["authed_user"]["access_token"], d["authed_user"]["refresh_token"]
            st, h, b = c.req("POST", "/slack/api/auth.test", {"Authorization": "Bearer " + tok})
            check(json.loads(b).get("user_id") == acc[p]["user_id"],
                  "slack: auth.test with the user token names the user")
        else:
            check(st == 200 and d.get("access_token") and d.get("refresh_token"),
                  "%s: code exchanged for tokens" % p)
            tok, rt = d["access_token"], d["refresh_token"]
            url = "/graph/v1.0/me" if p == "teams" else "/webex/v1/people/me"
            st, h, b = c.req("GET", url, {"Authorization": "Bearer " + tok})
            m = json.loads(b)
            check(st == 200 and m["id"] == acc[p]["user_id"] and
                  (p == "teams" or m["orgId"] == acc[p]["team_id"]),
                  "%s: the identity endpoint names the signed-in user" % p)
        secrets_seen += [tok, rt]
        st, h, b = exchange(p, code)
        d = json.loads(b)
        check(st >= 400 or d.get("ok") is False, "%s: a code works once" % p)
        # refresh
        if p == "slack":
            auth = base64.b64encode(("%s:%s" % (clients[p]["client_id"],
                                                clients[p]["client_secret"])).encode()).decode()
            st, h, b = c.req("POST", "/slack/api/oauth.v2.access",
                             {"Authorization": "Basic " + auth,
                              "Content-Type": "application/x-www-form-urlencoded"},
                             form({"grant_type": "refresh_token", "refresh_token": rt}))
            ok = json.loads(b).get("ok") and json.loads(b).get("access_token")
        else:
            url = "/login/%s/oauth2/v2.0/token" % ten if p == "teams" else "/webex/v1/access_token"
            st, h, b = c.req("POST", url, {"Content-Type": "application/x-www-form-urlencoded"},
                             form({"grant_type": "refresh_token", "refresh_token": rt,
                                   "client_id": clients[p]["client_id"],
                                   "client_secret": clients[p]["client_secret"]}))
            ok = st == 200 and json.loads(b).get("access_token")
        check(ok, "%s: refresh_token grant" % p)
        secrets_seen.append(json.loads(b).get("access_token", ""))
    # PKCE and redirect_uri
    code = code_for("teams", acc["teams"]["user_id"])
    st, h, b = exchange("teams", code, verifier_="w" * 50)
    check(st == 400 and json.loads(b)["error"] == "invalid_grant", "teams: wrong PKCE verifier")
    code = code_for("teams", acc["teams"]["user_id"])
    st, h, b = exchange("teams", code, verifier_=None)
    check(st == 400, "teams: missing PKCE verifier")
    code = code_for("webex", acc["webex"]["user_id"])
    st, h, b = exchange("webex", code, redirect="http://127.0.0.1:9/other")
    check(st == 400 and json.loads(b)["error"] == "invalid_grant", "webex: redirect_uri must match")
    # mint and revoke
    m = ctl(c, {"op": "mint_user_token", "platform": "webex", "user_id": oth["webex"]["user_id"]})
    secrets_seen += [m["access_token"], m["refresh_token"]]
    check(m["team_id"] == oth["webex"]["team_id"], "mint_user_token")
    ctl(c, {"op": "revoke_user_tokens", "platform": "webex"})
    st, h, b = c.req("GET", "/webex/v1/people/me", {"Authorization": "Bearer " + m["access_token"]})
    check(st == 401, "revoke_user_tokens: the access token stops working")
    st, h, b = c.req("POST", "/webex/v1/access_token",
                     {"Content-Type": "application/x-www-form-urlencoded"},
                     form({"grant_type": "refresh_token", "refresh_token": m["refresh_token"],
                           "client_id": clients["webex"]["client_id"],
                           "client_secret": clients["webex"]["client_secret"]}))
    check(st == 400 and json.loads(b)["error"] == "invalid_grant",
          "revoke_user_tokens: refresh -> invalid_grant")
    st, _, issued = jget(c, "/_control/oauth/issued")
    check(len(issued["codes"]) >= 6 and len(issued["access"]) >= 6, "/_control/oauth/issued")
    with open(log, encoding="utf-8") as f:
        text = f.read()
    leaked = [s for s in secrets_seen if s and s in text]
    check(not leaked, "no code, token or client secret in the request log")


def test_rate_cli_log(tmp, org_path, org):
    print("--rate, --fail on the command line, log, keep-alive, shrink")
    p, port, log = start_server(tmp, org_path, "rate", ["--rate", "slack:chat.postMessage=3/60",
                                                         "--fail", "slack:users.list:page=2:status=503:times=1"])
    c = Client(port)
    try:
        sec = org["secrets"]
        sa = {"Authorization": "Bearer " + sec["slack_bot_token"]}
        uid = [a for q in org["truth"] for a in q["accounts"] if a["platform"] == "slack" and a["active"]][0]["user_id"]
        sts = []
        for i in range(5):
            st, h, b = c.req("POST", "/slack/api/chat.postMessage", sa, "channel=%s&text=hi%d" % (uid, i))
            sts.append((st, h.get("retry-after")))
        check([s for s, _ in sts] == [200, 200, 200, 429, 429] and sts[3][1] and sts[3][1].isdigit(),
              "--rate 3/60: 4th and 5th posts get 429 with an integer Retry-After")
        st, _, stats = jget(c, "/_control/stats")
        check(stats["ratelimited"].get("slack:chat.postMessage") == 2 and
              stats["status"]["slack:chat.postMessage"].get("429") == 2, "/_control/stats counts the 429s")
        members, info = slack_pull(c, sec["slack_bot_token"], 200)
        check(members is None and info[0] == 503, "--fail on the command line applies")
        members, info = slack_pull(c, sec["slack_bot_token"], 200)
        check(members is not None and len(members) == len(org["slack"]["members"]), "... and times=1 is honoured")
        # keep-alive: one connection served several requests
        c.close()
        for _ in range(3):
            c.req("GET", "/slack/api/auth.test", sa)
        st, d = graph_token(c, org)
        c.req("GET", "/graph/v1.0/users?$top=5", {"Authorization": "Bearer " + d["access_token"]})
        gtok = d["access_token"]
        st, d = graph_token(c, org, "refresh_token", refresh=sec["graph_refresh_token"])
        c.req("GET", "/graph/v1.0/me", {"Authorization": "Bearer " + d["access_token"]})
        c.req("GET", "/slack/api/users.list?limit=5&token=" + sec["slack_bot_token"])
        # shrink
        r = ctl(c, {"op": "shrink", "platform": "slack", "fraction": 0.5})
        members, info = slack_pull(c, sec["slack_bot_token"], 500)
        check(members is not None and len(members) == r["remaining"] and
              r["removed"] >= len(org["slack"]["members"]) // 2 - 1, "shrink removes half the roster")
        time.sleep(0.2)
        with open(log, encoding="utf-8") as f:
            text = f.read()
        lines = [json.loads(x) for x in text.splitlines()]
        check(len(lines) >= 20 and all({"ts", "method", "path", "query", "headers", "status",
                                        "token_present", "token_sha256", "body"} <= set(x)
                                       for x in lines), "request log: one JSON object per request")
        secrets_ = [sec["slack_bot_token"], sec["graph_client_secret"], sec["graph_refresh_token"],
                    sec["webex_token"], gtok, d["access_token"], d["refresh_token"]]
        check(not any(s in text for s in secrets_), "request log holds no secret or token")
        fp = hashlib.sha256(sec["slack_bot_token"].encode()).hexdigest()[:8]
        check(any(x["token_sha256"] == fp and x["headers"].get("Authorization") == "Bearer <redacted>"
                  for x in lines), "Authorization redacted, sha256[:8] fingerprint recorded")
        check(any(x["query"].get("token") == "<redacted>" and x["token_sha256"] == fp for x in lines),
              "token= query parameter redacted too")
        tok_lines = [x for x in lines if x["endpoint"] == "token"]
        check(tok_lines and all("client_secret=<redacted>" in x["body"] for x in tok_lines),
              "token endpoint bodies logged with the secret redacted")
        auth = [x for x in lines if x["path"].endswith("/auth.test")][-3:]
        same = [x for x in lines if x["conn"] == auth[0]["conn"]]
        check(len({x["conn"] for x in auth}) == 1 and [x["conn_seq"] for x in auth] == [1, 2, 3]
              and len(same) >= 8, "keep-alive: consecutive requests share one connection")
    finally:
        c.close()
        p.terminate()
        p.wait(5)


def test_perf(tmp):
    print("performance: 50,000-member Slack org, pages of 1000")
    t0 = time.monotonic()
    org = genorg.generate(50000, 99, ["slack"], "truth")
    gen_s = time.monotonic() - t0
    path = os.path.join(tmp, "big.json")
    genorg.write_org(org, path)
    t0 = time.monotonic()
    p, port, log = start_server(tmp, path, "perf")
    start_s = time.monotonic() - t0
    c = Client(port)
    try:
        tok = org["secrets"]["slack_bot_token"]
        times, n, cur = [], 0, ""
        while True:
            q = "limit=1000" + ("&cursor=" + urllib.parse.quote(cur) if cur else "")
            t = time.monotonic()
            st, h, b = c.req("GET", "/slack/api/users.list?" + q, {"Authorization": "Bearer " + tok})
            times.append((time.monotonic() - t) * 1000)
            d = json.loads(b)
            n += len(d["members"])
            cur = d["response_metadata"]["next_cursor"]
            if not cur:
                break
        times.sort()
        med, p95, mx = times[len(times) // 2], times[int(len(times) * 0.95)], times[-1]
        print("  generate %.1fs, load+listen %.1fs, %d pages: median %.1f ms, p95 %.1f ms, max %.1f ms"
              % (gen_s, start_s, len(times), med, p95, mx))
        check(n == len(org["slack"]["members"]), "all %d members paged" % n)
        check(p95 < 50, "p95 page time under 50 ms (%.1f ms)" % p95)
    finally:
        c.close()
        p.terminate()
        p.wait(5)


def main():
    global VERBOSE
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip the 50,000-user timing")
    ap.add_argument("--keep", help="keep generated files and logs in this directory")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    VERBOSE = a.verbose
    tmp = a.keep or tempfile.mkdtemp(prefix="fakes-selftest-")
    os.makedirs(tmp, exist_ok=True)
    procs = []
    try:
        org = test_genorg()
        org_path = os.path.join(tmp, "org.json")
        genorg.write_org(org, org_path)
        with open(org_path, encoding="utf-8") as f:
            org = json.load(f)
        p, port, log = start_server(tmp, org_path, "main")
        procs.append(p)
        c = Client(port)
        test_rosters(c, org)
        test_dms(c, org)
        test_faults(c, org)
        test_oauth(c, org, log)
        c.close()
        test_rate_cli_log(tmp, org_path, org)
        if not a.quick:
            test_perf(tmp)
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    if FAILS:
        print("selftest: %d check(s) FAILED" % len(FAILS))
        return 1
    print("selftest: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
