import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MbufError, PROFILES, M_NOWAIT, M_RECV, parseTunables, type Pool } from "mbufpool";
import { makePool } from "./helpers.js";

const KiB = 1024, MiB = 1024 * KiB;

/** The ETUNABLE a call throws (fails the test if it throws nothing else). */
function refusal(fn: () => unknown): MbufError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MbufError);
    expect((e as MbufError).code).toBe("ETUNABLE");
    return e as MbufError;
  }
  throw new Error("expected a refusal");
}

/** Takes clusters until none comes. */
function drainClusters(pool: Pool, how = M_NOWAIT): number[] {
  const held: number[] = [];
  for (let m = pool.getcl(how); m; m = pool.getcl(how)) held.push(m);
  return held;
}

describe("the tunable registry", () => {
  it("describes every tunable of every profile: type, unit, default, range, runtime rule", () => {
    for (const p of Object.values(PROFILES)) {
      const pool = makePool({ profile: p.name });
      const all = pool.listTunables();
      expect(all.map((t) => t.name)).toEqual(p.tunables.map((t) => t.name));
      for (const t of all) {
        expect(["integer", "boolean"]).toContain(t.type);
        expect(["count", "bytes", "KB", "flag"]).toContain(t.unit);
        expect(["boot", "raise", "rw"]).toContain(t.runtime);
        expect(t.rule.length).toBeGreaterThan(0);
        expect(t.value).toBe(t.default); // nothing given: every value is its autosized default
        expect(t.min).toBeLessThanOrEqual(t.value);
        expect(t.max).toBeGreaterThanOrEqual(t.value);
      }
    }
  });

  it("reproduces each profile's defaults from its formula", () => {
    for (const physmem of [16 * MiB, 64 * MiB, 1024 * MiB]) {
      const t = makePool({ profile: "freebsd", tunables: { "hw.physmem": physmem } }).tunables;
      const mbm = physmem / 2;
      expect(t["kern.ipc.maxmbufmem"]).toBe(mbm);
      expect(t["kern.ipc.nmbclusters"]).toBe(Math.floor(mbm / 2048 / 4));
      expect(t["kern.ipc.nmbjumbop"]).toBe(Math.floor(mbm / 4096 / 4));
      expect(t["kern.ipc.nmbjumbo9"]).toBe(Math.floor(mbm / 9216 / 6));
      expect(t["kern.ipc.nmbjumbo16"]).toBe(Math.floor(mbm / 16384 / 6));
      const clusters = t["kern.ipc.nmbclusters"] + t["kern.ipc.nmbjumbop"] + t["kern.ipc.nmbjumbo9"] + t["kern.ipc.nmbjumbo16"];
      expect(t["kern.ipc.nmbufs"]).toBe(Math.max(Math.floor(mbm / 256 / 5), clusters));
    }
    for (const maxusers of [1, 32, 125]) {
      const pool = makePool({ profile: "freebsd4", tunables: { maxusers } });
      expect(pool.tunables["kern.ipc.nmbclusters"]).toBe(512 + maxusers * 16);
      expect(pool.tunables["kern.ipc.nmbufs"]).toBe(4 * (512 + maxusers * 16));
    }
    const r = makePool({ profile: "rtems", tunables: { mbuf_bytecount: 32 * KiB, mbuf_cluster_bytecount: 64 * KiB } });
    expect(r.layout.nmbufs).toBe(128);
    expect(r.layout.nmbclusters).toBe(32);
    const a = makePool({ profile: "aix" });
    expect([a.tunables["thewall"], a.tunables["lowmbuf"], a.tunables["lowclust"], a.tunables["mb_cl_hiwat"]]).toEqual([2048, 88, 29, 58]);
    expect(a.layout.nmbclusters).toBe((2048 * KiB) / 4096);
  });

  it("shows a tunable's default as autosized from the current values", () => {
    const pool = makePool({ profile: "freebsd4", tunables: { maxusers: 64, "kern.ipc.nmbclusters": 5000 } });
    const t = pool.tunable("nmbclusters");
    expect(t.name).toBe("kern.ipc.nmbclusters");
    expect(t.value).toBe(5000);
    expect(t.default).toBe(512 + 64 * 16);
    expect(pool.tunable("kern.ipc.nmbufs").default).toBe(20000);
  });
});

