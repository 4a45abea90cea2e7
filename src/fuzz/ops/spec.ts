// What an op-table entry is, and the rules every family shares: how an
// argument is chosen from the model's state, when an encoded value is valid
// for its kind, and which error the model expects for the first bad one;
// and the shapes many entries have (a gen on one chosen handle or socket,
// a call that returns nothing), written once so an entry says only what is
// its own. The families (alloc, chain, copy, recv, sockbuf, packet, manage)
// build on these; index.ts assembles them into the table.
//
// Results are JSON: a new handle is its name ("h4"), NULL is 0, a void call
// is null, an MbufError is {"error": code}.

import { M_NOWAIT, M_WAITOK, M_RECV, M_PKTHDR, MT } from "../../constants.js";
import { NETSTAT_FORMATS } from "../../stats/netstat.js";
import { KINDS, VALID_HOW, FREED_CODES, isTag, type Encoded, type KindName } from "../values.js";
import type { Model, ZoneName } from "../model.js";
import type { Run, Result } from "../run.js";

/** Arguments of one operation, by name, as the trace line holds them. */
export type Args = Record<string, Encoded>;
/** The same arguments decoded into JS values. */
export type Decoded = Record<string, unknown>;

/** One argument: its name in the trace line and its kind (no kind: not fed bad values). */
export interface ArgSpec {
  readonly name: string;
  readonly kind?: KindName;
  /** True if `v` is valid for this argument in the model's state (default: the kind's rule). */
  valid?(v: Encoded, m: Model): boolean;
}

/** Random choices for one operation: small non-negative integers the fuzzer draws and shrinks. */
export type Choices = readonly number[];

export interface OpSpec {
  /** The op name in traces (the Pool method it drives, where there is one). */
  readonly name: string;
  /** Relative frequency in random sequences (0: never generated, replay only). */
  readonly weight: number;
  /** Generated only when the fuzzer runs with `reentrant` (routines and listeners that throw or call back in). */
  readonly reentrant?: boolean;
  /** Generated only when the fuzzer runs with `jumbo` (getjcl, cljget). */
  readonly jumbo?: boolean;
  readonly args: readonly ArgSpec[];
  /** Valid arguments drawn from the model's state, or undefined if the op does not apply now. */
  gen(m: Model, r: Choices): Args | undefined;
  /** Runs the op on the pool; returns the result (throws MbufError for bad input). */
  run(run: Run, a: Decoded, raw: Args): Result;
  /**
   * Applies the op to the model, arguments already found valid; returns the
   * predicted result, or undefined if the result is observed (see observe).
   */
  model(m: Model, a: Args): Result | undefined;
  /** For an observed result: checks its bounds and updates the model; returns a problem, if any. */
  observe?(m: Model, run: Run, a: Args, actual: Result): string | undefined;
}

// === Choosing arguments ===

export const pick = <T>(xs: readonly T[], r: number): T | undefined => (xs.length ? xs[r % xs.length] : undefined);
/** A live handle, optionally one without a cluster. */
export function liveHandle(m: Model, r: number, filter?: (cluster: boolean) => boolean): string | undefined {
  const names: string[] = [];
  for (const [name, l] of m.live) if (!filter || filter(l.cluster)) names.push(name);
  return pick(names, r);
}
/** Picks a name (a handle, a socket) from the model's state by one random choice. */
export type Chooser = (m: Model, r: number) => string | undefined;
/**
 * A gen for an op on one thing `choose` picks by r[0]: the thing under
 * `key`, then what `rest` adds from the other choices (undefined from
 * either: the op does not apply now).
 */
export function genOn(key: string, choose: Chooser, rest?: (name: string, r: Choices, m: Model) => Args | undefined): OpSpec["gen"] {
  return (m, r) => {
    const name = choose(m, r[0]);
    if (name === undefined) return undefined;
    const more = rest ? rest(name, r, m) : {};
    return more === undefined ? undefined : { [key]: name, ...more };
  };
}
/** genOn for the usual handle argument `m`. */
export const genHandle = (choose: Chooser, rest?: (h: string, r: Choices, m: Model) => Args | undefined): OpSpec["gen"] =>
  genOn("m", choose, rest);
