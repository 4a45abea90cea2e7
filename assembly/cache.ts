// Per-thread caches: a shared pool's fast path, as UMA's per-CPU buckets and
// DPDK's per-lcore mempool caches sit in front of their zones.
//
// Every thread that runs a shared pool owns a slot of the thread area, in the
// shared memory above the arena. Its slot holds a stack of free mbufs and one
// of free clusters, and counters the fast path writes instead of the zones'.
// m_get, m_gethdr, m_getcl, m_free and m_freem of the shared builds try the
// thread's stack first, without the pool lock (m_setowner_chain, a ring's
// retag, runs as a reader too); everything else, and a fast path that cannot
// serve, runs under it, as before.
//
// The exclusion is a big-reader lock (Linux 2.4's brlock): a fast path is a
// reader that raises its own slot's `active` word, then reads `writer`; the
// pool lock's holder (the writer) stores its id in `writer`, then waits for
// every other `active` word to fall. Both are sequentially consistent
// atomics, so of a reader and a writer that meet, at least one sees the
// other (Dekker): a reader that sees a writer lowers its flag and answers
// EBUSY_WRITER; the host waits a moment for the writer to leave and calls
// again, and takes the lock itself if it does not. A fast path that cannot
// serve (a stack empty or full) answers ESLOW: the host takes the lock. A writer therefore owns
// every zone, every stack and every slot's counters, and a fast path never
// meets a chain operation, a report, an audit or another thread's refill.
// Readers share nothing but what they free: a free claims its mbuf by one
// compare-exchange of m_type to MT_FREE, so of two threads freeing one mbuf
// exactly one wins (the other gets EDOUBLEFREE), and cluster references are
// dropped with an atomic subtract, since a cluster shared by copym may be
// freed from two threads at once.
//
// ╒══════════════════════ thread area (at tArea, 64-byte lines) ══════════════════════╕
// │ header: writer │ slotsHigh │ (the host's words)                    (one line)     │
// ├──────────────────────────────────────────────────────────────────────────────────┤
// │ slot 0: active │ claimed │ mcached │ ccached │ m/c allocs, frees │ seq block      │
// │         census deltas i32[MT_NTYPES] │ mbuf stack u32[MCACHE] │ cluster stack     │
// │ slot 1 ... slot THREAD_SLOTS-1                                                    │
// ├──────────────────────────────────────────────────────────────────────────────────┤
// │ lane 0: handles u32[LANE_HANDLES] │ data u8[LANE_DATA_BYTES]      (lane.ts)       │
// │ lane 1 ... lane THREAD_SLOTS-1                                                    │
// ├──────────────────────────────────────────────────────────────────────────────────┤
// │ depot: mfull │ cfull (one line) │ mbuf buckets u32[DEPOT_BUCKETS][MBUCKET]        │
// │        cluster buckets u32[DEPOT_BUCKETS][CBUCKET]                                │
// └──────────────────────────────────────────────────────────────────────────────────┘
// The counters of a slot are deltas: the writer folds them into the zones and
// the census on taking the lock (cache_fold), so every report read under the
// lock is exact, and what the stacks hold is counted as cache (G_CACHED_*),
// never as use. Stacks are arrays, not links through the items: a stray
// write into a cached mbuf cannot corrupt a freelist.
//
// A stack that runs empty is refilled, and one that fills is flushed, a half
// (a bucket) at a time under the lock (DPDK's rule): a thread that only gets,
// or only frees, takes the lock once in half a stack's calls. Buckets a flush
// gives up wait in the depot, under the lock, for the next refill of any
// thread (UMA's full buckets): a handle copy each way, no item touched. An
// allocation that finds its zone empty flushes the depot and every thread's
// stack before it drains or fails, so a full
// cache in one thread never denies another; so do reclaim and the audit. A
// free while any thread waits goes to the zone under the lock, where the
// host's waiters are served.
//
// A packet zone (packet.ts) is one list of joined pairs, under the lock:
// while it is on, m_getcl and the free of an mbuf with a cluster run there,
// so a hit pops a pair and a whole pair freed is parked, as in one thread;
// so does the free of an mbuf the packet zone gave out, whose count of pairs
// it leaves.

