// The bad-input matrix (test/matrix.ts): every public entry point × every
// argument × every class of bad value that applies.
import { describe, it, expect } from "vitest";
import { ENTRIES, OP_TABLE_METHODS, runMatrix, publicPoolMethods, coreFunctions, type MatrixCase } from "./matrix.js";
import { BROKEN } from "./broken.js";
import { BUILD } from "./helpers.js";

const show = (c: MatrixCase): string => `${c.entry}(${c.label}): ${c.verdict}`;

describe("the bad-input matrix", () => {
  it("has a row for every exported core function and every public Pool method", () => {
    const rows = new Set(ENTRIES.map((e) => e.name));
    const discovered = [...publicPoolMethods(), ...coreFunctions()];
    expect(discovered.length).toBeGreaterThan(30);
    // A new entry point needs a row in test/matrix.ts, or (a Pool method) an entry in the op table.
    expect(discovered.filter((n) => !rows.has(n) && !OP_TABLE_METHODS.has(n))).toEqual([]);
    expect([...rows].filter((n) => !discovered.includes(n))).toEqual([]); // no stale rows
  });

  it("gives a typed error (or NULL) for every bad input, never a trap, and leaves the audit clean", async () => {
    const r = runMatrix();
    await r.settled;
    const pool = r.cases.filter((c) => c.entry.startsWith("Pool.")).length;
    console.log(`matrix (${BUILD}): ${r.cases.length} cases over ${r.entries} entry points `
      + `(${pool} host, ${r.cases.length - pool} raw core): ${r.failures.length ? `${r.failures.length} FAILED` : "all passed"}`);
    expect(r.failures.map(show)).toEqual([]);
    expect(r.cases.length).toBeGreaterThan(500);
  });

  it("catches a pool with one validation removed (seeded bugs)", async () => {
    for (const [bug, factory] of Object.entries(BROKEN)) {
      const r = runMatrix({ factory, only: "pool" });
      await r.settled;
      console.log(`matrix against "${bug}": ${r.failures.length} of ${r.cases.length} cases fail, e.g. ${r.failures[0] ? show(r.failures[0]) : "none"}`);
      expect(r.failures.length, bug).toBeGreaterThan(0);
    }
  });
});
