// The audit: recounts everything the core keeps and reports the first
// problem, as DPDK's rte_mempool_audit and lwIP's freelist checks do.
//
// Every item must be free or in use exactly once (jumbo clusters as
// clusters, over slabs of several pages: slab.ts): each freelist is walked
// with a bound (its own count), so a cycle or a duplicate is reported and
// never followed forever; every carved item of every page is visited and
// classified; counters, the type census, links and cluster reference counts
// must equal the recount. A pair parked in the packet cache is an mbuf
// typed MT_FREE with M_EXT holding a cluster of reference count 1: the page
// scan counts it apart from the zone's free mbufs, the cache walk accounts
// for its cluster. In the debug build every free item must still carry its
// poison (poison.ts), and any write after free already caught when an item
// was handed out is reported. The audit only reads, except for its scratch
// table, which it leaves zeroed.

import { cache_flush_all } from "./cache";
import {
  PAGE_SHIFT, MSIZE, M_NEXT, M_NEXTPKT, M_DATA, M_LEN, M_TYPE, M_FLAGS, EXT_BUF, EXT_SIZE,
  M_EXT, M_PKTHDR, M_LINKED, M_BULKMARK, MT_FREE, MT_NTYPES, M_HDR_SIZE, M_PKTHDR_SIZE,
  ZONE_MBUF, ZONE_CLUSTER, ZONE_JUMBOP, ZONE_JUMBO16, ZONE_SLOTS, M_SPARE,
} from "./constants";
import { slab_pages_for } from "./slab";
import {
  Zone, zoneOf, G, gload, G_READY, G_MAX_PAGES, G_POISON_HITS, G_POISON_ADDR, audit_report,
} from "./stats";
import {
  arenaBase, top, maxPages, capPages, scratch, ref_ptr, free_page_head, free_page_count,
  first_page, next_page, page_entry, page_addr, meta_zone, meta_carved, META_COUNT_SHIFT, REF_SHIFT,
} from "./arena";
import { zone_owns } from "./zone";
import { poison_find, POISON } from "./poison";
import { mbufZone, clusterZone, check_mbuf, heldByOthers } from "./mbuf";
import { ext_ptr } from "./header";
import { packet_zone, PKT_CACHED_FLAGS, PKT_EXT, PKT_ORIGIN } from "./packet";
import { audit_chains } from "./audit_chain";

// Problem codes (the host turns them into messages).
// @ts-ignore: decorator
@inline export const A_FREELIST_RANGE: u32 = 1;   // a freelist item is not an item of its zone
// @ts-ignore: decorator
@inline export const A_FREELIST_CYCLE: u32 = 2;   // a freelist is longer than its count (cycle or duplicate)
// @ts-ignore: decorator
@inline export const A_FREELIST_COUNT: u32 = 3;   // a freelist is shorter than its count
// @ts-ignore: decorator
@inline export const A_FREE_IN_USE: u32 = 4;      // a freelist item is marked in use
// @ts-ignore: decorator
@inline export const A_PAGE_ENTRY: u32 = 5;       // a page table entry names no zone or a bad item count
// @ts-ignore: decorator
@inline export const A_PAGE_COUNT: u32 = 6;       // a zone's page count differs from the page table
// @ts-ignore: decorator
@inline export const A_TOTAL_COUNT: u32 = 7;      // a zone's total differs from the items carved
// @ts-ignore: decorator
@inline export const A_PEAK: u32 = 8;             // a zone's peak is below its total
// @ts-ignore: decorator
@inline export const A_ARENA_FREELIST: u32 = 9;   // the arena's free page list is wrong
// @ts-ignore: decorator
@inline export const A_FREE_COUNT: u32 = 10;      // items marked free differ from the zone's free count
// @ts-ignore: decorator
@inline export const A_CENSUS: u32 = 11;          // the type census differs from a recount
// @ts-ignore: decorator
@inline export const A_BAD_LINK: u32 = 12;        // m_next or m_nextpkt is not an mbuf in use
// @ts-ignore: decorator
@inline export const A_LINKED_FLAG: u32 = 13;     // M_LINKED marks differ from the links
// @ts-ignore: decorator
@inline export const A_BAD_EXT: u32 = 14;         // external storage is not a cluster in use
// @ts-ignore: decorator
@inline export const A_BAD_DATA: u32 = 15;        // m_data/m_len fall outside the mbuf's storage
// @ts-ignore: decorator
@inline export const A_REFCOUNT: u32 = 16;        // a cluster's reference count differs from its references
// @ts-ignore: decorator
@inline export const A_STRAY_MARK: u32 = 17;      // M_BULKMARK left on an mbuf
// @ts-ignore: decorator
@inline export const A_NOT_READY: u32 = 18;       // mb_init has not run
// Packet zone (packet.ts): codes 40 to 49.
// @ts-ignore: decorator
@inline export const A_PACKET_ITEM: u32 = 40;     // a packet cache entry is not a parked pair (an mbuf typed MT_FREE with M_EXT)
// @ts-ignore: decorator
@inline export const A_PACKET_CYCLE: u32 = 41;    // the packet cache is longer than its count (cycle or duplicate)
// @ts-ignore: decorator
@inline export const A_PACKET_COUNT: u32 = 42;    // the packet cache is shorter than its count, or parked pairs differ from it
// @ts-ignore: decorator
@inline export const A_PACKET_CLUSTER: u32 = 43;  // a parked pair's cluster is not a cluster of reference count 1
// @ts-ignore: decorator
@inline export const A_PACKET_ORIGIN: u32 = 44;   // mbufs in use from the packet zone differ from its count
// @ts-ignore: decorator
@inline export const A_PACKET_MIXED: u32 = 45;    // a parked pair sits on the mbuf zone's freelist
// @ts-ignore: decorator
@inline export const A_WALL: u32 = 19;            // pages carved > thewall > capacity, or thewall misreported
// @ts-ignore: decorator
@inline export const A_LIMIT: u32 = 20;           // a zone holds more items than its limit
// @ts-ignore: decorator
@inline export const A_POISON: u32 = 24;          // (debug) a free item was written after free
// @ts-ignore: decorator
@inline export const A_POISON_HIT: u32 = 25;      // (debug) an item written after free was handed out

