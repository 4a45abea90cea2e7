// mbufpool demo: the burst workload on every profile (the default job is sim, see main.ts).

import { Command } from "commander";
import { Pool } from "../pool.js";
import { PROFILES, type ProfileName } from "../tunables/profiles.js";
import { PROFILE_FORMAT } from "../stats/netstat.js";
import { burst } from "../workloads/burst.js";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("demo workload on throwaway simulated pools: a burst on every profile, with each system's netstat -m")
    .action(() => {
      let clean = true;
      for (const name of Object.keys(PROFILES) as ProfileName[]) {
        const pool = Pool.create({ profile: name });
        const format = PROFILE_FORMAT[name];
        const r = burst(pool, () => pool.netstat({ format }));
        process.stdout.write(`\n=== ${pool.profile.title}\n--- netstat -m after a burst of ${r.held} packets (${r.denied} denied):\n`);
        process.stdout.write(r.worst);
        const audit = pool.audit();
        clean &&= audit.ok;
        process.stdout.write(`--- after freeing everything:\n${r.after}--- audit: ${audit.message}\n`);
        pool.close();
      }
      if (!clean) process.exitCode = 1;
    });
}
