// The threads fuzzer: several worker threads drive one shared pool at once
// with random interleavings, and the main thread checks the whole pool at
// quiescent points.
//
// Each thread (thread-worker.ts) owns the chains it allocates and knows the
// bytes each should hold, which no other thread can change: the model of a
// thread is exact whatever the others do. What threads share is the pool
// (its zones, caches, counters, clusters shared by copym across a handoff)
// and the rings: thread i hands chains to thread i + 1 and checks what
// thread i - 1 handed it. Which operation meets which in another thread is
// the interleaving, and it differs every run; the seeds fix each thread's own
// sequence.
//
// A round: every thread runs `opsPerRound` operations, checks each chain it
// holds byte for byte and reports what it holds, then waits. With every
// thread waiting (the quiescent point), the main thread audits the pool and
// holds it to exactly what the threads report: the heads in use are the
// chains the threads hold, the sockets they have open and the chains still
// in a ring (sent, not yet received), nothing more and nothing less, and
// each zone's in use plus cache is what it carved.

import { startWorker } from "../worker-flags.js";
import { Pool } from "../pool.js";
import { MbufError, checkInt, describeValue } from "../errors.js";
import { checkOptions, optionKeys } from "../validate.js";
import type { Build } from "../core/module.js";
import { H, M_LINKED } from "../core/layout.js";
import { MT } from "../constants.js";
import type { ThreadJob, ToWorker, FromWorker } from "./thread-worker.js";

export interface ThreadFuzzOptions {
  /** Worker threads (2 to 8; default 2). */
  threads?: number;
  /** Operations in all, over every thread (default 20000, or unbounded with `timeMs` alone). */
  ops?: number;
  /** Operations a thread runs between two quiescent points (default 200). */
  opsPerRound?: number;
  /** Seed: thread i runs seed + i (default random). */
  seed?: number;
  /** Stop starting rounds after this many milliseconds. */
  timeMs?: number;
  /** Share of operations that try a bad handle (default 0.1). */
  badRate?: number;
  /** Core build (release by default, or MBUFPOOL_BUILD). */
  build?: Build;
  /**
   * Run the pool with a packet zone (default false): every thread's getcl and frees go through
   * its one cache of pairs, and the main thread runs a balancing epoch at each quiescent point.
   */
  packetZone?: boolean;
  /** Runs at each quiescent point, after the checks (tests use it to disturb the pool). */
  onQuiescent?: (pool: Pool, round: number) => void;
}
const OPTION_KEYS = optionKeys<ThreadFuzzOptions>({
  threads: 1, ops: 1, opsPerRound: 1, seed: 1, timeMs: 1, badRate: 1, build: 1, packetZone: 1, onQuiescent: 1,
});

export interface ThreadFuzzResult {
  threads: number;
  seed: number;
  /** Operations run over every thread, and the quiescent points checked. */
  ops: number;
  rounds: number;
  /** Requests the zones denied: how often the threads ran the pool dry (its caches went back each time). */
  denied: number;
  /** Whether the pool had a packet zone, and the getcl calls its cache served. */
  packetZone: boolean;
  packetHits: number;
  /** The first failure: which thread saw it or what the main thread's check found. */
  failure?: string;
  ms: number;
  opsPerSecond: number;
}

/** Small zones, so that the threads run them dry and the caches go back often. */
const TUNABLES = { "kern.ipc.maxmbufmem": 1024 * 1024, "kern.ipc.nmbclusters": 96, "kern.ipc.nmbufs": 512 };

/** `v`, checked as checkInt does, or `dflt` if it is undefined. */
const intOr = (v: number | undefined, name: string, lo: number, hi: number, dflt: number): number =>
  v === undefined ? dflt : checkInt(v, `fuzzThreads: ${name}`, lo, hi);

/**
 * Runs the threads fuzzer. @returns the counts and the first failure, if any.
 * @throws MbufError EINVAL for a bad option (nothing started).
 */
