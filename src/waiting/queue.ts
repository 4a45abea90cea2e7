// Waiting allocation (M_WAITOK) and the m_clalloc reservation flag (seed 003).
//
// A waiting request first tries the core at once (with M_WAITOK, so a
// failure is counted as delayed and runs the profile's drain rule). If that
// fails it joins one of two FIFO queues: the receive class (M_RECV) and
// everyone else. Waiters are served receive class first, then in arrival
// order; a waiter that lacks a zone blocks later waiters for that zone only.
// Before calling the core for a waiter, the queue checks in the counters
// block that the allocation can succeed, so serving never inflates the
// denied/delayed counters. A waiter that times out is rejected with
// ETIMEDOUT and counted as denied (mb_wait_failed).
//
// Wake-up follows the profile: `handoff` serves the queues right after every
// free (the freed buffer goes straight to the first waiter; the free path
// pays one number test when nobody waits); `poll` retries the queues on a
// tick, as RTEMS's m_clalloc loop did, so a caller that does not wait can
// take a freed cluster first -- seed 001's starvation.
//
// A waiter for a jumbo cluster (getjclWait) waits on its jumbo zone alone:
// it blocks later jumbo waiters of that size, not cluster or mbuf waiters,
// and it is no receiver waiting for a cluster (the reservation guards the
// cluster zone only).
//
// A waiter keeps the process alive, as a pending read does: while one waits
// (and did not ask for `unref`, as a daemon's background waits do) the queue
// holds a ref'd handle, so a script that awaits a buffer on an exhausted
// pool sees the promise settle instead of exiting with it pending. The
// handle is one interval timer that never fires in practice, made when the
// first such waiter queues and cleared when the last leaves; it is not a
// retry (the free serves the waiters).
//
// The queue tells the reservation flag (reservation.ts) whether a receiver
// waits for a cluster; while the flag is up, a freed cluster is handed to the
// receiver at once, on every profile.
//
// On a shared pool each thread keeps its own queue and takes part in the
// waits across threads (wake.ts): a free in any thread wakes the threads
// with waiters, the flag follows the receivers of every thread, and each
// waiter holds a ticket, so a serve pass lets an earlier waiter of another
// thread go first (order.ts): one order for every thread's waiters.

import type { PoolCore } from "../pool/context.js";
import { ReservationFlag } from "./reservation.js";
import type { SharedWake, QueueState } from "./wake.js";
import {
  KINDS, KIND_NEEDS, KIND_MBUF, KIND_PACKET, KIND_CLUSTER, KIND_JUMBO, RECV_SPAN, NEED_MBUF, NEED_CLUSTER, jumboZoneOfNeeds,
} from "./order.js";
import { THREADS } from "../core/layout.js";
import type { Clock } from "../clock.js";
import { MbufError, coreError } from "../errors.js";
import type { WaitStats } from "../stats/snapshot.js";
import { optionKeys, checkOptions } from "../validate.js";
import { Z, GL, H } from "../core/layout.js";
import {
  M_NOWAIT, M_WAITOK, M_RECV, ZONE_MBUF, ZONE_CLUSTER, ZONE_PACKET, ZONE_JUMBOP, MJUMPAGESIZE, MJUM9BYTES,
} from "../constants.js";

/** What a waiter asked for. */
export const WaitKind = { Get: 0, GetHdr: 1, GetCl: 2, ClGet: 3, GetJcl: 4 } as const;
type Kind = (typeof WaitKind)[keyof typeof WaitKind];
const { Get, GetHdr, GetCl, ClGet, GetJcl } = WaitKind;
const CALL = ["getWait", "gethdrWait", "getclWait", "clgetWait", "getjclWait"] as const;

/** The jumbo zone of a jumbo size (the caller checked the size against the profile). */
export function jumboZoneOf(size: number): number {
  return ZONE_JUMBOP + (size === MJUMPAGESIZE ? 0 : size === MJUM9BYTES ? 1 : 2);
}
const JUMBO_NAMES = ["page-size jumbo cluster", "9k jumbo cluster", "16k jumbo cluster"] as const;
/** What the queue needs of the pool beyond its core view: hooks the pool keeps private. */
export interface WaitHooks {
  /** True while the core is inside an operation (its exhausted hook runs user code). */
  inOperation(): boolean;
  /** Tells the free path how many waiters it must serve (0: it does nothing more). */
  waitersChanged(n: number): void;
  /** Delivers a console message of the modelled system. */
  message(zone: "mbuf" | "cluster", text: string): void;
}