/** Recount of the type census, MT_NTYPES u32 slots. */
const CENSUS_RECOUNT: usize = memory.data(<i32>(MT_NTYPES << 2), 16);

/** Walks a zone's freelist with its own count as the bound. */
function audit_freelist(z: Zone): u32 {
  let item = <usize>z.freeHead;
  let n: u32 = 0;
  while (item) {
    if (n >= z.free) return audit_report(A_FREELIST_CYCLE, item, z.free, n + 1);
    if (!zone_owns(z, item)) return audit_report(A_FREELIST_RANGE, item, z.id, 0);
    if (z.id == ZONE_MBUF && load<u16>(item, M_TYPE) != MT_FREE)
      return audit_report(A_FREE_IN_USE, item, MT_FREE, load<u16>(item, M_TYPE));
    if (z.id == ZONE_MBUF && (load<u16>(item, M_FLAGS) & PKT_CACHED_FLAGS))
      return audit_report(A_PACKET_MIXED, item, 0, load<u16>(item, M_FLAGS));
    if (z.id != ZONE_MBUF && load<u32>(ref_ptr(item)) != 0)
      return audit_report(A_FREE_IN_USE, item, 0, load<u32>(ref_ptr(item)));
    n++;
    item = <usize>load<u32>(item);
  }
  if (n != z.free) return audit_report(A_FREELIST_COUNT, 0, z.free, n);
  return 0;
}

/** Per-zone recounts of pages and items (ZONE_SLOTS u32 each). */
const PAGES_RECOUNT: usize = memory.data(<i32>(ZONE_SLOTS << 2), 16);
const ITEMS_RECOUNT: usize = memory.data(<i32>(ZONE_SLOTS << 2), 16);

/** True for a zone that owns pages: mbufs, clusters, and the jumbo zones once set up. */
// @ts-ignore: decorator
@inline function page_zone(id: u32): bool {
  return id == ZONE_MBUF || id == ZONE_CLUSTER || (id >= ZONE_JUMBOP && id <= ZONE_JUMBO16 && zoneOf(id).itemSize != 0);
}

/**
 * Checks the page table against the zones and the arena's free page list:
 * every page free or of a zone; a slab's head carries 1 to perPage items and
 * is followed by exactly the pages they cover (slab.ts), each carved 0.
 */
