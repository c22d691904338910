// Shared helpers of the browser tests: Debian's Chromium driven by playwright-core.
// Each test is a standalone script (node tests/browser/NAME.test.mjs ...) that exits 0 on
// success and prints what it checked; screenshots go to tests/artifacts/.
import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const ARTIFACTS = path.join(ROOT, "tests", "artifacts");

export async function launch() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  // playwright gives each launch a fresh temporary profile (it refuses --user-data-dir here)
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update",
           "--disable-sync"],
  });
  return browser;
}

export async function shot(page, name) {
  const file = path.join(ARTIFACTS, name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export function check(cond, msg) {
  if (!cond) {
    console.error("FAIL: " + msg);
    process.exit(1);
  }
  console.log("ok: " + msg);
}
