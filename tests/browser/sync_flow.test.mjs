// Sync now in headless Chromium: the signed link, Connect on each platform through the fake's
// authorize pages, the primary-team choice and the confirmation page.
//
//   node tests/browser/sync_flow.test.mjs
//
// Standalone: sets up its own database in a temporary directory — a three-platform org
// (tests/fakes/genorg.py), the loopback fake with its OAuth providers (fakeserver.py), a
// config with link and token keys and each platform's OAuth client, one reconcile — then
// runs `peoplesync serve` (build/test/peoplesync, ASan) on a free loopback port. One person
// opens their link on a phone-sized screen, connects Slack, Microsoft Teams and Webex by
// clicking their own account on each authorize page, chooses a primary team and confirms;
// `people --format jsonl` must then show them on, with that primary team, chosen. The spent
// link is refused afterwards. Screenshots of every page: tests/artifacts/sync-now-*.png.
// Exit 0 when every check passed.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { launch, shot } from "./lib.mjs";
import { PLATFORMS, pickPerson, setUpServe, startServe, tearDown, runMain } from "./serve_fixture.mjs";

const TITLES = { slack: "Slack", teams: "Microsoft Teams", webex: "Webex" };
const PRIMARY = "teams";

// Throws rather than exits, so that the servers are stopped and the directory removed.
function check(cond, msg) {
  if (!cond) throw new Error(msg);
  console.log("ok: " + msg);
}

