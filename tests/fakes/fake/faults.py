"""faults.py -- injected failures: the --fail SPEC rules (429 + Retry-After, 5xx, slow,
truncated, malformed, reset, ...) and the --rate limits, and the error answer each one
produces in the platform's own shape.  The grammar is in README.md ("Failure SPEC")."""

import collections
import http
import math
import re
import threading

from .core import (ENDPOINTS, PLATFORM_ALIASES, graph_429, graph_error, slack_error,
                   token_error, webex_error)

# ---------------------------------------------------------------------------------------
# Failure rules

FLAGS = {"truncate", "malformed", "badutf8", "reset", "reset_after", "repeat_cursor",
         "empty", "short", "maxnull"}


class Rule:
    """One parsed failure SPEC (grammar in README.md)."""
    _ids = 0

    def __init__(self, spec):
        self.spec = spec
        parts = spec.split(":")
        if len(parts) < 3:
            raise ValueError("%s: want PLATFORM:ENDPOINT:ITEM[:ITEM...]" % spec)
        plat = PLATFORM_ALIASES.get(parts[0].lower())
        if plat is None:
            raise ValueError("%s: unknown platform %r" % (spec, parts[0]))
        ep = parts[1]
        if ep != "*" and plat != "*" and ep not in ENDPOINTS[plat]:
            raise ValueError("%s: unknown %s endpoint %r (known: %s)"
                             % (spec, plat, ep, ", ".join(sorted(ENDPOINTS[plat]))))
        self.platform, self.endpoint = plat, ep
        self.page = None
        self.status = None
        self.error = None
        self.retry_after = None
        self.times = None
        self.after = 0
        self.slow = 0
        self.user = None
        self.flags = set()
        for tok in parts[2:]:
            if tok in ("", "all"):
                continue
            if "=" in tok:
                k, v = tok.split("=", 1)
                try:
                    if k == "page":
                        self.page = None if v == "all" else int(v)
                        if self.page is not None and self.page < 1:
                            raise ValueError
                    elif k == "status":
                        self.status = int(v)
                        if not 100 <= self.status <= 599:
                            raise ValueError
                    elif k == "retry_after":
                        if float(v) < 0:
                            raise ValueError
                        self.retry_after = v
                    elif k == "times":
                        self.times = int(v)
                    elif k == "after":
                        self.after = int(v)
                    elif k == "slow":
                        self.slow = int(v)
                    elif k == "error":
                        if not v:
                            raise ValueError
                        self.error = v
                    elif k == "user":
                        self.user = v.lower()
                    else:
                        raise KeyError(k)
                except KeyError:
                    raise ValueError("%s: unknown item %r" % (spec, tok))
                except ValueError:
                    raise ValueError("%s: bad value in %r" % (spec, tok))
            elif tok in FLAGS:
                self.flags.add(tok)
            else:
                raise ValueError("%s: unknown item %r" % (spec, tok))
        if not (self.status or self.error or self.slow or self.flags):
            raise ValueError("%s: no action (status=, error=, slow= or a flag)" % spec)
        Rule._ids += 1
        self.id = Rule._ids
        self.seen = 0
        self.fired = 0

    def applies(self, ctx):
        if self.platform != "*" and self.platform != ctx.platform:
            return False
        if self.endpoint != "*" and self.endpoint != ctx.endpoint:
            return False
        if self.page is not None and self.page != ctx.page:
            return False
        if self.user is not None and self.user not in ctx.recipients:
            return False
        return True

    def has(self, flag):
        return flag in self.flags

    def describe(self):
        return {"id": self.id, "spec": self.spec, "seen": self.seen, "fired": self.fired,
                "times": self.times, "exhausted": self.times is not None and self.fired >= self.times}


class Faults:
    def __init__(self):
        self.rules = []
        self.lock = threading.Lock()

    def add(self, spec):
        r = Rule(spec)
        with self.lock:
            self.rules.append(r)
        return r

    def clear(self):
        with self.lock:
            self.rules = []

    def pick(self, ctx):
        """The first rule that applies and still has shots left; counts it as fired."""
        with self.lock:
            for r in self.rules:
                if not r.applies(ctx):
                    continue
                r.seen += 1
                if r.seen <= r.after:
                    continue
                if r.times is not None and r.fired >= r.times:
                    continue
                r.fired += 1
                return r
        return None


