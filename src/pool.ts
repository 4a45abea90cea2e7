// The Pool: one WebAssembly core instance, its memory, its profile and
// tunables, and the mbuf(9) API without the `m_` prefix.
//
// Hot paths (get/free and friends) are one call into the raw core export
// plus a sign test: no JS object is created per operation and no loader
// wrapper sits in between. Everything else (snapshots, reports, audits,
// drains, messages) lives here in the host, where time and policy belong.

import { EventEmitter } from "node:events";
import { instantiateCore, type Build } from "./core/module.js";
import { type CoreExports, INIT_PINNED, INIT_MBUF_GROWS, INIT_CLUSTER_GROWS } from "./core/exports.js";
import { Z, GL } from "./core/layout.js";
import { MbufError, coreError, checkInt } from "./errors.js";
import { getProfile, resolveTunables, type Profile, type ProfileName, type Values, type Layout } from "./profiles.js";
import { M_NOWAIT, M_WAITOK, MT, M_PKTHDR, ZONE_MBUF, ZONE_CLUSTER, PAGE_SIZE } from "./constants.js";
import { readSnapshot, type PoolStats } from "./stats/snapshot.js";
import { formatNetstat, PROFILE_FORMAT } from "./stats/netstat.js";
import { auditMessage, type AuditResult } from "./audit.js";
import { RealClock, type Clock } from "./clock.js";
import { zoneId, checkBool, checkOptions, checkArrayLike, checkPoolOptions } from "./validate.js";

/** Options of Pool.create. */
export interface PoolOptions {
  /** The system to model; `freebsd` (modern) by default. */
  profile?: ProfileName;
  /** Tunables under the profile's own names (or their short aliases), over its autosized defaults. */
  tunables?: Record<string, number>;
  /** Core build: `release` by default (or the MBUFPOOL_BUILD environment variable). */
  build?: Build;
  /** Grow memory to thewall at creation, as pinned kernel memory: views never go stale. */
  pinned?: boolean;
  /** Clock for rate limits and timers; the real clock by default. */
  clock?: Clock;
  /** Receives the system's console messages (never written to stdout by the library). */
  logger?: (message: string) => void;
}

/** A protocol drain routine: frees what it can when an allocation fails (m_reclaim). */
export type DrainRoutine = (pool: Pool) => void;

/** A console message of the modelled system. */
export interface PoolMessage {
  text: string;
  zone: "mbuf" | "cluster";
  at: number;
}

/** Static data the core needs below the arena, with room to spare. */
const STATIC_SLACK = 128 * 1024;
/** True for a number that is an i32: only such values reach the core (2**32 + h would wrap to h). */
const isInt = (v: unknown): boolean => typeof v === "number" && (v | 0) === v;
const isHandle = isInt;

const defaultBuild = (): Build => (process.env.MBUFPOOL_BUILD === "debug" ? "debug" : "release");

export class Pool extends EventEmitter {
  /** The profile this pool models. */
  readonly profile: Profile;
  /** Resolved tunables (system names). */
  readonly tunables: Values;
  /** What the tunables mean for the arena and zones. */
  readonly layout: Layout;
  /** The core build this pool runs. */
  readonly build: Build;
  readonly clock: Clock;
  /** Bytes per cluster (MCLBYTES). */
  readonly mclbytes: number;
  /** Handles one bulk call into the core can carry. */
  readonly bulkMax: number;

  private ex: CoreExports;
  private readonly memory: WebAssembly.Memory;
  private readonly statsAddr: number;
  private readonly zoneBytes: number;
  private readonly globalOff: number;
  private readonly xchgAddr: number;
  private xchg: Int32Array;
  private readonly drains: { name: string; fn: DrainRoutine }[] = [];
  private draining = false;
  private readonly lastMessage = new Map<string, number>();
  private readonly logger?: (message: string) => void;
  private closed = false;

