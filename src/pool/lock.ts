// The pool lock of a shared pool: one mutex in the shared memory, taken
// around every call a shared pool makes into the core and around every public
// method (4.4BSD's splimp: one lock for all the zones). Simplest sound design
// first: the counters, freelists, refcounts, the page table and the exchange
// areas all live in the one memory and every instance reads and writes them
// only while it holds this lock, so a double free or a bad handle from any
// thread is caught exactly as in one thread.
//
// ╒═════════════ lock words (Int32, LOCK_BYTES at lockAddr) ═════════════╕
// │ state: 0 free, 1 held, 2 held with waiters │ holder │ next id │ spare │
// └───────────────────────────────────────────────────────────────────────┘
// A futex-style mutex (Drepper's "mutex 2"): an uncontended enter is one
// compareExchange and a leave one atomic subtract; under contention a thread
// spins a little, then sleeps in Atomics.wait and is woken by the leave.
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

/** Bytes of the lock words. */
export const LOCK_BYTES = 16;
const STATE = 0, HOLDER = 1, NEXT_ID = 2;
/** compareExchange attempts before sleeping. */
const SPIN = 100;

export class PoolLock {
  private readonly w: Int32Array;
  /** This instance's id among the instances over the memory (1, 2, ...). */
  readonly id: number;
  private depth = 0;
  /** Run on taking the lock from another instance (set once the instance exists). */
  switchIn: () => void = () => {};

  constructor(buffer: SharedArrayBuffer, addr: number) {
    this.w = new Int32Array(buffer, addr, LOCK_BYTES / 4);
    this.id = Atomics.add(this.w, NEXT_ID, 1) + 1;
  }

  /** True while this instance holds the lock. */
  get held(): boolean {
    return this.depth !== 0;
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
      w[HOLDER] = this.id;
      try {
        this.switchIn();
      } catch (e) {
        this.leave();
        throw e;
      }
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
      if (Atomics.compareExchange(w, STATE, 0, 1) === 0) return;
    }
    let c = Atomics.exchange(w, STATE, 2);
    while (c !== 0) {
      Atomics.wait(w, STATE, 2);
      c = Atomics.exchange(w, STATE, 2);
    }
  }
}
