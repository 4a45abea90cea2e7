// mbufpool/node UDP and DNS responder on loopback, and metrics over HTTP.
import { describe, it, expect } from "vitest";
import dgram from "node:dgram";
import http from "node:http";
import { makePool } from "./helpers.js";
import { M_NOWAIT, MT, M_PKTHDR } from "mbufpool";
import { createUdpSocket, createDnsResponder, buildQuery, serveMetrics, createServer, NoBufferSpaceError } from "mbufpool/node";

/** Takes every cluster and mbuf of the pool (to exhaust it); returns the handles. */
function hog(pool: ReturnType<typeof makePool>): number[] {
  const held: number[] = [];
  for (let m; (m = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR)) !== 0;) held.push(m);
  for (let m; (m = pool.gethdr()) !== 0;) held.push(m);
  return held;
}

function get(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }));
    }).on("error", reject);
  });
}

describe("mbufpool/node UDP", () => {
  it("a send the pool cannot buffer fails with ENOBUFS, a receive it cannot buffer is dropped and counted", async () => {
    const pool = makePool({ pinned: true, tunables: { nmbclusters: 16, nmbufs: 64 } });
    const a = createUdpSocket(pool), b = createUdpSocket(pool);
    const pb = (await b.bind()).port;
    await a.bind();
    const got: string[] = [];
    b.on("message", (m: number) => {
      got.push(Buffer.from(pool.copydata(m)).toString());
      pool.freem(m);
    });
    await a.sendBytes(Buffer.from("one"), pb, "127.0.0.1");
    while (got.length < 1) await new Promise((r) => setTimeout(r, 10));
    const held = hog(pool);
    const err = await a.sendBytes(Buffer.from("two"), pb, "127.0.0.1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoBufferSpaceError);
    expect(err).toMatchObject({ code: "ENOBUFS", message: "No buffer space available" });
    expect(a.stats.sendNobufs).toBe(1);
    // A datagram arriving now finds no buffer: dropped and counted, nothing kept.
    const raw = dgram.createSocket("udp4");
    const dropped = new Promise((r) => b.once("drop", r));
    raw.send(Buffer.from("three"), pb, "127.0.0.1");
    await dropped;
    expect(b.stats.rcvDropped).toBe(1);
    pool.freemBulk(held);
    await a.sendBytes(Buffer.from("four"), pb, "127.0.0.1");
    while (got.length < 2) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(["one", "four"]);
    raw.close();
    await a.close();
    await b.close();
    expect(pool.outstanding().total).toBe(0);
  });

  it("the DNS responder under a flood with malformed packets: valid answered, malformed counted, ENOBUFS handled, no leak", async () => {
    const pool = makePool({ pinned: true, tunables: { nmbclusters: 64, nmbufs: 256 } });
    const dns = createDnsResponder(pool, { answer: "10.1.2.3" });
    const port = (await dns.bind()).port;
    const client = dgram.createSocket("udp4");
    const answers = new Map<number, Buffer>();
    client.on("message", (msg) => answers.set(msg.readUInt16BE(0), msg));
    await new Promise<void>((r) => client.bind(0, "127.0.0.1", () => r()));
    const ROUNDS = 40, PER = 25;
    let valid = 0, bad = 0, id = 0;
    const send = (q: Uint8Array): Promise<void> =>
      new Promise((r) => client.send(q, port, "127.0.0.1", () => r()));
    // Windows small enough for the kernel's socket buffers: what is sent is received.
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < PER; i++) {
        id++;
        if (i % 5 === 4) {
          bad++;
          await send(buildQuery(id, `host${id}.example`, { claimLonger: 1 + (id % 60) }));
        } else {
          valid++;
          await send(buildQuery(id, `host${id}.example`));
        }
      }
      const want = valid;
      for (let t = 0; t < 200 && answers.size < want; t++) await new Promise((r) => setTimeout(r, 5));
    }
    expect(answers.size).toBe(valid);
    expect(dns.stats.malformed).toBe(bad);
    expect(dns.stats.reasons["Label claims to be longer than packet"]).toBe(bad);
    const one = answers.get(1) as Buffer;
    expect(one.readUInt16BE(6)).toBe(1); // ANCOUNT
    expect(Array.from(one.subarray(one.length - 4))).toEqual([10, 1, 2, 3]);

    // Exhausted: replies fail with ENOBUFS or queries are dropped on receive; the responder carries on.
    const held = hog(pool);
    pool.freemBulk(held.splice(0, 1)); // room for a query, none for its reply
    const before = answers.size;
    for (let i = 0; i < 20; i++) await send(buildQuery(++id, "starved.example"));
    for (let t = 0; t < 100 && dns.stats.nobufs + dns.udp.stats.rcvDropped < 20; t++) await new Promise((r) => setTimeout(r, 5));
    expect(dns.stats.nobufs + dns.udp.stats.rcvDropped).toBe(20);
    expect(dns.stats.nobufs).toBeGreaterThan(0);
    expect(answers.size).toBe(before);
    pool.freemBulk(held);
    await send(buildQuery(++id, "after.example"));
    for (let t = 0; t < 200 && !answers.has(id); t++) await new Promise((r) => setTimeout(r, 5));
    expect(answers.has(id)).toBe(true);
    client.close();
    await dns.close();
    expect(pool.outstanding().total).toBe(0);
  }, 30_000);
});

describe("mbufpool/node metrics over HTTP", () => {
  it("serves /metrics from the pool's registry (adapters' counters included) and /netstat in any format, on loopback", async () => {
    const pool = makePool({ pinned: true });
    const server = createServer(pool, { name: "echo" });
    const m = await serveMetrics(pool);
    expect(m.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const metrics = await get(`${m.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain("text/plain");
    expect(metrics.body).toContain("mbufpool_");
    expect(metrics.body).toMatch(/mbufpool_node_tcp_accepted_total\{name="echo"[^}]*\} 0/);
    const netstat = await get(`${m.url}/netstat`);
    expect(netstat.status).toBe(200);
    expect(netstat.body).toBe(`${pool.netstat()}\n`.replace(/\n\n$/, "\n"));
    const v4 = await get(`${m.url}/netstat?format=freebsd4`);
    expect(v4.body).toContain("mbuf clusters");
    const json = await get(`${m.url}/netstat?format=json`);
    expect(json.type).toContain("application/json");
    expect(() => JSON.parse(json.body)).not.toThrow();
    expect((await get(`${m.url}/netstat?format=nonesuch`)).status).toBe(400);
    expect((await get(`${m.url}/elsewhere`)).status).toBe(404);
    await m.close();
    await server.close().catch(() => {});
  });
});
