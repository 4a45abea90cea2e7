// The benchmark runner: `npm run bench [-- --filter GROUP] [--json FILE] [--time S]`.
//
// Loads every bench/cases/*.ts (each exports `cases`, and optionally
// `targets` and `checks`; see types.ts), runs each group's cases side by side
// in one benchmark.js suite, prints ops/s and the ratio to the group's
// baseline, then the targets (ratios between cases of this run) and the
// checks (heap growth, GC count, ...). `--json FILE` writes the same figures
// with the machine they were measured on. Each suite runs `--rounds` times
// (3 by default) and each case keeps its best round, so a burst of load from
// other processes on a shared machine costs a round, not the figure.

import Benchmark from "benchmark";
import { readdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { pathToFileURL, fileURLToPath } from "node:url";
import type { BenchCase, BenchCheck, BenchTarget } from "./types.js";

interface Options {
  filters: string[];
  json?: string;
  /** Seconds benchmark.js spends measuring each case. */
  time: number;
  /** Times each group's suite runs; each case keeps its best round. */
  rounds: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { filters: [], time: 1, rounds: 3 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${a} needs a value`);
      return v;
    };
    if (a === "--filter") o.filters.push(value());
    else if (a === "--json") o.json = value();
    else if (a === "--time") o.time = Number(value());
    else if (a === "--rounds") o.rounds = Number(value());
    else if (a === "--help" || a === "-h") {
      console.log("usage: npm run bench -- [--filter GROUP]... [--json FILE] [--time SECONDS] [--rounds N]");
      process.exit(0);
    } else throw new Error(`bench: unknown argument ${a}`);
  }
  if (!(o.time > 0)) throw new Error("bench: --time must be a positive number of seconds");
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error("bench: --rounds must be a positive integer");
  return o;
}

/** One case's figures. */
interface Result {
  group: string;
  name: string;
  baseline: boolean;
  opsPerSec: number;
  /** Relative margin of error, percent. */
  rme: number;
  samples: number;
  /** ops/s over the baseline's ops/s. */
  ratio: number | null;
}

async function load(): Promise<{ cases: BenchCase[]; targets: BenchTarget[]; checks: BenchCheck[] }> {
  const dir = fileURLToPath(new URL("./cases/", import.meta.url));
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")).sort();
  const all = { cases: [] as BenchCase[], targets: [] as BenchTarget[], checks: [] as BenchCheck[] };
  for (const f of files) {
    const mod = (await import(pathToFileURL(dir + f).href)) as Partial<typeof all>;
    if (!Array.isArray(mod.cases)) throw new Error(`bench: cases/${f} exports no \`cases\` array`);
    all.cases.push(...mod.cases);
    all.targets.push(...(mod.targets ?? []));
    all.checks.push(...(mod.checks ?? []));
  }
  return all;
}

const matches = (filters: string[], group: string): boolean =>
  filters.length === 0 || filters.some((f) => group.toLowerCase().includes(f.toLowerCase()));

