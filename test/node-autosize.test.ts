// Socket-buffer autosizing in mbufpool/node, as FreeBSD's sendbuf_auto and
// recvbuf_auto: a streaming connection's buffers grow, a step at a time, and
// never past sendbuf_max / recvbuf_max or sb_max; a reader that stops
// reading does not grow its buffer; the older profiles keep theirs fixed.
import { describe, it, expect } from "vitest";
import net from "node:net";
import { makePool } from "./helpers.js";
import { echoOf, until } from "./node-helpers.js";
import type { Pool } from "mbufpool";
import { createServer, type MbufServer, type MbufSocket, type TcpServerOptions } from "mbufpool/node";


interface Sizes { rcv: number[]; snd: number[] }

/**
 * An echo server that records its connection's socket buffer sizes after every chain; streams
 * `size` bytes through it from a Node client and resolves with the sizes seen.
 */
async function stream(pool: Pool, size: number, options: TcpServerOptions = {}): Promise<{ sizes: Sizes; server: MbufServer }> {
  const sizes: Sizes = { rcv: [], snd: [] };
  const server = createServer(pool, options, async (conn: MbufSocket) => {
    conn.on("end", () => conn.end());
    for await (const chain of conn) {
      sizes.rcv.push(pool.sbstat(conn.so, "rcv").hiwat);
      sizes.snd.push(pool.sbstat(conn.so, "snd").hiwat);
      if (!conn.write(chain)) await conn.drained();
    }
  });
  const { port } = await server.listen();
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7) & 255;
  const back = await echoOf(port, data);
  expect(back.equals(data)).toBe(true);
  await until(() => server.connections.size === 0, 15_000);
  await server.close();
  expect(pool.outstanding().total).toBe(0);
  return { sizes, server };
}

const rising = (xs: number[]): boolean => xs.every((x, i) => i === 0 || x >= xs[i - 1]);

describe("socket-buffer autosizing", () => {
  it("grows a streaming connection's buffers a step at a time, up to recvbuf_max and sendbuf_max", async () => {
    const pool = makePool({
      pinned: true, tunables: { nmbclusters: 2048, "net.inet.tcp.recvbuf_max": 100_000, "net.inet.tcp.sendbuf_max": 50_000 },
    });
    const { sizes, server } = await stream(pool, 8 << 20, { rcvHiwat: 65536, sndHiwat: 32768 });
    expect(server.stats.sbGrown).toBeGreaterThan(0);
    expect(rising(sizes.rcv) && rising(sizes.snd)).toBe(true);
    // Steps of half the size (at least recvbuf_inc, 16 KiB) from 64 KiB, the last one cut at the bound.
    // (The first chain may be seen after the first step: a buffer grows before the turn's "readable".)
    const steps = [65536, 98304, 100_000], seen = [...new Set(sizes.rcv)];
    expect(seen).toEqual(steps.slice(steps.indexOf(seen[0])));
    expect(Math.max(...sizes.snd)).toBeGreaterThan(32768);
    expect(Math.max(...sizes.snd)).toBeLessThanOrEqual(50_000);
  }, 30_000);

  it("is bounded by sb_max (kern.ipc.maxsockbuf) whatever recvbuf_max says", async () => {
    const pool = makePool({ pinned: true, tunables: { nmbclusters: 4096 } });
    const { sizes } = await stream(pool, 12 << 20);
    expect(Math.max(...sizes.rcv)).toBe(pool.sbHiwatMax);
  }, 30_000);

  it("the growth of all connections together stays within a quarter of the pool", async () => {
    const pool = makePool({ pinned: true, tunables: { nmbclusters: 256 } });
    const budget = (256 * pool.mclbytes) / 4;
    let most = 0;
    const server = createServer(pool, async (conn: MbufSocket) => {
      conn.on("end", () => conn.end());
      for await (const chain of conn) {
        let grown = 0;
        for (const c of server.connections) grown += pool.sbstat(c.so, "rcv").hiwat - 65536 + pool.sbstat(c.so, "snd").hiwat - 32768;
        most = Math.max(most, grown);
        if (!conn.write(chain)) await conn.drained();
      }
    });
    const { port } = await server.listen();
    const data = Buffer.alloc(2 << 20, 9);
    await Promise.all(Array.from({ length: 8 }, () => new Promise<void>((resolve, reject) => {
      const c = net.connect(port, "127.0.0.1", () => c.end(data));
      let got = 0;
      c.on("data", (d: Buffer) => (got += d.length));
      c.on("error", reject);
      c.on("end", () => (got === data.length ? resolve() : reject(new Error(`got ${got}`))));
    })));
    expect(server.stats.sbGrown).toBeGreaterThan(0);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(budget);
    await until(() => server.connections.size === 0, 15_000);
    await server.close();
    expect(pool.outstanding().total).toBe(0);
  }, 30_000);

  it("does not grow the buffer of an application that stops reading", async () => {
    const pool = makePool({ pinned: true });
    const server = createServer(pool, { rcvHiwat: 65536 }); // never reads
    const conns: MbufSocket[] = [];
    server.on("connection", (c: MbufSocket) => conns.push(c));
    const { port } = await server.listen();
    const c = net.connect(port, "127.0.0.1", () => c.write(Buffer.alloc(4 << 20, 1)));
    c.on("error", () => {});
    await until(() => server.stats.pausedSockbuf > 0 && conns.length === 1, 15_000);
    // Give it many turns of the event loop to (wrongly) grow.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    // At most the one step of the turn that filled it; it stays paused, full.
    expect(pool.sbstat(conns[0].so, "rcv").hiwat).toBeLessThanOrEqual(65536 + 32768);
    expect(pool.sbstat(conns[0].so, "rcv").cc).toBeLessThanOrEqual(pool.sbstat(conns[0].so, "rcv").hiwat);
    c.destroy();
    await server.close();
    expect(pool.outstanding().total).toBe(0);
  });

  it("stays off with autotune: false, with the tunable at 0, and on profiles without it", async () => {
    for (const [pool, options] of [
      [makePool({ pinned: true, tunables: { nmbclusters: 2048 } }), { autotune: false }],
      [makePool({ pinned: true, tunables: { nmbclusters: 2048, "net.inet.tcp.recvbuf_auto": 0, "net.inet.tcp.sendbuf_auto": 0 } }), {}],
      [makePool({ pinned: true, profile: "freebsd4" }), {}],
    ] as const) {
      const { sizes, server } = await stream(pool, 4 << 20, options);
      expect(server.stats.sbGrown).toBe(0);
      expect(new Set(sizes.rcv)).toEqual(new Set([65536]));
      expect(new Set(sizes.snd)).toEqual(new Set([32768]));
    }
  }, 30_000);

  it("the tunables are the freebsd profile's, with FreeBSD's defaults", () => {
    const t = makePool().tunables;
    expect([t["net.inet.tcp.sendbuf_auto"], t["net.inet.tcp.sendbuf_inc"], t["net.inet.tcp.sendbuf_max"]]).toEqual([1, 8192, 2 << 20]);
    expect([t["net.inet.tcp.recvbuf_auto"], t["net.inet.tcp.recvbuf_inc"], t["net.inet.tcp.recvbuf_max"]]).toEqual([1, 16384, 2 << 20]);
  });
});
