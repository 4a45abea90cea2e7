// The fuzzer: random operation sequences over the whole public API, run on a
// real pool and on the reference model side by side, with audits at a set
// interval. fast-check draws the sequences from a seed and, on a failure,
// shrinks the sequence to a small one that still fails; the fuzzer writes it
// as a trace whose expectations are the model's, so `mbufpool replay` shows
// the same divergence on the build that failed. The time budget holds while
// shrinking too: the unshrunk trace is written the moment the failure is
// found, and shrinking stops when the budget runs out, with the smallest
// failing case so far written over it.
//
// A case is one fresh pool (a profile with small tunables, so exhaustion,
// reservation and arena limits come often) and up to `caseLength` commands.
// A command is an op name plus a few random integers the op's `gen` turns
// into arguments from the model's state, and sometimes a bad value put in
// one argument; removing commands keeps the rest meaningful, which is what
// makes shrinking work.

import fc from "fast-check";
import { writeFileSync } from "node:fs";
import type { Build } from "../core/module.js";
import type { ProfileName } from "../tunables/profiles.js";
import { Model, packetModelOf } from "./model.js";
import type { PacketZoneOptions } from "../packet-zone.js";
import { OPS, OP_BY_NAME, argError, type Args, type OpSpec } from "./ops/index.js";
import { Run, capture, matches, type PoolFactory, type Result } from "./run.js";
import { TRACE_FORMAT, formatTrace, replay, describeDivergence, type TraceLine, type Divergence, type ReplayResult } from "./trace.js";
import { KINDS, FREED, type BadContext, type Encoded } from "./values.js";

/** Small tunables per profile, by a size from 0 to 3 (3 is the arena-bound shape where it exists). */
export const FUZZ_PROFILES: Readonly<Record<ProfileName, (size: number) => Record<string, number>>> = {
  freebsd: (s) => (s === 3
    ? { "kern.ipc.maxmbufmem": 64 * 1024, "kern.ipc.nmbclusters": 20, "kern.ipc.nmbufs": 160 } // 20 pages wanted, 16 allowed
    : { "kern.ipc.maxmbufmem": 256 * 1024, "kern.ipc.nmbclusters": 4 + 4 * s, "kern.ipc.nmbufs": 24 + 16 * s }),
  freebsd4: (s) => ({ "kern.ipc.nmbclusters": 4 + 4 * s, "kern.ipc.nmbufs": (4 + 4 * s) * (2 + s) }),
  rtems: (s) => ({ mbuf_bytecount: 4096 * (2 + s), mbuf_cluster_bytecount: 4096 * (2 + s) }),
  aix: (s) => ({ thewall: 64 + 32 * s, lowmbuf: 8 * s, lowclust: s + 1, mb_cl_hiwat: 8 }),
};

/** Packet-zone settings a freebsd case runs with (by `Case.packet`): no timer, so the model can follow. */
export const FUZZ_PACKET_ZONES: readonly (PacketZoneOptions | false)[] = [
  { mode: "median", interval: 0 }, { mode: "watermark", interval: 0 }, { mode: "none", interval: 0 }, false,
];

/** One command: an op, its random choices, and optionally [argument, class] of a bad value to put in. */
export interface Command {
  op: string;
  r: number[];
  bad: [number, number] | null;
}

/** One case: a profile, a size for its tunables, the commands. */
export interface Case {
  profile: ProfileName;
  size: number;
  /** Index into FUZZ_PACKET_ZONES (freebsd only; the other profiles have no packet zone). */
  packet: number;
  cmds: Command[];
}

export interface FuzzOptions {
  /** Seed of the first round (each round uses the next seed). Default: random. */
  seed?: number;
  /** Operations to run in all (default 20000, unless `timeMs` alone is given). */
  ops?: number;
  /** Stop starting rounds after this many milliseconds. */
  timeMs?: number;
  /** Only this profile (default: every profile). */
  profile?: ProfileName;
  /** Check the statistics against the model and audit every N operations (default 10; always at the end). */
  auditEvery?: number;
  /** Commands per case, at most (default 200). */
  caseLength?: number;
  /** Cases per round (one seed each round; default 25). */
  casesPerRound?: number;
  /** Share of commands that carry a bad argument (default 0.1). */
  badRate?: number;
  /** Also generate the reentrant ops: drain routines and listeners that throw, close sockets or audit (default off). */
  reentrant?: boolean;
  /**
   * Also generate the jumbo-cluster ops, getjcl, cljget and freeing their mbufs (default off, so a
   * seed names the cases it named before they existed); on profiles without jumbo zones getjcl
   * is getcl. The bad-value classes and replays cover them either way.
   */
  jumbo?: boolean;
  /** Core build (release by default, or MBUFPOOL_BUILD). */
  build?: Build;
  /** Makes the pools (tests pass a deliberately broken wrapper here). */
  factory?: PoolFactory;
  /**
   * Milliseconds shrinking a failure may take (default: what remains of
   * `timeMs`, or unbounded without it). Shrinking stops at whichever comes first.
   */
  shrinkTimeMs?: number;
  /** Write the trace of a failure here: unshrunk as soon as it is found, then shrunk. */
  traceFile?: string;
  /** Called as operations complete (for a progress bar). */
  onProgress?: (ops: number) => void;
}

