// TCP over pool buffers: net sockets that read straight into clusters.
//
// Each connection is a pool socket (socreate: an MT_SOCKET mbuf holding a
// receive and a send socket buffer) tied to a net.Socket created with Node's
// `onread` option. Before every read Node asks for a buffer. While data
// streams (the last read filled its buffer, so more is waiting in the
// kernel) we hand it a Uint8Array view of the trailing space of a fresh
// cluster (pool.tailspace), so the kernel's bytes land in pool memory with no
// copy; the read callback commits them (pool.commit: m_len and pkthdr.len)
// and appends the mbuf to the receive socket buffer. After a short read the
// connection is probably idle, so Node gets the connection's spill buffer (2
// KiB of JS memory) instead, and the first read of the next burst is copied
// into a cluster: an idle connection holds no cluster. (Were every connection
// to keep a cluster posted, idle connections could hold the whole pool while
// busy ones starve: seed 001's deadlock.) The application takes chains out
// (read(): a chain it must free; readBytes(): a copy) or iterates with
// `for await`. "end" (the peer's FIN) comes only after the application had
// the last chain: a later turn than the read() that took it, and after the
// `for await` body that got it, so `on("end", () => conn.end())` cannot shut
// the sending side before the last reply is written. Writes go out from
// chains: write(chain) appends it to the send socket buffer and hands
// zero-copy views of its bytes to the socket; when the write completes they
// are dropped (sbdrop), as acknowledged data is, and counted in bytesOut.
//
// Back-pressure, never failure. When the receive socket buffer is full, or
// the pool has no cluster for a read that landed in the spill buffer, the
// read callback returns false (Node stops reading); reading resumes when the
// application consumes, or when a waiting allocation of the receive class
// (getclWait with M_RECV, which raises the reservation flag if the pool has
// `reserveFlag`) is served. No byte is ever dropped.
//
// Drops free everything (seed 003's fix): on the idle timeout, a keepalive
// failure, an error or destroy(), soclose frees both socket buffers, and the
// read cluster, queued reads and queued writes are freed too. Every buffer a
// connection takes carries its owner tag, and holders() names them for the
// leak detector.
//
// The pool must be pinned (Pool.create({ pinned: true })): Node keeps the raw
// address of a read buffer and of a pending write, which must not move.

import net from "node:net";
import { EventEmitter } from "node:events";
import type { AddressInfo } from "node:net";
import type { Pool } from "../pool.js";
import { MbufError, checkInt, coreError } from "../errors.js";
import { checkBool } from "../validate.js";
import { M_NOWAIT, M_WAITOK, M_RECV, M_PKTHDR, MT } from "../constants.js";
import type { HolderClassifier } from "../leak/outstanding.js";
import { tcpStats, registerStats, type TcpStats } from "./stats.js";

/** Options of a TCP connection over pool buffers. */
export interface TcpOptions {
  /** sbreserve of the receive socket buffer (65536). */
  rcvHiwat?: number;
  /** sbreserve of the send socket buffer (32768). */
  sndHiwat?: number;
  /** Drop a connection with no traffic for this many ms (0: never; default 0). */
  idleTimeoutMs?: number;
  /** TCP keepalive initial delay in ms (0: off, the default); a failed probe drops the connection. */
  keepAliveMs?: number;
  /**
   * Disable Nagle's algorithm (TCP_NODELAY; true by default). A write goes out as a chain of
   * cluster-sized segments; with Nagle on, a small last segment waits for the peer's delayed
   * ACK, and an echo or request/response exchange stalls on every round trip (bench/README.md).
   */
  noDelay?: boolean;
  /** How long one waiting allocation for the next read waits before it is asked again, in ms (1000). */
  waitMs?: number;
  /**
   * Most clusters the connections of one server may keep posted for their next read at once
   * (default: a quarter of the cluster limit). The rest of the pool stays free for data in flight,
   * so connections that went quiet right after a full read cannot pin the pool.
   */
  maxPosted?: number;
  /** First owner tag of the connections (connection n gets ownerBase + n); 0x10000 by default. */
  ownerBase?: number;
  /** Owner tag set back after a connection's allocation (0 by default). */
  owner?: number;
}