/** Options of a waiting request. */
export interface WaitOptions {
  /** Milliseconds to wait before rejecting with ETIMEDOUT (the pool's waitTimeoutMs by default; Infinity waits forever). */
  timeout?: number;
  /** Do not keep the process alive while waiting (false: a waiter keeps it alive, as a pending read does). */
  unref?: boolean;
}

interface Waiter {
  kind: Kind;
  how: number;
  type: number;
  flags: number;
  m: number;
  /** For clget: the mbuf's allocation sequence number, to notice it was freed (and maybe reused) meanwhile. */
  seq: number;
  /** The zones it needs (order.ts NEED_*), and its kind of need (order.ts KIND_*). */
  needs: number;
  need: number;
  size: number;
  recv: boolean;
  resolve: (h: number) => void;
  reject: (e: Error) => void;
  timer: number;
  msgTimer: number;
  /** True if this waiter keeps the process alive. */
  ref: boolean;
  /** On a shared pool, its place in the order of every thread's waiters (order.ts). */
  key: number;
}

/** Every key WaitOptions has. */
const WAIT_OPTION_KEYS = optionKeys<WaitOptions>({ timeout: 1, unref: 1 });

export class WaitQueue {
  private readonly recvQ: Waiter[] = [];
  private readonly otherQ: Waiter[] = [];
  private readonly flag: ReservationFlag;
  private pollTimer = 0;
  private deferred = 0;
  /** Waiters that keep the process alive, and the handle that does it while there are any. */
  private refs = 0;
  private alive: ReturnType<typeof setInterval> | null = null;
  private readonly s = { waited: 0, served: 0, timedOut: 0 };
  /** A view of the pool's memory for the availability checks (u32()). */
  private view: Uint32Array | null = null;
  /** On a shared pool, the waits across threads (wake.ts), and what this thread publishes there. */
  private wake: SharedWake | null = null;
  /** Waiters of each kind, and receivers waiting for a cluster: kept as they come and go. */
  private readonly kinds = new Int32Array(KINDS);
  private recvClusters = 0;
  private readonly state: QueueState = {
    waiters: 0, receivers: 0, keys: new Float64Array(KINDS), deferred: new Uint8Array(THREADS.SLOTS), lacking: 0,
  };

  constructor(
    private readonly pool: PoolCore,
    private readonly hooks: WaitHooks,
    private readonly clock: Clock,
    private readonly mode: "handoff" | "poll",
    private readonly pollMs: number,
    private readonly defaultTimeout: number,
  ) {
    this.flag = new ReservationFlag(pool);
  }

  /** Requests waiting now, in this thread (what stats().waits.waiting reports, without a snapshot). */
  get waiting(): number {
    return this.recvQ.length + this.otherQ.length;
  }

  /** Counters, for stats(). */
  get stats(): WaitStats {
    return {
      waiting: this.waiting, receiveWaiting: this.recvQ.length,
      waited: this.s.waited, served: this.s.served, timedOut: this.s.timedOut, autoFlag: this.flag.auto,
    };
  }

  /** Joins the waits across the threads of a shared pool (wake.ts's shareWaits). */
  share(wake: SharedWake): void {
    this.wake = wake;
  }

  /** Enables or disables the automatic reservation flag. */
  setAuto(on: boolean): void {
    this.flag.auto = on;
    this.changed();
  }

  /** Makes the hand-set flag a shared pool's word (`words[index]`), one for every thread. */
  shareManual(words: Int32Array, index: number): void {
    this.flag.shareManual(words, index);
  }

  /** The flag as the user sets it by hand (Pool.setReserved); the core flag is this or the automatic one. */
  setManual(on: boolean): void {
    this.flag.manual = on;
    this.changed();
  }

