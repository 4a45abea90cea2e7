// Every scenario's verdicts, at a few seeds: each bad variant really fails,
// each fix really holds (computed from the run, never hard-coded).
import { describe, it, expect } from "vitest";
import { SCENARIOS } from "../src/sim/index.js";

describe.each(SCENARIOS.map((s) => [s.name, s] as const))("scenario %s", (_name, scenario) => {
  it.each([1, 7, 42])("behaves as the seeds describe at seed %i", (seed) => {
    const r = scenario.run({ seed });
    for (const v of r.variants) {
      expect({ variant: v.variant, ok: v.ok, outcome: v.outcome }).toEqual({ variant: v.variant, ok: true, outcome: v.outcome });
      expect(v.failed).toBe(v.expect === "fails");
      expect(v.series.t.length).toBeGreaterThan(10);
      expect(v.worst).toMatch(/mbufs in use|MBUF STATISTICS/);
    }
    expect(r.ok).toBe(true);
  });
});
