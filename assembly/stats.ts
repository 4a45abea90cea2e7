// The counters block: one fixed region of static memory that holds every
// zone record and the global mbstat counters. The host maps it once with a
// Uint32Array and a Float64Array, so a snapshot costs no call into the core.
//
// ╒══════════════════════ counters block (mbstat) ═════════════════════╕
// │ Zone[ZONE_SLOTS]   one 96-byte record per zone slot (0 and 7 unused)│
// ├─────────────────────────────────────────────────────────────────────┤
// │ MbStat             census, drains, reservation, sequence, audit     │
// └─────────────────────────────────────────────────────────────────────┘
// Monotonic counters are f64 so they never wrap and read as JS numbers.

import { MT_NTYPES, ZONE_SLOTS } from "./constants";

// ╒═══════════════════════════ Zone (96 bytes) ═══════════════════════════╕
//    0          4          8           12         16        20       24      28
// ├──────────┬──────────┬───────────┬──────────┬─────────┬────────┬───────┬───────┤
// │ freeHead │ itemSize │ itemShift │ perPage  │  limit  │ total  │ free  │ peak  │
// ├──────────┼──────────┼───────────┼──────────┼─────────┴────────┴───────┴───────┤
// │  pages   │  grows   │    id     │slabPages │ 48: allocs frees denied delayed    │
// │    32    │    36    │    40     │    44    │ 80: pagesIn pagesOut (f64 each)    │
// └──────────┴──────────┴───────────┴──────────┴────────────────────────────────────┘
@unmanaged export class Zone {
  /** First free item (intrusive singly linked freelist through word 0), 0 if none. */
  freeHead: u32;
  /** Bytes per item: MSIZE, MCLBYTES or a jumbo size (0: a jumbo zone not set up). */
  itemSize: u32;
  /** log2(itemSize), for the power-of-two sizes that fit in a page (0 otherwise). */
  itemShift: u32;
  /** Items carved from one slab (one page, or `slabPages` pages for the 9k and 16k jumbo zones). */
  perPage: u32;
  /** Most items the zone may hold (nmbufs, nmbclusters). */
  limit: u32;
  /** Items carved from pages the zone owns (in use + free). */
  total: u32;
  /** Items on the freelist: the zone's cache. */
  free: u32;
  /** Highest `total` ever reached (FreeBSD 4's "peak"). */
  peak: u32;
  /** Arena pages the zone owns. */
  pages: u32;
  /** 1 if an empty freelist may take a page from the arena inside the allocation. */
  grows: u32;
  /** Zone id (ZONE_MBUF, ZONE_CLUSTER, ZONE_PACKET, ZONE_JUMBO*). */
  id: u32;
  /** Contiguous arena pages a slab spans: 1, except for the 9k (9) and 16k (4) jumbo zones (slab.ts). */
  slabPages: u32;
  /** Successful allocations. */
  allocs: f64;
  /** Frees back to the zone. */
  frees: f64;
  /** Requests that failed without waiting. */
  denied: f64;
  /** Requests that failed and were left to wait. */
  delayed: f64;
  /** Pages taken from the arena over the zone's life. */
  pagesIn: f64;
  /** Pages given back to the arena over the zone's life. */
  pagesOut: f64;
}

// @ts-ignore: decorator
@inline export const ZONE_BYTES: u32 = 96;

// ╒═══════════════════════════ MbStat (global) ═══════════════════════════╕
// │ census u32[16] │ drains resvDenied mcfail mpfail (f64) │ spare owner   │
// │ resvFlag resvCount │ arena: base maxPages top freePages freeHead       │
// │ pageMeta refTable scratch │ audit: code addr a b │ ready pinned        │
// │ packet zone: mode lastRefill lastDrain │ misses refills refilled       │
// │ drains drained reclaims reclaimed (f64)                                │
// │ poisonHits (f64) poisonAddr (debug write-after-free checks)            │
// │ cached mbufs, cached clusters (the threads' stacks, cache.ts) │ held   │
// ├─────────────────────────────────────────────────────────────────────────┤
// │ seq, alone on its 64-byte line                                          │
// └─────────────────────────────────────────────────────────────────────────┘
/** Size of the type census, in bytes, at the start of the global block. */
// @ts-ignore: decorator
@inline export const CENSUS_BYTES: u32 = MT_NTYPES << 2;

