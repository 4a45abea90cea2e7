// The package as a user installs it: `npm pack`, installed into a fresh
// project from the tarball, with no development dependency and none of the
// optional peers. Installing builds nothing; the library, the HTML report (its
// uPlot copy ships in dist/), the trace replayer and every CLI command that
// needs no optional peer work; the commands that need one say which and exit 2; with benchmark
// installed, `mbufpool bench` runs and names the peers it skipped.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const npm = (cwd: string, ...args: string[]): SpawnSyncReturns<string> =>
  spawnSync(NPM, [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, encoding: "utf8" });

let dir = "";
let cli = "";
const run = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

// One job per build is enough: the package is the same for both.
describe.runIf(process.env.MBUFPOOL_BUILD !== "debug")("the installed package", () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "mbufpool-package-"));
    const packed = npm(ROOT, "pack", "--json", "--ignore-scripts", "--pack-destination", dir);
    expect(packed.status, packed.stderr).toBe(0);
    const tarball = join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0].filename);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }));
    const installed = npm(dir, "install", tarball);
    expect(installed.status, installed.stderr).toBe(0);
    cli = join(dir, "node_modules", "mbufpool", "dist", "cli", "main.js");
  }, 180_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("installs only the runtime dependencies: no fast-check, uplot, benchmark or build tool", () => {
    for (const pkg of ["fast-check", "uplot", "benchmark", "assemblyscript", "typescript"]) {
      expect(existsSync(join(dir, "node_modules", pkg)), pkg).toBe(false);
    }
    for (const f of ["build/release.wasm", "build/debug.wasm", "build/bench/tlsf.wasm", "dist/sim/vendor/uplot/uPlot.iife.min.js",
      "dist/sim/vendor/uplot/LICENSE"]) {
      expect(existsSync(join(dir, "node_modules", "mbufpool", f)), f).toBe(true);
    }
  });

  it("the library runs from the consumer's project", () => {
    writeFileSync(join(dir, "use.mjs"), `import { Pool } from "mbufpool";
const pool = Pool.create({ profile: "rtems" });
const m = pool.gethdr();
pool.append(m, new TextEncoder().encode("hello"));
console.log(pool.length(m));
pool.freem(m);
pool.assertAudit();
`);
    const r = spawnSync(process.execPath, ["use.mjs"], { cwd: dir, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("5");
  });

  it("writes the HTML report with its charts' code inlined", () => {
    const r = run("sim", "exhaustion", "--html", "report.html");
    expect(r.code, r.err).toBe(0);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).toContain("uPlot");
    expect(html.length).toBeGreaterThan(50_000);
  });

  it("fuzz and bench name the optional dependency they need and exit 2; replay needs none", () => {
    for (const [args, pkg] of [[["fuzz", "--ops", "10"], "fast-check"], [["bench", "--list"], "benchmark"]] as const) {
      const r = run(...args);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain(`needs ${pkg}, an optional dependency that is not installed: npm install --save-dev ${pkg}@`);
    }
    expect(run("--help").code).toBe(0);
    copyFileSync(fileURLToPath(new URL("./traces/packet-refill-keeps-carved-mbufs.jsonl", import.meta.url)), join(dir, "trace.jsonl"));
    const replay = run("replay", "trace.jsonl");
    expect(replay.code, replay.err).toBe(0);
    expect(replay.out).toContain("no divergence");
  });

  it("with benchmark installed, bench measures and names the peers it skipped", () => {
    const installed = npm(dir, "install", "benchmark@2.1.4");
    expect(installed.status, installed.stderr).toBe(0);
    const list = run("bench", "--list");
    expect(list.code, list.err).toBe(0);
    expect(list.out).toContain("mbuf 256 B: alloc+free pair");
    expect(list.out).toContain("skipped: mbuf 256 B: alloc+free pair: @thi.ng/malloc malloc(256)+free (needs @thi.ng/malloc");
    const r = run("bench", "--filter", "copym", "--time", "20ms", "--rounds", "1", "--json");
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as { results: { group: string; name: string; ratio: number }[]; machine: { node: string } };
    expect(report.machine.node).toBe(process.version);
    expect(report.results.map((x) => x.name)).toContain("mbufpool copym (clusters shared) + freem");
    expect(report.results.every((x) => x.group === "copym of a 64 KiB chain" && x.ratio > 0)).toBe(true);
  }, 120_000);
});
