// What sysctl and no share: checking an operation's name and value before it
// reaches the pool, so that a mistake on the command line (an unknown name, a
// value that is not an integer) exits 2, and a write the system's rules refuse
// exits 1, the answer of a live system.

import type { Pool } from "../pool.js";
import { MbufError } from "../errors.js";

/** Exit status of bad usage and of a refusal; the worse one wins. */
export const BAD_USAGE = 2, REFUSED = 1;

/** Sets the exit status to `code` unless a worse one is already set. */
export function fail(code: number): void {
  process.exitCode = Math.max(Number(process.exitCode ?? 0), code);
}

/**
 * Checks `name` (known to the pool's profile) and, for a write, `text` (an integer);
 * returns why not, or undefined if the operation may go to the pool.
 */
export function usageProblem(pool: Pool, name: string, text?: string): string | undefined {
  try {
    pool.tunable(name);
  } catch (e) {
    if (e instanceof MbufError) return e.message;
    throw e;
  }
  if (text !== undefined && !(/^-?\d+$/.test(text) && Number.isSafeInteger(Number(text)))) {
    return `${name}=${text}: the value must be an integer`;
  }
  return undefined;
}
