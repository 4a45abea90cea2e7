// mbufs and clusters: allocation, attachment, reference counts and freeing,
// with the names of mbuf(9).
//
// Every entry point validates what the host gives it and answers a negative
// error code instead of trapping: a handle must be the start of an mbuf
// carved in an mbuf page and not free; a freed mbuf is typed MT_FREE, so a
// double free is seen in O(1). An mbuf that something else points at (the
// tail of a chain, a socket buffer's contents) carries M_LINKED and cannot
// be freed alone, so no host call can leave a dangling link behind.
//
// A failed allocation calls the host's `exhausted` hook, which may run the
// protocol drain routines (m_reclaim); if it did, the core counts a drain
// call and retries once. Failures are then counted as denied (M_NOWAIT) or
// delayed (M_WAITOK: the host will wait).

import {
  MSIZE_SHIFT, MSIZE_MASK, PAGE_SHIFT, PAGE_MASK, MCLSHIFT_MIN, MCLSHIFT_MAX,
  M_NEXT, M_NEXTPKT, M_DATA, M_LEN, M_TYPE, M_FLAGS, M_OWNER, M_SEQ, M_SPARE,
  M_HDR_SIZE, M_PKTHDR_SIZE, PH_LEN, PH_RCVIF, EXT_BUF, EXT_SIZE,
  M_EXT, M_PKTHDR, M_LINKED, M_USER_FLAGS, MT_FREE, MT_NTYPES,
  M_NOWAIT, M_WAITOK, M_RECV, M_HOW_MASK, ZONE_MBUF, ZONE_CLUSTER,
  EINVAL, EBADHANDLE, EDOUBLEFREE, EBUSY, ESTATE,
} from "./constants";
import {
  Zone, zoneOf, gload, gstore, gcount, G, G_SEQ, G_OWNER, G_RESV_FLAG, G_RESV_COUNT, G_HELD,
  G_RESV_DENIED, G_DRAINS, G_READY, G_CACHED_CLUSTER,
} from "./stats";
import {
  arena_init, arenaBase, top, meta_ptr, ref_ptr, pages_available, meta_zone, meta_carved,
} from "./arena";
import { zone_setup, zone_pop, zone_push, zone_alloc_slow } from "./zone";
import { host_exhausted } from "./host";
import { ext_ptr, mseq } from "./header";
import { same_mbuf } from "./drain";
import { cache_fast, cache_get, cache_free, cache_retag, cache_balance, cache_flush_all, cache_set_owner } from "./cache";
import { jumbo_ready } from "./jumbo";
import {
  packet_pop, packet_born, packet_failed, packet_park, packet_leave, packet_reclaim, packet_reclaimable, PKT_ORIGIN, PKT_EXT,
} from "./packet";

/** mb_init flag: grow memory to the cap now (pinned memory). */
// @ts-ignore: decorator
@inline export const INIT_PINNED: u32 = 1;
/** mb_init flag: the mbuf zone may take pages inside an allocation. */
// @ts-ignore: decorator
@inline export const INIT_MBUF_GROWS: u32 = 2;
/** mb_init flag: the cluster zone may take pages inside an allocation. */
// @ts-ignore: decorator
@inline export const INIT_CLUSTER_GROWS: u32 = 4;

/** The mbuf zone. */
export const mbufZone: Zone = zoneOf(ZONE_MBUF);
/** The cluster zone. */
export const clusterZone: Zone = zoneOf(ZONE_CLUSTER);

/**
 * Sets the pool up: the arena for `thewall` bytes, clusters of 2^clshift
 * bytes, at most `nmbufs` mbufs and `nmbclusters` clusters.
 * Returns 0, EINVAL for a bad size, ENOMEM if memory cannot hold the layout,
 * ESTATE if already initialised.
 */
export function mb_init(thewall: u32, clshift: u32, nmbufs: u32, nmbclusters: u32, flags: u32): i32 {
  if (gload(G_READY)) return ESTATE;
  if (clshift < MCLSHIFT_MIN || clshift > MCLSHIFT_MAX) return EINVAL;
  if (nmbufs == 0 || nmbclusters == 0) return EINVAL;
  let r = arena_init(thewall, (flags & INIT_PINNED) != 0);
  if (r < 0) return r;
  zone_setup(mbufZone, ZONE_MBUF, MSIZE_SHIFT, nmbufs, (flags & INIT_MBUF_GROWS) != 0);
  zone_setup(clusterZone, ZONE_CLUSTER, clshift, nmbclusters, (flags & INIT_CLUSTER_GROWS) != 0);
  gstore(G_READY, 1);
  return 0;
}