function fmtOps(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)} k`;
  return n.toFixed(2);
}

/**
 * Wraps a case's fn in a function of its own. benchmark.js cannot decompile
 * a closure, so it calls the function it is given once per iteration; a
 * wrapper made by one closure literal would share V8's feedback across cases
 * and keep every fn from being inlined, while a peer whose fn names only
 * globals would be decompiled and run inline. A fresh function per case puts
 * every case on the same footing: one monomorphic call per iteration.
 */
function wrap(c: BenchCase): () => void {
  return new Function("c", "return function benchCase() { c.fn(); };")(c) as () => void;
}

/** Runs one round of a group as one suite; returns ops/s, rme and samples in case order. */
function runSuite(group: string, cases: BenchCase[], time: number): { hz: number; rme: number; samples: number }[] {
  const suite = new Benchmark.Suite(group);
  // Each case's setup runs right before it is measured and its teardown right
  // after, so cases of one group that share module state (one pool variable,
  // opened and closed per case) never see each other's.
  for (const c of cases) {
    suite.add(c.name, wrap(c), {
      maxTime: time, minSamples: 5,
      onStart: () => c.setup?.(),
      onComplete: () => c.teardown?.(),
    });
  }
  const out: { hz: number; rme: number; samples: number }[] = [];
  suite.on("cycle", (ev: Benchmark.Event) => {
    const b = ev.target as unknown as Benchmark & { error?: Error };
    if (b.error) throw b.error;
    out.push({ hz: b.hz ?? 0, rme: b.stats?.rme ?? 0, samples: b.stats?.sample.length ?? 0 });
  });
  suite.run({ async: false });
  return out;
}

/**
 * Runs a group `rounds` times; each case keeps its best round (on a shared
 * machine the least disturbed one). Returns its results in case order.
 */
function runGroup(group: string, cases: BenchCase[], time: number, rounds: number): Result[] {
  const base = cases.filter((c) => c.baseline);
  if (base.length > 1) throw new Error(`bench: group "${group}" names ${base.length} baselines`);
  const best = cases.map(() => ({ hz: 0, rme: 0, samples: 0 }));
  for (let r = 0; r < rounds; r++) {
    const round = runSuite(group, cases, time);
    round.forEach((x, i) => { if (x.hz > best[i].hz) best[i] = x; });
  }
  const results: Result[] = cases.map((c, i) => ({
    group, name: c.name, baseline: !!c.baseline,
    opsPerSec: best[i].hz * (c.opsPerCall ?? 1), rme: best[i].rme, samples: best[i].samples, ratio: null,
  }));
  const b = results.find((r) => r.baseline);
  for (const r of results) r.ratio = b ? r.opsPerSec / b.opsPerSec : null;
  return results;
}

function printGroup(group: string, results: Result[]): void {
  console.log(`\n${group}`);
  const w = Math.max(...results.map((r) => r.name.length));
  for (const r of results) {
    const ratio = r.ratio === null ? "" : r.baseline ? "  1.00x (baseline)" : `  ${r.ratio.toFixed(2)}x`;
    console.log(`  ${r.name.padEnd(w)}  ${fmtOps(r.opsPerSec).padStart(9)} ops/s  ±${r.rme.toFixed(1).padStart(4)}%${ratio}`);
  }
}

function machine() {
  const cpu = cpus()[0];
  return {
    nproc: availableParallelism(),
    cpu: cpu?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const { cases, targets, checks } = await load();
  const groups = new Map<string, BenchCase[]>();
  for (const c of cases) {
    if (!matches(opts.filters, c.group)) continue;
    let g = groups.get(c.group);
    if (!g) groups.set(c.group, (g = []));
    g.push(c);
  }
  const m = machine();
  console.log(`mbufpool benchmarks: node ${m.node}, ${m.nproc} CPUs (${m.cpu}), ${m.platform}; best of ${opts.rounds} rounds`);
  const results: Result[] = [];
  for (const [group, list] of groups) {
    const r = runGroup(group, list, opts.time, opts.rounds);
    printGroup(group, r);
    results.push(...r);
  }

  const targetResults = [];
  const find = (ref: { group: string; name: string }) => results.find((r) => r.group === ref.group && r.name === ref.name);
  for (const t of targets) {
    const a = find(t.case), b = find(t.versus);
    if (!a || !b) continue;
    const ratio = a.opsPerSec / b.opsPerSec;
    targetResults.push({ name: t.name, ratio, atLeast: t.atLeast, met: ratio >= t.atLeast });
  }
  if (targetResults.length) {
    console.log("\ntargets");
    for (const t of targetResults) {
      console.log(`  ${t.met ? "met    " : "MISSED "} ${t.ratio.toFixed(2)}x (>= ${t.atLeast}x)  ${t.name}`);
    }
  }

  const checkResults = [];
  const runChecks = checks.filter((c) => matches(opts.filters, c.group));
  if (runChecks.length) console.log("\nchecks");
  for (const c of runChecks) {
    const r = await c.run();
    checkResults.push({ group: c.group, name: c.name, ...r });
    const figs = Object.entries(r.figures).map(([k, v]) => `${k} ${v}`).join(", ");
    console.log(`  ${r.ok ? "ok     " : "FAILED "} ${c.group}: ${c.name}: ${figs}  (expected: ${r.expected})`);
  }

  if (opts.json) {
    const run = { time: opts.time, rounds: opts.rounds, filters: opts.filters };
    writeFileSync(opts.json, `${JSON.stringify({ machine: m, run, results, targets: targetResults, checks: checkResults }, null, 2)}\n`);
    console.log(`\nwrote ${opts.json}`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
