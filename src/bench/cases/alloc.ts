// Allocation: mbufpool against its peers, side by side in one run.
//
// Group "mbuf 256 B": a get+free pair of one mbuf, single calls from JS (one
// core call each), the bulk forms (64 per call), and the peers for the same size: a plain-JS
// freelist keeping the same books (the baseline), Buffer.allocUnsafe(256),
// the AssemblyScript runtime's TLSF allocator, @thi.ng/malloc.
// Group "cluster 2 KiB": a getcl+freem pair (mbuf + cluster) and bulk, against
// new Uint8Array(2048) (the baseline), Buffer.allocUnsafeSlow(2048), TLSF and
// @thi.ng/malloc for 2048 bytes.
// Group "jumbo 9 KiB": a getjcl+freem pair of an mbuf and a 9k jumbo cluster
// (the freebsd profile's mbuf_jumbo_9k zone) against new Uint8Array(9216).
// Checks: JS heap growth and GC count over 10 million get+free pairs, and the
// share of the arena spent on metadata.

import v8 from "node:v8";
import { PerformanceObserver, performance } from "node:perf_hooks";
import { Pool } from "../../pool.js";
import { MT, M_NOWAIT, M_PKTHDR, MJUM9BYTES } from "../../constants.js";
import { GL } from "../../core/layout.js";
import type { BenchCase, BenchCheck, BenchSuite, BenchTarget } from "../types.js";
import { JsFreelist, JsHeaderFreelist } from "../peers/freelist.js";
import { TLSF_NEEDS, type Tlsf } from "../peers/tlsf.js";
import { THING_NEEDS, type MemPoolLike } from "../peers/thing.js";

/** The optional peers, as loaded (null: missing, its cases skipped). */
export interface AllocPeers {
  tlsf: Tlsf | null;
  thing: MemPoolLike | null;
}

/** A case of this file, tagged with the optional peer it measures. */
type AllocCase = BenchCase & { peer?: keyof AllocPeers };
const NEEDS: Record<keyof AllocPeers, string> = { tlsf: TLSF_NEEDS, thing: THING_NEEDS };

const MBUF = "mbuf 256 B: alloc+free pair";
const CLUSTER = "cluster 2 KiB: alloc+free pair";
const JUMBO = "jumbo 9 KiB: alloc+free pair";
const BULK = 64;
/** Pairs the garbage checks run. */
const PAIRS = 10_000_000;
/** getBulk options, made once (an object literal per call would be garbage). */
const BULK_CLUSTERS = { cluster: true, pkthdr: true };

let pool: Pool, freelist: JsFreelist, headers: JsHeaderFreelist, tlsf: Tlsf, thing: MemPoolLike;
const out = new Int32Array(BULK);
/** Keeps allocated objects reachable so that no allocation is optimised away. */
const kept: { last: unknown } = { last: null };

function setupAll(): void {
  if (pool) return;
  pool = Pool.create({ build: "release" });
  freelist = new JsFreelist(65536);
  headers = new JsHeaderFreelist(65536);
}

/** Fails the run loudly if a pool under measurement was left inconsistent. */
function auditAll(): void {
  pool.assertAudit();
  if (pool.stats().mbufs.current !== 0) throw new Error("bench: mbufs left in use");
}

