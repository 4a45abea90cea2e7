// Jumbo clusters: modern FreeBSD's mbuf_jumbo_page, mbuf_jumbo_9k and
// mbuf_jumbo_16k zones, and m_getjcl / m_cljget, which take a cluster of a
// given size. A jumbo cluster is external storage like any cluster: the same
// ext descriptor (ext_buf, ext_size), the same reference count in the ref
// table, so m_copym shares it, M_WRITABLE reads its count, every chain
// operation and sb_mbcnt (MSIZE + ext_size) read its size from the
// descriptor, and the last reference gives it back to the zone its page names.
//
// ╒═══════════════════ four cluster zones over one arena ═══════════════════╕
// │ zone            id  item     slab            limit (freebsd tunable)      │
// │ mbuf_cluster     2  2048     1 page, 2 items kern.ipc.nmbclusters          │
// │ mbuf_jumbo_page  4  4096     1 page, 1 item  kern.ipc.nmbjumbop            │
// │ mbuf_jumbo_9k    5  9216     9 pages, 4 items kern.ipc.nmbjumbo9           │
// │ mbuf_jumbo_16k   6  16384    4 pages, 1 item kern.ipc.nmbjumbo16           │
// ├──────────────────────────────────────────────────────────────────────────┤
// │ arena: [mbuf][cl][ 9k slab ......... ][16k slab ][jp][mbuf] … thewall    │
// │ ref table (u32 per 2 KiB): one slot per cluster start, jumbo ones too    │
// ╘══════════════════════════════════════════════════════════════════════════╛
//
// The jumbo zones exist only where the host sets them up (mb_jumbo_init, for
// the freebsd profile); elsewhere a jumbo size is EINVAL, as a size a
// profile's system never had. They grow on demand, are not served by the
// packet cache (it holds 2 KiB pairs only, as FreeBSD's zone_pack) and are
// outside the cluster reservation, which guards the cluster zone. A request
// for MCLBYTES is m_getcl / m_clget itself.

import {
  MJUMPAGESIZE, MJUM9BYTES, MJUM16BYTES, PAGE_SHIFT, M_PKTHDR, ZONE_JUMBOP, ZONE_JUMBO9, ZONE_JUMBO16,
  EINVAL, ESTATE,
} from "./constants";
import { Zone, zoneOf, gload, G_READY } from "./stats";
import { ref_ptr, top, capPages } from "./arena";
import { zone_setup_slab, zone_pop, zone_push, zone_alloc_slow } from "./zone";
import { mseq } from "./header";
import {
  mbufZone, clusterZone, valid_how, valid_type, mbuf_alloc, mbuf_init, alloc_failed, ext_attach_size,
  m_getcl, m_clget, clget_args, clget_attach,
} from "./mbuf";

/** Items a 9k slab holds: 4 x 9216 bytes fill 9 pages exactly. */
// @ts-ignore: decorator
@inline const JUMBO9_PER_SLAB: u32 = 4;
// @ts-ignore: decorator
@inline const JUMBO9_SLAB_PAGES: u32 = 9;

/**
 * Sets up the three jumbo zones with their limits (0 allowed: the zone then
 * never carves), at boot: after mb_init, before any page is carved. Returns 0;
 * ESTATE before mb_init, once set up, or once pages were carved; EINVAL for a
 * negative limit or one whose items would not fit in the arena's capacity.
 */
