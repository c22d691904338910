// The admin console in headless Chromium: an admin signs in through the fake Microsoft
// sign-in page, filters the People page to "off on Teams" and sees exactly the rows of
// `people --status off --platform teams`, opens a person and prompts them, previews and
// confirms a bulk prompt for the filter, flips auto-prompt and downloads the CSV; the next
// `reconcile` then sends exactly those prompts. axe-core checks every console page (no
// serious or critical violation). Screenshots: build/artifacts/console/*.png.
//
//   node tests/browser/admin_console.test.mjs
//
// Exit 0 when every check passed.
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { launch, ROOT } from "./lib.mjs";
import { pickPerson, setUpServe, startServe, tearDown, runMain } from "./serve_fixture.mjs";

const SHOTS = path.join(ROOT, "build", "artifacts", "console");
const AXE = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"),
  "utf8");

// Throws rather than exits, so that the servers are stopped and the directory removed.
function check(cond, msg) {
  if (!cond) throw new Error(msg);
  console.log("ok: " + msg);
}

let shots = 0;
const axeSeen = [];

// A screenshot, and axe-core on the page: no serious or critical violation.
async function look(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${String(++shots).padStart(2, "0")}-${name}.png`),
    fullPage: true });
  await page.evaluate(AXE);
  const res = await page.evaluate(() => globalThis.axe.run(document,
    { resultTypes: ["violations"] }));
  const bad = res.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  check(bad.length === 0, `axe: no serious or critical violation on ${name}` + (bad.length ?
    ": " + bad.map((v) => `${v.id} (${v.nodes.map((n) => n.target).join(" ")})`).join("; ") :
    ""));
  axeSeen.push(name);
}

function jsonl(out) {
  return out.split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

// The emails in the People table.
async function tableEmails(page) {
  return page.$$eval("#people tbody tr", (rows) => rows.map((r) => r.cells[2].innerText));
}

async function signIn(page, serve, env, admin) {
  await page.goto(serve.base + "/admin");
  check(await page.isVisible("#signin-teams"), "signed out: the sign-in page offers Microsoft");
  await look(page, "signin");
  await Promise.all([page.waitForURL((u) => u.href.startsWith(env.fakeBase)),
    page.click("#signin-teams")]);
  const me = admin.accounts.find((a) => a.platform === "teams");
  await Promise.all([page.waitForURL(serve.base + "/admin"),
    page.click(`button[name="user"][value="${me.user_id}"]`)]);
  check((await page.innerText("header")).includes(admin.email),
    "signed in through Microsoft's sign-in: the header names the admin");
  const c = (await page.context().cookies(serve.base + "/admin")).find((k) => k.name === "ps_admin");
  check(c && c.httpOnly && c.sameSite === "Strict", "admin cookie: HttpOnly, SameSite=Strict");
  await look(page, "people");
}

async function filterOffOnTeams(page, env) {
  await page.selectOption("#f-platform", "teams");
  await page.selectOption("#f-status", "off");
  await Promise.all([page.waitForURL(/platform=teams/), page.click("#apply")]);
  check(page.url().includes("status=off"), "the filters are in the URL");
  const want = jsonl(env.ps("people", "--status", "off", "--platform", "teams",
    "--format", "jsonl").out).map((p) => p.email).sort();
  const table = env.ps("people", "--status", "off", "--platform", "teams").out;
  const got = await tableEmails(page);
  check(got.length === want.length && got.length > 1,
    `the table has the ${want.length} rows of people --status off --platform teams`);
  check([...got].sort().every((e, i) => e === want[i]), "the same people");
  const at = got.map((e) => table.indexOf(e)).filter((i) => i >= 0);
  check(at.length > 1 && at.every((x, i) => i === 0 || x > at[i - 1]),
    "in the order `people` prints them");
  await look(page, "off-on-teams");
  return got;
}

// Opens the first person of the table and prompts them; returns their address.
async function promptOne(page, serve) {
  const first = page.locator("#people tbody tr").first();
  const email = await first.locator("td").nth(2).innerText();
  await Promise.all([page.waitForURL(/\/admin\/person\/\d+$/), first.locator("a").click()]);
  const text = await page.innerText("main");
  check(text.includes("Accounts") && text.includes("Why (explain)") && text.includes("History"),
    "the person's page: accounts, explain, history");
  check(text.includes("Linked by"), "with how each account was linked");
  await look(page, "person");
  await Promise.all([page.waitForURL(serve.base + "/admin/prompt"), page.click("#prompt-now")]);
  const res = await page.innerText("main");
  check(res.includes("1 prompt queued") && res.includes("the next reconcile run sends it"),
    "prompt now: queued, and says when it goes out");
  await look(page, "prompted");
  return email;
}

// Previews and confirms the bulk prompt of the current filters; returns how many.
async function bulk(page, serve, filterUrl) {
  await page.goto(filterUrl);
  await Promise.all([page.waitForURL(/\/admin\/bulk\?/), page.click("#bulk")]);
  const n = Number(await page.innerText("#would strong"));
  const text = await page.innerText("main");
  check(text.includes("not prompted again: a prompt is already queued"),
    "the preview groups who would not be prompted by reason (the person prompted already)");
  await look(page, "bulk-preview");
  await Promise.all([page.waitForURL(serve.base + "/admin/bulk"), page.click("#confirm-bulk")]);
  check((await page.innerText("#queued")).startsWith(`${n} prompt`),
    `the confirmation queued the ${n} the preview announced`);
  await look(page, "bulk-queued");
  return n;
}

async function autoPrompt(page, serve, env) {
  await page.goto(serve.base + "/admin");
  const before = await page.innerText("#auto-state");
  await Promise.all([page.waitForURL(serve.base + "/admin/auto-prompt"),
    page.click("#auto-toggle")]);
  const after = before === "on" ? "off" : "on";
  check((await page.innerText("h1")).includes(`Auto-prompt is ${after}`),
    `auto-prompt flipped ${before} -> ${after}`);
  check(env.ps("auto-prompt", "status").out.includes(after), "auto-prompt status agrees");
  await look(page, "auto-prompt");
  await page.goto(serve.base + "/admin");
  check((await page.innerText("#auto-state")) === after, "the People page shows the state");
}

async function downloadCsv(page, env, filterUrl) {
  await page.goto(filterUrl);
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#export-csv")]);
  const file = await dl.path();
  const csv = fs.readFileSync(file, "utf8");
  const want = env.ps("export", "--format", "csv", "--status", "off", "--platform", "teams").out;
  check(dl.suggestedFilename() === "people.csv", "the download is people.csv");
  check(csv.replace(/\r\n/g, "\n") === want.replace(/\r\n/g, "\n"),
    "the CSV is `export --format csv` with the page's filters");
}

// The team filter names each team as the table does (its stored name), the value staying
// "platform:team id"; choosing a team by that name shows exactly its people.
async function filterByTeamName(page, env, serve) {
  await page.goto(serve.base + "/admin");
  const people = jsonl(env.ps("people", "--format", "jsonl").out);
  const named = people.find((p) => p.primary_team && p.primary_team.name &&
    p.primary_team.name !== p.primary_team.id);
  check(named, "someone's primary team has a name");
  const team = named.primary_team;
  const value = `${team.platform}:${team.id}`;
  const label = await page.locator(`#f-team option[value="${value}"]`).innerText();
  check(label.includes(team.name), `the team filter names ${value} "${team.name}": ${label}`);
  await page.selectOption("#f-team", { label });
  await page.fill("input[name=size]", "500");
  await Promise.all([page.waitForURL(/team=/), page.click("#apply")]);
  const want = people.filter((p) => p.primary_team && p.primary_team.platform === team.platform &&
    p.primary_team.id === team.id).map((p) => p.email).sort();
  const got = (await tableEmails(page)).sort();
  check(got.length === want.length && got.every((e, i) => e === want[i]),
    `choosing "${label}" shows the ${want.length} people of that team`);
  await look(page, "team-filter");
}