export interface FuzzFailure {
  /** The seed of the round that failed and fast-check's path to the case (for fc's `path` option). */
  seed: number;
  path: string;
  /** What diverged in the shrunk case. */
  message: string;
  divergence?: Divergence;
  /** Operations in the trace (create excluded). */
  traceOps: number;
  /** The trace (JSON lines), and where it was written. */
  trace: string;
  traceFile?: string;
  /** Replaying the trace on the same build: it must diverge at the same place. */
  replay: ReplayResult;
  shrinks: number;
  /** False if shrinking stopped at the time budget: the trace fails, but a shorter one may too. */
  shrunk: boolean;
}

export interface FuzzResult {
  /** Operations run (shrinking runs included). */
  ops: number;
  cases: number;
  /** Seeds of the rounds run, first to last. */
  seeds: number[];
  failures: number;
  failure?: FuzzFailure;
  ms: number;
  opsPerSecond: number;
}

/** An error carrying the divergence that failed a case. */
class CaseFailure extends Error {
  constructor(readonly divergence: Divergence) {
    super(describeDivergence(divergence));
  }
}

/** The fast-check arbitrary of a case. */
export function caseArbitrary(options: FuzzOptions = {}): fc.Arbitrary<Case> {
  const badRate = options.badRate ?? 0.1;
  const ops = OPS.filter((o) => o.weight > 0 && (!o.reentrant || options.reentrant) && (!o.jumbo || options.jumbo));
  const opName = fc.oneof(...ops.map((o) => ({ arbitrary: fc.constant(o.name), weight: o.weight })));
  const badWeight = Math.round(badRate * 100);
  const bad = fc.oneof(
    { arbitrary: fc.constant(null), weight: 100 - badWeight },
    { arbitrary: fc.tuple(fc.nat(16), fc.nat(64)), weight: badWeight },
  );
  const cmd: fc.Arbitrary<Command> = fc.record({ op: opName, r: fc.array(fc.nat(1000), { minLength: 4, maxLength: 4 }), bad });
  const profiles = options.profile ? [options.profile] : (Object.keys(FUZZ_PROFILES) as ProfileName[]);
  return fc.record({
    profile: fc.constantFrom(...profiles),
    size: fc.nat(3),
    packet: fc.nat(FUZZ_PACKET_ZONES.length - 1),
    cmds: fc.array(cmd, { maxLength: options.caseLength ?? 200, size: "max" }),
  });
}

/** A bad value for argument `bad[0]` of `spec`, class `bad[1]`, or undefined if none applies now. */
function badArgs(spec: OpSpec, args: Args, bad: [number, number], model: Model, run: Run): Args | undefined {
  const kinds = spec.args.filter((a) => a.kind);
  if (!kinds.length) return undefined;
  const arg = kinds[bad[0] % kinds.length];
  const kind = KINDS[arg.kind!];
  const classes = arg.kind === "handle" ? [...kind.classes, FREED] : kind.classes;
  const ctx: BadContext = {};
  for (const [name, l] of model.live) {
    if (!l.cluster && !ctx.plain) ctx.plain = name;
    if (l.cluster && !ctx.withCluster) ctx.withCluster = name;
  }
  ctx.freed = model.freedHandles()[0];
  // "Past the chain" is past the chain the op works on (its `m`); an op without one gets no such value.
  if (arg.kind === "offset" || arg.kind === "length") ctx.plain = typeof args.m === "string" ? args.m : undefined;
  const value = classes[bad[1] % classes.length].make(ctx);
  if (value === undefined) return undefined;
  return { ...args, [arg.name]: value };
}

/** What running a case produced: its trace lines (up to the failure) and operations run. */
export interface CaseRun {
  lines: TraceLine[];
  ops: number;
  divergence?: Divergence;
}