import {
  M_NEXT, M_DATA, M_TYPE, M_FLAGS, M_SPARE, EXT_BUF, EXT_SIZE, M_EXT, M_LINKED, M_RECV, MT_FREE, MT_NTYPES, ZONE_CLUSTER,
  EDOUBLEFREE, EINVAL, ESTATE, PAGE_SHIFT,
} from "./constants";
import { check_head, check_mbuf, mbuf_header, chain_retag } from "./mbuf";
import { Zone, G, gload, gstore, G_SEQ, G_OWNER, G_RESV_FLAG, G_RESV_COUNT, G_CACHED_MBUF, G_CACHED_CLUSTER, G_PKT_MODE } from "./stats";
import { PKT_ENABLED, PKT_ORIGIN } from "./packet";
import { ref_ptr, meta_ptr, meta_zone, arenaBase, capPages, arena_sync_top } from "./arena";
import { zone_take, zone_give } from "./zone";
import { ext_ptr } from "./header";

/** What a fast path answers when it cannot serve: the host takes the pool lock and calls again. */
// @ts-ignore: decorator
@inline export const ESLOW: i32 = -1100;

/** What a fast path answers when another thread holds the pool lock: the host may wait for it to leave, then call again. */
// @ts-ignore: decorator
@inline export const EBUSY_WRITER: i32 = -1101;

/** Slots of the thread area: the threads one shared pool serves at once. */
// @ts-ignore: decorator
@inline export const THREAD_SLOTS: u32 = 32;
/** mbufs a stack holds. */
// @ts-ignore: decorator
@inline export const MCACHE: u32 = 64;
/** Clusters a stack holds. */
// @ts-ignore: decorator
@inline export const CCACHE: u32 = 32;
/** m_type bit of an mbuf a bulk free has claimed and not yet freed (lane.ts): taken, as MT_FREE is. */
// @ts-ignore: decorator
@inline export const MT_CLAIMED: u16 = 0x8000; // > MT_NTYPES: no type has it
/**
 * Sequence numbers a slot takes from G_SEQ at a time. Each take moves G_SEQ's
 * line between the cores, so it is rare: once in 8 bulk batches of 32. Across
 * threads an age counted in allocations (outstanding()'s minAge) is off by
 * less than a block per thread.
 */
// @ts-ignore: decorator
@inline const SEQ_BLOCK: u32 = 256;

// Header words.
// @ts-ignore: decorator
@inline const T_WRITER: u32 = 0;     // i32: id (slot + 1) of the instance holding the pool lock, 0 if none
// @ts-ignore: decorator
@inline const T_SLOTS_HIGH: u32 = 4; // u32: 1 + the highest slot ever claimed
// @ts-ignore: decorator
@inline const T_HEADER: u32 = 64;

