"""graph.py -- the fake Microsoft Graph under /graph/v1.0: users ($select, $filter,
$count, $skiptoken paging), users/delta with delta and skip tokens, users/{id}, /me,
oneOnOne chats and their messages; Graph access tokens are minted here (new_access).  The
identity platform's token and authorize endpoints are in oauth.py."""

import base64
import json
import re
import secrets
import time
import urllib.parse

from . import history
from .graphsubs import GraphSubscriptions
from .core import (GRAPH_CT, PAGED, Resp, dec_token, enc_token, graph_error, jdump,
                   now_iso_graph, qenc, truthy)

GRAPH_DEFAULT_FIELDS = ["businessPhones", "displayName", "givenName", "jobTitle", "mail",
                        "mobilePhone", "officeLocation", "preferredLanguage", "surname",
                        "userPrincipalName", "id"]
# Properties $select may name (a user-resource subset); unknown names get Graph's 400.
GRAPH_KNOWN_FIELDS = set(GRAPH_DEFAULT_FIELDS) | {
    "accountEnabled", "userType", "otherMails", "proxyAddresses", "externalUserState",
    "creationType", "onPremisesSyncEnabled", "deletedDateTime", "createdDateTime",
    "department", "companyName", "employeeId", "city", "country", "usageLocation",
    "mailNickname", "onPremisesImmutableId", "identities", "imAddresses", "ageGroup",
    "externalUserStateChangeDateTime", "lastPasswordChangeDateTime", "showInAddressList"}
GRAPH_FIELD_CASE = {f.lower(): f for f in GRAPH_KNOWN_FIELDS}


# ---------------------------------------------------------------------------------------
# Microsoft Graph

