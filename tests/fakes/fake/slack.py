"""slack.py -- the fake Slack Web API under /slack/api/<method>: users.list paging with
cursors, users.info / lookupByEmail, auth.test, team.info, conversations.open / history and
chat.postMessage (DMs).  oauth.v2.access and the authorize page are in oauth.py.

An org whose "slack" carries "enterprise_id" is an Enterprise Grid seen through an org-wide
token: auth.teams.list names its workspaces ("teams": [{id, name}]), users.list needs
team_id and lists the members whose enterprise_user.teams holds it (one user id in several
workspaces is listed by each), team.info answers for each workspace."""

import base64
import hashlib
import json
import time
import urllib.parse

import genorg
from . import history
from .core import ENDPOINTS, PAGED, Resp, SLACK_CT, is_live, sdump, slack_error, truthy

SLACK_LIMIT_MAX = 1000
SLACK_TEXT_MAX = 40000


# ---------------------------------------------------------------------------------------
# Slack

def slack_cursor(uid, page=None):
    raw = "user:%s" % uid if page is None else "user:%s:%d" % (uid, page)
    return base64.b64encode(raw.encode()).decode()


def slack_decode_cursor(c):
    try:
        raw = base64.b64decode(c, validate=True).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    parts = raw.split(":")
    if parts[0] != "user" or len(parts) not in (2, 3) or not parts[1]:
        return None
    page = None
    if len(parts) == 3:
        if not parts[2].isdigit():
            return None
        page = int(parts[2])
    return parts[1], page


