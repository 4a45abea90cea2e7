// Traces: a sequence of pool operations with their expected results, one
// JSON object per line, that replays on any build of the core.
//
//   # a comment; blank lines are ignored
//   {"op":"create","format":2,"profile":"freebsd4","tunables":{"nmbclusters":4,"nmbufs":16}}
//   {"op":"getcl","how":1,"type":1,"flags":2,"expect":"h1"}
//   {"op":"get","how":1,"type":1,"expect":"h2"}
//   {"op":"free","m":"h2","expect":0}
//   {"op":"free","m":"h2","expect":{"error":["EDOUBLEFREE","EBADHANDLE"]}}
//   {"op":"free","m":{"$":"plus","h":"h1","d":4294967296},"expect":{"error":"EBADHANDLE"}}
//   {"op":"advance","ms":1000}
//   {"op":"stats","expect":{"mbufs":{"current":1,...},...}}
//   {"op":"audit","expect":"clean"}
//
// The first operation is `create` (the trace format, profile and tunables;
// the pool runs on a virtual clock that only `advance` moves). The format
// says what the expectations mean: a trace of another format is refused
// rather than replayed into divergences that are no bugs (TRACE_FORMAT). Every other line names an op of
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

/**
 * The format traces are written in, on their create line. 2: the stats
 * checkpoint carries reservation.auto and packetCache. 1 (no "format"): before them.
 */
export const TRACE_FORMAT = 2;

/** The first operation of a trace. */
export interface CreateLine {
  op: "create";
  /** The trace format (TRACE_FORMAT); absent in format 1. */
  format?: number;
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
    if (op === "create") checkFormat((entry as CreateLine).format, i + 1);
    out.push({ line: i + 1, entry: entry as TraceLine });
  });
  if (!out.length) throw new TraceError("empty trace: it must start with a \"create\" line");
  return out;
}

/** Refuses a trace whose format this replay does not read, saying what to do instead. */
function checkFormat(format: unknown, line: number): void {
  if (format === TRACE_FORMAT) return;
  if (format === undefined || format === 1) {
    throw new TraceError(`line ${line}: trace format 1 (the create line has no "format"); this mbufpool reads format ${TRACE_FORMAT}, `
      + "whose stats checkpoints also carry reservation.auto and packetCache. Regenerate the trace (mbufpool fuzz with the seed "
      + `in its header), or add "format":${TRACE_FORMAT} to its create line and bring its stats expectations up to date `
      + "(a replay then lists each field that differs)");
  }
  if (typeof format === "number" && Number.isInteger(format) && format > TRACE_FORMAT) {
    throw new TraceError(`line ${line}: trace format ${format} is newer than this mbufpool reads (${TRACE_FORMAT}): replay it with the version that wrote it`);
  }
  throw new TraceError(`line ${line}: unknown trace format ${JSON.stringify(format)} (this mbufpool reads format ${TRACE_FORMAT})`);
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

/** One field where a result differs from its expectation: its path ("mbufs.total", "census[3]"). */
export interface FieldDifference {
  path: string;
  /** Absent (undefined) where one side has no such field. */
  expected?: Result;
  actual?: Result;
}

/** At most this many differing fields are named in a one-line description. */
const FIELDS_NAMED = 8;

const isRecord = (v: unknown): v is Record<string, Result> => typeof v === "object" && v !== null && !Array.isArray(v);
const isOutcome = (v: Result): boolean => isRecord(v) && ("error" in v || "crash" in v);
/** True if `v` is a structure to compare field by field (an object or array that is no error or crash). */
const isStructure = (v: Result): boolean => Array.isArray(v) || (isRecord(v) && !isOutcome(v));

/**
 * The fields in which `actual` differs from `expected`, when both are
 * structures (stats, epochs, lists); an empty list otherwise or if none differ.
 */
export function fieldDifferences(expected: Result, actual: Result): FieldDifference[] {
  const out: FieldDifference[] = [];
  if (!isStructure(expected) || !isStructure(actual)) return out;
  const walk = (e: Result | undefined, a: Result | undefined, path: string): void => {
    if (e !== undefined && a !== undefined && isStructure(e) && isStructure(a) && Array.isArray(e) === Array.isArray(a)) {
      if (Array.isArray(e) && Array.isArray(a)) {
        for (let i = 0; i < Math.max(e.length, a.length); i++) walk(e[i], a[i], `${path}[${i}]`);
      } else {
        const eo = e as Record<string, Result>, ao = a as Record<string, Result>;
        for (const key of new Set([...Object.keys(eo), ...Object.keys(ao)])) walk(eo[key], ao[key], path ? `${path}.${key}` : key);
      }
      return;
    }
    if (JSON.stringify(e) !== JSON.stringify(a)) out.push({ path: path || "(the result)", expected: e, actual: a });
  };
  walk(expected, actual, "");
  return out;
}

/** One field's difference: "path: expected X, got Y" (a missing field is "absent"). */
export function describeField(f: FieldDifference): string {
  const show = (v: Result | undefined): string => (v === undefined ? "absent" : JSON.stringify(v));
  return `${f.path}: expected ${show(f.expected)}, got ${show(f.actual)}`;
}

/** One line describing a divergence; a structured result is described by the fields that differ. */
export function describeDivergence(d: Divergence): string {
  const where = d.line ? `line ${d.line}` : "after the last line";
  const args = Object.keys(d.args).length ? ` ${JSON.stringify(d.args)}` : "";
  const why = d.reason ? ` (${d.reason})` : "";
  const fields = fieldDifferences(d.expected, d.actual);
  if (!fields.length) return `${where}: ${d.op}${args}: expected ${JSON.stringify(d.expected)}, got ${JSON.stringify(d.actual)}${why}`;
  const named = fields.slice(0, FIELDS_NAMED).map(describeField).join("; ");
  const more = fields.length > FIELDS_NAMED ? `; and ${fields.length - FIELDS_NAMED} more` : "";
  return `${where}: ${d.op}${args}: ${fields.length} field${fields.length === 1 ? "" : "s"} differ${fields.length === 1 ? "s" : ""}: ${named}${more}${why}`;
}