/** Runs one case on a pool and the model; stops at the first divergence. */
export function runCase(c: Case, options: FuzzOptions = {}, onOp?: () => void): CaseRun {
  const tunables = FUZZ_PROFILES[c.profile](c.size);
  const packetZone = c.profile === "freebsd" ? FUZZ_PACKET_ZONES[c.packet % FUZZ_PACKET_ZONES.length] : undefined;
  const lines: TraceLine[] = [{ op: "create", format: TRACE_FORMAT, profile: c.profile, tunables, ...(packetZone === undefined ? {} : { packetZone }) }];
  const run = new Run({ profile: c.profile, tunables, packetZone, build: options.build }, options.factory);
  const model = new Model(run.pool.profile, run.pool.layout, packetModelOf(run.pool.packetZone));
  model.netm = run.pool.netm !== undefined;
  // A freed handle whose address a live handle now holds would name that one.
  model.addressReused = (name) => run.reused(name);
  const every = Math.max(1, options.auditEvery ?? 10);
  let ops = 0;
  const step = (spec: OpSpec, args: Args): Divergence | undefined => {
    let expected: Result | undefined;
    try {
      expected = argError(spec, args, model) ?? spec.model(model, args);
    } catch (e) {
      // A model that cannot follow is a finding too (in the model or in the op table): report it as one.
      const line = lines.length + 1;
      lines.push({ op: spec.name, ...args } as TraceLine);
      return { line, op: spec.name, args, expected: null, actual: null, reason: `the model failed: ${(e as Error).message}` };
    }
    const decoded: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(args)) decoded[k] = run.decode(v);
    const actual = capture(() => spec.run(run, decoded, args));
    ops++;
    onOp?.();
    const line = lines.length + 1;
    let recorded: Result = expected ?? actual;
    let divergence: Divergence | undefined;
    if (expected === undefined) {
      const isError = typeof actual === "object" && actual !== null && !Array.isArray(actual) && ("error" in actual || "crash" in actual);
      // An observed op judges errors too (a drain routine may free what a chain op works on).
      let reason: string | undefined;
      try {
        reason = isError && !spec.observe ? "an error where a result was due" : spec.observe!(model, run, args, actual);
      } catch (e) {
        // As for a prediction: a model that cannot follow the result is a finding, reported at its line.
        reason = `the model failed: ${(e as Error).message}`;
      }
      if (reason) {
        recorded = (isError ? "a result" : "within bounds") as Result;
        divergence = { line, op: spec.name, args, expected: recorded, actual, reason };
      }
    } else if (!matches(expected, actual)) {
      divergence = { line, op: spec.name, args, expected, actual };
    }
    lines.push({ op: spec.name, ...args, expect: recorded } as TraceLine);
    return divergence;
  };
  const checkpoint = (): Divergence | undefined =>
    step(OP_BY_NAME.get("stats")!, {}) ?? step(OP_BY_NAME.get("audit")!, {});
  try {
    let n = 0;
    for (const cmd of c.cmds) {
      const spec = OP_BY_NAME.get(cmd.op)!;
      let args = spec.gen(model, cmd.r);
      if (!args) continue;
      if (cmd.bad) args = badArgs(spec, args, cmd.bad, model, run) ?? args;
      const d = step(spec, args);
      if (d) return { lines, ops, divergence: d };
      if (++n % every === 0) {
        const dc = checkpoint();
        if (dc) return { lines, ops, divergence: dc };
      }
    }
    const d = checkpoint();
    return { lines, ops, divergence: d };
  } finally {
    run.pool.close();
  }
}

/** Runs the fuzzer: rounds of cases until the operation budget or the time is spent, or a case fails. */
export function fuzz(options: FuzzOptions = {}): FuzzResult {
  const start = Date.now();
  const budget = options.ops ?? (options.timeMs !== undefined ? Infinity : 20_000);
  const deadline = options.timeMs !== undefined ? start + options.timeMs : Infinity;
  const casesPerRound = options.casesPerRound ?? 25;
  let seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const arb = caseArbitrary(options);
  const result: FuzzResult = { ops: 0, cases: 0, seeds: [], failures: 0, ms: 0, opsPerSecond: 0 };
  const onOp = (): void => {
    result.ops++;
    if (options.onProgress && result.ops % 256 === 0) options.onProgress(result.ops);
  };
  while (result.ops < budget && Date.now() < deadline) {
    result.seeds.push(seed);
    const found = new FailureKeeper(seed, options, deadline);
    const details = fc.check(
      fc.property(arb, (c) => {
        // Past the budget, stop the round, or the shrinking (fast-check keeps the smallest failing case so far).
        if (Date.now() >= found.stopAt) throw new fc.PreconditionFailure(true);
        result.cases++;
        const r = runCase(c, options, onOp);
        if (r.divergence) {
          found.failed(r);
          throw new CaseFailure(r.divergence);
        }
      }),
      { seed, numRuns: casesPerRound, endOnFailure: false },
    );
    if (details.failed && details.counterexample) {
      result.failures++;
      result.failure = report(details.counterexample[0], seed, details.counterexamplePath ?? "", details.numShrinks, !details.interrupted, options);
      break;
    }
    seed = (seed + 1) | 0;
  }
  options.onProgress?.(result.ops);
  result.ms = Date.now() - start;
  result.opsPerSecond = result.ms > 0 ? Math.round((result.ops * 1000) / result.ms) : result.ops;
  return result;
}

