// mbufpool leaks: the outstanding mbufs by owner and age and the leak
// detector's verdicts, of a running service (--url) or, as a demo, of a timed
// workload on a virtual clock under the detector.

import { Command } from "commander";
import { Pool } from "../pool.js";
import type { ProfileName } from "../tunables/profiles.js";
import { VirtualClock } from "../clock.js";
import { runScenario, WORKLOADS, type ScenarioName } from "../workloads/leak-workloads.js";
import { formatOutstanding, type OutstandingReport } from "../leak/outstanding.js";
import { LeakDetector, type LeakVerdict } from "../leak/detector.js";
import { intArg, workloadCommand, WORKLOAD_KEYS, type WorkloadOpts } from "./workload-options.js";
import { LiveService } from "./live.js";
import { liveOptions, liveTarget, type LiveOpts } from "./live-options.js";

/** The verdict lines of `leaks` ("no leak signs" when there are none). */
function formatVerdicts(verdicts: readonly LeakVerdict[]): string {
  if (verdicts.length === 0) return "no leak signs\n";
  return verdicts.map((v) => `[${v.at} ms] ${v.sign} -> ${v.diagnosis}: ${v.message}\n`).join("");
}

export function registerLeaks(program: Command): void {
  const cmd = workloadCommand(program, "leaks",
    "the outstanding mbufs and leak verdicts of a running service (--url), or a demo workload on a throwaway simulated pool: a timed workload (a deliberate leak by default) under the leak detector; prints its verdicts and the outstanding mbufs by owner, oldest first; exits 1 if it flags a leak",
    "leak")
    .option("--per-group <n>", "mbufs listed per owner", intArg, 5)
    .option("--high <mbufs>", "mbufs in use that count as high while idle", intArg, 64)
    .option("--json", "verdicts and the outstanding report as JSON");
  liveOptions(cmd, [...WORKLOAD_KEYS, "interval", "high"])
    .action(async (opts: LiveOpts & WorkloadOpts & { profile: ProfileName; set?: Record<string, number>; workload: ScenarioName; perGroup: number; high: number; json?: boolean }) => {
      const live = liveTarget(opts);
      if (live) {
        // The service's own detector judged its own clock; verdicts null: it runs none.
        const { outstanding, verdicts } = await new LiveService(live).leaks(opts.perGroup);
        if (opts.json) process.stdout.write(JSON.stringify({ verdicts, outstanding }, null, 2) + "\n");
        else {
          process.stdout.write(verdicts === null ? "# the service runs no leak detector: the outstanding mbufs only\n" : formatVerdicts(verdicts));
          process.stdout.write(formatOutstanding(outstanding));
        }
        if (verdicts?.length) process.exitCode = 1;
        return;
      }
      const clock = new VirtualClock();
      const pool = Pool.create({ profile: opts.profile, tunables: opts.set ?? {}, clock });
      const verdicts: LeakVerdict[] = [];
      pool.on("leak", (v: LeakVerdict) => verdicts.push(v));
      // The detector samples on the clock once per tick; it judges "rising" over half the busy ticks.
      const detector = new LeakDetector(pool, { intervalMs: opts.interval, window: Math.max(8, Math.floor(opts.ticks / 2)), highUsage: opts.high });
      const run = runScenario(pool, clock, opts.workload, { ticks: opts.ticks, idleTicks: opts.idle, tickMs: opts.interval }, {
        start: (r) => { detector.classify = r.classify; detector.start(); },
      });
      detector.stop();
      const report: OutstandingReport = pool.outstanding({ classify: run.classify, perGroup: opts.perGroup });
      if (opts.json) {
        process.stdout.write(JSON.stringify({ workload: opts.workload, profile: opts.profile, verdicts, outstanding: report }, null, 2) + "\n");
      } else {
        process.stdout.write(`# ${pool.profile.title}\n# workload ${opts.workload}: ${WORKLOADS[opts.workload]}\n`);
        process.stdout.write(`# ${opts.ticks} busy + ${opts.idle} idle ticks of ${opts.interval} ms\n`);
        process.stdout.write(formatVerdicts(verdicts));
        process.stdout.write(formatOutstanding(report));
      }
      run.cleanup();
      pool.close();
      // A flagged leak (or unread socket) is a finding, like a failure of fuzz.
      if (verdicts.length) process.exitCode = 1;
    });
}
