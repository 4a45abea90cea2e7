// The built-in workload of the CLI: a burst that takes clusters until the
// pool denies requests, then frees everything, so a report can be printed at
// the worst moment and after recovery.

import type { Pool } from "../pool.js";
import { M_NOWAIT, M_PKTHDR, MT } from "../constants.js";

export interface BurstResult {
  /** Packets (mbuf+cluster) held at the worst moment. */
  held: number;
  /** Requests denied during the burst. */
  denied: number;
  /** Report text at the worst moment. */
  worst: string;
  /** Report text after everything was freed. */
  after: string;
}

/**
 * Takes mbuf+cluster packets until `deniedTarget` requests have been denied
 * (or `maxPackets` are held), prints with `report`, then frees everything.
 */
export function burst(pool: Pool, report: () => string, deniedTarget = 16, maxPackets = 1 << 20): BurstResult {
  const held: number[] = [];
  let denied = 0;
  while (denied < deniedTarget && held.length < maxPackets) {
    const m = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
    if (m === 0) denied++;
    else held.push(m);
  }
  const worst = report();
  for (const m of held) pool.freem(m);
  return { held: held.length, denied, worst, after: report() };
}
