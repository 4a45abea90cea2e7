// Waiting across the threads of a shared pool: a free in one thread serves a
// waiter in another (no timer: the promise settles because of the free), in
// the woken thread's order; timeouts and close leave the shared counts right;
// the automatic reservation flag follows the receivers of every thread.
// Workers are test/fixtures/shared/worker.mjs, over the built package.
import { describe, it, expect } from "vitest";
import { Worker } from "node:worker_threads";
import { M_WAITOK, M_RECV, type Pool, type ShareHandle } from "mbufpool";
import { makePool } from "./helpers.js";

const WORKER = new URL("./fixtures/shared/worker.mjs", import.meta.url);
const RECV = M_WAITOK | M_RECV;

interface Settled { settled: string; m?: number; code?: string }

/** A worker attached to `handle`: `ask` sends a command and waits for its one reply; `settled` awaits a waiter's outcome. */
function spawn(handle: ShareHandle) {
  const w = new Worker(WORKER, { workerData: { handle } });
  // Listened for at once: a worker's exit can follow its last message in the same turn.
  const exited = new Promise<void>((resolve) => w.once("exit", () => resolve()));
  const outcomes = new Map<string, Settled>();
  const wanted = new Map<string, (s: Settled) => void>();
  const replies: ((v: unknown) => void)[] = [];
  let failure: unknown = null;
  w.on("message", (msg: unknown) => {
    if (typeof msg === "object" && msg !== null && "settled" in msg) {
      const s = msg as Settled;
      outcomes.set(s.settled, s);
      wanted.get(s.settled)?.(s);
      return;
    }
    replies.shift()?.(msg);
  });
  w.on("error", (e) => { failure = e; });
  const ask = <T>(msg: object): Promise<T> => new Promise<T>((resolve, reject) => {
    if (failure) reject(failure);
    replies.push(resolve as (v: unknown) => void);
    w.postMessage(msg);
  });
  const settled = (id: string): Promise<Settled> =>
    outcomes.has(id) ? Promise.resolve(outcomes.get(id)!) : new Promise((resolve) => wanted.set(id, resolve));
  return { w, ask, settled, outcomes, exited };
}

/** The words next to the lock word: [waiters of every thread, receivers waiting for a cluster]. */
function sharedCounts(pool: Pool): [number, number] {
  const b = pool.buffer as unknown as SharedArrayBuffer;
  const w = new Int32Array(b, b.byteLength - 32, 8);
  return [Atomics.load(w, 6), Atomics.load(w, 7)];
}

/** A small shared pool, and everything it has taken: packets (mbuf + cluster), then plain mbufs. */
function exhausted(options: { reserveFlag?: boolean } = {}) {
  const pool = makePool({ shared: true, ...options, tunables: { "kern.ipc.maxmbufmem": 1024 * 1024, "kern.ipc.nmbclusters": 4 } });
  const packets: number[] = [], mbufs: number[] = [];
  for (let m = pool.getcl(); m; m = pool.getcl()) packets.push(m);
  for (let m = pool.get(); m; m = pool.get()) mbufs.push(m);
  return { pool, packets, mbufs };
}

