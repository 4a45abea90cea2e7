// The JSON report: every counter of a snapshot under stable, documented field
// names. The document is versioned: a field is never renamed or given a new
// meaning within a version; new fields may be added.

import { networkBytes, type PoolStats, type ZoneStats } from "./snapshot.js";
import { MT_NAMES } from "../constants.js";

/** Schema name and version of the JSON report. */
export const STATS_JSON_SCHEMA = "mbufpool.stats";
export const STATS_JSON_VERSION = 1;

/** One zone in the JSON report (counts of items unless named otherwise). */
export interface ZoneJSON {
  /** Bytes per item. */
  sizeBytes: number;
  /** Most items the zone may hold. */
  limit: number;
  /** Items in use. */
  inUse: number;
  /** Free items held by the zone. */
  cache: number;
  /** Items carved (inUse + cache). */
  total: number;
  /** Highest total ever. */
  peak: number;
  /** Arena pages the zone owns. */
  pages: number;
  /** Successful allocations, ever. */
  allocs: number;
  /** Frees, ever. */
  frees: number;
  /** Requests that failed without waiting. */
  denied: number;
  /** Requests that failed and were left to wait. */
  delayed: number;
  /** Pages taken from / given back to the arena, ever. */
  pagesIn: number;
  pagesOut: number;
}

/** The JSON report, version 1. */
export interface StatsJSON {
  schema: typeof STATS_JSON_SCHEMA;
  version: typeof STATS_JSON_VERSION;
  profile: string;
  msizeBytes: number;
  mclbytesBytes: number;
  zones: { mbuf: ZoneJSON; cluster: ZoneJSON };
  /** mbuf+cluster pairs of the packet zone. */
  packets: { inUse: number; cache: number };
  /** mbufs in use by type name (RTEMS's census names: data, header, socket, pcb, ...). */
  types: Record<string, number>;
  /** Bytes allocated to network, by modern FreeBSD's arithmetic. */
  network: { inUseBytes: number; cacheBytes: number; totalBytes: number };
  /** Calls to protocol drain routines. */
  drains: number;
  /** Cluster requests refused by the reservation flag or reserve. */
  reservedDenied: number;
  /** m_copym / m_pullup failures. */
  copymFailures: number;
  pullupFailures: number;
  reservation: { flag: boolean; clusters: number };
  arena: {
    limitBytes: number; pageBytes: number; maxPages: number;
    carvedPages: number; freePages: number; zonePages: number; pinned: boolean;
  };
  /** The jumbo zones (modern FreeBSD's mbuf_jumbo_page, _9k, _16k), or null on a profile without them. */
  jumbo: { page: ZoneJSON; nine: ZoneJSON; sixteen: ZoneJSON } | null;
  /** The jumbo zones' limits (0 on a profile without them). */
  jumboLimits: { page: number; nine: number; sixteen: number };
}

const zoneJSON = (z: ZoneStats): ZoneJSON => ({
  sizeBytes: z.size, limit: z.limit, inUse: z.current, cache: z.cache, total: z.total, peak: z.peak,
  pages: z.pages, allocs: z.allocs, frees: z.frees, denied: z.denied, delayed: z.delayed,
  pagesIn: z.pagesIn, pagesOut: z.pagesOut,
});

/** The JSON report as an object. */
export function statsJSON(s: PoolStats): StatsJSON {
  const types: Record<string, number> = {};
  for (let t = 1; t < s.census.length; t++) types[MT_NAMES[t] ?? `type${t}`] = s.census[t];
  const net = networkBytes(s);
  return {
    schema: STATS_JSON_SCHEMA,
    version: STATS_JSON_VERSION,
    profile: s.profile,
    msizeBytes: s.msize,
    mclbytesBytes: s.mclbytes,
    zones: { mbuf: zoneJSON(s.mbufs), cluster: zoneJSON(s.clusters) },
    packets: { inUse: s.packets.current, cache: s.packets.cache },
    types,
    network: { inUseBytes: net.inUse, cacheBytes: net.cache, totalBytes: net.inUse + net.cache },
    drains: s.drains,
    reservedDenied: s.reservedDenied,
    copymFailures: s.mcfail,
    pullupFailures: s.mpfail,
    reservation: { flag: s.reservation.flag, clusters: s.reservation.count },
    arena: {
      limitBytes: s.arena.thewall, pageBytes: s.arena.pageSize, maxPages: s.arena.maxPages,
      carvedPages: s.arena.carvedPages, freePages: s.arena.freePages, zonePages: s.arena.zonePages,
      pinned: s.arena.pinned,
    },
    jumbo: s.jumbo ? { page: zoneJSON(s.jumbo.page), nine: zoneJSON(s.jumbo.nine), sixteen: zoneJSON(s.jumbo.sixteen) } : null,
    jumboLimits: { ...s.jumboLimits },
  };
}

/** The JSON report as text (two-space indent, final newline). */
export function formatJSON(s: PoolStats): string {
  return JSON.stringify(statsJSON(s), null, 2) + "\n";
}
