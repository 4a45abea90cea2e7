// Receive without a copy: the host lets a reader (a socket's read into a
// Uint8Array view of linear memory) write bytes straight into the trailing
// space of a chain's last mbuf, then commits them here. m_tailptr tells the
// host where that space is and how long it is; m_commit adds `len` bytes to
// the last mbuf's m_len and to the head's pkthdr.len, so the chain is exactly
// as if m_append had copied them in (the audit's pkthdr.len == chain length
// holds). Nothing is allocated and no counter changes: the mbuf and its
// cluster were counted when they were taken.
//
// ╒═══════════ last mbuf of the chain (a cluster or the internal area) ═══════════╕
// │ ... m_data ──► [ m_len bytes of data ][ trailing space: the reader's view ]    │
// │                                       ▲ m_tailptr      ◄── m_aux() bytes ──►  │
// │ after m_commit(m, n): [ m_len + n bytes of data ][ the rest ]                 │
// └──────────────────────────────────────────────────────────────────────────────┘
// Only a head may be committed to (EBUSY inside a chain or socket buffer: a
// socket buffer's sb_cc would no longer match), and only into writable space
// (a shared cluster has none: M_TRAILINGSPACE is 0 there).

import { M_LEN, M_FLAGS, M_PKTHDR, PH_LEN, ERANGE } from "./constants";
import { check_head } from "./mbuf";
import { trailing_space, mdata, mlen } from "./header";
import { chain_last } from "./chain";
import { m_aux_set } from "./chain_data";

/**
 * The address of the trailing space of the last mbuf of the chain of head `m`;
 * m_aux() then holds its length (0 if the cluster is shared).
 * Returns the address, or EBADHANDLE / EDOUBLEFREE / EBUSY.
 */
export function m_tailptr(m: i32): i32 {
  let e = check_head(<usize>m);
  if (e) return e;
  let last = chain_last(<usize>m);
  m_aux_set(<i32>trailing_space(last));
  return <i32>(mdata(last) + mlen(last));
}

/**
 * m_commit: `len` bytes written into the trailing space of the last mbuf of the
 * chain of head `m` become data (m_len and pkthdr.len grow by `len`).
 * Returns the chain's new length in the last mbuf (its m_len), ERANGE if `len` is
 * negative or more than the trailing space, EBADHANDLE / EDOUBLEFREE / EBUSY.
 */
export function m_commit(m: i32, len: i32): i32 {
  let e = check_head(<usize>m);
  if (e) return e;
  let last = chain_last(<usize>m);
  if (len < 0 || <u32>len > trailing_space(last)) return ERANGE;
  let l = load<i32>(last, M_LEN) + len;
  store<i32>(last, l, M_LEN);
  if (load<u16>(<usize>m, M_FLAGS) & M_PKTHDR) store<i32>(<usize>m, load<i32>(<usize>m, PH_LEN) + len, PH_LEN);
  return l;
}
