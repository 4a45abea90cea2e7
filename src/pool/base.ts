// The pool's machine room: the state every part of the facade shares, the
// boot of the core, the PoolCore view the mechanisms are built on, the
// snapshot, and close(). Pool (pool.ts) is the facade users call; between the
// two sit the socket layer (sockets.ts) and the observing one (observe.ts):
// PoolBase <- PoolSockets <- PoolReports <- Pool.
//
// Hot paths read `ex` and a few numbers straight off the instance: every field
// is assigned in this constructor, so V8 gives every pool one hidden class.

import { EventEmitter } from "node:events";
import type { Build } from "../core/module.js";
import type { CoreExports } from "../core/exports.js";
import { MbufError, coreError, checkInt, describeValue } from "../errors.js";
import { MT_NTYPES, M_NOWAIT, M_WAITOK, M_RECV } from "../constants.js";

/** The core's EINVAL (assembly/constants.ts). */
const EINVAL_CODE = -22;
import { RealClock, type Clock } from "../clock.js";
import { checkPoolOptions, checkBool } from "../validate.js";
import type { PoolCore } from "./context.js";
import { bootCore, type BootedCore } from "./boot.js";
import { PoolLock } from "./lock.js";
import { THREADS } from "../core/layout.js";
import { SharedTunables, tunablesAddr } from "./shared-tunables.js";
import { SharedPacketZone, packetAreaAddr } from "./shared-packet-zone.js";
import { attachCore, joinThreads, lockedExports, lockMethods, makeHandle, type ShareHandle } from "./share.js";
import { Drains } from "./drains.js";
import { DataExchange } from "./exchange.js";
import { givenTunables, POOL_OPTION_KEYS, anyTunable, type PoolOptions } from "./options.js";
import { poolStats } from "./reports.js";
import { getProfile, resolveTunables, type Profile, type Values, type Layout } from "../tunables/profiles.js";
import type { PoolStats } from "../stats/snapshot.js";
import type { PoolMetrics } from "../stats/prometheus.js";
import { Netm, netmOptions, netmSettings } from "../netm.js";
import { SharedNetmArea, netmAreaAddr } from "./shared-netm.js";
import { WaitQueue } from "../waiting/queue.js";
import { shareWaits } from "../waiting/wake.js";
import { SharedOrder, orderAreaAddr } from "../waiting/order.js";
import { PacketBalancer, resolvePacketZone } from "../packet-zone.js";

/** True for a number that is an i32: only such values reach the core (2**32 + h would wrap to h). */
export const isInt = (v: unknown): boolean => typeof v === "number" && (v | 0) === v;
export const isHandle = isInt;

/** `r` if a core call succeeded (r >= 0); else its MbufError, naming the public call and the handle. */
export function ok(r: number, call: string, subject?: number): number {
  if (r < 0) throw coreError(r, call, subject);
  return r;
}

const defaultBuild = (): Build => (process.env.MBUFPOOL_BUILD === "debug" ? "debug" : "release");

export abstract class PoolBase extends EventEmitter implements PoolCore {
  // Fields the constructor assigns are `declare`d, the others initialised: a
  // field with neither is first defined as undefined (ES2022 class fields), and
  // V8 then types it as "any" and checks it on every hot-path access.
  /** The profile this pool models. */
  declare readonly profile: Profile;
  declare protected values: Values;
  declare protected shape: Layout;
  /** The core build this pool runs. */
  declare readonly build: Build;
  declare readonly clock: Clock;
  /** Bytes per cluster (MCLBYTES). */
  declare readonly mclbytes: number;
  /** Handles one bulk call into the core can carry: the exchange area's, or on a shared pool the thread's lane's. */
  declare readonly bulkMax: number;
  /** Bytes thewall may be raised to (the room laid out at creation). */
  declare readonly maxThewall: number;
  /** True if memory was grown to its maximum at creation: views into it never go stale. */
  declare readonly pinned: boolean;
  /** True for a pool over a shared memory that other threads may attach to (pool.shareHandle()). */
  declare readonly shared: boolean;
  /** The pool lock (a shared pool), else undefined. */
  declare protected readonly lock: PoolLock | undefined;
  /** A shared pool's tunables, one set for every thread (pool/shared-tunables.ts), else undefined. */
  protected sharedTunables: SharedTunables | undefined = undefined;
  /** This thread's owner tag, put back into the core when the lock comes from another thread. */
  declare protected readonly ownerTag: { tag: number };

