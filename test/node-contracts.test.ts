// The contracts of mbufpool/node a user relies on: writeBytes() as write(2)
// (the count taken, a loop that never sends a byte twice, under pool
// exhaustion too), createServer called as Node's, options that refuse typos,
// messages that name the public call, and waiting allocations that keep the
// process alive as a pending read does.
import { describe, it, expect } from "vitest";
import net from "node:net";
import { makePool, runModule } from "./helpers.js";
import { serverPair } from "./node-helpers.js";
import { M_WAITOK, MT, M_PKTHDR, type Pool } from "mbufpool";
import {
  createServer, connect, createUdpSocket, createDnsResponder, serveMetrics, handleMetrics, type MbufSocket,
} from "mbufpool/node";


function payload(size: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 131 + seed + (i >> 11) * 17) & 255;
  return b;
}

/** Connects a Node client that reads everything until the server's FIN. */
function drain(port: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, "127.0.0.1");
    const got: Buffer[] = [];
    c.on("data", (d: Buffer) => got.push(d));
    c.on("error", reject);
    c.on("end", () => {
      c.end();
      resolve(Buffer.concat(got));
    });
  });
}



describe("writeBytes: the count taken, as write(2)", () => {
  it("takes what the send socket buffer has room for and says so", async () => {
    const pool = makePool({ pinned: true });
    const { server, conn, client } = await serverPair(pool, { sndHiwat: 16384 });
    const big = payload(100_000);
    // A fresh connection: the whole send buffer is free, so exactly sndHiwat bytes are taken.
    expect(conn.writeBytes(big)).toBe(16384);
    // Nothing has completed yet: no room, nothing taken.
    expect(conn.writeBytes(big.subarray(16384))).toBe(0);
    expect(conn.writeBytes(new Uint8Array(0))).toBe(0);
    await conn.drained();
    expect(conn.writeBytes(big.subarray(16384))).toBeGreaterThan(0);
    client.destroy();
    await server.close();
    expect(pool.outstanding().total).toBe(0);
  });

  it("the documented loop under pool exhaustion: every byte arrives exactly once and in order", async () => {
    // 16 clusters for a send buffer of 64 KiB: the pool, not the socket buffer, is what runs out.
    const pool = makePool({ pinned: true, tunables: { nmbclusters: 16 } });
    const data = payload(3 << 20, 5);
    const counts = { calls: 0, partial: 0, none: 0 };
    const hog: number[] = [];
    let giveBack: ReturnType<typeof setInterval> | undefined;
    const server = createServer(pool, { sndHiwat: 65536 }, async (conn) => {
      // Another holder of the pool takes every buffer, then gives them back one at a time.
      for (let m; (m = pool.getcl()) !== 0;) hog.push(m);
      for (let m; (m = pool.get()) !== 0;) hog.push(m);
      giveBack = setInterval(() => {
        const m = hog.shift();
        if (m !== undefined) pool.freem(m);
        else clearInterval(giveBack);
      }, 2);
      for (let at = 0; at < data.length; at += 200_000) {
        const p = data.subarray(at, at + 200_000);
        let off = 0;
        while (off < p.length) {
          const n = conn.writeBytes(p.subarray(off));
          counts.calls++;
          if (n === 0) counts.none++;
          else if (n < p.length - off) counts.partial++;
          off += n;
          if (off < p.length) await conn.drained();
        }
      }
      conn.end();
    });
    const { port } = await server.listen();
    const got = await drain(port).finally(() => clearInterval(giveBack));
    expect(got.length).toBe(data.length);
    expect(got.equals(data)).toBe(true);
    // Both answers happened: part of a write taken, and nothing taken.
    expect(counts.partial).toBeGreaterThan(0);
    expect(counts.none).toBeGreaterThan(0);
    expect(server.stats.bytesOut).toBe(data.length);
    for (const m of hog.splice(0)) pool.freem(m);
    while (server.connections.size > 0) await new Promise((r) => setTimeout(r, 10));
    await server.close();
    expect(pool.outstanding().total).toBe(0);
    pool.assertAudit();
  }, 30_000);

  it("write(chain) takes the whole chain; false says to wait, and all of it arrives", async () => {
    const pool = makePool({ pinned: true });
    const data = payload(200_000, 9);
    const server = createServer(pool, { sndHiwat: 16384 }, (conn) => {
      const m = pool.gethdr();
      pool.append(m, data);
      expect(conn.write(m)).toBe(false);
      conn.end();
    });
    const { port } = await server.listen();
    expect((await drain(port)).equals(data)).toBe(true);
    while (server.connections.size > 0) await new Promise((r) => setTimeout(r, 10));
    await server.close();
    expect(pool.outstanding().total).toBe(0);
  });

  it("writes on a closed connection fail with EPIPE instead of pretending to wait", async () => {
    const pool = makePool({ pinned: true });
    const { server, conn, client } = await serverPair(pool);
    conn.destroy();
    expect(() => conn.writeBytes(Buffer.from("x"))).toThrow(expect.objectContaining({ code: "EPIPE", message: expect.stringMatching(/closed/) }));
    const m = pool.gethdr();
    expect(() => conn.write(m)).toThrow(expect.objectContaining({ code: "EPIPE" }));
    client.destroy();
    await server.close();
    expect(pool.outstanding().total).toBe(0);
  });
});

