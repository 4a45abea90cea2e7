// Every scenario by name, in the order `mbufpool sim` runs them.

import type { Scenario } from "../types.js";
import { exhaustion } from "./exhaustion.js";
import { rtemsDeadlock } from "./rtems-deadlock.js";
import { packetZone } from "./packet-zone.js";
import { aixTuning } from "./aix-tuning.js";
import { leakOrReader } from "./leak-or-reader.js";

export const SCENARIOS: readonly Scenario[] = [exhaustion, rtemsDeadlock, packetZone, aixTuning, leakOrReader];

/** The scenario called `name`, or undefined. */
export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