describe("waiting across threads", () => {
  it("a free in the main thread serves a worker's waiters, receive class first, then in order", async () => {
    const { pool, packets, mbufs } = exhausted();
    const a = spawn(pool.shareHandle()), b = spawn(pool.shareHandle());
    try {
      expect(await a.ask<number>({ cmd: "wait", id: "getcl", call: "getclWait" })).toBe(1);
      expect(await b.ask<number>({ cmd: "wait", id: "first", call: "getWait" })).toBe(1);
      expect(await b.ask<number>({ cmd: "wait", id: "recv", call: "getWait", how: RECV })).toBe(2);
      expect(sharedCounts(pool)).toEqual([3, 0]);
      // One mbuf back: b's receiver has it, though it came second; a's getcl still lacks a cluster.
      const one = mbufs.pop()!;
      pool.free(one);
      const recv = await b.settled("recv");
      expect(recv).toEqual({ settled: "recv", m: one });
      expect(await b.ask<number>({ cmd: "waiting" })).toBe(1);
      expect(b.outcomes.has("first")).toBe(false);
      // A packet back: the mbuf goes to b's first waiter, or the pair to a's getcl.
      const pkt = packets.pop()!;
      pool.freem(pkt);
      const firstOrCl = await Promise.race([b.settled("first"), a.settled("getcl")]);
      expect(firstOrCl.m).toBeGreaterThan(0);
      // The rest: another packet serves whichever is left.
      pool.freem(packets.pop()!);
      const [first, getcl] = await Promise.all([b.settled("first"), a.settled("getcl")]);
      expect(first.m).toBeGreaterThan(0);
      expect(getcl.m).toBeGreaterThan(0);
      expect(await a.ask<number>({ cmd: "waiting" })).toBe(0);
      expect(sharedCounts(pool)).toEqual([0, 0]);
      for (const m of [recv.m!, first.m!, getcl.m!, ...packets, ...mbufs]) pool.freem(m);
      expect(pool.stats().mbufs.current).toBe(0);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await Promise.all([a.w.terminate(), b.w.terminate()]);
    }
  });

  it("a free in worker A serves a waiter in worker B", async () => {
    const { pool, packets, mbufs } = exhausted();
    const a = spawn(pool.shareHandle()), b = spawn(pool.shareHandle());
    try {
      expect(await b.ask<number>({ cmd: "wait", id: "cl", call: "getclWait" })).toBe(1);
      const given = packets.pop()!;
      expect(await a.ask<string | null>({ cmd: "free", m: given })).toBe(null);
      const got = await b.settled("cl");
      expect(got.m).toBe(given);
      expect(await a.ask<string | null>({ cmd: "free", m: got.m })).toBe(null);
      expect(sharedCounts(pool)).toEqual([0, 0]);
      for (const m of [...packets, ...mbufs]) pool.freem(m);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await Promise.all([a.w.terminate(), b.w.terminate()]);
    }
  });

  it("a worker's waiter still times out with ETIMEDOUT, and leaves the shared count", async () => {
    const { pool, packets, mbufs } = exhausted();
    const a = spawn(pool.shareHandle());
    try {
      await a.ask({ cmd: "wait", id: "t", call: "getclWait", timeout: 1 });
      expect(await a.settled("t")).toEqual({ settled: "t", code: "ETIMEDOUT" });
      expect(sharedCounts(pool)).toEqual([0, 0]);
      expect(pool.stats().clusters.denied).toBeGreaterThan(0);
      for (const m of [...packets, ...mbufs]) pool.freem(m);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await a.w.terminate();
    }
  });

  it("closing a worker's pool rejects its waiters ECLOSED; the shared counts and the flag drop", async () => {
    const { pool, packets, mbufs } = exhausted({ reserveFlag: true });
    const a = spawn(pool.shareHandle());
    try {
      await a.ask({ cmd: "wait", id: "r", call: "getclWait", how: RECV });
      await a.ask({ cmd: "wait", id: "o", call: "getWait" });
      expect(sharedCounts(pool)).toEqual([2, 1]);
      const out = await a.ask<Settled[]>({ cmd: "closeWaiting" });
      expect(out).toEqual([{ settled: "r", code: "ECLOSED" }, { settled: "o", code: "ECLOSED" }]);
      expect(sharedCounts(pool)).toEqual([0, 0]);
      await a.exited;
      // The flag is down: the main thread gets a cluster without M_RECV.
      pool.freem(packets.pop()!);
      const m = pool.getcl();
      expect(m).toBeGreaterThan(0);
      for (const h of [m, ...packets, ...mbufs]) pool.freem(h);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await a.w.terminate();
    }
  });

  it("reserveFlag on a shared pool: a worker's receiver keeps the free cluster from the main thread", async () => {
    const { pool, packets, mbufs } = exhausted({ reserveFlag: true });
    // One cluster free, no mbuf: a getcl waits for the mbuf, a clget could take the cluster.
    pool.freem(packets.pop()!);
    mbufs.push(pool.get());
    expect(mbufs.at(-1)).toBeGreaterThan(0);
    const a = spawn(pool.shareHandle());
    try {
      await a.ask({ cmd: "wait", id: "r", call: "getclWait", how: RECV });
      expect(sharedCounts(pool)).toEqual([1, 1]);
      expect(pool.stats().reservation.flag).toBe(true);
      // The main thread's sender is refused the cluster the worker's receiver waits for.
      const denied = pool.stats().reservedDenied;
      expect(pool.clget(mbufs[0])).toBe(false);
      expect(pool.stats().reservedDenied).toBe(denied + 1);
      // An mbuf back: the receiver gets it and the cluster.
      pool.free(mbufs.pop()!);
      const got = await a.settled("r");
      expect(got.m).toBeGreaterThan(0);
      expect(sharedCounts(pool)).toEqual([0, 0]);
      // No receiver waits now: the flag is down for every thread.
      expect(pool.stats().reservation.flag).toBe(false);
      pool.freem(got.m!);
      expect(pool.clget(mbufs[0])).toBe(true);
      for (const h of [...packets, ...mbufs]) pool.freem(h);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await a.w.terminate();
    }
  });
});
