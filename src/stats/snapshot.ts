// Snapshots: plain objects read from the counters block through typed-array
// views, with no call into the core.

import { MT_NTYPES, MSIZE, PAGE_SIZE, ZONE_JUMBOP, ZONE_JUMBO9, ZONE_JUMBO16 } from "../constants.js";
import { Z, GL } from "../core/layout.js";

/** What netm has done (src/netm.ts). */
export interface NetmStats {
  enabled: boolean;
  /** Ticks that looked at the marks. */
  ticks: number;
  /** Ticks that had work (a mark was crossed): netm dispatches. */
  runs: number;
  /** Dispatches that added items to a zone / gave cluster pages back. */
  growths: number;
  shrinks: number;
  /** A growth right after a shrink, or a shrink right after a growth: thrashing. */
  reversals: number;
  /** Growths that found the zone at its limit or the arena at thewall. */
  blocked: number;
  mbufsAdded: number;
  clustersAdded: number;
  pagesReleased: number;
}

/** Counters of a pool without netm. */
export const NETM_OFF: Readonly<NetmStats> = Object.freeze({
  enabled: false, ticks: 0, runs: 0, growths: 0, shrinks: 0, reversals: 0, blocked: 0,
  mbufsAdded: 0, clustersAdded: 0, pagesReleased: 0,
});

/** Waiting-allocation counters (src/waiting/queue.ts). */
export interface WaitStats {
  /** Requests waiting now, and how many of them are of the receive class. */
  waiting: number;
  receiveWaiting: number;
  /** Requests that had to wait. */
  waited: number;
  /** Waiters served with a buffer, and waiters that gave up. */
  served: number;
  timedOut: number;
  /** Whether the reservation flag is raised automatically for waiting receivers (the pool's setting). */
  autoFlag: boolean;
}

/** One zone's figures. */
export interface ZoneStats {
  /** Bytes per item. */
  size: number;
  /** Most items the zone may hold. */
  limit: number;
  /** Items in use (total - cache). */
  current: number;
  /** Free items: held by the zone, or parked in the packet cache (never counted as in use). */
  cache: number;
  /** Items carved (current + cache). */
  total: number;
  /** Highest total ever. */
  peak: number;
  /** Arena pages the zone owns. */
  pages: number;
  allocs: number;
  frees: number;
  /** Requests that failed without waiting. */
  denied: number;
  /** Requests that failed and were left to wait. */
  delayed: number;
  /** Pages taken from / given back to the arena. */
  pagesIn: number;
  pagesOut: number;
}

/** The packet zone's figures, in mbuf+cluster pairs (src/packet.ts, assembly/packet.ts). */
export interface PacketStats {
  /** Balancing mode: `off` when the pool has no packet zone. */
  mode: "off" | "none" | "watermark" | "median";
  /** Pairs out of the packet zone in use (netstat's current). */
  current: number;
  /** Pairs parked in the cache (netstat's cache); also counted as cache in `mbufs` and `clusters`. */
  cache: number;
  /** current + cache, and its highest value. */
  total: number;
  peak: number;
  /** getcl calls served from the cache, and those it could not serve. */
  hits: number;
  misses: number;
  /** Whole pairs parked by frees. */
  parked: number;
  /** Refill batches, pairs they joined, and the size of the last one. */
  refills: number;
  refilled: number;
  lastRefill: number;
  /** Drain batches, pairs they split back, and the size of the last one. */
  drains: number;
  drained: number;
  lastDrain: number;
  /** Whole-cache returns when a zone ran dry or on reclaim, and the pairs they split back. */
  reclaims: number;
  reclaimed: number;
  /** getcl requests that failed (netstat's mbuf+clusters column). */
  denied: number;
  delayed: number;
  /** The policy's last decision: the level it aims at and the band it tolerates. */
  target: number;
  low: number;
  high: number;
}

/** The host-side state of the packet zone's policy that a snapshot reports. */
export interface PacketPolicyState {
  mode: PacketStats["mode"];
  target: number;
  low: number;
  high: number;
}