/** Options of createServer: TcpOptions and a name for metrics. */
export interface TcpServerOptions extends TcpOptions {
  /** Label of this server's series in the pool's metrics registry ("tcp"). */
  name?: string;
  /** Register the counters in pool.metricsRegistry (true). */
  metrics?: boolean;
}

/** Options of connect. */
export interface TcpConnectOptions extends TcpOptions {
  port: number;
  /** 127.0.0.1 by default. */
  host?: string;
}

interface Resolved {
  rcvHiwat: number; sndHiwat: number; idleTimeoutMs: number; keepAliveMs: number; waitMs: number;
  noDelay: boolean; ownerBase: number; owner: number; maxPosted: number | undefined;
}

/** Clusters posted for reads now, shared by the connections of one server. */
interface Posting { posted: number }

function resolve(pool: Pool, o: TcpOptions): Resolved {
  if (!pool.pinned) {
    throw new MbufError("EINVAL", "mbufpool/node reads into pool memory: create the pool with { pinned: true }");
  }
  return {
    // A read is up to a cluster: the receive buffer must hold two, the send buffer one.
    // Checked here, not at the first connection: socreate would refuse more than sb_max allows.
    rcvHiwat: checkInt(o.rcvHiwat ?? 65536, "rcvHiwat", 2 * pool.mclbytes, pool.sbHiwatMax),
    sndHiwat: checkInt(o.sndHiwat ?? 32768, "sndHiwat", pool.mclbytes, pool.sbHiwatMax),
    idleTimeoutMs: checkInt(o.idleTimeoutMs ?? 0, "idleTimeoutMs", 0, 0x7fffffff),
    keepAliveMs: checkInt(o.keepAliveMs ?? 0, "keepAliveMs", 0, 0x7fffffff),
    waitMs: checkInt(o.waitMs ?? 1000, "waitMs", 1, 0x7fffffff),
    noDelay: checkBool(o.noDelay ?? true, "noDelay"),
    ownerBase: checkInt(o.ownerBase ?? 0x10000, "ownerBase", 0, 0xffffffff),
    owner: checkInt(o.owner ?? 0, "owner", 0, 0xffffffff),
    maxPosted: o.maxPosted === undefined ? undefined : checkInt(o.maxPosted, "maxPosted", 0, 0x7fffffff),
  };
}

/** write() after end(): the sending side is shut down (sosend's EPIPE). */
export class BrokenPipeError extends Error {
  readonly code = "EPIPE";
  readonly errno = -32;
  readonly syscall = "write";
  constructor() {
    super("Broken pipe: write after end()");
    this.name = "BrokenPipeError";
  }
}

type OnRead = { buffer: () => Uint8Array; callback: (n: number, buf: Uint8Array) => boolean };

/**
 * One TCP connection whose data lives in pool buffers. Events: "readable" (data in the
 * receive socket buffer), "end" (the peer finished and the application had every chain), "drain" (write
 * may go on), "drop" (reason: "idle" | "error" | "destroy"), "close", "connect" (clients),
 * "error" (only if listened to).
 */
export class MbufSocket extends EventEmitter {
  /** The Node socket (do not read from it: data arrives through the pool). */
  readonly socket: net.Socket;
  /** The pool socket (socreate) holding the two socket buffers. */
  readonly so: number;
  /** The owner tag of every buffer this connection takes. */
  readonly owner: number;
  /** "address:port" of the peer, when known. */
  readonly remote: string;
  /** True once closed and every buffer is back in the pool. */
  released = false;

  private readonly opt: Resolved;
  /** A cluster taken ahead for the next read (0: none). */
  private cur = 0;
  /** This connection's spill buffer (JS memory, made on first use). */
  private spill: Buffer | null = null;
  /** The mbuf whose tail Node is reading into now (0: a spill buffer). */
  private reading = 0;
  private readView: Uint8Array | null = null;
  /** Read data not yet in the receive socket buffer: chains, or spilled bytes. */
  private readonly pend: Array<number | Uint8Array> = [];
  /** Chains the send socket buffer had no room for yet. */
  private readonly sendq: number[] = [];
  private paused = false;
  private waiting = false;
  private starved = false;
  private eof = false;
  private ended = false;
  /** The iterator has yielded a chain and the loop body has not asked for the next one yet. */
  private holding = false;
  private endSoon = false;
  /** end() was called (SBS_CANTSENDMORE): write() fails from now on. */
  private cantSendMore = false;
  /** The Node socket closed cleanly with data still unread: released after "end". */
  private lingering = false;
  /** Lengths of the writes handed to the socket, oldest first (their callbacks come in order). */
  private readonly inflight: number[] = [];
  /** Bytes of the write being handed to the socket that are not yet in a view. */
  private wLeft = 0;
  private wantDrain = false;
  private dropReason: string | null = null;