export async function fuzzThreads(options: ThreadFuzzOptions = {}): Promise<ThreadFuzzResult> {
  checkOptions(options, "fuzzThreads options", OPTION_KEYS);
  const n = intOr(options.threads, "threads", 2, 8, 2);
  const total = options.ops === undefined && options.timeMs !== undefined ? Infinity : intOr(options.ops, "ops", 1, 1e9, 20000);
  const perRound = intOr(options.opsPerRound, "opsPerRound", 1, 1e6, 200);
  const seed = intOr(options.seed, "seed", 0, 2 ** 31 - 1, Math.floor(Math.random() * 2 ** 31));
  const timeMs = intOr(options.timeMs, "timeMs", 1, 2 ** 31 - 1, Infinity);
  const badRate = options.badRate ?? 0.1;
  if (typeof badRate !== "number" || !(badRate >= 0 && badRate <= 1)) throw new MbufError("EINVAL", `fuzzThreads: badRate is from 0 to 1, got ${describeValue(badRate)}`);
  if (options.onQuiescent !== undefined && typeof options.onQuiescent !== "function") throw new MbufError("EINVAL", "fuzzThreads: onQuiescent must be a function");
  if (options.packetZone !== undefined && typeof options.packetZone !== "boolean") throw new MbufError("EINVAL", `fuzzThreads: packetZone is true or false, got ${describeValue(options.packetZone)}`);
  const packets = options.packetZone === true;

  const t0 = Date.now();
  // With a packet zone, the epochs are the main thread's (interval 0: no timer), one a quiescent point.
  const pool = Pool.create({ shared: true, build: options.build, tunables: TUNABLES, packetZone: packets && { interval: 0 } });
  const rings = Array.from({ length: n }, () => pool.createRing(64).shareHandle());
  const workers = Array.from({ length: n }, (_, i) => {
    const job: ThreadJob = { handle: pool.shareHandle(), index: i, seed: seed + i, out: rings[i], in: rings[(i + n - 1) % n], badRate };
    return startWorker(new URL("./thread-worker.js", import.meta.url), { workerData: job });
  });
  /** Sends `msg` to every worker; resolves with their replies, or rejects with the first worker error. */
  const all = (msg: ToWorker): Promise<FromWorker[]> => Promise.all(workers.map((w) => new Promise<FromWorker>((resolve, reject) => {
    const onError = (e: Error): void => { w.off("message", onMessage); reject(e); };
    const onMessage = (r: FromWorker): void => { w.off("error", onError); resolve(r); };
    w.once("message", onMessage).once("error", onError);
    w.postMessage(msg);
  })));

  let ops = 0, rounds = 0, denied = 0, packetHits = 0, failure: string | undefined;
  // Sends less receives, by handle: a count, not a set, since a handle freed after it was
  // received can come back from the zone and be sent again in the same round.
  const inRing = new Map<number, number>();
  try {
    while (ops < total && Date.now() - t0 < timeMs && failure === undefined) {
      const k = Math.max(1, Math.min(perRound, Math.ceil((total - ops) / n)));
      const replies = await all({ go: rounds, ops: k });
      rounds++;
      const failed = replies.find((r): r is { failed: string } => "failed" in r);
      if (failed) { failure = failed.failed; break; }
      const paused = replies as Extract<FromWorker, { paused: number }>[];
      ops += paused.reduce((a, r) => a + r.ops, 0);
      for (const r of paused) for (const h of r.sent) inRing.set(h, (inRing.get(h) ?? 0) + 1);
      for (const r of paused) for (const h of r.received) inRing.set(h, inRing.get(h)! - 1);
      for (const [h, c] of inRing) if (c === 0) inRing.delete(h);
      const problem = quiescentCheck(pool, paused, inRing, rounds);
      if (problem !== undefined) {
        // What each thread did with the handle the check names.
        const events = problem.handle === 0 ? [] : await all({ history: problem.handle });
        const told = events.map((e, i) => ("events" in e && e.events.length ? `\n  thread ${i}: ${e.events.join("; ")}` : "")).join("");
        failure = `${problem.message}${told}`;
      }
      if (failure === undefined && packets) pool.packetBalance();
      if (failure === undefined) options.onQuiescent?.(pool, rounds);
    }
    if (failure === undefined) {
      await all({ finish: true });
      const s = pool.stats(), a = pool.audit();
      denied = s.mbufs.denied + s.clusters.denied;
      packetHits = s.packets.hits;
      if (!a.ok) failure = `after every thread freed what it held: audit: ${a.message}`;
      else if (s.mbufs.current !== 0 || s.clusters.current !== 0) failure = `after every thread freed what it held: ${s.mbufs.current} mbufs and ${s.clusters.current} clusters in use`;
      else if (pool.threads().length !== 1) failure = `after every thread closed its pool: ${pool.threads().length} threads hold a slot`;
    }
  } finally {
    // Every worker is idle here (between rounds, or after its reply): ending it holds no lock.
    await Promise.all(workers.map((w) => w.terminate()));
    pool.close();
  }
  const ms = Date.now() - t0;
  return { threads: n, seed, ops, rounds, denied, packetZone: packets, packetHits, failure, ms, opsPerSecond: Math.round(ops / (ms / 1000)) };
}

