// mbufpool netstat -m: a running service's report (--url), or, as a demo, a
// burst workload with the report at the worst moment and after.

import { Command, Option } from "commander";
import { Pool } from "../pool.js";
import type { ProfileName } from "../tunables/profiles.js";
import type { PoolStats } from "../stats/snapshot.js";
import { REPORT_FORMATS, PROFILE_FORMAT, formatReport } from "../stats/netstat.js";
import { burst } from "../workloads/burst.js";
import { profileOption, setOption, helpNote } from "./options.js";
import { LiveService } from "./live.js";
import { DEMO_OR_LIVE, liveOptions, liveTarget, type LiveOpts } from "./live-options.js";

export function registerNetstat(program: Command): void {
  const cmd = program
    .command("netstat")
    .description("netstat -m of a running service (--url), or a demo workload on a throwaway simulated pool: a burst that exhausts clusters, then everything freed; prints netstat -m at the worst moment and after")
    .addHelpText("after", helpNote(`${DEMO_OR_LIVE} Live, it prints the report once, as netstat -m on the service's system; --format picks another dialect.`))
    .option("-m", "mbuf statistics (the only report; accepted for the familiar spelling)")
    .addOption(profileOption())
    .addOption(new Option("-f, --format <format>", "report dialect (default: the profile's own)").choices(REPORT_FORMATS))
    .option("--json", "the JSON report (same as --format json)")
    .addOption(setOption());
  liveOptions(cmd, ["profile", "set"])
    .action(async (opts: LiveOpts & { profile: ProfileName; format?: string; json?: boolean; set?: Record<string, number> }) => {
      const live = liveTarget(opts);
      if (live) {
        // The service's snapshot, through the formatter its own pool.netstat() uses.
        const s = await new LiveService(live).stats();
        process.stdout.write(await formatReport(s, opts.json ? "json" : (opts.format ?? PROFILE_FORMAT[s.profile] ?? "freebsd")));
        return;
      }
      const pool = Pool.create({ profile: opts.profile, tunables: opts.set ?? {} });
      const format = opts.json ? "json" : (opts.format ?? PROFILE_FORMAT[opts.profile]);
      const snaps: PoolStats[] = [];
      const r = burst(pool, () => { snaps.push(pool.stats()); return ""; });
      const audit = pool.audit();
      pool.close();
      const [worst, after] = [await formatReport(snaps[0], format), await formatReport(snaps[1], format)];
      if (format === "json" || format === "prometheus") {
        // Machine formats: JSON holds both moments in one document; Prometheus shows the worst
        // moment as one scrape (the header is an exposition comment, which scrapers ignore).
        if (format === "json") {
          process.stdout.write(JSON.stringify({ burst: { held: r.held, denied: r.denied }, worst: JSON.parse(worst), after: JSON.parse(after), audit: audit.message }, null, 2) + "\n");
        } else {
          process.stdout.write(`# ${pool.profile.title}: after a burst of ${r.held} packets (${r.denied} requests denied)\n${worst}`);
        }
      } else {
        process.stdout.write(`# ${pool.profile.title}\n# after a burst of ${r.held} packets (${r.denied} requests denied):\n`);
        process.stdout.write(worst);
        process.stdout.write(`# after freeing everything:\n${after}`);
        process.stdout.write(`# audit: ${audit.message}\n`);
      }
      if (!audit.ok) process.exitCode = 1;
    });
}
