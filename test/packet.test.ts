// The packet zone (seed 002): pre-joined pairs, honest accounting, the audit,
// exhaustion, and the three balancing modes.
import { describe, it, expect } from "vitest";
import { MT, M_NOWAIT, M_WAITOK, M_RECV, M_PKTHDR, VirtualClock, type Pool } from "mbufpool";
import { makePool, code } from "./helpers.js";

/** A modern FreeBSD pool of `nmbclusters` clusters (1 MiB map unless told), packet zone as given. */
function pool(nmbclusters: number, packetZone: object | boolean = { interval: 0 }, extra: Record<string, number> = {}): Pool {
  return makePool({
    profile: "freebsd",
    tunables: { "kern.ipc.maxmbufmem": 1 << 20, "kern.ipc.nmbclusters": nmbclusters, ...extra },
    packetZone,
  });
}

/** Takes `n` getcl pairs and frees them: they end up parked. */
function park(p: Pool, n: number): void {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push(p.getcl());
  expect(ms.every((m) => m > 0)).toBe(true);
  for (const m of ms) p.freem(m);
}

describe("the packet cache", () => {
  it("parks a whole pair on free and gives it back, cluster attached, on getcl", () => {
    const p = pool(64);
    const m = p.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
    const data = new DataView(p.buffer).getUint32(m + 8, true); // m_data: the cluster
    p.freem(m);
    let s = p.stats();
    expect(s.packets.cache).toBe(1);
    expect(s.packets.parked).toBe(1);
    expect(s.packets.misses).toBe(1);
    const again = p.getcl(M_NOWAIT, MT.HEADER, 0);
    expect(again).toBe(m);
    expect(new DataView(p.buffer).getUint32(again + 8, true)).toBe(data);
    s = p.stats();
    expect(s.packets.hits).toBe(1);
    expect(s.packets.cache).toBe(0);
    expect(s.packets.current).toBe(1);
    expect(s.census[MT.HEADER]).toBe(1);
    expect(code(() => p.clget(again))).toBe("EINVAL"); // it has its cluster
    p.freem(again);
  });

  it("parks a pair assembled with get + clget too (the 2005 leak's source)", () => {
    const p = pool(64);
    const m = p.get();
    expect(p.clget(m)).toBe(true);
    expect(p.stats().packets.current).toBe(0); // not a packet-zone item while in use
    p.free(m);
    expect(p.stats().packets.cache).toBe(1);
    expect(p.stats().packets.total).toBe(1);
  });

  it("counts parked pairs as cache, never as use, in stats and in netstat -m", () => {
    const p = pool(64);
    park(p, 5);
    const held = p.getcl();
    const s = p.stats();
    expect(s.mbufs.current).toBe(1);
    expect(s.clusters.current).toBe(1);
    expect(s.mbufs.current + s.mbufs.cache).toBe(s.mbufs.total);
    expect(s.clusters.current + s.clusters.cache).toBe(s.clusters.total);
    expect(s.packets).toMatchObject({ current: 1, cache: 4, total: 5 });
    const lines = p.netstat().split("\n");
    expect(lines[0]).toBe(`1/${s.mbufs.total - 1}/${s.mbufs.total} mbufs in use (current/cache/total)`);
    expect(lines[1]).toBe(`1/${s.clusters.total - 1}/${s.clusters.total}/64 mbuf clusters in use (current/cache/total/max)`);
    expect(lines[2]).toBe("1/4 mbuf+clusters out of packet secondary zone in use (current/cache)");
    expect(p.netstat({ format: "freebsd4" }).split("\n")[2]).toMatch(/^1\/\d+\/64 mbuf clusters in use/);
    p.freem(held);
  });

  it("still sees a double free of a parked pair in O(1)", () => {
    const p = pool(64);
    const m = p.getcl();
    p.freem(m);
    expect(code(() => p.free(m))).toBe("EDOUBLEFREE");
    expect(code(() => p.freem(m))).toBe("EDOUBLEFREE");
    expect(code(() => p.clget(m))).toBe("EDOUBLEFREE");
    expect(code(() => p.chtype(m, MT.DATA))).toBe("EDOUBLEFREE");
    expect(code(() => p.freemBulk([m]))).toBe("EDOUBLEFREE");
    expect(p.stats().packets.cache).toBe(1);
  });

  it("counts a failed getcl in netstat's mbuf+clusters column", () => {
    const p = pool(1, { interval: 0 });
    const a = p.getcl();
    expect(p.getcl()).toBe(0);
    expect(p.getcl(M_WAITOK)).toBe(0);
    const s = p.stats();
    expect(s.packets.denied).toBe(1);
    expect(s.packets.delayed).toBe(1);
    expect(p.netstat()).toContain("0/1/1 requests for mbufs denied (mbufs/clusters/mbuf+clusters)");
    expect(p.netstat()).toContain("0/1/1 requests for mbufs delayed (mbufs/clusters/mbuf+clusters)");
    p.freem(a);
  });

  it("is off on profiles whose system had none, and off with packetZone: false", () => {
    for (const p of [makePool({ profile: "freebsd4" }), makePool({ profile: "rtems" }), pool(64, false)]) {
      expect(p.packetZone).toBe(null);
      p.freem(p.getcl());
      const s = p.stats();
      expect(s.packets).toMatchObject({ mode: "off", cache: 0, total: 0, hits: 0, misses: 0 });
      expect(code(() => p.packetRefill(1))).toBe("ESTATE");
    }
    const on = makePool({ profile: "freebsd4", packetZone: true });
    expect(on.packetZone?.mode).toBe("median");
    expect(makePool().packetZone?.mode).toBe("median");
  });

  it("refuses bad options with EINVAL", () => {
    const bad: unknown[] = [{ mode: "lru" }, { batch: 0 }, { window: 0 }, { interval: -1 }, { interval: 1.5 },
      { lowat: 10, hiwat: 5 }, { max: 65 }, { batch: 65 }, { bogus: 1 }, "median", null];
    for (const o of bad) expect(code(() => pool(64, o as object))).toBe("EINVAL");
    const p = pool(64);
    expect(code(() => p.packetRefill(-1))).toBe("EINVAL");
    expect(code(() => p.packetRefill(1.5))).toBe("EINVAL");
    expect(code(() => p.packetDrain(2 ** 32))).toBe("EINVAL");
    expect(code(() => p.setPacketZone({ mode: "x" as "none" }))).toBe("EINVAL");
  });
});

