// Data operations: bytes between the host and a chain (m_copydata,
// m_copyback, m_append, m_prepare), finding bytes (m_length, m_getptr, an
// m_apply-style segment walk, mtod) and the M_LEADINGSPACE /
// M_TRAILINGSPACE / M_WRITABLE answers for one mbuf (header.ts's rules).
//
// Bytes cross through the data exchange area, a static buffer of DXCHG_CAP
// bytes the host maps once; the host loops for larger copies. m_copyback
// writes only into storage the chain owns alone: m_prepare first extends the
// chain (the last mbuf's trailing space, then clusters, then one mbuf) and
// gives every shared cluster the range touches a private copy (copy on
// write), all or nothing, as chain.ts's buffers are taken; a shared jumbo
// cluster's copy is a jumbo cluster of its size. pkthdr.len grows with the
// chain.

import {
  M_TYPE, M_OWNER, EXT_BUF, EXT_SIZE, EINVAL, ERANGE, MJUMPAGESIZE, MJUM9BYTES, MJUM16BYTES,
} from "./constants";
import { RETRY, drain_mark, interrupted, retried } from "./drain";
import { clusterZone, check_mbuf, check_head, valid_how, mbuf_free, chain_free, hold_mbuf, unhold_mbuf } from "./mbuf";
import {
  mnext, mlen, mdata, mflags, mseq, set_len, set_data, ext_ptr, set_next, pkt_add, is_writable, leading_space,
  trailing_space,
} from "./header";
import { cache_fast } from "./cache";
import { lane_append, in_lane_data } from "./lane";
import { chain_length, chain_last, in_range, alloc_list, alloc_room, set_lens, unlink_first } from "./chain";

// ╒═══════════════ data exchange area (DXCHG_CAP bytes, static) ═══════════════╕
// │ bytes: copydata's destination, copyback's and sb_write's source, from 0     │
// │ or m_segments' output: (addr u32, len u32) pairs, DXCHG_CAP / 8 at most     │
// └─────────────────────────────────────────────────────────────────────────────┘
/** Bytes the data exchange area holds. */
// @ts-ignore: decorator
@inline export const DXCHG_CAP: u32 = 16384;
/** The data exchange area: bytes, or (addr, len) i32 pairs for m_segments. */
export const DXCHG: usize = memory.data(<i32>DXCHG_CAP, 16);
/** Second result of the last m_getptr (offset inside the mbuf). */
let aux: i32 = 0;

// === Copies between chains and memory (ranges already checked) ===

/** Copies `len` bytes at offset `off` of the chain `m` to `dst`. */
function copy_out(m: usize, off: u32, len: u32, dst: usize): void {
  while (len) {
    let l = mlen(m);
    if (off < l) {
      let k = min(l - off, len);
      memory.copy(dst, mdata(m) + off, k);
      dst += k; len -= k; off = 0;
    } else {
      off -= l;
    }
    m = mnext(m);
  }
}

/** Copies `len` bytes from `src` over offset `off` of the chain `m` (which holds them). */
function copy_in(m: usize, off: u32, len: u32, src: usize): void {
  while (len) {
    let l = mlen(m);
    if (off < l) {
      let k = min(l - off, len);
      memory.copy(mdata(m) + off, src, k);
      src += k; len -= k; off = 0;
    } else {
      off -= l;
    }
    m = mnext(m);
  }
}

/** True if [p, p+len) lies inside the data exchange area. */
// @ts-ignore: decorator
@inline function in_dxchg(p: i32, len: i32): bool {
  let a = <usize>(<u32>p);
  return len >= 0 && <u32>len <= DXCHG_CAP && a >= DXCHG && a - DXCHG <= <usize>(DXCHG_CAP - <u32>len);
}

// === Donors for copy on write: a cluster of each shared one's size ===

/** ext_size of `m` (M_EXT set). */
// @ts-ignore: decorator
@inline function ext_size_of(m: usize): u32 { return load<u32>(ext_ptr(m, mflags(m)), EXT_SIZE); }

/**
 * `n` donors (mbufs with a cluster of `size` bytes) put after the list `head`
 * (0: none yet), which is held while it grows. Returns the list's head, or 0
 * with everything taken, `head` included, given back.
 */
