// JSON, Prometheus and vmstat -z reports against the snapshot they came from.
import { describe, it, expect } from "vitest";
import { register as globalRegistry } from "prom-client";
import {
  MT, M_NOWAIT, M_WAITOK, M_PKTHDR, MJUM9BYTES, MJUM16BYTES, MT_NAMES, STATS_JSON_SCHEMA, STATS_JSON_VERSION, formatPrometheus,
  type PoolStats, type StatsJSON, type ZoneStats,
} from "mbufpool";
import { makePool } from "./helpers.js";

/** A pool in a state where every counter differs from the others' defaults. */
function busyPool() {
  const pool = makePool({ profile: "freebsd", tunables: { "kern.ipc.maxmbufmem": 1024 * 1024, "kern.ipc.nmbclusters": 8 } });
  const held: number[] = [];
  for (let i = 0; i < 8; i++) held.push(pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR));
  expect(pool.getcl(M_NOWAIT)).toBe(0);
  expect(pool.getcl(M_WAITOK)).toBe(0);
  held.push(pool.get(M_NOWAIT, MT.SONAME), pool.get(M_NOWAIT, MT.PCB), pool.get(M_NOWAIT, MT.PCB));
  pool.freem(held.pop() as number);
  // A 9k jumbo cluster in use and three cached (one slab), and the 16k zone run dry once.
  held.push(pool.getjcl(M_NOWAIT, MT.DATA, 0, MJUM9BYTES));
  pool.sysctl("kern.ipc.nmbjumbo16", 10);
  const big = Array.from({ length: 10 }, () => pool.getjcl(M_NOWAIT, MT.DATA, 0, MJUM16BYTES));
  expect(pool.getjcl(M_NOWAIT, MT.DATA, 0, MJUM16BYTES)).toBe(0);
  for (const m of big) pool.freem(m);
  return { pool, held };
}

interface Sample { name: string; labels: Record<string, string>; value: number }

/**
 * A parser of the Prometheus text exposition format 0.0.4 that rejects what a
 * scraper would: every sample's family has HELP and TYPE before its first
 * sample, names and labels are valid, values are numbers, families are not
 * split, counters end in _total.
 */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string>; help: Map<string, string> } {
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const types = new Map<string, string>(), help = new Map<string, string>(), closed = new Set<string>();
  const samples: Sample[] = [];
  let current = "";
  expect(text.endsWith("\n")).toBe(true);
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
      const [, kind, name, ...rest] = line.split(" ");
      expect(name).toMatch(NAME);
      if (current && current !== name) closed.add(current);
      expect(closed.has(name)).toBe(false);
      current = name;
      if (kind === "HELP") { expect(help.has(name)).toBe(false); help.set(name, rest.join(" ")); }
      else {
        expect(rest).toHaveLength(1);
        expect(["counter", "gauge", "histogram", "summary", "untyped"]).toContain(rest[0]);
        types.set(name, rest[0]);
      }
      continue;
    }
    if (line.trim() === "") continue; // empty lines are ignored by the format
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    expect(m, line).not.toBeNull();
    const [, name, , body, value] = m as RegExpExecArray;
    expect(name).toBe(current);
    expect(types.has(name) && help.has(name)).toBe(true);
    const labels: Record<string, string> = {};
    if (body) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/y;
      let at = 0;
      while (at < body.length) {
        re.lastIndex = at;
        const l = re.exec(body);
        expect(l, `labels of ${line}`).not.toBeNull();
        const [all, k, v] = l as RegExpExecArray;
        expect(labels[k]).toBeUndefined();
        labels[k] = v;
        at += all.length;
      }
    }
    expect(value).toMatch(/^(-?[0-9.]+(e[+-]?\d+)?|NaN|[+-]Inf)$/);
    samples.push({ name, labels, value: Number(value) });
  }
  for (const [name, type] of types) if (type === "counter") expect(name.endsWith("_total")).toBe(true);
  return { samples, types, help };
}

/** Each zone's series, by the snapshot field it must equal. */
const ZONE_SERIES: Record<string, keyof ZoneStats> = {
  zone_item_size_bytes: "size", zone_limit_items: "limit", zone_in_use_items: "current", zone_cache_items: "cache",
  zone_carved_items: "total", zone_peak_items: "peak", zone_pages: "pages",
  zone_allocations_total: "allocs", zone_frees_total: "frees", zone_denied_total: "denied", zone_delayed_total: "delayed",
  zone_pages_taken_total: "pagesIn", zone_pages_returned_total: "pagesOut",
};

