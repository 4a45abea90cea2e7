// The packet zone: FreeBSD's secondary zone of pre-joined mbuf+cluster pairs
// (seed 002), with honest accounting and batched balancing.
//
// m_getcl takes a pair whose cluster is already attached from the packet
// cache when it holds one (a hit: one pop instead of two zone pops and an
// attach). Freeing an mbuf whose cluster drops to its last reference, whole,
// parks the pair in the cache instead of splitting it. Nothing else happens
// on those paths but a counter: the cache is never balanced item by item.
// Balancing is the host's policy (src/packet.ts), which calls the batch
// exports below on its clock: mb_packet_refill joins N pairs from the native
// zones, mb_packet_drain splits N pairs back. When a native zone runs dry the
// whole cache goes back before a request may fail (packet_reclaim, called
// from alloc_failed and mb_reclaim), unless the pool replays the 2005
// behaviour (mode without PKT_RECLAIMS), where pairs never go back.
//
// A parked pair must not look in use: its mbuf is typed MT_FREE (so check_mbuf
// and m_free see a double free in O(1)), it is in no census, and the host
// reports it as cache in both the mbuf and the cluster lines.
//
// Debug build: a parked pair is no free item (its mbuf header holds the
// attachment and its cluster a reference), so the mbuf is not poisoned; but
// the cluster's data is nobody's, so it is poisoned when the pair is parked
// and checked when the pair is handed out or split, as FreeBSD's
// mb_dtor_pack/mb_ctor_pack trash the cluster of a cached packet (poison.ts).
//
// ╒══════════════ a pair parked in the packet cache (one mbuf item) ══════════════╕
//    0            4 ...  16        18       20 ...   28        32         36
// ├────────────┬───────┬─────────┬────────┬───────┬────────┬─────────┬──────────┤
// │ next pair  │  ...  │ MT_FREE │ M_EXT  │  ...  │ spare 0│ ext_buf │ ext_size │
// └────────────┴───────┴─────────┴────────┴───────┴────────┴─────────┴──────────┘
//   The cluster at ext_buf has reference count 1. An mbuf on the mbuf zone's
//   freelist is MT_FREE with flags 0: M_EXT is what tells the two apart.
//
// The zone record in slot ZONE_PACKET counts pairs: `free` = parked pairs,
// `total` = pairs of the packet zone (in use + parked), `allocs` = cache hits,
// `frees` = pairs parked by frees, `denied`/`delayed` = m_getcl requests that
// failed (the third column of netstat's denied/delayed lines). An mbuf in use
// that came out of the packet zone carries PKT_ORIGIN in its spare word, so
// `total - free` (netstat's "current") stays exact whatever happens to it.

import {
  MSIZE, MSIZE_SHIFT, M_TYPE, M_FLAGS, M_SPARE, M_HDR_SIZE, M_PKTHDR_SIZE, EXT_BUF, EXT_SIZE,
  M_EXT, M_PKTHDR, M_WAITOK, M_RECV, ZONE_MBUF, ZONE_CLUSTER, ZONE_PACKET, EINVAL, ESTATE,
} from "./constants";
import {
  Zone, zoneOf, gload, gstore, G, G_READY, G_RESV_FLAG, G_RESV_COUNT, G_PKT_MODE,
  G_PKT_LAST_REFILL, G_PKT_LAST_DRAIN, G_PKT_MISSES, G_PKT_REFILLS, G_PKT_REFILLED,
  G_PKT_DRAINS, G_PKT_DRAINED, G_PKT_RECLAIMS, G_PKT_RECLAIMED,
} from "./stats";
import { ref_ptr, pages_available } from "./arena";
import { zone_pop, zone_push, zone_alloc_slow } from "./zone";
import { poison_fill, poison_check } from "./poison";

/** Mode bit: m_getcl takes pairs from the cache and whole pairs freed are parked there. */
// @ts-ignore: decorator
@inline export const PKT_ENABLED: u32 = 1;
/** Mode bit: the cache goes back to the native zones before a request fails (not in the 2005 mode). */
// @ts-ignore: decorator
@inline export const PKT_RECLAIMS: u32 = 2;
// @ts-ignore: decorator
@inline const PKT_MODE_MASK: u32 = PKT_ENABLED | PKT_RECLAIMS;
/** Spare-word value of an mbuf in use that came out of the packet zone. */
// @ts-ignore: decorator
@inline export const PKT_ORIGIN: u32 = 1;
/** m_flags of a parked pair's mbuf (typed MT_FREE). */
// @ts-ignore: decorator
@inline export const PKT_CACHED_FLAGS: u16 = M_EXT;
/** Where a parked pair keeps its cluster: the descriptor of an mbuf without a packet header. */
// @ts-ignore: decorator
@inline export const PKT_EXT: u32 = M_HDR_SIZE;

/** The packet zone's record (counts pairs). */
const packetZone: Zone = zoneOf(ZONE_PACKET);
/** The native zones the pairs come from and go back to. */
const mbufs: Zone = zoneOf(ZONE_MBUF);
const clusters: Zone = zoneOf(ZONE_CLUSTER);

