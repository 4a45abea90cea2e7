// The repository's benchmark run: `npm run bench [-- --filter GROUP] [--json FILE] [--time S] [--rounds N]`.
//
// The same suites and runner as the shipped `mbufpool bench` (src/bench/),
// run from the sources with every development peer installed; it builds the
// TLSF peer first if its module is missing or older than its source.

import { execFileSync } from "node:child_process";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { benchSuites, runBench } from "../src/bench/index.js";

interface Options {
  filters: string[];
  json?: string;
  time: number;
  rounds: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { filters: [], time: 1, rounds: 3 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${a} needs a value`);
      return v;
    };
    if (a === "--filter") o.filters.push(value());
    else if (a === "--json") o.json = value();
    else if (a === "--time") o.time = Number(value());
    else if (a === "--rounds") o.rounds = Number(value());
    else if (a === "--help" || a === "-h") {
      console.log("usage: npm run bench -- [--filter GROUP]... [--json FILE] [--time SECONDS] [--rounds N]");
      process.exit(0);
    } else throw new Error(`bench: unknown argument ${a}`);
  }
  if (!(o.time > 0)) throw new Error("bench: --time must be a positive number of seconds");
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error("bench: --rounds must be a positive integer");
  return o;
}

/** Compiles the TLSF peer (`npm run bench:build` does the same) unless its module is up to date. */
function buildTlsf(): void {
  const dir = fileURLToPath(new URL("./peers/tlsf/", import.meta.url));
  const wasm = fileURLToPath(new URL("../build/bench/tlsf.wasm", import.meta.url));
  if (existsSync(wasm) && statSync(wasm).mtimeMs >= statSync(`${dir}index.ts`).mtimeMs) return;
  const asc = fileURLToPath(new URL("../node_modules/.bin/asc", import.meta.url));
  execFileSync(asc, ["--target", "release"], { cwd: dir, stdio: "inherit" });
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  buildTlsf();
  const report = await runBench(await benchSuites(), { ...opts, print: (l) => console.log(l) });
  if (opts.json) {
    writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwrote ${opts.json}`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
