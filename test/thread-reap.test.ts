// The threads of a shared pool (src/pool/threads.ts): threads() lists every
// thread with its cache and its waiters; a worker that is terminated without
// closing its Pool is reaped (its cache, its waiters and its slot come back,
// and with `owners` every chain and socket its tags hold), even if it died
// inside a fast path; one that died holding the pool lock is refused, not
// waited on forever; freeOwned frees by owner tag on any pool.
import { describe, it, expect } from "vitest";
import { threadId } from "node:worker_threads";
import { Pool } from "mbufpool";
import { spawnShared } from "./shared-worker.js";
import { makePool, code, pattern, BUILD } from "./helpers.js";

const small = { "kern.ipc.maxmbufmem": 1024 * 1024, "kern.ipc.nmbclusters": 4 };

describe("the threads of a shared pool", () => {
  it("threads() names every thread, its cache and its waiters, from any thread", async () => {
    const pool = makePool({ shared: true, tunables: small });
    const w = spawnShared(pool.shareHandle());
    try {
      expect(await w.ask({ cmd: "churn", n: 10 })).toBe(10);
      const list = pool.threads();
      expect(list.map((t) => [t.threadId, t.self])).toEqual([[threadId, true], [w.w.threadId, false]]);
      expect(list[1].cache.mbufs).toBeGreaterThan(0);
      expect(list[1].cache.mbufs).toBe(pool.stats().mbufs.cache - list[0].cache.mbufs);
      // A waiter: the zone ran dry, so every cache went back first.
      const held = [pool.getcl(), pool.getcl(), pool.getcl(), pool.getcl()];
      expect(await w.ask({ cmd: "wait", id: 1, call: "getclWait" })).toBe(1);
      const theirs = pool.threads()[1];
      expect([theirs.waiters, theirs.receivers, theirs.cache.mbufs]).toEqual([1, 0, 0]);
      const there = await w.ask<{ threadId: number; self: boolean }[]>({ cmd: "call", name: "threads", args: [] });
      expect(there.map((t) => [t.threadId, t.self])).toEqual([[threadId, false], [w.w.threadId, true]]);
      pool.freem(held.pop()!); // serves the worker's waiter
      for (const m of held) pool.freem(m);
    } finally {
      await w.close();
    }
    expect(pool.threads().map((t) => t.threadId)).toEqual([threadId]);
  });

  it("refuses an unshared pool, its own thread, an id no slot holds and bad options", async () => {
    expect(code(() => makePool().threads())).toBe("ESTATE");
    expect(code(() => makePool().reapThread(1))).toBe("ESTATE");
    const pool = makePool({ shared: true });
    expect(code(() => pool.reapThread(threadId))).toBe("ESTATE");
    expect(code(() => pool.reapThread(123456))).toBe("EINVAL");
    for (const bad of [-1, 1.5, "2", null]) expect(code(() => pool.reapThread(bad as number))).toBe("EINVAL");
    expect(code(() => pool.reapThread(123456, { owner: 1 } as never))).toBe("EINVAL");
    for (const owners of [5, { from: 2, to: 1 }, { from: 0 }, { from: 0, to: 1, x: 1 }]) {
      expect(code(() => pool.reapThread(123456, { owners: owners as never }))).toBe("EINVAL");
      expect(code(() => pool.freeOwned(owners as never))).toBe("EINVAL");
    }
    pool.close();
    expect(code(() => pool.threads())).toBe("ECLOSED");
  });

  it("a terminated worker is reaped: its cache, waiter, slot and what its tags held come back", async () => {
    const pool = makePool({ shared: true, tunables: small });
    const w = spawnShared(pool.shareHandle());
    const tid = w.w.threadId;
    // What it leaves: a cache, chains and a socket under tag 77, a waiter for a cluster.
    expect(await w.ask({ cmd: "churn", n: 20 })).toBe(20);
    expect(await w.ask({ cmd: "call", name: "setOwner", args: [77] })).toBeNull();
    const chain = await w.ask<number>({ cmd: "alloc", len: 3000, seed: 1 });
    const so = await w.ask<number>({ cmd: "call", name: "socreate", args: [] });
    expect(await w.ask({ cmd: "call", name: "sbwrite", args: [so, "rcv", pattern(700, 2)] })).toBe(true);
    // Another owner's chain shares a cluster of the worker's: it must survive the reap whole.
    pool.setOwner(5);
    const copy = pool.copym(chain);
    const rest: number[] = [];
    for (let m = pool.getcl(); m !== 0; m = pool.getcl()) rest.push(m);
    expect(await w.ask({ cmd: "wait", id: 1, call: "getclWait" })).toBe(1);
    await w.w.terminate();
    await w.exited;

    const left = pool.threads().find((t) => t.threadId === tid)!; // its slot is still claimed
    const r = pool.reapThread(tid, { owners: { from: 77, to: 78 } });
    expect(r.threadId).toBe(tid);
    expect(r.cache).toBe(left.cache.mbufs + left.cache.clusters);
    expect(r.waiters).toBe(1);
    expect(r.freed).toMatchObject({ chains: 1, sockets: 1 });
    expect(r.freed!.mbufs).toBeGreaterThanOrEqual(4);
    expect(pool.threads().map((t) => t.threadId)).toEqual([threadId]);
    expect(pool.copydata(copy)).toEqual(pattern(3000, 1));
    expect(pool.audit().message).toBe("clean");
    expect(code(() => pool.reapThread(tid))).toBe("EINVAL"); // reaped already
    // No waiter is counted any more: a free here wakes nobody, and the slot is there for a new thread.
    pool.freem(copy);
    for (const m of rest) pool.freem(m);
    const again = spawnShared(pool.shareHandle());
    expect(await again.ask({ cmd: "churn", n: 3 })).toBe(3);
    await again.close();
    expect(pool.stats().mbufs.current).toBe(0);
  });

  it("a thread that died inside a fast path, its reader flag raised, is reaped and the lock works again", async () => {
    const pool = makePool({ shared: true });
    const w = spawnShared(pool.shareHandle());
    const tid = w.w.threadId;
    expect(await w.ask({ cmd: "churn", n: 4 })).toBe(4);
    await w.w.terminate();
    // What a thread killed between raising and lowering its slot's active word leaves.
    const lock = (pool as unknown as { lock: { writeSlot(s: number, f: number, v: number): void } }).lock;
    const slot = pool.threads().find((t) => t.threadId === tid)!.slot;
    lock.writeSlot(slot, 0, 1);
    // Before the reap a locked call waits a second for the flag, then gives the lock back: no hang.
    const t0 = performance.now();
    expect(code(() => pool.stats())).toBe("ETIMEDOUT");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(900);
    expect(pool.reapThread(tid).cache).toBeGreaterThan(0);
    expect(pool.stats().mbufs.current).toBe(0); // a locked call: it would spin forever on the flag
    expect(pool.audit().message).toBe("clean");
  });

  it("a thread that died holding the pool lock is refused (ESTATE), not waited on forever", async () => {
    // Not makePool's: this pool is wedged for good, so nothing may audit or close it after.
    const pool = Pool.create({ build: BUILD, shared: true, tunables: small });
    const w = spawnShared(pool.shareHandle());
    const tid = w.w.threadId;
    expect(await w.ask({ cmd: "holdLock" })).toBe("holding");
    await w.w.terminate();
    const e = (() => { try { pool.reapThread(tid); } catch (x) { return x as Error & { code: string }; } return null; })();
    expect(e?.code).toBe("ESTATE");
    expect(e?.message).toContain("holding the pool lock");
  });
});

