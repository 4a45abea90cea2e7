// One TCP connection whose data lives in pool buffers: the application side
// (read, readBytes, `for await`), half-close, and the drops that free
// everything. The receive path is tcp-receive.ts, the send path tcp-send.ts.
//
// The application takes chains out (read(): a chain it must free;
// readBytes(): a copy) or iterates with `for await`. "end" (the peer's FIN)
// comes only after the application had the last chain: a later turn than the
// read() that took it, and after the `for await` body that got it, so
// `on("end", () => conn.end())` cannot shut the sending side before the last
// reply is written.
//
// Drops free everything: on the idle timeout, a keepalive failure, an error
// or destroy(), soclose frees both socket buffers, and queued writes are
// freed too. Every buffer a connection
// takes carries its owner tag, and holders() names them for the leak
// detector.
//
// The pool must be pinned (Pool.create({ pinned: true })): Node keeps the raw
// address of a pending write (views of pool memory), which must not move.

import type net from "node:net";
import type { Pool } from "../pool.js";
import { MbufError, checkInt } from "../errors.js";
import { M_NOWAIT, M_WAITOK, MT } from "../constants.js";
import type { HolderClassifier } from "../leak/outstanding.js";
import type { TcpStats } from "./stats.js";
import type { Resolved } from "./tcp-options.js";
import type { OnRead } from "./tcp-receive.js";
import { SoSend } from "./tcp-send.js";
import { ParkingSlot } from "./parking.js";

/**
 * One TCP connection whose data lives in pool buffers. Events: "readable" (data in the
 * receive socket buffer), "end" (the peer finished and the application had every chain), "drain" (write
 * may go on), "drop" (reason: "idle" | "error" | "destroy"), "close", "connect" (clients),
 * "error" (only if listened to).
 */
export class MbufSocket extends SoSend {
  /** "address:port" of the peer, when known. */
  readonly remote: string;
  private eof = false;
  private ended = false;
  /** The iterator has yielded a chain and the loop body has not asked for the next one yet. */
  private holding = false;
  private endSoon = false;
  private dropReason: string | null = null;

  /** @internal Use createServer or connect. */
  constructor(pool: Pool, so: number, owner: number, opt: Resolved, stats: TcpStats,
    make: (onread: OnRead) => net.Socket) {
    super(pool, so, owner, opt, stats, make);
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
   * @throws MbufError EINVAL unless max is an integer >= 1.
   */
  read(max = 0x7fffffff): number {
    checkInt(max, "read: max", 1, 0x7fffffff);
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

  /**
   * Copies up to `max` bytes out of the receive socket buffer (and drops them there).
   * @returns the bytes (empty if nothing is buffered). @throws MbufError EINVAL unless max is an integer >= 1.
   */
  readBytes(max = 0x7fffffff): Uint8Array {
    checkInt(max, "readBytes: max", 1, 0x7fffffff);
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
      this.wakeReader();
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
            this.pool.free(await this.pool.getWait(M_WAITOK, MT.DATA, { timeout: this.opt.waitMs, unref: true }));
          } catch (e) {
            if ((e as MbufError).code === "ECLOSED") return;
          }
          continue;
        }
        await new Promise<void>(this.reader.park);
      }
    } finally {
      // A loop left early (break, throw) holds no chain any more.
      this.holding = false;
      if (this.eof) this.deferEnd();
    }
  }

  /** The iterator waiting for "readable", "end" or "close". */
  private readonly reader = new ParkingSlot();

  /** Wakes a parked iterator (after "readable", "end" and "close"). */
  protected wakeReader(): void {
    this.reader.wake();
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
    // Free at once: Node reads and writes nothing more into pool memory after destroy.
    this.release();
  }

  /** Frees both socket buffers (soclose) and the queues. */
  protected release(): void {
    if (this.released) return;
    this.released = true;
    if (!this.pool.isClosed) {
      if (!this.socket.destroyed) this.socket.destroy();
      this.pool.soclose(this.so);
    }
    this.releaseReads();
    this.releaseWrites();
    this.stats.open--;
    this.stats.closed++;
    this.wakeReader();
    this.wakeWriters();
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
    for (const m of this.sendq) out.set(m, `send queue of ${who}`);
  }
}

/** Builds a classifier for pool.outstanding() naming every buffer the given connections hold. */
export function holdersOf(conns: Iterable<MbufSocket>): HolderClassifier {
  const map = new Map<number, string>();
  for (const c of conns) c.holders(map);
  return (head) => map.get(head) ?? null;
}
