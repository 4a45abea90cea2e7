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
import { profileOption, setOption, fileOption } from "./options.js";

interface SysctlOptions {
  all?: boolean;
  describe?: boolean;
  profile: ProfileName;
  set: Record<string, number>;
  file?: string;
}

export function registerSysctl(program: Command): void {
  program
    .command("sysctl")
    .description("read or write tunables as sysctl(8) does: `sysctl kern.ipc.nmbclusters[=N]`, `sysctl -a`")
    .argument("[names...]", "name to show, or name=value to write (on a pool made with --profile/--set/--file)")
    .option("-a, --all", "show every tunable")
    .option("-d, --describe", "show descriptions and rules instead of values")
    .addOption(profileOption())
    .addOption(setOption())
    .addOption(fileOption())
    .action((names: string[], opts: SysctlOptions) => {
      const pool = Pool.create({ profile: opts.profile, tunables: opts.set, tunablesFile: opts.file });
      const out: string[] = [];
      const show = (name: string): void => {
        const t = pool.tunable(name);
        out.push(opts.describe ? `${t.name}: ${t.description} (${t.rule}; ${runtimeWords(t.runtime)})` : `${t.name}: ${t.value}`);
      };
      try {
        if (opts.all || names.length === 0) for (const t of pool.listTunables()) show(t.name);
        for (const arg of names) {
          try {
            const eq = arg.indexOf("=");
            if (eq < 0) {
              show(arg);
            } else {
              const text = arg.slice(eq + 1);
              const value = /^-?\d+$/.test(text) ? Number(text) : text;
              const c = pool.sysctl(arg.slice(0, eq), value as number);
              out.push(`${c.name}: ${c.old} -> ${c.new}`);
            }
          } catch (e) {
            if (!(e instanceof MbufError)) throw e;
            process.stdout.write(out.splice(0).map((l) => `${l}\n`).join(""));
            process.stderr.write(`sysctl: ${e.message}\n`);
            process.exitCode = 1;
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