/** Everything the pool counts, at one moment. */
export interface PoolStats {
  profile: string;
  msize: number;
  mclbytes: number;
  mbufs: ZoneStats;
  clusters: ZoneStats;
  /** mbuf+cluster pairs of the packet zone. */
  packets: PacketStats;
  /** mbufs in use by type (index = MT_* value). */
  census: number[];
  /** Calls to protocol drain routines. */
  drains: number;
  /** Cluster requests refused by the reservation flag or reserve. */
  reservedDenied: number;
  /** FreeBSD 4's m_mcfail / m_mpfail (m_copym / m_pullup failures). */
  mcfail: number;
  mpfail: number;
  /** The reservation: the core's flag now, the receive-only reserve, and whether waiting receivers raise the flag. */
  reservation: { flag: boolean; count: number; auto: boolean };
  /** Waiting allocation (M_WAITOK). */
  waits: WaitStats;
  /** netm's dispatches, growths and shrinks. */
  netm: NetmStats;
  /** Debug build: free items found written after free (poison damaged); always 0 in release. */
  writeAfterFree: number;
  arena: {
    /** The cap, in bytes (thewall). */
    thewall: number;
    pageSize: number;
    maxPages: number;
    /** Pages ever carved from memory. */
    carvedPages: number;
    /** Pages on the arena's free list. */
    freePages: number;
    /** Pages owned by zones. */
    zonePages: number;
    pinned: boolean;
  };
  /**
   * The jumbo zones (modern FreeBSD's mbuf_jumbo_page, mbuf_jumbo_9k, mbuf_jumbo_16k), or null
   * on a profile whose system has none.
   */
  jumbo: JumboStats | null;
  /** The jumbo zones' limits (kern.ipc.nmbjumbop, nmbjumbo9, nmbjumbo16; 0 where there are none). */
  jumboLimits: { page: number; nine: number; sixteen: number };
}

/** The three jumbo zones, each a zone like the cluster zone (its size is 4096, 9216 or 16384). */
export interface JumboStats {
  page: ZoneStats;
  nine: ZoneStats;
  sixteen: ZoneStats;
}

/** Reads one zone record. */
function zone(u32: Uint32Array, f64: Float64Array, base: number, cached = 0): ZoneStats {
  const w = base >>> 2, d = base >>> 3;
  // A shared pool's threads keep free items on stacks of their own (assembly/cache.ts): cache, not use.
  const total = u32[w + Z.total / 4], cache = u32[w + Z.free / 4] + cached;
  return {
    size: u32[w + Z.itemSize / 4],
    limit: u32[w + Z.limit / 4],
    current: total - cache,
    cache,
    total,
    peak: u32[w + Z.peak / 4],
    pages: u32[w + Z.pages / 4],
    allocs: f64[d + Z.allocs / 8],
    frees: f64[d + Z.frees / 8],
    denied: f64[d + Z.denied / 8],
    delayed: f64[d + Z.delayed / 8],
    pagesIn: f64[d + Z.pagesIn / 8],
    pagesOut: f64[d + Z.pagesOut / 8],
  };
}

/**
 * Reads the packet zone's record (zone slot 3, a zone record like the others:
 * its allocations are cache hits, its frees parked pairs) and its global counters.
 */
function packetStats(u32: Uint32Array, f64: Float64Array, base: number, g: number, policy?: PacketPolicyState): PacketStats {
  const z = zone(u32, f64, base), gw = g >>> 2, gd = g >>> 3;
  return {
    mode: policy?.mode ?? "off",
    current: z.current,
    cache: z.cache,
    total: z.total,
    peak: z.peak,
    hits: z.allocs,
    misses: f64[gd + GL.pktMisses / 8],
    parked: z.frees,
    refills: f64[gd + GL.pktRefills / 8],
    refilled: f64[gd + GL.pktRefilled / 8],
    lastRefill: u32[gw + GL.pktLastRefill / 4],
    drains: f64[gd + GL.pktDrains / 8],
    drained: f64[gd + GL.pktDrained / 8],
    lastDrain: u32[gw + GL.pktLastDrain / 4],
    reclaims: f64[gd + GL.pktReclaims / 8],
    reclaimed: f64[gd + GL.pktReclaimed / 8],
    denied: z.denied,
    delayed: z.delayed,
    target: policy?.target ?? 0,
    low: policy?.low ?? 0,
    high: policy?.high ?? 0,
  };
}