class SlackAPI:
    def __init__(self, S):
        self.S = S

    def params(self, ctx):
        """Query + form or JSON body, as Slack merges them."""
        p = {k: v[0] for k, v in ctx.query.items()}
        ct = (ctx.header("Content-Type") or "").lower()
        if ctx.body:
            if "application/json" in ct:
                try:
                    d = json.loads(ctx.body.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    return None
                if not isinstance(d, dict):
                    return None
                p.update(d)
            else:
                for k, v in urllib.parse.parse_qs(ctx.body.decode("utf-8", "replace"),
                                                  keep_blank_values=True).items():
                    p[k] = v[0]
        return p

    def handle(self, ctx, method, h):
        S = self.S
        ctx.endpoint = method if method in ENDPOINTS["slack"] else "unknown"
        if S.slack is None:
            return slack_error("team_not_found", 404)
        if method not in ENDPOINTS["slack"]:
            return slack_error("unknown_method", extra={"req_method": method})
        p = self.params(ctx)
        if p is None:
            return slack_error("invalid_json")
        early = h.pre_checks(ctx, lambda: self.recipients(p))
        if early is not None:
            return early
        if method == "oauth.v2.access":
            return S.api_oauth.slack_access(ctx, p, h)      # client credentials, no token
        if method == "authorize":
            return slack_error("unknown_method", extra={"req_method": method})
        tok = ctx.bearer()
        if tok is None:
            tok = p.get("token")
        if not tok:
            return slack_error("not_authed")
        if tok != S.sec.get("slack_bot_token"):
            u = S.api_oauth.access_user("slack", tok)
            if u is None:
                return slack_error("invalid_auth")
            if method in ("conversations.list", "conversations.history"):
                ctx.token_user = u["user"]          # the catch-up reads the user's DMs
                return getattr(self, "user_" + method.replace(".", "_"))(ctx, p, h)
            if method != "auth.test":
                return slack_error("not_allowed_token_type")
            o = S.org["slack"]
            return Resp(200, sdump({"ok": True, "url": "https://%s.slack.com/" % o["domain"],
                                    "team": o["team_name"], "user": u["user"],
                                    "team_id": u["team"], "user_id": u["user"],
                                    "is_enterprise_install": False}), SLACK_CT)
        if S.slack_revoked:
            return slack_error("token_revoked")
        if ("slack", method) not in PAGED:
            r = h.apply_fault(ctx)
            if r is not None:
                return r
        return getattr(self, method.replace(".", "_"))(ctx, p, h)

    def recipients(self, p):
        out = set()
        for k in ("users", "user", "channel", "email"):
            v = p.get(k)
            if isinstance(v, str) and v:
                for x in v.split(","):
                    out.add(x.lower())
                    u = self.S.slack_dm_rev.get(x)
                    if u:
                        out.add(u.lower())
        return out

    # Enterprise Grid ------------------------------------------------------------------
    def grid(self):
        o = self.S.org["slack"]
        return o if o.get("enterprise_id") else None

    def team_pred(self, p):
        """users.list's filter: every live member, or (Grid) those of team_id; None when
        team_id is missing (an org-wide token needs it) or names no workspace."""
        g = self.grid()
        if g is None:
            return is_live
        tid = str(p.get("team_id", "") or "")
        if tid not in {t["id"] for t in g["teams"]}:
            return None
        return lambda r: is_live(r) and tid in r.obj.get("enterprise_user", {}).get("teams", ())

    def auth_teams_list(self, ctx, p, h):
        g = self.grid()
        if g is None:
            return slack_error("not_allowed_token_type")
        teams = [{"id": t["id"], "name": t["name"]} for t in g["teams"]]
        return Resp(200, sdump({"ok": True, "teams": teams,
                                "response_metadata": {"next_cursor": ""}}), SLACK_CT)

    def team_info(self, ctx, p, h):
        o, g = self.S.org["slack"], self.grid()
        tid = str(p.get("team", "") or "")
        if g is not None:
            t = next((t for t in g["teams"] if t["id"] == tid), None)
            if t is None:
                return slack_error("team_not_found")
            team = {"id": t["id"], "name": t["name"], "domain": t.get("domain", t["id"].lower()),
                    "email_domain": "", "enterprise_id": g["enterprise_id"],
                    "enterprise_name": g["enterprise_name"]}
        elif tid and tid != o["team_id"]:
            return slack_error("team_not_found")
        else:
            team = {"id": o["team_id"], "name": o["team_name"], "domain": o["domain"],
                    "email_domain": ""}
        return Resp(200, sdump({"ok": True, "team": team}), SLACK_CT)

    # users.list -----------------------------------------------------------------------
    def users_list(self, ctx, p, h):
        S = self.S
        ros = S.slack
        pred = self.team_pred(p)
        if pred is None:
            return slack_error("missing_argument" if not p.get("team_id") else "team_not_found")
        try:
            limit = int(str(p.get("limit", "0")) or "0")
        except ValueError:
            return slack_error("invalid_limit")
        if limit < 0 or limit > SLACK_LIMIT_MAX:
            return slack_error("invalid_limit")
        cursor = str(p.get("cursor", "") or "")
        with S.lock:
            if cursor:
                dec = slack_decode_cursor(cursor)
                if dec is None or ros.get(dec[0]) is None:
                    return slack_error("invalid_cursor")
                start = ros.index(dec[0])
                page = S.slack_cursor_pages.get((cursor, limit)) or dec[1] or (
                    start // limit + 1 if limit else 1)
            else:
                start, page = 0, 1
            if limit == 0 and len(ros.keys) > S.args.unpaged_max:
                return slack_error("limit_required")
        ctx.page = page
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        f = ctx.fault
        n = limit or len(ros.keys) or 1
        with S.lock:
            if f and f.has("empty"):
                recs, nxt = ros.scan(start, 0, pred)
            else:
                if f and f.has("short"):
                    n = max(1, n // 2)
                recs, nxt = ros.scan(start, n, pred)
            if f and f.has("repeat_cursor"):
                first = recs[0].id if recs else (nxt or (ros.keys[0] if ros.keys else ""))
                nc = cursor or slack_cursor(first)
                S.slack_cursor_pages.setdefault((nc, limit), page)
            elif nxt is None:
                nc = ""
            else:
                # After an empty page the next cursor names the same user as this one; the
                # page number in it keeps the two apart.
                nc = slack_cursor(nxt, page + 1 if (f and f.has("empty")) else None)
                S.slack_cursor_pages[(nc, limit)] = page + 1
            members = b",".join(rr.cache["s"] for rr in recs)
        head = b'{"ok":true,'
        if nxt is not None:
            head += b'"offset":' + sdump(nxt) + b","
        body = (head + b'"members":[' + members + b'],"cache_ts":' +
                str(int(time.time())).encode() + b',"response_metadata":{"next_cursor":' +
                sdump(nc) + b"}}")
        return Resp(200, body, SLACK_CT)

    def users_info(self, ctx, p, h):
        with self.S.lock:
            r = self.S.slack.live(str(p.get("user", "")))
            if r is None:
                return slack_error("user_not_found")
            return Resp(200, b'{"ok":true,"user":' + r.cache["s"] + b"}", SLACK_CT)

    def users_lookupByEmail(self, ctx, p, h):
        e = str(p.get("email", "")).strip().lower()
        with self.S.lock:
            for r in self.S.slack.live_recs():
                if str(r.obj.get("profile", {}).get("email", "")).lower() == e and e:
                    return Resp(200, b'{"ok":true,"user":' + r.cache["s"] + b"}", SLACK_CT)
        return slack_error("users_not_found")

    def auth_test(self, ctx, p, h):
        o, g = self.S.org["slack"], self.grid()
        d = {"ok": True, "url": "https://%s.slack.com/" % o["domain"],
             "team": o["team_name"], "user": "peoplesync", "team_id": o["team_id"],
             "user_id": o["bot_user_id"], "bot_id": o["bot_id"],
             "is_enterprise_install": g is not None}
        if g is not None:
            d.update(team=g["enterprise_name"], team_id=g["enterprise_id"],
                     enterprise_id=g["enterprise_id"])
        return Resp(200, sdump(d), SLACK_CT, [("X-OAuth-Scopes", self.S.slack_scopes)])

    # DMs --------------------------------------------------------------------------------
    def dm_channel(self, uid):
        S = self.S
        ch = S.slack_dm.get(uid)
        if ch is None:
            h = hashlib.sha1(("%s:%s" % (S.org["slack"]["team_id"], uid)).encode()).hexdigest()
            ch = "D0" + "".join(genorg._SLACK_ALPHABET[int(h[i:i + 2], 16) % 36]
                                for i in range(0, 16, 2))
            S.slack_dm[uid] = ch
            S.slack_dm_rev[ch] = uid
        return ch

    def conversations_open(self, ctx, p, h):
        S = self.S
        users = [u for u in str(p.get("users", "") or "").split(",") if u]
        chan = str(p.get("channel", "") or "")
        if not users and chan:
            with S.lock:
                if chan not in S.slack_dm_rev:
                    return slack_error("channel_not_found")
                users = [S.slack_dm_rev[chan]]
        if not users:
            return slack_error("users_list_not_supplied")
        if len(users) > 1:
            return slack_error("invalid_arguments", extra={"response_metadata": {
                "messages": ["[ERROR] this fake only opens 1:1 DMs"]}})
        if self.grid() is not None and self.team_pred({"team_id": p.get("team_id")}) is None:
            return slack_error("missing_argument")      # an org-wide token names the team
        with S.lock:
            r = S.slack.live(users[0])
            if r is None:
                return slack_error("user_not_found")
            if r.obj.get("deleted"):
                return slack_error("user_disabled")
            ch = self.dm_channel(r.id)
            already = ch in S.slack_opened
            S.slack_opened.add(ch)
        if not truthy(p.get("return_im", False)):
            return Resp(200, sdump({"ok": True, "channel": {"id": ch}}), SLACK_CT)
        d = {"ok": True}
        if already:
            d.update(no_op=True, already_open=True)
        d["channel"] = {"id": ch, "created": int(time.time()), "is_im": True,
                        "is_org_shared": False, "user": r.id, "last_read": "0000000000.000000",
                        "latest": None, "unread_count": 0, "unread_count_display": 0,
                        "is_open": True, "priority": 0}
        return Resp(200, sdump(d), SLACK_CT)

    def chat_postMessage(self, ctx, p, h):
        S = self.S
        o = S.org["slack"]
        ch = str(p.get("channel", "") or "")
        with S.lock:
            if ch[:1] in ("U", "W"):
                # legacy: a user id as channel posts into the app's DM with that user
                r = S.slack.live(ch)
                if r is None:
                    return slack_error("channel_not_found")
                ch = self.dm_channel(r.id)
            uid = S.slack_dm_rev.get(ch)
            if uid is None:
                return slack_error("channel_not_found")
            r = S.slack.live(uid)
            if r is None or r.obj.get("deleted"):
                return slack_error("is_archived")
        text = p.get("text")
        text = "" if text is None else str(text)
        blocks = p.get("blocks")
        if isinstance(blocks, str) and blocks:
            try:
                blocks = json.loads(blocks)
            except ValueError:
                return slack_error("invalid_blocks")
        if not text and not blocks and not p.get("attachments"):
            return slack_error("no_text")
        if len(text) > SLACK_TEXT_MAX:
            return slack_error("msg_too_long")
        ts = S.slack_ts()
        msg = {"text": text, "username": "People Sync", "bot_id": o["bot_id"]}
        if blocks:
            msg["blocks"] = blocks
        msg.update(type="message", subtype="bot_message", ts=ts)
        with S.lock:
            S.channel_msgs[ch].append(msg)
            S.messages.append({"platform": "slack", "to": uid, "channel": ch, "text": text,
                               "ts": ts, "blocks": blocks or None,
                               "team_id": o["team_id"]})
        return Resp(200, sdump({"ok": True, "channel": ch, "ts": ts, "message": msg}),
                    SLACK_CT)

    def conversations_history(self, ctx, p, h):
        S = self.S
        ch = str(p.get("channel", "") or "")
        try:
            limit = int(p.get("limit", 100) or 100)
        except ValueError:
            return slack_error("invalid_limit")
        limit = max(1, min(limit, 999))
        cur = str(p.get("cursor", "") or "")
        start = 0
        if cur:
            try:
                raw = base64.b64decode(cur, validate=True).decode()
                if not raw.startswith("next_ts_offset:"):
                    raise ValueError
                start = int(raw.split(":", 1)[1])
            except (ValueError, UnicodeDecodeError):
                return slack_error("invalid_cursor")
        with S.lock:
            if ch not in S.slack_dm_rev:
                return slack_error("channel_not_found")
            msgs = list(reversed(S.channel_msgs.get(ch, [])))
        page = msgs[start:start + limit]
        more = start + limit < len(msgs)
        d = {"ok": True, "messages": page, "has_more": more, "pin_count": 0,
             "channel_actions_ts": None, "channel_actions_count": 0}
        if more:
            d["response_metadata"] = {"next_cursor": base64.b64encode(
                ("next_ts_offset:%d" % (start + limit)).encode()).decode()}
        return Resp(200, sdump(d), SLACK_CT)

    def conversations_list(self, ctx, p, h):
        """The bot's: its DMs are listed by nobody here (prompts keep their channel)."""
        return Resp(200, sdump({"ok": True, "channels": [],
                                "response_metadata": {"next_cursor": ""}}), SLACK_CT)

    # a user's own DMs, with their user token (peoplesync's catch-up; history.py) ---------
    def user_conversations_list(self, ctx, p, h):
        if "im" not in str(p.get("types", "public_channel")).split(","):
            return Resp(200, sdump({"ok": True, "channels": [],
                                    "response_metadata": {"next_cursor": ""}}), SLACK_CT)
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        try:
            limit = max(1, min(int(p.get("limit", 100) or 100), 1000))
            start = int(base64.b64decode(p.get("cursor") or "MA==").decode() or 0)
        except (ValueError, UnicodeDecodeError):
            return slack_error("invalid_cursor")
        chans = history.slack_ims(self.S, ctx.token_user)
        page = chans[start:start + limit]
        out = []
        with self.S.lock:
            for ch in page:
                mem = self.S.slack_user_ims[ch]
                other = mem[0] if mem[1] == ctx.token_user else mem[1]
                out.append({"id": ch, "created": 1700000000, "is_archived": False,
                            "is_im": True, "is_org_shared": False, "user": other,
                            "is_user_deleted": False, "priority": 0})
        nxt = base64.b64encode(str(start + limit).encode()).decode() \
            if start + limit < len(chans) else ""
        return Resp(200, sdump({"ok": True, "channels": out,
                                "response_metadata": {"next_cursor": nxt}}), SLACK_CT)

    def user_conversations_history(self, ctx, p, h):
        ch = str(p.get("channel", "") or "")
        if ch not in history.slack_ims(self.S, ctx.token_user):
            return slack_error("channel_not_found")
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        try:
            oldest = float(p.get("oldest", 0) or 0)
            limit = max(1, min(int(p.get("limit", 100) or 100), 999))
        except ValueError:
            return slack_error("invalid_arguments")
        with self.S.lock:
            msgs = [m for m in reversed(self.S.channel_msgs.get(ch, []))
                    if float(m["ts"]) > oldest]
        return Resp(200, sdump({"ok": True, "messages": msgs[:limit],
                                "has_more": len(msgs) > limit, "pin_count": 0}), SLACK_CT)
