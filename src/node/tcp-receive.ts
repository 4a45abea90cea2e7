// The receive path of a connection over pool buffers: large reads, copied
// into the receive socket buffer in one core call, and back-pressure that is
// woken by the free that ends it.
//
// Read size. A read costs a system call and a trip through Node's stream
// code whatever its size, and that, not the copy, is where an echo server's
// time goes (bench/README.md): reading straight into a 2 KiB cluster, as
// this adapter first did, made 32 reads of what Node does in one. So a
// connection reads up to `readSize` (64 KiB, Node's own) at once, into a
// staging buffer shared by every connection of the process (Node copies
// nothing out of it: the read callback runs before the next read of any
// socket, and moves the bytes into the receive socket buffer with sbwrite, one
// core call per 16 KiB, filling the trailing space of the last mbuf first,
// then clusters). An idle connection so holds no cluster and no memory of its
// own (seed 001's deadlock came from idle connections each keeping a cluster
// posted). A pool with clusters as large as a read would let the kernel write
// into the cluster itself; with 2 KiB clusters the memcpy of a 64 KiB read
// costs a few microseconds, far less than the 31 reads it saves.
//
// Each read is as large as the receive socket buffer has room for (the
// largest size class, a power of two from one cluster to readSize, that
// fits), and halves while the pool is short: a read the pool could not hold
// makes the next one half as large, a read it held lets the next one double
// again, so under shortage a connection asks for what the pool can give.
//
// Back-pressure, never failure. When the receive socket buffer is full, or
// the pool had no buffers for a read, the read callback returns false (Node
// stops reading). The bytes of a read the pool could not hold are kept (a
// JS copy: only under shortage) and go in, one served cluster at a time, as
// buffers come back: the connection waits for a cluster in the pool's wait
// queue as the receive class (getclWait with M_RECV, which raises the
// reservation flag if the pool has `reserveFlag`), so the free that makes a
// cluster available serves it, in the queue's order, before any other class.
// `waitMs` is only the safety net of that wait. Reading resumes when the
// socket buffer has room again and nothing is kept. No byte is ever dropped.

import type net from "node:net";
import { EventEmitter } from "node:events";
import type { Pool } from "../pool.js";
import { MbufError } from "../errors.js";
import { M_NOWAIT, M_WAITOK, M_RECV, M_PKTHDR, MT } from "../constants.js";
import type { TcpStats } from "./stats.js";
import type { Resolved } from "./tcp-options.js";
import { autosizes, sbautosize, sbautosizeRelease } from "./tcp-autosize.js";

/** Node's `onread` option. */
export type OnRead = { buffer: () => Uint8Array; callback: (n: number, buf: Uint8Array) => boolean };

/** The staging buffer every connection reads into (grown to the largest readSize in use). */
let staging = new Uint8Array(0);

/** Views of the staging buffer by (cluster size, readSize), made once for every connection that reads that way. */
const viewSets = new Map<number, Uint8Array[]>();

/**
 * Views of the staging buffer, one per size class: a cluster, doubling up to `readSize`. Shared by
 * the connections of one shape, so an idle connection carries none of its own (1,000 connections
 * with six views each were half a megabyte of the heap).
 */