/** Adds one to an f64 counter of the global block. */
// @ts-ignore: decorator
@inline function count(off: u32, by: f64): void {
  store<f64>(G() + off, load<f64>(G() + off) + by);
}

// === The hot path (called from mbuf.ts) ===

/** True if the reservation refuses a cluster to a caller outside the receive class (as cluster_alloc does). */
function reserved(): bool {
  if (gload(G_RESV_FLAG)) return true;
  let resv = gload(G_RESV_COUNT);
  return native_clusters() + packet_reclaimable() <= resv;
}

/**
 * Takes a parked pair for m_getcl: its mbuf (still typed MT_FREE, cluster at
 * PKT_EXT), or 0 when the cache is empty or the reservation refuses `how`
 * (the native path then applies it). Counts the hit or the miss.
 */
// @ts-ignore: decorator
@inline export function packet_pop(how: i32): usize {
  let pz = packetZone;
  let m = <usize>pz.freeHead;
  if (m && (!(gload(G_RESV_FLAG) | gload(G_RESV_COUNT)) || (how & M_RECV) || !reserved())) {
    pz.freeHead = load<u32>(m);
    pz.free--;
    pz.allocs += 1.0;
    if (!ASC_NO_ASSERT) poison_check(ZONE_CLUSTER, <usize>load<u32>(m, PKT_EXT + EXT_BUF), clusters.itemSize);
    return m;
  }
  if (gload(G_PKT_MODE) & PKT_ENABLED) count(G_PKT_MISSES, 1.0);
  return 0;
}

/** A pair m_getcl assembled from the native zones becomes a packet-zone item (as UMA's import does). */
// @ts-ignore: decorator
@inline export function packet_born(m: usize): void {
  if (!(gload(G_PKT_MODE) & PKT_ENABLED)) return;
  store<u32>(m, PKT_ORIGIN, M_SPARE);
  let pz = packetZone;
  pz.total++;
  if (pz.total > pz.peak) pz.peak = pz.total;
}

/** Counts a failed m_getcl against the packet zone (netstat's mbuf+clusters column). */
// @ts-ignore: decorator
@inline export function packet_failed(how: i32): void {
  if (!(gload(G_PKT_MODE) & PKT_ENABLED)) return;
  if (how & M_WAITOK) packetZone.delayed += 1.0; else packetZone.denied += 1.0;
}

/**
 * Parks `m` with its cluster if the pair is whole (the cluster's last
 * reference, a 2 KiB cluster, not a jumbo one) and the packet zone is on. `m` must be in use, out of the
 * census and unlinked already. Returns true if parked.
 */
// @ts-ignore: decorator
@inline export function packet_park(m: usize, flags: u16): bool {
  if (!(gload(G_PKT_MODE) & PKT_ENABLED)) return false;
  let ext = m + ((flags & M_PKTHDR) ? M_PKTHDR_SIZE : M_HDR_SIZE);
  let c = load<u32>(ext, EXT_BUF);
  if (load<u32>(ref_ptr(<usize>c)) != 1) return false;
  if (load<u32>(ext, EXT_SIZE) != clusters.itemSize) return false; // a jumbo cluster goes to its own zone
  let pz = packetZone;
  if (load<u32>(m, M_SPARE) != PKT_ORIGIN) {
    // A pair assembled by m_get + m_clget joins the packet zone here (the 2005 leak's source).
    pz.total++;
    if (pz.total > pz.peak) pz.peak = pz.total;
  }
  store<u32>(m, c, PKT_EXT + EXT_BUF);
  store<u32>(m, clusters.itemSize, PKT_EXT + EXT_SIZE);
  store<u32>(m, 0, M_SPARE);
  if (!ASC_NO_ASSERT) poison_fill(ZONE_CLUSTER, <usize>c, clusters.itemSize);
  store<u16>(m, 0, M_TYPE); // MT_FREE
  store<u16>(m, PKT_CACHED_FLAGS, M_FLAGS);
  store<u32>(m, pz.freeHead);
  pz.freeHead = <u32>m;
  pz.free++;
  pz.frees += 1.0;
  return true;
}

/** An mbuf of the packet zone leaves it without its pair being parked. */
// @ts-ignore: decorator
@inline export function packet_leave(m: usize): void {
  if (load<u32>(m, M_SPARE) == PKT_ORIGIN) packetZone.total--;
}

// === Moving pairs between the cache and the native zones ===

/** Splits up to `n` parked pairs back into their zones; returns how many. */
function split_pairs(n: u32): u32 {
  let pz = packetZone;
  let k: u32 = 0;
  while (k < n && pz.freeHead) {
    let m = <usize>pz.freeHead;
    pz.freeHead = load<u32>(m);
    pz.free--;
    pz.total--;
    let c = <usize>load<u32>(m, PKT_EXT + EXT_BUF);
    if (!ASC_NO_ASSERT) poison_check(ZONE_CLUSTER, c, clusters.itemSize); // zone_push poisons it afresh
    store<u32>(ref_ptr(c), 0);
    zone_push(clusters, c);
    store<u16>(m, 0, M_FLAGS);
    zone_push(mbufs, m);
    k++;
  }
  return k;
}

