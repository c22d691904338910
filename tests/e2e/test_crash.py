"""End-to-end: crash injection. `peoplesync reconcile` is killed with SIGKILL at random moments
of a scenario that pulls three platforms page by page, applies changes and sends bulk
prompts, and is rerun after each kill. After every kill `db verify` passes, no person or
account has gone, and no prompt went out twice; at the end every queued prompt was delivered
exactly once and the people are those of an uninterrupted run of the same scenario (the same
fake script, in another directory).

`make test` runs the short variant (>= 100 kills, a small org, about a minute and a half).
`make soak` sets PEOPLESYNC_SOAK=1: 1000 kills over a larger org and more steps.
PEOPLESYNC_CRASH_KILLS and PEOPLESYNC_CRASH_SEED override the number of kills and the seed."""
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from tests.e2e.harness import BIN, E2E, Fake, make_config, people_jsonl, run

SOAK = bool(os.environ.get("PEOPLESYNC_SOAK"))
PLATFORMS = ("slack", "teams", "webex")
DM_ENDPOINTS = {"conversations.open", "chat.postMessage", "conversations.history", "chats",
                "chats.messages", "chats.messages.list", "me", "messages", "messages.direct"}
PULL_ENDPOINTS = {"users.list", "auth.test", "users", "users.delta", "people"}
VOLATILE = ("last_prompted_at", "synced_at")      # differ between two runs by nature


def tune_config(path):
    """Small pages everywhere and rates far above what the fake's latency allows, so that
    a run is bound by round trips, not by token buckets."""
    with open(path) as f:
        text = f.read()
    text = text.replace("page_limit = 10;", "page_limit = 10; rate = { open = { per_second = "
                        "500.0; burst = 10; }; post = { per_second = 500.0; burst = 10; }; };")
    text = text.replace('client_secret_file = "graph.secret";',
                        'client_secret_file = "graph.secret"; page_size = 10; rate = { chat = '
                        '{ per_second = 500.0; burst = 10; }; post = { per_second = 500.0; '
                        'burst = 10; }; };')
    text = text.replace('token_file = "webex.token";', 'token_file = "webex.token"; '
                        'page_max = 10; rate = { post = { per_second = 500.0; burst = 10; }; };')
    with open(path, "w") as f:
        f.write(text)


def stable(people):
    out = []
    for p in people:
        q = {k: v for k, v in p.items() if k not in VOLATILE}
        q["accounts"] = sorted(q["accounts"], key=lambda a: (a["platform"], a["user_id"]))
        out.append(q)
    return sorted(out, key=lambda p: (p["email"] or "", json.dumps(p, sort_keys=True)))