function audit_pages(): u32 {
  if (top > maxPages || maxPages > capPages || gload(G_MAX_PAGES) != maxPages)
    return audit_report(A_WALL, 0, maxPages, top);
  memory.fill(PAGES_RECOUNT, 0, ZONE_SLOTS << 2);
  memory.fill(ITEMS_RECOUNT, 0, ZONE_SLOTS << 2);
  let freePages: u32 = 0;
  let owed: u32 = 0, owedZone: u32 = 0; // later pages the last head's slab still covers
  for (let p: u32 = 0; p < top; p++) { // every page, free ones too
    let meta = page_entry(p);
    let zone = meta_zone(meta);
    let carved = meta_carved(meta);
    let addr = page_addr(p);
    if (meta >> META_COUNT_SHIFT) return audit_report(A_PAGE_ENTRY, addr, 0, meta);
    if (owed) {
      if (zone != owedZone || carved) return audit_report(A_PAGE_ENTRY, addr, owedZone, meta);
      owed--;
      store<u32>(PAGES_RECOUNT + (zone << 2), load<u32>(PAGES_RECOUNT + (zone << 2)) + 1);
      continue;
    }
    if (zone == 0) {
      if (carved) return audit_report(A_PAGE_ENTRY, addr, 0, meta);
      freePages++;
      continue;
    }
    if (!page_zone(zone)) return audit_report(A_PAGE_ENTRY, addr, 0, meta);
    let z = zoneOf(zone);
    if (carved == 0 || carved > z.perPage) return audit_report(A_PAGE_ENTRY, addr, z.perPage, carved);
    if (z.slabPages != 1) { owed = slab_pages_for(carved, z.itemSize) - 1; owedZone = zone; }
    store<u32>(PAGES_RECOUNT + (zone << 2), load<u32>(PAGES_RECOUNT + (zone << 2)) + 1);
    store<u32>(ITEMS_RECOUNT + (zone << 2), load<u32>(ITEMS_RECOUNT + (zone << 2)) + carved);
  }
  if (owed) return audit_report(A_PAGE_ENTRY, page_addr(top - 1), owedZone, owed);
  for (let id: u32 = ZONE_MBUF; id < ZONE_SLOTS; id++) {
    if (!page_zone(id)) continue;
    let z = zoneOf(id);
    let pages = load<u32>(PAGES_RECOUNT + (id << 2)), items = load<u32>(ITEMS_RECOUNT + (id << 2));
    if (z.total > z.limit) return audit_report(A_LIMIT, id, z.limit, z.total);
    if (pages != z.pages) return audit_report(A_PAGE_COUNT, id, z.pages, pages);
    if (items != z.total) return audit_report(A_TOTAL_COUNT, id, z.total, items);
    if (z.peak < z.total) return audit_report(A_PEAK, id, z.total, z.peak);
  }
  // The free page list: bounded by its count, every entry a free page.
  let count = free_page_count();
  if (count != freePages) return audit_report(A_ARENA_FREELIST, 0, freePages, count);
  let page = free_page_head();
  let n: u32 = 0;
  while (page) {
    if (n >= count) return audit_report(A_ARENA_FREELIST, page, count, n + 1);
    let off = page - arenaBase;
    if (page < arenaBase || (off & ((1 << PAGE_SHIFT) - 1)) || (off >> PAGE_SHIFT) >= top
      || page_entry(<u32>(off >> PAGE_SHIFT)) != 0)
      return audit_report(A_ARENA_FREELIST, page, 0, 1);
    n++;
    page = <usize>load<u32>(page);
  }
  if (n != count) return audit_report(A_ARENA_FREELIST, 0, count, n);
  return 0;
}

/** Checks that `p` is 0 or an mbuf in use that carries M_LINKED. */
// @ts-ignore: decorator
@inline function valid_link(p: usize): bool {
  return p == 0 || (check_mbuf(p) == 0 && (load<u16>(p, M_FLAGS) & M_LINKED) != 0);
}