/** Mostly M_NOWAIT; sometimes waiting or the receive class. */
export const how = (r: number): number => [M_NOWAIT, M_NOWAIT, M_NOWAIT, M_WAITOK, M_NOWAIT | M_RECV, M_WAITOK | M_RECV][r % 6];
/** The rest of a gen whose only other argument is `how`, by r[1]. */
export const withHow = (_name: string, r: Choices): Args => ({ how: how(r[1]) });
export const mtype = (r: number): number => (r % 3 === 0 ? MT.DATA : 1 + (r % 15));
export const zone = (r: number): ZoneName => (r % 2 ? "cluster" : "mbuf");

// === Validity of encoded values, by kind ===

const isInt = (v: Encoded): v is number => typeof v === "number" && Number.isInteger(v);
export const inRange = (v: Encoded, lo: number, hi: number): boolean => isInt(v) && v >= lo && v <= hi;
/** The kind's default rule for a valid value. */
export function validByKind(kind: KindName, v: Encoded, m: Model): boolean {
  switch (kind) {
    case "handle": return typeof v === "string" && m.live.has(v);
    case "how": return typeof v === "number" && VALID_HOW.includes(v);
    case "type": return inRange(v, 1, 15);
    case "flags": return v === 0 || v === M_PKTHDR;
    case "count": return inRange(v, 0, 4096);
    case "amount": return inRange(v, 0, 2 ** 31 - 1);
    case "tag": return inRange(v, 0, 2 ** 32 - 1);
    case "zone": return v === "mbuf" || v === "cluster";
    case "clusterSize": return typeof v === "number" && (v === m.profile.mclbytes || (m.jumbo.has(v)));
    case "zoneId": return v === 1 || v === 2;
    case "bool": return typeof v === "boolean";
    case "handles": return Array.isArray(v);
    case "ms": return typeof v === "number" && Number.isFinite(v) && v >= 0;
    case "format": return typeof v === "string" && v in NETSTAT_FORMATS;
    case "offset": case "length": return inRange(v, 0, 2 ** 31 - 1); // an op bounds it by its chain (spec.valid)
    case "socket": return typeof v === "string" && m.sockets.has(v);
    case "sockbuf": return v === "snd" || v === "rcv";
    case "bytes": return isTag(v) && v.$ === "bytes";
    case "tunableValue": return inRange(v, 0, m.zones.cluster.limit);
    case "packetZone": return v === false || (typeof v === "object" && v !== null && !Array.isArray(v)
      && Object.keys(v).join() === "mode,interval" && ["none", "watermark", "median"].includes(v.mode as string) && v.interval === 0);
    default: return true;
  }
}

/** The error the model expects for the first bad argument of `a`, or undefined if all are valid. */
export function argError(op: OpSpec, a: Args, m: Model): Result | undefined {
  for (const spec of op.args) {
    if (!spec.kind) continue;
    const v = a[spec.name];
    const ok = spec.valid ? spec.valid(v, m) : validByKind(spec.kind, v, m);
    if (ok) continue;
    if (spec.kind === "handle" && typeof v === "string" && m.dead.has(v)) return { error: [...FREED_CODES] };
    const code = KINDS[spec.kind].code;
    return { error: typeof code === "string" ? code : [...code] };
  }
  return undefined;
}

/** The encoded `undefined`: an optional argument left to its default. */
export const isUndef = (v: Encoded): boolean => isTag(v) && v.$ === "undefined";
export const isObj = (v: unknown): v is Record<string, Encoded> => typeof v === "object" && v !== null && !Array.isArray(v);

// === Results ===

/** The run of a pool call that returns nothing: the trace records null. */
export const runVoid = (call: (run: Run, a: Decoded, raw: Args) => void): OpSpec["run"] => (run, a, raw) => {
  call(run, a, raw);
  return null;
};
/** The model of such a call: applies its change, predicts null. */
export const modelVoid = (apply: (m: Model, a: Args) => void): OpSpec["model"] => (m, a) => {
  apply(m, a);
  return null;
};

/**
 * Registers a drain routine that frees what trace name `name` stands for
 * with `free`, unless the trace no longer names it (a routine runs on every
 * exhaustion, and something else may have freed it first).
 */
export function drainFreeing(run: Run, label: string, name: string, free: (pool: Run["pool"]) => void): void {
  run.pool.onDrain(label, (p) => {
    if (!run.live.has(name)) return;
    free(p);
    run.freed(name);
  });
}

/** The result of an allocation: a new handle's name, or NULL (0). */
export const allocResult = (run: Run, h: number): Result => (h > 0 ? run.newHandle(h) : h);
