// The incident simulator's public API.

export { Simulator, Cpu, type Task } from "./engine.js";
export { Rng } from "./rng.js";
export { Recorder, FLAG_REFUSALS, type Series } from "./recorder.js";
export { closeClean } from "./finish.js";
export { textReport, htmlReport } from "./report.js";
export { SCENARIOS, findScenario } from "./scenarios/index.js";
export type { Scenario, ScenarioResult, VariantResult, ScenarioOptions } from "./types.js";

import { SCENARIOS, findScenario } from "./scenarios/index.js";
import type { ScenarioResult } from "./types.js";
import { MbufError } from "../errors.js";

/**
 * Runs scenarios by name (all of them if none is named) at `seed`.
 * @throws MbufError EINVAL for an unknown scenario name.
 */
export function runScenarios(names: readonly string[], seed: number,
  progress?: (name: string, fraction: number) => void): ScenarioResult[] {
  const chosen = names.length ? names.map((n) => {
    const s = findScenario(n);
    if (!s) throw new MbufError("EINVAL", `unknown scenario "${n}"; choose from ${SCENARIOS.map((x) => x.name).join(", ")}`);
    return s;
  }) : SCENARIOS;
  return chosen.map((s) => s.run({ seed, progress: (f) => progress?.(s.name, f) }));
}
