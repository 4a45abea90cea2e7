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
import { DataExchange, checkRange, copyData, copyBack, applySegments } from "./pool/exchange.js";
import { sbWhich, readSockbuf, type SockbufName, type SockbufStats, type SocketOptions } from "./pool/sockbuf.js";
import { getProfile, resolveTunables, THEWALL_MAX, type Profile, type ProfileName, type Values, type Layout } from "./tunables/profiles.js";
import { M_NOWAIT, M_WAITOK, MT, M_PKTHDR, M_COPYALL, ZONE_MBUF, ZONE_CLUSTER, PAGE_SIZE, MSIZE } from "./constants.js";
import { readSnapshot, type PoolStats } from "./stats/snapshot.js";
import { formatNetstat, PROFILE_FORMAT } from "./stats/netstat.js";
import { auditMessage, type AuditResult } from "./core/audit.js";
import { RealClock, type Clock } from "./clock.js";
import { planWrite, tunableInfo, listTunables, readTunablesFile, type TunableInfo, type TunableChange } from "./tunables/rules.js";
import { Netm, NETM_OFF, netmOptions, type NetmOptions, type NetmStats } from "./netm.js";
import { WaitQueue, WaitKind, type WaitOptions } from "./waiting/queue.js";
import type { Registry } from "prom-client";
import { PoolMetrics } from "./stats/prometheus.js";
import { formatVmstatZ, formatCensus, zoneRows, typeCensus, type ZoneRow } from "./stats/vmstat.js";
import { outstanding, type OutstandingOptions, type OutstandingReport } from "./leak/outstanding.js";
import { LeakDetector, type LeakDetectorOptions } from "./leak/detector.js";
import { PacketBalancer, resolvePacketZone, type PacketZoneOptions, type PacketZoneConfig, type PacketEpoch } from "./packet-zone.js";
import { zoneId, checkBool, checkOptions, checkArrayLike, checkPoolOptions } from "./validate.js";

/** Options of Pool.create. */
export interface PoolOptions {
  /** The system to model; `freebsd` (modern) by default. */
  profile?: ProfileName;
  /** Tunables under the profile's own names (or their short aliases), over its autosized defaults. */
  tunables?: Record<string, number>;
  /** Core build: `release` by default (or the MBUFPOOL_BUILD environment variable). */
  build?: Build;
  /** Grow memory at creation to the most thewall may reach (maxThewall), as pinned kernel memory: views never go stale. */
  pinned?: boolean;
  /** Clock for rate limits and timers; the real clock by default. */
  clock?: Clock;
  /** Receives the system's console messages (never written to stdout by the library). */
  logger?: (message: string) => void;
  /**
   * The packet zone (pre-joined mbuf+cluster pairs): options, `true`, or `false` for none.
   * Default: on with mode `median` for the `freebsd` profile, off for the others (their systems had none).
   */
  packetZone?: PacketZoneOptions | boolean;
  /** A tunables file (sysctl.conf style `name=value` lines); `tunables` given here win over it. */
  tunablesFile?: string;
  /**
   * Most bytes thewall may be raised to at runtime. The arena's metadata and the
   * WebAssembly memory maximum are laid out for it at creation. Default: on the
   * aix profile 4 x thewall (at least 16 MiB, at most 1 GiB); elsewhere thewall itself
   * (their arena is fixed at boot).
   */
  maxThewall?: number;
  /** netm, deferred growth and shrink: on by default on the aix profile; `true` or settings elsewhere. */
  netm?: boolean | NetmOptions;
  /** Default timeout of waiting requests, in ms (60000; Infinity waits forever). */
  waitTimeoutMs?: number;
  /** How often waiters retry on a `poll` profile (rtems), in ms: its clock tick (10). */
  pollMs?: number;
  /** Clusters only the receive class may take (the reservation tunable *mb_rcv_resv); 0 by default. */
  reserve?: number;
  /** The automatic reservation flag while a receiver waits for a cluster (tunable *mb_rcv_flag); off by default. */
  reserveFlag?: boolean;
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
  // Fields the constructor assigns are `declare`d, the others initialised: a
  // field with neither is first defined as undefined (ES2022 class fields), and
  // V8 then types it as "any" and checks it on every hot-path access.
  /** The profile this pool models. */
  declare readonly profile: Profile;
  declare private values: Values;
  declare private shape: Layout;
  /** The core build this pool runs. */
  declare readonly build: Build;
  declare readonly clock: Clock;
  /** Bytes per cluster (MCLBYTES). */
  declare readonly mclbytes: number;
  /** Handles one bulk call into the core can carry. */
  declare readonly bulkMax: number;

  declare private ex: CoreExports;
  declare private readonly memory: WebAssembly.Memory;
  declare private readonly statsAddr: number;
  declare private readonly zoneBytes: number;
  declare private readonly globalOff: number;
  declare private readonly xchgAddr: number;
  declare private xchg: Int32Array;
  /** The data exchange area of the chain operations, made on first use. */
  private dx?: DataExchange;
  private readonly drains: { name: string; fn: DrainRoutine }[] = [];
  private draining = false;
  /** True while getBulk's core calls fill the exchange area (a drain routine they run must not touch it). */
  private bulkBusy = false;
  private readonly lastMessage = new Map<string, number>();
  private readonly logger?: (message: string) => void;
  private closed = false;
  declare private readonly packets: PacketBalancer;
  /** Bytes thewall may be raised to (the room laid out at creation). */
  declare readonly maxThewall: number;
  /** True if memory was grown to its maximum at creation: views into it never go stale. */
  declare readonly pinned: boolean;
  /** @internal Waiters a free must serve (0: the free path does nothing more). */
  handoffWaiters = 0;
  /** @internal Nonzero while the core's `exhausted` hook runs (inside an allocation). */
  inHook = 0;
  declare private readonly waits: WaitQueue;
  private readonly netmd?: Netm;

