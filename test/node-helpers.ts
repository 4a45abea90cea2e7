// What the mbufpool/node tests share: a wait for a condition, a server's
// first connection with a Node client on the other end, a client that sends
// bytes, half-closes and collects the echo, and a server that only consumes.
import net from "node:net";
import type { Pool } from "mbufpool";
import { createServer, type MbufServer, type MbufSocket, type TcpServerOptions } from "mbufpool/node";

/** A server whose application does nothing; resolves its first connection and a Node client connected to it. */
export async function serverPair(pool: Pool, options: TcpServerOptions = {}): Promise<{ server: MbufServer; conn: MbufSocket; client: net.Socket }> {
  const server = createServer(pool, options);
  const { port } = await server.listen();
  const conn = new Promise<MbufSocket>((r) => server.once("connection", r));
  const client = net.connect(port, "127.0.0.1");
  client.on("error", () => {});
  client.resume();
  return { server, conn: await conn, client };
}

/** Connects to `port`, writes `data` and ends; resolves to every byte that came back before the server's FIN. */
export function echoOf(port: number, data: Uint8Array): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const c = net.connect(port, "127.0.0.1");
    const got: Buffer[] = [];
    c.on("data", (d: Buffer) => got.push(d));
    c.on("error", reject);
    c.on("end", () => resolve(Buffer.concat(got)));
    c.on("connect", () => c.end(data));
  });
}

/** Waits until `cond` holds, polled every `every` ms; throws after `ms`. */
export async function until(cond: () => boolean, ms = 10_000, every = 5): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, every));
  }
}

/** A server whose application frees every chain it reads. */
export function discardServer(pool: Pool, options: TcpServerOptions = {}): MbufServer {
  return createServer(pool, options, async (conn) => {
    for await (const chain of conn) pool.freem(chain);
  });
}

/** Listens, sends `size` bytes of `fill` from a Node client, waits until the server has read them all, then resets the client. */
export async function sendInto(server: MbufServer, size: number, fill: number): Promise<void> {
  const { port } = await server.listen();
  const c = net.connect(port, "127.0.0.1", () => c.write(Buffer.alloc(size, fill)));
  c.on("error", () => {});
  await until(() => server.stats.bytesIn === size);
  c.destroy();
}