describe("Node's habits", () => {
  it("createServer(pool, onConnection) as net.createServer(listener), and with options in between", async () => {
    const pool = makePool({ pinned: true });
    for (const server of [
      createServer(pool, (conn) => { conn.writeBytes(Buffer.from("hi")); conn.end(); }),
      createServer(pool, { sndHiwat: 8192 }, (conn) => { conn.writeBytes(Buffer.from("hi")); conn.end(); }),
    ]) {
      const { port } = await server.listen({ port: 0 });
      expect((await drain(port)).toString()).toBe("hi");
      while (server.connections.size > 0) await new Promise((r) => setTimeout(r, 10));
      await server.close();
    }
    expect(() => createServer(pool, (() => {}) as never, (() => {}) as never)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => createServer(pool, {}, "listener" as never)).toThrow(expect.objectContaining({ code: "EINVAL", message: expect.stringMatching(/function/) }));
    expect(pool.outstanding().total).toBe(0);
  });

  it("an async handler that throws drops its connection and is the server's error", async () => {
    const pool = makePool({ pinned: true });
    const server = createServer(pool, async () => {
      await new Promise((r) => setTimeout(r, 1));
      throw new Error("handler bug");
    });
    const errors: string[] = [];
    server.on("error", (e: Error) => errors.push(e.message));
    const { port } = await server.listen();
    await drain(port);
    expect(errors).toEqual(["handler bug"]);
    await server.close();
    expect(pool.outstanding().total).toBe(0);
  });

  it("a script awaiting a waiting allocation on an exhausted pool stays alive until it is served", async () => {
    const script = (unref: boolean): string => `
      import { Pool, M_WAITOK, MT, M_PKTHDR } from "mbufpool";
      const pool = Pool.create({ tunables: { nmbclusters: 4 } });
      const held = [];
      for (let m; (m = pool.getcl()) !== 0;) held.push(m);
      // An unref'd timer: were the waiter not keeping the process alive, nothing would.
      setTimeout(() => pool.freem(held.pop()), 50).unref();
      const m = await pool.getclWait(M_WAITOK, MT.DATA, M_PKTHDR, { timeout: 10000${unref ? ", unref: true" : ""} });
      console.log("served", m > 0);
    `;
    const served = await runModule(script(false));
    expect(served).toEqual({ code: 0, out: "served true\n" });
    // A daemon's background wait does not: the script ends with its top-level await pending.
    const daemon = await runModule(script(true));
    expect(daemon.code).toBe(13);
    expect(daemon.out).not.toContain("served");
  });

  it("waiting allocations keep no handle once served or rejected", async () => {
    const pool = makePool({ tunables: { nmbclusters: 4 } });
    const held: number[] = [];
    for (let m; (m = pool.getcl()) !== 0;) held.push(m);
    const handles = (): number => (process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo()
      .filter((r) => r === "Timeout").length;
    const before = handles();
    const w = pool.getclWait(M_WAITOK, MT.DATA, M_PKTHDR, { timeout: Infinity });
    expect(handles()).toBe(before + 1);
    pool.freem(held.pop()!);
    pool.freem(await w);
    expect(handles()).toBe(before);
    for (const m of held) pool.freem(m);
  });
});

describe("options refuse typos, and messages name the public call", () => {
  it("every options object of mbufpool/node names an unknown key and the closest known one", async () => {
    const pool = makePool({ pinned: true });
    const typo = (fn: () => unknown, key: string, near: string): void => {
      expect(fn).toThrow(expect.objectContaining({ code: "EINVAL", message: expect.stringContaining(`unknown option "${key}" (did you mean ${near}?)`) }));
    };
    typo(() => createServer(pool, { rcvHiwta: 65536 } as never), "rcvHiwta", "rcvHiwat");
    typo(() => createServer(pool, { idleTimeout: 5 } as never, () => {}), "idleTimeout", "idleTimeoutMs");
    typo(() => connect(pool, { prot: 80 } as never), "prot", "port");
    typo(() => createUdpSocket(pool, { tpye: "udp4" } as never), "tpye", "type");
    typo(() => createDnsResponder(pool, { tll: 60 } as never), "tll", "ttl");
    typo(() => serveMetrics(pool, { prot: 9100 } as never), "prot", "port");
    const server = createServer(pool);
    typo(() => server.listen({ prot: 1 } as never), "prot", "port");
    await expect(handleMetrics(pool, {} as never, {} as never, { tokn: "x" } as never))
      .rejects.toMatchObject({ code: "EINVAL", message: expect.stringContaining('"tokn" (did you mean token?)') });
    await expect(pool.getWait(M_WAITOK, MT.DATA, { unreff: true } as never)).rejects.toMatchObject({ code: "EINVAL" });
    expect(() => createDnsResponder(pool, { answer: 7 } as never)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => createUdpSocket(pool, { type: "udp5" } as never)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    for (const make of [() => createServer(pool, { metrics: "no" } as never), () => createUdpSocket(pool, { metrics: 0 } as never)]) {
      expect(make).toThrow(expect.objectContaining({ code: "EINVAL", message: expect.stringMatching(/metrics/) }));
    }
  });

  it("bytes given to a chain call, and a chain given to a bytes call, say which call takes what", async () => {
    const pool = makePool({ pinned: true });
    const udp = createUdpSocket(pool);
    await expect(udp.sendBytes("x" as never, 9, "127.0.0.1")).rejects.toMatchObject({
      code: "EINVAL", message: expect.stringMatching(/sendBytes\(bytes\) needs a Uint8Array, got "x"/),
    });
    await expect(udp.send(new Uint8Array(3) as never, 9, "127.0.0.1")).rejects.toMatchObject({
      code: "EINVAL", message: expect.stringContaining("sendBytes(bytes) takes bytes"),
    });
    await udp.close();
    const { server, conn, client } = await serverPair(pool);
    expect(() => conn.write(new Uint8Array(3) as never)).toThrow(expect.objectContaining({
      code: "EINVAL", message: expect.stringMatching(/ write\(chain\) takes a chain .*writeBytes\(bytes\) takes bytes/),
    }));
    expect(() => conn.writeBytes(12 as never)).toThrow(expect.objectContaining({
      code: "EINVAL", message: expect.stringMatching(/ writeBytes\(bytes\) needs a Uint8Array, got 12; write\(chain\) takes a chain/),
    }));
    client.destroy();
    await server.close();
    expect(pool.outstanding().total).toBe(0);
  });
});