/** Visits every carved mbuf: free count, census, links, storage; counts cluster references. */
function audit_mbufs(): u32 {
  memory.fill(CENSUS_RECOUNT, 0, MT_NTYPES << 2);
  let freeCount: u32 = 0, links: u32 = 0, marked: u32 = 0;
  let parked: u32 = 0, origin: u32 = 0;
  for (let p = first_page(ZONE_MBUF); p < top; p = next_page(p, ZONE_MBUF)) {
    let carved = meta_carved(page_entry(p));
    let page = page_addr(p);
    for (let i: u32 = 0; i < carved; i++) {
      let m = page + (<usize>i) * MSIZE;
      let type = <u32>load<u16>(m, M_TYPE);
      if (type == MT_FREE) {
        if (load<u16>(m, M_FLAGS) & PKT_CACHED_FLAGS) {
          parked++;
          continue;
        }
        if (!ASC_NO_ASSERT) {
          let off = poison_find(ZONE_MBUF, m, MSIZE);
          if (off) return audit_report(A_POISON, m, POISON, load<u32>(m + off));
        }
        freeCount++;
        continue;
      }
      let spare = load<u32>(m, M_SPARE);
      if (spare == PKT_ORIGIN) origin++;
      else if (spare) return audit_report(A_PACKET_ORIGIN, m, PKT_ORIGIN, spare);
      if (type >= MT_NTYPES) return audit_report(A_CENSUS, m, MT_NTYPES, type);
      let cp = CENSUS_RECOUNT + (type << 2);
      store<u32>(cp, load<u32>(cp) + 1);
      let flags = load<u16>(m, M_FLAGS);
      if (flags & M_BULKMARK) return audit_report(A_STRAY_MARK, m, 0, flags);
      if (flags & M_LINKED) marked++;
      let next = <usize>load<u32>(m, M_NEXT);
      let nextpkt = <usize>load<u32>(m, M_NEXTPKT);
      if (!valid_link(next)) return audit_report(A_BAD_LINK, m, M_NEXT, <u32>next);
      if (!valid_link(nextpkt)) return audit_report(A_BAD_LINK, m, M_NEXTPKT, <u32>nextpkt);
      if (next) links++;
      if (nextpkt) links++;
      let data = <usize>load<u32>(m, M_DATA);
      let len = load<i32>(m, M_LEN);
      let lo: usize, hi: usize;
      if (flags & M_EXT) {
        let ext = ext_ptr(m, flags);
        lo = <usize>load<u32>(ext, EXT_BUF);
        // A cluster or a jumbo cluster in use, of the size its zone carves.
        let cz = ext_zone(lo);
        if (!cz || load<u32>(ref_ptr(lo)) == 0) return audit_report(A_BAD_EXT, m, 0, <u32>lo);
        let size = zoneOf(cz).itemSize;
        if (load<u32>(ext, EXT_SIZE) != size) return audit_report(A_BAD_EXT, m, size, load<u32>(ext, EXT_SIZE));
        hi = lo + size;
        let sp = scratch + (((lo - arenaBase) >> REF_SHIFT) << 2);
        store<u32>(sp, load<u32>(sp) + 1);
      } else {
        lo = m + ((flags & M_PKTHDR) ? M_PKTHDR_SIZE : M_HDR_SIZE);
        hi = m + MSIZE;
      }
      if (len < 0 || data < lo || data > hi || <usize>len > hi - data) return audit_report(A_BAD_DATA, m, <u32>len, <u32>data);
    }
  }
  if (freeCount != mbufZone.free) return audit_report(A_FREE_COUNT, ZONE_MBUF, mbufZone.free, freeCount);
  let pz = packet_zone();
  if (parked != pz.free) return audit_report(A_PACKET_COUNT, 0, pz.free, parked);
  if (origin != pz.total - pz.free) return audit_report(A_PACKET_ORIGIN, 0, pz.total - pz.free, origin);
  for (let t: u32 = 0; t < MT_NTYPES; t++) {
    let want = load<u32>(CENSUS_RECOUNT + (t << 2));
    let have = load<u32>(G() + (t << 2));
    if (want != have) return audit_report(A_CENSUS, t, want, have);
  }
  const held = heldByOthers();
  if (marked != links + held) return audit_report(A_LINKED_FLAG, 0, links + held, marked);
  return 0;
}

/** The zone of the cluster or jumbo cluster starting at `c`, or 0 if `c` is none. */
function ext_zone(c: usize): u32 {
  if (c < arenaBase || c - arenaBase >= (<usize>top << PAGE_SHIFT)) return 0;
  let id = meta_zone(page_entry(<u32>((c - arenaBase) >> PAGE_SHIFT)));
  if (id != ZONE_CLUSTER && !(id >= ZONE_JUMBOP && id <= ZONE_JUMBO16)) return 0;
  if (!page_zone(id) || !zone_owns(zoneOf(id), c)) return 0;
  return id;
}

/** Visits every carved item of cluster zone `z` (clusters, or a jumbo zone): free count and reference counts against the recount. */
function audit_clusters(z: Zone): u32 {
  let freeCount: u32 = 0;
  let size = <usize>z.itemSize;
  for (let p = first_page(z.id); p < top; p = next_page(p, z.id)) {
    let carved = meta_carved(page_entry(p)); // 0 on a slab's later pages: nothing starts there
    let page = page_addr(p);
    for (let i: u32 = 0; i < carved; i++) {
      let c = page + (<usize>i) * size;
      let refs = load<u32>(ref_ptr(c));
      let seen = load<u32>(scratch + (((c - arenaBase) >> REF_SHIFT) << 2));
      if (refs == 0) {
        if (!ASC_NO_ASSERT) {
          let off = poison_find(z.id, c, <u32>size);
          if (off) return audit_report(A_POISON, c, POISON, load<u32>(c + off));
        }
        freeCount++;
      }
      if (refs != seen) return audit_report(A_REFCOUNT, c, refs, seen);
    }
  }
  if (freeCount != z.free) return audit_report(A_FREE_COUNT, z.id, z.free, freeCount);
  return 0;
}

