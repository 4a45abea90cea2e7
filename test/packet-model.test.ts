// Property test: with the packet zone on, every sequence of operations keeps
// the audit clean and every mbuf and cluster accounted for exactly once
// (in use, free in its zone, or parked in the packet cache), against a model.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { MT, M_NOWAIT, M_RECV, M_PKTHDR, VirtualClock, type Pool, type PacketMode } from "mbufpool";
import { clgetStep, makePool, pickLive } from "./helpers.js";

type Mode = PacketMode | "off";
type Op =
  | { k: "get" }
  | { k: "getcl"; recv: boolean }
  | { k: "clget"; i: number; recv: boolean }
  | { k: "free"; i: number }
  | { k: "freeTwice"; i: number }
  | { k: "refill"; n: number }
  | { k: "drain"; n: number }
  | { k: "balance" }
  | { k: "mode"; mode: Mode }
  | { k: "reserved"; on: boolean }
  | { k: "reclaim" };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant({ k: "get" as const }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant("getcl" as const), recv: fc.boolean() }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant("clget" as const), i: fc.nat(), recv: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant("free" as const), i: fc.nat() }), weight: 4 },
  fc.record({ k: fc.constant("freeTwice" as const), i: fc.nat() }),
  fc.record({ k: fc.constant("refill" as const), n: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ k: fc.constant("drain" as const), n: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ k: fc.constant("balance" as const) }),
  fc.record({ k: fc.constant("mode" as const), mode: fc.constantFrom<Mode>("none", "watermark", "median", "off") }),
  fc.record({ k: fc.constant("reserved" as const), on: fc.boolean() }),
  fc.record({ k: fc.constant("reclaim" as const) }),
);

interface Live { cluster: boolean; origin: boolean }

/** The model: live mbufs, parked pairs, and what the zones could still give. */
class Model {
  live = new Map<number, Live>();
  parked = 0;
  mode: Mode = "median";
  reserved = false;
  constructor(readonly nmbufs: number, readonly nmbclusters: number, readonly reclaimsPages: boolean) {}
  get liveClusters(): number {
    let n = 0;
    for (const l of this.live.values()) if (l.cluster) n++;
    return n;
  }
  get origins(): number {
    let n = 0;
    for (const l of this.live.values()) if (l.origin) n++;
    return n;
  }
  get enabled(): boolean {
    return this.mode !== "off";
  }
  get reclaims(): boolean {
    return this.enabled && this.mode !== "none";
  }
  /** Takes an item of a native zone; parked pairs go back first if the zone is dry. */
  take(zone: "mbuf" | "cluster"): boolean {
    const avail = zone === "mbuf" ? this.nmbufs - this.live.size - this.parked : this.nmbclusters - this.liveClusters - this.parked;
    if (avail > 0) return true;
    if (this.reclaims && this.parked > 0) {
      this.parked = 0;
      return true;
    }
    return false;
  }
  cluster(recv: boolean): boolean {
    if (this.reserved && !recv) return false;
    return this.take("cluster");
  }
}

function check(pool: Pool, model: Model, fixed: { mbufs: number; clusters: number } | null): void {
  const s = pool.stats();
  expect(s.mbufs.current).toBe(model.live.size);
  expect(s.clusters.current).toBe(model.liveClusters);
  expect(s.packets.cache).toBe(model.parked);
  expect(s.packets.current).toBe(model.origins);
  // Every item once: in use + free in its zone + parked = carved.
  const zoneFreeM = s.mbufs.cache - s.packets.cache, zoneFreeC = s.clusters.cache - s.packets.cache;
  expect(zoneFreeM).toBeGreaterThanOrEqual(0);
  expect(zoneFreeC).toBeGreaterThanOrEqual(0);
  expect(s.mbufs.current + zoneFreeM + s.packets.cache).toBe(s.mbufs.total);
  expect(s.clusters.current + zoneFreeC + s.packets.cache).toBe(s.clusters.total);
  if (fixed) {
    expect(s.mbufs.total).toBe(fixed.mbufs);
    expect(s.clusters.total).toBe(fixed.clusters);
  }
  expect(pool.audit().message).toBe("clean");
}

