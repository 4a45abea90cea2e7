// Chains: what the chain operations (chain_data.ts, chain_copy.ts,
// chain_edit.ts) and sosend (sockbuf.ts's sb_write) share: walking a chain,
// and taking buffers before changing anything.
//
// An operation checks every offset and length against the chain first
// (ERANGE), then takes all the buffers it needs as private lists: if any
// allocation fails, what was taken goes back and the chain is exactly as it
// was (the operation answers 0, as the kernel answers NULL). Only then does
// it change the chain, and nothing after that can fail. The drain routines
// those allocations may run can free anything: drain.ts says how an
// operation notices and starts again.
//
// ╒════════════════ the buffers that hold `rem` bytes (alloc_room) ═════════════════╕
// │ [ cluster ][ cluster ] … [ cluster ][ plain mbuf ]                               │
// │ rem / MCLBYTES clusters, one more if the rest is over MLEN, else one plain mbuf  │
// │ for a rest of 1..MLEN bytes: the fewest buffers, and no cluster for what fits   │
// │ in an mbuf                                                                       │
// └──────────────────────────────────────────────────────────────────────────────────┘

import { MLEN, M_OWNER, M_EXT, M_PKTHDR } from "./constants";
import { clusterZone, m_get, m_gethdr, m_getcl, chain_free, hold_mbuf, unhold_mbuf } from "./mbuf";
import { m_getjcl } from "./jumbo";
import { mnext, mlen, mflags, set_len, set_next } from "./header";

// === Walks ===

/** Sum of m_len over the chain starting at `m`. */
export function chain_length(m: usize): u32 {
  let n: u32 = 0;
  while (m) { n += mlen(m); m = mnext(m); }
  return n;
}

/** Last mbuf of the chain starting at `m`. */
export function chain_last(m: usize): usize {
  let n = mnext(m);
  while (n) { m = n; n = mnext(m); }
  return m;
}

/** True if [off, off+len) lies inside a chain of `total` bytes (all values checked non-negative). */
// @ts-ignore: decorator
@inline export function in_range(total: u32, off: i32, len: i32): bool {
  return off >= 0 && len >= 0 && <u32>off <= total && <u32>len <= total - <u32>off;
}

// === Taking buffers before changing anything ===

/**
 * Allocates `n` (>= 1) mbufs linked with set_next, with a cluster each if
 * `cluster` (of `size` bytes, a jumbo one, if given), the first with a packet
 * header if `hdr`, stamped with `owner`.
 * Returns the head, or 0 with everything taken given back.
 */
export function alloc_list(n: u32, cluster: bool, hdr: bool, how: i32, type: i32, owner: u32, size: u32 = 0): usize {
  let head: usize = 0, tail: usize = 0;
  for (let i: u32 = 0; i < n; i++) {
    let f: i32 = (hdr && i == 0) ? <i32>M_PKTHDR : 0;
    let r = !cluster ? (f ? m_gethdr(how, type) : m_get(how, type))
      : size ? m_getjcl(how, type, f, <i32>size) : m_getcl(how, type, f);
    if (r <= 0) {
      if (head) {
        unhold_mbuf(head);
        chain_free(head);
      }
      return 0;
    }
    let m = <usize>r;
    store<u32>(m, owner, M_OWNER);
    if (tail) {
      set_next(tail, m);
    } else {
      head = m;
      hold_mbuf(head); // no drain routine may free the list while it grows
    }
    tail = m;
  }
  if (head) unhold_mbuf(head);
  return head;
}

/** Clusters alloc_room takes for `rem` bytes: one per MCLBYTES, and one for a rest over MLEN. */
// @ts-ignore: decorator
@inline export function clusters_for(rem: u32): u32 {
  let cl = clusterZone.itemSize;
  let nc = rem / cl;
  if (rem % cl > MLEN) nc++;
  return nc;
}

/** Plain mbufs alloc_room takes for `rem` bytes: one if 0 < the rest after clusters_for <= MLEN. */
// @ts-ignore: decorator
@inline export function plain_for(rem: u32): u32 {
  let r = rem % clusterZone.itemSize;
  return (r != 0 && r <= MLEN) ? 1 : 0;
}

/**
 * Takes the buffers that hold `rem` (> 0) bytes, clusters first, as one list
 * with m_len 0, the first with a packet header if `hdr`.
 * Returns its head, or 0 with everything taken given back.
 */
export function alloc_room(rem: u32, hdr: bool, how: i32, type: i32, owner: u32): usize {
  let nc = clusters_for(rem), nm = plain_for(rem);
  let cls: usize = 0, pl: usize = 0;
  if (nc) {
    cls = alloc_list(nc, true, hdr, how, type, owner);
    if (!cls) return 0;
  }
  if (nm) {
    pl = alloc_list(nm, false, hdr && !nc, how, type, owner);
    if (!pl) { chain_free(cls); return 0; }
  }
  if (cls && pl) set_next(chain_last(cls), pl);
  return cls ? cls : pl;
}

/** Sets m_len along the fresh list `x` to hold `total` bytes: each buffer full (MCLBYTES or MLEN), the rest in the last. */
export function set_lens(x: usize, total: u32): void {
  let left = total, cl = clusterZone.itemSize;
  while (x) {
    let k = min((mflags(x) & M_EXT) ? cl : MLEN, left);
    set_len(x, k);
    left -= k;
    x = mnext(x);
  }
}

/** Unlinks the head of a private list; returns the rest (a free-standing head, or 0). */
// @ts-ignore: decorator
@inline export function unlink_first(x: usize): usize {
  let n = mnext(x);
  set_next(x, 0);
  return n;
}
