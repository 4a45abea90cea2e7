// mbufpool/node TCP under real load on loopback: a pool smaller than the load,
// back-pressure instead of failure, idle drops that free everything.
import { describe, it, expect, vi } from "vitest";
import net from "node:net";
import { makePool } from "./helpers.js";
import { serverPair, until } from "./node-helpers.js";
import type { Pool } from "mbufpool";
import { createServer, connect, BrokenPipeError, type MbufServer, type MbufSocket } from "mbufpool/node";
import { takeHandle } from "../src/node/tcp.js";

/** The README's echo server, as written there. */
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

interface ClientOptions {
  /** Size of each write (64 KiB). */
  piece?: number;
  /** Wait for this before the first write (connected() is called once connected). */
  start?: Promise<void>;
  connected?: () => void;
  /** Stop reading for `pauseMs` once this many bytes came back: a slow reader. */
  pauseAt?: number;
  pauseMs?: number;
}

/**
 * A client that writes `data`, half-closes right after the last write (socket.end()), and
 * resolves with everything the server sent before its FIN.
 */
function halfClose(port: number, data: Buffer, o: ClientOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, "127.0.0.1");
    const got: Buffer[] = [];
    let n = 0, paused = false;
    c.on("data", (d: Buffer) => {
      got.push(d);
      n += d.length;
      if (o.pauseAt !== undefined && !paused && n >= o.pauseAt) {
        paused = true;
        c.pause();
        setTimeout(() => c.resume(), o.pauseMs ?? 300);
      }
    });
    c.on("error", reject);
    c.on("end", () => resolve(Buffer.concat(got)));
    c.on("connect", () => {
      o.connected?.();
      void (o.start ?? Promise.resolve()).then(() => {
        const piece = o.piece ?? 65536;
        for (let off = 0; off < data.length; off += piece) c.write(data.subarray(off, off + piece));
        c.end();
      });
    });
  });
}

/** Connects `n` half-closing clients, starts them all at once, and counts those that got all their data back. */
async function burst(port: number, n: number, size: number): Promise<number> {
  let go = (): void => {}, up = 0;
  const start = new Promise<void>((r) => (go = r));
  const ok = await Promise.all(Array.from({ length: n }, (_, k) => {
    const data = payload(k, size);
    return halfClose(port, data, { start, connected: () => ++up === n && go(), piece: 1000 + (k % 7) * 1500 })
      .then((back) => back.equals(data));
  }));
  return ok.filter(Boolean).length;
}


