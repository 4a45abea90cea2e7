// The mbuf header, one field at a time: the accessors every component reads
// and writes it through (the layout is drawn in constants.ts), the link
// setters that keep M_LINKED equal to the pointers, the packet-header
// helpers, and the storage rules M_LEADINGSPACE, M_TRAILINGSPACE and
// M_WRITABLE that every data operation obeys.
//
// Nothing here validates: callers pass mbufs they have checked (mbuf.ts's
// check_mbuf / check_head) or that they took themselves.
//
// ╒═════════════ where the storage of an mbuf lies ═════════════╕
// │ no M_EXT:  [ m_hdr | pkthdr? | m_dat: m_data … m_data+m_len ] │ ends at m + MSIZE
// │ M_EXT:     [ m_hdr | pkthdr? | ext_buf ext_size ]             │
// │            cluster: [ ext_buf … m_data … ext_buf + ext_size ] │
// └──────────────────────────────────────────────────────────────┘
// A cluster with more than one reference is read-only: no leading or
// trailing space, and writes go to a private copy first (copy on write).

import {
  MSIZE, M_NEXT, M_NEXTPKT, M_DATA, M_LEN, M_TYPE, M_FLAGS, M_SEQ, M_HDR_SIZE, M_PKTHDR_SIZE,
  PH_LEN, PH_RCVIF, EXT_BUF, EXT_SIZE, M_EXT, M_PKTHDR, M_RDONLY, M_BCAST, M_MCAST, M_LINKED,
} from "./constants";
import { ref_ptr } from "./arena";

// === Fields ===

/** m_next of `m`. */
// @ts-ignore: decorator
@inline export function mnext(m: usize): usize { return <usize>load<u32>(m, M_NEXT); }
/** m_nextpkt of `m`. */
// @ts-ignore: decorator
@inline export function mnextpkt(m: usize): usize { return <usize>load<u32>(m, M_NEXTPKT); }
/** m_len of `m`. */
// @ts-ignore: decorator
@inline export function mlen(m: usize): u32 { return <u32>load<i32>(m, M_LEN); }
/** m_data of `m`. */
// @ts-ignore: decorator
@inline export function mdata(m: usize): usize { return <usize>load<u32>(m, M_DATA); }
/** m_flags of `m`. */
// @ts-ignore: decorator
@inline export function mflags(m: usize): u16 { return load<u16>(m, M_FLAGS); }
/** m_type of `m`. */
// @ts-ignore: decorator
@inline export function mtype(m: usize): u16 { return load<u16>(m, M_TYPE); }
/** Allocation sequence number of `m`: tells the mbuf apart from a later one at the same address. */
// @ts-ignore: decorator
@inline export function mseq(m: usize): u32 { return load<u32>(m, M_SEQ); }
/** Sets m_len of `m`. */
// @ts-ignore: decorator
@inline export function set_len(m: usize, len: u32): void { store<i32>(m, <i32>len, M_LEN); }
/** Sets m_data of `m`. */
// @ts-ignore: decorator
@inline export function set_data(m: usize, d: usize): void { store<u32>(m, <u32>d, M_DATA); }
/** Sets m_flags of `m`. */
// @ts-ignore: decorator
@inline export function set_flags(m: usize, flags: u16): void { store<u16>(m, flags, M_FLAGS); }

// === External storage ===

/** Address of the external-storage descriptor of `m` (after pkthdr if any). */
// @ts-ignore: decorator
@inline export function ext_ptr(m: usize, flags: u16): usize {
  return m + ((flags & M_PKTHDR) ? M_PKTHDR_SIZE : M_HDR_SIZE);
}

/** Cluster address of `m` (M_EXT set). */
// @ts-ignore: decorator
@inline export function ext_buf(m: usize, flags: u16): usize {
  return <usize>load<u32>(ext_ptr(m, flags), EXT_BUF);
}

// === Links: M_LINKED marks exactly the mbufs a pointer names ===

