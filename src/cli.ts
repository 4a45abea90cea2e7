#!/usr/bin/env node
// The mbufpool command.

import { Command, Option } from "commander";
import { Pool } from "./pool.js";
import { PROFILES, type ProfileName } from "./profiles.js";
import { NETSTAT_FORMATS, PROFILE_FORMAT } from "./stats/netstat.js";
import { burst } from "./workload.js";
import { MbufError } from "./errors.js";

/** Parses repeated `--set name=value` options into tunables. */
function collectTunable(value: string, previous: Record<string, number>): Record<string, number> {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new MbufError("ETUNABLE", `--set takes name=value, got "${value}"`);
  const n = Number(value.slice(eq + 1));
  return { ...previous, [value.slice(0, eq)]: n };
}

const profileOption = () =>
  new Option("-p, --profile <name>", "system to model").choices(Object.keys(PROFILES)).default("freebsd");
const setOption = () =>
  new Option("-s, --set <name=value>", "set a tunable (repeatable), e.g. kern.ipc.nmbclusters=4096").argParser(collectTunable).default({});

const program = new Command();
program
  .name("mbufpool")
  .description("The BSD network-buffer allocator (mbufs, clusters, socket buffers) in WebAssembly")
  .showHelpAfterError();

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

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof MbufError) {
    process.stderr.write(`mbufpool: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    throw e;
  }
});
