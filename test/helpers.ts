// Test helpers: pools made here are audited and closed after each test.
import { Pool, type PoolOptions } from "mbufpool";

const tracked: Pool[] = [];

/** The build under test (set per vitest project). */
export const BUILD = process.env.MBUFPOOL_BUILD === "debug" ? "debug" : "release";

/** A pool of the build under test, audited and closed after the test. */
export function makePool(options: PoolOptions = {}): Pool {
  const pool = Pool.create({ build: BUILD, ...options });
  tracked.push(pool);
  return pool;
}

/** Takes every pool made since the last call. */
export function drainTracked(): Pool[] {
  return tracked.splice(0, tracked.length);
}
