"""webex.py -- the fake Webex API under /webex/v1: people (max/cursor paging, email,
displayName and id filters), people/{id}, people/me, messages (direct), messages listing.
/webex/v1/authorize and /webex/v1/access_token are passed on to oauth.py."""

import json
import urllib.parse
import uuid

import genorg
from . import history
from .webhooks import WebexWebhooks
from .core import (PAGED, Resp, WEBEX_CT, dec_token, enc_token, jdump, now_iso_ms, qenc,
                   webex_error)

WEBEX_MAX_CAP = 1000
WEBEX_MESSAGE_MAX = 7439


# ---------------------------------------------------------------------------------------
# Webex

# Endpoints a Sync now user's token may call (their own data: webhooks are their creator's).
USER_TOKEN_EPS = ("people.me", "people.get", "webhooks", "webhooks.list", "webhooks.get",
                  "webhooks.put", "webhooks.delete", "rooms", "messages.list")


class WebexAPI:
    def __init__(self, S):
        self.S = S
        self.hooks = WebexWebhooks(S)

    def handle(self, ctx, rest, h):
        S = self.S
        ctx.platform = "webex"
        m = ctx.method
        parts = [urllib.parse.unquote(x) for x in rest.strip("/").split("/")] if rest.strip("/") else []
        if parts == ["authorize"]:
            return S.api_oauth.authorize(ctx, "webex", h)
        if parts == ["access_token"]:
            return S.api_oauth.webex_token(ctx, h)
        ep, arg = "unknown", None
        if parts == ["people"] and m == "GET":
            ep = "people"
        elif parts == ["people", "me"] and m == "GET":
            ep = "people.me"
        elif len(parts) == 2 and parts[0] == "people" and m == "GET":
            ep, arg = "people.get", parts[1]
        elif len(parts) == 2 and parts[0] == "organizations" and m == "GET":
            ep, arg = "organizations.get", parts[1]
        elif parts == ["messages"] and m == "POST":
            ep = "messages"
        elif parts == ["messages"] and m == "GET":
            ep = "messages.list"
        elif parts == ["messages", "direct"] and m == "GET":
            ep = "messages.direct"
        elif parts == ["webhooks"] and m in ("POST", "GET"):
            ep = "webhooks" if m == "POST" else "webhooks.list"
        elif len(parts) == 2 and parts[0] == "webhooks" and m in ("GET", "PUT", "DELETE"):
            ep, arg = "webhooks." + {"GET": "get", "PUT": "put", "DELETE": "delete"}[m], parts[1]
        elif parts == ["rooms"] and m == "GET":
            ep = "rooms"
        ctx.endpoint = ep
        if S.webex is None:
            return webex_error(404, "No Webex org in this fake's org.json.")
        if ep == "unknown":
            return webex_error(404, "The requested resource could not be found.")
        early = h.pre_checks(ctx, lambda: self.recipients(ctx, ep))
        if early is not None:
            return early
        tok = ctx.bearer()
        if tok and tok != S.sec.get("webex_token") and ep in USER_TOKEN_EPS:
            u = S.api_oauth.access_user("webex", tok)      # a Sync now user's token
            if u is not None:
                ctx.token_user = u["user"]
        if not tok or (ctx.token_user is None and (tok != S.sec.get("webex_token") or
                                                   S.webex_revoked)):
            msg = "The request requires a valid access token set in the Authorization request header."
            return webex_error(401, msg, msg)
        if ("webex", ep) not in PAGED:
            r = h.apply_fault(ctx)
            if r is not None:
                return r
        if ep.startswith("webhooks"):
            return getattr(self.hooks, ep.replace(".", "_"))(ctx, arg, h)
        return getattr(self, ep.replace(".", "_"))(ctx, arg, h)

    def rooms(self, ctx, arg, h):
        """A person's direct rooms (their DMs with other fake users), by last activity."""
        if ctx.q("type", "direct") != "direct":
            return self.ok(jdump({"items": []}))
        me = ctx.token_user or self.S.org["webex"]["service_person"]["id"]
        out = [{"id": rid, "title": "", "type": "direct", "isLocked": False,
                "lastActivity": r["lastActivity"], "created": r["lastActivity"],
                "creatorId": r["members"][0], "ownerId": "consumer", "isPublic": False,
                "isReadOnly": False}
               for rid, r in history.webex_rooms(self.S, me)]
        return self.ok(jdump({"items": out[:int(ctx.q("max", "100") or 100)]}))

    def recipients(self, ctx, ep):
        out = set()
        if ep == "messages":
            try:
                d = json.loads(ctx.body.decode("utf-8") or "{}")
            except (ValueError, UnicodeDecodeError):
                return out
            if isinstance(d, dict):
                for k in ("toPersonId", "toPersonEmail"):
                    if isinstance(d.get(k), str):
                        out.add(d[k].lower())
                e = d.get("toPersonEmail")
                if isinstance(e, str):
                    r = self.by_email(e)
                    if r is not None:
                        out.add(r.id.lower())
        elif ep == "messages.direct":
            for k in ("personId", "personEmail"):
                if ctx.q(k):
                    out.add(ctx.q(k).lower())
        return out

    def ok(self, body, status=200, headers=None):
        tid = "ROUTER_" + uuid.uuid4().hex.upper()[:24]
        return Resp(status, body, WEBEX_CT, (headers or []) + [("TrackingId", tid)])

    def by_email(self, e):
        e = e.strip().lower()
        for r in self.S.webex.live_recs():
            if any(str(x).lower() == e for x in r.obj.get("emails", [])):
                return r
        return None

    def people(self, ctx, arg, h):
        S = self.S
        raw = ctx.q("max")
        if raw is None:
            n = 100
        else:
            try:
                n = int(raw)
            except ValueError:
                return webex_error(400, "Invalid value for max: '%s'." % raw)
            if n < 1:
                return webex_error(400, "max must be a positive integer.")
            n = min(n, WEBEX_MAX_CAP)       # above the cap: silently the cap
        email = ctx.q("email")
        dname = ctx.q("displayName")
        ids = ctx.q("id")
        cur = ctx.q("cursor")
        start_key, page = None, 1
        if cur is not None:
            t = dec_token(cur)
            if t is None or t.get("t") != "p":
                return webex_error(400, "Invalid cursor.")
            start_key, page = t.get("k"), int(t.get("p", 1))
        if ids:
            r = h.apply_fault(ctx)
            if r is not None:
                return r
            want = [x for x in ids.split(",") if x]
            if len(want) > 85:
                return webex_error(400, "Too many ids (max 85).")
            with S.lock:
                recs = [S.webex.live(x) for x in want]
                items = [r.cache["w"] for r in recs if r is not None]
                nf = [x for x, r in zip(want, recs) if r is None]
            return self.ok(b'{"items":[' + b",".join(items) + b'],"notFoundIds":' +
                           jdump(nf or None) + b"}")
        ctx.page = page
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        f = ctx.fault

        def pred(rr):
            if rr.removed is not None:
                return False
            o = rr.obj
            if email and not any(str(x).lower() == email.lower() for x in o.get("emails", [])):
                return False
            if dname and not str(o.get("displayName", "")).lower().startswith(dname.lower()):
                return False
            return True

        cnt = 0 if (f and f.has("empty")) else max(1, n // 2) if (f and f.has("short")) else n
        with S.lock:
            start = S.webex.index(start_key) if start_key is not None else 0
            recs, nxt = S.webex.scan(start, cnt, pred)
            items = b",".join(rr.cache["w"] for rr in recs)
        hdrs = []
        if f and f.has("repeat_cursor"):
            hdrs.append(("Link", '<%s%s>; rel="next"' % (ctx.base(), ctx.h.path)))
        elif nxt is not None:
            pairs = [(k, v) for k, v in ctx.pairs if k not in ("cursor", "max")]
            pairs.append(("max", "null" if (f and f.has("maxnull")) else str(n)))
            pairs.append(("cursor", enc_token({"t": "p", "k": nxt, "p": page + 1})))
            hdrs.append(("Link", '<%s/webex/v1/people?%s>; rel="next"' % (ctx.base(), qenc(pairs))))
        return self.ok(b'{"items":[' + items + b'],"notFoundIds":null}', headers=hdrs)

    def organizations_get(self, ctx, arg, h):
        """The org (org["webex"]["org_name"], else "Example Org")."""
        w = self.S.org["webex"]
        if arg != w["org_id"]:
            return webex_error(404, "The requested resource could not be found.")
        return Resp(200, jdump({"id": w["org_id"], "displayName": w.get("org_name", "Example Org"),
                                "created": "2019-03-18T12:00:00.000Z"}), WEBEX_CT)

    def people_get(self, ctx, arg, h):
        with self.S.lock:
            r = self.S.webex.live(arg)
            if r is None:
                return webex_error(404, "Person not found.")
            return self.ok(r.cache["w"])

    def people_me(self, ctx, arg, h):
        if ctx.token_user is not None:
            return self.people_get(ctx, ctx.token_user, h)
        o = self.S.org["webex"]
        sp = dict(o["service_person"])
        sp.update(orgId=o["org_id"], type="person", status="active")
        return self.ok(jdump(sp))

    def room_id(self, key):
        return genorg.webex_id("ROOM", str(uuid.uuid5(uuid.NAMESPACE_URL, "room:" + key)))

    def messages(self, ctx, arg, h):
        S = self.S
        try:
            d = json.loads(ctx.body.decode("utf-8") or "{}")
        except (ValueError, UnicodeDecodeError):
            return webex_error(400, "Invalid JSON in request body.")
        if not isinstance(d, dict):
            return webex_error(400, "Invalid JSON in request body.")
        to_id, to_email, room = d.get("toPersonId"), d.get("toPersonEmail"), d.get("roomId")
        given = [x for x in (to_id, to_email, room) if x]
        if len(given) != 1:
            return webex_error(400, "Exactly one of roomId, toPersonId or toPersonEmail must be "
                               "given.")
        text, md = d.get("text"), d.get("markdown")
        if not text and not md and not d.get("files"):
            return webex_error(400, "A message needs text, markdown or files.")
        if len((md or text or "").encode("utf-8")) > WEBEX_MESSAGE_MAX:
            return webex_error(400, "Message length exceeds %d bytes." % WEBEX_MESSAGE_MAX)
        w = S.org["webex"]
        with S.lock:
            r = None
            if to_id:
                r = S.webex.live(to_id)
                if r is None:
                    return webex_error(404, "Could not find a person with the given id.")
            elif to_email:
                r = self.by_email(to_email)      # unknown addresses may still be messaged
            elif room:
                hit = [m for m in S.messages if m["platform"] == "webex" and m["channel"] == room]
                if not hit:
                    return webex_error(404, "Could not find a room with the given id.")
                r = S.webex.live(hit[-1]["to"]) if hit[-1]["to"] else None
                to_email = to_email or hit[-1].get("email")
            pid = r.id if r is not None else None
            pemail = (r.obj.get("emails") or [None])[0] if r is not None else to_email
            rid = room or self.room_id(pid or to_email.lower())
            mid = genorg.webex_id("MESSAGE", str(uuid.uuid4()))
            msg = {"id": mid, "roomId": rid, "roomType": "direct"}
            if pid:
                msg["toPersonId"] = pid
            if pemail:
                msg["toPersonEmail"] = pemail
            msg["text"] = text if text else md
            if md:
                msg["markdown"] = md
            msg.update(personId=w["service_person"]["id"],
                       personEmail=w["service_person"]["emails"][0], created=now_iso_ms(),
                       isVoiceClip=False)
            S.channel_msgs[rid].append(msg)
            S.messages.append({"platform": "webex", "to": pid, "email": pemail, "channel": rid,
                               "text": msg["text"], "markdown": md, "ts": msg["created"],
                               "id": mid, "team_id": w["org_id"]})
        return self.ok(jdump(msg))

    def messages_list(self, ctx, arg, h):
        room = ctx.q("roomId")
        if not room:
            return webex_error(400, "roomId is required.")
        history.sync(self.S)
        if ctx.token_user is not None and not any(
                rid == room for rid, _ in history.webex_rooms(self.S, ctx.token_user)):
            return webex_error(404, "Could not find a room with the given id.")
        with self.S.lock:
            items = list(reversed(self.S.channel_msgs.get(room, [])))
        return self.ok(jdump({"items": items[:int(ctx.q("max", "50") or 50)]}))

    def messages_direct(self, ctx, arg, h):
        pid, pem = ctx.q("personId"), ctx.q("personEmail")
        if not pid and not pem:
            return webex_error(400, "personId or personEmail is required.")
        with self.S.lock:
            if pem and not pid:
                r = self.by_email(pem)
                key = r.id if r is not None else pem.lower()
            else:
                key = pid
            items = list(reversed(self.S.channel_msgs.get(self.room_id(key), [])))
        return self.ok(jdump({"items": items}))
