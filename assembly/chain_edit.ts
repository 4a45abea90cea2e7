// Edits of a chain in place: m_pullup, m_prepend, m_adj, m_cat, m_split.
// Each answers the head to use from now on where the head may change (a new
// mbuf takes over the packet header and the old head is demoted), and keeps
// pkthdr.len equal to the chain's length. Buffers are taken before anything
// changes (chain.ts), so a failure leaves the chain as it was: unlike the
// kernel, a failed m_pullup does not free the chain; it counts m_mpfail, as
// FreeBSD 4 did.
//
// ╒══════════════════ m_split(m, len0) inside a cluster ══════════════════╕
// │ before: [ hdr … ]─►[ x: a ........ len0 │ ........ b ]─► rest          │
// │ after:  [ hdr … ]─►[ x: a .. len0 ]            (m keeps len0 bytes)    │
// │         [ t: hdr ]─►[ y: len0 ........ b ]─► rest   (y shares x's      │
// │                                                  cluster: refs = 2)    │
// └────────────────────────────────────────────────────────────────────────┘
// A split inside a small mbuf copies the rest into y instead.

import { MSIZE, MLEN, MHLEN, M_TYPE, M_OWNER, PH_LEN, M_EXT, M_PKTHDR, EINVAL, ERANGE } from "./constants";
import { gcount, G_MPFAIL } from "./stats";
import { RETRY, drain_mark, interrupted_give_back, retried } from "./drain";
import { check_head, valid_how, mbuf_free } from "./mbuf";
import {
  mnext, mlen, mdata, mflags, mseq, set_len, set_data, set_next, pkt_add, copy_pkthdr, move_pkthdr, demote, leading_space,
  trailing_space,
} from "./header";
import { chain_length, chain_last, alloc_list } from "./chain";
import { share_ext } from "./chain_copy";

/** Moves `need` bytes from the front of chain `s` to the end of `dst`'s data; frees emptied mbufs. Returns the rest. */
function consume(dst: usize, s: usize, need: u32): usize {
  while (need) {
    let l = mlen(s);
    let k = min(l, need);
    memory.copy(mdata(dst) + mlen(dst), mdata(s), k);
    set_len(dst, mlen(dst) + k);
    need -= k;
    if (k == l) {
      s = mbuf_free(s);
    } else {
      set_data(s, mdata(s) + k);
      set_len(s, l - k);
    }
  }
  return s;
}

/** One attempt of m_pullup: RETRY if a drain routine ran during its allocations. */
function m_pullup_once(m: i32, n: i32, how: i32): i32 {
  let e = check_head(<usize>m);
  if (e) return e;
  if (!valid_how(how)) return EINVAL;
  let h = <usize>m;
  if (n < 0 || <u32>n > chain_length(h)) return ERANGE;
  let ml = mlen(h);
  if (<u32>n <= ml) return m;
  let flags = mflags(h);
  let next = mnext(h);
  // In place, as the kernel: no cluster, room up to the end of m_dat, something to pull.
  if (!(flags & M_EXT) && mdata(h) + <usize>n < h + MSIZE && next) {
    set_next(h, 0);
    set_next(h, consume(h, next, <u32>n - ml));
    return m;
  }
  if (<u32>n > MHLEN) {
    gcount(G_MPFAIL);
    return 0;
  }
  let hdr = (flags & M_PKTHDR) != 0;
  let d0 = drain_mark(), s0 = mseq(h);
  let x = alloc_list(1, false, hdr, how, <i32>load<u16>(h, M_TYPE), load<u32>(h, M_OWNER));
  if (!x) {
    gcount(G_MPFAIL);
    return 0;
  }
  let lost = interrupted_give_back(d0, h, s0, x);
  if (lost) return lost;
  if (hdr) move_pkthdr(x, h, 0);
  set_next(x, consume(x, h, <u32>n));
  return <i32>x;
}

