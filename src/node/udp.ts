// UDP over pool buffers: a dgram adapter.
//
// Node hands each datagram over in a Buffer of its own, so a receive is one
// copy into a pool chain (a cluster for anything larger than an mbuf's
// packet-header area): the application gets the chain and must free it (or
// send it back). When the pool has no buffer the datagram is dropped and
// counted, as a kernel drops a packet it has no mbuf for, and nothing queues.
// Sends go out from chains, as zero-copy views of their segments, and the
// chain is freed when the send completes (or fails). A send that needs a
// buffer the pool cannot give fails with ENOBUFS (seed 000's
// `sendto: No buffer space available`), an error the application handles.

import dgram from "node:dgram";
import { EventEmitter } from "node:events";
import type { AddressInfo } from "node:net";
import type { Pool } from "../pool.js";
import { MbufError, checkInt, describeValue } from "../errors.js";
import { checkOptions, optionKeys } from "../validate.js";
import { M_NOWAIT, M_PKTHDR, MT, MHLEN } from "../constants.js";
import { udpStats, registerStats, checkStatsOptions, type UdpStats } from "./stats.js";

/** The error of a send the pool had no buffer for: code ENOBUFS, as sendto(2) reports it. */
export class NoBufferSpaceError extends Error {
  readonly code = "ENOBUFS";
  readonly errno = -105;
  readonly syscall = "sendto";
  constructor() {
    super("No buffer space available");
    this.name = "NoBufferSpaceError";
  }
}

/** Options of createUdpSocket. */
export interface UdpOptions {
  /** "udp4" (default) or "udp6". */
  type?: "udp4" | "udp6";
  /** Owner tag of the buffers this socket takes (0x20000 by default). */
  owner?: number;
  /** Owner tag set back after each allocation (0). */
  baseOwner?: number;
  /** Label of this socket's series in the pool's metrics registry ("udp"). */
  name?: string;
  /** Register the counters in pool.metricsRegistry (true). */
  metrics?: boolean;
}

/** Every key UdpOptions has. */
export const UDP_OPTION_KEYS = optionKeys<UdpOptions>({ type: 1, owner: 1, baseOwner: 1, name: 1, metrics: 1 });

/**
 * Checks the options of `call` against `keys` (UdpOptions and, for the DNS responder, its own).
 * @throws MbufError EINVAL for an unpinned pool, an unknown key or a bad value.
 */
export function checkUdpOptions(pool: Pool, o: UdpOptions, call: string, keys: readonly string[]): void {
  checkOptions(o, `${call} options`, keys);
  if (!pool.pinned) throw new MbufError("EINVAL", "mbufpool/node sends from pool memory: create the pool with { pinned: true }");
  if (o.type !== undefined && o.type !== "udp4" && o.type !== "udp6") {
    throw new MbufError("EINVAL", `${call}: type must be "udp4" or "udp6", got ${describeValue(o.type)}`);
  }
  checkStatsOptions(o, call);
}

/** The bytes argument of `call`: a Uint8Array, else EINVAL naming the call (and send() for chains). */
function checkBytes(bytes: unknown, call: string): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new MbufError("EINVAL", `${call}(bytes) needs a Uint8Array, got ${describeValue(bytes)}${call === "sendBytes" ? "; send(chain) takes a chain" : ""}`);
  }
}

/**
 * A UDP socket whose datagrams are pool chains. Events: "message" (chain, rinfo): the listener
 * owns the chain and must free it or send it; "drop" (rinfo) for a datagram the pool had no
 * buffer for; "error"; "close".
 */
export class MbufUdpSocket extends EventEmitter {
  /** The dgram socket underneath. */
  readonly socket: dgram.Socket;
  /** Counters (also in pool.metricsRegistry as mbufpool_node_udp_*{name}). */
  readonly stats: UdpStats = udpStats();
  private readonly owner: number;
  private readonly baseOwner: number;
  /** Chains being sent (freed on completion, or on close). */
  private readonly inflight = new Set<number>();
  private closed = false;

  /** @throws MbufError EINVAL if the pool is not pinned or an option is bad. */
  constructor(readonly pool: Pool, options: UdpOptions = {}, call = "createUdpSocket", keys: readonly string[] = UDP_OPTION_KEYS) {
    super();
    checkUdpOptions(pool, options, call, keys);
    this.owner = checkInt(options.owner ?? 0x20000, "owner", 0, 0xffffffff);
    this.baseOwner = checkInt(options.baseOwner ?? 0, "baseOwner", 0, 0xffffffff);
    if (options.metrics !== false) registerStats(pool.metricsRegistry, "udp", options.name ?? "udp", this.stats);
    this.socket = dgram.createSocket(options.type ?? "udp4");
    this.socket.on("message", (msg, rinfo) => this.receive(msg, rinfo));
    this.socket.on("error", (e) => this.emit("error", e));
    this.socket.on("close", () => this.release());
  }

