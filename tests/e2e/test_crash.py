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
import threading
import time

from tests.e2e.harness import BIN, E2E, Fake, make_config, people_jsonl, run

SOAK = bool(os.environ.get("PEOPLESYNC_SOAK"))
PLATFORMS = ("slack", "teams", "webex")
DM_ENDPOINTS = {"conversations.open", "chat.postMessage", "conversations.history", "chats",
                "chats.messages", "chats.messages.list", "me", "messages", "messages.direct"}
LOOKUPS = {"conversations.history", "chats.messages.list", "messages.direct"}
VOLATILE = ("last_prompted_at", "synced_at")      # differ between two runs by nature


def tune_config(path, page):
    """Small pages everywhere and rates far above what the fake's latency allows, so that
    a run is bound by round trips, not by token buckets."""
    with open(path) as f:
        text = f.read()
    text = text.replace(f"page_limit = {page};", f"page_limit = {page}; rate = {{ open = {{ "
                        "per_second = 500.0; burst = 10; }; post = { per_second = 500.0; "
                        "burst = 10; }; };")
    text = text.replace('client_secret_file = "graph.secret";',
                        f'client_secret_file = "graph.secret"; page_size = {page}; rate = {{ '
                        'chat = { per_second = 500.0; burst = 10; }; post = { per_second = '
                        '500.0; burst = 10; }; };')
    text = text.replace('token_file = "webex.token";', 'token_file = "webex.token"; '
                        f'page_max = {page}; rate = {{ post = {{ per_second = 500.0; burst = '
                        '10; }; };')
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
        # the ones removed a step ago come back first: every roster user is live again
        ops = [{"op": "restore", "platform": o["platform"], "user_id": o["user_id"]}
               for o in self.ops(step - 1) if o["op"] == "remove"]
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
        if step == 3:
            ops.append({"op": "expire_delta_tokens"})    # Teams: a full resync
        return ops

    def prompt_args(self, step):
        """The prompt command queued before step's reconcile (bulk: everyone still off,
        the newcomers of the step among them), or None."""
        return ("prompt", "--all") if step >= 1 else None


