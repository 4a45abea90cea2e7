// Chain layouts: the shapes the same bytes can take in a pool, as plain values
// fast-check generates and shrinks, and the builder that makes one on a pool.
//
// A parser over mbufs goes wrong on layout, not on bytes: a header split over
// two mbufs, data read past m_len, a write into a cluster another chain
// shares. A ChainLayout says, mbuf by mbuf, how many bytes each holds, whether
// in a cluster or in the mbuf itself, how much free space sits before the data
// (the rest of the buffer is free space after it), and whether the cluster is
// shared; then whether the head has a packet header and whether the chain went
// through a socket buffer as a record (sbappendrecord, then sbtake: the socket
// buffer compacts small mbufs, as soreceive's reader sees them). Generation
// never touches a pool: buildChain does, from the description alone.
//
// The builder uses the pool's own calls only, so every layout is one the pool
// can produce. m_cat copies a small mbuf into the previous mbuf's trailing space
// when it fits, which would merge two mbufs the layout keeps apart; the builder
// appends such an mbuf with extra bytes that do not fit, links it, and trims
// them off the tail with m_adj. A layout where even that cannot work (more room
// after one mbuf's data than the next one's whole buffer) is normalized into a
// neighbour by moving the first one's data towards the end of its buffer.
//
// Shrinking goes towards the simplest layout: as few mbufs as the bytes need
// (one mbuf, else one cluster, else full clusters), no free space before the
// data, a packet header, no sharing, no socket buffer, zero in the free space.

import fc from "fast-check";
import { MLEN, MHLEN, MSIZE, M_EXT, M_PKTHDR, MT, M_NOWAIT } from "../constants.js";
import { H } from "../core/layout.js";
import type { Pool } from "../pool.js";

/** One mbuf of a layout. */
export interface MbufLayout {
  /** Bytes of the input it holds (m_len). */
  readonly length: number;
  /** The bytes live in a cluster, else in the mbuf's own storage. */
  readonly cluster: boolean;
  /** Free bytes before the data (M_LEADINGSPACE); the rest of the buffer past the data is trailing space. */
  readonly leading: number;
  /** The cluster is referenced by another chain as well, so it is read-only here (writable() is false). */
  readonly shared: boolean;
}

/** How a chain of given bytes is laid out in a pool. */
export interface ChainLayout {
  /** The mbufs in chain order; their lengths add up to the bytes' length. */
  readonly mbufs: readonly MbufLayout[];
  /** The head carries a packet header (M_PKTHDR, pkthdr.len). */
  readonly pkthdr: boolean;
  /** The chain was a record of a socket buffer, taken out with sbtake (after sbcompress had its way). */
  readonly socket: boolean;
  /** The byte every free byte of every buffer holds, so that a read past m_len sees it. */
  readonly spareByte: number;
  /** MCLBYTES of the pools the layout is for. */
  readonly clusterBytes: number;
}

/** What may vary in generated layouts. */
export interface LayoutOptions {
  /** MCLBYTES of the pool the chains are built on (pool.mclbytes; 2048 by default). */
  clusterBytes?: number;
  /** Most mbufs a layout cuts the bytes into, besides what the bytes' length needs (8). */
  maxMbufs?: number;
  /** Generate clusters shared with another chain (true). */
  shared?: boolean;
  /** Generate chains taken out of a socket buffer (true). */
  socket?: boolean;
}

/** Given bytes with a layout to build them in: what a layout arbitrary generates. */
export interface LaidOutChain {
  readonly bytes: Uint8Array;
  readonly layout: ChainLayout;
  /** Builds the chain on `pool` (see buildChain). */
  build(pool: Pool): BuiltChain;
}

/** One mbuf of a built chain, as measured in the pool's memory. */
export interface ChainMbuf {
  readonly handle: number;
  readonly length: number;
  readonly cluster: boolean;
  readonly shared: boolean;
  readonly pkthdr: boolean;
  /** Address of the first data byte (m_data). */
  readonly data: number;
  /** The buffer the data lives in: [bufferStart, bufferEnd) of linear memory. */
  readonly bufferStart: number;
  readonly bufferEnd: number;
}

