// A TCP server whose connections read into pool clusters, called as Node's
// own: createServer(pool, onConnection) or createServer(pool, options,
// onConnection), then listen(port, host) or listen({ port, host }).
//
// Node's net.Server cannot give accepted sockets the `onread` option, so each
// accepted socket's stream handle moves to a socket of ours that reads with
// it (takeHandle). A connection the pool has no socket for is refused and
// counted; the server carries on.
//
// A connection handler may be async. If its promise rejects the connection
// is dropped (its buffers go back) and the error is the server's "error"
// event, or an unhandled rejection if nobody listens, as any other bug; an
// EPIPE from a connection that had already closed only ends the handler.

import net from "node:net";
import { EventEmitter } from "node:events";
import type { AddressInfo } from "node:net";
import type { Pool } from "../pool.js";
import { MbufError, checkInt, describeValue } from "../errors.js";
import { checkOptions } from "../validate.js";
import type { HolderClassifier } from "../leak/outstanding.js";
import { tcpStats, registerStats, checkStatsOptions, type TcpStats } from "./stats.js";
import { resolve, reusePortSupported, SERVER_OPTION_KEYS, LISTEN_OPTION_KEYS, type Resolved, type TcpServerOptions, type ListenOptions } from "./tcp-options.js";
import { BrokenPipeError } from "./tcp-send.js";
import { MbufSocket, holdersOf } from "./tcp-socket.js";

/** Creates a pool socket under `owner`; 0 if the pool had no mbuf. */
export function openSocket(pool: Pool, o: Resolved, owner: number): number {
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

/** A connection handler: its promise, if any, is watched (see the design comment). */
export type ConnectionListener = (conn: MbufSocket) => void | Promise<void>;

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

  /** @throws MbufError EINVAL if the pool is not pinned or an option is bad. */
  constructor(readonly pool: Pool, options: TcpServerOptions = {}) {
    super();
    this.opt = resolve(pool, options, "createServer", SERVER_OPTION_KEYS);
    checkStatsOptions(options, "createServer");
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
    const conn = new MbufSocket(this.pool, so, owner, o, this.stats, (onread) =>
      new net.Socket({ handle, onread, readable: true, writable: true, allowHalfOpen: true } as net.SocketConstructorOpts));
    this.connections.add(conn);
    conn.on("close", () => this.connections.delete(conn));
    this.emit("connection", conn);
  }

  /** Runs `listener` for each connection, watching the promise it returns. */
  handle(listener: ConnectionListener): this {
    if (typeof listener !== "function") {
      throw new MbufError("EINVAL", `createServer: the connection listener must be a function, got ${describeValue(listener)}`);
    }
    return this.on("connection", (conn: MbufSocket) => {
      const r = listener(conn);
      if (r !== null && typeof r === "object" && typeof (r as Promise<void>).then === "function") {
        (r as Promise<void>).then(undefined, (e: unknown) => {
          // A write to a connection that closed meanwhile: the handler is over, nothing is lost.
          if (e instanceof BrokenPipeError && conn.released) return;
          conn.destroy();
          if (this.listenerCount("error") > 0) this.emit("error", e);
          else throw e;
        });
      }
    });
  }

  /**
   * Listens: listen(port = 0, host = "127.0.0.1") or listen({ port, host, reusePort }).
   * @returns a promise of the bound address (rejects with the listen error: EADDRINUSE, ...).
   * @throws MbufError EINVAL for a bad port, host or option.
   */
  listen(port: number | ListenOptions = 0, host = "127.0.0.1"): Promise<AddressInfo> {
    let reusePort = false;
    if (typeof port === "object" && port !== null) {
      checkOptions(port, "listen options", LISTEN_OPTION_KEYS);
      host = port.host ?? "127.0.0.1";
      reusePort = port.reusePort ?? false;
      port = port.port ?? 0;
    }
    checkInt(port, "listen: port", 0, 65535);
    if (typeof host !== "string") throw new MbufError("EINVAL", `listen: host must be an address (a string), got ${describeValue(host)}`);
    if (typeof reusePort !== "boolean") throw new MbufError("EINVAL", `listen: reusePort must be a boolean, got ${describeValue(reusePort)}`);
    // An older Node ignores the option and a second listener fails with EADDRINUSE: say why first.
    if (reusePort && !reusePortSupported()) {
      throw new MbufError("ESTATE", `listen: reusePort needs Node 22.12 or 23.1 and later (this is ${process.versions.node})`);
    }
    const opts = { port, host, reusePort } as net.ListenOptions;
    return new Promise((res, rej) => {
      this.server.once("error", rej);
      this.server.listen(opts, () => {
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
 * A TCP server over pool buffers, as net.createServer: createServer(pool, onConnection) or
 * createServer(pool, options, onConnection); `onConnection` gets each MbufSocket.
 * @throws MbufError EINVAL if the pool is not pinned, an option is bad or the listener is not a function.
 */
export function createServer(pool: Pool, onConnection?: ConnectionListener): MbufServer;
export function createServer(pool: Pool, options?: TcpServerOptions, onConnection?: ConnectionListener): MbufServer;
export function createServer(pool: Pool, options?: TcpServerOptions | ConnectionListener,
  onConnection?: ConnectionListener): MbufServer {
  if (typeof options === "function") {
    if (onConnection !== undefined) {
      throw new MbufError("EINVAL", "createServer(pool, onConnection) takes no third argument; options go second");
    }
    onConnection = options;
    options = {};
  }
  const s = new MbufServer(pool, options ?? {});
  if (onConnection !== undefined) s.handle(onConnection);
  return s;
}