function add_donors(head: usize, n: u32, size: u32, how: i32, type: i32, owner: u32): usize {
  if (!n) return head;
  let l = alloc_list(n, true, false, how, type, owner, size);
  if (!l) {
    if (head) { unhold_mbuf(head); chain_free(head); }
    return 0;
  }
  if (!head) {
    hold_mbuf(l); // no drain routine may free the list while it grows (as alloc_list's)
    return l;
  }
  set_next(chain_last(head), l);
  return head;
}

/**
 * One donor per shared cluster the range touches, each of its size: `ncl`
 * clusters and `np`, `n9`, `n16` jumbo ones, as one list. Returns its head,
 * or 0 with everything taken given back.
 */
function alloc_donors(ncl: u32, np: u32, n9: u32, n16: u32, how: i32, type: i32, owner: u32): usize {
  let head = add_donors(0, ncl, 0, how, type, owner);
  if (ncl && !head) return 0;
  head = add_donors(head, np, MJUMPAGESIZE, how, type, owner);
  if (np && !head) return 0;
  head = add_donors(head, n9, MJUM9BYTES, how, type, owner);
  if (n9 && !head) return 0;
  head = add_donors(head, n16, MJUM16BYTES, how, type, owner);
  if (n16 && !head) return 0;
  unhold_mbuf(head);
  return head;
}

/**
 * The first donor of the list `donors` whose cluster is `size` bytes. If it
 * is not the head it is unlinked here; the head the caller unlinks itself.
 */
function take_donor(donors: usize, size: u32): usize {
  let prev: usize = 0, d = donors;
  while (d && ext_size_of(d) != size) { prev = d; d = mnext(d); }
  if (prev) {
    let n = mnext(d);
    set_next(d, 0);
    set_next(prev, n);
  }
  return d;
}

// === Exported operations ===

/** m_length: bytes in the chain of `m`. Returns the length, or EBADHANDLE/EDOUBLEFREE. */
export function m_length(m: i32): i32 {
  let e = check_mbuf(<usize>m);
  if (e) return e;
  return <i32>chain_length(<usize>m);
}

/**
 * m_copydata: copies `len` bytes at offset `off` of the chain of `m` to `dst`,
 * an address inside the data exchange area. Returns 0, ERANGE for a range outside
 * the chain, EINVAL for a destination outside the exchange area, or a handle error.
 */
export function m_copydata(m: i32, off: i32, len: i32, dst: i32): i32 {
  let e = check_mbuf(<usize>m);
  if (e) return e;
  if (!in_range(chain_length(<usize>m), off, len)) return ERANGE;
  if (!in_dxchg(dst, len)) return EINVAL;
  copy_out(<usize>m, <u32>off, <u32>len, <usize>(<u32>dst));
  return 0;
}

/**
 * Makes [off, off+len) of the chain of head `m` writable: extends the chain
 * (trailing space of its last mbuf, then clusters, then one mbuf) and gives
 * every shared cluster in the range a private copy. All or nothing.
 * Returns 1, 0 if buffers ran out (the chain unchanged), or RETRY.
 */