/** A chain built from a layout: its head, its mbufs, and what frees it. */
export interface BuiltChain {
  readonly head: number;
  readonly layout: ChainLayout;
  /** The chain's mbufs as built (after a socket buffer's compaction, if the layout went through one). */
  readonly mbufs: readonly ChainMbuf[];
  /** Frees the chain and the chains that share its clusters. */
  free(): void;
  /** Frees only the chains that share its clusters (the chain itself was given away and freed by its new owner). */
  freeSharers(): void;
}

const DEFAULT_CLUSTER_BYTES = 2048;
const DEFAULT_MAX_MBUFS = 8;

/** What fast-check draws: shrinks by dropping cuts and storage choices, which leaves the simplest layout. */
interface LayoutDraw {
  cuts: number[];
  storage: { cluster: boolean; leadingPercent: number; shared: boolean }[];
  pkthdr: boolean;
  socket: boolean;
  spareByte: number;
}

/** Data bytes of a buffer: a cluster, or an mbuf's own storage (less with a packet header). */
const capacityOf = (cluster: boolean, hasPkthdr: boolean, clusterBytes: number): number =>
  (cluster ? clusterBytes : hasPkthdr ? MHLEN : MLEN);

/** Trailing space of mbuf `i` of a layout. */
function trailingOf(layout: { mbufs: readonly MbufLayout[]; pkthdr: boolean; clusterBytes: number }, i: number): number {
  const mb = layout.mbufs[i];
  return capacityOf(mb.cluster, i === 0 && layout.pkthdr, layout.clusterBytes) - mb.leading - mb.length;
}

/** The layout a draw stands for, made buildable (see the file comment). */
function layoutOf(length: number, draw: LayoutDraw, clusterBytes: number, allowShared: boolean, allowSocket: boolean): ChainLayout {
  // Cuts give the pieces (equal cuts give empty mbufs); a piece no buffer holds is cut in clusters.
  const bounds = [0, ...[...draw.cuts].sort((a, b) => a - b), length];
  const lengths: number[] = [];
  for (let i = 1; i < bounds.length; i++) {
    let n = bounds[i] - bounds[i - 1];
    while (n > clusterBytes) {
      lengths.push(clusterBytes);
      n -= clusterBytes;
    }
    lengths.push(n);
  }
  const mbufs: MbufLayout[] = lengths.map((n, i) => {
    const choice = draw.storage[i] ?? { cluster: false, leadingPercent: 0, shared: false };
    const cluster = choice.cluster || n > capacityOf(false, i === 0 && draw.pkthdr, clusterBytes);
    const capacity = capacityOf(cluster, i === 0 && draw.pkthdr, clusterBytes);
    // One byte of room always stays, so that the builder can link the mbuf without m_cat merging it.
    const spare = capacity - Math.max(n, 1);
    return { length: n, cluster, leading: Math.floor((spare * choice.leadingPercent) / 100), shared: allowShared && cluster && choice.shared };
  });
  const layout = { mbufs, pkthdr: draw.pkthdr, clusterBytes };
  linkable(layout);
  return withDescription({
    mbufs: layout.mbufs,
    pkthdr: draw.pkthdr,
    // A socket buffer frees a chain of no bytes rather than queue it: nothing would come out.
    socket: allowSocket && draw.socket && length > 0,
    spareByte: draw.spareByte,
    clusterBytes,
  });
}

/**
 * Makes every mbuf linkable after its predecessor: m_cat keeps mbuf i+1 apart
 * only if the bytes it holds while linked exceed mbuf i's trailing space, and
 * it can hold at most its room (its buffer past its leading space). Where the
 * room is too small, mbuf i's data moves towards its buffer's end. An empty
 * mbuf with no room at all cannot be linked (it can hold no extra byte) and
 * goes: it held no bytes.
 */
function linkable(layout: { mbufs: MbufLayout[]; pkthdr: boolean; clusterBytes: number }): void {
  const roomOf = (i: number): number => layout.mbufs[i].length + trailingOf(layout, i);
  for (let changed = true; changed;) {
    changed = false;
    for (let i = layout.mbufs.length - 2; i >= 0; i--) {
      const prev = layout.mbufs[i];
      if (prev.shared) continue; // a shared cluster has no trailing space m_cat could use
      if (roomOf(i + 1) === 0) continue; // an empty mbuf that cannot be linked: it goes below
      const excess = trailingOf(layout, i) - (roomOf(i + 1) - 1);
      if (excess > 0) layout.mbufs[i] = { ...prev, leading: prev.leading + excess };
    }
    for (let i = 1; i < layout.mbufs.length; i++) {
      if (layout.mbufs[i].length === 0 && roomOf(i) === 0) {
        layout.mbufs.splice(i, 1);
        changed = true;
        break;
      }
    }
  }
}

