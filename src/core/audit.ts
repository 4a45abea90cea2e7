// The core audit's result as the host reads it: the problem code mb_audit
// returned, the figures it left in the counters block, and a message for each
// code (assembly/audit.ts).

import { GL } from "./layout.js";

/** The result of Pool.audit(). */
export interface AuditResult {
  ok: boolean;
  /** 0, or the code of the first problem. */
  code: number;
  /** Address or zone the problem concerns. */
  addr: number;
  expected: number;
  found: number;
  message: string;
}

const MESSAGES: Record<number, string> = {
  1: "a freelist item is not an item of its zone",
  2: "a freelist is longer than its count (a cycle or a duplicate)",
  3: "a freelist is shorter than its count",
  4: "a freelist item is marked in use",
  5: "a page table entry names no zone or a bad item count, or a slab's pages are wrong",
  6: "a zone's page count differs from the page table",
  7: "a zone's total differs from the items carved",
  8: "a zone's peak is below its total",
  9: "the arena's free page list is wrong",
  10: "items marked free differ from the zone's free count",
  11: "the type census differs from a recount",
  12: "m_next or m_nextpkt is not an mbuf in use",
  13: "M_LINKED marks differ from the links",
  14: "external storage is not a cluster (or jumbo cluster) in use of its size",
  15: "m_data/m_len fall outside the mbuf's storage",
  16: "a cluster's reference count differs from its references",
  17: "a bulk mark was left on an mbuf",
  18: "the core was never initialised",
  // Packet zone (assembly/packet.ts)
  40: "a packet cache entry is not a parked pair (an mbuf typed MT_FREE with M_EXT)",
  41: "the packet cache is longer than its count (a cycle or a duplicate)",
  42: "the packet cache is shorter than its count, or parked pairs differ from it",
  43: "a parked pair's cluster is not a cluster of reference count 1",
  44: "mbufs in use from the packet zone differ from its count",
  45: "a parked pair sits on the mbuf zone's freelist",
  19: "thewall is below the pages carved or above the arena's capacity",
  20: "a zone holds more items than its limit",
  21: "pkthdr.len of a packet-header chain differs from the chain's length",
  22: "a socket buffer's sb_cc or sb_mbcnt differs from a recount of its records",
  23: "a socket is malformed (magic word, PCB, held first mbuf, record tails or a cycle)",
  24: "a free item was written after free (debug poison damaged; expected the pattern, found the word)",
  25: "an item written after free was handed out (debug poison check; found = times seen)",
};

/** Describes an audit result in one line. */
export function auditMessage(code: number, addr: number, expected: number, found: number): string {
  if (code === 0) return "clean";
  return `${MESSAGES[code] ?? `problem ${code}`} (at ${addr}: expected ${expected}, found ${found})`;
}

/** The result of an mb_audit call that returned `code`, read from the global counters at `globalAddr`. */
export function readAudit(buffer: ArrayBuffer, globalAddr: number, code: number): AuditResult {
  const u32 = new Uint32Array(buffer, globalAddr, GL.BYTES / 4);
  const addr = u32[GL.auditAddr / 4], expected = u32[GL.auditA / 4], found = u32[GL.auditB / 4];
  return { ok: code === 0, code, addr, expected, found, message: auditMessage(code, addr, expected, found) };
}
