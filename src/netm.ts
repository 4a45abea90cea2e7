// netm: deferred pool management, as AIX 3.2.5's netm kernel process.
//
// Allocation never grows a managed pool itself: when a zone's free count has
// fallen below its low-water mark (lowmbuf / lowclust), the next netm tick
// grows it back to the mark; when more than mb_cl_hiwat clusters are free, a
// tick gives whole free pages of clusters back to the arena (the mbuf pool is
// never reduced, as on AIX). The arena's cap, thewall, bounds every growth.
//
// Scheduling is cheap and off the hot path: a periodic tick on the pool's
// Clock reads a few numbers from the counters block (no core call) and only
// calls into the core when a mark is crossed; a failed allocation also asks
// for a tick at once (through the pool's `exhausted` path), so a waiter does
// not wait a whole period. Each dispatch that had work is a run; runs,
// growths, shrinks and reversals (a growth after a shrink or the reverse)
// are counted, so a pool tuned with conflicting marks shows netm thrashing.
//
// The counters are kept in a book (NetmBook): arrays of netm's own, or on a
// shared pool the netm area (pool/shared-netm.ts), where every thread's
// dispatches count and every thread's stats read. There a dispatch holds the
// pool lock, and only the creating thread keeps the period (NetmRole).

import type { PoolCore } from "./pool/context.js";
import { NETM_OFF, type NetmStats } from "./stats/snapshot.js";
import type { Clock } from "./clock.js";
import { Z, GL } from "./core/layout.js";
import { ZONE_MBUF, ZONE_CLUSTER } from "./constants.js";
import { MbufError, checkInt } from "./errors.js";
import { optionKeys, checkOptions } from "./validate.js";

/** netm settings. On the aix profile the marks come from its tunables (live); elsewhere from here. */
export interface NetmOptions {
  /** Milliseconds between ticks (100 by default). */
  intervalMs?: number;
  /**
   * Milliseconds from a failed allocation to netm's dispatch (10 by default: one
   * clock tick). AIX scheduled netm rather than growing inside the allocation, so
   * a burst is denied until netm has run.
   */
  dispatchMs?: number;
  /** Free mbufs to keep at least (0 by default off the aix profile). */
  lowmbuf?: number;
  /** Free clusters to keep at least (0 by default off the aix profile). */
  lowclust?: number;
  /** Free clusters above which clusters go back to the arena (never by default off the aix profile). */
  mb_cl_hiwat?: number;
}

/** The marks netm works to. */
export interface Marks {
  lowmbuf: number;
  lowclust: number;
  /** Infinity: never give clusters back. */
  hiwat: number;
}

/** netm's settings, checked: its periods, and fixed marks (undefined: the aix tunables, read at every tick). */
export interface NetmSettings {
  intervalMs: number;
  dispatchMs: number;
  marks?: Marks;
}

/**
 * Where netm keeps its books: arrays of its own, or a shared pool's netm area
 * (pool/shared-netm.ts), so that every thread's stats() reads the same.
 */
export interface NetmBook {
  /** The NetmStats counters, in NETM_COUNTERS order. */
  readonly counters: Float64Array;
  /** NETM_ENABLED: 1 while netm runs; NETM_LAST: the last dispatch, 0 none, 1 a growth, 2 a shrink. */
  readonly state: Int32Array;
}

/** The counters of NetmStats, in a book's order. */
export const NETM_COUNTERS = ["ticks", "runs", "growths", "shrinks", "reversals", "blocked", "mbufsAdded", "clustersAdded", "pagesReleased"] as const;
const [TICKS, RUNS, GROWTHS, SHRINKS, REVERSALS, BLOCKED, MBUFS_ADDED, CLUSTERS_ADDED, PAGES_RELEASED] = NETM_COUNTERS.map((_, i) => i);
export const NETM_ENABLED = 0, NETM_LAST = 1;
const GROWTH = 1, SHRINK = 2;

/** A book of netm's own (an unshared pool's). */
export const localBook = (): NetmBook => ({ counters: new Float64Array(NETM_COUNTERS.length), state: Int32Array.of(1, 0) });

/** What netm needs of a pool: its core view, and growth and reclaim with their waiter service. */
export interface NetmPool extends PoolCore {
  grow(zone: "mbuf" | "cluster", free: number): number;
  reclaim(zone: "mbuf" | "cluster", keep?: number): number;
}

/** How a Netm runs: its ticks under the pool lock (shared pools), and whether this thread keeps the period. */
export interface NetmRole {
  /** Runs `fn` holding the pool lock (a shared pool's); an unshared pool runs it as it is. */
  locked<T>(fn: () => T): T;
  /** Runs the periodic tick in this thread: the thread that created the pool. Every thread's kicks run ticks. */
  periodic: boolean;
}

const UNSHARED: NetmRole = { locked: (fn) => fn(), periodic: true };

export class Netm {
  private timer = 0;
  private kicked = 0;
  private stopped = false;

  constructor(
    private readonly pool: NetmPool, private readonly clock: Clock, private readonly settings: NetmSettings,
    private readonly book: NetmBook = localBook(), private readonly role: NetmRole = UNSHARED,
  ) {
    if (role.periodic) this.timer = clock.setTimer(this.periodic, settings.intervalMs);
  }

  /** A copy of the counters. */
  get stats(): NetmStats {
    const s: NetmStats = { ...NETM_OFF, enabled: this.running };
    NETM_COUNTERS.forEach((k, i) => { s[k] = this.book.counters[i]; });
    return s;
  }

