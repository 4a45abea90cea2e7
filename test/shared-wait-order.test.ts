// One order for the waiters of every thread of a shared pool (waiting/order.ts):
// receive class first, then arrival, whichever thread waits and whichever frees.
// A waiter lets an earlier waiter of another thread go first when the pool can
// serve that one; a waiter the pool cannot serve holds back no other zone; a
// thread that is gone holds nobody back once it is reaped.
import { describe, it, expect } from "vitest";
import { M_WAITOK, MT } from "mbufpool";
import { exhausted, sharedCounts, RECV } from "./shared-waiters.js";
import { spawnShared } from "./shared-worker.js";

/** A promise's outcome so far: its handle, or "pending". */
function track(p: Promise<number>): { now: number | "pending" } {
  const t: { now: number | "pending" } = { now: "pending" };
  void p.then((m) => { t.now = m; });
  return t;
}

/** Lets the workers' wake-ups and replies run. */
const turns = (n = 20) => new Promise<void>((resolve) => {
  const step = (k: number): void => { if (k === 0) resolve(); else setTimeout(() => step(k - 1), 1); };
  step(n);
});

describe("one order for every thread's waiters", () => {
  it("the freeing thread's own waiter lets earlier waiters of other threads go first, receivers before all", async () => {
    const { pool, packets, mbufs } = exhausted();
    const a = spawnShared(pool.shareHandle()), b = spawnShared(pool.shareHandle());
    try {
      await a.ask({ cmd: "wait", id: "a1", call: "getWait" });
      const mine = track(pool.getWait(M_WAITOK, MT.DATA));
      await b.ask({ cmd: "wait", id: "recv", call: "getWait", how: RECV });
      expect(sharedCounts(pool)).toEqual([3, 0]);
      // The first mbuf back is b's receiver's, though it came last and this thread freed it.
      const one = mbufs.pop()!;
      pool.free(one);
      expect(mine.now).toBe("pending");
      expect(await b.settled("recv")).toEqual({ settled: "recv", m: one });
      await turns();
      expect(a.outcomes.has("a1")).toBe(false);
      expect(mine.now).toBe("pending");
      // The second is a's, which waited before this thread's.
      const two = mbufs.pop()!;
      pool.free(two);
      expect(mine.now).toBe("pending");
      expect(await a.settled("a1")).toEqual({ settled: "a1", m: two });
      await turns();
      expect(mine.now).toBe("pending");
      // The third is this thread's.
      const three = mbufs.pop()!;
      pool.free(three);
      await turns(2);
      expect(mine.now).toBe(three);
      expect(sharedCounts(pool)).toEqual([0, 0]);
      for (const m of [one, two, three, ...packets, ...mbufs]) pool.freem(m);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await Promise.all([a.w.terminate(), b.w.terminate()]);
    }
  });

  it("a new waiting request does not take the buffer a free left for another thread's waiter", async () => {
    const { pool, packets, mbufs } = exhausted();
    const a = spawnShared(pool.shareHandle());
    try {
      await a.ask({ cmd: "wait", id: "a1", call: "getWait" });
      // Free and ask again in one turn, before the worker has run: the mbuf is still a's.
      const one = mbufs.pop()!;
      pool.free(one);
      const mine = track(pool.getWait(M_WAITOK, MT.DATA));
      expect(await a.settled("a1")).toEqual({ settled: "a1", m: one });
      await turns();
      expect(mine.now).toBe("pending");
      const two = mbufs.pop()!;
      pool.free(two);
      await turns(2);
      expect(mine.now).toBe(two);
      for (const m of [one, two, ...packets, ...mbufs]) pool.freem(m);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await a.w.terminate();
    }
  });

  it("an earlier waiter the pool cannot serve holds back only the zone it lacks", async () => {
    const { pool, packets, mbufs } = exhausted();
    const a = spawnShared(pool.shareHandle());
    try {
      // a's getcl waits first, for an mbuf and a cluster; this thread's get, after it, for an mbuf.
      await a.ask({ cmd: "wait", id: "cl", call: "getclWait" });
      const mine = track(pool.getWait(M_WAITOK, MT.DATA));
      // An mbuf alone back: a's getcl still lacks a cluster, so the mbuf is this thread's.
      const one = mbufs.pop()!;
      pool.free(one);
      await turns(2);
      expect(mine.now).toBe(one);
      expect(a.outcomes.has("cl")).toBe(false);
      // A packet back: the pair is a's.
      const pkt = packets.pop()!;
      pool.freem(pkt);
      expect((await a.settled("cl")).m).toBe(pkt);
      for (const m of [one, pkt, ...packets, ...mbufs]) pool.freem(m);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await a.w.terminate();
    }
  });

  it("a buffer the serving thread's cache took from the zone still serves the next waiter", async () => {
    const { pool, packets, mbufs } = exhausted();
    const b = spawnShared(pool.shareHandle());
    try {
      await b.ask({ cmd: "wait", id: "b1", call: "getWait" });
      const mine = pool.getWait(M_WAITOK, MT.DATA, { timeout: 5000 });
      // Two mbufs back: b's waiter is served first, and b's cache takes the other from the zone.
      const two = [mbufs.pop()!, mbufs.pop()!];
      pool.free(two[0]);
      pool.free(two[1]);
      const got = [(await b.settled("b1")).m, await mine];
      expect(got.sort()).toEqual([...two].sort());
      for (const m of [...got, ...packets, ...mbufs]) pool.freem(m!);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await b.w.terminate();
    }
  });

  it("three workers and this thread waiting in turn on a pool run dry: every request is served", async () => {
    const { pool, packets, mbufs } = exhausted();
    // One packet to go round: one thread holds it while the others wait.
    pool.freem(packets.pop()!);
    const workers = [spawnShared(pool.shareHandle()), spawnShared(pool.shareHandle()), spawnShared(pool.shareHandle())];
    try {
      const rounds = 100, timeout = 10_000;
      const mine = (async () => {
        let served = 0;
        for (let i = 0; i < rounds; i++) {
          const m = await (i % 2 ? pool.getclWait(M_WAITOK, MT.DATA, undefined, { timeout }) : pool.getWait(M_WAITOK, MT.DATA, { timeout }));
          served++;
          await new Promise((resolve) => setTimeout(resolve, 0));
          pool.freem(m);
        }
        return served;
      })();
      const tallies = await Promise.all(workers.map((w, i) => w.ask<{ served: number; failed: string[]; waited: number }>({ cmd: "waitChurn", seed: 11 + i, rounds, timeout })));
      for (const t of tallies) expect(t).toEqual({ served: rounds, failed: [], waited: expect.any(Number) });
      expect(await mine).toBe(rounds);
      // Most requests waited: the test is of waiting.
      expect(tallies.reduce((n, t) => n + t.waited, pool.stats().waits.waited)).toBeGreaterThan(rounds);
      expect(sharedCounts(pool)).toEqual([0, 0]);
      expect(pool.stats().waits.waiting).toBe(0);
      for (const m of [...packets, ...mbufs]) pool.freem(m);
      expect(pool.stats().mbufs.current).toBe(0);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await Promise.all(workers.map((w) => w.w.terminate()));
    }
  });

  it("a thread that closes its pool takes its waiters out of the order", async () => {
    const { pool, packets, mbufs } = exhausted();
    const a = spawnShared(pool.shareHandle());
    try {
      await a.ask({ cmd: "wait", id: "a1", call: "getWait" });
      const mine = track(pool.getWait(M_WAITOK, MT.DATA));
      expect(await a.ask({ cmd: "closeWaiting" })).toEqual([{ settled: "a1", code: "ECLOSED" }]);
      const one = mbufs.pop()!;
      pool.free(one);
      await turns(2);
      expect(mine.now).toBe(one);
      for (const m of [one, ...packets, ...mbufs]) pool.freem(m);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await a.w.terminate();
    }
  });

  it("a waiter held back by a thread that is gone is served once that thread is reaped", async () => {
    const { pool, packets, mbufs } = exhausted();
    const a = spawnShared(pool.shareHandle());
    await a.ask({ cmd: "wait", id: "a1", call: "getWait" });
    const mine = track(pool.getWait(M_WAITOK, MT.DATA));
    const id = a.w.threadId;
    await a.w.terminate();
    // a's waiter is still first in the order: this thread's waits for it.
    const one = mbufs.pop()!;
    pool.free(one);
    await turns();
    expect(mine.now).toBe("pending");
    expect(pool.reapThread(id).waiters).toBe(1);
    await turns(2);
    expect(mine.now).toBe(one);
    expect(sharedCounts(pool)).toEqual([0, 0]);
    for (const m of [one, ...packets, ...mbufs]) pool.freem(m);
    expect(pool.audit().message).toBe("clean");
  });
});
