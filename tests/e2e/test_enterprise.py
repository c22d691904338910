"""Enterprise shapes (issue 13): two Slack workspaces and an Enterprise Grid of three
workspaces (one user id in two of them), a Teams tenant and a Webex org, each served by a fake
of its own; people are one per human with every account, teams carry the platforms' names,
and each person's own zone decides when a prompt may go."""
import json
import os
import sys
import shutil
import tempfile
import unittest

from tests.e2e.harness import FAKES, Fake, people_jsonl, run, write_secret

sys.path.insert(0, FAKES)
import genenterprise  # noqa: E402

PEOPLE = 40


class Enterprise(unittest.TestCase):
    cfg_extra = ""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ps-e2e-ent-")
        self.orgs, self.truth = genenterprise.generate(PEOPLE, seed=13)
        self.fakes = {}
        for key, org in self.orgs.items():
            d = os.path.join(self.dir, key)
            os.mkdir(d)
            path = os.path.join(d, "org.json")
            with open(path, "w") as f:
                json.dump(org, f)
            self.fakes[key] = Fake(d, path)
        self.cfg = self.write_config()

    def tearDown(self):
        for f in self.fakes.values():
            f.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_config(self, extra=""):
        d, f = self.dir, self.fakes
        for key in ("ws_a", "ws_b", "grid"):
            write_secret(os.path.join(d, key + ".token"),
                         self.orgs[key]["secrets"]["slack_bot_token"])
        sec = self.orgs["ms"]["secrets"]
        write_secret(os.path.join(d, "graph.secret"), sec["graph_client_secret"])
        write_secret(os.path.join(d, "graph.refresh"), sec["graph_refresh_token"])
        write_secret(os.path.join(d, "webex.token"), sec["webex_token"])
        write_secret(os.path.join(d, "link.key"), "5f" * 32)
        ms = f["ms"].base
        cfg = f"""
database = "{d}/db";
public_url = "http://127.0.0.1:8099";
link_key_file = "link.key";
slack = {{ api_url = "{f['ws_a'].base}/slack/api"; page_limit = 7;
          workspaces = ( {{ bot_token_file = "ws_a.token"; }},
                         {{ bot_token_file = "ws_b.token"; api_url = "{f['ws_b'].base}/slack/api"; }},
                         {{ bot_token_file = "grid.token"; api_url = "{f['grid'].base}/slack/api";
                            org_wide = true; }} ); }};
teams = {{ graph_url = "{ms}/graph/v1.0"; login_url = "{ms}/login";
          tenant_id = "{self.orgs['ms']['teams']['tenant_id']}";
          client_id = "{sec['graph_client_id']}"; client_secret_file = "graph.secret";
          service_user_refresh_token_file = "graph.refresh"; }};
webex = {{ api_url = "{ms}/webex/v1"; token_file = "webex.token"; }};
http = {{ retries = 2; backoff_base = 0.05; backoff_max = 0.5; timeout = 10; }};
{self.cfg_extra}{extra}
"""
        path = os.path.join(d, "peoplesync.cfg")
        with open(path, "w") as fh:
            fh.write(cfg)
        return path

    def reconcile(self, *args, env=None):
        r = run(self.cfg, "reconcile", *args, env=env)
        self.assertEqual(r.rc, 0, msg=repr(r))
        return r

    @staticmethod
    def accounts(accts):
        return sorted((a["platform"], a["team_id"], a["user_id"], a["active"],
                       tuple(a.get("workspaces") or ())) for a in accts)