class RateRule:
    """--rate slack:chat.postMessage=50/60: at most 50 answered requests in any 60 s window
    (sliding log).  Refused requests do not enter the window."""

    def __init__(self, spec):
        m = re.match(r"^([A-Za-z*]+):([A-Za-z.*]+)=(\d+)/(\d+(?:\.\d+)?)$", spec)
        if not m:
            raise ValueError("%s: want PLATFORM:ENDPOINT=N/SECONDS" % spec)
        plat = PLATFORM_ALIASES.get(m.group(1).lower())
        if plat is None:
            raise ValueError("%s: unknown platform" % spec)
        ep = m.group(2)
        if ep != "*" and plat != "*" and ep not in ENDPOINTS[plat]:
            raise ValueError("%s: unknown endpoint %r" % (spec, ep))
        self.spec, self.platform, self.endpoint = spec, plat, ep
        self.n, self.window = int(m.group(3)), float(m.group(4))
        if self.n < 1 or self.window <= 0:
            raise ValueError("%s: N and SECONDS must be positive" % spec)
        self.hits = collections.defaultdict(collections.deque)   # per endpoint key

    def check(self, ctx, now):
        if self.platform != "*" and self.platform != ctx.platform:
            return None
        if self.endpoint != "*" and self.endpoint != ctx.endpoint:
            return None
        q = self.hits[(ctx.platform, ctx.endpoint)]
        while q and q[0] <= now - self.window:
            q.popleft()
        if len(q) >= self.n:
            return max(0.001, q[0] + self.window - now)
        q.append(now)
        return None


# ---------------------------------------------------------------------------------------
# The answers of failure rules and rate limits

GRAPH_STATUS_CODES = {400: "invalidRequest", 401: "InvalidAuthenticationToken",
                      403: "accessDenied", 404: "itemNotFound", 409: "conflict",
                      410: "syncStateNotFound", 500: "generalException",
                      502: "badGateway", 503: "serviceNotAvailable", 504: "gatewayTimeout"}
SLACK_STATUS_ERRORS = {429: "ratelimited"}


def fault_response(ctx, rule):
    """The answer a rule with status= and/or error= produces, in the platform's shape."""
    status = rule.status
    ra = rule.retry_after
    if status == 429 and ra is None:
        ra = "1"
    hdrs = [("Retry-After", ra)] if ra is not None else []
    if ctx.platform == "slack":
        code = rule.error or SLACK_STATUS_ERRORS.get(status) or (
            "fatal_error" if (status or 200) >= 500 else "invalid_request" if status else None)
        return slack_error(code, status or 200, headers=hdrs)
    if ctx.platform == "teams":
        if ctx.endpoint == "token":
            st = status or 400
            return token_error(st, rule.error or ("temporarily_unavailable" if st >= 500
                                                  else "invalid_request"),
                               50000 if st >= 500 else 90014, "Injected failure.", 50000)
        if status == 429 and not rule.error:
            return graph_429(ra)
        st = status or 400
        return graph_error(st, rule.error or GRAPH_STATUS_CODES.get(st, "UnknownError"),
                           "Injected failure (%s)." % rule.spec, hdrs)
    st = status or 400
    if rule.error:
        msg = rule.error
    elif st in http.HTTPStatus._value2member_map_:
        msg = http.HTTPStatus(st).phrase
    else:
        msg = "Error"
    return webex_error(st, msg, headers=hdrs)


def rate_response(ctx, wait):
    if ctx.platform == "teams":
        return graph_429("%.3f" % wait) if ctx.endpoint != "token" else \
            token_error(429, "temporarily_unavailable", 50196, "Too many requests.", 50196)
    ra = str(max(1, int(math.ceil(wait))))
    if ctx.platform == "slack":
        return slack_error("ratelimited", 429, headers=[("Retry-After", ra)])
    return webex_error(429, "Too Many Requests", "Too many requests, retry later.",
                       headers=[("Retry-After", ra)])
