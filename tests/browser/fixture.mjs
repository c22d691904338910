// A peoplesync database built the way the end-to-end tests build theirs, for the browser
// tests and benchmarks: a generated org (tests/fakes/genorg.py), the loopback fake
// (tests/fakes/fakeserver.py), a config in a temporary directory and one `reconcile`.
//
//   const org = await makeOrg({ people: 120, seed: 5, platforms: ["slack", "teams", "webex"] });
//   org.ps("people", "--format", "jsonl")   -> { rc, out, err }
//   await org.control({ op: "mutate", ... }) -> the fake's answer
//   org.stop()                               stops the fake, removes the directory
//
// The binary is $PEOPLESYNC_BIN, else build/test/peoplesync (ASan), else ./peoplesync.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./lib.mjs";

const PY = process.env.PYTHON || "/usr/bin/python3";
const FAKES = path.join(ROOT, "tests", "fakes");

export function binary() {
  if (process.env.PEOPLESYNC_BIN) return process.env.PEOPLESYNC_BIN;
  const test = path.join(ROOT, "build", "test", "peoplesync");
  return fs.existsSync(test) ? test : path.join(ROOT, "peoplesync");
}

function secret(file, value) {
  fs.writeFileSync(file, value + "\n", { mode: 0o600 });
}

async function waitFor(cond, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function makeOrg({ people = 120, seed = 5, platforms = ["slack", "teams", "webex"],
                                bin = binary() } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ps-browser-"));
  const orgPath = path.join(dir, "org.json");
  const g = spawnSync(PY, [path.join(FAKES, "genorg.py"), "--people", String(people), "--seed",
    String(seed), "--platforms", platforms.join(","), "-o", orgPath], { encoding: "utf8" });
  if (g.status !== 0) throw new Error("genorg.py failed: " + g.stderr);
  const org = JSON.parse(fs.readFileSync(orgPath, "utf8"));
  const portFile = path.join(dir, "fake.port");
  const errFd = fs.openSync(path.join(dir, "fake.err"), "w");
  const fake = spawn(PY, [path.join(FAKES, "fakeserver.py"), "--org", orgPath, "--port", "0",
    "--port-file", portFile], { stdio: ["ignore", "ignore", errFd] });
  let exited = false;
  fake.on("exit", () => { exited = true; });
  const port = await waitFor(() => {
    if (exited) throw new Error("fake server exited: " +
      fs.readFileSync(path.join(dir, "fake.err"), "utf8"));
    return fs.existsSync(portFile) && fs.readFileSync(portFile, "utf8").trim();
  }, 30000, "the fake server");
  const base = `http://127.0.0.1:${port}`;
  const sec = org.secrets;
  secret(path.join(dir, "slack.token"), sec.slack_bot_token);
  if (sec.graph_client_secret) secret(path.join(dir, "graph.secret"), sec.graph_client_secret);
  if (sec.webex_token) secret(path.join(dir, "webex.token"), sec.webex_token);
  // as tests/e2e/harness.py: a link key (prompts carry Sync now links), the Teams service
  // user's refresh token (Teams DMs), no quiet hours (tests run at any hour)
  secret(path.join(dir, "link.key"), "5f".repeat(32));
  let teamsRefresh = "";
  if (sec.graph_refresh_token) {
    secret(path.join(dir, "graph.refresh"), sec.graph_refresh_token);
    teamsRefresh = 'service_user_refresh_token_file = "graph.refresh";';
  }
  const on = (p) => String(platforms.includes(p));
  const cfg = path.join(dir, "peoplesync.cfg");
  fs.writeFileSync(cfg, `
database = "${dir}/db";
public_url = "http://127.0.0.1:8099";
link_key_file = "link.key";
prompts = { quiet_hours = ""; };
slack = { enabled = ${on("slack")}; api_url = "${base}/slack/api"; bot_token_file = "slack.token"; };
teams = { enabled = ${on("teams")}; graph_url = "${base}/graph/v1.0"; login_url = "${base}/login";
          tenant_id = "${(org.teams || {}).tenant_id || "tenant"}";
          client_id = "${sec.graph_client_id || "x"}"; client_secret_file = "graph.secret";
          ${teamsRefresh} };
webex = { enabled = ${on("webex")}; api_url = "${base}/webex/v1"; token_file = "webex.token"; };
identity = { domain_aliases = ( ("corp.onmicrosoft.com", "corp.com") ); };
http = { retries = 3; backoff_base = 0.05; backoff_max = 0.5; timeout = 30; };
`);
  const ps = (...args) => {
    const r = spawnSync(bin, ["-c", cfg, ...args], {
      encoding: "utf8", maxBuffer: 1 << 30,
      env: { ...process.env, PEOPLESYNC_NO_TTY: "1",
             ASAN_OPTIONS: process.env.ASAN_OPTIONS || "detect_leaks=1:halt_on_error=1" },
    });
    return { rc: r.status, out: r.stdout, err: r.stderr };
  };
  const control = async (op) => {
    const r = await fetch(base + "/_control", { method: "POST", body: JSON.stringify(op),
      headers: { "Content-Type": "application/json" } });
    return r.json();
  };
  const stop = () => {
    if (!exited) fake.kill("SIGTERM");
    fs.closeSync(errFd);
    if (!process.env.PEOPLESYNC_KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true });
    else console.log("kept " + dir);
  };
  const r = ps("reconcile", "--no-prompts");
  if (r.rc !== 0) {
    stop();
    throw new Error(`reconcile failed (${r.rc}): ${r.err}`);
  }
  return { dir, cfg, org, base, ps, control, stop };
}