// The person's Sync now link, as a person gets it: an admin prompts them, a reconcile sends
// the prompt, and the link is read from the direct message the fake Slack received.
async function syncLink(env, person) {
  let r = env.ps("prompt", person.email);
  if (r.rc !== 0 || !r.out.includes("queued")) throw new Error("prompt failed: " + r.out + r.err);
  r = env.ps("reconcile");
  if (r.rc !== 0) throw new Error("reconcile failed: " + r.out + r.err);
  const slack = person.accounts.find((a) => a.platform === "slack");
  const msgs = await (await fetch(`${env.fakeBase}/_control/messages?platform=slack&to=${slack.user_id}`)).json();
  if (msgs.length !== 1) throw new Error(`expected one prompt in Slack, got ${msgs.length}`);
  // Slack mrkdwn link: <URL|*Sync now*>
  const m = /<(http[^|>]+\/s\/[A-Za-z0-9_-]+)\|/.exec(msgs[0].text);
  if (!m) throw new Error("no Sync now link in the prompt: " + msgs[0].text);
  return m[1];
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ps-syncnow-"));
  let env = null, serve = null, browser = null;
  try {
    env = await setUpServe(dir);
    serve = await startServe(env, dir);
    const person = pickPerson(env.org);
    check(person, "the org has someone on all three platforms");
    const acct = Object.fromEntries(person.accounts.map((a) => [a.platform, a]));
    const link = await syncLink(env, person);
    check(link.startsWith(serve.base + "/s/"), "the link points at serve: " +
      link.replace(/\/s\/.*/, "/s/<token>"));

    browser = await launch();
    const context = await browser.newContext({ viewport: { width: 390, height: 780 },
      deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    const jsErrors = [];
    page.on("pageerror", (e) => jsErrors.push(String(e)));

    // 1. the link: landing page
    let resp = await page.goto(link);
    check(resp.status() === 200 && page.url() === serve.base + "/sync",
      "the link lands on /sync (200), the token gone from the address bar");
    const cookies = await context.cookies(serve.base);
    const sc = cookies.find((c) => c.name === "ps_session");
    check(sc && sc.httpOnly && sc.sameSite === "Lax", "session cookie: HttpOnly, SameSite=Lax");
    let text = await page.innerText("body");
    check(text.includes("What happens next"), "the landing page says what happens next");
    for (const p of PLATFORMS)
      check(await page.isVisible(`#connect-${p}`), `a Connect ${TITLES[p]} step`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    check(width <= 390, `fits a phone screen (${width}px wide)`);
    await shot(page, "sync-now-1-landing");

    // 2. connect each platform through its authorize page
    let n = 2;
    for (const p of PLATFORMS) {
      await Promise.all([page.waitForURL((u) => u.href.startsWith(env.fakeBase)),
        page.click(`#connect-${p}`)]);
      check(page.url().includes(p === "slack" ? "/slack/oauth/v2/authorize" :
        p === "teams" ? "/oauth2/v2.0/authorize" : "/webex/v1/authorize"),
      `Connect ${TITLES[p]} opens the ${TITLES[p]} authorize page`);
      if (p === "teams") {
        const u = new URL(page.url());
        check(u.searchParams.get("code_challenge_method") === "S256" &&
          /^[A-Za-z0-9_-]{43}$/.test(u.searchParams.get("code_challenge")),
        "Microsoft sign-in uses PKCE S256");
      }
      await shot(page, `sync-now-${n++}-${p}-authorize`);
      const mine = `button[name="user"][value="${acct[p].user_id}"]`;
      check(await page.isVisible(mine), `the authorize page lists the person's ${p} account`);
      await Promise.all([page.waitForURL(serve.base + "/sync"), page.click(mine)]);
      text = await page.innerText("body");
      check(!(await page.isVisible(`#connect-${p}`)), `${TITLES[p]} connected`);
      await shot(page, `sync-now-${n++}-${p}-connected`);
    }

    // 3. choose the primary team
    check(text.includes("Choose your primary team"), "every account connected: choose a team");
    const radio = `input[name="team"][value="${PRIMARY}:${acct[PRIMARY].team_id}"]`;
    check(await page.isVisible(radio), "the Microsoft Teams tenant is one of the choices");
    const choices = await page.$$eval('input[name="team"]', (els) => els.map((e) => e.value));
    check(choices.length === 3, "three teams to choose from: " + choices.join(", "));
    await page.check(radio);
    await shot(page, `sync-now-${n++}-choose-primary`);
    await Promise.all([page.waitForURL(serve.base + "/done"), page.click("#confirm")]);

    // 4. the confirmation page
    text = await page.innerText("body");
    check(text.includes("You're synced"), "the confirmation page says so");
    check(text.includes("Microsoft Teams — Corp Teams"), "it names the primary team");
    check(text.includes("What happens next"), "and what happens next");
    await shot(page, `sync-now-${n++}-confirmation`);

    // 5. the database agrees
    const r = env.ps("people", "--all", "--format", "jsonl");
    check(r.rc === 0, "people --format jsonl runs");
    const me = r.out.split("\n").filter(Boolean).map((l) => JSON.parse(l))
      .find((p) => p.email === person.email);
    check(me && me.status === "on", `${person.email} is on`);
    check(me.primary_platform === PRIMARY && me.primary_team.id === acct[PRIMARY].team_id &&
      me.primary_team.name === "Corp Teams", "with Microsoft Teams / Corp Teams as primary");
    check(me.primary_source === "chosen" && me.sync_type === "bot",
      "primary_source chosen, sync_type bot");

    // 6. the spent link is refused, in a fresh browser
    const other = await browser.newContext({ viewport: { width: 390, height: 780 },
      deviceScaleFactor: 2, isMobile: true });
    const p2 = await other.newPage();
    resp = await p2.goto(link);
    check(resp.status() === 409, "the used link answers 409");
    await shot(p2, `sync-now-${n++}-link-used`);
    await other.close();
    check(jsErrors.length === 0, "no script errors (pages have no scripts)");

    const log = serve.log();
    check(!log.includes(link.split("/s/")[1]), "the link's token is not in serve's log");
    const code = await serve.stop();
    serve = null;
    check(code === 0, "serve stops cleanly on SIGTERM");
    console.log("screenshots: tests/artifacts/sync-now-*.png");
  } finally {
    await tearDown({ browser, serve, env, dir });
  }
}

runMain(main);