  declare protected ex: CoreExports;
  declare protected readonly memory: WebAssembly.Memory;
  declare protected readonly statsAddr: number;
  declare protected readonly zoneBytes: number;
  declare protected readonly globalOff: number;
  declare protected readonly xchgAddr: number;
  declare protected xchg: Int32Array;
  /** The data exchange area of the chain operations, made on first use. */
  protected dx?: DataExchange;
  /** True while getBulk's core calls fill the exchange area (a drain routine they run must not touch it). */
  protected bulkBusy = false;
  protected closed = false;
  /** Waiters a free must serve (0: the free path does nothing more). */
  protected handoffWaiters = 0;
  declare protected readonly drains: Drains<this>;
  declare protected readonly packets: PacketBalancer;
  declare protected readonly waits: WaitQueue;
  protected readonly netmd?: Netm;
  /** This pool's Prometheus metrics (its own Registry), made on first use. */
  protected promMetrics?: PoolMetrics;

  /** Grows a zone (netm's growth; Pool.grow). */
  abstract grow(zone: "mbuf" | "cluster", free: number): number;
  /** Gives free pages back (netm's shrink; Pool.reclaim). */
  abstract reclaim(zone: "mbuf" | "cluster", keep?: number, maxPages?: number): number;

  /** A new pool over new memory, or (`handle`) another instance over a shared pool's memory. */
  protected constructor(options: PoolOptions, handle?: ShareHandle) {
    super();
    checkPoolOptions(options, POOL_OPTION_KEYS, anyTunable);
    if (options.shared !== undefined) checkBool(options.shared, "shared");
    const shared = handle !== undefined || options.shared === true;
    if (shared) checkSharedOptions(options);
    this.profile = getProfile(options.profile ?? "freebsd");
    this.values = Object.freeze(resolveTunables(this.profile, givenTunables(options)));
    this.shape = Object.freeze(this.profile.layout(this.values));
    this.build = options.build ?? defaultBuild();
    this.clock = options.clock ?? new RealClock();
    this.mclbytes = this.profile.mclbytes;
    // Every option is checked before the core is booted or attached: a refusal leaves nothing attached.
    const pollMs = checkInt(options.pollMs ?? 10, "pollMs", 1, 2 ** 31 - 1);
    const waitTimeoutMs = options.waitTimeoutMs ?? 60_000;
    if (typeof waitTimeoutMs !== "number" || !(waitTimeoutMs >= 0)) {
      throw new MbufError("EINVAL", `waitTimeoutMs must be a number of milliseconds >= 0 or Infinity, got ${String(waitTimeoutMs)}`);
    }
    this.pinned = !!options.pinned || shared;
    this.shared = shared;
    this.drains = new Drains<this>(
      { rawListeners: (event) => this.rawListeners(event), target: this, kickNetm: () => this.netmd?.kick() },
      this.profile, this.clock, options.logger);
    const host = { exhausted: this.drains.exhausted };
    let core: BootedCore, lock: PoolLock | undefined;
    if (handle) {
      ({ core, lock } = attachCore(handle, host));
    } else {
      core = bootCore({
        profile: this.profile, layout: this.shape, build: this.build, maxThewall: options.maxThewall,
        pinned: this.pinned, shared, host,
      });
      if (shared) {
        lock = new PoolLock(core.memory.buffer as unknown as SharedArrayBuffer, core.lockAddr, true);
        lock.enter();
        try {
          joinThreads(core.ex, lock);
        } finally {
          lock.leave();
        }
        lock.claim();
      }
    }
    this.lock = lock;
    try {
      this.ownerTag = { tag: 0 };
      if (lock) {
        const raw = core.ex, owner = this.ownerTag;
        const tunables = new SharedTunables(core.memory.buffer as unknown as SharedArrayBuffer, tunablesAddr(core.lockAddr), this.values);
        if (!handle) tunables.publish(this.values);
        this.sharedTunables = tunables;
        lock.switchIn = () => {
          if (raw.mb_attach() < 0) throw new MbufError("ESTATE", "the shared pool's memory holds no initialised pool");
          raw.mb_set_owner(owner.tag);
          // Another thread may have written a tunable since this one last held the lock.
          const v = tunables.changed();
          if (v) this.adoptTunables(v);
        };
        lock.onEnter = () => raw.mb_fold();
        this.ex = lockedExports(raw, lock, owner);
      } else {
        this.ex = core.ex;
      }
      this.memory = core.memory;
      this.maxThewall = core.maxThewall;
      this.statsAddr = core.statsAddr;
      this.zoneBytes = core.zoneBytes;
      this.globalOff = core.globalOff;
      this.xchgAddr = core.xchgAddr;
      // A shared pool's bulk calls carry their handles through the thread's lane (assembly/lane.ts).
      this.bulkMax = lock ? THREADS.LANE_HANDLES : core.bulkMax;
      this.xchg = new Int32Array(this.memory.buffer, this.xchgAddr, core.bulkMax);
      this.packets = new PacketBalancer(() => this.ex, () => this.memory.buffer, this.clock, this.statsAddr, this.zoneBytes, this.globalOff);
      // A thread that attaches follows the packet zone its pool has; a shared pool has none unless asked.
      if (!handle) this.packets.configure(resolvePacketZone(shared ? options.packetZone ?? false : options.packetZone, this.profile.name, this.shape.nmbclusters));
      if (lock) {
        const area = new SharedPacketZone(core.memory.buffer as unknown as SharedArrayBuffer, packetAreaAddr(core.lockAddr));
        this.packets.share({ area, id: lock.id, locked: lock.run }, !handle);
      }
      this.waits = new WaitQueue(this, {
        inOperation: () => this.drains.inHook,
        // A shared pool's free paths always ask: the waiters may be another thread's (wake.ts).
        waitersChanged: (n) => { this.handoffWaiters = shared ? 1 : n; },
        message: this.drains.message,
      }, this.clock, this.profile.wake, pollMs, waitTimeoutMs);
      const t = this.values, resv = this.profile.aliases["reserve"];
      if (t[resv] && !handle) {
        ok(this.ex.mb_set_reserve(t[resv]), `reserve ${resv}`);
      }
      this.waits.setAuto(t[this.profile.aliases["reserveFlag"]] === 1);
      // A thread that attaches follows the netm its pool's creator set up (shared-netm.ts).
      const nm = handle ? undefined : netmOptions(options.netm, this.profile.netm);
      const settings = nm && netmSettings(nm, this.profile.name === "aix" && nm.lowmbuf === undefined && nm.lowclust === undefined);
      if (lock) {
        const area = new SharedNetmArea(core.memory.buffer as unknown as SharedArrayBuffer, netmAreaAddr(core.lockAddr));
        if (settings) area.publish(settings);
        const followed = area.settings();
        if (followed) this.netmd = new Netm(this, this.clock, followed, area.book, { locked: lock.run, periodic: !handle });
      } else if (settings) {
        this.netmd = new Netm(this, this.clock, settings);
      }
      if (lock) {
        lockMethods(this, EventEmitter.prototype, lock);
        shareWaits(this.waits, lock, new SharedOrder(core.memory.buffer as unknown as SharedArrayBuffer, orderAreaAddr(core.lockAddr)));
        this.waits.shareManual(lock.areaWords, THREADS.manualReserved >> 2);
        this.handoffWaiters = 1;
      }
    } catch (e) {
      // A shared pool that could not be set up is not attached: the thread may attach again.
      lock?.release();
      throw e;
    }
  }