  private constructor(options: PoolOptions) {
    super();
    checkPoolOptions(options);
    this.profile = getProfile(options.profile ?? "freebsd");
    const given: Record<string, number> = options.tunablesFile ? readTunablesFile(options.tunablesFile) : {};
    Object.assign(given, options.tunables ?? {});
    if (options.reserve !== undefined) given["reserve"] = options.reserve;
    if (options.reserveFlag !== undefined) given["reserveFlag"] = options.reserveFlag ? 1 : 0;
    this.values = Object.freeze(resolveTunables(this.profile, given));
    this.shape = Object.freeze(this.profile.layout(this.values));
    this.build = options.build ?? defaultBuild();
    this.clock = options.clock ?? new RealClock();
    this.logger = options.logger;
    this.mclbytes = this.profile.mclbytes;
    const L = this.layout;
    if (L.nmbufs * 256 > L.thewall || L.nmbclusters * this.mclbytes > L.thewall) {
      throw new MbufError("ETUNABLE",
        `the limits do not fit in the arena: ${L.nmbufs} mbufs and ${L.nmbclusters} clusters against ${L.thewall} bytes`);
    }
    const wallDefault = this.profile.runtimeWall ? Math.min(THEWALL_MAX, Math.max(4 * L.thewall, 16 * 1024 * 1024)) : L.thewall;
    this.maxThewall = options.maxThewall ?? wallDefault;
    if (!Number.isInteger(this.maxThewall) || this.maxThewall < L.thewall || this.maxThewall > THEWALL_MAX) {
      throw new MbufError("ETUNABLE", `maxThewall=${String(options.maxThewall)} refused: it must be an integer from thewall (${L.thewall} bytes) to ${THEWALL_MAX}`);
    }
    const pages = Math.floor(this.maxThewall / PAGE_SIZE);
    // The core's metadata per page is checked against MB_META_PER_PAGE below.
    const maxBytes = STATIC_SLACK + pages * 20 + PAGE_SIZE + pages * PAGE_SIZE;
    const maximum = Math.ceil(maxBytes / 65536);
    this.pinned = !!options.pinned;
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
    const r = ex.mb_init(this.maxThewall, clshift, L.nmbufs, L.nmbclusters, flags);
    if (r < 0) throw coreError(r, "mb_init");
    const w = ex.mb_set_wall(Math.floor(L.thewall / PAGE_SIZE));
    if (w < 0) throw coreError(w, "mb_set_wall");
    if (L.preallocMbufs) ex.mb_grow(ZONE_MBUF, L.preallocMbufs);
    if (L.preallocClusters) ex.mb_grow(ZONE_CLUSTER, L.preallocClusters);
    this.packets = new PacketBalancer(() => this.ex, () => this.memory.buffer, this.clock, this.statsAddr, this.zoneBytes, this.globalOff);
    this.packets.configure(resolvePacketZone(options.packetZone, this.profile.name, L.nmbclusters));
    this.xchg = new Int32Array(this.memory.buffer, this.xchgAddr, this.bulkMax);
    const t = this.values, pre = this.profile.aliases["reserve"];
    const pollMs = checkInt(options.pollMs ?? 10, "pollMs", 1, 2 ** 31 - 1);
    const waitTimeoutMs = options.waitTimeoutMs ?? 60_000;
    if (typeof waitTimeoutMs !== "number" || !(waitTimeoutMs >= 0)) {
      throw new MbufError("EINVAL", `waitTimeoutMs must be a number of milliseconds >= 0 or Infinity, got ${String(waitTimeoutMs)}`);
    }
    this.waits = new WaitQueue(this, this.clock, this.profile.wake, pollMs, waitTimeoutMs);
    if (t[pre]) this.check(ex.mb_set_reserve(t[pre]), pre);
    this.waits.setAuto(t[this.profile.aliases["reserveFlag"]] === 1);
    const nm = netmOptions(options.netm, this.profile.netm);
    if (nm) this.netmd = new Netm(this, this.clock, nm, this.profile.name === "aix" && nm.lowmbuf === undefined && nm.lowclust === undefined);
  }

  /** Current tunables (system names); runtime writes (sysctl) replace this object. */
  get tunables(): Values {
    return this.values;
  }

  /** What the tunables mean for the arena and zones, now. */
  get layout(): Layout {
    return this.shape;
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
   * @throws MbufError EBADHANDLE / EDOUBLEFREE for a bad handle, EBUSY inside a chain or socket buffer,
   *   EINVAL if `m` has a cluster or data.
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
    if (this.handoffWaiters !== 0) this.waits.serve(true);
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
    if (this.handoffWaiters !== 0) this.waits.serve(true);
  }

  /**
   * Allocates `n` mbufs into `out` in as few core calls as possible.
   * @param options.cluster attach a cluster to each; options.pkthdr give each a packet header.
   * @returns how many were allocated (fewer than n when the pool ran out; the shortfall is counted once).
   * @throws MbufError EINVAL for a bad n, how or type, an `out` shorter than n or not an Int32Array;
   *   ESTATE inside a drain routine that a bulk call ran (they share the exchange area).
   */
  getBulk(out: Int32Array, n: number = out.length, how: number = M_NOWAIT, type: number = MT.DATA,
    options?: { cluster?: boolean; pkthdr?: boolean }): number {
    if (!(out instanceof Int32Array)) throw new MbufError("EINVAL", "getBulk: out must be an Int32Array");
    if (options !== undefined) checkOptions(options, "getBulk options");
    this.notInBulk("getBulk");
    checkInt(n, "n", 0, out.length);
    checkInt(how, "how", 0, 0xffff);
    checkInt(type, "type", 0, 0xffff);
    // No default `= {}`: that would make an object on every call that omits it.
    const flags = options?.pkthdr ? M_PKTHDR : 0, cl = options?.cluster ? 1 : 0;
    let done = 0;
    this.bulkBusy = true;
    try {
      while (done < n) {
        const want = Math.min(n - done, this.bulkMax);
        const got = this.ex.m_get_bulk(want, how, type, flags, cl);
        if (got < 0) throw coreError(got, "getBulk", type);
        const x = this.bulkArea();
        // Into bulkArea() itself, the handles are in place already.
        if (out !== x) for (let i = 0; i < got; i++) out[done + i] = x[i];
        done += got;
        if (got < want) break;
      }
    } finally {
      this.bulkBusy = false;
    }
    return done;
  }

  /**
   * Frees the chains whose heads are `handles[0..n)`. Each batch of bulkMax is
   * checked whole before anything in it is freed.
   * @throws MbufError for the first bad handle (nothing of its batch is freed), with its index in the message;
   *   EINVAL if `handles` is not an array or typed array; ESTATE inside a drain routine that getBulk ran.
   */
  freemBulk(handles: ArrayLike<number>, n?: number): void {
    checkArrayLike(handles, "freemBulk handles");
    this.notInBulk("freemBulk");
    if (n === undefined) n = handles.length;
    checkInt(n, "n", 0, handles.length);
    let done = 0;
    while (done < n) {
      const cnt = Math.min(n - done, this.bulkMax);
      const x = this.bulkArea();
      if (handles === x) {
        // bulkArea() itself: the handles are in place.
      } else if (handles instanceof Int32Array && done === 0 && cnt === handles.length) {
        x.set(handles); // every element is an i32 already: one copy, no view made
      } else {
        for (let i = 0; i < cnt; i++) {
          const m = handles[done + i];
          if (!isHandle(m)) throw this.badHandle(`freemBulk[${done + i}]`, m);
          x[i] = m;
        }
      }
      const r = this.ex.m_freem_bulk(cnt);
      if (r < 0) {
        const at = done + this.ex.bulk_index();
        throw coreError(r, `freemBulk[${at}]`, handles[at]);
      }
      done += cnt;
    }
    if (this.handoffWaiters !== 0) this.waits.serve(true);
  }