describe("runtime writes (sysctl)", () => {
  it("raise FreeBSD's cluster limit on the live zone", () => {
    const pool = makePool({ profile: "freebsd", tunables: { "kern.ipc.maxmbufmem": MiB } });
    expect(pool.sysctl("kern.ipc.nmbclusters")).toBe(128);
    const held = drainClusters(pool);
    expect(held.length).toBe(128);
    expect(pool.sysctl("kern.ipc.nmbclusters", 200)).toEqual({ name: "kern.ipc.nmbclusters", old: 128, new: 200 });
    expect(pool.stats().clusters.limit).toBe(200);
    expect(pool.layout.nmbclusters).toBe(200);
    held.push(...drainClusters(pool));
    expect(held.length).toBe(200);
    for (const m of held) pool.freem(m);
  });

  it("refuse a lower nmb* limit, naming the tunable, the value and the rule, and change nothing", () => {
    const pool = makePool({ profile: "freebsd", tunables: { "kern.ipc.maxmbufmem": MiB } });
    const e = refusal(() => pool.sysctl("kern.ipc.nmbclusters", 100));
    expect(e.message).toBe(
      "ETUNABLE: kern.ipc.nmbclusters=100 refused: a runtime write of kern.ipc.nmbclusters may only raise the limit (now 128)");
    expect(pool.sysctl("kern.ipc.nmbclusters")).toBe(128);
    expect(pool.stats().clusters.limit).toBe(128);
    expect(refusal(() => pool.sysctl("kern.ipc.nmbufs", 10)).message).toMatch(/kern\.ipc\.nmbufs=10 refused: .*may only raise/);
    expect(refusal(() => pool.sysctl("kern.ipc.nmbjumbop", 0)).message).toMatch(/may only raise/);
  });

  it("refuse cluster limits above nmbufs and limits beyond what the arena holds", () => {
    const pool = makePool({ profile: "freebsd", tunables: { "kern.ipc.maxmbufmem": MiB, "kern.ipc.nmbufs": 300 } });
    const e = refusal(() => pool.sysctl("nmbclusters", 301));
    expect(e.message).toMatch(/^ETUNABLE: kern\.ipc\.nmbclusters=301 refused: kern\.ipc\.nmbufs \(300\) must stay .*cluster limits may not exceed nmbufs/);
    expect(pool.stats().clusters.limit).toBe(128);
    expect(refusal(() => pool.sysctl("nmbclusters", 513)).message).toMatch(/nmbclusters=513 refused: .*fit in kern\.ipc\.maxmbufmem \(here 1 to 512\)/);
    expect(pool.sysctl("nmbclusters", 300).new).toBe(300);
  });

  it("refuse boot-time tunables with the system's reason", () => {
    const f = makePool({ profile: "freebsd" });
    expect(refusal(() => f.sysctl("kern.ipc.maxmbufmem", 64 * MiB)).message).toMatch(/read-only at runtime: a boot-time tunable \(loader\.conf\)/);
    const f4 = makePool({ profile: "freebsd4" });
    expect(refusal(() => f4.sysctl("kern.ipc.nmbclusters", 4096)).message).toMatch(/kern\.ipc\.nmbclusters=4096 refused: .*mb_map is sized at boot/);
    const r = makePool({ profile: "rtems" });
    expect(refusal(() => r.sysctl("mbuf_cluster_bytecount", 1 << 20)).message).toMatch(/carved once at start-up/);
  });

  it("refuse unknown names and values that are not integers; accept a write of the same value as no change", () => {
    const pool = makePool({ profile: "aix" });
    expect(refusal(() => pool.sysctl("kern.ipc.nmbclusters", 1)).message).toMatch(/unknown tunable "kern\.ipc\.nmbclusters" for profile aix/);
    expect(refusal(() => pool.sysctl("lowclust", 2.5)).message).toMatch(/lowclust=2\.5 refused: lowclust takes an integer/);
    expect(refusal(() => pool.sysctl("lowclust", "30" as unknown as number)).message).toMatch(/lowclust=30 refused/);
    expect(refusal(() => pool.sysctl("reserveFlag", 2)).message).toMatch(/mb_rcv_flag=2 refused: mb_rcv_flag must be 0 or 1/);
    expect(pool.sysctl("lowclust", 29)).toEqual({ name: "lowclust", old: 29, new: 29 });
  });

  it("move AIX's thewall on the live arena, up to the room the pool was made with", () => {
    const pool = makePool({ profile: "aix", netm: false });
    expect(pool.maxThewall).toBe(16 * MiB);
    expect(pool.sysctl("thewall", 10240)).toEqual({ name: "thewall", old: 2048, new: 10240 });
    let s = pool.stats();
    expect(s.arena.thewall).toBe(10240 * KiB);
    expect(s.clusters.limit).toBe(2560);
    expect(pool.grow("cluster", 1000)).toBeGreaterThan(512 - 29); // more than the old wall held
    expect(pool.stats().arena.carvedPages).toBeGreaterThan(512);
    const e = refusal(() => pool.sysctl("thewall", 32768));
    expect(e.message).toMatch(/thewall=32768 refused: thewall may be raised only up to the 16384 KB .*maxThewall/);
    expect(refusal(() => pool.sysctl("thewall", 1024)).message).toMatch(/thewall=1024 refused: thewall may not drop below the \d+ KB the pools have already taken/);
    s = pool.stats();
    expect(s.arena.thewall).toBe(10240 * KiB);
    const big = makePool({ profile: "aix", maxThewall: 64 * MiB, netm: false });
    expect(big.sysctl("thewall", 32768).new).toBe(32768);
    expect(() => makePool({ profile: "aix", maxThewall: 1024 })).toThrow(/maxThewall=1024 refused/);
  });

  it("lower thewall and shrink the derived limits while nothing is carved above them", () => {
    const pool = makePool({ profile: "aix", netm: false, tunables: { lowmbuf: 16, lowclust: 4 } });
    expect(pool.sysctl("thewall", 256).new).toBe(256);
    const s = pool.stats();
    expect(s.arena.thewall).toBe(256 * KiB);
    expect(s.clusters.limit).toBe(64);
    expect(refusal(() => pool.sysctl("lowclust", 65)).message).toMatch(/lowclust=65 refused: .*fit in thewall/);
  });

  it("reset to the default (AIX no -d), under the same runtime rules", () => {
    const pool = makePool({ profile: "aix", netm: false, tunables: { lowclust: 100 } });
    expect(pool.resetTunable("lowclust")).toEqual({ name: "lowclust", old: 100, new: 29 });
    const f = makePool({ profile: "freebsd", tunables: { "kern.ipc.maxmbufmem": MiB } });
    f.sysctl("nmbclusters", 200);
    expect(refusal(() => f.resetTunable("nmbclusters")).message).toMatch(/kern\.ipc\.nmbclusters=128 refused: .*may only raise/);
  });

  it("set the reservation settings at runtime and show them in stats", () => {
    const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 6, "kern.ipc.nmbufs": 24 } });
    expect(pool.stats().reservation).toEqual({ flag: false, count: 0, auto: false });
    pool.sysctl("kern.ipc.mb_rcv_resv", 2);
    pool.sysctl("reserveFlag", 1);
    expect(pool.stats().reservation).toEqual({ flag: false, count: 2, auto: true });
    const held = drainClusters(pool);
    expect(held.length).toBe(4);
    const r = pool.getcl(M_NOWAIT | M_RECV);
    expect(r).toBeGreaterThan(0);
    expect(refusal(() => pool.sysctl("reserve", 7)).message).toMatch(/mb_rcv_resv=7 refused/);
    for (const m of [...held, r]) pool.freem(m);
  });

  it("keep every accepted write consistent with FreeBSD's rules (property)", () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.constantFrom("kern.ipc.nmbclusters", "kern.ipc.nmbufs", "kern.ipc.nmbjumbop"), fc.integer({ min: -10, max: 5000 })), { maxLength: 12 }),
      (writes) => {
        const pool = makePool({ profile: "freebsd", tunables: { "kern.ipc.maxmbufmem": MiB } });
        const model: Record<string, number> = { ...pool.tunables };
        for (const [name, value] of writes) {
          // A jumbo limit must fit in the arena on its own (its zone may grow to it): 256 pages here.
          const max = name === "kern.ipc.nmbufs" ? MiB / 256 : name === "kern.ipc.nmbclusters" ? MiB / 2048 : MiB / 4096;
          const next = { ...model, [name]: value };
          const ok = value === model[name] || (value > model[name] && value <= max && next["kern.ipc.nmbclusters"] <= next["kern.ipc.nmbufs"]);
          let accepted = true;
          try {
            pool.sysctl(name, value);
          } catch (e) {
            expect((e as MbufError).code).toBe("ETUNABLE");
            expect((e as MbufError).message).toContain(`${name}=${value} refused`);
            accepted = false;
          }
          expect(accepted).toBe(ok);
          if (ok) model[name] = value;
          expect(pool.tunables).toEqual(model);
          const s = pool.stats();
          expect(s.clusters.limit).toBe(model["kern.ipc.nmbclusters"]);
          expect(s.mbufs.limit).toBe(model["kern.ipc.nmbufs"]);
          expect(s.jumbo!.page.limit).toBe(model["kern.ipc.nmbjumbop"]);
        }
        expect(pool.audit().ok).toBe(true);
        pool.close();
      },
    ), { numRuns: 40 });
  });
});

