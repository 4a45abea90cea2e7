// The m_clalloc reservation flag (seed 003's avoidance fix).
//
// RTEMS's receive task set a global flag while it waited for a cluster, and
// m_clalloc then refused clusters to everyone else, so a sender could not
// take the cluster the receiver was waiting for. Here the flag lives in the
// core's counters block (G_RESV_FLAG, read by cluster_alloc in
// assembly/mbuf.ts: a refused request is counted in resvDenied); this module
// decides when it is up:
//
//   raised = manual || (auto && a receive-class request waits for a cluster)
//
// `manual` is Pool.setReserved(); `auto` is the tunable *mb_rcv_flag. The
// core is told only when `raised` changes, never on a closed pool.
//
// On a shared pool the flag is one for every thread (it lives in the core's
// memory), and so is `manual` (a word of the thread area's header): the queue
// passes whether a receiver waits in any thread, and the flag reads what the
// core holds, which another thread may have changed.

import type { PoolCore } from "../pool/context.js";
import { GL } from "../core/layout.js";

export class ReservationFlag {
  /** Set by hand (Pool.setReserved): this pool's own, or a shared pool's word (shareManual). */
  private own = false;
  private shared: { words: Int32Array; index: number } | null = null;
  /** Raised automatically while a receiver waits for a cluster (tunable *mb_rcv_flag). */
  auto = false;
  /** What the core holds now. */
  private up = false;

  constructor(private readonly pool: PoolCore) {}

  /** The flag as set by hand, in any thread of a shared pool. */
  get manual(): boolean {
    return this.shared ? Atomics.load(this.shared.words, this.shared.index) !== 0 : this.own;
  }

  set manual(on: boolean) {
    if (this.shared) Atomics.store(this.shared.words, this.shared.index, on ? 1 : 0);
    else this.own = on;
  }

  /** Keeps the hand-set flag in `words[index]`, one for every thread of a shared pool (written under its lock). */
  shareManual(words: Int32Array, index: number): void {
    this.shared = { words, index };
  }

  /** True while the core refuses clusters to every class but M_RECV. */
  get raised(): boolean {
    return this.up;
  }

  /**
   * Brings the core's flag in line with the rule, given whether a receiver waits for a
   * cluster. `shared`: other threads set the flag too (the caller holds the pool lock).
   */
  sync(receiverWaitsForCluster: boolean, shared = false): void {
    if (shared && !this.pool.isClosed) {
      const ex = this.pool.core;
      this.up = new Uint32Array(this.pool.buffer)[(ex.MB_STATS.value + ex.MB_GLOBAL.value + GL.resvFlag) >>> 2] !== 0;
    }
    const on = this.manual || (this.auto && receiverWaitsForCluster);
    if (on !== this.up && !this.pool.isClosed) {
      this.up = on;
      this.pool.core.mb_set_reserved(on ? 1 : 0);
    }
  }
}
