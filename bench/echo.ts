// Echo servers on mbufpool/node against Node's own sockets, in one run, on
// loopback, in three shapes:
//  - streaming: each client writes its bytes as fast as the socket takes them
//    and reads the echo as it comes (16 and 200 connections);
//  - windowed: each client writes a 64 KiB window and waits for all of it
//    back before the next one;
//  - request/response: each client sends 64 bytes and waits for the 64 back
//    (32 connections), for exchanges/s and the latency of one exchange.
// The baselines are Node's two idioms: `socket.pipe(socket)`, and a
// `for await` over the socket's data that writes each chunk back; mbufpool
// runs its two: "readable" events with read() (pipe's shape), and the
// README's `for await` over chains. The clients
// run in a worker thread, so the GC pauses counted are the server's isolate
// only. Rounds alternate between the servers; each figure is a median, and
// mbufpool's ratios to the baselines are printed (throughput: higher is better;
// latency and GC: lower is better).
//
//   npm run bench:echo [-- --rounds 3 --scale 1 --shape request --server "node pipe"]
//   npm run bench:echo -- --workers
//
// --workers compares instead the README's server on one shared pool in one
// worker thread and in two (mbufpool/node's startWorkers, one port with
// reusePort; Node 22.12 or 23.1 and later), the main thread idle: the
// service's scaling, 2 workers / 1 worker. GCs count the main thread's only
// (the servers' isolates are the workers'); "cores busy" is the CPU time of
// every thread of the process (clients and servers) over the round's time,
// and the machine's cores over one worker's cores busy bound what a second
// worker can add ("ceiling of 2 / 1 here").
// --scale multiplies every size (0.25 for a quick look); --shape runs only the
// shapes whose name contains a word, --server only one server ("node pipe",
// "node for await", "mbufpool readable", "mbufpool for await": to profile it
// alone with node --cpu-prof). An async benchmark does not fit bench/types.ts's
// synchronous BenchCase contract, hence a script of its own.

import os from "node:os";
import { Worker } from "node:worker_threads";
import { PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import { Pool } from "../src/index.js";
import { startWorkers } from "../src/node/index.js";
import { mbufpoolEcho, nodeEcho, listenLocal } from "./echo-servers.js";

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const ROUNDS = Number(arg("rounds", "3")), SCALE = Number(arg("scale", "1"));
const ONLY_SHAPE = arg("shape", ""), ONLY_SERVER = arg("server", "");
const WORKERS = process.argv.includes("--workers");

interface Shape { name: string; kind: "stream" | "window" | "rr"; clients: number; bytes: number; exchanges: number }
const SHAPES: Shape[] = [
  { name: "streaming, 16 connections", kind: "stream", clients: 16, bytes: Math.round(4 * SCALE * (1 << 20)), exchanges: 0 },
  { name: "streaming, 200 connections", kind: "stream", clients: 200, bytes: Math.round(256 * SCALE * 1024), exchanges: 0 },
  { name: "windowed (64 KiB), 16 connections", kind: "window", clients: 16, bytes: Math.round(2 * SCALE * (1 << 20)), exchanges: 0 },
  { name: "request/response (64 B), 32 connections", kind: "rr", clients: 32, bytes: 64, exchanges: Math.round(1000 * SCALE) },
];

/** The clients: one worker runs every connection of a round and checks every byte that comes back. */
const CLIENT_CODE = `
const net = require("node:net");
const { parentPort, workerData } = require("node:worker_threads");
const { kind, port, clients, bytes, exchanges } = workerData;
const data = Buffer.alloc(bytes);
for (let i = 0; i < bytes; i++) data[i] = (i * 131 + (i >> 10)) & 255;
const lat = [];
const one = () => new Promise((resolve, reject) => {
  const c = net.connect(port, "127.0.0.1");
  c.setNoDelay(true);
  let got = 0, sent = 0, ok = true, n = 0, t0 = 0n;
  const check = (d) => {
    if (ok && !d.equals(data.subarray(got % bytes, got % bytes + d.length))) ok = false;
    got += d.length;
  };
  c.on("error", reject);
  c.on("close", () => (ok && got === (kind === "rr" ? bytes * exchanges : bytes) ? resolve() : reject(new Error("echo mismatch"))));
  if (kind === "stream") {
    c.on("connect", () => {
      const pump = () => {
        while (sent < bytes) {
          const end = Math.min(bytes, sent + 65536);
          const more = c.write(data.subarray(sent, end));
          sent = end;
          if (!more) return void c.once("drain", pump);
        }
        c.end();
      };
      pump();
    });
    c.on("data", check);
  } else if (kind === "window") {
    const win = () => { const end = Math.min(bytes, sent + 65536); c.write(data.subarray(sent, end)); sent = end; };
    c.on("connect", win);
    c.on("data", (d) => { check(d); if (got >= bytes) c.end(); else if (got === sent) win(); });
  } else {
    const ask = () => { t0 = process.hrtime.bigint(); c.write(data); };
    c.on("connect", ask);
    c.on("data", (d) => {
      check(d);
      if (got % bytes !== 0) return;
      lat.push(Number(process.hrtime.bigint() - t0));
      if (++n < exchanges) ask(); else c.end();
    });
  }
});
const t0 = process.hrtime.bigint();
Promise.all(Array.from({ length: clients }, one)).then(
  () => parentPort.postMessage({ ns: Number(process.hrtime.bigint() - t0), lat }),
  (e) => parentPort.postMessage({ error: String(e) }));
`;

interface Round { rate: number; p50: number; p99: number; gcCount: number; gcMs: number; cores: number }
interface Server { port: number; stop: () => Promise<void> }

function runClients(shape: Shape, port: number): Promise<{ ns: number; lat: number[] }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(CLIENT_CODE, { eval: true, workerData: { ...shape, port } });
    w.once("message", (m: { ns: number; lat: number[]; error?: string }) => {
      void w.terminate();
      if (m.error) reject(new Error(m.error));
      else resolve(m);
    });
    w.once("error", reject);
  });
}