// Slot fields.
// @ts-ignore: decorator
@inline const S_ACTIVE: u32 = 0;   // i32: 1 while the slot's thread runs a fast path
// @ts-ignore: decorator
@inline const S_CLAIMED: u32 = 4;  // u32: 1 while a thread owns the slot
// @ts-ignore: decorator
@inline export const S_MCACHED: u32 = 8;  // u32: mbufs on the stack
// @ts-ignore: decorator
@inline export const S_CCACHED: u32 = 12; // u32: clusters on the stack
// @ts-ignore: decorator
@inline export const S_MALLOCS: u32 = 16; // u32: mbufs the fast path handed out since the last fold
// @ts-ignore: decorator
@inline export const S_MFREES: u32 = 20;  // u32: mbufs it took back
// @ts-ignore: decorator
@inline export const S_CALLOCS: u32 = 24; // u32: clusters handed out
// @ts-ignore: decorator
@inline export const S_CFREES: u32 = 28;  // u32: clusters taken back
// @ts-ignore: decorator
@inline const S_SEQ_NEXT: u32 = 32; // u32: next sequence number of the slot's block
// @ts-ignore: decorator
@inline const S_SEQ_END: u32 = 36;  // u32: end of the block (exclusive)
// Words 40 to 52 are the host's (pool/threads.ts), written after the join: the thread's
// Node threadId, its lock id, and what it adds to the lock words' waiter counts.
// @ts-ignore: decorator
@inline const S_CENSUS: u32 = 64;  // i32[MT_NTYPES]: census deltas
// @ts-ignore: decorator
@inline export const S_MSTACK: u32 = S_CENSUS + (MT_NTYPES << 2);
// @ts-ignore: decorator
@inline export const S_CSTACK: u32 = S_MSTACK + (MCACHE << 2);
// @ts-ignore: decorator
@inline export const SLOT_BYTES: u32 = S_CSTACK + (CCACHE << 2); // a multiple of 64: slots never share a line
/** Handles a thread's bulk lane carries: half a stack, what one refill or flush moves. */
// @ts-ignore: decorator
@inline export const LANE_HANDLES: u32 = MCACHE >> 1;
/** Bytes a thread's data lane carries: a cluster's worth, for one fast m_append. */
// @ts-ignore: decorator
@inline export const LANE_DATA_BYTES: u32 = 2048;
/** Offset of the data lane in a lane. */
// @ts-ignore: decorator
@inline export const L_DATA: u32 = LANE_HANDLES << 2;
// @ts-ignore: decorator
@inline export const LANE_BYTES: u32 = L_DATA + LANE_DATA_BYTES; // a multiple of 64: lanes never share a line
/** Offset of lane 0 in the thread area. */
// @ts-ignore: decorator
@inline const T_LANES: u32 = T_HEADER + THREAD_SLOTS * SLOT_BYTES;
/** Items a depot bucket holds: half a stack, what one refill or flush moves. */
// @ts-ignore: decorator
@inline const MBUCKET: u32 = MCACHE >> 1;
// @ts-ignore: decorator
@inline const CBUCKET: u32 = CCACHE >> 1;
/** Full buckets the depot holds of each kind: at most 512 mbufs and 256 clusters cached there. */
// @ts-ignore: decorator
@inline const DEPOT_BUCKETS: u32 = 16;
// Depot fields, from T_DEPOT.
// @ts-ignore: decorator
@inline const D_MFULL: u32 = 0;  // u32: full mbuf buckets
// @ts-ignore: decorator
@inline const D_CFULL: u32 = 4;  // u32: full cluster buckets
// @ts-ignore: decorator
@inline const D_MBUCKETS: u32 = 64;
// @ts-ignore: decorator
@inline const D_CBUCKETS: u32 = D_MBUCKETS + DEPOT_BUCKETS * (MBUCKET << 2);
// @ts-ignore: decorator
@inline const DEPOT_BYTES: u32 = D_CBUCKETS + DEPOT_BUCKETS * (CBUCKET << 2); // a multiple of 64
/** Offset of the depot in the thread area. */
// @ts-ignore: decorator
@inline const T_DEPOT: u32 = T_LANES + THREAD_SLOTS * LANE_BYTES;
/** Bytes of the thread area. */
// @ts-ignore: decorator
@inline export const THREAD_AREA_BYTES: u32 = T_DEPOT + DEPOT_BYTES;

/** The thread area, 0 for a pool no thread area serves (an unshared pool). */
let tArea: usize = 0;
/** This instance's slot. */
export let tSlot: usize = 0;
/** This instance's lane (lane.ts), 0 for an instance no thread area serves. */
export let tLane: usize = 0;
/** This instance's id in `writer`: slot + 1. */
let tId: i32 = 0;
/** The lock word counting every thread's waiters (pool/lock.ts WAITERS): a free while it is not 0 goes slow. */
export let tWaiters: usize = 0;
/** This thread's owner tag (G_OWNER is the lock holder's). */
export let threadOwner: u32 = 0;

/** Address of slot `s`. */
// @ts-ignore: decorator
@inline function slot_at(s: u32): usize { return tArea + T_HEADER + <usize>s * SLOT_BYTES; }

/** True if the caller may run a fast path: a shared pool's thread that does not hold the lock. */
// @ts-ignore: decorator
@inline export function cache_fast(): bool {
  return ASC_FEATURE_THREADS && tArea != 0 && atomic.load<i32>(tArea, T_WRITER) != tId;
}

/** True for an instance a thread area serves (a shared pool's): its locked paths keep the stacks too. */
// @ts-ignore: decorator
@inline export function cache_on(): bool {
  return ASC_FEATURE_THREADS && tArea != 0;
}

