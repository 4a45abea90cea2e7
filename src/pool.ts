// The Pool: the mbuf(9) API without the `m_` prefix, over one WebAssembly
// core instance. This file is the facade and its table of contents; what each
// call does lives in the module named after its mechanism:
//
//   allocation, bulk, header fields   here, one core call each (assembly/mbuf.ts, bulk.ts)
//   jumbo clusters (getjcl, cljget)   here; their sizes in pool/jumbo.ts (assembly/jumbo.ts)
//   chains and packet data            here; bytes cross in pool/exchange.ts (assembly/chain*.ts)
//   sockets and socket buffers        pool/sockets.ts (assembly/sockbuf.ts, recv.ts)
//   the reservation flag              waiting/reservation.ts (assembly/mbuf.ts cluster_alloc)
//   the packet zone                   packet-zone.ts, pool/shared-packet-zone.ts (assembly/packet.ts)
//   waiting allocation                waiting/queue.ts
//   drain routines, console messages  pool/drains.ts
//   snapshots, reports, audit, leaks  pool/observe.ts (pool/reports.ts, stats/, leak/)
//   runtime tunables, netm            tunables/rules.ts, tunables/sysctl.ts, netm.ts
//   boot, state, close                pool/boot.ts, pool/base.ts
//   threads: shared pools, attach     pool/share.ts, pool/lock.ts (assembly/manage.ts mb_attach)
//
// Hot paths (get/free and friends) are one call into the raw core export
// plus a sign test: no JS object is created per operation and no loader
// wrapper sits in between (on a shared pool, the export takes the pool lock).

import { MbufError, coreError, checkInt } from "./errors.js";
import { M_NOWAIT, M_WAITOK, MT, M_PKTHDR, M_COPYALL } from "./constants.js";
import { GL, THREADS } from "./core/layout.js";
import { zoneId, checkBool, checkOptions, checkArrayLike, type ZoneName } from "./validate.js";
import { BULK_OPTION_KEYS } from "./pool/options.js";
import { isInt, isHandle, ok } from "./pool/base.js";
import { PoolThreads } from "./pool/threads.js";
import { checkRange, copyData, copyBack, applySegments } from "./pool/exchange.js";
import { clusterSizes, isClusterSize, sizeError } from "./pool/jumbo.js";
import type { PoolOptions, AttachOptions } from "./pool/options.js";
import { ATTACH_OPTION_KEYS } from "./pool/options.js";
import { checkHandle, type ShareHandle } from "./pool/share.js";
import { HandleRing, type RingHandle, type RingPool } from "./pool/ring.js";
import { planWrite, tunableInfo, listTunables, type TunableInfo, type TunableChange } from "./tunables/rules.js";
import { applyPlan } from "./tunables/sysctl.js";
import type { NetmStats } from "./stats/snapshot.js";
import type { WaitOptions } from "./waiting/queue.js";
import { WaitKind } from "./waiting/queue.js";
import { resolvePacketZone, type PacketZoneOptions, type PacketZoneConfig, type PacketEpoch } from "./packet-zone.js";

export type { PoolOptions, AttachOptions } from "./pool/options.js";
export type { ThreadInfo, DepotInfo, FreedReport, ReapReport, ReapOptions, OwnerSet } from "./pool/threads.js";
export type { ShareHandle } from "./pool/share.js";
export { HandleRing, type RingHandle } from "./pool/ring.js";
export type { PoolMessage } from "./pool/drains.js";

/** A protocol drain routine: frees what it can when an allocation fails (m_reclaim). */
export type DrainRoutine = (pool: Pool) => void;

export class Pool extends PoolThreads {
  /** A shared pool's thread's lane (assembly/lane.ts): its handles, made on first use. */
  private laneHandles: Int32Array | undefined = undefined;
  /** The lane's data bytes, and their address. */
  private laneBytes: Uint8Array | undefined = undefined;
  private laneDataAddr = 0;
  /** True while an append holds bytes in the lane (a drain routine it runs must not reuse them). */
  private laneBusy = false;
  /**
   * Creates a pool.
   * @throws MbufError ETUNABLE for an unknown profile or tunable, or a value outside its rule.
   */
  static create(options: PoolOptions = {}): Pool {
    return new Pool(options);
  }

