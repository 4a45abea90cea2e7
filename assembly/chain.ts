// Chains: the mbuf(9) data operations (m_copydata, m_copyback, m_append,
// m_copym, m_copypacket, m_dup, m_pullup, m_prepend, m_adj, m_cat, m_split,
// m_length, m_defrag, m_getptr, an m_apply-style segment walk) and the
// M_LEADINGSPACE / M_TRAILINGSPACE / M_WRITABLE rules they obey.
//
// Bytes cross between the host and a chain through the data exchange area, a
// static buffer of DXCHG_CAP bytes the host maps once; the host loops for
// larger copies. Every offset and length is checked against the chain before
// anything changes (ERANGE), and an operation that needs buffers takes all of
// them first, as a private chain: if any allocation fails, what was taken goes
// back and the chain is exactly as it was (the function answers 0 as the
// kernel answers NULL; copym and pullup count m_mcfail / m_mpfail as FreeBSD 4
// did). Unlike the kernel, a failed m_pullup does not free the chain.
//
// A cluster whose reference count is above 1 is read-only (M_WRITABLE false):
// its leading and trailing space read as 0, appends take a new mbuf instead,
// and m_copyback gives each shared mbuf it writes into a private copy of its
// cluster first (copy on write). pkthdr.len is kept equal to the chain's
// length on every free-standing packet-header chain (the audit checks it);
// an mbuf that leaves the head of a chain loses its packet header (m_demote).
// Links are made with set_next(), so M_LINKED stays right.
//
// Drain routines run from inside an allocation may free anything, the chain
// being worked on included: every operation that allocates keeps drain.ts's
// contract (give back, start again once). A list being allocated is held
// (hold_mbuf), so no drain routine can free it half-built.

import {
  MSIZE, MLEN, MHLEN, M_TYPE, M_FLAGS, M_OWNER, PH_LEN, EXT_BUF, EXT_SIZE, M_EXT, M_PKTHDR, M_COPYALL,
  EINVAL, ERANGE,
} from "./constants";
import { gcount, gload, G_MCFAIL, G_MPFAIL, G_OWNER } from "./stats";
import { RETRY, drain_mark, interrupted, retried } from "./drain";
import { ref_ptr } from "./arena";
import {
  clusterZone, check_mbuf, check_head, valid_how, m_get, m_gethdr, m_getcl, mbuf_free, chain_free, hold_mbuf,
  unhold_mbuf,
} from "./mbuf";
import {
  mnext, mlen, mdata, mflags, set_len, set_data, ext_ptr, set_next, pkt_add, copy_pkthdr, demote,
  is_writable, leading_space, trailing_space,
} from "./header";

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

/** Makes the empty mbuf `x` share the cluster of `s`, from data address `data`, `len` bytes. */
function share_ext(x: usize, s: usize, data: usize, len: u32): void {
  let sf = mflags(s), xf = mflags(x);
  let se = ext_ptr(s, sf), xe = ext_ptr(x, xf);
  let c = <usize>load<u32>(se, EXT_BUF);
  store<u32>(xe, <u32>c, EXT_BUF);
  store<u32>(xe, load<u32>(se, EXT_SIZE), EXT_SIZE);
  store<u16>(x, xf | M_EXT, M_FLAGS);
  let rp = ref_ptr(c);
  store<u32>(rp, load<u32>(rp) + 1);
  set_data(x, data);
  set_len(x, len);
}

// === Taking buffers before changing anything ===

/**
 * Allocates `n` (>= 1) mbufs linked with set_next, with a cluster each if
 * `cluster`, the first with a packet header if `hdr`, stamped with `owner`.
 * Returns the head, or 0 with everything taken given back.
 */