const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

async function measure(shape: Shape, start: () => Promise<Server>): Promise<Round> {
  const gcs: PerformanceEntry[] = [];
  const obs = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  (globalThis as { gc?: () => void }).gc?.();
  const { port, stop } = await start();
  obs.observe({ entryTypes: ["gc"] });
  const cpu0 = process.cpuUsage(), wall0 = process.hrtime.bigint();
  const { ns, lat } = await runClients(shape, port);
  const cpu = process.cpuUsage(cpu0); // every thread of the process: the clients', the servers'
  const wall = Number(process.hrtime.bigint() - wall0);
  obs.disconnect();
  await stop();
  const s = ns / 1e9;
  return {
    rate: shape.kind === "rr" ? (shape.clients * shape.exchanges) / s : (2 * shape.clients * shape.bytes) / s / 1e6,
    p50: quantile(lat, 0.5) / 1e3, p99: quantile(lat, 0.99) / 1e3,
    gcCount: gcs.length, gcMs: gcs.reduce((a, e) => a + e.duration, 0),
    cores: (cpu.user + cpu.system) * 1e3 / wall,
  };
}

/**
 * The pool of every mbufpool round: one for the run, as a service keeps one (JS-to-Wasm calls
 * stay fast only while a call site has seen one WebAssembly instance: docs/performance.md).
 */
let benchPool: Pool | null = null;

/** An echo server on the run's pool; each round ends with nothing in use and the audit clean. */
async function mbufpoolServer(idiom: "for await" | "readable"): Promise<Server> {
  const pool = (benchPool ??= Pool.create({ pinned: true, build: "release", tunables: { nmbclusters: 16384 }, reserveFlag: true }));
  const server = mbufpoolEcho(pool, idiom);
  const { port } = await server.listen();
  return {
    port, stop: async () => {
      await server.close();
      pool.assertAudit();
      if (pool.outstanding().total !== 0) throw new Error("mbufpool echo leaked buffers");
    },
  };
}

/** The shared pool of every "mbufpool N workers" round: one for the run. */
let sharedPool: Pool | null = null;

/** The README's echo in `n` worker threads over the run's shared pool (startWorkers). */
async function workerServer(n: number): Promise<Server> {
  const pool = (sharedPool ??= Pool.create({ shared: true, build: "release", tunables: { nmbclusters: 16384 }, reserveFlag: true }));
  const service = await startWorkers(pool, new URL("./echo-worker.ts", import.meta.url), { workers: n });
  return {
    port: service.port, stop: async () => {
      await service.close();
      pool.assertAudit();
      if (pool.outstanding().total !== 0) throw new Error("mbufpool echo on workers leaked buffers");
    },
  };
}

