// A worker thread of the handoff check (handoff.ts): one producer or one
// consumer of 1500-byte packets, handed over one of three ways: a ring of
// handles over the shared pool (no byte copied), postMessage of a Buffer
// (structured clone copies it), or postMessage of a transferred ArrayBuffer.
// Each run replies with its milliseconds and the garbage collections it saw.

import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { PerformanceObserver } from "node:perf_hooks";
import { Pool } from "../../pool.js";
import type { RingHandle } from "../../pool/ring.js";

/** Bytes of a packet: an Ethernet MTU's payload. */
const PACKET = 1500;

interface Run { mode: "ring" | "copy" | "transfer"; n: number; ring?: RingHandle; port?: MessagePort }

const pool = Pool.attach(workerData.handle);
const role = workerData.role as "producer" | "consumer";
const bytes = new Uint8Array(PACKET).map((_, i) => i & 255);
let gcs = 0;
new PerformanceObserver((list) => { gcs += list.getEntries().length; }).observe({ entryTypes: ["gc"] });

async function produce(r: Run): Promise<void> {
  if (r.mode === "ring") {
    const ring = pool.openRing(r.ring!);
    for (let i = 0; i < r.n; i++) {
      const m = pool.getcl();
      pool.append(m, bytes);
      while (!ring.push(m)) { /* full: the consumer frees a slot within microseconds */ }
    }
  } else if (r.mode === "copy") {
    const buf = Buffer.from(bytes);
    for (let i = 0; i < r.n; i++) r.port!.postMessage(buf);
  } else {
    for (let i = 0; i < r.n; i++) {
      const ab = new ArrayBuffer(PACKET);
      new Uint8Array(ab).set(bytes);
      r.port!.postMessage(ab, [ab]);
    }
  }
}

function consume(r: Run): Promise<void> {
  if (r.mode === "ring") {
    const ring = pool.openRing(r.ring!);
    for (let got = 0; got < r.n;) {
      const m = ring.pop();
      if (m) { pool.freem(m); got++; }
    }
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    let got = 0;
    r.port!.on("message", () => { if (++got === r.n) { r.port!.close(); resolve(); } });
  });
}

parentPort!.on("message", async (r: Run | null) => {
  if (r === null) {
    pool.close();
    parentPort!.close();
    return;
  }
  const gc0 = gcs, t0 = performance.now();
  if (role === "producer") await produce(r); else await consume(r);
  const ms = performance.now() - t0;
  r.port?.close();
  await new Promise((resolve) => setImmediate(resolve)); // let the observer report
  parentPort!.postMessage({ ms, gcs: gcs - gc0 });
});
