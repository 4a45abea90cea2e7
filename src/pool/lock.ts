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
// The lock is also the writer side of the per-thread caches' big-reader lock
// (assembly/cache.ts): a shared pool's get, gethdr, getcl, free and freem (and
// a ring's retag) run in the core without this mutex, each raising its slot's
// `active` word while it runs. The holder stores its slot's id in the thread
// area's `writer` word once it has the mutex, then waits for every other slot's
// `active` word to fall (a fast path runs a few dozen instructions); a fast
// path that sees the writer answers EBUSY_WRITER, and its call waits for the
// writer word to fall (waitWriter) before it tries again or takes the mutex
// itself. A flag raised for a whole second is a thread that died inside its
// fast path (nothing else keeps a fast path from ending): the holder gives the
// lock back and throws ETIMEDOUT rather than wait forever, so the thread that
// asked returns to its event loop, where the Worker's "exit" comes and
// reapThread lowers the flag. Once out, the holder folds the threads' counters
// into the counters block (mb_fold): what it reads under the lock is exact.
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
import { THREADS } from "../core/layout.js";

/** Where the thread area of a pool whose lock words are at `lockAddr` starts: below them, on a 64-byte line. */
export const threadAreaAddr = (lockAddr: number): number => (lockAddr - THREADS.BYTES) & ~63;

/** The core's fast-path answer "take the lock and call again" (assembly/cache.ts ESLOW). */
export const ESLOW = -1100;
/** Its answer "another thread holds the lock" (EBUSY_WRITER): wait for it to leave (waitWriter), then call again. */
export const EBUSY_WRITER = -1101;
/** Reads of the writer word a fast call makes before it takes the lock itself. */
const WRITER_SPIN = 1000;

/** Bytes of the lock words. */
export const LOCK_BYTES = 32;
const STATE = 0, HOLDER = 1, NEXT_ID = 2, POOL_ID = 3;
/** Word indices of the waits across threads (waiting/wake.ts), in the lock words. */
export const WAKE_SEQ = 5, WAITERS = 6, RECV_WAITERS = 7;