// === Validation ===

/** 0 if `m` is an mbuf in use; EBADHANDLE or EDOUBLEFREE otherwise. */
// @ts-ignore: decorator
@inline export function check_mbuf(m: usize): i32 {
  let off = m - arenaBase;
  if (m < arenaBase || off >= (<usize>top << PAGE_SHIFT) || (m & MSIZE_MASK)) return EBADHANDLE;
  let meta = load<u32>(meta_ptr(m));
  if (meta_zone(meta) != ZONE_MBUF) return EBADHANDLE;
  if (<u32>((off & PAGE_MASK) >> MSIZE_SHIFT) >= meta_carved(meta)) return EBADHANDLE;
  if (load<u16>(m, M_TYPE) == MT_FREE) return EDOUBLEFREE;
  return 0;
}

/** 0 if `m` is an mbuf in use that nothing else points at. */
// @ts-ignore: decorator
@inline export function check_head(m: usize): i32 {
  let e = check_mbuf(m);
  if (e) return e;
  return (load<u16>(m, M_FLAGS) & M_LINKED) ? EBUSY : 0;
}

/** True if `how` names exactly one of M_NOWAIT / M_WAITOK, optionally with M_RECV. */
// @ts-ignore: decorator
@inline export function valid_how(how: i32): bool {
  let w = how & M_HOW_MASK;
  return (how & ~(M_HOW_MASK | M_RECV)) == 0 && (w == M_NOWAIT || w == M_WAITOK);
}

/** True if `type` is a type an mbuf may be allocated with (not MT_FREE). */
// @ts-ignore: decorator
@inline export function valid_type(type: i32): bool {
  return <u32>(type - 1) < MT_NTYPES - 1;
}

/** Address of a census slot. */
// @ts-ignore: decorator
@inline function census_ptr(type: u32): usize { return G() + (type << 2); }

// === Allocation ===

/**
 * Called on an empty zone: the packet cache goes back first (for the mbuf and
 * cluster zones, whose items it holds); then counts, asks the host to drain,
 * retries once.
 */
export function alloc_failed(z: Zone, how: i32): usize {
  // Per-thread caches (cache.ts): every thread's stacks return to the zones before a request fails.
  if (z.id <= ZONE_CLUSTER && cache_flush_all(mbufZone, clusterZone)) {
    let item = zone_pop(z);
    if (item) return item;
  }
  // Packet zone (packet.ts): parked pairs return to their zones before a request fails.
  if (z.id <= ZONE_CLUSTER && packet_reclaim()) {
    let item = zone_pop(z);
    if (item) return item;
  }
  if (host_exhausted(z.id, how)) {
    gcount(G_DRAINS);
    let item = zone_pop(z);
    if (!item) item = zone_alloc_slow(z);
    if (!item && z.id <= ZONE_CLUSTER && packet_reclaim()) item = zone_pop(z); // what the drain routines freed was parked
    if (item) return item;
  }
  if (how & M_WAITOK) z.delayed += 1.0; else z.denied += 1.0;
  return 0;
}

/** Takes an mbuf item from its zone, or 0. */
// @ts-ignore: decorator
@inline export function mbuf_alloc(how: i32): usize {
  let m = zone_pop(mbufZone);
  if (!m) {
    m = zone_alloc_slow(mbufZone);
    if (!m) m = alloc_failed(mbufZone, how);
  }
  return m;
}

/** Clusters the receive class could still get: free ones plus what the zone could carve. */
function clusters_available(): u32 {
  let z = clusterZone;
  let avail = z.free + packet_reclaimable() + gload(G_CACHED_CLUSTER);
  if (z.grows) avail += min(z.limit - z.total, pages_available() * z.perPage);
  return avail;
}

/**
 * m_clalloc: takes a cluster, honouring the reservation. While the
 * reservation flag is set, or when no more than the reserved count remains,
 * only M_RECV callers get one; others are refused and counted.
 */
function cluster_alloc(how: i32): usize {
  if (!(how & M_RECV)) {
    let resv = gload(G_RESV_COUNT);
    if (gload(G_RESV_FLAG) || (resv && clusters_available() <= resv)) {
      gcount(G_RESV_DENIED);
      if (how & M_WAITOK) clusterZone.delayed += 1.0; else clusterZone.denied += 1.0;
      return 0;
    }
  }
  let c = zone_pop(clusterZone);
  if (!c) {
    c = zone_alloc_slow(clusterZone);
    if (!c) c = alloc_failed(clusterZone, how);
  }
  if (c) store<u32>(ref_ptr(c), 1);
  return c;
}