const drawArbitrary = (length: number, clusterBytes: number, maxMbufs: number): fc.Arbitrary<LayoutDraw> => fc.record({
  cuts: fc.array(fc.nat({ max: length }), { maxLength: Math.max(0, maxMbufs - 1) }),
  storage: fc.array(fc.record({ cluster: fc.boolean(), leadingPercent: fc.integer({ min: 0, max: 100 }), shared: fc.boolean() }), { maxLength: maxMbufs }),
  // constantFrom shrinks towards its first value: a packet header, as a received packet has.
  pkthdr: fc.constantFrom(true, false),
  socket: fc.boolean(),
  spareByte: fc.integer({ min: 0, max: 255 }),
});

const SIMPLEST_DRAW: LayoutDraw = { cuts: [], storage: [], pkthdr: true, socket: false, spareByte: 0 };

/** Checks the options shared by the arbitraries. */
function resolveOptions(options: LayoutOptions): Required<LayoutOptions> {
  const clusterBytes = options.clusterBytes ?? DEFAULT_CLUSTER_BYTES;
  if (clusterBytes !== 2048 && clusterBytes !== 4096) throw new RangeError(`clusterBytes is 2048 or 4096 (pool.mclbytes), got ${clusterBytes}`);
  const maxMbufs = options.maxMbufs ?? DEFAULT_MAX_MBUFS;
  if (!Number.isInteger(maxMbufs) || maxMbufs < 1) throw new RangeError(`maxMbufs is a positive integer, got ${maxMbufs}`);
  return { clusterBytes, maxMbufs, shared: options.shared ?? true, socket: options.socket ?? true };
}

/** Layouts of `length` bytes; they shrink towards simplestLayout(length). */
export function chainLayouts(length: number, options: LayoutOptions = {}): fc.Arbitrary<ChainLayout> {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`length is a non-negative integer, got ${length}`);
  const o = resolveOptions(options);
  return drawArbitrary(length, o.clusterBytes, o.maxMbufs).map((d) => layoutOf(length, d, o.clusterBytes, o.shared, o.socket));
}

/** The simplest layout of `length` bytes: one mbuf, else one cluster, else full clusters; no spare space before the data, nothing shared. */
export function simplestLayout(length: number, options: Pick<LayoutOptions, "clusterBytes"> = {}): ChainLayout {
  const o = resolveOptions(options);
  return layoutOf(length, SIMPLEST_DRAW, o.clusterBytes, false, false);
}

/** The arbitrary of the inputs a harness or arbitrary was given: fixed bytes, a list of them, or an arbitrary. */
export function bytesArbitrary(bytes: Uint8Array | readonly Uint8Array[] | fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  if (bytes instanceof Uint8Array) return fc.constant(bytes);
  if (Array.isArray(bytes)) {
    if (bytes.length === 0) throw new RangeError("bytes: the list of inputs is empty");
    return fc.constantFrom(...(bytes as readonly Uint8Array[]));
  }
  if (bytes instanceof fc.Arbitrary) return bytes;
  throw new TypeError("bytes is a Uint8Array, an array of them, or a fast-check arbitrary of them");
}

/** Bytes paired with a layout of them to build; the layout shrinks towards the simplest (and the bytes as their arbitrary shrinks). */
export function laidOutChains(bytes: Uint8Array | readonly Uint8Array[] | fc.Arbitrary<Uint8Array>, options: LayoutOptions = {}): fc.Arbitrary<LaidOutChain> {
  return bytesArbitrary(bytes).chain((b) => chainLayouts(b.length, options).map((layout) => laidOut(b, layout)));
}

/** Bytes and a layout of them, printable by fast-check as the layout and the bytes. */
export function laidOut(bytes: Uint8Array, layout: ChainLayout): LaidOutChain {
  const value = { bytes, layout, build: (pool: Pool) => buildChain(pool, bytes, layout) };
  Object.defineProperty(value, fc.toStringMethod, { value: () => `${describeLayout(layout)} of ${describeBytes(bytes)}` });
  return value;
}

