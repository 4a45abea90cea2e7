// A harness for parsers that read protocols out of chains: it runs the
// parser over many layouts of the same bytes (src/fuzz/layouts.ts) and fails,
// with the shrunk layout printed, when the layout shows through.
//
// The simplest layout of the bytes is the reference: each other layout must
// give a deep-equal result, or the same expected error. Around every run the
// harness also checks what a parser must never do to a chain it reads:
//   - throw anything but its own documented error (isExpectedError);
//   - write past m_len or before the data (the free space of each buffer is
//     copied before and compared after), or into a cluster another chain
//     shares (the whole cluster is compared). Release builds have no poison
//     to catch this, so the check is a comparison of bytes;
//   - leave the pool's audit failing, or keep buffers (mbufs and clusters in
//     use are counted before the chain is built and after it is freed).
// A parser borrows the chain (the harness frees it) unless `consumes` says it
// takes the chain over and frees it itself, as a receive path does; then only
// shared clusters, which another chain keeps alive, can be compared after.
//
// It is a fast-check property: chainParserProperty for fc.assert / fc.check
// (so it runs inside vitest, jest or node:test alike), checkChainParser to
// assert it in one call with a readable error.

import fc from "fast-check";
import { isDeepStrictEqual, inspect } from "node:util";
import type { Pool } from "../pool.js";
import {
  laidOutChains, laidOut, simplestLayout, describeLayout, describeChain, describeBytes,
  type BuiltChain, type ChainMbuf, type LaidOutChain, type LayoutOptions,
} from "./layouts.js";

/** A parser over a chain: reads the chain of head `m` of `pool` and returns what it found. */
export type ChainParser<R> = (pool: Pool, m: number) => R;

/** What to check a chain parser with. */
export interface ChainParserOptions<R> {
  /** The input: fixed bytes, a list of inputs (shrinks towards the first), or an arbitrary of them. */
  bytes: Uint8Array | readonly Uint8Array[] | fc.Arbitrary<Uint8Array>;
  /** True for an error the parser documents (its result for bad input); any other throw fails. Default: none. */
  isExpectedError?: (error: unknown) => boolean;
  /** The parser takes the chain over and frees it (default false: it borrows it, the harness frees it). */
  consumes?: boolean;
  /** Equality of two results (default: util.isDeepStrictEqual). */
  equals?: (a: R, b: R) => boolean;
  /** What may vary in the layouts (clusterBytes is the pool's). */
  layouts?: Omit<LayoutOptions, "clusterBytes">;
  /** fast-check runs (100), and a seed and path to replay a failure (checkChainParser only). */
  numRuns?: number;
  seed?: number;
  path?: string;
  /** Any other fast-check parameters (checkChainParser only). */
  parameters?: fc.Parameters<[LaidOutChain]>;
}

/** What one run of the parser came to. */
export type ParseOutcome<R> =
  | { readonly returned: R }
  | { readonly threw: unknown };

/** One run of the parser over one layout, and what went wrong in it. */
export interface ChainParserRun<R> {
  readonly outcome: ParseOutcome<R>;
  /** The chain the parser was given, mbuf by mbuf. */
  readonly chain: readonly ChainMbuf[];
  /** What the parser did wrong on this layout by itself (empty: nothing). */
  readonly problems: readonly string[];
}

/** Thrown by a failing case: the problem, the layout and the chain, readable. */
export class ChainParserFailure extends Error {
  constructor(
    message: string,
    readonly problems: readonly string[],
    readonly bytes: Uint8Array,
    readonly layout: LaidOutChain["layout"],
    /** The chain the parser was given, as one line. */
    readonly chain: string,
  ) {
    super(message);
    this.name = "ChainParserFailure";
  }
}

/** Thrown by checkChainParser: the shrunk failure, and the seed and path that replay it. */
export class ChainParserError extends Error {
  constructor(message: string, readonly failure: ChainParserFailure | undefined, readonly seed: number, readonly path: string | undefined) {
    super(message);
    this.name = "ChainParserError";
  }
}

/** Buffers in use in the pool. */
function inUse(pool: Pool): { mbufs: number; clusters: number } {
  const s = pool.stats();
  return { mbufs: s.mbufs.current, clusters: s.clusters.current };
}

/** A copy of a stretch of memory the parser must leave alone, and what it is. */
interface Guarded { what: string; start: number; before: Uint8Array }

