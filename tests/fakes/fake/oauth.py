"""oauth.py -- every platform's OAuth side: the authorize pages (Slack, Microsoft identity
platform, Webex: users listed, codes issued), the token endpoints (Slack oauth.v2.access,
the identity platform's /oauth2/v2.0/token for the app, the service user and Sync now users,
Webex /access_token) and the user-bound tokens they hand out (README: "OAuth")."""

import base64
import collections
import hashlib
import json
import random
import re
import secrets
import threading
import time
import urllib.parse
import uuid

from .core import (Resp, SLACK_CT, TOKEN_CT, WEBEX_CT, jdump, sdump, slack_error,
                   token_error, truthy, webex_error)

# ---------------------------------------------------------------------------------------
# OAuth providers: authorize pages, token endpoints, user-bound tokens (README: "OAuth")

HTML_CT = "text/html; charset=utf-8"
CODE_TTL = 600                    # seconds an authorization code stays valid
USER_TTL = {"slack": 43200, "teams": 3599, "webex": 1209600}
REFRESH_TTL = {"slack": 0, "teams": 0, "webex": 7776000}    # 0: no expiry announced
PLATFORM_TITLES = {"slack": "Slack", "teams": "Microsoft", "webex": "Webex"}
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# What a new device code does unless the `device` control op says otherwise: polled at
# `interval`, it waits for the `device_approve` op (a person typing the code) unless
# approve_after is a number of polls; slow_down_once answers one slow_down first.
DEVICE_DEFAULTS = {"interval": 1, "expires_in": 900, "approve_after": None,
                   "slow_down_once": False, "user": None}


def oauth_clients(org):
    """The OAuth app credentials the fake accepts, per platform of the org.  Teams uses the
    Graph app (secrets.graph_client_id / _secret); Slack and Webex take secrets.slack_client_id
    / slack_client_secret / webex_client_id / webex_client_secret when org.json has them, else
    values derived from the org's other secrets (stable for one org.json)."""
    sec = org.get("secrets", {})
    seed = hashlib.sha256(("peoplesync-fake-oauth:%s:%s" % (
        sec.get("slack_bot_token", ""), sec.get("webex_token", ""))).encode()).hexdigest()
    out = {}
    if "slack" in org:
        out["slack"] = {
            "client_id": sec.get("slack_client_id") or "%d.%d" % (
                int(seed[0:10], 16) % 10 ** 12, int(seed[10:21], 16) % 10 ** 13),
            "client_secret": sec.get("slack_client_secret") or seed[21:53]}
    if "teams" in org:
        out["teams"] = {"client_id": sec.get("graph_client_id", ""),
                        "client_secret": sec.get("graph_client_secret", "")}
    if "webex" in org:
        out["webex"] = {
            "client_id": sec.get("webex_client_id") or "C" + hashlib.sha256(
                (seed + ":webex-id").encode()).hexdigest(),
            "client_secret": sec.get("webex_client_secret") or hashlib.sha256(
                (seed + ":webex-secret").encode()).hexdigest()}
    return out


def pkce_s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def add_query(url, pairs):
    return url + ("&" if "?" in url else "?") + urllib.parse.urlencode(pairs)


def html_page(title, body, status=200):
    doc = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
           "<title>%s</title><style>body{font:15px/1.4 sans-serif;margin:1.5rem;"
           "max-width:40rem}button{margin:.2rem 0;padding:.4rem .7rem;font:inherit;"
           "text-align:left;width:100%%;overflow-wrap:anywhere}h1{overflow-wrap:anywhere}"
           "ul{list-style:none;padding:0}.fake{color:#a33}"
           "</style></head><body><p class=\"fake\">peoplesync test fake — not a real "
           "sign-in page</p>%s</body></html>\n") % (html_escape(title), body)
    return Resp(status, doc.encode("utf-8"), HTML_CT)


