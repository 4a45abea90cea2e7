// mbufpool/node on worker threads (src/node/workers.ts): startWorkers' and
// joinWorkers' refusals, a service of two workers echoing on one port over one
// pool, and every failure of a start (a worker that throws, one that never
// serves, a port taken) stopping what was started and leaving the pool clean.
import { describe, it, expect } from "vitest";
import net from "node:net";
import { startWorkers, joinWorkers, createServer, ownerRange, reusePortSupported, WORKERS_MAX } from "mbufpool/node";
import { MbufError, type ReapReport } from "mbufpool";
import { makePool, code, pattern } from "./helpers.js";

const MEMBER = new URL("./fixtures/workers/member.mjs", import.meta.url);
const reusePort = reusePortSupported();

/** The MbufError code (or Node's error code) a promise rejects with. */
async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  throw new Error("it resolved");
}

/** Sends `data` on a new connection, half-closes, and resolves with what came back. */
function echoOnce(port: number, data: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    const c = net.connect(port, "127.0.0.1", () => c.end(data));
    c.on("data", (d: Buffer) => got.push(d)).on("end", () => resolve(Buffer.concat(got))).on("error", reject);
  });
}

describe("a TCP service on worker threads over one pool", () => {
  it("refuses bad arguments, an unshared or closed pool, and joinWorkers outside a started worker", async () => {
    const shared = makePool({ shared: true });
    expect(await rejection(startWorkers(shared, MEMBER, { threads: 2 } as never))).toBe("EINVAL");
    for (const workers of [0, WORKERS_MAX + 1, 1.5, "2"]) {
      expect(await rejection(startWorkers(shared, MEMBER, { workers: workers as number }))).toBe("EINVAL");
    }
    expect(await rejection(startWorkers(shared, MEMBER, { port: 70000 }))).toBe("EINVAL");
    expect(await rejection(startWorkers(shared, MEMBER, { host: 1 as never }))).toBe("EINVAL");
    expect(await rejection(startWorkers(shared, 5 as never))).toBe("EINVAL");
    expect(await rejection(startWorkers({} as never, MEMBER))).toBe("EINVAL");
    expect(await rejection(startWorkers(makePool(), MEMBER))).toBe("ESTATE");
    const closed = makePool({ shared: true });
    closed.close();
    expect(await rejection(startWorkers(closed, MEMBER))).toBe("ECLOSED");
    expect(code(() => joinWorkers({ nope: 1 } as never))).toBe("EINVAL");
    expect(code(() => joinWorkers())).toBe("ESTATE");
    // listen's own option, checked as the others.
    const server = createServer(makePool({ pinned: true }), () => {});
    expect(code(() => void server.listen({ port: 0, reusePort: "yes" as never }))).toBe("EINVAL");
    if (!reusePort) expect(code(() => void server.listen({ port: 0, reusePort: true }))).toBe("ESTATE");
  });

  it.skipIf(reusePort)("on a Node without reusePort, startWorkers says which Node it needs", async () => {
    const e = await startWorkers(makePool({ shared: true }), MEMBER).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MbufError);
    expect((e as MbufError).code).toBe("ESTATE");
    expect((e as MbufError).message).toContain("22.12");
  });

  it.skipIf(!reusePort)("two workers echo on one port; close gives back every buffer and every thread slot", async () => {
    const pool = makePool({ shared: true });
    const service = await startWorkers(pool, MEMBER, { workers: 2, data: { mode: "echo" } });
    try {
      expect(service.workers.length).toBe(2);
      expect(service.port).toBeGreaterThan(0);
      const datas = Array.from({ length: 16 }, (_, k) => pattern(1000 + k * 7919, k));
      const backs = await Promise.all(datas.map((d) => echoOnce(service.port, d)));
      expect(backs.every((b, k) => b.equals(datas[k]))).toBe(true);
    } finally {
      await service.close();
    }
    expect(await service.close()).toBeUndefined(); // once is enough; again is the same
    expect(pool.threads().map((t) => t.self)).toEqual([true]); // both workers' slots are free again
    const s = pool.stats();
    expect([s.mbufs.current, s.clusters.current]).toEqual([0, 0]);
    expect(pool.audit().message).toBe("clean");
  }, 60_000);

  it.skipIf(!reusePort)("a start that fails stops every worker it started: a throw, a worker that never serves, a taken port", async () => {
    const pool = makePool({ shared: true });
    const thrown = await startWorkers(pool, MEMBER, { workers: 2, data: { mode: "throw" } }).catch((e: unknown) => e);
    expect((thrown as Error).message).toContain("fails at start");
    expect(pool.threads().length).toBe(1); // it had attached: reaped, not left holding a slot
    const idle = await startWorkers(pool, MEMBER, { workers: 2, data: { mode: "idle" } }).catch((e: unknown) => e);
    expect((idle as MbufError).code).toBe("ESTATE");
    expect((idle as MbufError).message).toContain("before it served");
    // A port held by a listener without reusePort: the first worker's listen fails.
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    try {
      const port = (taken.address() as net.AddressInfo).port;
      expect(await rejection(startWorkers(pool, MEMBER, { port, data: { mode: "echo" } }))).toBe("EADDRINUSE");
    } finally {
      taken.close();
    }
    // One worker's second serve is refused; the service still works.
    const service = await startWorkers(pool, MEMBER, { workers: 1, data: { mode: "twice" } });
    try {
      const [msg] = await new Promise<[{ second: string | null }]>((r) => service.workers[0].once("message", (m) => r([m])));
      expect(msg.second).toBe("ESTATE");
      expect((await echoOnce(service.port, pattern(5000))).equals(pattern(5000))).toBe(true);
    } finally {
      await service.close();
    }
    expect(pool.audit().message).toBe("clean");
    expect(pool.stats().mbufs.current).toBe(0);
  }, 60_000);

  it.skipIf(!reusePort)("a worker that exits on its own is reaped: its slot and its connections' buffers come back", async () => {
    const pool = makePool({ shared: true });
    const service = await startWorkers(pool, MEMBER, { workers: 2, data: { mode: "echo" } });
    try {
      // A connection held open in each worker, so that the one terminated leaves buffers behind.
      const held = await Promise.all(Array.from({ length: 16 }, () => new Promise<net.Socket>((resolve, reject) => {
        const c = net.connect(service.port, "127.0.0.1", () => c.write("x"));
        c.once("data", () => resolve(c)).on("error", reject);
      })));
      const inRange1 = (o: number): boolean => o >= ownerRange(1).from && o < ownerRange(1).to;
      const sockets1 = pool.outstanding({ perGroup: 1000 }).groups.filter((g) => inRange1(g.owner))
        .flatMap((g) => g.mbufs).filter((m) => m.typeName === "socket").length;
      expect(sockets1).toBeGreaterThan(0); // 16 connections: both workers have some (1 - 2**-15)
      const exit = new Promise<[number, number, ReapReport | null]>((r) => service.once("exit", (i, c, rep) => r([i, c, rep])));
      void service.workers[1].terminate(); // not inside a pool call: an idle server
      const [index, exitCode, reap] = await exit;
      expect([index, exitCode]).toEqual([1, 1]);
      // Reaped: its slot, and every socket of its range closed (the other worker's are untouched).
      expect(reap!.freed!.sockets).toBe(sockets1);
      expect(pool.threads().length).toBe(2);
      expect(pool.outstanding().groups.filter((g) => inRange1(g.owner))).toEqual([]);
      expect(pool.audit().message).toBe("clean");
      for (const c of held) c.destroy();
      // The other still serves the port.
      expect((await echoOnce(service.port, pattern(3000, 3))).equals(pattern(3000, 3))).toBe(true);
    } finally {
      await service.close();
    }
  }, 60_000);
});