  /** @internal Use createServer or connect. */
  constructor(readonly pool: Pool, so: number, owner: number, opt: Resolved, readonly stats: TcpStats,
    private readonly posting: Posting, make: (onread: OnRead) => net.Socket) {
    super();
    this.so = so;
    this.owner = owner;
    this.opt = opt;
    this.socket = make({ buffer: this.nextBuffer, callback: this.onRead });
    this.remote = `${this.socket.remoteAddress ?? "?"}:${this.socket.remotePort ?? "?"}`;
    const s = this.socket;
    s.on("end", () => {
      this.eof = true;
      this.checkEnd();
    });
    s.on("error", (e) => {
      this.stats.errors++;
      this.dropReason ??= "error";
      if (this.listenerCount("error") > 0) this.emit("error", e);
    });
    s.on("close", this.onClose);
    if (opt.idleTimeoutMs > 0) {
      s.setTimeout(opt.idleTimeoutMs, () => {
        this.stats.idleDrops++;
        this.drop("idle");
      });
    }
    if (opt.keepAliveMs > 0) s.setKeepAlive(true, opt.keepAliveMs);
    s.setNoDelay(opt.noDelay);
  }

  /**
   * The Node socket closed. A clean close (both sides finished) can come while data the peer sent
   * is still unread, as for a client that half-closed and reads its reply afterwards: that data
   * stays readable, and the connection is released after "end", as a socket's readable side ends
   * only once it is read. Errors and drops release at once.
   */
  private readonly onClose = (hadError: boolean): void => {
    if (!hadError && this.dropReason === null && this.eof && !this.ended && !this.released && !this.pool.isClosed) {
      this.lingering = true;
      this.deferEnd();
      return;
    }
    this.release();
  };

  // --- receive path ---

  /** Takes a cluster for a read, under this connection's owner tag; 0 if the pool has none. */
  private take(): number {
    const p = this.pool;
    p.setOwner(this.owner);
    const m = p.getcl(M_NOWAIT | M_RECV, MT.DATA, M_PKTHDR);
    p.setOwner(this.opt.owner);
    if (m === 0) this.stats.denied++;
    return m;
  }

  /**
   * Node's buffer generator: the tail of the cluster taken after a full read (data is streaming:
   * the next read lands in the pool with no copy), else the connection's spill buffer. An idle
   * connection so holds no cluster: were every connection to keep one posted, idle connections
   * could hold the whole pool while busy ones starve (seed 001's deadlock).
   */
  private readonly nextBuffer = (): Uint8Array => {
    let m = this.released ? 0 : this.cur;
    this.cur = 0;
    if (m !== 0 && !this.mayPost()) {
      this.pool.freem(m);
      m = 0;
    }
    if (m !== 0) this.posting.posted++;
    this.reading = m;
    this.readView = m !== 0 ? this.pool.tailspace(m) : (this.spill ??= Buffer.allocUnsafe(this.pool.mclbytes));
    return this.readView;
  };

  /** Node's read callback: commit, queue, deliver; false stops reading. */
  private readonly onRead = (n: number, buf: Uint8Array): boolean => {
    if (this.released || this.pool.isClosed) {
      this.release();
      return false;
    }
    this.stats.bytesIn += n;
    if (this.reading !== 0 && buf === this.readView) {
      this.pool.commit(this.reading, n);
      this.pend.push(this.reading);
      this.stats.zeroCopyReads++;
    } else {
      this.pend.push(buf.subarray(0, n));
      this.stats.spilledReads++;
    }
    const full = n === buf.length;
    if (this.reading !== 0) this.posting.posted--;
    this.reading = 0;
    this.readView = null;
    this.deliver();
    // A full read: more is likely waiting in the kernel, read it straight into a cluster.
    if (full && this.cur === 0 && this.pend.length === 0 && this.mayPost()) this.cur = this.take();
    if (this.mustPause()) {
      this.pauseReading();
      return false;
    }
    return true;
  };