def html_escape(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


class OAuth:
    """The three platforms' user sign-in.  Codes and user tokens live here; they survive the
    `reset` control op (like Graph tokens) and die with the process."""

    def __init__(self, S):
        self.S = S
        self.lock = threading.Lock()
        self.codes = {}              # code -> grant dict
        self.access = {}             # (platform, access token) -> {"user","team","exp"}
        self.refresh = {}            # (platform, refresh token) -> {"user","team","exp"}
        self.slack_rotation = True
        self.ttl = dict(USER_TTL)
        self.refresh_ttl = dict(REFRESH_TTL)
        self.counts = collections.Counter()
        # Slack's token endpoint: one {"grant", "client_id", "ok"} per request that named a
        # client (which client exchanged which grant: a workspace's own, or another's)
        self.exchanges = []
        self.issued = {"codes": [], "access": [], "refresh": []}   # for leak checks
        self.device_cfg = dict(DEVICE_DEFAULTS)
        self.devices = {}            # device_code -> the state of one device sign-in

    # who may sign in ---------------------------------------------------------------------
    def users(self, platform):
        """(id, name, email, team) of every account that can sign in, by name."""
        S = self.S
        out = []
        ros = S.roster(platform)
        if ros is None:
            return out
        for r in ros.live_recs():
            o = r.obj
            if platform == "slack":
                if (o.get("deleted") or o.get("is_bot") or o.get("is_app_user")
                        or o.get("is_invited_user") or o["id"] == "USLACKBOT"):
                    continue
                prof = o.get("profile") or {}
                name = o.get("real_name") or prof.get("real_name") or o.get("name")
                out.append((o["id"], name, prof.get("email"),
                            o.get("team_id") or S.org["slack"]["team_id"]))
            elif platform == "teams":
                if o.get("accountEnabled") is False or \
                        o.get("externalUserState") == "PendingAcceptance":
                    continue
                out.append((o["id"], o.get("displayName"),
                            o.get("mail") or o.get("userPrincipalName"),
                            S.org["teams"]["tenant_id"]))
            else:
                if o.get("type", "person") != "person" or \
                        not truthy(o.get("loginEnabled", True)) or \
                        truthy(o.get("invitePending", False)):
                    continue
                out.append((o["id"], o.get("displayName"), (o.get("emails") or [None])[0],
                            o.get("orgId") or S.org["webex"]["org_id"]))
        out.sort(key=lambda u: (str(u[1] or "").lower(), u[0]))
        return out

    def find(self, platform, key):
        k = str(key).strip().lower()
        for u in self.users(platform):
            if u[0].lower() == k or (u[2] and u[2].lower() == k):
                return u
        return None

    # tokens -------------------------------------------------------------------------------
    def new_token(self, platform, kind):
        if platform == "slack":
            if kind == "refresh":
                return "xoxe-1-" + secrets.token_hex(60)
            return ("xoxe.xoxp-1-" if self.slack_rotation else "xoxp-") + "-".join(
                str(random.randint(10 ** 11, 10 ** 12)) for _ in range(3)) + "-" + \
                secrets.token_hex(32)
        if platform == "teams":
            if kind == "refresh":
                return "0.AU" + secrets.token_urlsafe(180)
            return None                 # Graph access tokens: GraphAPI.new_access (graph.py)
        return secrets.token_urlsafe(48) + "_PF84_" + str(uuid.uuid4()) if kind == "access" \
            else secrets.token_urlsafe(60)

    def issue(self, platform, user, team, ttl=None, refresh=None, public=False, client=None):
        """New access token (and refresh token, unless refresh is given to keep) for user.
        public: the refresh token came from a public client flow (the device grant), and
        Microsoft refuses a client secret with it.  client: the client id the tokens were
        issued to (a refresh by another client is refused), None for any.
        Returns (access, refresh or None, expires_in or None, refresh_expires_in or None)."""
        ttl = self.ttl[platform] if ttl is None else int(ttl)
        now = time.time()
        if platform == "teams":
            at = self.S.api_graph.new_access("user", ttl, user)
        else:
            at = self.new_token(platform, "access")
        rotating = platform != "slack" or self.slack_rotation
        with self.lock:
            self.access[(platform, at)] = {"user": user, "team": team,
                                           "exp": now + ttl if rotating else None}
            self.issued["access"].append(at)
            rt = refresh
            if rotating and rt is None:
                rt = self.new_token(platform, "refresh")
                rttl = self.refresh_ttl[platform]
                self.refresh[(platform, rt)] = {"user": user, "team": team,
                                                "exp": now + rttl if rttl else None,
                                                "public": public, "client": client}
                self.issued["refresh"].append(rt)
            self.counts["tokens"] += 1
        if not rotating:
            return at, None, None, None
        return at, rt, ttl, (self.refresh_ttl[platform] or None)

    def access_user(self, platform, tok):
        """The (user, team) a live user access token belongs to, or None."""
        with self.lock:
            e = self.access.get((platform, tok))
        if e is None or (e["exp"] is not None and e["exp"] < time.time()):
            return None
        return e

    def use_refresh(self, platform, rt, rotate):
        with self.lock:
            e = self.refresh.get((platform, rt))
            if e is None or (e["exp"] is not None and e["exp"] < time.time()):
                return None
            if rotate:
                del self.refresh[(platform, rt)]
            return e

    def take_code(self, platform, code, client_id, redirect_uri):
        """The grant of a code (single use).  Returns (grant, None) or (None, reason)."""
        with self.lock:
            g = self.codes.get(code or "")
            if g is None or g["platform"] != platform:
                return None, "unknown"
            if g["used"]:
                return None, "used"
            g["used"] = True
        if g["exp"] < time.time():
            return None, "expired"
        if g["client_id"] != client_id:
            return None, "client"
        if redirect_uri:
            if redirect_uri != g["redirect_uri"]:
                return None, "redirect_uri"
        elif platform != "slack":         # Slack alone lets the exchange omit it
            return None, "redirect_uri"
        return g, None

    def revoke(self, platform=None):
        with self.lock:
            for d in (self.access, self.refresh):
                for k in [k for k in d if platform in (None, "*", k[0])]:
                    del d[k]
        if platform in (None, "*", "teams"):
            with self.S.lock:
                for k in [k for k, v in self.S.graph_access.items()
                          if len(v) > 2 and v[2] is not None]:
                    del self.S.graph_access[k]

    # authorize pages ------------------------------------------------------------------------
    def authorize(self, ctx, platform, h, tenant=None):
        S = self.S
        ctx.platform, ctx.endpoint = platform, "authorize"
        early = h.pre_checks(ctx, set)
        if early is not None:
            return early
        if S.roster(platform) is None:
            return html_page("No such org", "<p>This fake has no %s org.</p>"
                             % PLATFORM_TITLES[platform], 404)
        if ctx.method != "GET":
            return html_page("Method not allowed", "<p>GET only.</p>", 405)
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        q = {k: v[0] for k, v in ctx.query.items()}
        client = S.oauth_clients.get(platform, {})
        if platform == "teams" and tenant is not None and tenant.lower() not in (
                S.org["teams"]["tenant_id"].lower(), S.org["teams"]["tenant_domain"].lower(),
                S.org.get("domain", "").lower(), "common", "organizations"):
            return html_page("Sign in", "<p>AADSTS90002: Tenant '%s' not found.</p>"
                             % html_escape(tenant), 400)
        if q.get("client_id") != client.get("client_id"):
            return html_page("Sign in", "<p>Error: invalid_client_id — this app (client_id "
                             "%s) is not known.</p>" % html_escape(q.get("client_id", "")), 400)
        ru = q.get("redirect_uri", "")
        if not re.match(r"^https?://[^\s]+$", ru):
            return html_page("Sign in", "<p>Error: bad_redirect_uri — a redirect_uri is "
                             "required.</p>", 400)
        state = q.get("state")
        back = [("state", state)] if state is not None else []
        if platform != "slack" and q.get("response_type") != "code":
            return Resp(302, b"", HTML_CT, [("Location", add_query(
                ru, [("error", "unsupported_response_type")] + back))])
        challenge, method = q.get("code_challenge"), q.get("code_challenge_method", "plain")
        if challenge is not None and (platform != "teams" or method not in ("S256", "plain")):
            return Resp(302, b"", HTML_CT, [("Location", add_query(
                ru, [("error", "invalid_request")] + back))])
        if q.get("deny"):
            return Resp(302, b"", HTML_CT, [("Location", add_query(
                ru, [("error", "access_denied")] + back))])
        scope = q.get("user_scope", q.get("scope", "")) if platform == "slack" \
            else q.get("scope", "")
        who = q.get("user")
        if who:
            u = self.find(platform, who)
            if u is None:
                return html_page("Sign in", "<p>No account %s can sign in here.</p>"
                                 % html_escape(who), 400)
            code = secrets.token_urlsafe(32)
            with self.lock:
                self.codes[code] = {"platform": platform, "user": u[0], "team": u[3],
                                    "client_id": client["client_id"], "redirect_uri": ru,
                                    "scope": scope, "challenge": challenge, "method": method,
                                    "exp": time.time() + CODE_TTL, "used": False}
                self.counts["codes"] += 1
                self.issued["codes"].append(code)
            return Resp(302, b"", HTML_CT, [("Location", add_query(
                ru, [("code", code)] + back))])
        org = (S.org["slack"]["team_name"] if platform == "slack" else
               S.org["teams"]["tenant_domain"] if platform == "teams" else
               S.org.get("domain", ""))
        hidden = "".join('<input type="hidden" name="%s" value="%s">' % (
            html_escape(k), html_escape(v)) for k, v in q.items() if k not in ("user", "deny"))
        items = "".join(
            '<li><button type="submit" name="user" value="%s" data-email="%s">%s '
            '&lt;%s&gt;</button></li>' % (html_escape(u[0]), html_escape((u[2] or "").lower()),
                                          html_escape(u[1] or u[0]), html_escape(u[2] or "-"))
            for u in self.users(platform))
        body = ('<h1>%s — sign in to %s</h1><p>An app asks to act as you (scopes: <code>%s'
                '</code>). Pick the account to sign in as:</p><form method="get" action="%s">'
                '%s<ul>%s</ul><button type="submit" name="deny" value="1" id="deny">Cancel'
                '</button></form>') % (PLATFORM_TITLES[platform], html_escape(org),
                                       html_escape(scope), html_escape(ctx.path), hidden, items)
        return html_page("%s sign-in (fake)" % PLATFORM_TITLES[platform], body)

    # Slack: oauth.v2.access -----------------------------------------------------------------
    def slack_access(self, ctx, p, h):
        S = self.S
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        client = S.oauth_clients["slack"]
        cid, csec = p.get("client_id"), p.get("client_secret")
        auth = ctx.header("Authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                cid, csec = base64.b64decode(auth[6:].strip()).decode().split(":", 1)
            except (ValueError, UnicodeDecodeError):
                return slack_error("invalid_client_id")
        grant = p.get("grant_type") or "authorization_code"
        r = self.slack_client_check(client, grant, cid, csec)
        if r is not None:
            return r
        app_id = S.org["slack"].get("app_id")
        if grant == "refresh_token":
            e = self.use_refresh("slack", str(p.get("refresh_token") or ""), False)
            if e is None or e.get("client") not in (None, cid):
                return slack_error("invalid_refresh_token")
            at, rt, ttl, _ = self.issue("slack", e["user"], e["team"],
                                        refresh=str(p["refresh_token"]))
            return Resp(200, sdump({"ok": True, "app_id": app_id, "token_type": "user",
                                    "access_token": at, "expires_in": ttl,
                                    "refresh_token": rt, "team": {"id": e["team"]},
                                    "enterprise": self.slack_enterprise(),
                                    "is_enterprise_install": False}), SLACK_CT)
        if grant != "authorization_code":
            return slack_error("invalid_grant_type")
        g, why = self.take_code("slack", str(p.get("code") or ""), cid,
                                p.get("redirect_uri"))
        if g is None:
            return slack_error("bad_redirect_uri" if why == "redirect_uri" else "invalid_code")
        at, rt, ttl, _ = self.issue("slack", g["user"], g["team"], client=cid)
        au = {"id": g["user"], "scope": g["scope"], "access_token": at, "token_type": "user"}
        if rt:
            au.update(expires_in=ttl, refresh_token=rt)
        return Resp(200, sdump({"ok": True, "app_id": app_id, "authed_user": au,
                                "team": {"id": g["team"]}, "enterprise": self.slack_enterprise(),
                                "is_enterprise_install": False}), SLACK_CT)

    def slack_enterprise(self):
        """oauth.v2.access's "enterprise": the Grid's {id, name} when the org is a Grid (an
        app installed on one of its workspaces), else null."""
        o = self.S.org["slack"]
        if not o.get("enterprise_id"):
            return None
        return {"id": o["enterprise_id"], "name": o.get("enterprise_name", "")}

    def slack_client_check(self, client, grant, cid, csec):
        """The app's credentials at oauth.v2.access (each fake is one workspace with one
        client: a code or refresh token goes back to the client it was issued to, and a
        workspace's client is unknown to another's fake).  Notes which client asked for
        which grant (`oauth` control op: exchanges).  None, or the refusal."""
        ok = cid == client["client_id"] and csec == client["client_secret"]
        with self.lock:
            self.exchanges.append({"grant": grant, "client_id": cid, "ok": ok})
        if cid != client["client_id"]:
            return slack_error("invalid_client_id")
        if csec != client["client_secret"]:
            return slack_error("bad_client_secret")
        return None

    # Microsoft identity platform: the token endpoint -----------------------------------
    def ms_begin(self, ctx, tenant, h, endpoint):
        """What every identity platform endpoint checks first: (early answer, None) or
        (None, the form posted)."""
        S = self.S
        ctx.platform, ctx.endpoint = "teams", endpoint
        early = h.pre_checks(ctx, set)
        if early is not None:
            return early, None
        if S.graph is None:
            return token_error(400, "invalid_request", 90002,
                               "Tenant '%s' not found." % tenant, 90002), None
        t = S.org["teams"]
        if ctx.method != "POST":
            return token_error(405, "invalid_request", 900561,
                               "The endpoint only accepts POST requests.", 900561), None
        if tenant.lower() not in (t["tenant_id"].lower(), t["tenant_domain"].lower(),
                                  S.org.get("domain", "").lower()):
            return token_error(400, "invalid_request", 90002,
                               "Tenant '%s' not found. Check to make sure you have the correct "
                               "tenant ID and are signing into the correct cloud." % tenant,
                               90002), None
        f = {k: v[0] for k, v in urllib.parse.parse_qs(
            ctx.body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        return h.apply_fault(ctx), f

    def ms_token(self, ctx, tenant, h):
        S = self.S
        r, f = self.ms_begin(ctx, tenant, h, "token")
        if r is not None:
            return r
        t = S.org["teams"]
        cid, grant = f.get("client_id", ""), f.get("grant_type", "")
        if not grant:
            return token_error(400, "invalid_request", 900144, "The request body must contain "
                               "the following parameter: 'grant_type'.", 900144)
        if cid != S.sec.get("graph_client_id"):
            return token_error(400, "unauthorized_client", 700016,
                               "Application with identifier '%s' was not found in the "
                               "directory '%s'." % (cid, t["tenant_domain"]), 700016)
        rt = f.get("refresh_token", "")
        with self.lock:
            public = grant == DEVICE_GRANT or (grant == "refresh_token" and bool(
                self.refresh.get(("teams", rt), {}).get("public")))
        if public and "client_secret" in f:
            return token_error(401, "invalid_client", 700025, "Client is public so neither "
                               "'client_assertion' nor 'client_secret' should be presented.",
                               700025)
        if public:
            if grant == DEVICE_GRANT:
                return self.ms_device_poll(f, t["tenant_id"])
        elif grant == "refresh_token" and "client_secret" not in f:
            pass                    # a public client's refresh (the seeded service user's)
        elif f.get("client_secret") != S.sec.get("graph_client_secret"):
            # Entra answers a wrong secret with 401 invalid_client (AADSTS7000215).
            return token_error(401, "invalid_client", 7000215,
                               "Invalid client secret provided. Ensure the secret being sent "
                               "in the request is the client secret value, not the client "
                               "secret ID, for a secret added to app '%s'." % cid, 7000215)
        ttl = S.args.token_ttl
        if grant == "client_credentials":
            scope = f.get("scope")
            if not scope:
                return token_error(400, "invalid_request", 900144, "The request body must "
                                   "contain the following parameter: 'scope'.", 900144)
            if scope.strip() != "https://graph.microsoft.com/.default":
                return token_error(400, "invalid_scope", 70011,
                                   "The provided value for the input parameter 'scope' is not "
                                   "valid. The scope %s is not valid." % scope, 70011)
            tok = S.api_graph.new_access("app", ttl)
            return Resp(200, jdump({"token_type": "Bearer", "expires_in": ttl,
                                    "access_token": tok}), TOKEN_CT)
        if grant == "refresh_token":
            r = self.ms_refresh(f)
            if r is not None:
                return r                   # a Sync now user's refresh token
            rt = f.get("refresh_token", "")
            with S.lock:
                ok = rt in S.graph_refresh
                if ok and S.args.rotate_refresh:
                    S.graph_refresh.discard(rt)
            if not ok:
                return token_error(400, "invalid_grant", 700082,
                                   "The refresh token has expired due to inactivity.", 700082)
            tok = S.api_graph.new_access("user", ttl)
            new_rt = "0.A" + secrets.token_urlsafe(90)
            with S.lock:
                S.graph_refresh.add(new_rt)
            scope = f.get("scope") or ("Chat.Create ChatMessage.Send User.Read "
                                       "User.ReadBasic.All offline_access")
            return Resp(200, jdump({"token_type": "Bearer", "scope": scope, "expires_in": ttl,
                                    "access_token": tok, "refresh_token": new_rt}), TOKEN_CT)
        if grant == "authorization_code":
            return self.ms_code(f)
        return token_error(400, "unsupported_grant_type", 70003, "The app requested an "
                           "unsupported grant type '%s'." % grant, 70003)

    # Microsoft: authorization_code and user refresh grants (called by ms_token) ------------
    def ms_code(self, f):
        g, why = self.take_code("teams", f.get("code", ""), f.get("client_id", ""),
                                f.get("redirect_uri", ""))
        if g is None:
            if why == "redirect_uri":
                return token_error(400, "invalid_grant", 50011, "The redirect URI specified "
                                   "in the request does not match the redirect URIs "
                                   "configured for the application.", 50011)
            return token_error(400, "invalid_grant", 70000, "The provided authorization code "
                               "or refresh token has expired due to inactivity, was already "
                               "redeemed or is malformed.", 70000)
        if g["challenge"] is not None:
            v = f.get("code_verifier")
            if not v:
                return token_error(400, "invalid_request", 50148, "The code_verifier does "
                                   "not match the code_challenge supplied in the "
                                   "authorization request for PKCE.", 50148)
            if (pkce_s256(v) if g["method"] == "S256" else v) != g["challenge"]:
                return token_error(400, "invalid_grant", 501481, "The Code_Verifier does not "
                                   "match the code_challenge supplied in the authorization "
                                   "request.", 501481)
        return self.ms_answer(g["user"], g["team"], g["scope"] or f.get("scope", ""))

    def ms_answer(self, user, team, scope, public=False):
        at, rt, ttl, _ = self.issue("teams", user, team, public=public)
        return Resp(200, jdump({"token_type": "Bearer", "scope": scope or "User.Read",
                                "expires_in": ttl, "ext_expires_in": ttl, "access_token": at,
                                "refresh_token": rt}), TOKEN_CT)

    def ms_refresh(self, f):
        """A user's refresh token, or None when it is not one of ours (the caller goes on)."""
        rt = f.get("refresh_token", "")
        with self.lock:
            known = ("teams", rt) in self.refresh
        if not known:
            return None
        e = self.use_refresh("teams", rt, self.S.args.rotate_refresh)
        if e is None:
            return token_error(400, "invalid_grant", 700082, "The refresh token has expired "
                               "due to inactivity.", 700082)
        return self.ms_answer(e["user"], e["team"], f.get("scope", ""), e.get("public"))

    # Microsoft: the device authorization grant (RFC 8628) ---------------------------------
    def ms_devicecode(self, ctx, tenant, h):
        S = self.S
        r, f = self.ms_begin(ctx, tenant, h, "devicecode")
        if r is not None:
            return r
        if f.get("client_id", "") != S.sec.get("graph_client_id"):
            return token_error(400, "unauthorized_client", 700016,
                               "Application with identifier '%s' was not found in the "
                               "directory." % f.get("client_id", ""), 700016)
        if not f.get("scope"):
            return token_error(400, "invalid_request", 900144, "The request body must "
                               "contain the following parameter: 'scope'.", 900144)
        code = secrets.token_urlsafe(48)
        user_code = "".join(random.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
                            for _ in range(9))
        with self.lock:
            c = dict(self.device_cfg)
            self.devices[code] = {"user_code": user_code, "scope": f["scope"],
                                  "exp": time.time() + c["expires_in"],
                                  "interval": c["interval"], "polls": 0, "slow_downs": 0,
                                  "last": None, "approve_after": c["approve_after"],
                                  "slow_down_once": c["slow_down_once"], "user": c["user"],
                                  "approved": False, "denied": None, "done": False}
            self.counts["device_codes"] += 1
        uri = ctx.base() + "/login/devicelogin"
        return Resp(200, jdump({"user_code": user_code, "device_code": code,
                                "verification_uri": uri, "expires_in": c["expires_in"],
                                "interval": c["interval"],
                                "message": "To sign in, use a web browser to open the page "
                                           "%s and enter the code %s to authenticate."
                                           % (uri, user_code)}), TOKEN_CT)

    def device_answer(self, e):
        """The error a poll of device state e gets now, or None when it is approved."""
        now = time.time()
        if now > e["exp"]:
            return "expired_token", 70020, "The provided device code has expired."
        e["polls"] += 1
        early = e["last"] is not None and now - e["last"] < e["interval"] - 0.3
        e["last"] = now
        if early or (e["slow_down_once"] and not e["slow_downs"]):
            e["slow_downs"] += 1
            e["interval"] += 5
            return "slow_down", 70016, "Poll less often."
        if e["denied"]:
            return e["denied"], 70019, "The user declined the sign-in."
        if e["approve_after"] is not None and e["polls"] >= e["approve_after"]:
            e["approved"] = True
        if not e["approved"]:
            return "authorization_pending", 70016, ("OAuth 2.0 device flow error. "
                                                    "Authorization is pending.")
        return None

    def ms_device_poll(self, f, tenant_id):
        with self.lock:
            e = self.devices.get(f.get("device_code", ""))
            if e is None or e["done"]:
                return token_error(400, "bad_verification_code", 70000,
                                   "The device code is not known.", 70000)
            why = self.device_answer(e)
            if why is None:
                e["done"] = True
        if why is not None:
            return token_error(400, why[0], why[1], why[2], why[1])
        return self.ms_answer(e["user"], tenant_id, e["scope"], public=True)

    def device_find(self, user_code):
        for e in self.devices.values():
            if e["user_code"] == str(user_code or "").upper().replace("-", ""):
                return e
        raise KeyError("no device sign-in with user code %r" % user_code)

    # Webex: /access_token ---------------------------------------------------------------------
    def webex_token(self, ctx, h):
        S = self.S
        ctx.platform, ctx.endpoint = "webex", "access_token"
        early = h.pre_checks(ctx, set)
        if early is not None:
            return early
        if ctx.method != "POST":
            return webex_error(405, "Method not allowed.")
        r = h.apply_fault(ctx)
        if r is not None:
            return r
        f = {k: v[0] for k, v in urllib.parse.parse_qs(
            ctx.body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        client = S.oauth_clients["webex"]

        def bad(status, error, message):
            resp = webex_error(status, message)
            d = json.loads(resp.body)
            d["error"] = error
            resp.body = jdump(d)
            return resp

        if f.get("client_id") != client["client_id"] or \
                f.get("client_secret") != client["client_secret"]:
            return bad(401, "invalid_client", "The client credentials are invalid.")
        grant = f.get("grant_type")
        if grant == "authorization_code":
            g, why = self.take_code("webex", f.get("code", ""), f["client_id"],
                                    f.get("redirect_uri", ""))
            if g is None:
                return bad(400, "invalid_grant", "The authorization code is invalid, expired "
                           "or was already used (%s)." % why)
            user, team = g["user"], g["team"]
        elif grant == "refresh_token":
            e = self.use_refresh("webex", f.get("refresh_token", ""), False)
            if e is None:
                return bad(400, "invalid_grant", "The refresh token provided is expired, "
                           "revoked, malformed, or invalid.")
            user, team = e["user"], e["team"]
        else:
            return bad(400, "unsupported_grant_type", "Unsupported grant_type.")
        keep = f.get("refresh_token") if grant == "refresh_token" else None
        at, rt, ttl, rttl = self.issue("webex", user, team, refresh=keep)
        tid = "ROUTER_" + uuid.uuid4().hex.upper()[:24]
        return Resp(200, jdump({"access_token": at, "expires_in": ttl, "refresh_token": rt,
                                "refresh_token_expires_in": rttl}), WEBEX_CT,
                    [("TrackingId", tid)])
