// The core's half of a runtime tunable write: a plan that rules.ts checked
// whole is carried out in the core in an order that never leaves a limit
// above what the arena can hold. thewall rises first and falls last, so a
// zone limit is never set against a wall that cannot take it; then the
// reservation. Every step was checked before, so a core failure here is a
// bug, reported with the tunable's name.

import type { CoreExports } from "../core/exports.js";
import { coreError } from "../errors.js";
import { ZONE_MBUF, ZONE_CLUSTER, ZONE_JUMBOP, ZONE_JUMBO9, ZONE_JUMBO16, PAGE_SIZE } from "../constants.js";
import type { Profile, Values, Layout } from "./profiles.js";
import type { TunablePlan } from "./rules.js";

/** Applies `plan` to the core, from the layout and values in force (`before`, `values`). */
export function applyPlan(ex: CoreExports, profile: Profile, plan: TunablePlan, before: Layout, values: Values): void {
  const after = plan.layout;
  const check = (r: number): void => {
    if (r < 0) throw coreError(r, `sysctl ${plan.name}`);
  };
  const wall = (): void => {
    if (after.thewall !== before.thewall) check(ex.mb_set_wall(Math.floor(after.thewall / PAGE_SIZE)));
  };
  if (after.thewall > before.thewall) wall();
  if (after.nmbufs !== before.nmbufs) check(ex.mb_set_limit(ZONE_MBUF, after.nmbufs));
  if (after.nmbclusters !== before.nmbclusters) check(ex.mb_set_limit(ZONE_CLUSTER, after.nmbclusters));
  if (after.jumbo && before.jumbo) {
    if (after.jumbo.page !== before.jumbo.page) check(ex.mb_set_limit(ZONE_JUMBOP, after.jumbo.page));
    if (after.jumbo.nine !== before.jumbo.nine) check(ex.mb_set_limit(ZONE_JUMBO9, after.jumbo.nine));
    if (after.jumbo.sixteen !== before.jumbo.sixteen) check(ex.mb_set_limit(ZONE_JUMBO16, after.jumbo.sixteen));
  }
  if (after.thewall < before.thewall) wall();
  const resv = profile.aliases["reserve"];
  if (plan.values[resv] !== values[resv]) check(ex.mb_set_reserve(plan.values[resv]));
}