describe("exhaustion with pairs parked", () => {
  it("drains the packet cache back before a cluster request fails", () => {
    const p = pool(8);
    park(p, 8);
    const m = p.get();
    expect(p.clget(m)).toBe(true); // the cluster zone was dry: every parked pair went back
    const s = p.stats();
    expect(s.packets.cache).toBe(0);
    expect(s.packets.reclaims).toBe(1);
    expect(s.packets.reclaimed).toBe(8);
    expect(s.clusters.denied).toBe(0);
    p.freem(m);
  });

  it("drains it back before an mbuf request fails", () => {
    const p = pool(8, { interval: 0 }, { "kern.ipc.nmbufs": 8 });
    park(p, 8);
    const ms: number[] = [];
    for (let i = 0; i < 8; i++) ms.push(p.get());
    expect(ms.every((m) => m > 0)).toBe(true);
    expect(p.stats().mbufs.denied).toBe(0);
    expect(p.get()).toBe(0);
    expect(p.stats().mbufs.denied).toBe(1);
    for (const m of ms) p.free(m);
  });

  it("drains it back when the host reclaims pages", () => {
    const p = pool(64);
    park(p, 40);
    expect(p.reclaim("cluster")).toBeGreaterThan(0);
    expect(p.stats().packets.cache).toBe(0);
    expect(p.stats().clusters.total).toBe(0);
  });

  it("lets the drain routines' frees satisfy the retry", () => {
    const p = pool(2);
    const held = [p.getcl(), p.getcl()];
    p.onDrain(() => p.freem(held.pop()!)); // the freed pair is parked, then reclaimed for the retry
    const m = p.get();
    expect(p.clget(m)).toBe(true);
    expect(p.stats().drains).toBe(1);
    p.freem(m);
    for (const h of held) p.freem(h);
  });

  it("wedges in the 2005 mode: parked pairs never go back", () => {
    const p = pool(8, { mode: "none" });
    park(p, 8);
    const m = p.get();
    expect(p.clget(m)).toBe(false);
    expect(p.reclaim("cluster")).toBe(0);
    const s = p.stats();
    expect(s.packets.cache).toBe(8);
    expect(s.packets.reclaims).toBe(0);
    expect(s.clusters.denied).toBe(1);
    // getcl still works from the cache: only the two-zone path is wedged.
    const q = p.getcl();
    expect(q).toBeGreaterThan(0);
    p.freem(q);
    p.free(m);
  });

  it("honours the reservation on the cache too", () => {
    const p = pool(8);
    park(p, 3);
    p.setReserved(true);
    expect(p.getcl()).toBe(0);
    expect(p.packetRefill(4)).toBe(0);
    const r = p.getcl(M_NOWAIT | M_RECV);
    expect(r).toBeGreaterThan(0);
    p.setReserved(false);
    p.setReserve(8);
    expect(p.getcl()).toBe(0); // 7 clusters left to take, all reserved
    const r2 = p.getcl(M_NOWAIT | M_RECV);
    expect(r2).toBeGreaterThan(0);
    p.setReserve(0);
    p.freem(r);
    p.freem(r2);
  });

  it("turning the packet zone off splits every parked pair back", () => {
    const p = pool(64);
    park(p, 10);
    p.setPacketZone(false);
    const s = p.stats();
    expect(s.packets.cache).toBe(0);
    expect(s.packets.mode).toBe("off");
    expect(s.clusters.cache).toBe(s.clusters.total);
    p.freem(p.getcl());
    expect(p.stats().packets.cache).toBe(0);
  });
});

