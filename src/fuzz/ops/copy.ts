// Chain operations that share clusters or hand back a new head: m_copym,
// m_copypacket, m_split (clusters shared by reference count), m_pullup,
// M_PREPEND and m_defrag (the head to use from now on). Which clusters end
// up shared is layout: read from the pool (walk.ts) and recounted by the
// model (measure.ts, reshaped).

import { MHLEN, MLEN, M_COPYALL } from "../../constants.js";
import type { Holding, Model } from "../model.js";
import type { Run, Result } from "../run.js";
import type { Encoded } from "../values.js";
import { walkChain } from "../walk.js";
import { bytesOf, chain, chainHandle, isZero, lengthOf, reshaped, settle, tookFor } from "./measure.js";
import { allocResult, genHandle, how, inRange, isObj, isUndef, validByKind, withHow, type OpSpec } from "./spec.js";

/** Clusters of the mbufs of a layout that hold bytes of [off, end), and how many such mbufs. */
function rangeOf(w: ReturnType<typeof walkChain>, off: number, end: number): { mbufs: number; exts: number[] } {
  let pos = 0, mbufs = 0;
  const exts: number[] = [];
  for (const x of w) {
    if (x.len && pos + x.len > off && pos < end && off < end) {
      mbufs++;
      if (x.ext) exts.push(x.ext);
    }
    pos += x.len;
  }
  return { mbufs, exts };
}

/** The result of an op whose chain a drain routine freed under it: nothing kept, and 0 or a freed-handle error. */
function freedUnder(d: Holding, actual: Result): string | undefined {
  if (actual !== 0 && !(isObj(actual) && "error" in actual)) return `an operation on a chain a drain routine freed gave ${JSON.stringify(actual)}`;
  return isZero(d) ? undefined : "the failed operation kept buffers";
}

/** m_copym / m_copypacket of [off, off+len) of chain `src`: a new chain sharing the range's clusters, small mbufs copied. */
function observeCopy(m: Model, run: Run, src: string, off: number, len: number, actual: Result): string | undefined {
  const d = settle(m, run);
  if (typeof d === "string") return d;
  if (!m.live.has(src)) return freedUnder(d, actual);
  if (actual === 0) return tookFor(m, d, 0, false);
  if (typeof actual !== "string") return `gave ${JSON.stringify(actual)}`;
  const l = chain(m, src), bytes = l.bytes ?? [];
  const end = len === M_COPYALL ? bytes.length : off + len;
  const range = rangeOf(walkChain(run.pool, run.live.get(src)!), off, end);
  if (d.clusters !== 0) return `the copy took ${d.clusters} clusters (it shares them)`;
  // One mbuf per source mbuf in the range (one more if a packet header cannot hold the first piece).
  if (d.mbufs < 1 || d.mbufs > range.mbufs + 1) return `the copy took ${d.mbufs} mbufs for ${range.mbufs} source mbufs`;
  const name = m.addChain(l.type, l.pkthdr && off === 0, bytes.slice(off, end));
  if (name !== actual) return `the copy is ${actual}, the model named it ${name}`;
  const got = walkChain(run.pool, run.live.get(name)!).filter((x) => x.ext).map((x) => x.ext);
  if (got.join() !== range.exts.join()) return `the copy references clusters [${got}], the source's range has [${range.exts}]`;
  return reshaped(m, run, [src, name]);
}

/**
 * An op that gives the head to use from now on (m_pullup, M_PREPEND, m_defrag): the same
 * name, a new one (the old head freed or linked inside), or 0 (the chain unchanged).
 */
function newHead(run: Run, raw: Encoded, r: number): Result {
  if (r === 0 || r === run.live.get(raw as string)) return r === 0 ? 0 : raw;
  run.freed(raw as string);
  return run.newHandle(r);
}

/**
 * The model's side of newHead: `bytes` is the chain's new content; the chain
 * may have taken up to `maxTake` mbufs (net) and no cluster beyond `maxClusters`.
 */
