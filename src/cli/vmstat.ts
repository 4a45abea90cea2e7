// mbufpool vmstat -z: the zone table and the type census on the burst workload.

import { Command } from "commander";
import { Pool } from "../pool.js";
import type { ProfileName } from "../tunables/profiles.js";
import { burst } from "../workloads/burst.js";
import { profileOption, setOption, THROWAWAY, helpNote } from "./options.js";

export function registerVmstat(program: Command): void {
  program
    .command("vmstat")
    .description("demo workload on a throwaway simulated pool: a burst that exhausts clusters; prints the zones like FreeBSD's vmstat -z, and the type census, at the worst moment and after")
    .addHelpText("after", helpNote(THROWAWAY))
    .option("-z", "zone statistics (the only report; accepted for the familiar spelling)")
    .addOption(profileOption())
    .addOption(setOption())
    .option("--json", "zones and census as JSON")
    .action((opts: { profile: ProfileName; set?: Record<string, number>; json?: boolean }) => {
      const pool = Pool.create({ profile: opts.profile, tunables: opts.set ?? {} });
      const r = burst(pool, () => (opts.json ? JSON.stringify(pool.zones()) : pool.vmstatZ()));
      if (opts.json) {
        process.stdout.write(JSON.stringify({ burst: { held: r.held, denied: r.denied }, worst: JSON.parse(r.worst), after: JSON.parse(r.after) }, null, 2) + "\n");
      } else {
        process.stdout.write(`# ${pool.profile.title}\n# after a burst of ${r.held} packets (${r.denied} requests denied):\n${r.worst}`);
        process.stdout.write(`# after freeing everything:\n${r.after}`);
      }
      pool.close();
    });
}