  /**
   * A Pool in this thread over a shared pool another thread created: its own core instance
   * over the same memory, with nothing re-initialised. Buffers, counters and the audit are
   * the pool's; drain routines, waiters, listeners and the owner tag are this thread's.
   * @param handle what pool.shareHandle() returned, received through postMessage or workerData.
   * @param options this thread's clock, logger, waitTimeoutMs and pollMs.
   * @throws MbufError EINVAL for anything but a share handle of this version over a shared memory
   *   that holds a pool, or an unknown option; nothing is attached then.
   */
  static attach(handle: ShareHandle, options: AttachOptions = {}): Pool {
    const h = checkHandle(handle);
    checkOptions(options, "Pool.attach options", ATTACH_OPTION_KEYS);
    return new Pool({
      ...options, profile: h.profile, tunables: h.tunables, build: h.build, maxThewall: h.maxThewall,
      pinned: true, shared: true, packetZone: false, netm: false,
    }, h);
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
    if (m < 0) throw this.allocError(m, "get", how, type);
    return m;
  }

  /** m_gethdr: an mbuf with a packet header. Arguments and results as get(). */
  gethdr(how: number = M_NOWAIT, type: number = MT.DATA): number {
    if (!isInt(how) || !isInt(type)) throw this.argError("gethdr", how, type);
    const m = this.ex.m_gethdr(how, type);
    if (m < 0) throw this.allocError(m, "gethdr", how, type);
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
    if (m < 0) throw this.allocError(m, "getcl", how, type);
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
    return ok(this.ex.m_clget(m, how), "clget", m) !== 0;
  }

  /**
   * m_getjcl: an mbuf with a cluster of `size` bytes: MCLBYTES (then exactly getcl), or on the
   * `freebsd` profile MJUMPAGESIZE, MJUM9BYTES or MJUM16BYTES from its jumbo zone.
   * @param flags 0 or M_PKTHDR.
   * @returns the handle, or 0 if the mbuf or the cluster could not be had (counted as denied, or
   *   delayed for M_WAITOK, in the zone that ran out; nothing is kept).
   * @throws MbufError EINVAL for a bad how, type or flags, or a size the profile has no zone for.
   */
  getjcl(how: number, type: number, flags: number, size: number): number {
    if (!isInt(how) || !isInt(type) || !isInt(flags) || !isInt(size)) throw this.argError("getjcl", how, size);
    const m = this.ex.m_getjcl(how, type, flags, size);
    if (m < 0) throw this.jclError(m, "getjcl", how, type, size);
    return m;
  }

  /**
   * m_cljget: attaches a cluster of `size` bytes (as getjcl's) to the empty mbuf `m`. Unlike the
   * kernel's, it never hands out a cluster alone: the cluster is `m`'s.
   * @returns true if attached; false if no cluster could be had (counted) or a drain routine freed
   *   `m` meanwhile; `m` is unchanged then.
   * @throws MbufError EBADHANDLE / EDOUBLEFREE for a bad handle, EBUSY inside a chain or socket buffer,
   *   EINVAL if `m` has a cluster or data, for a bad how, or a size the profile has no zone for.
   */
  cljget(m: number, how: number, size: number): boolean {
    if (!isHandle(m)) throw this.badHandle("cljget", m);
    if (!isInt(how) || !isInt(size)) throw this.argError("cljget", m, how);
    this.live();
    if (!isClusterSize(size, this.sizes())) throw sizeError("cljget", size, this.profile.name, this.sizes());
    return ok(this.ex.m_cljget(m, how, size), "cljget", m) !== 0;
  }

  /** The cluster sizes this pool gives (MCLBYTES, and the jumbo sizes on `freebsd`): fixed by its layout, made once. */
  private sizes(): readonly number[] {
    return (this.clusterSizeList ??= clusterSizes(this.mclbytes, this.shape));
  }
  private clusterSizeList?: readonly number[];

