// What the mechanisms around the core may use of a pool: the narrow interface
// that waiting allocation, netm, the leak detector and the samplers are built
// on, so that none of them imports the Pool facade (which imports them all).
//
// Pool implements it; a test or another host can implement it too.

import type { CoreExports } from "../core/exports.js";
import type { Clock } from "../clock.js";
import type { Profile, Values, Layout } from "../tunables/profiles.js";
import type { PoolStats } from "../stats/snapshot.js";

/** A running pool as its mechanisms see it. */
export interface PoolCore {
  /** The raw core exports; after close, every call throws ECLOSED. */
  readonly core: CoreExports;
  /** Linear memory's current buffer (a new one after growth unless the pool is pinned). */
  readonly buffer: ArrayBuffer;
  /** The pool's clock: every timer and rate limit runs on it. */
  readonly clock: Clock;
  /** The modelled system. */
  readonly profile: Profile;
  /** The tunables in force (replaced, never mutated, by a runtime write). */
  readonly tunables: Values;
  /** What the tunables mean for the arena and zones. */
  readonly layout: Layout;
  /** True once the pool is closed. */
  readonly isClosed: boolean;
  /** A snapshot of every counter. */
  stats(): PoolStats;
  /** Emits an event on the pool (the pool is an EventEmitter). */
  emit(event: string, ...args: unknown[]): boolean;
}
