// Options shared by several commands.

import { Option } from "commander";
import { PROFILES } from "../tunables/profiles.js";
import { MbufError } from "../errors.js";

/** Parses repeated `--set name=value` options into tunables. */
export function collectTunable(value: string, previous: Record<string, number>): Record<string, number> {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new MbufError("ETUNABLE", `--set takes name=value, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: Number(value.slice(eq + 1)) };
}

/** `--profile <name>`, one of the profiles. */
export const profileOption = (): Option =>
  new Option("-p, --profile <name>", "system to model").choices(Object.keys(PROFILES)).default("freebsd");

/** `--set name=value`, repeatable. */
export const setOption = (): Option =>
  new Option("-s, --set <name=value>", "set a tunable (repeatable), e.g. kern.ipc.nmbclusters=4096")
    .argParser(collectTunable).default({});

/** `--file <path>`: a tunables file (sysctl.conf style name=value lines). */
export const fileOption = (): Option =>
  new Option("-f, --file <path>", "read tunables from a file of name=value lines (sysctl.conf / loader.conf style)");
