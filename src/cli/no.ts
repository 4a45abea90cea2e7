// mbufpool no: AIX's network options command (seed 004): `no -a`,
// `no -o name=value`, `no -o name`, `no -d name`.
//
// Live (--url): the options of a running service, written with its key.
// Demo: the run creates a pool of the profile (aix by default) with the given
// tunables. Either way the operations apply in order with the pool's rules,
// and the command prints what `no` prints: nothing for a write, `name = value`
// for a show, and every option for -a, names right-aligned; a reset says what
// it did (`lowclust: 100 -> 29 (the default)`), which AIX's `no -d` does not.

import { Command, Option } from "commander";
import { Pool } from "../pool.js";
import { PROFILES, type ProfileName } from "../tunables/profiles.js";
import type { TunableInfo } from "../tunables/rules.js";
import { setOption, fileOption, helpNote } from "./options.js";
import { fail, localTarget, valueProblem, OpError, BAD_USAGE, type TunableTarget } from "./tunable-ops.js";
import { LiveService } from "./live.js";
import { DEMO_OR_LIVE, liveOptions, liveTarget, warnTokenInClear, type LiveOpts } from "./live-options.js";

/** One -o or -d, with its place on the command line (they apply in that order, whichever the option). */
interface NoOp { kind: "o" | "d"; arg: string; at: number }

interface NoOptions extends LiveOpts {
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
  const cmd = program
    .command("no")
    .description("AIX's network options, on a running service (--url) or a throwaway pool made for this run: -a (show all), -o name[=value] (show or set), -d name (back to the default)")
    .addHelpText("after", helpNote(`${DEMO_OR_LIVE} -o and -d apply in the order given; -d prints the option, its old and its new value.`
      + " Exit status 1: a write AIX's rules refuse; 2: an unknown option name or a value that is not an integer."))
    .option("-a, --all", "show every option")
    .option("-o, --option <name[=value]>", "show an option, or set it (repeatable, applied in order)", collect("o"), [])
    .option("-d, --default <name>", "set an option back to its default (repeatable)", collect("d"), [])
    .addOption(new Option("-p, --profile <name>", "system to model").choices(Object.keys(PROFILES)).default("aix"))
    .addOption(setOption())
    .addOption(fileOption());
  liveOptions(cmd, ["profile", "set", "file"], true)
    .action(async (opts: NoOptions) => {
      const ops = [...opts.option, ...opts.default].sort((x, y) => x.at - y.at);
      const live = liveTarget(opts);
      if (live && ops.some((op) => op.kind === "d" || op.arg.includes("="))) warnTokenInClear(live);
      const target: TunableTarget = live ? new LiveService(live).tunables()
        : localTarget(Pool.create({ profile: opts.profile, tunables: opts.set ?? {}, tunablesFile: opts.file }));
      const out: string[] = [];
      const flush = (): void => { process.stdout.write(out.splice(0).map((l) => `${l}\n`).join("")); };
      try {
        // Like no(1), stop at the first operation that fails: later ones may depend on it.
        for (const op of ops) {
          const eq = op.kind === "o" ? op.arg.indexOf("=") : -1;
          const name = eq < 0 ? op.arg : op.arg.slice(0, eq), text = eq < 0 ? undefined : op.arg.slice(eq + 1);
          const t = await target.info(name);
          const problem = valueProblem(name, text);
          if (problem) throw new OpError(problem, BAD_USAGE);
          if (op.kind === "d") {
            const c = await target.reset(name);
            out.push(`${c.name}: ${c.old} -> ${c.new} (the default)`);
          } else if (text === undefined) {
            out.push(`${t.name} = ${t.value}`);
          } else {
            await target.write(name, Number(text));
          }
        }
        if (opts.all || ops.length === 0) out.push(...formatNoAll(await target.list()));
        flush();
      } catch (e) {
        if (!(e instanceof OpError)) throw e;
        flush();
        process.stderr.write(`no: ${e.message}\n`);
        fail(e.exitCode);
      } finally {
        target.close();
      }
    });
}

/** `no -a`: every option as `name = value`, names right-aligned to the longest (seed 004's layout). */
export function formatNoAll(all: readonly TunableInfo[]): string[] {
  const width = Math.max(...all.map((t) => t.name.length));
  return all.map((t) => `${t.name.padStart(width)} = ${t.value}`);
}
