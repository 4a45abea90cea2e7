// `vmstat -z` for the pool's zones, as FreeBSD prints UMA zones
// (usr.bin/vmstat: "%-20s %6ju, %6ju,%8ju,%8ju,%8ju,%4ju,%4ju" under
// "ITEM  SIZE  LIMIT  USED  FREE  REQ FAIL SLEEP"), and the type census.
// FAIL counts requests denied, SLEEP requests delayed (left to wait).

import type { PoolStats, ZoneStats } from "./snapshot.js";
import { MT_NAMES } from "../constants.js";

/** One row of the zone table. */
export interface ZoneRow {
  /** UMA's zone name: mbuf_packet, mbuf, mbuf_cluster, and on freebsd mbuf_jumbo_page, mbuf_jumbo_9k, mbuf_jumbo_16k. */
  item: string;
  size: number;
  /** 0 means no limit of its own, as UMA prints it. */
  limit: number;
  used: number;
  free: number;
  /** Successful allocations, ever. */
  req: number;
  fail: number;
  sleep: number;
}

/** The pool's zones as rows (the packet zone first, as FreeBSD lists it). */
export function zoneRows(s: PoolStats): ZoneRow[] {
  // UMA's raw per-zone view: the packet zone's pairs (in use or parked) are not the
  // mbuf zone's items, and the cluster zone counts the clusters parked in the packet
  // cache as allocated (the seed 002 confusion that netstat -m's arithmetic undoes).
  const p = s.packets;
  return [
    { item: "mbuf_packet", size: s.msize, limit: 0, used: p.current, free: p.cache, req: p.hits + p.misses, fail: p.denied, sleep: p.delayed },
    { item: "mbuf", size: s.mbufs.size, limit: s.mbufs.limit, used: s.mbufs.current - p.current, free: s.mbufs.cache - p.cache,
      req: s.mbufs.allocs, fail: s.mbufs.denied, sleep: s.mbufs.delayed },
    { item: "mbuf_cluster", size: s.clusters.size, limit: s.clusters.limit, used: s.clusters.current + p.cache, free: s.clusters.cache - p.cache,
      req: s.clusters.allocs, fail: s.clusters.denied, sleep: s.clusters.delayed },
    ...(s.jumbo ? JUMBO_ZONES.map(([item, key]) => jumboRow(item, s.jumbo![key])) : []),
  ];
}

/** UMA's names of the jumbo zones, in vmstat's order, and their snapshot keys. */
const JUMBO_ZONES = [["mbuf_jumbo_page", "page"], ["mbuf_jumbo_9k", "nine"], ["mbuf_jumbo_16k", "sixteen"]] as const;

/** A jumbo zone's row: its own items, no packet cache in between. */
function jumboRow(item: string, z: ZoneStats): ZoneRow {
  return { item, size: z.size, limit: z.limit, used: z.current, free: z.cache, req: z.allocs, fail: z.denied, sleep: z.delayed };
}

/** The type census as [name, count] pairs, in type order (every type, zeros included). */
export function typeCensus(s: PoolStats): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (let t = 1; t < s.census.length; t++) out.push([MT_NAMES[t] ?? `type${t}`, s.census[t]]);
  return out;
}

const num = (n: number, w: number): string => String(n).padStart(w);

/** FreeBSD's `vmstat -z` header and one line per zone. */
export function formatVmstatZ(s: PoolStats): string {
  let out = "ITEM                   SIZE  LIMIT     USED     FREE      REQ FAIL SLEEP\n\n";
  for (const r of zoneRows(s)) {
    out += `${(r.item + ":").padEnd(20)} ${num(r.size, 6)}, ${num(r.limit, 6)},${num(r.used, 8)},${num(r.free, 8)},${num(r.req, 8)},${num(r.fail, 4)},${num(r.sleep, 4)}\n`;
  }
  return out;
}

/** The type census of mbufs in use: one `TYPE  INUSE` line per non-zero type. */
export function formatCensus(s: PoolStats): string {
  let out = "TYPE          INUSE\n";
  for (const [name, n] of typeCensus(s)) if (n) out += `${name.padEnd(10)}${num(n, 10)}\n`;
  return out;
}

/** What a shared pool's thread keeps in its cache (pool.threads()), as the report needs it. */
export interface ThreadCacheRow {
  slot: number;
  threadId: number;
  self: boolean;
  cache: { mbufs: number; clusters: number };
}

/** What a shared pool's depot holds (pool.depot()). */
export interface DepotRow {
  mbufs: number;
  clusters: number;
}

/**
 * A shared pool's per-thread caches, as UMA's per-CPU buckets are counted apart from the zone
 * (libmemstat's per-CPU free counts): one line per thread, the part of each zone's FREE that
 * the thread's cache holds, then a `depot` line for the full buckets between the threads (UMA's
 * zone bucket cache). The rest of FREE is on the zone's own freelist.
 */
export function formatThreadCaches(threads: readonly ThreadCacheRow[], depot?: DepotRow): string {
  let out = "THREAD           SLOT     mbuf mbuf_cluster\n";
  for (const t of threads) {
    const name = `${t.threadId}${t.self ? " (this)" : ""}`;
    out += `${name.padEnd(16)}${num(t.slot, 5)}${num(t.cache.mbufs, 9)}${num(t.cache.clusters, 13)}\n`;
  }
  if (depot) out += `${"depot".padEnd(16)}${"-".padStart(5)}${num(depot.mbufs, 9)}${num(depot.clusters, 13)}\n`;
  return out;
}

/** A shared pool's part of the report: its threads' caches and its depot. */
export interface SharedCaches {
  threads: readonly ThreadCacheRow[];
  depot: DepotRow;
}

/**
 * The whole `vmstat -z` report: the zone table, a blank line, the type census (what
 * pool.vmstatZ() prints); on a shared pool, its threads' caches and depot after a blank line.
 */
export function formatVmstat(s: PoolStats, shared?: SharedCaches): string {
  return `${formatVmstatZ(s)}\n${formatCensus(s)}${shared ? `\n${formatThreadCaches(shared.threads, shared.depot)}` : ""}`;
}

/** The zones as rows and the census as [type name, in use] pairs, as data (what pool.zones() answers); a shared pool's thread caches and depot too. */
export function vmstatJSON(s: PoolStats, shared?: SharedCaches): {
  zones: ZoneRow[]; types: Array<[string, number]>; threads?: ThreadCacheRow[]; depot?: DepotRow;
} {
  return shared
    ? { zones: zoneRows(s), types: typeCensus(s), threads: shared.threads.map((t) => ({ ...t, cache: { ...t.cache } })), depot: { ...shared.depot } }
    : { zones: zoneRows(s), types: typeCensus(s) };
}
