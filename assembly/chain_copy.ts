// Copies of a chain: m_copym and m_copypacket share clusters by reference
// count and copy small mbufs; m_dup and m_defrag copy every byte into as few
// buffers as possible (m_defrag then frees the original). The packet header
// is copied when the copy starts at offset 0, with pkthdr.len set to the
// copy's length. Every buffer is taken before anything is written (chain.ts);
// a failed m_copym counts m_mcfail, as FreeBSD 4 did.
//
// ╒════════════ m_copym(m, off, len): a shared cluster ════════════╕
// │ m:    [ hdr ]─►[ mbuf │ext_buf]─►…        refs(cluster) = 2     │
// │                         ▼                                        │
// │                     [ cluster ]  ◄── the copy's m_data points in │
// │ copy: [ hdr ]─►[ mbuf │ext_buf]           (read-only for both)   │
// └──────────────────────────────────────────────────────────────────┘

import {
  MLEN, MHLEN, M_TYPE, M_FLAGS, PH_LEN, EXT_BUF, EXT_SIZE, M_EXT, M_PKTHDR, M_COPYALL, EINVAL, ERANGE,
} from "./constants";
import { gcount, gload, G_MCFAIL, G_OWNER } from "./stats";
import { RETRY, drain_mark, interrupted_give_back, retried } from "./drain";
import { ref_ptr } from "./arena";
import { check_mbuf, check_head, valid_how, chain_free } from "./mbuf";
import { mnext, mlen, mdata, mflags, mseq, set_len, set_data, ext_ptr, copy_pkthdr } from "./header";
import { chain_length, in_range, alloc_list, alloc_room, set_lens } from "./chain";

/** Makes the empty mbuf `x` share the cluster of `s`, from data address `data`, `len` bytes. */
export function share_ext(x: usize, s: usize, data: usize, len: u32): void {
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
  let d0 = drain_mark(), s0 = mseq(s);
  let top = alloc_list(want, false, hdr, how, <i32>load<u16>(s, M_TYPE), gload(G_OWNER));
  if (!top) {
    gcount(G_MCFAIL);
    return 0;
  }
  let lost = interrupted_give_back(d0, s, s0, top);
  if (lost) return lost;
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
  let d: usize;
  if (total <= (hdr ? MHLEN : MLEN)) d = alloc_list(1, false, hdr, how, type, owner);
  else if (total <= MLEN) d = alloc_list(1, true, hdr, how, type, owner); // over MHLEN: a header mbuf takes a cluster
  else d = alloc_room(total, hdr, how, type, owner);
  if (d) set_lens(d, total);
  return d;
}

/**
 * Deep copy of the chain `s` (packet header included), packed into as few
 * buffers as possible: its head, or 0; RETRY (nothing kept) if a drain routine
 * ran during the allocations: it may have freed `s`, which must then not be read.
 */
function dup_chain(s: usize, how: i32): i32 {
  let total = chain_length(s);
  let hdr = (mflags(s) & M_PKTHDR) != 0;
  let d0 = drain_mark(), s0 = mseq(s);
  let d = build_packed(total, hdr, how, <i32>load<u16>(s, M_TYPE), gload(G_OWNER));
  if (!d) return 0;
  let lost = interrupted_give_back(d0, s, s0, d);
  if (lost) return lost;
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
