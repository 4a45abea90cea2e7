// Loads the core: compiles each build once per process and instantiates one
// WebAssembly instance per Pool over memory the host creates. A shared pool
// runs the shared-* builds: the same sources, compiled to import a shared
// memory (threads), so the unshared builds' code stays exactly as it is.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { instantiateSync } from "@assemblyscript/loader";
import type { CoreExports } from "./exports.js";

/** Which build of the core to run: `debug` keeps assertions, `release` is optimised. */
export type Build = "debug" | "release";

const compiled = new Map<string, WebAssembly.Module>();

/** The file name of a build: build/<build>.wasm, or build/shared-<build>.wasm for a shared pool. */
const fileOf = (build: Build, shared: boolean): string => (shared ? `shared-${build}` : build);

/** The compiled module of a build, from build/<build>.wasm (or shared-<build>.wasm) beside the package. */
export function coreModule(build: Build, shared = false): WebAssembly.Module {
  const file = fileOf(build, shared);
  let mod = compiled.get(file);
  if (!mod) {
    const url = new URL(`../../build/${file}.wasm`, import.meta.url);
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(readFileSync(fileURLToPath(url)));
    } catch (e) {
      throw new Error(`mbufpool: the ${file} core is not built (${(e as Error).message}); run \`npm run build\``);
    }
    mod = new WebAssembly.Module(bytes);
    compiled.set(file, mod);
  }
  return mod;
}

/** What the core may call in the host. */
export interface CoreImports {
  /** An allocation found its zone empty; return 1 if drain routines ran. */
  exhausted(zone: number, how: number): number;
}

/** Instantiates a core over `memory` (a shared memory needs `shared`: the module's import says so). */
export function instantiateCore(build: Build, memory: WebAssembly.Memory, host: CoreImports, shared = false): CoreExports {
  // The loader instantiates (and supplies `abort` for the debug build); its
  // demangled wrappers cost a closure per call, so the Pool keeps the raw
  // instance exports.
  const { instance } = instantiateSync(coreModule(build, shared), {
    env: { memory },
    host: { exhausted: host.exhausted },
  });
  return instance.exports as unknown as CoreExports;
}