export function alloc_list(n: u32, cluster: bool, hdr: bool, how: i32, type: i32, owner: u32): usize {
  let head: usize = 0, tail: usize = 0;
  for (let i: u32 = 0; i < n; i++) {
    let f: i32 = (hdr && i == 0) ? <i32>M_PKTHDR : 0;
    let r = cluster ? m_getcl(how, type, f) : f ? m_gethdr(how, type) : m_get(how, type);
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

/** Unlinks the head of a private list; returns the rest (a free-standing head, or 0). */
// @ts-ignore: decorator
@inline function unlink_first(x: usize): usize {
  let n = mnext(x);
  set_next(x, 0);
  return n;
}

/** Clusters and plain mbufs needed to hold `rem` more bytes: clusters while more than MLEN remain. */
// @ts-ignore: decorator
@inline function clusters_for(rem: u32): u32 {
  let cl = clusterZone.itemSize;
  let nc = rem / cl;
  if (rem % cl > MLEN) nc++;
  return nc;
}
/** Plain mbufs needed for the rest of `rem` after clusters_for: one if 0 < rest <= MLEN. */
// @ts-ignore: decorator
@inline function plain_for(rem: u32): u32 {
  let r = rem % clusterZone.itemSize;
  return (r != 0 && r <= MLEN) ? 1 : 0;
}

// === Copies between chains and memory (ranges already checked) ===

/** Copies `len` bytes at offset `off` of the chain `m` to `dst`. */
export function copy_out(m: usize, off: u32, len: u32, dst: usize): void {
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

/** Copies `len` bytes from offset `soff` of chain `s` into chain `d`, whose m_len are set, from its start. */
function chain_copy(s: usize, soff: u32, d: usize, len: u32): void {
  let doff: u32 = 0;
  while (len) {
    let sl = mlen(s);
    if (soff >= sl) { soff -= sl; s = mnext(s); continue; }
    let dl = mlen(d);
    if (doff >= dl) { doff = 0; d = mnext(d); continue; }
    let k = min(min(sl - soff, dl - doff), len);
    memory.copy(mdata(d) + doff, mdata(s) + soff, k);
    soff += k; doff += k; len -= k;
  }
}

/** True if [off, off+len) lies inside a chain of `total` bytes (all values checked non-negative). */
// @ts-ignore: decorator
@inline function in_range(total: u32, off: i32, len: i32): bool {
  return off >= 0 && len >= 0 && <u32>off <= total && <u32>len <= total - <u32>off;
}

/** True if [p, p+len) lies inside the data exchange area. */
// @ts-ignore: decorator
@inline function in_dxchg(p: i32, len: i32): bool {
  let a = <usize>(<u32>p);
  return len >= 0 && <u32>len <= DXCHG_CAP && a >= DXCHG && a - DXCHG <= <usize>(DXCHG_CAP - <u32>len);
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
  // Shared clusters the range touches, and the room at the tail.
  let nu: u32 = 0, pos: u32 = 0, x = m, last = m;
  while (x) {
    let l = mlen(x);
    if (l && pos < end && pos + l > off && !is_writable(x)) nu++;
    pos += l; last = x; x = mnext(x);
  }
  let grow: u32 = end > total ? end - total : 0;
  let room = is_writable(last) ? trailing_space(last) : 0;
  let rem: u32 = grow > room ? grow - room : 0;
  let nc = clusters_for(rem), nm = plain_for(rem);
  let type = <i32>load<u16>(m, M_TYPE), owner = load<u32>(m, M_OWNER);
  let d0 = drain_mark();
  let donors: usize = 0, cls: usize = 0, pl: usize = 0;
  if (nu) { donors = alloc_list(nu, true, false, how, type, owner); if (!donors) return 0; }
  if (nc) { cls = alloc_list(nc, true, false, how, type, owner); if (!cls) { chain_free(donors); return 0; } }
  if (nm) { pl = alloc_list(nm, false, false, how, type, owner); if (!pl) { chain_free(donors); chain_free(cls); return 0; } }
  let lost = interrupted(d0);
  if (lost) {
    chain_free(donors); chain_free(cls); chain_free(pl);
    return lost;
  }
  // Copy on write.
  if (nu) {
    pos = 0; x = m;
    while (x) {
      let l = mlen(x);
      if (l && pos < end && pos + l > off && !is_writable(x)) {
        let d = donors;
        donors = unlink_first(d);
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
    let left = grow - k;
    if (cls && pl) set_next(chain_last(cls), pl);
    let add = cls ? cls : pl;
    if (add) {
      set_next(last, add);
      let cl = clusterZone.itemSize;
      while (add) {
        let cap = (mflags(add) & M_EXT) ? cl : MLEN;
        let n = min(cap, left);
        set_len(add, n);
        left -= n;
        add = mnext(add);
      }
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
  if (!in_dxchg(src, len)) return EINVAL;
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

/** m_append: m_copyback at the end of the chain. Results as m_copyback. */
export function m_append(m: i32, len: i32, src: i32, how: i32): i32 {
  let r = m_append_once(m, len, src, how);
  return r != RETRY ? r : retried(m_append_once(m, len, src, how));
}

/** One attempt of m_copym: RETRY if a drain routine ran during its allocations. */
function m_copym_once(m: i32, off: i32, len: i32, how: i32): i32 {
  let e = check_mbuf(<usize>m);
  if (e) return e;
  if (!valid_how(how)) return EINVAL;
  let s = <usize>m;
  let total = chain_length(s);
  if (off < 0 || <u32>off > total) return ERANGE;
  if (len == M_COPYALL) len = <i32>(total - <u32>off);
  if (!in_range(total, off, len)) return ERANGE;
  let hdr = off == 0 && (mflags(s) & M_PKTHDR) != 0;
  // Count the mbufs the range touches.
  let n: u32 = 0, pos: u32 = 0, end = <u32>off + <u32>len, first: usize = 0;
  let x = s;
  while (x && pos < end) {
    let l = mlen(x);
    if (l && pos + l > <u32>off) { n++; if (!first) first = x; }
    pos += l; x = mnext(x);
  }
  // A packet header mbuf holds MHLEN bytes: a larger first piece gets its own mbuf.
  let lead = false;
  if (hdr && first && !(mflags(first) & M_EXT) && min(mlen(first), <u32>len) > MHLEN) lead = true;
  let want = n + (lead ? 1 : 0);
  if (want == 0) want = 1;
  let d0 = drain_mark();
  let top = alloc_list(want, false, hdr, how, <i32>load<u16>(s, M_TYPE), gload(G_OWNER));
  if (!top) {
    gcount(G_MCFAIL);
    return 0;
  }
  let lost = interrupted(d0);
  if (lost) {
    chain_free(top);
    return lost;
  }
  let d = lead ? mnext(top) : top;
  pos = 0; x = s;
  let left = <u32>len;
  while (x && left) {
    let l = mlen(x);
    if (l && pos + l > <u32>off) {
      let so = pos < <u32>off ? <u32>off - pos : 0;
      let k = min(l - so, left);
      if (mflags(x) & M_EXT) {
        share_ext(d, x, mdata(x) + so, k);
      } else {
        memory.copy(mdata(d), mdata(x) + so, k);
        set_len(d, k);
      }
      left -= k;
      d = mnext(d);
    }
    pos += l; x = mnext(x);
  }
  if (hdr) {
    copy_pkthdr(top, s);
    store<i32>(top, len, PH_LEN);
  }
  return <i32>top;
}

/**
 * m_copym: a new chain holding `len` bytes (M_COPYALL: to the end) from offset
 * `off` of the chain of `m`. Clusters are shared by reference count, small mbufs
 * copied; the packet header is copied when `off` is 0.
 * Returns the new head, 0 if buffers ran out (counted in m_mcfail), ERANGE, EINVAL, or a handle error.
 * Started again once if a drain routine ran during its allocations.
 */
export function m_copym(m: i32, off: i32, len: i32, how: i32): i32 {
  let r = m_copym_once(m, off, len, how);
  return r != RETRY ? r : retried(m_copym_once(m, off, len, how));
}

/** m_copypacket: m_copym of a whole packet. Returns as m_copym; EINVAL if `m` has no packet header. */
export function m_copypacket(m: i32, how: i32): i32 {
  let e = check_mbuf(<usize>m);
  if (e) return e;
  if (!(mflags(<usize>m) & M_PKTHDR)) return EINVAL;
  return m_copym(m, 0, M_COPYALL, how);
}

/** An empty chain with m_len set to hold `total` bytes packed: clusters while over MLEN, else one mbuf. 0 if none. */
function build_packed(total: u32, hdr: bool, how: i32, type: i32, owner: u32): usize {
  let cap = hdr ? MHLEN : MLEN;
  if (total <= cap) {
    let m = alloc_list(1, false, hdr, how, type, owner);
    if (m) set_len(m, total);
    return m;
  }
  let nc = clusters_for(total), nm = plain_for(total);
  if (nc == 0) { nc = 1; nm = 0; }
  let cls = alloc_list(nc, true, hdr, how, type, owner);
  if (!cls) return 0;
  if (nm) {
    let pl = alloc_list(nm, false, false, how, type, owner);
    if (!pl) { chain_free(cls); return 0; }
    set_next(chain_last(cls), pl);
  }
  let left = total, x = cls, cl = clusterZone.itemSize;
  while (x) {
    let k = min((mflags(x) & M_EXT) ? cl : MLEN, left);
    set_len(x, k);
    left -= k;
    x = mnext(x);
  }
  return cls;
}

/**
 * Deep copy of the chain `s` (packet header included), packed into as few
 * buffers as possible: its head, or 0; RETRY (nothing kept) if a drain routine
 * ran during the allocations: it may have freed `s`, which must then not be read.
 */
function dup_chain(s: usize, how: i32): i32 {
  let total = chain_length(s);
  let hdr = (mflags(s) & M_PKTHDR) != 0;
  let d0 = drain_mark();
  let d = build_packed(total, hdr, how, <i32>load<u16>(s, M_TYPE), gload(G_OWNER));
  if (!d) return 0;
  let lost = interrupted(d0);
  if (lost) {
    chain_free(d);
    return lost;
  }
  chain_copy(s, 0, d, total);
  if (hdr) {
    copy_pkthdr(d, s);
    store<i32>(d, <i32>total, PH_LEN);
  }
  return <i32>d;
}

/** One attempt of m_dup: RETRY if a drain routine ran during its allocations. */
function m_dup_once(m: i32, how: i32): i32 {
  let e = check_mbuf(<usize>m);
  if (e) return e;
  if (!valid_how(how)) return EINVAL;
  return dup_chain(<usize>m, how);
}

/**
 * m_dup: a deep copy of the chain of `m`, with no shared cluster.
 * Returns the new head, 0 if buffers ran out, EINVAL for a bad how, or a handle error.
 * Started again once if a drain routine ran during its allocations.
 */
export function m_dup(m: i32, how: i32): i32 {
  let r = m_dup_once(m, how);
  return r != RETRY ? r : retried(m_dup_once(m, how));
}

/** One attempt of m_defrag: RETRY if a drain routine ran during its allocations. */
function m_defrag_once(m: i32, how: i32): i32 {
  let e = check_head(<usize>m);
  if (e) return e;
  if (!valid_how(how)) return EINVAL;
  let d = dup_chain(<usize>m, how);
  if (d <= 0) return d;
  chain_free(<usize>m);
  return d;
}

/**
 * m_defrag: copies the chain of head `m` into as few buffers as possible and
 * frees the original. Returns the new head (use it instead of `m`), 0 if buffers
 * ran out (the original kept intact), EINVAL, or a handle error.
 * Started again once if a drain routine ran during its allocations.
 */
export function m_defrag(m: i32, how: i32): i32 {
  let r = m_defrag_once(m, how);
  return r != RETRY ? r : retried(m_defrag_once(m, how));
}

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
  let d0 = drain_mark();
  let x = alloc_list(1, false, hdr, how, <i32>load<u16>(h, M_TYPE), load<u32>(h, M_OWNER));
  if (!x) {
    gcount(G_MPFAIL);
    return 0;
  }
  let lost = interrupted(d0);
  if (lost) {
    chain_free(x);
    return lost;
  }
  if (hdr) {
    copy_pkthdr(x, h);
    store<i32>(x, load<i32>(h, PH_LEN), PH_LEN);
    demote(h);
  }
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
  let d0 = drain_mark();
  let x = alloc_list(1, false, hdr, how, <i32>load<u16>(h, M_TYPE), load<u32>(h, M_OWNER));
  if (!x) return 0;
  let lost = interrupted(d0);
  if (lost) {
    chain_free(x);
    return lost;
  }
  if (hdr) {
    copy_pkthdr(x, h);
    store<i32>(x, load<i32>(h, PH_LEN) + len, PH_LEN);
    demote(h);
  }
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
  let d0 = drain_mark();
  if (!x) {
    // At the end: the tail is one empty mbuf.
    t = alloc_list(1, false, hdr, how, type, owner);
    if (!t) return 0;
    let lost = interrupted(d0); if (lost) { chain_free(t); return lost; }
  } else {
    let r = at - cum;
    if (r == 0 && p) {
      // On a boundary: cut, and give the tail a header mbuf if the packet has one.
      if (hdr) {
        t = alloc_list(1, false, true, how, type, owner);
        if (!t) return 0;
        let lost = interrupted(d0); if (lost) { chain_free(t); return lost; }
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
      let lost = interrupted(d0); if (lost) { chain_free(t); return lost; }
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
  return ERANGE;
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
