// The receive path of a connection over pool buffers: Node reads into
// clusters, the read callback queues what arrived in the receive socket
// buffer, and reading stops (back-pressure) while the buffer or the pool is
// full.
//
// Each connection is a net.Socket created with Node's `onread` option. After
// every read Node asks for the buffer of the next one. While data streams
// (the last read filled its buffer, so more is waiting in the kernel) it gets
// a Uint8Array view of the trailing space of a fresh cluster
// (pool.tailspace), so the kernel's bytes land in pool memory with no copy;
// the read callback commits them (pool.commit: m_len and pkthdr.len) and
// appends the mbuf to the receive socket buffer. After a short read the
// connection is probably idle, so Node gets the connection's spill buffer (a
// cluster's worth of JS memory) instead, and the first read of the next burst
// is copied into a cluster: an idle connection holds no cluster. (Were every
// connection to keep a cluster posted, idle connections could hold the whole
// pool while busy ones starve: the RTEMS deadlock.)
//
// Back-pressure, never failure: when the receive socket buffer is full, or
// the pool has no cluster for a read that landed in the spill buffer, the
// read callback returns false (Node stops reading); reading resumes when the
// application consumes, or when a waiting allocation of the receive class
// (getclWait with M_RECV, which raises the reservation flag if the pool has
// `reserveFlag`) is served. No byte is ever dropped.

import type net from "node:net";
import { EventEmitter } from "node:events";
import type { Pool } from "../pool.js";
import { MbufError } from "../errors.js";
import { M_NOWAIT, M_WAITOK, M_RECV, M_PKTHDR, MT } from "../constants.js";
import type { TcpStats } from "./stats.js";
import type { Resolved } from "./tcp-options.js";

/** Clusters posted for reads now, shared by the connections of one server. */
export interface Posting { posted: number }

/** Node's `onread` option. */
export type OnRead = { buffer: () => Uint8Array; callback: (n: number, buf: Uint8Array) => boolean };

/** What a connection is made of, and its receive path; MbufSocket adds the rest. */
export abstract class SoReceive extends EventEmitter {
  /** The Node socket (do not read from it: data arrives through the pool). */
  readonly socket: net.Socket;
  /** The pool socket (socreate) holding the two socket buffers. */
  readonly so: number;
  /** The owner tag of every buffer this connection takes. */
  readonly owner: number;
  /** True once closed and every buffer is back in the pool. */
  released = false;

  protected readonly opt: Resolved;
  /** A cluster taken ahead for the next read (0: none). */
  protected cur = 0;
  /** This connection's spill buffer (JS memory, made on first use). */
  private spill: Buffer | null = null;
  /** The mbuf whose tail Node is reading into now (0: a spill buffer). */
  protected reading = 0;
  private readView: Uint8Array | null = null;
  /** Read data not yet in the receive socket buffer: chains, or spilled bytes. */
  protected readonly pend: Array<number | Uint8Array> = [];
  private paused = false;
  private waiting = false;
  private starved = false;
  /** The Node socket closed cleanly with data still unread: released after "end". */
  protected lingering = false;
  private readableSoon = false;

  constructor(readonly pool: Pool, so: number, owner: number, opt: Resolved, readonly stats: TcpStats,
    protected readonly posting: Posting, make: (onread: OnRead) => net.Socket) {
    super();
    this.so = so;
    this.owner = owner;
    this.opt = opt;
    this.socket = make({ buffer: this.nextBuffer, callback: this.onRead });
  }

  /** Frees everything the connection holds (soclose) and emits "close". */
  protected abstract release(): void;

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
   * the next read lands in the pool with no copy), else the connection's spill buffer.
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
    this.pool.getclWait(M_WAITOK | M_RECV, MT.DATA, M_PKTHDR, { timeout: this.opt.waitMs, unref: true }).then((m) => {
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
  protected maybeResume(): void {
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

  /** Frees the read clusters and queued reads (release). */
  protected releaseReads(): void {
    const p = this.pool;
    if (this.reading !== 0) this.posting.posted--;
    if (!p.isClosed) {
      for (const m of [this.cur, this.reading]) if (m !== 0) p.freem(m);
      for (const x of this.pend) if (typeof x === "number") p.freem(x);
    }
    this.cur = this.reading = 0;
    this.pend.length = 0;
  }

  /** Names the read buffers and queued reads for holders(). */
  protected readHolders(out: Map<number, string>, who: string): void {
    for (const m of [this.cur, this.reading]) if (m) out.set(m, `read buffer of ${who}`);
    for (const x of this.pend) if (typeof x === "number") out.set(x, `receive queue of ${who}`);
  }
}
