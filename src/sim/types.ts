// What scenarios return: computed verdicts, figures, reports and series.

import type { Series } from "./recorder.js";

/** One run of a scenario: the seed's system as it behaved, or with a fix. */
export interface VariantResult {
  /** Short name, e.g. "no fixes" or "reservation flag". */
  variant: string;
  /** What the variant is there to show: the failure ("fails") or that the fix holds ("holds"). */
  expect: "fails" | "holds";
  /** What happened, computed from the run (e.g. "wedged at 12.4 s"). */
  outcome: string;
  /** True if the run failed the way the seed's system did (expect "fails") or stayed healthy (expect "holds"). */
  failed: boolean;
  /** Whether the outcome matches `expect`. */
  ok: boolean;
  /** Key figures of the run. */
  figures: Record<string, number | string>;
  /** The modelled system's console messages, in order (repeats folded as syslog does). */
  log: string[];
  /** `netstat -m` of the seed's system at the worst moment and at the end. */
  worst: string;
  end: string;
  series: Series;
}

export interface ScenarioResult {
  name: string;
  title: string;
  /** Which seed documents it replays. */
  seeds: string;
  seed: number;
  variants: VariantResult[];
  /** True if every variant's outcome matched its expectation. */
  ok: boolean;
}

export interface ScenarioOptions {
  seed: number;
  /** Called with a fraction in [0, 1] as the run advances (for progress bars). */
  progress?: (fraction: number) => void;
}

export interface Scenario {
  readonly name: string;
  readonly title: string;
  readonly seeds: string;
  run(options: ScenarioOptions): ScenarioResult;
}

/** Folds repeated console lines the way syslog does ("last message repeated N times"). */
export function foldLog(lines: readonly string[]): string[] {
  const out: string[] = [];
  let last: string | undefined, repeats = 0;
  for (const l of lines) {
    if (l === last) {
      repeats++;
      continue;
    }
    if (repeats) out.push(`last message repeated ${repeats} times`);
    out.push(l);
    last = l;
    repeats = 0;
  }
  if (repeats) out.push(`last message repeated ${repeats} times`);
  return out;
}

/** A scenario's result from its variants: ok when every variant behaved as expected. */
export function scenarioResult(s: Scenario, seed: number, variants: VariantResult[]): ScenarioResult {
  return { name: s.name, title: s.title, seeds: s.seeds, seed, variants, ok: variants.every((v) => v.ok) };
}