  /** Whether netm still manages the pool: not stopped here, nor by the thread that keeps its period. */
  private get running(): boolean {
    return !this.stopped && Atomics.load(this.book.state, NETM_ENABLED) === 1;
  }

  /** Asks for a tick as soon as possible (the next turn of the clock), not inside the caller. */
  kick(): void {
    if (this.kicked || !this.running) return;
    this.kicked = this.clock.setTimer(() => {
      this.kicked = 0;
      this.tick();
    }, this.settings.dispatchMs);
  }

  /** Stops the timers (the pool is closing); the thread that keeps the period stops netm for every thread. */
  stop(): void {
    this.stopped = true;
    this.clock.clearTimer(this.timer);
    if (this.kicked) this.clock.clearTimer(this.kicked);
    this.kicked = 0;
    if (this.role.periodic) Atomics.store(this.book.state, NETM_ENABLED, 0);
  }

  private readonly periodic = (): void => {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(this.periodic, this.settings.intervalMs);
    this.tick();
  };

  private marks(): Marks {
    if (this.settings.marks) return this.settings.marks;
    const t = this.pool.tunables;
    return { lowmbuf: t["lowmbuf"], lowclust: t["lowclust"], hiwat: t["mb_cl_hiwat"] };
  }

  /**
   * One netm dispatch: grows a zone whose free count is below its mark back
   * up to the mark, gives clusters above mb_cl_hiwat back, then serves waiters.
   * Called by the timers; callable directly (tests, simulations). On a shared
   * pool, the whole dispatch holds the lock: two threads' ticks do not interleave.
   */
  tick(): void {
    if (!this.running || this.pool.isClosed) return;
    this.role.locked(() => this.dispatch());
  }

  private dispatch(): void {
    const c = this.book.counters;
    c[TICKS]++;
    const m = this.marks();
    const u32 = new Uint32Array(this.pool.buffer);
    const core = this.pool.core;
    const zw = (zone: number): number => (core.MB_STATS.value + core.MB_ZONE_BYTES.value * zone) >>> 2;
    // Free is the zone's list and what the threads' caches hold (a shared pool's; exact under its lock):
    // the count stats() calls cache. A growth asks the list for what the caches do not cover.
    const gw = (core.MB_STATS.value + core.MB_GLOBAL.value) >>> 2;
    const mCached = u32[gw + GL.cachedMbufs / 4], cCached = u32[gw + GL.cachedClusters / 4];
    const mFree = u32[zw(ZONE_MBUF) + Z.free / 4] + mCached;
    const cFree = u32[zw(ZONE_CLUSTER) + Z.free / 4] + cCached;
    const growM = mFree < m.lowmbuf, growC = cFree < m.lowclust;
    const shrinkC = !growC && cFree > m.hiwat && this.pool.profile.reclaims;
    if (!growM && !growC && !shrinkC) return;
    c[RUNS]++;
    let grew = false;
    if (growM) {
      const n = this.pool.grow("mbuf", m.lowmbuf - mCached);
      c[MBUFS_ADDED] += n;
      if (n > 0) grew = true; else c[BLOCKED]++;
    }
    if (growC) {
      const n = this.pool.grow("cluster", m.lowclust - cCached);
      c[CLUSTERS_ADDED] += n;
      if (n > 0) grew = true; else c[BLOCKED]++;
    }
    if (grew) this.record(GROWTH);
    if (shrinkC) {
      const pages = this.pool.reclaim("cluster", m.hiwat);
      if (pages > 0) {
        c[PAGES_RELEASED] += pages;
        this.record(SHRINK);
      }
    }
  }

  private record(what: number): void {
    const c = this.book.counters, st = this.book.state;
    c[what === GROWTH ? GROWTHS : SHRINKS]++;
    if (st[NETM_LAST] && st[NETM_LAST] !== what) c[REVERSALS]++;
    st[NETM_LAST] = what;
  }
}

/** Checks netm's options; `aixMarks`: the marks are the aix tunables, read at every tick. */
export function netmSettings(options: NetmOptions, aixMarks: boolean): NetmSettings {
  return {
    intervalMs: checkInt(options.intervalMs ?? 100, "netm intervalMs", 1, 2 ** 31 - 1),
    dispatchMs: checkInt(options.dispatchMs ?? 10, "netm dispatchMs", 0, 2 ** 31 - 1),
    marks: aixMarks ? undefined : {
      lowmbuf: checkInt(options.lowmbuf ?? 0, "netm lowmbuf", 0, 2 ** 31 - 1),
      lowclust: checkInt(options.lowclust ?? 0, "netm lowclust", 0, 2 ** 31 - 1),
      hiwat: options.mb_cl_hiwat === undefined ? Infinity : checkInt(options.mb_cl_hiwat, "netm mb_cl_hiwat", 0, 2 ** 31 - 1),
    },
  };
}

/** Every key NetmOptions has. */
const NETM_OPTION_KEYS = optionKeys<NetmOptions>({ intervalMs: 1, dispatchMs: 1, lowmbuf: 1, lowclust: 1, mb_cl_hiwat: 1 });

/** Normalises the Pool option `netm` against the profile's default. */
export function netmOptions(option: boolean | NetmOptions | undefined, profileDefault: boolean): NetmOptions | undefined {
  if (option === undefined) return profileDefault ? {} : undefined;
  if (option === false) return undefined;
  if (option === true) return {};
  if (typeof option !== "object" || option === null) throw new MbufError("EINVAL", "the netm option is a boolean or an object");
  checkOptions(option, "netm", NETM_OPTION_KEYS);
  return option;
}
