// What the browser tests of `peoplesync serve` share: a three-platform org
// (tests/fakes/genorg.py), the loopback fake with its OAuth providers (fakeserver.py), a
// config with link and token keys, each platform's OAuth client and the Teams service user
// (prompts go out on every platform), one reconcile; and `serve` on a free loopback port.
//
//   const env = await setUpServe(dir, { extra: 'admin = { emails = ["a@corp.com"]; };' });
//   const serve = await startServe(env, dir);      serve.base, serve.log(), await serve.stop()
//   env.ps("people", "--format", "jsonl")           -> { rc, out, err }
//   env.stopFake()
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { ROOT } from "./lib.mjs";

const PY = process.env.PYTHON || "/usr/bin/python3";
const FAKES = path.join(ROOT, "tests", "fakes");
export const BIN = process.env.PEOPLESYNC_BIN || path.join(ROOT, "build", "test", "peoplesync");
export const PLATFORMS = ["slack", "teams", "webex"];

export const ENV = { ...process.env, PEOPLESYNC_NO_TTY: "1",
  ASAN_OPTIONS: process.env.ASAN_OPTIONS || "detect_leaks=1:halt_on_error=1" };

function secret(file, value) {
  fs.writeFileSync(file, value + "\n", { mode: 0o600 });
}