  /** Moves queued reads into the receive socket buffer while it has room (and clusters for spills). */
  private deliver(): void {
    const p = this.pool;
    let moved = false;
    this.starved = false;
    while (this.pend.length > 0) {
      const x = this.pend[0];
      if (typeof x === "number") {
        if (!p.sbappend(this.so, "rcv", x)) break;
      } else {
        if (p.sbspace(this.so, "rcv") < x.length) break;
        if (this.cur === 0) this.cur = this.take();
        if (this.cur === 0) {
          this.starved = true;
          break;
        }
        const m = this.cur;
        this.cur = 0;
        p.tailspace(m).set(x);
        p.commit(m, x.length);
        if (!p.sbappend(this.so, "rcv", m)) {
          p.freem(m);
          throw new MbufError("ESTATE", "sbappend refused a chain sbspace had room for");
        }
      }
      this.pend.shift();
      moved = true;
    }
    // One "readable" per turn of the event loop: the reads of a poll phase (libuv reads up to 32 in a row)
    // are taken out as one chain and written back with one writev.
    if (moved && !this.readableSoon) {
      this.readableSoon = true;
      setImmediate(this.emitReadable);
    }
  }

  private readableSoon = false;
  private readonly emitReadable = (): void => {
    this.readableSoon = false;
    if (!this.released) this.emit("readable");
  };

  /** True if one more cluster may be posted for a read (maxPosted). */
  private mayPost(): boolean {
    const max = this.opt.maxPosted ?? Math.max(1, this.pool.layout.nmbclusters >> 2);
    return this.posting.posted < max;
  }

  /** True if reading must stop: a read is still queued (the socket buffer or the pool is full) or the socket buffer is nearly full. */
  private mustPause(): boolean {
    if (this.pend.length > 0) return true;
    return this.pool.sbspace(this.so, "rcv") < this.pool.mclbytes;
  }

  private pauseReading(): void {
    if (!this.paused) {
      this.paused = true;
      if (this.starved) this.stats.pausedPool++;
      else this.stats.pausedSockbuf++;
    }
    if (this.starved) this.waitForCluster();
  }

  /** A waiting allocation of the receive class: served first when a cluster is freed. */
  private waitForCluster(): void {
    if (this.waiting || this.released) return;
    this.waiting = true;
    this.pool.getclWait(M_WAITOK | M_RECV, MT.DATA, M_PKTHDR, { timeout: this.opt.waitMs }).then((m) => {
      this.waiting = false;
      if (this.released || this.cur !== 0) {
        this.pool.freem(m);
      } else {
        this.pool.core.m_setowner(m, this.owner);
        this.cur = m;
      }
      this.maybeResume();
    }, (e: MbufError) => {
      this.waiting = false;
      if (e.code !== "ECLOSED") this.maybeResume();
    });
  }

  /** Resumes reading if the socket buffer has room and a cluster is ready; else keeps waiting. */
  private maybeResume(): void {
    if (this.pool.isClosed) return this.release();
    if (!this.paused || this.released) return;
    this.deliver();
    if (this.mustPause()) {
      if (this.starved) this.waitForCluster();
      return;
    }
    if (this.lingering) return;
    this.paused = false;
    this.stats.resumed++;
    this.socket.resume();
  }

  // --- application side ---

  /** Bytes waiting in the receive socket buffer. */
  get readableLength(): number {
    return this.released || this.pool.isClosed ? 0 : this.pool.sbcc(this.so, "rcv");
  }

  /**
   * Takes up to `max` bytes out of the receive socket buffer as a chain of its own: whole mbufs
   * move out (sbtake: no copy, no allocation, so a reader can always drain); only if the first
   * mbuf holds more than `max` is a part copied by reference (copym). The caller must free the
   * chain (or give it to write()).
   * @returns the chain's head, or 0 if nothing is buffered (or no mbuf was free for a part).
   */
  read(max = 0x7fffffff): number {
    checkInt(max, "max", 1, 0x7fffffff);
    if (this.released || this.pool.isClosed) return this.release(), 0;
    const p = this.pool;
    let c = p.sbtake(this.so, "rcv", max);
    if (c !== 0) {
      this.maybeResume();
      if (this.eof) this.deferEnd();
      return c;
    }
    const cc = p.sbcc(this.so, "rcv");
    if (cc === 0) {
      if (this.eof) this.deferEnd();
      return 0;
    }
    const n = Math.min(cc, max);
    p.setOwner(this.owner);
    c = p.copym(p.sbmb(this.so, "rcv"), 0, n, M_NOWAIT);
    p.setOwner(this.opt.owner);
    if (c === 0) {
      this.stats.readDenied++;
      return 0;
    }
    this.consumed(n);
    return c;
  }