  private constructor(options: PoolOptions) {
    super();
    checkPoolOptions(options);
    this.profile = getProfile(options.profile ?? "freebsd");
    this.tunables = Object.freeze(resolveTunables(this.profile, options.tunables ?? {}));
    this.layout = Object.freeze(this.profile.layout(this.tunables));
    this.build = options.build ?? defaultBuild();
    this.clock = options.clock ?? new RealClock();
    this.logger = options.logger;
    this.mclbytes = this.profile.mclbytes;
    const L = this.layout;
    if (L.nmbufs * 256 > L.thewall || L.nmbclusters * this.mclbytes > L.thewall) {
      throw new MbufError("ETUNABLE",
        `the limits do not fit in the arena: ${L.nmbufs} mbufs and ${L.nmbclusters} clusters against ${L.thewall} bytes`);
    }
    const pages = Math.floor(L.thewall / PAGE_SIZE);
    // The core's metadata per page is checked against MB_META_PER_PAGE below.
    const maxBytes = STATIC_SLACK + pages * 20 + PAGE_SIZE + pages * PAGE_SIZE;
    const maximum = Math.ceil(maxBytes / 65536);
    this.memory = new WebAssembly.Memory({ initial: options.pinned ? maximum : 2, maximum });
    this.ex = instantiateCore(this.build, this.memory, { exhausted: (zone, how) => this.exhausted(zone, how) });
    const ex = this.ex;
    if (ex.MB_ZONE_BYTES.value !== Z.BYTES || ex.MB_GLOBAL_BYTES.value !== GL.BYTES || ex.MB_META_PER_PAGE.value !== 20) {
      throw new Error("mbufpool: the core's counters layout does not match the host's (rebuild with `npm run build`)");
    }
    this.statsAddr = ex.MB_STATS.value;
    this.zoneBytes = ex.MB_ZONE_BYTES.value;
    this.globalOff = ex.MB_GLOBAL.value;
    this.xchgAddr = ex.MB_XCHG.value;
    this.bulkMax = ex.MB_XCHG_CAP.value;
    const clshift = Math.log2(this.mclbytes);
    const flags = (options.pinned ? INIT_PINNED : 0) | (L.mbufGrows ? INIT_MBUF_GROWS : 0) | (L.clusterGrows ? INIT_CLUSTER_GROWS : 0);
    const r = ex.mb_init(L.thewall, clshift, L.nmbufs, L.nmbclusters, flags);
    if (r < 0) throw coreError(r, "mb_init");
    if (L.preallocMbufs) ex.mb_grow(ZONE_MBUF, L.preallocMbufs);
    if (L.preallocClusters) ex.mb_grow(ZONE_CLUSTER, L.preallocClusters);
    this.xchg = new Int32Array(this.memory.buffer, this.xchgAddr, this.bulkMax);
  }

  /**
   * Creates a pool.
   * @throws MbufError ETUNABLE for an unknown profile or tunable, or a value outside its rule.
   */
  static create(options: PoolOptions = {}): Pool {
    return new Pool(options);
  }

  // === Allocation (mbuf(9)) ===

  /**
   * m_get: an mbuf without a packet header.
   * @param how M_NOWAIT (default) or M_WAITOK, optionally | M_RECV.
   * @param type an MT_* type, MT.DATA by default.
   * @returns the handle, or 0 if none could be had (counted as denied, or delayed for M_WAITOK).
   * @throws MbufError EINVAL for a bad how or type.
   */
  get(how: number = M_NOWAIT, type: number = MT.DATA): number {
    if (!isInt(how) || !isInt(type)) throw this.argError("get", how, type);
    const m = this.ex.m_get(how, type);
    if (m < 0) throw coreError(m, "get", type);
    return m;
  }

  /** m_gethdr: an mbuf with a packet header. Arguments and results as get(). */
  gethdr(how: number = M_NOWAIT, type: number = MT.DATA): number {
    if (!isInt(how) || !isInt(type)) throw this.argError("gethdr", how, type);
    const m = this.ex.m_gethdr(how, type);
    if (m < 0) throw coreError(m, "gethdr", type);
    return m;
  }

  /**
   * m_getcl: an mbuf with a cluster attached.
   * @param flags 0 or M_PKTHDR.
   * @returns the handle, or 0 if the mbuf or the cluster could not be had (nothing is kept).
   * @throws MbufError EINVAL for a bad how, type or flags.
   */
  getcl(how: number = M_NOWAIT, type: number = MT.DATA, flags: number = M_PKTHDR): number {
    if (!isInt(how) || !isInt(type) || !isInt(flags)) throw this.argError("getcl", how, type);
    const m = this.ex.m_getcl(how, type, flags);
    if (m < 0) throw coreError(m, "getcl", type);
    return m;
  }