/** Writes a fresh mbuf's 4.4BSD header: empty, of `type` and `flags`, stamped with `owner` and `seq`. */
// @ts-ignore: decorator
@inline export function mbuf_header(m: usize, type: u32, flags: u16, owner: u32, seq: u32): void {
  store<u32>(m, 0, M_NEXT);
  store<u32>(m, 0, M_NEXTPKT);
  store<u32>(m, <u32>(m + ((flags & M_PKTHDR) ? M_PKTHDR_SIZE : M_HDR_SIZE)), M_DATA);
  store<i32>(m, 0, M_LEN);
  store<u16>(m, <u16>type, M_TYPE);
  store<u16>(m, flags, M_FLAGS);
  store<u32>(m, owner, M_OWNER);
  store<u32>(m, seq, M_SEQ);
  store<u32>(m, 0, M_SPARE);
  if (flags & M_PKTHDR) {
    store<i32>(m, 0, PH_LEN);
    store<u32>(m, 0, PH_RCVIF);
  }
}

/** Initialises a fresh mbuf's header, with the next sequence number, and counts it in the census. */
// @ts-ignore: decorator
@inline export function mbuf_init(m: usize, type: u32, flags: u16): void {
  let seq = gload(G_SEQ) + 1;
  gstore(G_SEQ, seq);
  mbuf_header(m, type, flags, gload(G_OWNER), seq);
  let cp = census_ptr(type);
  store<u32>(cp, load<u32>(cp) + 1);
}

/**
 * Takes up to `n` mbufs straight off the freelist into `out` (i32 handles),
 * each initialised as mbuf_init does; the zone's counters, the sequence
 * number and the census are written once.
 * Hands out what the same number of mbuf_alloc calls would. Returns how many.
 */
export function mbuf_alloc_run(n: i32, type: u32, flags: u16, out: usize): i32 {
  let z = mbufZone;
  let head = <usize>z.freeHead;
  let owner = gload(G_OWNER);
  let seq = gload(G_SEQ);
  let i: i32 = 0;
  for (; i < n && head; i++) {
    let m = head;
    head = <usize>load<u32>(m);
    mbuf_header(m, type, flags, owner, ++seq);
    store<i32>(out + (<usize>i << 2), <i32>m);
  }
  z.freeHead = <u32>head;
  z.free -= <u32>i;
  z.allocs += <f64>i;
  gstore(G_SEQ, seq);
  let cp = census_ptr(type);
  store<u32>(cp, load<u32>(cp) + <u32>i);
  return i;
}

/**
 * Frees the chains whose heads are `heads[0..n)` (i32 handles, all checked by
 * the caller) as mbuf_free does: item by item onto the freelist's head, a
 * whole mbuf+cluster pair parked in the packet cache instead; the zone's
 * counters are written once.
 */
export function mbuf_free_run(n: i32, heads: usize): void {
  let z = mbufZone;
  let head = <usize>z.freeHead;
  let k: u32 = 0;
  // Bounded by the mbufs in use, so a corrupted chain is never followed forever.
  let bound = z.total - z.free;
  for (let j = 0; j < n; j++) {
    let m = <usize>load<i32>(heads + (<usize>j << 2));
    while (m && bound) {
      bound--;
      // mbuf_free, but onto a list of its own.
      let flags = load<u16>(m, M_FLAGS);
      let nx = <usize>load<u32>(m, M_NEXT);
      mbuf_unlink(m, nx);
      if (flags & M_EXT) {
        // A whole pair goes to the packet cache (packet.ts), not to this zone.
        if (packet_park(m, flags)) {
          m = nx;
          continue;
        }
        ext_release(m, flags);
      }
      mbuf_mark_free(m);
      store<u32>(m, <u32>head);
      head = m;
      k++;
      m = nx;
    }
  }
  z.freeHead = <u32>head;
  z.free += k;
  z.frees += <f64>k;
}

/** Attaches cluster `c` to `m` as its external storage. */
// @ts-ignore: decorator
@inline function ext_attach(m: usize, c: usize): void {
  ext_attach_size(m, c, clusterZone.itemSize);
}