  /** Copies `bytes` into a new chain under this socket's owner tag; 0 if the pool had no buffer. */
  chain(bytes: Uint8Array): number {
    checkBytes(bytes, "chain");
    const p = this.pool;
    if (this.closed || p.isClosed) return 0;
    p.setOwner(this.owner);
    try {
      const m = bytes.length > MHLEN ? p.getcl(M_NOWAIT, MT.DATA, M_PKTHDR) : p.gethdr(M_NOWAIT, MT.DATA);
      if (m === 0) return 0;
      if (bytes.length > 0 && !p.append(m, bytes)) {
        p.freem(m);
        return 0;
      }
      return m;
    } finally {
      p.setOwner(this.baseOwner);
    }
  }

  private receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const m = this.chain(msg);
    if (m === 0) {
      this.stats.rcvDropped++;
      this.emit("drop", rinfo);
      return;
    }
    this.stats.received++;
    if (this.listenerCount("message") === 0) {
      this.pool.freem(m);
      return;
    }
    this.emit("message", m, rinfo);
  }

  /**
   * Sends the chain of head `m` as one datagram (zero-copy views of its segments); the chain
   * belongs to the socket from now on and is freed when the send completes or fails.
   * @returns a promise that settles when the datagram is sent (rejects with the network's error,
   *   ECLOSED after close(); EINVAL for what is not a chain: bytes go to sendBytes).
   */
  send(m: number, port: number, address: string): Promise<void> {
    if (typeof m !== "number") {
      return Promise.reject(new MbufError("EINVAL", `send(chain) takes a chain (the head handle of an mbuf chain), got ${describeValue(m)}; sendBytes(bytes) takes bytes`));
    }
    const p = this.pool;
    if (this.closed) {
      p.freem(m);
      return Promise.reject(new MbufError("ECLOSED", "the UDP socket is closed"));
    }
    const len = p.length(m);
    const views: Uint8Array[] = [];
    if (len > 0) p.apply(m, 0, len, (v) => void views.push(v));
    this.inflight.add(m);
    return new Promise((res, rej) => {
      this.socket.send(views, port, address, (err) => {
        if (this.inflight.delete(m) && !p.isClosed) p.freem(m);
        if (err) {
          this.stats.sendErrors++;
          rej(err);
        } else {
          this.stats.sent++;
          res();
        }
      });
    });
  }

  /**
   * Copies `bytes` into a chain and sends it.
   * @throws (rejects) NoBufferSpaceError (code ENOBUFS) if the pool had no buffer: nothing was sent;
   *   MbufError EINVAL unless `bytes` is a Uint8Array.
   */
  sendBytes(bytes: Uint8Array, port: number, address: string): Promise<void> {
    try {
      checkBytes(bytes, "sendBytes");
    } catch (e) {
      return Promise.reject(e);
    }
    const m = this.chain(bytes);
    if (m === 0) {
      this.stats.sendNobufs++;
      return Promise.reject(new NoBufferSpaceError());
    }
    return this.send(m, port, address);
  }

  /** Binds (to 127.0.0.1 unless told otherwise). @returns the bound address. */
  bind(port = 0, address = "127.0.0.1"): Promise<AddressInfo> {
    return new Promise((res, rej) => {
      this.socket.once("error", rej);
      this.socket.bind(port, address, () => {
        this.socket.off("error", rej);
        res(this.socket.address());
      });
    });
  }

  /** The bound address. */
  address(): AddressInfo {
    return this.socket.address();
  }

  /** Closes the socket; chains still being sent are freed. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((res) => this.socket.close(() => res()));
  }

  private release(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.pool.isClosed) for (const m of this.inflight) this.pool.freem(m);
    this.inflight.clear();
    this.emit("close");
  }
}

/**
 * A UDP socket over pool buffers.
 * @throws MbufError EINVAL if the pool is not pinned or an option is bad.
 */
export function createUdpSocket(pool: Pool, options: UdpOptions = {}): MbufUdpSocket {
  return new MbufUdpSocket(pool, options);
}
