// The packet zone's balancing policy (seed 002), in the host where time and
// policy live. The core (assembly/packet.ts) keeps the cache of pre-joined
// mbuf+cluster pairs and does nothing on get/free but pop, push and count;
// this module decides, once per epoch of the pool's Clock, whether to join
// pairs into the cache or split them back, and does it in whole batches
// through two core calls (mb_packet_refill, mb_packet_drain).
//
// Modes:
//   none       FreeBSD -CURRENT of December 2005: pairs never go back to the
//              native zones, not even when a zone runs dry. Replays the leak.
//   watermark  a fixed band: above `hiwat` drain down to it, below `lowat`
//              refill up to it. Blind to demand: parks up to hiwat pairs
//              while idle and cannot follow demand above hiwat.
//   median     the seed's fix (default): keep the cache near the median of
//              recent demand within a positive/negative deviation.
//
// The median rule, once per epoch (`interval` ms):
//   demand d   = m_getcl calls in the epoch (hits + misses): pairs wanted.
//   window     = the last `window` epochs of d (15 by default, odd so the
//                median is a sample). A burst shorter than half the window
//                does not move the median: spikes are served by the native
//                zones and by the pairs they free, not by parking memory.
//   target T   = min(median(window), max).
//   deviation  D+ = Q3 - T, D- = T - Q1 (upper and lower quartiles of the
//                window): how far recent demand swings above and below the
//                median. One spike does not widen the band; a demand that is
//                often high does.
//   band       [T - max(D-, batch), T + max(D+, batch)]; with T = 0 the upper
//                edge is D+ alone (no demand, nothing worth keeping). The upper
//                edge never passes max + batch (max alone when T = 0).
//   action     above the band: drain down to T in whole batches (everything
//                when T = 0); below: refill up to T in whole batches.
// The batch (32 pairs, 64 KiB of clusters; 1/32 of nmbclusters on small
// pools) amortises one call into the core and the policy's bookkeeping over
// many pairs, and bounds what rounding leaves parked beyond the target.

import { MbufError, checkInt } from "./errors.js";
import { Z, GL } from "./core/layout.js";
import type { CoreExports } from "./core/exports.js";
import { optionKeys, checkOptions } from "./validate.js";
import type { Clock } from "./clock.js";
import type { ProfileName } from "./tunables/profiles.js";

/** How the packet cache is balanced. */
export type PacketMode = "none" | "watermark" | "median";

/** Pool.create's `packetZone` option. */
export interface PacketZoneOptions {
  /** Balancing mode; `median` by default. */
  mode?: PacketMode;
  /** Milliseconds of the pool's clock between balancing epochs (1000); 0 = no timer, call pool.packetBalance(). */
  interval?: number;
  /** Pairs per refill or drain batch (32, or nmbclusters/32 on small pools, at least 1). */
  batch?: number;
  /** median: epochs of demand the median looks at (15). */
  window?: number;
  /** median: most pairs the target may be (nmbclusters/8, at least one batch). */
  max?: number;
  /** watermark: refill up to this many pairs when below it (one batch). */
  lowat?: number;
  /** watermark: drain down to this many pairs when above it (nmbclusters/8, at least one batch). */
  hiwat?: number;
}

/** A packet zone's resolved settings. */
export interface PacketZoneConfig {
  readonly mode: PacketMode;
  readonly interval: number;
  readonly batch: number;
  readonly window: number;
  readonly max: number;
  readonly lowat: number;
  readonly hiwat: number;
}

/** What one balancing epoch saw and did. */
export interface PacketEpoch {
  /** m_getcl calls since the previous epoch. */
  demand: number;
  /** Parked pairs before the epoch acted. */
  cache: number;
  /** The level the policy aims at, and the band it tolerates. */
  target: number;
  low: number;
  high: number;
  /** Pairs joined or split back by this epoch (whole batches). */
  refilled: number;
  drained: number;
}

/** Core mode bits (assembly/packet.ts). */
const PKT_ENABLED = 1;
const PKT_RECLAIMS = 2;
const KEYS = optionKeys<PacketZoneOptions>({ mode: 1, interval: 1, batch: 1, window: 1, max: 1, lowat: 1, hiwat: 1 });
const MODES: readonly PacketMode[] = ["none", "watermark", "median"];

/** The profiles whose system had a packet zone (FreeBSD 5 and later); the others have none unless asked. */
export const PROFILE_HAS_PACKET_ZONE: Readonly<Record<ProfileName, boolean>> = {
  freebsd: true, freebsd4: false, rtems: false, aix: false,
};

/**
 * Resolves the `packetZone` option for a pool with `nmbclusters` clusters:
 * undefined = the profile's default, false = no packet zone, true or an object = on.
 * @returns the settings, or null for no packet zone.
 * @throws MbufError EINVAL for an unknown key, mode, or a value out of range.
 */