function prepare(m: usize, off: u32, len: u32, how: i32): i32 {
  let total = chain_length(m);
  let end = off + len;
  // Shared clusters the range touches, by size (a donor's cluster must be as large), and the room at the tail.
  let nu: u32 = 0, pos: u32 = 0, x = m, last = m;
  let ncl: u32 = 0, np: u32 = 0, n9: u32 = 0, n16: u32 = 0;
  let cl = clusterZone.itemSize;
  while (x) {
    let l = mlen(x);
    if (l && pos < end && pos + l > off && !is_writable(x)) {
      nu++;
      let size = ext_size_of(x);
      if (size == cl) ncl++;
      else if (size == MJUMPAGESIZE) np++;
      else if (size == MJUM9BYTES) n9++;
      else n16++;
    }
    pos += l; last = x; x = mnext(x);
  }
  let grow: u32 = end > total ? end - total : 0;
  let room = is_writable(last) ? trailing_space(last) : 0;
  let rem: u32 = grow > room ? grow - room : 0;
  let type = <i32>load<u16>(m, M_TYPE), owner = load<u32>(m, M_OWNER);
  let d0 = drain_mark(), s0 = mseq(m);
  let donors: usize = 0, add: usize = 0;
  if (nu) { donors = alloc_donors(ncl, np, n9, n16, how, type, owner); if (!donors) return 0; }
  if (rem) { add = alloc_room(rem, false, how, type, owner); if (!add) { chain_free(donors); return 0; } }
  let lost = interrupted(d0, m, s0);
  if (lost) {
    chain_free(donors); chain_free(add);
    return lost;
  }
  // Copy on write.
  if (nu) {
    pos = 0; x = m;
    while (x) {
      let l = mlen(x);
      if (l && pos < end && pos + l > off && !is_writable(x)) {
        let d = take_donor(donors, ext_size_of(x));
        if (!d) break; // cannot happen: a donor of each shared size was taken above
        if (d == donors) donors = unlink_first(d);
        let xf = mflags(x), df = mflags(d);
        let xe = ext_ptr(x, xf), de = ext_ptr(d, df);
        let xbuf = <usize>load<u32>(xe, EXT_BUF), dbuf = <usize>load<u32>(de, EXT_BUF);
        let nd = dbuf + (mdata(x) - xbuf);
        memory.copy(nd, mdata(x), l);
        store<u32>(xe, <u32>dbuf, EXT_BUF);
        set_data(x, nd);
        store<u32>(de, <u32>xbuf, EXT_BUF);
        set_data(d, xbuf);
        mbuf_free(d); // drops the donor's reference to the shared cluster
      }
      pos += l; x = mnext(x);
    }
    // Two mbufs of the range sharing one cluster: unsharing the first left the second writable.
    chain_free(donors);
  }
  // Grow.
  if (grow) {
    let k = min(room, grow);
    set_len(last, mlen(last) + k);
    if (add) {
      set_next(last, add);
      set_lens(add, grow - k);
    }
    pkt_add(m, <i32>grow);
  }
  return 1;
}

/** One attempt of m_prepare: RETRY if a drain routine ran during its allocations. */
function m_prepare_once(m: i32, off: i32, len: i32, how: i32): i32 {
  let e = check_head(<usize>m);
  if (e) return e;
  if (!valid_how(how)) return EINVAL;
  if (off < 0 || len < 0 || <u32>off > chain_length(<usize>m)) return ERANGE;
  if (<u64>off + <u64>len > 0x7fff_ffff) return ERANGE;
  return prepare(<usize>m, <u32>off, <u32>len, how);
}

/**
 * Makes [off, off+len) of the chain of head `m` ready for m_copyback without
 * allocating: extends the chain and unshares clusters, all or nothing.
 * Returns 1, 0 if buffers ran out (chain unchanged), ERANGE if `off` is beyond
 * the chain's end or a value is negative, EINVAL for a bad how, or a handle error.
 * Started again once if a drain routine ran during its allocations.
 */
export function m_prepare(m: i32, off: i32, len: i32, how: i32): i32 {
  let r = m_prepare_once(m, off, len, how);
  return r != RETRY ? r : retried(m_prepare_once(m, off, len, how));
}

/** One attempt of m_copyback: RETRY if a drain routine ran during its allocations. */
function m_copyback_once(m: i32, off: i32, len: i32, src: i32, how: i32): i32 {
  let e = check_head(<usize>m);
  if (e) return e;
  if (!valid_how(how)) return EINVAL;
  if (off < 0 || len < 0 || <u32>off > chain_length(<usize>m)) return ERANGE;
  if (<u64>off + <u64>len > 0x7fff_ffff) return ERANGE;
  if (!in_dxchg(src, len) && !in_lane_data(src, len)) return EINVAL;
  let r = prepare(<usize>m, <u32>off, <u32>len, how);
  if (r == 1) copy_in(<usize>m, <u32>off, <u32>len, <usize>(<u32>src));
  return r;
}

/**
 * m_copyback: copies `len` bytes from `src` (inside the data exchange area)
 * over offset `off` of the chain of head `m`, extending it as needed and copying
 * shared clusters before writing. All or nothing.
 * Returns 1, 0 if buffers ran out (chain unchanged), ERANGE, EINVAL, or a handle error.
 * Started again once if a drain routine ran during its allocations.
 */