function observeNewHead(m: Model, run: Run, src: string, actual: Result, bytes: (old: number[]) => number[],
  maxTake: number, maxClusters = 0, freesOld = false): string | undefined {
  // A new head means the op ran to its end: `src` was renamed, not freed by a drain routine.
  const renamed = typeof actual === "string" && actual !== src;
  const d = m.settle(run.pool.stats(), (name) => (name === src && renamed) || run.live.has(name));
  if (typeof d === "string") return d;
  if (!m.live.has(src)) return freedUnder(d, actual);
  if (actual === 0) return tookFor(m, d, 0, false);
  if (typeof actual !== "string") return `gave ${JSON.stringify(actual)}`;
  if (d.mbufs > maxTake || d.clusters > maxClusters) return `took ${d.mbufs} mbufs and ${d.clusters} clusters (at most ${maxTake} and ${maxClusters})`;
  if (actual === src) {
    if (freesOld) return "kept the old head";
    const l = chain(m, src);
    l.bytes = bytes(l.bytes ?? []);
    return reshaped(m, run, [src]);
  }
  const old = m.consumed(src);
  if (freesOld) m.dead.add(src);
  const name = m.addChain(old.type, old.pkthdr, bytes(old.bytes ?? []));
  if (name !== actual) return `the new head is ${actual}, the model named it ${name}`;
  return reshaped(m, run, [name], [old]);
}

/** copym's offset and length, with their defaults. */
const offOf = (v: Encoded): number => (isUndef(v) ? 0 : (v as number));
const lenOf = (v: Encoded): number => (isUndef(v) ? M_COPYALL : (v as number));

