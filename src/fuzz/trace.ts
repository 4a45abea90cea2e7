// Traces: a sequence of pool operations with their expected results, one
// JSON object per line, that replays on any build of the core.
//
//   # a comment; blank lines are ignored
//   {"op":"create","profile":"freebsd4","tunables":{"nmbclusters":4,"nmbufs":16}}
//   {"op":"getcl","how":1,"type":1,"flags":2,"expect":"h1"}
//   {"op":"get","how":1,"type":1,"expect":"h2"}
//   {"op":"free","m":"h2","expect":0}
//   {"op":"free","m":"h2","expect":{"error":["EDOUBLEFREE","EBADHANDLE"]}}
//   {"op":"free","m":{"$":"plus","h":"h1","d":4294967296},"expect":{"error":"EBADHANDLE"}}
//   {"op":"advance","ms":1000}
//   {"op":"stats","expect":{"mbufs":{"current":1,...},...}}
//   {"op":"audit","expect":"clean"}
//
// The first operation is `create` (profile and tunables; the pool runs on a
// virtual clock that only `advance` moves). Every other line names an op of
// the op table (ops/) with its arguments by name. Handles are named by
// the order the trace allocated them: "h3" is the third handle the trace got,
// whatever its address on this build. `expect` is optional; without it the
// line runs unchecked. A result is a JSON value (a new handle's name, 0 for
// NULL, null for a void call), {"error": code} for an MbufError (a list of
// codes accepts any of them), or {"crash": text} for anything else (a trap),
// which is always a divergence. Values JSON cannot hold are tagged objects
// (values.ts): {"$":"NaN"}, {"$":"undefined"}, {"$":"bigint","v":"1"},
// {"$":"plus","h":"h1","d":1}, {"$":"addr","of":"pagemeta"}, ...

import { readFileSync } from "node:fs";
import type { Build } from "../core/module.js";
import type { ProfileName } from "../tunables/profiles.js";
import { Run, TraceError, capture, matches, type PoolFactory, type Result } from "./run.js";
import { OP_BY_NAME, type Args, type Decoded } from "./ops/index.js";
import type { Encoded } from "./values.js";
import type { PacketZoneOptions } from "../packet-zone.js";

/** The first operation of a trace. */
export interface CreateLine {
  op: "create";
  profile: ProfileName;
  tunables?: Record<string, number>;
  /** Pool.create's packetZone option (the fuzzer gives interval 0: no timer, balancing only by operations). */
  packetZone?: PacketZoneOptions | boolean;
}

/** Any other operation: its arguments by name and, optionally, the result it must give. */
export interface OpLine {
  op: string;
  expect?: Result;
  [arg: string]: Encoded | undefined;
}

export type TraceLine = CreateLine | OpLine;

/** A parsed line with its line number in the file (1-based). */
export interface NumberedLine {
  line: number;
  entry: TraceLine;
}

/** Parses trace text; throws TraceError naming the line of a malformed entry. */
export function parseTrace(text: string): NumberedLine[] {
  const out: NumberedLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const s = raw.trim();
    if (!s || s.startsWith("#")) return;
    let entry: unknown;
    try {
      entry = JSON.parse(s);
    } catch (e) {
      throw new TraceError(`line ${i + 1}: not JSON (${(e as Error).message})`);
    }
    if (typeof entry !== "object" || entry === null || typeof (entry as { op?: unknown }).op !== "string") {
      throw new TraceError(`line ${i + 1}: an entry is an object with an "op"`);
    }
    const op = (entry as TraceLine).op;
    if (op !== "create" && !OP_BY_NAME.has(op)) throw new TraceError(`line ${i + 1}: unknown op "${op}"`);
    if ((op === "create") !== (out.length === 0)) throw new TraceError(`line ${i + 1}: a trace starts with one "create"`);
    out.push({ line: i + 1, entry: entry as TraceLine });
  });
  if (!out.length) throw new TraceError("empty trace: it must start with a \"create\" line");
  return out;
}

