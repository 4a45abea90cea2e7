// The options of mbufpool/node's TCP calls, resolved once per server or
// client: every key checked against the list of known ones (a typo is an
// EINVAL naming the closest key, never a silent default), every value against
// its range, and the sizes against what the pool's sb_max allows, so a bad
// option fails at createServer() or connect(), not at the first connection.

import type { Pool } from "../pool.js";
import { MbufError, checkInt } from "../errors.js";
import { checkBool, checkOptions, optionKeys } from "../validate.js";

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
  /**
   * The safety net of a connection's waits, in ms (1000): a wait for a buffer is served by the
   * free that makes one available; if none came for this long, the connection looks again.
   */
  waitMs?: number;
  /**
   * Most bytes one read takes from the kernel (65536, Node's own; a cluster to 1 MiB). Less
   * when the receive socket buffer has less room, and less while the pool is short of clusters.
   */
  readSize?: number;
  /**
   * Grow the socket buffers of a busy connection (true), as FreeBSD's net.inet.tcp.sendbuf_auto
   * and recvbuf_auto do; the pool's tunables of those names say whether, by how much and up to
   * where. rcvHiwat and sndHiwat are then the starting sizes.
   */
  autotune?: boolean;
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

/** Options of server.listen (as net.Server.listen's). */
export interface ListenOptions {
  /** 0 (the default): the system chooses. */
  port?: number;
  /** 127.0.0.1 by default. */
  host?: string;
  /**
   * Node's reusePort (SO_REUSEPORT): servers of several threads listen on one port and the
   * kernel spreads connections across them. Node 22.12 or 23.1 and later; false by default.
   */
  reusePort?: boolean;
}

const TCP_KEYS = {
  rcvHiwat: 1, sndHiwat: 1, idleTimeoutMs: 1, keepAliveMs: 1, noDelay: 1, waitMs: 1, readSize: 1, autotune: 1,
  ownerBase: 1, owner: 1,
} as const satisfies { [K in keyof Required<TcpOptions>]: 1 };
export const SERVER_OPTION_KEYS = optionKeys<TcpServerOptions>({ ...TCP_KEYS, name: 1, metrics: 1 });
export const CONNECT_OPTION_KEYS = optionKeys<TcpConnectOptions>({ ...TCP_KEYS, port: 1, host: 1 });
export const LISTEN_OPTION_KEYS = optionKeys<ListenOptions>({ port: 1, host: 1, reusePort: 1 });

/** Whether this Node's listen() has reusePort: 22.12 and later on the 22 line, 23.1 and later. */
export function reusePortSupported(version: string = process.versions.node): boolean {
  const [major, minor] = version.split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/** The largest readSize. */
export const READ_SIZE_MAX = 1 << 20;

/** TcpOptions with every default filled in. */
export interface Resolved {
  rcvHiwat: number; sndHiwat: number; idleTimeoutMs: number; keepAliveMs: number; waitMs: number;
  noDelay: boolean; readSize: number; autotune: boolean; ownerBase: number; owner: number;
}

/**
 * Checks and completes the options of `call` ("createServer" or "connect").
 * @throws MbufError EINVAL for an unpinned pool, an unknown key or a bad value.
 */
export function resolve(pool: Pool, o: TcpOptions, call: string, keys: readonly string[]): Resolved {
  checkOptions(o, `${call} options`, keys);
  if (!pool.pinned) {
    throw new MbufError("EINVAL", "mbufpool/node writes from pool memory: create the pool with { pinned: true }");
  }
  return {
    // The receive buffer must hold two clusters, the send buffer one.
    // Checked here, not at the first connection: socreate would refuse more than sb_max allows.
    rcvHiwat: checkInt(o.rcvHiwat ?? 65536, "rcvHiwat", 2 * pool.mclbytes, pool.sbHiwatMax),
    sndHiwat: checkInt(o.sndHiwat ?? 32768, "sndHiwat", pool.mclbytes, pool.sbHiwatMax),
    idleTimeoutMs: checkInt(o.idleTimeoutMs ?? 0, "idleTimeoutMs", 0, 0x7fffffff),
    keepAliveMs: checkInt(o.keepAliveMs ?? 0, "keepAliveMs", 0, 0x7fffffff),
    waitMs: checkInt(o.waitMs ?? 1000, "waitMs", 1, 0x7fffffff),
    noDelay: checkBool(o.noDelay ?? true, "noDelay"),
    readSize: checkInt(o.readSize ?? 65536, "readSize", pool.mclbytes, READ_SIZE_MAX),
    autotune: checkBool(o.autotune ?? true, "autotune"),
    ownerBase: checkInt(o.ownerBase ?? 0x10000, "ownerBase", 0, 0xffffffff),
    owner: checkInt(o.owner ?? 0, "owner", 0, 0xffffffff),
  };
}
