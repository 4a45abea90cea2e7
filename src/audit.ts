// Messages for the core audit's problem codes (assembly/audit.ts).

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
  5: "a page table entry names no zone or a bad item count",
  6: "a zone's page count differs from the page table",
  7: "a zone's total differs from the items carved",
  8: "a zone's peak is below its total",
  9: "the arena's free page list is wrong",
  10: "items marked free differ from the zone's free count",
  11: "the type census differs from a recount",
  12: "m_next or m_nextpkt is not an mbuf in use",
  13: "M_LINKED marks differ from the links",
  14: "external storage is not a cluster in use",
  15: "m_data/m_len fall outside the mbuf's storage",
  16: "a cluster's reference count differs from its references",
  17: "a bulk mark was left on an mbuf",
  18: "the core was never initialised",
  19: "a free item was written after free (debug poison damaged; expected the pattern, found the word)",
  20: "an item written after free was handed out (debug poison check; found = times seen)",
};

/** Describes an audit result in one line. */
export function auditMessage(code: number, addr: number, expected: number, found: number): string {
  if (code === 0) return "clean";
  return `${MESSAGES[code] ?? `problem ${code}`} (at ${addr}: expected ${expected}, found ${found})`;
}
