// Idle connections: what 1,000 quiet connections cost an echo server on
// mbufpool/node against one on Node's own sockets.
//
// An idle connection should hold no cluster (seed 001's deadlock came from
// idle connections that each kept one posted), so the pool's share of memory
// stays what the pool was sized to, however many connections sit open. Each
// server runs in a child process of its own, so its resident set is its own:
// the child opens the connections to itself from a worker thread, sends 100
// bytes on each and reads the echo, lets them go quiet, and reports the
// growth of its RSS and JS heap (after a GC) from before the first connection
// to then, per connection, with the pool's buffers in use while idle.
//
//   npm run bench:idle [-- --connections 1000]

import os from "node:os";
import { spawnSync } from "node:child_process";
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { Pool, MT } from "../src/index.js";
import { ECHO_SERVERS, mbufpoolEcho, nodeEcho, listenLocal, type EchoServerName } from "./echo-servers.js";

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const CONNECTIONS = Number(arg("connections", "1000"));
const SERVERS = ECHO_SERVERS;
type ServerName = EchoServerName;

/** What a child reports. */
interface IdleReport {
  server: ServerName;
  rssBytes: number;
  heapBytes: number;
  /** mbufpool only: buffers in use while every connection is idle. */
  pool?: { mbufs: number; clusters: number; sockets: number; arenaBytes: number; thewall: number };
}

/** The clients, in a worker: open every connection, one echo of 100 bytes each, then hold them quiet. */
const CLIENT_CODE = `
const net = require("node:net");
const { parentPort, workerData } = require("node:worker_threads");
const { port, connections } = workerData;
const open = [];
const one = () => new Promise((resolve, reject) => {
  const c = net.connect(port, "127.0.0.1");
  c.on("error", reject);
  c.on("connect", () => c.write(Buffer.alloc(100, 7)));
  let got = 0;
  c.on("data", (d) => { got += d.length; if (got === 100) resolve(c); });
});
parentPort.once("message", () => (async () => {
  for (let i = 0; i < connections; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(connections, i + 50); j++) batch.push(one());
    open.push(...(await Promise.all(batch)));
  }
  parentPort.postMessage("idle");
  parentPort.once("message", () => { for (const c of open) c.destroy(); parentPort.postMessage("closed"); });
})().catch((e) => { parentPort.postMessage(String(e)); }));
parentPort.postMessage("ready");
`;

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** RSS and heap once the process has gone quiet: after a pause and two full GCs. */
async function quiet(): Promise<{ rss: number; heap: number }> {
  await settle(300);
  gc();
  await settle(50);
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

/** One server, measured in this (child) process. */
async function child(name: ServerName): Promise<IdleReport> {
  let port: number, close: () => Promise<void>, pool: Pool | undefined;
  if (name === "node pipe" || name === "node for await") {
    const server = nodeEcho(name === "node pipe" ? "pipe" : "for await");
    port = await listenLocal(server);
    close = () => new Promise((r) => server.close(() => r()));
  } else {
    const p = Pool.create({ pinned: true, build: "release", tunables: { nmbclusters: 16384 } });
    pool = p;
    const server = mbufpoolEcho(p, name === "mbufpool readable" ? "readable" : "for await");
    port = (await server.listen()).port;
    close = async () => {
      await server.close();
      p.assertAudit();
    };
  }
  const worker = new Worker(CLIENT_CODE, { eval: true, workerData: { port, connections: CONNECTIONS } });
  const next = (): Promise<string> => new Promise((r) => worker.once("message", r));
  // The baseline: the server and the client worker started, no connection yet.
  if ((await next()) !== "ready") throw new Error("idle bench: the client worker did not start");
  const before = await quiet();
  worker.postMessage("go");
  const idle = await next();
  if (idle !== "idle") throw new Error(`idle bench: clients failed: ${idle}`);
  const after = await quiet();
  let poolFigures: IdleReport["pool"];
  if (pool) {
    const s = pool.stats();
    poolFigures = {
      mbufs: s.mbufs.current, clusters: s.clusters.current, sockets: s.census[MT.SOCKET],
      arenaBytes: (s.arena.carvedPages - s.arena.freePages) * s.arena.pageSize, thewall: s.arena.thewall,
    };
  }
  worker.postMessage("close");
  await next();
  await worker.terminate();
  await close();
  return { server: name, rssBytes: after.rss - before.rss, heapBytes: after.heap - before.heap, pool: poolFigures };
}

if (process.argv.includes("--child")) {
  const name = arg("child", "") as ServerName;
  process.stdout.write(`${JSON.stringify(await child(name))}\n`);
} else {
  console.log(`idle connections on loopback: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "?"}, Node ${process.version}, ${CONNECTIONS} connections`);
  const self = fileURLToPath(import.meta.url);
  const reports: IdleReport[] = [];
  for (const name of SERVERS) {
    const r = spawnSync(process.execPath, [...process.execArgv, self, "--child", name, "--connections", String(CONNECTIONS)], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`idle bench: ${name} failed: ${r.stderr}`);
    reports.push(JSON.parse(r.stdout.trim().split("\n").pop()!) as IdleReport);
  }
  const kib = (n: number): string => (n / 1024).toFixed(1).padStart(10);
  console.log(`${"server".padEnd(22)}${"RSS KiB".padStart(10)}${"per conn".padStart(10)}${"heap KiB".padStart(10)}${"per conn".padStart(10)}`);
  for (const r of reports) {
    console.log(`${r.server.padEnd(22)}${kib(r.rssBytes)}${kib(r.rssBytes / CONNECTIONS)}${kib(r.heapBytes)}${kib(r.heapBytes / CONNECTIONS)}`);
  }
  const by = (n: ServerName): IdleReport => reports.find((r) => r.server === n)!;
  for (const [mine, base] of [["mbufpool readable", "node pipe"], ["mbufpool for await", "node for await"]] as const) {
    const a = by(mine), b = by(base);
    console.log(`${`${mine.slice(9)} / ${base.slice(5)}`.padEnd(22)}${(a.rssBytes / b.rssBytes).toFixed(2).padStart(10)}${"".padStart(10)}`
      + `${(a.heapBytes / b.heapBytes).toFixed(2).padStart(10)}`);
  }
  const p = by("mbufpool for await").pool!;
  console.log(`while idle the pool holds ${p.mbufs} mbufs (${p.sockets} of them sockets) and ${p.clusters} clusters; `
    + `its zones own ${(p.arenaBytes / 1024).toFixed(0)} KiB of a ${(p.thewall / 2 ** 20).toFixed(0)} MiB bound`);
}
