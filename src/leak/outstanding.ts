// The leak detector: seed 004's advice, automated.
//
// 1. Exact: every outstanding mbuf, grouped by owner tag and ordered by age
//    (the allocation sequence number M_SEQ stamped in the header), oldest
//    first. The host walks the arena's page table and the mbuf headers
//    through typed-array views: no call into the core per item.
// 2. Trend: usage sampled on the pool's Clock; two verdicts, each with the
//    numbers that led to it: "usage keeps rising and never comes back down"
//    (the floor of usage rises in every part of the window) and "high usage
//    while idle" (no allocations or frees for a while, yet much in use).
// 3. Who holds it: a leak is memory nobody holds; an application that does
//    not read its socket leaves mbufs held by socket buffers. A classifier
//    names the holder of each free-standing chain (socket buffers plug in
//    here); the verdict's diagnosis says which of the two it is.

import type { PoolCore } from "../pool/context.js";
import { GL, H, PAGE_META } from "../core/layout.js";
import { MSIZE, PAGE_SIZE, ZONE_MBUF, MT_NAMES, M_EXT } from "../constants.js";
import { MbufError, checkInt } from "../errors.js";
import { optionKeys } from "../validate.js";

// Header offsets (assembly/constants.ts) and page-table fields (assembly/arena.ts).
const { next: M_NEXT, nextpkt: M_NEXTPKT, type: M_TYPE, flags: M_FLAGS, owner: M_OWNER, seq: M_SEQ } = H;
const { zoneMask: META_ZONE_MASK, carvedShift: META_CARVED_SHIFT, carvedMask: META_CARVED_MASK } = PAGE_META;

/** One mbuf in use. */
export interface OutstandingMbuf {
  handle: number;
  /** Owner tag stamped at allocation (setOwner). */
  owner: number;
  /** Allocation sequence number. */
  seq: number;
  /** Allocations made since this one (larger is older). */
  age: number;
  type: number;
  typeName: string;
  flags: number;
  /** True if a cluster is attached (M_EXT). */
  cluster: boolean;
  /** True if no other mbuf in use points at it (a chain's or a queue's first mbuf). */
  head: boolean;
  /** Who holds its chain, per the classifier (e.g. "sockbuf:so_rcv of owner 7"), or null. */
  holder: string | null;
}

/** The outstanding mbufs of one owner tag. */
export interface OwnerGroup {
  owner: number;
  count: number;
  /** Of those, how many carry a cluster. */
  clusters: number;
  oldestSeq: number;
  newestSeq: number;
  /** Age of the oldest. */
  maxAge: number;
  /** Count by type name. */
  byType: Record<string, number>;
  /** Count by holder ("none" for mbufs no classifier claimed). */
  byHolder: Record<string, number>;
  /** The mbufs, oldest first (at most `perGroup` of them). */
  mbufs: OutstandingMbuf[];
}

/** Everything in use, by owner. */
export interface OutstandingReport {
  /** Sequence number of the newest allocation. */
  seq: number;
  total: number;
  clusters: number;
  /** mbufs whose chain a classifier claimed / did not claim. */
  held: number;
  unheld: number;
  /** Count by holder over all owners. */
  byHolder: Record<string, number>;
  /** One group per owner, the group with the oldest mbuf first. */
  groups: OwnerGroup[];
}

/**
 * Names who holds the chain that starts at `head` (an in-use mbuf no other
 * in-use mbuf points at), or returns undefined/null if nobody known does.
 * Socket buffers plug in here: a classifier that knows each sockbuf's first mbuf.
 */
export type HolderClassifier = (head: number) => string | null | undefined;

/** A classifier from a set of heads held by one holder (a stand-in for socket buffers). */
export function heldBySet(holder: string, heads: ReadonlySet<number>): HolderClassifier {
  return (m) => (heads.has(m) ? holder : undefined);
}

/** The first classifier that names a holder wins. */
export function combineClassifiers(...cs: HolderClassifier[]): HolderClassifier {
  return (m) => {
    for (const c of cs) {
      const h = c(m);
      if (h) return h;
    }
    return undefined;
  };
}

/** Options of outstanding(). */
export interface OutstandingOptions {
  classify?: HolderClassifier;
  /** Most mbufs listed per group (the counts cover all); 20 by default. */
  perGroup?: number;
  /** Only mbufs at least this old (allocations since); 0 by default. */
  minAge?: number;
}

/**
 * Lists every mbuf in use, grouped by owner tag, oldest first: walks the
 * page table and the headers in the pool's memory, with no core call.
 * @throws MbufError EINVAL for bad options, ECLOSED on a closed pool.
 */
/** Every key OutstandingOptions has. */
export const OUTSTANDING_OPTION_KEYS = optionKeys<OutstandingOptions>({ classify: 1, perGroup: 1, minAge: 1 });

