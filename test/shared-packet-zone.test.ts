// The packet zone of a shared pool (pool/shared-packet-zone.ts): one cache of
// joined pairs for every thread, hit and refilled from any of them, balanced by
// the one thread that last set it, reported alike in every thread, and gone
// with its balancer.
import { describe, it, expect } from "vitest";
import { MessageChannel } from "node:worker_threads";
import { randomInt } from "node:crypto";
import { VirtualClock, M_NOWAIT, MT, type Pool } from "mbufpool";
import { spawnShared } from "./shared-worker.js";
import { makePool, code } from "./helpers.js";

type Stats = ReturnType<Pool["stats"]>;
/** What every thread must see alike: everything but the per-thread waits. */
const sharedPart = (s: Stats): object => ({ ...s, waits: undefined });
const TUNABLES = { "kern.ipc.nmbclusters": 512 };

describe("a shared pool's packet zone", () => {
  it("is off unless asked, and then every thread's m_getcl hits the one cache and every whole pair freed is parked", async () => {
    expect(makePool({ shared: true }).packetZone).toBeNull();
    const pool = makePool({ shared: true, tunables: TUNABLES, packetZone: { interval: 0 } });
    const w = spawnShared(pool.shareHandle());
    try {
      expect(await w.ask({ cmd: "packetZone" })).toEqual(pool.packetZone);
      expect(pool.packetRefill(32)).toBe(32);
      expect((await w.ask<Stats>({ cmd: "stats" })).packets.cache).toBe(32);
      // The worker's 40 packets: 32 hits, then 8 pairs joined from the zones; all 40 parked when freed.
      expect(await w.ask({ cmd: "churn", n: 40, cluster: true })).toBe(40);
      const here = pool.stats(), there = await w.ask<Stats>({ cmd: "stats" });
      expect(here.packets).toMatchObject({ mode: "median", cache: 40, current: 0 });
      expect(sharedPart(there)).toEqual(sharedPart(here));
      expect(here.mbufs.current + here.clusters.current).toBe(0);
      // No fast path hands out a cluster while the zone is on: the worker's stack keeps none.
      expect(pool.threads().find((t) => !t.self)!.cache.clusters).toBe(0);
      // Bulk calls through this thread's lane take their pairs from the cache and park them back.
      const x = pool.bulkArea();
      expect(pool.getBulk(x, 16, M_NOWAIT, MT.DATA, { cluster: true })).toBe(16);
      expect(pool.stats().packets).toMatchObject({ hits: 48, cache: 24, current: 16 });
      pool.freemBulk(x, 16);
      expect(pool.stats().packets).toMatchObject({ cache: 40, current: 0 });
      // A pair split by the worker is back in the zones, for either thread.
      expect(await w.ask({ cmd: "call", name: "packetDrain", args: [8] })).toBe(8);
      expect(pool.stats().packets.cache).toBe(32);
      expect(pool.audit().message).toBe("clean");
      expect(await w.ask<{ message: string }>({ cmd: "audit" })).toMatchObject({ message: "clean" });
    } finally {
      await w.close();
    }
  });

  it("two workers and the main thread race packets and reference copies over it; the books balance", async () => {
    const pool = makePool({ shared: true, tunables: TUNABLES, packetZone: { interval: 0 } });
    const handle = pool.shareHandle();
    const a = spawnShared(handle), b = spawnShared(handle);
    try {
      const { port1, port2 } = new MessageChannel();
      const seeds = [randomInt(1, 2 ** 31), randomInt(1, 2 ** 31)];
      let running = true;
      const main = (async () => {
        while (running) {
          const ms = Array.from({ length: 20 }, () => pool.getcl()).filter((m) => m);
          const copies = ms.map((m) => pool.copym(m)).filter((c) => c);
          for (const m of [...ms, ...copies]) pool.freem(m);
          pool.packetBalance();
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      const [ta, tb] = await Promise.all([
        a.ask<{ bad: string[] }>({ cmd: "run", seed: seeds[0], batches: 40, batchOps: 100, port: port1 }, [port1]),
        b.ask<{ bad: string[] }>({ cmd: "run", seed: seeds[1], batches: 40, batchOps: 100, port: port2 }, [port2]),
      ]);
      running = false;
      await main;
      const why = `seeds ${seeds.join(", ")}`;
      expect([...ta.bad, ...tb.bad], why).toEqual([]);
      const s = pool.stats();
      expect(s.packets.hits, why).toBeGreaterThan(0);
      expect(s.packets.parked, why).toBeGreaterThan(0);
      expect(s.packets.current, why).toBe(0);
      expect(s.mbufs.current + s.clusters.current, why).toBe(0);
      expect(s.mbufs.cache, why).toBe(s.mbufs.total);
      expect(s.census.every((n) => n === 0), why).toBe(true);
      expect(pool.audit().message, why).toBe("clean");
      expect(sharedPart(await a.ask({ cmd: "stats" })), why).toEqual(sharedPart(pool.stats()));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("the thread that last set it balances it: its timer runs the epochs, another thread's packetBalance is refused", async () => {
    const clock = new VirtualClock();
    const pool = makePool({ shared: true, clock, tunables: TUNABLES, packetZone: { mode: "watermark", interval: 100, lowat: 64, hiwat: 128, batch: 32 } });
    const w = spawnShared(pool.shareHandle());
    try {
      expect(pool.stats().packets.cache).toBe(0);
      clock.advance(100); // the epoch refills up to lowat, holding the lock
      const s = await w.ask<Stats>({ cmd: "stats" });
      expect(s.packets).toMatchObject({ mode: "watermark", cache: 64, low: 64, high: 128 });
      expect(await w.ask({ cmd: "call", name: "packetBalance", args: [] })).toEqual({ error: "ESTATE" });
      // The worker takes it over: its settings are every thread's, the main thread's timer stops.
      expect(await w.ask({ cmd: "call", name: "setPacketZone", args: [{ mode: "median", interval: 0 }] })).toBeNull();
      expect(pool.packetZone).toMatchObject({ mode: "median", interval: 0 });
      expect(code(() => pool.packetBalance())).toBe("ESTATE");
      clock.advance(1000);
      expect(pool.stats().packets.cache).toBe(64); // no epoch ran here
      // Idle demand: the worker's epoch drains what the watermark left.
      expect(await w.ask({ cmd: "call", name: "packetBalance", args: [] })).toMatchObject({ demand: 0, cache: 64, drained: 64 });
      expect(pool.stats().packets.cache).toBe(0);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await w.close();
    }
  });

  it("goes off, its pairs back in the zones, when the balancing thread closes its Pool", async () => {
    const pool = makePool({ shared: true, tunables: TUNABLES });
    const w = spawnShared(pool.shareHandle());
    const x = spawnShared(pool.shareHandle());
    try {
      expect(await w.ask({ cmd: "call", name: "setPacketZone", args: [{ interval: 0 }] })).toBeNull();
      expect(await w.ask({ cmd: "call", name: "packetRefill", args: [16] })).toBe(16);
      expect(pool.packetZone).toMatchObject({ mode: "median" });
      expect(await x.ask({ cmd: "packetZone" })).toEqual(pool.packetZone);
      expect(pool.stats().packets.cache).toBe(16);
      await w.close();
      expect(pool.packetZone).toBeNull();
      const s = pool.stats();
      expect(s.packets).toMatchObject({ mode: "off", cache: 0 });
      expect(s.mbufs.cache).toBe(s.mbufs.total);
      expect(await x.ask({ cmd: "call", name: "packetRefill", args: [1] })).toEqual({ error: "ESTATE" });
      expect(pool.audit().message).toBe("clean");
    } finally {
      await x.close();
    }
  });
});
