// mbufpool no: AIX's network options command (seed 004): `no -a`,
// `no -o name=value`, `no -o name`, `no -d name`.
//
// Each run creates a pool of the profile (aix by default) with the given
// tunables, applies the operations in order on that live pool with AIX's
// rules, and prints what `no` prints: nothing for a write or a reset,
// `name = value` for a show, and every option for -a, names right-aligned.

import { Command, Option } from "commander";
import { Pool } from "../pool.js";
import { PROFILES, type ProfileName } from "../tunables/profiles.js";
import { MbufError } from "../errors.js";
import { setOption, fileOption } from "./options.js";

interface NoOptions {
  all?: boolean;
  option: string[];
  default: string[];
  profile: ProfileName;
  set: Record<string, number>;
  file?: string;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function registerNo(program: Command): void {
  program
    .command("no")
    .description("AIX's network options: -a (show all), -o name[=value] (show or set), -d name (back to the default)")
    .option("-a, --all", "show every option")
    .option("-o, --option <name[=value]>", "show an option, or set it (repeatable, applied in order)", collect, [])
    .option("-d, --default <name>", "set an option back to its default (repeatable)", collect, [])
    .addOption(new Option("-p, --profile <name>", "system to model").choices(Object.keys(PROFILES)).default("aix"))
    .addOption(setOption())
    .addOption(fileOption())
    .action((opts: NoOptions) => {
      const pool = Pool.create({ profile: opts.profile, tunables: opts.set, tunablesFile: opts.file });
      const out: string[] = [];
      try {
        for (const name of opts.default) pool.resetTunable(name);
        for (const op of opts.option) {
          const eq = op.indexOf("=");
          if (eq < 0) {
            const t = pool.tunable(op);
            out.push(`${t.name} = ${t.value}`);
          } else {
            const text = op.slice(eq + 1);
            pool.sysctl(op.slice(0, eq), (/^-?\d+$/.test(text) ? Number(text) : text) as number);
          }
        }
        if (opts.all || (opts.option.length === 0 && opts.default.length === 0)) out.push(...formatNoAll(pool));
        process.stdout.write(out.map((l) => `${l}\n`).join(""));
      } catch (e) {
        if (!(e instanceof MbufError)) throw e;
        process.stdout.write(out.map((l) => `${l}\n`).join(""));
        process.stderr.write(`no: ${e.message}\n`);
        process.exitCode = 1;
      } finally {
        pool.close();
      }
    });
}

/** `no -a`: every option as `name = value`, names right-aligned to the longest (seed 004's layout). */
export function formatNoAll(pool: Pool): string[] {
  const all = pool.listTunables();
  const width = Math.max(...all.map((t) => t.name.length));
  return all.map((t) => `${t.name.padStart(width)} = ${t.value}`);
}
