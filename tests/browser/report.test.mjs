// The HTML report of `peoplesync export --format html` in headless Chromium.
//
//   node tests/browser/report.test.mjs [--platform teams] [--platforms slack,teams,webex]
//                                      [--people 150] [--seed 5]
//
// Standalone: builds its own database (fixture.mjs: genorg.py org, the loopback fake, one
// reconcile with build/test/peoplesync), gives some Slack people hostile names (markup,
// script, formula, quotes, new lines, right-to-left text), exports the report and checks
// in the browser that:
//   - the page works with no network at all and nothing from a name runs or breaks out;
//   - filtered to "status off, primary platform P" (--platform, default teams) the table
//     lists exactly the people `peoplesync people --status off --platform P` lists;
//   - sorting by a column header, the text search and Clear work;
//   - off / pending / on are drawn red / amber / green.
// Saves tests/artifacts/report.png. Exit 0 when every check passed.
import fs from "node:fs";
import path from "node:path";
import { launch, shot } from "./lib.mjs";
import { makeOrg } from "./fixture.mjs";

// Throws rather than exits, so the fake server is stopped and the directory removed.
function check(cond, msg) {
  if (!cond) throw new Error(msg);
  console.log("ok: " + msg);
}

function arg(name, dflt) {
  const i = process.argv.indexOf("--" + name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const platforms = arg("platforms", "slack,teams,webex").split(",");
const platform = arg("platform", platforms.includes("teams") ? "teams" : platforms[0]);
const HOSTILE = [
  "</script><script>window.pwned=1</script>",
  "<img src=x onerror=\"window.pwned=2\">",
  "=HYPERLINK(\"http://evil.example\",\"x\")",
  "a \"quoted\", name & <b>bold</b>",
  "two\nlines",
  "مرحبا بالعالم",
  "\u202etxt.exe",
];

// All rows the virtualised table shows for the current filter, by scrolling through it.
async function tableEmails(page) {
  return page.evaluate(async () => {
    const sc = document.getElementById("scroller");
    const seen = new Set();
    const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
    sc.scrollTop = 0;
    await frame();
    for (;;) {
      for (const tr of document.querySelectorAll("#rows tr[data-email]"))
        seen.add(tr.getAttribute("data-email"));
      if (sc.scrollTop + sc.clientHeight >= sc.scrollHeight - 1) break;
      sc.scrollTop += Math.max(50, sc.clientHeight - 80);
      await frame();
      await frame();
    }
    sc.scrollTop = 0;
    await frame();
    return [...seen];
  });
}

async function visibleColumn(page, cls) {
  return page.$$eval(`#rows tr[data-email] td.${cls}`, (tds) => tds.map((t) => t.textContent));
}

const org = await makeOrg({ people: Number(arg("people", 150)), seed: Number(arg("seed", 5)),
                            platforms });
let browser;
let failed = false;
try {
  // Hostile names on people whose only account is on Slack (their name is that account's).
  const slackOnly = org.org.truth.filter((t) => t.active && t.accounts.length === 1 &&
    t.accounts[0].platform === "slack" && t.accounts[0].active);
  check(slackOnly.length >= HOSTILE.length, `${slackOnly.length} Slack-only people to rename`);
  for (let i = 0; i < HOSTILE.length; i++) {
    const r = await org.control({ op: "mutate", platform: "slack",
      user_id: slackOnly[i].accounts[0].user_id,
      set: { real_name: HOSTILE[i], "profile.real_name": HOSTILE[i] } });
    check(r.ok, "renamed " + slackOnly[i].email);
  }
  // Some people prompted (status pending), on the filtered platform and on another.
  const before = org.ps("people", "--format", "jsonl").out.split("\n").filter(Boolean)
    .map((l) => JSON.parse(l)).filter((p) => p.status === "off" && p.email);
  const prompted = [
    ...before.filter((p) => p.primary_platform === platform).slice(0, 5),
    ...before.filter((p) => p.primary_platform !== platform && p.primary_platform).slice(0, 5),
  ].map((p) => p.email);
  let r = org.ps("prompt", ...prompted);
  check(r.rc === 0, `prompted ${prompted.length} people: ` + r.err);
  r = org.ps("reconcile");
  check(r.rc === 0, "second reconcile sends the prompts: " + r.err);
  const html = path.join(org.dir, "report.html");
  r = org.ps("export", "--format", "html", "-o", html);
  check(r.rc === 0, "export --format html: " + r.err);
  const jsonl = (...a) => {
    const x = org.ps("people", "--format", "jsonl", ...a);
    if (x.rc !== 0) throw new Error("people failed: " + x.err);
    return x.out.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  };
  const everyone = jsonl();
  const want = jsonl("--status", "off", "--platform", platform).map((p) => p.email).sort();
  check(want.length > 0, `the CLI lists ${want.length} people with status off on ${platform}`);
  check(everyone.some((p) => p.status === "pending" && p.primary_platform === platform),
        `some people on ${platform} are pending`);

  browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [], network = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("request", (q) => { if (!q.url().startsWith("file:")) network.push(q.url()); });
  page.on("dialog", (d) => { errors.push("dialog: " + d.message()); d.dismiss(); });
  const t0 = Date.now();
  await page.goto("file://" + html);
  await page.waitForSelector("body[data-ready='1']", { timeout: 30000 });
  console.log(`report of ${everyone.length} people ready in ${Date.now() - t0} ms`);

  check(errors.length === 0, "no script errors: " + errors.join("; "));
  check(network.length === 0, "no network requests: " + network.join(" "));
  check(await page.evaluate(() => window.pwned === undefined), "no name ran as script");
  check(await page.evaluate(() => document.querySelectorAll("script").length) === 2,
        "exactly the page's two script elements");
  check(await page.evaluate(() => document.querySelectorAll("img").length) === 0,
        "no element from a name");
  const all = await tableEmails(page);
  check(all.length === everyone.length &&
        JSON.stringify(all.sort()) === JSON.stringify(everyone.map((p) => p.email).sort()),
        `unfiltered table = people (${all.length})`);

  // The filter of the brief: status off on the platform.
  await page.selectOption("#f-status", "off");
  await page.selectOption("#f-platform", platform);
  const got = (await tableEmails(page)).sort();
  check(JSON.stringify(got) === JSON.stringify(want),
        `status off on ${platform}: the table lists exactly the CLI's ${want.length} people` +
        (JSON.stringify(got) === JSON.stringify(want) ? "" :
         ` (got ${got.length}: missing ${want.filter((e) => !got.includes(e)).join(",")};` +
         ` extra ${got.filter((e) => !want.includes(e)).join(",")})`));
  const count = await page.textContent("#count");
  check(count.startsWith(`${want.length.toLocaleString("en-US")} of `), "count says " + count);
  // Every status the CLI knows for that platform, not only off.
  for (const st of ["on", "pending"]) {
    await page.selectOption("#f-status", st);
    const w = jsonl("--status", st, "--platform", platform).map((p) => p.email).sort();
    const g = (await tableEmails(page)).sort();
    check(JSON.stringify(g) === JSON.stringify(w), `status ${st} on ${platform}: ${w.length} rows`);
  }
  await page.selectOption("#f-status", "off");

  // Sorting: click Email, ascending then descending.
  const coll = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });
  await page.click("th[data-k=email] button");
  let emails = await visibleColumn(page, "email");
  check(emails.length > 1 && emails.every((e, i) => i === 0 || coll.compare(emails[i - 1], e) <= 0),
        "email header sorts ascending");
  check(await page.getAttribute("th[data-k=email]", "aria-sort") === "ascending", "aria-sort set");
  await page.click("th[data-k=email] button");
  emails = await visibleColumn(page, "email");
  check(emails.every((e, i) => i === 0 || coll.compare(emails[i - 1], e) >= 0),
        "second click sorts descending");
  check(emails[0] === [...want].sort(coll.compare).pop(), "descending starts with the last address");

  // Search, and the hostile names shown as text.
  await page.click("#reset");
  await page.fill("#f-q", "script");
  await page.waitForFunction(() => document.body.getAttribute("data-shown") === "1");
  const name = await page.textContent("#rows tr[data-email] td.name");
  check(name === HOSTILE[0], "the script-like name is shown as text: " + name);
  await page.fill("#f-q", "quoted");
  await page.waitForFunction(() => document.body.getAttribute("data-shown") === "1");
  check(await page.textContent("#rows tr[data-email] td.name") === HOSTILE[3],
        "quotes, ampersand and markup shown as typed");
  await page.fill("#f-q", "");
  await page.click("#reset");
  await page.waitForFunction((n) => document.body.getAttribute("data-shown") === String(n),
                             everyone.length);
  check(true, "Clear shows everyone again");

  // Colours: off red, pending amber, on green.
  const colours = await page.evaluate(() => {
    const out = {};
    for (const st of ["off", "pending", "on"]) {
      const s = document.createElement("span");
      s.className = "pill st-" + st;
      document.body.appendChild(s);
      out[st] = getComputedStyle(s, "::before").backgroundColor;
      s.remove();
    }
    return out;
  });
  const rgb = (c) => c.match(/\d+/g).map(Number);
  const [ro, go, bo] = rgb(colours.off), [rp, gp, bp] = rgb(colours.pending);
  const [rn, gn, bn] = rgb(colours.on);
  check(ro > 150 && go < 80 && bo < 80, "off is red " + colours.off);
  check(rp > 150 && gp > 120 && bp < 80, "pending is amber " + colours.pending);
  check(gn > 100 && rn < 80 && bn < 100, "on is green " + colours.on);
  const offPill = await page.$eval("#rows .pill.st-off", (e) => e.textContent).catch(() => null);
  check(offPill === "Off", "off people carry an Off pill");

  // The summary chart: an inline SVG with a bar per primary platform.
  const bars = await page.$$eval("figure.chart svg text", (t) => t.map((x) => x.textContent));
  check(bars.includes("All people") && bars.includes("Slack"), "chart labels " + bars.slice(0, 6));
  await page.click("th[data-k=name] button");  // back to the default order for the picture
  const file = await shot(page, "report");
  check(fs.statSync(file).size > 10000, "screenshot " + file);
  check(errors.length === 0, "still no script errors: " + errors.join("; "));
} catch (e) {
  console.error("FAIL: " + (e.stack || e));
  failed = true;
} finally {
  if (browser) await browser.close();
  org.stop();
}
process.exit(failed ? 1 : 0);
