// Zones: one fixed item size each, a slab allocator over arena pages.
//
// A zone's free items form one intrusive LIFO freelist through their first
// word, so the hot path is a load and a store each way. Which page an item
// belongs to is found from its address (the page table), never stored per
// item. Growing carves a whole page into items; shrinking (reclaim) is a
// deferred batch job: it counts free items per page, unlinks the items of
// fully free pages from the freelist in one pass, and gives those pages back
// to the arena. Keeping that work off the hot path is what lets allocation
// stay a handful of instructions, as UMA keeps slab work out of its buckets.
// A 9k or 16k jumbo zone carves a slab of several contiguous pages instead
// of one page (slab.ts); carving, reclaim and ownership read slabs, and for
// the one-page zones a slab is simply their page.

import { PAGE_SHIFT, PAGE_SIZE, PAGE_MASK } from "./constants";
import { poison_fill, poison_check, poison_hit } from "./poison";
import { Zone } from "./stats";
import {
  arenaBase, top, page_take, run_take, page_give, meta_ptr, first_page, next_page, page_entry, page_entry_ptr, page_addr,
  meta_zone, meta_carved, META_COUNT_SHIFT, META_COUNT_MASK,
} from "./arena";
import { slab_pages_for, slab_head, slab_len, slab_owns } from "./slab";

/** Sets up zone `z` for items of 2^shift bytes (at most a page), at most `limit` of them. */
export function zone_setup(z: Zone, id: u32, shift: u32, limit: u32, grows: bool): void {
  zone_setup_slab(z, id, 1 << shift, PAGE_SIZE >> shift, 1, limit, grows);
  z.itemShift = shift;
}

/** Sets up zone `z` for `perSlab` items of `size` bytes a slab of `slabPages` pages, at most `limit` items. */
export function zone_setup_slab(z: Zone, id: u32, size: u32, perSlab: u32, slabPages: u32, limit: u32, grows: bool): void {
  z.freeHead = 0;
  z.itemSize = size;
  z.itemShift = 0;
  z.perPage = perSlab;
  z.slabPages = slabPages;
  z.limit = limit;
  z.total = 0;
  z.free = 0;
  z.peak = 0;
  z.pages = 0;
  z.grows = grows ? 1 : 0;
  z.id = id;
  z.allocs = 0; z.frees = 0; z.denied = 0; z.delayed = 0;
  z.pagesIn = 0; z.pagesOut = 0;
}

/** Takes a free item off the freelist, or 0, counting no allocation (zone_pop; a thread cache's refill). */
// @ts-ignore: decorator
@inline export function zone_take(z: Zone): usize {
  let item = <usize>z.freeHead;
  if (item) {
    let next = load<u32>(item);
    if (!ASC_NO_ASSERT) {
      // Trash check: a write after free damaged the pattern or the link.
      poison_check(z.id, item, z.itemSize);
      if (next && !zone_owns(z, <usize>next)) { poison_hit(item); next = 0; }
    }
    z.freeHead = next;
    z.free--;
  }
  return item;
}

/** Pops a free item, or 0. The hot path. */
// @ts-ignore: decorator
@inline export function zone_pop(z: Zone): usize {
  let item = zone_take(z);
  if (item) z.allocs += 1.0;
  return item;
}

/** Puts a free item on the freelist, counting no free (zone_push; a thread cache's flush). */
// @ts-ignore: decorator
@inline export function zone_give(z: Zone, item: usize): void {
  if (!ASC_NO_ASSERT) poison_fill(z.id, item, z.itemSize);
  store<u32>(item, z.freeHead);
  z.freeHead = <u32>item;
  z.free++;
}

/** Pushes a free item. The hot path. */
// @ts-ignore: decorator
@inline export function zone_push(z: Zone, item: usize): void {
  zone_give(z, item);
  z.frees += 1.0;
}

/** Carves one more slab (a page, or a run of pages) into items if the limit and the arena allow; false otherwise. */
export function zone_carve(z: Zone): bool {
  let room = z.limit - z.total;
  if (<i32>room <= 0) return false;
  let n = min(room, z.perPage);
  let pages: u32 = 1;
  let page: usize;
  if (z.slabPages == 1) {
    page = page_take(z.id, n);
  } else {
    pages = slab_pages_for(n, z.itemSize);
    page = run_take(z.id, pages, n);
  }
  if (!page) return false;
  // Link the new items so the lowest address comes out first.
  let size = <usize>z.itemSize;
  let head = <usize>z.freeHead;
  for (let i = <i32>n - 1; i >= 0; i--) {
    let item = page + (<usize>i) * size;
    if (!ASC_NO_ASSERT) poison_fill(z.id, item, z.itemSize);
    store<u32>(item, <u32>head);
    head = item;
  }
  z.freeHead = <u32>head;
  z.free += n;
  z.total += n;
  if (z.total > z.peak) z.peak = z.total;
  z.pages += pages;
  z.pagesIn += <f64>pages;
  return true;
}

