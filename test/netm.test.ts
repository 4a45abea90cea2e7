import { describe, it, expect } from "vitest";
import { VirtualClock, M_WAITOK, MT, M_PKTHDR, type Pool } from "mbufpool";
import { makePool } from "./helpers.js";

/** Takes `n` clusters (mbuf+cluster packets) without waiting. */
function take(pool: Pool, n: number): number[] {
  const held: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = pool.getcl();
    if (!m) break;
    held.push(m);
  }
  return held;
}

describe("netm (deferred pool management)", () => {
  it("grows a zone that fell below lowclust on the next tick, not inside the allocation", () => {
    const clock = new VirtualClock();
    const pool = makePool({ profile: "aix", clock });
    expect(pool.stats().clusters.cache).toBe(29);
    const held = take(pool, 20);
    let s = pool.stats();
    expect(s.clusters.cache).toBe(9);
    expect(s.clusters.total).toBe(29);
    expect(s.netm.runs).toBe(0);
    clock.advance(100);
    s = pool.stats();
    expect(s.clusters.cache).toBe(29);
    expect(s.clusters.total).toBe(49);
    expect(s.netm).toMatchObject({ enabled: true, runs: 1, growths: 1, shrinks: 0, clustersAdded: 20 });
    for (const m of held) pool.freem(m);
  });

  it("never grows a zone inside an allocation on aix: an empty pool denies until netm has run", () => {
    const clock = new VirtualClock();
    const pool = makePool({ profile: "aix", clock });
    const held = take(pool, 1000);
    expect(held.length).toBe(29); // the 30th request was denied
    expect(pool.getcl()).toBe(0);
    expect(pool.stats().clusters.denied).toBe(2);
    expect(pool.stats().clusters.total).toBe(29);
    clock.advance(10); // the failed allocation scheduled netm: it runs one dispatch (10 ms) later
    expect(pool.stats().clusters.cache).toBe(29);
    expect(pool.stats().netm.runs).toBe(1);
    for (const m of held) pool.freem(m);
  });

  it("gives clusters above mb_cl_hiwat back, and never reduces the mbuf pool", () => {
    const clock = new VirtualClock();
    const pool = makePool({ profile: "aix", clock });
    const held = take(pool, 25);
    clock.advance(100);
    held.push(...take(pool, 25));
    clock.advance(100);
    held.push(...take(pool, 25));
    clock.advance(100);
    for (const m of held.splice(0)) pool.freem(m);
    const before = pool.stats();
    expect(before.clusters.cache).toBeGreaterThan(58);
    clock.advance(100);
    const s = pool.stats();
    expect(s.clusters.cache).toBe(58);
    expect(s.netm.shrinks).toBe(1);
    expect(s.netm.pagesReleased).toBe(before.clusters.cache - 58);
    expect(s.mbufs.total).toBe(before.mbufs.total);
  });

  it("never crosses thewall, and counts the growths thewall blocked", () => {
    const clock = new VirtualClock();
    // 64 KB = 16 pages: 88 mbufs take 6, so 16 clusters cannot all fit.
    const pool = makePool({ profile: "aix", clock, tunables: { thewall: 64, lowclust: 16, mb_cl_hiwat: 16 } });
    for (let i = 0; i < 20; i++) {
      const held = take(pool, 16);
      clock.advance(100);
      for (const m of held) pool.freem(m);
      clock.advance(100);
      const s = pool.stats();
      expect(s.arena.carvedPages).toBeLessThanOrEqual(s.arena.maxPages);
      expect(s.arena.zonePages * 4096).toBeLessThanOrEqual(64 * 1024);
    }
    const s = pool.stats();
    expect(s.arena.zonePages).toBe(16);
    expect(s.netm.blocked).toBeGreaterThan(0);
  });

  it("thrashes when badly tuned (lowclust above mb_cl_hiwat) and stays quiet when well tuned", () => {
    const run = (tunables: Record<string, number>) => {
      const clock = new VirtualClock();
      const pool = makePool({ profile: "aix", clock, tunables });
      for (let i = 0; i < 100; i++) {
        const held = take(pool, 5);
        clock.advance(50);
        for (const m of held) pool.freem(m);
        clock.advance(50);
      }
      return pool.stats().netm;
    };
    const bad = run({ lowclust: 40, mb_cl_hiwat: 20 });
    const good = run({});
    expect(bad.runs).toBeGreaterThanOrEqual(90);
    expect(bad.reversals).toBeGreaterThanOrEqual(90);
    expect(good.runs).toBe(0);
    expect(good.reversals).toBe(0);
    expect(good.ticks).toBe(bad.ticks);
  });

  it("follows runtime changes of its marks (no -o lowclust)", () => {
    const clock = new VirtualClock();
    const pool = makePool({ profile: "aix", clock });
    pool.sysctl("mb_cl_hiwat", 200);
    pool.sysctl("lowclust", 100);
    clock.advance(10); // netm's dispatch
    expect(pool.stats().clusters.cache).toBe(100);
    pool.resetTunable("lowclust");
    pool.resetTunable("mb_cl_hiwat");
    clock.advance(100);
    expect(pool.stats().clusters.cache).toBe(58);
  });

  it("manages other profiles when asked, with its own marks", () => {
    const clock = new VirtualClock();
    const pool = makePool({
      profile: "freebsd4", clock, netm: { lowclust: 10, lowmbuf: 32, intervalMs: 1000 },
      tunables: { "kern.ipc.nmbclusters": 64, "kern.ipc.nmbufs": 256 },
    });
    expect(pool.stats().clusters.total).toBe(0);
    clock.advance(1000);
    const s = pool.stats();
    expect(s.clusters.cache).toBe(10);
    expect(s.mbufs.cache).toBe(32);
    expect(s.netm.growths).toBe(1);
    expect(makePool({ profile: "freebsd" }).stats().netm.enabled).toBe(false);
    expect(makePool({ profile: "aix", netm: false }).netm).toBeUndefined();
  });

  it("serves a waiting request with what it grows", async () => {
    const clock = new VirtualClock();
    const pool = makePool({ profile: "aix", clock });
    const held = take(pool, 29);
    const w = pool.getclWait(M_WAITOK, MT.DATA, M_PKTHDR, { timeout: 1000 });
    expect(pool.stats().waits.waiting).toBe(1);
    clock.advance(10); // netm's dispatch
    const m = await w;
    expect(m).toBeGreaterThan(0);
    const s = pool.stats();
    expect(s.waits).toMatchObject({ waiting: 0, served: 1 });
    expect(s.clusters.delayed).toBe(1);
    for (const h of [...held, m]) pool.freem(h);
  });
});

