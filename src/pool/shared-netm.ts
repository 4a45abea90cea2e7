// netm on a shared pool. Its work is the pool's (the free counts it reads
// and the zones it grows are in the shared memory), so any thread may run a
// tick, under the pool lock; its books must be the pool's too, or each
// thread's stats().netm would count only its own ticks. They live here, with
// the settings the creating thread chose, which the attached threads follow.
//
// One thread keeps the period: the one that created the pool (as the AIX
// kernel ran one netm process for every CPU). Every thread's failed
// allocations kick a tick on its own clock, so a worker short of buffers does
// not wait for the creator's next period. netm lives as long as the creating
// thread's pool: its close() clears `enabled`, and the other threads' kicks
// and ticks do nothing from then on.
//
// ╒══════════════════ netm area (NETM_AREA_BYTES, below the order area) ═══════════════════╕
// │ enabled │ last │ interval │ dispatch │ marks: 0 aix tunables, 1 fixed │ lowmbuf │ lowclust │ hiwat │
// ├──────────────────────────────────────────────────────────────────────────────────────────┤
// │ counters, Float64: ticks runs growths shrinks reversals blocked mbufsAdded clustersAdded  │
// │ pagesReleased                                                                             │
// └──────────────────────────────────────────────────────────────────────────────────────────┘
// A zeroed area is a pool without netm. Written under the pool lock, except `enabled`
// (an atomic store: a closing creator clears it whoever holds the lock).

import { NETM_COUNTERS, NETM_ENABLED, NETM_LAST, type NetmBook, type NetmSettings } from "../netm.js";
import { orderAreaAddr } from "../waiting/order.js";

const STATE_WORDS = 8, INTERVAL = 2, DISPATCH = 3, FIXED = 4, LOWMBUF = 5, LOWCLUST = 6, HIWAT = 7;
const COUNTERS_OFF = STATE_WORDS * 4; // a multiple of 8: the Float64 counters follow the words
/** Bytes of the netm area: two lines. */
export const NETM_AREA_BYTES = 128; // >= COUNTERS_OFF + NETM_COUNTERS.length * 8
/** Where the netm area of a pool whose lock words are at `lockAddr` starts: below the order area. */
export const netmAreaAddr = (lockAddr: number): number => orderAreaAddr(lockAddr) - NETM_AREA_BYTES;
/** mb_cl_hiwat "never" (Infinity) in the HIWAT word. */
const NO_HIWAT = -1;

export class SharedNetmArea {
  private readonly words: Int32Array;
  /** The books every thread's Netm keeps. */
  readonly book: NetmBook;

  /** The area at `addr` of a shared pool's memory. */
  constructor(buffer: SharedArrayBuffer, addr: number) {
    this.words = new Int32Array(buffer, addr, STATE_WORDS);
    this.book = { state: this.words, counters: new Float64Array(buffer, addr + COUNTERS_OFF, NETM_COUNTERS.length) };
  }

  /** Writes the creating thread's settings, with zeroed counters, and turns netm on. */
  publish(s: NetmSettings): void {
    const w = this.words;
    w[INTERVAL] = s.intervalMs;
    w[DISPATCH] = s.dispatchMs;
    w[FIXED] = s.marks ? 1 : 0;
    w[LOWMBUF] = s.marks?.lowmbuf ?? 0;
    w[LOWCLUST] = s.marks?.lowclust ?? 0;
    w[HIWAT] = s.marks === undefined || s.marks.hiwat === Infinity ? NO_HIWAT : s.marks.hiwat;
    w[NETM_LAST] = 0;
    this.book.counters.fill(0);
    Atomics.store(w, NETM_ENABLED, 1);
  }

  /** The settings in force, or undefined if netm does not manage the pool (never on, or its creator closed). */
  settings(): NetmSettings | undefined {
    const w = this.words;
    if (Atomics.load(w, NETM_ENABLED) !== 1) return undefined;
    return {
      intervalMs: w[INTERVAL], dispatchMs: w[DISPATCH],
      marks: w[FIXED] ? { lowmbuf: w[LOWMBUF], lowclust: w[LOWCLUST], hiwat: w[HIWAT] === NO_HIWAT ? Infinity : w[HIWAT] } : undefined,
    };
  }
}
