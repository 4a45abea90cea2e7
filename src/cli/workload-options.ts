// Options of the commands that run a timed workload (leaks, watch) as a demo,
// and read a running service instead with --url.

import { Command, Option } from "commander";
import { WORKLOADS, type ScenarioName } from "../workloads/leak-workloads.js";
import { integer, profileOption, setOption, helpNote } from "./options.js";
import { DEMO_OR_LIVE } from "./live-options.js";

/** Parses a positive integer argument, 1 to 10000000. */
export const intArg = integer(1, 10_000_000);

/** Parsed timed-workload options. */
export interface WorkloadOpts {
  ticks: number;
  idle: number;
  interval: number;
}

/** The workload options, which a live run (--url) does not take. */
export const WORKLOAD_KEYS = ["profile", "set", "workload", "ticks", "idle"] as const;

/**
 * A command that runs a built-in workload on a throwaway pool of its own (the help says so):
 * --profile, --set, --workload (`dflt` by default), --ticks, --idle and --interval; the caller
 * adds its own options and the action.
 */
export function workloadCommand(program: Command, name: string, description: string, dflt: ScenarioName): Command {
  const cmd = program
    .command(name)
    .description(description)
    .addHelpText("after", helpNote(`${DEMO_OR_LIVE} The demo runs in virtual time: minutes of workload take milliseconds.`))
    .addOption(profileOption())
    .addOption(setOption())
    .addOption(new Option("-w, --workload <name>", "built-in workload").choices(Object.keys(WORKLOADS)).default(dflt));
  return workloadOptions(cmd);
}

/** Adds --ticks, --idle and --interval. */
export function workloadOptions(cmd: Command): Command {
  return cmd
    .option("--ticks <n>", "busy ticks of the workload", intArg, 120)
    .option("--idle <n>", "idle ticks after the busy ones", intArg, 20)
    .option("--interval <ms>", "virtual time per tick and between samples, ms", intArg, 1000);
}
