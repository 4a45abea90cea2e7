// The threads of a shared pool, seen from any of them: who holds each slot of
// the thread area, what its caches hold and how many waiters it has
// (threads()); freeing what a set of owner tags still holds (freeOwned); and
// reaping the slot of a thread that is gone (reapThread): a worker that exited,
// crashed or was terminated without closing its Pool.
//
// What a gone thread leaves: its slot, still claimed (33 attaches would then
// fail with 32 threads alive); its stacks, which go back at the next empty
// zone, reclaim or audit anyway; its waiters, still counted, so every free
// wakes the other threads for them, and first in the order of the waiters, so
// later waiters of what they needed wait for them; its slot's `active` word,
// raised if it died inside a fast path, on which every lock holder's wait for
// the readers fails (ETIMEDOUT after a second); and the chains its code still
// held, stamped with its owner tags. A reap undoes the first four: it lowers
// the `active` word before it takes the lock, gives the stacks back, takes the
// thread's waiters out of the counts (its slot keeps a copy of what it added,
// waiting/wake.ts) and the order (waiting/order.ts), and frees the slot. The
// chains are the application's to name by owner tag (startWorkers' workers
// stamp a range of their own): freeOwned frees each free-standing chain whose
// head carries a tag of the set, and closes each socket whose socket mbuf does,
// which frees its buffers; a chain a socket buffer holds goes with its socket,
// whatever its tags.
//
// A thread that died holding the pool lock cannot be reaped: the memory may be
// mid-operation. reapThread says so (ESTATE) instead of waiting forever.
//
// A reap is only for a thread that is gone (the Worker's "exit" event has
// fired): lowering a live thread's `active` word would let the lock holder
// meet its fast path.

import { threadId as thisThreadId } from "node:worker_threads";
import { MbufError, describeValue, coreError } from "../errors.js";
import { checkOptions, optionKeys } from "../validate.js";
import { THREADS, H, M_LINKED } from "../core/layout.js";
import { MT } from "../constants.js";
import { PoolReports } from "./observe.js";
import { WAITERS, RECV_WAITERS, nap } from "./lock.js";


/** One thread of a shared pool. */
export interface ThreadInfo {
  /** Its slot of the thread area (0 to 31). */
  slot: number;
  /** Node's threadId of the thread (worker_threads.threadId; 0 for the main thread). */
  threadId: number;
  /** True for the thread that asked. */
  self: boolean;
  /** Free buffers on its stacks, counted as cache. */
  cache: { mbufs: number; clusters: number };
  /** Its waiting requests, and of them the receivers waiting for a cluster. */
  waiters: number;
  receivers: number;
}

/** What freeOwned freed. */
export interface FreedReport {
  /** Free-standing chains freed (m_freem). */
  chains: number;
  /** Sockets closed (soclose: both socket buffers and the PCB with them). */
  sockets: number;
  /** mbufs and clusters that went back to their zones. */
  mbufs: number;
  clusters: number;
}

/** What reapThread did. */
export interface ReapReport {
  threadId: number;
  slot: number;
  /** Buffers its stacks held, given back to the zones. */
  cache: number;
  /** Its waiters, taken out of the counts of every thread. */
  waiters: number;
  /** What freeOwned freed, if `owners` was given. */
  freed: FreedReport | null;
}

/** Which owner tags freeOwned frees: a predicate, or a range [from, to). */
export type OwnerSet = ((owner: number) => boolean) | { from: number; to: number };

export interface ReapOptions {
  /** Also free what these owner tags hold (freeOwned). */
  owners?: OwnerSet;
}
const REAP_KEYS = optionKeys<ReapOptions>({ owners: 1 });
const RANGE_KEYS = optionKeys<{ from: number; to: number }>({ from: 1, to: 1 });

/** How long a reap waits for a lock the gone thread seems to hold, in 1 ms naps. */
const HELD_NAPS = 200;

/** The owner set as a predicate. @throws MbufError EINVAL for anything else. */
function ownerTest(owners: unknown): (owner: number) => boolean {
  if (typeof owners === "function") return owners as (owner: number) => boolean;
  if (typeof owners === "object" && owners !== null) {
    checkOptions(owners, "owners", RANGE_KEYS);
    const { from, to } = owners as { from: unknown; to: unknown };
    const ok = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 2 ** 32;
    if (ok(from) && ok(to) && from <= to) return (o) => o >= from && o < to;
  }
  throw new MbufError("EINVAL", `owners is a predicate (owner) => boolean or a range { from, to } of owner tags (0 <= from <= to <= 2**32), got ${describeValue(owners)}`);
}

/** What a shared pool's depot holds (pool.depot()). */
export interface DepotInfo {
  mbufs: number;
  clusters: number;
}

export abstract class PoolThreads extends PoolReports {
  /**
   * Every thread that holds a slot of this shared pool, what its caches hold and its waiters.
   * @throws MbufError ESTATE on a pool that is not shared, ECLOSED.
   */
  threads(): ThreadInfo[] {
    const lock = this.sharedLock("threads");
    const out: ThreadInfo[] = [];
    for (let s = 0, high = lock.slotsHigh; s < high; s++) {
      if (lock.readSlot(s, THREADS.claimed) !== 1) continue;
      out.push({
        slot: s,
        threadId: lock.readSlot(s, THREADS.threadId),
        self: s === lock.slot,
        cache: { mbufs: lock.readSlot(s, THREADS.mcached), clusters: lock.readSlot(s, THREADS.ccached) },
        waiters: lock.readSlot(s, THREADS.waiters),
        receivers: lock.readSlot(s, THREADS.recvWaiters),
      });
    }
    return out;
  }

