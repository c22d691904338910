"""control.py -- the test-control endpoints under /_control (not logged, not counted):
GET health, messages, stats, rules, oauth, org; POST ops that add failures and rate limits,
change rosters (mutate, deactivate, remove, restore, add, shrink), expire or revoke tokens,
tune OAuth and reset the fake.  The operations are listed in README.md."""

import copy
import json
import random
import secrets
import time

import genorg
from .core import PLATFORM_ALIASES, Resp, del_path, jdump, now_iso_ms, set_path
from .faults import RateRule


# ---------------------------------------------------------------------------------------
# Control

class Control:
    def __init__(self, S):
        self.S = S

    def handle(self, ctx):
        S = self.S
        path = ctx.path.rstrip("/")
        if ctx.method == "GET":
            if path == "/_control/health":
                return self.j({"ok": True, "port": S.port})
            if path == "/_control/messages":
                plat, to = ctx.q("platform"), ctx.q("to")
                with S.lock:
                    ms = [m for m in S.messages
                          if (not plat or m["platform"] == PLATFORM_ALIASES.get(plat, plat))
                          and (not to or (m.get("to") or "") == to)]
                return self.j(ms)
            if path == "/_control/stats":
                with S.lock:
                    return self.j({"requests": dict(S.stats),
                                   "total": sum(S.stats.values()),
                                   "status": {k: {str(s): n for s, n in v.items()}
                                              for k, v in S.status_stats.items()},
                                   "ratelimited": dict(S.ratelimited),
                                   "rules": [r.describe() for r in S.faults.rules]})
            if path in ("/_control/deliveries", "/_control/dms"):
                return self.j(S.events.listing(path.rsplit("/", 1)[1]))
            if path == "/_control/rules":
                return self.j([r.describe() for r in S.faults.rules])
            if path == "/_control/subscriptions":      # Graph's, without clientState
                return self.j(S.api_graph.subs.listing())
            if path == "/_control/validations":        # Graph's handshakes
                return self.j(S.api_graph.subs.validations)
            if path == "/_control/webhooks":           # Webex's, without secrets
                return self.j(S.api_webex.hooks.listing())
            if path == "/_control/oauth":
                return self.j(self.oauth_info())
            if path == "/_control/oauth/devices":
                o = S.api_oauth
                with o.lock:
                    return self.j([{k: v for k, v in e.items() if k != "exp"}
                                   for e in o.devices.values()])
            if path == "/_control/oauth/issued":
                o = S.api_oauth
                with o.lock:
                    return self.j({k: list(v) for k, v in o.issued.items()})
            if path == "/_control/org":
                plat = PLATFORM_ALIASES.get(ctx.q("platform", ""), "")
                ros = S.roster(plat)
                if ros is None:
                    return self.j({"ok": False, "error": "unknown platform"}, 400)
                with S.lock:
                    return self.j([r.obj for r in ros.live_recs()])
            return self.j({"ok": False, "error": "unknown control path"}, 404)
        if ctx.method != "POST" or path != "/_control":
            return self.j({"ok": False, "error": "POST /_control with a JSON op"}, 405)
        try:
            d = json.loads(ctx.body.decode("utf-8"))
            if not isinstance(d, dict):
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            return self.j({"ok": False, "error": "body must be a JSON object"}, 400)
        op = d.get("op")
        fn = getattr(self, "op_" + str(op), None)
        if fn is None:
            return self.j({"ok": False, "error": "unknown op %r" % op}, 400)
        try:
            with S.lock:
                out = fn(d)
        except (ValueError, KeyError, TypeError) as e:
            return self.j({"ok": False, "error": "%s: %s" % (op, e)}, 400)
        res = {"ok": True}
        res.update(out or {})
        return self.j(res)

    def j(self, obj, status=200):
        return Resp(status, jdump(obj), "application/json")

    def roster(self, d):
        plat = PLATFORM_ALIASES.get(str(d.get("platform", "")).lower())
        ros = self.S.roster(plat) if plat and plat != "*" else None
        if ros is None:
            raise ValueError("platform must be one of the org's slack/teams/webex")
        return plat, ros

    def rec(self, d, ros, live=True):
        uid = d.get("user_id")
        r = ros.live(uid) if live else ros.get(uid)
        if r is None:
            raise KeyError("no such user %r" % uid)
        return r

    def touch(self, plat, obj):
        if plat == "slack" and "updated" in obj:
            obj["updated"] = int(time.time())
        elif plat == "webex":
            obj["lastModified"] = now_iso_ms()

    def change(self, plat, r, obj):
        S = self.S
        r.obj = obj
        r.version = S.bump()
        S.reserialize(plat, r)

    # ops --------------------------------------------------------------------------------
    def op_fail(self, d):
        r = self.S.faults.add(str(d.get("spec", "")))
        return {"rule": r.describe()}

    def op_clear_failures(self, d):
        self.S.faults.clear()

    def op_rate(self, d):
        self.S.rates.append(RateRule(str(d.get("spec", ""))))

    def op_clear_rates(self, d):
        self.S.rates = []

    def op_latency(self, d):
        self.S.latency_ms = int(d.get("ms", 0))

    # platform events (events.py): the receiver's address, a user's DM, webhooks ---------
    def op_events_config(self, d):
        return self.S.events.configure(d.get("config") or {})

    def op_send_dm(self, d):
        return self.S.events.send_dm(d)

    def op_slack_event(self, d):
        return self.S.events.slack_raw(d)

    def op_replay(self, d):
        return self.S.events.replay(d)

    def op_webhook_put(self, d):
        return self.S.events.webhook_put(d)

    def op_subscription_put(self, d):
        return self.S.events.subscription_put(d)

    def op_mutate(self, d):
        plat, ros = self.roster(d)
        r = self.rec(d, ros)
        obj = copy.deepcopy(r.obj)
        self.touch(plat, obj)
        for k, v in (d.get("set") or {}).items():
            if k == "id":
                raise ValueError("the id cannot change")
            set_path(obj, k, v)
        for k in d.get("unset") or []:
            del_path(obj, k)
        self.change(plat, r, obj)
        return {"user": obj}

    def op_mailbox(self, d):
        """A Teams user's mailbox zone (Windows name; null: the mailbox has none), as
        GET /users/{id}/mailboxSettings/timeZone answers it from now on."""
        t = self.S.org.get("teams")
        if t is None or self.S.graph is None:
            raise ValueError("the org has no teams")
        uid = str(d.get("user_id") or "")
        if self.S.graph.live(uid) is None:
            raise KeyError("no such user %r" % uid)
        z = d.get("zone")
        if z is None:
            t.setdefault("mailbox", {}).pop(uid, None)
        else:
            t.setdefault("mailbox", {})[uid] = str(z)
        return {"user_id": uid, "zone": z}

    def op_deactivate(self, d):
        """Deactivate the way each platform shows it (Slack: deleted + fields dropped)."""
        plat, ros = self.roster(d)
        r = self.rec(d, ros)
        obj = copy.deepcopy(r.obj)
        self.touch(plat, obj)
        if plat == "slack":
            keep = ("id", "team_id", "name", "deleted", "profile", "is_bot", "is_app_user",
                    "updated")
            obj["deleted"] = True
            obj = {k: obj[k] for k in keep if k in obj}
        elif plat == "teams":
            obj["accountEnabled"] = False
        else:
            obj["loginEnabled"] = False if isinstance(obj.get("loginEnabled"), bool) else "false"
            obj["status"] = "inactive"
        self.change(plat, r, obj)
        return {"user": obj}

    def op_remove(self, d):
        plat, ros = self.roster(d)
        r = self.rec(d, ros)
        reason = d.get("reason", "deleted")
        if reason not in ("deleted", "changed"):
            raise ValueError("reason must be 'deleted' or 'changed'")
        r.removed = reason
        r.version = self.S.bump()
        return {"removed": r.id}

    def op_restore(self, d):
        plat, ros = self.roster(d)
        r = self.rec(d, ros, live=False)
        r.removed = None
        r.version = self.S.bump()
        return {"restored": r.id}

    def op_add(self, d):
        S = self.S
        plat, ros = self.roster(d)
        obj = d.get("user")
        if obj is None:
            S.add_seq += 1
            obj = genorg.new_account(S.org, plat, email=str(d["email"]),
                                     name=str(d.get("name") or d["email"].split("@")[0]),
                                     seed=S.add_seq, used_ids=ros.keys, uid=d.get("user_id"))
        if not isinstance(obj, dict) or not obj.get("id"):
            raise ValueError("user must be an object with an id")
        if ros.live(obj["id"]) is not None:
            raise ValueError("user %s already exists" % obj["id"])
        for k, v in (d.get("set") or {}).items():
            set_path(obj, k, v)
        r = ros.put(obj, S.bump())
        S.reserialize(plat, r)
        return {"user": obj}

    def op_shrink(self, d):
        plat, ros = self.roster(d)
        frac = float(d.get("fraction", 0.5))
        if not 0 <= frac <= 1:
            raise ValueError("fraction must be within 0..1")
        cand = [r for r in ros.live_recs() if r.id != "USLACKBOT"]
        k = int(len(cand) * frac)
        pick = random.Random("shrink:%s:%s:%d" % (plat, frac, len(cand))).sample(cand, k)
        for r in pick:
            r.removed = d.get("reason", "deleted")
            r.version = self.S.bump()
        return {"removed": len(pick), "remaining": len(cand) - k + (
            1 if ros.live("USLACKBOT") else 0)}

    def op_expire_delta_tokens(self, d):
        self.S.delta_gen = secrets.token_hex(4)

    def op_expire_tokens(self, d):
        """Graph access tokens issued so far stop working (the next call gets 401)."""
        self.S.graph_access.clear()

    def op_revoke_token(self, d):
        plat = PLATFORM_ALIASES.get(str(d.get("platform", "")).lower())
        if plat == "slack":
            self.S.slack_revoked = bool(d.get("revoked", True))
        elif plat == "webex":
            self.S.webex_revoked = bool(d.get("revoked", True))
        elif plat == "teams":
            self.S.graph_access.clear()
            self.S.graph_refresh.clear()
        else:
            raise ValueError("platform?")

    def op_slack_scopes(self, d):
        """The bot scopes auth.test reports in X-OAuth-Scopes."""
        self.S.slack_scopes = str(d["scopes"])

    def op_graph_roles(self, d):
        """The application permissions in the roles claim of the Graph app's next tokens."""
        self.S.graph_roles = [str(r) for r in d["roles"]]

    def op_device(self, d):
        """How the next device codes behave (oauth.py DEVICE_DEFAULTS)."""
        o = self.S.api_oauth
        with o.lock:
            for k in d:
                if k != "op":
                    if k not in o.device_cfg:
                        raise KeyError("unknown device setting %r" % k)
                    o.device_cfg[k] = d[k]

    def op_device_approve(self, d):
        """The person typed the user code and signed in (as user: a Teams user id, or the
        service user when absent)."""
        o = self.S.api_oauth
        with o.lock:
            e = o.device_find(d.get("user_code"))
            if d.get("user") is not None:
                e["user"] = d["user"]
            e["approved"] = True

    def op_device_deny(self, d):
        """The person declined; error: authorization_declined (Microsoft) or access_denied."""
        o = self.S.api_oauth
        with o.lock:
            o.device_find(d.get("user_code"))["denied"] = str(d.get("error",
                                                                   "authorization_declined"))

    def op_clear_messages(self, d):
        self.S.messages = []
        self.S.channel_msgs.clear()
        for c in self.S.chats.values():
            c["messages"] = []

    def oauth_info(self):
        o = self.S.api_oauth
        with o.lock:
            return {"ok": True, "clients": self.S.oauth_clients,
                    "slack_rotation": o.slack_rotation, "ttl": o.ttl,
                    "refresh_ttl": o.refresh_ttl, "codes": o.counts["codes"],
                    "tokens": o.counts["tokens"], "exchanges": list(o.exchanges),
                    "live_access": len(o.access), "live_refresh": len(o.refresh)}

    def oauth_platform(self, d, required=True):
        plat = PLATFORM_ALIASES.get(str(d.get("platform", "")).lower())
        if plat in ("slack", "teams", "webex") and self.S.roster(plat) is not None:
            return plat
        if not required and d.get("platform") in (None, "*"):
            return None
        raise ValueError("platform must be one of the org's slack/teams/webex")

    def op_oauth(self, d):
        o = self.S.api_oauth
        if "slack_rotation" in d:
            o.slack_rotation = bool(d["slack_rotation"])
        for key, table in (("ttl", o.ttl), ("refresh_ttl", o.refresh_ttl)):
            for k, v in (d.get(key) or {}).items():
                plat = PLATFORM_ALIASES.get(str(k).lower())
                if plat not in table or int(v) < 0:
                    raise ValueError("%s: want {platform: seconds >= 0}" % key)
                table[plat] = int(v)
        return self.oauth_info()

    def op_mint_user_token(self, d):
        """Tokens for a user as if they had signed in (skips the authorize page)."""
        plat = self.oauth_platform(d)
        u = self.S.api_oauth.find(plat, d.get("user_id") or d.get("user") or "")
        if u is None:
            raise KeyError("no account %r can sign in on %s" % (d.get("user_id"), plat))
        at, rt, ttl, rttl = self.S.api_oauth.issue(plat, u[0], u[3], ttl=d.get("ttl"))
        return {"access_token": at, "refresh_token": rt, "expires_in": ttl,
                "refresh_token_expires_in": rttl, "user_id": u[0], "team_id": u[3]}

    def op_revoke_user_tokens(self, d):
        """Every Sync now user token (access and refresh) of the platform (default: all)
        stops working: refresh grants answer invalid_grant / invalid_refresh_token."""
        self.S.api_oauth.revoke(self.oauth_platform(d, required=False))

    def op_reset(self, d):
        S = self.S
        S.load()
        S.faults.clear()
        for spec in S.args.fail or []:
            S.faults.add(spec)
        S.rates = [RateRule(s) for s in S.args.rate or []]
        S.latency_ms = S.args.latency

    # event subscriptions (graphsubs.py, webhooks.py) ------------------------------------
    def op_subscription_lifecycle(self, d):
        """Graph sends a lifecycle notification (subscriptionRemoved removes it)."""
        return self.S.api_graph.subs.lifecycle(d)

    def op_subscription_expire(self, d):
        """A Graph subscription expires in `seconds` (<= 0: it is gone)."""
        return self.S.api_graph.subs.expire_in(d)

    def op_webhook_disable(self, d):
        """Webex disables a webhook (as after 100 failed deliveries in 5 minutes)."""
        return self.S.api_webex.hooks.disable(d)