/**
 * Raises this slot's flag; false (flag lowered again) if a writer holds the
 * lock. Inside, the instance's view of the arena's extent is brought up to
 * date: a handle may sit in a page another thread carved since this instance
 * last held the lock.
 */
// @ts-ignore: decorator
@inline export function reader_enter(): bool {
  atomic.store<i32>(tSlot, 1, S_ACTIVE);
  if (atomic.load<i32>(tArea, T_WRITER) == 0) {
    arena_sync_top();
    return true;
  }
  atomic.store<i32>(tSlot, 0, S_ACTIVE);
  return false;
}

// @ts-ignore: decorator
@inline export function reader_leave(): void { atomic.store<i32>(tSlot, 0, S_ACTIVE); }

/** True if the cluster reservation may refuse a request without M_RECV: the fast path leaves it to the locked one. */
// @ts-ignore: decorator
@inline export function reserve_held(how: i32): bool {
  return !(how & M_RECV) && (atomic.load<u32>(G() + G_RESV_FLAG) | atomic.load<u32>(G() + G_RESV_COUNT)) != 0;
}

/**
 * True while a packet zone is on: m_getcl then takes its pair from the packet
 * cache, one list under the lock, so a fast path leaves clusters to it.
 */
// @ts-ignore: decorator
@inline export function packets_on(): bool {
  return (gload(G_PKT_MODE) & PKT_ENABLED) != 0;
}

/**
 * True if freeing mbuf `x` of flags `f` is the packet zone's business: its pair
 * may be parked (a cluster while the zone is on), or it came out of the zone,
 * whose count of pairs it leaves (packet.ts packet_leave, even with the zone off).
 */
// @ts-ignore: decorator
@inline export function packet_free(x: usize, f: u16): bool {
  return load<u32>(x, M_SPARE) == PKT_ORIGIN || ((f & M_EXT) != 0 && packets_on());
}

/** Attaches cluster `c` of `size` bytes, off this thread's stack, to the fresh mbuf `m` of `flags`. */
// @ts-ignore: decorator
@inline export function attach_cached(m: usize, flags: u16, c: usize, size: u32): void {
  store<u32>(ref_ptr(c), 1);
  let ext = ext_ptr(m, flags);
  store<u32>(ext, <u32>c, EXT_BUF);
  store<u32>(ext, size, EXT_SIZE);
  store<u32>(m, <u32>c, M_DATA);
  store<u16>(m, flags | M_EXT, M_FLAGS);
}

/** Adds `d` to this slot's census delta of `type`. */
// @ts-ignore: decorator
@inline export function census_add(type: u32, d: i32): void {
  let p = tSlot + S_CENSUS + (type << 2);
  store<i32>(p, load<i32>(p) + d);
}

/** The next sequence number of this slot's block, taking a new block from G_SEQ when it runs out. */
// @ts-ignore: decorator
@inline export function next_seq(): u32 {
  let s = tSlot;
  let seq = load<u32>(s, S_SEQ_NEXT);
  if (seq == load<u32>(s, S_SEQ_END)) {
    seq = atomic.add<u32>(G() + G_SEQ, SEQ_BLOCK) + 1;
    store<u32>(s, seq + SEQ_BLOCK, S_SEQ_END);
  }
  store<u32>(s, seq + 1, S_SEQ_NEXT);
  return seq;
}

/**
 * The fast m_get/m_gethdr/m_getcl (`how` and `type` checked by the caller):
 * an mbuf off this thread's stack, with a cluster off the other if `cluster`.
 * Returns the handle, or ESLOW (nothing taken) if a writer holds the lock, a
 * stack is empty, or the reservation may refuse the cluster.
 */
