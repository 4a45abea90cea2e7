// Samples a pool and a scenario's own figures on simulated time, for the
// text summary (worst moment) and the HTML report's charts.

import type { Pool } from "../pool.js";
import { sampleOf } from "../stats/sample.js";
import type { Simulator } from "./engine.js";

/**
 * The series of cluster requests the reservation flag refused: the flag doing its job (only
 * the receive path gets clusters while it is set), not a failure. The flag refuses M_NOWAIT
 * requests into "denied", so the report draws "denied" without them.
 */
export const FLAG_REFUSALS = "refused by the flag (by design)";

/** Named series sampled at the same instants. */
export interface Series {
  /** Sample times, in seconds of simulated time. */
  t: number[];
  [name: string]: number[];
}

export class Recorder {
  readonly series: Series = { t: [] };
  /** netstat -m at the moment the tracked figure peaked. */
  worstReport = "";
  private worstValue = -Infinity;

  /**
   * @param extra scenario figures to sample besides the pool's (e.g. bytes delivered, waiting tasks).
   * @param worstOf the figure whose highest value marks the worst moment.
   */
  constructor(
    private readonly sim: Simulator,
    private readonly pool: Pool,
    private readonly extra: () => Record<string, number> = () => ({}),
    private readonly worstOf: (s: Record<string, number>) => number = (s) => s["clusters in use"],
  ) {}

  /** Samples every `period` ms for as long as the simulation runs. */
  start(period: number): void {
    this.sample();
    this.sim.every(period, () => this.sample());
  }

  sample(): void {
    // The pool's figures are the usage series' own (src/stats/series.ts), named as its columns.
    const x = sampleOf(this.pool.stats(), this.sim.now());
    const row: Record<string, number> = {
      "mbufs in use": x.mbufsInUse,
      "clusters in use": x.clustersInUse,
      "clusters cached": x.clustersCache,
      denied: x.denied,
      delayed: x.delayed,
      ...this.extra(),
    };
    this.series.t.push(+(this.sim.now() / 1000).toFixed(3));
    for (const [k, v] of Object.entries(row)) (this.series[k] ??= []).push(v);
    const w = this.worstOf(row);
    if (w > this.worstValue) {
      this.worstValue = w;
      this.worstReport = this.pool.netstat();
    }
  }
}