export function m_copyback(m: i32, off: i32, len: i32, src: i32, how: i32): i32 {
  let r = m_copyback_once(m, off, len, src, how);
  return r != RETRY ? r : retried(m_copyback_once(m, off, len, src, how));
}

/** One attempt of m_append: m_copyback's, at the chain's end as it is now. */
function m_append_once(m: i32, len: i32, src: i32, how: i32): i32 {
  let e = check_mbuf(<usize>m);
  if (e) return e;
  return m_copyback_once(m, <i32>chain_length(<usize>m), len, src, how);
}

/**
 * m_append: m_copyback at the end of the chain. Results as m_copyback; `src`
 * may also be in this thread's data lane (lane.ts), and then, on a shared
 * pool, an append into trailing space runs as a fast path (ESLOW otherwise).
 */
export function m_append(m: i32, len: i32, src: i32, how: i32): i32 {
  if (cache_fast()) return lane_append(<usize>m, len, src, how);
  let r = m_append_once(m, len, src, how);
  return r != RETRY ? r : retried(m_append_once(m, len, src, how));
}

/**
 * m_getptr: the mbuf holding byte `off` of the chain of `m` (the last mbuf for
 * the offset just past the end); its offset inside that mbuf is read with m_aux().
 * Returns the mbuf, ERANGE, or a handle error.
 */
export function m_getptr(m: i32, off: i32): i32 {
  let e = check_mbuf(<usize>m);
  if (e) return e;
  if (off < 0) return ERANGE;
  let x = <usize>m, loc = <u32>off;
  while (true) {
    let l = mlen(x);
    if (l > loc) { aux = <i32>loc; return <i32>x; }
    loc -= l;
    let n = mnext(x);
    if (!n) {
      if (loc == 0) { aux = <i32>l; return <i32>x; }
      return ERANGE;
    }
    x = n;
  }
}

/** The second result of the last m_getptr. */
export function m_aux(): i32 { return aux; }

/** Sets the second result read by m_aux() (for other files' calls). */
export function m_aux_set(v: i32): void { aux = v; }

/**
 * m_apply's walk: writes up to `max` (addr, len) i32 pairs for the non-empty
 * segments of [off, off+len) of the chain of `m` into the data exchange area.
 * Returns how many were written (the host continues after their bytes),
 * ERANGE, EINVAL for a bad max, or a handle error.
 */
export function m_segments(m: i32, off: i32, len: i32, max: i32): i32 {
  let e = check_mbuf(<usize>m);
  if (e) return e;
  if (max < 1 || <u32>max > (DXCHG_CAP >> 3)) return EINVAL;
  if (!in_range(chain_length(<usize>m), off, len)) return ERANGE;
  let x = <usize>m, o = <u32>off, left = <u32>len, i: i32 = 0;
  while (left && i < max) {
    let l = mlen(x);
    if (o < l) {
      let k = min(l - o, left);
      let p = DXCHG + (<usize>i << 3);
      store<u32>(p, <u32>(mdata(x) + o));
      store<u32>(p, k, 4);
      i++; left -= k; o = 0;
    } else {
      o -= l;
    }
    x = mnext(x);
  }
  return i;
}

/** mtod: the address of the data of `m` (its m_len is at handle + 12). Returns it or a handle error. */
export function m_mtod(m: i32): i32 {
  let e = check_mbuf(<usize>m);
  if (e) return e;
  return <i32>mdata(<usize>m);
}

/** M_LEADINGSPACE of `m`. Returns the bytes or a handle error. */
export function m_leadingspace(m: i32): i32 {
  let e = check_mbuf(<usize>m);
  if (e) return e;
  return <i32>leading_space(<usize>m);
}

/** M_TRAILINGSPACE of `m`. Returns the bytes or a handle error. */
export function m_trailingspace(m: i32): i32 {
  let e = check_mbuf(<usize>m);
  if (e) return e;
  return <i32>trailing_space(<usize>m);
}

/** M_WRITABLE of `m`. Returns 1 or 0, or a handle error. */
export function m_writable(m: i32): i32 {
  let e = check_mbuf(<usize>m);
  if (e) return e;
  return is_writable(<usize>m) ? 1 : 0;
}
