// mbufpool fuzz: random operation sequences against the reference model,
// with a progress bar on a terminal and a shrunk trace of any failure
// (partly shrunk if the time budget ran out while shrinking).

import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, Option } from "commander";
import cliProgress from "cli-progress";
import type { FuzzOptions } from "../fuzz/fuzzer.js";
import type { ProfileName } from "../tunables/profiles.js";
import type { Build } from "../core/module.js";
import { durationArg, integer, outputPath, profileOption, rateArg, seedArg } from "./options.js";
import { needing } from "./optional.js";

const count = integer(1, 1_000_000_000);

interface Opts {
  seed?: number; ops?: number; time?: number; shrinkTime?: number; profile?: ProfileName; auditEvery: number; caseLength: number;
  badRate: number; reentrant: boolean; jumbo: boolean; build: Build; out?: string; progress: boolean; threads?: number;
  packetZone: boolean;
}

/** Where a failure's trace goes unless -o says: the system's temporary folder, never the working tree. */
export function defaultTraceFile(seed: number): string {
  const dir = join(tmpdir(), "mbufpool-fuzz");
  mkdirSync(dir, { recursive: true });
  return join(dir, `fuzz-failure-${seed}.jsonl`);
}

export function registerFuzz(program: Command): void {
  program
    .command("fuzz")
    .description("run random operation sequences on the pool and the reference model; write a shrunk trace of a failure")
    .option("--seed <n>", "seed of the first round, 0 to 2147483647 (default: random; the summary prints it)", seedArg)
    .option("--ops <n>", "operations to run (default 20000, or unbounded with --time)", count)
    .option("--time <duration>", "stop after this long, e.g. 60s, 10m (shrinking a failure included)", durationArg)
    .option("--shrink-time <duration>", "shrink a failure for at most this long (default: what remains of --time, else unbounded)", durationArg)
    .addOption(profileOption().default(undefined, "every profile"))
    .option("--audit-every <n>", "check statistics and audit every N operations", count, 10)
    .option("--case-length <n>", "operations per case (one fresh pool each), at most", integer(1, 100_000), 200)
    .option("--bad-rate <r>", "share of operations given a bad argument (0 to 1)", rateArg, 0.1)
    .option("--reentrant", "also run drain routines and listeners that throw, close sockets or audit inside an allocation", false)
    .option("--jumbo", "also run the jumbo-cluster operations (getjcl, cljget and their frees; jumbo zones on the freebsd profile)", false)
    .addOption(new Option("--build <build>", "core build").choices(["release", "debug"]).default("release"))
    .option("-o, --out <file>", "where to write the trace of a failure (default: fuzz-failure-<seed>.jsonl in the temporary folder; its folder must exist)", outputPath)
    .option("--no-progress", "no progress bar (it is shown only when stderr is a terminal)")
    .option("--threads <n>", "instead: N worker threads (2 to 8) on one shared pool, audited at quiescent points (uses --seed, --ops, --time, --bad-rate, --build)", integer(2, 8))
    .option("--packet-zone", "with --threads: the shared pool has a packet zone, balanced at each quiescent point", false)
    .action(async (o: Opts) => {
      if (o.threads !== undefined) return fuzzThreadsCommand(o);
      if (o.packetZone) {
        process.stderr.write("mbufpool fuzz: --packet-zone goes with --threads (the one-thread fuzzer gives freebsd cases a packet zone already)\n");
        process.exitCode = 2;
        return;
      }
      // The fuzzer is built on fast-check, an optional dependency: loaded only here.
      const [{ fuzz, summarize }, { describeDivergence }] = await needing("fast-check", "mbufpool fuzz",
        () => Promise.all([import("../fuzz/fuzzer.js"), import("../fuzz/trace.js")]));
      const options: FuzzOptions = {
        seed: o.seed, ops: o.ops, timeMs: o.time, shrinkTimeMs: o.shrinkTime, profile: o.profile, auditEvery: o.auditEvery,
        caseLength: o.caseLength, badRate: o.badRate, reentrant: o.reentrant, jumbo: o.jumbo, build: o.build,
      };
      options.seed ??= Math.floor(Math.random() * 2 ** 31);
      options.traceFile = o.out ?? defaultTraceFile(options.seed);
      const bar = o.progress && process.stderr.isTTY ? progressBar(options) : undefined;
      const result = fuzz(options);
      bar?.stop();
      process.stdout.write(`${summarize(result)}\n`);
      const f = result.failure;
      if (f) {
        process.stdout.write(`failure (seed ${f.seed}, ${f.shrinks} shrinks): ${f.divergence ? describeDivergence(f.divergence) : f.message}\n`);
        process.stdout.write(f.shrunk
          ? `shrunk trace: ${f.traceOps} operations, written to ${f.traceFile}\n`
          : `partly shrunk trace (the time budget ran out after ${f.shrinks} shrinks): ${f.traceOps} operations, written to ${f.traceFile}\n`);
        process.stdout.write(f.replay.ok
          ? "replaying the trace did NOT reproduce the failure (report the seed instead)\n"
          : `replay reproduces it: ${f.replay.divergence ? describeDivergence(f.replay.divergence) : "diverged"}\n`);
        process.stdout.write(`run it again: mbufpool replay ${f.traceFile}${o.build === "debug" ? " --build debug" : ""}\n`);
        process.exitCode = 1;
      }
    });
}