/**
 * m_pullup: makes the first `n` bytes of the chain of head `m` contiguous in its
 * first mbuf. Returns the head to use from now on (the old one may be freed),
 * 0 if `n` > MHLEN where a new mbuf is needed, or if none could be had (both
 * counted in m_mpfail; the chain unchanged), ERANGE if `n` is negative or beyond
 * the chain, EINVAL for a bad how, or a handle error.
 * Started again once if a drain routine ran during its allocations.
 */
export function m_pullup(m: i32, n: i32, how: i32): i32 {
  let r = m_pullup_once(m, n, how);
  return r != RETRY ? r : retried(m_pullup_once(m, n, how));
}

/** One attempt of m_prepend: RETRY if a drain routine ran during its allocations. */
function m_prepend_once(m: i32, len: i32, how: i32): i32 {
  let e = check_head(<usize>m);
  if (e) return e;
  if (!valid_how(how)) return EINVAL;
  if (len < 0) return ERANGE;
  let h = <usize>m;
  if (<u32>len <= leading_space(h)) {
    let d = mdata(h) - <usize>len;
    memory.fill(d, 0, <usize>len);
    set_data(h, d);
    set_len(h, mlen(h) + <u32>len);
    pkt_add(h, len);
    return m;
  }
  let hdr = (mflags(h) & M_PKTHDR) != 0;
  if (<u32>len > (hdr ? MHLEN : MLEN)) return EINVAL;
  let d0 = drain_mark(), s0 = mseq(h);
  let x = alloc_list(1, false, hdr, how, <i32>load<u16>(h, M_TYPE), load<u32>(h, M_OWNER));
  if (!x) return 0;
  let lost = interrupted_give_back(d0, h, s0, x);
  if (lost) return lost;
  if (hdr) move_pkthdr(x, h, len);
  let d = (x + MSIZE - <usize>len) & ~<usize>3; // MH_ALIGN: room for later prepends
  memory.fill(d, 0, <usize>len);
  set_data(x, d);
  set_len(x, <u32>len);
  set_next(x, h);
  return <i32>x;
}

/**
 * m_prepend (M_PREPEND): puts `len` zeroed bytes before the data of the chain of
 * head `m`: in its leading space if it is writable and has room, else in a new
 * mbuf that takes over the packet header. Returns the head to use from now on,
 * 0 if no mbuf could be had (chain unchanged), ERANGE for a negative length,
 * EINVAL if a new mbuf could not hold `len` bytes or for a bad how, or a handle error.
 * Started again once if a drain routine ran during its allocations.
 */
export function m_prepend(m: i32, len: i32, how: i32): i32 {
  let r = m_prepend_once(m, len, how);
  return r != RETRY ? r : retried(m_prepend_once(m, len, how));
}

/**
 * m_adj: trims `req` bytes from the head of the chain of head `m` (from the
 * tail if negative). Emptied mbufs stay in the chain with m_len 0, as in the kernel.
 * Returns 0, ERANGE if |req| exceeds the chain's length, or a handle error.
 */
export function m_adj(m: i32, req: i32): i32 {
  let e = check_head(<usize>m);
  if (e) return e;
  let h = <usize>m;
  let total = chain_length(h);
  let mag = req < 0 ? <u64>(-<i64>req) : <u64>req;
  if (mag > <u64>total) return ERANGE;
  if (req >= 0) {
    let rem = <u32>req, x = h;
    while (rem) {
      let l = mlen(x);
      let k = min(l, rem);
      set_data(x, mdata(x) + k);
      set_len(x, l - k);
      rem -= k;
      x = mnext(x);
    }
  } else {
    let keep = total - <u32>mag, pos: u32 = 0, x = h;
    while (x) {
      let l = mlen(x);
      if (pos + l >= keep) {
        set_len(x, keep - pos);
        x = mnext(x);
        while (x) { set_len(x, 0); x = mnext(x); }
        break;
      }
      pos += l;
      x = mnext(x);
    }
  }
  pkt_add(h, -<i32>mag);
  return 0;
}

/**
 * m_cat: appends the chain of head `n` to the chain of head `m`, copying small
 * mbufs into the trailing space of `m`'s last mbuf when it is writable. `n` loses
 * its packet header and must not be used again. Returns 0, EINVAL if `m` == `n`,
 * or a handle error.
 */