  /**
   * The bulk calls' exchange area as `bulkMax` handles. Given as `out` to getBulk, or as
   * `handles` to freemBulk, it saves copying the handles (a fifth of a bulk pair; see
   * bench/README.md): the core writes and reads them in place.
   * The view is shared by every bulk call of this pool: the next one overwrites it. On a pool
   * that is not pinned, an allocation may grow memory and leave the view empty (detached): take
   * bulkArea() again after each call; the handles are still there.
   * @returns an Int32Array over linear memory, bulkMax long.
   */
  bulkArea(): Int32Array {
    // Renewed when detached (length 0), not by comparing with memory.buffer: that getter is a
    // call into V8's runtime.
    if (this.xchg.length === 0) {
      this.xchg = new Int32Array(this.memory.buffer, this.xchgAddr, this.bulkMax);
    }
    return this.xchg;
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
  //
  // Handles that lead a chain are "heads"; operations that change a chain want
  // its head (EBUSY for an mbuf inside a chain or socket buffer). Offsets and
  // lengths outside the chain throw ERANGE and leave it unchanged. An operation
  // that needs buffers and finds none returns 0 / false and leaves the chain as
  // it was. Views from data() and apply() go stale when memory grows (unless
  // the pool is pinned) and after any operation on their chain.

  /**
   * m_length: bytes in the chain of `m`.
   * @throws MbufError EBADHANDLE, EDOUBLEFREE.
   */
  length(m: number): number {
    if (!isHandle(m)) throw this.badHandle("length", m);
    const r = this.ex.m_length(m);
    if (r < 0) throw coreError(r, "length", m);
    return r;
  }

  /**
   * m_copydata: copies bytes of the chain of `m` out.
   * @param off offset in the chain (default 0); @param len bytes (default: to the end).
   * @param out where to copy (a new Uint8Array by default), at `outOff`.
   * @returns `out`.
   * @throws MbufError ERANGE for a range outside the chain or `out`, EINVAL, EBADHANDLE, EDOUBLEFREE.
   */
  copydata(m: number, off = 0, len?: number, out?: Uint8Array, outOff = 0): Uint8Array {
    if (!isHandle(m)) throw this.badHandle("copydata", m);
    checkRange(off, "offset");
    const n = len === undefined ? Math.max(0, this.length(m) - off) : checkRange(len, "length");
    checkRange(outOff, "output offset");
    if (out !== undefined && !(out instanceof Uint8Array)) throw new MbufError("EINVAL", "copydata: out must be a Uint8Array");
    const dst = out ?? new Uint8Array(n);
    if (outOff + n > dst.length) throw new MbufError("ERANGE", `copydata(${m}): ${n} bytes do not fit in the output at ${outOff}`);
    copyData(this.ex, this.dataExchange(), m, off, n, dst, outOff);
    return dst;
  }

  /**
   * m_copyback: writes `bytes` over offset `off` of the chain of head `m`, extending it with
   * mbufs and clusters as needed; a cluster shared by reference is copied before it is written.
   * @returns true, or false if buffers ran out (the chain unchanged, nothing kept).
   * @throws MbufError ERANGE if `off` is beyond the chain's end, EINVAL, EBADHANDLE, EDOUBLEFREE, EBUSY.
   */
  copyback(m: number, off: number, bytes: Uint8Array, how: number = M_NOWAIT): boolean {
    if (!isHandle(m)) throw this.badHandle("copyback", m);
    checkRange(off, "offset");
    if (!(bytes instanceof Uint8Array)) throw new MbufError("EINVAL", "copyback needs a Uint8Array");
    if (!isInt(how)) throw this.argError("copyback", m, how);
    return copyBack(this.ex, this.dataExchange(), m, off, bytes, how);
  }

  /**
   * m_append: appends `bytes` to the chain of head `m` (trailing space first, then new buffers).
   * @returns true, or false if buffers ran out (the chain unchanged).
   * @throws MbufError as copyback().
   */
  append(m: number, bytes: Uint8Array, how: number = M_NOWAIT): boolean {
    if (!isHandle(m)) throw this.badHandle("append", m);
    if (!(bytes instanceof Uint8Array)) throw new MbufError("EINVAL", "append needs a Uint8Array");
    if (!isInt(how)) throw this.argError("append", m, how);
    const dx = this.dataExchange();
    if (bytes.length > dx.cap || dx.busy) return this.copyback(m, this.length(m), bytes, how);
    dx.bytes().set(bytes, 0);
    dx.busy = true;
    let r: number;
    try {
      r = this.ex.m_append(m, bytes.length, dx.addr, how);
    } finally {
      dx.busy = false;
    }
    if (r < 0) throw coreError(r, "append", m);
    return r === 1;
  }

  /**
   * m_copym: a new chain with `len` bytes from offset `off` of the chain of `m`; clusters are
   * shared by reference count (read-only while shared), small mbufs copied. The packet
   * header is copied when `off` is 0.
   * @param len bytes, or M_COPYALL (default) for the rest of the chain.
   * @returns the new head, or 0 if buffers ran out (counted in mcfail).
   * @throws MbufError ERANGE, EINVAL, EBADHANDLE, EDOUBLEFREE.
   */
  copym(m: number, off = 0, len: number = M_COPYALL, how: number = M_NOWAIT): number {
    if (!isHandle(m)) throw this.badHandle("copym", m);
    checkRange(off, "offset");
    checkRange(len, "length");
    if (!isInt(how)) throw this.argError("copym", m, how);
    const r = this.ex.m_copym(m, off, len, how);
    if (r < 0) throw coreError(r, "copym", m);
    return r;
  }

  /**
   * m_copypacket: copym of a whole packet (the head must have a packet header).
   * @returns the new head, or 0 if buffers ran out. @throws MbufError EINVAL, EBADHANDLE, EDOUBLEFREE.
   */
  copypacket(m: number, how: number = M_NOWAIT): number {
    if (!isHandle(m)) throw this.badHandle("copypacket", m);
    if (!isInt(how)) throw this.argError("copypacket", m, how);
    const r = this.ex.m_copypacket(m, how);
    if (r < 0) throw coreError(r, "copypacket", m);
    return r;
  }

  /**
   * m_dup: a deep copy of the chain of `m` (no shared cluster), packed into clusters.
   * @returns the new head, or 0 if buffers ran out. @throws MbufError EINVAL, EBADHANDLE, EDOUBLEFREE.
   */
  dup(m: number, how: number = M_NOWAIT): number {
    if (!isHandle(m)) throw this.badHandle("dup", m);
    if (!isInt(how)) throw this.argError("dup", m, how);
    const r = this.ex.m_dup(m, how);
    if (r < 0) throw coreError(r, "dup", m);
    return r;
  }

  /**
   * m_defrag: copies the chain of head `m` into as few buffers as possible and frees it.
   * @returns the new head (use it instead of `m`), or 0 if buffers ran out (`m` kept intact).
   * @throws MbufError EINVAL, EBADHANDLE, EDOUBLEFREE, EBUSY.
   */
  defrag(m: number, how: number = M_NOWAIT): number {
    if (!isHandle(m)) throw this.badHandle("defrag", m);
    if (!isInt(how)) throw this.argError("defrag", m, how);
    const r = this.ex.m_defrag(m, how);
    if (r < 0) throw coreError(r, "defrag", m);
    return r;
  }

  /**
   * m_pullup: makes the first `n` bytes of the chain of head `m` contiguous in one mbuf.
   * @returns the head to use from now on (the old one may have been freed), or 0 if `n` > MHLEN
   *   needs a new mbuf, or none could be had (counted in mpfail; unlike the kernel, the chain is kept).
   * @throws MbufError ERANGE if `n` is beyond the chain, EINVAL, EBADHANDLE, EDOUBLEFREE, EBUSY.
   */
  pullup(m: number, n: number, how: number = M_NOWAIT): number {
    if (!isHandle(m)) throw this.badHandle("pullup", m);
    checkRange(n, "length");
    if (!isInt(how)) throw this.argError("pullup", m, how);
    const r = this.ex.m_pullup(m, n, how);
    if (r < 0) throw coreError(r, "pullup", m);
    return r;
  }

  /**
   * M_PREPEND: puts bytes before the chain of head `m`: `data` (a length gives zeroed bytes),
   * in its leading space if writable, else in a new mbuf that takes over the packet header.
   * @returns the head to use from now on, or 0 if no mbuf could be had (the chain unchanged).
   * @throws MbufError ERANGE, EINVAL (more than a new mbuf holds: MHLEN/MLEN), EBADHANDLE, EDOUBLEFREE, EBUSY.
   */
  prepend(m: number, data: number | Uint8Array, how: number = M_NOWAIT): number {
    if (!isHandle(m)) throw this.badHandle("prepend", m);
    const len = typeof data === "number" ? checkRange(data, "length") : data instanceof Uint8Array ? data.length : -1;
    if (len < 0) throw new MbufError("EINVAL", "prepend needs a length or a Uint8Array");
    if (!isInt(how)) throw this.argError("prepend", m, how);
    const r = this.ex.m_prepend(m, len, how);
    if (r < 0) throw coreError(r, "prepend", m);
    if (r !== 0 && typeof data !== "number" && len > 0) copyBack(this.ex, this.dataExchange(), r, 0, data, how);
    return r;
  }

  /**
   * m_adj: trims `req` bytes from the head of the chain of head `m`, or -req from its tail.
   * @throws MbufError ERANGE if |req| exceeds the chain's length, EINVAL, EBADHANDLE, EDOUBLEFREE, EBUSY.
   */
  adj(m: number, req: number): void {
    if (!isHandle(m)) throw this.badHandle("adj", m);
    if (!isInt(req)) throw new MbufError(Number.isInteger(req) ? "ERANGE" : "EINVAL", `adj(${m}, ${String(req)}): bad length`);
    const r = this.ex.m_adj(m, req);
    if (r < 0) throw coreError(r, "adj", m);
  }

  /**
   * m_cat: appends the chain of head `n` to the chain of head `m` (`n` must not be used again).
   * @throws MbufError EINVAL if m === n, EBADHANDLE, EDOUBLEFREE, EBUSY.
   */
  cat(m: number, n: number): void {
    if (!isHandle(m)) throw this.badHandle("cat", m);
    if (!isHandle(n)) throw this.badHandle("cat", n);
    const r = this.ex.m_cat(m, n);
    if (r < 0) throw coreError(r, "cat", r === -16 ? n : m);
  }

  /**
   * m_split: splits the chain of head `m` after `len0` bytes.
   * @returns the head of the tail (with a packet header if `m` has one), or 0 if buffers ran out.
   * @throws MbufError ERANGE, EINVAL, EBADHANDLE, EDOUBLEFREE, EBUSY.
   */
  split(m: number, len0: number, how: number = M_NOWAIT): number {
    if (!isHandle(m)) throw this.badHandle("split", m);
    checkRange(len0, "length");
    if (!isInt(how)) throw this.argError("split", m, how);
    const r = this.ex.m_split(m, len0, how);
    if (r < 0) throw coreError(r, "split", m);
    return r;
  }

  /**
   * m_getptr: the mbuf holding byte `off` of the chain of `m`, and the offset inside it.
   * @throws MbufError ERANGE if `off` is beyond the chain's end, EBADHANDLE, EDOUBLEFREE.
   */
  getptr(m: number, off: number): { m: number; off: number } {
    if (!isHandle(m)) throw this.badHandle("getptr", m);
    checkRange(off, "offset");
    const r = this.ex.m_getptr(m, off);
    if (r < 0) throw coreError(r, "getptr", m);
    return { m: r, off: this.ex.m_aux() };
  }

  /**
   * m_apply: calls `fn(view, offset)` for each non-empty segment of [off, off+len) of the chain
   * of `m`, with a zero-copy view valid during the call only; `fn` must not change the chain.
   * @returns the first non-zero result of `fn`, or 0.
   * @throws MbufError ERANGE, EBADHANDLE, EDOUBLEFREE.
   */
  apply(m: number, off: number, len: number, fn: (view: Uint8Array, offset: number) => number | void): number {
    if (!isHandle(m)) throw this.badHandle("apply", m);
    checkRange(off, "offset");
    checkRange(len, "length");
    if (typeof fn !== "function") throw new MbufError("EINVAL", "apply needs a function");
    return applySegments(this.ex, this.dataExchange(), m, off, len, fn);
  }

  /** M_LEADINGSPACE: free bytes before the data of `m` (0 if its cluster is shared). @throws MbufError for a bad handle. */
  leadingspace(m: number): number {
    if (!isHandle(m)) throw this.badHandle("leadingspace", m);
    const r = this.ex.m_leadingspace(m);
    if (r < 0) throw coreError(r, "leadingspace", m);
    return r;
  }

  /** M_TRAILINGSPACE: free bytes after the data of `m` (0 if its cluster is shared). @throws MbufError for a bad handle. */
  trailingspace(m: number): number {
    if (!isHandle(m)) throw this.badHandle("trailingspace", m);
    const r = this.ex.m_trailingspace(m);
    if (r < 0) throw coreError(r, "trailingspace", m);
    return r;
  }

  /** M_WRITABLE: false if `m`'s cluster is shared by reference. @throws MbufError for a bad handle. */
  writable(m: number): boolean {
    if (!isHandle(m)) throw this.badHandle("writable", m);
    const r = this.ex.m_writable(m);
    if (r < 0) throw coreError(r, "writable", m);
    return r === 1;
  }

  /**
   * mtod: a zero-copy view of the m_len bytes of data of the one mbuf `m`. Writing through it
   * writes the mbuf (do not write into a shared cluster: see writable()). The view goes stale
   * when memory grows (unless the pool is pinned) and after any operation on its chain.
   * @throws MbufError EBADHANDLE, EDOUBLEFREE.
   */
  data(m: number): Uint8Array {
    if (!isHandle(m)) throw this.badHandle("data", m);
    const a = this.ex.m_mtod(m);
    if (a < 0) throw coreError(a, "data", m);
    const dx = this.dataExchange();
    return new Uint8Array(dx.memoryBuffer(), a, dx.mlen(m));
  }

  /** The data exchange area (made on first use). */
  private dataExchange(): DataExchange {
    return (this.dx ??= new DataExchange(this.memory, this.ex.MB_DXCHG.value, this.ex.MB_DXCHG_CAP.value));
  }

  // === Socket buffers ===
  //
  // A socket is an MT_SOCKET mbuf holding both socket buffers (and an MT_PCB mbuf if asked);
  // `which` is "rcv" or "snd". A chain given to sbappend/sbappendrecord belongs to the socket
  // buffer afterwards; soclose frees everything the socket holds.

  /**
   * The largest sb_hiwat sbreserve accepts: sb_max (kern.ipc.maxsockbuf, 256 KiB) scaled by
   * MCLBYTES / (MSIZE + MCLBYTES), as sbreserve(9) does (233016 bytes with 2 KiB clusters).
   */
  get sbHiwatMax(): number {
    return Math.floor((this.ex.MB_SB_MAX.value * this.mclbytes) / (MSIZE + this.mclbytes));
  }

  /**
   * socreate: a socket with both socket buffers reserved (32768 send, 65536 receive by default).
   * @returns the socket handle, or 0 if buffers ran out (nothing kept).
   * @throws MbufError EINVAL for bad options.
   */
  socreate(options: SocketOptions = {}, how: number = M_NOWAIT): number {
    checkOptions(options, "socreate options");
    if (!isInt(how)) throw this.argError("socreate", how, 0);
    const snd = checkInt(options.sndHiwat ?? 32768, "sndHiwat", 0, 0x7fffffff);
    const rcv = checkInt(options.rcvHiwat ?? 65536, "rcvHiwat", 0, 0x7fffffff);
    const so = this.ex.socreate(how, options.pcb ? 1 : 0);
    if (so < 0) throw coreError(so, "socreate");
    if (so === 0) return 0;
    if (this.ex.sbreserve(so, 1, snd) !== 1 || this.ex.sbreserve(so, 0, rcv) !== 1) {
      this.ex.soclose(so);
      throw new MbufError("EINVAL", `socreate: a reservation exceeds sb_max (send ${snd}, receive ${rcv})`);
    }
    return so;
  }

  /**
   * soclose: frees both socket buffers, the PCB and the socket (the drop of seed 003).
   * @throws MbufError EINVAL if `so` is not an open socket, EBADHANDLE, EDOUBLEFREE.
   */
  soclose(so: number): void {
    if (!isHandle(so)) throw this.badHandle("soclose", so);
    const r = this.ex.soclose(so);
    if (r < 0) throw coreError(r, "soclose", so);
  }

  /** The MT_PCB mbuf of socket `so`, or 0. @throws MbufError EINVAL, EBADHANDLE. */
  sopcb(so: number): number {
    if (!isHandle(so)) throw this.badHandle("sopcb", so);
    const r = this.ex.so_pcb(so);
    if (r < 0) throw coreError(r, "sopcb", so);
    return r;
  }

  /**
   * sbreserve: sets sb_hiwat (and sb_mbmax = min(8 x hiwat, sb_max)).
   * @returns false if `cc` exceeds what sb_max allows (nothing changed).
   * @throws MbufError ERANGE, EINVAL, EBADHANDLE.
   */
  sbreserve(so: number, which: SockbufName, cc: number): boolean {
    if (!isHandle(so)) throw this.badHandle("sbreserve", so);
    checkRange(cc, "cc");
    const r = this.ex.sbreserve(so, sbWhich(which), cc);
    if (r < 0) throw coreError(r, "sbreserve", so);
    return r === 1;
  }

  /** Sets sb_lowat. @throws MbufError ERANGE unless 0 <= lowat <= sb_hiwat, EINVAL, EBADHANDLE. */
  sbsetlowat(so: number, which: SockbufName, lowat: number): void {
    if (!isHandle(so)) throw this.badHandle("sbsetlowat", so);
    checkRange(lowat, "lowat");
    const r = this.ex.sbsetlowat(so, sbWhich(which), lowat);
    if (r < 0) throw coreError(r, "sbsetlowat", so);
  }

  /**
   * sbappend: gives the chain of head `m` to the last record of a socket buffer, compacting
   * small mbufs into trailing space (a new record after one ended with M_EOR). As in BSD's
   * sbcompress, mbufs that hold no data are freed rather than queued: a chain of no bytes is
   * freed whole and the call returns true.
   * @returns true (the chain is the socket's now, or was empty and freed), or false if its bytes
   *   exceed sbspace (`m` is still the caller's).
   * @throws MbufError EINVAL, EBADHANDLE, EDOUBLEFREE, EBUSY.
   */
  sbappend(so: number, which: SockbufName, m: number): boolean {
    if (!isHandle(so)) throw this.badHandle("sbappend", so);
    if (!isHandle(m)) throw this.badHandle("sbappend", m);
    const r = this.ex.sbappend(so, sbWhich(which), m);
    if (r < 0) throw coreError(r, "sbappend", m);
    return r === 1;
  }

  /** sbappendrecord: gives the chain of head `m` to a socket buffer as a new record (m_nextpkt). Results as sbappend(). */
  sbappendrecord(so: number, which: SockbufName, m: number): boolean {
    if (!isHandle(so)) throw this.badHandle("sbappendrecord", so);
    if (!isHandle(m)) throw this.badHandle("sbappendrecord", m);
    const r = this.ex.sbappendrecord(so, sbWhich(which), m);
    if (r < 0) throw coreError(r, "sbappendrecord", m);
    return r === 1;
  }

  /**
   * sosend's copy: writes `bytes` into a socket buffer (trailing space first, then clusters),
   * all or nothing, in one core call per exchange-area load.
   * @returns true, or false if they exceed sbspace or buffers ran out (nothing written).
   * @throws MbufError EINVAL, EBADHANDLE.
   */
  sbwrite(so: number, which: SockbufName, bytes: Uint8Array, how: number = M_NOWAIT): boolean {
    if (!isHandle(so)) throw this.badHandle("sbwrite", so);
    if (!(bytes instanceof Uint8Array)) throw new MbufError("EINVAL", "sbwrite needs a Uint8Array");
    if (!isInt(how)) throw this.argError("sbwrite", so, how);
    const w = sbWhich(which);
    const dx = this.dataExchange();
    if (bytes.length > dx.cap) {
      // Larger than the exchange area: build the chain (all or nothing), then give it whole.
      if (bytes.length > this.sbspace(so, which)) return false;
      const m = this.get(how, MT.DATA);
      if (m === 0) return false;
      if (!this.copyback(m, 0, bytes, how) || !this.sbappend(so, which, m)) {
        this.freem(m);
        return false;
      }
      return true;
    }
    dx.check("sbwrite");
    dx.bytes().set(bytes, 0);
    dx.busy = true;
    let r: number;
    try {
      r = this.ex.sb_write(so, w, bytes.length, how);
    } finally {
      dx.busy = false;
    }
    if (r < 0) throw coreError(r, "sbwrite", so);
    return r === 1;
  }

  /**
   * sbdrop: drops `len` bytes from the front of a socket buffer (acknowledged or read data).
   * @throws MbufError ERANGE if len exceeds sb_cc, EINVAL, EBADHANDLE.
   */
  sbdrop(so: number, which: SockbufName, len: number): void {
    if (!isHandle(so)) throw this.badHandle("sbdrop", so);
    checkRange(len, "length");
    const r = this.ex.sbdrop(so, sbWhich(which), len);
    if (r < 0) throw coreError(r, "sbdrop", so);
  }

  /** sbdroprecord: frees the first record. @returns false if the buffer was empty. @throws MbufError EINVAL, EBADHANDLE. */
  sbdroprecord(so: number, which: SockbufName): boolean {
    if (!isHandle(so)) throw this.badHandle("sbdroprecord", so);
    const r = this.ex.sbdroprecord(so, sbWhich(which));
    if (r < 0) throw coreError(r, "sbdroprecord", so);
    return r === 1;
  }

  /** sbflush: frees everything in a socket buffer (then sb_cc == 0 and sb_mb == 0). @throws MbufError EINVAL, EBADHANDLE. */
  sbflush(so: number, which: SockbufName): void {
    if (!isHandle(so)) throw this.badHandle("sbflush", so);
    const r = this.ex.sbflush(so, sbWhich(which));
    if (r < 0) throw coreError(r, "sbflush", so);
  }

  /** sbrelease: sbflush, then sb_hiwat = sb_mbmax = 0. @throws MbufError EINVAL, EBADHANDLE. */
  sbrelease(so: number, which: SockbufName): void {
    if (!isHandle(so)) throw this.badHandle("sbrelease", so);
    const r = this.ex.sbrelease(so, sbWhich(which));
    if (r < 0) throw coreError(r, "sbrelease", so);
  }

  /** sbspace: bytes a socket buffer may still take. @throws MbufError EINVAL, EBADHANDLE. */
  sbspace(so: number, which: SockbufName): number {
    if (!isHandle(so)) throw this.badHandle("sbspace", so);
    const r = this.ex.sbspace(so, sbWhich(which));
    if (r < 0) throw coreError(r, "sbspace", so);
    return r;
  }

  /** The fields of a socket buffer (sb_cc, sb_hiwat, sb_mbcnt, sb_mbmax, sb_lowat, sb_mb). @throws MbufError EINVAL, EBADHANDLE. */
  sbstat(so: number, which: SockbufName): SockbufStats {
    const space = this.sbspace(so, which);
    const sb = this.ex.so_sockbuf(so, sbWhich(which));
    return readSockbuf(this.dataExchange().memoryBuffer(), sb, space);
  }


  // === Receive without a copy (mbufpool/node) ===

  /**
   * A zero-copy view of the trailing space of the last mbuf of the chain of head `m`: a reader
   * writes into it, then commit() makes the bytes data. Empty if the cluster is shared.
   * The view goes stale when memory grows (unless the pool is pinned) and after any operation on the chain.
   * @throws MbufError EBADHANDLE, EDOUBLEFREE, EBUSY (not a head).
   */
  tailspace(m: number): Uint8Array {
    if (!isHandle(m)) throw this.badHandle("tailspace", m);
    const a = this.ex.m_tailptr(m);
    if (a < 0) throw coreError(a, "tailspace", m);
    return new Uint8Array(this.dataExchange().memoryBuffer(), a, this.ex.m_aux());
  }

  /**
   * m_commit: `len` bytes written into the trailing space (tailspace()) become data of the chain
   * of head `m`: m_len of its last mbuf and pkthdr.len grow by `len`, as if append() had copied them.
   * @throws MbufError ERANGE if `len` is negative or exceeds the trailing space, EBADHANDLE, EDOUBLEFREE, EBUSY.
   */
  commit(m: number, len: number): void {
    if (!isHandle(m)) throw this.badHandle("commit", m);
    if (!isInt(len)) throw new MbufError(Number.isInteger(len) ? "ERANGE" : "EINVAL", `commit(${m}, ${String(len)}): bad length`);
    const r = this.ex.m_commit(m, len);
    if (r < 0) throw coreError(r, "commit", m);
  }

  /**
   * sbtake: moves the longest run of whole mbufs (at most `max` bytes) from the front of the first
   * record of a socket buffer out, as a chain of the caller's, with no copy and no allocation.
   * @returns the chain's head, or 0 if the buffer is empty or its first mbuf holds more than `max`.
   * @throws MbufError ERANGE if max < 1, EINVAL, EBADHANDLE.
   */
  sbtake(so: number, which: SockbufName, max: number = 0x7fffffff): number {
    if (!isHandle(so)) throw this.badHandle("sbtake", so);
    checkRange(max, "max");
    const r = this.ex.sbtake(so, sbWhich(which), max);
    if (r < 0) throw coreError(r, "sbtake", so);
    return r;
  }

  // === Reservation (seed 003) ===

  /** Sets the m_clalloc reservation flag: while set, only M_RECV requests get clusters. @throws MbufError EINVAL if `flag` is not a boolean. */
  setReserved(flag: boolean): void {
    checkBool(flag, "setReserved flag");
    if (this.closed) throw new MbufError("ECLOSED", "the pool is closed");
    this.waits.setManual(flag);
  }

  /** Keeps `count` clusters that only M_RECV requests may take (0 turns it off). */
  setReserve(count: number): void {
    checkInt(count, "reserve", 0, this.layout.nmbclusters);
    this.sysctl(this.profile.aliases["reserve"], count);
  }

  // === Packet zone (seed 002) ===

  /** The packet zone's settings in force, or null if the pool has none. */
  get packetZone(): PacketZoneConfig | null {
    return this.packets.settings;
  }

  /**
   * Changes the packet zone at run time (replay the 2005 leak with `none`, then apply the fix).
   * `false` removes it: every parked pair goes back to its zones.
   * @throws MbufError EINVAL for a bad option.
   */
  setPacketZone(options: PacketZoneOptions | boolean): void {
    this.packets.configure(resolvePacketZone(options, this.profile.name, this.layout.nmbclusters));
  }

  /**
   * Runs one balancing epoch now (what the timer does every `interval` ms).
   * @returns the demand it measured, the target and band, and the pairs it moved.
   * @throws MbufError ECLOSED after close().
   */
  packetBalance(): PacketEpoch {
    if (this.closed) throw new MbufError("ECLOSED", "the pool is closed");
    return this.packets.epoch();
  }

  /**
   * Joins up to `n` pairs from the native zones into the packet cache, in one batch.
   * @returns pairs joined (fewer if the zones ran short; never fails a request or drains).
   * @throws MbufError EINVAL for a bad n, ESTATE if the pool has no packet zone.
   */
  packetRefill(n: number): number {
    checkInt(n, "n", 0, 0x7fffffff);
    const r = this.ex.mb_packet_refill(n);
    if (r < 0) throw coreError(r, "packetRefill", n);
    return r;
  }

  /**
   * Splits up to `n` parked pairs (all by default) back into their zones, in one batch.
   * @returns pairs split back.
   * @throws MbufError EINVAL for a bad n.
   */
  packetDrain(n: number = 0x7fffffff): number {
    checkInt(n, "n", 0, 0x7fffffff);
    const r = this.ex.mb_packet_drain(n);
    if (r < 0) throw coreError(r, "packetDrain", n);
    return r;
  }

  // === Waiting allocation ===

  /**
   * m_get with M_WAITOK: an mbuf now, or when one is freed (or netm grows the zone).
   * @param how M_WAITOK (default), optionally | M_RECV (served first).
   * @returns a promise of the handle.
   * @throws (rejects) MbufError ETIMEDOUT after `options.timeout` ms (counted as denied), EINVAL, ECLOSED.
   */
  getWait(how: number = M_WAITOK, type: number = MT.DATA, options: WaitOptions = {}): Promise<number> {
    if (!isInt(type)) return Promise.reject(this.argError("getWait", how, type));
    return this.waits.request(WaitKind.Get, how, type, 0, 0, options);
  }

  /** m_gethdr with M_WAITOK. Arguments and results as getWait(). */
  gethdrWait(how: number = M_WAITOK, type: number = MT.DATA, options: WaitOptions = {}): Promise<number> {
    if (!isInt(type)) return Promise.reject(this.argError("gethdrWait", how, type));
    return this.waits.request(WaitKind.GetHdr, how, type, 0, 0, options);
  }

  /**
   * m_getcl with M_WAITOK: an mbuf with a cluster, now or when both can be had.
   * @returns a promise of the handle.
   * @throws (rejects) MbufError ETIMEDOUT (counted as denied), EINVAL, ECLOSED.
   */
  getclWait(how: number = M_WAITOK, type: number = MT.DATA, flags: number = M_PKTHDR, options: WaitOptions = {}): Promise<number> {
    if (!isInt(type) || !isInt(flags)) return Promise.reject(this.argError("getclWait", how, type));
    return this.waits.request(WaitKind.GetCl, how, type, flags, 0, options);
  }

  /**
   * m_clget with M_WAITOK: attaches a cluster to the empty mbuf `m`, now or when one is freed.
   * @returns a promise of `m`.
   * @throws (rejects) MbufError ETIMEDOUT (counted as denied), EBADHANDLE, EDOUBLEFREE, EINVAL, ECLOSED.
   */
  clgetWait(m: number, how: number = M_WAITOK, options: WaitOptions = {}): Promise<number> {
    if (!isHandle(m)) return Promise.reject(this.badHandle("clgetWait", m));
    return this.waits.request(WaitKind.ClGet, how, 0, 0, m, options);
  }

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
    this.inHook++;
    try {
      return this.exhaustedHook(zone, how);
    } finally {
      this.inHook--;
    }
  }

