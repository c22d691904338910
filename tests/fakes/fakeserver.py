#!/usr/bin/env python3
"""fakeserver.py -- one loopback process playing Slack, Microsoft Graph (+ the identity
platform's token endpoint) and Webex for peoplesync's tests and demo.

    fakeserver.py --org org.json [--port 0] [--port-file F] [--log requests.jsonl]
                  [--fail SPEC ...] [--rate PLATFORM:ENDPOINT=N/SECONDS ...]
                  [--latency MS] [--token-ttl S] [--rotate-refresh] [--unpaged-max N]

Paths (base URLs for a peoplesync config are in README.md):
    /slack/api/<method>                      Slack Web API
    /login/<tenant>/oauth2/v2.0/token        Microsoft identity platform token endpoint
    /graph/v1.0/...                          Microsoft Graph
    /webex/v1/...                            Webex
    /slack/oauth/v2/authorize                Slack OAuth v2 authorize page (users listed)
    /login/<tenant>/oauth2/v2.0/authorize    Microsoft identity platform authorize page
    /webex/v1/authorize, /webex/v1/access_token   Webex integration OAuth
    /_control, /_control/<what>              test control (not logged, not counted)

The behaviour copies the real services as described in shared/docs/platform-apis.md and
the samples in tests/data/fixtures/; README.md next to this file documents every choice, the
failure SPEC grammar and the control operations.  Standard library only.

This file is the entry point: it parses the command line and wires together the modules of
fake/ (core, faults, server, slack, graph, webex, oauth, control; README.md: "Files").
"""

import argparse
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake.control import Control  # noqa: E402  (the package beside this file)
from fake.faults import RateRule, Rule  # noqa: E402
from fake.graph import GraphAPI  # noqa: E402
from fake.oauth import OAuth  # noqa: E402
from fake.server import Handler, Server, State, write_port_file  # noqa: E402
from fake.slack import SlackAPI  # noqa: E402
from fake.webex import WebexAPI  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description="Loopback fakes of Slack, Graph and Webex.")
    ap.add_argument("--org", required=True, help="org.json written by genorg.py")
    ap.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    ap.add_argument("--port", type=int, default=0, help="0 = any free port")
    ap.add_argument("--port-file", help="write the port here once listening (atomically)")
    ap.add_argument("--log", help="append one JSON line per request here")
    ap.add_argument("--fail", action="extend", nargs="+", metavar="SPEC", default=[],
                    help="failure rule(s), see README.md")
    ap.add_argument("--rate", action="extend", nargs="+", metavar="P:EP=N/S", default=[],
                    help="rate limit(s), e.g. slack:chat.postMessage=50/60")
    ap.add_argument("--latency", type=int, default=0, metavar="MS",
                    help="delay every API answer by MS milliseconds")
    ap.add_argument("--token-ttl", type=int, default=3599,
                    help="lifetime of Graph access tokens in seconds (default 3599)")
    ap.add_argument("--rotate-refresh", action="store_true",
                    help="a Graph refresh token works once (default: old ones stay valid)")
    ap.add_argument("--unpaged-max", type=int, default=1000,
                    help="users.list without limit answers limit_required above this many "
                         "members (default 1000)")
    args = ap.parse_args(argv)
    if not (args.host.startswith("127.") or args.host == "localhost"):
        ap.error("--host must be a loopback address")
    try:
        for spec in args.fail:
            Rule(spec)
        for spec in args.rate:
            RateRule(spec)
    except ValueError as e:
        ap.error(str(e))
    try:
        state = State(args)
    except (OSError, ValueError) as e:
        print("fakeserver: %s: %s" % (args.org, e), file=sys.stderr)
        return 66
    state.api_slack, state.api_graph = SlackAPI(state), GraphAPI(state)
    state.api_webex, state.control = WebexAPI(state), Control(state)
    state.api_oauth = OAuth(state)
    srv = Server((args.host, args.port), Handler)
    srv.state = state
    state.port = srv.server_address[1]
    if args.port_file:
        write_port_file(args.port_file, state.port)
    print("PORT=%d" % state.port, flush=True)

    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    try:
        srv.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