export function cache_get(how: i32, type: u32, flags: u16, cluster: bool, clusterSize: u32): i32 {
  if (!reader_enter()) return EBUSY_WRITER;
  let s = tSlot;
  let n = load<u32>(s, S_MCACHED);
  let k = load<u32>(s, S_CCACHED);
  if (n == 0 || (cluster && (k == 0 || reserve_held(how) || packets_on()))) {
    reader_leave();
    return ESLOW;
  }
  let m = <usize>load<u32>(s + S_MSTACK + (<usize>(n - 1) << 2));
  store<u32>(s, n - 1, S_MCACHED);
  // mbuf_init (mbuf.ts), with this thread's owner, block and census.
  mbuf_header(m, type, flags, threadOwner, next_seq());
  census_add(type, 1);
  store<u32>(s, load<u32>(s, S_MALLOCS) + 1, S_MALLOCS);
  if (cluster) {
    let c = <usize>load<u32>(s + S_CSTACK + (<usize>(k - 1) << 2));
    store<u32>(s, k - 1, S_CCACHED);
    attach_cached(m, flags, c, clusterSize);
    store<u32>(s, load<u32>(s, S_CALLOCS) + 1, S_CALLOCS);
  }
  reader_leave();
  return <i32>m;
}

/**
 * The fast m_free (`one`) or m_freem of `m`: the mbufs, and the clusters
 * whose last reference they drop, go onto this thread's stacks. `m` is
 * checked as m_free checks it, inside the reader's section. Returns what
 * m_free or m_freem returns, their errors for a bad head (EDOUBLEFREE also if
 * another thread freed `m` first), or ESLOW (nothing freed) if a writer holds
 * the lock, a thread waits for memory, the stacks lack room for the chain, or
 * the chain holds anything the locked path must see: a jumbo cluster, or a
 * link that is not an mbuf in use.
 */
export function cache_free(m: usize, one: bool): i32 {
  if (!reader_enter()) return EBUSY_WRITER;
  let e = check_head(m);
  if (e) { reader_leave(); return e; }
  if (atomic.load<i32>(tWaiters) != 0) { reader_leave(); return ESLOW; }
  let s = tSlot;
  let n = load<u32>(s, S_MCACHED);
  let k = load<u32>(s, S_CCACHED);
  // Room for the whole chain first, so a chain is freed here entirely or not at all.
  let mroom = MCACHE - n, croom = CCACHE - k;
  let x = m;
  let count: u32 = 0;
  while (x) {
    if (count == mroom || (x != m && check_mbuf(x) != 0)) { reader_leave(); return ESLOW; }
    let f = load<u16>(x, M_FLAGS);
    if (packet_free(x, f)) { reader_leave(); return ESLOW; }
    if (f & M_EXT) {
      let c = <usize>load<u32>(ext_ptr(x, f), EXT_BUF);
      if (croom == 0 || meta_zone(load<u32>(meta_ptr(c))) != ZONE_CLUSTER) { reader_leave(); return ESLOW; }
      croom--;
    }
    count++;
    if (one) break;
    x = <usize>load<u32>(x, M_NEXT);
  }
  let next: usize = 0;
  x = m;
  let freed: u32 = 0, cfreed: u32 = 0;
  while (x && freed < count) {
    let type = load<u16>(x, M_TYPE);
    // The claim: of two threads freeing one mbuf, one sees MT_FREE here.
    if (type == MT_FREE || (type & MT_CLAIMED) || atomic.cmpxchg<u16>(x, type, MT_FREE, M_TYPE) != type) {
      if (x == m) { reader_leave(); return EDOUBLEFREE; }
      break; // another thread took the rest of the chain (it raced this one for it)
    }
    let f = load<u16>(x, M_FLAGS);
    next = <usize>load<u32>(x, M_NEXT);
    if (next) store<u16>(next, load<u16>(next, M_FLAGS) & ~M_LINKED, M_FLAGS);
    census_add(type, -1);
    if (f & M_EXT) {
      let c = <usize>load<u32>(ext_ptr(x, f), EXT_BUF);
      if (atomic.sub<u32>(ref_ptr(c), 1) == 1) {
        store<u32>(s + S_CSTACK + (<usize>k << 2), <u32>c);
        k++;
        cfreed++;
      }
    }
    store<u16>(x, 0, M_FLAGS);
    store<u32>(s + S_MSTACK + (<usize>n << 2), <u32>x);
    n++;
    freed++;
    x = next;
  }
  store<u32>(s, n, S_MCACHED);
  store<u32>(s, k, S_CCACHED);
  store<u32>(s, load<u32>(s, S_MFREES) + freed, S_MFREES);
  store<u32>(s, load<u32>(s, S_CFREES) + cfreed, S_CFREES);
  reader_leave();
  return one ? <i32>next : 0;
}