/** Once the server closed: nothing in use beyond `baseline`, the audit clean. */
async function closedClean(pool: Pool, server: MbufServer, baseline = 0): Promise<void> {
  await until(() => server.connections.size === 0, 10_000, 20);
  await server.close();
  expect(server.stats.open).toBe(0);
  expect(pool.outstanding().total).toBe(baseline);
  pool.assertAudit();
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

  it("the README echo server: a client that half-closes right after sending gets every byte back", async () => {
    const pool = makePool({ pinned: true });
    const server = echo(pool);
    const { port } = await server.listen();
    // Sizes that end on a full read (2048, 4096, 10240) bring the FIN in the same batch of reads as the last data.
    const sizes = [1, 2048, 4096, 10_000, 10_240, 65_536, 1 << 20];
    let total = 0;
    for (const [k, size] of sizes.entries()) {
      const data = payload(k, size);
      const back = await halfClose(port, data);
      expect({ size, got: back.length, same: back.equals(data) }).toEqual({ size, got: size, same: true });
      total += size;
    }
    expect(server.stats.bytesIn).toBe(total);
    expect(server.stats.bytesOut).toBe(total);
    expect(server.stats.errors).toBe(0);
    await closedClean(pool, server);
  });

  it("\"end\" waits for the loop body: a body that awaits before writing still writes the last chain", async () => {
    const pool = makePool({ pinned: true });
    const server = createServer(pool, {}, async (conn) => {
      conn.on("end", () => conn.end());
      for await (const chain of conn) {
        await new Promise((r) => setTimeout(r, 2)); // e.g. a lookup before the reply
        if (!conn.write(chain)) await conn.drained();
      }
    });
    const { port } = await server.listen();
    for (const size of [2048, 10_240, 300_000]) {
      const data = payload(size, size);
      expect((await halfClose(port, data)).equals(data)).toBe(true);
    }
    await closedClean(pool, server);
  });

  it("\"end\" after read() took the last chain comes in a later turn, once the application wrote it", async () => {
    const pool = makePool({ pinned: true });
    const server = createServer(pool, {}, (conn) => {
      conn.on("end", () => conn.end());
      conn.on("readable", () => {
        for (let m; (m = conn.read()) !== 0;) conn.write(m);
      });
    });
    const { port } = await server.listen();
    for (const size of [2048, 10_000, 10_240, 100_000]) {
      const data = payload(size, size);
      expect((await halfClose(port, data)).equals(data)).toBe(true);
    }
    expect(server.stats.bytesOut).toBe(2048 + 10_000 + 10_240 + 100_000);
    await closedClean(pool, server);
  });

  it("100 clients x 256 KiB that half-close at once through a pool smaller than the load: every client gets all its data", async () => {
    // 25 MiB against 128 clusters (256 KiB), with the default waitMs.
    const pool = makePool({ pinned: true, tunables: { nmbclusters: 128 }, reserve: 16, reserveFlag: true });
    const baseline = pool.outstanding().total;
    const server = echo(pool);
    const { port } = await server.listen();
    const N = 100, SIZE = 256 * 1024;
    expect(await burst(port, N, SIZE)).toBe(N);
    const s = server.stats;
    expect(s.accepted).toBe(N);
    expect(s.refused + s.errors).toBe(0);
    expect(s.bytesIn).toBe(N * SIZE);
    expect(s.bytesOut).toBe(N * SIZE);
    // The pool ran dry, and reading waited instead of failing.
    expect(s.denied).toBeGreaterThan(0);
    expect(s.pausedPool + s.pausedSockbuf).toBeGreaterThan(0);
    expect(s.resumed).toBeGreaterThan(0);
    await closedClean(pool, server, baseline);
  }, 60_000);

  it("200 clients burst 48 KiB each into 16 clusters and half-close: every byte back in order", async () => {
    const pool = makePool({ pinned: true, tunables: { nmbclusters: 16 }, reserveFlag: true });
    const baseline = pool.outstanding().total;
    const server = echo(pool, { rcvHiwat: 16384, sndHiwat: 16384 });
    const { port } = await server.listen();
    const N = 200, SIZE = 48 * 1024;
    expect(await burst(port, N, SIZE)).toBe(N);
    const s = server.stats;
    expect(s.bytesIn).toBe(N * SIZE);
    expect(s.bytesOut).toBe(N * SIZE);
    expect(s.denied).toBeGreaterThan(0);
    expect(s.pausedPool).toBeGreaterThan(0);
    expect(pool.stats().clusters.denied + pool.stats().packets.denied).toBeGreaterThan(0);
    await closedClean(pool, server, baseline);
  }, 60_000);

  it("a slow reader: back-pressure from the send path to the receive path, no byte lost", async () => {
    const pool = makePool({ pinned: true, tunables: { nmbclusters: 256 } });
    const server = echo(pool, { rcvHiwat: 16384, sndHiwat: 16384 });
    const { port } = await server.listen();
    // More than loopback's kernel buffers hold while the reader sleeps, so the server's writes back up.
    const SIZE = 16 << 20;
    const datas = [0, 1, 2].map((k) => payload(k, SIZE));
    const backs = await Promise.all(datas.map((d, k) => halfClose(port, d, { pauseAt: 64 * 1024 * (k + 1), pauseMs: 1000 })));
    for (const [k, b] of backs.entries()) expect(b.equals(datas[k])).toBe(true);
    const s = server.stats;
    expect(s.writeBlocked).toBeGreaterThan(0);
    expect(s.pausedSockbuf).toBeGreaterThan(0);
    expect(s.bytesOut).toBe(3 * SIZE);
    await closedClean(pool, server);
  }, 30_000);

  it("clients that reset or destroy mid-stream: each connection frees everything once it closes", async () => {
    const pool = makePool({ pinned: true, tunables: { nmbclusters: 128 } });
    const server = echo(pool, { rcvHiwat: 16384, sndHiwat: 16384 });
    const { port } = await server.listen();
    const N = 20;
    await Promise.all(Array.from({ length: N }, (_, k) => new Promise<void>((resolve) => {
      const c = net.connect(port, "127.0.0.1");
      let n = 0;
      c.on("error", () => {});
      c.on("close", () => resolve());
      c.on("data", (d: Buffer) => {
        n += d.length;
        // Mid-stream: the echo is flowing both ways, and more is on its way.
        if (n >= 100_000 && !c.destroyed) {
          if (k % 2 === 0) c.resetAndDestroy();
          else c.destroy();
        }
      });
      c.on("connect", () => c.write(payload(k, 1 << 20)));
    })));
    await until(() => server.stats.closed === N, 10_000, 20);
    // Only bytes whose write completed count.
    expect(server.stats.bytesOut).toBeLessThanOrEqual(server.stats.bytesIn);
    await closedClean(pool, server);
  });

  it("write() and writeBytes() after end() throw EPIPE, and the chain is freed", async () => {
    const pool = makePool({ pinned: true });
    const { server, conn, client } = await serverPair(pool);
    const before = pool.outstanding().total;
    conn.end();
    const m = pool.gethdr();
    pool.append(m, Buffer.from("late"));
    expect(() => conn.write(m)).toThrow(BrokenPipeError);
    expect(() => conn.write(m)).toThrow(expect.objectContaining({ code: "EDOUBLEFREE" }));
    expect(() => conn.writeBytes(Buffer.from("late"))).toThrow(expect.objectContaining({ code: "EPIPE", syscall: "write" }));
    expect(pool.outstanding().total).toBe(before);
    client.destroy();
    await closedClean(pool, server);
  });

  it("bytesOut counts completed writes: one the socket refuses is not counted", async () => {
    const pool = makePool({ pinned: true });
    const { server, conn, client } = await serverPair(pool);
    const errors: unknown[] = [];
    conn.on("error", (e: NodeJS.ErrnoException) => errors.push(e.code));
    // The Node socket ended underneath the adapter: its next write fails.
    conn.socket.end();
    expect(conn.writeBytes(Buffer.from("never sent"))).toBe(10);
    await until(() => conn.released, 5000, 20);
    expect(errors).toEqual(["ERR_STREAM_WRITE_AFTER_END"]);
    expect(server.stats.bytesOut).toBe(0);
    client.destroy();
    await closedClean(pool, server);
  });

  it("writeBytes() returns the bytes it took: the documented loop sends every record exactly once", async () => {
    const pool = makePool({ pinned: true, tunables: { nmbclusters: 64 } });
    const lines = Array.from({ length: 50_000 }, (_, i) => `record ${i}\n`);
    const server = createServer(pool, { sndHiwat: 16384 }, async (conn) => {
      for (const line of lines) {
        const p = Buffer.from(line);
        let off = 0;
        while (off < p.length) {
          off += conn.writeBytes(p.subarray(off));
          if (off < p.length) await conn.drained();
        }
      }
      conn.end();
    });
    const { port } = await server.listen();
    const got = await halfClose(port, Buffer.alloc(0));
    expect(server.stats.writeBlocked).toBeGreaterThan(0);
    expect(got.toString() === lines.join("")).toBe(true);
    await closedClean(pool, server);
  });

  it("a pool client that half-closes reads the whole reply, even after the server closed", async () => {
    const pool = makePool({ pinned: true });
    const server = echo(pool);
    const { port } = await server.listen();
    const c = connect(pool, { port, rcvHiwat: 200_000 });
    await new Promise((r) => c.once("connect", r));
    const data = payload(9, 150_000);
    const m = pool.gethdr();
    pool.append(m, data);
    c.write(m);
    c.end();
    // The reply arrives, the server ends, and the Node socket closes while nothing has been read.
    await until(() => server.stats.closed === 1, 5000, 20);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.released).toBe(false);
    let ended = false;
    c.on("end", () => (ended = true));
    const back: Uint8Array[] = [];
    for await (const chain of c) {
      back.push(pool.copydata(chain));
      pool.freem(chain);
    }
    expect(Buffer.concat(back).equals(data)).toBe(true);
    expect(ended).toBe(true);
    expect(c.released).toBe(true);
    await closedClean(pool, server);
  });

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
    await until(() => holders().filter((h) => h.startsWith("sockbuf:so_snd")).length === N, 15_000, 20);
    const held = pool.outstanding({ classify: server.holders() });
    expect(held.total).toBeGreaterThan(0);
    expect(Object.keys(held.byHolder).some((h) => h.startsWith("sockbuf:so_rcv of connection"))).toBe(true);
    expect(Object.keys(held.byHolder).some((h) => h.startsWith("sockbuf:so_snd of connection"))).toBe(true);
    expect(held.byHolder).not.toHaveProperty("none");
    await until(() => server.stats.idleDrops === N, 15_000, 20);
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
        await until(() => server.connections.size === 1, 5000, 20);
        // Both ends: the accepted socket and the client's.
        expect(spy.mock.calls.filter(([v]) => v === (noDelay ?? true)).length).toBeGreaterThanOrEqual(2);
        c.destroy();
        await until(() => server.connections.size === 0, 5000, 20);
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
    expect(c.writeBytes(Buffer.from("world"))).toBe(5);
    await until(() => c.readableLength >= 12, 5000, 20);
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
    }, 5000, 20);
    expect(Buffer.concat(back).equals(big)).toBe(true);
    // Owner tags name the client's buffers.
    expect(pool.outstanding().groups.some((g) => g.owner === 77)).toBe(true);
    c.destroy();
    expect(c.released).toBe(true);
    await until(() => server.connections.size === 0, 5000, 20);
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
    await until(() => held().some((h) => h.startsWith("sockbuf:so_rcv")), 5000, 20);
    expect(pool.outstanding().total).toBeGreaterThan(1);
    c.resetAndDestroy();
    await until(() => server.connections.size === 0, 5000, 20);
    expect(server.stats.errors).toBe(1);
    expect(conns.length).toBe(1);
    expect(pool.outstanding().total).toBe(0);
    await server.close();
  });
});