// Offsets of the global fields, after the census.
// @ts-ignore: decorator
@inline export const G_DRAINS: u32 = CENSUS_BYTES + 0;      // f64: calls to protocol drain routines
// @ts-ignore: decorator
@inline export const G_RESV_DENIED: u32 = CENSUS_BYTES + 8; // f64: cluster requests refused by the reservation
// @ts-ignore: decorator
@inline export const G_MCFAIL: u32 = CENSUS_BYTES + 16;     // f64: m_copym failures (FreeBSD 4 m_mcfail)
// @ts-ignore: decorator
@inline export const G_MPFAIL: u32 = CENSUS_BYTES + 24;     // f64: m_pullup failures (FreeBSD 4 m_mpfail)
// CENSUS_BYTES + 32: spare.
// @ts-ignore: decorator
@inline export const G_OWNER: u32 = CENSUS_BYTES + 36;      // u32: owner tag stamped on new mbufs
// @ts-ignore: decorator
@inline export const G_RESV_FLAG: u32 = CENSUS_BYTES + 40;  // u32: m_clalloc flag: only M_RECV gets clusters
// @ts-ignore: decorator
@inline export const G_RESV_COUNT: u32 = CENSUS_BYTES + 44; // u32: clusters only M_RECV may take
// @ts-ignore: decorator
@inline export const G_ARENA_BASE: u32 = CENSUS_BYTES + 48; // u32: address of page 0
// @ts-ignore: decorator
@inline export const G_MAX_PAGES: u32 = CENSUS_BYTES + 52;  // u32: pages thewall allows
// @ts-ignore: decorator
@inline export const G_TOP: u32 = CENSUS_BYTES + 56;        // u32: pages ever carved from memory
// @ts-ignore: decorator
@inline export const G_FREE_PAGES: u32 = CENSUS_BYTES + 60; // u32: pages on the arena's free list
// @ts-ignore: decorator
@inline export const G_FREE_PAGE_HEAD: u32 = CENSUS_BYTES + 64; // u32: first free page address, 0 if none
// @ts-ignore: decorator
@inline export const G_PAGE_META: u32 = CENSUS_BYTES + 68;  // u32: address of the page table
// @ts-ignore: decorator
@inline export const G_REF_TABLE: u32 = CENSUS_BYTES + 72;  // u32: address of the cluster reference counts
// @ts-ignore: decorator
@inline export const G_SCRATCH: u32 = CENSUS_BYTES + 76;    // u32: address of the audit's recount table
// @ts-ignore: decorator
@inline export const G_AUDIT_CODE: u32 = CENSUS_BYTES + 80; // u32: first problem the last audit found
// @ts-ignore: decorator
@inline export const G_AUDIT_ADDR: u32 = CENSUS_BYTES + 84; // u32: where
// @ts-ignore: decorator
@inline export const G_AUDIT_A: u32 = CENSUS_BYTES + 88;    // u32: expected
// @ts-ignore: decorator
@inline export const G_AUDIT_B: u32 = CENSUS_BYTES + 92;    // u32: found
// @ts-ignore: decorator
@inline export const G_READY: u32 = CENSUS_BYTES + 96;      // u32: 1 after mb_init
// @ts-ignore: decorator
@inline export const G_PINNED: u32 = CENSUS_BYTES + 100;    // u32: 1 if memory was grown to the cap at init
// Packet zone (packet.ts); its pair counts live in zone slot ZONE_PACKET.
// @ts-ignore: decorator
@inline export const G_PKT_MODE: u32 = CENSUS_BYTES + 104;  // u32: PKT_ENABLED | PKT_RECLAIMS
// @ts-ignore: decorator
@inline export const G_PKT_LAST_REFILL: u32 = CENSUS_BYTES + 108; // u32: pairs the last refill batch moved
// @ts-ignore: decorator
@inline export const G_PKT_LAST_DRAIN: u32 = CENSUS_BYTES + 112;  // u32: pairs the last drain batch moved
// @ts-ignore: decorator
@inline export const G_PKT_MISSES: u32 = CENSUS_BYTES + 120;   // f64: m_getcl calls the cache could not serve
// @ts-ignore: decorator
@inline export const G_PKT_REFILLS: u32 = CENSUS_BYTES + 128;  // f64: refill batches
// @ts-ignore: decorator
@inline export const G_PKT_REFILLED: u32 = CENSUS_BYTES + 136; // f64: pairs joined by refills
// @ts-ignore: decorator
@inline export const G_PKT_DRAINS: u32 = CENSUS_BYTES + 144;   // f64: drain batches
// @ts-ignore: decorator
@inline export const G_PKT_DRAINED: u32 = CENSUS_BYTES + 152;  // f64: pairs split back by drains
// @ts-ignore: decorator
@inline export const G_PKT_RECLAIMS: u32 = CENSUS_BYTES + 160; // f64: whole-cache drains on exhaustion or reclaim
// @ts-ignore: decorator
@inline export const G_PKT_RECLAIMED: u32 = CENSUS_BYTES + 168; // f64: pairs split back by those
// @ts-ignore: decorator
@inline export const G_POISON_HITS: u32 = CENSUS_BYTES + 176; // f64: (debug) free items found written after free
// @ts-ignore: decorator
@inline export const G_POISON_ADDR: u32 = CENSUS_BYTES + 184; // u32: (debug) the last such item
// @ts-ignore: decorator
@inline export const G_CACHED_MBUF: u32 = CENSUS_BYTES + 188; // u32: mbufs on the threads' stacks (cache.ts), at the last fold
// @ts-ignore: decorator
@inline export const G_CACHED_CLUSTER: u32 = CENSUS_BYTES + 192; // u32: clusters on them
// @ts-ignore: decorator
@inline export const G_HELD: u32 = CENSUS_BYTES + 196;       // u32: M_LINKED mbufs held outside the chains (socket buffers' first mbufs)
// The sequence counter on a cache line of its own: every thread's fast paths
// take blocks of it with an atomic add, and every reader_enter reads G_TOP;
// beside it, each block taken would evict the word the other threads read.
// @ts-ignore: decorator
@inline export const G_SEQ: u32 = CENSUS_BYTES + 256;       // u32: last allocation sequence number
// @ts-ignore: decorator
@inline export const G_BYTES: u32 = CENSUS_BYTES + 320;     // G_SEQ's line whole: (STATS + ZONE_BYTES * ZONE_SLOTS + G_SEQ) % 64 == 0

