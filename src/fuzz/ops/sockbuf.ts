// Sockets and socket buffers: socreate, sbwrite, sbappend(record), sbdrop,
// sbdroprecord, sbflush, sbtake, sbreserve, sbsetlowat and soclose. The
// model keeps each buffer's bytes and records (m_nextpkt) exactly, and
// sb_hiwat/sb_lowat; what a socket holds is measured (measure.ts). Chains
// with shared clusters are never given to a socket buffer (sharing is not
// modelled there).

import { dropRecords, type Holding, type Model } from "../model.js";
import type { Result } from "../run.js";
import { FREED_CODES, type Encoded } from "../values.js";
import { walkChain } from "../walk.js";
import { bytesOf, chainFreed, isZero, lengthOf, onlyFreed, settle, sockHandle, someBytes, tookFor } from "./measure.js";
import { allocResult, genOn, inRange, isObj, isUndef, modelVoid, pick, runVoid, type Args, type Choices, type OpSpec } from "./spec.js";

/** Which of a socket's two buffers, by one random choice. */
const whichOf = (r: number): "snd" | "rcv" => (r % 2 ? "snd" : "rcv");

/**
 * A gen for an op on one socket buffer: a socket by r[0], which buffer by
 * r[1], then what `rest` adds (undefined: the op does not apply now).
 */
const genSockbuf = (rest?: (so: string, which: "snd" | "rcv", r: Choices, m: Model) => Args | undefined): OpSpec["gen"] =>
  genOn("so", sockHandle, (so, r, m) => {
    const which = whichOf(r[1]);
    const more = rest ? rest(so, which, r, m) : {};
    return more === undefined ? undefined : { which, ...more };
  });

/** Adds `n` bytes to a socket buffer's records: to the last one (sbappend), or as a new one. */
function appendRecord(recs: number[], n: number, record: boolean): void {
  if (n === 0) return;
  if (record || !recs.length) recs.push(n);
  else recs[recs.length - 1] += n;
}

/**
 * A write whose allocation ran a drain routine that closed the socket: it
 * fails (false, or the error of a freed handle) and keeps nothing.
 */
function closedUnder(d: Holding, actual: Result): string | undefined {
  const freedError = isObj(actual) && (FREED_CODES as readonly Encoded[]).includes(actual.error);
  if (actual !== false && !freedError) return `a write to a socket a drain routine closed gave ${JSON.stringify(actual)}`;
  return isZero(d) ? undefined : `a write to a socket closed under it kept ${d.mbufs} mbufs and ${d.clusters} clusters`;
}

