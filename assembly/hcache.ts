// The host cache: a small stack of ready mbuf handles that the host keeps in
// front of the mbuf zone, as UMA's per-CPU buckets, DPDK's per-lcore mempool
// caches and Linux page_pool's alloc cache sit in front of their shared pools.
//
// One JS-to-Wasm call costs about as much as an allocation itself, so the host
// takes plain mbufs from this stack and puts them back without a call, and
// only refills or flushes it here in bulk. The stack lives in the core's
// static memory and its count in the counters block, so the core stays
// authoritative: it can see and take back everything the host holds.
//
// An mbuf in the host cache is free: typed MT_FREE (so any call naming it is
// refused with EDOUBLEFREE) and marked M_HCACHED (so only such an mbuf is
// taken back). It is off the zone's freelist and not counted in the zone's
// `free`; reports count it as cache through G_HCACHE_COUNT, and the audit
// checks every entry. Allocation and free counters, the census and the
// sequence number are kept by the host at the moment it hands an mbuf out or
// takes it back, exactly as mbuf_init and mbuf_free do, so a pool reports the
// same figures with the cache on or off.
//
// When the mbuf zone's freelist is empty, the core takes the whole host cache
// back before it carves a page or counts a denial (hcache_drain), and so does
// reclaim: the cache never makes an allocation fail or a page stay carved
// that would not without it.
//
// ╒════════════════ host cache (static memory) ═════════════════╕
// │ entry 0 │ entry 1 │ … │ entry count-1 │ (unused) … HCACHE_CAP │  i32 handles
// └──────────────────────────────────────────────────────────────┘
//   count: G_HCACHE_COUNT in the counters block; address: G_HCACHE_ADDR.

import { M_TYPE, M_FLAGS, M_HCACHED, MT_FREE, ZONE_MBUF, EINVAL, EBADHANDLE } from "./constants";
import { Zone, zoneOf, gload, gstore, G_HCACHE_COUNT, G_HCACHE_ADDR } from "./stats";
import { zone_owns } from "./zone";

/** The mbuf zone (the record mbuf.ts allocates from). */
const mbufZone: Zone = zoneOf(ZONE_MBUF);

/** Entries the host cache can hold. */
// @ts-ignore: decorator
@inline export const HCACHE_CAP: i32 = 512;
/** The entries: HCACHE_CAP i32 handles. */
export const HCACHE: usize = memory.data(HCACHE_CAP << 2, 16);

/** Publishes the area's address for the host (called once by mb_init). */
export function hcache_init(): void {
  gstore(G_HCACHE_ADDR, <u32>HCACHE);
  gstore(G_HCACHE_COUNT, 0);
}

/** Entries the host cache holds now (a count the host wrote is clamped to the capacity). */
// @ts-ignore: decorator
@inline export function hcache_count(): u32 {
  return min(gload(G_HCACHE_COUNT), <u32>HCACHE_CAP);
}

/** Pops one free mbuf off the zone's freelist without counting an allocation; 0 if none. */
// @ts-ignore: decorator
@inline function freelist_take(): usize {
  let z = mbufZone;
  let m = <usize>z.freeHead;
  if (m) {
    z.freeHead = load<u32>(m);
    z.free--;
  }
  return m;
}

/** Moves entries [from, count) back to the freelist; returns 0, or EBADHANDLE if an entry was not a cached mbuf (it is dropped). */
function hcache_return(from: u32): i32 {
  let n = hcache_count();
  let bad: i32 = 0;
  let z = mbufZone;
  for (let i = from; i < n; i++) {
    let m = <usize>load<u32>(HCACHE + (<usize>i << 2));
    // Only an mbuf this cache really holds may go back: a duplicate entry finds
    // the mark already cleared by the first, so no freelist ever holds it twice.
    if (!zone_owns(z, m) || load<u16>(m, M_TYPE) != MT_FREE || load<u16>(m, M_FLAGS) != M_HCACHED) {
      bad = EBADHANDLE;
      continue;
    }
    store<u16>(m, 0, M_FLAGS);
    store<u32>(m, z.freeHead);
    z.freeHead = <u32>m;
    z.free++;
  }
  gstore(G_HCACHE_COUNT, from);
  return bad;
}

/**
 * mb_cache_refill: moves up to `n` free mbufs from the zone's freelist onto
 * the host cache. Never carves a page, never counts a denial, never calls
 * the host. Returns how many were added (0 if the freelist is empty), or
 * EINVAL if `n` is negative or would overfill the cache.
 */
export function mb_cache_refill(n: i32): i32 {
  let have = hcache_count();
  if (n < 0 || <u32>n > <u32>HCACHE_CAP - have) return EINVAL;
  let i: i32 = 0;
  for (; i < n; i++) {
    let m = freelist_take();
    if (!m) break;
    store<u16>(m, M_HCACHED, M_FLAGS);
    store<u32>(HCACHE + (<usize>(have + i) << 2), <u32>m);
  }
  gstore(G_HCACHE_COUNT, have + i);
  return i;
}

/**
 * mb_cache_flush: gives the top `n` entries of the host cache back to the
 * zone's freelist, checking each. Returns n, EINVAL if `n` is negative or
 * more than the cache holds, or EBADHANDLE if an entry was not an mbuf the
 * cache holds (that entry is dropped; the others go back).
 */
export function mb_cache_flush(n: i32): i32 {
  let have = hcache_count();
  if (n < 0 || <u32>n > have) return EINVAL;
  let r = hcache_return(have - <u32>n);
  return r ? r : n;
}

/** Takes the whole host cache back onto the freelist; returns true if anything came back. */
export function hcache_drain(): bool {
  if (!gload(G_HCACHE_COUNT)) return false;
  let before = mbufZone.free;
  hcache_return(0);
  return mbufZone.free != before;
}

/** Address of the entries, for the audit. */
// @ts-ignore: decorator
@inline export function hcache_entry(i: u32): usize {
  return <usize>load<u32>(HCACHE + (<usize>i << 2));
}
