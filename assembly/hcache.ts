// The host cache: a small stack of ready mbuf handles that the host keeps in
// front of the mbuf zone, as UMA's per-CPU buckets, DPDK's per-lcore mempool
// caches and Linux page_pool's alloc cache sit in front of their shared pools.
//
// One JS-to-Wasm call costs about as much as an allocation itself, so the host
// takes plain mbufs from this stack and puts them back without a call, and
// only refills or flushes it here in bulk. The stack lives in the core's
// static memory and its count in the counters block, so the core stays
// authoritative: it sees, checks and can take back everything the host holds.
//
// An mbuf in the host cache is free: typed MT_FREE (so any call naming it is
// refused with EDOUBLEFREE) and marked M_HCACHED (so only such an mbuf is
// taken back), with m_next, m_nextpkt and the spare word zero (so the host
// initialises only the fields mbuf_init sets to a value). It is off the
// zone's freelist and not counted in the zone's `free`; reports count it as
// cache through G_HCACHE_COUNT, and the audit checks every entry. The host
// keeps the allocation and free counters, the census and the sequence number
// at the moment it hands an mbuf out or takes it back, as mbuf_init and
// mbuf_free do.
//
// The cache changes nothing a pool does, not even which mbuf comes next: the
// stack is the front of the zone's LIFO freelist. Read top to bottom and then
// along the freelist, it is the freelist a pool without the cache would have.
// Every move keeps that order: a refill takes from the freelist head and puts
// the first item on top; a flush gives back the bottom entries; the core's own
// allocations take the top entry (hcache_pop) and its frees push on top while
// the cache holds anything (mbuf_release). So the same calls get the same
// handles, pages fill and empty alike, and reclaim frees the same pages.
//
// The host switches the cache on with Pool.create({ cache: true }). On Node 20
// its JS path measured no faster than the two core calls it saves, because V8
// inlines JS-to-Wasm calls and the host path touches memory as often as the
// core does (bench/README.md); with the cache off its count stays 0 and the
// core's extra work is one load per allocation and per free.
//
// ╒════════════════ host cache (static memory) ═════════════════╕
// │ entry 0 (bottom) │ entry 1 │ … │ entry count-1 (top) │ unused │  i32 handles
// └──────────────────────────────────────────────────────────────┘
//   count: G_HCACHE_COUNT in the counters block; address: G_HCACHE_ADDR.

import {
  M_NEXT, M_NEXTPKT, M_SPARE, M_TYPE, M_FLAGS, M_HCACHED, MT_FREE, ZONE_MBUF, EINVAL, EBADHANDLE,
} from "./constants";
import { Zone, zoneOf, gload, gstore, G_HCACHE_COUNT, G_HCACHE_ADDR } from "./stats";
import { zone_owns, zone_push } from "./zone";

/** Entries the host cache can hold. */
// @ts-ignore: decorator
@inline export const HCACHE_CAP: i32 = 512;
/** The entries: HCACHE_CAP i32 handles. */
export const HCACHE: usize = memory.data(HCACHE_CAP << 2, 16);

/** The mbuf zone (the record mbuf.ts allocates from). */
const mbufZone: Zone = zoneOf(ZONE_MBUF);

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

/** Address of entry `i`. */
// @ts-ignore: decorator
@inline function entry_ptr(i: u32): usize {
  return HCACHE + (<usize>i << 2);
}

/** The handle in entry `i`. */
// @ts-ignore: decorator
@inline export function hcache_entry(i: u32): usize {
  return <usize>load<u32>(entry_ptr(i));
}

/** True if `m` is an mbuf this cache holds: carved in an mbuf page, MT_FREE, marked M_HCACHED. */
// @ts-ignore: decorator
@inline function is_cached(m: usize): bool {
  return zone_owns(mbufZone, m) && load<u16>(m, M_TYPE) == MT_FREE && load<u16>(m, M_FLAGS) == M_HCACHED;
}

/** Marks the free mbuf `m` as held by the cache, links and spare word zero. */
// @ts-ignore: decorator
@inline function mark_cached(m: usize): void {
  store<u32>(m, 0, M_NEXT);
  store<u32>(m, 0, M_NEXTPKT);
  store<u32>(m, 0, M_SPARE);
  store<u16>(m, M_HCACHED, M_FLAGS);
}

/**
 * Gives the bottom `k` entries back to the freelist, the lowest first, so the
 * freelist continues the stack's order; moves the rest down. Returns 0, or
 * EBADHANDLE if an entry was not an mbuf the cache holds (it is dropped).
 */
