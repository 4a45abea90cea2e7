// mbufpool sysctl: FreeBSD's dialect of reading and writing tunables.
//
// Live (--url): the tunables of a running service, read from its operator
// pages and written with its key. Demo: a CLI invocation has no pool that
// outlives it, so the run creates a pool of the profile with the given
// tunables (--set, --file). Either way the same code reads and writes them
// with the pool's runtime rules and prints what sysctl(8) prints.

import { Command } from "commander";
import { Pool } from "../pool.js";
import type { ProfileName } from "../tunables/profiles.js";
import type { TunableInfo } from "../tunables/rules.js";
import { profileOption, setOption, fileOption, helpNote } from "./options.js";
import { fail, localTarget, valueProblem, OpError, BAD_USAGE, type TunableTarget } from "./tunable-ops.js";
import { LiveService } from "./live.js";
import { DEMO_OR_LIVE, liveOptions, liveTarget, warnTokenInClear, type LiveOpts } from "./live-options.js";

interface SysctlOptions extends LiveOpts {
  all?: boolean;
  describe?: boolean;
  profile: ProfileName;
  set?: Record<string, number>;
  file?: string;
}

export function registerSysctl(program: Command): void {
  const cmd = program
    .command("sysctl")
    .description("read or write tunables as sysctl(8) does, on a running service (--url) or a throwaway pool made for this run: `sysctl kern.ipc.nmbclusters[=N]`, `sysctl -a`")
    .addHelpText("after", helpNote(`${DEMO_OR_LIVE} Exit status 1: a write the system's rules refuse; 2: an unknown name or a value that is not an integer.`))
    .argument("[names...]", "name to show, or name=value to write")
    .option("-a, --all", "show every tunable")
    .option("-d, --describe", "show descriptions and rules instead of values")
    .addOption(profileOption())
    .addOption(setOption())
    .addOption(fileOption());
  liveOptions(cmd, ["profile", "set", "file"], true)
    .action(async (names: string[], opts: SysctlOptions) => {
      const live = liveTarget(opts);
      if (live && names.some((n) => n.includes("="))) warnTokenInClear(live);
      const target: TunableTarget = live ? new LiveService(live).tunables()
        : localTarget(Pool.create({ profile: opts.profile, tunables: opts.set ?? {}, tunablesFile: opts.file }));
      const out: string[] = [];
      const show = (t: TunableInfo): void => {
        out.push(opts.describe ? `${t.name}: ${t.description} (${t.rule}; ${runtimeWords(t.runtime)})` : `${t.name}: ${t.value}`);
      };
      /** Prints what came before a problem, then the problem, as sysctl(8) does, and goes on with the next name. */
      const report = (message: string, code: number): void => {
        process.stdout.write(out.splice(0).map((l) => `${l}\n`).join(""));
        process.stderr.write(`sysctl: ${message}\n`);
        fail(code);
      };
      try {
        if (opts.all || names.length === 0) for (const t of await target.list()) show(t);
        for (const arg of names) {
          const eq = arg.indexOf("=");
          const name = eq < 0 ? arg : arg.slice(0, eq), text = eq < 0 ? undefined : arg.slice(eq + 1);
          try {
            // The name first, then the value: an unknown name is the mistake to report.
            const t = await target.info(name);
            const problem = valueProblem(name, text);
            if (problem) {
              report(problem, BAD_USAGE);
              continue;
            }
            if (text === undefined) {
              show(t);
            } else {
              const c = await target.write(name, Number(text));
              out.push(`${c.name}: ${c.old} -> ${c.new}`);
            }
          } catch (e) {
            if (!(e instanceof OpError)) throw e;
            report(e.message, e.exitCode);
          }
        }
        process.stdout.write(out.map((l) => `${l}\n`).join(""));
      } finally {
        target.close();
      }
    });
}

/** The runtime rule in words. */
export function runtimeWords(r: "boot" | "raise" | "rw"): string {
  return r === "boot" ? "read-only at runtime" : r === "raise" ? "may only be raised at runtime" : "writable at runtime";
}
