// One sample of a pool's usage, taken from a snapshot: what the usage
// recorder keeps, the leak detector judges and the charts draw.

import type { PoolStats, ZoneStats } from "./snapshot.js";

/** One sample. */
export interface UsageSample {
  /** Clock time, ms. */
  t: number;
  mbufsInUse: number;
  mbufsCache: number;
  clustersInUse: number;
  clustersCache: number;
  packetsInUse: number;
  /** Allocations + frees of every zone (jumbo ones too), ever (its growth between samples is the activity). */
  ops: number;
  /** Requests denied / delayed, ever (every zone). */
  denied: number;
  delayed: number;
}

/** The sample of a snapshot at time `t`. */
export function sampleOf(s: PoolStats, t: number): UsageSample {
  return {
    t,
    mbufsInUse: s.mbufs.current,
    mbufsCache: s.mbufs.cache,
    clustersInUse: s.clusters.current,
    clustersCache: s.clusters.cache,
    packetsInUse: s.packets.current,
    ops: userOps(s),
    denied: s.mbufs.denied + s.clusters.denied + jumboSum(s, (z) => z.denied),
    delayed: s.mbufs.delayed + s.clusters.delayed + jumboSum(s, (z) => z.delayed),
  };
}

/** A figure summed over the jumbo zones (0 on a profile without them). */
function jumboSum(s: PoolStats, f: (z: ZoneStats) => number): number {
  return s.jumbo ? f(s.jumbo.page) + f(s.jumbo.nine) + f(s.jumbo.sixteen) : 0;
}

/**
 * Allocations and frees the pool's users made: the zones' own counts plus the
 * packet cache's hits and parked pairs, less the pairs the packet balancer moved
 * between the cache and the zones (one mbuf and one cluster each way), which are
 * the pool's own housekeeping and must not make an idle system look busy.
 */
export function userOps(s: PoolStats): number {
  const p = s.packets;
  const zoneOps = s.mbufs.allocs + s.mbufs.frees + s.clusters.allocs + s.clusters.frees + jumboSum(s, (z) => z.allocs + z.frees);
  return zoneOps + p.hits + p.parked - 2 * (p.refilled + p.drained + p.reclaimed);
}
