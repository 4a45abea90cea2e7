// Loads the TLSF peer (peers/tlsf/index.ts), building it first with the bench
// build script if the .wasm is missing or older than its source.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL("./tlsf/", import.meta.url));
const wasm = fileURLToPath(new URL("../../build/bench/tlsf.wasm", import.meta.url));

/** The raw exports of the TLSF peer. */
export interface Tlsf {
  alloc(size: number): number;
  free(p: number): void;
  pairs(size: number, n: number): void;
}

/** Compiles the peer (`npm run bench:build` does the same). */
export function buildTlsf(): void {
  const src = `${dir}index.ts`;
  if (existsSync(wasm) && statSync(wasm).mtimeMs >= statSync(src).mtimeMs) return;
  const asc = fileURLToPath(new URL("../../node_modules/.bin/asc", import.meta.url));
  execFileSync(asc, ["--target", "release"], { cwd: dir, stdio: "inherit" });
}

/** A fresh instance of the TLSF peer. */
export function loadTlsf(): Tlsf {
  buildTlsf();
  const mod = new WebAssembly.Module(readFileSync(wasm));
  const instance = new WebAssembly.Instance(mod, {
    env: { abort: () => { throw new Error("tlsf peer: abort"); } },
  });
  return instance.exports as unknown as Tlsf;
}