/** Builds a snapshot from the counters block at `stats` (global part at `stats + global`). */
export function readSnapshot(
  buffer: ArrayBuffer, stats: number, zoneBytes: number, global: number,
  meta: { profile: string; mclbytes: number; packet?: PacketPolicyState },
): PoolStats {
  const u32 = new Uint32Array(buffer), f64 = new Float64Array(buffer);
  const g = stats + global, gw = g >>> 2, gd = g >>> 3;
  const census: number[] = [];
  for (let t = 0; t < MT_NTYPES; t++) census.push(u32[gw + t]);
  const mbufs = zone(u32, f64, stats + zoneBytes * 1, u32[gw + GL.cachedMbufs / 4]);
  const clusters = zone(u32, f64, stats + zoneBytes * 2, u32[gw + GL.cachedClusters / 4]);
  const packets = packetStats(u32, f64, stats + zoneBytes * 3, g, meta.packet);
  // Parked pairs are cache, not use, in both native zones' figures.
  mbufs.current -= packets.cache;
  mbufs.cache += packets.cache;
  clusters.current -= packets.cache;
  clusters.cache += packets.cache;
  // Jumbo zones set up by the core have an item size; on other profiles their records are zero.
  const jp = stats + zoneBytes * ZONE_JUMBOP;
  const jumbo: JumboStats | null = u32[(jp + Z.itemSize) >>> 2] === 0 ? null : {
    page: zone(u32, f64, jp),
    nine: zone(u32, f64, stats + zoneBytes * ZONE_JUMBO9),
    sixteen: zone(u32, f64, stats + zoneBytes * ZONE_JUMBO16),
  };
  const jumboPages = jumbo ? jumbo.page.pages + jumbo.nine.pages + jumbo.sixteen.pages : 0;
  return {
    profile: meta.profile,
    msize: MSIZE,
    mclbytes: meta.mclbytes,
    mbufs,
    clusters,
    packets,
    census,
    drains: f64[gd + GL.drains / 8],
    reservedDenied: f64[gd + GL.resvDenied / 8],
    mcfail: f64[gd + GL.mcfail / 8],
    mpfail: f64[gd + GL.mpfail / 8],
    reservation: { flag: u32[gw + GL.resvFlag / 4] !== 0, count: u32[gw + GL.resvCount / 4], auto: false },
    waits: { waiting: 0, receiveWaiting: 0, waited: 0, served: 0, timedOut: 0, autoFlag: false },
    netm: { ...NETM_OFF },
    writeAfterFree: f64[gd + GL.poisonHits / 8],
    arena: {
      thewall: u32[gw + GL.maxPages / 4] * PAGE_SIZE,
      pageSize: PAGE_SIZE,
      maxPages: u32[gw + GL.maxPages / 4],
      carvedPages: u32[gw + GL.top / 4],
      freePages: u32[gw + GL.freePages / 4],
      zonePages: mbufs.pages + clusters.pages + jumboPages,
      pinned: u32[gw + GL.pinned / 4] !== 0,
    },
    jumbo,
    jumboLimits: { page: jumbo?.page.limit ?? 0, nine: jumbo?.nine.limit ?? 0, sixteen: jumbo?.sixteen.limit ?? 0 },
  };
}

/**
 * Network bytes in use and cached, as modern FreeBSD counts them. The snapshot's
 * zone figures are already FreeBSD's current/cache (packet-cache pairs count as cache).
 */
export function networkBytes(s: PoolStats): { inUse: number; cache: number } {
  let inUse = s.mbufs.current * s.msize + s.clusters.current * s.mclbytes;
  let cache = s.mbufs.cache * s.msize + s.clusters.cache * s.mclbytes;
  if (s.jumbo) {
    for (const z of [s.jumbo.page, s.jumbo.nine, s.jumbo.sixteen]) {
      inUse += z.current * z.size;
      cache += z.cache * z.size;
    }
  }
  return { inUse, cache };
}
