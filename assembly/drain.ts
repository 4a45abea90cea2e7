// Drain routines inside an operation. An allocation that finds its zone
// empty calls the host's exhausted hook, which may run the protocol drain
// routines (mbuf.ts's alloc_failed); they may free anything, the very chain
// or socket an operation is working on included. So every operation that
// allocates before it is done with its arguments keeps one contract:
//
//   1. it notes the drain count before it allocates (drain_mark);
//   2. after its allocations, if a drain ran meanwhile (interrupted), it
//      gives back everything it took, changes nothing, and answers RETRY;
//   3. its export runs it again from the validation of its arguments, once
//      (retried): a second drain fails it as exhausted (0, as the kernel's
//      NULL).
//
// ╒════════════════════ an operation: at most two attempts ════════════════════╕
// │ attempt 1: validate → mark → allocate → drain ran? no → change, answer       │
// │                                                    yes → give back, RETRY ─┐ │
// │ attempt 2: validate → mark → allocate → drain ran? no → change, answer ◄───┘ │
// │                                                    yes → give back, 0        │
// └─────────────────────────────────────────────────────────────────────────────┘
// A list being allocated is held meanwhile (chain.ts's alloc_list), so no
// drain routine can free it half-built.

import { G, G_DRAINS } from "./stats";

/** An attempt's answer when a drain routine ran during its allocations: start again. Never returned by an export. */
// @ts-ignore: decorator
@inline export const RETRY: i32 = -2;

/** Drain calls so far: a change means a drain routine ran and may have changed any chain. */
// @ts-ignore: decorator
@inline export function drain_mark(): f64 { return load<f64>(G() + G_DRAINS); }

/**
 * What an attempt that noted `mark` before allocating must answer now that
 * it has its buffers: 0 to go on, or (a drain ran) RETRY once it has given
 * them back.
 */
// @ts-ignore: decorator
@inline export function interrupted(mark: f64): i32 {
  return drain_mark() != mark ? RETRY : 0;
}

/**
 * The answer of an operation's second attempt, run only after its first
 * answered RETRY: a second drain fails it as exhausted. Every export that
 * allocates reads `let r = x_once(a); return r != RETRY ? r : retried(x_once(a));`.
 */
// @ts-ignore: decorator
@inline export function retried(second: i32): i32 {
  return second == RETRY ? 0 : second;
}
