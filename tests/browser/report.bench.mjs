// Benchmark of the HTML report at scale (not part of `make test`):
//
//   node tests/browser/report.bench.mjs [--people 50000] [--seed 9] [--html FILE]
//
// Without --html: generates an org of --people humans on Slack, Teams and Webex, reconciles
// it with the optimised ./peoplesync (PEOPLESYNC_BIN to change) against the loopback fake and
// exports the report. Then opens it in headless Chromium and prints:
//   first contentful paint, the moment the table is ready and painted (from navigation),
//   applying a filter (status off + a platform), a text search, sorting by name and by
//   email, and a jump to the middle of the list, each as the time inside the page and as
//   seen from outside until the next frame.
import fs from "node:fs";
import path from "node:path";
import { launch, ROOT } from "./lib.mjs";
import { makeOrg } from "./fixture.mjs";

function arg(name, dflt) {
  const i = process.argv.indexOf("--" + name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const ms = (x) => `${x.toFixed(0)} ms`;
let html = arg("html", null);
let org = null;
try {
  if (!html) {
    const people = Number(arg("people", 50000));
    const t0 = Date.now();
    org = await makeOrg({ people, seed: Number(arg("seed", 9)),
                          bin: process.env.PEOPLESYNC_BIN || path.join(ROOT, "peoplesync") });
    console.log(`org of ${people} humans generated and reconciled in ${Date.now() - t0} ms`);
    html = path.join(org.dir, "report.html");
    const t1 = Date.now();
    const r = org.ps("-q", "export", "--all", "--format", "html", "-o", html);
    if (r.rc !== 0) throw new Error("export failed: " + r.err);
    console.log(`export --format html: ${Date.now() - t1} ms`);
  }
  console.log(`report: ${(fs.statSync(html).size / 1e6).toFixed(1)} MB`);

  const browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto("file://" + html, { waitUntil: "load", timeout: 120000 });
  await page.waitForSelector("body[data-ready='1']", { timeout: 120000 });
  await page.waitForFunction(() => window.psReport.stats.paintedAt > 0);
  const load = await page.evaluate(() => {
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    const s = window.psReport.stats;
    return { rows: s.rows, fcp: fcp ? fcp.startTime : NaN, script: s.scriptMs,
             ready: s.readyAt, painted: s.paintedAt };
  });
  console.log(`rows: ${load.rows}`);
  console.log(`first contentful paint (header, summary chart): ${ms(load.fcp)}`);
  console.log(`table ready: ${ms(load.ready)} from navigation (script ${ms(load.script)}: ` +
              `parse data, sort by name, first rows); painted ${ms(load.painted)}`);

  // One interaction: in-page time of the filter pass, and until the next frame is drawn.
  const step = async (label, fn) => {
    const t0 = Date.now();
    const inPage = await page.evaluate(fn);
    const wall = Date.now() - t0;
    const shown = await page.evaluate(() => document.body.getAttribute("data-shown"));
    console.log(`${label}: ${ms(inPage.apply)} to filter and draw, ${ms(inPage.frame)} to ` +
                `next frame (${wall} ms round trip) -> ${shown} rows`);
    return inPage;
  };
  const change = (id, value) => `(async () => {
      const el = document.getElementById(${JSON.stringify(id)});
      const t = performance.now();
      el.value = ${JSON.stringify(value)};
      el.dispatchEvent(new Event(el.tagName === "INPUT" ? "input" : "change"));
      const apply = performance.now() - t;
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      return { apply, frame: performance.now() - t };
    })()`;
  const click = (k) => `(async () => {
      const t = performance.now();
      document.querySelector("th[data-k=${k}] button").click();
      const apply = performance.now() - t;
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      return { apply, frame: performance.now() - t };
    })()`;
  await step("filter status off", change("f-status", "off"));
  await step("filter + primary platform teams", change("f-platform", "teams"));
  await step("clear platform", change("f-platform", ""));
  // the search waits 120 ms for more keys on big lists; time the pass itself
  await page.evaluate(() => { document.getElementById("f-q").value = "zo"; });
  const tq = Date.now();
  await page.dispatchEvent("#f-q", "input");
  await page.waitForFunction(() => window.psReport.stats.applyMs > 0 &&
    document.getElementById("count").textContent.includes(" of "));
  const q = await page.evaluate(() => window.psReport.stats.applyMs);
  console.log(`search "zo": ${ms(q)} to filter and draw (first search builds the index; ` +
              `${Date.now() - tq} ms round trip incl. 120 ms typing pause)`);
  await page.evaluate(() => { document.getElementById("f-q").value = ""; });
  await step("clear search", change("f-status", ""));
  await step("sort by email (first time: collate 50k)", click("email"));
  await step("sort by email descending", click("email"));
  await step("sort by name (cached)", click("name"));
  const jump = await page.evaluate(async () => {
    const sc = document.getElementById("scroller");
    const t = performance.now();
    sc.scrollTop = sc.scrollHeight / 2;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return { ms: performance.now() - t, rows: document.querySelectorAll("#rows tr").length };
  });
  console.log(`jump to the middle: ${ms(jump.ms)} to two frames, ${jump.rows} rows in the DOM`);
  if (errors.length) console.log("page errors: " + errors.join("; "));
  await browser.close();
} finally {
  if (org) org.stop();
}
