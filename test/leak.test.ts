// The leak detector: the exact report, the trend verdicts and the holder diagnosis.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import {
  MT, M_NOWAIT, M_PKTHDR, MbufError, VirtualClock, LeakDetector, heldBySet, combineClassifiers, runScenario,
  formatOutstanding, OWNER, type LeakVerdict,
} from "mbufpool";
import { makePool } from "./helpers.js";

describe("outstanding mbufs (exact)", () => {
  it("groups what is in use by owner tag, oldest first, with ages from the sequence numbers", () => {
    const pool = makePool();
    const made: Array<{ m: number; owner: number }> = [];
    const take = (owner: number, cluster = false) => {
      pool.setOwner(owner);
      const m = cluster ? pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR) : pool.get(M_NOWAIT, MT.HEADER);
      made.push({ m, owner });
      return m;
    };
    take(5); take(7, true); take(5); take(7); take(9, true);
    pool.free(made[2].m); // owner 5's second
    const r = pool.outstanding();
    expect(r.total).toBe(4);
    expect(r.clusters).toBe(2);
    expect(r.seq).toBe(5);
    expect(r.groups.map((g) => [g.owner, g.count, g.oldestSeq, g.newestSeq, g.maxAge])).toEqual([
      [5, 1, 1, 1, 4], // the oldest mbuf is owner 5's first: allocation #1, 4 allocations ago
      [7, 2, 2, 4, 3],
      [9, 1, 5, 5, 0],
    ]);
    expect(r.groups[1].mbufs.map((m) => m.handle)).toEqual([made[1].m, made[3].m]);
    expect(r.groups[1].byType).toEqual({ data: 1, header: 1 });
    expect(r.groups[1].mbufs[0]).toMatchObject({ cluster: true, head: true, holder: null, typeName: "data", owner: 7 });
    expect(r.unheld).toBe(4);
    expect(pool.outstanding({ minAge: 2 }).total).toBe(2); // #1 (age 4) and #2 (age 3)
    const text = formatOutstanding(r);
    expect(text.split("\n")[0]).toBe("4 mbufs outstanding (2 with clusters), newest allocation #5");
    expect(text).toContain("owner 7: 2 mbufs (1 with clusters; 1 data, 1 header; 2 unheld); oldest #2 (age 3), newest #4");
    for (const { m } of made) if (m !== made[2].m) pool.freem(m);
    expect(pool.outstanding().total).toBe(0);
  });

  it("matches a model of what is in use after any sequence of gets and frees", () => {
    const pool = makePool({ tunables: { "kern.ipc.maxmbufmem": 1024 * 1024 } });
    fc.assert(fc.property(
      fc.array(fc.oneof(
        fc.record({ get: fc.integer({ min: 0, max: 3 }), cl: fc.boolean() }),
        fc.record({ free: fc.nat() }),
        fc.record({ reclaim: fc.constant(true) }),
      ), { maxLength: 120 }),
      (ops) => {
        const live: Array<{ m: number; owner: number; order: number }> = [];
        let order = 0;
        for (const op of ops) {
          if ("get" in op) {
            pool.setOwner(op.get);
            const m = op.cl ? pool.getcl(M_NOWAIT) : pool.get();
            if (m) live.push({ m, owner: op.get, order: order++ });
          } else if ("reclaim" in op) {
            // Pages given back are zeroed and leave the page table: the walk must skip them.
            pool.reclaim("mbuf");
            pool.reclaim("cluster");
          } else if (live.length) {
            pool.freem(live.splice(op.free % live.length, 1)[0].m);
          }
        }
        const r = pool.outstanding({ perGroup: 1000 });
        expect(r.total).toBe(live.length);
        const byOwner = new Map<number, number[]>();
        for (const x of [...live].sort((a, b) => a.order - b.order)) byOwner.set(x.owner, [...(byOwner.get(x.owner) ?? []), x.m]);
        for (const g of r.groups) expect(g.mbufs.map((x) => x.handle)).toEqual(byOwner.get(g.owner));
        expect(r.groups.length).toBe(byOwner.size);
        for (let i = 1; i < r.groups.length; i++) expect(r.groups[i].maxAge).toBeLessThanOrEqual(r.groups[i - 1].maxAge);
        for (const x of live) pool.freem(x.m);
        pool.setOwner(0);
      },
    ), { numRuns: 60 });
  });

  it("names the holder a classifier gives, and refuses bad options", () => {
    const pool = makePool();
    const a = pool.get(), b = pool.get(), c = pool.get();
    const classify = combineClassifiers(heldBySet("sockbuf A", new Set([a])), heldBySet("sockbuf B", new Set([b, a])));
    const r = pool.outstanding({ classify });
    expect(r.byHolder).toEqual({ "sockbuf A": 1, "sockbuf B": 1, none: 1 });
    expect([r.held, r.unheld]).toEqual([2, 1]);
    expect(() => pool.outstanding({ perGroup: -1 })).toThrow(MbufError);
    expect(() => pool.outstanding({ classify: 3 as never })).toThrow(MbufError);
    const closed = makePool();
    closed.close();
    expect(() => closed.outstanding()).toThrow(expect.objectContaining({ code: "ECLOSED" }));
    for (const m of [a, b, c]) pool.free(m);
  });
});

