"""End-to-end: a deployment written from the outside contract alone (shared interface.md's
config block: database, public_url, link_key_file and the platform blocks, nothing more)
checks, reconciles and starts `serve`; the key that encrypts stored user tokens is derived
from the link key when token_key_file is absent."""
import http.cookiejar
import os
import urllib.request

from tests.e2e.harness import E2E, run, write_secret
from tests.e2e.test_serve import Serve, free_port

CONTRACT = """
database = "{dir}/db";
public_url = "http://127.0.0.1:{port}";
link_key_file = "link.key";
slack = {{ enabled = true; api_url = "{base}/slack/api"; bot_token_file = "slack.token";
          auto_sync = false;
          oauth = {{ authorize_url = "{base}/slack/oauth/v2/authorize";
                    client_id = "{slack_client}"; client_secret_file = "slack.oauth.secret"; }}; }};
teams = {{ enabled = true; graph_url = "{base}/graph/v1.0";
          login_url = "{base}/login"; tenant_id = "{tenant}";
          client_id = "{graph_client}"; client_secret_file = "graph.secret";
          service_user_refresh_token_file = "graph.refresh"; }};
webex = {{ enabled = true; api_url = "{base}/webex/v1"; token_file = "webex.token";
          oauth = {{ authorize_url = "{base}/webex/v1/authorize";
                    client_id = "{webex_client}"; client_secret_file = "webex.oauth.secret"; }}; }};
identity = {{ domain_aliases = ( ("corp.onmicrosoft.com", "corp.com") ); }};
prompts = {{ cooldown_hours = 72; max_prompts = 3; quiet_hours = ""; }};
"""


class ContractConfig(E2E):
    org_args = dict(people=40, seed=12, platforms=("slack", "teams", "webex"))
    platforms = ("slack", "teams", "webex")

    def contract_config(self, port):
        sec = self.org["secrets"]
        clients = self.fake.get("/_control/oauth")["clients"]
        write_secret(os.path.join(self.dir, "link.key"), os.urandom(32).hex())
        write_secret(os.path.join(self.dir, "graph.refresh"), sec["graph_refresh_token"])
        write_secret(os.path.join(self.dir, "slack.oauth.secret"),
                     clients["slack"]["client_secret"])
        write_secret(os.path.join(self.dir, "webex.oauth.secret"),
                     clients["webex"]["client_secret"])
        text = CONTRACT.format(dir=self.dir, port=port, base=self.fake.base,
                               tenant=self.org["teams"]["tenant_id"],
                               slack_client=clients["slack"]["client_id"],
                               graph_client=sec["graph_client_id"],
                               webex_client=clients["webex"]["client_id"])
        self.assertNotIn("token_key", text)
        path = os.path.join(self.dir, "contract.cfg")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_serve_starts_on_the_contracts_keys(self):
        port = free_port()
        cfg = self.contract_config(port)
        r = run(cfg, "check-config")
        self.assertEqual(r.rc, 0, r)
        r = run(cfg, "reconcile", "--no-prompts")
        self.assertEqual(r.rc, 0, r)
        person = next(p["email"] for p in self.org["truth"]
                      if p.get("email") and p["active"] and not p["guest"])
        srv = Serve(cfg, self.dir, port)
        try:
            with urllib.request.urlopen(srv.base + "/healthz", timeout=5) as resp:
                self.assertEqual(resp.read(), b"ok\n")
            r = run(cfg, "sync-link", person)
            self.assertEqual(r.rc, 0, r)
            link = r.out.strip().split()[-1]
            self.assertTrue(link.startswith(srv.base + "/s/"), link)
            # the link opens a session (a cookie) and lands on the Sync now page
            opener = urllib.request.build_opener(
                urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
            with opener.open(link, timeout=5) as resp:
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.geturl(), srv.base + "/sync")
        finally:
            self.assertEqual(srv.stop(), 0)
        self.assertNotIn("token_key_file", srv.log())