function flush_bottom(k: u32): i32 {
  let n = hcache_count();
  if (k > n) k = n;
  let bad: i32 = 0;
  let z = mbufZone;
  for (let i: u32 = 0; i < k; i++) {
    let m = hcache_entry(i);
    // A duplicate entry finds the mark already cleared by the first, so no
    // freelist ever holds an mbuf twice.
    if (!is_cached(m)) {
      bad = EBADHANDLE;
      continue;
    }
    store<u16>(m, 0, M_FLAGS);
    store<u32>(m, z.freeHead);
    z.freeHead = <u32>m;
    z.free++;
  }
  memory.copy(HCACHE, entry_ptr(k), <usize>(n - k) << 2);
  gstore(G_HCACHE_COUNT, n - k);
  return bad;
}

/**
 * mb_cache_refill: moves up to `n` free mbufs from the zone's freelist under
 * the host cache's entries, the freelist head ending nearest the top. Never
 * carves a page, never counts a denial, never calls the host. Returns how
 * many were added (0 if the freelist is empty), or EINVAL if `n` is negative
 * or would overfill the cache.
 */
export function mb_cache_refill(n: i32): i32 {
  let have = hcache_count();
  if (n < 0 || <u32>n > <u32>HCACHE_CAP - have) return EINVAL;
  let z = mbufZone;
  let k = min(<u32>n, z.free);
  memory.copy(entry_ptr(k), HCACHE, <usize>have << 2);
  let got: u32 = 0;
  for (; got < k; got++) {
    let m = <usize>z.freeHead;
    if (!m) break;
    z.freeHead = load<u32>(m);
    z.free--;
    mark_cached(m);
    store<u32>(entry_ptr(k - 1 - got), <u32>m);
  }
  if (got < k) {
    // The freelist was shorter than its count (the audit reports it): close the gap.
    memory.copy(HCACHE, entry_ptr(k - got), <usize>(have + got) << 2);
  }
  gstore(G_HCACHE_COUNT, have + got);
  return <i32>got;
}

/**
 * mb_cache_flush: gives the bottom `n` entries of the host cache back to the
 * zone's freelist, checking each. Returns n, EINVAL if `n` is negative or
 * more than the cache holds, or EBADHANDLE if an entry was not an mbuf the
 * cache holds (that entry is dropped; the others go back).
 */
export function mb_cache_flush(n: i32): i32 {
  if (n < 0 || <u32>n > hcache_count()) return EINVAL;
  let r = flush_bottom(<u32>n);
  return r ? r : n;
}

/** Takes the whole host cache back onto the freelist, in order; returns true if anything came back. */
export function hcache_drain(): bool {
  if (!gload(G_HCACHE_COUNT)) return false;
  let before = mbufZone.free;
  flush_bottom(HCACHE_CAP);
  return mbufZone.free != before;
}

/**
 * The next free mbuf for an allocation the core makes itself: the cache's top
 * entry if it holds any (where a pool without the cache would find its
 * freelist head), else 0. Counts an allocation, as zone_pop does.
 */
export function hcache_pop(): usize {
  let n = hcache_count();
  while (n > 0) {
    n--;
    let m = hcache_entry(n);
    gstore(G_HCACHE_COUNT, n);
    if (is_cached(m)) {
      store<u16>(m, 0, M_FLAGS);
      mbufZone.allocs += 1.0;
      return m;
    }
  }
  return 0;
}

/**
 * Frees `m` (already typed MT_FREE) to the front of the free mbufs: the top of
 * the host cache while it holds anything, else the zone's freelist. Counts a
 * free, as zone_push does.
 */
// @ts-ignore: decorator
@inline export function mbuf_release(m: usize): void {
  // The common case (no host cache, or an empty one) inline; the rest out of line.
  if (gload(G_HCACHE_COUNT) == 0) zone_push(mbufZone, m);
  else hcache_push(m);
}

/** mbuf_release while the host cache holds something: `m` goes on its top. */
function hcache_push(m: usize): void {
  let n = hcache_count();
  if (n >= <u32>HCACHE_CAP) {
    flush_bottom(<u32>HCACHE_CAP >> 1);
    n = hcache_count();
  }
  mark_cached(m);
  store<u32>(entry_ptr(n), <u32>m);
  gstore(G_HCACHE_COUNT, n + 1);
  mbufZone.frees += 1.0;
}