describe("netm under random load (property)", () => {
  it("keeps every zone within thewall and the audit clean, whatever the marks", async () => {
    const fc = (await import("fast-check")).default;
    fc.assert(fc.property(
      fc.integer({ min: 64, max: 256 }), fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 64 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 300 })), { maxLength: 20 }),
      (thewall, lowclust, hiwat, steps) => {
        const clock = new VirtualClock();
        const wallPages = Math.floor(thewall / 4);
        const pool = makePool({
          profile: "aix", clock,
          tunables: { thewall, lowmbuf: 0, lowclust: Math.min(lowclust, wallPages), mb_cl_hiwat: Math.min(hiwat, wallPages) },
        });
        const held: number[] = [];
        for (const [take, give, ms] of steps) {
          for (let i = 0; i < take; i++) {
            const m = pool.getcl();
            if (m) held.push(m);
          }
          for (let i = 0; i < give && held.length; i++) pool.freem(held.pop()!);
          clock.advance(ms);
          const s = pool.stats();
          expect(s.arena.zonePages).toBeLessThanOrEqual(wallPages);
          expect(s.clusters.current).toBe(held.length);
        }
        for (const m of held) pool.freem(m);
        expect(pool.audit().ok).toBe(true);
        pool.close();
      },
    ), { numRuns: 50 });
  });
});
