// Drain routines inside an operation. An allocation that finds its zone
// empty calls the host's exhausted hook, which may run the protocol drain
// routines (mbuf.ts's alloc_failed); they may free anything, the very chain
// or socket an operation is working on included. So every operation that
// allocates before it is done with its arguments keeps one contract:
//
//   1. it notes the drain count and its handle's sequence number (M_SEQ,
//      stamped at allocation) before it allocates (drain_mark, mseq);
//   2. after its allocations, if a drain ran meanwhile (interrupted), it
//      gives back everything it took and changes nothing; it answers
//      EDOUBLEFREE if its handle no longer names the mbuf it was given (the
//      drain routine freed it, and may have allocated it again: the address
//      alone cannot tell), else RETRY;
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
// At either attempt, a handle freed meanwhile ends the operation with EDOUBLEFREE.
// A list being allocated is held meanwhile (chain.ts's alloc_list), so no
// drain routine can free it half-built.

import { EDOUBLEFREE } from "./constants";
import { G, G_DRAINS } from "./stats";
import { check_mbuf, chain_free } from "./mbuf";
import { mseq } from "./header";

/** An attempt's answer when a drain routine ran during its allocations: start again. Never returned by an export. */
// @ts-ignore: decorator
@inline export const RETRY: i32 = -2;

/** Drain calls so far: a change means a drain routine ran and may have changed any chain. */
// @ts-ignore: decorator
@inline export function drain_mark(): f64 { return load<f64>(G() + G_DRAINS); }

/**
 * What an attempt that noted `mark` and the sequence number `seq` of its
 * handle `h` before allocating must answer now that it has its buffers: 0 to
 * go on; if a drain ran, once it has given them back, RETRY while `h` is still
 * the mbuf it was, EDOUBLEFREE if that mbuf was freed (its address may even
 * have been handed out again: LIFO gives it back first, with a new `seq`).
 */
// @ts-ignore: decorator
@inline export function interrupted(mark: f64, h: usize, seq: u32): i32 {
  if (drain_mark() == mark) return 0;
  return same_mbuf(h, seq) ? RETRY : EDOUBLEFREE;
}

/**
 * interrupted() for an attempt that has taken chain `taken` (0: none): if a
 * drain ran, gives it back first, as the contract's step 2 asks; answers as
 * interrupted() does.
 */
// @ts-ignore: decorator
@inline export function interrupted_give_back(mark: f64, h: usize, seq: u32, taken: usize): i32 {
  let lost = interrupted(mark, h, seq);
  if (lost) chain_free(taken);
  return lost;
}

/** True if `h` is an mbuf in use stamped `seq` at its allocation: the one an operation was given. */
// @ts-ignore: decorator
@inline export function same_mbuf(h: usize, seq: u32): bool {
  return check_mbuf(h) == 0 && mseq(h) == seq;
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
