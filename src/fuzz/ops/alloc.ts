// Allocation and freeing: m_get, m_gethdr, m_getcl, m_clget, m_free,
// m_freem, their batch forms, m_chtype and the owner tag. The model predicts
// every result exactly (Model.get/getcl/clget/release): which zone gives,
// when the reservation refuses, when a drain routine runs.

import { M_PKTHDR } from "../../constants.js";
import { FREED_CODES, HANDLE_NAME, isTag, type Encoded } from "../values.js";
import { allocResult, genHandle, how, liveHandle, modelVoid, mtype, pick, runVoid, type OpSpec } from "./spec.js";

/** True if a trace value decodes to an i32 (what the host checks before the core sees it). */
function decodesToI32(v: Encoded): boolean {
  if (typeof v === "number") return (v | 0) === v;
  if (typeof v === "string") return HANDLE_NAME.test(v);
  if (isTag(v)) {
    if (v.$ === "plus") return typeof v.d === "number" && Number.isInteger(v.d) && Math.abs(v.d) < 2 ** 31 - 2 ** 30 - 1;
    return v.$ === "addr" || v.$ === "cluster" || v.$ === "-0";
  }
  return false;
}

/** m_get or m_gethdr (the model tells them apart by the packet header). */
const getOp = (name: "get" | "gethdr", pkthdr: boolean): OpSpec => ({
  name,
  weight: 8,
  args: [{ name: "how", kind: "how" }, { name: "type", kind: "type" }],
  gen: (_m, r) => ({ how: how(r[0]), type: mtype(r[1]) }),
  run: (run, a) => allocResult(run, run.pool[name](a.how as number, a.type as number)),
  model: (m, a) => m.get(a.how as number, a.type as number, pkthdr),
});

