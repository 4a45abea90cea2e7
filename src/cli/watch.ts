// mbufpool watch: usage over time drawn as terminal charts (asciichart), of
// a running service (--url: sampled from /stats at real intervals, or its own
// recorder's /series) or, as a demo, of a timed workload on a virtual clock;
// --json exports the time series.

import { writeFileSync } from "node:fs";
import { Command } from "commander";
import asciichart from "asciichart";
import { Pool } from "../pool.js";
import type { ProfileName } from "../tunables/profiles.js";
import { VirtualClock } from "../clock.js";
import { runScenario, WORKLOADS, type ScenarioName } from "../workloads/leak-workloads.js";
import { UsageRecorder, SERIES_JSON_SCHEMA, SERIES_JSON_VERSION, type SeriesJSON } from "../sampling/series.js";
import { sampleOf, type UsageSample } from "../stats/sample.js";
import { usageChart, downsample, type ChartOptions } from "../stats/chart.js";
import { durationArg, integer, outputPath } from "./options.js";
import { workloadCommand, WORKLOAD_KEYS, type WorkloadOpts } from "./workload-options.js";
import { LiveService } from "./live.js";
import { liveOptions, liveTarget, type LiveOpts } from "./live-options.js";

/**
 * The charts of a run. Every built-in workload takes mbuf+cluster pairs (m_getcl), so mbufs
 * and clusters in use are the same count at every sample, and two charts would draw the same
 * line twice: when they are equal throughout, one chart says so; otherwise both are drawn.
 */
export function watchCharts(samples: readonly UsageSample[], options: ChartOptions = {}): string {
  if (samples.length === 0 || samples.some((s) => s.mbufsInUse !== s.clustersInUse)) return usageChart(samples, options);
  const width = options.width ?? 72, height = options.height ?? 12;
  const t0 = samples[0].t, t1 = samples[samples.length - 1].t;
  const plot = asciichart.plot(downsample(samples.map((s) => s.mbufsInUse), width), {
    height,
    format: (x: number) => Math.round(x).toString().padStart(8),
    ...(options.color ? { colors: [asciichart.blue] } : {}),
  });
  return `mbufs in use = clusters in use (${samples.length} samples over ${((t1 - t0) / 1000).toFixed(1)} s)\n`
    + "(every packet of the workload is an mbuf with a cluster: one line draws both)\n"
    + `${plot}\n`;
}

interface WatchOpts extends WorkloadOpts, LiveOpts {
  profile: ProfileName; set?: Record<string, number>; workload: ScenarioName;
  height: number; width: number; color?: boolean; json?: boolean; out?: string;
  every: number; samples: number; series?: boolean;
}

/** Clears a terminal and homes the cursor, so each redraw replaces the last. */
const CLEAR = "\x1b[H\x1b[2J";

/**
 * The live series: `samples` snapshots of the service, `every` ms apart (a chart redrawn after
 * each on a terminal), or with --series the service's own recorder at once.
 */
async function liveSeries(service: LiveService, opts: WatchOpts, redraw: (samples: UsageSample[]) => void): Promise<SeriesJSON> {
  if (opts.series) return service.series();
  const samples: UsageSample[] = [];
  let s = await service.stats();
  for (;;) {
    samples.push(sampleOf(s, Date.now()));
    redraw(samples);
    if (samples.length >= opts.samples) break;
    await new Promise((r) => setTimeout(r, opts.every));
    s = await service.stats();
  }
  return {
    schema: SERIES_JSON_SCHEMA, version: SERIES_JSON_VERSION, profile: s.profile,
    limits: { mbufs: s.mbufs.limit, clusters: s.clusters.limit }, intervalMs: opts.every, samples,
  };
}

export function registerWatch(program: Command): void {
  const cmd = workloadCommand(program, "watch",
    "usage over time of a running service (--url), or a demo workload on a throwaway simulated pool: a timed workload, charted as mbufs and clusters in use over time; --json/--out export the time series",
    "sawtooth")
    .option("--height <rows>", "chart height (1 to 200)", integer(1, 200), 12)
    .option("--width <cols>", "most columns of data (2 to 10000)", integer(2, 10_000), 72)
    .option("--color", "draw in colour")
    .option("--json", "print the time series as JSON instead of the chart")
    .option("-o, --out <file>", "also write the time series as JSON to a file (its folder must exist)", outputPath)
    .option("--every <duration>", "with --url: time between samples (redrawn on a terminal)", durationArg, 1000)
    .option("--samples <n>", "with --url: samples to take (1 to 100000)", integer(1, 100_000), 30)
    .option("--series", "with --url: chart the service's own recorded series (GET /series) instead of sampling");
  liveOptions(cmd, [...WORKLOAD_KEYS, "interval"])
    .action(async (opts: WatchOpts) => {
      const chartOpts = { height: opts.height, width: opts.width, color: opts.color };
      const live = liveTarget(opts);
      if (live) {
        const tty = process.stdout.isTTY && !opts.json;
        const series = await liveSeries(new LiveService(live), opts, (samples) => {
          if (tty) process.stdout.write(`${CLEAR}# ${live.url}\n${watchCharts(samples, chartOpts)}`);
        });
        if (opts.out) writeFileSync(opts.out, JSON.stringify(series) + "\n");
        if (opts.json) process.stdout.write(JSON.stringify(series, null, 2) + "\n");
        else if (!tty || opts.series) process.stdout.write(`# ${live.url}\n${watchCharts(series.samples, chartOpts)}`);
        return;
      }
      const clock = new VirtualClock();
      const pool = Pool.create({ profile: opts.profile, tunables: opts.set ?? {}, clock });
      const rec = new UsageRecorder(pool, { intervalMs: opts.interval, capacity: opts.ticks + opts.idle + 1 });
      rec.sample();
      rec.start();
      const run = runScenario(pool, clock, opts.workload, { ticks: opts.ticks, idleTicks: opts.idle, tickMs: opts.interval });
      rec.stop();
      const series = rec.toJSON();
      if (opts.out) writeFileSync(opts.out, JSON.stringify(series) + "\n");
      if (opts.json) process.stdout.write(JSON.stringify(series, null, 2) + "\n");
      else {
        process.stdout.write(`# ${pool.profile.title}\n# workload ${opts.workload}: ${WORKLOADS[opts.workload]}\n`);
        process.stdout.write(watchCharts(rec.samples, chartOpts));
      }
      run.cleanup();
      pool.close();
    });
}
