// mbufpool/node TCP under real load on loopback: a pool smaller than the load,
// back-pressure instead of failure, idle drops that free everything.
import { describe, it, expect, vi } from "vitest";
import net from "node:net";
import { makePool } from "./helpers.js";
import type { Pool } from "mbufpool";
import { createServer, connect, type MbufServer } from "mbufpool/node";
import { takeHandle } from "../src/node/tcp.js";

/** An echo server as the example runs it. */
function echo(pool: Pool, options = {}): MbufServer {
  return createServer(pool, options, async (conn) => {
    conn.on("end", () => conn.end());
    for await (const chain of conn) {
      if (!conn.write(chain)) await conn.drained();
    }
  });
}

/** Bytes of client k: a pattern that tells clients and offsets apart. */
function payload(k: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 131 + k * 7 + (i >> 8)) & 255;
  return b;
}

/**
 * Streams `data` to the server in pieces, all at once when every client is connected (a burst the
 * pool cannot hold), ends once every client got everything back, and resolves with what came back.
 */
function client(port: number, data: Buffer, piece: number, start: Promise<void>, connected: () => void,
  finished: () => void, allDone: Promise<void>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, "127.0.0.1");
    const got: Buffer[] = [];
    let n = 0, off = 0;
    const window = (): void => {
      const end = data.length;
      for (; off < end; off += piece) c.write(data.subarray(off, Math.min(end, off + piece)));
    };
    c.on("data", (d) => {
      got.push(d);
      n += d.length;
      if (n >= data.length) {
        // Everyone stays connected (each connection keeps a cluster for its next read) until all are done.
        finished();
        void allDone.then(() => c.end());
      }
      else if (n === off) window();
    });
    c.on("error", reject);
    c.on("end", () => resolve(Buffer.concat(got)));
    c.on("connect", () => {
      connected();
      void start.then(window);
    });
  });
}