describe("freeOwned", () => {
  it("frees the chains and sockets of an owner range and nothing else, on an unshared pool too", () => {
    const pool = makePool();
    pool.setOwner(5);
    const mine = pool.getcl();
    expect(pool.append(mine, pattern(5000, 3))).toBe(true);
    const so = pool.socreate();
    expect(pool.sbwrite(so, "snd", pattern(4000, 4))).toBe(true);
    pool.setOwner(6);
    const theirs = pool.copym(mine); // shares mine's clusters
    const other = pool.get();
    const before = pool.stats();
    const r = pool.freeOwned((o) => o === 5);
    expect(r).toMatchObject({ chains: 1, sockets: 1 });
    expect(r.mbufs).toBe(before.mbufs.current - pool.stats().mbufs.current);
    expect(pool.copydata(theirs)).toEqual(pattern(5000, 3));
    expect(pool.freeOwned({ from: 5, to: 6 })).toEqual({ chains: 0, sockets: 0, mbufs: 0, clusters: 0 });
    expect(pool.freeOwned({ from: 6, to: 7 })).toMatchObject({ chains: 2, sockets: 0 });
    expect(code(() => pool.freem(other))).toBe("EDOUBLEFREE");
    expect(pool.stats().mbufs.current).toBe(0);
    // A predicate that throws: the error comes out, the pool stays consistent.
    pool.setOwner(9);
    const a = pool.get();
    expect(() => pool.freeOwned(() => { throw new Error("boom"); })).toThrow("boom");
    pool.freem(a);
  });
});
