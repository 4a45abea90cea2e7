// The send path of a connection over pool buffers, with write(2)'s contract.
//
// write(chain) takes the whole chain, always: it goes to the send socket
// buffer, and what does not fit yet waits in the connection's queue and goes
// out by itself as room comes back; the return says whether to wait
// (drained()) before writing more, as net.Socket.write's does.
// writeBytes(bytes) copies as much of `bytes` as the send socket buffer and
// the pool take (sosend's copy, sbwrite) and returns how many bytes it took,
// 0..bytes.length, as write(2) does: the caller writes the rest after
// drained(), and no byte is ever taken twice.
//
// The bytes of the socket buffer go to the socket as zero-copy views of its
// segments, corked so that Node writes them with one writev; when that write
// completes they are dropped (one sbdrop), as acknowledged data is, and
// counted in bytesOut.

import { M_NOWAIT, M_WAITOK, MT } from "../constants.js";
import { MbufError, coreError, describeValue } from "../errors.js";
import { SoReceive } from "./tcp-receive.js";
import { sbautosize } from "./tcp-autosize.js";
import { ParkingSlot } from "./parking.js";

/** write() after end(), or on a connection that closed: the sending side is shut down (sosend's EPIPE). */
export class BrokenPipeError extends Error {
  readonly code = "EPIPE";
  readonly errno = -32;
  readonly syscall = "write";
  constructor(why = "write after end()") {
    super(`Broken pipe: ${why}`);
    this.name = "BrokenPipeError";
  }
}

export abstract class SoSend extends SoReceive {
  /** Chains the send socket buffer had no room for yet. */
  protected readonly sendq: number[] = [];
  /** end() was called (SBS_CANTSENDMORE): write() fails from now on. */
  protected cantSendMore = false;
  /** Lengths of the writes handed to the socket, oldest first (their callbacks come in order). */
  protected readonly inflight: number[] = [];
  /** Bytes of the write being handed to the socket that are not yet in a view. */
  private wLeft = 0;
  private wantDrain = false;
  /** A wait for a buffer is pending (the pool had none for writeBytes or for a split). */
  private bufWait = false;
  /** The send buffer's size now (autosizing grows it). */
  private sndHiwat = this.opt.sndHiwat;

  /** The error of a write the connection cannot take any more. */
  private broken(): BrokenPipeError {
    return new BrokenPipeError(this.cantSendMore ? "write after end()" : "the connection is closed");
  }

  /**
   * Sends the chain of head `m`, which belongs to the connection from now on (it is freed once its
   * bytes are written, or when the connection drops). What the send socket buffer has no room for
   * waits in the connection's queue and goes out by itself.
   * @returns true if the send socket buffer took all of it; false if part of it waits: await
   *   drained() before writing more (nothing is lost either way).
   * @throws BrokenPipeError (EPIPE) after end() or once the connection closed; the chain is freed,
   *   as sosend frees it. MbufError EINVAL for what is not a chain (bytes go to writeBytes),
   *   EBADHANDLE, EDOUBLEFREE, EBUSY for a handle that is not a head (the chain stays yours).
   */
  write(m: number): boolean {
    if (typeof m !== "number") {
      throw new MbufError("EINVAL", `write(chain) takes a chain (the head handle of an mbuf chain), got ${describeValue(m)}; ` +
        "writeBytes(bytes) takes bytes");
    }
    const p = this.pool;
    if (!p.isClosed) {
      // Only a head may be sent (it is owned from now on): EBADHANDLE, EDOUBLEFREE, EBUSY otherwise.
      const e = p.core.m_tailptr(m);
      if (e < 0) throw coreError(e, "write", m);
    }
    if (this.cantSendMore || this.released || p.isClosed) {
      if (!p.isClosed) p.freem(m);
      if (!this.released && p.isClosed) this.release();
      throw this.broken();
    }
    this.sendq.push(m);
    this.pump();
    if (this.sendq.length > 0) {
      this.stats.writeBlocked++;
      this.wantDrain = true;
      return false;
    }
    return true;
  }

  /**
   * Copies as much of `bytes` as the send socket buffer and the pool take into the send socket
   * buffer, and sends it. Write the rest after drained(), from where this left off:
   * `let off = 0; while (off < p.length) { off += conn.writeBytes(p.subarray(off)); if (off < p.length) await conn.drained(); }`
   * @returns the number of bytes taken, 0..bytes.length (the first ones of `bytes`; 0: none, wait).
   * @throws BrokenPipeError (EPIPE) after end() or once the connection closed (nothing taken).
   *   MbufError EINVAL unless `bytes` is a Uint8Array.
   */
  writeBytes(bytes: Uint8Array): number {
    if (!(bytes instanceof Uint8Array)) {
      throw new MbufError("EINVAL", `writeBytes(bytes) needs a Uint8Array, got ${describeValue(bytes)}; write(chain) takes a chain`);
    }
    if (this.cantSendMore || this.released || this.pool.isClosed) {
      if (!this.released && this.pool.isClosed) this.release();
      throw this.broken();
    }
    if (bytes.length === 0) return 0;
    const p = this.pool, so = this.so;
    // Still waiting for room: copying now would only queue more of the pool.
    let n = this.sendq.length > 0 ? 0 : Math.min(bytes.length, p.sbspace(so, "snd"));
    const before = p.sbcc(so, "snd");
    if (n > 0) {
      p.setOwner(this.owner);
      try {
        // All or nothing per call: less when the pool cannot hold it all.
        while (n > 0 && !p.sbwrite(so, "snd", n === bytes.length ? bytes : bytes.subarray(0, n), M_NOWAIT)) n >>>= 1;
      } finally {
        p.setOwner(this.opt.owner);
      }
      if (n > 0) this.hand(before, n);
    }
    if (n < bytes.length) {
      this.stats.writeBlocked++;
      this.wantDrain = true;
      // Nothing in flight, so no completion will say "drain": the free that gives a buffer back will.
      if (this.inflight.length === 0) this.waitForBuffer();
    }
    return n;
  }

