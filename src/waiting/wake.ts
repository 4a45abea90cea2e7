// Waiting across the threads of a shared pool: a free in any thread serves a
// waiter in any other, with no timer in the loop.
//
// Each thread keeps its own WaitQueue (its promises, timers and order live in
// its own heap). What the threads share is three words next to the lock word
// (pool/lock.ts), outside every instance's data segments and the arena:
//
//   WAKE_SEQ      bumped (Atomics.add, then Atomics.notify) by a free in a
//                 thread when another thread has waiters
//   WAITERS       the waiters of every thread: a free reads it once, and does
//                 nothing more while it is 0
//   RECV_WAITERS  receivers waiting for a cluster, in every thread: what the
//                 automatic reservation flag follows on a shared pool
//
// A thread with waiters parks one Atomics.waitAsync on WAKE_SEQ; woken, it
// runs its queue's serve pass (as its own free would) and parks again. A
// pending waitAsync does not keep the process alive; the queue's own handle
// does that for the waiters that did not ask for `unref`.
//
// No wake-up is lost: a waiter's failed attempt, its count in WAITERS and the
// sequence it parks on are read in one hold of the pool lock, and a free
// reads WAITERS after its own hold. Either the free came first (the attempt
// saw its buffer) or it sees the waiter and bumps past the sequence parked
// on. A thread woken reads the sequence before serving, so a free during its
// pass wakes it again.
//
// Order: receive class first, then arrival, across every thread: each
// waiter holds a ticket, and a thread's serve pass lets an earlier waiter of
// another thread go first (order.ts).

import type { PoolLock } from "../pool/lock.js";
import { WAKE_SEQ, WAITERS, RECV_WAITERS } from "../pool/lock.js";
import { THREADS } from "../core/layout.js";
import { SharedOrder, KINDS } from "./order.js";

/** Atomics.waitAsync (every Node this package supports has it; the TypeScript lib in use does not name it). */
type WaitAsync = (a: Int32Array, index: number, value: number, timeout?: number) => { async: boolean; value: Promise<unknown> | string };
export const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** What the shared wake-up needs of a WaitQueue. */
export interface ShareableQueue {
  serve(fromFree?: boolean): void;
  share(wake: SharedWake): void;
}

/** What a thread publishes of its queue: its waiters and their earliest keys (order.ts). */
export interface QueueState {
  /** Waiters, and receivers among them waiting for a cluster. */
  waiters: number;
  receivers: number;
  /** The key of the earliest waiter of each kind (0: none). */
  keys: Float64Array;
  /** What its last pass deferred to: a bit per kind, a byte per slot. */
  deferred: Uint8Array;
  /** The kinds its last pass found lacking a zone (a bit each). */
  lacking: number;
}

export class SharedWake {
  private readonly w: Int32Array;
  /** What this thread has added to WAITERS and RECV_WAITERS. */
  private mine = 0;
  private mineRecv = 0;
  /** The wake sequence this thread's last serve pass saw. */
  private seen = 0;
  private parked = false;
  private stopped = false;

  private static readonly EMPTY: QueueState = {
    waiters: 0, receivers: 0, keys: new Float64Array(KINDS), deferred: new Uint8Array(THREADS.SLOTS), lacking: 0,
  };

  constructor(private readonly lock: PoolLock, private readonly order: SharedOrder, private readonly onWake: () => void) {
    this.w = lock.words;
    lock.enter();
    try {
      if (lock.slot >= 0) order.clear(lock.slot); // what a thread that was reaped may have left
    } finally {
      lock.leave();
    }
  }

  /** A ticket for a waiter queuing now (under the lock). */
  ticket(recv: boolean): number {
    return this.order.ticket(recv);
  }

  /** The earliest waiters of the other threads, for a serve pass (under the lock): (slot, kind, key) triples in `found`. */
  foreign(): number {
    return this.order.foreign(this.lock.slot, this.lock.slotsHigh);
  }

  /** Where foreign() puts what it found. */
  get found(): Float64Array {
    return this.order.found;
  }