/**
 * The fast m_setowner_chain: retags the chain headed by `m` (a chain handed
 * to this thread: nothing else may touch it), inside the reader's section.
 * Returns what m_setowner_chain returns, or ESLOW if a writer holds the lock.
 */
export function cache_retag(m: usize, tag: u32): i32 {
  if (!reader_enter()) return EBUSY_WRITER;
  let e = check_head(m);
  let n = e ? e : chain_retag(m, tag);
  reader_leave();
  return n;
}

// === Under the pool lock ===

/** Moves up to `want` free items of `z` onto a stack at `stack` holding `have`; returns the new count. */
function stack_fill(z: Zone, stack: usize, have: u32, want: u32, cachedOff: u32): u32 {
  let moved: u32 = 0;
  while (moved < want) {
    let item = zone_take(z);
    if (!item) break;
    store<u32>(stack + (<usize>(have + moved) << 2), <u32>item);
    moved++;
  }
  gstore(cachedOff, gload(cachedOff) + moved);
  return have + moved;
}

/** Gives the top `count` items of a stack holding `have` back to `z`; returns the new count. */
function stack_drain(z: Zone, stack: usize, have: u32, count: u32, cachedOff: u32): u32 {
  let left = have - count;
  for (let i = have; i > left; i--) zone_give(z, <usize>load<u32>(stack + (<usize>(i - 1) << 2)));
  gstore(cachedOff, gload(cachedOff) - count);
  return left;
}

/**
 * Copies a full bucket of the depot whose count is at `full` and buckets at
 * `buckets` (`size` items each) to `to`, the free top of a stack; false if the
 * depot has none. The items stay cache: nothing is counted.
 */
function depot_take(full: usize, buckets: usize, size: u32, stack: usize): bool {
  let b = load<u32>(full);
  if (b == 0) return false;
  b--;
  memory.copy(stack, buckets + <usize>(b * size << 2), <usize>(size << 2));
  store<u32>(full, b);
  return true;
}

/**
 * Puts the `size` items at `from` into an empty bucket of the depot; false if
 * it is full or a thread waits for memory (the zones serve waiters: what is
 * freed then goes to them).
 */
function depot_put(full: usize, buckets: usize, size: u32, from: usize): bool {
  let b = load<u32>(full);
  if (b == DEPOT_BUCKETS || atomic.load<i32>(tWaiters) != 0) return false;
  memory.copy(buckets + <usize>(b * size << 2), from, <usize>(size << 2));
  store<u32>(full, b + 1);
  return true;
}

/** Gives every bucket of a depot back to `z`; returns the items moved. */
function depot_drain(z: Zone, full: usize, buckets: usize, size: u32, cachedOff: u32): u32 {
  let n = load<u32>(full) * size;
  for (let i: u32 = 0; i < n; i++) zone_give(z, <usize>load<u32>(buckets + (<usize>i << 2)));
  store<u32>(full, 0);
  gstore(cachedOff, gload(cachedOff) - n);
  return n;
}

/**
 * Balances this thread's stacks, a bucket (half a stack) at a time, the lock
 * held. With `refill` (after an allocation the fast path could not serve),
 * each stack at most half full gains a bucket; without (after a free it
 * could not serve: the stacks were full, or a thread waits), each stack over
 * half full loses its top bucket. Both stacks, whichever sent the call: a
 * packet takes an mbuf and a cluster, so one lock serves the two.
 *
 * A bucket moves through the depot when it can, as UMA's buckets between the
 * per-CPU caches and the zone: a flush hands the depot a full bucket, a
 * refill takes one, each a copy of the handles. So a thread that frees what
 * another allocates (a receive thread and a worker) touches no item under
 * the lock; through the zone, the flush would write each item's freelist
 * link and the refill read it back, a cache miss an item on the other core,
 * one after the other. A flush the depot refuses (full, or a thread waits:
 * the zones serve waiters) goes to the zone down to half a stack.
 */