  /**
   * A waiting request: tries at once, else queues.
   * @returns a promise of the handle (for clget, the mbuf `m`).
   */
  request(kind: Kind, how: number, type: number, flags: number, m: number, options: WaitOptions, size = 0): Promise<number> {
    const call = CALL[kind];
    // An i32 only: 2**32 + M_WAITOK would pass the mask after ToInt32.
    if (typeof how !== "number" || (how | 0) !== how || (how & ~(M_NOWAIT | M_WAITOK | M_RECV)) !== 0) {
      return Promise.reject(new MbufError("EINVAL", `${call}: how must be M_WAITOK (or M_NOWAIT), optionally | M_RECV, got ${String(how)}`));
    }
    try {
      if (options === undefined || options === null) throw new MbufError("EINVAL", `${call} options must be an object, got ${String(options)}`);
      checkOptions(options, `${call} options`, WAIT_OPTION_KEYS);
    } catch (e) {
      return Promise.reject(e);
    }
    const timeout = options.timeout ?? this.defaultTimeout;
    if (typeof timeout !== "number" || !(timeout >= 0)) {
      return Promise.reject(new MbufError("EINVAL", `${call}: timeout must be a number of milliseconds >= 0 or Infinity`));
    }
    if (options.unref !== undefined && typeof options.unref !== "boolean") {
      return Promise.reject(new MbufError("EINVAL", `${call}: unref must be true or false, got ${String(options.unref)}`));
    }
    const need = kind === GetJcl ? KIND_JUMBO + jumboZoneOf(size) - ZONE_JUMBOP : kind === GetCl ? KIND_PACKET : kind === ClGet ? KIND_CLUSTER : KIND_MBUF;
    const w: Waiter = {
      kind, how: (how & M_RECV) | M_WAITOK, type, flags, m, seq: 0, needs: KIND_NEEDS[need], need, size,
      recv: (how & M_RECV) !== 0,
      resolve: () => {}, reject: () => {}, timer: 0, msgTimer: 0, ref: false,
      // Until it queues, a key after every waiter of its class: a receiver goes before the others.
      key: how & M_RECV ? RECV_SPAN : Infinity,
    };
    let first = 0;
    try {
      // Handoff: a buffer another thread's earlier waiter can take now is that waiter's.
      if (!(this.wake && this.mode === "handoff" && this.defers(w, this.wake.foreign()))) first = this.attempt(w);
    } catch (e) {
      return Promise.reject(e);
    }
    if (first > 0) return Promise.resolve(first);
    if (kind === ClGet) w.seq = this.seqOf(m);
    return new Promise<number>((resolve, reject) => {
      w.resolve = resolve;
      w.reject = reject;
      if (this.wake) w.key = this.wake.ticket(w.recv);
      this.s.waited++;
      (w.recv ? this.recvQ : this.otherQ).push(w);
      this.counted(w, 1);
      if (options.unref !== true) this.hold(w);
      if (timeout !== Infinity) w.timer = this.clock.setTimer(() => this.expire(w, call, timeout), timeout);
      const say = this.pool.profile.waitMessage;
      if (say) {
        const repeat = (): void => {
          w.msgTimer = this.clock.setTimer(repeat, say.everyMs);
          this.hooks.message(this.lacksMbuf(w) ? "mbuf" : "cluster", this.lacksMbuf(w) ? say.mbuf : say.cluster);
        };
        w.msgTimer = this.clock.setTimer(repeat, say.everyMs);
      }
      this.changed();
    });
  }

