// Byte offsets inside the core's counters block (assembly/stats.ts). The
// sizes are checked against the core's exported MB_ZONE_BYTES and
// MB_GLOBAL_BYTES when a Pool starts, so a drift fails loudly.

/** Zone record fields (u32 unless marked f64). */
export const Z = {
  freeHead: 0, itemSize: 4, itemShift: 8, perPage: 12, limit: 16, total: 20, free: 24, peak: 28,
  pages: 32, grows: 36, id: 40, slabPages: 44,
  allocs: 48, frees: 56, denied: 64, delayed: 72, pagesIn: 80, pagesOut: 88, // f64
  BYTES: 96,
  /** Zone records in the block: slot 0 unused, 1 mbuf, 2 cluster, 3 packet, 4 to 6 the jumbo zones, 7 unused (alignment). */
  SLOTS: 8,
} as const;

/** Global fields, from the start of the global part (u32 unless marked f64). */
export const GL = {
  census: 0,
  drains: 64, resvDenied: 72, mcfail: 80, mpfail: 88, // f64
  owner: 100, resvFlag: 104, resvCount: 108, // 96: spare
  arenaBase: 112, maxPages: 116, top: 120, freePages: 124, freePageHead: 128,
  pageMeta: 132, refTable: 136, scratch: 140,
  auditCode: 144, auditAddr: 148, auditA: 152, auditB: 156, ready: 160, pinned: 164,
  // Packet zone (assembly/packet.ts); its pair counts are zone slot 3.
  pktMode: 168, pktLastRefill: 172, pktLastDrain: 176,
  pktMisses: 184, pktRefills: 192, pktRefilled: 200, pktDrains: 208, pktDrained: 216, // f64
  pktReclaims: 224, pktReclaimed: 232, // f64
  // Debug-build write-after-free checks (assembly/poison.ts).
  poisonHits: 240, // f64
  poisonAddr: 248,
  // What the threads' stacks of a shared pool hold (assembly/cache.ts): cache, not use.
  cachedMbufs: 252, cachedClusters: 256,
  // The allocation sequence, alone on a cache line: every thread's fast paths add to it.
  seq: 320,
  BYTES: 384,
} as const;

/** The mbuf header (assembly/constants.ts, struct mbuf's m_hdr): byte offsets in an mbuf. */
export const H = {
  next: 0, nextpkt: 4, data: 8, len: 12, type: 16 /* u16 */, flags: 18 /* u16 */, owner: 20, seq: 24,
} as const;

/** The core's internal flag M_LINKED (assembly/constants.ts; checked at boot): held by a socket, its PCB or a socket buffer. */
export const M_LINKED = 0x4000;

/** Where an mbuf's external-storage descriptor (ext_buf, then ext_size) starts: after m_hdr, or after the packet header. */
export const EXT_AT = { plain: 32, pkthdr: 40 } as const;

/** A page table entry (assembly/arena.ts): zone id | items carved << 8 | scratch << 16. */
export const PAGE_META = { zoneMask: 0xff, carvedShift: 8, carvedMask: 0xff } as const;

/**
 * A shared pool's thread area (assembly/cache.ts), laid out by the host just below the lock
 * words: a header line (writer, slotsHigh), then one slot per thread (active, claimed, what its
 * stacks hold, ..., and four words of the host's), then one lane per thread (assembly/lane.ts:
 * its bulk handles, then its append bytes), then the depot of full buckets the threads'
 * refills and flushes exchange (the core's alone).
 */
const THREAD_HEADER = 64, THREAD_SLOT_BYTES = 512, THREAD_SLOTS = 32;
const LANE_HANDLES = 32, LANE_DATA_BYTES = 2048, LANE_BYTES = LANE_HANDLES * 4 + LANE_DATA_BYTES;
const LANES = THREAD_HEADER + THREAD_SLOTS * THREAD_SLOT_BYTES;
/** The depot: a line of counts, then 16 buckets of 32 mbufs and 16 of 16 clusters. */
const DEPOT_BYTES = 64 + 16 * 32 * 4 + 16 * 16 * 4;
export const THREADS = {
  writer: 0, slotsHigh: 4, HEADER: THREAD_HEADER,
  // The host's word of the header: the hand-set reservation flag (Pool.setReserved), every thread's.
  manualReserved: 8,
  active: 0, claimed: 4, mcached: 8, ccached: 12,
  // The host's words of a slot (pool/threads.ts): Node's threadId, the lock id, its waiters.
  threadId: 40, lockId: 44, waiters: 48, recvWaiters: 52,
  SLOT_BYTES: THREAD_SLOT_BYTES, SLOTS: THREAD_SLOTS,
  /** Lanes: where lane 0 starts, bytes a lane, the handles and the data bytes it carries (== MB_LANE_*). */
  LANES, LANE_BYTES, LANE_HANDLES, LANE_DATA: LANE_HANDLES * 4, LANE_DATA_BYTES,
  /** The depot: where it starts, its counts of full buckets (words), the items a bucket holds. */
  DEPOT: LANES + THREAD_SLOTS * LANE_BYTES, DEPOT_BYTES, depotMbufBuckets: 0, depotClusterBuckets: 4,
  MBUF_BUCKET: 32, CLUSTER_BUCKET: 16,
  BYTES: LANES + THREAD_SLOTS * LANE_BYTES + DEPOT_BYTES, // == MB_THREAD_AREA_BYTES, checked at boot
} as const;