/** The pools this thread has an instance over, by pool id. */
const attached = new Set<string>();
/** Reads of a held lock before sleeping. */
const SPIN = 2000;
/** Reads of a raised reader flag before napping, and how long the writer waits for it in all. */
const READER_SPIN = 100_000;
const READER_PATIENCE_MS = 1000;
/** A word nobody notifies: Atomics.wait on it is a nap. */
const napWord = new Int32Array(new SharedArrayBuffer(4));
/** Sleeps this thread for `ms` (a lock holder waiting on another thread that may be gone). */
export const nap = (ms: number): void => { Atomics.wait(napWord, 0, 0, ms); };

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

  /** The thread area's words (the header's writer, every slot's active and claimed). */
  private readonly t: Int32Array;
  /** Byte address of the thread area. */
  readonly areaAddr: number;
  /** This instance's slot in the thread area, -1 once released. */
  slot: number;
  /** This instance's id in the writer word: slot + 1. */
  private readonly writerId: number;
  /** Run on every first-level enter, once readers are out (the fold of the threads' counters). */
  onEnter: () => void = () => {};

  /**
   * The lock of the pool at `addr` (`create`: a new pool, whose id it draws), and a slot of
   * the thread area below it.
   * @throws MbufError ESTATE if this thread has an instance over the pool already, or every
   *   slot is taken.
   */
  constructor(buffer: SharedArrayBuffer, addr: number, create: boolean) {
    this.w = new Int32Array(buffer, addr, LOCK_BYTES / 4);
    if (create) this.w.set(getRandomValues(new Int32Array(2)), POOL_ID);
    this.key = `${this.w[POOL_ID]}:${this.w[POOL_ID + 1]}`;
    if (attached.has(this.key)) {
      throw new MbufError("ESTATE", "Pool.attach: this thread has a Pool over this shared pool already: use it (or close it first)");
    }
    this.areaAddr = threadAreaAddr(addr);
    this.t = new Int32Array(buffer, this.areaAddr, THREADS.BYTES / 4);
    this.slot = this.claimSlot();
    this.writerId = this.slot + 1;
    this.id = Atomics.add(this.w, NEXT_ID, 1) + 1;
  }

  /** The pool's id: the two random words drawn at creation (a view of the lock words). */
  get poolId(): Int32Array {
    return this.w.subarray(POOL_ID, POOL_ID + 2);
  }

  /** The address of the word counting every thread's waiters (for the core's fast free). */
  get waitersAddr(): number {
    return this.w.byteOffset + WAITERS * 4;
  }

  /** Index in `t` of word `field` of slot `s`. */
  private slotWord(s: number, field: number): number {
    return (THREADS.HEADER + s * THREADS.SLOT_BYTES + field) >> 2;
  }

  /**
   * Claims a free slot of the thread area and raises slotsHigh over it.
   * @throws MbufError ESTATE if every slot is taken (nothing is claimed).
   */
  private claimSlot(): number {
    const t = this.t;
    for (let s = 0; s < THREADS.SLOTS; s++) {
      if (Atomics.compareExchange(t, this.slotWord(s, THREADS.claimed), 0, 1) !== 0) continue;
      for (let h = Atomics.load(t, THREADS.slotsHigh >> 2); h < s + 1; h = Atomics.load(t, THREADS.slotsHigh >> 2)) {
        if (Atomics.compareExchange(t, THREADS.slotsHigh >> 2, h, s + 1) === h) break;
      }
      return s;
    }
    throw new MbufError("ESTATE", `a shared pool serves at most ${THREADS.SLOTS} threads at once: close a Pool of another thread first`);
  }

  /** The thread area's words, for the host's words of its header (THREADS.manualReserved). */
  get areaWords(): Int32Array {
    return this.t;
  }

  /** Word `field` (THREADS) of slot `s`, read atomically. */
  readSlot(s: number, field: number): number {
    return Atomics.load(this.t, this.slotWord(s, field));
  }

  /** Stores `value` in word `field` (THREADS) of slot `s`. */
  writeSlot(s: number, field: number, value: number): void {
    Atomics.store(this.t, this.slotWord(s, field), value);
  }

  /** 1 + the highest slot any thread has claimed. */
  get slotsHigh(): number {
    return Atomics.load(this.t, THREADS.slotsHigh >> 2);
  }

  /** Whether the lock is held now and `lockId` holds it (as far as the holder word says). */
  heldBy(lockId: number): boolean {
    return Atomics.load(this.w, STATE) !== 0 && Atomics.load(this.w, HOLDER) === lockId;
  }

  /** Records the instance in this thread's registry (once it is attached). */
  claim(): void {
    attached.add(this.key);
    this.claimed = true;
  }

  /** Takes it out of the registry and frees its slot (close, or a failed attach): the thread may attach again. */
  release(): void {
    if (this.claimed) attached.delete(this.key);
    this.claimed = false;
    if (this.slot >= 0) Atomics.store(this.t, this.slotWord(this.slot, THREADS.claimed), 0);
    this.slot = -1;
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
    try {
      this.excludeReaders();
      if (w[HOLDER] !== this.id) {
        this.switchIn();
        // Recorded once the instance is in step with memory: a failed switch is tried again next time.
        w[HOLDER] = this.id;
      }
      this.onEnter();
    } catch (e) {
      this.leave();
      throw e;
    }
  }

  /**
   * After a fast path met another thread's writer: waits, reading the writer word, for it to
   * leave. @returns true if it left within WRITER_SPIN reads (call the fast path again).
   */
  waitWriter(): boolean {
    const t = this.t, i = THREADS.writer >> 2;
    for (let k = 0; k < WRITER_SPIN; k++) if (Atomics.load(t, i) === 0) return true;
    return false;
  }

  /**
   * Names this instance the writer, then waits for every other slot's fast path to end.
   * @throws MbufError ETIMEDOUT if one has not ended after READER_PATIENCE_MS: its thread died
   *   inside it (enter() then leaves the lock as it found it).
   */
  private excludeReaders(): void {
    const t = this.t;
    Atomics.store(t, THREADS.writer >> 2, this.writerId);
    const high = Atomics.load(t, THREADS.slotsHigh >> 2);
    for (let s = 0; s < high; s++) {
      if (s === this.slot) continue;
      const a = this.slotWord(s, THREADS.active);
      // A fast path lasts a few dozen instructions: spin, then nap, then give up.
      for (let k = 0, since = 0; Atomics.load(t, a) !== 0; k++) {
        if (k < READER_SPIN) continue;
        if (since === 0) since = performance.now();
        else if (performance.now() - since > READER_PATIENCE_MS) {
          throw new MbufError("ETIMEDOUT", `the pool lock waited ${READER_PATIENCE_MS} ms for the fast path of thread ${this.readSlot(s, THREADS.threadId)} (slot ${s}) to end: ` +
            "that thread died inside it; once its Worker's \"exit\" has fired, pool.reapThread(worker.threadId) lowers its flag and the lock works again");
        }
        nap(1);
      }
    }
  }

  /** Releases one level; the last wakes a sleeper if there is one. */
  leave(): void {
    if (--this.depth !== 0) return;
    Atomics.store(this.t, THREADS.writer >> 2, 0);
    if (Atomics.sub(this.w, STATE, 1) !== 1) {
      Atomics.store(this.w, STATE, 0);
      Atomics.notify(this.w, STATE, 1);
    }
  }

  /** Runs `fn` holding the lock (a property, so it can be passed on as it is). */
  readonly run = <T>(fn: () => T): T => {
    this.enter();
    try {
      return fn();
    } finally {
      this.leave();
    }
  };

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