  /**
   * Serves waiters in order while the pool can satisfy them. `fromFree`
   * marks a call from the free path: in poll mode only receivers that hold
   * the reservation flag are served there (the others wait for the tick).
   */
  serve(fromFree = false): void {
    if (this.hooks.inOperation()) {
      // Inside an allocation (a drain routine freed): the retry gets the buffer; serve right after.
      if (!this.deferred) this.deferred = this.clock.setTimer(() => { this.deferred = 0; this.serve(); }, 0);
      return;
    }
    const onlyFlagged = fromFree && this.mode === "poll";
    const foreign = this.wake ? this.wake.foreign() : 0;
    this.state.deferred.fill(0);
    this.state.lacking = 0;
    // The zones (NEED_* bits) an earlier waiter lacked: later waiters of them wait too.
    let blocked = 0;
    for (const q of [this.recvQ, this.otherQ]) {
      if (onlyFlagged && q !== this.recvQ) break;
      for (let i = 0; i < q.length;) {
        const w = q[i];
        if (onlyFlagged && !(this.flag.raised && (w.needs & NEED_CLUSTER))) { i++; continue; }
        if (w.needs & blocked) {
          this.state.lacking |= 1 << w.need;
          i++;
          continue;
        }
        if (foreign && this.defers(w, foreign)) { i++; continue; }
        const lack = this.lacking(w.needs, w.recv);
        if (lack) {
          blocked |= lack;
          this.state.lacking |= 1 << w.need;
          i++;
          continue;
        }
        let h: number;
        try {
          if (w.kind === ClGet && this.seqOf(w.m) !== w.seq) {
            throw new MbufError("EBADHANDLE", `clgetWait(${w.m}): the mbuf was freed while it waited for a cluster`);
          }
          h = this.attempt(w);
        } catch (e) {
          q.splice(i, 1);
          this.finish(w);
          w.reject(e as Error);
          continue;
        }
        if (h > 0) {
          q.splice(i, 1);
          this.finish(w);
          this.s.served++;
          w.resolve(h);
        } else {
          blocked |= w.needs;
          i++;
        }
      }
    }
    this.changed();
  }

  /** Takes a gone thread's slot out of the order of the waiters (reapThread), and wakes the threads that deferred to it. */
  forget(slot: number): void {
    this.wake?.forget(slot);
  }

  /** Publishes the queues again: after another thread's waiters left the shared counts, the flag follows. */
  resync(): void {
    this.changed();
  }

  /** Rejects every waiter with ECLOSED and stops the timers. */
  close(): void {
    for (const q of [this.recvQ, this.otherQ]) {
      for (const w of q.splice(0)) {
        this.finish(w);
        w.reject(new MbufError("ECLOSED", `${CALL[w.kind]}: the pool was closed while waiting`));
      }
    }
    if (this.pollTimer) this.clock.clearTimer(this.pollTimer);
    if (this.deferred) this.clock.clearTimer(this.deferred);
    this.pollTimer = this.deferred = 0;
    if (this.wake) {
      // The other threads must stop counting this one's waiters, and its receivers' flag.
      this.wake.stop();
      this.changed();
    }
  }

  /**
   * True if `w` must let an earlier waiter of another thread go first: one of the `count`
   * the wake's foreign() found that needs a zone `w` needs and that the pool can serve now
   * (order.ts). Records the deferral, so that thread wakes this one once that waiter has left
   * or turned out to lack a zone.
   */
  private defers(w: Waiter, count: number): boolean {
    const found = this.wake!.found;
    for (let i = 0; i < count * 3; i += 3) {
      const slot = found[i], kind = found[i + 1], key = found[i + 2];
      const needs = KIND_NEEDS[kind];
      if (key >= w.key || (needs & w.needs) === 0 || this.lacking(needs, key < RECV_SPAN) !== 0) continue;
      this.state.deferred[slot] |= 1 << kind;
      return true;
    }
    return false;
  }

  /** One call into the core for `w`: the handle, 0 if nothing could be had; throws for a bad argument. */
  private attempt(w: Waiter): number {
    const ex = this.pool.core;
    let r: number;
    switch (w.kind) {
      case Get: r = ex.m_get(w.how, w.type); break;
      case GetHdr: r = ex.m_gethdr(w.how, w.type); break;
      case GetCl: r = ex.m_getcl(w.how, w.type, w.flags); break;
      case GetJcl: r = ex.m_getjcl(w.how, w.type, w.flags, w.size); break;
      default: r = ex.m_clget(w.m, w.how); break;
    }
    if (r < 0) throw coreError(r, CALL[w.kind], w.kind === ClGet ? w.m : w.type);
    return r;
  }

