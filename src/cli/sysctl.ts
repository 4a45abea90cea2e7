// mbufpool sysctl: FreeBSD's dialect of reading and writing tunables.
//
// A CLI invocation has no pool that outlives it, so each run creates a pool
// of the profile with the given tunables (--set, --file), then reads and
// writes on that live pool exactly as sysctl(8) does on a running kernel,
// with the same runtime rules, and prints what sysctl prints.

import { Command } from "commander";
import { Pool } from "../pool.js";
import type { ProfileName } from "../tunables/profiles.js";
import { MbufError } from "../errors.js";
import { profileOption, setOption, fileOption, THROWAWAY, helpNote } from "./options.js";
import { usageProblem, fail, BAD_USAGE, REFUSED } from "./tunable-ops.js";

interface SysctlOptions {
  all?: boolean;
  describe?: boolean;
  profile: ProfileName;
  set?: Record<string, number>;
  file?: string;
}

export function registerSysctl(program: Command): void {
  program
    .command("sysctl")
    .description("read or write tunables as sysctl(8) does, on a throwaway pool made for this run: `sysctl kern.ipc.nmbclusters[=N]`, `sysctl -a`")
    .addHelpText("after", helpNote(`${THROWAWAY} Exit status 1: a write the system's rules refuse; 2: an unknown name or a value that is not an integer.`))
    .argument("[names...]", "name to show, or name=value to write (on a pool made with --profile/--set/--file)")
    .option("-a, --all", "show every tunable")
    .option("-d, --describe", "show descriptions and rules instead of values")
    .addOption(profileOption())
    .addOption(setOption())
    .addOption(fileOption())
    .action((names: string[], opts: SysctlOptions) => {
      const pool = Pool.create({ profile: opts.profile, tunables: opts.set ?? {}, tunablesFile: opts.file });
      const out: string[] = [];
      const show = (name: string): void => {
        const t = pool.tunable(name);
        out.push(opts.describe ? `${t.name}: ${t.description} (${t.rule}; ${runtimeWords(t.runtime)})` : `${t.name}: ${t.value}`);
      };
      /** Prints what came before a problem, then the problem, as sysctl(8) does, and goes on with the next name. */
      const report = (message: string, code: number): void => {
        process.stdout.write(out.splice(0).map((l) => `${l}\n`).join(""));
        process.stderr.write(`sysctl: ${message}\n`);
        fail(code);
      };
      try {
        if (opts.all || names.length === 0) for (const t of pool.listTunables()) show(t.name);
        for (const arg of names) {
          const eq = arg.indexOf("=");
          const name = eq < 0 ? arg : arg.slice(0, eq), text = eq < 0 ? undefined : arg.slice(eq + 1);
          const problem = usageProblem(pool, name, text);
          if (problem) {
            report(problem, BAD_USAGE);
            continue;
          }
          try {
            if (text === undefined) {
              show(name);
            } else {
              const c = pool.sysctl(name, Number(text));
              out.push(`${c.name}: ${c.old} -> ${c.new}`);
            }
          } catch (e) {
            if (!(e instanceof MbufError)) throw e;
            report(e.message, REFUSED);
          }
        }
        process.stdout.write(out.map((l) => `${l}\n`).join(""));
      } finally {
        pool.close();
      }
    });
}

/** The runtime rule in words. */
export function runtimeWords(r: "boot" | "raise" | "rw"): string {
  return r === "boot" ? "read-only at runtime" : r === "raise" ? "may only be raised at runtime" : "writable at runtime";
}
