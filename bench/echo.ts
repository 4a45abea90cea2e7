// Echo throughput and GC pauses: the same TCP echo server on mbufpool/node
// (reads land in pool clusters, writes go out from chains) and on Node's
// default buffers (a Buffer per read, socket.pipe(socket)), in one run, on
// loopback. The clients run in a worker thread, so the GC pauses observed here
// are the server's isolate only. Rounds alternate between the two servers;
// the medians are printed with mbufpool's ratio to the Node baseline.
//
//   npm run bench:echo [-- --clients 50 --bytes 1048576 --rounds 3]
//
// (An async benchmark does not fit bench/types.ts's synchronous BenchCase
// contract, hence a script of its own.)

import net from "node:net";
import { Worker } from "node:worker_threads";
import { PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import { Pool } from "../src/index.js";
import { createServer } from "../src/node/index.js";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const CLIENTS = arg("clients", 50), BYTES = arg("bytes", 1 << 20), ROUNDS = arg("rounds", 3);

/** The clients: each streams BYTES in 16 KiB windows and waits for every byte to come back. */
const CLIENT_CODE = `
const net = require("node:net");
const { parentPort, workerData } = require("node:worker_threads");
const { port, clients, bytes } = workerData;
const data = Buffer.alloc(bytes);
for (let i = 0; i < bytes; i++) data[i] = (i * 131) & 255;
const one = () => new Promise((resolve, reject) => {
  const c = net.connect(port, "127.0.0.1");
  let got = 0, sent = 0, ok = true;
  const win = () => { const end = Math.min(bytes, sent + 65536); c.write(data.subarray(sent, end)); sent = end; };
  c.on("connect", win);
  c.on("data", (d) => {
    if (ok && !d.equals(data.subarray(got, got + d.length))) ok = false;
    got += d.length;
    if (got >= bytes) c.end(); else if (got === sent) win();
  });
  c.on("error", reject);
  c.on("close", () => (ok && got === bytes ? resolve() : reject(new Error("echo mismatch"))));
});
const t0 = process.hrtime.bigint();
Promise.all(Array.from({ length: clients }, one)).then(
  () => parentPort.postMessage({ ns: Number(process.hrtime.bigint() - t0) }),
  (e) => parentPort.postMessage({ error: String(e) }));
`;

interface Round { mbps: number; gcCount: number; gcMs: number; gcMaxMs: number }

function runClients(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const w = new Worker(CLIENT_CODE, { eval: true, workerData: { port, clients: CLIENTS, bytes: BYTES } });
    w.once("message", (m: { ns?: number; error?: string }) => {
      void w.terminate();
      if (m.error) reject(new Error(m.error));
      else resolve(m.ns as number);
    });
    w.once("error", reject);
  });
}

async function measure(start: () => Promise<{ port: number; stop: () => Promise<void> }>): Promise<Round> {
  const gcs: PerformanceEntry[] = [];
  const obs = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  (globalThis as { gc?: () => void }).gc?.();
  const { port, stop } = await start();
  obs.observe({ entryTypes: ["gc"] });
  const ns = await runClients(port);
  obs.disconnect();
  await stop();
  const total = gcs.reduce((a, e) => a + e.duration, 0);
  return {
    mbps: (2 * CLIENTS * BYTES) / (ns / 1e9) / 1e6,
    gcCount: gcs.length, gcMs: total, gcMaxMs: gcs.reduce((a, e) => Math.max(a, e.duration), 0),
  };
}

async function mbufpoolServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const pool = Pool.create({ pinned: true, build: "release", tunables: { nmbclusters: 8192 }, reserveFlag: true });
  const server = createServer(pool, { metrics: false }, async (conn) => {
    conn.on("end", () => conn.end());
    for await (const chain of conn) if (!conn.write(chain)) await conn.drained();
  });
  const { port } = await server.listen();
  return {
    port, stop: async () => {
      await server.close();
      pool.assertAudit();
      if (pool.outstanding().total !== 0) throw new Error("mbufpool echo leaked buffers");
      pool.close();
    },
  };
}

async function nodeServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const server = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as net.AddressInfo;
  return { port, stop: () => new Promise((r) => server.close(() => r())) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results: Record<"mbufpool" | "node", Round[]> = { mbufpool: [], node: [] };
console.log(`echo: ${CLIENTS} clients x ${BYTES} bytes each way, ${ROUNDS} rounds per server, loopback`);
await measure(nodeServer); // warm-up of both paths, not counted
await measure(mbufpoolServer);
for (let r = 0; r < ROUNDS; r++) {
  results.node.push(await measure(nodeServer));
  results.mbufpool.push(await measure(mbufpoolServer));
}
const row = (name: string, rs: Round[]): Record<string, number> => ({
  mbps: median(rs.map((x) => x.mbps)), gcCount: median(rs.map((x) => x.gcCount)),
  gcMs: median(rs.map((x) => x.gcMs)), gcMaxMs: median(rs.map((x) => x.gcMaxMs)),
});
const a = row("mbufpool", results.mbufpool), b = row("node", results.node);
const fmt = (x: number, d = 1): string => x.toFixed(d).padStart(10);
console.log(`${"server".padEnd(22)}${"MB/s".padStart(10)}${"GCs".padStart(10)}${"GC ms".padStart(10)}${"max GC ms".padStart(10)}`);
console.log(`${"node Buffers (base)".padEnd(22)}${fmt(b.mbps)}${fmt(b.gcCount, 0)}${fmt(b.gcMs, 2)}${fmt(b.gcMaxMs, 2)}`);
console.log(`${"mbufpool/node".padEnd(22)}${fmt(a.mbps)}${fmt(a.gcCount, 0)}${fmt(a.gcMs, 2)}${fmt(a.gcMaxMs, 2)}`);
const ratio = (x: number, y: number): string => (y === 0 ? (x === 0 ? "1.00" : "inf") : (x / y).toFixed(2));
console.log(`${"ratio mbufpool/node".padEnd(22)}${ratio(a.mbps, b.mbps).padStart(10)}${ratio(a.gcCount, b.gcCount).padStart(10)}${ratio(a.gcMs, b.gcMs).padStart(10)}${ratio(a.gcMaxMs, b.gcMaxMs).padStart(10)}`);
