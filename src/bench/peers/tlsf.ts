// The TLSF peer: the AssemblyScript runtime's own allocator (heap.alloc and
// heap.free, runtime "minimal"), compiled from the repository's
// bench/peers/tlsf/ by `npm run build` into build/bench/tlsf.wasm, which the
// package ships, so an installed mbufpool measures it too.

import { existsSync, readFileSync } from "node:fs";

const WASM = new URL("../../../build/bench/tlsf.wasm", import.meta.url);

/** The raw exports of the TLSF peer. */
export interface Tlsf {
  alloc(size: number): number;
  free(p: number): void;
  pairs(size: number, n: number): void;
}

/** A fresh instance of the TLSF peer, or null if its module was not built. */
export function loadTlsf(): Tlsf | null {
  if (!existsSync(WASM)) return null;
  const mod = new WebAssembly.Module(readFileSync(WASM));
  const instance = new WebAssembly.Instance(mod, {
    env: { abort: () => { throw new Error("tlsf peer: abort"); } },
  });
  return instance.exports as unknown as Tlsf;
}

/** What a TLSF case says it needs when the module is missing. */
export const TLSF_NEEDS = "build/bench/tlsf.wasm (npm run build in a checkout builds it)";