export const SOCKBUF_OPS: readonly OpSpec[] = [
  {
    name: "socreate",
    weight: 1,
    args: [],
    gen: (m) => (m.sockets.size >= 3 ? undefined : {}),
    run: (run) => allocResult(run, run.pool.socreate()),
    model: () => undefined,
    observe: (m, run, _a, actual) => {
      const d = settle(m, run);
      if (typeof d === "string") return d;
      if (actual === 0) return tookFor(m, d, 0, false);
      if (typeof actual !== "string") return `socreate gave ${JSON.stringify(actual)}`;
      if (d.mbufs < 1 || d.mbufs > 2 || d.clusters !== 0) return `a socket took ${d.mbufs} mbufs and ${d.clusters} clusters`;
      const name = m.addSocket(d);
      return name === actual ? undefined : `the socket is ${actual}, the model named it ${name}`;
    },
  },
  {
    name: "sbwrite",
    weight: 3,
    args: [{ name: "so", kind: "socket" }, { name: "which", kind: "sockbuf" }, { name: "bytes", kind: "bytes" }],
    gen: genSockbuf((_so, _which, r) => ({ bytes: someBytes(r[2]) })),
    run: (run, a) => run.pool.sbwrite(a.so as number, a.which as "snd", a.bytes as Uint8Array),
    model: () => undefined,
    observe: (m, run, a, actual) => {
      if (typeof actual !== "boolean" && !m.drainCloses.includes(a.so as string)) return `gave ${JSON.stringify(actual)}`;
      const d = settle(m, run);
      if (typeof d === "string") return d;
      const b = bytesOf(a.bytes), so = m.sockets.get(a.so as string);
      if (!so) return closedUnder(d, actual);
      if (typeof actual !== "boolean") return `gave ${JSON.stringify(actual)}`;
      const bad = tookFor(m, d, b.length, actual);
      if (bad) return bad;
      if (actual) {
        so[a.which as "snd"].push(...b);
        appendRecord(so.recs[a.which as "snd"], b.length, false);
      }
      m.hold(so.hold, d);
      return undefined;
    },
  },
  {
    name: "sbdrop",
    weight: 2,
    args: [{ name: "so", kind: "socket" }, { name: "which", kind: "sockbuf" }, { name: "len", kind: "length" }],
    gen: genSockbuf((so, which, r, m) => {
      const cc = m.sockets.get(so)![which].length;
      return { len: r[3] % 8 === 0 ? cc + 1 : r[2] % (cc + 1) };
    }),
    run: (run, a) => {
      run.pool.sbdrop(a.so as number, a.which as "snd", a.len as number);
      return run.pool.sbstat(a.so as number, a.which as "snd").cc;
    },
    model: (m, a) => ((a.len as number) > m.sockets.get(a.so as string)![a.which as "snd"].length ? { error: "ERANGE" } : undefined),
    observe: (m, run, a, actual) => {
      const so = m.sockets.get(a.so as string)!, sb = so[a.which as "snd"];
      sb.splice(0, a.len as number);
      dropRecords(so.recs[a.which as "snd"], a.len as number);
      if (actual !== sb.length) return `sb_cc is ${JSON.stringify(actual)} after the drop, expected ${sb.length}`;
      return chainFreed(m, run, so.hold);
    },
  },
  {
    name: "sbflush",
    weight: 1,
    args: [{ name: "so", kind: "socket" }, { name: "which", kind: "sockbuf" }],
    gen: genSockbuf(),
    run: (run, a) => {
      run.pool.sbflush(a.so as number, a.which as "snd");
      return run.pool.sbstat(a.so as number, a.which as "snd").cc;
    },
    model: () => undefined,
    observe: (m, run, a, actual) => {
      const so = m.sockets.get(a.so as string)!;
      so[a.which as "snd"].length = 0;
      so.recs[a.which as "snd"].length = 0;
      if (actual !== 0) return `sb_cc is ${JSON.stringify(actual)} after a flush`;
      return chainFreed(m, run, so.hold);
    },
  },
  ...(["sbappend", "sbappendrecord"] as const).map((name): OpSpec => ({
    name,
    weight: 2,
    args: [{ name: "so", kind: "socket" }, { name: "which", kind: "sockbuf" }, { name: "m", kind: "handle" }],
    gen: genSockbuf((_so, _which, r, m) => {
      // A chain with bytes and no shared cluster (socket buffers are not in the model of sharing).
      const names = [...m.live].filter(([, l]) => (l.bytes?.length ?? 0) > 0 && !l.refs?.length).map(([n]) => n);
      const h = pick(names, r[2]);
      return h === undefined ? undefined : { m: h };
    }),
    run: (run, a, raw) => {
      const ok = run.pool[name](a.so as number, a.which as "snd", a.m as number);
      if (ok) run.freed(raw.m as string); // the socket buffer's now
      return ok;
    },
    model: () => undefined,
    observe: (m, run, a, actual) => {
      // Given to the socket buffer (true): no longer the trace's, but not freed by a drain routine either.
      const d = m.settle(run.pool.stats(), (h) => (h === a.m && actual === true) || run.live.has(h));
      if (typeof d === "string") return d;
      if (!m.live.has(a.m as string)) return `sbappend of a chain no longer live gave ${JSON.stringify(actual)}`;
      const which = a.which as "snd", so = m.sockets.get(a.so as string)!, n = lengthOf(m, a.m);
      if (typeof actual !== "boolean") return `gave ${JSON.stringify(actual)}`;
      const space = run.pool.sbspace(run.decode(a.so) as number, which);
      if (!actual) return n > space ? tookFor(m, d, 0, false) : `refused ${n} bytes with sbspace ${space}`;
      if (n > so.hiwat[which] - so[which].length) return `took ${n} bytes into ${so[which].length} of sb_hiwat ${so.hiwat[which]}`;
      // Compacting small mbufs into trailing space may free some; nothing is taken.
      const bad = onlyFreed(d);
      if (bad) return bad;
      const l = m.giveToSocket(a.m as string, so);
      so[which].push(...(l.bytes ?? []));
      appendRecord(so.recs[which], n, name === "sbappendrecord");
      m.hold(so.hold, d);
      const cc = run.pool.sbstat(run.decode(a.so) as number, which).cc;
      return cc === so[which].length ? m.checkHeld(run.pool.stats()) : `sb_cc is ${cc}, expected ${so[which].length}`;
    },
  })),
  {
    name: "sbdroprecord",
    weight: 1,
    args: [{ name: "so", kind: "socket" }, { name: "which", kind: "sockbuf" }],
    gen: genSockbuf(),
    run: (run, a) => {
      const ok = run.pool.sbdroprecord(a.so as number, a.which as "snd");
      return [ok, run.pool.sbstat(a.so as number, a.which as "snd").cc];
    },
    model: () => undefined,
    observe: (m, run, a, actual) => {
      const so = m.sockets.get(a.so as string)!, which = a.which as "snd", recs = so.recs[which];
      const had = recs.length > 0;
      if (had) so[which].splice(0, recs.shift()!);
      if (!Array.isArray(actual) || actual[0] !== had || actual[1] !== so[which].length) {
        return `gave ${JSON.stringify(actual)}, expected [${had},${so[which].length}]`;
      }
      return chainFreed(m, run, so.hold);
    },
  },
  {
    name: "sbtake",
    weight: 2,
    args: [{ name: "so", kind: "socket" }, { name: "which", kind: "sockbuf" }, { name: "max", kind: "length", valid: (v) => isUndef(v) || inRange(v, 1, 2 ** 31 - 1) }],
    gen: genSockbuf((_so, _which, r) => ({ max: [1, 100, 1000, 3000, 2 ** 31 - 1][r[2] % 5] })),
    run: (run, a) => allocResult(run, run.pool.sbtake(a.so as number, a.which as "snd", a.max as number)),
    model: (_m, a) => (a.max === 0 ? { error: "ERANGE" } : undefined),
    observe: (m, run, a, actual) => {
      const d = settle(m, run);
      if (typeof d === "string") return d;
      if (!isZero(d)) return `sbtake took or freed ${d.mbufs} mbufs`;
      const so = m.sockets.get(a.so as string)!, which = a.which as "snd", recs = so.recs[which];
      if (actual === 0) return undefined; // empty, or a first mbuf larger than max (the layout decides)
      if (typeof actual !== "string") return `gave ${JSON.stringify(actual)}`;
      if (!recs.length) return "took a chain from an empty socket buffer";
      // Whole mbufs from the front of the first record: at most max bytes, at most the record.
      const w = walkChain(run.pool, run.live.get(actual)!);
      const k = w.reduce((n, x) => n + x.len, 0);
      if (k > (isUndef(a.max) ? 2 ** 31 - 1 : (a.max as number)) || k > recs[0]) return `took ${k} bytes (max ${a.max}, first record ${recs[0]})`;
      const name = m.addChain(w[0].type, w[0].pkthdr, so[which].splice(0, k));
      if (name !== actual) return `the chain is ${actual}, the model named it ${name}`;
      dropRecords(recs, k);
      const bad = m.reshape(new Map([[name, w]]));
      if (bad) return bad;
      m.takeFromSocket(name, so);
      const cc = run.pool.sbstat(run.decode(a.so) as number, which).cc;
      return cc === so[which].length ? m.checkHeld(run.pool.stats()) : `sb_cc is ${cc}, expected ${so[which].length}`;
    },
  },
  {
    name: "sbreserve",
    weight: 1,
    args: [{ name: "so", kind: "socket" }, { name: "which", kind: "sockbuf" }, { name: "cc", kind: "length" }],
    gen: genSockbuf((_so, _which, r) => ({ cc: [0, 100, 4096, 32768, 200_000, 2 ** 31 - 1][r[2] % 6] })),
    run: (run, a) => run.pool.sbreserve(a.so as number, a.which as "snd", a.cc as number),
    // sb_max (256 KiB) bounds sb_mbmax; sb_hiwat may be at most sb_max x MCLBYTES / (MSIZE + MCLBYTES). sb_lowat follows down.
    model: (m, a) => {
      const so = m.sockets.get(a.so as string)!, which = a.which as "snd", cc = a.cc as number, cl = m.profile.mclbytes;
      if (cc > Math.floor((256 * 1024 * cl) / (256 + cl))) return false;
      so.hiwat[which] = cc;
      so.lowat[which] = Math.min(so.lowat[which], cc);
      return true;
    },
  },
  {
    name: "sbsetlowat",
    weight: 1,
    args: [{ name: "so", kind: "socket" }, { name: "which", kind: "sockbuf" }, { name: "lowat", kind: "length" }],
    gen: genSockbuf((so, which, r, m) => {
      const hi = m.sockets.get(so)!.hiwat[which];
      return { lowat: r[2] % 7 === 0 ? hi + 1 : r[2] % (hi + 1) };
    }),
    run: (run, a) => {
      run.pool.sbsetlowat(a.so as number, a.which as "snd", a.lowat as number);
      return run.pool.sbstat(a.so as number, a.which as "snd").lowat;
    },
    model: (m, a) => {
      const so = m.sockets.get(a.so as string)!, which = a.which as "snd";
      if ((a.lowat as number) > so.hiwat[which]) return { error: "ERANGE" };
      return (so.lowat[which] = a.lowat as number);
    },
  },
  {
    name: "soclose",
    weight: 1,
    args: [{ name: "so", kind: "socket" }],
    gen: genOn("so", sockHandle),
    run: runVoid((run, a, raw) => {
      run.pool.soclose(a.so as number);
      run.freed(raw.so as string);
    }),
    model: modelVoid((m, a) => m.closeSocket(a.so as string)),
  },
];