export function cache_balance(mbufs: Zone, clusters: Zone, refill: bool): void {
  if (!cache_on()) return;
  let s = tSlot, d = tArea + T_DEPOT;
  let n = load<u32>(s, S_MCACHED), k = load<u32>(s, S_CCACHED);
  if (refill) {
    if (n <= MBUCKET) {
      let stack = s + S_MSTACK;
      n = depot_take(d + D_MFULL, d + D_MBUCKETS, MBUCKET, stack + (<usize>n << 2)) ? n + MBUCKET : stack_fill(mbufs, stack, n, MBUCKET, G_CACHED_MBUF);
      store<u32>(s, n, S_MCACHED);
    }
    // With a packet zone on, no fast path hands out a cluster: a stack of them would only idle.
    if (k <= CBUCKET && !packets_on()) {
      let stack = s + S_CSTACK;
      k = depot_take(d + D_CFULL, d + D_CBUCKETS, CBUCKET, stack + (<usize>k << 2)) ? k + CBUCKET : stack_fill(clusters, stack, k, CBUCKET, G_CACHED_CLUSTER);
      store<u32>(s, k, S_CCACHED);
    }
  } else {
    if (n > MBUCKET) {
      let stack = s + S_MSTACK;
      n = depot_put(d + D_MFULL, d + D_MBUCKETS, MBUCKET, stack + (<usize>(n - MBUCKET) << 2)) ? n - MBUCKET : stack_drain(mbufs, stack, n, n - MBUCKET, G_CACHED_MBUF);
      store<u32>(s, n, S_MCACHED);
    }
    if (k > CBUCKET) {
      let stack = s + S_CSTACK;
      k = depot_put(d + D_CFULL, d + D_CBUCKETS, CBUCKET, stack + (<usize>(k - CBUCKET) << 2)) ? k - CBUCKET : stack_drain(clusters, stack, k, k - CBUCKET, G_CACHED_CLUSTER);
      store<u32>(s, k, S_CCACHED);
    }
  }
}

/** Gives every stack of slot `s` back to the zones; returns the items moved. */
function slot_flush(slot: usize, mbufs: Zone, clusters: Zone): u32 {
  let n = load<u32>(slot, S_MCACHED), k = load<u32>(slot, S_CCACHED);
  if (n) stack_drain(mbufs, slot + S_MSTACK, n, n, G_CACHED_MBUF);
  if (k) stack_drain(clusters, slot + S_CSTACK, k, k, G_CACHED_CLUSTER);
  store<u32>(slot, 0, S_MCACHED);
  store<u32>(slot, 0, S_CCACHED);
  return n + k;
}

/** Gives every thread's stacks and the depot back to the zones (the lock held); returns the items moved. */
export function cache_flush_all(mbufs: Zone, clusters: Zone): u32 {
  if (!cache_on()) return 0;
  let d = tArea + T_DEPOT;
  let moved = depot_drain(mbufs, d + D_MFULL, d + D_MBUCKETS, MBUCKET, G_CACHED_MBUF)
    + depot_drain(clusters, d + D_CFULL, d + D_CBUCKETS, CBUCKET, G_CACHED_CLUSTER);
  let high = load<u32>(tArea, T_SLOTS_HIGH);
  for (let i: u32 = 0; i < high; i++) moved += slot_flush(slot_at(i), mbufs, clusters);
  return moved;
}

/**
 * Folds every slot's deltas into the zones and the census, and recounts what
 * the stacks hold (the lock held, readers out): afterwards the counters block
 * reads as if every call had run under the lock.
 */