function readViews(mclbytes: number, readSize: number): Uint8Array[] {
  const key = readSize * 65536 + mclbytes;
  let views = viewSets.get(key);
  if (views && views[views.length - 1].buffer === staging.buffer) return views;
  if (staging.length < readSize) staging = new Uint8Array(readSize);
  views = [];
  for (let n = mclbytes; n < readSize; n *= 2) views.push(staging.subarray(0, n));
  views.push(staging.subarray(0, readSize));
  viewSets.set(key, views);
  return views;
}

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
  /** The read buffers by size class, and the largest class the pool's shortage allows now. */
  private readonly views: Uint8Array[];
  private cap: number;
  /** Bytes read that are not in the receive socket buffer yet (the pool had no buffers): JS copies. */
  protected readonly pend: Uint8Array[] = [];
  private paused = false;
  private waiting = false;
  private starved = false;
  /** The Node socket closed cleanly with data still unread: released after "end". */
  protected lingering = false;
  private readableSoon = false;
  /** Socket-buffer autosizing is on (tcp-autosize.ts), and the receive buffer's size now. */
  protected readonly autotune: boolean;
  private rcvHiwat: number;
  /** Bytes autosizing added to this connection's buffers (given back on release). */
  protected grown = 0;
  /** Bytes read from the kernel in this turn of the event loop. */
  private turnBytes = 0;

  constructor(readonly pool: Pool, so: number, owner: number, opt: Resolved, readonly stats: TcpStats,
    make: (onread: OnRead) => net.Socket) {
    super();
    this.so = so;
    this.owner = owner;
    this.opt = opt;
    this.views = readViews(pool.mclbytes, opt.readSize);
    this.cap = this.views.length - 1;
    this.autotune = opt.autotune && autosizes(pool);
    this.rcvHiwat = opt.rcvHiwat;
    this.socket = make({ buffer: this.nextBuffer, callback: this.onRead });
  }

  /** Frees everything the connection holds (soclose) and emits "close". */
  protected abstract release(): void;
  /** Wakes the connection's iterator, if one waits for data. */
  protected abstract wakeReader(): void;

  /** Node's buffer generator: the largest size class the receive socket buffer has room for, up to the cap. */
  private readonly nextBuffer = (): Uint8Array => {
    const space = this.released || this.pool.isClosed ? 0 : this.pool.sbspace(this.so, "rcv");
    let i = this.cap;
    while (i > 0 && this.views[i].length > space) i--;
    return this.views[i];
  };

  /** Node's read callback: into the receive socket buffer (or kept, if the pool is short); false stops reading. */
  private readonly onRead = (n: number, buf: Uint8Array): boolean => {
    if (this.released || this.pool.isClosed) {
      this.release();
      return false;
    }
    this.stats.bytesIn += n;
    this.stats.reads++;
    this.turnBytes += n;
    const bytes = n === buf.length ? buf : buf.subarray(0, n);
    if (this.pend.length === 0 && this.sbwrite(bytes)) {
      if (n === buf.length && this.cap < this.views.length - 1) this.cap++;
      this.readable();
    } else {
      // The pool could not hold it (or earlier bytes still wait): keep a copy, ask for less next time.
      this.pend.push(bytes.slice());
      this.stats.spilledReads++;
      if (this.cap > 0) this.cap--;
      this.deliver();
    }
    if (this.mustPause()) {
      this.pauseReading();
      return false;
    }
    return true;
  };

  /** sosend's copy into the receive socket buffer, under this connection's owner tag, as the receive class. */
  private sbwrite(bytes: Uint8Array): boolean {
    const p = this.pool;
    p.setOwner(this.owner);
    try {
      if (p.sbwrite(this.so, "rcv", bytes, M_NOWAIT | M_RECV)) return true;
    } finally {
      p.setOwner(this.opt.owner);
    }
    this.stats.denied++;
    return false;
  }

  /** Moves kept bytes into the receive socket buffer while it has room and the pool has buffers. */
  private deliver(cluster = 0): void {
    const p = this.pool;
    let moved = false;
    this.starved = false;
    while (this.pend.length > 0) {
      const x = this.pend[0];
      const space = p.sbspace(this.so, "rcv");
      if (space === 0) break;
      const part = x.length <= space ? x : x.subarray(0, space);
      if (this.sbwrite(part)) {
        moved = true;
      } else if (cluster !== 0) {
        // The cluster the wait queue served: at least its worth goes in, whatever others take.
        const room = p.tailspace(cluster);
        const k = Math.min(room.length, part.length);
        room.set(part.subarray(0, k));
        p.commit(cluster, k);
        if (!p.sbappend(this.so, "rcv", cluster)) {
          p.freem(cluster);
          throw new MbufError("ESTATE", "sbappend refused a chain sbspace had room for");
        }
        cluster = 0;
        moved = true;
        this.pend[0] = x.subarray(k);
        if (this.pend[0].length === 0) this.pend.shift();
        continue;
      } else {
        this.starved = true;
        break;
      }
      if (part === x) this.pend.shift();
      else this.pend[0] = x.subarray(part.length);
    }
    if (cluster !== 0) p.freem(cluster);
    if (moved) this.readable();
  }

  /**
   * One "readable" per turn of the event loop: the reads of a poll phase (libuv reads up to 32
   * in a row) are taken out as one chain and written back with one writev.
   */
  private readable(): void {
    if (this.readableSoon) return;
    this.readableSoon = true;
    setImmediate(this.emitReadable);
  }

  private readonly emitReadable = (): void => {
    this.readableSoon = false;
    if (this.released) return;
    // More than 3/8 of the receive buffer came in one turn: it limits the connection; grow it.
    if (this.autotune && this.turnBytes > this.rcvHiwat / 8 * 3) {
      const step = sbautosize(this.pool, this.so, "rcv", this.rcvHiwat);
      if (step > 0) {
        this.rcvHiwat += step;
        this.grown += step;
        this.stats.sbGrown++;
      }
    }
    this.turnBytes = 0;
    this.wakeReader();
    this.emit("readable");
  };

  /** True if reading must stop: bytes are still kept (the pool is short) or the socket buffer is nearly full. */
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

  /** A waiting allocation of the receive class: served by the free that makes a cluster available. */
  private waitForCluster(): void {
    if (this.waiting || this.released) return;
    this.waiting = true;
    this.pool.getclWait(M_WAITOK | M_RECV, MT.DATA, M_PKTHDR, { timeout: this.opt.waitMs, unref: true }).then((m) => {
      this.waiting = false;
      if (this.released || this.pool.isClosed) {
        if (!this.pool.isClosed) this.pool.freem(m);
        return;
      }
      this.pool.core.m_setowner(m, this.owner);
      this.deliver(m);
      this.maybeResume();
    }, (e: MbufError) => {
      // The safety net: nobody served the wait for waitMs; look again (and wait again if need be).
      this.waiting = false;
      if (e.code !== "ECLOSED") this.maybeResume();
    });
  }

  /** Resumes reading if nothing is kept and the socket buffer has room; else keeps waiting. */
  protected maybeResume(): void {
    if (this.pool.isClosed) return this.release();
    if (!this.paused || this.released) return;
    if (this.pend.length > 0) this.deliver();
    if (this.mustPause()) {
      if (this.starved) this.waitForCluster();
      return;
    }
    if (this.lingering) return;
    this.paused = false;
    this.stats.resumed++;
    this.socket.resume();
  }

  /** Forgets the kept bytes and gives the autosized growth back (release: the connection is gone). */
  protected releaseReads(): void {
    this.pend.length = 0;
    sbautosizeRelease(this.pool, this.grown);
    this.grown = 0;
  }
}
