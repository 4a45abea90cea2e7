// The fuzzer, traces and replay: a bounded fuzz run on every build (the CI
// run), seeded bugs it must catch with a shrunk trace that replays the
// failure, and the trace format itself.
import { describe, it, expect } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  fuzz, summarize, replay, parseTrace, formatTrace, describeDivergence, TraceError, OPS, Run,
} from "mbufpool/fuzz";
import { BROKEN, MISBEHAVING } from "./broken.js";
import { BUILD } from "./helpers.js";

const CLI = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

/** A hand-written trace: allocation, a double free, a wrapped handle, a clock advance, checkpoints. */
const TRACE = `# a hand-written trace
{"op":"create","format":2,"profile":"freebsd4","tunables":{"nmbclusters":4,"nmbufs":16}}
{"op":"getcl","how":1,"type":1,"flags":2,"expect":"h1"}
{"op":"get","how":1,"type":3,"expect":"h2"}
{"op":"free","m":"h2","expect":0}
{"op":"free","m":"h2","expect":{"error":["EDOUBLEFREE","EBADHANDLE"]}}
{"op":"free","m":{"$":"plus","h":"h1","d":4294967296},"expect":{"error":"EBADHANDLE"}}
{"op":"chtype","m":"h1","type":{"$":"NaN"},"expect":{"error":"EINVAL"}}
{"op":"getBulk","n":5,"how":1,"type":1,"cluster":true,"pkthdr":true,"expect":["h3","h4","h5"]}
{"op":"advance","ms":1000}
{"op":"freemBulk","ms":["h3","h4","h5","h3"],"expect":{"error":"EDOUBLEFREE"}}
{"op":"freemBulk","ms":["h3","h4","h5"],"expect":null}
{"op":"stats","expect":{"mbufs":{"current":1,"total":16,"pages":1,"denied":0,"delayed":0},"clusters":{"current":1,"total":4,"pages":2,"denied":1,"delayed":0},"census":[0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"drains":0,"reservedDenied":0,"reservation":{"flag":false,"count":0,"auto":false},"packetCache":0}}
{"op":"freem","m":"h1"}
{"op":"audit","expect":"clean"}
`;

describe("fuzzing (the bounded CI run)", () => {
  for (const seed of [1, 2024, 77777]) {
    it(`finds no divergence from the model: seed ${seed}, every profile`, () => {
      const r = fuzz({ seed, ops: 60_000, build: BUILD, auditEvery: 7 });
      console.log(`${BUILD}: ${summarize(r)}`);
      expect(r.failure?.trace ?? "", r.failure?.message).toBe("");
      expect(r.failures).toBe(0);
      expect(r.ops).toBeGreaterThanOrEqual(60_000);
    });
  }
});