  /**
   * Publishes this thread's queue, and parks if it has waiters. `then` runs in the same
   * hold of the lock, given the receivers waiting for a cluster in every thread (the flag
   * follows them). A kind that left or was found lacking wakes the threads that deferred to it.
   */
  publish(state: QueueState, then: (receivers: number) => void): void {
    const w = this.w;
    if (this.stopped) state = SharedWake.EMPTY;
    const n = state.waiters, recv = state.receivers;
    this.lock.enter();
    try {
      if (n !== this.mine) {
        if (this.mine === 0) this.seen = Atomics.load(w, WAKE_SEQ);
        Atomics.add(w, WAITERS, n - this.mine);
        this.mine = n;
      }
      if (recv !== this.mineRecv) {
        Atomics.add(w, RECV_WAITERS, recv - this.mineRecv);
        this.mineRecv = recv;
      }
      // The slot's copy: what a reaper takes back out of the counts if this thread dies.
      const slot = this.lock.slot;
      if (slot >= 0) {
        this.lock.writeSlot(slot, THREADS.waiters, n);
        this.lock.writeSlot(slot, THREADS.recvWaiters, recv);
        const changed = this.order.publish(slot, state.keys, state.deferred);
        if (this.order.deferredTo(slot, this.lock.slotsHigh, changed | state.lacking)) this.bump();
      }
      then(Atomics.load(w, RECV_WAITERS));
    } finally {
      this.lock.leave();
    }
    if (n !== 0) this.park();
  }

  /**
   * After this thread gave buffers back: wakes the other threads if they have waiters.
   * @returns true if this thread has waiters of its own to serve.
   */
  freed(): boolean {
    const w = this.w;
    const all = Atomics.load(w, WAITERS);
    if (all === 0) return false;
    if (all > this.mine) this.wakeAll();
    return this.mine !== 0;
  }

  /** Empties the order record of a gone thread's slot `s` (under the lock) and wakes every thread, which looks again. */
  forget(s: number): void {
    this.order.clear(s);
    this.wakeAll(); // this thread too: its own waiters may have deferred to the gone thread's
  }

  /** Bumps the wake sequence and wakes every thread parked on it. @returns the sequence before. */
  private wakeAll(): number {
    const before = Atomics.add(this.w, WAKE_SEQ, 1);
    Atomics.notify(this.w, WAKE_SEQ);
    return before;
  }

  /** Wakes the other threads; this one's own park does not wake for it (it just looked). */
  private bump(): void {
    if (this.wakeAll() === this.seen) this.seen = (this.seen + 1) | 0;
  }

  /** Stops parking (close); the caller publishes 0 waiters. A pending park is released. */
  stop(): void {
    this.stopped = true;
    if (this.parked) Atomics.notify(this.w, WAKE_SEQ);
  }

  private park(): void {
    if (this.parked || this.stopped || this.mine === 0) return;
    this.parked = true;
    const r = waitAsync(this.w, WAKE_SEQ, this.seen);
    if (r.async) void (r.value as Promise<unknown>).then(this.woken);
    else queueMicrotask(this.woken);
  }

  private readonly woken = (): void => {
    this.parked = false;
    if (this.stopped || this.mine === 0) return;
    this.seen = Atomics.load(this.w, WAKE_SEQ);
    try {
      this.onWake();
    } finally {
      this.park();
    }
  };
}

/**
 * Makes `waits` of a shared pool serve under `lock` and take part in the waits across
 * threads: every serve call (the free paths', grow's) first wakes the other threads'
 * waiters, and serves this thread's only if it has any; a wake-up serves as a free would.
 */
export function shareWaits(waits: ShareableQueue, lock: PoolLock, order: SharedOrder): SharedWake {
  const serve = waits.serve.bind(waits);
  const locked = (fromFree?: boolean): void => {
    lock.enter();
    try {
      serve(fromFree);
    } finally {
      lock.leave();
    }
  };
  const wake = new SharedWake(lock, order, () => locked(true));
  const words = lock.words;
  waits.serve = (fromFree?: boolean): void => {
    // The free path's whole cost while no thread waits: this one read. A plain read
    // (Atomics.load costs a sixth of a shared get+free pair here) is enough: a waiter's
    // count was added in an earlier hold of the lock, and this thread's taking of the
    // lock since orders that write before this read.
    if (words[WAITERS] !== 0 && wake.freed()) locked(fromFree);
  };
  waits.share(wake);
  return wake;
}