  private expire(w: Waiter, call: string, timeout: number): void {
    const q = w.recv ? this.recvQ : this.otherQ;
    const i = q.indexOf(w);
    if (i < 0) return;
    q.splice(i, 1);
    w.timer = 0;
    const mbuf = this.lacksMbuf(w);
    this.finish(w);
    this.s.timedOut++;
    const jumbo = jumboZoneOfNeeds(w.needs);
    this.pool.core.mb_wait_failed(mbuf ? ZONE_MBUF : jumbo || ZONE_CLUSTER);
    const what = mbuf ? "mbuf" : jumbo ? JUMBO_NAMES[jumbo - ZONE_JUMBOP] : "mbuf cluster";
    w.reject(new MbufError("ETIMEDOUT", `${call}: no ${what} within ${timeout} ms`));
    this.changed();
  }

  /** `w` keeps the process alive until it leaves the queue. */
  private hold(w: Waiter): void {
    w.ref = true;
    if (this.refs++ === 0 && typeof setInterval === "function") this.alive = setInterval(() => {}, 0x7fffffff);
  }

  /** Counts `w` in (`by` 1) or out (-1) of the per-kind counts changed() publishes from. */
  private counted(w: Waiter, by: 1 | -1): void {
    this.kinds[w.need] += by;
    if (w.recv && (w.needs & NEED_CLUSTER)) this.recvClusters += by;
  }

  private finish(w: Waiter): void {
    this.counted(w, -1);
    if (w.ref) {
      w.ref = false;
      if (--this.refs === 0 && this.alive !== null) {
        clearInterval(this.alive);
        this.alive = null;
      }
    }
    if (w.timer) this.clock.clearTimer(w.timer);
    if (w.msgTimer) this.clock.clearTimer(w.msgTimer);
    w.timer = w.msgTimer = 0;
  }

  /** True if what `w` lacks first is an mbuf (else a cluster). */
  private lacksMbuf(w: Waiter): boolean {
    return (this.lacking(w.needs, w.recv) & NEED_MBUF) !== 0;
  }

  /** After any change of the queues: the flag, the free path's test, the poll timer. */
  private changed(): void {
    const n = this.recvQ.length + this.otherQ.length;
    if (this.wake) {
      const st = this.state;
      // The earliest key of each kind: the first of it in the receive queue, else in the other.
      // The scan ends once every kind that has waiters is found.
      st.keys.fill(0);
      let missing = 0;
      for (let k = 0; k < KINDS; k++) if (this.kinds[k] > 0) missing++;
      scan: for (const q of [this.recvQ, this.otherQ]) {
        for (const w of q) {
          if (st.keys[w.need] !== 0) continue;
          st.keys[w.need] = w.key;
          if (--missing === 0) break scan;
        }
      }
      st.waiters = n;
      st.receivers = this.recvClusters;
      // In one hold of the lock: the shared counts and the core's flag change together.
      this.wake.publish(st, (receivers) => this.flag.sync(receivers > 0, true));
    } else {
      this.flag.sync(this.recvClusters > 0);
    }
    this.hooks.waitersChanged(this.mode === "handoff" ? n : (this.flag.raised && this.recvQ.length ? this.recvQ.length : 0));
    if (this.mode === "poll" && n > 0 && !this.pollTimer) {
      const poll = (): void => {
        this.pollTimer = 0;
        this.serve();
      };
      this.pollTimer = this.clock.setTimer(poll, this.pollMs);
    } else if (n === 0 && this.pollTimer) {
      this.clock.clearTimer(this.pollTimer);
      this.pollTimer = 0;
    }
  }

  /** The allocation sequence number in the header of mbuf `m` (m_hdr's seq word), 0 if free. */
  private seqOf(m: number): number {
    const u32 = this.u32();
    // m_type is the low half of its word (type: 16, little-endian); MT_FREE is 0.
    return (u32[(m + H.type) >>> 2] & 0xffff) === 0 ? 0 : u32[(m + H.seq) >>> 2];
  }

  // --- Availability, read from the counters block (no core call) ---

