// mbufpool sim: replay the seeds' incidents and their fixes on the real core.

import { writeFileSync } from "node:fs";
import { Command } from "commander";
import { runScenarios, textReport, htmlReport, SCENARIOS } from "../sim/index.js";

export function registerSim(program: Command): void {
  program
    .command("sim")
    .description(`replay each seed's incident and its fix: ${SCENARIOS.map((s) => s.name).join(", ")} (all by default)`)
    .argument("[scenario...]", "scenarios to run")
    .option("--seed <n>", "random seed (runs are deterministic for a seed)", (v) => Number.parseInt(v, 10), 1)
    .option("--html <file>", "write a self-contained HTML report with charts")
    .option("--json", "print the results as JSON instead of text")
    .option("--no-reports", "leave the netstat -m reports out of the text")
    .action((names: string[], opts: { seed: number; html?: string; json?: boolean; reports: boolean }) => {
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