/** `mbufpool fuzz --threads N`: the threads fuzzer (fuzz/threads.ts). */
async function fuzzThreadsCommand(o: Opts): Promise<void> {
  const alone = [["--profile", o.profile !== undefined], ["--reentrant", o.reentrant], ["--jumbo", o.jumbo], ["-o/--out", o.out !== undefined],
    ["--shrink-time", o.shrinkTime !== undefined]].filter(([, given]) => given).map(([name]) => name);
  if (alone.length) {
    process.stderr.write(`mbufpool fuzz: --threads runs its own operations on a freebsd pool and writes no trace: drop ${alone.join(", ")}\n`);
    process.exitCode = 2;
    return;
  }
  const { fuzzThreads, summarizeThreads } = await import("../fuzz/threads.js"); // no fast-check: each thread draws its own
  const r = await fuzzThreads({ threads: o.threads, seed: o.seed, ops: o.ops, timeMs: o.time, badRate: o.badRate, build: o.build, packetZone: o.packetZone });
  process.stdout.write(`${summarizeThreads(r)}\n`);
  if (r.failure) {
    process.stdout.write(`run it again: mbufpool fuzz --threads ${r.threads}${r.packetZone ? " --packet-zone" : ""} --seed ${r.seed} (the interleaving differs from run to run; the seeds fix each thread's operations)\n`);
    process.exitCode = 1;
  }
}

/** A progress bar on stderr: operations against --ops, or seconds against --time. */
function progressBar(options: FuzzOptions): { stop(): void } {
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: options.ops !== undefined || options.timeMs === undefined
      ? "fuzz [{bar}] {percentage}% | {value}/{total} ops | {rate} ops/s"
      : "fuzz [{bar}] {percentage}% | {value}/{total} s | {ops} ops | {rate} ops/s",
    hideCursor: true,
  }, cliProgress.Presets.shades_classic);
  const start = Date.now();
  const byOps = options.ops !== undefined || options.timeMs === undefined;
  const total = byOps ? (options.ops ?? 20_000) : Math.ceil(options.timeMs! / 1000);
  bar.start(total, 0, { ops: 0, rate: 0 });
  let last = 0;
  options.onProgress = (ops) => {
    const now = Date.now();
    if (now - last < 100) return;
    last = now;
    const secs = (now - start) / 1000;
    const rate = secs > 0 ? Math.round(ops / secs) : 0;
    bar.update(byOps ? Math.min(ops, total) : Math.min(Math.floor(secs), total), { ops, rate });
  };
  return {
    stop: () => {
      const secs = (Date.now() - start) / 1000;
      if (!byOps) bar.update(Math.min(Math.ceil(secs), total));
      bar.stop();
    },
  };
}
