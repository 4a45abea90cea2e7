// The echo servers the Node benchmarks (echo.ts, idle.ts) compare: Node's two
// idioms, `socket.pipe(socket)` and a `for await` over the socket's data that
// writes each chunk back, and mbufpool/node's two, "readable" events with
// read() (pipe's shape: reading waits while a write waits for "drain") and the
// README's `for await` over chains.

import net from "node:net";
import { once } from "node:events";
import type { Pool } from "../src/index.js";
import { createServer, type MbufServer, type ConnectionListener } from "../src/node/index.js";

/** The four servers, by the name the benchmarks print. */
export const ECHO_SERVERS = ["node pipe", "node for await", "mbufpool readable", "mbufpool for await"] as const;
export type EchoServerName = typeof ECHO_SERVERS[number];

/** A Node echo server in one of Node's two idioms, not yet listening. */
export function nodeEcho(idiom: "pipe" | "for await"): net.Server {
  return net.createServer((s) => {
    s.setNoDelay(true);
    if (idiom === "pipe") s.pipe(s);
    else {
      void (async () => {
        for await (const d of s) if (!s.write(d as Buffer)) await once(s, "drain");
        s.end();
      })().catch(() => s.destroy());
    }
  });
}

/** The README's echo: a `for await` over chains, each written back as it is. */
export const forAwaitEcho: ConnectionListener = async (conn) => {
  conn.on("end", () => conn.end());
  for await (const chain of conn) if (!conn.write(chain)) await conn.drained();
};

/** An echo server on `pool` in one of mbufpool/node's two idioms, not yet listening. */
export function mbufpoolEcho(pool: Pool, idiom: "readable" | "for await"): MbufServer {
  return idiom === "for await"
    ? createServer(pool, { metrics: false }, forAwaitEcho)
    : createServer(pool, { metrics: false }, (conn) => {
      let blocked = false;
      const echo = (): void => {
        blocked = false;
        for (let m; !blocked && (m = conn.read()) !== 0;) blocked = !conn.write(m);
      };
      conn.on("readable", () => { if (!blocked) echo(); });
      conn.on("drain", echo);
      conn.on("end", () => conn.end());
    });
}

/** Listens on 127.0.0.1 with a port the system chooses; resolves to the port. */
export async function listenLocal(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return (server.address() as net.AddressInfo).port;
}
