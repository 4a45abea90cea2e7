// Seed 002's leak hunt: rounds of netperf-like bursts then idle, netstat -m after each.
import { describe, it, expect } from "vitest";
import { VirtualClock, netperf, type PacketMode } from "mbufpool";
import { makePool } from "./helpers.js";

/** A 512-cluster FreeBSD pool on a virtual clock, balanced every 100 ms. */
function run(mode: PacketMode, rounds = 8) {
  const clock = new VirtualClock();
  const pool = makePool({
    profile: "freebsd", clock,
    tunables: { "kern.ipc.maxmbufmem": 4 << 20, "kern.ipc.nmbclusters": 512 },
    packetZone: { mode, interval: 100 },
  });
  const r = netperf(pool, clock, { rounds });
  return { pool, r };
}

/** The cluster line of a modern netstat -m: current, cache, total, max. */
const clusterLine = (report: string): number[] =>
  report.split("\n")[1].split(" ")[0].split("/").map(Number);

describe("the netperf loop of seed 002", () => {
  it("none (2005): clusters held out of their zone grow round after round until the limit wedges allocation", () => {
    const { pool, r } = run("none");
    const wedge = r.findIndex((x) => x.wedged);
    expect(wedge).toBeGreaterThan(1); // it takes a few rounds: a slow "leak"
    for (let i = 1; i < wedge; i++) expect(r[i].clustersOut).toBeGreaterThan(r[i - 1].clustersOut);
    expect(r[wedge].clustersOut).toBe(512); // every cluster is parked or in use
    for (let i = wedge; i < r.length; i++) {
      expect(r[i].wedged).toBe(true); // and it never comes back
      expect(r[i].failed).toBeGreaterThan(0);
    }
    // The report is honest: what 2005 showed as "in use" is the packet zone's cache.
    for (const x of r) {
      const [current, cache, total] = clusterLine(x.report);
      expect(current).toBe(0);
      expect(cache).toBe(total);
      expect(x.report).toContain(`0/${x.parked} mbuf+clusters out of packet secondary zone in use (current/cache)`);
    }
    expect(pool.stats().clusters.denied).toBeGreaterThan(0);
  });

  it("median: usage returns to its baseline after every round and nothing wedges", () => {
    const { pool, r } = run("median");
    const baseline = r[0].clustersOut;
    for (const x of r) {
      expect(x.wedged).toBe(false);
      expect(x.failed).toBe(0);
      expect(x.clustersOut).toBe(baseline);
      expect(x.clustersInUse).toBe(0);
      expect(clusterLine(x.report)[0]).toBe(0);
    }
    expect(baseline).toBe(0); // idle long enough: nothing stays parked
    const s = pool.stats();
    expect(s.clusters.denied + s.mbufs.denied + s.packets.denied).toBe(0);
    expect(s.packets.hits).toBeGreaterThan(s.packets.misses); // and the cache still served most getcl calls
    expect(s.packets.drains).toBeGreaterThan(0);
  });

  it("watermark: stays bounded but keeps up to hiwat pairs parked while idle", () => {
    const { pool, r } = run("watermark");
    const hiwat = pool.packetZone!.hiwat;
    for (const x of r) {
      expect(x.wedged).toBe(false);
      expect(x.parked).toBeLessThanOrEqual(hiwat);
    }
    expect(r.some((x) => x.parked > 0)).toBe(true);
  });
});
