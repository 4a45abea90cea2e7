// Handing a 1500-byte packet from one thread to another: a ring of handles
// over a shared pool (pool/ring.ts: the chain stays where it is, only its
// handle moves) against postMessage of a copied Buffer and of a transferred
// ArrayBuffer. Each way runs a producer worker and a consumer worker; the
// figure is packets per second at the consumer, with the garbage collections
// both saw. The target is the ring at 5x or more of both, with no GC.

import { MessageChannel, type MessagePort, type Worker } from "node:worker_threads";
import { once } from "node:events";
import { startWorker } from "./start-worker.js";
import { Pool } from "../../pool.js";
import type { BenchCheck } from "../types.js";

/** Packets each way hands over (the copies are fewer: they queue in the port, every one of them). */
const RING_PACKETS = 200_000;
const MESSAGE_PACKETS = 40_000;

interface Result { ms: number; gcs: number }

/** Packets/s of one handoff way, and the collections the two workers saw. */
async function handoff(pool: Pool, mode: "ring" | "copy" | "transfer", n: number): Promise<{ rate: number; gcs: number }> {
  const handle = pool.shareHandle();
  const producer = startWorker("handoff-worker", { handle, role: "producer" }), consumer = startWorker("handoff-worker", { handle, role: "consumer" });
  const exits = [once(producer, "exit"), once(consumer, "exit")];
  try {
    const ask = (w: Worker, msg: object, transfer: MessagePort[] = []): Promise<Result> => {
      const reply = once(w, "message").then(([r]) => r as Result);
      w.postMessage(msg, transfer);
      return reply;
    };
    const run = async (count: number): Promise<[Result, Result]> => {
      const ring = mode === "ring" ? pool.createRing(1024).shareHandle() : undefined;
      const { port1, port2 } = new MessageChannel();
      const c = ask(consumer, { mode, n: count, ring, port: port2 }, [port2]);
      const p = ask(producer, { mode, n: count, ring, port: port1 }, [port1]);
      return [await p, await c];
    };
    await run(Math.floor(n / 10)); // warm-up: both sides compiled before the figure
    const [p, c] = await run(n);
    return { rate: n / (Math.max(p.ms, c.ms) / 1000), gcs: p.gcs + c.gcs };
  } finally {
    producer.postMessage(null);
    consumer.postMessage(null);
    await Promise.all(exits);
  }
}

export const handoffChecks: BenchCheck[] = [
  {
    group: "threads", name: "handing a 1500-byte packet between two threads: a ring of handles vs postMessage",
    async run() {
      const pool = Pool.create({ build: "release", shared: true });
      try {
        const ring = await handoff(pool, "ring", RING_PACKETS);
        const copy = await handoff(pool, "copy", MESSAGE_PACKETS);
        const transfer = await handoff(pool, "transfer", MESSAGE_PACKETS);
        const s = pool.stats();
        const clean = pool.audit().ok && s.mbufs.current === 0 && s.clusters.current === 0;
        return {
          figures: {
            ringPerSec: Math.round(ring.rate), copyPerSec: Math.round(copy.rate), transferPerSec: Math.round(transfer.rate),
            vsCopy: +(ring.rate / copy.rate).toFixed(2), vsTransfer: +(ring.rate / transfer.rate).toFixed(2), ringGcs: ring.gcs,
          },
          ok: clean,
          expected: "every packet handed over and freed, the audit clean; the target is the ring at 5x or more of both, with ringGcs 0",
        };
      } finally {
        pool.close();
      }
    },
  },
];