/** The free space of each buffer, and every shared cluster whole (only those, for a chain the parser frees). */
function guard(pool: Pool, chain: readonly ChainMbuf[], privateToo: boolean): Guarded[] {
  const mem = new Uint8Array(pool.buffer);
  const out: Guarded[] = [];
  const seen = new Set<number>();
  const add = (what: string, start: number, end: number): void => {
    if (end > start) out.push({ what, start, before: mem.slice(start, end) });
  };
  chain.forEach((mb, i) => {
    const name = `${mb.cluster ? "cluster" : "mbuf"} #${i}`;
    if (mb.shared) {
      if (!seen.has(mb.bufferStart)) add(`${name}, which another chain shares (read-only: writable() is false)`, mb.bufferStart, mb.bufferEnd);
      seen.add(mb.bufferStart);
    } else if (privateToo) {
      add(`the leading space of ${name} (before its data)`, mb.bufferStart, mb.data);
      add(`the trailing space of ${name} (past its m_len of ${mb.length})`, mb.data + mb.length, mb.bufferEnd);
    }
  });
  return out;
}

/** The first guarded byte that changed, described. */
function firstWrite(pool: Pool, guarded: readonly Guarded[]): string | undefined {
  const mem = new Uint8Array(pool.buffer);
  for (const g of guarded) {
    for (let i = 0; i < g.before.length; i++) {
      const now = mem[g.start + i];
      if (now !== g.before[i]) {
        return `wrote into ${g.what}: byte ${i} of it went from 0x${hexByte(g.before[i])} to 0x${hexByte(now)}`;
      }
    }
  }
  return undefined;
}

const hexByte = (b: number): string => b.toString(16).padStart(2, "0");

const show = (v: unknown): string => inspect(v, { depth: 6, breakLength: Infinity, maxArrayLength: 32, maxStringLength: 200 });

/** The outcome as a reader compares it: a result, or an error's name and message. */
function describeOutcome<R>(o: ParseOutcome<R>): string {
  return "returned" in o ? `returned ${show(o.returned)}` : `threw ${errorText(o.threw)}`;
}

const errorText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : show(e));

/**
 * Runs `parse` once over `bytes` laid out as `chain` describes, on `pool`, and
 * reports what it returned or threw and what it did wrong by itself (a throw
 * not expected, a write, a leak, a failing audit); comparing results between
 * layouts is the caller's.
 */
export function runChainParser<R>(pool: Pool, parse: ChainParser<R>, chain: LaidOutChain, options: Omit<ChainParserOptions<R>, "bytes"> = {}): ChainParserRun<R> {
  const problems: string[] = [];
  const before = inUse(pool);
  const built: BuiltChain = chain.build(pool);
  const guarded = guard(pool, built.mbufs, !options.consumes);
  let outcome: ParseOutcome<R>;
  try {
    outcome = { returned: parse(pool, built.head) };
  } catch (e) {
    outcome = { threw: e };
    if (!options.isExpectedError?.(e)) problems.push(`threw ${errorText(e)}, which isExpectedError does not accept`);
  }
  const wrote = firstWrite(pool, guarded);
  if (wrote) problems.push(wrote);
  if (options.consumes) {
    built.freeSharers();
  } else {
    try {
      built.free();
    } catch (e) {
      built.freeSharers();
      problems.push(`changed the chain it borrowed (freeing its head failed: ${errorText(e)}); a parser that frees or replaces the chain (pullup) takes it over: pass consumes: true`);
    }
  }
  const audit = pool.audit();
  if (!audit.ok) problems.push(`left the pool's audit failing: ${audit.message}`);
  const after = inUse(pool);
  if (after.mbufs !== before.mbufs || after.clusters !== before.clusters) {
    const d = (n: number, what: string): string => `${Math.abs(n)} ${what}${Math.abs(n) === 1 ? "" : "s"}`;
    const dm = after.mbufs - before.mbufs, dc = after.clusters - before.clusters;
    problems.push(dm >= 0 && dc >= 0
      ? `kept ${d(dm, "mbuf")} and ${d(dc, "cluster")} (in use before the chain was built, and after it was freed: ${before.mbufs}/${before.clusters}, ${after.mbufs}/${after.clusters})${options.consumes ? "" : "; a parser that frees the chain passes consumes: true"}`
      : `freed buffers it did not own (mbufs ${dm}, clusters ${dc})${options.consumes ? "" : "; a parser that frees the chain passes consumes: true"}`);
  }
  return { outcome, chain: built.mbufs, problems };
}

