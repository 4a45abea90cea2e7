// The zero-copy receive path: tailspace() then commit() (a reader writes
// into the last mbuf's trailing space and commits what fit), and
// M_WRITABLE with the space around the head. A shared cluster is read-only:
// it offers no space and takes no bytes.

import { MHLEN, MLEN } from "../../constants.js";
import { walkChain } from "../walk.js";
import { bytesOf, chain, isZero, settle, sharedFirst, someBytes } from "./measure.js";
import { genHandle, type OpSpec } from "./spec.js";

export const RECV_OPS: readonly OpSpec[] = [
  {
    // tailspace() then commit(): a reader writes into the last mbuf's trailing space and commits what fit.
    name: "commit",
    weight: 2,
    // bytes is what the reader writes (not an argument of the pool's), so it is not fed bad values.
    args: [{ name: "m", kind: "handle" }, { name: "bytes" }],
    gen: genHandle(sharedFirst, (_h, r) => ({ bytes: someBytes(r[1]) })),
    run: (run, a) => {
      const view = run.pool.tailspace(a.m as number), bytes = a.bytes as Uint8Array;
      const k = Math.min(view.length, bytes.length);
      view.set(bytes.subarray(0, k));
      run.pool.commit(a.m as number, k);
      return k;
    },
    model: () => undefined,
    observe: (m, run, a, actual) => {
      const d = settle(m, run);
      if (typeof d === "string") return d;
      if (!isZero(d)) return `tailspace and commit took or freed ${d.mbufs} mbufs`;
      const l = chain(m, a.m), b = bytesOf(a.bytes);
      if (typeof actual !== "number" || actual < 0 || actual > b.length) return `committed ${JSON.stringify(actual)} of ${b.length} bytes`;
      const w = walkChain(run.pool, run.live.get(a.m as string)!), last = w[w.length - 1];
      // A shared cluster has no trailing space (read-only); a fresh head has all of its own.
      if (last.ext && (m.shared.get(last.ext) ?? 0) > 1 && actual !== 0) return `committed ${actual} bytes into a shared cluster`;
      if (l.bytes === undefined && !l.extra && w.length === 1) { // never held data
        const room = last.ext ? m.profile.mclbytes : l.pkthdr ? MHLEN : MLEN;
        if (actual !== Math.min(room, b.length)) return `a fresh head took ${actual} bytes, its room is ${room}`;
      }
      (l.bytes ??= []).push(...b.slice(0, actual));
      return undefined;
    },
  },
  {
    // M_WRITABLE, with M_LEADINGSPACE and M_TRAILINGSPACE of the same mbuf: [writable, leading, trailing].
    name: "writable",
    weight: 1,
    args: [{ name: "m", kind: "handle" }],
    gen: genHandle(sharedFirst),
    run: (run, a) => [run.pool.writable(a.m as number), run.pool.leadingspace(a.m as number), run.pool.trailingspace(a.m as number)],
    model: () => undefined,
    observe: (m, run, a, actual) => {
      const head = walkChain(run.pool, run.live.get(a.m as string)!)[0];
      // A cluster with more than one reference is read-only and offers no space on either side.
      const shared = head.ext !== 0 && (m.shared.get(head.ext) ?? 0) > 1;
      const room = head.ext ? m.profile.mclbytes : 256;
      if (!Array.isArray(actual) || actual.length !== 3) return `gave ${JSON.stringify(actual)}`;
      const [w, lead, trail] = actual as [boolean, number, number];
      if (w === shared) return `writable is ${w} for a head whose cluster is ${shared ? "" : "not "}shared`;
      if (shared ? lead !== 0 || trail !== 0 : lead < 0 || trail < 0 || lead + trail + head.len > room) return `leading ${lead} and trailing ${trail} space around ${head.len} bytes (room ${room})`;
      return undefined;
    },
  },
];