  /** Takes `v` as the tunables in force (another thread's write, shared-tunables.ts). */
  protected adoptTunables(v: Values): void {
    this.values = v;
    this.shape = Object.freeze(this.profile.layout(v));
    // Set up after the lock during construction: the first switch-in may come before it.
    (this.waits as WaitQueue | undefined)?.setAuto(v[this.profile.aliases["reserveFlag"]] === 1);
  }

  /**
   * What a worker thread needs to attach to this shared pool (Pool.attach): a plain,
   * structured-cloneable object to send with postMessage or workerData.
   * @throws MbufError ESTATE if the pool is not shared, ECLOSED after close().
   */
  shareHandle(): ShareHandle {
    this.live();
    if (!this.shared) throw new MbufError("ESTATE", "shareHandle: this pool is not shared (create it with Pool.create({ shared: true }))");
    return makeHandle(this.memory, this.build, this.profile.name, this.values, this.maxThewall);
  }

  /** Current tunables (system names); runtime writes (sysctl) replace this object. */
  get tunables(): Values {
    return this.values;
  }

  /** What the tunables mean for the arena and zones, now. */
  get layout(): Layout {
    return this.shape;
  }

  /** A snapshot of every counter, as a plain object. */
  stats(): PoolStats {
    return poolStats({
      buffer: this.memory.buffer, statsAddr: this.statsAddr, zoneBytes: this.zoneBytes, globalOff: this.globalOff,
      profile: this.profile, mclbytes: this.mclbytes, tunables: this.values,
      packet: this.packets.state(), waits: this.waits.stats, netm: this.netmd?.stats,
    });
  }

