// netm on a shared pool (src/pool/shared-netm.ts): one set of books for every
// thread, the period kept by the thread that created the pool, a tick from any
// thread (a worker's own kick after a denied request included), the creator's
// settings followed by the threads that attach, and netm's end with the
// creator's pool.
import { describe, it, expect } from "vitest";
import { VirtualClock, type NetmStats } from "mbufpool";
import { spawnShared, type SharedWorker } from "./shared-worker.js";
import { makePool } from "./helpers.js";

/** Takes clusters in `w` (getcl, one call each) until one is denied or `n` are held. */
async function takeIn(w: SharedWorker, n: number): Promise<number[]> {
  const held: number[] = [];
  while (held.length < n) {
    const m = await w.ask<number>({ cmd: "call", name: "getcl", args: [] });
    if (m === 0) break;
    held.push(m);
  }
  return held;
}

describe("netm on a shared pool", () => {
  it("keeps one book for every thread: the creator's period grows what a worker took, a worker's tick counts in both", async () => {
    const clock = new VirtualClock();
    const pool = makePool({ shared: true, profile: "aix", clock });
    const w = spawnShared(pool.shareHandle());
    try {
      expect(pool.stats().clusters.cache).toBe(29);
      const held = await takeIn(w, 20);
      expect(held.length).toBe(20);
      expect(pool.stats().clusters.cache).toBe(9); // the worker's cache counts as free
      expect(await w.ask<NetmStats>({ cmd: "netm" })).toEqual(pool.stats().netm);
      clock.advance(100); // the creator's period: one dispatch, under the lock
      const s = pool.stats();
      expect(s.clusters.cache).toBe(29);
      expect(s.netm).toMatchObject({ enabled: true, ticks: 1, runs: 1, growths: 1, clustersAdded: 20 });
      expect(await w.ask<NetmStats>({ cmd: "netm" })).toEqual(s.netm);
      // A tick of the worker's own: counted in the one book, nothing to do (the marks hold).
      const after = await w.ask<NetmStats>({ cmd: "netm", tick: true });
      expect(after).toMatchObject({ ticks: 2, runs: 1 });
      expect(pool.stats().netm).toEqual(after);
      for (const m of held) pool.freem(m);
      expect(pool.audit().ok).toBe(true);
    } finally {
      await w.close();
    }
  });

  it("a worker's denied request kicks a tick on the worker's clock: the creator's period need not come", async () => {
    const pool = makePool({ shared: true, profile: "aix", clock: new VirtualClock() }); // its period never runs
    const w = spawnShared(pool.shareHandle());
    try {
      const held = await takeIn(w, 1000);
      expect(held.length).toBe(29); // aix never grows inside an allocation
      expect(pool.stats().clusters.denied).toBeGreaterThan(0);
      // The worker's dispatch, 10 ms after the denial on its real clock.
      let s = pool.stats();
      for (let i = 0; i < 200 && s.netm.runs === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        s = pool.stats();
      }
      expect(s.netm).toMatchObject({ runs: 1, growths: 1 });
      expect(s.clusters.cache).toBeGreaterThan(0);
      expect(await w.ask<number>({ cmd: "call", name: "getcl", args: [] })).toBeGreaterThan(0);
      expect(pool.stats().clusters.denied).toBe(s.clusters.denied);
      for (const m of held) pool.freem(m);
      await w.ask({ cmd: "call", name: "freem", args: [pool.outstanding().groups[0].mbufs[0].handle] });
      expect(pool.stats().clusters.current).toBe(0);
    } finally {
      await w.close();
    }
  });

  it("an attached thread follows the creator's settings, its own marks included, and netm ends with the creator's pool", async () => {
    const clock = new VirtualClock();
    const pool = makePool({
      shared: true, profile: "freebsd4", clock, netm: { lowclust: 10, lowmbuf: 32, intervalMs: 1000 },
      tunables: { "kern.ipc.nmbclusters": 64, "kern.ipc.nmbufs": 256 },
    });
    const w = spawnShared(pool.shareHandle());
    try {
      expect(pool.stats().clusters.total).toBe(0);
      const s = await w.ask<NetmStats>({ cmd: "netm", tick: true }); // the creator's marks, in the worker
      expect(s).toMatchObject({ enabled: true, ticks: 1, runs: 1, growths: 1, clustersAdded: 10, mbufsAdded: 32 });
      expect(pool.stats().clusters.cache).toBe(10);
      expect(pool.stats().mbufs.cache).toBe(32);
      pool.close();
      expect(await w.ask<NetmStats>({ cmd: "netm", tick: true })).toMatchObject({ enabled: false, ticks: 1 });
      expect(await w.ask<{ ok: boolean }>({ cmd: "audit" })).toMatchObject({ ok: true });
    } finally {
      await w.close();
    }
  });

  it("a shared pool without netm has none in any thread", async () => {
    const pool = makePool({ shared: true, profile: "aix", netm: false });
    const w = spawnShared(pool.shareHandle());
    try {
      expect(pool.netm).toBeUndefined();
      expect(await w.ask({ cmd: "netm" })).toBeNull();
      expect(pool.stats().netm.enabled).toBe(false);
    } finally {
      await w.close();
    }
  });
});
