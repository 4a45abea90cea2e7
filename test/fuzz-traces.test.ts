// Regression traces and the trace format: every trace under test/traces
// replays with no divergence on both builds; a trace of another format is
// refused with what to do; a divergence of a structured result (stats, an
// epoch) names the fields that differ rather than printing both whole.
import { describe, it, expect } from "vitest";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { replay, parseTrace, describeDivergence, fieldDifferences, fuzz, TraceError, TRACE_FORMAT } from "mbufpool/fuzz";
import { MISBEHAVING } from "./broken.js";
import { BUILD } from "./helpers.js";

const CLI = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const TRACES = fileURLToPath(new URL("./traces/", import.meta.url));

/** A trace of format 1, as a fuzz run wrote it before the stats gained reservation.auto and packetCache. */
const FORMAT_1 = `# seed 9, fast-check path 0:0:0, build debug, 2 shrinks
{"op":"create","profile":"aix","tunables":{"thewall":64,"lowmbuf":0,"lowclust":1,"mb_cl_hiwat":8}}
{"op":"stats","expect":{"mbufs":{"current":0,"total":0,"pages":0,"denied":0,"delayed":0},"clusters":{"current":0,"total":1,"pages":1,"denied":0,"delayed":0},"census":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"drains":0,"reservedDenied":0,"reservation":{"flag":false,"count":0}}}
`;
/** The same trace brought to the current format on its create line only: its stats expectation is still old. */
const STALE_STATS = FORMAT_1.replace('{"op":"create",', `{"op":"create","format":${TRACE_FORMAT},`);

/** `mbufpool replay` of `trace`, written to a temporary file called `name` (removed after). */
function replayCli(name: string, trace: string): SpawnSyncReturns<string> {
  const dir = mkdtempSync(join(tmpdir(), "mbufpool-format-"));
  try {
    const file = join(dir, name);
    writeFileSync(file, trace);
    return spawnSync(process.execPath, [CLI, "replay", file, "--build", BUILD], { encoding: "utf8" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("regression traces (test/traces)", () => {
  const files = readdirSync(TRACES).filter((f) => f.endsWith(".jsonl"));
  it("are there", () => expect(files.length).toBeGreaterThan(0));
  for (const file of files) {
    it(`replay with no divergence: ${file}`, () => {
      const r = replay(readFileSync(join(TRACES, file), "utf8"), { build: BUILD });
      expect(r.divergence && describeDivergence(r.divergence)).toBeUndefined();
      expect(r).toMatchObject({ ok: true, audit: "clean" });
    });
  }
});

describe("the trace format", () => {
  it("is on the create line of the traces the fuzzer writes", () => {
    const f = fuzz({ seed: 11, ops: 200_000, build: BUILD, badRate: 0, shrinkTimeMs: 0, factory: MISBEHAVING["append losing a byte"] }).failure!;
    expect(parseTrace(f.trace)[0].entry).toMatchObject({ op: "create", format: TRACE_FORMAT });
  });

  it("is checked: an old trace (no format) and a newer one are refused with what to do", () => {
    expect(() => parseTrace(FORMAT_1)).toThrow(TraceError);
    expect(() => replay(FORMAT_1, { build: BUILD })).toThrow(/line 2: trace format 1 .*reads format 2.*Regenerate the trace/);
    const newer = FORMAT_1.replace('{"op":"create",', '{"op":"create","format":99,');
    expect(() => parseTrace(newer)).toThrow(/trace format 99 is newer than this mbufpool reads \(2\)/);
    expect(() => parseTrace(FORMAT_1.replace('{"op":"create",', '{"op":"create","format":"2",'))).toThrow(/unknown trace format "2"/);
  });

  it("mbufpool replay refuses an old trace with exit 2 and the message", () => {
    const r = replayCli("old.jsonl", FORMAT_1);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/trace format 1 \(the create line has no "format"\)/);
  });
});

describe("a divergence of a structured result", () => {
  it("lists the fields that differ (path: expected, got), not the two results whole", () => {
    const r = replay(STALE_STATS, { build: BUILD });
    expect(r.ok).toBe(false);
    expect(fieldDifferences(r.divergence!.expected, r.divergence!.actual)).toEqual([
      { path: "reservation.auto", expected: undefined, actual: false },
      { path: "packetCache", expected: undefined, actual: 0 },
    ]);
    expect(describeDivergence(r.divergence!)).toBe(
      "line 3: stats: 2 fields differ: reservation.auto: expected absent, got false; packetCache: expected absent, got 0");
  });

  it("names array items and nested fields by path, and keeps scalars and errors whole", () => {
    expect(fieldDifferences({ a: { b: [1, 2, 3] }, c: 1 }, { a: { b: [1, 5] }, c: 1 })).toEqual([
      { path: "a.b[1]", expected: 2, actual: 5 },
      { path: "a.b[2]", expected: 3, actual: undefined },
    ]);
    expect(fieldDifferences(0, "h2")).toEqual([]);
    expect(fieldDifferences({ error: "EINVAL" }, { error: "ERANGE" })).toEqual([]);
    expect(fieldDifferences({ a: 1 }, { crash: "x" })).toEqual([]);
  });

  it("mbufpool replay prints each differing field on a line of its own", () => {
    const r = replayCli("stale.jsonl", STALE_STATS);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/\n {4}reservation\.auto: expected absent, got false\n {4}packetCache: expected absent, got 0\n$/);
    expect(r.stdout).not.toMatch(/"census"/);
  });
});
