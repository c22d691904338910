"""Sync now with several Slack workspaces (issue 13): each workspace entry may carry its own
OAuth client.  Two workspaces, each served by a fake of its own that knows only its own
client; the top-level slack.oauth is the first workspace's and the second workspace's entry
overrides it.  A person of the second workspace signs in with the second client (authorize
page, code exchange), the user token is stored for that workspace (User Sync), its refresh
goes to the same client, and the catch-up reads that person's direct messages through the
second workspace."""
import json
import os
import re
import shutil
import sys
import tempfile
import unittest
import urllib.parse

from tests.e2e.harness import FAKES, Fake, people_jsonl, run, write_secret
from tests.e2e.test_serve import Browser, Serve, free_port, query_of

sys.path.insert(0, FAKES)
import genenterprise  # noqa: E402

PEOPLE = 12
B_ONLY = 6          # genenterprise's FIXED: the person with an account in ws_b alone
G_ONLY = 7          # and the one in the Grid alone


class WorkspaceSignIn(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ps-e2e-wssign-")
        self.orgs, self.truth = genenterprise.generate(PEOPLE, seed=13)
        self.fakes, self.serve = {}, None
        for key in ("ws_a", "ws_b", "grid"):
            d = os.path.join(self.dir, key)
            os.mkdir(d)
            path = os.path.join(d, "org.json")
            with open(path, "w") as f:
                json.dump(self.orgs[key], f)
            self.fakes[key] = Fake(d, path)
        self.clients = {k: f.get("/_control/oauth")["clients"]["slack"]
                        for k, f in self.fakes.items()}
        self.assertNotEqual(self.clients["ws_a"]["client_id"],
                            self.clients["ws_b"]["client_id"])
        self.port = free_port()
        self.cfg = self.write_config()

    def tearDown(self):
        if self.serve is not None:
            rc = self.serve.stop()
            log = self.serve.log()
            self.assertEqual(rc, 0, log[-3000:])
            self.assertNotIn("Sanitizer", log)
        for f in self.fakes.values():
            f.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_config(self):
        d, f = self.dir, self.fakes
        for key in ("ws_a", "ws_b", "grid"):
            write_secret(os.path.join(d, key + ".token"),
                         self.orgs[key]["secrets"]["slack_bot_token"])
            write_secret(os.path.join(d, key + ".oauth"), self.clients[key]["client_secret"])
        write_secret(os.path.join(d, "link.key"), os.urandom(32).hex())
        write_secret(os.path.join(d, "token.key"), os.urandom(32).hex())
        a, b, g = f["ws_a"].base, f["ws_b"].base, f["grid"].base
        cfg = f"""
database = "{d}/db";
public_url = "http://127.0.0.1:{self.port}";
link_key_file = "link.key";
token_key_file = "token.key";
serve = {{ listen = "127.0.0.1:{self.port}"; }};
prompts = {{ quiet_hours = ""; }};
slack = {{ api_url = "{a}/slack/api";
          oauth = {{ authorize_url = "{a}/slack/oauth/v2/authorize";
                    client_id = "{self.clients['ws_a']['client_id']}";
                    client_secret_file = "ws_a.oauth"; }};
          workspaces = ( {{ bot_token_file = "ws_a.token"; }},
                         {{ bot_token_file = "ws_b.token"; api_url = "{b}/slack/api";
                            oauth = {{ authorize_url = "{b}/slack/oauth/v2/authorize";
                                      client_id = "{self.clients['ws_b']['client_id']}";
                                      client_secret_file = "ws_b.oauth"; }}; }},
                         {{ bot_token_file = "grid.token"; api_url = "{g}/slack/api";
                            org_wide = true;
                            oauth = {{ authorize_url = "{g}/slack/oauth/v2/authorize";
                                      client_id = "{self.clients['grid']['client_id']}";
                                      client_secret_file = "grid.oauth"; }}; }} ); }};
http = {{ retries = 2; backoff_base = 0.05; backoff_max = 0.5; timeout = 10; }};
"""
        path = os.path.join(d, "peoplesync.cfg")
        with open(path, "w") as fh:
            fh.write(cfg)
        return path

    def ps(self, *args, env=None):
        r = run(self.cfg, *args, env=env)
        self.assertEqual(r.rc, 0, msg=repr(r))
        return r

    def exchanges(self, key):
        return self.fakes[key].get("/_control/oauth")["exchanges"]

    def sync_b_person(self):
        return self.sync_person(B_ONLY, "ws_b", self.orgs["ws_b"]["slack"]["team_id"])

    def sync_person(self, i, key, team):
        """Person i (whose one account is in team, served by fake key) through Sync now:
        (truth entry, account)."""
        who = self.truth["people"][i]
        acct = who["accounts"][0]
        self.assertEqual([(a["platform"], a["team_id"]) for a in who["accounts"]],
                         [("slack", team)])
        self.ps("reconcile", "--no-prompts")
        self.serve = Serve(self.cfg, self.dir, self.port)
        b = Browser()
        st, url, h, page = b.open(self.ps("sync-link", who["email"]).out.strip())
        self.assertEqual(st, 200, page)
        self.assertIn("Connect Slack", page)
        st, url, h, page = b.open(self.serve.base + "/connect/slack", follow=False)
        self.assertEqual(st, 302, page)
        authz = h["Location"]
        self.assertTrue(authz.startswith(self.fakes[key].base + "/"), authz)
        self.assertEqual(query_of(authz)["client_id"], self.clients[key]["client_id"])
        st, url, h, page = b.open(authz + "&" + urllib.parse.urlencode(
            {"user": acct["user_id"]}))
        self.assertEqual(st, 200, page)
        self.assertTrue(url.endswith("/sync"), url)
        self.assertIn("&#10003; Connected", page)
        # the code went back to the client that issued it, and to no other
        self.assertEqual(self.exchanges(key), [
            {"grant": "authorization_code", "client_id": self.clients[key]["client_id"],
             "ok": True}])
        for other in set(self.fakes) - {key}:
            self.assertEqual(self.exchanges(other), [], other)
        csrf = re.search(r'name="csrf" value="([A-Za-z0-9_-]+)"', page).group(1)
        data = urllib.parse.urlencode({"csrf": csrf, "team": "slack:" + acct["team_id"]})
        st, url, h, page = b.open(self.serve.base + "/sync/primary", data=data.encode())
        self.assertEqual(st, 200, page)
        self.assertTrue(url.endswith("/done"), url)
        p = next(x for x in people_jsonl(self.cfg) if x["email"] == who["email"])
        self.assertEqual((p["status"], p["sync_type"], p["primary_team"]["id"]),
                         ("on", "user", team))
        return who, acct

    def test_a_grid_member_signs_in_with_the_grids_client(self):
        # oauth.v2.access names the member's workspace (team.id) and the Grid
        # (enterprise.id): the account is the Grid's
        grid = self.orgs["grid"]["slack"]
        self.sync_person(G_ONLY, "grid", grid["enterprise_id"])

    def test_a_second_workspace_person_signs_in_with_its_own_client(self):
        # the second workspace's user tokens expire within the refresh window
        self.fakes["ws_b"].control({"op": "oauth", "ttl": {"slack": 600}})
        who, acct = self.sync_b_person()
        # the stored user token is refreshed at the same workspace's client
        r = self.ps("reconcile", "--no-prompts")
        self.assertIn("tokens: 1 refreshed", r.err)
        ex = self.exchanges("ws_b")
        self.assertEqual([(e["grant"], e["client_id"], e["ok"]) for e in ex[1:]],
                         [("refresh_token", self.clients["ws_b"]["client_id"], True)])
        self.assertEqual(self.exchanges("ws_a"), [])
        shown = self.ps("show", who["email"]).out
        self.assertNotIn("reauth", shown)

    def test_the_catch_up_reads_a_dm_in_the_second_workspace(self):
        who, acct = self.sync_b_person()
        ws_b = self.orgs["ws_b"]["slack"]["team_id"]
        sender = next(a["user_id"] for t in self.truth["people"] if t is not who
                      for a in t["accounts"] if a["team_id"] == ws_b and a["active"])
        self.ps("auto-prompt", "on")
        self.fakes["ws_b"].control({"op": "send_dm", "platform": "slack", "from": sender,
                                    "to": acct["user_id"]})
        r = self.ps("-v", "reconcile")
        self.assertIn("catch-up read 1 people, 1 messages, 1 new", r.err)
        read = [q for q in self.fakes["ws_b"].requests()
                if q.get("endpoint") == "conversations.history" and q.get("status") == 200]
        self.assertTrue(read, "the history was read at the second workspace")
        self.assertFalse([q for q in self.fakes["ws_a"].requests()
                          if q.get("endpoint") in ("conversations.list",
                                                   "conversations.history")])
        prompts = [m for m in self.fakes["ws_b"].get("/_control/messages")
                   if m.get("to") == sender]
        self.assertEqual(len(prompts), 1)


if __name__ == "__main__":
    unittest.main()