describe("seeded bugs", () => {
  for (const [bug, factory] of Object.entries(BROKEN)) {
    it(`are caught, shrunk and replayed: ${bug}`, () => {
      const dir = mkdtempSync(join(tmpdir(), "mbufpool-fuzz-"));
      try {
        const traceFile = join(dir, "failure.jsonl");
        const r = fuzz({ seed: 5, ops: 100_000, build: BUILD, factory, traceFile });
        expect(r.failures, bug).toBe(1);
        const f = r.failure!;
        console.log(`"${bug}": ${summarize(r)}; shrunk to ${f.traceOps} operations after ${f.shrinks} shrinks: ${f.message}`);
        expect(f.traceOps).toBeLessThanOrEqual(6); // shrunk: create, a handle or two, the bad call
        const text = readFileSync(traceFile, "utf8");
        expect(text).toBe(f.trace);
        // The trace replays the failure on the broken pool, at its last line ...
        const broken = replay(text, { build: BUILD, factory });
        expect(broken.ok).toBe(false);
        expect(broken.divergence!.line).toBe(text.trimEnd().split("\n").length);
        // ... and the real pool meets every expectation in it.
        const good = replay(text, { build: BUILD });
        expect(good.ok, good.divergence && describeDivergence(good.divergence)).toBe(true);
        // The CLI says the same, with exit codes.
        const cli = spawnSync(process.execPath, [CLI, "replay", traceFile, "--build", BUILD], { encoding: "utf8" });
        expect(cli.status).toBe(0);
        expect(cli.stdout).toMatch(/no divergence/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe("seeded bugs of behaviour (valid arguments, wrong result: only the model sees them)", () => {
  for (const [bug, factory] of Object.entries(MISBEHAVING)) {
    it(`are caught and replayed: ${bug}`, () => {
      const r = fuzz({ seed: 11, ops: 200_000, build: BUILD, factory, badRate: 0 });
      expect(r.failures, bug).toBe(1);
      const f = r.failure!;
      console.log(`"${bug}": ${summarize(r)}; shrunk to ${f.traceOps} operations: ${f.message}`);
      expect(f.traceOps).toBeLessThanOrEqual(12);
      expect(replay(f.trace, { build: BUILD, factory }).ok).toBe(false);
      expect(replay(f.trace, { build: BUILD }).ok).toBe(true);
    });
  }
});

describe("traces", () => {
  it("replay a hand-written trace, with names, tagged values and checkpoints", () => {
    const r = replay(TRACE, { build: BUILD });
    expect(r.divergence && describeDivergence(r.divergence)).toBeUndefined();
    expect(r).toMatchObject({ ok: true, ops: 13, audit: "clean" });
  });

  it("report the first divergence with its line, then stop", () => {
    const text = TRACE.replace('"expect":"h2"', '"expect":0');
    const r = replay(text, { build: BUILD });
    expect(r.ok).toBe(false);
    expect(r.ops).toBe(2);
    expect(r.divergence).toMatchObject({ line: 4, op: "get", expected: 0, actual: "h2" });
    expect(describeDivergence(r.divergence!)).toBe('line 4: get {"how":1,"type":3}: expected 0, got "h2"');
  });

  it("treat a line without expect as unchecked, and a trap or plain Error as a divergence", () => {
    const unchecked = TRACE.split("\n").map((l) => l.replace(/,"expect":.*\}$/, "}")).join("\n");
    expect(replay(unchecked, { build: BUILD }).ok).toBe(true);
    const r = replay(`{"op":"create","format":2,"profile":"freebsd"}\n{"op":"get","how":1,"type":1}\n{"op":"free","m":"h1"}\n`, {
      build: BUILD,
      factory: (o) => {
        const p = BROKEN["free without the i32 check"](o);
        return new Proxy(p, { get: (t, k, rcv) => (k === "free" ? () => { throw new RangeError("boom"); } : Reflect.get(t, k, rcv)) });
      },
    });
    expect(r.ok).toBe(false);
    expect(r.divergence!.actual).toEqual({ crash: "RangeError: boom" });
  });

  it("refuse malformed traces with the line", () => {
    expect(() => parseTrace("")).toThrow(TraceError);
    expect(() => parseTrace('{"op":"get"}')).toThrow(/line 1: a trace starts with one "create"/);
    expect(() => parseTrace('{"op":"create","format":2,"profile":"aix"}\n{"op":"frobnicate"}')).toThrow(/line 2: unknown op "frobnicate"/);
    expect(() => parseTrace('{"op":"create","format":2,"profile":"aix"}\nnot json')).toThrow(/line 2: not JSON/);
    expect(() => replay('{"op":"create","format":2,"profile":"aix"}\n{"op":"free","m":"h9"}', { build: BUILD })).toThrow(/h9 is used before/);
  });

  it("resolve tagged values against the running pool", () => {
    const run = new Run({ profile: "freebsd4", tunables: { nmbclusters: 4, nmbufs: 16 }, build: BUILD });
    try {
      const h1 = run.newHandle(run.pool.gethdr());
      const m = run.addressOf(h1);
      expect(run.decode({ $: "len", h: h1, d: 1 })).toBe(1); // an empty chain: length 0, one past it
      expect(run.decode({ $: "plus", h: h1, d: 2 ** 32 })).toBe(m + 2 ** 32);
      expect(run.decode({ $: "bigint", v: "7" })).toBe(7n);
      expect(run.decode({ $: "addr", of: "stats" })).toBe(run.pool.core.MB_STATS.value);
      expect(run.decode([h1, { $: "NaN" }, { k: { $: "undefined" } }])).toEqual([m, NaN, { k: undefined }]);
      expect(() => run.decode({ $: "nonsense" })).toThrow(TraceError);
      run.pool.freem(m);
    } finally {
      run.pool.close();
    }
  });

  it("format and parse back to the same entries", () => {
    const entries = parseTrace(TRACE).map((l) => l.entry);
    const again = parseTrace(formatTrace(entries, ["round trip"])).map((l) => l.entry);
    expect(again).toEqual(entries);
  });

  it("name every op of the op table (one entry per operation: gen, run, model)", () => {
    const names = OPS.map((o) => o.name);
    expect(new Set(names).size).toBe(names.length);
    for (const o of OPS) expect(typeof o.gen === "function" && typeof o.run === "function" && typeof o.model === "function").toBe(true);
    expect(names).toEqual(expect.arrayContaining(["get", "gethdr", "getcl", "clget", "free", "freem", "getBulk", "freemBulk",
      "chtype", "setOwner", "setReserved", "setReserve", "grow", "reclaim", "onDrain", "advance", "audit", "stats",
      "append", "copyback", "copydata", "length", "adj", "dup", "cat", "socreate", "sbwrite", "sbdrop", "sbflush", "soclose",
      "sysctl", "setPacketZone", "packetRefill", "packetDrain", "packetBalance",
      "copym", "copypacket", "split", "pullup", "prepend", "defrag",
      "sbappend", "sbappendrecord", "sbdroprecord", "sbtake", "sbreserve", "sbsetlowat", "sysctlLimit", "commit", "writable"]));
  });
});

describe("the CLI", () => {
  it("mbufpool replay exits 0 on a clean replay and 1 on a divergence, naming the line", () => {
    const dir = mkdtempSync(join(tmpdir(), "mbufpool-replay-"));
    try {
      const good = join(dir, "good.jsonl"), bad = join(dir, "bad.jsonl");
      writeFileSync(good, TRACE);
      writeFileSync(bad, TRACE.replace('"expect":"h2"', '"expect":0'));
      expect(execFileSync(process.execPath, [CLI, "replay", good, "--build", BUILD], { encoding: "utf8" })).toMatch(/13 operations replayed .* no divergence; audit clean/);
      const r = spawnSync(process.execPath, [CLI, "replay", bad, "--build", BUILD], { encoding: "utf8" });
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/line 4: get \{"how":1,"type":3\}: expected 0, got "h2"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("mbufpool fuzz prints its summary (no progress bar without a terminal)", () => {
    const r = spawnSync(process.execPath, [CLI, "fuzz", "--seed", "9", "--ops", "3000", "--build", BUILD, "--profile", "aix"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^fuzz: \d+ operations in \d+ cases, seeds 9(\.\.\d+)?, 0 failures, [\d.]+ s, \d+ ops\/s\n$/);
    expect(r.stderr).toBe("");
  });
});
