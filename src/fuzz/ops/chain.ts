// Chain operations on bytes: m_append, m_copyback, m_copydata, m_length,
// m_adj, m_dup and m_cat. The model keeps every chain's bytes exactly and
// predicts what reads give; what a write takes is measured (measure.ts).

import { MT_NTYPES } from "../../constants.js";
import { digest, emptyHolding, type Holding, type Model } from "../model.js";
import {
  bytesOf, chain, chainAdded, chainFreed, chainHandle, isZero, lengthOf, settle, sharedFirst, someBytes, tookFor,
} from "./measure.js";
import { allocResult, genHandle, isObj, isUndef, runVoid, validByKind, type OpSpec } from "./spec.js";

/** A chain that holds at least one byte (what adj and dup work on). */
const nonEmptyChain = (m: Model, r: number): string | undefined => chainHandle(m, r, 1);

export const CHAIN_OPS: readonly OpSpec[] = [
  {
    name: "append",
    weight: 3,
    args: [{ name: "m", kind: "handle" }, { name: "bytes", kind: "bytes" }],
    gen: genHandle(chainHandle, (_h, r) => ({ bytes: someBytes(r[1]) })),
    run: (run, a) => run.pool.append(a.m as number, a.bytes as Uint8Array),
    model: () => undefined,
    observe: (m, run, a, actual) => {
      const b = bytesOf(a.bytes);
      return chainAdded(m, run, a.m as string, actual, b.length, (l) => {
        (l.bytes ??= []).push(...b);
      });
    },
  },
  {
    name: "copyback",
    weight: 2,
    args: [{ name: "m", kind: "handle" }, { name: "off", kind: "offset" }, { name: "bytes", kind: "bytes" }],
    gen: genHandle(sharedFirst, (h, r, m) => ({ off: r[2] % (lengthOf(m, h) + 1), bytes: someBytes(r[1]) })),
    run: (run, a) => run.pool.copyback(a.m as number, a.off as number, a.bytes as Uint8Array),
    model: (m, a) => ((a.off as number) > lengthOf(m, a.m) ? { error: "ERANGE" } : undefined),
    observe: (m, run, a, actual) => {
      const b = bytesOf(a.bytes), off = a.off as number;
      const grows = Math.max(0, off + b.length - lengthOf(m, a.m));
      // A shared cluster is read-only: writing over one copies it first (one mbuf and cluster each, at most).
      const slack = chain(m, a.m).refs?.length ?? 0;
      return chainAdded(m, run, a.m as string, actual, grows, (l) => {
        const bytes = (l.bytes ??= []);
        for (let i = 0; i < b.length; i++) bytes[off + i] = b[i];
      }, slack);
    },
  },
  {
    name: "copydata",
    weight: 3,
    // off defaults to 0 and len to the rest of the chain: undefined is valid for both.
    args: [{ name: "m", kind: "handle" }, { name: "off", kind: "offset", valid: (v, m) => isUndef(v) || validByKind("offset", v, m) },
      { name: "len", kind: "length", valid: (v, m) => isUndef(v) || validByKind("length", v, m) }],
    gen: genHandle(sharedFirst, (h, r, m) => {
      const n = lengthOf(m, h), off = r[1] % (n + 1);
      // Now and then a range that ends past the chain.
      return { off, len: r[3] % 8 === 0 ? n - off + 1 : r[2] % (n - off + 1) };
    }),
    run: (run, a) => digest(run.pool.copydata(a.m as number, a.off as number, a.len as number)),
    model: (m, a) => {
      const bytes = chain(m, a.m).bytes ?? [], off = isUndef(a.off) ? 0 : (a.off as number);
      const len = isUndef(a.len) ? Math.max(0, bytes.length - off) : (a.len as number);
      if (off + len > bytes.length) return { error: "ERANGE" };
      return digest(bytes.slice(off, off + len));
    },
  },
  {
    name: "length",
    weight: 1,
    args: [{ name: "m", kind: "handle" }],
    gen: genHandle(chainHandle),
    run: (run, a) => run.pool.length(a.m as number),
    model: (m, a) => lengthOf(m, a.m),
  },
  {
    name: "adj",
    weight: 2,
    args: [{ name: "m", kind: "handle" }, { name: "req" }],
    gen: genHandle(nonEmptyChain, (h, r, m) => {
      const k = r[1] % (lengthOf(m, h) + 1);
      return { req: r[2] % 2 ? -k : k };
    }),
    run: runVoid((run, a) => run.pool.adj(a.m as number, a.req as number)),
    model: (m, a) => (Math.abs(a.req as number) > lengthOf(m, a.m) ? { error: "ERANGE" } : undefined),
    observe: (m, run, a, actual) => {
      if (actual !== null) return `gave ${JSON.stringify(actual)}`;
      const l = chain(m, a.m), req = a.req as number, bytes = (l.bytes ??= []);
      if (req >= 0) bytes.splice(0, req);
      else bytes.splice(bytes.length + req, -req);
      return chainFreed(m, run, (l.extra ??= emptyHolding()), a.m as string);
    },
  },
  {
    name: "dup",
    weight: 2,
    args: [{ name: "m", kind: "handle" }],
    gen: genHandle(nonEmptyChain),
    run: (run, a) => allocResult(run, run.pool.dup(a.m as number)),
    model: () => undefined,
    observe: (m, run, a, actual) => {
      const src = chain(m, a.m);
      const d = settle(m, run);
      if (typeof d === "string") return d;
      if (!m.live.has(a.m as string)) return actual === 0 || (isObj(actual) && "error" in actual) ? (isZero(d) ? undefined : "a failed dup kept buffers") : `dup of a chain a drain routine freed gave ${JSON.stringify(actual)}`;
      if (actual === 0) return tookFor(m, d, 0, false);
      if (typeof actual !== "string") return `dup gave ${JSON.stringify(actual)}`;
      const n = src.bytes?.length ?? 0;
      if (d.mbufs < 1) return `dup took ${d.mbufs} mbufs`;
      const bad = tookFor(m, { ...d, mbufs: d.mbufs - 1 }, n, true);
      if (bad) return bad;
      const name = m.addChain(src.type, src.pkthdr, [...(src.bytes ?? [])], d);
      return name === actual ? undefined : `dup's copy is ${actual}, the model named it ${name}`;
    },
  },
  {
    name: "cat",
    weight: 2,
    args: [{ name: "m", kind: "handle" }, { name: "n", kind: "handle" }],
    gen: (m, r) => {
      const a = chainHandle(m, r[0]), b = chainHandle(m, r[1]);
      return a === undefined || b === undefined || a === b ? undefined : { m: a, n: b };
    },
    run: runVoid((run, a, raw) => {
      run.pool.cat(a.m as number, a.n as number);
      run.freed(raw.n as string); // linked into m's chain: no longer the trace's to name
    }),
    model: (_m, a) => (a.m === a.n ? { error: "EINVAL" } : undefined),
    observe: (m, run, a, actual) => {
      if (actual !== null) return `gave ${JSON.stringify(actual)}`;
      const l = chain(m, a.m), n = m.consumed(a.n as string, chain(m, a.m));
      const moved: Holding = { mbufs: 1, clusters: n.cluster ? 1 : 0, census: new Array<number>(MT_NTYPES).fill(0) };
      moved.census[n.type] = 1;
      const extra = (l.extra ??= emptyHolding());
      m.hold(extra, moved);
      if (n.extra) m.hold(extra, n.extra);
      (l.bytes ??= []).push(...(n.bytes ?? []));
      return chainFreed(m, run, extra, a.m as string);
    },
  },
];
