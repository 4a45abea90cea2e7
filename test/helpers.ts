// Test helpers: pools made here are audited and closed after each test.
import { expect } from "vitest";
import { Pool, MbufError, type PoolOptions } from "mbufpool";

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

/** Runs `fn`; returns the MbufError code it threw (failing on any other error), or undefined. */
export const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MbufError);
    return (e as MbufError).code;
  }
  return undefined;
};

/** `n` bytes of a recognisable pattern. */
export const pattern = (n: number, seed = 0): Uint8Array => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 255;
  return b;
};
