// One thread of the threads fuzzer (threads.ts): attaches to the shared pool
// and, round by round, runs random operations on chains it owns, keeping the
// bytes each chain should hold; it hands chains to the next thread through a
// ring and takes the previous thread's, and tries bad handles that no
// interleaving can make valid. At the end of a round it checks every chain it
// holds byte for byte, reports what it holds, and waits while the main
// thread audits (a quiescent point). Any difference is a failure, reported
// with the thread, the round and the operation.

import { parentPort, workerData } from "node:worker_threads";
import { Pool } from "../pool.js";
import { MbufError } from "../errors.js";
import type { ShareHandle } from "../pool/share.js";
import type { RingHandle, HandleRing } from "../pool/ring.js";

export interface ThreadJob {
  handle: ShareHandle;
  index: number;
  seed: number;
  /** The ring this thread pushes into and the one it pops from (null with one thread). */
  out: RingHandle | null;
  in: RingHandle | null;
  badRate: number;
}

/** main -> worker */
export type ToWorker = { go: number; ops: number } | { finish: true } | { history: number };
/** worker -> main */
export type FromWorker =
  | { paused: number; ops: number; held: number[]; sockets: number[]; sent: number[]; received: number[] }
  | { failed: string }
  | { finished: true }
  | { events: string[] };

const job = workerData as ThreadJob;
const port = parentPort!;

/** xorshift32: the thread's interleaving of operations, from its seed. */
let x = job.seed | 0 || 1;
const rnd = (n: number): number => {
  x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
  return (x >>> 0) % n;
};

/** Bytes a chain made for handing over carries: an 8-byte header (length, seed), then the pattern. */
function parcel(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(8 + len);
  new DataView(b.buffer).setUint32(0, len, true);
  new DataView(b.buffer).setUint32(4, seed, true);
  for (let i = 0; i < len; i++) b[8 + i] = (i * 31 + seed) & 255;
  return b;
}

const pool = Pool.attach(job.handle);
pool.setOwner(job.index + 1);
const out: HandleRing | null = job.out ? pool.openRing(job.out) : null;
const inp: HandleRing | null = job.in ? pool.openRing(job.in) : null;
/** The chains this thread holds, and the bytes each holds. */
const chains = new (class extends Map<number, Uint8Array> {
  override set(h: number, b: Uint8Array): this { if (!super.has(h)) note(h, `${op}: held (${b.length} bytes)`); return super.set(h, b); }
  override delete(h: number): boolean { note(h, `${op}: let go`); return super.delete(h); }
})();
/** Open sockets, and the bytes each receive buffer holds. */
const sockets = new Map<number, number>();
let sent: number[] = [], received: number[] = [];
let round = 0, op = "";
/** What this thread did with each handle, for the main thread's report of a failure. */
const history = new Map<number, string[]>();
const note = (h: number, what: string): void => {
  let e = history.get(h);
  if (!e) history.set(h, (e = []));
  if (e.length < 40) e.push(`round ${round}: ${what}`);
};

/** Chains a thread holds before it leans to freeing. */
const HOLD = 12;

class Divergence extends Error {}
const fail = (what: string): never => { throw new Divergence(what); };
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => { const c = new Uint8Array(a.length + b.length); c.set(a); c.set(b, a.length); return c; };
const pick = (): number => { const ks = [...chains.keys()]; return ks.length ? ks[rnd(ks.length)] : 0; };
const bytes = (n: number): Uint8Array => { const b = new Uint8Array(n); const s = rnd(256); for (let i = 0; i < n; i++) b[i] = (i * 7 + s) & 255; return b; };

function check(m: number): void {
  const want = chains.get(m)!;
  const got = pool.copydata(m);
  if (!same(got, want)) fail(`chain ${m} holds ${got.length} bytes that differ from the ${want.length} it should`);
}

/** Expects `fn` to throw MbufError `code`. */
function refused(fn: () => unknown, code: string, what: string): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof MbufError && e.code === code) return;
    fail(`${what}: ${e instanceof MbufError ? e.code : String(e)}, expected ${code}`);
  }
  fail(`${what} was accepted, expected ${code}`);
}