describe("batches", () => {
  it("refills and drains in one call each, counting batches and pairs", () => {
    const p = pool(64);
    expect(p.packetRefill(20)).toBe(20);
    expect(p.packetDrain(8)).toBe(8);
    expect(p.packetDrain()).toBe(12);
    const s = p.stats();
    expect(s.packets).toMatchObject({ refills: 1, refilled: 20, lastRefill: 20, drains: 2, drained: 20, lastDrain: 12 });
  });

  it("refills no further than the zones go, and never fails a request doing it", () => {
    const p = pool(16);
    expect(p.packetRefill(100)).toBe(16);
    const s = p.stats();
    expect(s.clusters.denied + s.mbufs.denied + s.drains).toBe(0);
    expect(s.packets.cache).toBe(16);
  });
});

describe("balancing", () => {
  /** A pool on a virtual clock, balanced by hand. */
  const balanced = (packetZone: object, nmbclusters = 512): Pool =>
    makePool({ profile: "freebsd", clock: new VirtualClock(),
      tunables: { "kern.ipc.maxmbufmem": 4 << 20, "kern.ipc.nmbclusters": nmbclusters }, packetZone: { interval: 0, ...packetZone } });
  /** One epoch's traffic: `n` getcl pairs in flight at once, then freed (parked). */
  const demand = (p: Pool, n: number): void => park(p, n);

  it("median: aims at the median of recent demand, moves whole batches, drains everything when demand stops", () => {
    const p = balanced({ mode: "median", batch: 8, window: 5, max: 200 });
    const epochs = [];
    for (const d of [40, 40, 40, 0, 40]) {
      demand(p, d);
      epochs.push(p.packetBalance());
    }
    for (const e of epochs) {
      expect(e.refilled % 8).toBe(0);
      if (e.target > 0) expect(e.drained % 8).toBe(0);
    }
    const last = epochs.at(-1)!;
    expect(last.demand).toBe(40);
    expect(last.target).toBe(40); // median of 40 40 40 0 40
    expect(p.stats().packets.cache).toBeGreaterThanOrEqual(last.low);
    expect(p.stats().packets.cache).toBeLessThanOrEqual(last.high);
    // A single spike does not move the target.
    demand(p, 300);
    expect(p.packetBalance().target).toBe(40);
    // Demand stops: once idle epochs are the median, the cache goes back whole.
    let e = p.packetBalance();
    for (let i = 0; i < 5; i++) e = p.packetBalance();
    expect(e.target).toBe(0);
    expect(p.stats().packets.cache).toBe(0);
    expect(p.stats().clusters.current + p.stats().packets.cache).toBe(0);
  });

  it("median: refills up to the target in batches when the cache runs below the band", () => {
    const p = balanced({ mode: "median", batch: 8, window: 3 });
    for (let i = 0; i < 3; i++) {
      const ms: number[] = [];
      for (let j = 0; j < 30; j++) ms.push(p.getcl());
      p.freemBulk(ms);
      p.packetDrain(); // someone else emptied the cache
      const e = p.packetBalance();
      expect(e.target).toBe(30);
      expect(e.refilled).toBe(32); // 30 rounded up to whole batches of 8
    }
    expect(p.stats().packets.refills).toBe(3);
    expect(p.stats().packets.lastRefill).toBe(32);
  });

  it("median: caps the target at max", () => {
    const p = balanced({ mode: "median", batch: 4, window: 1, max: 12 });
    demand(p, 100);
    const e = p.packetBalance();
    expect(e.target).toBe(12);
    expect(p.stats().packets.cache).toBe(12);
  });

  it("watermark: drains down to hiwat, refills up to lowat, whatever the demand", () => {
    const p = balanced({ mode: "watermark", batch: 4, lowat: 8, hiwat: 20 });
    demand(p, 50);
    let e = p.packetBalance();
    expect(e.drained).toBe(32); // 50 - 20 = 30, rounded up to whole batches
    expect(p.stats().packets.cache).toBe(18);
    p.packetDrain(15);
    e = p.packetBalance();
    expect(e.refilled).toBe(8); // 3 -> 11: up to lowat in whole batches
    e = p.packetBalance(); // idle: the band holds, nothing moves back
    expect(e.refilled + e.drained).toBe(0);
    expect(p.stats().packets.cache).toBe(11);
  });

  it("none: never balances", () => {
    const p = balanced({ mode: "none" });
    demand(p, 100);
    const e = p.packetBalance();
    expect(e.refilled + e.drained).toBe(0);
    expect(p.stats().packets.cache).toBe(100);
  });

  it("runs on the pool's clock every interval, and stops when the pool closes", () => {
    const clock = new VirtualClock();
    const p = makePool({ profile: "freebsd", clock, tunables: { "kern.ipc.maxmbufmem": 4 << 20 },
      packetZone: { mode: "median", interval: 100, window: 3 } });
    demand(p, 64);
    expect(clock.pending).toBe(1);
    clock.advance(99);
    expect(p.stats().packets.cache).toBe(64);
    clock.advance(1);
    clock.advance(300); // the demand sample is the median of 64, 0 ... then 0
    expect(p.stats().packets.cache).toBe(0);
    expect(p.stats().packets.drains).toBeGreaterThan(0);
    p.setPacketZone({ mode: "none" });
    expect(clock.pending).toBe(0);
    p.setPacketZone({ mode: "watermark", interval: 50 });
    expect(clock.pending).toBe(1);
    p.close();
    expect(clock.pending).toBe(0);
    expect(code(() => p.packetBalance())).toBe("ECLOSED");
    expect(code(() => p.setPacketZone(true))).toBe("ECLOSED");
  });
});

