// The pool lock of a shared pool: one mutex in the shared memory, taken
// around every call a shared pool makes into the core and around every public
// method (4.4BSD's splimp: one lock for all the zones). Simplest sound design
// first: the counters, freelists, refcounts, the page table and the exchange
// areas all live in the one memory and every instance reads and writes them
// only while it holds this lock, so a double free or a bad handle from any
// thread is caught exactly as in one thread.
//
// ╒═══════════════════ lock words (Int32, LOCK_BYTES at lockAddr) ═══════════════════╕
// │ state: 0 free, 1 held, 2 held with waiters │ holder │ next id │ pool id (2 words) │
// │ wake sequence │ waiters, all threads │ receivers waiting for a cluster, all threads │
// └──────────────────────────────────────────────────────────────────────────────────┘
// The last three words belong to the waits across threads (waiting/wake.ts).
// A futex-style mutex (Drepper's "mutex 2"): an uncontended enter is one
// compareExchange and a leave one atomic subtract; under contention a thread
// spins reading the word (reads share its cache line, a failed exchange takes
// it) for a few microseconds, far longer than the lock is held, then sleeps
// in Atomics.wait and is woken by the leave.
// Node allows Atomics.wait on the main thread too (browsers do not): the lock
// is held for one synchronous call of microseconds, so sleeping on it costs
// the event loop no more than spinning would, and spares the core the other
// thread needs.
//
// The lock is recursive per instance (a drain routine or a listener the core
// runs re-enters the pool): `depth` is this thread's own count. `holder`
// names the instance that last held the lock; when it changes hands, the new
// holder runs `switchIn` first, which re-reads what its wasm instance caches
// of the shared state (the arena globals, mb_attach) and restores its own
// per-thread owner tag.
//
// A thread has at most one instance over a pool: two would each count their
// own depth, so a drain routine of one calling the other would wait on a lock
// its own thread holds. The random pool id, written at creation, names the
// pool in this thread's registry whichever Memory object carries it.

import { getRandomValues } from "node:crypto";
import { MbufError } from "../errors.js";

/** Bytes of the lock words. */
export const LOCK_BYTES = 32;
const STATE = 0, HOLDER = 1, NEXT_ID = 2, POOL_ID = 3;
/** Word indices of the waits across threads (waiting/wake.ts), in the lock words. */
export const WAKE_SEQ = 5, WAITERS = 6, RECV_WAITERS = 7;

/** The pools this thread has an instance over, by pool id. */
const attached = new Set<string>();
/** Reads of a held lock before sleeping. */
const SPIN = 2000;

export class PoolLock {
  private readonly w: Int32Array;
  /** The lock words, for the waits across threads (WAKE_SEQ, WAITERS, RECV_WAITERS). */
  get words(): Int32Array {
    return this.w;
  }
  /** This instance's id among the instances over the memory (1, 2, ...). */
  readonly id: number;
  private depth = 0;
  /** Run on taking the lock from another instance (set once the instance exists). */
  switchIn: () => void = () => {};

  /** This pool's name in the thread's registry. */
  private readonly key: string;
  private claimed = false;

  /**
   * The lock of the pool at `addr` (`create`: a new pool, whose id it draws).
   * @throws MbufError ESTATE if this thread has an instance over the pool already.
   */
  constructor(buffer: SharedArrayBuffer, addr: number, create: boolean) {
    this.w = new Int32Array(buffer, addr, LOCK_BYTES / 4);
    if (create) this.w.set(getRandomValues(new Int32Array(2)), POOL_ID);
    this.key = `${this.w[POOL_ID]}:${this.w[POOL_ID + 1]}`;
    if (attached.has(this.key)) {
      throw new MbufError("ESTATE", "Pool.attach: this thread has a Pool over this shared pool already: use it (or close it first)");
    }
    this.id = Atomics.add(this.w, NEXT_ID, 1) + 1;
  }

  /** Records the instance in this thread's registry (once it is attached). */
  claim(): void {
    attached.add(this.key);
    this.claimed = true;
  }

  /** Takes it out of the registry (close): the thread may attach again. */
  release(): void {
    if (this.claimed) attached.delete(this.key);
    this.claimed = false;
  }

  /** Takes the lock (again, if this instance holds it). */
  enter(): void {
    if (this.depth !== 0) {
      this.depth++;
      return;
    }
    const w = this.w;
    if (Atomics.compareExchange(w, STATE, 0, 1) !== 0) this.contend();
    this.depth = 1;
    if (w[HOLDER] !== this.id) {
      try {
        this.switchIn();
      } catch (e) {
        this.leave();
        throw e;
      }
      // Recorded once the instance is in step with memory: a failed switch is tried again next time.
      w[HOLDER] = this.id;
    }
  }

  /** Releases one level; the last wakes a sleeper if there is one. */
  leave(): void {
    if (--this.depth !== 0) return;
    if (Atomics.sub(this.w, STATE, 1) !== 1) {
      Atomics.store(this.w, STATE, 0);
      Atomics.notify(this.w, STATE, 1);
    }
  }

  /** The slow path of enter(): spin, then mark the lock contended and sleep until it is free. */
  private contend(): void {
    const w = this.w;
    for (let i = 0; i < SPIN; i++) {
      // Read until it looks free, then try: reads share the cache line, a failed exchange takes it.
      if (Atomics.load(w, STATE) === 0 && Atomics.compareExchange(w, STATE, 0, 1) === 0) return;
    }
    let c = Atomics.exchange(w, STATE, 2);
    while (c !== 0) {
      Atomics.wait(w, STATE, 2);
      c = Atomics.exchange(w, STATE, 2);
    }
  }
}