  /** Appends queued chains to the send socket buffer and hands their bytes to the socket. */
  protected pump(): void {
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
      this.hand(before, len);
    }
  }

  /** Hands `len` bytes of the send socket buffer from offset `off` to the socket: one writev. */
  private hand(off: number, len: number): void {
    this.inflight.push(len);
    this.wLeft = len;
    try {
      this.pool.apply(this.pool.sbmb(this.so, "snd"), off, len, this.writeView);
    } finally {
      if (this.corked) {
        this.corked = false;
        this.socket.uncork();
      }
    }
  }

  /** The socket is corked for the segments of one write. */
  private corked = false;

  /**
   * Hands one segment to the socket; the last one of a write carries its completion. A write of
   * several segments is corked from its first, so Node sends them with one writev; a write of one
   * segment goes straight.
   */
  private readonly writeView = (view: Uint8Array): void => {
    this.wLeft -= view.length;
    if (this.wLeft !== 0 && !this.corked) {
      this.corked = true;
      this.socket.cork();
    }
    this.socket.write(view, this.wLeft === 0 ? this.onWritten : undefined);
  };

  /** Completion of the oldest write. A failed one sent nothing: the socket is destroyed, and release frees its bytes. */
  private readonly onWritten = (err?: Error | null): void => {
    const len = this.inflight.shift() ?? 0;
    if (err == null) this.sent(len);
  };

  /** Nothing in flight to complete and wake pump(): try again once an mbuf is freed. */
  private retryWhenIdle(inFlight: number): void {
    if (inFlight === 0) this.waitForBuffer();
  }

  /**
   * A waiting allocation of an mbuf, given straight back: it is served by the free that makes
   * one available (or, as a safety net, times out after waitMs); then the queue is pumped and
   * a writer waiting in drained() tries again.
   */
  private waitForBuffer(): void {
    if (this.bufWait || this.released) return;
    this.bufWait = true;
    const again = (): void => {
      this.bufWait = false;
      if (this.released) return;
      if (this.pool.isClosed) return this.release();
      this.pump();
      this.drainNow();
    };
    this.pool.getWait(M_WAITOK, MT.DATA, { timeout: this.opt.waitMs, unref: true }).then((w) => {
      // The pool may have closed in the turn that served it (its close then freed nothing of ours).
      if (!this.pool.isClosed) this.pool.free(w);
      again();
    }, again);
  }

  /** A write completed: its bytes leave the send socket buffer. */
  private sent(len: number): void {
    if (this.released) return;
    if (this.pool.isClosed) return this.release();
    this.stats.bytesOut += len;
    // The kernel took a write while the buffer was 7/8 full and more waited: it limits the connection; grow it.
    if (this.autotune && (this.sendq.length > 0 || this.wantDrain) && this.pool.sbcc(this.so, "snd") >= this.sndHiwat / 8 * 7) {
      const step = sbautosize(this.pool, this.so, "snd", this.sndHiwat);
      if (step > 0) {
        this.sndHiwat += step;
        this.grown += step;
        this.stats.sbGrown++;
      }
    }
    this.pool.sbdrop(this.so, "snd", len);
    this.pump();
    this.drainNow();
  }

  private drainNow(): void {
    if (this.released || !this.wantDrain || this.sendq.length > 0) return;
    this.wantDrain = false;
    this.wakeWriters();
    this.emit("drain");
  }

  /** Resolves on the next "drain" (write may go on) or when the connection closes. */
  drained(): Promise<void> {
    if (this.released) return Promise.resolve();
    return new Promise(this.writers.park);
  }

  /** Writers waiting in drained(), woken on "drain" and on close. */
  private readonly writers = new ParkingSlot();

  /** Wakes every writer waiting in drained(). */
  protected wakeWriters(): void {
    this.writers.wake();
  }

  /** Ends the sending side (shutdown(SHUT_WR)) once queued chains are written; write() fails from now on. */
  end(): void {
    this.cantSendMore = true;
    if (this.released) return;
    if (this.sendq.length === 0) this.socket.end();
    else this.once("drain", () => this.socket.end());
  }

  /** Frees the queued writes (release). */
  protected releaseWrites(): void {
    if (!this.pool.isClosed) for (const m of this.sendq) this.pool.freem(m);
    this.sendq.length = 0;
    this.inflight.length = 0;
  }
}
