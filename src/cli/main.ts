#!/usr/bin/env node
// The mbufpool command.

// Each command lives in its own module under src/cli/ and registers itself here.
//
// Exit status, the same for every command:
//   0  done
//   1  a finding: a leak flagged, a fuzz failure, a replay that diverged, an
//      incident that did not behave as its system did, an audit that is not
//      clean, a tunable write the system refused by its rules
//   2  bad usage: an unknown command or option, a bad value, a missing
//      argument, an output file that cannot be written (all found before any work)
//  69  --url: the service cannot be reached, does not answer in time, or is
//      not an mbufpool operator endpoint (sysexits' EX_UNAVAILABLE)
//  70  an internal error (a bug: the stack trace is printed)
//  77  --url: the service refused the write key: none, a wrong one, or its
//      writes are off (sysexits' EX_NOPERM)

import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { MbufError } from "../errors.js";
import { UsageError, helpNote } from "./options.js";
import { LiveError, NO_PERMISSION, UNAVAILABLE } from "./live.js";
import { registerNetstat } from "./netstat.js";
import { registerDemo } from "./demo.js";
import { registerSysctl } from "./sysctl.js";
import { registerNo } from "./no.js";
import { registerSize } from "./size.js";
import { registerSim, DEFAULT_COMMAND } from "./sim.js";
import { registerVmstat } from "./vmstat.js";
import { registerLeaks } from "./leaks.js";
import { registerWatch } from "./watch.js";
import { registerNetperf } from "./netperf.js";
import { registerFuzz } from "./fuzz.js";
import { registerReplay } from "./replay.js";
import { registerBench } from "./bench.js";

// An empty variable is no variable (`MBUFPOOL_URL= mbufpool netstat` runs the demo), as a shell
// user expects of a setting cleared for one command.
for (const name of ["MBUFPOOL_URL", "MBUFPOOL_OPERATOR_TOKEN"]) if (process.env[name] === "") delete process.env[name];

// A reader that goes away (`mbufpool ... | head`) is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

/** The package's version, read from its package.json next to dist/ (also when installed as a dependency). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

const program = new Command();
program
  .name("mbufpool")
  .description("The BSD network-buffer allocator (mbufs, clusters, socket buffers) in WebAssembly.\n"
    + `Without a command it runs \`mbufpool ${DEFAULT_COMMAND.join(" ")}\`: every seed's incident and its fix, as text`
    + " (`npm start` adds --html mbufpool-report.html).")
  .version(packageVersion(), "-V, --version", "print the version")
  // Commander's own errors (unknown option, missing argument, bad value) throw instead of
  // exiting with 1, so they exit 2 below like every other usage error; set before the
  // commands are added, which copy it.
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, "mbufpool: ")) })
  .showHelpAfterError("(add --help for usage)")
  .addHelpText("after", helpNote("Exit status, the same for every command: 0 done; 1 a finding (a leak flagged, a fuzz failure,"
    + " a replay that diverged, an incident that did not behave as its system did, an audit not clean, a tunable write refused);"
    + " 2 bad usage (an unknown command or option, a bad value, a missing argument, an output file that cannot be written);"
    + ` with --url, ${UNAVAILABLE} the service cannot be reached or does not answer in time, ${NO_PERMISSION} it refused the write key.`));

registerDemo(program);
registerNetstat(program);
registerSysctl(program);
registerNo(program);
registerSize(program);
registerSim(program);
registerVmstat(program);
registerLeaks(program);
registerWatch(program);
registerNetperf(program);
registerFuzz(program);
registerReplay(program);
registerBench(program);

const args = process.argv.slice(2);
program.parseAsync(args.length ? args : DEFAULT_COMMAND, { from: "user" }).catch((e: unknown) => {
  if (e instanceof CommanderError) {
    // Help and --version exit 0; commander has printed its message for everything else.
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof LiveError) {
    process.stderr.write(`mbufpool: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else if (e instanceof MbufError || e instanceof UsageError) {
    // A pool left in a bad state (ESTATE: an audit, buffers left in use) is a finding; the rest
    // (a tunable refused at creation, an unknown scenario, an unreadable file) is bad usage.
    process.stderr.write(`mbufpool: ${e.message}\n`);
    process.exitCode = e instanceof MbufError && e.code === "ESTATE" ? 1 : 2;
  } else {
    process.stderr.write(`mbufpool: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 70;
  }
});