/** Sets m_next of `m` to `n` (0 to cut), keeping M_LINKED right on both ends. */
// @ts-ignore: decorator
@inline export function set_next(m: usize, n: usize): void {
  let old = mnext(m);
  if (old) set_flags(old, mflags(old) & ~M_LINKED);
  if (n) set_flags(n, mflags(n) | M_LINKED);
  store<u32>(m, <u32>n, M_NEXT);
}

/** Sets m_nextpkt of `m` to `n` (0 to cut), keeping M_LINKED right on both ends. */
export function set_nextpkt(m: usize, n: usize): void {
  let old = mnextpkt(m);
  if (old) set_flags(old, mflags(old) & ~M_LINKED);
  if (n) set_flags(n, mflags(n) | M_LINKED);
  store<u32>(m, <u32>n, M_NEXTPKT);
}

// === Packet header ===

/** Adds `delta` to pkthdr.len if `m` carries a packet header. */
// @ts-ignore: decorator
@inline export function pkt_add(m: usize, delta: i32): void {
  if (mflags(m) & M_PKTHDR) store<i32>(m, load<i32>(m, PH_LEN) + delta, PH_LEN);
}

/** Copies the packet header fields (not the length) and link-level flags of `from` to `to`. */
// @ts-ignore: decorator
@inline export function copy_pkthdr(to: usize, from: usize): void {
  store<u32>(to, load<u32>(from, PH_RCVIF), PH_RCVIF);
  set_flags(to, mflags(to) | (mflags(from) & (M_BCAST | M_MCAST)));
}

/**
 * M_MOVE_PKTHDR to `to`, a new head put in front of `from`: the header's
 * fields, pkthdr.len plus the `grown` bytes `to` brings; `from` no longer
 * leads the packet.
 */
// @ts-ignore: decorator
@inline export function move_pkthdr(to: usize, from: usize, grown: i32): void {
  copy_pkthdr(to, from);
  store<i32>(to, load<i32>(from, PH_LEN) + grown, PH_LEN);
  demote(from);
}

/** m_demote: takes the packet header off `m` (it no longer leads a packet). */
export function demote(m: usize): void {
  let flags = mflags(m);
  if (!(flags & M_PKTHDR)) return;
  if (flags & M_EXT) {
    // The descriptor moves down to where it sits without a packet header.
    store<u32>(m, load<u32>(m, M_PKTHDR_SIZE + EXT_BUF), M_HDR_SIZE + EXT_BUF);
    store<u32>(m, load<u32>(m, M_PKTHDR_SIZE + EXT_SIZE), M_HDR_SIZE + EXT_SIZE);
  }
  set_flags(m, flags & ~(M_PKTHDR | M_BCAST | M_MCAST));
}

// === Storage rules ===

/** M_WRITABLE: not read-only and, with a cluster, its only reference. */
export function is_writable(m: usize): bool {
  let flags = mflags(m);
  if (flags & M_RDONLY) return false;
  if (!(flags & M_EXT)) return true;
  return load<u32>(ref_ptr(ext_buf(m, flags))) == 1;
}

/** M_LEADINGSPACE: free bytes before the data (0 for a shared cluster). */
export function leading_space(m: usize): u32 {
  let flags = mflags(m);
  if (flags & M_EXT) return is_writable(m) ? <u32>(mdata(m) - ext_buf(m, flags)) : 0;
  return <u32>(mdata(m) - (m + ((flags & M_PKTHDR) ? M_PKTHDR_SIZE : M_HDR_SIZE)));
}

/** M_TRAILINGSPACE: free bytes after the data (0 for a shared cluster). */
export function trailing_space(m: usize): u32 {
  let flags = mflags(m);
  let end = mdata(m) + mlen(m);
  if (flags & M_EXT) {
    if (!is_writable(m)) return 0;
    let ext = ext_ptr(m, flags);
    return <u32>(<usize>load<u32>(ext, EXT_BUF) + load<u32>(ext, EXT_SIZE) - end);
  }
  return <u32>(m + MSIZE - end);
}