  /**
   * m_clget: attaches a cluster to the empty mbuf `m`.
   * @returns true if attached, false if no cluster could be had (counted).
   * @throws MbufError EBADHANDLE / EDOUBLEFREE for a bad handle, EINVAL if `m` has a cluster or data.
   */
  clget(m: number, how: number = M_NOWAIT): boolean {
    if (!isHandle(m)) throw this.badHandle("clget", m);
    if (!isInt(how)) throw this.argError("clget", m, how);
    const r = this.ex.m_clget(m, how);
    if (r < 0) throw coreError(r, "clget", m);
    return r !== 0;
  }

  /**
   * m_free: frees one mbuf (and its cluster reference).
   * @returns the next mbuf of its chain, now a head of its own, or 0.
   * @throws MbufError EBADHANDLE, EDOUBLEFREE, or EBUSY if `m` is inside a chain or socket buffer.
   */
  free(m: number): number {
    if (!isHandle(m)) throw this.badHandle("free", m);
    const r = this.ex.m_free(m);
    if (r < 0) throw coreError(r, "free", m);
    return r;
  }

  /**
   * m_freem: frees a whole chain.
   * @throws MbufError as free().
   */
  freem(m: number): void {
    if (!isHandle(m)) throw this.badHandle("freem", m);
    const r = this.ex.m_freem(m);
    if (r < 0) throw coreError(r, "freem", m);
  }

  /**
   * Allocates `n` mbufs into `out` in as few core calls as possible.
   * @param options.cluster attach a cluster to each; options.pkthdr give each a packet header.
   * @returns how many were allocated (fewer than n when the pool ran out; the shortfall is counted once).
   * @throws MbufError EINVAL for a bad n, how or type, an `out` shorter than n or not an Int32Array;
   *   ESTATE inside a drain routine (bulk calls share the exchange area).
   */
  getBulk(out: Int32Array, n: number = out.length, how: number = M_NOWAIT, type: number = MT.DATA,
    options: { cluster?: boolean; pkthdr?: boolean } = {}): number {
    if (!(out instanceof Int32Array)) throw new MbufError("EINVAL", "getBulk: out must be an Int32Array");
    checkOptions(options, "getBulk options");
    this.notDraining("getBulk");
    checkInt(n, "n", 0, out.length);
    checkInt(how, "how", 0, 0xffff);
    checkInt(type, "type", 0, 0xffff);
    const flags = options.pkthdr ? M_PKTHDR : 0, cl = options.cluster ? 1 : 0;
    let done = 0;
    while (done < n) {
      const want = Math.min(n - done, this.bulkMax);
      const got = this.ex.m_get_bulk(want, how, type, flags, cl);
      if (got < 0) throw coreError(got, "getBulk", type);
      const x = this.exchange();
      for (let i = 0; i < got; i++) out[done + i] = x[i];
      done += got;
      if (got < want) break;
    }
    return done;
  }

  /**
   * Frees the chains whose heads are `handles[0..n)`. Each batch of bulkMax is
   * checked whole before anything in it is freed.
   * @throws MbufError for the first bad handle (nothing of its batch is freed), with its index in the message;
   *   EINVAL if `handles` is not an array or typed array; ESTATE inside a drain routine.
   */
  freemBulk(handles: ArrayLike<number>, n?: number): void {
    checkArrayLike(handles, "freemBulk handles");
    this.notDraining("freemBulk");
    if (n === undefined) n = handles.length;
    checkInt(n, "n", 0, handles.length);
    let done = 0;
    while (done < n) {
      const cnt = Math.min(n - done, this.bulkMax);
      const x = this.exchange();
      for (let i = 0; i < cnt; i++) {
        const m = handles[done + i];
        if (!isHandle(m)) throw this.badHandle(`freemBulk[${done + i}]`, m);
        x[i] = m;
      }
      const r = this.ex.m_freem_bulk(cnt);
      if (r < 0) {
        const at = done + this.ex.bulk_index();
        throw coreError(r, `freemBulk[${at}]`, handles[at]);
      }
      done += cnt;
    }
  }