/** Attaches cluster `c` of `size` bytes (a cluster or a jumbo cluster) to `m` as its external storage. */
// @ts-ignore: decorator
@inline export function ext_attach_size(m: usize, c: usize, size: u32): void {
  let flags = load<u16>(m, M_FLAGS);
  let ext = ext_ptr(m, flags);
  store<u32>(ext, <u32>c, EXT_BUF);
  store<u32>(ext, size, EXT_SIZE);
  store<u32>(m, <u32>c, M_DATA);
  store<u16>(m, flags | M_EXT, M_FLAGS);
}

/**
 * Drops one reference to the external storage of `m`; frees the cluster on
 * the last, to the zone its page names (the cluster zone or a jumbo zone:
 * every page of a slab carries its zone's id), so no size is compared.
 */
export function ext_release(m: usize, flags: u16): void {
  let c = <usize>load<u32>(ext_ptr(m, flags), EXT_BUF);
  let rp = ref_ptr(c);
  let refs = load<u32>(rp) - 1;
  store<u32>(rp, refs);
  if (refs == 0) zone_push(zoneOf(meta_zone(load<u32>(meta_ptr(c)))), c);
}

/**
 * m_get: an mbuf of `type` without a packet header.
 * Returns the handle, 0 if none is free (counted), EINVAL for a bad how/type.
 */
export function m_get(how: i32, type: i32): i32 {
  if (!valid_how(how) || !valid_type(type)) return EINVAL;
  if (cache_fast()) return cache_get(how, type, 0, false, 0);
  let m = mbuf_alloc(how);
  if (m) {
    mbuf_init(m, type, 0);
    cache_balance(mbufZone, clusterZone, true);
  }
  return <i32>m;
}

/** m_gethdr: an mbuf of `type` with a packet header. Results as m_get. */
export function m_gethdr(how: i32, type: i32): i32 {
  if (!valid_how(how) || !valid_type(type)) return EINVAL;
  if (cache_fast()) return cache_get(how, type, M_PKTHDR, false, 0);
  let m = mbuf_alloc(how);
  if (m) {
    mbuf_init(m, type, M_PKTHDR);
    cache_balance(mbufZone, clusterZone, true);
  }
  return <i32>m;
}

/**
 * m_clget: attaches a cluster to the empty mbuf `m`.
 * Returns `m`, 0 if no cluster could be had (counted) or a drain routine
 * freed `m` meanwhile (even if it allocated the address again),
 * EBADHANDLE/EDOUBLEFREE for a bad handle, EBUSY inside a chain or socket
 * buffer, EINVAL if `m` already has external storage or holds data (checked
 * again after a drain routine ran).
 */
export function m_clget(m: i32, how: i32): i32 {
  let e = clget_args(<usize>m, how);
  if (e) return e;
  let s0 = mseq(<usize>m);
  let c = cluster_alloc(how);
  if (!c) return 0;
  return clget_attach(m, how, s0, c, clusterZone);
}

/**
 * The end of m_clget and m_cljget: attaches cluster `c`, just taken from `z`,
 * to `m`, whose sequence number was `s0` before the cluster was sought. A
 * drain routine run by the host meanwhile may have freed `m` (the answer is
 * then NULL, as for any freed `m`, even if it allocated the address again:
 * drain.ts) or changed it (the answer is then what the checks say now).
 * Either way the cluster goes back to `z`.
 */
// @ts-ignore: decorator
@inline export function clget_attach(m: i32, how: i32, s0: u32, c: usize, z: Zone): i32 {
  let e = same_mbuf(<usize>m, s0) ? clget_args(<usize>m, how) : CLGET_LOST;
  if (e) {
    store<u32>(ref_ptr(c), 0);
    zone_push(z, c);
    return e == CLGET_LOST ? 0 : e;
  }
  ext_attach_size(<usize>m, c, z.itemSize);
  return m;
}

/** m_clget's internal answer when `m` was freed meanwhile (never returned). */
// @ts-ignore: decorator
@inline export const CLGET_LOST: i32 = -1;

/** 0 if m_clget may attach a cluster to `m`: an empty head without one; else its error. */
// @ts-ignore: decorator
@inline export function clget_args(m: usize, how: i32): i32 {
  // A head only: a cluster attached inside a socket buffer would escape its sb_mbcnt.
  let e = check_head(m);
  if (e) return e;
  if (!valid_how(how)) return EINVAL;
  if ((load<u16>(m, M_FLAGS) & M_EXT) || load<i32>(m, M_LEN) != 0) return EINVAL;
  return 0;
}

/**
 * m_getcl: an mbuf with a cluster attached; `flags` is 0 or M_PKTHDR.
 * Returns the handle, 0 if either could not be had (the mbuf goes back), EINVAL.
 */
