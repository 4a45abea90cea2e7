// What the usage recorder and the leak detector share: sampling a pool every
// intervalMs on the pool's own clock (real or virtual), until stopped or the
// pool closes.

import { Ticker } from "../clock.js";
import type { PoolCore } from "../pool/context.js";
import { checkInt } from "../errors.js";

/** A pool sampler: subclasses say what one sample() does. */
export abstract class PoolSampler {
  /** Milliseconds between samples on the pool's clock (1000 by default). */
  readonly intervalMs: number;
  private ticker?: Ticker;

  /** @throws MbufError EINVAL for an intervalMs that is not an integer from 1 to 2^31-1. */
  constructor(readonly pool: PoolCore, intervalMs: number | undefined) {
    this.intervalMs = checkInt(intervalMs ?? 1000, "intervalMs", 1, 0x7fffffff);
  }

  /** Takes one sample now. */
  abstract sample(): unknown;

  /** Samples every intervalMs on the pool's clock until stop() (or the pool closes). */
  start(): this {
    if (this.ticker?.active) return this;
    this.ticker = new Ticker(this.pool.clock, this.intervalMs, () => this.sample(), () => !this.pool.isClosed);
    return this;
  }

  /** Stops sampling (start() may begin again). */
  stop(): void {
    this.ticker?.stop();
  }
}