function run(pool: Pool, model: Model, ops: Op[], fixed: { mbufs: number; clusters: number } | null): void {
  for (const o of ops) {
    switch (o.k) {
      case "get": {
        const ok = model.take("mbuf");
        const m = pool.get();
        expect(m > 0).toBe(ok);
        if (m) model.live.set(m, { cluster: false, origin: false });
        break;
      }
      case "getcl": {
        let ok: boolean;
        let hit = false;
        if (model.parked > 0 && (!model.reserved || o.recv)) {
          model.parked--;
          ok = hit = true;
        } else {
          ok = model.take("mbuf") && model.cluster(o.recv);
        }
        const m = pool.getcl(M_NOWAIT | (o.recv ? M_RECV : 0), MT.DATA, M_PKTHDR);
        expect(m > 0).toBe(ok);
        if (m) model.live.set(m, { cluster: true, origin: model.enabled || hit });
        break;
      }
      case "clget":
        clgetStep(pool, model.live, pickLive(model.live, o.i), M_NOWAIT | (o.recv ? M_RECV : 0), () => model.cluster(o.recv));
        break;
      case "free":
      case "freeTwice": {
        const m = pickLive(model.live, o.i);
        if (m === undefined) break;
        pool.freem(m);
        if (model.live.get(m)!.cluster && model.enabled) model.parked++;
        model.live.delete(m);
        if (o.k === "freeTwice") expect(() => pool.free(m)).toThrow(/EDOUBLEFREE/);
        break;
      }
      case "refill": {
        if (!model.enabled) {
          expect(() => pool.packetRefill(o.n)).toThrow(/ESTATE/);
          break;
        }
        const room = Math.min(model.nmbufs - model.live.size - model.parked, model.nmbclusters - model.liveClusters - model.parked);
        const k = model.reserved ? 0 : Math.min(o.n, room);
        expect(pool.packetRefill(o.n)).toBe(k);
        model.parked += k;
        break;
      }
      case "drain": {
        const k = Math.min(o.n, model.parked);
        expect(pool.packetDrain(o.n)).toBe(k);
        model.parked -= k;
        break;
      }
      case "balance": {
        const e = pool.packetBalance();
        expect(e.cache).toBe(model.parked);
        model.parked += e.refilled - e.drained;
        break;
      }
      case "mode":
        pool.setPacketZone(o.mode === "off" ? false : { mode: o.mode, interval: 0, batch: 3, window: 5 });
        model.mode = o.mode;
        if (!model.enabled) model.parked = 0;
        break;
      case "reserved":
        pool.setReserved(o.on);
        model.reserved = o.on;
        break;
      case "reclaim":
        pool.reclaim("cluster");
        if (model.reclaimsPages && model.reclaims) model.parked = 0;
        break;
    }
    check(pool, model, fixed);
  }
  pool.setReserved(false);
  pool.freemBulk([...model.live.keys()]);
  pool.setPacketZone(false);
  const s = pool.stats();
  expect(s.mbufs.current + s.clusters.current + s.packets.cache).toBe(0);
}

describe("the packet zone against a model", () => {
  it("keeps the audit clean and the sum across zones and cache constant (RTEMS-style fixed pools)", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 100 }), (ops) => {
        // 16 mbufs and 6 clusters carved once: the totals never move.
        const pool = makePool({ profile: "rtems", clock: new VirtualClock(),
          tunables: { mbuf_bytecount: 4096, mbuf_cluster_bytecount: 6 * 2048 },
          packetZone: { mode: "median", interval: 0, batch: 3, window: 5 } });
        run(pool, new Model(16, 6, false), ops, { mbufs: 16, clusters: 6 });
      }),
      { numRuns: 120 },
    );
  });

  it("keeps every item accounted for once on a pool that grows and gives pages back (freebsd)", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 100 }), (ops) => {
        const pool = makePool({ profile: "freebsd", clock: new VirtualClock(),
          tunables: { "kern.ipc.maxmbufmem": 256 * 1024, "kern.ipc.nmbclusters": 13, "kern.ipc.nmbufs": 40 },
          packetZone: { mode: "median", interval: 0, batch: 3, window: 5 } });
        run(pool, new Model(40, 13, true), ops, null);
      }),
      { numRuns: 120 },
    );
  });
});