export function m_getcl(how: i32, type: i32, flags: i32): i32 {
  if (!valid_how(how) || !valid_type(type) || (flags & ~<i32>M_PKTHDR)) return EINVAL;
  if (cache_fast()) return cache_get(how, type, <u16>flags, true, clusterZone.itemSize);
  // Packet zone (packet.ts): a parked pair, its cluster already attached.
  let m = packet_pop(how);
  if (m) {
    let c = <usize>load<u32>(m, PKT_EXT + EXT_BUF);
    mbuf_init(m, type, <u16>flags);
    ext_attach(m, c);
    store<u32>(m, PKT_ORIGIN, M_SPARE);
    return <i32>m;
  }
  m = mbuf_alloc(how);
  if (!m) {
    packet_failed(how);
    return 0;
  }
  let c = cluster_alloc(how);
  if (!c) {
    zone_push(mbufZone, m);
    packet_failed(how);
    return 0;
  }
  mbuf_init(m, type, <u16>flags);
  ext_attach(m, c);
  packet_born(m);
  cache_balance(mbufZone, clusterZone, true);
  return <i32>m;
}

// === Freeing ===

// mbuf_free and mbuf_free_run (a batch) free an mbuf alike: these two halves
// are what they share; between them each parks a whole pair in the packet
// cache or drops the cluster reference, and each puts `m` on its own list.

/** Freeing `m`, first half: its successor `next` a head of its own, its type out of the census. */
// @ts-ignore: decorator
@inline function mbuf_unlink(m: usize, next: usize): void {
  if (next) store<u16>(next, load<u16>(next, M_FLAGS) & ~M_LINKED, M_FLAGS);
  let cp = census_ptr(load<u16>(m, M_TYPE));
  store<u32>(cp, load<u32>(cp) - 1);
}

/** Freeing `m`, second half (its cluster given back): marked free, ready for a freelist. */
// @ts-ignore: decorator
@inline function mbuf_mark_free(m: usize): void {
  packet_leave(m);
  store<u16>(m, MT_FREE, M_TYPE);
  store<u16>(m, 0, M_FLAGS);
}

/** Frees one mbuf known to be valid; returns its successor, now unlinked. */
// @ts-ignore: decorator
@inline export function mbuf_free(m: usize): usize {
  let flags = load<u16>(m, M_FLAGS);
  let n = <usize>load<u32>(m, M_NEXT);
  mbuf_unlink(m, n);
  if (flags & M_EXT) {
    if (packet_park(m, flags)) return n; // a whole pair goes to the packet cache (packet.ts)
    ext_release(m, flags);
  }
  mbuf_mark_free(m);
  zone_push(mbufZone, m);
  return n;
}

/**
 * m_free: frees one mbuf and its reference to any cluster.
 * Returns the next mbuf of the chain (now a head of its own), 0 if none,
 * EBADHANDLE/EDOUBLEFREE for a bad handle, EBUSY if `m` is inside a chain or socket buffer.
 */
export function m_free(m: i32): i32 {
  if (cache_fast()) return cache_free(<usize>m, true);
  let e = check_head(<usize>m);
  if (e) return e;
  let n = <i32>mbuf_free(<usize>m);
  cache_balance(mbufZone, clusterZone, false);
  return n;
}

/** m_freem: frees a whole chain. Returns 0, or the errors of m_free for the head. */
export function m_freem(m: i32): i32 {
  if (cache_fast()) return cache_free(<usize>m, false);
  let e = check_head(<usize>m);
  if (e) return e;
  chain_free(<usize>m);
  cache_balance(mbufZone, clusterZone, false);
  return 0;
}

/**
 * Frees the chain headed by `m` (0: nothing), a valid head or a private list
 * an operation took. The one chain walk that frees: it is bounded by the
 * mbufs in use, so a cycle made by a stray write cannot loop forever; the
 * debug build also stops at a successor that is not an mbuf in use (the
 * audit then reports the stranded links) instead of freeing it twice.
 */
export function chain_free(m: usize): void {
  let bound = mbufZone.total - mbufZone.free;
  let n = m;
  while (n && bound) {
    n = mbuf_free(n);
    bound--;
    if (!ASC_NO_ASSERT) {
      if (n && check_mbuf(n) != 0) break;
    }
  }
}

// === Header fields the host may read and set ===

