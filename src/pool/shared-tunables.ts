// The tunables of a shared pool, one set for every thread. Each thread's
// Pool keeps the values in force and the layout derived from them in JS (its
// reads and its next sysctl's rules start from them); the core's limits are
// in the shared memory already. So a write (sysctl, resetTunable,
// setReserve), made under the pool lock, applies itself to the core, then
// publishes the new values here and bumps the generation; every other thread
// takes the lock before it next reads or writes a tunable, and the lock's
// switchIn (which runs whenever the lock comes from another thread) sees the
// generation moved and reloads. A thread can therefore never plan a write
// from values another thread replaced, nor report a limit that is no longer
// in force.
//
// ╒═══════════ tunables area (TUNABLES_BYTES, below the thread area) ═══════════╕
// │ generation (i32) │ count (i32) │ values: f64[count], in sorted name order    │
// └──────────────────────────────────────────────────────────────────────────────┘
// Written and read only under the pool lock: the lock orders them.

import type { Values } from "../tunables/profiles.js";
import { threadAreaAddr } from "./lock.js";

/** Bytes of the tunables area: the two words, then up to 31 values (the largest profile has 15). */
export const TUNABLES_BYTES = 256;
const VALUES_OFF = 8, MAX_VALUES = (TUNABLES_BYTES - VALUES_OFF) / 8;

/** Where the tunables area of a pool whose lock words are at `lockAddr` starts: below the thread area. */
export const tunablesAddr = (lockAddr: number): number => threadAreaAddr(lockAddr) - TUNABLES_BYTES;

export class SharedTunables {
  private readonly words: Int32Array;
  private readonly slots: Float64Array;
  /** The names, in the order of the slots. */
  private readonly names: string[];
  /** The generation this thread's values are of. */
  private seen = 0;

  /** The area at `addr`, for values with the names of `values`. */
  constructor(buffer: SharedArrayBuffer, addr: number, values: Values) {
    this.names = Object.keys(values).sort();
    if (this.names.length > MAX_VALUES) throw new Error(`mbufpool: ${this.names.length} tunables do not fit the shared tunables area`);
    this.words = new Int32Array(buffer, addr, 2);
    this.slots = new Float64Array(buffer, addr + VALUES_OFF, this.names.length);
  }

  /** Writes `values` as the pool's and bumps the generation (the lock held). */
  publish(values: Values): void {
    this.names.forEach((n, i) => { this.slots[i] = values[n]; });
    this.words[1] = this.names.length;
    this.seen = Atomics.add(this.words, 0, 1) + 1;
  }

  /** The pool's values if another thread published since this thread last looked, else null (the lock held). */
  changed(): Values | null {
    const gen = Atomics.load(this.words, 0);
    if (gen === this.seen) return null;
    this.seen = gen;
    const v: Record<string, number> = {};
    this.names.forEach((n, i) => { v[n] = this.slots[i]; });
    return Object.freeze(v);
  }
}