async function otherPages(page, serve) {
  for (const [p, name] of [["/admin/conflicts", "conflicts"], ["/admin/audit", "audit"]]) {
    await page.goto(serve.base + p);
    await look(page, name);
  }
  const audit = await page.innerText("#audit");
  check(audit.includes("bulk-prompt") && audit.includes("auto-prompt") &&
    audit.includes("prompt"), "the audit list shows the actions");
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ps-console-"));
  let env = null, serve = null, browser = null;
  try {
    // the admin is named in another case than the directory's
    const org0 = { admin: null };
    env = await setUpServe(dir, { people: 60, seed: 7, extra: "" });
    org0.admin = pickPerson(env.org);
    fs.appendFileSync(env.cfg, `admin = { emails = ["${org0.admin.email.toUpperCase()}"]; };\n`);
    serve = await startServe(env, dir);
    browser = await launch();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 },
      acceptDownloads: true });
    const page = await context.newPage();
    const jsErrors = [];
    page.on("pageerror", (e) => jsErrors.push(String(e)));

    await signIn(page, serve, env, org0.admin);
    const offTeams = await filterOffOnTeams(page, env);
    const filterUrl = page.url();
    const one = await promptOne(page, serve);
    check(offTeams.includes(one), "the person prompted is off on Teams");
    const n = await bulk(page, serve, filterUrl);
    await autoPrompt(page, serve, env);
    await downloadCsv(page, env, filterUrl);
    await otherPages(page, serve);
    await filterByTeamName(page, env, serve);
    check(jsErrors.length === 0, "no script errors");

    // the next reconcile sends exactly those prompts
    await fetch(env.fakeBase + "/_control", { method: "POST",
      body: JSON.stringify({ op: "clear_messages" }) });
    const r = env.ps("reconcile");
    check(r.rc === 0, "reconcile runs");
    const msgs = await (await fetch(env.fakeBase + "/_control/messages")).json();
    check(msgs.length === n + 1, `reconcile sent ${n + 1} prompts: the one and the bulk's ${n}`);
    const people = jsonl(env.ps("people", "--all", "--format", "jsonl").out);
    const prompted = people.filter((p) => p.prompt_count > 0).map((p) => p.email);
    check(prompted.length === n + 1 && prompted.includes(one) &&
      prompted.every((e) => offTeams.includes(e)),
    "exactly the people queued from the console, all of them off on Teams");
    const code = await serve.stop();
    serve = null;
    check(code === 0, "serve stops cleanly");
    console.log(`axe-core checked ${axeSeen.length} pages; screenshots: build/artifacts/console/`);
  } finally {
    await tearDown({ browser, serve, env, dir });
  }
}

runMain(main);