/**
 * Keeps the trace file current while a round fails: the unshrunk trace as
 * soon as the failure is found (a run killed while shrinking still leaves
 * it), then the smallest failing case so far, at most once a second; and
 * sets when shrinking must stop.
 */
class FailureKeeper {
  /** When the property stops running cases: the round's deadline, then the shrinking's. */
  stopAt: number;
  private shrinks = -1;
  private written = 0;

  constructor(private readonly seed: number, private readonly options: FuzzOptions, deadline: number) {
    this.stopAt = deadline;
  }

  /** A case failed: the first one found, or a smaller one shrinking accepted (fast-check goes on from each). */
  failed(r: CaseRun): void {
    const now = Date.now();
    if (++this.shrinks === 0 && this.options.shrinkTimeMs !== undefined) this.stopAt = Math.min(this.stopAt, now + this.options.shrinkTimeMs);
    if (!this.options.traceFile || (this.shrinks > 0 && now - this.written < 1000)) return;
    const state = this.shrinks === 0 ? "unshrunk: shrinking it now" : `partly shrunk (${this.shrinks} shrinks so far): shrinking it now`;
    writeFileSync(this.options.traceFile, traceText(r, this.seed, "", state, this.options));
    this.written = now;
  }
}

/** The divergence of a case run, placed by operation (the trace's line numbers depend on its comments). */
const firstDivergence = (r: CaseRun): string | undefined =>
  r.divergence ? describeDivergence(r.divergence).replace(/^line \d+/, `operation ${r.lines.length - 1}`) : undefined;

/** The trace text of a failing case run, with its provenance in comments. */
function traceText(r: CaseRun, seed: number, path: string, state: string, options: FuzzOptions): string {
  const first = firstDivergence(r);
  return formatTrace(r.lines, [
    "mbufpool trace (JSON lines; see docs/fuzzing.md, \"Traces\"), written by `mbufpool fuzz`",
    `seed ${seed}${path ? `, fast-check path ${path}` : ""}, build ${options.build ?? (process.env.MBUFPOOL_BUILD === "debug" ? "debug" : "release")}, ${state}`,
    `diverged: ${first ?? "no divergence on re-run (the failure is outside the pool: see fast-check's report)"}`,
    "replay: mbufpool replay <this file>",
  ]);
}

/** Re-runs the final case to make its trace, writes it over the earlier one, and replays it to confirm it fails the same way. */
function report(c: Case, seed: number, path: string, shrinks: number, shrunk: boolean, options: FuzzOptions): FuzzFailure {
  const r = runCase(c, options);
  const first = firstDivergence(r);
  const state = shrunk ? `${shrinks} shrinks` : `partly shrunk: ${shrinks} shrinks before the time budget ran out`;
  const trace = traceText(r, seed, path, state, options);
  if (options.traceFile) writeFileSync(options.traceFile, trace);
  const again = replay(trace, { build: options.build, factory: options.factory });
  const message = again.divergence ? describeDivergence(again.divergence) : (first ?? "no divergence on re-run");
  return {
    seed, path, message, divergence: r.divergence, traceOps: r.lines.length - 1, trace,
    traceFile: options.traceFile, replay: again, shrinks, shrunk,
  };
}

/** One-line summary of a fuzz run. */
export function summarize(r: FuzzResult): string {
  const seeds = r.seeds.length ? (r.seeds.length === 1 ? `${r.seeds[0]}` : `${r.seeds[0]}..${r.seeds[r.seeds.length - 1]}`) : "none";
  return `fuzz: ${r.ops} operations in ${r.cases} cases, seeds ${seeds}, ${r.failures} failure${r.failures === 1 ? "" : "s"}, `
    + `${(r.ms / 1000).toFixed(1)} s, ${r.opsPerSecond} ops/s`;
}

export type { Encoded };