export function m_cat(m: i32, n: i32): i32 {
  let e = check_head(<usize>m);
  if (e) return e;
  e = check_head(<usize>n);
  if (e) return e;
  if (m == n) return EINVAL;
  let h = <usize>m, s = <usize>n;
  let added = chain_length(s);
  demote(s);
  let last = chain_last(h);
  while (s) {
    let l = mlen(s);
    if (l > trailing_space(last)) {
      set_next(last, s);
      break;
    }
    memory.copy(mdata(last) + mlen(last), mdata(s), l);
    set_len(last, mlen(last) + l);
    s = mbuf_free(s);
  }
  pkt_add(h, <i32>added);
  return 0;
}

/** One attempt of m_split: RETRY if a drain routine ran during its allocations. */
function m_split_once(m: i32, len0: i32, how: i32): i32 {
  let e = check_head(<usize>m);
  if (e) return e;
  if (!valid_how(how)) return EINVAL;
  let h = <usize>m;
  let total = chain_length(h);
  if (len0 < 0 || <u32>len0 > total) return ERANGE;
  let at = <u32>len0;
  let hdr = (mflags(h) & M_PKTHDR) != 0;
  let type = <i32>load<u16>(h, M_TYPE), owner = load<u32>(h, M_OWNER);
  // Find the mbuf x holding byte `at`, its offset r, its predecessor p.
  let p: usize = 0, x = h, cum: u32 = 0;
  while (x) {
    let l = mlen(x);
    if (at - cum < l) break;
    cum += l; p = x; x = mnext(x);
  }
  let t: usize;
  let d0 = drain_mark(), s0 = mseq(h);
  if (!x) {
    // At the end: the tail is one empty mbuf.
    t = alloc_list(1, false, hdr, how, type, owner);
    if (!t) return 0;
    let lost = interrupted_give_back(d0, h, s0, t); if (lost) return lost;
  } else {
    let r = at - cum;
    if (r == 0 && p) {
      // On a boundary: cut, and give the tail a header mbuf if the packet has one.
      if (hdr) {
        t = alloc_list(1, false, true, how, type, owner);
        if (!t) return 0;
        let lost = interrupted_give_back(d0, h, s0, t); if (lost) return lost;
        set_next(p, 0);
        set_next(t, x);
      } else {
        set_next(p, 0);
        t = x;
      }
    } else {
      let l = mlen(x);
      let ext = (mflags(x) & M_EXT) != 0;
      let nt: u32 = (hdr && !ext && l - r > MHLEN) ? 2 : 1;
      t = alloc_list(nt, false, hdr, how, type, owner);
      if (!t) return 0;
      let lost = interrupted_give_back(d0, h, s0, t); if (lost) return lost;
      let y = nt == 2 ? mnext(t) : t;
      if (ext) {
        share_ext(y, x, mdata(x) + r, l - r);
      } else {
        memory.copy(mdata(y), mdata(x) + r, l - r);
        set_len(y, l - r);
      }
      let rest = mnext(x);
      set_next(x, 0);
      set_next(y, rest);
      set_len(x, r);
    }
  }
  if (hdr) {
    copy_pkthdr(t, h);
    store<i32>(t, <i32>(total - at), PH_LEN);
    store<i32>(h, <i32>at, PH_LEN);
  }
  return <i32>t;
}

/**
 * m_split: splits the chain of head `m` after `len0` bytes; `m` keeps the first
 * `len0`. A split inside a cluster shares it; inside a small mbuf copies the rest.
 * Returns the head of the tail (with a packet header if `m` has one; an empty
 * mbuf if `len0` is the whole length), 0 if buffers ran out (chain unchanged),
 * ERANGE, EINVAL for a bad how, or a handle error.
 * Started again once if a drain routine ran during its allocations.
 */
export function m_split(m: i32, len0: i32, how: i32): i32 {
  let r = m_split_once(m, len0, how);
  return r != RETRY ? r : retried(m_split_once(m, len0, how));
}
