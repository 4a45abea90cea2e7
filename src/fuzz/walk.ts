// Reads a chain's layout out of the pool's memory, for the fuzzer's model of
// shared clusters: each mbuf's type, data length and cluster address. The
// model predicts bytes; which clusters two chains share after m_copym or
// m_split is layout, measured here and then held to the reference counts
// mbuf(9) gives (a cluster is freed with its last reference).

import { M_EXT, M_PKTHDR } from "../constants.js";
import type { Pool } from "../pool.js";

/** One mbuf of a chain as the walk sees it. */
export interface WalkedMbuf {
  /** m_type. */
  readonly type: number;
  /** m_len. */
  readonly len: number;
  /** The cluster's address (ext_buf), or 0 without one. */
  readonly ext: number;
  /** True if the mbuf carries a packet header. */
  readonly pkthdr: boolean;
}

// Offsets of the mbuf header (assembly/constants.ts).
const M_NEXT = 0, M_LEN = 12, M_TYPE = 16, M_FLAGS = 18, M_HDR_SIZE = 32, M_PKTHDR_SIZE = 40;

/** The mbufs of the chain at `head`, in order (bounded by the mbufs in use). */
export function walkChain(pool: Pool, head: number): WalkedMbuf[] {
  const buf = pool.buffer;
  const u32 = new Uint32Array(buf), i32 = new Int32Array(buf), u16 = new Uint16Array(buf);
  const out: WalkedMbuf[] = [];
  for (let m = head, bound = pool.stats().mbufs.current; m && bound > 0; bound--) {
    const flags = u16[(m + M_FLAGS) >>> 1];
    const ext = flags & M_EXT ? u32[(m + (flags & M_PKTHDR ? M_PKTHDR_SIZE : M_HDR_SIZE)) >>> 2] : 0;
    out.push({ type: u16[(m + M_TYPE) >>> 1], len: i32[(m + M_LEN) >>> 2], ext, pkthdr: (flags & M_PKTHDR) !== 0 });
    m = u32[(m + M_NEXT) >>> 2];
  }
  return out;
}