class Watched:
    """A reconcile run whose debug lines are read as they come: "<platform>: pulled in"
    (its pull is over, its apply starts) and "<platform>: applied in"."""

    def __init__(self, cfg, env):
        self.t0 = time.monotonic()
        self.p = subprocess.Popen([BIN, "-v", "-c", cfg, "reconcile"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.p.stderr:
            self.lines.append((time.monotonic() - self.t0, raw.decode("utf-8", "replace")))

    def count(self, what):
        return sum(1 for _, l in list(self.lines) if what in l)

    def when(self, what, n=1):
        hits = [t for t, l in list(self.lines) if what in l]
        return hits[n - 1] if len(hits) >= n else None

    def wait_until(self, pred, timeout=60):
        """True once pred() holds; False if the run ended first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return True
            if self.p.poll() is not None:
                return pred()
            time.sleep(0.001)
        raise AssertionError("a run hung")

    def kill(self):
        """SIGKILL unless it has already ended; True if it was killed."""
        alive = self.p.poll() is None
        if alive:
            self.p.send_signal(signal.SIGKILL)
        self.p.wait()
        self.reader.join(10)
        self.p.stderr.close()
        return alive

    def finish(self):
        self.p.wait()
        self.reader.join(10)
        self.p.stderr.close()
        return self.p.returncode

    def phase(self):
        """Where the run was when it ended: pull, apply (the commits of complete pulls)
        or send (events, auto-sync, prompt planning and sending)."""
        if self.count(": pulled in") == 0:
            return "pull"
        if self.count(": applied in") < len(PLATFORMS):
            return "apply"
        return "send"


class Env:
    """One directory, fake and config for a run of the scenario."""

    def __init__(self, org_path, org, label, latency, page):
        self.dir = tempfile.mkdtemp(prefix=f"ps-crash-{label}-")
        shutil.copy(org_path, os.path.join(self.dir, "org.json"))
        self.fake = Fake(self.dir, os.path.join(self.dir, "org.json"),
                         extra=("--latency", str(latency)))
        self.cfg = make_config(self.dir, self.fake, org, PLATFORMS, page_limit=page)
        tune_config(self.cfg, page)
        self.log_offset = 0

    def dm_requests_since(self, offset):
        """DM requests the fake logged past byte offset of its log, and the new offset."""
        n = 0
        with open(self.fake.log, "rb") as f:
            f.seek(offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        for line in data[:end].splitlines():
            if line.strip() and json.loads(line).get("endpoint") in DM_ENDPOINTS:
                n += 1
        return n, offset + end

    def log_size(self):
        try:
            return os.path.getsize(self.fake.log)
        except OSError:
            return 0

    def close(self):
        self.fake.stop()
        if not os.environ.get("PEOPLESYNC_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)


class CrashInjection(E2E):
    org_args = dict(people=1000 if SOAK else 120, seed=61, platforms=PLATFORMS)
    platforms = PLATFORMS
    page = 25 if SOAK else 10
    page_limit = page
    steps = 7 if SOAK else 4
    kills = int(os.environ.get("PEOPLESYNC_CRASH_KILLS", "1000" if SOAK else "104"))
    latency = 5 if SOAK else 10

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
        e = Env(self.org_path, self.org, label, self.latency, self.page)
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
        timing = []         # per step: seconds to the first "pulled in", apply, whole run
        sent_by_step = []   # prompts delivered by the end of each step
        for step in range(self.steps):
            self.prepare_step(ref, sc, step)
            w = Watched(ref.cfg, self.env)
            rc = w.finish()
            self.assertEqual(rc, 0, "".join(l for _, l in w.lines))
            first_pulled = w.when(": pulled in")
            applied = w.when(": applied in", len(PLATFORMS))
            timing.append((first_pulled, max(applied - first_pulled, 0.002),
                           w.lines[-1][0] if w.lines else applied))
            sent_by_step.append(len(ref.fake.get("/_control/messages")))
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
            to_pull, apply_dur, _ = timing[step]
            done = 0
            while done < per_step[step]:
                unsent = sent_by_step[step] - len(kill.fake.get("/_control/messages"))
                # a random moment of the pulls, of the commits that apply them, or of
                # the sending (while there is something left to send)
                target = self.rng.choice(("pull", "apply", "send") if unsent > 0 else
                                         ("pull", "apply"))
                offset = kill.log_size()
                w = Watched(kill.cfg, self.env)
                runs += 1
                if target == "pull":
                    time.sleep(self.rng.uniform(0.0, to_pull))
                elif target == "apply":
                    if w.wait_until(lambda: w.count(": pulled in") > 0):
                        time.sleep(self.rng.uniform(0.0, apply_dur))
                else:
                    # after the n-th direct-message request of this run, a little later
                    n = self.rng.randint(1, 4)
                    if w.wait_until(lambda: w.count(": applied in") >= len(PLATFORMS)):
                        w.wait_until(lambda: kill.dm_requests_since(offset)[0] >= n)
                        time.sleep(self.rng.uniform(0.0, 2 * self.latency / 1000))
                if w.kill():
                    kills += 1
                    done += 1
                    phases[w.phase()] += 1
                else:
                    self.assertEqual(w.p.returncode, 0, "".join(l for _, l in w.lines))
                self.check_invariants(kill, seen_accounts, seen_emails, kills)
            # the step ends with a run that is not interrupted
            r = run(kill.cfg, "reconcile")
            runs += 1
            self.assertEqual(r.rc, 0, r)
            self.assertNotIn("left for the next run", r.out)
            self.check_invariants(kill, seen_accounts, seen_emails, kills)
            self.assertEqual(len(kill.fake.get("/_control/messages")), sent_by_step[step])

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
        # prompts left "sending" by a kill were looked up in the DM history, not resent
        lookups = sum(1 for q in kill.fake.requests() if q["endpoint"] in LOOKUPS)
        self.assertGreater(lookups, 0, "no kill left a prompt in doubt")
        print(f"\ncrash: {kills} kills ({phases['pull']} while pulling, {phases['apply']} "
              f"while applying, {phases['send']} while sending) over {runs} runs of "
              f"{self.steps} steps, {len(self.org['truth'])} people, {len(msgs)} prompts "
              f"delivered once each, {lookups} in-doubt look-ups; {time.time() - t0:.0f} s",
              file=sys.stderr)

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
