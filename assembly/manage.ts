// Pool management the host schedules: growing a zone ahead of demand and
// giving free pages back (AIX's netm, FreeBSD's zone drain). Never called
// from inside an allocation.

import { ZONE_MBUF, ZONE_CLUSTER, EINVAL } from "./constants";
import { zoneOf } from "./stats";
import { zone_grow, zone_reclaim } from "./zone";
import { packet_reclaim } from "./packet";

/** True for a zone id the host may name. */
// @ts-ignore: decorator
@inline function valid_zone(zone: i32): bool {
  return zone == <i32>ZONE_MBUF || zone == <i32>ZONE_CLUSTER;
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
  packet_reclaim(); // parked pairs hold both zones' items: they go back first (not in the 2005 mode)
  return <i32>zone_reclaim(zoneOf(zone), <u32>keep, <u32>maxPages);
}