const cases: AllocCase[] = [
  // === mbuf, 256 bytes ===
  {
    group: MBUF, name: "JS freelist over Int32Array (same books)", baseline: true, setup: setupAll,
    fn() { freelist.put(freelist.get(MT.DATA)); },
  },
  {
    group: MBUF, name: "mbufpool get+free", setup: setupAll, teardown: auditAll,
    fn() { pool.free(pool.get(M_NOWAIT, MT.DATA)); },
  },
  // Two floors, for what the targets ask (bench/README.md, findings 2 and 6): two JS-to-Wasm
  // calls that do no work (any single-call pair costs more), and the JS freelist that also
  // writes the mbuf header into an Int32Array (what a host-side cache must at least do).
  {
    group: MBUF, name: "floor: two core calls that return at once", setup: setupAll,
    fn() { pool.core.m_leadingspace(0); pool.core.m_leadingspace(0); },
  },
  {
    group: MBUF, name: "floor: JS freelist that also writes the mbuf header", setup: setupAll,
    fn() { headers.put(headers.get(MT.DATA)); },
  },
  {
    group: MBUF, name: `mbufpool getBulk+freemBulk of ${BULK}`, opsPerCall: BULK, setup: setupAll, teardown: auditAll,
    fn() {
      pool.getBulk(out, BULK, M_NOWAIT, MT.DATA); // no options: no object made
      pool.freemBulk(out, BULK);
    },
  },
  {
    group: MBUF, name: `mbufpool getBulk+freemBulk of ${BULK}, in place`, opsPerCall: BULK, setup: setupAll,
    teardown: auditAll,
    fn() {
      // The exchange area itself: no handle is copied (the pool is unpinned but does not grow here).
      const area = pool.bulkArea();
      pool.getBulk(area, BULK, M_NOWAIT, MT.DATA);
      pool.freemBulk(area, BULK);
    },
  },
  {
    group: MBUF, name: "Buffer.allocUnsafe(256)", setup: setupAll,
    fn() { kept.last = Buffer.allocUnsafe(256); },
  },
  {
    group: MBUF, name: "AssemblyScript TLSF heap.alloc(256)+heap.free", setup: setupAll, peer: "tlsf",
    fn() { tlsf.free(tlsf.alloc(256)); },
  },
  {
    group: MBUF, name: `AssemblyScript TLSF, ${BULK} pairs in one call`, opsPerCall: BULK, setup: setupAll, peer: "tlsf",
    fn() { tlsf.pairs(256, BULK); },
  },
  {
    group: MBUF, name: "@thi.ng/malloc malloc(256)+free", setup: setupAll, peer: "thing",
    fn() { thing.free(thing.malloc(256)); },
  },

  // === cluster, 2048 bytes ===
  {
    group: CLUSTER, name: "new Uint8Array(2048)", baseline: true, setup: setupAll,
    fn() { kept.last = new Uint8Array(2048); },
  },
  {
    group: CLUSTER, name: "mbufpool getcl+freem", setup: setupAll, teardown: auditAll,
    fn() { pool.freem(pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR)); },
  },
  {
    group: CLUSTER, name: `mbufpool getBulk+freemBulk of ${BULK} (with clusters)`, opsPerCall: BULK, setup: setupAll,
    teardown: auditAll,
    fn() {
      pool.getBulk(out, BULK, M_NOWAIT, MT.DATA, BULK_CLUSTERS);
      pool.freemBulk(out, BULK);
    },
  },
  {
    group: CLUSTER, name: `mbufpool getBulk+freemBulk of ${BULK} (with clusters), in place`, opsPerCall: BULK, setup: setupAll,
    teardown: auditAll,
    fn() {
      const area = pool.bulkArea();
      pool.getBulk(area, BULK, M_NOWAIT, MT.DATA, BULK_CLUSTERS);
      pool.freemBulk(area, BULK);
    },
  },
  {
    group: CLUSTER, name: "Buffer.allocUnsafeSlow(2048)", setup: setupAll,
    fn() { kept.last = Buffer.allocUnsafeSlow(2048); },
  },
  {
    group: CLUSTER, name: "AssemblyScript TLSF heap.alloc(2048)+heap.free", setup: setupAll, peer: "tlsf",
    fn() { tlsf.free(tlsf.alloc(2048)); },
  },
  {
    group: CLUSTER, name: "@thi.ng/malloc malloc(2048)+free", setup: setupAll, peer: "thing",
    fn() { thing.free(thing.malloc(2048)); },
  },

  // === jumbo cluster, 9216 bytes ===
  {
    group: JUMBO, name: "new Uint8Array(9216)", baseline: true, setup: setupAll,
    fn() { kept.last = new Uint8Array(MJUM9BYTES); },
  },
  {
    group: JUMBO, name: "mbufpool getjcl(MJUM9BYTES)+freem", setup: setupAll, teardown: auditAll,
    fn() { pool.freem(pool.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, MJUM9BYTES)); },
  },
];

const ref = (group: string, name: string) => ({ group, name });

/** The speed targets, as ratios of cases of the same run. */
const targets: BenchTarget[] = [
  {
    name: "single-call get+free at least as fast as the JS freelist with the same books",
    case: ref(MBUF, "mbufpool get+free"), versus: ref(MBUF, "JS freelist over Int32Array (same books)"), atLeast: 1,
  },
  {
    name: `bulk ${BULK} (in place, the fastest bulk form) at least 2x the JS freelist's single pair rate`,
    case: ref(MBUF, `mbufpool getBulk+freemBulk of ${BULK}, in place`), versus: ref(MBUF, "JS freelist over Int32Array (same books)"),
    atLeast: 2,
  },
  // Both forms, single calls and bulk, for each of the next two.
  {
    name: "get+free (single calls) at least 8x Buffer.allocUnsafe(256)",
    case: ref(MBUF, "mbufpool get+free"), versus: ref(MBUF, "Buffer.allocUnsafe(256)"), atLeast: 8,
  },
  {
    name: `getBulk+freemBulk of ${BULK}, in place, at least 8x Buffer.allocUnsafe(256)`,
    case: ref(MBUF, `mbufpool getBulk+freemBulk of ${BULK}, in place`), versus: ref(MBUF, "Buffer.allocUnsafe(256)"), atLeast: 8,
  },
  {
    name: "getcl+freem (single calls, mbuf + 2 KiB cluster) at least 100x new Uint8Array(2048)",
    case: ref(CLUSTER, "mbufpool getcl+freem"), versus: ref(CLUSTER, "new Uint8Array(2048)"), atLeast: 100,
  },
  {
    name: `getBulk+freemBulk of ${BULK} with clusters, in place, at least 100x new Uint8Array(2048)`,
    case: ref(CLUSTER, `mbufpool getBulk+freemBulk of ${BULK} (with clusters), in place`), versus: ref(CLUSTER, "new Uint8Array(2048)"),
    atLeast: 100,
  },
];