class TestEnterpriseRoster(Enterprise):
    def test_people_equal_the_generators_truth(self):
        self.reconcile("--no-prompts")
        got = {p["email"]: p for p in people_jsonl(self.cfg)}
        want = self.truth["people"]
        self.assertEqual(len(got), len(want), "one person per human")
        for t in want:
            p = got.get(t["email"])
            self.assertIsNotNone(p, t["email"])
            self.assertEqual(p["active"], t["active"], t["email"])
            self.assertEqual(self.accounts(p["accounts"]), self.accounts(t["accounts"]),
                             t["email"])

    def test_a_grid_user_in_two_workspaces_is_one_account(self):
        self.reconcile("--no-prompts")
        grid = self.orgs["grid"]["slack"]
        shared = [m for m in grid["members"] if len(m["enterprise_user"]["teams"]) >= 2]
        self.assertTrue(shared)
        got = people_jsonl(self.cfg)
        for m in shared:
            mine = [a for p in got for a in p["accounts"] if a["user_id"] == m["id"]]
            self.assertEqual(len(mine), 1, m["id"])
            self.assertEqual(mine[0]["team_id"], grid["enterprise_id"])
            self.assertEqual(mine[0]["workspaces"], sorted(m["enterprise_user"]["teams"]))
        # users.list was asked per workspace of the Grid, with its team_id
        asked = {r["query"].get("team_id") for r in self.fakes["grid"].requests()
                 if r.get("endpoint") == "users.list"}
        self.assertEqual(asked, {t["id"] for t in grid["teams"]})

    def test_each_primary_team_carries_the_platforms_name(self):
        self.reconcile("--no-prompts")
        names = self.truth["team_names"]
        for p in people_jsonl(self.cfg):
            t = p["primary_team"]
            if t is None:
                continue
            self.assertEqual(t["name"], names[t["platform"]][t["id"]], p["email"])
        r = run(self.cfg, "people", "--all")
        self.assertEqual(r.rc, 0, msg=repr(r))
        for plat, teams in names.items():
            for tid in teams:
                self.assertNotIn(tid, r.out, "a raw team id in the people table")

    def test_prompts_go_through_the_workspace_of_the_account(self):
        self.cfg = self.write_config('prompts = { quiet_hours = ""; };')
        self.reconcile("--no-prompts")
        # one person of each Slack workspace and of the Grid, prompted by an admin
        want = {}
        for p in self.truth["people"]:
            a = p["accounts"][0]
            key = (a["platform"], a["team_id"])
            if a["platform"] == "slack" and len(p["accounts"]) == 1 and key not in want:
                want[key] = p
        self.assertEqual(len(want), 3, want.keys())
        for p in want.values():
            r = run(self.cfg, "prompt", p["email"])
            self.assertEqual(r.rc, 0, msg=repr(r))
        r = run(self.cfg, "reconcile", env={"PEOPLESYNC_NOW": "1764583200"})  # 10:00 UTC
        self.assertEqual(r.rc, 0, msg=repr(r))
        for key, fake in (("ws_a", "ws_a"), ("ws_b", "ws_b"), ("grid", "grid")):
            posts = [q for q in fake_requests(self.fakes[fake])
                     if q.get("endpoint") == "chat.postMessage" and q.get("status") == 200]
            self.assertEqual(len(posts), 1, (key, posts))



# 2026-12-03 08:00 UTC: 09:00 in Paris, 12:00 in Dubai, 03:00 in New York, 00:00 in LA
PARIS_9AM = 1796284800


class TestEnterpriseZones(Enterprise):
    """Each person's own zone decides; the host's zone (TZ) is the default."""

    def fixed(self, i):
        return self.truth["people"][i]

    def test_own_zones_decide_who_is_prompted_at_nine_in_paris(self):
        env = {"TZ": "Europe/Paris", "PEOPLESYNC_NOW": str(PARIS_9AM)}
        self.reconcile("--no-prompts", env=env)
        teams_noon, webex_noon, webex_3am = self.fixed(0), self.fixed(1), self.fixed(2)
        teams_night, teams_none = self.fixed(8), self.fixed(9)
        r = run(self.cfg, "prompt", "--all", env=env)
        self.assertEqual(r.rc, 0, msg=repr(r))
        r = run(self.cfg, "reconcile", env=env)
        self.assertIn(r.rc, (0, 69), msg=repr(r))
        got = {p["email"]: p for p in people_jsonl(self.cfg)}
        for who in (teams_noon, webex_noon, teams_none):
            self.assertEqual(got[who["email"]]["prompt_count"], 1, who)
        for who in (webex_3am, teams_night):
            self.assertEqual(got[who["email"]]["prompt_count"], 0, who)
        r = run(self.cfg, "explain", teams_noon["email"], env=env)
        self.assertIn("zone: Asia/Dubai — from teams:", r.out)
        self.assertIn("Outlook mailbox settings (mailboxSettings.timeZone)", r.out)
        r = run(self.cfg, "explain", webex_3am["email"], env=env)
        self.assertIn("zone: America/New_York — from webex:", r.out)
        self.assertIn("quiet hours", r.out)
        r = run(self.cfg, "explain", teams_none["email"], env=env)
        self.assertIn("zone: Europe/Paris — from prompts.default_tz (TZ)", r.out)

    def test_mailbox_zones_need_the_permission(self):
        self.fakes["ms"].stop()
        ms = self.orgs["ms"]
        ms["teams"]["mailbox_denied"] = True
        d = os.path.join(self.dir, "ms")
        os.unlink(os.path.join(d, "fake.port"))
        with open(os.path.join(d, "org.json"), "w") as f:
            json.dump(ms, f)
        self.fakes["ms"] = Fake(d, os.path.join(d, "org.json"))
        self.cfg = self.write_config()
        env = {"TZ": "Europe/Paris", "PEOPLESYNC_NOW": str(PARIS_9AM)}
        r = self.reconcile("--no-prompts", env=env)
        self.assertIn("MailboxSettings.Read", r.err)
        asked = [q for q in self.fakes["ms"].requests() if q.get("endpoint") == "users.tz"]
        self.assertEqual(len(asked), 1, "one refusal stops the lookups of the run")
        r = run(self.cfg, "explain", self.fixed(0)["email"], env=env)
        self.assertIn("zone: Europe/Paris — from prompts.default_tz (TZ)", r.out)