describe("tunables files and options", () => {
  it("parse sysctl.conf, loader.conf and AIX no lines", () => {
    const text = [
      "# network buffers",
      "kern.ipc.nmbclusters=\"16384\"   # loader.conf style",
      "  kern.ipc.nmbufs = 65536",
      "",
      "no -o thewall=10240",
      "sysctl kern.ipc.nmbjumbop=0x10",
    ].join("\n");
    expect(parseTunables(text)).toEqual({
      "kern.ipc.nmbclusters": 16384, "kern.ipc.nmbufs": 65536, thewall: 10240, "kern.ipc.nmbjumbop": 16,
    });
    expect(() => parseTunables("a=1\nb=two\n", "my.conf")).toThrow(/my\.conf:2: expected name=integer, got "b=two"/);
    expect(() => parseTunables("just words")).toThrow(MbufError);
  });

  it("make a pool from a file; options given alongside win", () => {
    const dir = mkdtempSync(join(tmpdir(), "mbufpool-"));
    try {
      const file = join(dir, "sysctl.conf");
      writeFileSync(file, "maxusers=125\nkern.ipc.nmbufs=20000\n");
      const pool = makePool({ profile: "freebsd4", tunablesFile: file, tunables: { "kern.ipc.nmbufs": 30000 } });
      expect(pool.tunables["kern.ipc.nmbclusters"]).toBe(2512);
      expect(pool.tunables["kern.ipc.nmbufs"]).toBe(30000);
      writeFileSync(file, "maxusers=0\n");
      expect(() => makePool({ profile: "freebsd4", tunablesFile: file })).toThrow(/maxusers=0 refused/);
      expect(() => makePool({ tunablesFile: join(dir, "missing.conf") })).toThrow(/cannot read the tunables file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("take the reservation settings as options, off by default", () => {
    const pool = makePool({ profile: "rtems", reserve: 4, reserveFlag: true });
    expect(pool.stats().reservation).toEqual({ flag: false, count: 4, auto: true });
    expect(pool.tunables["mb_rcv_resv"]).toBe(4);
    expect(makePool({ profile: "rtems" }).stats().reservation).toEqual({ flag: false, count: 0, auto: false });
  });
});

describe("the audit of runtime limits", () => {
  it("reports a thewall or a zone limit that no longer holds what is carved", () => {
    const pool = makePool({ profile: "aix", netm: false });
    const u32 = new Uint32Array(pool.buffer);
    const ex = pool.core;
    const wall = (ex.MB_STATS.value + ex.MB_GLOBAL.value + 116) >>> 2; // GL.maxPages
    const limit = (ex.MB_STATS.value + ex.MB_ZONE_BYTES.value * 2 + 16) >>> 2; // cluster zone's limit
    const saved = [u32[wall], u32[limit]];
    u32[wall] = saved[0] + 1;
    expect(pool.audit()).toMatchObject({ ok: false, code: 19 });
    u32[wall] = saved[0];
    u32[limit] = 3;
    expect(pool.audit()).toMatchObject({ ok: false, code: 20 });
    expect(pool.audit().message).toMatch(/a zone holds more items than its limit/);
    u32[limit] = saved[1];
    expect(pool.audit().ok).toBe(true);
  });
});
