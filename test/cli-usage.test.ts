// The CLI as a tool: --version, the default job, and exit statuses that mean the
// same in every command (0 done, 1 a finding, 2 bad usage), with a one-line
// message for every bad value, found before any work starts. Run as a user would
// (the built dist/).
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const PKG = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

function run(args: string[], options: { timeout?: number; cwd?: string } = {}): { out: string; err: string; code: number | null; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", timeout: options.timeout ?? 60_000, cwd: options.cwd });
  return { out: r.stdout, err: r.stderr, code: r.status, ms: Date.now() - t0 };
}

/** The first line of stderr of a usage error, checking the status and that nothing ran. */
function usage(...args: string[]): string {
  const r = run(args);
  expect(r.code, `${args.join(" ")}: ${r.err}`).toBe(2);
  expect(r.out, `${args.join(" ")} printed output before failing`).toBe("");
  expect(r.err).not.toMatch(/^\s+at /m); // no stack trace
  return r.err.split("\n")[0];
}

describe("mbufpool as a tool", () => {
  it("--version and -V print the package's version", () => {
    expect(run(["--version"])).toMatchObject({ out: `${PKG.version}\n`, code: 0 });
    expect(run(["-V"])).toMatchObject({ out: `${PKG.version}\n`, code: 0 });
  });

  it("--version reads package.json next to the module, not in the working folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "mbufpool-"));
    try {
      writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "someone-else", version: "9.9.9" }));
      expect(run(["--version"], { cwd: dir }).out).toBe(`${PKG.version}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("bare mbufpool runs the default job, sim (what help says), and exits 0", () => {
    const help = run(["--help"]).out.replace(/\s+/g, " ");
    expect(help).toContain("Without a command it runs `mbufpool sim`");
    expect(help).toMatch(/sim \[options\] \[scenario\.\.\.\] the default job/);
    expect(help).not.toMatch(/demo the default job/);
    const r = run([], { timeout: 120_000 });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^=== exhaustion: /);
    expect(r.out).toMatch(/^=== leak-or-reader: /m);
    expect(r.out).toContain("[as expected: the seed's failure, reproduced]");
  });

  it("help and help <command> exit 0", () => {
    expect(run(["help"]).code).toBe(0);
    expect(run(["help", "sim"])).toMatchObject({ code: 0 });
    expect(run(["netstat", "--help"]).code).toBe(0);
  });

  it("commander's own errors exit 2 with one line: unknown command and option, missing argument and option", () => {
    expect(usage("bogus")).toBe("mbufpool: unknown command 'bogus'");
    expect(usage("netstat", "--bogus")).toBe("mbufpool: unknown option '--bogus'");
    expect(usage("--bogus")).toBe("mbufpool: unknown option '--bogus'");
    expect(usage("replay")).toBe("mbufpool: missing required argument 'file'");
    expect(usage("size")).toBe("mbufpool: required option '-c, --connections <n>' not specified");
    expect(usage("netstat", "--format", "xml")).toMatch(/^mbufpool: option '-f, --format <format>' argument 'xml' is invalid\. Allowed choices are/);
  });

  it("every numeric option is checked with a one-line message", () => {
    const bad: [string[], string, string][] = [
      [["fuzz", "--bad-rate", "5"], "--bad-rate <r>", "expected a rate from 0 to 1"],
      [["fuzz", "--bad-rate", "abc"], "--bad-rate <r>", "expected a rate from 0 to 1"],
      [["fuzz", "--seed", "-1"], "--seed <n>", "expected an integer from 0 to 2147483647"],
      [["fuzz", "--ops", "1e3"], "--ops <n>", "expected an integer from 1 to"],
      [["fuzz", "--time", "10x"], "--time <duration>", "expected a duration like 500ms, 30s, 5m or 1h"],
      [["fuzz", "--shrink-time", "0s"], "--shrink-time <duration>", "expected a duration"],
      [["fuzz", "--audit-every", "0"], "--audit-every <n>", "expected an integer from 1"],
      [["netperf", "--rounds", "abc"], "--rounds <n>", "expected an integer from 1 to 1000000"],
      [["netperf", "--interval", "1.5"], "--interval <ms>", "expected an integer from 1 to 3600000"],
      [["sim", "--seed", "abc"], "--seed <n>", "expected an integer from 0 to 2147483647"],
      [["size", "-c", "abc"], "-c, --connections <n>", "expected an integer from 1 to 10000000"],
      [["size", "-c", "10", "-b", "lots"], "-b, --sockbuf <bytes>", "expected a size like 16384, 16k or 2m"],
      [["size", "-c", "10", "--pps", "-3"], "--pps <n>", "expected an integer from 0 to 100000000"],
      [["leaks", "--ticks", "0"], "--ticks <n>", "expected an integer from 1 to 10000000"],
      [["watch", "--height", "x"], "--height <rows>", "expected an integer from 1 to 200"],
    ];
    for (const [args, option, message] of bad) {
      const line = usage(...args);
      expect(line).toContain(`mbufpool: option '${option}' argument '${args[args.length - 1]}' is invalid. ${message}`);
    }
  });

  it("--set takes name=integer, and its help shows no empty default", () => {
    expect(usage("sysctl", "--set", "kern.ipc.nmbclusters=abc"))
      .toBe("mbufpool: option '-s, --set <name=value>' argument 'kern.ipc.nmbclusters=abc' is invalid. the value of kern.ipc.nmbclusters must be an integer");
    expect(usage("netstat", "--set", "nmbclusters")).toMatch(/expected name=value/);
    // A value the profile's rule refuses is bad usage too, named with its rule.
    expect(usage("netstat", "--set", "kern.ipc.nmbclusters=0")).toMatch(/^mbufpool: ETUNABLE: kern\.ipc\.nmbclusters=0 refused: /);
    for (const c of ["netstat", "vmstat", "sysctl", "no", "leaks", "watch"]) expect(run([c, "--help"]).out).not.toContain("(default: {})");
    expect(run(["netperf", "--help"]).out.replace(/\s+/g, " ")).toContain("(default: kern.ipc.maxmbufmem=4194304 kern.ipc.nmbclusters=512)");
  });

  it("output paths are checked before a long run: a missing folder, a folder", () => {
    expect(usage("sim", "--html", "/nonexistent/dir/r.html"))
      .toBe("mbufpool: option '--html <file>' argument '/nonexistent/dir/r.html' is invalid. the folder /nonexistent/dir does not exist");
    const dir = mkdtempSync(join(tmpdir(), "mbufpool-"));
    try {
      expect(usage("sim", "--html", dir)).toContain(`${dir} is a folder, not a file`);
      expect(usage("watch", "-o", join(dir, "no", "s.json"))).toContain(`the folder ${join(dir, "no")} does not exist`);
      expect(usage("fuzz", "-o", join(dir, "no", "t.jsonl"))).toContain("does not exist");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const r = run(["sim", "--html", "/nonexistent/dir/r.html"]);
    expect(r.ms).toBeLessThan(20_000); // refused up front, not after the whole run
  });

  it("sim refuses an unknown scenario before running anything", () => {
    expect(usage("sim", "exhaustion", "bogus")).toBe('mbufpool: unknown scenario "bogus"; choose from exhaustion, rtems-deadlock, packet-zone, aix-tuning, leak-or-reader');
  });

  it("sysctl and no: a bad name or value is bad usage (2), a write the rules refuse is a finding (1)", () => {
    expect(run(["sysctl", "kern.ipc.nmbclusters=abc"])).toMatchObject({ code: 2, err: "sysctl: kern.ipc.nmbclusters=abc: the value must be an integer\n" });
    expect(run(["sysctl", "bogus"])).toMatchObject({ code: 2 });
    expect(run(["sysctl", "kern.ipc.nmbclusters=1024"]).code).toBe(1);
    // Both: the worse status wins, and the good operands still print.
    expect(run(["sysctl", "kern.ipc.nmbclusters=1024", "bogus", "kern.ipc.nmbufs"])).toMatchObject({ code: 2, out: expect.stringMatching(/^kern\.ipc\.nmbufs: \d+\n$/) });
    expect(run(["no", "-o", "lowclust=abc"])).toMatchObject({ code: 2, err: "no: lowclust=abc: the value must be an integer\n" });
    expect(run(["no", "-d", "bogus"]).code).toBe(2);
    expect(run(["no", "-o", "lowclust=-1"]).code).toBe(1);
  });

  it("no -d says what it did: the option, its old and its new value", () => {
    expect(run(["no", "-o", "lowclust=100", "-d", "lowclust"])).toEqual({ out: "lowclust: 100 -> 29 (the default)\n", err: "", code: 0, ms: expect.any(Number) });
  });

  it("a finding exits 1: leaks flagging a leak, replay diverging; none exits 0", () => {
    expect(run(["leaks"]).code).toBe(1);
    expect(run(["leaks", "-w", "sawtooth"]).code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), "mbufpool-"));
    try {
      const bad = join(dir, "bad.jsonl");
      writeFileSync(bad, "not a trace\n");
      expect(run(["replay", bad]).code).toBe(2); // unreadable: bad usage, not a divergence
      const diverges = join(dir, "diverges.jsonl");
      writeFileSync(diverges, '{"op":"create","format":2,"profile":"freebsd"}\n{"op":"getcl","how":1,"type":1,"flags":2,"expect":0}\n');
      expect(run(["replay", diverges])).toMatchObject({ code: 1, out: expect.stringContaining("diverged after 1 operations") });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("commands that run a demo workload on a throwaway simulated pool say so in their help, and how to go live", () => {
    const top = run(["--help"]).out.replace(/\s+/g, " ");
    for (const c of ["netstat", "vmstat", "leaks", "watch"]) {
      expect(top).toMatch(new RegExp(`${c} \\[options\\] [^,]*of a running service \\(--url\\), or a demo workload on a throwaway simulated pool`));
    }
    for (const c of ["sysctl", "no"]) expect(top).toMatch(new RegExp(`${c} \\[options\\] [^:]*on a running service \\(--url\\) or a throwaway pool made for this run`));
    for (const c of ["netstat", "vmstat", "sysctl", "no", "leaks", "watch"]) {
      const help = run([c, "--help"]).out.replace(/\s+/g, " ");
      expect(help).toContain("Without --url this is a demo on a throwaway simulated pool made for this run: nothing persists");
      expect(help).toContain("With --url URL (or MBUFPOOL_URL) it is live");
      expect(help).toContain("--url <url>");
    }
  });

  it("an empty MBUFPOOL_URL is no URL: the command runs its demo", () => {
    const r = spawnSync(process.execPath, [MAIN, "netstat", "-m"], { encoding: "utf8", env: { ...process.env, MBUFPOOL_URL: "", MBUFPOOL_OPERATOR_TOKEN: "" } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("mbuf clusters in use");
  });

  it("fuzz --jumbo runs the jumbo-cluster operations against the model", () => {
    const r = run(["fuzz", "--jumbo", "--ops", "1500", "--seed", "3", "--profile", "freebsd", "--no-progress"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^fuzz: \d+ operations in \d+ cases, seeds? 3(\.\.\d+)?, 0 failures/);
  });

  it("fuzz --threads drives one shared pool from several worker threads; it refuses the model's options", () => {
    const r = run(["fuzz", "--threads", "3", "--ops", "3000", "--seed", "4"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^fuzz: \d+ operations on 3 threads over one shared pool, \d+ quiescent points, \d+ requests denied, seed 4, .*: no failure$/m);
    expect(usage("fuzz", "--threads", "9")).toContain("expected an integer from 2 to 8");
    expect(usage("fuzz", "--threads", "2", "--jumbo", "--profile", "aix")).toContain("drop --profile, --jumbo");
    const p = run(["fuzz", "--threads", "2", "--packet-zone", "--ops", "2000", "--seed", "4"]);
    expect(p.code, p.err).toBe(0);
    expect(p.out).toMatch(/^fuzz: \d+ operations on 2 threads over one shared pool with a packet zone \(\d+ hits\), .*: no failure$/m);
    expect(usage("fuzz", "--packet-zone")).toContain("--packet-zone goes with --threads");
  });

  it("demo prints a burst's netstat -m on every profile, as the README shows", () => {
    const r = run(["demo"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out.split("\n").filter((l) => l.startsWith("=== ")).map((l) => l.split(" (")[0])).toEqual(
      ["=== FreeBSD", "=== FreeBSD 4.x on i386", "=== RTEMS 4.6", "=== AIX 3.2.5"]);
  });

  it("sim runs the incidents it is given, as docs/simulator.md shows: each variant behaves as its system did", () => {
    const r = run(["sim", "rtems-deadlock", "packet-zone", "--seed", "7", "--json"]);
    expect(r.code, r.err).toBe(0);
    const results = JSON.parse(r.out) as { name: string; ok: boolean; variants: { ok: boolean }[] }[];
    expect(results.map((x) => x.name)).toEqual(["rtems-deadlock", "packet-zone"]);
    expect(results.every((x) => x.ok && x.variants.length >= 2 && x.variants.every((v) => v.ok))).toBe(true);
  });
});

