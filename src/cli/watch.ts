// mbufpool watch: a timed workload on a virtual clock, drawn as terminal
// charts of usage over time (asciichart); --json exports the time series.

import { writeFileSync } from "node:fs";
import { Command } from "commander";
import { Pool } from "../pool.js";
import type { ProfileName } from "../tunables/profiles.js";
import { VirtualClock } from "../clock.js";
import { runScenario, WORKLOADS, type ScenarioName } from "../workloads/leak-workloads.js";
import { UsageRecorder } from "../sampling/series.js";
import { usageChart } from "../stats/chart.js";
import { integer, outputPath } from "./options.js";
import { workloadCommand, type WorkloadOpts } from "./workload-options.js";

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
        process.stdout.write(usageChart(rec.samples, { height: opts.height, width: opts.width, color: opts.color }));
      }
      run.cleanup();
      pool.close();
    });
}