export const COPY_OPS: readonly OpSpec[] = [
  {
    name: "copym",
    weight: 3,
    // off defaults to 0 and len to M_COPYALL: undefined is valid for both.
    args: [{ name: "m", kind: "handle" }, { name: "off", kind: "offset", valid: (v, m) => isUndef(v) || validByKind("offset", v, m) },
      { name: "len", kind: "length", valid: (v, m) => isUndef(v) || validByKind("length", v, m) }, { name: "how", kind: "how" }],
    gen: genHandle(chainHandle, (h, r, m) => {
      const n = lengthOf(m, h), off = r[1] % (n + 1);
      // Mostly a range inside the chain, often the rest of it (M_COPYALL), now and then one past its end.
      const len = r[3] % 4 === 0 ? M_COPYALL : r[3] % 11 === 1 ? n - off + 1 : r[2] % (n - off + 1);
      return { off, len, how: how(r[2] >> 3) };
    }),
    run: (run, a) => allocResult(run, run.pool.copym(a.m as number, a.off as number, a.len as number, a.how as number)),
    model: (m, a) => {
      const n = lengthOf(m, a.m), off = offOf(a.off), len = lenOf(a.len);
      return off > n || (len !== M_COPYALL && off + len > n) ? { error: "ERANGE" } : undefined;
    },
    observe: (m, run, a, actual) => observeCopy(m, run, a.m as string, offOf(a.off), lenOf(a.len), actual),
  },
  {
    name: "copypacket",
    weight: 2,
    args: [{ name: "m", kind: "handle" }, { name: "how", kind: "how" }],
    gen: genHandle(chainHandle, withHow),
    run: (run, a) => allocResult(run, run.pool.copypacket(a.m as number, a.how as number)),
    model: (m, a) => (chain(m, a.m).pkthdr ? undefined : { error: "EINVAL" }),
    observe: (m, run, a, actual) => observeCopy(m, run, a.m as string, 0, M_COPYALL, actual),
  },
  {
    name: "split",
    weight: 2,
    args: [{ name: "m", kind: "handle" }, { name: "len0", kind: "length" }, { name: "how", kind: "how" }],
    gen: genHandle(chainHandle, (h, r, m) => {
      const n = lengthOf(m, h);
      return { len0: r[2] % 9 === 0 ? n + 1 : r[1] % (n + 1), how: how(r[3]) };
    }),
    run: (run, a) => allocResult(run, run.pool.split(a.m as number, a.len0 as number, a.how as number)),
    model: (m, a) => ((a.len0 as number) > lengthOf(m, a.m) ? { error: "ERANGE" } : undefined),
    observe: (m, run, a, actual) => {
      const d = settle(m, run);
      if (typeof d === "string") return d;
      const src = a.m as string;
      if (!m.live.has(src)) return freedUnder(d, actual);
      if (actual === 0) return tookFor(m, d, 0, false);
      if (typeof actual !== "string") return `gave ${JSON.stringify(actual)}`;
      // The tail needs at most two new mbufs (a header mbuf and the split piece); a cluster at the cut is shared.
      if (d.clusters !== 0 || d.mbufs < 0 || d.mbufs > 2) return `split took ${d.mbufs} mbufs and ${d.clusters} clusters`;
      const l = chain(m, src), tail = (l.bytes ??= []).splice(a.len0 as number);
      // The tail's head is a new mbuf of the head's type, or (a cut on a boundary) the mbuf after it.
      const w = walkChain(run.pool, run.live.get(actual)!);
      const name = m.addChain(w[0]?.type ?? l.type, l.pkthdr, tail);
      if (name !== actual) return `the tail is ${actual}, the model named it ${name}`;
      return reshaped(m, run, [src, name]);
    },
  },
  {
    name: "pullup",
    weight: 2,
    args: [{ name: "m", kind: "handle" }, { name: "n", kind: "length" }, { name: "how", kind: "how" }],
    gen: genHandle(chainHandle, (h, r, m) => {
      const n = lengthOf(m, h);
      return { n: r[2] % 9 === 0 ? n + 1 : r[1] % (Math.min(n, MHLEN + 32) + 1), how: how(r[3]) };
    }),
    run: (run, a, raw) => newHead(run, raw.m, run.pool.pullup(a.m as number, a.n as number, a.how as number)),
    model: (m, a) => ((a.n as number) > lengthOf(m, a.m) ? { error: "ERANGE" } : undefined),
    observe: (m, run, a, actual) => observeNewHead(m, run, a.m as string, actual, (b) => b, 1),
  },
  {
    name: "prepend",
    weight: 2,
    // A length is valid too: that many zeroed bytes.
    args: [{ name: "m", kind: "handle" }, { name: "data", kind: "bytes", valid: (v, m) => validByKind("bytes", v, m) || inRange(v, 0, MHLEN) },
      { name: "how", kind: "how" }],
    gen: genHandle(chainHandle, (_h, r) => ({ data: { $: "bytes", n: [1, 17, 100, MHLEN][r[1] % 4], s: r[2] & 255 }, how: how(r[3]) })),
    run: (run, a, raw) => newHead(run, raw.m, run.pool.prepend(a.m as number, a.data as Uint8Array, a.how as number)),
    model: () => undefined,
    observe: (m, run, a, actual) => observeNewHead(m, run, a.m as string, actual, (b) => [...(typeof a.data === "number" ? new Array<number>(a.data).fill(0) : bytesOf(a.data)), ...b], 1),
  },
  {
    name: "defrag",
    weight: 1,
    args: [{ name: "m", kind: "handle" }, { name: "how", kind: "how" }],
    gen: genHandle(chainHandle, withHow),
    run: (run, a, raw) => newHead(run, raw.m, run.pool.defrag(a.m as number, a.how as number)),
    model: () => undefined,
    observe: (m, run, a, actual) => {
      const n = lengthOf(m, a.m);
      return observeNewHead(m, run, a.m as string, actual, (b) => b, Math.ceil(n / MLEN) + 2, Math.ceil(n / m.profile.mclbytes) + 1, true);
    },
  },
];