  /** The error of a failed getjcl, naming the argument that is wrong. */
  private jclError(r: number, call: string, how: number, type: number, size: number): MbufError {
    if (!isClusterSize(size, this.sizes())) return sizeError(call, size, this.profile.name, this.sizes());
    return this.allocError(r, call, how, type);
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
    if (options !== undefined) checkOptions(options, "getBulk options", BULK_OPTION_KEYS);
    this.notInBulk("getBulk");
    checkInt(n, "n", 0, out.length);
    checkInt(how, "how", 0, 0xffff);
    checkInt(type, "type", 0, 0xffff);
    // No default `= {}`: that would make an object on every call that omits it.
    const flags = options?.pkthdr ? M_PKTHDR : 0, cl = options?.cluster ? 1 : 0;
    let done = 0;
    this.bulkBusy = true;
    try {
      const shared = this.lock !== undefined;
      while (done < n) {
        const want = Math.min(n - done, this.bulkMax);
        const got = shared ? this.ex.m_get_bulk_lane(want, how, type, flags, cl) : this.ex.m_get_bulk(want, how, type, flags, cl);
        if (got < 0) throw coreError(got, "getBulk", type);
        const x = shared ? this.lane() : this.coreXchg();
        // Into the area itself (bulkArea()), the handles are in place already.
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
    const shared = this.lock !== undefined;
    while (done < n) {
      const cnt = Math.min(n - done, this.bulkMax);
      const x = shared ? this.lane() : this.coreXchg();
      if (handles === x) {
        // The area itself (bulkArea()): the handles are in place.
      } else if (handles instanceof Int32Array && done === 0 && cnt === handles.length) {
        x.set(handles); // every element is an i32 already: one copy, no view made
      } else {
        for (let i = 0; i < cnt; i++) {
          const m = handles[done + i];
          if (!isHandle(m)) throw this.badHandle(`freemBulk[${done + i}]`, m);
          x[i] = m;
        }
      }
      const r = shared ? this.ex.m_freem_bulk_lane(cnt) : this.ex.m_freem_bulk(cnt);
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
   * The view is shared by every bulk call of this pool: the next one overwrites it (on a shared
   * pool, by every bulk call of this thread: it is the thread's own lane). On a pool that is not
   * pinned, an allocation may grow memory and leave the view empty (detached): take
   * bulkArea() again after each call; the handles are still there.
   * @returns an Int32Array over linear memory, bulkMax long.
   */
  bulkArea(): Int32Array {
    if (this.closed) throw new MbufError("ECLOSED", "the pool is closed");
    return this.lock ? this.lane() : this.coreXchg();
  }

  /**
   * A shared pool's lane for this thread (assembly/lane.ts): the core's exchange area is in the
   * one memory and every thread's, so another thread's call would overwrite handles or bytes
   * this one left there; the lane is this thread's alone, and the bulk calls and append run
   * through it as fast paths. A shared memory never detaches: the views are made once.
   */
  private lane(): Int32Array {
    if (this.laneHandles === undefined) {
      const addr = this.ex.mb_lane();
      this.laneHandles = new Int32Array(this.memory.buffer, addr, THREADS.LANE_HANDLES);
      this.laneDataAddr = addr + THREADS.LANE_DATA;
      this.laneBytes = new Uint8Array(this.memory.buffer, this.laneDataAddr, THREADS.LANE_DATA_BYTES);
    }
    return this.laneHandles;
  }

  /** The core's exchange area, where a bulk call leaves and takes its handles. */
  private coreXchg(): Int32Array {
    // Renewed when detached (length 0), not by comparing with memory.buffer: that getter is a
    // call into V8's runtime.
    if (this.xchg.length === 0) {
      this.xchg = new Int32Array(this.memory.buffer, this.xchgAddr, this.bulkMax);
    }
    return this.xchg;
  }

  // === Handing chains between threads (pool/ring.ts) ===

  /**
   * A ring of `capacity` handles for handing chains to another thread of this shared pool
   * without a copy: one thread pushes, one pops (give the other thread ring.shareHandle()).
   * @throws MbufError ESTATE on a pool that is not shared, EINVAL for a capacity that is not
   *   a power of two from 2 to 65536, ECLOSED.
   */
  createRing(capacity: number = 256): HandleRing {
    this.live();
    if (!this.lock) throw new MbufError("ESTATE", "createRing: rings hand chains between the threads of a shared pool (create it with Pool.create({ shared: true }))");
    return HandleRing.create(this.ringPool(), capacity);
  }

  /**
   * The ring another thread of this pool made, from its ring.shareHandle().
   * @throws MbufError EINVAL for anything but a ring handle made for this pool, ESTATE on a
   *   pool that is not shared, ECLOSED.
   */
  openRing(handle: RingHandle): HandleRing {
    this.live();
    if (!this.lock) throw new MbufError("ESTATE", "openRing: this pool is not shared, so no ring can be of it");
    return HandleRing.open(this.ringPool(), handle);
  }

  /** What a ring needs of this thread's Pool. */
  private ringPool(): RingPool {
    const self = this, lock = this.lock!;
    return {
      get ex() { return self.ex; },
      threadId: lock.slot + 1,
      poolId: lock.poolId,
      get owner() { return self.ownerTag.tag; },
      live: () => self.live(),
    };
  }

  // === Header fields ===

  /** m_chtype: changes the type of `m`. @throws MbufError for a bad handle or type. */
  chtype(m: number, type: number): void {
    if (!isHandle(m)) throw this.badHandle("chtype", m);
    checkInt(type, "type", 1, 15);
    ok(this.ex.m_chtype(m, type), "chtype", m);
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
    return ok(this.ex.m_length(m), "length", m);
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
    const done = copyBack(this.ex, this.dataExchange(), m, off, bytes, how);
    this.returned();
    return done;
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
    if (this.lock === undefined || this.laneBusy || bytes.length > THREADS.LANE_DATA_BYTES) return this.appendCopy(m, bytes, how);
    // A shared pool: through this thread's lane, a fast path when the bytes fit the trailing space.
    this.lane();
    (this.laneBytes as Uint8Array).set(bytes, 0);
    this.laneBusy = true;
    let r: number;
    try {
      r = this.ex.m_append(m, bytes.length, this.laneDataAddr, how);
    } finally {
      this.laneBusy = false;
    }
    return appended(r, m);
  }

  /** append() through the data exchange area (on a shared pool, a locked method: the area is every thread's). */
  private appendCopy(m: number, bytes: Uint8Array, how: number): boolean {
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
    return appended(r, m);
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
    return ok(this.ex.m_copym(m, off, len, how), "copym", m);
  }

  /**
   * m_copypacket: copym of a whole packet (the head must have a packet header).
   * @returns the new head, or 0 if buffers ran out. @throws MbufError EINVAL, EBADHANDLE, EDOUBLEFREE.
   */
  copypacket(m: number, how: number = M_NOWAIT): number {
    if (!isHandle(m)) throw this.badHandle("copypacket", m);
    if (!isInt(how)) throw this.argError("copypacket", m, how);
    return ok(this.ex.m_copypacket(m, how), "copypacket", m);
  }

  /**
   * m_dup: a deep copy of the chain of `m` (no shared cluster), packed into clusters.
   * @returns the new head, or 0 if buffers ran out. @throws MbufError EINVAL, EBADHANDLE, EDOUBLEFREE.
   */
  dup(m: number, how: number = M_NOWAIT): number {
    if (!isHandle(m)) throw this.badHandle("dup", m);
    if (!isInt(how)) throw this.argError("dup", m, how);
    return ok(this.ex.m_dup(m, how), "dup", m);
  }

  /**
   * m_defrag: copies the chain of head `m` into as few buffers as possible and frees it.
   * @returns the new head (use it instead of `m`), or 0 if buffers ran out (`m` kept intact).
   * @throws MbufError EINVAL, EBADHANDLE, EDOUBLEFREE, EBUSY.
   */
  defrag(m: number, how: number = M_NOWAIT): number {
    if (!isHandle(m)) throw this.badHandle("defrag", m);
    if (!isInt(how)) throw this.argError("defrag", m, how);
    const r = ok(this.ex.m_defrag(m, how), "defrag", m);
    this.returned();
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
    const r = ok(this.ex.m_pullup(m, n, how), "pullup", m);
    this.returned();
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
    // The bytes go in through the data exchange area: make sure it is free before the chain changes.
    if (typeof data !== "number" && len > 0) this.dataExchange().check("prepend");
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
    ok(this.ex.m_adj(m, req), "adj", m);
    this.returned();
  }

  /**
   * m_cat: appends the chain of head `n` to the chain of head `m` (`n` must not be used again).
   * @throws MbufError EINVAL if m === n, EBADHANDLE, EDOUBLEFREE, EBUSY.
   */
  cat(m: number, n: number): void {
    if (!isHandle(m)) throw this.badHandle("cat", m);
    if (!isHandle(n)) throw this.badHandle("cat", n);
    const r = this.ex.m_cat(m, n);
    // The core checks m, then n: name the one it refused (m_tailptr checks a head and changes nothing).
    if (r < 0) throw coreError(r, "cat", this.ex.m_tailptr(m) < 0 ? m : n);
    this.returned();
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
    const r = ok(this.ex.m_split(m, len0, how), "split", m);
    this.returned();
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
    return ok(this.ex.m_leadingspace(m), "leadingspace", m);
  }

  /** M_TRAILINGSPACE: free bytes after the data of `m` (0 if its cluster is shared). @throws MbufError for a bad handle. */
  trailingspace(m: number): number {
    if (!isHandle(m)) throw this.badHandle("trailingspace", m);
    return ok(this.ex.m_trailingspace(m), "trailingspace", m);
  }

  /** M_WRITABLE: false if `m`'s cluster is shared by reference. @throws MbufError for a bad handle. */
  writable(m: number): boolean {
    if (!isHandle(m)) throw this.badHandle("writable", m);
    return ok(this.ex.m_writable(m), "writable", m) === 1;
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


  // === Reservation (seed 003) ===

  /**
   * Sets the m_clalloc reservation flag: while set, only M_RECV requests get clusters (on a
   * shared pool, in every thread). @throws MbufError EINVAL if `flag` is not a boolean.
   */
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
   * `false` removes it: every parked pair goes back to its zones. On a shared pool the setting
   * is every thread's, and this thread balances it from now on.
   * @throws MbufError EINVAL for a bad option, ECLOSED after close().
   */
  setPacketZone(options: PacketZoneOptions | boolean): void {
    const config = resolvePacketZone(options, this.profile.name, this.layout.nmbclusters);
    this.live();
    this.packets.configure(config);
  }

  /**
   * Runs one balancing epoch now (what the timer does every `interval` ms).
   * @returns the demand it measured, the target and band, and the pairs it moved.
   * @throws MbufError ECLOSED after close(); ESTATE on a shared pool whose packet zone another
   *   thread balances (nothing moved).
   */
  packetBalance(): PacketEpoch {
    this.live();
    if (!this.packets.balances) {
      throw new MbufError("ESTATE", "packetBalance: another thread balances this shared pool's packet zone (the one that last set it): call it there, or setPacketZone() here first");
    }
    return this.packets.epoch();
  }

  /**
   * Joins up to `n` pairs from the native zones into the packet cache, in one batch.
   * @returns pairs joined (fewer if the zones ran short; never fails a request or drains).
   * @throws MbufError EINVAL for a bad n, ESTATE if the pool has no packet zone.
   */
  packetRefill(n: number): number {
    checkInt(n, "n", 0, 0x7fffffff);
    return ok(this.ex.mb_packet_refill(n), "packetRefill", n);
  }

  /**
   * Splits up to `n` parked pairs (all by default) back into their zones, in one batch.
   * @returns pairs split back.
   * @throws MbufError EINVAL for a bad n.
   */
  packetDrain(n: number = 0x7fffffff): number {
    checkInt(n, "n", 0, 0x7fffffff);
    return ok(this.ex.mb_packet_drain(n), "packetDrain", n);
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
   * m_getjcl with M_WAITOK: an mbuf with a cluster of `size` bytes, now or when both can be had
   * (a freed jumbo cluster of that size serves the first waiter for it). MCLBYTES is getclWait.
   * @returns a promise of the handle.
   * @throws (rejects) MbufError ETIMEDOUT (counted as denied in the zone it lacked), EINVAL (as getjcl), ECLOSED.
   */
  getjclWait(how: number, type: number, flags: number, size: number, options: WaitOptions = {}): Promise<number> {
    if (!isInt(type) || !isInt(flags)) return Promise.reject(this.argError("getjclWait", how, type));
    if (this.closed) return Promise.reject(new MbufError("ECLOSED", "getjclWait: the pool is closed"));
    if (!isClusterSize(size, this.sizes())) return Promise.reject(sizeError("getjclWait", size, this.profile.name, this.sizes()));
    if (size === this.mclbytes) return this.waits.request(WaitKind.GetCl, how, type, flags, 0, options);
    return this.waits.request(WaitKind.GetJcl, how, type, flags, 0, options, size);
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
    this.live();
    return this.drains.register(nameOrFn, fn);
  }

  // === Management ===

  /**
   * Gives fully free pages of a zone back to the arena, keeping `keep` items free.
   * Refused (returns 0) on profiles whose system never returned memory (freebsd4, rtems).
   * @returns pages released.
   * @param zone "mbuf", "cluster", or on `freebsd` a jumbo zone ("jumbo_page", "jumbo_9k", "jumbo_16k",
   *   whose free slabs go back whole).
   * @throws MbufError EINVAL for another zone (a jumbo zone on a profile without them) or a bad count.
   */
  reclaim(zone: ZoneName, keep = 0, maxPages = 0x7fffffff): number {
    checkInt(keep, "keep", 0, 0x7fffffff);
    checkInt(maxPages, "maxPages", 0, 0x7fffffff);
    const id = zoneId(zone, "reclaim", this.shape.jumbo !== undefined);
    this.live();
    if (!this.profile.reclaims) return 0;
    return ok(this.ex.mb_reclaim(id, keep, maxPages), "reclaim");
  }

  /**
   * Grows a zone until `free` items are free (limit and thewall permitting), as netm does.
   * @returns items added.
   * @throws MbufError EINVAL for a zone as reclaim() refuses it, or a bad count.
   */
  grow(zone: ZoneName, free: number): number {
    checkInt(free, "free", 0, 0x7fffffff);
    const r = this.ex.mb_grow(zoneId(zone, "grow", this.shape.jumbo !== undefined), free);
    if (r < 0) throw coreError(r, "grow");
    if (r > 0) this.waits.serve();
    return r;
  }

  /** Counts a waiting request that gave up as denied (used by waiting allocation). @throws MbufError EINVAL for a bad zone. */
  countWaitFailed(zone: ZoneName): void {
    this.ex.mb_wait_failed(zoneId(zone, "countWaitFailed", this.shape.jumbo !== undefined));
  }

  // === Runtime tunables and netm ===

  /**
   * Reads a tunable, or writes it on the live pool (`sysctl name=value`, AIX `no -o name=value`).
   * A write is checked whole before anything changes: the tunable's range, its system's runtime
   * rule (boot-time tunables are read-only; FreeBSD's kern.ipc.nmb* may only be raised), the
   * rules of the others (cluster limits may not exceed nmbufs), and the arena (thewall up to
   * maxThewall, never below what is already carved). Then zone limits, thewall, the reserve and
   * the flag change in the core, and waiters are served. A write that changed something is a
   * `tunable` event ({ name, old, new, by, at }) and a line to the logger.
   * @param name the system's name or a short alias.
   * @param by who writes (for the event and the log; "the application" by default).
   * @returns the value; for a write, the change (old and new value).
   * @throws MbufError ETUNABLE naming the tunable, the value and the rule (nothing changed).
   */
  sysctl(name: string): number;
  sysctl(name: string, value: number, by?: string): TunableChange;
  sysctl(name: string, value?: number, by?: string): number | TunableChange {
    if (typeof name !== "string") throw new MbufError("ETUNABLE", `a tunable name is a string, got ${String(name)}`);
    if (by !== undefined && typeof by !== "string") throw new MbufError("EINVAL", `sysctl: who wrote is a string, got ${String(by)}`);
    if (arguments.length < 2) return tunableInfo(this.profile, this.values, name).value;
    if (this.closed) throw new MbufError("ECLOSED", "the pool is closed");
    const u32 = new Uint32Array(this.memory.buffer, this.statsAddr + this.globalOff, GL.BYTES / 4);
    const plan = planWrite(this.profile, this.values, name, value, { capBytes: this.maxThewall, carvedPages: u32[GL.top / 4] });
    if (plan.old === plan.new) return { name: plan.name, old: plan.old, new: plan.new };
    applyPlan(this.ex, this.profile, plan, this.shape, this.values);
    this.values = plan.values;
    this.shape = Object.freeze(plan.layout);
    this.sharedTunables?.publish(plan.values); // the other threads take them at their next hold of the lock
    this.waits.setAuto(plan.values[this.profile.aliases["reserveFlag"]] === 1);
    this.waits.serve();
    this.netmd?.kick();
    const change: TunableChange = { name: plan.name, old: plan.old, new: plan.new };
    const who = by ?? "the application";
    this.drains.deliver("tunable", [{ ...change, by: who, at: this.clock.now() }]);
    this.drains.log(`${plan.name}: ${plan.old} -> ${plan.new} (by ${who})`);
    return change;
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
  resetTunable(name: string, by?: string): TunableChange {
    return this.sysctl(name, this.tunable(name).default, by);
  }

  /** netm's counters, or undefined if netm does not manage this pool. */
  get netm(): { readonly stats: NetmStats; tick(): void } | undefined {
    return this.netmd;
  }

  /**
   * Bulk calls share the exchange area: a drain routine that getBulk ran must
   * not start another. (Chain and socket-buffer operations use the separate
   * data exchange area, so a drain routine they run may use bulk calls.)
   */
  private notInBulk(call: string): void {
    if (this.bulkBusy) throw new MbufError("ESTATE", `${call} cannot run inside a drain routine that a bulk call ran (the exchange area is in use)`);
  }
}

/** m_append's answer as append() gives it: true, false when buffers ran out, or its error thrown. */
function appended(r: number, m: number): boolean {
  if (r < 0) throw coreError(r, "append", m);
  return r === 1;
}