export function resolvePacketZone(
  option: PacketZoneOptions | boolean | undefined, profile: ProfileName, nmbclusters: number,
): PacketZoneConfig | null {
  if (option === undefined) option = PROFILE_HAS_PACKET_ZONE[profile];
  if (option === false) return null;
  const o: PacketZoneOptions = option === true ? {} : option;
  if (typeof o !== "object" || o === null) throw new MbufError("EINVAL", "packetZone must be false, true or an options object");
  checkOptions(o, "packetZone", KEYS);
  const mode = o.mode ?? "median";
  if (!MODES.includes(mode)) throw new MbufError("EINVAL", `packetZone.mode must be one of ${MODES.join(", ")}, got ${String(mode)}`);
  const interval = checkInt(o.interval ?? 1000, "packetZone.interval (ms)", 0, 2 ** 31 - 1);
  const batch = checkInt(o.batch ?? Math.min(32, Math.max(1, Math.floor(nmbclusters / 32))), "packetZone.batch", 1, nmbclusters);
  const window = checkInt(o.window ?? 15, "packetZone.window (epochs)", 1, 1024);
  const eighth = Math.min(nmbclusters, Math.max(batch, Math.floor(nmbclusters / 8)));
  const max = checkInt(o.max ?? eighth, "packetZone.max", 0, nmbclusters);
  const hiwat = checkInt(o.hiwat ?? eighth, "packetZone.hiwat", 0, nmbclusters);
  const lowat = checkInt(o.lowat ?? Math.min(batch, hiwat), "packetZone.lowat", 0, hiwat);
  return Object.freeze({ mode, interval, batch, window, max, lowat, hiwat });
}