export const ALLOC_OPS: readonly OpSpec[] = [
  getOp("get", false),
  getOp("gethdr", true),
  {
    name: "getcl",
    weight: 8,
    args: [{ name: "how", kind: "how" }, { name: "type", kind: "type" }, { name: "flags", kind: "flags" }],
    gen: (_m, r) => ({ how: how(r[0]), type: mtype(r[1]), flags: r[2] % 4 ? M_PKTHDR : 0 }),
    run: (run, a) => allocResult(run, run.pool.getcl(a.how as number, a.type as number, a.flags as number)),
    model: (m, a) => m.getcl(a.how as number, a.type as number, a.flags === M_PKTHDR),
  },
  {
    name: "clget",
    weight: 4,
    args: [{ name: "m", kind: "handle" }, { name: "how", kind: "how" }],
    gen: (m, r) => {
      // Heads that never held data: m_clget's answer for a head with a chain depends on where its bytes sit.
      const names = [...m.live].filter(([, l]) => !l.extra && !l.bytes?.length && (r[2] % 4 === 0 || !l.cluster)).map(([n]) => n);
      const h = pick(names, r[0]);
      return h === undefined ? undefined : { m: h, how: how(r[1]) };
    },
    run: (run, a) => run.pool.clget(a.m as number, a.how as number),
    model: (m, a) => {
      if (m.live.get(a.m as string)!.cluster) return { error: "EINVAL" };
      return m.clget(a.m as string, a.how as number);
    },
  },
  {
    name: "free",
    weight: 6,
    args: [{ name: "m", kind: "handle" }],
    // One mbuf only: m_free of a longer chain hands back its successor, a head the trace never named.
    gen: genHandle((m, r) => pick([...m.live].filter(([, l]) => !l.extra?.mbufs).map(([n]) => n), r)),
    run: (run, a, raw) => {
      const next = run.pool.free(a.m as number);
      run.freed(raw.m as string);
      return next ? run.nameOf(next) : 0;
    },
    model: (m, a) => {
      m.release(a.m as string);
      return 0;
    },
  },
  {
    name: "freem",
    weight: 6,
    args: [{ name: "m", kind: "handle" }],
    gen: genHandle(liveHandle),
    run: runVoid((run, a, raw) => {
      run.pool.freem(a.m as number);
      run.freed(raw.m as string);
    }),
    model: modelVoid((m, a) => m.release(a.m as string)),
  },
  {
    name: "getBulk",
    weight: 3,
    args: [{ name: "n", kind: "count" }, { name: "how", kind: "how" }, { name: "type", kind: "type" },
      { name: "cluster" }, { name: "pkthdr" }],
    gen: (_m, r) => ({ n: 1 + (r[0] % 24), how: how(r[1]), type: mtype(r[2]), cluster: r[3] % 2 === 0, pkthdr: r[3] % 3 === 0 }),
    run: (run, a) => {
      const n = a.n;
      const out = new Int32Array(typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 4096 ? n : 16);
      const got = run.pool.getBulk(out, n as number, a.how as number, a.type as number,
        { cluster: a.cluster as boolean, pkthdr: a.pkthdr as boolean });
      const names: Encoded[] = [];
      for (let i = 0; i < got; i++) names.push(run.newHandle(out[i]));
      return names;
    },
    model: (m, a) => {
      const names: Encoded[] = [];
      for (let i = 0; i < (a.n as number); i++) {
        const h = a.cluster
          ? m.getcl(a.how as number, a.type as number, a.pkthdr === true)
          : m.get(a.how as number, a.type as number, a.pkthdr === true);
        if (h === 0) break;
        names.push(h);
      }
      return names;
    },
  },
  {
    name: "freemBulk",
    weight: 3,
    args: [{ name: "ms", kind: "handles" }],
    gen: (m, r) => {
      const live = [...m.live.keys()];
      if (!live.length) return undefined;
      const start = r[0] % live.length;
      const ms: Encoded[] = live.slice(start, start + 1 + (r[1] % 12));
      // Now and then a bad batch: a handle given twice, or a freed one. Nothing of it may be freed.
      if (r[2] % 10 === 0) ms.push(ms[0]);
      else if (r[2] % 10 === 1) {
        const freed = pick(m.freedHandles(), r[3]);
        if (freed) ms.splice(r[3] % ms.length, 0, freed);
      }
      return { ms };
    },
    run: (run, a, raw) => {
      run.pool.freemBulk(a.ms as number[]);
      for (const name of raw.ms as string[]) run.freed(name);
      return null;
    },
    model: (m, a) => {
      const ms = a.ms as Encoded[];
      // The host refuses a value that is not an i32 before the core sees the batch ...
      if (!ms.every(decodesToI32)) return { error: "EBADHANDLE" };
      // ... and the core checks every handle before it frees any.
      const seen = new Set<Encoded>();
      for (const h of ms) {
        if (typeof h === "string" && m.dead.has(h)) return { error: [...FREED_CODES] };
        if (typeof h !== "string" || !m.live.has(h)) return { error: "EBADHANDLE" };
        if (seen.has(h)) return { error: "EDOUBLEFREE" };
        seen.add(h);
      }
      for (const h of ms) m.release(h as string);
      return null;
    },
  },
  {
    name: "chtype",
    weight: 2,
    args: [{ name: "m", kind: "handle" }, { name: "type", kind: "type" }],
    gen: genHandle(liveHandle, (_h, r) => ({ type: mtype(r[1]) })),
    run: runVoid((run, a) => run.pool.chtype(a.m as number, a.type as number)),
    model: modelVoid((m, a) => {
      m.live.get(a.m as string)!.type = a.type as number;
    }),
  },
  {
    name: "setOwner",
    weight: 1,
    args: [{ name: "tag", kind: "tag" }],
    gen: (_m, r) => ({ tag: r[0] % 5 === 0 ? 2 ** 32 - 1 : r[0] }),
    run: runVoid((run, a) => run.pool.setOwner(a.tag as number)),
    model: () => null,
  },
];