describe("leak trend", () => {
  const detect = (workload: "sawtooth" | "leak" | "unread") => {
    const clock = new VirtualClock();
    const pool = makePool({ clock });
    const events: LeakVerdict[] = [];
    pool.on("leak", (v: LeakVerdict) => events.push(v));
    const det = new LeakDetector(pool, { intervalMs: 1000, window: 40, highUsage: 32 });
    const run = runScenario(pool, clock, workload, { ticks: 80, idleTicks: 10, tickMs: 1000, perTick: 8, period: 10 }, {
      start: (r) => { det.classify = r.classify; det.start(); },
    });
    det.stop();
    return { pool, det, events, run };
  };

  it("flags a real leak: usage that keeps rising, then high usage while idle, held by nobody", () => {
    const { det, events, run } = detect("leak");
    expect(events).toEqual(det.verdicts);
    expect(events.map((v) => [v.sign, v.diagnosis])).toEqual([["rising", "leak"], ["idle-high", "leak"]]);
    const [rising, idle] = events;
    // The parser leaks one packet per tick: each quarter of the window has a higher floor.
    const f = rising.evidence.floors as number[];
    expect(f).toHaveLength(4);
    for (let i = 1; i < f.length; i++) expect(f[i]).toBeGreaterThan(f[i - 1]);
    expect(rising.evidence.rise).toBe(f[3] - f[0]);
    expect(rising.evidence.rise).toBeGreaterThanOrEqual(16);
    expect(rising.message).toMatch(/keeps rising and never comes back down.*a leak \(owner 2 holds/);
    expect(rising.outstanding.topOwners[0].owner).toBe(OWNER.parser);
    // Idle: 80 leaked packets in use and no allocation or free for 5 samples.
    expect(idle.evidence.last).toBe(80);
    expect(idle.evidence.opsPerSample).toEqual([0, 0, 0, 0, 0]);
    expect(idle.outstanding).toMatchObject({ total: 80, held: 0, unheld: 80 });
    // Both still stand: the idle spell never brought usage back down.
    expect(det.signs).toEqual(["rising", "idle-high"]);
    run.cleanup();
  });

  it("stays quiet on a sawtooth load that comes back down", () => {
    const { det, events, pool } = detect("sawtooth");
    expect(events).toEqual([]);
    expect(det.verdicts).toEqual([]);
    expect(pool.outstanding().total).toBe(0);
  });

  it("tells an application that does not read its socket from a leak", () => {
    const { events, run } = detect("unread");
    expect(events.map((v) => [v.sign, v.diagnosis])).toEqual([["rising", "unread-socket"], ["idle-high", "unread-socket"]]);
    expect(events[1].outstanding).toMatchObject({ total: 80, held: 80, unheld: 0, byHolder: { "sockbuf of owner 3": 80 } });
    expect(events[1].message).toMatch(/held by sockbuf of owner 3 \(80\): an application is not reading its socket/);
    run.cleanup();
  });

  it("emits a sign once while it stands, and again after it cleared", () => {
    const clock = new VirtualClock();
    const pool = makePool({ clock });
    const det = new LeakDetector(pool, { idleSamples: 2, highUsage: 4, window: 4, segments: 2, minRise: 100 });
    const held = Array.from({ length: 4 }, () => pool.get());
    for (let i = 0; i < 3; i++) det.sample();
    expect(det.verdicts.map((v) => v.sign)).toEqual(["idle-high"]);
    det.sample();
    expect(det.verdicts).toHaveLength(1);
    const extra = pool.get();
    pool.free(extra);
    det.sample(); // activity: cleared
    expect(det.signs).toEqual([]);
    det.sample(); det.sample();
    expect(det.verdicts.map((v) => v.sign)).toEqual(["idle-high", "idle-high"]);
    for (const m of held) pool.free(m);
  });

  it("refuses bad options", () => {
    const pool = makePool();
    expect(() => new LeakDetector(pool, { window: 1 })).toThrow(MbufError);
    expect(() => new LeakDetector(pool, { heldShare: 0 })).toThrow(MbufError);
    expect(() => new LeakDetector(pool, { intervalMs: 0.5 })).toThrow(MbufError);
    expect(() => new LeakDetector(pool, { classify: {} as never })).toThrow(MbufError);
  });
});