export function cache_fold(mbufs: Zone, clusters: Zone): void {
  if (!cache_on()) return;
  let high = load<u32>(tArea, T_SLOTS_HIGH);
  let d = tArea + T_DEPOT;
  let mc = load<u32>(d, D_MFULL) * MBUCKET, cc = load<u32>(d, D_CFULL) * CBUCKET;
  let census = G();
  for (let i: u32 = 0; i < high; i++) {
    let s = slot_at(i);
    mc += load<u32>(s, S_MCACHED);
    cc += load<u32>(s, S_CCACHED);
    let ma = load<u32>(s, S_MALLOCS), mf = load<u32>(s, S_MFREES);
    if ((ma | mf) == 0) continue;
    mbufs.allocs += <f64>ma;
    mbufs.frees += <f64>mf;
    clusters.allocs += <f64>load<u32>(s, S_CALLOCS);
    clusters.frees += <f64>load<u32>(s, S_CFREES);
    store<u32>(s, 0, S_MALLOCS);
    store<u32>(s, 0, S_MFREES);
    store<u32>(s, 0, S_CALLOCS);
    store<u32>(s, 0, S_CFREES);
    for (let t: u32 = 0; t < MT_NTYPES; t++) {
      let p = s + S_CENSUS + (t << 2);
      let d = load<i32>(p);
      if (d) {
        store<u32>(census + (t << 2), <u32>(<i32>load<u32>(census + (t << 2)) + d));
        store<i32>(p, 0);
      }
    }
  }
  gstore(G_CACHED_MBUF, mc);
  gstore(G_CACHED_CLUSTER, cc);
}

/**
 * mb_thread_join: makes this instance the thread of slot `slot` of the thread
 * area at `area`, whose waiter count is the word at `waiters` (the lock held,
 * the slot claimed by the host). Returns 0; EINVAL (nothing written) for an
 * unshared build, a slot out of range, or an area or word that is not above
 * the arena's capacity, aligned and inside memory; ESTATE if this instance
 * has joined already.
 */
export function cache_join(area: usize, slot: u32, waiters: usize, tag: u32): i32 {
  if (!ASC_FEATURE_THREADS || slot >= THREAD_SLOTS) return EINVAL;
  if (tArea) return ESTATE;
  let floor = arenaBase + (<usize>capPages << PAGE_SHIFT);
  let end = <usize>memory.size() << 16;
  if (!arenaBase || area < floor || (area & 63) || area > end - THREAD_AREA_BYTES) return EINVAL;
  if (waiters < floor || (waiters & 3) || waiters > end - 4 || (waiters >= area && waiters < area + THREAD_AREA_BYTES)) return EINVAL;
  let s = area + T_HEADER + <usize>slot * SLOT_BYTES;
  memory.fill(s, 0, SLOT_BYTES); // the host claimed it (pool/lock.ts): what a dead thread left is gone

  store<u32>(s, 1, S_CLAIMED);
  if (slot + 1 > load<u32>(area, T_SLOTS_HIGH)) store<u32>(area, slot + 1, T_SLOTS_HIGH);
  tArea = area;
  tSlot = s;
  tLane = area + T_LANES + <usize>slot * LANE_BYTES;
  tId = <i32>slot + 1;
  tWaiters = waiters;
  threadOwner = tag;
  return 0;
}

/** mb_thread_leave: gives this thread's stacks back and frees its slot (the lock held, counters folded). */
export function cache_leave(mbufs: Zone, clusters: Zone): void {
  if (!cache_on()) return;
  cache_fold(mbufs, clusters);
  slot_flush(tSlot, mbufs, clusters);
  store<u32>(tSlot, 0, S_CLAIMED);
  tArea = 0;
  tSlot = 0;
  tLane = 0;
  tId = 0;
}

/**
 * mb_thread_reap: gives the stacks of slot `slot`, whose thread is gone, back to the zones
 * and frees the slot (the lock held, counters folded; the host lowered the slot's `active`
 * word, which a thread that died inside a fast path leaves raised). Returns the items
 * given back; EINVAL (nothing changed) for an unshared build, a slot out of range or this
 * instance's own; ESTATE if no thread holds the slot.
 */
export function cache_reap(mbufs: Zone, clusters: Zone, slot: u32): i32 {
  if (!cache_on() || slot >= load<u32>(tArea, T_SLOTS_HIGH)) return EINVAL;
  let s = slot_at(slot);
  if (s == tSlot) return EINVAL;
  if (load<u32>(s, S_CLAIMED) != 1) return ESTATE;
  let moved = slot_flush(s, mbufs, clusters);
  atomic.store<i32>(s, 0, S_ACTIVE);
  atomic.store<u32>(s, 0, S_CLAIMED);
  return <i32>moved;
}

/** Sets this thread's owner tag for the fast path (mb_set_owner sets the lock holder's, G_OWNER, too). */
export function cache_set_owner(tag: u32): void { threadOwner = tag; gstore(G_OWNER, tag); }