/** Pairs the cache could give back to the native zones before a request fails. */
// @ts-ignore: decorator
@inline export function packet_reclaimable(): u32 {
  return (gload(G_PKT_MODE) & PKT_RECLAIMS) ? packetZone.free : 0;
}

/**
 * A native zone ran dry (or the host reclaims memory): every parked pair goes
 * back, as modern FreeBSD's m_clget does with uma_zone_reclaim(zone_pack).
 * Returns true if any pair went back. Never in the 2005 mode.
 */
export function packet_reclaim(): bool {
  let n = packet_reclaimable();
  if (!n) return false;
  let k = split_pairs(n);
  count(G_PKT_RECLAIMS, 1.0);
  count(G_PKT_RECLAIMED, <f64>k);
  return k != 0;
}

/** Clusters the native zone could give without a reservation's help: free plus what it could carve. */
function native_clusters(): u32 {
  let avail = clusters.free;
  if (clusters.grows) avail += min(clusters.limit - clusters.total, pages_available() * clusters.perPage);
  return avail;
}

// === Exports for the host's balancing policy ===

/**
 * Sets the packet zone's mode: 0 (off), PKT_ENABLED, or PKT_ENABLED |
 * PKT_RECLAIMS. Turning it off splits every parked pair back.
 * Returns 0, EINVAL for other bits or PKT_RECLAIMS alone, ESTATE before mb_init.
 */
export function mb_packet_mode(mode: i32): i32 {
  if (!gload(G_READY)) return ESTATE;
  if ((mode & ~<i32>PKT_MODE_MASK) || mode == <i32>PKT_RECLAIMS) return EINVAL;
  let pz = packetZone;
  pz.id = ZONE_PACKET;
  pz.itemSize = MSIZE;
  pz.itemShift = MSIZE_SHIFT;
  pz.limit = min(mbufs.limit, clusters.limit);
  gstore(G_PKT_MODE, <u32>mode);
  if (!(mode & <i32>PKT_ENABLED) && pz.free) {
    let k = split_pairs(pz.free);
    count(G_PKT_RECLAIMS, 1.0);
    count(G_PKT_RECLAIMED, <f64>k);
  }
  return 0;
}

/**
 * Refill batch: joins up to `n` pairs from the native zones into the cache,
 * never failing a request on the way (no drain hook, no denied count), never
 * while the reservation flag is set and never into a cluster reserve.
 * Returns the pairs added, EINVAL for n < 0, ESTATE if the packet zone is off.
 */
export function mb_packet_refill(n: i32): i32 {
  if (n < 0) return EINVAL;
  if (!(gload(G_PKT_MODE) & PKT_ENABLED)) return ESTATE;
  if (gload(G_RESV_FLAG)) return 0;
  let resv = gload(G_RESV_COUNT);
  let pz = packetZone;
  let k: i32 = 0;
  while (k < n) {
    if (resv && native_clusters() <= resv) break;
    let m = zone_pop(mbufs);
    if (!m) m = zone_alloc_slow(mbufs);
    if (!m) break;
    let c = zone_pop(clusters);
    if (!c) c = zone_alloc_slow(clusters);
    if (!c) {
      zone_push(mbufs, m);
      break;
    }
    store<u32>(ref_ptr(c), 1);
    if (!ASC_NO_ASSERT) poison_fill(ZONE_CLUSTER, c, clusters.itemSize);
    store<u32>(m, <u32>c, PKT_EXT + EXT_BUF);
    store<u32>(m, clusters.itemSize, PKT_EXT + EXT_SIZE);
    store<u32>(m, 0, M_SPARE);
    store<u16>(m, PKT_CACHED_FLAGS, M_FLAGS);
    store<u32>(m, pz.freeHead);
    pz.freeHead = <u32>m;
    pz.free++;
    pz.total++;
    k++;
  }
  if (pz.total > pz.peak) pz.peak = pz.total;
  if (k) {
    count(G_PKT_REFILLS, 1.0);
    count(G_PKT_REFILLED, <f64>k);
    gstore(G_PKT_LAST_REFILL, <u32>k);
  }
  return k;
}

/**
 * Drain batch: splits up to `n` parked pairs back into the native zones.
 * Returns the pairs released, or EINVAL for n < 0.
 */
export function mb_packet_drain(n: i32): i32 {
  if (n < 0) return EINVAL;
  let k = split_pairs(<u32>n);
  if (k) {
    count(G_PKT_DRAINS, 1.0);
    count(G_PKT_DRAINED, <f64>k);
    gstore(G_PKT_LAST_DRAIN, k);
  }
  return <i32>k;
}

/** The packet zone's record, for the audit. */
export function packet_zone(): Zone { return packetZone; }
