// A client connection over pool buffers: connect(pool, { port, host }), the
// MbufSocket of a net.connect that reads with `onread`.

import net from "node:net";
import type { Pool } from "../pool.js";
import { MbufError, checkInt, describeValue } from "../errors.js";
import { tcpStats, type TcpStats } from "./stats.js";
import { resolve, CONNECT_OPTION_KEYS, type TcpConnectOptions } from "./tcp-options.js";
import { MbufSocket } from "./tcp-socket.js";
import { openSocket } from "./tcp-server.js";

/**
 * A client connection over pool buffers (emits "connect").
 * @throws MbufError EINVAL for a bad option or an unpinned pool, ENOBUFS if no socket could be allocated.
 */
export function connect(pool: Pool, options: TcpConnectOptions, stats: TcpStats = tcpStats()): MbufSocket {
  if (options === undefined || options === null || typeof options !== "object") {
    throw new MbufError("EINVAL", `connect options must be an object with a port, got ${describeValue(options)}`);
  }
  const o = resolve(pool, options, "connect", CONNECT_OPTION_KEYS);
  checkInt(options.port, "connect: port", 1, 65535);
  const host = options.host ?? "127.0.0.1";
  if (typeof host !== "string") throw new MbufError("EINVAL", `connect: host must be an address (a string), got ${describeValue(host)}`);
  const owner = o.ownerBase >>> 0;
  const so = openSocket(pool, o, owner);
  if (so === 0) throw new MbufError("ENOBUFS", "No buffer space available");
  stats.accepted++;
  stats.open++;
  let conn: MbufSocket | undefined = undefined;
  conn = new MbufSocket(pool, so, owner, o, stats, (onread) =>
    net.connect({ port: options.port, host, onread, allowHalfOpen: true }, () => conn?.emit("connect")));
  return conn;
}