  private exhaustedHook(zone: number, how: number): number {
    const name = zone === ZONE_MBUF ? "mbuf" : "cluster";
    this.netmd?.kick();
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
    this.emitMessage(zone, text);
  }

  /** @internal Delivers a console message of the modelled system: the `message` event and the logger. */
  emitMessage(zone: "mbuf" | "cluster", text: string): void {
    const msg: PoolMessage = { text, zone, at: this.clock.now() };
    this.emit("message", msg);
    this.logger?.(text);
  }

  // === Observation ===

  /** A snapshot of every counter, as a plain object. */
  stats(): PoolStats {
    const t = this.tunables;
    const s = readSnapshot(this.memory.buffer, this.statsAddr, this.zoneBytes, this.globalOff, {
      profile: this.profile.name,
      mclbytes: this.mclbytes,
      jumboLimits: {
        page: t["kern.ipc.nmbjumbop"] ?? 0,
        nine: t["kern.ipc.nmbjumbo9"] ?? 0,
        sixteen: t["kern.ipc.nmbjumbo16"] ?? 0,
      },
      packet: this.packets.state(),
    });
    const w = this.waits.stats;
    s.reservation.auto = w.autoFlag;
    s.waits = w;
    s.netm = this.netmd ? this.netmd.stats : { ...NETM_OFF };
    return s;
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

  /** This pool's Prometheus metrics (its own Registry), made on first use. */
  private promMetrics?: PoolMetrics;

  /** FreeBSD's `vmstat -z` for the pool's zones, then the type census of mbufs in use. */
  vmstatZ(): string {
    const s = this.stats();
    return `${formatVmstatZ(s)}\n${formatCensus(s)}`;
  }

  /** The pool's zones as `vmstat -z` rows and the census as [type name, in use] pairs, as data. */
  zones(): { zones: ZoneRow[]; types: Array<[string, number]> } {
    const s = this.stats();
    return { zones: zoneRows(s), types: typeCensus(s) };
  }

  /** The pool's Prometheus Registry (a fresh one per pool, never prom-client's global registry). */
  get metricsRegistry(): Registry {
    this.promMetrics ??= new PoolMetrics({ profile: this.profile.name });
    return this.promMetrics.registry;
  }

  /** The Prometheus text exposition of a snapshot taken now. */
  metrics(): Promise<string> {
    void this.metricsRegistry;
    return (this.promMetrics as PoolMetrics).text(this.stats());
  }

  /**
   * Every mbuf in use, grouped by owner tag, oldest first (read from memory, no core call per mbuf).
   * @param options.classify names who holds a chain (socket buffers); options.perGroup, options.minAge.
   * @throws MbufError EINVAL for bad options.
   */
  outstanding(options: OutstandingOptions = {}): OutstandingReport {
    checkOptions(options, "outstanding options");
    return outstanding(this, options);
  }

  /**
   * A leak detector sampling this pool on its clock (started); emits "leak" on the pool.
   * @throws MbufError EINVAL for bad options.
   */
  watchLeaks(options: LeakDetectorOptions = {}): LeakDetector {
    checkOptions(options, "watchLeaks options");
    return new LeakDetector(this, options).start();
  }

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
    if (r > 0) this.waits.serve();
    return r;
  }