async function nodeServer(idiom: "pipe" | "for await"): Promise<Server> {
  const server = nodeEcho(idiom);
  const port = await listenLocal(server);
  return { port, stop: () => new Promise((r) => server.close(() => r())) };
}

const SERVERS: Record<string, () => Promise<Server>> = WORKERS ? {
  "mbufpool 1 worker": () => workerServer(1),
  "mbufpool 2 workers": () => workerServer(2),
} : {
  "node pipe": () => nodeServer("pipe"),
  "node for await": () => nodeServer("for await"),
  "mbufpool readable": () => mbufpoolServer("readable"),
  "mbufpool for await": () => mbufpoolServer("for await"),
};

/** The ratios printed: each idiom of mbufpool/node against Node's of the same shape, and the README's server against pipe. */
const RATIOS: Array<[string, string]> = [
  ["mbufpool readable", "node pipe"], ["mbufpool for await", "node for await"], ["mbufpool for await", "node pipe"],
  ["mbufpool 2 workers", "mbufpool 1 worker"],
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x: number, d = 1, w = 11): string => x.toFixed(d).padStart(w);
const ratio = (x: number, y: number): string => (y === 0 ? (x === 0 ? "1.00" : "inf") : (x / y).toFixed(2)).padStart(11);

console.log(`echo on loopback: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "?"}, Node ${process.version}, ${ROUNDS} rounds`);
const names = Object.keys(SERVERS).filter((n) => !ONLY_SERVER || n === ONLY_SERVER);
for (const shape of SHAPES.filter((s) => s.name.includes(ONLY_SHAPE))) {
  const rr = shape.kind === "rr";
  const results: Record<string, Round[]> = {};
  for (const name of names) {
    results[name] = [];
    await measure(shape, SERVERS[name]); // warm-up, not counted
  }
  for (let r = 0; r < ROUNDS; r++) for (const name of names) results[name].push(await measure(shape, SERVERS[name]));
  const rows = Object.fromEntries(Object.entries(results).map(([name, rs]) => [name, {
    rate: median(rs.map((x) => x.rate)), p50: median(rs.map((x) => x.p50)), p99: median(rs.map((x) => x.p99)),
    gcCount: median(rs.map((x) => x.gcCount)), gcMs: median(rs.map((x) => x.gcMs)), cores: median(rs.map((x) => x.cores)),
  }]));
  const what = rr ? `${shape.clients} x ${shape.exchanges} exchanges of ${shape.bytes} B` : `${shape.clients} x ${shape.bytes} bytes each way`;
  console.log(`\n${shape.name}: ${what}`);
  console.log(`${"server".padEnd(26)}${(rr ? "exch/s" : "MB/s").padStart(11)}${rr ? `${"p50 us".padStart(11)}${"p99 us".padStart(11)}` : ""}${"GCs".padStart(11)}${"GC ms".padStart(11)}${"cores busy".padStart(12)}`);
  for (const [name, x] of Object.entries(rows)) {
    console.log(`${name.padEnd(26)}${fmt(x.rate, rr ? 0 : 1)}${rr ? `${fmt(x.p50)}${fmt(x.p99)}` : ""}${fmt(x.gcCount, 0)}${fmt(x.gcMs, 2)}${fmt(x.cores, 2, 12)}`);
  }
  for (const [mine, base] of RATIOS) {
    const a = rows[mine], b = rows[base];
    if (a === undefined || b === undefined) continue;
    console.log(`${`${mine.slice(9)} / ${base}`.padEnd(26)}${ratio(a.rate, b.rate)}${rr ? `${ratio(a.p50, b.p50)}${ratio(a.p99, b.p99)}` : ""}${ratio(a.gcCount, b.gcCount)}${ratio(a.gcMs, b.gcMs)}`);
  }
  // The most a second worker could add here: a round's work costs its cores busy per byte, so
  // at the same cost per byte the machine's cores bound the rate (the kernel's loopback work,
  // outside the process's CPU time, only lowers it).
  const one = rows["mbufpool 1 worker"];
  if (one !== undefined && one.cores > 0) {
    console.log(`${"ceiling of 2 / 1 here".padEnd(26)}${(os.cpus().length / one.cores).toFixed(2).padStart(11)}  (${os.cpus().length} cores / ${one.cores.toFixed(2)} busy with 1 worker)`);
  }
}