export function outstanding(pool: PoolCore, options: OutstandingOptions = {}): OutstandingReport {
  if (pool.isClosed) throw new MbufError("ECLOSED", "the pool is closed");
  const perGroup = options.perGroup ?? 20, minAge = options.minAge ?? 0;
  checkInt(perGroup, "perGroup", 0, 0x7fffffff);
  checkInt(minAge, "minAge", 0, 0xffffffff);
  if (options.classify !== undefined && typeof options.classify !== "function") {
    throw new MbufError("EINVAL", "classify must be a function");
  }
  const ex = pool.core;
  const buf = pool.buffer;
  const u32 = new Uint32Array(buf), u16 = new Uint16Array(buf);
  const g = (ex.MB_STATS.value + ex.MB_GLOBAL.value) >>> 2;
  const pageMeta = u32[g + GL.pageMeta / 4], base = u32[g + GL.arenaBase / 4], top = u32[g + GL.top / 4];
  const seqNow = u32[g + GL.seq / 4];

  // Pass 1: the mbufs in use, and every mbuf another in-use mbuf points at.
  const inUse: number[] = [];
  const pointed = new Set<number>();
  for (let p = 0; p < top; p++) {
    const e = u32[(pageMeta >>> 2) + p];
    if ((e & META_ZONE_MASK) !== ZONE_MBUF) continue;
    const carved = (e >>> META_CARVED_SHIFT) & META_CARVED_MASK;
    const page = base + p * PAGE_SIZE;
    for (let i = 0; i < carved; i++) {
      const m = page + i * MSIZE;
      if (u16[(m + M_TYPE) >>> 1] === 0) continue;
      inUse.push(m);
      const n = u32[(m + M_NEXT) >>> 2], q = u32[(m + M_NEXTPKT) >>> 2];
      if (n) pointed.add(n);
      if (q) pointed.add(q);
    }
  }

  // Pass 2: holders, from each head down its chain and queue.
  const holderOf = new Map<number, string>();
  if (options.classify) {
    for (const m of inUse) {
      if (pointed.has(m)) continue;
      const h = options.classify(m);
      if (!h) continue;
      const stack = [m];
      while (stack.length) {
        const x = stack.pop() as number;
        if (holderOf.has(x)) continue;
        holderOf.set(x, h);
        const n = u32[(x + M_NEXT) >>> 2], q = u32[(x + M_NEXTPKT) >>> 2];
        if (n) stack.push(n);
        if (q) stack.push(q);
      }
    }
  }

  const report: OutstandingReport = { seq: seqNow, total: 0, clusters: 0, held: 0, unheld: 0, byHolder: {}, groups: [] };
  const groups = new Map<number, { g: OwnerGroup; all: OutstandingMbuf[] }>();
  for (const m of inUse) {
    const seq = u32[(m + M_SEQ) >>> 2];
    const age = (seqNow - seq) >>> 0;
    if (age < minAge) continue;
    const type = u16[(m + M_TYPE) >>> 1], flags = u16[(m + M_FLAGS) >>> 1], owner = u32[(m + M_OWNER) >>> 2];
    const holder = holderOf.get(m) ?? null;
    const typeName = MT_NAMES[type] ?? `type${type}`;
    const o: OutstandingMbuf = {
      handle: m, owner, seq, age, type, typeName, flags, cluster: (flags & M_EXT) !== 0, head: !pointed.has(m), holder,
    };
    let entry = groups.get(owner);
    if (!entry) {
      entry = { g: { owner, count: 0, clusters: 0, oldestSeq: seq, newestSeq: seq, maxAge: 0, byType: {}, byHolder: {}, mbufs: [] }, all: [] };
      groups.set(owner, entry);
    }
    const gr = entry.g;
    gr.count++;
    if (o.cluster) gr.clusters++;
    if (age >= gr.maxAge) { gr.maxAge = age; gr.oldestSeq = seq; }
    if (age <= ((seqNow - gr.newestSeq) >>> 0)) gr.newestSeq = seq;
    gr.byType[typeName] = (gr.byType[typeName] ?? 0) + 1;
    const hk = holder ?? "none";
    gr.byHolder[hk] = (gr.byHolder[hk] ?? 0) + 1;
    report.byHolder[hk] = (report.byHolder[hk] ?? 0) + 1;
    entry.all.push(o);
    report.total++;
    if (o.cluster) report.clusters++;
    if (holder) report.held++;
    else report.unheld++;
  }
  for (const { g: gr, all } of groups.values()) {
    all.sort((a, b) => b.age - a.age);
    gr.mbufs = all.slice(0, perGroup);
    report.groups.push(gr);
  }
  report.groups.sort((a, b) => b.maxAge - a.maxAge || a.owner - b.owner);
  return report;
}

/** The outstanding report as text, oldest first. */
export function formatOutstanding(r: OutstandingReport): string {
  let out = `${r.total} mbufs outstanding (${r.clusters} with clusters), newest allocation #${r.seq}\n`;
  if (r.held) out += `${r.held} held by ${Object.keys(r.byHolder).filter((h) => h !== "none").join(", ")}; ${r.unheld} held by nobody known\n`;
  for (const g of r.groups) {
    const types = Object.entries(g.byType).map(([t, n]) => `${n} ${t}`).join(", ");
    const holders = Object.entries(g.byHolder).map(([h, n]) => `${n} ${h === "none" ? "unheld" : `by ${h}`}`).join(", ");
    out += `owner ${g.owner}: ${g.count} mbufs (${g.clusters} with clusters; ${types}; ${holders}); oldest #${g.oldestSeq} (age ${g.maxAge}), newest #${g.newestSeq}\n`;
    for (const m of g.mbufs) {
      out += `\t#${m.seq}\tage ${m.age}\t${m.typeName}${m.cluster ? "+cluster" : ""}\thandle ${m.handle}${m.head ? "" : " (linked)"}${m.holder ? `\theld by ${m.holder}` : ""}\n`;
    }
    if (g.count > g.mbufs.length) out += `\t... ${g.count - g.mbufs.length} more\n`;
  }
  return out;
}