  /** The data exchange area (made on first use). */
  protected dataExchange(): DataExchange {
    if (this.dx === undefined) this.live();
    return (this.dx ??= new DataExchange(this.memory, this.ex.MB_DXCHG.value, this.ex.MB_DXCHG_CAP.value));
  }

  /** Releases the instance; any later call throws ECLOSED. */
  close(): void {
    if (this.closed) return;
    this.netmd?.stop();
    this.waits.close();
    this.closed = true;
    if (this.lock) {
      this.packets.retire(); // a balancing thread's packet zone goes off with it
      this.ex.mb_thread_leave(); // this thread's caches go back to the zones
    }
    this.lock?.release();
    this.packets.stop();
    const closedFn = (): never => {
      throw new MbufError("ECLOSED", "the pool is closed");
    };
    this.ex = new Proxy({} as CoreExports, { get: () => closedFn });
    this.removeAllListeners();
  }

  /** True once close() ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Waiting requests of this thread now (stats().waits.waiting without taking a snapshot; 0 once closed). */
  get waiting(): number {
    return this.waits.waiting;
  }

  /** The raw core exports, for modules of this package that extend the Pool. */
  get core(): CoreExports {
    return this.ex;
  }

  /** Current memory buffer (memory may grow unless pinned). */
  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  /**
   * After a call that may have given buffers back to the zones: serve waiters, in their
   * documented order (one test when nobody waits, as on the free path).
   */
  protected returned(): void {
    if (this.handoffWaiters !== 0) this.waits.serve(true);
  }

  /** Throws ECLOSED after close(): for the calls that act without reaching the core first. */
  protected live(): void {
    if (this.closed) throw new MbufError("ECLOSED", "the pool is closed");
  }

  /** Error for a handle that is not an i32. */
  protected badHandle(call: string, m: unknown): MbufError {
    return new MbufError("EBADHANDLE", `${call}(${describeValue(m)}): not an mbuf handle`);
  }

  /** The error of a failed allocation call, naming the argument that is wrong. */
  protected allocError(r: number, call: string, how: number, type: number): MbufError {
    if (r === EINVAL_CODE) {
      if (!(type >= 1 && type < MT_NTYPES)) return new MbufError("EINVAL", `${call}: type ${type} is out of range (an MT_* type, 1 to ${MT_NTYPES - 1}; MT.DATA is 1)`);
      const mode = how & ~M_RECV;
      if (mode !== M_NOWAIT && mode !== M_WAITOK) return new MbufError("EINVAL", `${call}: how ${how} must be M_NOWAIT or M_WAITOK, optionally | M_RECV`);
    }
    return coreError(r, call, type);
  }

  /** Error for an argument that is not an i32 (the core would see it truncated). */
  protected argError(call: string, a: unknown, b: unknown): MbufError {
    return new MbufError("EINVAL", `${call}(${describeValue(a)}, ${describeValue(b)}): arguments must be integers`);
  }
}

/**
 * The option a shared pool refuses: an unpinned memory (a shared memory cannot move its buffer).
 * @throws MbufError EINVAL naming the option.
 */
function checkSharedOptions(o: PoolOptions): void {
  if (o.pinned === false) throw new MbufError("EINVAL", "shared: true needs a pinned memory (a shared memory cannot move its buffer): drop pinned: false");
}