// @ts-ignore: decorator
@inline export const STATS_BYTES: u32 = ZONE_BYTES * ZONE_SLOTS + G_BYTES;

/** The counters block. */
export const STATS: usize = memory.data(<i32>STATS_BYTES, 64);
/** Start of the global part of the block. */
// @ts-ignore: decorator
@inline export function G(): usize { return STATS + ZONE_BYTES * ZONE_SLOTS; }

/** The record of zone `id`. */
// @ts-ignore: decorator
@inline export function zoneOf(id: u32): Zone {
  return changetype<Zone>(STATS + id * ZONE_BYTES);
}

// @ts-ignore: decorator
@inline export function gload(off: u32): u32 { return load<u32>(G() + off); }
// @ts-ignore: decorator
@inline export function gstore(off: u32, v: u32): void { store<u32>(G() + off, v); }
// @ts-ignore: decorator
@inline export function gcount(off: u32): void {
  store<f64>(G() + off, load<f64>(G() + off) + 1.0);
}

/**
 * Records the problem an audit found where the host reads it (G_AUDIT_*:
 * code, address, expected, found) and returns its code, so a check can end
 * with `return audit_report(...)`.
 */
export function audit_report(code: u32, addr: usize, a: u32, b: u32): u32 {
  gstore(G_AUDIT_CODE, code);
  gstore(G_AUDIT_ADDR, <u32>addr);
  gstore(G_AUDIT_A, a);
  gstore(G_AUDIT_B, b);
  return code;
}
