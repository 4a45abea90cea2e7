// mbufpool watch: a timed workload on a virtual clock, drawn as terminal
// charts of usage over time (asciichart); --json exports the time series.

import { writeFileSync } from "node:fs";
import { Command } from "commander";
import asciichart from "asciichart";
import { Pool } from "../pool.js";
import type { ProfileName } from "../tunables/profiles.js";
import { VirtualClock } from "../clock.js";
import { runScenario, WORKLOADS, type ScenarioName } from "../workloads/leak-workloads.js";
import { UsageRecorder } from "../sampling/series.js";
import type { UsageSample } from "../stats/sample.js";
import { usageChart, downsample, type ChartOptions } from "../stats/chart.js";
import { integer, outputPath } from "./options.js";
import { workloadCommand, type WorkloadOpts } from "./workload-options.js";

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

export function registerWatch(program: Command): void {
  workloadCommand(program, "watch",
    "demo workload on a throwaway simulated pool: a timed workload, charted as mbufs and clusters in use over time; --json/--out export the time series",
    "sawtooth")
    .option("--height <rows>", "chart height (1 to 200)", integer(1, 200), 12)
    .option("--width <cols>", "most columns of data (2 to 10000)", integer(2, 10_000), 72)
    .option("--color", "draw in colour")
    .option("--json", "print the time series as JSON instead of the chart")
    .option("-o, --out <file>", "also write the time series as JSON to a file (its folder must exist)", outputPath)
    .action((opts: WorkloadOpts & { profile: ProfileName; set?: Record<string, number>; workload: ScenarioName;
      height: number; width: number; color?: boolean; json?: boolean; out?: string }) => {
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
        process.stdout.write(watchCharts(rec.samples, { height: opts.height, width: opts.width, color: opts.color }));
      }
      run.cleanup();
      pool.close();
    });
}