  // === Header fields ===

  /** m_chtype: changes the type of `m`. @throws MbufError for a bad handle or type. */
  chtype(m: number, type: number): void {
    if (!isHandle(m)) throw this.badHandle("chtype", m);
    checkInt(type, "type", 1, 15);
    const r = this.ex.m_chtype(m, type);
    if (r < 0) throw coreError(r, "chtype", m);
  }

  /** Sets the owner tag (a non-negative integer) stamped on every mbuf allocated from now on. */
  setOwner(tag: number): void {
    checkInt(tag, "owner tag", 0, 0xffffffff);
    this.ex.mb_set_owner(tag);
  }

  // === Chains and packet data (chain operations) ===

  // === Socket buffers ===

  // === Reservation (seed 003) ===

  /** Sets the m_clalloc reservation flag: while set, only M_RECV requests get clusters. @throws MbufError EINVAL if `flag` is not a boolean. */
  setReserved(flag: boolean): void {
    checkBool(flag, "setReserved flag");
    this.ex.mb_set_reserved(flag ? 1 : 0);
  }

  /** Keeps `count` clusters that only M_RECV requests may take (0 turns it off). */
  setReserve(count: number): void {
    checkInt(count, "reserve", 0, this.layout.nmbclusters);
    const r = this.ex.mb_set_reserve(count);
    if (r < 0) throw coreError(r, "setReserve", count);
  }

  // === Waiting allocation ===

  // === Drain routines and messages ===

  /**
   * Registers a protocol drain routine, run (in registration order) when an
   * allocation fails and the profile's drain rule applies; each may free buffers.
   * @returns a function that unregisters it.
   */
  onDrain(nameOrFn: string | DrainRoutine, fn?: DrainRoutine): () => void {
    const entry = typeof nameOrFn === "function"
      ? { name: nameOrFn.name || `drain${this.drains.length}`, fn: nameOrFn }
      : { name: nameOrFn, fn: fn as DrainRoutine };
    if (typeof entry.fn !== "function" || typeof entry.name !== "string") {
      throw new MbufError("EINVAL", "onDrain needs a function, optionally after a name (a string)");
    }
    this.drains.push(entry);
    return () => {
      const i = this.drains.indexOf(entry);
      if (i >= 0) this.drains.splice(i, 1);
    };
  }

  /** The core's `exhausted` import: message, then drain routines if the profile's rule says so. */
  private exhausted(zone: number, how: number): number {
    const name = zone === ZONE_MBUF ? "mbuf" : "cluster";
    this.emit("exhausted", name, how);
    const text = this.profile.exhaustedMessage[name];
    if (text) this.say(name, text);
    const rule = this.profile.drain[name];
    if (this.draining || rule === "never" || (rule === "wait" && !(how & M_WAITOK))) return 0;
    this.draining = true;
    try {
      for (const d of [...this.drains]) {
        try {
          d.fn(this);
        } catch (e) {
          this.emit("drainError", d.name, e);
        }
      }
    } finally {
      this.draining = false;
    }
    return 1;
  }

  /** Emits a console message of the modelled system, at most once per the profile's interval per zone. */
  private say(zone: "mbuf" | "cluster", text: string): void {
    const now = this.clock.now();
    const last = this.lastMessage.get(zone);
    if (last !== undefined && now - last < this.profile.exhaustedMessage.everyMs) return;
    this.lastMessage.set(zone, now);
    const msg: PoolMessage = { text, zone, at: now };
    this.emit("message", msg);
    this.logger?.(text);
  }

  // === Observation ===

  /** A snapshot of every counter, as a plain object. */
  stats(): PoolStats {
    const t = this.tunables;
    return readSnapshot(this.memory.buffer, this.statsAddr, this.zoneBytes, this.globalOff, {
      profile: this.profile.name,
      mclbytes: this.mclbytes,
      jumboLimits: {
        page: t["kern.ipc.nmbjumbop"] ?? 0,
        nine: t["kern.ipc.nmbjumbo9"] ?? 0,
        sixteen: t["kern.ipc.nmbjumbo16"] ?? 0,
      },
    });
  }

