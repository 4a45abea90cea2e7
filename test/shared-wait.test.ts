// Waiting across the threads of a shared pool: a free in one thread serves a
// waiter in another (no timer: the promise settles because of the free), in
// one order for every thread's waiters (shared-wait-order.test.ts tests the
// order itself); timeouts and close leave the shared counts right;
// the automatic reservation flag follows the receivers of every thread.
// Workers are test/fixtures/shared/worker.mjs, over the built package.
import { describe, it, expect } from "vitest";
import { exhausted, sharedCounts, RECV } from "./shared-waiters.js";
import { spawnShared, type Settled } from "./shared-worker.js";

describe("waiting across threads", () => {
  it("a free in the main thread serves a worker's waiters, receive class first, then in order", async () => {
    const { pool, packets, mbufs } = exhausted();
    const a = spawnShared(pool.shareHandle()), b = spawnShared(pool.shareHandle());
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
      // A packet back: a's getcl came before b's first waiter, and needs the mbuf too: the pair is a's.
      const pkt = packets.pop()!;
      pool.freem(pkt);
      const getcl = await a.settled("getcl");
      expect(getcl.m).toBe(pkt);
      expect(await b.ask<number>({ cmd: "waiting" })).toBe(1);
      // Another packet: b's first waiter has its mbuf.
      pool.freem(packets.pop()!);
      const first = await b.settled("first");
      expect(first.m).toBeGreaterThan(0);
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
    const a = spawnShared(pool.shareHandle()), b = spawnShared(pool.shareHandle());
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
    const a = spawnShared(pool.shareHandle());
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
    const a = spawnShared(pool.shareHandle());
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
    const a = spawnShared(pool.shareHandle());
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