/**
 * Walks the packet cache with its own count as the bound: every entry a parked
 * pair (an mbuf typed MT_FREE with M_EXT, holding a cluster of reference count
 * 1, which it counts in the recount table), and the zone's counts coherent.
 */
function audit_packets(): u32 {
  let pz = packet_zone();
  if (pz.free > pz.total) return audit_report(A_PACKET_COUNT, 0, pz.total, pz.free);
  if (pz.peak < pz.total) return audit_report(A_PEAK, pz.id, pz.total, pz.peak);
  let m = <usize>pz.freeHead;
  let n: u32 = 0;
  let clusterSize = clusterZone.itemSize;
  while (m) {
    if (n >= pz.free) return audit_report(A_PACKET_CYCLE, m, pz.free, n + 1);
    if (!zone_owns(mbufZone, m) || load<u16>(m, M_TYPE) != MT_FREE || load<u16>(m, M_FLAGS) != PKT_CACHED_FLAGS)
      return audit_report(A_PACKET_ITEM, m, PKT_CACHED_FLAGS, zone_owns(mbufZone, m) ? load<u16>(m, M_FLAGS) : 0xffffffff);
    let c = <usize>load<u32>(m, PKT_EXT + EXT_BUF);
    if (!zone_owns(clusterZone, c) || load<u32>(ref_ptr(c)) != 1)
      return audit_report(A_PACKET_CLUSTER, m, 1, zone_owns(clusterZone, c) ? load<u32>(ref_ptr(c)) : 0xffffffff);
    if (load<u32>(m, PKT_EXT + EXT_SIZE) != clusterSize) return audit_report(A_PACKET_CLUSTER, m, clusterSize, load<u32>(m, PKT_EXT + EXT_SIZE));
    if (!ASC_NO_ASSERT) {
      // The parked cluster's data is poisoned (packet.ts); its mbuf, which holds the attachment, is not.
      let off = poison_find(ZONE_CLUSTER, c, clusterSize);
      if (off) return audit_report(A_POISON, c, POISON, load<u32>(c + off));
    }
    let sp = scratch + (((c - arenaBase) >> REF_SHIFT) << 2);
    store<u32>(sp, load<u32>(sp) + 1);
    n++;
    m = <usize>load<u32>(m);
  }
  if (n != pz.free) return audit_report(A_PACKET_COUNT, 0, pz.free, n);
  return 0;
}

/**
 * mb_audit: checks the whole pool. Returns 0 if everything adds up, else the
 * code of the first problem (details at G_AUDIT_ADDR/A/B).
 */
export function mb_audit(): u32 {
  audit_report(0, 0, 0, 0);
  if (!gload(G_READY)) return audit_report(A_NOT_READY, 0, 0, 0);
  // The threads' stacks (cache.ts) go back to their zones first: the audit counts freelists.
  cache_flush_all(mbufZone, clusterZone);
  let r = audit_freelist(mbufZone);
  if (!r) r = audit_freelist(clusterZone);
  for (let id = ZONE_JUMBOP; !r && id <= ZONE_JUMBO16; id++) if (page_zone(id)) r = audit_freelist(zoneOf(id));
  if (!r) r = audit_pages();
  if (!r) r = audit_mbufs();
  if (!r) r = audit_packets();
  if (!r) r = audit_clusters(clusterZone);
  for (let id = ZONE_JUMBOP; !r && id <= ZONE_JUMBO16; id++) if (page_zone(id)) r = audit_clusters(zoneOf(id));
  if (!r) r = audit_chains(); // codes 21..23: pkthdr.len, socket buffers (audit_chain.ts)
  if (!r && load<f64>(G() + G_POISON_HITS) != 0)
    r = audit_report(A_POISON_HIT, gload(G_POISON_ADDR), 0, <u32>load<f64>(G() + G_POISON_HITS));
  // Leave the scratch table zeroed for the next audit.
  memory.fill(scratch, 0, (<usize>top << (PAGE_SHIFT - REF_SHIFT)) << 2);
  return r;
}