/**
 * The property: on each generated layout of the input, `parse` does nothing
 * wrong (runChainParser) and its outcome equals its outcome on the simplest
 * layout of the same bytes. A failing case throws a ChainParserFailure.
 */
export function chainParserProperty<R>(pool: Pool, parse: ChainParser<R>, options: ChainParserOptions<R>): fc.IPropertyWithHooks<[LaidOutChain]> {
  const equals = options.equals ?? isDeepStrictEqual;
  const layoutOptions: LayoutOptions = { ...options.layouts, clusterBytes: pool.mclbytes };
  // The reference outcome of each input, made once per input.
  const references = new WeakMap<Uint8Array, ParseOutcome<R>>();
  const fail = (lines: string[], problems: string[], chain: LaidOutChain, measured: readonly ChainMbuf[]): never => {
    const text = describeChain(measured);
    throw new ChainParserFailure([
      ...lines,
      `  layout: ${describeLayout(chain.layout)}`,
      `  chain:  ${text}`,
      `  bytes:  ${describeBytes(chain.bytes)}`,
    ].join("\n"), problems, chain.bytes, chain.layout, text);
  };
  return fc.property(laidOutChains(options.bytes, layoutOptions), (chain) => {
    let reference = references.get(chain.bytes);
    if (reference === undefined) {
      const simplest = laidOut(chain.bytes, simplestLayout(chain.bytes.length, layoutOptions));
      const run = runChainParser(pool, parse, simplest, options);
      if (run.problems.length > 0) {
        fail([`the parser failed on the simplest layout of the input:`, ...run.problems.map((p) => `  ${p}`)], [...run.problems], simplest, run.chain);
      }
      reference = run.outcome;
      references.set(chain.bytes, reference);
    }
    const run = runChainParser(pool, parse, chain, options);
    const problems = [...run.problems];
    if (!sameOutcome(reference, run.outcome, equals)) {
      problems.unshift(`its outcome differs from the simplest layout's:\n    simplest layout: ${describeOutcome(reference)}\n    this layout:     ${describeOutcome(run.outcome)}`);
    }
    if (problems.length > 0) fail([`the parser failed on a layout of the input:`, ...problems.map((p) => `  ${p}`)], problems, chain, run.chain);
  });
}

/** Equal results, or errors of the same name and message. */
function sameOutcome<R>(a: ParseOutcome<R>, b: ParseOutcome<R>, equals: (x: R, y: R) => boolean): boolean {
  if ("returned" in a && "returned" in b) return equals(a.returned, b.returned);
  if ("threw" in a && "threw" in b) return errorText(a.threw) === errorText(b.threw);
  return false;
}

/**
 * Asserts chainParserProperty: returns if `parse` passes every layout tried,
 * else throws a ChainParserError naming the shrunk layout, what went wrong on
 * it, and the seed and path that replay it ({ seed, path } in the options).
 */
export function checkChainParser<R>(pool: Pool, parse: ChainParser<R>, options: ChainParserOptions<R>): void {
  const parameters: fc.Parameters<[LaidOutChain]> = { ...options.parameters };
  if (options.numRuns !== undefined) parameters.numRuns = options.numRuns;
  if (options.seed !== undefined) parameters.seed = options.seed;
  if (options.path !== undefined) parameters.path = options.path;
  const details = fc.check(chainParserProperty(pool, parse, options), parameters);
  if (!details.failed) return;
  const error = details.errorInstance;
  const failure = error instanceof ChainParserFailure ? error : undefined;
  const what = failure ? failure.message : `the property failed: ${errorText(error)}`;
  const how = details.counterexample === null
    ? `after ${details.numRuns} runs`
    : `after ${details.numRuns} run${details.numRuns === 1 ? "" : "s"}, shrunk ${details.numShrinks} time${details.numShrinks === 1 ? "" : "s"}`;
  throw new ChainParserError(
    `${what}\n  (${how}; replay with { seed: ${details.seed}, path: ${JSON.stringify(details.counterexamplePath)} })`,
    failure, details.seed, details.counterexamplePath ?? undefined,
  );
}