class Scenario:
    """The fake script: steps of roster changes and prompt queueing, each followed by a
    reconcile. The same org and seed give the same operations on any fake."""

    def __init__(self, org, seed, steps):
        self.org = org
        self.seed = seed
        self.steps = steps
        self.humans = {}
        for p in PLATFORMS:
            ids = {a["user_id"] for t in org["truth"] for a in t["accounts"]
                   if a["platform"] == p and a["active"]}
            objs = {"slack": org["slack"]["members"], "teams": org["teams"]["users"],
                    "webex": org["webex"]["people"]}[p]
            self.humans[p] = [o["id"] for o in objs if o["id"] in ids]
        self.emails = sorted(t["email"] for t in org["truth"] if t["active"])

    def ops(self, step):
        """Control ops of step (0: none, the first full pull)."""
        if step == 0:
            return []
        rng = random.Random(f"{self.seed}:{step}")
        ops = []
        name_field = {"slack": "real_name", "teams": "displayName", "webex": "displayName"}
        for p in PLATFORMS:
            pool = list(self.humans[p])
            rng.shuffle(pool)
            # renames: a third of the roster (commits with real work in them)
            for uid in pool[: len(pool) // 3]:
                ops.append({"op": "mutate", "platform": p, "user_id": uid,
                            "set": {name_field[p]: f"Step{step} {uid[-6:]}"}})
            # a few deactivations and removals: under the 10 % guard
            k = max(1, len(pool) // 50)
            for uid in pool[-k:]:
                ops.append({"op": "deactivate", "platform": p, "user_id": uid})
            for uid in pool[-2 * k:-k]:
                ops.append({"op": "remove", "platform": p, "user_id": uid})
            # newcomers: some new people, some existing people's new account elsewhere
            for i in range(max(2, len(pool) // 20)):
                if i % 2:
                    email = rng.choice(self.emails)
                    if any(o.get("email") == email and o["platform"] == p for o in ops):
                        continue
                else:
                    email = f"new{step}x{i}@corp.com"
                ops.append({"op": "add", "platform": p, "email": email,
                            "name": f"New Person {step}-{i}"})
        # the removed ones come back a step later
        if step >= 2:
            prev = self.ops(step - 1)
            ops += [{"op": "restore", "platform": o["platform"], "user_id": o["user_id"]}
                    for o in prev if o["op"] == "remove"]
        if step == 3:
            ops.append({"op": "expire_delta_tokens"})    # Teams: a full resync
        return ops

    def prompt_args(self, step):
        """The prompt command queued before step's reconcile, or None."""
        if step in (1, 2) or (step > 3 and step % 2 == 0):
            return ("prompt", "--all")
        return None


class Env:
    """One directory, fake and config for a run of the scenario."""

    def __init__(self, org_path, org, label, latency):
        self.dir = tempfile.mkdtemp(prefix=f"ps-crash-{label}-")
        shutil.copy(org_path, os.path.join(self.dir, "org.json"))
        self.fake = Fake(self.dir, os.path.join(self.dir, "org.json"),
                         extra=("--latency", str(latency)))
        self.cfg = make_config(self.dir, self.fake, org, PLATFORMS, page_limit=10)
        tune_config(self.cfg)

    def close(self):
        self.fake.stop()
        if not os.environ.get("PEOPLESYNC_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)


class CrashInjection(E2E):
    org_args = dict(people=1000 if SOAK else 120, seed=61, platforms=PLATFORMS)
    platforms = PLATFORMS
    page_limit = 10
    steps = 7 if SOAK else 4
    kills = int(os.environ.get("PEOPLESYNC_CRASH_KILLS", "1000" if SOAK else "104"))
    latency = 4

    def setUp(self):
        super().setUp()
        # E2E's own fake and directory are not used: two environments of our own
        self.fake.stop()
        self.envs = []
        self.rng = random.Random(int(os.environ.get("PEOPLESYNC_CRASH_SEED", "4242")))
        self.env = dict(os.environ, PEOPLESYNC_NO_TTY="1",
                        ASAN_OPTIONS="detect_leaks=0:halt_on_error=1")

    def tearDown(self):
        for e in self.envs:
            e.close()
        super().tearDown()

    def new_env(self, label):
        e = Env(self.org_path, self.org, label, self.latency)
        self.envs.append(e)
        return e

    def prepare_step(self, env, sc, step):
        for op in sc.ops(step):
            env.fake.control(op)
        args = sc.prompt_args(step)
        if args:
            r = run(env.cfg, *args)
            self.assertEqual(r.rc, 0, r)

    def test_sigkill_at_random_moments(self):
        t0 = time.time()
        sc = Scenario(self.org, 61, self.steps)

        # ---- the reference: each step's reconcile runs to its end ----
        ref = self.new_env("ref")
        timing = []             # per step: (duration, end of pulls, first DM), seconds
        for step in range(self.steps):
            self.prepare_step(ref, sc, step)
            mark = len(ref.fake.requests())
            start = time.time()
            r = run(ref.cfg, "reconcile")
            dur = time.time() - start
            self.assertEqual(r.rc, 0, r)
            reqs = ref.fake.requests()[mark:]
            ts = [(self.iso(q["ts"]) - start, q["endpoint"]) for q in reqs]
            pulls_end = max([t for t, ep in ts if ep in PULL_ENDPOINTS] or [0])
            first_dm = min([t for t, ep in ts if ep in DM_ENDPOINTS] or [dur])
            timing.append((dur, pulls_end, first_dm))
        self.assertRc(run(ref.cfg, "db", "verify"), 0)
        ref_people = people_jsonl(ref.cfg)
        ref_msgs = ref.fake.get("/_control/messages")
        ref_per = collections.Counter((m["platform"], m["to"]) for m in ref_msgs)
        self.assertEqual(max(ref_per.values()), 1)
        self.assertGreater(len(ref_msgs), 50, "the scenario sends few prompts")

        # ---- the same scenario, killed at random moments ----
        kill = self.new_env("kill")
        per_step = [self.kills // self.steps + (1 if i < self.kills % self.steps else 0)
                    for i in range(self.steps)]
        phases = collections.Counter()
        seen_accounts, seen_emails = set(), set()
        kills = runs = 0
        for step in range(self.steps):
            self.prepare_step(kill, sc, step)
            dur, pulls_end, first_dm = timing[step]
            done = 0
            while done < per_step[step]:
                # a third of the moments in the pulls, a third around the commits, a
                # third in the sending (the sending window shrinks as prompts go out)
                which = self.rng.randrange(3)
                if which == 0:
                    at = self.rng.uniform(0.01, max(pulls_end, 0.05))
                elif which == 1:
                    at = self.rng.uniform(max(pulls_end - 0.05, 0.01), first_dm + 0.05)
                else:
                    at = self.rng.uniform(first_dm, max(dur, first_dm + 0.05))
                p = subprocess.Popen([BIN, "-c", kill.cfg, "reconcile"], env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                time.sleep(at)
                runs += 1
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
                    p.wait()
                    p.stdout.close()
                    p.stderr.close()
                    kills += 1
                    done += 1
                    phases["pull" if at < pulls_end else "apply" if at < first_dm
                           else "send"] += 1
                else:
                    out, err = p.communicate()
                    self.assertIn(p.returncode, (0,), (out, err))
                self.check_invariants(kill, seen_accounts, seen_emails, kills)
            # the step ends with a run that is not interrupted
            r = run(kill.cfg, "reconcile")
            runs += 1
            self.assertEqual(r.rc, 0, r)
            self.assertNotIn("left for the next run", r.out)
            self.check_invariants(kill, seen_accounts, seen_emails, kills)

        # ---- the same end ----
        msgs = kill.fake.get("/_control/messages")
        per = collections.Counter((m["platform"], m["to"]) for m in msgs)
        self.assertEqual({k: v for k, v in per.items() if v > 1}, {}, "sent twice")
        self.assertEqual(set(per), set(ref_per), "a queued prompt was lost or misdirected")
        got = stable(people_jsonl(kill.cfg))
        want = stable(ref_people)
        self.assertEqual(len(got), len(want))
        for g, w in zip(got, want):
            self.assertEqual(g, w)
        for p in people_jsonl(kill.cfg):
            self.assertEqual(p["prompt_count"], sum(per[(a["platform"], a["user_id"])]
                                                    for a in p["accounts"]), p["email"])
        self.assertGreaterEqual(kills, self.kills)
        for ph in ("pull", "apply", "send"):
            self.assertGreater(phases[ph], 0, f"no kill landed in the {ph} phase: {phases}")
        print(f"\ncrash: {kills} kills ({phases['pull']} while pulling, {phases['apply']} "
              f"around commits, {phases['send']} while sending) over {runs} runs of "
              f"{self.steps} steps, {len(self.org['truth'])} people, {len(msgs)} prompts "
              f"delivered once each; {time.time() - t0:.0f} s", file=sys.stderr)

    @staticmethod
    def iso(ts):
        import datetime
        return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()

    def check_invariants(self, env, seen_accounts, seen_emails, kills):
        v = run(env.cfg, "db", "verify")
        if v.rc != 0 and not seen_accounts and ("no database here" in v.err or
                                                "not a peoplesync database" in v.err):
            return          # killed before the database was first set up: nothing to check
        self.assertEqual(v.rc, 0, f"after {kills} kills: {v!r}")
        try:
            people = people_jsonl(env.cfg)
        except AssertionError:
            people = None
            # before the first commit there is no database yet
            if seen_accounts:
                raise
        if people is not None:
            accounts = {(a["platform"], a["user_id"]) for p in people for a in p["accounts"]}
            emails = {p["email"] for p in people}
            self.assertEqual(seen_accounts - accounts, set(), f"accounts lost after {kills} kills")
            self.assertEqual(seen_emails - emails, set(), f"people lost after {kills} kills")
            seen_accounts |= accounts
            seen_emails |= emails
        msgs = env.fake.get("/_control/messages")
        per = collections.Counter((m["platform"], m["to"]) for m in msgs)
        self.assertEqual({k: n for k, n in per.items() if n > 1}, {},
                         f"a prompt went out twice after {kills} kills")
