// Back-pressure that never sleeps: a reader paused for want of a cluster is
// woken by the free that makes one available, through the pool's wait queue,
// in its order and the receive class first; large reads shrink under
// shortage. Order is checked, never time.
import { describe, it, expect } from "vitest";
import net from "node:net";
import { makePool } from "./helpers.js";
import { echoOf, until, discardServer, sendInto } from "./node-helpers.js";
import { M_WAITOK, MT, M_PKTHDR, type Pool } from "mbufpool";
import { createServer, type MbufSocket } from "mbufpool/node";


function payload(size: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 29 + seed + (i >> 9)) & 255;
  return b;
}

/** Every cluster of the pool, taken. */
function takeAllClusters(pool: Pool): number[] {
  const held: number[] = [];
  for (let m; (m = pool.getcl()) !== 0;) held.push(m);
  return held;
}

describe("back-pressure through the wait queue", () => {
  it("paused readers resume on the free that gives a cluster back, in queue order, before other waiters", async () => {
    const pool = makePool({ pinned: true, tunables: { nmbclusters: 32 } });
    // An application that does not read: what arrives stays in the receive socket buffers.
    const server = createServer(pool, { rcvHiwat: 65536 });
    const conns: MbufSocket[] = [];
    server.on("connection", (c: MbufSocket) => conns.push(c));
    const { port } = await server.listen();
    const held = takeAllClusters(pool);
    // A waiter of another class, queued first.
    let otherServed = 0;
    const other = pool.getclWait(M_WAITOK, MT.DATA, M_PKTHDR, { timeout: Infinity }).then((m) => {
      otherServed = Math.max(...conns.map((c) => c.readableLength)) >= 6000 ? 2 : 1;
      return m;
    });
    const clients: net.Socket[] = [];
    // Two connections, one after the other: each reads into a pool with no cluster and waits.
    for (let k = 0; k < 2; k++) {
      const c = net.connect(port, "127.0.0.1");
      c.on("error", () => {});
      clients.push(c);
      await until(() => conns.length === k + 1);
      c.write(payload(6000, k));
      await until(() => server.stats.pausedPool === k + 1);
    }
    expect(pool.stats().waits.receiveWaiting).toBe(2);
    const cc = (): number[] => conns.map((c) => c.readableLength);
    expect(cc()).toEqual([0, 0]);
    // Each free serves the first receiver in the queue; a served receiver that still has bytes
    // to move waits again at the back. The other class waits until no receiver does.
    const seen: number[][] = [];
    for (let i = 0; i < 6; i++) {
      const before = cc();
      pool.freem(held.pop()!);
      await until(() => cc().some((n, j) => n > before[j]));
      seen.push(cc().map((n, j) => (n > before[j] ? 1 : 0)));
    }
    expect(seen).toEqual([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [0, 1]]);
    expect(cc()).toEqual([6000, 6000]);
    expect(otherServed).toBe(0);
    // Both readers resumed; the next free goes to the other waiter.
    await until(() => server.stats.resumed === 2);
    pool.freem(held.pop()!);
    pool.freem(await other);
    expect(otherServed).toBe(2);
    for (const m of held) pool.freem(m);
    // Every byte was kept, in order.
    expect(Buffer.from(conns[0].readBytes()).equals(payload(6000, 0))).toBe(true);
    expect(Buffer.from(conns[1].readBytes()).equals(payload(6000, 1))).toBe(true);
    for (const c of clients) c.destroy();
    await server.close();
    expect(pool.outstanding().total).toBe(0);
    pool.assertAudit();
  });

  it("1 MiB echoed through 16 clusters completes, driven by frees", async () => {
    const pool = makePool({ pinned: true, tunables: { nmbclusters: 16 } });
    const server = createServer(pool, async (conn) => {
      conn.on("end", () => conn.end());
      for await (const chain of conn) if (!conn.write(chain)) await conn.drained();
    });
    const { port } = await server.listen();
    const data = payload(1 << 20, 3);
    const back = await echoOf(port, data);
    expect(back.equals(data)).toBe(true);
    expect(server.stats.pausedPool).toBeGreaterThan(0);
    // Reads shrank under the shortage instead of failing.
    expect(server.stats.spilledReads).toBeGreaterThan(0);
    await until(() => server.connections.size === 0);
    await server.close();
    expect(pool.outstanding().total).toBe(0);
  });

  it("reads are large while the pool has room: far fewer reads than clusters' worth", async () => {
    const pool = makePool({ pinned: true, tunables: { nmbclusters: 1024 } });
    const server = discardServer(pool, { rcvHiwat: 200_000 });
    const size = 4 << 20;
    await sendInto(server, size, 1);
    // 2 KiB reads would take 2048; 64 KiB reads take about 64 (the kernel may hand over less at a time).
    expect(server.stats.reads).toBeLessThan(size / pool.mclbytes / 4);
    await server.close();
    expect(pool.outstanding().total).toBe(0);
  });

  it("readSize bounds each read, and is checked", async () => {
    const pool = makePool({ pinned: true, tunables: { nmbclusters: 1024 } });
    expect(() => createServer(pool, { readSize: 100 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => createServer(pool, { readSize: (1 << 20) + 1 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    const server = discardServer(pool, { readSize: 4096 });
    const size = 1 << 20;
    await sendInto(server, size, 2);
    expect(server.stats.reads).toBeGreaterThanOrEqual(size / 4096);
    await server.close();
    expect(pool.outstanding().total).toBe(0);
  });
});
