// What sysctl and no share: the tunables they act on, a pool made for the run
// or a running service (--url), behind one interface, so that both print the
// same lines for the same state; and the checks that sort a mistake on the
// command line (an unknown name, a value that is not an integer: exit 2) from
// a write the system's rules refuse (exit 1, the answer of a live system).

import type { Pool } from "../pool.js";
import type { TunableInfo, TunableChange } from "../tunables/rules.js";
import { MbufError } from "../errors.js";

/** Exit status of bad usage and of a refusal; the worse one wins. */
export const BAD_USAGE = 2, REFUSED = 1;

/** Sets the exit status to `code` unless a worse one is already set. */
export function fail(code: number): void {
  process.exitCode = Math.max(Number(process.exitCode ?? 0), code);
}

/** An operation that did not happen: the message to print and the exit status it earns. */
export class OpError extends Error {
  override readonly name = "OpError";
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

/**
 * The tunables of one pool. Every method throws OpError for a failed operation (BAD_USAGE for a
 * name the profile does not have, REFUSED for a write its rules refuse, the live client's own
 * code for a refused key); whatever fails, nothing is changed.
 */
export interface TunableTarget {
  list(): Promise<TunableInfo[]>;
  info(name: string): Promise<TunableInfo>;
  write(name: string, value: number): Promise<TunableChange>;
  /** Back to the default (no -d). */
  reset(name: string): Promise<TunableChange>;
  close(): void;
}

/** The tunables of a pool in this process (closed with the target). */
export function localTarget(pool: Pool): TunableTarget {
  const op = <T>(code: number, f: () => T): Promise<T> => {
    try {
      return Promise.resolve(f());
    } catch (e) {
      if (e instanceof MbufError) return Promise.reject(new OpError(e.message, code));
      throw e;
    }
  };
  return {
    list: () => Promise.resolve(pool.listTunables()),
    info: (name) => op(BAD_USAGE, () => pool.tunable(name)),
    write: (name, value) => op(REFUSED, () => pool.sysctl(name, value)),
    reset: (name) => op(REFUSED, () => pool.resetTunable(name)),
    close: () => pool.close(),
  };
}

/** Why `text` cannot be written to `name` (it is not an integer), or undefined if it may go to the pool. */
export function valueProblem(name: string, text: string | undefined): string | undefined {
  if (text !== undefined && !(/^-?\d+$/.test(text) && Number.isSafeInteger(Number(text)))) {
    return `${name}=${text}: the value must be an integer`;
  }
  return undefined;
}
