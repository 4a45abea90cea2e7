// `mbufpool bench` from a checkout (benchmark.js installed): the groups it
// lists, the usage errors it refuses before measuring, and a short run whose
// JSON report carries ratios, a check and the machine.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, "bench", ...args], { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe.runIf(process.env.MBUFPOOL_BUILD !== "debug")("mbufpool bench", () => {
  it("lists its groups, checks included", () => {
    const r = run("--list");
    expect(r.code, r.err).toBe(0);
    for (const g of ["mbuf 256 B: alloc+free pair", "cluster 2 KiB: alloc+free pair", "copym of a 64 KiB chain", "garbage", "metadata"]) {
      expect(r.out.split("\n")).toContain(g);
    }
  });

  it("refuses a bad option or a filter that matches nothing with exit 2, before measuring", () => {
    for (const args of [["--rounds", "0"], ["--rounds", "abc"], ["--time", "fast"], ["--filter", "nothing-like-this"], ["--filter", ""]]) {
      const r = run(...args);
      expect(r.code, `${args.join(" ")}: ${r.err}`).toBe(2);
      expect(r.out).toBe("");
    }
  });

  it("measures a group and a check and writes them as JSON", () => {
    const r = run("--filter", "copydata", "--filter", "metadata", "--time", "20ms", "--rounds", "1", "--json");
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as {
      results: { group: string; baseline: boolean; ratio: number; opsPerSec: number }[];
      checks: { group: string; ok: boolean; figures: Record<string, number> }[];
      run: { rounds: number; time: number };
    };
    expect(report.run).toMatchObject({ rounds: 1, time: 0.02 });
    expect(report.results.length).toBe(3);
    expect(report.results.filter((x) => x.baseline).map((x) => x.ratio)).toEqual([1]);
    expect(report.results.every((x) => x.opsPerSec > 0)).toBe(true);
    expect(report.checks.map((c) => [c.group, c.ok])).toEqual([["metadata", true]]);
  });
});
