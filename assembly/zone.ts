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

import { PAGE_SHIFT, PAGE_SIZE, PAGE_MASK } from "./constants";
import { poison_fill, poison_check, poison_hit } from "./poison";
import { Zone } from "./stats";
import {
  arenaBase, top, page_take, page_give, meta_ptr, first_page, next_page, page_entry, page_entry_ptr, page_addr,
  meta_zone, meta_carved, META_COUNT_SHIFT, META_COUNT_MASK,
} from "./arena";

/** Sets up zone `z` for items of 2^shift bytes, at most `limit` of them. */
export function zone_setup(z: Zone, id: u32, shift: u32, limit: u32, grows: bool): void {
  z.freeHead = 0;
  z.itemSize = 1 << shift;
  z.itemShift = shift;
  z.perPage = PAGE_SIZE >> shift;
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

/** Pops a free item, or 0. The hot path. */
// @ts-ignore: decorator
@inline export function zone_pop(z: Zone): usize {
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
    z.allocs += 1.0;
  }
  return item;
}

/** Pushes a free item. The hot path. */
// @ts-ignore: decorator
@inline export function zone_push(z: Zone, item: usize): void {
  if (!ASC_NO_ASSERT) poison_fill(z.id, item, z.itemSize);
  store<u32>(item, z.freeHead);
  z.freeHead = <u32>item;
  z.free++;
  z.frees += 1.0;
}

/** Carves one more page into items if the limit and the arena allow; false otherwise. */
export function zone_carve(z: Zone): bool {
  let room = z.limit - z.total;
  if (<i32>room <= 0) return false;
  let n = min(room, z.perPage);
  let page = page_take(z.id, n);
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
  z.pages++;
  z.pagesIn += 1.0;
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

/**
 * Gives fully free pages back to the arena, keeping at least `keep` items
 * free and releasing at most `maxPages` pages. Returns pages released.
 */
export function zone_reclaim(z: Zone, keep: u32, maxPages: u32): u32 {
  if (z.free <= keep || maxPages == 0) return 0;
  let id = z.id;
  // 1. Count free items per page, in the page table's scratch bits (zero between calls).
  let item = <usize>z.freeHead;
  let bound = z.free;
  while (item && bound) {
    let mp = meta_ptr(item);
    store<u32>(mp, load<u32>(mp) + (1 << META_COUNT_SHIFT));
    item = load<u32>(item);
    bound--;
  }
  // 2. Choose fully free pages; mark them with a count of 0xffff, clear the others.
  let released: u32 = 0;
  let freeLeft = z.free;
  for (let p = first_page(id); p < top; p = next_page(p, id)) {
    let mp = page_entry_ptr(p);
    let meta = load<u32>(mp);
    let carved = meta_carved(meta);
    let count = meta >> META_COUNT_SHIFT;
    meta &= ~META_COUNT_MASK;
    if (count == carved && released < maxPages && freeLeft >= carved + keep) {
      meta |= META_COUNT_MASK;
      released++;
      freeLeft -= carved;
    }
    store<u32>(mp, meta);
  }
  if (!released) return 0;
  // 3. Unlink the items of marked pages, keeping the others in their order.
  let prev: usize = 0;
  item = <usize>z.freeHead;
  bound = z.free;
  while (item && bound) {
    let next = <usize>load<u32>(item);
    if ((load<u32>(meta_ptr(item)) & META_COUNT_MASK) == META_COUNT_MASK) {
      if (prev) store<u32>(prev, <u32>next); else z.freeHead = <u32>next;
    } else {
      prev = item;
    }
    item = next;
    bound--;
  }
  // 4. Give the marked pages back.
  for (let p = first_page(id); p < top; p = next_page(p, id)) {
    let meta = page_entry(p);
    if ((meta & META_COUNT_MASK) != META_COUNT_MASK) continue;
    let carved = meta_carved(meta);
    z.free -= carved;
    z.total -= carved;
    z.pages--;
    z.pagesOut += 1.0;
    page_give(page_addr(p));
  }
  return released;
}

/** True if `addr` is the start of an item carved in a page of zone `z`. */
// @ts-ignore: decorator
@inline export function zone_owns(z: Zone, addr: usize): bool {
  let off = addr - arenaBase;
  if (addr < arenaBase || off >= (<usize>top << PAGE_SHIFT)) return false;
  if (off & ((<usize>z.itemSize) - 1)) return false;
  let meta = load<u32>(meta_ptr(addr));
  if (meta_zone(meta) != z.id) return false;
  return <u32>((off & PAGE_MASK) >> z.itemShift) < meta_carved(meta);
}