/** Formats entries as trace text, with optional `# comment` lines first. */
export function formatTrace(entries: readonly TraceLine[], comments: readonly string[] = []): string {
  return [...comments.map((c) => `# ${c}`), ...entries.map((e) => JSON.stringify(e))].join("\n") + "\n";
}

/** Where a replay (or a fuzz case) met a result other than the expected one. */
export interface Divergence {
  /** Line number in the trace, or 0 for the final audit replay adds. */
  line: number;
  op: string;
  args: Args;
  expected: Result;
  actual: Result;
  /** Why, when the result was checked by bounds rather than equality (observed results). */
  reason?: string;
}

export interface ReplayOptions {
  /** The core build to run (release by default, or MBUFPOOL_BUILD). */
  build?: Build;
  /** Makes the pool (tests pass a deliberately broken wrapper). */
  factory?: PoolFactory;
}

export interface ReplayResult {
  ok: boolean;
  /** Operations run (create excluded). */
  ops: number;
  /** The first divergence, if any: the replay stops there. */
  divergence?: Divergence;
  /** The audit after the last operation ("clean" or its first problem). */
  audit?: string;
}

/** Splits an op line into its arguments. */
export function argsOf(entry: OpLine): Args {
  const args: Args = {};
  for (const [k, v] of Object.entries(entry)) if (k !== "op" && k !== "expect" && v !== undefined) args[k] = v;
  return args;
}

/** Runs one op line on a run; returns its result (never throws but for a TraceError). */
export function runLine(run: Run, entry: OpLine): Result {
  const spec = OP_BY_NAME.get(entry.op);
  if (!spec) throw new TraceError(`unknown op "${entry.op}"`);
  const args = argsOf(entry);
  const decoded: Decoded = {};
  for (const [k, v] of Object.entries(args)) decoded[k] = run.decode(v);
  return capture(() => spec.run(run, decoded, args));
}

/** Replays a trace (text or parsed); stops at the first divergence. */
export function replay(trace: string | readonly NumberedLine[], options: ReplayOptions = {}): ReplayResult {
  const lines = typeof trace === "string" ? parseTrace(trace) : trace;
  const create = lines[0].entry as CreateLine;
  const run = new Run({ profile: create.profile, tunables: create.tunables, packetZone: create.packetZone, build: options.build }, options.factory);
  let ops = 0;
  try {
    for (const { line, entry } of lines.slice(1)) {
      const actual = runLine(run, entry as OpLine);
      ops++;
      const crashed = typeof actual === "object" && actual !== null && "crash" in actual;
      if (crashed || ("expect" in entry && entry.expect !== undefined && !matches(entry.expect as Result, actual))) {
        return { ok: false, ops, divergence: { line, op: entry.op, args: argsOf(entry as OpLine), expected: (entry as OpLine).expect ?? null, actual } };
      }
    }
    const audit = run.pool.audit().message;
    if (audit !== "clean") {
      return { ok: false, ops, audit, divergence: { line: 0, op: "audit", args: {}, expected: "clean", actual: audit } };
    }
    return { ok: true, ops, audit };
  } finally {
    run.pool.close();
  }
}

/** Replays the trace in `file`. */
export function replayFile(file: string, options: ReplayOptions = {}): ReplayResult {
  return replay(readFileSync(file, "utf8"), options);
}

/** One line describing a divergence. */
export function describeDivergence(d: Divergence): string {
  const where = d.line ? `line ${d.line}` : "after the last line";
  const args = Object.keys(d.args).length ? ` ${JSON.stringify(d.args)}` : "";
  const why = d.reason ? ` (${d.reason})` : "";
  return `${where}: ${d.op}${args}: expected ${JSON.stringify(d.expected)}, got ${JSON.stringify(d.actual)}${why}`;
}
