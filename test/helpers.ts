// Test helpers: pools made here are audited and closed after each test; and
// the pieces several test files share (model-test steps, byte patterns).
import { expect } from "vitest";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
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

/** A packet-header chain holding `bytes`. */
export function chainOf(pool: Pool, bytes: Uint8Array): number {
  const m = pool.gethdr();
  expect(m).toBeGreaterThan(0);
  expect(pool.copyback(m, 0, bytes)).toBe(true);
  return m;
}

// === Model tests (model.test.ts, packet-model.test.ts) ===

/** The live handle a random choice `i` names (cycling through them), or undefined if none is live. */
export function pickLive(live: ReadonlyMap<number, unknown>, i: number): number | undefined {
  if (live.size === 0) return undefined;
  return [...live.keys()][i % live.size];
}

/**
 * m_clget on live handle `m` (undefined: nothing to do): a handle with a
 * cluster already is refused; else clget gives what `predict` (the model,
 * which counts the failure itself) says, and the model's handle has a cluster.
 */
export function clgetStep(pool: Pool, live: ReadonlyMap<number, { cluster: boolean }>, m: number | undefined,
  how: number, predict: () => boolean): void {
  if (m === undefined) return;
  const l = live.get(m)!;
  if (l.cluster) {
    expect(() => pool.clget(m)).toThrow(MbufError);
    return;
  }
  const ok = predict();
  expect(pool.clget(m, how)).toBe(ok);
  if (ok) l.cluster = true;
}

/** The checkout's root, where "mbufpool" resolves to this package. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Runs `source` as an ES module in a process of its own, from the checkout, as a user runs a script; resolves with its exit code and output. */
export function runModule(source: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", source], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("exit", (c) => resolve({ code: c, out }));
  });
}
