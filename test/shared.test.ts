// One pool for the threads of a service: a shared pool, worker threads that
// attach to it and run random interleavings, chains handed between threads by
// handle, and what a shared pool refuses. Workers are test/fixtures/shared/
// worker.mjs, which imports the built package.
import { describe, it, expect } from "vitest";
import { Worker, MessageChannel } from "node:worker_threads";
import { once } from "node:events";
import { randomInt } from "node:crypto";
import { Pool, type ShareHandle } from "mbufpool";
import { spawnShared } from "./shared-worker.js";
import { makePool, code, pattern, BUILD } from "./helpers.js";



/** What every thread must see alike: everything but the per-thread waits. */
const sharedPart = (s: ReturnType<Pool["stats"]>): object => ({ ...s, waits: undefined });

interface Tally { ops: number; sent: number; received: number; copies: number; bad: string[] }

describe("shared pool", () => {
  it("two workers run random interleavings over one pool, handing chains by handle; the stats balance", async () => {
    const pool = makePool({ shared: true });
    const handle = pool.shareHandle();
    const a = spawnShared(handle), b = spawnShared(handle);
    try {
      const { port1, port2 } = new MessageChannel();
      const seeds = [randomInt(1, 2 ** 31), randomInt(1, 2 ** 31)];
      // The main thread works the pool too while the workers run: three threads on one lock.
      let running = true, mainRounds = 0, mainBad = 0;
      const main = (async () => {
        while (running) {
          for (let i = 0; i < 50; i++) {
            const m = pool.getcl(), want = pattern(1 + (i * 37) % 2000, i);
            if (!m) continue;
            if (!pool.append(m, want)) mainBad++;
            const c = pool.copym(m);
            pool.freem(m);
            if (c && !pool.copydata(c).every((v, k) => v === want[k])) mainBad++;
            if (c) pool.freem(c);
          }
          mainRounds++;
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      const [ta, tb] = await Promise.all([
        a.ask<Tally>({ cmd: "run", seed: seeds[0], batches: 60, batchOps: 100, port: port1 }, [port1]),
        b.ask<Tally>({ cmd: "run", seed: seeds[1], batches: 60, batchOps: 100, port: port2 }, [port2]),
      ]);
      running = false;
      await main;
      const why = `seeds ${seeds.join(", ")}`;
      expect(mainBad, why).toBe(0);
      expect(mainRounds, why).toBeGreaterThan(0);
      expect(ta.bad, why).toEqual([]);
      expect(tb.bad, why).toEqual([]);
      // Every chain one sent, the other read and freed.
      expect(ta.sent, why).toBe(tb.received);
      expect(tb.sent, why).toBe(ta.received);
      expect(ta.sent + tb.sent, why).toBeGreaterThan(0);
      expect(ta.copies + tb.copies, why).toBeGreaterThan(0);
      const s = pool.stats();
      expect(s.mbufs.current, why).toBe(0);
      expect(s.clusters.current, why).toBe(0);
      expect(s.mbufs.allocs, why).toBe(s.mbufs.frees);
      expect(s.clusters.allocs, why).toBe(s.clusters.frees);
      expect(s.mbufs.allocs, why).toBeGreaterThan(ta.ops / 10);
      expect(s.census.every((n) => n === 0), why).toBe(true);
      expect(pool.audit().message, why).toBe("clean");
      // At this quiescent point every thread sees the same pool.
      expect(sharedPart(await a.ask({ cmd: "stats" }))).toEqual(sharedPart(pool.stats()));
      expect(sharedPart(await b.ask({ cmd: "stats" }))).toEqual(sharedPart(pool.stats()));
      expect((await b.ask<{ message: string }>({ cmd: "audit" })).message).toBe("clean");
    } finally {
      for (const x of [a, b]) { x.w.postMessage({ cmd: "close" }); await x.exited; }
    }
  });

  it("a chain made in a worker is read and freed in place by another thread; a second free from a third is caught", async () => {
    const pool = makePool({ shared: true });
    const handle = pool.shareHandle();
    const a = spawnShared(handle), b = spawnShared(handle);
    try {
      const m = await a.ask<number>({ cmd: "alloc", len: 2000, seed: 5 });
      expect(m).toBeGreaterThan(0);
      expect(pool.copydata(m)).toEqual(pattern(2000, 5));
      expect(pool.stats().clusters.current).toBe(1);
      expect(await b.ask({ cmd: "free", m })).toBeNull();
      expect(await a.ask({ cmd: "free", m })).toBe("EDOUBLEFREE");
      expect(code(() => pool.freem(m))).toBe("EDOUBLEFREE");
      expect(await a.ask({ cmd: "free", m: m + 4 })).toBe("EBADHANDLE");
      expect(pool.stats().clusters.current).toBe(0);
      expect(sharedPart(await a.ask({ cmd: "stats" }))).toEqual(sharedPart(pool.stats()));
    } finally {
      for (const x of [a, b]) { x.w.postMessage({ cmd: "close" }); await x.exited; }
    }
  });

  it("an attached thread refuses a packet refill without a packet zone, and grows the shared zones", async () => {
    const pool = makePool({ shared: true });
    const a = spawnShared(pool.shareHandle());
    try {
      const before = pool.stats().mbufs.total;
      const r = await a.ask<Record<string, string | null>>({ cmd: "refusals" });
      expect(r).toEqual({ packetRefill: "ESTATE", grow: null });
      expect(pool.stats().mbufs.total).toBeGreaterThanOrEqual(Math.max(before, 64));
      expect(pool.stats().mbufs.cache).toBeGreaterThanOrEqual(64);
    } finally {
      a.w.postMessage({ cmd: "close" });
      await a.exited;
    }
  });

  it("each thread stamps its own owner tag; a thread attaches once per pool", async () => {
    const pool = makePool({ shared: true });
    const a = spawnShared(pool.shareHandle());
    try {
      pool.setOwner(7);
      const m1 = pool.get();
      const m2 = await a.ask<number>({ cmd: "owned", tag: 9 });
      const m3 = pool.get();
      const owners = new Map(pool.outstanding().groups.map((g) => [g.owner, g.count]));
      expect(owners).toEqual(new Map([[7, 2], [9, 1]]));
      for (const m of [m1, m2, m3]) pool.free(m);
      // This thread has the creator's instance: a second would wait on its own lock.
      expect(code(() => Pool.attach(pool.shareHandle()))).toBe("ESTATE");
      expect(await a.ask({ cmd: "attachAgain" })).toBe("ESTATE");
    } finally {
      a.w.postMessage({ cmd: "close" });
      await a.exited;
    }
    // Once the creator's instance is closed, the thread may attach; the pool lives on.
    const h = pool.shareHandle();
    const m = pool.getcl();
    pool.close();
    const again = Pool.attach(h);
    try {
      expect(again.build).toBe(BUILD);
      expect(again.shared && again.pinned).toBe(true);
      expect(again.stats().clusters.current).toBe(1);
      again.freem(m);
      expect(code(() => again.freem(m))).toBe("EDOUBLEFREE");
      expect(again.audit().message).toBe("clean");
    } finally {
      again.close();
    }
  });

  it("Pool.attach refuses anything but a share handle of this version over a shared pool's memory, as EINVAL", () => {
    const pool = makePool({ shared: true });
    const h = pool.shareHandle();
    for (const bad of [undefined, null, 42, "handle", [], {}, { ...h, kind: "other" }]) {
      expect(code(() => Pool.attach(bad as unknown as ShareHandle))).toBe("EINVAL");
    }
    expect(code(() => Pool.attach({ ...h, version: 2 }))).toBe("EINVAL");
    expect(code(() => Pool.attach({ ...h, extra: 1 } as ShareHandle))).toBe("EINVAL");
    expect(code(() => Pool.attach({ ...h, memory: new WebAssembly.Memory({ initial: 1 }) }))).toBe("EINVAL");
    const pages = h.memory.buffer.byteLength / 65536;
    expect(code(() => Pool.attach({ ...h, memory: new WebAssembly.Memory({ initial: 2, maximum: 2, shared: true }) }))).toBe("EINVAL");
    // The right size, shared, but no pool in it.
    expect(code(() => Pool.attach({ ...h, memory: new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }) }))).toBe("EINVAL");
    expect(code(() => Pool.attach({ ...h, build: "fast" as "release" }))).toBe("EINVAL");
    expect(code(() => Pool.attach(h, { profile: "aix" } as object))).toBe("EINVAL");
    expect(pool.audit().message).toBe("clean");
  });

  it("an attach refused for a bad option leaves nothing attached: the thread attaches next time", async () => {
    const pool = makePool({ shared: true });
    const w = new Worker(`
      const { parentPort, workerData } = require("node:worker_threads");
      import("mbufpool").then(({ Pool }) => {
        let first = "attached";
        try { Pool.attach(workerData, { pollMs: 0 }); } catch (e) { first = e.code; }
        const p = Pool.attach(workerData);
        const m = p.get();
        p.free(m);
        p.close();
        parentPort.postMessage({ first, got: m !== 0 });
      }).catch((e) => parentPort.postMessage({ error: String(e) }));
    `, { eval: true, workerData: pool.shareHandle() });
    const exited = new Promise<void>((resolve) => w.once("exit", () => resolve()));
    const [r] = await once(w, "message");
    expect(r).toEqual({ first: "EINVAL", got: true });
    await exited;
    expect(pool.audit().message).toBe("clean");
  });

  it("Pool.create validates shared and refuses what a shared pool cannot share", () => {
    expect(code(() => makePool({ shared: "yes" as unknown as boolean }))).toBe("EINVAL");
    expect(code(() => makePool({ shared: true, pinned: false }))).toBe("EINVAL");
    expect(code(() => makePool({ shared: true, netm: { lowclust: -1 } }))).toBe("EINVAL");
    expect(code(() => makePool({ shared: true, netm: { period: 5 } as object }))).toBe("EINVAL");
    // The automatic reservation flag follows the receivers of every thread (shared-wait.test.ts).
    expect(makePool({ shared: true, reserveFlag: true }).stats().waits.autoFlag).toBe(true);
    expect(code(() => makePool().shareHandle())).toBe("ESTATE");
    const pool = makePool({ shared: true, profile: "aix", netm: false });
    expect(pool.netm).toBeUndefined(); // on by default on aix (shared-netm.test.ts)
    expect(pool.packetZone).toBeNull(); // unless asked (shared-packet-zone.test.ts)
    expect(pool.sysctl("thewall")).toBeGreaterThan(0);
    // What is shared works as on any pool, under the lock.
    const m = pool.getcl();
    expect(pool.append(m, pattern(5000))).toBe(true);
    const c = pool.copym(m);
    pool.freem(m);
    expect(pool.copydata(c)).toEqual(pattern(5000));
    pool.freem(c);
    pool.close();
    expect(code(() => pool.shareHandle())).toBe("ECLOSED");
  });
});