  /** Counts a waiting request that gave up as denied (used by waiting allocation). @throws MbufError EINVAL for a bad zone. */
  countWaitFailed(zone: "mbuf" | "cluster"): void {
    this.ex.mb_wait_failed(zoneId(zone, "countWaitFailed"));
  }

  // === Runtime tunables and netm ===

  /**
   * Reads a tunable, or writes it on the live pool (`sysctl name=value`, AIX `no -o name=value`).
   * A write is checked whole before anything changes: the tunable's range, its system's runtime
   * rule (boot-time tunables are read-only; FreeBSD's kern.ipc.nmb* may only be raised), the
   * rules of the others (cluster limits may not exceed nmbufs), and the arena (thewall up to
   * maxThewall, never below what is already carved). Then zone limits, thewall, the reserve and
   * the flag change in the core, and waiters are served.
   * @param name the system's name or a short alias.
   * @returns the value; for a write, the change (old and new value).
   * @throws MbufError ETUNABLE naming the tunable, the value and the rule (nothing changed).
   */
  sysctl(name: string): number;
  sysctl(name: string, value: number): TunableChange;
  sysctl(name: string, value?: number): number | TunableChange {
    if (typeof name !== "string") throw new MbufError("ETUNABLE", `a tunable name is a string, got ${String(name)}`);
    if (arguments.length < 2) return tunableInfo(this.profile, this.values, name).value;
    if (this.closed) throw new MbufError("ECLOSED", "the pool is closed");
    const u32 = new Uint32Array(this.memory.buffer, this.statsAddr + this.globalOff, GL.BYTES / 4);
    const plan = planWrite(this.profile, this.values, name, value, { capBytes: this.maxThewall, carvedPages: u32[GL.top / 4] });
    if (plan.old === plan.new) return { name: plan.name, old: plan.old, new: plan.new };
    const before = this.shape, after = plan.layout, ex = this.ex;
    const wall = (): void => {
      if (after.thewall !== before.thewall) this.check(ex.mb_set_wall(Math.floor(after.thewall / PAGE_SIZE)), plan.name);
    };
    if (after.thewall > before.thewall) wall();
    if (after.nmbufs !== before.nmbufs) this.check(ex.mb_set_limit(ZONE_MBUF, after.nmbufs), plan.name);
    if (after.nmbclusters !== before.nmbclusters) this.check(ex.mb_set_limit(ZONE_CLUSTER, after.nmbclusters), plan.name);
    if (after.thewall < before.thewall) wall();
    const resv = this.profile.aliases["reserve"], flag = this.profile.aliases["reserveFlag"];
    if (plan.values[resv] !== this.values[resv]) this.check(ex.mb_set_reserve(plan.values[resv]), plan.name);
    this.values = plan.values;
    this.shape = Object.freeze(after);
    this.waits.setAuto(plan.values[flag] === 1);
    this.waits.serve();
    this.netmd?.kick();
    return { name: plan.name, old: plan.old, new: plan.new };
  }