/** Waits until `cond` holds (checked every 20 ms), at most `ms`. */
async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("mbufpool/node TCP", () => {
  it("refuses a pool that is not pinned", () => {
    const pool = makePool();
    expect(() => createServer(pool)).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  it("refuses bad options and writes of what is not a head", async () => {
    const pool = makePool({ pinned: true });
    expect(() => createServer(pool, { rcvHiwat: 100 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => createServer(pool, { idleTimeoutMs: -1 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    // More than sb_max allows is refused at creation, not at the first connection.
    expect(() => createServer(pool, { rcvHiwat: pool.sbHiwatMax + 1 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => createServer(pool, { sndHiwat: pool.sbHiwatMax + 1 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => createServer(pool, { noDelay: 1 as unknown as boolean })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => connect(pool, { port: 0 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    const server = createServer(pool);
    const { port } = await server.listen();
    const c = connect(pool, { port });
    await new Promise((r) => c.once("connect", r));
    const a = pool.gethdr();
    pool.append(a, new Uint8Array(5000));
    const inner = pool.getptr(a, 4999).m;
    expect(inner).not.toBe(a);
    expect(() => c.write(inner)).toThrow(expect.objectContaining({ code: "EBUSY" }));
    expect(() => c.write(12345)).toThrow(expect.objectContaining({ code: "EBADHANDLE" }));
    pool.freem(a);
    expect(() => c.write(a)).toThrow(expect.objectContaining({ code: "EDOUBLEFREE" }));
    c.destroy();
    await server.close();
    expect(pool.outstanding().total).toBe(0);
  });

  it("200 clients echo through a pool smaller than the load: every byte back in order, then the pool is back to its baseline", async () => {
    // 200 clients burst 48 KiB each at once (9.6 MB) into a pool of 16 clusters (32 KiB).
    const pool = makePool({ pinned: true, tunables: { nmbclusters: 16 }, reserveFlag: true });
    const baseline = pool.outstanding().total;
    const server = echo(pool, { rcvHiwat: 16384, sndHiwat: 16384, waitMs: 200 });
    const { port } = await server.listen();
    const N = 200, SIZE = 48 * 1024;
    // All clients connect first, then all stream at once.
    let go = (): void => {}, up = 0, stop = (): void => {}, done = 0;
    const start = new Promise<void>((r) => (go = r)), allDone = new Promise<void>((r) => (stop = r));
    const results = await Promise.all(Array.from({ length: N }, (_, k) => {
      const data = payload(k, SIZE);
      return client(port, data, 1000 + (k % 7) * 1500, start, () => ++up === N && go(),
        () => ++done === N && stop(), allDone).then((back) => back.equals(data));
    }));
    expect(results.filter((ok) => !ok).length).toBe(0);
    const s = server.stats;
    expect(s.accepted + s.refused).toBe(N);
    expect(s.refused).toBe(0);
    expect(s.bytesIn).toBe(N * SIZE);
    expect(s.bytesOut).toBe(N * SIZE);
    // The pool ran dry, and reading waited instead of failing.
    expect(s.denied).toBeGreaterThan(0);
    expect(s.pausedPool).toBeGreaterThan(0);
    expect(s.resumed).toBeGreaterThan(0);
    expect(pool.stats().clusters.denied + pool.stats().packets.denied).toBeGreaterThan(0);
    await until(() => server.connections.size === 0, 5000);
    await server.close();
    expect(s.open).toBe(0);
    expect(pool.outstanding().total).toBe(baseline);
    expect(pool.audit().message).toBe("clean");
  }, 30_000);

  it("drops clients that stop reading on the idle timeout, and their buffers come back", async () => {
    const pool = makePool({ pinned: true, tunables: { nmbclusters: 512 } });
    const server = echo(pool, { idleTimeoutMs: 400, rcvHiwat: 32768, sndHiwat: 32768 });
    const { port } = await server.listen();
    const N = 6, big = Buffer.alloc(12 * 1024 * 1024, 0x5a);
    const drops: string[] = [];
    server.on("connection", (conn) => conn.on("drop", (why: string) => drops.push(why)));
    const clients = Array.from({ length: N }, () => {
      const c = net.connect(port, "127.0.0.1");
      c.on("error", () => {});
      c.on("connect", () => {
        c.pause(); // never reads: the server's send path backs up into its receive path
        c.write(big);
      });
      return c;
    });
    // While they stall, the connections hold buffers, and the classifier names the holders.
    const holders = (): string[] => Object.keys(pool.outstanding({ classify: server.holders() }).byHolder);
    await until(() => holders().filter((h) => h.startsWith("sockbuf:so_snd")).length === N, 15_000);
    const held = pool.outstanding({ classify: server.holders() });
    expect(held.total).toBeGreaterThan(0);
    expect(Object.keys(held.byHolder).some((h) => h.startsWith("sockbuf:so_rcv of connection"))).toBe(true);
    expect(Object.keys(held.byHolder).some((h) => h.startsWith("sockbuf:so_snd of connection"))).toBe(true);
    expect(held.byHolder).not.toHaveProperty("none");
    await until(() => server.stats.idleDrops === N, 15_000);
    expect(drops).toEqual(Array(N).fill("idle"));
    expect(server.connections.size).toBe(0);
    expect(pool.outstanding().total).toBe(0);
    for (const c of clients) c.destroy();
    await server.close();
  }, 30_000);

  it("takes an accepted socket's handle only if it can read (a Node without one is refused, not half-served)", () => {
    const handle = { readStart() {} };
    const raw = { _handle: handle } as unknown as net.Socket;
    expect(takeHandle(raw)).toBe(handle);
    expect((raw as unknown as { _handle: unknown })._handle).toBe(null);
    for (const h of [undefined, null, {}, { readStart: 1 }, "handle"]) {
      expect(takeHandle({ _handle: h } as unknown as net.Socket)).toBe(null);
    }
  });

  it("disables Nagle's algorithm on every connection unless told not to", async () => {
    const pool = makePool({ pinned: true });
    const spy = vi.spyOn(net.Socket.prototype, "setNoDelay");
    try {
      for (const noDelay of [undefined, false]) {
        spy.mockClear();
        const server = echo(pool, noDelay === undefined ? {} : { noDelay });
        const { port } = await server.listen();
        const c = connect(pool, noDelay === undefined ? { port } : { port, noDelay });
        await new Promise((r) => c.once("connect", r));
        await until(() => server.connections.size === 1, 5000);
        // Both ends: the accepted socket and the client's.
        expect(spy.mock.calls.filter(([v]) => v === (noDelay ?? true)).length).toBeGreaterThanOrEqual(2);
        c.destroy();
        await until(() => server.connections.size === 0, 5000);
        await server.close();
      }
    } finally {
      spy.mockRestore();
    }
    expect(pool.outstanding().total).toBe(0);
  });

  it("a client socket over the pool: writes from chains, reads chains and bytes, destroy frees everything", async () => {
    const pool = makePool({ pinned: true });
    const server = echo(pool);
    const { port } = await server.listen();
    const c = connect(pool, { port, ownerBase: 77, sndHiwat: 8192 });
    await new Promise((r) => c.once("connect", r));
    const m = pool.gethdr();
    pool.append(m, Buffer.from("hello, "));
    expect(c.write(m)).toBe(true);
    expect(c.writeBytes(Buffer.from("world"))).toBe(true);
    await until(() => c.readableLength >= 12, 5000);
    const first = c.read(7);
    expect(Buffer.from(pool.copydata(first)).toString()).toBe("hello, ");
    pool.freem(first);
    expect(Buffer.from(c.readBytes()).toString()).toBe("world");
    // A chain larger than the send socket buffer goes out in parts, intact.
    const big = Buffer.alloc(100_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 13) & 255;
    const chain = pool.gethdr();
    pool.append(chain, big);
    c.write(chain);
    const back: Uint8Array[] = [];
    let total = 0;
    // More than the receive socket buffer holds: read as it comes (reading resumes as it drains).
    await until(() => {
      const b = c.readBytes();
      back.push(b);
      return (total += b.length) >= big.length;
    }, 5000);
    expect(Buffer.concat(back).equals(big)).toBe(true);
    // Owner tags name the client's buffers.
    expect(pool.outstanding().groups.some((g) => g.owner === 77)).toBe(true);
    c.destroy();
    expect(c.released).toBe(true);
    await until(() => server.connections.size === 0, 5000);
    await server.close();
    expect(pool.outstanding().total).toBe(0);
  });

  it("a reset from the peer (a socket error) frees both socket buffers and everything the connection held", async () => {
    const pool = makePool({ pinned: true });
    // An application that does not read: data piles up in the receive socket buffer.
    const server = createServer(pool, { rcvHiwat: 32768 });
    const { port } = await server.listen();
    const conns: Array<{ remote: string }> = [];
    server.on("connection", (conn) => conns.push(conn));
    const c = net.connect(port, "127.0.0.1");
    c.on("error", () => {});
    await new Promise((r) => c.once("connect", r));
    c.write(Buffer.alloc(20_000, 1));
    const held = (): string[] => Object.keys(pool.outstanding({ classify: server.holders() }).byHolder);
    await until(() => held().some((h) => h.startsWith("sockbuf:so_rcv")), 5000);
    expect(pool.outstanding().total).toBeGreaterThan(1);
    c.resetAndDestroy();
    await until(() => server.connections.size === 0, 5000);
    expect(server.stats.errors).toBe(1);
    expect(conns.length).toBe(1);
    expect(pool.outstanding().total).toBe(0);
    await server.close();
  });
});
