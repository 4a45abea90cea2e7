// The arena: the network memory map (FreeBSD 4's mb_map, AIX's pinned pool).
//
// A run of 4 KiB pages above the core's static data, capped by `thewall`.
// Zones take pages one at a time and give whole free pages back; a page given
// back goes on the arena's free list and may be taken by any zone. The 9k
// and 16k jumbo zones take a contiguous run of pages at once (run_take, for
// a slab: slab.ts); a run is found in the page table, the lowest that fits,
// free pages and never-carved ones alike. Memory is
// imported from the host and grown here on demand (or once, to the cap, when
// the host pins it), so nothing but the arena writes above the metadata.
//
// ╒══════════════════════════ linear memory ═══════════════════════════════╕
// │ static data │ page table │ ref table │ scratch │ pad │ page 0 │ page 1 … │
// │ (counters,  │ u32/page   │ u32 per   │ u32 per │ to  │ ◄─ arenaBase      │
// │  exchange)  │            │ 2 KiB     │ 2 KiB   │ 4K  │                   │
// └──────────────────────────────────────────────────────────────────────────┘
// Metadata costs 20 bytes a page: under 0.5% of the arena.
//
// ╒═════════════ page table entry (u32) ═════════════╕
// │ 31 ........ 16 │ 15 ...... 8 │ 7 ........ 0     │
// │ count (scratch)│ items carved│ zone id (0=free) │
// └──────────────────────────────────────────────────┘
// `count` is scratch space for reclaim and audit; it is zero between calls.
//
// The metadata is laid out at init for `capacity` pages; thewall (maxPages)
// may later move anywhere between the pages already carved and that
// capacity (AIX's `no -o thewall=N` at runtime), so raising it never moves
// the arena.

import {
  PAGE_SHIFT, PAGE_SIZE, PAGE_MASK, MCLSHIFT_MIN, ADDRESS_LIMIT, ENOMEM, ESTATE, EINVAL, ERANGE, EBUSY,
} from "./constants";
import {
  gstore, gload, G_ARENA_BASE, G_MAX_PAGES, G_TOP, G_FREE_PAGES, G_FREE_PAGE_HEAD,
  G_PAGE_META, G_REF_TABLE, G_SCRATCH, G_READY, G_PINNED,
} from "./stats";

/** Zone id of a page (0: on the free list or never carved). */
// @ts-ignore: decorator
@inline export const META_ZONE_MASK: u32 = 0xff;
/** Items carved in the page: 8 bits, enough for a page of the smallest item (MBUFS_PER_PAGE = 16). */
// @ts-ignore: decorator
@inline export const META_CARVED_SHIFT: u32 = 8;
/** The carved count's mask once shifted down. */
// @ts-ignore: decorator
@inline export const META_CARVED_MAX: u32 = 0xff;
// @ts-ignore: decorator
@inline export const META_CARVED_MASK: u32 = META_CARVED_MAX << META_CARVED_SHIFT;
/** Scratch count (reclaim, audit), the top 16 bits. */
// @ts-ignore: decorator
@inline export const META_COUNT_SHIFT: u32 = 16;
// @ts-ignore: decorator
@inline export const META_COUNT_MASK: u32 = 0xffff << META_COUNT_SHIFT;
/** Reference-table slots per page (one per smallest cluster). */
// @ts-ignore: decorator
@inline export const REF_SHIFT: u32 = MCLSHIFT_MIN;
// @ts-ignore: decorator
@inline const SLOTS_PER_PAGE_SHIFT: u32 = PAGE_SHIFT - REF_SHIFT;
/** Bytes of metadata per page: page entry + ref slots + scratch slots. */
// @ts-ignore: decorator
@inline export const META_BYTES_PER_PAGE: u32 = 4 + (8 << SLOTS_PER_PAGE_SHIFT);
/** Wasm pages to grow by at least, so growth is not one call per arena page. */
// @ts-ignore: decorator
@inline const GROW_CHUNK: i32 = 16;

/** Address of page 0. */
export let arenaBase: usize = 0;
/** Pages thewall allows. */
export let maxPages: u32 = 0;
/** Pages the metadata was laid out for at init: the most thewall can be raised to. */
export let capPages: u32 = 0;
/** Pages carved from memory so far; pages at or above `top` were never used. */
export let top: u32 = 0;
/** Address of the page table. */
export let pageMeta: usize = 0;
/** Address of the cluster reference-count table. */
export let refTable: usize = 0;
/** Address of the audit's recount table (same shape as refTable). */
export let scratch: usize = 0;
/** First page on the free list (its first word links the next), 0 if none. */
let freePageHead: usize = 0;
/** Pages on the free list. */
let freePages: u32 = 0;

