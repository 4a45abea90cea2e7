// mbufpool demo: what `npm start` runs.

import { Command } from "commander";
import { Pool } from "../pool.js";
import { PROFILES, type ProfileName } from "../tunables/profiles.js";
import { PROFILE_FORMAT } from "../stats/netstat.js";
import { burst } from "../workloads/burst.js";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("the default job: the burst workload on every profile, with each system's netstat -m")
    .action(() => {
      for (const name of Object.keys(PROFILES) as ProfileName[]) {
        const pool = Pool.create({ profile: name });
        const format = PROFILE_FORMAT[name];
        const r = burst(pool, () => pool.netstat({ format }));
        process.stdout.write(`\n=== ${pool.profile.title}\n--- netstat -m after a burst of ${r.held} packets (${r.denied} denied):\n`);
        process.stdout.write(r.worst);
        process.stdout.write(`--- after freeing everything:\n${r.after}--- audit: ${pool.audit().message}\n`);
        pool.close();
      }
    });
}
