// Bulk forms: many allocations or frees in one call, through the exchange
// area, a fixed array of handles in static memory that the host maps once.
// One call amortises the JS-to-Wasm crossing over up to XCHG_CAP handles.
//
// A bulk free checks every handle before it frees any: a bad handle, one
// inside a chain, or the same handle given twice (caught with M_BULKMARK)
// fails the whole call with nothing freed, and the index of the offending
// handle is left in BULK_INDEX.

import { M_FLAGS, M_BULKMARK, M_PKTHDR, EINVAL, EDOUBLEFREE } from "./constants";
import {
  m_getcl, check_head, mbuf_alloc, mbuf_init, mbuf_alloc_run, mbuf_free_run, chain_free, valid_how, valid_type,
} from "./mbuf";

/** Handles one bulk call can carry. */
// @ts-ignore: decorator
@inline export const XCHG_CAP: i32 = 1024;
/** The exchange area: XCHG_CAP i32 handles. */
export const XCHG: usize = memory.data(XCHG_CAP << 2, 16);
/** Index of the handle that failed the last bulk free. */
let bulkIndex: i32 = -1;

/**
 * Allocates up to `n` mbufs (with a packet header if `flags` is M_PKTHDR,
 * with a cluster too if `cluster` is 1) into the exchange area.
 * Returns how many were allocated (fewer when the pool ran out; the first
 * failure is counted once), or EINVAL for a bad n, how, type or flags.
 */
export function m_get_bulk(n: i32, how: i32, type: i32, flags: i32, cluster: i32): i32 {
  if (n < 0 || n > XCHG_CAP || (flags & ~<i32>M_PKTHDR) || <u32>cluster > 1) return EINVAL;
  if (!cluster) {
    // Plain mbufs: the arguments are checked once, and m_get's work is inlined.
    if (!valid_how(how) || !valid_type(type)) return EINVAL;
    // Straight off the freelist first; what remains (the freelist ran dry)
    // takes the allocation path one by one: carving, drains, the denied count.
    for (let i = mbuf_alloc_run(n, <u32>type, <u16>flags, XCHG); i < n; i++) {
      let m = mbuf_alloc(how);
      if (!m) return i;
      mbuf_init(m, <u32>type, <u16>flags);
      store<i32>(XCHG + (<usize>i << 2), <i32>m);
    }
    return n;
  }
  for (let i = 0; i < n; i++) {
    let m = m_getcl(how, type, flags);
    if (m <= 0) return m < 0 ? m : i;
    store<i32>(XCHG + (<usize>i << 2), m);
  }
  return n;
}

/**
 * Frees the `n` chains whose heads are in the exchange area.
 * Returns n, or the error of the first bad handle (see bulk_index()) with nothing freed.
 */
export function m_freem_bulk(n: i32): i32 {
  if (n < 0 || n > XCHG_CAP) return EINVAL;
  let bad: i32 = 0;
  let i = 0;
  for (; i < n; i++) {
    let m = <usize>load<i32>(XCHG + (<usize>i << 2));
    let e = check_head(m);
    if (!e && (load<u16>(m, M_FLAGS) & M_BULKMARK)) e = EDOUBLEFREE; // given twice in one call
    if (e) { bad = e; break; }
    store<u16>(m, load<u16>(m, M_FLAGS) | M_BULKMARK, M_FLAGS);
  }
  if (bad) {
    bulkIndex = i;
    for (let j = 0; j < i; j++) {
      let m = <usize>load<i32>(XCHG + (<usize>j << 2));
      store<u16>(m, load<u16>(m, M_FLAGS) & ~M_BULKMARK, M_FLAGS);
    }
    return bad;
  }
  bulkIndex = -1;
  if (!ASC_NO_ASSERT) {
    // Debug build: one mbuf at a time, so every freed item is poisoned (poison.ts).
    for (let j = 0; j < n; j++) chain_free(<usize>load<i32>(XCHG + (<usize>j << 2)));
  } else {
    mbuf_free_run(n, XCHG);
  }
  return n;
}

/** Index of the handle that failed the last bulk free, -1 if it succeeded. */
export function bulk_index(): i32 { return bulkIndex; }
