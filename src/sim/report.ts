// Scenario results as text (the terminal) and as one self-contained HTML page
// (no CDN: uPlot's script and style are inlined): a summary table first (each
// variant's verdict and the figure that decides it), then a chart per variant.

import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { ScenarioResult, VariantResult } from "./types.js";
import { FLAG_REFUSALS, type Series } from "./recorder.js";

/**
 * The verdict of a variant in words. A variant that is there to show the seed's failure
 * (expect "fails") and failed that way is a correct outcome, and says so.
 */
export function verdictWords(v: VariantResult): string {
  if (!v.ok) return `UNEXPECTED: it was expected to ${v.expect === "fails" ? "fail as the seed's system did" : "hold"}`;
  return v.expect === "fails" ? "as expected: the seed's failure, reproduced" : "as expected: holds";
}

/** The text summary: per scenario and variant, the verdict, key figures and the reports. */
export function textReport(results: readonly ScenarioResult[], options: { reports?: boolean } = {}): string {
  const out: string[] = [];
  for (const r of results) {
    out.push(`=== ${r.name}: ${r.title}`, `    replays ${r.seeds}; seed ${r.seed}; ${r.ok ? "every variant behaved as its system did" : "UNEXPECTED OUTCOME"}`);
    for (const v of r.variants) {
      out.push(`--- ${v.variant}: ${v.outcome} [${verdictWords(v)}]`);
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

/**
 * The figure whose value decides each scenario's verdicts (the one the verdict is computed
 * from, or its nearest measure); a scenario not listed here shows its first figure.
 */
export const DECIDING_FIGURE: Readonly<Record<string, string>> = {
  exhaustion: "requests denied",
  "rtems-deadlock": "longest stall (s)",
  "packet-zone": "wedged in round",
  "aix-tuning": "requests for memory denied",
  "leak-or-reader": "diagnosis",
};

/** The deciding figure of a variant of scenario `scenario`: [name, value], or undefined if it has no figures. */
export function decidingFigure(scenario: string, v: VariantResult): [string, number | string] | undefined {
  const name = DECIDING_FIGURE[scenario];
  if (name !== undefined && Object.hasOwn(v.figures, name)) return [name, v.figures[name]];
  const first = Object.entries(v.figures)[0];
  return first ? [first[0], first[1]] : undefined;
}

/** One series of a chart as the page draws it. */
export interface ChartSeries {
  label: string;
  values: number[];
  /** Drawn against the right-hand axis (running totals) rather than the left (buffers now). */
  right: boolean;
  /** A neutral colour and a dashed line: the mechanism working as designed, not a failure. */
  neutral: boolean;
}

/** A chart: the x values (seconds), the series drawn, and the series left out because they stay at zero. */
export interface Chart {
  t: number[];
  series: ChartSeries[];
  zero: string[];
}

/** Never decreasing and not all zero: a running total (denied, frames lost, KB delivered). */
const cumulative = (xs: readonly number[]): boolean =>
  xs.length > 0 && xs.every((x, i) => i === 0 || x >= xs[i - 1]) && xs[xs.length - 1] > 0;

/** The pool's gauges: always on the left-hand axis (buffers now), even when a wedged run only climbs. */
const GAUGES = new Set(["mbufs in use", "clusters in use", "clusters cached"]);
/** The pool's running totals: always on the right-hand axis. */
const TOTALS = new Set(["denied", "delayed", FLAG_REFUSALS]);

/**
 * What a variant's chart draws. Series that stay at zero are left out (and named under the chart);
 * the reservation flag's refusals are drawn apart, neutral, and taken out of "denied", which
 * counts them (the flag refuses a sender's M_NOWAIT request as denied). A scenario's own
 * running total goes on the right-hand axis when it would flatten the gauges (its peak is
 * more than four times theirs); one of their size stays on the left, where it can be read.
 */
export function chartOf(s: Series): Chart {
  const refused = s[FLAG_REFUSALS];
  const flagged = refused !== undefined && refused.some((x) => x > 0);
  const gaugePeak = Math.max(1, ...Object.entries(s).filter(([k]) => GAUGES.has(k)).flatMap(([, xs]) => xs));
  const series: ChartSeries[] = [];
  const zero: string[] = [];
  for (const [name, raw] of Object.entries(s)) {
    if (name === "t") continue;
    let label = name, values = raw;
    if (flagged && name === "denied") {
      values = raw.map((x, i) => Math.max(0, x - (refused[i] ?? 0)));
      label = "denied (besides the flag's refusals)";
    }
    if (values.every((x) => x === 0)) {
      zero.push(label);
      continue;
    }
    const right = TOTALS.has(name) || (!GAUGES.has(name) && cumulative(values) && Math.max(...values) > 4 * gaugePeak);
    series.push({ label, values, right, neutral: name === FLAG_REFUSALS });
  }
  return { t: s.t, series, zero };
}

const indent = (s: string): string => s.trimEnd().split("\n").map((l) => `      ${l}`).join("\n");
const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
/** A JSON text safe inside a <script> element. */
const scriptJson = (x: unknown): string => JSON.stringify(x).replace(/</g, "\\u003c");

/**
 * uPlot's browser build: the copy the build puts next to this module (dist/sim/vendor/uplot,
 * shipped in the package, so uplot is not a runtime dependency), or the uplot package itself
 * when this module runs from a development checkout's src/.
 */
function uplotAssets(): { js: string; css: string } {
  const vendored = new URL("./vendor/uplot/", import.meta.url);
  const file = (name: string): string => {
    const here = new URL(name, vendored);
    return existsSync(here) ? readFileSync(here, "utf8")
      : readFileSync(createRequire(import.meta.url).resolve(`uplot/dist/${name}`), "utf8");
  };
  return { js: file("uPlot.iife.min.js"), css: file("uPlot.min.css") };
}

/** The summary table: one row per variant, with its verdict and the figure that decides it. */
function summaryTable(results: readonly ScenarioResult[]): string {
  const rows = results.flatMap((r, i) => r.variants.map((v, j) => {
    const fig = decidingFigure(r.name, v);
    const first = j === 0 ? `<td rowspan="${r.variants.length}"><a href="#s${i}">${esc(r.name)}</a></td>` : "";
    return `<tr class="${v.ok ? "ok" : "bad"}" data-scenario="${esc(r.name)}" data-variant="${esc(v.variant)}" data-ok="${v.ok}">${first}`
      + `<td><a href="#v${i}_${j}">${esc(v.variant)}</a></td>`
      + `<td class="verdict-cell"><b>${esc(verdictWords(v))}</b><br><span class="outcome">${esc(v.outcome)}</span></td>`
      + `<td class="figure">${fig ? `${esc(fig[0])}: <b>${esc(String(fig[1]))}</b>` : "-"}</td></tr>`;
  })).join("\n");
  return `<table id="summary"><thead><tr><th>incident</th><th>variant</th><th>verdict</th><th>the figure that decides it</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
}

/** One self-contained HTML page with a summary table, then every scenario, variant and chart. */
export function htmlReport(results: readonly ScenarioResult[], title = "mbufpool incident simulator"): string {
  const { js, css } = uplotAssets();
  const charts: ({ id: string } & Chart)[] = [];
  const sections = results.map((r, i) => {
    const vs = r.variants.map((v, j) => {
      const id = `c${i}_${j}`;
      const chart = chartOf(v.series);
      charts.push({ id, ...chart });
      const figs = Object.entries(v.figures).map(([k, x]) => `<tr><th>${esc(k)}</th><td>${esc(String(x))}</td></tr>`).join("");
      const zero = chart.zero.length ? `<p class="zero">At zero throughout (not drawn): ${chart.zero.map(esc).join(", ")}.</p>` : "";
      return `<div class="variant ${v.ok ? "ok" : "bad"}" id="v${i}_${j}">
<h3>${esc(v.variant)} <span class="verdict">${esc(v.outcome)}</span></h3>
<p class="expect">${v.expect === "fails" ? "The seed's system: expected to fail." : "With the fix: expected to hold."} <b>${esc(verdictWords(v))}.</b></p>
<div class="chart" id="${id}"></div>
${zero}
<table>${figs}</table>
<details><summary>netstat -m (worst moment, end)</summary><pre>${esc(v.worst)}</pre><pre>${esc(v.end)}</pre></details>
${v.log.length ? `<details><summary>console</summary><pre>${esc(v.log.join("\n"))}</pre></details>` : ""}
</div>`;
    }).join("\n");
    return `<section id="s${i}"><h2>${esc(r.name)}: ${esc(r.title)}</h2><p>Replays ${esc(r.seeds)}. Seed ${r.seed}.</p>${vs}</section>`;
  }).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>${css}
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
.variant{border-left:4px solid #999;padding:0 1em;margin:1.5em 0}.variant.ok{border-color:#3a3}.variant.bad{border-color:#c33}
.verdict{font-weight:normal;color:#555;font-size:.8em}table{border-collapse:collapse;font-size:.85em}th,td{padding:2px 8px;text-align:left}
#summary{margin:1em 0 2em;width:100%}#summary th{border-bottom:2px solid #999}#summary td{border-bottom:1px solid #ddd;vertical-align:top}
#summary tr.ok .verdict-cell b{color:#262}#summary tr.bad .verdict-cell b{color:#c33}#summary .outcome{color:#555;font-size:.9em}
.zero{color:#777;font-size:.8em;margin:.2em 0}
pre{background:#f6f6f6;padding:.5em;font-size:.8em}.chart{min-height:260px}</style>
<script>${js}</script></head>
<body><h1>${esc(title)}</h1>
${summaryTable(results)}
${sections}
<script>
const CHARTS = ${scriptJson(charts)};
// No grey here: grey is for series that show a mechanism working as designed (the flag's refusals).
const COLORS = ["#1f77b4","#d62728","#2ca02c","#ff7f0e","#9467bd","#8c564b","#e377c2","#17becf"];
const fmt = (x) => x == null ? "-" : Number.isInteger(x) ? String(x) : x.toFixed(1);
for (const c of CHARTS) {
  const data = [c.t, ...c.series.map((s) => s.values)];
  let k = 0;
  const series = [{ label: "at", value: (u, v) => v == null ? "" : v.toFixed(1) + " s" }, ...c.series.map((s) => {
    const last = s.values[s.values.length - 1], peak = Math.max(...s.values);
    return {
      label: s.label + (s.right ? " (right axis)" : ""),
      stroke: s.neutral ? "#999" : COLORS[k++ % COLORS.length],
      dash: s.neutral ? [6, 4] : undefined,
      width: 1.5, scale: s.right ? "total" : "now",
      // Under the cursor the value there; otherwise the value at the end and the peak.
      value: (u, v, si, idx) => idx == null ? (last === peak ? "end " + fmt(last) : "end " + fmt(last) + ", peak " + fmt(peak)) : fmt(v),
    };
  })];
  const right = c.series.some((s) => s.right);
  const axes = [{ label: "simulated seconds" }, { scale: "now", label: "buffers now" },
    ...(right ? [{ scale: "total", side: 1, label: "running totals", size: 80, grid: { show: false } }] : [])];
  new uPlot({ width: 1000, height: 260, series, axes, scales: { x: { time: false }, now: {}, total: {} } }, data, document.getElementById(c.id));
}
document.body.dataset.charts = String(document.querySelectorAll(".uplot").length);
</script></body></html>
`;
}