/** What each series must equal in the snapshot. */
function expected(s: PoolStats): Map<string, number> {
  const e = new Map<string, number>();
  const key = (name: string, labels: Record<string, string> = {}) =>
    `mbufpool_${name}${JSON.stringify(Object.entries({ ...labels, profile: s.profile }).sort())}`;
  const j = s.jumbo!;
  for (const [zone, z] of [
    ["mbuf", s.mbufs], ["cluster", s.clusters], ["jumbo_page", j.page], ["jumbo_9k", j.nine], ["jumbo_16k", j.sixteen],
  ] as const) {
    for (const [name, field] of Object.entries(ZONE_SERIES)) e.set(key(name, { zone }), z[field]);
  }
  const jumboIn = j.page.current * 4096 + j.nine.current * 9216 + j.sixteen.current * 16384;
  const jumboCache = j.page.cache * 4096 + j.nine.cache * 9216 + j.sixteen.cache * 16384;
  for (let t = 1; t < 16; t++) e.set(key("mbufs_in_use_by_type", { type: MT_NAMES[t] }), s.census[t]);
  e.set(key("packets", { state: "in_use" }), s.packets.current);
  e.set(key("packets", { state: "cache" }), s.packets.cache);
  e.set(key("network_bytes", { state: "in_use" }), s.mbufs.current * 256 + s.clusters.current * s.mclbytes + jumboIn);
  e.set(key("network_bytes", { state: "cache" }), s.mbufs.cache * 256 + s.clusters.cache * s.mclbytes + jumboCache);
  e.set(key("drain_calls_total"), s.drains);
  e.set(key("reserved_denied_total"), s.reservedDenied);
  e.set(key("copym_failures_total"), s.mcfail);
  e.set(key("pullup_failures_total"), s.mpfail);
  e.set(key("reservation_flag"), s.reservation.flag ? 1 : 0);
  e.set(key("reservation_clusters"), s.reservation.count);
  e.set(key("arena_limit_bytes"), s.arena.thewall);
  e.set(key("arena_carved_pages"), s.arena.carvedPages);
  e.set(key("arena_free_pages"), s.arena.freePages);
  e.set(key("arena_zone_pages"), s.arena.zonePages);
  return e;
}

describe("Prometheus exposition", () => {
  it("has a parser check that rejects malformed exposition", () => {
    const ok = "# HELP a_total A counter.\n# TYPE a_total counter\na_total{x=\"1\"} 3\n";
    expect(parseExposition(ok).samples).toEqual([{ name: "a_total", labels: { x: "1" }, value: 3 }]);
    for (const bad of [
      "a_total 3\n", // no HELP/TYPE
      "# HELP a A.\n# TYPE a counter\na 3\n", // counter without _total
      "# HELP a A.\n# TYPE a gauge\na{x=1} 3\n", // unquoted label
      "# HELP a A.\n# TYPE a gauge\na three\n", // not a number
      "# HELP a A.\n# TYPE a gauge\na 1\n# HELP b B.\n# TYPE b gauge\nb 1\na 2\n", // split family
    ]) expect(() => parseExposition(bad), bad).toThrow();
  });

  it("parses as valid text exposition and every value equals the snapshot's", async () => {
    const { pool, held } = busyPool();
    const s = pool.stats();
    const { samples, types, help } = parseExposition(await pool.metrics());
    const got = new Map(samples.map((x) => [`${x.name}${JSON.stringify(Object.entries(x.labels).sort())}`, x.value]));
    const want = expected(s);
    expect(got).toEqual(want);
    expect(s.clusters.denied).toBe(1);
    expect(s.clusters.delayed).toBe(1);
    expect(types.get("mbufpool_zone_denied_total")).toBe("counter");
    expect(types.get("mbufpool_zone_in_use_items")).toBe("gauge");
    for (const h of help.values()) expect(h.length).toBeGreaterThan(10);
    for (const m of held) pool.freem(m);
  });

  it("follows the pool between scrapes, counters included", async () => {
    const { pool, held } = busyPool();
    await pool.metrics();
    for (const m of held) pool.freem(m);
    const s = pool.stats();
    const { samples } = parseExposition(await pool.metrics());
    const got = new Map(samples.map((x) => [`${x.name}${JSON.stringify(Object.entries(x.labels).sort())}`, x.value]));
    expect(got).toEqual(expected(s));
  });

  it("keeps a registry per pool, away from prom-client's global one", async () => {
    const a = makePool({ profile: "freebsd" }), b = makePool({ profile: "freebsd4" });
    const m = a.get();
    expect(a.metricsRegistry).not.toBe(b.metricsRegistry);
    expect(a.metricsRegistry).toBe(a.metricsRegistry);
    const ta = await a.metrics(), tb = await b.metrics();
    expect(ta).toContain('mbufpool_zone_in_use_items{zone="mbuf",profile="freebsd"} 1');
    expect(tb).toContain('mbufpool_zone_in_use_items{zone="mbuf",profile="freebsd4"} 0');
    expect(await globalRegistry.metrics()).not.toContain("mbufpool_");
    expect(await formatPrometheus(a.stats())).toBe(ta);
    a.free(m);
  });
});

