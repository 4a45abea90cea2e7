#!/usr/bin/env node
// The mbufpool command.

// Each command lives in its own module under src/cli/ and registers itself here.

import { Command } from "commander";
import { MbufError } from "../errors.js";
import { registerNetstat } from "./netstat.js";
import { registerDemo } from "./demo.js";
import { registerSysctl } from "./sysctl.js";
import { registerNo } from "./no.js";
import { registerSize } from "./size.js";
import { registerSim } from "./sim.js";
import { registerVmstat } from "./vmstat.js";
import { registerLeaks } from "./leaks.js";
import { registerWatch } from "./watch.js";
import { registerNetperf } from "./netperf.js";
import { registerFuzz } from "./fuzz.js";
import { registerReplay } from "./replay.js";

// A reader that goes away (`mbufpool ... | head`) is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

const program = new Command();
program
  .name("mbufpool")
  .description("The BSD network-buffer allocator (mbufs, clusters, socket buffers) in WebAssembly")
  .showHelpAfterError();

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

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof MbufError) {
    process.stderr.write(`mbufpool: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    throw e;
  }
});
