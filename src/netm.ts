// netm: deferred pool management, as AIX 3.2.5's netm kernel process.
//
// Allocation never grows a managed pool itself: when a zone's free count has
// fallen below its low-water mark (lowmbuf / lowclust), the next netm tick
// grows it back to the mark; when more than mb_cl_hiwat clusters are free, a
// tick gives whole free pages of clusters back to the arena (the mbuf pool is
// never reduced, as on AIX). The arena's cap, thewall, bounds every growth.
//
// Scheduling is cheap and off the hot path: a periodic tick on the pool's
// Clock reads three numbers from the counters block (no core call) and only
// calls into the core when a mark is crossed; a failed allocation also asks
// for a tick at once (through the pool's `exhausted` path), so a waiter does
// not wait a whole period. Each dispatch that had work is a run; runs,
// growths, shrinks and reversals (a growth after a shrink or the reverse)
// are counted, so a pool tuned with conflicting marks shows netm thrashing.

import type { PoolCore } from "./pool/context.js";
import { NETM_OFF, type NetmStats } from "./stats/snapshot.js";
import type { Clock } from "./clock.js";
import { Z } from "./core/layout.js";
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
interface Marks {
  lowmbuf: number;
  lowclust: number;
  hiwat: number;
}

/** What netm needs of a pool: its core view, and growth and reclaim with their waiter service. */
export interface NetmPool extends PoolCore {
  grow(zone: "mbuf" | "cluster", free: number): number;
  reclaim(zone: "mbuf" | "cluster", keep?: number): number;
}

export class Netm {
  private readonly s: NetmStats = { ...NETM_OFF, enabled: true };
  private readonly intervalMs: number;
  private readonly dispatchMs: number;
  private readonly fixed?: Marks;
  private timer = 0;
  private kicked = 0;
  private last: "grow" | "shrink" | "" = "";
  private stopped = false;

  /**
   * @param marks fixed marks, or undefined to read the aix tunables lowmbuf,
   * lowclust and mb_cl_hiwat from the pool at every tick.
   */
  constructor(private readonly pool: NetmPool, private readonly clock: Clock, options: NetmOptions, aixMarks: boolean) {
    this.intervalMs = checkInt(options.intervalMs ?? 100, "netm intervalMs", 1, 2 ** 31 - 1);
    this.dispatchMs = checkInt(options.dispatchMs ?? 10, "netm dispatchMs", 0, 2 ** 31 - 1);
    if (!aixMarks) {
      this.fixed = {
        lowmbuf: checkInt(options.lowmbuf ?? 0, "netm lowmbuf", 0, 2 ** 31 - 1),
        lowclust: checkInt(options.lowclust ?? 0, "netm lowclust", 0, 2 ** 31 - 1),
        hiwat: options.mb_cl_hiwat === undefined ? Infinity : checkInt(options.mb_cl_hiwat, "netm mb_cl_hiwat", 0, 2 ** 31 - 1),
      };
    }
    this.timer = clock.setTimer(this.periodic, this.intervalMs);
  }

  /** A copy of the counters. */
  get stats(): NetmStats {
    return { ...this.s };
  }

  /** Asks for a tick as soon as possible (the next turn of the clock), not inside the caller. */
  kick(): void {
    if (this.kicked || this.stopped) return;
    this.kicked = this.clock.setTimer(() => {
      this.kicked = 0;
      this.tick();
    }, this.dispatchMs);
  }

  /** Stops the timers (the pool is closing). */
  stop(): void {
    this.stopped = true;
    this.clock.clearTimer(this.timer);
    if (this.kicked) this.clock.clearTimer(this.kicked);
    this.kicked = 0;
  }

  private readonly periodic = (): void => {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(this.periodic, this.intervalMs);
    this.tick();
  };

  private marks(): Marks {
    if (this.fixed) return this.fixed;
    const t = this.pool.tunables;
    return { lowmbuf: t["lowmbuf"], lowclust: t["lowclust"], hiwat: t["mb_cl_hiwat"] };
  }

  /**
   * One netm dispatch: grows a zone whose free count is below its mark back
   * up to the mark, gives clusters above mb_cl_hiwat back, then serves waiters.
   * Called by the timers; callable directly (tests, simulations).
   */
  tick(): void {
    if (this.stopped || this.pool.isClosed) return;
    this.s.ticks++;
    const m = this.marks();
    const u32 = new Uint32Array(this.pool.buffer);
    const core = this.pool.core;
    const zw = (zone: number): number => (core.MB_STATS.value + core.MB_ZONE_BYTES.value * zone) >>> 2;
    const mFree = u32[zw(ZONE_MBUF) + Z.free / 4];
    const cFree = u32[zw(ZONE_CLUSTER) + Z.free / 4];
    const growM = mFree < m.lowmbuf, growC = cFree < m.lowclust;
    const shrinkC = !growC && cFree > m.hiwat && this.pool.profile.reclaims;
    if (!growM && !growC && !shrinkC) return;
    this.s.runs++;
    let grew = false;
    if (growM) {
      const n = this.pool.grow("mbuf", m.lowmbuf);
      this.s.mbufsAdded += n;
      if (n > 0) grew = true; else this.s.blocked++;
    }
    if (growC) {
      const n = this.pool.grow("cluster", m.lowclust);
      this.s.clustersAdded += n;
      if (n > 0) grew = true; else this.s.blocked++;
    }
    if (grew) this.record("grow");
    if (shrinkC) {
      const pages = this.pool.reclaim("cluster", m.hiwat);
      if (pages > 0) {
        this.s.pagesReleased += pages;
        this.record("shrink");
      }
    }
  }

  private record(what: "grow" | "shrink"): void {
    if (what === "grow") this.s.growths++; else this.s.shrinks++;
    if (this.last && this.last !== what) this.s.reversals++;
    this.last = what;
  }
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
