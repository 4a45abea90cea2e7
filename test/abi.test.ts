import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { BUILD } from "./helpers.js";

const mod = new WebAssembly.Module(readFileSync(new URL(`../build/${BUILD}.wasm`, import.meta.url)));

describe("the core module", () => {
  it("exports no runtime and no managed allocator", () => {
    const names = WebAssembly.Module.exports(mod).map((e) => e.name);
    for (const rt of ["__new", "__pin", "__unpin", "__collect", "__renew", "__alloc", "__rtti_base"]) {
      expect(names).not.toContain(rt);
    }
    expect(names).toEqual(expect.arrayContaining(["m_get", "m_gethdr", "m_getcl", "m_clget", "m_free", "m_freem", "mb_audit"]));
  });

  it("imports only its memory, the host's exhausted hook and (debug) abort", () => {
    const imports = WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`).sort();
    const allowed = ["env.memory", "host.exhausted", "env.abort"];
    for (const i of imports) expect(allowed).toContain(i);
    expect(imports).toContain("env.memory");
  });
});
