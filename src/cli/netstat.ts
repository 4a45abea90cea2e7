// mbufpool netstat -m: a burst workload, with the report at the worst moment and after.

import { Command, Option } from "commander";
import { Pool } from "../pool.js";
import type { ProfileName } from "../profiles.js";
import { NETSTAT_FORMATS, PROFILE_FORMAT } from "../stats/netstat.js";
import { burst } from "../workload.js";
import { profileOption, setOption } from "./options.js";

export function registerNetstat(program: Command): void {
  program
    .command("netstat")
    .description("run a burst that exhausts clusters, then free everything; print netstat -m at the worst moment and after")
    .option("-m", "mbuf statistics (the only report; accepted for the familiar spelling)")
    .addOption(profileOption())
    .addOption(new Option("-f, --format <format>", "report dialect (default: the profile's own)").choices(Object.keys(NETSTAT_FORMATS)))
    .addOption(setOption())
    .action((opts: { profile: ProfileName; format?: string; set: Record<string, number> }) => {
      const pool = Pool.create({ profile: opts.profile, tunables: opts.set });
      const format = opts.format ?? PROFILE_FORMAT[opts.profile];
      const r = burst(pool, () => pool.netstat({ format }));
      process.stdout.write(`# ${pool.profile.title}\n# after a burst of ${r.held} packets (${r.denied} requests denied):\n`);
      process.stdout.write(r.worst);
      process.stdout.write(`# after freeing everything:\n${r.after}`);
      const audit = pool.audit();
      process.stdout.write(`# audit: ${audit.message}\n`);
      pool.close();
      if (!audit.ok) process.exitCode = 1;
    });
}
