// Pool management the host schedules: growing a zone ahead of demand and
// giving free pages back (AIX's netm, FreeBSD's zone drain), and the
// runtime tunables that move a zone's limit or thewall. Never called from
// inside an allocation.

import { ZONE_MBUF, ZONE_CLUSTER, EINVAL, EBUSY } from "./constants";
import { zoneOf, gload, G_RESV_COUNT } from "./stats";
import { zone_grow, zone_reclaim } from "./zone";
import { packet_reclaim } from "./packet";
import { jumbo_ready } from "./jumbo";
import { arena_set_max, arena_attach } from "./arena";
import { cache_flush_all, cache_fold, cache_join, cache_leave, cache_reap } from "./cache";

/** True for a zone id the host may name: mbufs, clusters, and the jumbo zones once set up. */
// @ts-ignore: decorator
@inline function valid_zone(zone: i32): bool {
  return zone == <i32>ZONE_MBUF || zone == <i32>ZONE_CLUSTER || jumbo_ready(zone);
}

/**
 * Grows `zone` until at least `want` items are free (limit and arena
 * permitting). Returns the items added, or EINVAL.
 */
export function mb_grow(zone: i32, want: i32): i32 {
  if (!valid_zone(zone) || want < 0) return EINVAL;
  return <i32>zone_grow(zoneOf(zone), <u32>want);
}

/**
 * Returns the packet cache's pairs to their zones (unless the pool replays
 * the 2005 behaviour), then gives fully free pages of `zone` back to the arena, keeping at least
 * `keep` items free and releasing at most `maxPages` pages.
 * Returns the pages released, or EINVAL.
 */
export function mb_reclaim(zone: i32, keep: i32, maxPages: i32): i32 {
  if (!valid_zone(zone) || keep < 0 || maxPages < 0) return EINVAL;
  cache_flush_all(zoneOf(ZONE_MBUF), zoneOf(ZONE_CLUSTER)); // the threads' stacks go back first,
  packet_reclaim(); // and parked pairs, which hold both zones' items (not in the 2005 mode)
  return <i32>zone_reclaim(zoneOf(zone), <u32>keep, <u32>maxPages);
}

/**
 * Sets the most items `zone` may hold (a runtime write of nmbufs,
 * nmbclusters or a jumbo limit). Returns 0; EINVAL for a bad zone or a limit
 * below 1 (below 0 for a jumbo zone, which may be empty);
 * EBUSY if the zone already carved more than `limit` items, or the cluster
 * reserve is larger than `limit`.
 */
export function mb_set_limit(zone: i32, limit: i32): i32 {
  if (!valid_zone(zone) || limit < (zone <= <i32>ZONE_CLUSTER ? 1 : 0)) return EINVAL;
  let z = zoneOf(zone);
  if (<u32>limit < z.total) return EBUSY;
  if (zone == <i32>ZONE_CLUSTER && <u32>limit < gload(G_RESV_COUNT)) return EBUSY;
  z.limit = <u32>limit;
  return 0;
}

/**
 * Moves thewall to `pages` arena pages (AIX's runtime `no -o thewall`).
 * Returns 0; EINVAL for 0 or less; ERANGE above the capacity the arena was
 * laid out for at mb_init; EBUSY below the pages already carved.
 */
export function mb_set_wall(pages: i32): i32 {
  if (pages < 1) return EINVAL;
  return arena_set_max(<u32>pages);
}

/**
 * Makes this instance run over a pool another instance initialised in the
 * same (shared) memory, re-reading the per-instance arena state. The host
 * calls it under the pool lock when it attaches and whenever the lock passes
 * from another instance. Returns 0, or ESTATE if the memory holds no pool.
 */
export function mb_attach(): i32 {
  return arena_attach();
}

/**
 * Makes this instance the thread of slot `slot` of a shared pool's thread
 * area at `area` (cache.ts), `waiters` the address of the lock word counting
 * every thread's waiters, `tag` its owner tag. The host calls it under the
 * pool lock, the slot claimed. Returns 0, or EINVAL (nothing changed) for an
 * unshared build or a slot out of range.
 */
export function mb_thread_join(area: i32, slot: i32, waiters: i32, tag: u32): i32 {
  return cache_join(<usize>area, <u32>slot, <usize>waiters, tag);
}

/** Gives this thread's stacks back to the zones and frees its slot (under the pool lock). */
export function mb_thread_leave(): void {
  cache_leave(zoneOf(ZONE_MBUF), zoneOf(ZONE_CLUSTER));
}

/**
 * Gives what the stacks of thread slot `slot` hold back to the zones and frees the slot, for
 * a thread that is gone (the lock held). Returns the items given back; EINVAL for an unshared
 * pool, a slot out of range or the caller's own; ESTATE for a slot no thread holds.
 */
export function mb_thread_reap(slot: i32): i32 {
  if (slot < 0) return EINVAL;
  return cache_reap(zoneOf(ZONE_MBUF), zoneOf(ZONE_CLUSTER), <u32>slot);
}

/**
 * Folds the threads' counters into the counters block (cache.ts). The host
 * calls it on taking the pool lock, so whatever it reads under the lock is exact.
 */
export function mb_fold(): void {
  cache_fold(zoneOf(ZONE_MBUF), zoneOf(ZONE_CLUSTER));
}
