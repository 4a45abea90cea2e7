// mbufpool sim: replay the seeds' incidents and their fixes on the real core.
// It is the default job: bare `mbufpool` runs it, and `npm start` runs it with --html.

import { writeFileSync } from "node:fs";
import { Command } from "commander";
import { runScenarios, textReport, htmlReport, SCENARIOS, findScenario } from "../sim/index.js";
import { outputPath, seedArg, UsageError } from "./options.js";

/** What bare `mbufpool` runs. */
export const DEFAULT_COMMAND = ["sim"];

export function registerSim(program: Command): void {
  program
    .command("sim")
    .description(`the default job: replay each seed's incident and its fix on the real core: ${SCENARIOS.map((s) => s.name).join(", ")} (all by default)`)
    .argument("[scenario...]", "scenarios to run")
    .option("--seed <n>", "random seed, 0 to 2147483647 (runs are deterministic for a seed)", seedArg, 1)
    .option("--html <file>", "write a self-contained HTML report with charts (its folder must exist)", outputPath)
    .option("--json", "print the results as JSON instead of text")
    .option("--no-reports", "leave the netstat -m reports out of the text")
    .action((names: string[], opts: { seed: number; html?: string; json?: boolean; reports: boolean }) => {
      // Unknown names are refused before anything runs.
      const unknown = names.filter((n) => !findScenario(n));
      if (unknown.length) {
        throw new UsageError(`unknown scenario ${unknown.map((n) => `"${n}"`).join(", ")}; choose from ${SCENARIOS.map((x) => x.name).join(", ")}`);
      }
      const tty = process.stderr.isTTY;
      const results = runScenarios(names, opts.seed, (name, f) => {
        if (tty) process.stderr.write(`\r${name}: ${Math.round(f * 100)}%   `);
      });
      if (tty) process.stderr.write("\r\x1b[K");
      if (opts.json) process.stdout.write(JSON.stringify(results, null, 2) + "\n");
      else process.stdout.write(textReport(results, { reports: opts.reports }));
      if (opts.html) {
        writeFileSync(opts.html, htmlReport(results));
        if (!opts.json) process.stdout.write(`HTML report: ${opts.html}\n`);
      }
      if (!results.every((r) => r.ok)) process.exitCode = 1;
    });
}