export async function waitFor(cond, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// The fake on a free port: { fake, fakeBase, errFd, exited() }.
async function startFake(dir, orgPath) {
  const portFile = path.join(dir, "fake.port");
  const errFd = fs.openSync(path.join(dir, "fake.err"), "w");
  const fake = spawn(PY, [path.join(FAKES, "fakeserver.py"), "--org", orgPath, "--port", "0",
    "--port-file", portFile, "--log", path.join(dir, "requests.jsonl")],
  { stdio: ["ignore", "ignore", errFd] });
  let exited = false;
  fake.on("exit", () => { exited = true; });
  const fport = await waitFor(() => {
    if (exited) throw new Error("fake exited: " + fs.readFileSync(path.join(dir, "fake.err")));
    return fs.existsSync(portFile) && fs.readFileSync(portFile, "utf8").trim();
  }, 30000, "the fake server");
  return { fake, fakeBase: `http://127.0.0.1:${fport}`, errFd, exited: () => exited };
}

// The org, the fake, the config (extra: more of it) and the database.
export async function setUpServe(dir, { people = 40, seed = 5, extra = "" } = {}) {
  const orgPath = path.join(dir, "org.json");
  const g = spawnSync(PY, [path.join(FAKES, "genorg.py"), "--people", String(people),
    "--seed", String(seed), "--platforms", PLATFORMS.join(","), "-o", orgPath],
  { encoding: "utf8" });
  if (g.status !== 0) throw new Error("genorg.py failed: " + g.stderr);
  const org = JSON.parse(fs.readFileSync(orgPath, "utf8"));
  const f = await startFake(dir, orgPath);
  const fakeBase = f.fakeBase;
  const clients = (await (await fetch(fakeBase + "/_control/oauth")).json()).clients;
  const sec = org.secrets;
  secret(path.join(dir, "slack.token"), sec.slack_bot_token);
  secret(path.join(dir, "graph.secret"), sec.graph_client_secret);
  secret(path.join(dir, "webex.token"), sec.webex_token);
  secret(path.join(dir, "slack.oauth"), clients.slack.client_secret);
  secret(path.join(dir, "webex.oauth"), clients.webex.client_secret);
  secret(path.join(dir, "link.key"), Buffer.from(crypto.getRandomValues(new Uint8Array(32)))
    .toString("hex"));
  secret(path.join(dir, "token.key"), Buffer.from(crypto.getRandomValues(new Uint8Array(32)))
    .toString("hex"));
  let teamsRefresh = "";
  if (sec.graph_refresh_token) {
    secret(path.join(dir, "graph.refresh"), sec.graph_refresh_token);
    teamsRefresh = 'service_user_refresh_token_file = "graph.refresh";';
  }
  const sport = await freePort();
  const cfg = path.join(dir, "peoplesync.cfg");
  fs.writeFileSync(cfg, `
database = "${dir}/db";
public_url = "http://127.0.0.1:${sport}";
link_key_file = "link.key";
token_key_file = "token.key";
serve = { listen = "127.0.0.1:${sport}"; };
slack = { enabled = true; api_url = "${fakeBase}/slack/api"; bot_token_file = "slack.token";
          oauth = { authorize_url = "${fakeBase}/slack/oauth/v2/authorize";
                    client_id = "${clients.slack.client_id}"; client_secret_file = "slack.oauth"; }; };
teams = { enabled = true; graph_url = "${fakeBase}/graph/v1.0"; login_url = "${fakeBase}/login";
          tenant_id = "${org.teams.tenant_id}"; tenant_name = "Corp Teams";
          client_id = "${sec.graph_client_id}"; client_secret_file = "graph.secret";
          ${teamsRefresh} };
webex = { enabled = true; api_url = "${fakeBase}/webex/v1"; token_file = "webex.token";
          org_name = "Corp Webex";
          oauth = { client_id = "${clients.webex.client_id}"; client_secret_file = "webex.oauth"; }; };
identity = { domain_aliases = ( ("corp.onmicrosoft.com", "corp.com") ); };
prompts = { quiet_hours = ""; };
http = { retries = 3; backoff_base = 0.05; backoff_max = 0.5; timeout = 30; };
${extra}
`);
  const ps = (...args) => {
    const r = spawnSync(BIN, ["-c", cfg, ...args], { encoding: "utf8", env: ENV,
      maxBuffer: 1 << 28 });
    return { rc: r.status, out: r.stdout, err: r.stderr };
  };
  const stopFake = () => {
    if (!f.exited()) f.fake.kill("SIGTERM");
    fs.closeSync(f.errFd);
  };
  const r = ps("reconcile", "--no-prompts");
  if (r.rc !== 0) {
    stopFake();
    throw new Error(`reconcile failed (${r.rc}): ${r.err}`);
  }
  return { org, cfg, ps, fakeBase, sport, stopFake };
}

// `peoplesync serve` on the config's port; resolves once /healthz answers.
export async function startServe(env, dir) {
  const logPath = path.join(dir, "serve.log");
  const logFd = fs.openSync(logPath, "w");
  const proc = spawn(BIN, ["-c", env.cfg, "serve"], { stdio: ["ignore", "ignore", logFd],
    env: ENV });
  let code = null;
  proc.on("exit", (c, sig) => { code = c === null ? sig : c; });
  const base = `http://127.0.0.1:${env.sport}`;
  await waitFor(async () => {
    if (code !== null) throw new Error("serve exited: " + fs.readFileSync(logPath, "utf8"));
    try {
      return (await fetch(base + "/healthz")).ok;
    } catch {
      return false;
    }
  }, 30000, "peoplesync serve");
  const stop = async () => {
    if (code === null) {
      proc.kill("SIGTERM");
      await waitFor(() => code !== null, 20000, "serve to stop");
    }
    fs.closeSync(logFd);
    return code;
  };
  return { base, stop, log: () => fs.readFileSync(logPath, "utf8") };
}

// Someone with an active, non-guest account on every platform (the i-th such).
export function pickPerson(org, i = 0) {
  return org.truth.filter((t) => t.active && !t.guest && t.accounts.length === 3 &&
    t.accounts.every((a) => a.active && !a.guest))[i];
}

// The end of every browser test: close what it opened (in this order), keep the
// temporary directory only when PEOPLESYNC_KEEP_TMP asks for it.
export async function tearDown({ browser, serve, env, dir }) {
  if (browser) await browser.close();
  if (serve) await serve.stop();
  if (env) env.stopFake();
  if (!process.env.PEOPLESYNC_KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true });
  else console.log("kept " + dir);
}

// Runs a test's main, a failure printed with its stack and exit status 1.
export function runMain(main) {
  main().catch((e) => {
    console.error("FAIL: " + (e && e.stack ? e.stack : e));
    process.exit(1);
  });
}