/** The main thread's check at a quiescent point: what failed, and the handle it is about (0: none). */
function quiescentCheck(pool: Pool, replies: Extract<FromWorker, { paused: number }>[], inRing: Map<number, number>, round: number): { message: string; handle: number } | undefined {
  const problem = (message: string, handle = 0): { message: string; handle: number } => ({ message, handle });
  const at = `quiescent point ${round}`;
  const a = pool.audit();
  if (!a.ok) return problem(`${at}: audit: ${a.message}`, a.addr);
  const s = pool.stats();
  for (const [name, z] of [["mbufs", s.mbufs], ["clusters", s.clusters]] as const) {
    if (z.current + z.cache !== z.total) return problem(`${at}: ${name} in use (${z.current}) and cache (${z.cache}) do not add up to what the zone carved (${z.total})`);
  }
  // The heads in use, as the pool's memory has them: free-standing chains and sockets (a socket's
  // buffers and PCB are held by it, M_LINKED, and are its).
  const u16 = new Uint16Array(pool.buffer);
  const heads = new Set<number>();
  for (const g of pool.outstanding({ perGroup: 0x7fffffff }).groups) {
    for (const m of g.mbufs) {
      if (!m.head) continue;
      if ((u16[(m.handle + H.flags) >>> 1] & M_LINKED) === 0 || u16[(m.handle + H.type) >>> 1] === MT.SOCKET) heads.add(m.handle);
    }
  }
  const want = new Map<number, string>();
  replies.forEach((r, i) => {
    for (const h of r.held) want.set(h, `a chain thread ${i} holds`);
    for (const so of r.sockets) want.set(so, `a socket thread ${i} has open`);
  });
  for (const [h, c] of inRing) {
    if (c !== 1) return problem(`${at}: chain ${h} was sent ${c} times more than it was received`, h);
    want.set(h, "a chain in a ring");
  }
  for (const [h, what] of want) if (!heads.has(h)) return problem(`${at}: ${what} (${h}) is not in use in the pool`, h);
  for (const h of heads) {
    if (want.has(h)) continue;
    const t = u16[(h + H.type) >>> 1], f = u16[(h + H.flags) >>> 1], owner = new Uint32Array(pool.buffer)[(h + H.owner) >>> 2];
    return problem(`${at}: the pool has a chain ${h} in use that no thread holds (a leak): type ${t}, flags 0x${f.toString(16)}, ` +
      `owner tag ${owner} (thread ${owner - 1}), ${pool.length(h)} bytes`, h);
  }
  return undefined;
}

/** One line on a run. */
export function summarizeThreads(r: ThreadFuzzResult): string {
  return `fuzz: ${r.ops} operations on ${r.threads} threads over one shared pool${r.packetZone ? ` with a packet zone (${r.packetHits} hits)` : ""}, ${r.rounds} quiescent points, ${r.denied} requests denied, seed ${r.seed}, ` +
    `${(r.ms / 1000).toFixed(1)} s, ${r.opsPerSecond} ops/s: ${r.failure ? `FAILED: ${r.failure}` : "no failure"}`;
}