/** Gives a layout fast-check's printable form (a non-enumerable method: the value stays plain for equality). */
function withDescription(layout: ChainLayout): ChainLayout {
  Object.defineProperty(layout, fc.toStringMethod, { value: () => describeLayout(layout) });
  return layout;
}

/** A layout as one line: `pkthdr, via socket buffer, spare 0x00: mbuf[0,1) lead 0 trail 215 | cluster[1,40) ...`. */
export function describeLayout(layout: ChainLayout): string {
  let at = 0;
  const parts = layout.mbufs.map((mb, i) => {
    const from = at;
    at += mb.length;
    return `${mb.cluster ? "cluster" : "mbuf"}[${from},${at}) lead ${mb.leading} trail ${trailingOf(layout, i)}${mb.shared ? " shared" : ""}`;
  });
  const how = [layout.pkthdr ? "pkthdr" : "no pkthdr", ...(layout.socket ? ["via socket buffer"] : []), `spare 0x${hex(layout.spareByte)}`];
  return `${how.join(", ")}: ${parts.join(" -> ")}`;
}

/** A built chain as one line, mbuf by mbuf as measured (`shared` is a cluster another chain references). */
export function describeChain(mbufs: readonly ChainMbuf[]): string {
  let at = 0;
  return mbufs.map((mb) => {
    const from = at;
    at += mb.length;
    const lead = mb.data - mb.bufferStart, trail = mb.bufferEnd - mb.data - mb.length;
    return `${mb.cluster ? "cluster" : "mbuf"}[${from},${at}) lead ${lead} trail ${trail}${mb.pkthdr ? " pkthdr" : ""}${mb.shared ? " shared" : ""}`;
  }).join(" -> ");
}

/** Bytes in hex, the first 64 of them. */
export function describeBytes(bytes: Uint8Array): string {
  const shown = Array.from(bytes.subarray(0, 64), hex).join(" ");
  return `${bytes.length} bytes [${shown}${bytes.length > 64 ? " ..." : ""}]`;
}

const hex = (b: number): string => b.toString(16).padStart(2, "0");

/** The mbufs of the chain at `head`, measured in the pool's memory (bounded by the mbufs in use). */
export function measureChain(pool: Pool, head: number): ChainMbuf[] {
  const buf = pool.buffer;
  const u32 = new Uint32Array(buf), i32 = new Int32Array(buf), u16 = new Uint16Array(buf);
  const out: ChainMbuf[] = [];
  for (let m = head, bound = pool.stats().mbufs.current; m !== 0 && bound > 0; bound--) {
    const flags = u16[(m + H.flags) >>> 1];
    const pkthdr = (flags & M_PKTHDR) !== 0, cluster = (flags & M_EXT) !== 0;
    // An mbuf's own storage, or its ext_buf/ext_size, start after m_hdr (and the pkthdr if it has one).
    const storage = m + (pkthdr ? 40 : 32);
    const bufferStart = cluster ? u32[storage >>> 2] : storage;
    const bufferEnd = cluster ? bufferStart + u32[(storage + 4) >>> 2] : m + MSIZE;
    out.push({
      handle: m, length: i32[(m + H.len) >>> 2], cluster, shared: !pool.writable(m), pkthdr,
      data: u32[(m + H.data) >>> 2], bufferStart, bufferEnd,
    });
    m = u32[(m + H.next) >>> 2];
  }
  return out;
}

/** The pool could not give the buffers a layout needs. */
export class LayoutBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LayoutBuildError";
  }
}

/**
 * Builds `bytes` laid out as `layout` on `pool`: a chain of the caller's, and
 * the chains that hold its shared clusters (freed by free() / freeSharers()).
 * Every free byte of every buffer of the chain holds layout.spareByte.
 * @throws LayoutBuildError if the pool runs out of buffers (nothing is kept),
 *   RangeError if the layout does not describe `bytes` or is for other clusters.
 */