/** Allocates after the freelist came up empty: carve a page if this zone grows on demand. */
export function zone_alloc_slow(z: Zone): usize {
  if (z.grows && zone_carve(z)) return zone_pop(z);
  return 0;
}

/** Carves pages until `want` items are free, the limit is reached or the arena is full; returns items added. */
export function zone_grow(z: Zone, want: u32): u32 {
  let before = z.total;
  while (z.free < want && zone_carve(z)) {}
  return z.total - before;
}

/** Page-table entry address of the head of the slab holding `item`. */
// @ts-ignore: decorator
@inline function head_ptr(item: usize): usize {
  return page_entry_ptr(slab_head(<u32>((item - arenaBase) >> PAGE_SHIFT)));
}

/**
 * Gives fully free slabs back to the arena, keeping at least `keep` items
 * free and releasing at most `maxPages` pages. Returns pages released.
 */
export function zone_reclaim(z: Zone, keep: u32, maxPages: u32): u32 {
  if (z.free <= keep || maxPages == 0) return 0;
  let id = z.id;
  // 1. Count free items per slab, in its head page's scratch bits (zero between calls).
  let item = <usize>z.freeHead;
  let bound = z.free;
  while (item && bound) {
    let mp = head_ptr(item);
    store<u32>(mp, load<u32>(mp) + (1 << META_COUNT_SHIFT));
    item = load<u32>(item);
    bound--;
  }
  // 2. Choose fully free slabs; mark their heads with a count of 0xffff, clear the others.
  let released: u32 = 0;
  let freeLeft = z.free;
  for (let p = first_page(id); p < top; p = next_page(p, id)) {
    let mp = page_entry_ptr(p);
    let meta = load<u32>(mp);
    let carved = meta_carved(meta);
    if (carved == 0) continue; // a slab's later page
    let count = meta >> META_COUNT_SHIFT;
    meta &= ~META_COUNT_MASK;
    let len: u32 = z.slabPages == 1 ? 1 : slab_len(p, id);
    if (count == carved && released + len <= maxPages && freeLeft >= carved + keep) {
      meta |= META_COUNT_MASK;
      released += len;
      freeLeft -= carved;
    }
    store<u32>(mp, meta);
  }
  if (!released) return 0;
  // 3. Unlink the items of marked slabs, keeping the others in their order.
  let prev: usize = 0;
  item = <usize>z.freeHead;
  bound = z.free;
  while (item && bound) {
    let next = <usize>load<u32>(item);
    if ((load<u32>(head_ptr(item)) & META_COUNT_MASK) == META_COUNT_MASK) {
      if (prev) store<u32>(prev, <u32>next); else z.freeHead = <u32>next;
    } else {
      prev = item;
    }
    item = next;
    bound--;
  }
  // 4. Give the marked slabs back, every page of each.
  for (let p = first_page(id); p < top; p = next_page(p, id)) {
    let meta = page_entry(p);
    if ((meta & META_COUNT_MASK) != META_COUNT_MASK) continue;
    let carved = meta_carved(meta);
    let len: u32 = z.slabPages == 1 ? 1 : slab_len(p, id);
    z.free -= carved;
    z.total -= carved;
    z.pages -= len;
    z.pagesOut += <f64>len;
    for (let q: u32 = 0; q < len; q++) page_give(page_addr(p + q));
  }
  return released;
}

/** True if `addr` is the start of an item carved in a page of zone `z`. */
// @ts-ignore: decorator
@inline export function zone_owns(z: Zone, addr: usize): bool {
  let off = addr - arenaBase;
  if (addr < arenaBase || off >= (<usize>top << PAGE_SHIFT)) return false;
  if (z.slabPages != 1) return slab_owns(z, addr);
  if (off & ((<usize>z.itemSize) - 1)) return false;
  let meta = load<u32>(meta_ptr(addr));
  if (meta_zone(meta) != z.id) return false;
  return <u32>((off & PAGE_MASK) >> z.itemShift) < meta_carved(meta);
}