  /** A tunable's value, default, range, unit, rule and runtime rule. @throws MbufError ETUNABLE if unknown. */
  tunable(name: string): TunableInfo {
    return tunableInfo(this.profile, this.values, name);
  }

  /** Every tunable of the pool's profile, in order (`sysctl -a`, `no -a`). */
  listTunables(): TunableInfo[] {
    return listTunables(this.profile, this.values);
  }

  /**
   * Sets a tunable back to its default (AIX `no -d name`), autosized from the current
   * values of the tunables it depends on. The runtime rules apply as to any write.
   * @throws MbufError ETUNABLE as sysctl().
   */
  resetTunable(name: string): TunableChange {
    return this.sysctl(name, this.tunable(name).default);
  }

  /** netm's counters, or undefined if netm does not manage this pool. */
  get netm(): { readonly stats: NetmStats; tick(): void } | undefined {
    return this.netmd;
  }

  /** A core result during a tunable write: all was checked before, so a failure is a bug. */
  private check(r: number, name: string): void {
    if (r < 0) throw coreError(r, `sysctl ${name}`);
  }

  /** Releases the instance; any later call throws ECLOSED. */
  close(): void {
    if (this.closed) return;
    this.netmd?.stop();
    this.waits.close();
    this.closed = true;
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

  /** The raw core exports, for modules of this package that extend the Pool. */
  get core(): CoreExports {
    return this.ex;
  }

  /** Current memory buffer (memory may grow unless pinned). */
  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  /**
   * Bulk calls share the exchange area: a drain routine that getBulk ran must
   * not start another. (Chain and socket-buffer operations use the separate
   * data exchange area, so a drain routine they run may use bulk calls.)
   */
  private notInBulk(call: string): void {
    if (this.bulkBusy) throw new MbufError("ESTATE", `${call} cannot run inside a drain routine that a bulk call ran (the exchange area is in use)`);
  }

  /** The exchange area, re-viewed if memory grew (growing detaches the old view: length 0). */
  private badHandle(call: string, m: unknown): MbufError {
    return new MbufError("EBADHANDLE", `${call}(${String(m)}): not an mbuf handle`);
  }

  /** Error for an argument that is not an i32 (the core would see it truncated). */
  private argError(call: string, a: unknown, b: unknown): MbufError {
    return new MbufError("EINVAL", `${call}(${String(a)}, ${String(b)}): arguments must be integers`);
  }
}

