// The benchmark runner, shared by `mbufpool bench` and the repository's
// `npm run bench`.
//
// Each group's cases run side by side in one benchmark.js suite; the suite
// runs `rounds` times and each case keeps its best round, so a burst of load
// from other processes on a shared machine costs a round, not the figure.
// Results are ops/s and the ratio to the group's baseline; the targets are
// ratios between cases of the same run, never absolute rates; the checks
// measure what is not a rate (GC count, heap growth, metadata share).

import Benchmark from "benchmark";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { availableParallelism, cpus, totalmem } from "node:os";
import type { BenchCase, BenchSuite, SkippedCase } from "./types.js";

/** How a run is made. */
export interface BenchOptions {
  /** Groups whose name contains one of these words (case-insensitive); all groups if empty. */
  filters: readonly string[];
  /** Seconds benchmark.js measures each case. */
  time: number;
  /** Times each group's suite runs; each case keeps its best round. */
  rounds: number;
  /** Where the human-readable lines go (nothing is printed without it). */
  print?: (line: string) => void;
}

/** One case's figures. */
export interface BenchResult {
  group: string;
  name: string;
  baseline: boolean;
  opsPerSec: number;
  /** Relative margin of error, percent. */
  rme: number;
  samples: number;
  /** ops/s over the baseline's ops/s; null in a group without a baseline. */
  ratio: number | null;
}

/** Everything a run measured, with the machine it ran on (what `--json` writes). */
export interface BenchReport {
  machine: ReturnType<typeof machine>;
  run: { time: number; rounds: number; filters: string[] };
  results: BenchResult[];
  targets: { name: string; ratio: number; atLeast: number; met: boolean }[];
  checks: { group: string; name: string; figures: Record<string, number>; ok: boolean; expected: string }[];
  skipped: SkippedCase[];
}

const matches = (filters: readonly string[], group: string): boolean =>
  filters.length === 0 || filters.some((f) => group.toLowerCase().includes(f.toLowerCase()));

/** ops/s with an SI prefix. */
export function fmtOps(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)} k`;
  return n.toFixed(2);
}

/**
 * Makes `gc()` callable for the garbage checks when Node was started without
 * --expose-gc: the flag set at run time applies to contexts created after it.
 */
function exposeGc(): void {
  const g = globalThis as { gc?: () => void };
  if (typeof g.gc === "function") return;
  v8.setFlagsFromString("--expose-gc");
  g.gc = runInNewContext("gc") as () => void;
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

/** Runs a group `rounds` times; each case keeps its best round. Results in case order. */
function runGroup(group: string, cases: BenchCase[], time: number, rounds: number): BenchResult[] {
  const base = cases.filter((c) => c.baseline);
  if (base.length > 1) throw new Error(`bench: group "${group}" names ${base.length} baselines`);
  const best = cases.map(() => ({ hz: 0, rme: 0, samples: 0 }));
  for (let r = 0; r < rounds; r++) {
    runSuite(group, cases, time).forEach((x, i) => { if (x.hz > best[i].hz) best[i] = x; });
  }
  const results: BenchResult[] = cases.map((c, i) => ({
    group, name: c.name, baseline: !!c.baseline,
    opsPerSec: best[i].hz * (c.opsPerCall ?? 1), rme: best[i].rme, samples: best[i].samples, ratio: null,
  }));
  const b = results.find((r) => r.baseline);
  for (const r of results) r.ratio = b ? r.opsPerSec / b.opsPerSec : null;
  return results;
}

function groupLines(group: string, results: BenchResult[]): string[] {
  const w = Math.max(...results.map((r) => r.name.length));
  return [`\n${group}`, ...results.map((r) => {
    const ratio = r.ratio === null ? "" : r.baseline ? "  1.00x (baseline)" : `  ${r.ratio.toFixed(2)}x`;
    return `  ${r.name.padEnd(w)}  ${fmtOps(r.opsPerSec).padStart(9)} ops/s  ±${r.rme.toFixed(1).padStart(4)}%${ratio}`;
  })];
}

/** The machine a run measured. */
export function machine() {
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

/** The groups of `suites`, in order: those of the cases, then those of the checks. */
export function groupsOf(suites: readonly BenchSuite[]): string[] {
  return [...new Set(suites.flatMap((s) => [...s.cases, ...(s.skipped ?? [])].map((c) => c.group))
    .concat(suites.flatMap((s) => (s.checks ?? []).map((c) => c.group))))];
}

/** Runs the groups of `suites` that match the filters, then their targets and checks. */
export async function runBench(suites: readonly BenchSuite[], o: BenchOptions): Promise<BenchReport> {
  const print = o.print ?? ((): void => undefined);
  const groups = new Map<string, BenchCase[]>();
  for (const c of suites.flatMap((s) => s.cases)) {
    if (!matches(o.filters, c.group)) continue;
    let g = groups.get(c.group);
    if (!g) groups.set(c.group, (g = []));
    g.push(c);
  }
  const m = machine();
  const skipped = suites.flatMap((s) => s.skipped ?? []).filter((s) => matches(o.filters, s.group));
  print(`mbufpool benchmarks: node ${m.node}, ${m.nproc} CPUs (${m.cpu}), ${m.platform}; best of ${o.rounds} rounds`);
  for (const s of skipped) print(`skipped: ${s.group}: ${s.name} (needs ${s.needs})`);
  const results: BenchResult[] = [];
  for (const [group, list] of groups) {
    const r = runGroup(group, list, o.time, o.rounds);
    groupLines(group, r).forEach((l) => print(l));
    results.push(...r);
  }

  const targets: BenchReport["targets"] = [];
  const find = (ref: { group: string; name: string }) => results.find((r) => r.group === ref.group && r.name === ref.name);
  for (const t of suites.flatMap((s) => s.targets ?? [])) {
    const a = find(t.case), b = find(t.versus);
    if (!a || !b) continue;
    const ratio = a.opsPerSec / b.opsPerSec;
    targets.push({ name: t.name, ratio, atLeast: t.atLeast, met: ratio >= t.atLeast });
  }
  if (targets.length) print("\ntargets");
  for (const t of targets) print(`  ${t.met ? "met    " : "MISSED "} ${t.ratio.toFixed(2)}x (>= ${t.atLeast}x)  ${t.name}`);

  const checks: BenchReport["checks"] = [];
  const toRun = suites.flatMap((s) => s.checks ?? []).filter((c) => matches(o.filters, c.group));
  if (toRun.length) {
    exposeGc();
    print("\nchecks");
  }
  for (const c of toRun) {
    const r = await c.run();
    checks.push({ group: c.group, name: c.name, ...r });
    const figs = Object.entries(r.figures).map(([k, v]) => `${k} ${v}`).join(", ");
    print(`  ${r.ok ? "ok     " : "FAILED "} ${c.group}: ${c.name}: ${figs}  (expected: ${r.expected})`);
  }
  return { machine: m, run: { time: o.time, rounds: o.rounds, filters: [...o.filters] }, results, targets, checks, skipped };
}