  /**
   * The zones of `needs` (NEED_* bits) the pool cannot serve now, for a waiter of the
   * receive class or not (`recv`): 0 if it can serve them all.
   */
  private lacking(needs: number, recv: boolean): number {
    let lack = 0;
    if ((needs & NEED_MBUF) && !this.mbufAvailable()) lack |= NEED_MBUF;
    if ((needs & NEED_CLUSTER) && !this.clusterAvailable(recv)) lack |= NEED_CLUSTER;
    const jumbo = jumboZoneOfNeeds(needs);
    if (jumbo && !this.jumboAvailable(jumbo)) lack |= needs & ~(NEED_MBUF | NEED_CLUSTER);
    return lack;
  }

  /** A view of the pool's memory, made again only when the memory grew (a new buffer). */
  private u32(): Uint32Array {
    const b = this.pool.buffer;
    if (this.view?.buffer !== b) this.view = new Uint32Array(b);
    return this.view;
  }

  /** Index in u32() of zone `id`'s record, and of the global block. */
  private zoneAt(id: number): number {
    const ex = this.pool.core;
    return (ex.MB_STATS.value + ex.MB_ZONE_BYTES.value * id) >>> 2;
  }

  private get globalAt(): number {
    const ex = this.pool.core;
    return (ex.MB_STATS.value + ex.MB_GLOBAL.value) >>> 2;
  }

  private pagesAvailable(u32: Uint32Array, g: number): number {
    return u32[g + GL.freePages / 4] + (u32[g + GL.maxPages / 4] - u32[g + GL.top / 4]);
  }

  private mbufAvailable(): boolean {
    const u32 = this.u32(), g = this.globalAt;
    const w = this.zoneAt(ZONE_MBUF);
    // A parked packet pair is an mbuf too: the core splits the cache when the zone runs dry.
    // So is one in a thread's cache of a shared pool (exact under the lock, where this runs):
    // an allocation that finds the zone empty takes the caches back first.
    if (u32[w + Z.free / 4] > 0 || u32[this.zoneAt(ZONE_PACKET) + Z.free / 4] > 0 || u32[g + GL.cachedMbufs / 4] > 0) return true;
    return u32[w + Z.grows / 4] !== 0 && u32[w + Z.total / 4] < u32[w + Z.limit / 4] && this.pagesAvailable(u32, g) > 0;
  }

  /**
   * Free jumbo clusters of zone `id`, or room to carve a slab of them. The pages counted
   * need not be contiguous, so a fragmented arena may still fail the attempt (then the
   * waiter stays, and the failure counts as delayed once more).
   */
  private jumboAvailable(id: number): boolean {
    const u32 = this.u32(), g = this.globalAt;
    const w = this.zoneAt(id);
    if (u32[w + Z.free / 4] > 0) return true;
    if (u32[w + Z.total / 4] >= u32[w + Z.limit / 4]) return false;
    const slabPages = u32[w + Z.slabPages / 4];
    const perSlab = u32[w + Z.perPage / 4];
    const n = Math.min(perSlab, u32[w + Z.limit / 4] - u32[w + Z.total / 4]);
    const need = Math.min(slabPages, Math.ceil((n * u32[w + Z.itemSize / 4]) / 4096));
    return this.pagesAvailable(u32, g) >= need;
  }

  /** Mirrors the core's m_clalloc: free clusters plus what the zone may carve, less the reservation. */
  private clusterAvailable(recv: boolean): boolean {
    const u32 = this.u32(), g = this.globalAt;
    const w = this.zoneAt(ZONE_CLUSTER);
    // Free clusters, plus those parked with an mbuf in the packet cache (getcl takes the pair,
    // clget gets the cluster when the core splits the cache back), and those in threads' caches.
    let avail = u32[w + Z.free / 4] + u32[this.zoneAt(ZONE_PACKET) + Z.free / 4] + u32[g + GL.cachedClusters / 4];
    if (u32[w + Z.grows / 4]) {
      avail += Math.min(u32[w + Z.limit / 4] - u32[w + Z.total / 4], this.pagesAvailable(u32, g) * u32[w + Z.perPage / 4]);
    }
    if (!recv) {
      const resv = u32[g + GL.resvCount / 4];
      if (u32[g + GL.resvFlag / 4] || (resv && avail <= resv)) return false;
    }
    return avail > 0;
  }
}
