// A shared pool (Pool.create({ shared: true })) against an unshared one: what
// the pool lock costs one thread, and what a second thread gets from it.
//
// Group "shared pool": a get+free pair on an unshared pool (the baseline) and
// on a shared pool, where the pair runs through the thread's own cache
// (assembly/cache.ts): no mutex, but a reader flag raised and lowered by each
// call and the free's claim, all sequentially consistent atomics; and the
// floor, those atomics alone (peers/atomics.ts), which bounds what any sound
// design of the single-call pair can reach. Its getcl
// group: a packet, and on a shared pool with a packet zone, whose pairs are
// one list under the pool lock. Check
// "threads": get+free pairs/s of one worker thread on a shared pool, then of
// two at once, with single calls and with bulk calls of 32 (which run through
// the thread's lane, assembly/lane.ts): the caches share no word between the
// threads, so two threads should make more pairs than one (the target is 1.8x
// on two cores).

import { once } from "node:events";
import { startWorker } from "./start-worker.js";
import { Pool } from "../../pool.js";
import { MT, M_NOWAIT } from "../../constants.js";
import type { BenchCase, BenchCheck, BenchSuite } from "../types.js";
import { handoffChecks } from "./handoff.js";
import { loadAtomicsFloor, type AtomicsFloor } from "../peers/atomics.js";

const GROUP = "shared pool: get+free pair, one thread";
/** Pairs each worker runs per measurement: single calls, and bulk (about 3x faster, so a run long enough that the threads' start and end skew is small against it). */
const PAIRS = 2_000_000, BULK_PAIRS = 10_000_000;

/** Group "shared pool: getcl+free": a packet on each pool, the unshared one with its packet zone (the freebsd default). */
const PACKET_GROUP = "shared pool: getcl+free pair, one thread";

let plain: Pool | undefined, shared: Pool | undefined, sharedPackets: Pool | undefined;
let floor: AtomicsFloor | undefined;

function setupBoth(): void {
  floor ??= loadAtomicsFloor();
  plain ??= Pool.create({ build: "release" });
  shared ??= Pool.create({ build: "release", shared: true });
  sharedPackets ??= Pool.create({ build: "release", shared: true, packetZone: { interval: 0 } });
}

/** Fails the run loudly if a pool under measurement was left inconsistent. */
function auditBoth(): void {
  for (const p of [plain, shared, sharedPackets]) {
    p?.assertAudit();
    if (p && p.stats().mbufs.current !== 0) throw new Error("bench: mbufs left in use");
  }
}

// One loop literal per case: V8 shares feedback between closures of one literal.
const cases: BenchCase[] = [
  {
    group: GROUP, name: "unshared pool get+free", baseline: true, setup: setupBoth, teardown: auditBoth,
    fn() { plain!.free(plain!.get(M_NOWAIT, MT.DATA)); },
  },
  {
    group: GROUP, name: "shared pool get+free (through the thread's cache)", setup: setupBoth, teardown: auditBoth,
    fn() { shared!.free(shared!.get(M_NOWAIT, MT.DATA)); },
  },
  {
    // What no sound shared pool can beat: the same two calls with only their atomics.
    group: GROUP, name: "floor: the atomics alone of a shared pair, 4 seq-cst stores and 1 compare-exchange (no pool)", setup: setupBoth,
    fn() { floor!.get(); floor!.free(); },
  },
  {
    group: PACKET_GROUP, name: "unshared pool getcl+free (a packet zone hit)", baseline: true, setup: setupBoth, teardown: auditBoth,
    fn() { plain!.free(plain!.getcl(M_NOWAIT, MT.DATA)); },
  },
  {
    group: PACKET_GROUP, name: "shared pool getcl+free (through the thread's cache)", setup: setupBoth, teardown: auditBoth,
    fn() { shared!.free(shared!.getcl(M_NOWAIT, MT.DATA)); },
  },
  {
    group: PACKET_GROUP, name: "shared pool with a packet zone getcl+free (under the lock)", setup: setupBoth, teardown: auditBoth,
    fn() { sharedPackets!.free(sharedPackets!.getcl(M_NOWAIT, MT.DATA)); },
  },
];

/** Pairs per second of `threads` workers running PAIRS (BULK_PAIRS in bulk) each at once on one shared pool. */
async function pairsPerSecond(pool: Pool, threads: number, bulk = false): Promise<number> {
  const handle = pool.shareHandle();
  const workers = Array.from({ length: threads }, () => startWorker("shared-worker", { handle }));
  try {
    // A first short run attaches and warms each worker up.
    await Promise.all(workers.map((w) => { w.postMessage({ pairs: 100_000, bulk }); return once(w, "message"); }));
    const ms = await Promise.all(workers.map(async (w) => {
      w.postMessage({ pairs: bulk ? BULK_PAIRS : PAIRS, bulk });
      return (await once(w, "message"))[0] as number;
    }));
    return (threads * (bulk ? BULK_PAIRS : PAIRS)) / (Math.max(...ms) / 1000);
  } finally {
    for (const w of workers) {
      w.postMessage(0);
      await once(w, "exit");
    }
  }
}

const checks: BenchCheck[] = [
  {
    group: "threads", name: "get+free pairs/s on one shared pool: 1 worker thread, then 2 at once (single calls, then bulk)",
    async run() {
      const pool = Pool.create({ build: "release", shared: true });
      try {
        const one = await pairsPerSecond(pool, 1);
        const two = await pairsPerSecond(pool, 2);
        const oneBulk = await pairsPerSecond(pool, 1, true);
        const twoBulk = await pairsPerSecond(pool, 2, true);
        const s = pool.stats();
        const clean = pool.audit().ok && s.mbufs.current === 0 && s.mbufs.allocs === s.mbufs.frees;
        return {
          figures: {
            oneThread: Math.round(one), twoThreads: Math.round(two), ratio: +(two / one).toFixed(3),
            oneThreadBulk: Math.round(oneBulk), twoThreadsBulk: Math.round(twoBulk), bulkRatio: +(twoBulk / oneBulk).toFixed(3),
          },
          ok: clean,
          expected: "every pair made and the audit clean; the target is a ratio of at least 1.8 on two cores, single calls and bulk of 32",
        };
      } finally {
        pool.close();
      }
    },
  },
];

/** The shared-pool cases and the threads check. */
export function sharedSuite(): BenchSuite {
  return { cases, checks: [...checks, ...handoffChecks] };
}
