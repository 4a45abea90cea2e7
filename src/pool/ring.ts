// Handing chains between the threads of a shared pool without a copy: a ring
// of handles in a SharedArrayBuffer, one producing thread and one consuming
// thread (DPDK's rte_ring in its single-producer, single-consumer mode).
//
// ╒═══════════════════ ring words (Int32Array, a 64-byte line each group) ═══════════════════╕
// │ line 0: head (next slot to pop, the consumer's) │ consumer (slot + 1 of its thread)       │
// │ line 1: tail (next slot to push, the producer's) │ producer │ sleeping (a consumer waits) │
// │ line 2: pool id (2 words, the pool the handles are of) │ capacity                          │
// ├────────────────────────────────────────────────────────────────────────────────────────────┤
// │ slots: i32[capacity], capacity a power of two; slot i holds handle number i mod capacity   │
// └────────────────────────────────────────────────────────────────────────────────────────────┘
// head and tail only grow (mod 2^32); tail - head is the count. The producer
// writes a slot, then stores tail (a sequentially consistent store: the slot's
// write is visible to whoever loads that tail); the consumer reads a slot
// after loading tail, then stores head, which frees the slot for the producer
// the same way. Head and tail sit on lines of their own, and each side keeps
// the other's index as last read, re-reading it only when the ring looks full
// (or empty): in a stream, a push or a pop is one atomic store. A consumer that waits raises `sleeping` and
// parks an Atomics.waitAsync on tail; a push that sees it raised notifies.
//
// A chain in the ring belongs to the ring: push checks that the handle is a
// head of this pool in use (not inside a chain or a socket buffer), and pop
// gives the chain to the popping thread, every mbuf retagged with that
// thread's owner tag (the leak detector then names the right owner). The
// roles are taken by the first push and the first pop: a second producing or
// consuming thread is refused, since one of each is what makes the ring
// correct without a lock.

import { MbufError, coreError, describeValue, checkInt } from "../errors.js";
import { checkOptions, optionKeys, checkBool } from "../validate.js";
import type { CoreExports } from "../core/exports.js";
import { waitAsync } from "../waiting/wake.js";

/** What `kind` a ring handle carries. */
export const RING_KIND = "mbufpool.ring";
/** The ring handle's format. */
export const RING_VERSION = 1;
/** Most slots a ring may have. */
export const RING_CAPACITY_MAX = 1 << 16;

const HEAD = 0, CONSUMER = 1, TAIL = 16, PRODUCER = 17, SLEEPING = 18, POOL_ID = 32, CAPACITY = 34;
/** Words before the slots: three 64-byte lines. */
const HEADER_WORDS = 48;

/** What openRing needs: a plain, structured-cloneable object (postMessage, workerData). */
export interface RingHandle {
  kind: typeof RING_KIND;
  version: number;
  /** The ring's words and slots. */
  buffer: SharedArrayBuffer;
}

const RING_HANDLE_KEYS = optionKeys<RingHandle>({ kind: 1, version: 1, buffer: 1 });

/** What a ring needs of the Pool of its thread. */
export interface RingPool {
  /** The pool's core calls (taking the pool lock). */
  readonly ex: CoreExports;
  /** This thread's id among the pool's threads (its lock slot + 1). */
  readonly threadId: number;
  /** The pool's id (the two words of the lock). */
  readonly poolId: Int32Array;
  /** This thread's owner tag. */
  readonly owner: number;
  /** Throws ECLOSED once the pool is closed. */
  live(): void;
}

export class HandleRing {
  private readonly w: Int32Array;
  private readonly mask: number;
  /** Slots a ring holds. */
  readonly capacity: number;
  /** The roles this thread took: taken once, so a push or pop writes no shared word but its own. */
  private producing = false;
  private consuming = false;
  /**
   * The other side's index as last read (FastForward's cached indices): the producer re-reads
   * head only when the ring looks full, the consumer re-reads tail only when it looks empty,
   * so a push or pop in a stream makes one atomic store and reads no line the other writes.
   */
  private headSeen = 0;
  private tailSeen = 0;