/** The p-quantile (nearest rank) of sorted `a[0..n)`. */
function quantile(a: Float64Array, n: number, p: number): number {
  return a[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
}

/** Rounds `n` down to whole batches. */
const down = (n: number, b: number): number => Math.floor(n / b) * b;
/** Rounds `n` up to whole batches. */
const up = (n: number, b: number): number => Math.ceil(n / b) * b;

/** What the balancer of a shared pool last decided: the target and its band. */
export interface PacketDecision {
  target: number;
  low: number;
  high: number;
}

/** Where a shared pool's policy is published for every thread (pool/shared-packet-zone.ts). */
export interface PolicyArea {
  /** Writes the settings in force (null: none) and names `balancer` (a lock id) the balancing thread. */
  publish(config: PacketZoneConfig | null, balancer: number): void;
  decide(d: PacketDecision): void;
  /** The lock id of the balancing thread, 0 if none. */
  readonly balancer: number;
  settings(): PacketZoneConfig | null;
  decision(): PacketDecision;
}

/** How a shared pool's balancer reaches the other threads. */
interface Sharing {
  area: PolicyArea;
  /** This thread's lock id: the balancer's name in the area. */
  id: number;
  /** Runs `fn` holding the pool lock. */
  locked: <T>(fn: () => T) => T;
}

/**
 * The balancing policy of one pool's packet zone, driven by the pool's clock.
 * On a shared pool it runs in one thread, the balancer, and publishes what
 * the other threads report (pool/shared-packet-zone.ts).
 */
export class PacketBalancer {
  private config: PacketZoneConfig | null = null;
  private sharing: Sharing | null = null;
  private timer = 0;
  private history = new Float64Array(0);
  private sorted = new Float64Array(0);
  private samples = 0;
  private next = 0;
  private lastCount = 0;
  private last: PacketEpoch = { demand: 0, cache: 0, target: 0, low: 0, high: 0, refilled: 0, drained: 0 };

  /**
   * @param core the pool's raw core exports (read at each use: the pool may swap them on close).
   * @param buffer the pool's current memory buffer.
   */
  constructor(
    private readonly core: () => CoreExports,
    private readonly buffer: () => ArrayBuffer,
    private readonly clock: Clock,
    private readonly statsAddr: number,
    private readonly zoneBytes: number,
    private readonly globalOff: number,
  ) {}

  /**
   * Makes this the policy of one thread of a shared pool. `publish`: this thread's settings
   * (configure() ran already) become the pool's, and it balances; otherwise it follows the area.
   */
  share(sharing: Sharing, publish: boolean): void {
    this.sharing = sharing;
    if (publish) sharing.locked(() => sharing.area.publish(this.config, sharing.id));
  }

  /** The settings in force, or null when the pool has no packet zone (a shared pool's, whichever thread balances). */
  get settings(): PacketZoneConfig | null {
    const sh = this.sharing;
    return sh ? sh.locked(() => sh.area.settings()) : this.config;
  }

  /** True unless another thread of a shared pool balances its packet zone. */
  get balances(): boolean {
    const b = this.sharing?.area.balancer ?? 0;
    return b === 0 || b === this.sharing!.id;
  }

  /**
   * Applies new settings (null turns the packet zone off and splits every parked pair back);
   * on a shared pool this thread balances from now on (the lock held).
   */
  configure(config: PacketZoneConfig | null): void {
    this.stop();
    this.config = config;
    const mode = !config ? 0 : config.mode === "none" ? PKT_ENABLED : PKT_ENABLED | PKT_RECLAIMS;
    const r = this.core().mb_packet_mode(mode);
    if (r < 0) throw new MbufError("ESTATE", `the core refused packet zone mode ${mode} (${r})`);
    const w = config?.window ?? 0;
    this.history = new Float64Array(w);
    this.sorted = new Float64Array(w);
    this.samples = 0;
    this.next = 0;
    this.lastCount = this.requests();
    this.last = { demand: 0, cache: this.cached(), target: 0, low: 0, high: 0, refilled: 0, drained: 0 };
    if (config && config.mode !== "none") {
      if (config.mode === "watermark") Object.assign(this.last, { target: config.lowat, low: config.lowat, high: config.hiwat });
      if (config.interval > 0) this.arm();
    }
    if (this.sharing) {
      this.sharing.area.publish(config, this.sharing.id);
      this.sharing.area.decide(this.last);
    }
  }

  /** A shared pool's balancer closing its Pool: the packet zone goes off, its pairs back to the zones (the lock held). */
  retire(): void {
    if (this.sharing && this.balances && this.sharing.area.balancer !== 0) this.configure(null);
    this.stop();
    this.sharing = null;
  }

  /** Stops the timer (the pool closes). */
  stop(): void {
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = 0;
  }

  /** The last epoch's decision, for stats() (a shared pool's: the lock held). */
  state(): { mode: PacketMode | "off"; target: number; low: number; high: number } {
    const sh = this.sharing;
    if (sh) return { mode: sh.area.settings()?.mode ?? "off", ...sh.area.decision() };
    return { mode: this.config?.mode ?? "off", target: this.last.target, low: this.last.low, high: this.last.high };
  }

  /** One balancing epoch: measures demand since the last one and moves whole batches. */
  epoch(): PacketEpoch {
    const c = this.config;
    const count = this.requests();
    const demand = count - this.lastCount;
    this.lastCount = count;
    const cache = this.cached();
    const e: PacketEpoch = { demand, cache, target: 0, low: 0, high: 0, refilled: 0, drained: 0 };
    if (!c || c.mode === "none") {
      this.last = e;
      return e;
    }
    const b = c.batch;
    let want = 0; // > 0: refill this many; < 0: drain this many
    if (c.mode === "watermark") {
      e.target = c.lowat;
      e.low = c.lowat;
      e.high = c.hiwat;
      if (cache > c.hiwat) want = -Math.min(cache, up(cache - c.hiwat, b));
      else if (cache < c.lowat) want = up(c.lowat - cache, b);
    } else {
      this.history[this.next] = demand;
      this.next = (this.next + 1) % c.window;
      if (this.samples < c.window) this.samples++;
      const n = this.samples;
      const s = this.sorted.subarray(0, n);
      s.set(this.history.subarray(0, n));
      s.sort();
      const median = quantile(s, n, 0.5);
      const t = Math.min(median, c.max);
      const dPlus = Math.max(0, quantile(s, n, 0.75) - t);
      const dMinus = Math.max(0, t - quantile(s, n, 0.25));
      e.target = t;
      e.low = Math.max(0, t - Math.max(dMinus, b));
      e.high = t > 0 ? Math.min(t + Math.max(dPlus, b), c.max + b) : Math.min(dPlus, c.max);
      if (cache > e.high) want = -(t === 0 ? cache : down(cache - t, b));
      else if (cache < e.low) want = up(t - cache, b);
    }
    const core = this.core();
    if (want > 0) e.refilled = Math.max(0, core.mb_packet_refill(want));
    else if (want < 0) e.drained = Math.max(0, core.mb_packet_drain(-want));
    this.last = e;
    this.sharing?.area.decide(e);
    return e;
  }

  /** Arms the next epoch on the clock (on a shared pool, run holding the lock, while this thread balances). */
  private arm(): void {
    const interval = this.config!.interval;
    this.timer = this.clock.setTimer(() => {
      this.timer = 0;
      const sh = this.sharing;
      if (!sh) return this.tick(interval);
      sh.locked(() => {
        // Another thread set the packet zone since: it balances now, and this policy is done.
        if (sh.area.balancer !== sh.id) this.config = null;
        else this.tick(interval);
      });
    }, interval);
  }

  /** One timer epoch, and the next armed if the settings still ask for it. */
  private tick(interval: number): void {
    this.epoch();
    if (this.config && this.config.interval === interval) this.arm();
  }

  /** m_getcl calls so far (hits + misses), from the counters block. */
  private requests(): number {
    const f64 = new Float64Array(this.buffer());
    const pz = this.statsAddr + this.zoneBytes * 3;
    const g = this.statsAddr + this.globalOff;
    return f64[(pz + Z.allocs) / 8] + f64[(g + GL.pktMisses) / 8];
  }

  /** Pairs parked now. */
  private cached(): number {
    return new Uint32Array(this.buffer())[(this.statsAddr + this.zoneBytes * 3 + Z.free) / 4];
  }
}