/** Lays out metadata and the arena for `thewall` bytes; grows memory to the cap if `pinned`. */
export function arena_init(thewall: u32, pinned: bool): i32 {
  if (gload(G_READY)) return ESTATE;
  let pages = thewall >> PAGE_SHIFT;
  if (pages == 0) return ENOMEM;
  let meta = (__heap_base + 15) & ~15;
  let slots = <usize>pages << SLOTS_PER_PAGE_SHIFT;
  let ref = meta + (<usize>pages << 2);
  let scr = ref + (slots << 2);
  let base = (scr + (slots << 2) + PAGE_MASK) & ~<usize>PAGE_MASK;
  let end = <u64>base + (<u64>pages << PAGE_SHIFT);
  if (end > ADDRESS_LIMIT) return ENOMEM;
  if (!ensure_memory(pinned ? <usize>end : base)) return ENOMEM;
  memory.fill(meta, 0, base - meta);
  pageMeta = meta; refTable = ref; scratch = scr; arenaBase = base;
  maxPages = pages; capPages = pages; top = 0; freePageHead = 0; freePages = 0;
  gstore(G_PAGE_META, <u32>meta);
  gstore(G_REF_TABLE, <u32>ref);
  gstore(G_SCRATCH, <u32>scr);
  gstore(G_ARENA_BASE, <u32>base);
  gstore(G_MAX_PAGES, pages);
  gstore(G_PINNED, pinned ? 1 : 0);
  publish();
  return 0;
}

/**
 * Re-derives this instance's arena globals from their mirror in the counters
 * block: for a second instance over memory another instance initialised
 * (threads sharing one pool), and again whenever another instance may have
 * moved the arena since this one last ran. The mirror is written by every
 * change (publish, arena_set_max, arena_init), so it is always current.
 * Returns 0, or ESTATE if the memory holds no initialised pool.
 */
export function arena_attach(): i32 {
  if (!gload(G_READY)) return ESTATE;
  pageMeta = gload(G_PAGE_META); refTable = gload(G_REF_TABLE); scratch = gload(G_SCRATCH);
  arenaBase = gload(G_ARENA_BASE);
  capPages = <u32>((refTable - pageMeta) >> 2); // arena_init lays the ref table after `capacity` page entries
  maxPages = gload(G_MAX_PAGES);
  top = gload(G_TOP);
  freePages = gload(G_FREE_PAGES);
  freePageHead = gload(G_FREE_PAGE_HEAD);
  return 0;
}

/**
 * Re-reads `top` from the counters block: a shared pool's fast path (cache.ts),
 * which checks handles against pages another thread may have carved since
 * this instance last held the lock. Pages carved only grow, and every other
 * field is re-read by arena_attach when the lock comes back.
 */
// @ts-ignore: decorator
@inline export function arena_sync_top(): void { top = gload(G_TOP); }

/** Makes linear memory reach `end` bytes; false if the host's maximum forbids it. */
function ensure_memory(end: usize): bool {
  let need = <i32>((end + 0xffff) >>> 16);
  let have = memory.size();
  if (need <= have) return true;
  let want = need - have;
  if (want < GROW_CHUNK && memory.grow(GROW_CHUNK) >= 0) return true;
  return memory.grow(want) >= 0;
}

/** Mirrors the arena's state into the counters block for the host. */
// @ts-ignore: decorator
@inline function publish(): void {
  gstore(G_TOP, top);
  gstore(G_FREE_PAGES, freePages);
  gstore(G_FREE_PAGE_HEAD, <u32>freePageHead);
}

/** Page table entry of the page holding `addr` (addr must be inside the arena). */
// @ts-ignore: decorator
@inline export function meta_ptr(addr: usize): usize {
  return pageMeta + (((addr - arenaBase) >> PAGE_SHIFT) << 2);
}

/** Reference-count slot of the cluster at `addr`. */
// @ts-ignore: decorator
@inline export function ref_ptr(addr: usize): usize {
  return refTable + (((addr - arenaBase) >> REF_SHIFT) << 2);
}

// === Walking the page table ===
//
// Every walk over a zone's pages reads the same way:
//   for (let p = first_page(zone); p < top; p = next_page(p, zone)) {
//     let meta = page_entry(p); … page_addr(p), meta_carved(meta) …
//   }
// Pages at or above `top` were never carved, so `top` ends every walk.

/** Address of the page table entry of page `p` (by index). */
// @ts-ignore: decorator
@inline export function page_entry_ptr(p: u32): usize { return pageMeta + (<usize>p << 2); }
/** The page table entry of page `p`. */
// @ts-ignore: decorator
@inline export function page_entry(p: u32): u32 { return load<u32>(page_entry_ptr(p)); }
/** Address of page `p`. */
// @ts-ignore: decorator
@inline export function page_addr(p: u32): usize { return arenaBase + (<usize>p << PAGE_SHIFT); }
/** Zone id of page table entry `meta`. */
// @ts-ignore: decorator
@inline export function meta_zone(meta: u32): u32 { return meta & META_ZONE_MASK; }
/** Items carved in the page of entry `meta`. */
// @ts-ignore: decorator
@inline export function meta_carved(meta: u32): u32 { return (meta >> META_CARVED_SHIFT) & META_CARVED_MAX; }