  private constructor(private readonly pool: RingPool, readonly buffer: SharedArrayBuffer) {
    this.w = new Int32Array(buffer);
    this.capacity = this.w[CAPACITY];
    this.mask = this.capacity - 1;
  }

  /**
   * A new ring of `capacity` slots for the handles of `pool`.
   * @throws MbufError EINVAL for a capacity that is not a power of two from 2 to 65536.
   */
  static create(pool: RingPool, capacity: number): HandleRing {
    checkInt(capacity, "ring capacity", 2, RING_CAPACITY_MAX);
    if ((capacity & (capacity - 1)) !== 0) throw new MbufError("EINVAL", `ring capacity must be a power of two, got ${capacity}`);
    const buffer = new SharedArrayBuffer((HEADER_WORDS + capacity) * 4);
    const w = new Int32Array(buffer);
    w.set(pool.poolId, POOL_ID);
    w[CAPACITY] = capacity;
    return new HandleRing(pool, buffer);
  }

  /**
   * The ring `handle` names, in the thread of `pool`.
   * @throws MbufError EINVAL for anything but a ring handle of this version made for this pool.
   */
  static open(pool: RingPool, handle: unknown): HandleRing {
    if (typeof handle !== "object" || handle === null || Array.isArray(handle)) {
      throw new MbufError("EINVAL", `openRing needs the object ring.shareHandle() returned, got ${describeValue(handle)}`);
    }
    const h = handle as Record<string, unknown>;
    if (h.kind !== RING_KIND) throw new MbufError("EINVAL", `openRing: not a ring handle (kind ${describeValue(h.kind)}, want "${RING_KIND}")`);
    checkOptions(handle, "ring handle", RING_HANDLE_KEYS);
    if (h.version !== RING_VERSION) throw new MbufError("EINVAL", `openRing: a ring handle of version ${describeValue(h.version)}; this mbufpool opens version ${RING_VERSION}`);
    const b = h.buffer;
    if (!(b instanceof SharedArrayBuffer) || b.byteLength < (HEADER_WORDS + 2) * 4) {
      throw new MbufError("EINVAL", `openRing: buffer must be the ring's SharedArrayBuffer, got ${describeValue(b)}`);
    }
    const w = new Int32Array(b);
    const cap = w[CAPACITY];
    if (cap < 2 || cap > RING_CAPACITY_MAX || (cap & (cap - 1)) !== 0 || b.byteLength !== (HEADER_WORDS + cap) * 4) {
      throw new MbufError("EINVAL", "openRing: the buffer is not laid out as a ring");
    }
    if (w[POOL_ID] !== pool.poolId[0] || w[POOL_ID + 1] !== pool.poolId[1]) {
      throw new MbufError("EINVAL", "openRing: the ring was made for another pool (open it on a Pool over the pool that made it)");
    }
    return new HandleRing(pool, b);
  }

  /** What another thread of the pool opens the ring with (pool.openRing). */
  shareHandle(): RingHandle {
    return { kind: RING_KIND, version: RING_VERSION, buffer: this.buffer };
  }

  /** Handles in the ring now (a snapshot: the other side may be moving). */
  get size(): number {
    return (Atomics.load(this.w, TAIL) - Atomics.load(this.w, HEAD)) >>> 0;
  }

  /**
   * Puts the chain headed by `m` in the ring: it is the consumer's from now on.
   * @returns true, or false if the ring is full (nothing changed: try again once the consumer popped).
   * @throws MbufError EBADHANDLE/EDOUBLEFREE for a bad handle, EBUSY for an mbuf inside a
   *   chain or socket buffer, ESTATE if another thread produces into this ring, ECLOSED.
   *   Nothing is put in the ring then.
   */
  push(m: number): boolean {
    const w = this.w, p = this.pool;
    p.live();
    if (!this.producing) this.producing = this.role(PRODUCER, "pushes into");
    const t = w[TAIL];
    if (((t - this.headSeen) >>> 0) >= this.capacity) {
      this.headSeen = Atomics.load(w, HEAD);
      if (((t - this.headSeen) >>> 0) >= this.capacity) return false;
    }
    if ((m | 0) !== m) throw new MbufError("EBADHANDLE", `ring.push: not a handle: ${describeValue(m)}`);
    const r = p.ex.m_setowner_chain(m, p.owner);
    if (r < 0) throw coreError(r, "ring.push", m);
    w[HEADER_WORDS + (t & this.mask)] = m;
    Atomics.store(w, TAIL, (t + 1) | 0);
    if (Atomics.load(w, SLEEPING) !== 0) Atomics.notify(w, TAIL);
    return true;
  }

