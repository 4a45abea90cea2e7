// The simulator's HTML report renders with its charts in a real browser
// (Debian's chromium, driven by playwright-core). Without a browser the
// rendering test is skipped with a line saying how to run it; CI installs
// Chromium and sets MBUFPOOL_REQUIRE_BROWSER=1, which turns the skip into a
// failure.
import { describe, it, expect } from "vitest";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { htmlReport } from "../src/sim/report.js";
import type { ScenarioResult } from "../src/sim/types.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const HAVE_BROWSER = existsSync(CHROMIUM);
const REQUIRE_BROWSER = process.env.MBUFPOOL_REQUIRE_BROWSER === "1";
if (!HAVE_BROWSER && !REQUIRE_BROWSER) {
  console.log(`skipped: the HTML report's browser test needs Chromium at ${CHROMIUM} `
    + "(apt-get install chromium, or set CHROMIUM_PATH); MBUFPOOL_REQUIRE_BROWSER=1 makes its absence a failure");
}

const result = (name: string): ScenarioResult => ({
  name, title: "a test scenario", seeds: "seed 000", seed: 1, ok: true,
  variants: ["broken", "fixed"].map((v, i) => ({
    variant: v, expect: i ? "holds" : "fails", outcome: v, failed: !i, ok: true,
    figures: { denied: i ? 0 : 12 }, log: ["All mbuf clusters exhausted, please see tuning(7)."],
    worst: "1/2/3 mbufs in use (current/peak/max):\n", end: "0/2/3 mbufs in use (current/peak/max):\n",
    series: { t: [0, 1, 2, 3], "clusters in use": [0, 5, 9, i ? 2 : 9], denied: [0, 0, i ? 0 : 4, i ? 0 : 12] },
  })),
});

describe("the HTML report", () => {
  it("is self-contained: nothing is fetched, so it works offline", () => {
    expect(htmlReport([result("one"), result("two")])).not.toMatch(/<script[^>]+src=/);
  });

  it.skipIf(!HAVE_BROWSER && !REQUIRE_BROWSER)("draws one chart per variant in headless Chromium", async () => {
    const html = htmlReport([result("one"), result("two")]);
    expect(HAVE_BROWSER, `Chromium not found at ${CHROMIUM} (install Debian's chromium or set CHROMIUM_PATH)`).toBe(true);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.setContent(html, { waitUntil: "load" });
      await page.waitForFunction(() => document.body.dataset.charts !== undefined);
      expect(errors).toEqual([]);
      expect(await page.evaluate(() => document.body.dataset.charts)).toBe("4");
      expect(await page.locator("canvas").count()).toBeGreaterThanOrEqual(4);
      const shot = await page.screenshot({ fullPage: true });
      expect(shot.length).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });
});