  /** Copies up to `max` bytes out of the receive socket buffer (and drops them there). */
  readBytes(max = 0x7fffffff): Uint8Array {
    checkInt(max, "max", 1, 0x7fffffff);
    if (this.released || this.pool.isClosed) return this.release(), new Uint8Array(0);
    const p = this.pool;
    const n = Math.min(p.sbcc(this.so, "rcv"), max);
    if (n === 0) return new Uint8Array(0);
    const out = p.copydata(p.sbmb(this.so, "rcv"), 0, n);
    this.consumed(n);
    return out;
  }

  private consumed(n: number): void {
    this.pool.sbdrop(this.so, "rcv", n);
    this.maybeResume();
    if (this.eof) this.deferEnd();
  }

  /**
   * "end" once the peer has finished and the application has everything: nothing buffered, and
   * no chain of the iterator still in the loop body (it may not have been written yet).
   */
  private checkEnd(): void {
    if (this.pool.isClosed) return this.release();
    if (this.eof && !this.ended && !this.released && !this.holding && this.pend.length === 0 &&
      this.pool.sbcc(this.so, "rcv") === 0) {
      this.ended = true;
      this.emit("end");
      if (this.lingering) this.release();
    }
  }

  /**
   * The last data was just taken by read() or readBytes(): "end" waits for a later turn of the
   * event loop, so the application writes what it got before an "end" listener calls end().
   */
  private deferEnd(): void {
    if (this.ended || this.endSoon) return;
    this.endSoon = true;
    setImmediate(this.endNow);
  }

  private readonly endNow = (): void => {
    this.endSoon = false;
    this.checkEnd();
  };

  /**
   * Chains as they arrive (each must be freed or written); ends when the peer has finished.
   * "end" comes when the loop body has finished with the last chain and asks for the next one.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<number, void, undefined> {
    try {
      for (;;) {
        const m = this.read();
        if (m !== 0) {
          this.holding = true;
          yield m;
          this.holding = false;
          continue;
        }
        this.checkEnd();
        if (this.ended || this.released) return;
        if (this.readableLength > 0) {
          // Data, but no mbuf for the chain: wait for one to be freed.
          try {
            this.pool.free(await this.pool.getWait(M_WAITOK, MT.DATA, { timeout: this.opt.waitMs }));
          } catch (e) {
            if ((e as MbufError).code === "ECLOSED") return;
          }
          continue;
        }
        await new Promise<void>((res) => {
          const done = (): void => {
            this.off("readable", done).off("end", done).off("close", done);
            res();
          };
          this.on("readable", done).on("end", done).on("close", done);
        });
      }
    } finally {
      // A loop left early (break, throw) holds no chain any more.
      this.holding = false;
      if (this.eof) this.deferEnd();
    }
  }

  // --- send path ---

  /**
   * Sends the chain of head `m` (which belongs to the connection from now on, and is freed when
   * its bytes are written, or when the connection drops): appended to the send socket buffer,
   * its bytes go to the socket as zero-copy views.
   * @returns false if the send socket buffer is full: wait for "drain" before writing more.
   * @throws BrokenPipeError (EPIPE) after end(); the chain is freed, as sosend frees it.
   */
  write(m: number): boolean {
    if (this.cantSendMore) {
      if (!this.pool.isClosed) {
        const e = this.pool.core.m_tailptr(m);
        if (e < 0) throw coreError(e, "write", m);
        this.pool.freem(m);
      }
      throw new BrokenPipeError();
    }
    if (this.released || this.pool.isClosed) {
      if (!this.pool.isClosed) this.pool.freem(m);
      this.release();
      return false;
    }
    // Only a head may be sent (it is owned from now on): EBADHANDLE, EDOUBLEFREE, EBUSY otherwise.
    const e = this.pool.core.m_tailptr(m);
    if (e < 0) throw coreError(e, "write", m);
    this.sendq.push(m);
    this.pump();
    if (this.sendq.length > 0) {
      this.stats.writeBlocked++;
      this.wantDrain = true;
      return false;
    }
    return true;
  }

