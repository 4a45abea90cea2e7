import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sizePool, parseSize, parseTunables, MbufError, PROFILES, type ProfileName } from "mbufpool";
import { makePool } from "./helpers.js";

const CLI = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

function run(...args: string[]): { out: string; err: string; code: number } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { out: r.stdout, err: r.stderr, code: r.status ?? -1 };
}

describe("the sizing advisor", () => {
  it("follows seed 000: 1000 connections x 16K x 2 = 32 MB, x 2 = 64 MB / 2K = 32768 clusters", () => {
    const a = sizePool({ connections: 1000, sockbuf: parseSize("16k") });
    expect(a.nmbclusters).toBe(32768);
    expect(a.reasoning.slice(0, 3)).toEqual([
      "1000 connections x 16K socket buffers x 2 (send + receive) = 31.25 MB, about 32 MB",
      "doubled for a margin: 32 MB x 2 = 64 MB",
      "64 MB / 2K per cluster = 32768 clusters",
    ]);
    expect(a.lines).toContain("kern.ipc.nmbclusters=32768");
    expect(a.thewallBytes).toBe(32768 * 2048 + a.nmbufs * 256);
  });

  it("follows the AIX guide for UDP (mbufs = 2 x packets/s) and FreeBSD 4's nmbufs = 4 x nmbclusters", () => {
    const aix = sizePool({ connections: 100, sockbuf: 16384, pps: 1500, udp: true, profile: "aix" });
    expect(aix.trafficMbufs).toBe(3000);
    expect(aix.nmbclusters).toBe((2 * 4 * 1024 * 1024) / 4096); // 3.125 MB, about 4 MB, doubled, over 4K clusters
    expect(aix.nmbufs).toBe(aix.nmbclusters + 3000);
    expect(aix.lines).toEqual([`no -o thewall=${Math.ceil(aix.thewallBytes / 1024)}`, "no -o lowmbuf=3000"]);
    expect(sizePool({ connections: 100, sockbuf: 16384, pps: 1500 }).trafficMbufs).toBe(1500);
    const f4 = sizePool({ connections: 100, sockbuf: 16384, profile: "freebsd4" });
    expect(f4.nmbufs).toBe(4 * f4.nmbclusters);
    expect(f4.lines[0]).toBe(`kern.ipc.nmbclusters="${f4.nmbclusters}"`);
  });

  it("prints lines that make a pool of the recommended size on every profile", () => {
    for (const profile of Object.keys(PROFILES) as ProfileName[]) {
      const a = sizePool({ connections: 50, sockbuf: 16384, pps: 200, udp: true, profile });
      const pool = makePool({ profile, netm: false, tunables: parseTunables(a.lines.join("\n")) });
      expect(pool.layout.nmbclusters).toBeGreaterThanOrEqual(a.nmbclusters);
      expect(pool.layout.nmbufs).toBeGreaterThanOrEqual(a.nmbufs);
      expect(pool.layout.thewall).toBeGreaterThanOrEqual(a.thewallBytes);
    }
  });

  it("refuses bad input and workloads beyond what a profile holds", () => {
    expect(() => sizePool({ connections: 0, sockbuf: 16384 })).toThrow(/connections must be an integer/);
    expect(() => parseSize("lots")).toThrow(MbufError);
    expect(parseSize("2m")).toBe(2 * 1024 * 1024);
    expect(() => sizePool({ connections: 100_000, sockbuf: 65536, profile: "freebsd4" })).toThrow(/needs more than the freebsd4 profile can hold/);
  });
});

describe("the sysctl, no and size commands", () => {
  it("sysctl reads and writes as sysctl(8) prints", () => {
    expect(run("sysctl", "kern.ipc.nmbclusters")).toEqual({ out: "kern.ipc.nmbclusters: 4096\n", err: "", code: 0 });
    expect(run("sysctl", "kern.ipc.nmbclusters=8192").out).toBe("kern.ipc.nmbclusters: 4096 -> 8192\n");
    const all = run("sysctl", "-a", "--set", "maxusers=125", "-p", "freebsd4");
    expect(all.out).toBe([
      "maxusers: 125", "kern.ipc.nmbclusters: 2512", "kern.ipc.nmbufs: 10048",
      "kern.ipc.mb_rcv_resv: 0", "kern.ipc.mb_rcv_flag: 0", "",
    ].join("\n"));
    const bad = run("sysctl", "kern.ipc.nmbclusters=1024");
    expect(bad.code).toBe(1);
    expect(bad.err).toBe("sysctl: ETUNABLE: kern.ipc.nmbclusters=1024 refused: a runtime write of kern.ipc.nmbclusters may only raise the limit (now 4096)\n");
    expect(run("sysctl", "-d", "kern.ipc.nmbufs").out).toMatch(/^kern\.ipc\.nmbufs: limit of mbufs \(.*may only be raised at runtime\)\n$/);
  });

  it("sysctl takes a tunables file", () => {
    const dir = mkdtempSync(join(tmpdir(), "mbufpool-"));
    try {
      const file = join(dir, "loader.conf");
      writeFileSync(file, 'kern.ipc.nmbclusters="16384"\n');
      expect(run("sysctl", "-p", "freebsd4", "--file", file, "kern.ipc.nmbclusters", "kern.ipc.nmbufs").out)
        .toBe("kern.ipc.nmbclusters: 16384\nkern.ipc.nmbufs: 65536\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("no -a prints AIX's layout; -o shows and sets; -d goes back to the default", () => {
    const all = run("no", "-a");
    expect(all.out.split("\n")).toEqual(expect.arrayContaining([
      "   lowclust = 29", "    lowmbuf = 88", "    thewall = 2048", "mb_cl_hiwat = 58",
    ]));
    expect(run("no", "-o", "thewall=10240", "-o", "thewall")).toEqual({ out: "thewall = 10240\n", err: "", code: 0 });
    // -d says what it did; -o and -d apply in the order given.
    expect(run("no", "--set", "lowclust=100", "-d", "lowclust", "-o", "lowclust").out).toBe("lowclust: 100 -> 29 (the default)\nlowclust = 29\n");
    expect(run("no", "-o", "thewall=10240", "-d", "thewall", "-o", "thewall").out).toBe("thewall: 10240 -> 2048 (the default)\nthewall = 2048\n");
    const bad = run("no", "-o", "lowclust=-1");
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^no: ETUNABLE: lowclust=-1 refused: lowclust must be at least 0/);
  });

  it("size prints the reasoning and the lines to apply", () => {
    const r = run("size", "--connections", "1000", "--sockbuf", "16k");
    expect(r.code).toBe(0);
    expect(r.out).toContain("# 64 MB / 2K per cluster = 32768 clusters\n");
    expect(r.out).toContain("\nkern.ipc.nmbclusters=32768\n");
    const aix = run("size", "-c", "100", "--pps", "1500", "--udp", "-p", "aix");
    expect(aix.out).toContain("# UDP at 1500 packets/s: 2 x 1500 = 3000 mbufs");
    expect(aix.out).toContain("no -o lowmbuf=3000\n");
  });
});
