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
// Order: within a thread, the queue's (receive class first, then arrival).
// Across threads there is no global order: the freeing thread serves its own
// waiters before it returns, the others serve theirs when they next run, each
// taking what is there when it holds the lock.

import type { PoolLock } from "../pool/lock.js";
import { WAKE_SEQ, WAITERS, RECV_WAITERS } from "../pool/lock.js";
import { THREADS } from "../core/layout.js";

/** Atomics.waitAsync (every Node this package supports has it; the TypeScript lib in use does not name it). */
type WaitAsync = (a: Int32Array, index: number, value: number, timeout?: number) => { async: boolean; value: Promise<unknown> | string };
export const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** What the shared wake-up needs of a WaitQueue. */
export interface ShareableQueue {
  serve(fromFree?: boolean): void;
  share(wake: SharedWake): void;
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

  constructor(private readonly lock: PoolLock, private readonly onWake: () => void) {
    this.w = lock.words;
  }

  /**
   * Publishes this thread's waiters (`n`, of which `recv` are receivers waiting for a
   * cluster), and parks if there are any. `then` runs in the same hold of the lock, given
   * the receivers waiting for a cluster in every thread (the flag follows them).
   */
  publish(n: number, recv: number, then: (receivers: number) => void): void {
    const w = this.w;
    this.lock.enter();
    try {
      if (this.stopped) n = recv = 0;
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
    if (all > this.mine) {
      Atomics.add(w, WAKE_SEQ, 1);
      Atomics.notify(w, WAKE_SEQ);
    }
    return this.mine !== 0;
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
export function shareWaits(waits: ShareableQueue, lock: PoolLock): SharedWake {
  const serve = waits.serve.bind(waits);
  const locked = (fromFree?: boolean): void => {
    lock.enter();
    try {
      serve(fromFree);
    } finally {
      lock.leave();
    }
  };
  const wake = new SharedWake(lock, () => locked(true));
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
