// mbufpool no: AIX's network options command (seed 004): `no -a`,
// `no -o name=value`, `no -o name`, `no -d name`.
//
// Each run creates a pool of the profile (aix by default) with the given
// tunables, applies the operations in order on that live pool with AIX's
// rules, and prints what `no` prints: nothing for a write, `name = value`
// for a show, and every option for -a, names right-aligned; a reset says what
// it did (`lowclust: 100 -> 29 (the default)`), which AIX's `no -d` does not.

import { Command, Option } from "commander";
import { Pool } from "../pool.js";
import { PROFILES, type ProfileName } from "../tunables/profiles.js";
import { MbufError } from "../errors.js";
import { setOption, fileOption, THROWAWAY, helpNote } from "./options.js";
import { usageProblem, fail, BAD_USAGE, REFUSED } from "./tunable-ops.js";

/** One -o or -d, with its place on the command line (they apply in that order, whichever the option). */
interface NoOp { kind: "o" | "d"; arg: string; at: number }

interface NoOptions {
  all?: boolean;
  option: NoOp[];
  default: NoOp[];
  profile: ProfileName;
  set?: Record<string, number>;
  file?: string;
}

export function registerNo(program: Command): void {
  let at = 0;
  const collect = (kind: NoOp["kind"]) => (arg: string, prev: NoOp[]): NoOp[] => [...prev, { kind, arg, at: at++ }];
  program
    .command("no")
    .description("AIX's network options, on a throwaway pool made for this run: -a (show all), -o name[=value] (show or set), -d name (back to the default)")
    .addHelpText("after", helpNote(`${THROWAWAY} -o and -d apply in the order given; -d prints the option, its old and its new value.`
      + " Exit status 1: a write AIX's rules refuse; 2: an unknown option name or a value that is not an integer."))
    .option("-a, --all", "show every option")
    .option("-o, --option <name[=value]>", "show an option, or set it (repeatable, applied in order)", collect("o"), [])
    .option("-d, --default <name>", "set an option back to its default (repeatable)", collect("d"), [])
    .addOption(new Option("-p, --profile <name>", "system to model").choices(Object.keys(PROFILES)).default("aix"))
    .addOption(setOption())
    .addOption(fileOption())
    .action((opts: NoOptions) => {
      const pool = Pool.create({ profile: opts.profile, tunables: opts.set ?? {}, tunablesFile: opts.file });
      const out: string[] = [];
      const flush = (): void => { process.stdout.write(out.splice(0).map((l) => `${l}\n`).join("")); };
      try {
        const ops = [...opts.option, ...opts.default].sort((x, y) => x.at - y.at);
        // Like no(1), stop at the first operation that fails: later ones may depend on it.
        for (const op of ops) {
          const eq = op.kind === "o" ? op.arg.indexOf("=") : -1;
          const name = eq < 0 ? op.arg : op.arg.slice(0, eq), text = eq < 0 ? undefined : op.arg.slice(eq + 1);
          const problem = usageProblem(pool, name, text);
          if (problem) {
            flush();
            process.stderr.write(`no: ${problem}\n`);
            fail(BAD_USAGE);
            return;
          }
          if (op.kind === "d") {
            const c = pool.resetTunable(name);
            out.push(`${c.name}: ${c.old} -> ${c.new} (the default)`);
          } else if (text === undefined) {
            const t = pool.tunable(name);
            out.push(`${t.name} = ${t.value}`);
          } else {
            pool.sysctl(name, Number(text));
          }
        }
        if (opts.all || ops.length === 0) out.push(...formatNoAll(pool));
        flush();
      } catch (e) {
        if (!(e instanceof MbufError)) throw e;
        flush();
        process.stderr.write(`no: ${e.message}\n`);
        fail(REFUSED);
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