/** One random operation. */
function step(): void {
  const m = pick();
  // A thread holding many chains gives some back: the pool runs dry in bursts, not for good.
  if (chains.size > HOLD && rnd(2)) {
    op = "freem";
    pool.freem(m);
    chains.delete(m);
    return;
  }
  const k = rnd(100);
  if (k < 18) {
    op = "alloc";
    const kind = rnd(3);
    const h = kind === 0 ? pool.get() : kind === 1 ? pool.gethdr() : pool.getcl();
    if (h === 0) return;
    const data = bytes(rnd(3000));
    if (!pool.append(h, data)) { pool.freem(h); return; }
    chains.set(h, data);
  } else if (k < 32) {
    op = "freem";
    if (m === 0) return;
    pool.freem(m);
    chains.delete(m);
  } else if (k < 40) {
    op = "copym";
    if (m === 0) return;
    const c = pool.copym(m);
    if (c !== 0) chains.set(c, chains.get(m)!);
  } else if (k < 48) {
    op = "append";
    if (m === 0) return;
    const data = bytes(rnd(2500));
    if (pool.append(m, data)) chains.set(m, concat(chains.get(m)!, data));
  } else if (k < 54) {
    op = "adj";
    if (m === 0) return;
    const want = chains.get(m)!, n = rnd(want.length + 1);
    if (rnd(2)) { pool.adj(m, n); chains.set(m, want.subarray(n)); } else { pool.adj(m, -n); chains.set(m, want.subarray(0, want.length - n)); }
  } else if (k < 60) {
    op = "split";
    if (m === 0) return;
    const want = chains.get(m)!;
    if (want.length < 2) return;
    const off = 1 + rnd(want.length - 1);
    const t = pool.split(m, off);
    if (t === 0) return;
    chains.set(m, want.subarray(0, off));
    chains.set(t, want.subarray(off));
  } else if (k < 66) {
    op = "check";
    if (m !== 0) check(m);
  } else if (k < 70) {
    op = "churn"; // the fast path: this thread's cache
    const got: number[] = [];
    for (let i = 0, n = 1 + rnd(80); i < n; i++) got.push(rnd(2) ? pool.get() : pool.getcl());
    for (const h of got) if (h !== 0) pool.free(h);
  } else if (k < 74) {
    bulk();
  } else if (k < 82) {
    op = "send";
    if (!out) return;
    const h = pool.getcl();
    if (h === 0) return;
    const data = parcel(rnd(3000), rnd(1 << 30));
    if (!pool.append(h, data)) { pool.freem(h); return; }
    if (out.push(h)) { sent.push(h); note(h, "sent"); } else pool.freem(h);
  } else if (k < 90) {
    op = "receive";
    for (let h = inp ? inp.pop() : 0; h !== 0; h = inp!.pop()) {
      const got = pool.copydata(h);
      const v = new DataView(got.buffer, got.byteOffset, got.length);
      if (got.length < 8 || !same(got, parcel(v.getUint32(0, true), v.getUint32(4, true)))) fail(`chain ${h} from the previous thread holds other bytes than it was sent with`);
      received.push(h);
      chains.set(h, got);
    }
  } else if (k < 96) {
    op = "socket";
    const so = [...sockets.keys()][0];
    if (so === undefined || rnd(3) === 0) {
      if (so !== undefined) { pool.soclose(so); sockets.delete(so); return; }
      const s = pool.socreate({ rcvHiwat: 8192, sndHiwat: 8192 });
      if (s !== 0) sockets.set(s, 0);
      return;
    }
    const data = bytes(1 + rnd(3000));
    if (pool.sbwrite(so, "rcv", data)) sockets.set(so, sockets.get(so)! + data.length);
    const cc = sockets.get(so)!, drop = rnd(cc + 1);
    pool.sbdrop(so, "rcv", drop);
    sockets.set(so, cc - drop);
    if (pool.sbcc(so, "rcv") !== cc - drop) fail(`socket ${so} holds ${pool.sbcc(so, "rcv")} bytes, expected ${cc - drop}`);
  } else {
    op = "bad handle";
    if (m === 0 || rnd(100) >= job.badRate * 100 * 6) return;
    // Inside an mbuf this thread holds: no other thread can make it a head.
    refused(() => pool.freem(m + 4), "EBADHANDLE", `freem(${m} + 4)`);
    refused(() => pool.copydata(m, chains.get(m)!.length + 1, 1), "ERANGE", `copydata past the end of ${m}`);
  }
}

/**
 * The bulk calls, through this thread's lane: a batch allocated and freed in place; or
 * some held chains freed in one freemBulk, sometimes spoiled first by a handle given
 * twice, which must fail whole and leave every chain as it was.
 */
function bulk(): void {
  if (rnd(2)) {
    op = "bulk churn";
    const area = pool.bulkArea(), n = 1 + rnd(pool.bulkMax);
    const got = pool.getBulk(area, n, undefined, undefined, { cluster: rnd(2) === 1, pkthdr: rnd(2) === 1 });
    for (let i = 0; i < got; i++) if (pool.length(area[i]) !== 0) fail(`getBulk gave ${area[i]} holding bytes`);
    pool.freemBulk(area, got);
    return;
  }
  op = "bulk free";
  // One batch, with room for the spoiling handle: a second batch would free the first.
  const hs = [...chains.keys()].slice(0, 1 + rnd(Math.min(chains.size, pool.bulkMax - 1)));
  if (chains.size === 0) return;
  if (hs.length > 1 && rnd(4) === 0) {
    refused(() => pool.freemBulk([...hs, hs[0]]), "EDOUBLEFREE", `freemBulk of ${hs.length} chains and the first again`);
    for (const m of hs) check(m);
    return;
  }
  pool.freemBulk(hs);
  for (const m of hs) chains.delete(m);
}

function runRound(ops: number): FromWorker {
  for (let i = 0; i < ops; i++) step();
  op = "end-of-round check";
  for (const m of chains.keys()) check(m);
  const r: FromWorker = { paused: round, ops, held: [...chains.keys()], sockets: [...sockets.keys()], sent, received };
  sent = [];
  received = [];
  return r;
}

function finish(): void {
  // What the previous thread sent last is this thread's to free.
  for (let h = inp ? inp.pop() : 0; h !== 0; h = inp!.pop()) pool.freem(h);
  for (const m of chains.keys()) pool.freem(m);
  for (const so of sockets.keys()) pool.soclose(so);
  chains.clear();
  sockets.clear();
}

port.on("message", (msg: ToWorker) => {
  try {
    if ("history" in msg) {
      port.postMessage({ events: history.get(msg.history) ?? [] } satisfies FromWorker);
      return;
    }
    if ("finish" in msg) {
      finish();
      pool.close();
      port.postMessage({ finished: true } satisfies FromWorker);
      port.close();
      return;
    }
    round = msg.go;
    port.postMessage(runRound(msg.ops));
  } catch (e) {
    const what = e instanceof Divergence ? e.message : `${e instanceof MbufError ? `${e.code}: ` : ""}${e instanceof Error ? e.message : String(e)}`;
    port.postMessage({ failed: `thread ${job.index}, round ${round}, ${op}: ${what}` } satisfies FromWorker);
  }
});