export function buildChain(pool: Pool, bytes: Uint8Array, layout: ChainLayout): BuiltChain {
  if (layout.clusterBytes !== pool.mclbytes) {
    throw new RangeError(`the layout is for ${layout.clusterBytes}-byte clusters, the pool has ${pool.mclbytes}: pass { clusterBytes: pool.mclbytes }`);
  }
  const total = layout.mbufs.reduce((n, mb) => n + mb.length, 0);
  if (total !== bytes.length) throw new RangeError(`the layout holds ${total} bytes, the input has ${bytes.length}`);
  const sharers: number[] = [];
  let head = 0;
  const giveBack = (): void => {
    if (head !== 0) pool.freem(head);
    for (const s of sharers) pool.freem(s);
    head = 0;
    sharers.length = 0;
  };
  const outOfBuffers = (what: string): never => {
    giveBack();
    throw new LayoutBuildError(`the pool ran out of buffers for ${what} (layout ${describeLayout(layout)}): give it more mbufs and clusters`);
  };
  try {
    let at = 0;
    layout.mbufs.forEach((mb, i) => {
      // Bytes m_cat must not fit into the previous mbuf's trailing space; trimmed off once linked.
      let extra = 0;
      // (m_cat links an mbuf only if it holds more than that space; a shared cluster offers none.)
      if (i > 0) extra = Math.max(0, (layout.mbufs[i - 1].shared ? 0 : trailingOf(layout, i - 1)) + 1 - mb.length);
      if (mb.shared && mb.length + extra === 0) extra = 1; // m_copym shares only a cluster that holds bytes
      const isHead = i === 0;
      const m = mb.cluster
        ? pool.getcl(M_NOWAIT, MT.DATA, isHead && layout.pkthdr ? M_PKTHDR : 0)
        : isHead && layout.pkthdr ? pool.gethdr(M_NOWAIT, MT.DATA) : pool.get(M_NOWAIT, MT.DATA);
      if (m === 0) outOfBuffers(`mbuf ${i}`);
      const content = new Uint8Array(mb.leading + mb.length + extra).fill(layout.spareByte);
      content.set(bytes.subarray(at, at + mb.length), mb.leading);
      if (!pool.append(m, content)) {
        pool.freem(m);
        outOfBuffers(`mbuf ${i}'s bytes`);
      }
      if (mb.leading > 0) pool.adj(m, mb.leading);
      // Before sharing: afterwards the other chain holds the cluster too.
      fillSpare(pool, measureChain(pool, m), layout.spareByte);
      if (mb.shared) {
        const sharer = pool.copym(m);
        if (sharer === 0) {
          pool.freem(m);
          outOfBuffers(`the chain sharing mbuf ${i}'s cluster`);
        }
        sharers.push(sharer);
      }
      if (isHead) head = m;
      else pool.cat(head, m);
      if (extra > 0) pool.adj(head, -extra);
      at += mb.length;
    });
    if (layout.socket) head = throughSocketBuffer(pool, head, bytes.length, () => outOfBuffers("a socket"));
  } catch (e) {
    if (!(e instanceof LayoutBuildError)) giveBack();
    throw e;
  }
  const mbufs = measureChain(pool, head);
  const chainHead = head;
  return {
    head: chainHead, layout, mbufs,
    free: () => {
      pool.freem(chainHead);
      for (const s of sharers.splice(0)) pool.freem(s);
    },
    freeSharers: () => {
      for (const s of sharers.splice(0)) pool.freem(s);
    },
  };
}

/** Gives the chain to a fresh socket's receive buffer as a record and takes it back out, as soreceive would. */
function throughSocketBuffer(pool: Pool, head: number, length: number, outOfBuffers: () => never): number {
  const so = pool.socreate({ rcvHiwat: Math.min(Math.max(65536, length), pool.sbHiwatMax) });
  if (so === 0) return outOfBuffers();
  try {
    if (!pool.sbappendrecord(so, "rcv", head)) throw new RangeError(`${length} bytes do not fit in a socket buffer (sb_max)`);
    const taken = pool.sbtake(so, "rcv");
    // The record was the socket buffer's only one and sbtake takes whole mbufs up to any length.
    if (taken === 0 || pool.length(taken) !== length) throw new Error("sbtake did not give the whole record back");
    return taken;
  } finally {
    pool.soclose(so);
  }
}

/** Writes `byte` over every free byte of the buffers of `mbufs`, so that what lies past m_len is the layout's, not a previous user's. */
function fillSpare(pool: Pool, mbufs: readonly ChainMbuf[], byte: number): void {
  const mem = new Uint8Array(pool.buffer);
  for (const mb of mbufs) {
    mem.fill(byte, mb.bufferStart, mb.data);
    mem.fill(byte, mb.data + mb.length, mb.bufferEnd);
  }
}