  /** `netstat -m` in a system's dialect (the profile's own by default). @throws MbufError EINVAL for an unknown format or options that are not an object. */
  netstat(options: { format?: string } = {}): string {
    checkOptions(options, "netstat options");
    return formatNetstat(this.stats(), options.format ?? PROFILE_FORMAT[this.profile.name]);
  }

  /** Recounts everything in the core; reports the first problem found. */
  audit(): AuditResult {
    const code = this.ex.mb_audit();
    const u32 = new Uint32Array(this.memory.buffer, this.statsAddr + this.globalOff, GL.BYTES / 4);
    const addr = u32[GL.auditAddr / 4], expected = u32[GL.auditA / 4], found = u32[GL.auditB / 4];
    return { ok: code === 0, code, addr, expected, found, message: auditMessage(code, addr, expected, found) };
  }

  /** Throws an MbufError ESTATE if the audit finds a problem. */
  assertAudit(): void {
    const a = this.audit();
    if (!a.ok) throw new MbufError("ESTATE", `audit failed: ${a.message}`);
  }

  // === Reports and leak detection ===

  // === Management ===

  /**
   * Gives fully free pages of a zone back to the arena, keeping `keep` items free.
   * Refused (returns 0) on profiles whose system never returned memory (freebsd4, rtems).
   * @returns pages released.
   * @throws MbufError EINVAL for a zone other than "mbuf"/"cluster" or a bad count.
   */
  reclaim(zone: "mbuf" | "cluster", keep = 0, maxPages = 0x7fffffff): number {
    checkInt(keep, "keep", 0, 0x7fffffff);
    checkInt(maxPages, "maxPages", 0, 0x7fffffff);
    const id = zoneId(zone, "reclaim");
    if (!this.profile.reclaims) return 0;
    const r = this.ex.mb_reclaim(id, keep, maxPages);
    if (r < 0) throw coreError(r, "reclaim");
    return r;
  }

  /**
   * Grows a zone until `free` items are free (limit and thewall permitting), as netm does.
   * @returns items added.
   * @throws MbufError EINVAL for a zone other than "mbuf"/"cluster" or a bad count.
   */
  grow(zone: "mbuf" | "cluster", free: number): number {
    checkInt(free, "free", 0, 0x7fffffff);
    const r = this.ex.mb_grow(zoneId(zone, "grow"), free);
    if (r < 0) throw coreError(r, "grow");
    return r;
  }

  /** Counts a waiting request that gave up as denied (used by waiting allocation). @throws MbufError EINVAL for a bad zone. */
  countWaitFailed(zone: "mbuf" | "cluster"): void {
    this.ex.mb_wait_failed(zoneId(zone, "countWaitFailed"));
  }

  // === Runtime tunables and netm ===

  /** Releases the instance; any later call throws ECLOSED. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
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

  /** The raw core exports, for modules of this package that extend the Pool. */
  get core(): CoreExports {
    return this.ex;
  }

  /** Current memory buffer (memory may grow unless pinned). */
  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  /** Bulk calls share the exchange area: a drain routine running inside one must not start another. */
  private notDraining(call: string): void {
    if (this.draining) throw new MbufError("ESTATE", `${call} cannot run inside a drain routine (the exchange area is in use)`);
  }

  /** The exchange area, re-viewed if memory grew. */
  private exchange(): Int32Array {
    if (this.xchg.buffer !== this.memory.buffer) {
      this.xchg = new Int32Array(this.memory.buffer, this.xchgAddr, this.bulkMax);
    }
    return this.xchg;
  }

  private badHandle(call: string, m: unknown): MbufError {
    return new MbufError("EBADHANDLE", `${call}(${String(m)}): not an mbuf handle`);
  }

  /** Error for an argument that is not an i32 (the core would see it truncated). */
  private argError(call: string, a: unknown, b: unknown): MbufError {
    return new MbufError("EINVAL", `${call}(${String(a)}, ${String(b)}): arguments must be integers`);
  }
}

