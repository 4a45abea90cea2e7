// mbufpool vmstat -z: the zone table and the type census of a running service
// (--url), or, as a demo, on the burst workload at the worst moment and after.

import { Command } from "commander";
import { Pool } from "../pool.js";
import type { ProfileName } from "../tunables/profiles.js";
import { formatVmstat, vmstatJSON } from "../stats/vmstat.js";
import { burst } from "../workloads/burst.js";
import { profileOption, setOption, helpNote } from "./options.js";
import { LiveService } from "./live.js";
import { DEMO_OR_LIVE, liveOptions, liveTarget, type LiveOpts } from "./live-options.js";

export function registerVmstat(program: Command): void {
  const cmd = program
    .command("vmstat")
    .description("vmstat -z of a running service (--url), or a demo workload on a throwaway simulated pool: a burst that exhausts clusters; prints the zones like FreeBSD's vmstat -z, and the type census, at the worst moment and after")
    .addHelpText("after", helpNote(`${DEMO_OR_LIVE} Live, it prints the zones and the census once.`))
    .option("-z", "zone statistics (the only report; accepted for the familiar spelling)")
    .addOption(profileOption())
    .addOption(setOption())
    .option("--json", "zones and census as JSON");
  liveOptions(cmd, ["profile", "set"])
    .action(async (opts: LiveOpts & { profile: ProfileName; set?: Record<string, number>; json?: boolean }) => {
      const live = liveTarget(opts);
      if (live) {
        const s = await new LiveService(live).stats();
        process.stdout.write(opts.json ? `${JSON.stringify(vmstatJSON(s), null, 2)}\n` : formatVmstat(s));
        return;
      }
      const pool = Pool.create({ profile: opts.profile, tunables: opts.set ?? {} });
      const r = burst(pool, () => (opts.json ? JSON.stringify(vmstatJSON(pool.stats())) : formatVmstat(pool.stats())));
      if (opts.json) {
        process.stdout.write(JSON.stringify({ burst: { held: r.held, denied: r.denied }, worst: JSON.parse(r.worst), after: JSON.parse(r.after) }, null, 2) + "\n");
      } else {
        process.stdout.write(`# ${pool.profile.title}\n# after a burst of ${r.held} packets (${r.denied} requests denied):\n${r.worst}`);
        process.stdout.write(`# after freeing everything:\n${r.after}`);
      }
      pool.close();
    });
}
