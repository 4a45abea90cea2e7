// Usage over time: the recorder on a virtual clock, the JSON series and the chart.
import { describe, it, expect } from "vitest";
import {
  VirtualClock, UsageRecorder, parseSeries, seriesColumns, usageChart, downsample, runScenario, MbufError, SERIES_JSON_SCHEMA,
} from "mbufpool";
import { makePool } from "./helpers.js";

describe("usage series", () => {
  it("samples on the pool's clock and exports a versioned JSON series", () => {
    const clock = new VirtualClock();
    const pool = makePool({ clock });
    const rec = new UsageRecorder(pool, { intervalMs: 500 }).start();
    const run = runScenario(pool, clock, "sawtooth", { ticks: 20, idleTicks: 0, tickMs: 1000, perTick: 4, period: 5 });
    rec.stop();
    clock.advance(5000);
    // Two samples per tick; each sees the server's packets of the period so far.
    expect(rec.samples).toHaveLength(40);
    expect(rec.samples.map((s) => s.t)).toEqual(Array.from({ length: 40 }, (_, i) => (i + 1) * 500));
    const inUse = rec.samples.filter((_, i) => i % 2 === 1).map((s) => s.mbufsInUse);
    expect(inUse.slice(0, 5)).toEqual([4, 8, 12, 16, 0]);
    expect(rec.samples.every((s) => s.clustersInUse === s.mbufsInUse)).toBe(true);
    const json = JSON.parse(JSON.stringify(rec.toJSON()));
    const series = parseSeries(json);
    expect(series.schema).toBe(SERIES_JSON_SCHEMA);
    expect(series).toMatchObject({ version: 1, profile: "freebsd", intervalMs: 500, limits: { mbufs: 26214, clusters: 4096 } });
    expect(series.samples).toEqual(rec.samples);
    expect(() => parseSeries({ schema: "x" })).toThrow(MbufError);
    // Columns for the simulator's HTML charts: seconds, and one array per figure.
    const cols = seriesColumns(series);
    expect(cols.t.slice(0, 3)).toEqual([0.5, 1, 1.5]);
    expect(cols["mbufs in use"]).toEqual(rec.samples.map((s) => s.mbufsInUse));
    expect(Object.keys(cols)).toEqual(["t", "mbufs in use", "clusters in use", "clusters cached", "denied", "delayed"]);
    run.cleanup();
  });

  it("keeps at most `capacity` samples, the newest", () => {
    const pool = makePool({ clock: new VirtualClock() });
    const rec = new UsageRecorder(pool, { capacity: 3 });
    for (let i = 0; i < 5; i++) rec.sample();
    expect(rec.samples).toHaveLength(3);
    expect(() => new UsageRecorder(pool, { intervalMs: 0 })).toThrow(MbufError);
  });

  it("draws the series as terminal charts", () => {
    const clock = new VirtualClock();
    const pool = makePool({ clock });
    const rec = new UsageRecorder(pool).start();
    runScenario(pool, clock, "sawtooth", { ticks: 30, idleTicks: 0, perTick: 2, period: 10 });
    const text = usageChart(rec.samples, { height: 5, width: 30 });
    const lines = text.split("\n");
    expect(lines[0]).toBe("mbufs in use (30 samples over 29.0 s)");
    // asciichart: height + 1 rows per chart, each starting with the axis label.
    expect(lines[1]).toMatch(/^ {6}18 [┤┼]/);
    expect(lines[6]).toMatch(/^ {7}0 [┤┼]/);
    expect(lines[7]).toBe("clusters in use");
    expect(lines).toHaveLength(15);
    expect(usageChart([])).toBe("(no samples)\n");
    expect(downsample([1, 3, 5, 7], 2)).toEqual([2, 6]);
    expect(downsample([1, 2], 5)).toEqual([1, 2]);
    rec.stop();
  });
});