  /**
   * Takes the oldest chain out of the ring; it is this thread's, retagged with its owner tag.
   * @returns its head, or 0 if the ring is empty.
   * @throws MbufError ESTATE if another thread consumes from this ring, ECLOSED.
   */
  pop(): number {
    const w = this.w, p = this.pool;
    p.live();
    if (!this.consuming) this.consuming = this.role(CONSUMER, "pops from");
    const h = w[HEAD];
    if (h === this.tailSeen) {
      this.tailSeen = Atomics.load(w, TAIL);
      if (h === this.tailSeen) return 0;
    }
    const m = w[HEADER_WORDS + (h & this.mask)];
    Atomics.store(w, HEAD, (h + 1) | 0);
    p.ex.m_setowner_chain(m, p.owner);
    return m;
  }

  /**
   * pop(), waiting until a chain arrives: woken by the push, no timer in the loop. As a
   * waiting allocation, a pending popWait keeps the process alive unless `unref` is set.
   * @param options.timeout milliseconds to wait at most (default: no limit).
   * @param options.unref let the process exit while this waits (a daemon's consumer).
   * @returns its head.
   * @throws MbufError ETIMEDOUT once the timeout passed (nothing taken), EINVAL for a bad
   *   option, ESTATE, ECLOSED as pop().
   */
  async popWait(options: PopWaitOptions = {}): Promise<number> {
    checkOptions(options, "popWait options", POP_WAIT_KEYS);
    const timeout = options.timeout ?? Infinity;
    if (timeout !== Infinity) checkInt(timeout, "popWait timeout", 0, 2 ** 31 - 1);
    if (options.unref !== undefined) checkBool(options.unref, "popWait unref");
    const deadline = performance.now() + timeout;
    const w = this.w;
    for (;;) {
      const m = this.pop();
      if (m) return m;
      const t = Atomics.load(w, TAIL);
      Atomics.store(w, SLEEPING, 1);
      // A pending Atomics.waitAsync neither keeps Node's event loop alive nor, once nothing
      // else does, ends at its timeout: the deadline is a timer of ours (unref'd if asked).
      let deadlineTimer: ReturnType<typeof setTimeout> | undefined;
      try {
        if (Atomics.load(w, HEAD) !== t) continue; // a push came in between
        const left = deadline - performance.now();
        if (left <= 0) throw new MbufError("ETIMEDOUT", `ring.popWait: nothing arrived in ${timeout} ms`);
        const r = waitAsync(w, TAIL, t, left === Infinity ? undefined : left);
        if (r.async) {
          await Promise.race([r.value, new Promise<void>((resolve) => {
            deadlineTimer = setTimeout(resolve, Math.min(left, 2 ** 31 - 1));
            if (options.unref) deadlineTimer.unref();
          })]);
        }
      } finally {
        clearTimeout(deadlineTimer);
        Atomics.store(w, SLEEPING, 0);
      }
    }
  }

  /** Takes the role `word` (PRODUCER or CONSUMER) for this thread, or throws ESTATE if another thread has it. */
  private role(word: number, what: string): true {
    const id = this.pool.threadId;
    const had = Atomics.compareExchange(this.w, word, 0, id);
    if (had !== 0 && had !== id) {
      throw new MbufError("ESTATE", `ring: another thread ${what} this ring (a ring has one producing and one consuming thread: make one ring per pair)`);
    }
    return true;
  }
}

/** What ring.popWait takes. */
export interface PopWaitOptions {
  timeout?: number;
  unref?: boolean;
}

const POP_WAIT_KEYS = optionKeys<PopWaitOptions>({ timeout: 1, unref: 1 });