describe("JSON report", () => {
  it("carries every counter under its documented name, versioned", () => {
    const { pool, held } = busyPool();
    const s = pool.stats();
    const j = JSON.parse(pool.netstat({ format: "json" })) as StatsJSON;
    expect(j.schema).toBe(STATS_JSON_SCHEMA);
    expect(j.version).toBe(STATS_JSON_VERSION);
    // The field names are the contract: any change here is a new version.
    expect(Object.keys(j)).toEqual([
      "schema", "version", "profile", "msizeBytes", "mclbytesBytes", "zones", "packets", "types", "network", "drains",
      "reservedDenied", "copymFailures", "pullupFailures", "reservation", "arena", "jumbo", "jumboLimits",
    ]);
    const js = s.jumbo!;
    for (const [z, zs] of [
      [j.zones.mbuf, s.mbufs], [j.zones.cluster, s.clusters], [j.jumbo!.page, js.page], [j.jumbo!.nine, js.nine], [j.jumbo!.sixteen, js.sixteen],
    ] as const) {
      expect(z).toEqual({
        sizeBytes: zs.size, limit: zs.limit, inUse: zs.current, cache: zs.cache, total: zs.total, peak: zs.peak,
        pages: zs.pages, allocs: zs.allocs, frees: zs.frees, denied: zs.denied, delayed: zs.delayed,
        pagesIn: zs.pagesIn, pagesOut: zs.pagesOut,
      });
    }
    expect(j.types).toEqual(Object.fromEntries(MT_NAMES.slice(1).map((n, i) => [n, s.census[i + 1]])));
    expect(j.types.data).toBe(9);
    expect(j.types.pcb).toBe(1);
    expect(j.network.totalBytes).toBe(j.network.inUseBytes + j.network.cacheBytes);
    expect(j.network.inUseBytes).toBe(s.mbufs.current * 256 + s.clusters.current * 2048 + 9216);
    expect(j.network.cacheBytes).toBe(s.mbufs.cache * 256 + s.clusters.cache * 2048 + 3 * 9216 + 10 * 16384);
    expect(j.jumbo!.sixteen).toMatchObject({ limit: 10, inUse: 0, cache: 10, pages: 40, denied: 1 });
    expect(j.arena).toEqual({
      limitBytes: s.arena.thewall, pageBytes: 4096, maxPages: s.arena.maxPages, carvedPages: s.arena.carvedPages,
      freePages: s.arena.freePages, zonePages: s.arena.zonePages, pinned: s.arena.pinned,
    });
    expect([j.drains, j.reservedDenied, j.copymFailures, j.pullupFailures]).toEqual([s.drains, s.reservedDenied, s.mcfail, s.mpfail]);
    expect(j.reservation).toEqual({ flag: s.reservation.flag, clusters: s.reservation.count });
    expect(j.jumboLimits).toEqual(s.jumboLimits);
    for (const m of held) pool.freem(m);
  });
});

describe("vmstat -z", () => {
  it("prints the zones as FreeBSD's vmstat -z does, then the census", () => {
    const { pool, held } = busyPool();
    // nmbufs = max(1 MiB / 256 / 5, nmbclusters + jumbo limits) = 819. 8 getcl pairs are the
    // packet zone's (REQ 10 getcl calls, 1 failed without waiting, 1 while waiting); the mbuf
    // zone's own are the 3 others in use (2 plain, 1 with the 9k cluster) of 24 (two pages of 16,
    // less the 8 pairs). Its REQ counts 25: 11 kept, the 2 that getcl took and gave back when no
    // cluster was left, the 11 getjcl of a 16k cluster (the last gave its mbuf back), the 9k one.
    expect(pool.vmstatZ().split("\n")).toEqual([
      "ITEM                   SIZE  LIMIT     USED     FREE      REQ FAIL SLEEP",
      "",
      "mbuf_packet:            256,      0,       8,       0,      10,   1,   1",
      "mbuf:                   256,    819,       3,      21,      25,   0,   0",
      "mbuf_cluster:          2048,      8,       8,       0,       8,   1,   1",
      "mbuf_jumbo_page:       4096,     64,       0,       0,       0,   0,   0",
      "mbuf_jumbo_9k:         9216,     18,       1,       3,       1,   0,   0",
      "mbuf_jumbo_16k:       16384,     10,       0,      10,      10,   1,   0",
      "",
      "TYPE          INUSE",
      "data               9",
      "pcb                1",
      "soname             1",
      "",
    ]);
    const z = pool.zones();
    expect(z.zones.map((r) => r.item)).toEqual(["mbuf_packet", "mbuf", "mbuf_cluster", "mbuf_jumbo_page", "mbuf_jumbo_9k", "mbuf_jumbo_16k"]);
    expect(z.types).toHaveLength(15);
    for (const m of held) pool.freem(m);
  });
});