  /** Appends queued chains to the send socket buffer and hands their bytes to the socket. */
  private pump(): void {
    const p = this.pool, so = this.so;
    while (this.sendq.length > 0) {
      const m = this.sendq[0];
      let len = p.length(m);
      const before = p.sbcc(so, "snd");
      const space = p.sbspace(so, "snd");
      if (len > space) {
        // Larger than the room left: send what fits now, the rest when writes complete.
        if (space < Math.min(len, p.mclbytes)) return this.retryWhenIdle(before);
        const rest = p.split(m, space);
        if (rest === 0) return this.retryWhenIdle(before);
        this.sendq[0] = rest;
        len = space;
      } else {
        this.sendq.shift();
      }
      if (len > 0 && !p.sbappend(so, "snd", m)) {
        throw new MbufError("ESTATE", "sbappend refused a chain sbspace had room for");
      }
      if (len === 0) {
        p.freem(m);
        continue;
      }
      const s = this.socket;
      this.inflight.push(len);
      this.wLeft = len;
      s.cork();
      p.apply(p.sbmb(so, "snd"), before, len, this.writeView);
      s.uncork();
    }
  }

  /** Hands one segment to the socket; the last one of a write carries its completion. */
  private readonly writeView = (view: Uint8Array): void => {
    this.wLeft -= view.length;
    this.socket.write(view, this.wLeft === 0 ? this.onWritten : undefined);
  };

  /** Completion of the oldest write. A failed one sent nothing: the socket is destroyed, and release frees its bytes. */
  private readonly onWritten = (err?: Error | null): void => {
    const len = this.inflight.shift() ?? 0;
    if (err == null) this.sent(len);
  };

  /** Nothing in flight to complete and wake pump(): try again once an mbuf is freed. */
  private retryWhenIdle(inFlight: number): void {
    if (inFlight > 0 || this.retrying) return;
    this.retrying = true;
    this.pool.getWait(M_WAITOK, MT.DATA, { timeout: this.opt.waitMs }).then((w) => {
      this.retrying = false;
      this.pool.free(w);
      if (!this.released) this.pump();
    }, () => {
      this.retrying = false;
      if (!this.released && !this.pool.isClosed) this.pump();
    });
  }

  private retrying = false;

  /** A write completed: its bytes leave the send socket buffer. */
  private sent(len: number): void {
    if (this.released) return;
    if (this.pool.isClosed) return this.release();
    this.stats.bytesOut += len;
    this.pool.sbdrop(this.so, "snd", len);
    this.pump();
    this.drainNow();
  }

  /**
   * Copies `bytes` into a chain and writes it.
   * @returns true if the bytes were taken; false if nothing was sent (the send socket buffer is
   * full, the pool has no buffer, or the connection is closed): wait for drained(), then write them
   * again. Unlike write(), which always takes its chain, so that a retry never sends them twice.
   * @throws BrokenPipeError (EPIPE) after end().
   */
  writeBytes(bytes: Uint8Array): boolean {
    if (this.cantSendMore) throw new BrokenPipeError();
    if (this.released || this.pool.isClosed) return false;
    if (this.sendq.length > 0) {
      // Still waiting for room: copying now would only queue more of the pool.
      if (!this.wantDrain) this.stats.writeBlocked++;
      this.wantDrain = true;
      return false;
    }
    const p = this.pool;
    p.setOwner(this.owner);
    let m = p.gethdr(M_NOWAIT, MT.DATA);
    if (m !== 0 && !p.append(m, bytes)) {
      p.freem(m);
      m = 0;
    }
    p.setOwner(this.opt.owner);
    if (m === 0) {
      // No buffer: "drain" comes when one is freed (a waiting allocation, given straight back).
      this.stats.denied++;
      this.stats.writeBlocked++;
      this.wantDrain = true;
      this.pool.getWait(M_WAITOK, MT.DATA, { timeout: this.opt.waitMs }).then((w) => {
        this.pool.free(w);
        this.drainNow();
      }, () => this.drainNow());
      return false;
    }
    this.write(m);
    return true;
  }

  private drainNow(): void {
    if (this.released || !this.wantDrain || this.sendq.length > 0) return;
    this.wantDrain = false;
    this.emit("drain");
  }

