"""The loopback fake's modules, one per concern (README.md next to this folder says which
file holds what); tests/fakes/fakeserver.py is the entry point that wires them together.

core: shared names, helpers, rosters, error bodies   faults: --fail rules and --rate limits
server: state, HTTP handler, routing, request log     slack, graph, webex: the platform APIs
oauth: authorize pages and token endpoints            control: the /_control endpoints
"""
import os
import sys

# genorg.py (the org generator, a sibling of this folder) is imported by several modules.
_FAKES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _FAKES not in sys.path:
    sys.path.insert(0, _FAKES)
