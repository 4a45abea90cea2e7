// Snapshots: plain objects read from the counters block through typed-array
// views, with no call into the core.

import { MT_NTYPES, MSIZE, PAGE_SIZE } from "../constants.js";
import { Z, GL } from "../core/layout.js";

/** One zone's figures. */
export interface ZoneStats {
  /** Bytes per item. */
  size: number;
  /** Most items the zone may hold. */
  limit: number;
  /** Items in use (total - cache). */
  current: number;
  /** Free items held by the zone. */
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

/** Everything the pool counts, at one moment. */
export interface PoolStats {
  profile: string;
  msize: number;
  mclbytes: number;
  mbufs: ZoneStats;
  clusters: ZoneStats;
  /** mbuf+cluster pairs of the packet zone (none yet: in use and cache are 0). */
  packets: { current: number; cache: number };
  /** mbufs in use by type (index = MT_* value). */
  census: number[];
  /** Calls to protocol drain routines. */
  drains: number;
  /** Cluster requests refused by the reservation flag or reserve. */
  reservedDenied: number;
  /** FreeBSD 4's m_mcfail / m_mpfail (m_copym / m_pullup failures). */
  mcfail: number;
  mpfail: number;
  reservation: { flag: boolean; count: number };
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
  /** Limits reported for zones the pool does not allocate (modern FreeBSD's jumbo zones). */
  jumboLimits: { page: number; nine: number; sixteen: number };
}

/** Reads one zone record. */
function zone(u32: Uint32Array, f64: Float64Array, base: number): ZoneStats {
  const w = base >>> 2, d = base >>> 3;
  const total = u32[w + Z.total / 4], cache = u32[w + Z.free / 4];
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

/** Builds a snapshot from the counters block at `stats` (global part at `stats + global`). */
export function readSnapshot(
  buffer: ArrayBuffer, stats: number, zoneBytes: number, global: number,
  meta: { profile: string; mclbytes: number; jumboLimits: PoolStats["jumboLimits"] },
): PoolStats {
  const u32 = new Uint32Array(buffer), f64 = new Float64Array(buffer);
  const g = stats + global, gw = g >>> 2, gd = g >>> 3;
  const census: number[] = [];
  for (let t = 0; t < MT_NTYPES; t++) census.push(u32[gw + t]);
  const mbufs = zone(u32, f64, stats + zoneBytes * 1);
  const clusters = zone(u32, f64, stats + zoneBytes * 2);
  return {
    profile: meta.profile,
    msize: MSIZE,
    mclbytes: meta.mclbytes,
    mbufs,
    clusters,
    packets: { current: 0, cache: 0 },
    census,
    drains: f64[gd + GL.drains / 8],
    reservedDenied: f64[gd + GL.resvDenied / 8],
    mcfail: f64[gd + GL.mcfail / 8],
    mpfail: f64[gd + GL.mpfail / 8],
    reservation: { flag: u32[gw + GL.resvFlag / 4] !== 0, count: u32[gw + GL.resvCount / 4] },
    writeAfterFree: f64[gd + GL.poisonHits / 8],
    arena: {
      thewall: u32[gw + GL.maxPages / 4] * PAGE_SIZE,
      pageSize: PAGE_SIZE,
      maxPages: u32[gw + GL.maxPages / 4],
      carvedPages: u32[gw + GL.top / 4],
      freePages: u32[gw + GL.freePages / 4],
      zonePages: mbufs.pages + clusters.pages,
      pinned: u32[gw + GL.pinned / 4] !== 0,
    },
    jumboLimits: meta.jumboLimits,
  };
}