  /** Resolves on the next "drain" (write may go on) or when the connection closes. */
  drained(): Promise<void> {
    if (this.released) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.off("drain", done).off("close", done);
        resolve();
      };
      this.on("drain", done).on("close", done);
    });
  }

  /** Ends the sending side (shutdown(SHUT_WR)) once queued chains are written; write() fails from now on. */
  end(): void {
    this.cantSendMore = true;
    if (this.released) return;
    if (this.sendq.length === 0) this.socket.end();
    else this.once("drain", () => this.socket.end());
  }

  /** Drops the connection now; every buffer it holds goes back to the pool. */
  destroy(): void {
    this.drop("destroy");
  }

  private drop(reason: string): void {
    if (this.released) return;
    this.dropReason ??= reason;
    this.emit("drop", reason);
    this.socket.destroy();
    // Free at once (the RTEMS fix): Node reads and writes nothing more into pool memory after destroy.
    this.release();
  }

  /** Frees both socket buffers (soclose), the read cluster and the queues. */
  private release(): void {
    if (this.released) return;
    this.released = true;
    const p = this.pool;
    if (this.reading !== 0) this.posting.posted--;
    if (!p.isClosed) {
      if (!this.socket.destroyed) this.socket.destroy();
      p.soclose(this.so);
      for (const m of [this.cur, this.reading]) if (m !== 0) p.freem(m);
      for (const x of this.pend) if (typeof x === "number") p.freem(x);
      for (const m of this.sendq) p.freem(m);
    }
    this.cur = this.reading = 0;
    this.pend.length = 0;
    this.sendq.length = 0;
    this.inflight.length = 0;
    this.stats.open--;
    this.stats.closed++;
    this.emit("close", this.dropReason);
  }

  /** @internal Names what this connection holds, for holders(). */
  holders(out: Map<number, string>): void {
    if (this.released) return;
    const p = this.pool, who = `connection ${this.owner} (${this.remote})`;
    out.set(this.so, `socket of ${who}`);
    const r = p.sbmb(this.so, "rcv"), s = p.sbmb(this.so, "snd");
    if (r) out.set(r, `sockbuf:so_rcv of ${who}`);
    if (s) out.set(s, `sockbuf:so_snd of ${who}`);
    const pcb = p.sopcb(this.so);
    if (pcb) out.set(pcb, `pcb of ${who}`);
    for (const m of [this.cur, this.reading]) if (m) out.set(m, `read buffer of ${who}`);
    for (const x of this.pend) if (typeof x === "number") out.set(x, `receive queue of ${who}`);
    for (const m of this.sendq) out.set(m, `send queue of ${who}`);
  }
}

/** Builds a classifier for pool.outstanding() naming every buffer the given connections hold. */
export function holdersOf(conns: Iterable<MbufSocket>): HolderClassifier {
  const map = new Map<number, string>();
  for (const c of conns) c.holders(map);
  return (head) => map.get(head) ?? null;
}

/** Creates a pool socket under `owner`; 0 if the pool had no mbuf. */
function openSocket(pool: Pool, o: Resolved, owner: number): number {
  pool.setOwner(owner);
  try {
    return pool.socreate({ rcvHiwat: o.rcvHiwat, sndHiwat: o.sndHiwat });
  } finally {
    pool.setOwner(o.owner);
  }
}

/**
 * Takes the stream handle of an accepted socket away from it, so that a socket of ours can read
 * it with `onread` (Node's net.Server cannot give accepted sockets that option). This relies on
 * Node's internal `_handle`, as it is on Node 20: anything without `readStart` is refused (null),
 * and the caller fails loudly instead of making a socket that would never read.
 * @returns the handle (`raw` keeps none), or null if `raw` has no usable one.
 */
export function takeHandle(raw: net.Socket): object | null {
  const r = raw as unknown as { _handle?: unknown };
  const h = r._handle;
  if (h === null || typeof h !== "object" || typeof (h as { readStart?: unknown }).readStart !== "function") return null;
  r._handle = null;
  return h;
}

/**
 * A TCP server whose connections read into pool clusters. Events: "connection" (MbufSocket),
 * "refused" (no socket could be allocated: the connection was closed), "error", "close".
 */
