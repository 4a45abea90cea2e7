// Slabs: the run of pages a zone carves at once. For mbufs, clusters and
// page-size jumbo clusters a slab is one page; a 9k or a 16k jumbo cluster
// does not fit in a page, so those zones carve a contiguous run of pages
// (arena.ts's run_take) and lay their items across it:
//
// ╒═════════ 9k slab: 9 pages, 4 x 9216 bytes, nothing wasted ══════════╕
// │ page  0      1      2      3      4      5      6      7      8      │
// │ ├──────┼──────┼──────┼──────┼──────┼──────┼──────┼──────┼──────┤     │
// │ │ item 0 (9216)    │ item 1 (9216)    │ item 2 ...  │ item 3 ...│     │
// │ head: carved 4 │ the others: zone id, carved 0                 │     │
// ╘═══════════════════════════════════════════════════════════════════════╛
// ╒═════════ 16k slab: 4 pages, 1 item ═════════╕
// │ head: carved 1 │ carved 0 │ carved 0 │ carved 0 │
// ╘═════════════════════════════════════════════╛
// A slab that the zone's limit cuts short takes only the pages its items
// cover (one 9k item: 3 pages). Every page of a slab carries the zone's id, so
// the page of any address names its zone (ext_release finds a cluster's zone
// that way, with no branch on its size); the slab's first page, its head, is
// the only one with a carved count, and the pages after it up to the next
// head or free page are its own. Items never straddle two slabs, so the
// reference-count slot of an item (one per 2 KiB, arena.ts) is its own.
//
// Why runs, and not one page a jumbo cluster with the rest left over: a 9k
// cluster in 3 pages wastes a quarter of them; 9 pages hold 4 exactly. Why
// runs from the arena, and not a region of their own: the arena is the one
// cap (thewall, maxmbufmem) every zone shares, as kmem is in FreeBSD, and
// free pages of any zone may become a jumbo slab once reclaimed.

import { PAGE_SHIFT, PAGE_SIZE } from "./constants";
import { Zone } from "./stats";
import { arenaBase, top, page_entry, page_addr, meta_zone, meta_carved } from "./arena";

/** Pages a slab of `n` items of `size` bytes covers. */
// @ts-ignore: decorator
@inline export function slab_pages_for(n: u32, size: u32): u32 {
  return (n * size + PAGE_SIZE - 1) >> PAGE_SHIFT;
}

/** Index of the head page of the slab holding page `p` (a page of a zone, not free). */
export function slab_head(p: u32): u32 {
  while (p > 0 && meta_carved(page_entry(p)) == 0) p--;
  return p;
}

/** Pages of the slab whose head is page `h`, in zone `id`: the head and the pages after it with carved 0. */
export function slab_len(h: u32, id: u32): u32 {
  let q = h + 1;
  while (q < top && page_entry(q) == id) q++;
  return q - h;
}

/** True if `addr` is the start of an item carved in a multi-page slab of zone `z`. */
export function slab_owns(z: Zone, addr: usize): bool {
  let p = <u32>((addr - arenaBase) >> PAGE_SHIFT);
  if (meta_zone(page_entry(p)) != z.id) return false;
  // Walk back to the head, never further than a slab spans nor past a page of another zone.
  let h = p, k: u32 = 0;
  while (meta_carved(page_entry(h)) == 0) {
    if (h == 0 || ++k >= z.slabPages) return false;
    h--;
    if (meta_zone(page_entry(h)) != z.id) return false;
  }
  let off = <u32>(addr - page_addr(h));
  if (off % z.itemSize) return false;
  return off / z.itemSize < meta_carved(page_entry(h));
}