describe("the audit of the packet zone", () => {
  /** Writes `v` at `addr` (u32), runs the audit, restores. */
  function corrupt(p: Pool, addr: number, v: number): string {
    const u32 = new Uint32Array(p.buffer);
    const old = u32[addr >>> 2];
    u32[addr >>> 2] = v;
    const a = p.audit();
    u32[addr >>> 2] = old;
    expect(p.audit().ok).toBe(true);
    return a.message;
  }

  it("reports a lost, forged or broken parked pair", () => {
    const p = pool(64);
    park(p, 3);
    const inUse = p.getcl();
    const s = p.stats();
    expect(s.packets.cache).toBe(2);
    const statsAddr = p.core.MB_STATS.value;
    const zoneBytes = p.core.MB_ZONE_BYTES.value;
    const pz = statsAddr + zoneBytes * 3;
    const head = new Uint32Array(p.buffer)[pz >>> 2];
    expect(head).toBeGreaterThan(0);
    // The cache's count says one more pair than it holds.
    expect(corrupt(p, pz + 24, 3)).toMatch(/packet cache is shorter|parked pairs differ/);
    // A parked pair's cluster pointer points elsewhere.
    expect(corrupt(p, head + 32, head)).toMatch(/parked pair's cluster/);
    // A parked pair's link turns into a cycle.
    expect(corrupt(p, head, head)).toMatch(/packet cache is longer/);
    // A parked pair loses its mark: it now looks like a free mbuf of the zone.
    const flagsWord = new Uint32Array(p.buffer)[(head + 16) >>> 2];
    expect(corrupt(p, head + 16, flagsWord & 0xffff)).toMatch(/free/);
    // An mbuf in use forges a packet-zone origin.
    const plain = p.get();
    expect(corrupt(p, plain + 28, 1)).toMatch(/from the packet zone differ/);
    expect(corrupt(p, plain + 28, 7)).toMatch(/from the packet zone differ/);
    p.free(plain);
    p.freem(inUse);
  });
});
