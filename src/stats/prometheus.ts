// Prometheus text exposition through prom-client. Each pool gets its own
// Registry (never prom-client's global one), so two pools in one process
// never mix their series. A scrape reads one snapshot and sets every metric
// from it: gauges for levels, counters for the monotonic counts (units in
// the names, as Prometheus names them: _bytes, _pages, _total).

import { Registry, Gauge, Counter } from "prom-client";
import type { PoolStats, ZoneStats } from "./snapshot.js";
import { MT_NAMES } from "../constants.js";
import { networkBytes } from "./snapshot.js";

/** Prefix of every metric name. */
export const METRIC_PREFIX = "mbufpool_";

type ZoneLabel = "mbuf" | "cluster" | "jumbo_page" | "jumbo_9k" | "jumbo_16k";
type Setter = (s: PoolStats) => void;

/** The metrics of one pool, in a Registry of their own. */
export class PoolMetrics {
  /** The pool's own registry (register it with a server, or read `text()`). */
  readonly registry: Registry;
  private readonly setters: Setter[] = [];

  /** @param labels default labels of every series (e.g. `{ profile: "freebsd" }`). */
  constructor(labels: Record<string, string> = {}) {
    this.registry = new Registry();
    this.registry.setDefaultLabels(labels);
    // The jumbo zones are series of their own where the profile has them (z returns undefined elsewhere).
    const zones: ReadonlyArray<readonly [ZoneLabel, (s: PoolStats) => ZoneStats | undefined]> = [
      ["mbuf", (s) => s.mbufs], ["cluster", (s) => s.clusters],
      ["jumbo_page", (s) => s.jumbo?.page], ["jumbo_9k", (s) => s.jumbo?.nine], ["jumbo_16k", (s) => s.jumbo?.sixteen],
    ];
    const zoneGauge = (name: string, help: string, get: (z: ZoneStats) => number): void => {
      const g = this.gauge(name, help, ["zone"]);
      this.setters.push((s) => {
        for (const [zone, z] of zones) {
          const v = z(s);
          if (v) g.set({ zone }, get(v));
        }
      });
    };
    const zoneCounter = (name: string, help: string, get: (z: ZoneStats) => number): void => {
      const c = this.counter(name, help, ["zone"]);
      this.setters.push((s) => {
        c.reset();
        for (const [zone, z] of zones) {
          const v = z(s);
          if (v) c.inc({ zone }, get(v));
        }
      });
    };
    zoneGauge("zone_item_size_bytes", "Bytes per item of the zone (MSIZE, MCLBYTES, a jumbo size).", (z) => z.size);
    zoneGauge("zone_limit_items", "Most items the zone may hold (nmbufs, nmbclusters, nmbjumbo*).", (z) => z.limit);
    zoneGauge("zone_in_use_items", "Items of the zone in use.", (z) => z.current);
    zoneGauge("zone_cache_items", "Free items held by the zone (its cache).", (z) => z.cache);
    zoneGauge("zone_carved_items", "Items carved from the zone's pages (in use + cache).", (z) => z.total);
    zoneGauge("zone_peak_items", "Highest number of items ever carved.", (z) => z.peak);
    zoneGauge("zone_pages", "Arena pages (4096 bytes) the zone owns.", (z) => z.pages);
    zoneCounter("zone_allocations_total", "Successful allocations from the zone.", (z) => z.allocs);
    zoneCounter("zone_frees_total", "Items freed back to the zone.", (z) => z.frees);
    zoneCounter("zone_denied_total", "Requests that failed without waiting (netstat's denied).", (z) => z.denied);
    zoneCounter("zone_delayed_total", "Requests that failed and were left to wait (netstat's delayed).", (z) => z.delayed);
    zoneCounter("zone_pages_taken_total", "Pages the zone took from the arena.", (z) => z.pagesIn);
    zoneCounter("zone_pages_returned_total", "Pages the zone gave back to the arena.", (z) => z.pagesOut);

    const types = this.gauge("mbufs_in_use_by_type", "mbufs in use by type (the census; type names as RTEMS prints them).", ["type"]);
    this.setters.push((s) => { for (let t = 1; t < s.census.length; t++) types.set({ type: MT_NAMES[t] ?? `type${t}` }, s.census[t]); });
    const packets = this.gauge("packets", "mbuf+cluster pairs of the packet zone, by state.", ["state"]);
    this.setters.push((s) => { packets.set({ state: "in_use" }, s.packets.current); packets.set({ state: "cache" }, s.packets.cache); });
    const net = this.gauge("network_bytes", "Bytes allocated to network by state (modern FreeBSD's arithmetic).", ["state"]);
    this.setters.push((s) => { const b = networkBytes(s); net.set({ state: "in_use" }, b.inUse); net.set({ state: "cache" }, b.cache); });

    const plainCounter = (name: string, help: string, get: (s: PoolStats) => number): void => {
      const c = this.counter(name, help, []);
      this.setters.push((s) => { c.reset(); c.inc(get(s)); });
    };
    const plainGauge = (name: string, help: string, get: (s: PoolStats) => number): void => {
      const g = this.gauge(name, help, []);
      this.setters.push((s) => g.set(get(s)));
    };
    plainCounter("drain_calls_total", "Calls to protocol drain routines.", (s) => s.drains);
    plainCounter("reserved_denied_total", "Cluster requests refused by the reservation flag or reserve.", (s) => s.reservedDenied);
    plainCounter("copym_failures_total", "m_copym failures (FreeBSD 4's m_mcfail).", (s) => s.mcfail);
    plainCounter("pullup_failures_total", "m_pullup failures (FreeBSD 4's m_mpfail).", (s) => s.mpfail);
    plainGauge("reservation_flag", "1 while only M_RECV requests may take clusters.", (s) => (s.reservation.flag ? 1 : 0));
    plainGauge("reservation_clusters", "Clusters only M_RECV requests may take.", (s) => s.reservation.count);
    plainGauge("arena_limit_bytes", "Bytes the arena may hold (thewall).", (s) => s.arena.thewall);
    plainGauge("arena_carved_pages", "Arena pages ever carved from memory.", (s) => s.arena.carvedPages);
    plainGauge("arena_free_pages", "Arena pages on the free list.", (s) => s.arena.freePages);
    plainGauge("arena_zone_pages", "Arena pages owned by zones.", (s) => s.arena.zonePages);
  }

  private gauge(name: string, help: string, labelNames: string[]): Gauge<string> {
    return new Gauge({ name: METRIC_PREFIX + name, help, labelNames, registers: [this.registry] });
  }

  private counter(name: string, help: string, labelNames: string[]): Counter<string> {
    return new Counter({ name: METRIC_PREFIX + name, help, labelNames, registers: [this.registry] });
  }

  /** Sets every metric from the snapshot `s`. */
  update(s: PoolStats): void {
    for (const set of this.setters) set(s);
  }

  /** Sets every metric from `s` and returns the text exposition (format 0.0.4). */
  async text(s: PoolStats): Promise<string> {
    this.update(s);
    return this.registry.metrics();
  }
}

/** The Prometheus text exposition of one snapshot (a throwaway registry, labelled with the profile). */
export function formatPrometheus(s: PoolStats): Promise<string> {
  return new PoolMetrics({ profile: s.profile }).text(s);
}