class TestEnterpriseZoneRefresh(Enterprise):
    """A mailbox zone is asked again a day after it was asked, not before."""

    def test_a_changed_mailbox_zone_is_seen_after_a_day(self):
        who = self.truth["people"][0]              # Teams only, in Asia/Dubai
        gid = who["accounts"][0]["user_id"]
        self.assertEqual(who["accounts"][0]["platform"], "teams")

        def at(dt):
            return {"TZ": "Europe/Paris", "PEOPLESYNC_NOW": str(PARIS_9AM + dt)}

        def asked():
            return len([q for q in self.fakes["ms"].requests()
                        if q.get("endpoint") == "users.tz" and gid in q.get("path", "")])

        self.reconcile("--no-prompts", env=at(0))
        self.assertEqual(asked(), 1)
        self.assertIn("zone: Asia/Dubai — from teams:", run(self.cfg, "explain",
                                                            who["email"], env=at(0)).out)
        self.fakes["ms"].control({"op": "mailbox", "user_id": gid,
                                  "zone": "Tokyo Standard Time"})
        self.reconcile("--no-prompts", env=at(3600))
        self.assertEqual(asked(), 1, "not asked again within the day")
        self.assertIn("zone: Asia/Dubai — from teams:", run(self.cfg, "explain",
                                                            who["email"], env=at(3600)).out)
        self.reconcile("--no-prompts", env=at(86400 + 60))
        self.assertEqual(asked(), 2, "asked again after a day")
        self.assertIn("zone: Asia/Tokyo — from teams:", run(self.cfg, "explain",
                                                            who["email"], env=at(86460)).out)
        # a mailbox that no longer has a zone: the person falls back to the default
        self.fakes["ms"].control({"op": "mailbox", "user_id": gid, "zone": None})
        self.reconcile("--no-prompts", env=at(2 * 86400 + 120))
        self.assertEqual(asked(), 3)
        self.assertIn("zone: Europe/Paris — from prompts.default_tz (TZ)",
                      run(self.cfg, "explain", who["email"], env=at(2 * 86400 + 120)).out)
        r = run(self.cfg, "db", "verify")
        self.assertEqual(r.rc, 0, msg=repr(r))


class TestEnterpriseCheckOnline(Enterprise):
    """check-config --online proves every workspace's token and names the one at fault."""

    def test_one_bad_token_of_three_is_named(self):
        write_secret(os.path.join(self.dir, "ws_b.token"), "xoxb-0-not-a-token")
        r = run(self.cfg, "check-config", "--online")
        self.assertEqual(r.rc, 78, msg=repr(r))
        a = self.orgs["ws_a"]["slack"]
        self.assertIn("slack.workspaces[0]: bot token: team %s (%s)"
                      % (a["team_id"], a["team_name"]), r.out)
        # (the log's msg is quoted: its quotes come escaped)
        self.assertIn(r'slack.workspaces[1]: slack: POST auth.test: HTTP 200, error '
                      r'\"invalid_auth\"', r.err)
        self.assertNotIn("slack.workspaces[0]: slack:", r.err)
        grid = self.orgs["grid"]["slack"]
        self.assertIn("slack.workspaces[2]: org-wide token (auth.teams.list): 3 workspaces: "
                      + ", ".join(t["id"] for t in grid["teams"]), r.out)
        asked = [q for q in self.fakes["grid"].requests()
                 if q.get("endpoint") == "auth.teams.list"]
        self.assertEqual(len(asked), 1)

    def test_a_grid_token_that_cannot_list_its_workspaces_is_named(self):
        # the Grid's token given to a plain workspace's entry: auth.test passes, the
        # workspaces cannot be listed
        self.cfg = self.write_config()
        with open(self.cfg) as f:
            text = f.read()
        with open(self.cfg, "w") as f:
            f.write(text.replace('bot_token_file = "ws_b.token";',
                                 'bot_token_file = "ws_b.token"; team_id = "TBEE"; '
                                 'team_name = "Bee"; org_wide = true;'))
        r = run(self.cfg, "check-config", "--online")
        self.assertEqual(r.rc, 78, msg=repr(r))
        self.assertIn(r'slack.workspaces[1] (team TBEE Bee): slack: GET auth.teams.list: '
                      r'HTTP 200, error \"not_allowed_token_type\" (an org-wide token needs '
                      r'it)', r.err)


def fake_requests(fake):
    return fake.requests()


if __name__ == "__main__":
    unittest.main()
