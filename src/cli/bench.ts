// mbufpool bench: the alloc/free suite against its peers, measured on this
// machine in one run; ratios to each group's baseline, the speed targets as
// ratios, and the garbage and metadata checks. `--json` for dashboards.

import { writeFileSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { durationArg, helpNote, integer, outputPath } from "./options.js";
import { needing } from "./optional.js";

interface Opts { filter: string[]; time: number; rounds: number; json: boolean; out?: string; list: boolean }

const collect = (v: string, previous: string[]): string[] => {
  if (v.trim() === "") throw new InvalidArgumentError("expected a word of a group's name");
  return [...previous, v];
};

export function registerBench(program: Command): void {
  program
    .command("bench")
    .description("measure get/free, chain and packet-zone operations against their peers on this machine (benchmark.js)")
    .option("--filter <word>", "only the groups whose name contains the word (repeatable)", collect, [])
    .option("--time <duration>", "how long each case is measured, e.g. 500ms, 1s", durationArg, 1000)
    .option("--rounds <n>", "rounds of each group; each case keeps its best", integer(1, 100), 3)
    .option("--json", "print the report as JSON (machine, results, targets, checks, skipped peers) instead of text", false)
    .option("-o, --out <file>", "also write the JSON report to this file", outputPath)
    .option("--list", "list the groups and the skipped peers, measure nothing", false)
    .addHelpText("after", helpNote("Ratios compare cases of the same run: they hold across machines where absolute"
      + " rates do not. A peer that cannot be loaded (a development dependency that is not installed) is skipped"
      + " and named. Exit status 1: a speed target missed or a check failed. Needs benchmark.js (an optional"
      + " dependency). The repository's `npm run bench` runs the same suites from the sources."))
    .action(async (o: Opts) => {
      const { benchSuites, runBench, groupsOf } = await needing("benchmark", "mbufpool bench", () => import("../bench/index.js"));
      const suites = await benchSuites();
      if (o.list) {
        for (const g of groupsOf(suites)) process.stdout.write(`${g}\n`);
        for (const s of suites.flatMap((x) => x.skipped ?? [])) process.stdout.write(`skipped: ${s.group}: ${s.name} (needs ${s.needs})\n`);
        return;
      }
      const known = groupsOf(suites).map((g) => g.toLowerCase());
      const unknown = o.filter.filter((f) => !known.some((g) => g.includes(f.toLowerCase())));
      if (unknown.length) {
        process.stderr.write(`mbufpool: bench: no group matches ${unknown.map((f) => JSON.stringify(f)).join(", ")} (--list shows the groups)\n`);
        process.exitCode = 2;
        return;
      }
      const report = await runBench(suites, { filters: o.filter, time: o.time / 1000, rounds: o.rounds, print: o.json ? undefined : (l) => { process.stdout.write(`${l}\n`); } });
      const json = `${JSON.stringify(report, null, 2)}\n`;
      if (o.json) process.stdout.write(json);
      if (o.out) writeFileSync(o.out, json);
      if (report.targets.some((t) => !t.met) || report.checks.some((c) => !c.ok)) process.exitCode = 1;
    });
}