/** Bytes in use in the JS heap's object spaces (code space left out: compiling the loop is not garbage). */
function heapUsed(): number {
  let n = 0;
  for (const sp of v8.getHeapSpaceStatistics()) if (!sp.space_name.startsWith("code")) n += sp.space_used_size;
  return n;
}

/**
 * Counts GC events and JS heap growth over `fn`, after running it twice to
 * warm up (so the measured run executes settled, optimised code).
 */
async function garbage(fn: () => void): Promise<{ gcs: number; heapGrowth: number; ms: number }> {
  fn();
  fn();
  const gcs: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push(e.startTime);
  });
  obs.observe({ entryTypes: ["gc"] });
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 50));
  const before = heapUsed();
  const t0 = performance.now();
  fn();
  const t1 = performance.now();
  const after = heapUsed();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return { gcs: gcs.filter((t) => t >= t0 && t <= t1).length, heapGrowth: after - before, ms: t1 - t0 };
}

const checks: BenchCheck[] = [
  {
    group: "garbage", name: "10 million mbufpool get+free pairs",
    async run() {
      setupAll();
      const p = pool;
      const g = await garbage(() => {
        for (let i = 0; i < PAIRS; i++) p.free(p.get(M_NOWAIT, MT.DATA));
      });
      return {
        figures: { gcCount: g.gcs, heapGrowthBytes: g.heapGrowth, bytesPerPair: +(g.heapGrowth / PAIRS).toFixed(4), ms: Math.round(g.ms) },
        // One object per pair would be 16 bytes or more a pair, and scavenges by the dozen.
        ok: g.gcs === 0 && g.heapGrowth < PAIRS / 100,
        expected: "no GC, heap growth under 1 byte per 100 pairs (measuring noise)",
      };
    },
  },
  {
    group: "garbage", name: "for contrast: 10 million Buffer.allocUnsafe(256)",
    async run() {
      const g = await garbage(() => {
        for (let i = 0; i < PAIRS; i++) kept.last = Buffer.allocUnsafe(256);
      });
      return {
        figures: { gcCount: g.gcs, heapGrowthBytes: g.heapGrowth, bytesPerPair: +(g.heapGrowth / PAIRS).toFixed(4), ms: Math.round(g.ms) },
        ok: true,
        expected: "(a peer: GCs expected)",
      };
    },
  },
  {
    group: "metadata", name: "metadata outside the items, default freebsd pool (32 MiB arena)",
    async run() {
      const pool = Pool.create({ build: "release" });
      const u32 = new Uint32Array(pool.buffer);
      const gw = (pool.core.MB_STATS.value + pool.core.MB_GLOBAL.value) >>> 2;
      const pageMeta = u32[gw + GL.pageMeta / 4], arenaBase = u32[gw + GL.arenaBase / 4];
      const arena = u32[gw + GL.maxPages / 4] * 4096;
      pool.close();
      const tables = (arenaBase - pageMeta) / arena, all = arenaBase / arena;
      return {
        figures: {
          arenaBytes: arena, tableBytes: arenaBase - pageMeta, staticBytes: pageMeta,
          tablesPercent: +(tables * 100).toFixed(3), allBelowArenaPercent: +(all * 100).toFixed(3),
        },
        ok: all < 0.01,
        expected: "everything below the arena (static data, page table, ref and scratch tables) under 1% of it",
      };
    },
  },
];

/** The allocation cases the loaded peers allow; the others skipped with what they need. */
export function allocSuite(peers: AllocPeers): BenchSuite {
  if (peers.tlsf) tlsf = peers.tlsf;
  if (peers.thing) thing = peers.thing;
  const has = (c: AllocCase): boolean => c.peer === undefined || peers[c.peer] !== null;
  return {
    cases: cases.filter(has),
    targets,
    checks,
    skipped: cases.filter((c) => !has(c)).map((c) => ({ group: c.group, name: c.name, needs: NEEDS[c.peer!] })),
  };
}
