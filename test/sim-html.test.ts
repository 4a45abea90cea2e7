// The simulator's HTML report renders with its charts in a real browser
// (Debian's chromium, driven by playwright-core). Without a browser the
// rendering test is skipped with a line saying how to run it; CI installs
// Chromium and sets MBUFPOOL_REQUIRE_BROWSER=1, which turns the skip into a
// failure.
import { describe, it, expect } from "vitest";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { htmlReport, textReport, chartOf } from "../src/sim/report.js";
import { FLAG_REFUSALS } from "../src/sim/recorder.js";
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
    series: { t: [0, 1, 2, 3], "clusters in use": [0, 5, 9, i ? 2 : 9], denied: [0, 0, i ? 0 : 400, i ? 0 : 1200], delayed: [0, 0, 0, 0] },
  })),
});

/** The summary table's rows, parsed from the page without a browser. */
function summaryRows(html: string): { scenario: string; variant: string; ok: string; cells: string[] }[] {
  const table = /<table id="summary">([\s\S]*?)<\/table>/.exec(html);
  expect(table, "a summary table").not.toBeNull();
  const text = (s: string): string => s.replace(/<br>/g, " ").replace(/<[^>]+>/g, "").replace(/&#39;|&quot;/g, (e) => (e === "&quot;" ? '"' : "'")).replace(/&amp;/g, "&").trim();
  return [...table![1].matchAll(/<tr class="\w+" data-scenario="([^"]*)" data-variant="([^"]*)" data-ok="(\w+)">([\s\S]*?)<\/tr>/g)]
    .map((m) => ({ scenario: m[1], variant: m[2], ok: m[3], cells: [...m[4].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => text(c[1])) }));
}

describe("the HTML report", () => {
  it("is self-contained: nothing is fetched, so it works offline", () => {
    expect(htmlReport([result("one"), result("two")])).not.toMatch(/<script[^>]+src=/);
  });

  it("opens with a summary table: incident, variant, verdict and the figure that decides it", () => {
    const html = htmlReport([result("exhaustion"), result("two")]);
    expect(html.indexOf('<table id="summary">')).toBeLessThan(html.indexOf("<section"));
    expect(html).toMatch(/<th>incident<\/th><th>variant<\/th><th>verdict<\/th><th>the figure that decides it<\/th>/);
    const rows = summaryRows(html);
    expect(rows.map((r) => `${r.scenario}/${r.variant}/${r.ok}`)).toEqual(["exhaustion/broken/true", "exhaustion/fixed/true", "two/broken/true", "two/fixed/true"]);
    // The incident's cell spans its variants; the verdict says a reproduced failure is the expected outcome.
    expect(rows[0].cells).toEqual(["exhaustion", "broken", "as expected: the seed's failure, reproduced broken", "denied: 12"]);
    expect(rows[1].cells).toEqual(["fixed", "as expected: holds fixed", "denied: 0"]);
    const bad = result("three");
    bad.variants[1] = { ...bad.variants[1], ok: false };
    expect(summaryRows(htmlReport([bad]))[1]).toMatchObject({ ok: "false", cells: ["fixed", "UNEXPECTED: it was expected to hold fixed", "denied: 0"] });
  });

  it("names a reproduced failure as the expected outcome in the text too, never a bare [fails]", () => {
    const text = textReport([result("one")]);
    expect(text).toContain("--- broken: broken [as expected: the seed's failure, reproduced]");
    expect(text).toContain("--- fixed: fixed [as expected: holds]");
    expect(text).not.toMatch(/\[fails/);
  });

  it("leaves series at zero out of the chart, puts running totals on the right, and draws the flag's refusals apart", () => {
    const c = chartOf({ t: [0, 1, 2], "mbufs in use": [5, 9, 4], "clusters in use": [0, 0, 0], denied: [0, 30, 50], [FLAG_REFUSALS]: [0, 20, 40] });
    expect(c.zero).toEqual(["clusters in use"]);
    expect(c.series).toEqual([
      { label: "mbufs in use", values: [5, 9, 4], right: false, neutral: false },
      { label: "denied (besides the flag's refusals)", values: [0, 10, 10], right: true, neutral: false },
      { label: FLAG_REFUSALS, values: [0, 20, 40], right: true, neutral: true },
    ]);
    // A wedged run's gauges only climb: they stay on the left all the same.
    expect(chartOf({ t: [0, 1], "mbufs in use": [1, 60], "frames lost": [0, 9000] }).series.map((s) => s.right)).toEqual([false, true]);
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
      // Legends: the values (at the end and the peak, with no cursor), the right axis marked,
      // and no entry for a series that stays at zero ("delayed", and "denied" of the fixed variant).
      const legends = await page.evaluate(() => [...document.querySelectorAll(".u-legend")].map((l) =>
        [...l.querySelectorAll(".u-series")].slice(1).map((s) => `${s.querySelector(".u-label")!.textContent}: ${s.querySelector(".u-value")!.textContent}`)));
      expect(legends).toEqual([
        ["clusters in use: end 9", "denied (right axis): end 1200"],
        ["clusters in use: end 2, peak 9"],
        ["clusters in use: end 9", "denied (right axis): end 1200"],
        ["clusters in use: end 2, peak 9"],
      ]);
      const shot = await page.screenshot({ fullPage: true });
      expect(shot.length).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });
});
