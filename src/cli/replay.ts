// mbufpool replay FILE: runs a trace and reports where it diverged from its
// expectations (a structured result by the fields that differ); a trace of a
// format this version does not read is refused with what to do instead.

import { Command, Option } from "commander";
import type { Build } from "../core/module.js";
import { replayFile, describeDivergence, describeField, fieldDifferences } from "../fuzz/trace.js";
import { TraceError } from "../fuzz/run.js";

export function registerReplay(program: Command): void {
  program
    .command("replay")
    .description("run a trace (JSON lines); print where it diverged from its expectations; exit 1 if it did")
    .argument("<file>", "the trace")
    .addOption(new Option("--build <build>", "core build").choices(["release", "debug"]).default("release"))
    .action((file: string, o: { build: Build }) => {
      let r;
      try {
        r = replayFile(file, { build: o.build });
      } catch (e) {
        if (!(e instanceof TraceError) && !(e as NodeJS.ErrnoException).code) throw e;
        process.stderr.write(`mbufpool: ${file}: ${(e as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      if (r.ok) {
        process.stdout.write(`${file}: ${r.ops} operations replayed (${o.build} core), no divergence; audit ${r.audit}\n`);
        return;
      }
      const d = r.divergence!, fields = fieldDifferences(d.expected, d.actual);
      process.stdout.write(`${file}: diverged after ${r.ops} operations (${o.build} core)\n  ${describeDivergence(d)}\n`);
      // The one-line description names the first fields; all of them, one a line, are easier to read.
      if (fields.length > 1) process.stdout.write(fields.map((f) => `    ${describeField(f)}\n`).join(""));
      process.exitCode = 1;
    });
}