export class MbufServer extends EventEmitter {
  /** The net.Server underneath. */
  readonly server: net.Server;
  /** Open connections. */
  readonly connections = new Set<MbufSocket>();
  /** Counters (also in pool.metricsRegistry as mbufpool_node_tcp_*{name}). */
  readonly stats: TcpStats = tcpStats();
  private readonly opt: Resolved;
  private next = 0;
  private readonly posting: Posting = { posted: 0 };

  constructor(readonly pool: Pool, options: TcpServerOptions = {}) {
    super();
    this.opt = resolve(pool, options);
    if (options.metrics !== false) registerStats(pool.metricsRegistry, "tcp", options.name ?? "tcp", this.stats);
    // Accepted sockets are created paused; their handle moves to a socket that reads with onread.
    this.server = net.createServer({ pauseOnConnect: true }, (raw) => this.accept(raw));
    this.server.on("error", (e) => this.emit("error", e));
  }

  private accept(raw: net.Socket): void {
    const o = this.opt, owner = (o.ownerBase + ++this.next) >>> 0;
    const so = this.pool.isClosed ? 0 : openSocket(this.pool, o, owner);
    if (so === 0) {
      this.stats.refused++;
      raw.destroy();
      this.emit("refused");
      return;
    }
    const handle = takeHandle(raw);
    if (handle === null) {
      // A Node that keeps the handle elsewhere: fail loudly rather than leave a socket that never reads.
      this.pool.soclose(so);
      raw.destroy();
      this.stats.errors++;
      this.emit("error", new MbufError("ESTATE",
        "mbufpool/node: this Node version does not expose an accepted socket's handle (net.Socket._handle), " +
        "so its reads cannot go to pool clusters"));
      return;
    }
    raw.destroy();
    this.stats.accepted++;
    this.stats.open++;
    const conn = new MbufSocket(this.pool, so, owner, o, this.stats, this.posting, (onread) =>
      new net.Socket({ handle, onread, readable: true, writable: true, allowHalfOpen: true } as net.SocketConstructorOpts));
    this.connections.add(conn);
    conn.on("close", () => this.connections.delete(conn));
    this.emit("connection", conn);
  }

  /** Listens (on 127.0.0.1 unless told otherwise). @returns the bound address. */
  listen(port = 0, host = "127.0.0.1"): Promise<AddressInfo> {
    return new Promise((res, rej) => {
      this.server.once("error", rej);
      this.server.listen(port, host, () => {
        this.server.off("error", rej);
        res(this.server.address() as AddressInfo);
      });
    });
  }

  /** The bound address. */
  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /** A classifier naming what each open connection holds (for pool.outstanding / the leak detector). */
  holders(): HolderClassifier {
    return holdersOf(this.connections);
  }

  /** Stops listening and drops every connection (their buffers go back to the pool). */
  close(): Promise<void> {
    for (const c of [...this.connections]) c.destroy();
    return new Promise((res) => this.server.close(() => {
      this.emit("close");
      res();
    }));
  }
}

/**
 * A TCP server over pool buffers: `onConnection` gets each MbufSocket.
 * @throws MbufError EINVAL if the pool is not pinned or an option is bad.
 */
export function createServer(pool: Pool, options: TcpServerOptions = {},
  onConnection?: (conn: MbufSocket) => void): MbufServer {
  const s = new MbufServer(pool, options);
  if (onConnection) s.on("connection", onConnection);
  return s;
}

/**
 * A client connection over pool buffers (emits "connect").
 * @throws MbufError EINVAL for a bad option or an unpinned pool, ENOBUFS if no socket could be allocated.
 */
export function connect(pool: Pool, options: TcpConnectOptions, stats: TcpStats = tcpStats()): MbufSocket {
  const o = resolve(pool, options);
  checkInt(options.port, "port", 1, 65535);
  const owner = o.ownerBase >>> 0;
  const so = openSocket(pool, o, owner);
  if (so === 0) throw new MbufError("ENOBUFS", "No buffer space available");
  stats.accepted++;
  stats.open++;
  let conn: MbufSocket | undefined = undefined;
  conn = new MbufSocket(pool, so, owner, o, stats, { posted: 0 }, (onread) =>
    net.connect({ port: options.port, host: options.host ?? "127.0.0.1", onread, allowHalfOpen: true },
      () => conn?.emit("connect")));
  return conn;
}