class GraphAPI:
    def __init__(self, S):
        self.S = S
        self.subs = GraphSubscriptions(S)

    # Graph access tokens ---------------------------------------------------------------
    def new_access(self, kind, ttl, user=None):
        # JWT-shaped, about 1.2 KB like real Graph tokens, random every time. user: the
        # signed-in user of a Sync now token (None: the service user / the app)
        # an app token's payload carries the application permissions (roles claim), as
        # Entra's do: check-config --online reads them; the `graph_roles` op changes them
        body = {"aud": "https://graph.microsoft.com", "tid": self.S.org.get("teams", {}).get(
            "tenant_id"), "nonce": secrets.token_urlsafe(300)}
        if kind == "app":
            body["roles"] = list(self.S.graph_roles)
        payload = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
        tok = "eyJ0eXAiOiJKV1QiLCJub25jZSI6IiIsImFsZyI6IlJTMjU2In0.%s.%s" % (
            payload, secrets.token_urlsafe(256))
        with self.S.lock:
            self.S.graph_access[tok] = (kind, time.monotonic() + ttl, user)
        return tok

    # Graph ------------------------------------------------------------------------------
    def handle(self, ctx, rest, h):
        S = self.S
        ctx.platform = "teams"
        m = ctx.method
        parts = [urllib.parse.unquote(x) for x in rest.strip("/").split("/")] if rest.strip("/") else []
        ep, arg = "unknown", None
        if parts == ["users"] and m == "GET":
            ep = "users"
        elif parts == ["users", "delta"] and m == "GET":
            ep = "users.delta"
        elif len(parts) == 2 and parts[0] == "users" and m == "GET":
            ep, arg = "users.get", parts[1]
        elif parts == ["me"] and m == "GET":
            ep = "me"
        elif parts == ["organization"] and m == "GET":
            ep = "organization"
        elif len(parts) == 4 and parts[0] == "users" and parts[2:] == ["mailboxSettings",
                                                                        "timeZone"]:
            ep, arg = "users.tz", parts[1]
        elif parts == ["chats"] and m == "POST":
            ep = "chats"
        elif len(parts) == 2 and parts[0] == "chats" and m == "GET":
            ep, arg = "chats.get", parts[1]
        elif len(parts) == 3 and parts[0] == "chats" and parts[2] == "messages":
            ep, arg = ("chats.messages" if m == "POST" else "chats.messages.list"), parts[1]
        elif len(parts) == 3 and parts[0] == "users" and parts[2] == "chats" and m == "GET":
            ep, arg = "users.chats", parts[1]
        elif parts == ["subscriptions"] and m in ("POST", "GET"):
            ep = "subscriptions" if m == "POST" else "subscriptions.list"
        elif len(parts) == 2 and parts[0] == "subscriptions" and m in ("GET", "PATCH",
                                                                      "DELETE"):
            ep, arg = {"GET": "subscriptions.get", "PATCH": "subscriptions.patch",
                       "DELETE": "subscriptions.delete"}[m], parts[1]
        ctx.endpoint = ep
        if S.graph is None:
            return graph_error(404, "Request_ResourceNotFound", "No Graph tenant in this org.")
        if ep == "unknown":
            return graph_error(400, "BadRequest", "Resource not found for the segment '%s'."
                               % (parts[-1] if parts else ""))
        early = h.pre_checks(ctx, lambda: self.recipients(ep, arg))
        if early is not None:
            return early
        tok = ctx.bearer()
        if not tok:
            return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.",
                               [("WWW-Authenticate", 'Bearer realm="", authorization_uri='
                                 '"https://login.microsoftonline.com/common/oauth2/authorize"')])
        with S.lock:
            info = S.graph_access.get(tok)
        if info is None:
            return graph_error(401, "InvalidAuthenticationToken",
                               "IDX14100: JWT is not well formed, there are no dots (.)."
                               if "." not in tok else "Access token validation failure.")
        if info[1] < time.monotonic():
            return graph_error(401, "InvalidAuthenticationToken",
                               "Lifetime validation failed, the token is expired.")
        ctx.token_kind = info[0]
        ctx.token_user = info[2] if len(info) > 2 else None
        if ("teams", ep) not in PAGED:
            r = h.apply_fault(ctx)
            if r is not None:
                return r
        if ep.startswith("chats") or ep == "users.chats":
            history.sync(S)              # DMs between fake users (the catch-up's view)
        if ep.startswith("subscriptions"):
            return getattr(self.subs, ep.replace(".", "_"))(ctx, arg, h)
        return getattr(self, ep.replace(".", "_"))(ctx, arg, h)

    def users_chats(self, ctx, arg, h):
        """A user's chats: every chat here is oneOnOne ($filter accepted, not needed)."""
        out = []
        for cid, c in history.graph_chats(self.S, arg):
            out.append({"id": cid, "topic": None, "createdDateTime": c["created"],
                        "lastUpdatedDateTime": c["updated"], "chatType": "oneOnOne"})
        out.sort(key=lambda x: x["lastUpdatedDateTime"], reverse=True)
        top = int(ctx.q("$top", "50") or 50)
        return Resp(200, jdump({"@odata.context": "%s/graph/v1.0/$metadata#chats" % ctx.base(),
                                "@odata.count": len(out[:top]), "value": out[:top]}), GRAPH_CT)

    def recipients(self, ep, arg):
        if ep in ("chats.messages", "chats.messages.list", "chats.get") and arg:
            c = self.S.chats.get(arg)
            if c:
                return {x.lower() for x in c["members"]}
        return set()

    def parse_select(self, ctx):
        raw = ctx.q("$select")
        if raw is None or raw.strip() == "":
            return None, None
        out = []
        for f in raw.split(","):
            f = f.strip()
            canon = GRAPH_FIELD_CASE.get(f.lower())
            if canon is None:
                return None, graph_error(400, "Request_BadRequest", "Could not find a property "
                                         "named '%s' on type 'microsoft.graph.user'." % f)
            if canon not in out:
                out.append(canon)
        return out, None

    def ser(self, r, sel, delta=False):
        key = ("g", tuple(sel) if sel else None, delta)
        c = r.cache.get(key)
        if c is None:
            o = r.obj
            if sel is None:
                d = {k: o.get(k) for k in GRAPH_DEFAULT_FIELDS}
            else:
                d = {k: o.get(k) for k in sel}
                if delta and "id" not in d:
                    d["id"] = o["id"]
            c = r.cache[key] = jdump(d)
        return c

    def context_url(self, ctx, sel):
        return "%s/graph/v1.0/$metadata#users%s" % (ctx.base(), "(%s)" % ",".join(sel) if sel else "")

    def parse_filter(self, ctx):
        """Enough of $filter for roster pulls: `prop eq value` joined by `and`."""
        raw = ctx.q("$filter")
        if not raw:
            return (lambda o: True), None
        conds = []
        for clause in re.split(r"\s+and\s+", raw.strip()):
            m = re.match(r"^(\w+)\s+eq\s+('(?:[^']|'')*'|true|false|null)$", clause.strip())
            if not m or GRAPH_FIELD_CASE.get(m.group(1).lower()) is None:
                return None, graph_error(400, "Request_UnsupportedQuery",
                                         "Unsupported or invalid query filter clause specified "
                                         "for property '%s' of resource 'User'." % clause)
            prop = GRAPH_FIELD_CASE[m.group(1).lower()]
            v = m.group(2)
            val = (True if v == "true" else False if v == "false" else None if v == "null"
                   else v[1:-1].replace("''", "'"))
            conds.append((prop, val))

        def pred(o):
            for prop, val in conds:
                x = o.get(prop)
                if isinstance(val, str) and isinstance(x, str):
                    if x.lower() != val.lower():
                        return False
                elif x != val:
                    return False
            return True
        return pred, None

    def users(self, ctx, arg, h):
        S = self.S
        top = ctx.q("$top")
        if top is None:
            top = 100
        else:
            try:
                top = int(top)
            except ValueError:
                top = -1
            if not 1 <= top <= 999:
                return graph_error(400, "Request_UnsupportedQuery", "Invalid page size "
                                   "specified: '%s'. Must be between 1 and 999 inclusive."
                                   % ctx.q("$top"))
        sel, err = self.parse_select(ctx)
        if err:
            return err
        pred_o, err = self.parse_filter(ctx)
        if err:
            return err
        want_count = truthy(ctx.q("$count", "false"))
        if want_count and (ctx.header("ConsistencyLevel") or "").lower() != "eventual":
            return graph_error(400, "Request_BadRequest",
                               "$count is not currently supported.")
        if ctx.q("$search") is not None:
            return graph_error(400, "Request_UnsupportedQuery",
                               "$search is not supported by this fake.")
        skip = ctx.q("$skiptoken")
        start, page = 0, 1
        with S.lock:
            if skip is not None:
                t = dec_token(skip)
                if t is None or t.get("t") != "u" or S.graph.get(t.get("k")) is None:
                    return graph_error(400, "Directory_ExpiredPageToken", "The specified page "
                                       "token value has expired and can no longer be included "
                                       "in your request.")
                start, page = S.graph.index(t["k"]), int(t.get("p", 1))
        ctx.page = page
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        f = ctx.fault
        n = 0 if (f and f.has("empty")) else max(1, top // 2) if (f and f.has("short")) else top

        def pred(rr):
            return rr.removed is None and pred_o(rr.obj)

        with S.lock:
            recs, nxt = S.graph.scan(start, n, pred)
            items = b",".join(self.ser(rr, sel) for rr in recs)
            total = sum(1 for k in S.graph.keys if pred(S.graph.recs[k])) \
                if (want_count and page == 1) else None
        head = {"@odata.context": self.context_url(ctx, sel)}
        if total is not None:
            head["@odata.count"] = total
        if f and f.has("repeat_cursor"):
            head["@odata.nextLink"] = ctx.base() + ctx.h.path
        elif nxt is not None:
            pairs = [(k, v) for k, v in ctx.pairs if k != "$skiptoken"]
            pairs.append(("$skiptoken", enc_token({"t": "u", "k": nxt, "p": page + 1})))
            head["@odata.nextLink"] = "%s/graph/v1.0/users?%s" % (ctx.base(), qenc(pairs))
        body = jdump(head)[:-1] + b',"value":[' + items + b"]}"
        return Resp(200, body, GRAPH_CT)

    def users_delta(self, ctx, arg, h):
        S = self.S
        dtok, stok = ctx.q("$deltatoken", ctx.q("$deltaToken")), ctx.q("$skiptoken")
        fresh = "%s/graph/v1.0/users/delta" % ctx.base()
        with S.lock:
            cur_version, gen = S.version, S.delta_gen
        if dtok is not None and dtok.lower() == "latest":
            # "sync from now": no data, a deltaLink for the current state (Entra users and
            # groups support $deltaToken=latest)
            sel, err = self.parse_select(ctx)
            if err:
                return err
            r = h.apply_fault(ctx)
            if r is not None:
                return r
            head = {"@odata.context": self.context_url(ctx, sel),
                    "@odata.deltaLink": fresh + "?$deltatoken=" + enc_token(
                        {"t": "d", "g": gen, "v": cur_version, "s": sel, "n": 100})}
            return Resp(200, jdump(head)[:-1] + b',"value":[]}', GRAPH_CT)
        if dtok is not None or stok is not None:
            t = dec_token(dtok if dtok is not None else stok)
            ok = t is not None and t.get("g") == gen and t.get("t") == ("d" if dtok is not None
                                                                        else "ds")
            if not ok:
                sel = t.get("s") if t else None
                loc = fresh + ("?" + qenc([("$select", ",".join(sel))]) if sel else "")
                return graph_error(410, "syncStateNotFound", "The sync state generation is not "
                                   "found or has expired. Please start a full resync.",
                                   [("Location", loc)], inner_code="resyncRequired")
            sel, n = t.get("s"), int(t.get("n", 100))
            if dtok is not None:
                v0, v1, start_key, page = int(t["v"]), cur_version, None, 1
            else:
                v0, v1, start_key, page = int(t["v0"]), int(t["v1"]), t.get("k"), int(t["p"])
        else:
            sel, err = self.parse_select(ctx)
            if err:
                return err
            n = 100
            pref = ctx.header("Prefer") or ""
            m = re.search(r"odata\.maxpagesize=(\d+)", pref)
            if ctx.q("$top"):
                try:
                    n = int(ctx.q("$top"))
                except ValueError:
                    n = -1
            elif m:
                n = int(m.group(1))
            if not 1 <= n <= 999:
                return graph_error(400, "Request_UnsupportedQuery", "Invalid page size "
                                   "specified: '%s'. Must be between 1 and 999 inclusive." % n)
            v0, v1, start_key, page = 0, cur_version, None, 1
        ctx.page = page
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        f = ctx.fault
        if v0 == 0:
            def pred(rr):
                return rr.removed is None
        else:
            def pred(rr):
                return rr.version > v0
        cnt = 0 if (f and f.has("empty")) else max(1, n // 2) if (f and f.has("short")) else n
        with S.lock:
            start = S.graph.index(start_key) if start_key is not None else 0
            recs, nxt = S.graph.scan(start, cnt, pred)
            parts = []
            for rr in recs:
                if rr.removed is not None:
                    parts.append(jdump({"id": rr.id, "@removed": {"reason": rr.removed}}))
                else:
                    parts.append(self.ser(rr, sel, delta=True))
        head = {"@odata.context": self.context_url(ctx, sel)}
        if f and f.has("repeat_cursor"):
            head["@odata.nextLink"] = ctx.base() + ctx.h.path
        elif nxt is not None:
            head["@odata.nextLink"] = fresh + "?$skiptoken=" + enc_token(
                {"t": "ds", "g": gen, "v0": v0, "v1": v1, "k": nxt, "p": page + 1, "s": sel,
                 "n": n})
        else:
            head["@odata.deltaLink"] = fresh + "?$deltatoken=" + enc_token(
                {"t": "d", "g": gen, "v": v1, "s": sel, "n": n})
        body = jdump(head)[:-1] + b',"value":[' + b",".join(parts) + b"]}"
        return Resp(200, body, GRAPH_CT)

    def find_user(self, key):
        """By object id or UPN (case-insensitive); the service user counts too."""
        S = self.S
        svc = S.org["teams"]["service_user"]
        k = key.lower()
        if k in (svc["id"].lower(), svc["userPrincipalName"].lower()):
            return svc
        r = S.graph.live(key)
        if r is not None:
            return r.obj
        for rr in S.graph.live_recs():
            if str(rr.obj.get("userPrincipalName", "")).lower() == k:
                return rr.obj
        return None

    def organization(self, ctx, arg, h):
        """The tenant's organization (org["teams"]["org_name"], else "Contoso")."""
        t = self.S.org["teams"]
        return Resp(200, jdump({"@odata.context": "https://graph.microsoft.com/v1.0/"
                                "$metadata#organization",
                                "value": [{"id": t["tenant_id"],
                                           "displayName": t.get("org_name", "Contoso"),
                                           "verifiedDomains": []}]}), GRAPH_CT)

    def users_tz(self, ctx, arg, h):
        """A mailbox's time zone (Windows name) from org["teams"]["mailbox"]; 403 when
        org["teams"]["mailbox_denied"] (the app lacks MailboxSettings.Read)."""
        t = self.S.org["teams"]
        if t.get("mailbox_denied"):
            return graph_error(403, "ErrorAccessDenied",
                               "Access is denied. Check credentials and try again.")
        with self.S.lock:
            r = self.S.graph.live(arg)
        z = t.get("mailbox", {}).get(arg)
        if r is None:
            return graph_error(404, "Request_ResourceNotFound",
                               "Resource '%s' does not exist." % arg)
        if z is None:
            return graph_error(404, "MailboxNotEnabledForRESTAPI",
                               "The mailbox is either inactive, soft-deleted, or is hosted "
                               "on-premise.")
        return Resp(200, jdump({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata"
                                "#users('%s')/mailboxSettings/timeZone" % arg, "value": z}),
                    GRAPH_CT)

    def users_get(self, ctx, arg, h):
        sel, err = self.parse_select(ctx)
        if err:
            return err
        d = {"@odata.context": "%s/graph/v1.0/$metadata#users/$entity" % ctx.base()}
        with self.S.lock:
            o = self.find_user(arg)
            r = self.S.graph.live(o["id"]) if o is not None else None
            if r is not None:
                return Resp(200, jdump(d)[:-1] + b"," + self.ser(r, sel)[1:], GRAPH_CT)
        if o is None:
            return graph_error(404, "Request_ResourceNotFound", "Resource '%s' does not exist "
                               "or one of its queried reference-property objects are not "
                               "present." % arg)
        d.update(o)                      # the service user
        return Resp(200, jdump(d), GRAPH_CT)

    def me(self, ctx, arg, h):
        if ctx.token_kind != "user":
            return graph_error(400, "BadRequest", "/me request is only valid with delegated "
                               "authentication flow.")
        d = {"@odata.context": "%s/graph/v1.0/$metadata#users/$entity" % ctx.base()}
        if ctx.token_user is not None:
            with self.S.lock:
                r = self.S.graph.live(ctx.token_user)
                if r is None:
                    return graph_error(404, "Request_ResourceNotFound", "Resource '%s' does "
                                       "not exist." % ctx.token_user)
                return Resp(200, jdump(d)[:-1] + b"," + self.ser(r, None)[1:], GRAPH_CT)
        d.update(self.S.org["teams"]["service_user"])
        return Resp(200, jdump(d), GRAPH_CT)

    def body_json(self, ctx):
        try:
            d = json.loads(ctx.body.decode("utf-8"))
            return d if isinstance(d, dict) else None
        except (ValueError, UnicodeDecodeError):
            return None

    def chat_json(self, ctx, cid, c):
        return {"@odata.context": "%s/graph/v1.0/$metadata#chats/$entity" % ctx.base(),
                "id": cid, "topic": None, "createdDateTime": c["created"],
                "lastUpdatedDateTime": c["updated"], "chatType": "oneOnOne"}

    def chats(self, ctx, arg, h):
        S = self.S
        d = self.body_json(ctx)
        if d is None:
            return graph_error(400, "BadRequest", "Invalid JSON body.")
        if d.get("chatType") != "oneOnOne":
            return graph_error(400, "BadRequest", "This fake supports chatType 'oneOnOne' only.")
        mem = d.get("members")
        if not isinstance(mem, list) or len(mem) != 2:
            return graph_error(400, "BadRequest", "A oneOnOne chat must have exactly 2 members.")
        ids = []
        with S.lock:
            for mm in mem:
                bind = (mm or {}).get("user@odata.bind", "") if isinstance(mm, dict) else ""
                m = re.search(r"users\('((?:[^']|'')*)'\)", urllib.parse.unquote(bind))
                if not m:
                    return graph_error(400, "BadRequest", "Invalid member: missing or malformed "
                                       "user@odata.bind.")
                o = self.find_user(m.group(1).replace("''", "'"))
                if o is None:
                    return graph_error(404, "NotFound", "User '%s' not found." % m.group(1))
                ids.append(o["id"])
            svc = S.org["teams"]["service_user"]["id"]
            if ids[0] == ids[1]:
                return graph_error(400, "BadRequest", "Both members are the same user.")
            if ctx.token_kind == "user" and svc not in ids:
                return graph_error(403, "Forbidden", "The caller must be one of the members "
                                   "of a oneOnOne chat.")
            pair = tuple(sorted(ids))
            cid = S.chat_by_pair.get(pair)
            if cid is None:
                cid = "19:%s_%s@unq.gbl.spaces" % pair
                ts = now_iso_graph()
                S.chats[cid] = {"members": list(pair), "created": ts, "updated": ts,
                                "messages": []}
                S.chat_by_pair[pair] = cid
            c = S.chats[cid]
        return Resp(201, jdump(self.chat_json(ctx, cid, c)), GRAPH_CT)

    def chats_get(self, ctx, arg, h):
        c = self.S.chats.get(arg)
        if c is None:
            return graph_error(404, "NotFound", "Chat '%s' not found." % arg)
        return Resp(200, jdump(self.chat_json(ctx, arg, c)), GRAPH_CT)

    def chats_messages(self, ctx, arg, h):
        S = self.S
        svc = S.org["teams"]["service_user"]
        with S.lock:
            c = S.chats.get(arg)
        if c is None:
            return graph_error(404, "NotFound", "Chat '%s' not found." % arg)
        if ctx.token_kind != "user":
            # Sending chat messages needs a delegated token (platform-apis.md §2.5).
            return graph_error(403, "Forbidden", "Message POST is allowed in application-only "
                               "context only for import purposes.")
        if svc["id"] not in c["members"]:
            return graph_error(403, "Forbidden", "The caller is not a member of this chat.")
        d = self.body_json(ctx)
        b = d.get("body") if d else None
        content = b.get("content") if isinstance(b, dict) else None
        if not isinstance(content, str) or not content:
            return graph_error(400, "BadRequest", "Missing or empty body.content.")
        if len(content.encode("utf-8")) > 28 * 1024:
            return graph_error(413, "RequestEntityTooLarge", "Message is too large.")
        ctype = (b.get("contentType") or "text") if isinstance(b, dict) else "text"
        with S.lock:
            mid = str(int(time.time() * 1000))
            while any(m["id"] == mid for m in c["messages"][-5:]):
                mid = str(int(mid) + 1)
            ts = now_iso_graph()
            msg = {"@odata.context": "%s/graph/v1.0/$metadata#chats('%s')/messages/$entity"
                                     % (ctx.base(), urllib.parse.quote(arg, safe="")),
                   "id": mid, "replyToId": None, "etag": mid, "messageType": "message",
                   "createdDateTime": ts, "lastModifiedDateTime": ts,
                   "lastEditedDateTime": None, "deletedDateTime": None, "subject": None,
                   "summary": None, "chatId": arg, "importance": "normal", "locale": "en-us",
                   "webUrl": None, "channelIdentity": None, "policyViolation": None,
                   "from": {"application": None, "device": None, "conversation": None,
                            "user": {"id": svc["id"], "displayName": svc["displayName"],
                                     "userIdentityType": "aadUser"}},
                   "body": {"contentType": ctype, "content": content},
                   "attachments": [], "mentions": [], "reactions": []}
            c["messages"].append(msg)
            c["updated"] = ts
            for to in c["members"]:
                if to != svc["id"]:
                    S.messages.append({"platform": "teams", "to": to, "channel": arg,
                                       "text": content, "ts": ts, "id": mid,
                                       "content_type": ctype,
                                       "team_id": S.org["teams"]["tenant_id"]})
        return Resp(201, jdump(msg), GRAPH_CT)

    def chats_messages_list(self, ctx, arg, h):
        S = self.S
        with S.lock:
            c = S.chats.get(arg)
            msgs = list(reversed(c["messages"])) if c else None
        if msgs is None:
            return graph_error(404, "NotFound", "Chat '%s' not found." % arg)
        try:
            top = int(ctx.q("$top", "20"))
        except ValueError:
            top = -1
        if not 1 <= top <= 50:
            return graph_error(400, "BadRequest", "$top must be between 1 and 50.")
        t = dec_token(ctx.q("$skiptoken")) if ctx.q("$skiptoken") else {"o": 0}
        if t is None:
            return graph_error(400, "BadRequest", "Invalid $skiptoken.")
        off = int(t.get("o", 0))
        page = msgs[off:off + top]
        d = {"@odata.context": "%s/graph/v1.0/$metadata#chats('%s')/messages"
                               % (ctx.base(), urllib.parse.quote(arg, safe="")),
             "@odata.count": len(page)}
        if off + top < len(msgs):
            d["@odata.nextLink"] = "%s/graph/v1.0/chats/%s/messages?%s" % (
                ctx.base(), urllib.parse.quote(arg, safe=""),
                qenc([("$top", str(top)), ("$skiptoken", enc_token({"o": off + top}))]))
        d["value"] = [{k: v for k, v in m.items() if k != "@odata.context"} for m in page]
        return Resp(200, jdump(d), GRAPH_CT)
