// Scenario results as text (the terminal) and as one self-contained HTML page
// (no CDN: uPlot's script and style are inlined) with a chart per variant.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { ScenarioResult } from "./types.js";

/** The text summary: per scenario and variant, the verdict, key figures and the reports. */
export function textReport(results: readonly ScenarioResult[], options: { reports?: boolean } = {}): string {
  const out: string[] = [];
  for (const r of results) {
    out.push(`=== ${r.name}: ${r.title}`, `    replays ${r.seeds}; seed ${r.seed}; ${r.ok ? "every variant behaved as its system did" : "UNEXPECTED OUTCOME"}`);
    for (const v of r.variants) {
      const verdict = v.ok ? (v.expect === "fails" ? "fails, as the seed's system did" : "holds") : "UNEXPECTED";
      out.push(`--- ${v.variant}: ${v.outcome} [${verdict}]`);
      out.push("    " + Object.entries(v.figures).map(([k, x]) => `${k}: ${x}`).join(", "));
      if (v.log.length) {
        out.push("    console:");
        for (const l of v.log.slice(0, 6)) out.push(`      ${l}`);
        if (v.log.length > 6) out.push(`      ... (${v.log.length - 6} more lines)`);
      }
      if (options.reports !== false) {
        out.push("    netstat -m at the worst moment:", indent(v.worst), "    netstat -m at the end:", indent(v.end));
      }
    }
    out.push("");
  }
  return out.join("\n");
}

const indent = (s: string): string => s.trimEnd().split("\n").map((l) => `      ${l}`).join("\n");
const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** uPlot's files, read from the installed package. */
function uplotAssets(): { js: string; css: string } {
  const require = createRequire(import.meta.url);
  const js = readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8");
  const css = readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8");
  return { js, css };
}

/** One self-contained HTML page with every scenario, variant and chart. */
export function htmlReport(results: readonly ScenarioResult[], title = "mbufpool incident simulator"): string {
  const { js, css } = uplotAssets();
  const charts: { id: string; series: Record<string, number[]> }[] = [];
  const sections = results.map((r, i) => {
    const vs = r.variants.map((v, j) => {
      const id = `c${i}_${j}`;
      charts.push({ id, series: v.series });
      const figs = Object.entries(v.figures).map(([k, x]) => `<tr><th>${esc(k)}</th><td>${esc(String(x))}</td></tr>`).join("");
      return `<div class="variant ${v.ok ? "ok" : "bad"}">
<h3>${esc(v.variant)} <span class="verdict">${esc(v.outcome)}</span></h3>
<p class="expect">${v.expect === "fails" ? "The seed's system: expected to fail." : "With the fix: expected to hold."} ${v.ok ? "As expected." : "NOT as expected."}</p>
<div class="chart" id="${id}"></div>
<table>${figs}</table>
<details><summary>netstat -m (worst moment, end)</summary><pre>${esc(v.worst)}</pre><pre>${esc(v.end)}</pre></details>
${v.log.length ? `<details><summary>console</summary><pre>${esc(v.log.join("\n"))}</pre></details>` : ""}
</div>`;
    }).join("\n");
    return `<section><h2>${esc(r.name)}: ${esc(r.title)}</h2><p>Replays ${esc(r.seeds)}. Seed ${r.seed}.</p>${vs}</section>`;
  }).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>${css}
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
.variant{border-left:4px solid #999;padding:0 1em;margin:1.5em 0}.variant.ok{border-color:#3a3}.variant.bad{border-color:#c33}
.verdict{font-weight:normal;color:#555;font-size:.8em}table{border-collapse:collapse;font-size:.85em}th,td{padding:2px 8px;text-align:left}
pre{background:#f6f6f6;padding:.5em;font-size:.8em}.chart{min-height:260px}</style>
<script>${js}</script></head>
<body><h1>${esc(title)}</h1>
${sections}
<script>
const CHARTS = ${JSON.stringify(charts)};
const COLORS = ["#1f77b4","#d62728","#2ca02c","#ff7f0e","#9467bd","#8c564b","#e377c2","#7f7f7f"];
// Cumulative series (never decreasing: denied, frames lost, KB delivered) use the right-hand axis.
const cumulative = (xs) => xs.every((x, i) => i === 0 || x >= xs[i - 1]) && xs[xs.length - 1] > 0;
for (const c of CHARTS) {
  const names = Object.keys(c.series).filter((k) => k !== "t");
  const data = [c.series.t, ...names.map((n) => c.series[n])];
  const series = [{ label: "s" }, ...names.map((n, i) => ({
    label: n, stroke: COLORS[i % COLORS.length], width: 1.5, scale: cumulative(c.series[n]) ? "total" : "now",
  }))];
  const axes = [{ label: "simulated seconds" }, { scale: "now", label: "buffers now" }, { scale: "total", side: 1, label: "running totals", size: 80, grid: { show: false } }];
  new uPlot({ width: 1000, height: 260, series, axes, scales: { x: { time: false }, now: {}, total: {} } }, data, document.getElementById(c.id));
}
document.body.dataset.charts = String(document.querySelectorAll(".uplot").length);
</script></body></html>
`;
}
