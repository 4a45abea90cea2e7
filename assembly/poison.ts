// Debug-build trash checks, as UMA's trash_ctor/trash_dtor: every free item
// is filled with a pattern, and the pattern is checked when the item is
// handed out again and by the audit, so a write after free is reported
// instead of silently corrupting the next owner's data.
//
// ╒══════════════ a free item in the debug build ══════════════╕
// │ 0: freelist link │ 4 … end: POISON words                     │
// │ (mbufs keep m_type/m_flags at 16..20 zero: MT_FREE, so a  │
// │  double free is still seen in O(1))                        │
// └────────────────────────────────────────────────────────────┘
// A damaged item is counted in the counters block (G_POISON_HITS, the last
// address at G_POISON_ADDR) and the audit reports it; the item is still
// handed out (its data is garbage anyway). A damaged freelist link is cut
// rather than followed, and the audit then reports the short freelist.
// Everything here runs only under `if (!ASC_NO_ASSERT)`: the release build
// neither fills nor checks.

import { ZONE_MBUF, M_TYPE } from "./constants";
import { gcount, gstore, G_POISON_HITS, G_POISON_ADDR } from "./stats";

/** The fill pattern of a free item (one u32 word, repeated). */
// @ts-ignore: decorator
@inline export const POISON: u32 = 0xdeadc0de;
/** First poisoned byte: word 0 is the freelist link. */
// @ts-ignore: decorator
@inline const POISON_START: u32 = 4;

/** True if the word at `off` of a free item of zone `zone` carries no poison (the link, an mbuf's type/flags). */
// @ts-ignore: decorator
@inline function unpoisoned(zone: u32, off: u32): bool {
  return zone == ZONE_MBUF && off == M_TYPE;
}

/** Fills free item `item` (`size` bytes, of zone `zone`) with the pattern. */
export function poison_fill(zone: u32, item: usize, size: u32): void {
  for (let off = POISON_START; off < size; off += 4) {
    if (!unpoisoned(zone, off)) store<u32>(item + off, POISON);
  }
}

/** Offset of the first damaged word of free item `item`, or 0 if the pattern is intact. */
export function poison_find(zone: u32, item: usize, size: u32): u32 {
  for (let off = POISON_START; off < size; off += 4) {
    if (!unpoisoned(zone, off) && load<u32>(item + off) != POISON) return off;
  }
  return 0;
}

/** Checks free item `item` as it is handed out; counts and records a damaged one. */
export function poison_check(zone: u32, item: usize, size: u32): void {
  if (poison_find(zone, item, size)) poison_hit(item);
}

/** Counts a write after free found at `item`. */
export function poison_hit(item: usize): void {
  gcount(G_POISON_HITS);
  gstore(G_POISON_ADDR, <u32>item);
}