export function mb_jumbo_init(page: i32, nine: i32, sixteen: i32): i32 {
  if (!gload(G_READY) || zoneOf(ZONE_JUMBOP).itemSize || top != 0) return ESTATE;
  let cap = <u64>capPages << PAGE_SHIFT;
  if (page < 0 || nine < 0 || sixteen < 0) return EINVAL;
  if (<u64>page * MJUMPAGESIZE > cap || <u64>nine * MJUM9BYTES > cap || <u64>sixteen * MJUM16BYTES > cap) return EINVAL;
  zone_setup_slab(zoneOf(ZONE_JUMBOP), ZONE_JUMBOP, MJUMPAGESIZE, 1, 1, <u32>page, true);
  zoneOf(ZONE_JUMBOP).itemShift = PAGE_SHIFT;
  zone_setup_slab(zoneOf(ZONE_JUMBO9), ZONE_JUMBO9, MJUM9BYTES, JUMBO9_PER_SLAB, JUMBO9_SLAB_PAGES, <u32>nine, true);
  zone_setup_slab(zoneOf(ZONE_JUMBO16), ZONE_JUMBO16, MJUM16BYTES, 1, MJUM16BYTES >> PAGE_SHIFT, <u32>sixteen, true);
  return 0;
}

/** True if `zone` names a jumbo zone that mb_jumbo_init set up. */
export function jumbo_ready(zone: i32): bool {
  return zone >= <i32>ZONE_JUMBOP && zone <= <i32>ZONE_JUMBO16 && zoneOf(<u32>zone).itemSize != 0;
}

/** The id of the jumbo zone of `size` bytes, or 0 if there is none (not set up, or not a jumbo size). */
export function jumbo_zone_id(size: i32): u32 {
  let id: u32 = size == <i32>MJUMPAGESIZE ? ZONE_JUMBOP : size == <i32>MJUM9BYTES ? ZONE_JUMBO9
    : size == <i32>MJUM16BYTES ? ZONE_JUMBO16 : 0;
  return id && zoneOf(id).itemSize ? id : 0;
}

/** Takes a jumbo cluster of zone `z` with reference count 1, or 0 (counted; the drain hook may run). */
function jumbo_alloc(z: Zone, how: i32): usize {
  let c = zone_pop(z);
  if (!c) {
    c = zone_alloc_slow(z);
    if (!c) c = alloc_failed(z, how);
  }
  if (c) store<u32>(ref_ptr(c), 1);
  return c;
}

/**
 * m_getjcl: an mbuf with a cluster of `size` bytes (MCLBYTES: m_getcl; a
 * jumbo size of a zone set up); `flags` is 0 or M_PKTHDR.
 * Returns the handle, 0 if either could not be had (counted; the mbuf goes
 * back), EINVAL for a bad how, type, flags or size.
 */
export function m_getjcl(how: i32, type: i32, flags: i32, size: i32): i32 {
  if (!valid_how(how) || !valid_type(type) || (flags & ~<i32>M_PKTHDR)) return EINVAL;
  if (size == <i32>clusterZone.itemSize) return m_getcl(how, type, flags);
  let id = jumbo_zone_id(size);
  if (!id) return EINVAL;
  let m = mbuf_alloc(how);
  if (!m) return 0;
  let z = zoneOf(id);
  let c = jumbo_alloc(z, how);
  if (!c) {
    zone_push(mbufZone, m);
    return 0;
  }
  mbuf_init(m, type, <u16>flags);
  ext_attach_size(m, c, z.itemSize);
  return <i32>m;
}

/**
 * m_cljget: attaches a cluster of `size` bytes to the empty mbuf `m`
 * (MCLBYTES: m_clget). Returns `m`, 0 if no cluster could be had (counted)
 * or a drain routine freed `m` meanwhile, `m` unchanged either way;
 * EINVAL for a bad size or how, or if `m` has external storage or data;
 * EBADHANDLE/EDOUBLEFREE/EBUSY as m_clget. Unlike the kernel's, it never
 * hands out a cluster without an mbuf: a handle is an mbuf.
 */
export function m_cljget(m: i32, how: i32, size: i32): i32 {
  if (size == <i32>clusterZone.itemSize) return m_clget(m, how);
  let e = clget_args(<usize>m, how);
  if (e) return e;
  let id = jumbo_zone_id(size);
  if (!id) return EINVAL;
  let s0 = mseq(<usize>m);
  let z = zoneOf(id);
  let c = jumbo_alloc(z, how);
  if (!c) return 0;
  return clget_attach(m, how, s0, c, z);
}