/** m_chtype: changes the type of `m`, keeping the census right. Returns 0 or an error. */
export function m_chtype(m: i32, type: i32): i32 {
  let e = check_mbuf(<usize>m);
  if (e) return e;
  if (!valid_type(type)) return EINVAL;
  let old = census_ptr(load<u16>(<usize>m, M_TYPE));
  store<u32>(old, load<u32>(old) - 1);
  let cp = census_ptr(<u32>type);
  store<u32>(cp, load<u32>(cp) + 1);
  store<u16>(<usize>m, <u16>type, M_TYPE);
  return 0;
}

/** Sets or clears the user-settable flags (M_EOR, M_BCAST, M_MCAST) of `m`. Returns the new flags or an error. */
export function m_setflags(m: i32, set: i32, clear: i32): i32 {
  let e = check_mbuf(<usize>m);
  if (e) return e;
  if ((set | clear) & ~<i32>M_USER_FLAGS) return EINVAL;
  let f = (load<u16>(<usize>m, M_FLAGS) & ~<u16>clear) | <u16>set;
  store<u16>(<usize>m, f, M_FLAGS);
  return f;
}

/** Sets the owner tag stamped on mbufs allocated from now on. */
export function mb_set_owner(tag: u32): void { cache_set_owner(tag); }

/** Retags `m` (for example when a connection takes over a buffer). Returns 0 or an error. */
export function m_setowner(m: i32, tag: u32): i32 {
  let e = check_mbuf(<usize>m);
  if (e) return e;
  store<u32>(<usize>m, tag, M_OWNER);
  return 0;
}

/**
 * Retags every mbuf of the chain headed by `m` (a chain handed to another
 * thread or owner). Returns the mbufs retagged; EBADHANDLE/EDOUBLEFREE for a
 * bad handle, EBUSY inside a chain or socket buffer (nothing retagged).
 */
export function m_setowner_chain(m: i32, tag: u32): i32 {
  if (cache_fast()) return cache_retag(<usize>m, tag);
  let e = check_head(<usize>m);
  if (e) return e;
  return chain_retag(<usize>m, tag);
}

/** Stamps `tag` on every mbuf of the chain of the valid head `m`; returns how many. */
// @ts-ignore: decorator
@inline export function chain_retag(m: usize, tag: u32): i32 {
  let bound = mbufZone.total; // a cycle made by a stray write ends here
  let n: i32 = 0;
  for (let x = m; x && bound; bound--) {
    store<u32>(x, tag, M_OWNER);
    n++;
    x = <usize>load<u32>(x, M_NEXT);
  }
  return n;
}

// === Reservation (m_clalloc flag, seed 003) ===

/** Sets the reservation flag: while set, only M_RECV callers get clusters. */
export function mb_set_reserved(flag: i32): void { gstore(G_RESV_FLAG, flag ? 1 : 0); }

/** Keeps `count` clusters that only M_RECV callers may take. Returns 0 or EINVAL. */
export function mb_set_reserve(count: i32): i32 {
  if (count < 0 || <u32>count > clusterZone.limit) return EINVAL;
  gstore(G_RESV_COUNT, count);
  return 0;
}

/** Counts a waiting request that gave up (the host's wait timed out) as denied. */
export function mb_wait_failed(zone: i32): i32 {
  if (zone != <i32>ZONE_MBUF && zone != <i32>ZONE_CLUSTER && !jumbo_ready(zone)) return EINVAL;
  zoneOf(zone).denied += 1.0;
  return 0;
}

// === Links held outside mbuf chains ===

/**
 * mbufs marked M_LINKED by a holder other than an mbuf's m_next/m_nextpkt
 * (a socket buffer's first mbuf), counted in G_HELD. The audit checks that
 * every M_LINKED mbuf is accounted for by a pointer or by this count. The
 * count lives in the counters block, not in a wasm global, so that every
 * thread's instance of a shared pool keeps the one count.
 */
export function heldByOthers(): u32 {
  return gload(G_HELD);
}

/** Marks `m` as held by a holder outside the chains. */
export function hold_mbuf(m: usize): void {
  store<u16>(m, load<u16>(m, M_FLAGS) | M_LINKED, M_FLAGS);
  gstore(G_HELD, gload(G_HELD) + 1);
}

/** Releases `m` from a holder outside the chains; it is a free-standing head again. */
export function unhold_mbuf(m: usize): void {
  store<u16>(m, load<u16>(m, M_FLAGS) & ~M_LINKED, M_FLAGS);
  gstore(G_HELD, gload(G_HELD) - 1);
}