  /**
   * What the depot of this shared pool holds: the full buckets the threads' flushes gave up and
   * their next refills take (assembly/cache.ts). Cache, as the threads' stacks are: part of each
   * zone's free count, given back when a zone runs empty.
   * @throws MbufError ESTATE on a pool that is not shared, ECLOSED.
   */
  depot(): DepotInfo {
    const t = this.sharedLock("depot").areaWords, d = THREADS.DEPOT >> 2;
    return {
      mbufs: Atomics.load(t, d + (THREADS.depotMbufBuckets >> 2)) * THREADS.MBUF_BUCKET,
      clusters: Atomics.load(t, d + (THREADS.depotClusterBuckets >> 2)) * THREADS.CLUSTER_BUCKET,
    };
  }

  /**
   * Frees every free-standing chain whose head carries an owner tag of `owners`, and closes
   * every socket whose socket mbuf does (on any pool; on a shared one, whichever thread made
   * them). A chain a socket buffer holds goes with its socket.
   * @returns what went back. @throws MbufError EINVAL for a bad owner set, ECLOSED. If the
   *   predicate throws, what was freed before stays freed and the error propagates.
   */
  freeOwned(owners: OwnerSet): FreedReport {
    const test = ownerTest(owners);
    this.live();
    const u16 = new Uint16Array(this.memory.buffer);
    // Collected first, freed after: a free changes what the walk reads.
    const heads = this.outstanding({ perGroup: 0x7fffffff }).groups.flatMap((g) => (test(g.owner) ? g.mbufs : []))
      .filter((m) => m.head).map((m) => m.handle);
    const before = this.stats();
    const freed: FreedReport = { chains: 0, sockets: 0, mbufs: 0, clusters: 0 };
    for (const m of heads) {
      // A head freed with an earlier socket, or by a drain routine meanwhile, is gone: skip it.
      if (u16[(m + H.type) >>> 1] === MT.FREE) continue;
      if (u16[(m + H.type) >>> 1] === MT.SOCKET) {
        this.soclose(m);
        freed.sockets++;
      } else if ((u16[(m + H.flags) >>> 1] & M_LINKED) === 0) {
        this.freem(m);
        freed.chains++;
      }
    }
    const after = this.stats();
    freed.mbufs = before.mbufs.current - after.mbufs.current;
    freed.clusters = before.clusters.current - after.clusters.current;
    return freed;
  }

  /**
   * Reaps the slot of thread `threadId` (Node's threadId), which must be gone: gives its caches
   * back, takes its waiters out of the counts and frees its slot; with `owners`, frees what
   * those owner tags hold too (freeOwned).
   * @returns what it did. @throws MbufError ESTATE on an unshared pool, for this thread's own
   *   id (close() instead), or if the thread died holding the pool lock (nothing changed: the
   *   pool cannot be recovered); EINVAL for an id no slot holds or a bad option; ECLOSED.
   */
  reapThread(id: number, options: ReapOptions = {}): ReapReport {
    checkOptions(options, "reapThread options", REAP_KEYS);
    if (!Number.isInteger(id) || id < 0) throw new MbufError("EINVAL", `reapThread: a thread id is Node's worker.threadId (an integer >= 0), got ${describeValue(id)}`);
    const test = options.owners === undefined ? null : ownerTest(options.owners);
    // Not through sharedLock(): a method of a shared pool takes the lock, which would wait for
    // the reader flag a thread that died in a fast path left raised, and fail (ETIMEDOUT).
    this.live();
    const lock = this.lock;
    if (!lock) throw new MbufError("ESTATE", "reapThread: this pool is not shared (its one thread is this one)");
    if (id === thisThreadId) throw new MbufError("ESTATE", "reapThread: this is the calling thread: close() its Pool instead");
    let slot = -1;
    for (let s = 0, high = lock.slotsHigh; s < high && slot < 0; s++) {
      if (lock.readSlot(s, THREADS.claimed) === 1 && lock.readSlot(s, THREADS.threadId) === id) slot = s;
    }
    if (slot < 0) throw new MbufError("EINVAL", `reapThread: no thread ${id} holds a slot of this pool (it closed its Pool, or was reaped already)`);
    const lockId = lock.readSlot(slot, THREADS.lockId);
    for (let i = 0; i < HELD_NAPS && lock.heldBy(lockId); i++) nap(1);
    if (lock.heldBy(lockId)) {
      throw new MbufError("ESTATE", `reapThread: thread ${id} died holding the pool lock; the pool's state cannot be trusted (restart the service, and end workers by closing their pools)`);
    }
    lock.writeSlot(slot, THREADS.active, 0); // a thread that died inside a fast path left it raised
    lock.enter();
    let report: ReapReport;
    try {
      const waiters = lock.readSlot(slot, THREADS.waiters), receivers = lock.readSlot(slot, THREADS.recvWaiters);
      const moved = this.ex.mb_thread_reap(slot);
      if (moved < 0) throw coreError(moved, "reapThread");
      Atomics.sub(lock.words, WAITERS, waiters);
      Atomics.sub(lock.words, RECV_WAITERS, receivers);
      // Its waiters' keys go too, and the threads that let them go first look again.
      this.waits.forget(slot);
      // The automatic reservation flag follows the receivers still waiting.
      this.waits.resync();
      report = { threadId: id, slot, cache: moved, waiters, freed: null };
      if (test) report.freed = this.freeOwned(test);
    } finally {
      lock.leave();
    }
    return report;
  }

  /** The lock of a shared pool. @throws MbufError ESTATE if the pool is not shared, ECLOSED. */
  private sharedLock(call: string) {
    this.live();
    if (!this.lock) throw new MbufError("ESTATE", `${call}: this pool is not shared (its one thread is this one)`);
    return this.lock;
  }
}