/** Index of the first page of zone `zone` at or after `p`, or `top` if none. */
// @ts-ignore: decorator
@inline function page_from(p: u32, zone: u32): u32 {
  while (p < top && meta_zone(page_entry(p)) != zone) p++;
  return p;
}
/** Index of the first page of zone `zone`, or `top` if none. */
// @ts-ignore: decorator
@inline export function first_page(zone: u32): u32 { return page_from(0, zone); }
/** Index of the next page of zone `zone` after page `p`, or `top` if none. */
// @ts-ignore: decorator
@inline export function next_page(p: u32, zone: u32): u32 { return page_from(p + 1, zone); }

/** Pages a zone could still take: the free list plus never-carved pages. */
// @ts-ignore: decorator
@inline export function pages_available(): u32 {
  return freePages + (maxPages - top);
}

/** Takes a page for zone `zone`, carving `carved` items; returns its address or 0. */
export function page_take(zone: u32, carved: u32): usize {
  let page = freePageHead;
  if (page) {
    freePageHead = load<u32>(page);
    freePages--;
  } else {
    if (top >= maxPages) return 0;
    page = arenaBase + (<usize>top << PAGE_SHIFT);
    if (!ensure_memory(page + PAGE_SIZE)) return 0;
    top++;
  }
  store<u32>(meta_ptr(page), zone | (carved << META_CARVED_SHIFT));
  publish();
  return page;
}

/**
 * Takes `n` contiguous pages for a slab of zone `zone` (slab.ts): the first
 * page's entry carries the `carved` count, the others carved 0. The lowest
 * run of free or never-carved pages is taken, so runs come from holes first
 * and from the top last. Returns the first page's address, or 0 if no run fits
 * under thewall. O(top + n), on the slow path only (a jumbo zone carving).
 */
export function run_take(zone: u32, n: u32, carved: u32): usize {
  if (pages_available() < n) return 0; // no run can fit: spare the walk (an exhausted arena's common case)
  let run: u32 = 0, start: u32 = 0;
  for (let p: u32 = 0; p < maxPages && run < n; p++) {
    if (p < top && page_entry(p) != 0) { run = 0; continue; }
    if (run == 0) start = p;
    run++;
  }
  if (run < n) return 0;
  let end = start + n;
  if (end > top && !ensure_memory(arenaBase + (<usize>end << PAGE_SHIFT))) return 0;
  if (start < top) {
    // Unlink the run's pages from the free list, in one pass.
    let lo = arenaBase + (<usize>start << PAGE_SHIFT), hi = arenaBase + (<usize>min(end, top) << PAGE_SHIFT);
    let prev: usize = 0, page = freePageHead;
    while (page) {
      let next = <usize>load<u32>(page);
      if (page >= lo && page < hi) {
        if (prev) store<u32>(prev, <u32>next); else freePageHead = next;
        store<u32>(page, 0); // the link word: the rest was zeroed by page_give
        freePages--;
      } else {
        prev = page;
      }
      page = next;
    }
  }
  if (end > top) top = end;
  store<u32>(page_entry_ptr(start), zone | (carved << META_CARVED_SHIFT));
  for (let p = start + 1; p < end; p++) store<u32>(page_entry_ptr(p), zone);
  publish();
  return page_addr(start);
}

/** Gives a page back to the arena's free list. */
export function page_give(page: usize): void {
  store<u32>(meta_ptr(page), 0);
  // Zones expect fresh items zeroed (a free mbuf reads as MT_FREE).
  memory.fill(page, 0, PAGE_SIZE);
  store<u32>(page, <u32>freePageHead);
  freePageHead = page;
  freePages++;
  publish();
}

/**
 * Moves thewall to `pages` pages, between the pages ever carved (`top`) and
 * the capacity laid out at init. Returns 0, ERANGE above the capacity, EBUSY
 * below `top` (pages once carved keep their place), EINVAL for 0.
 */
export function arena_set_max(pages: u32): i32 {
  if (pages == 0) return EINVAL;
  if (pages > capPages) return ERANGE;
  if (pages < top) return EBUSY;
  maxPages = pages;
  gstore(G_MAX_PAGES, pages);
  return 0;
}

/** First page of the free list, for the audit. */
export function free_page_head(): usize { return freePageHead; }
/** Length of the free list, for the audit. */
export function free_page_count(): u32 { return freePages; }
