// A scenario made of variants run one after the other on the same seed: the
// setup that fails, then the fixes that hold. Each variant's progress is its
// share of the whole run, and the scenario holds when every variant behaves
// as it is expected to.

import { scenarioResult, type Scenario, type VariantResult } from "../types.js";

/** What names a scenario in the report. */
export type ScenarioAbout = Pick<Scenario, "name" | "title" | "seeds">;

/** A scenario that runs `runVariant` once for each of `specs`, in order. */
export function variantScenario<Spec>(about: ScenarioAbout, specs: readonly Spec[],
  runVariant: (seed: number, spec: Spec, progress: (f: number) => void) => VariantResult): Scenario {
  return {
    ...about,
    run(o) {
      const variants = specs.map((spec, i) => runVariant(o.seed, spec, (x) => o.progress?.((i + x) / specs.length)));
      return scenarioResult(this, o.seed, variants);
    },
  };
}
