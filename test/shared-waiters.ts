// Workers for the tests of waiting across threads (shared-wait*.test.ts): each
// attached to one shared pool, driven by commands (test/fixtures/shared/worker.mjs,
// over the built package), and the pool states they start from.
import { Worker } from "node:worker_threads";
import { M_WAITOK, M_RECV, type Pool, type ShareHandle } from "mbufpool";
import { makePool } from "./helpers.js";

const WORKER = new URL("./fixtures/shared/worker.mjs", import.meta.url);
export const RECV = M_WAITOK | M_RECV;

export interface Settled { settled: string; m?: number; code?: string }

/** A worker attached to `handle`: `ask` sends a command and waits for its one reply; `settled` awaits a waiter's outcome. */
export function spawn(handle: ShareHandle) {
  const w = new Worker(WORKER, { workerData: { handle } });
  // Listened for at once: a worker's exit can follow its last message in the same turn.
  const exited = new Promise<void>((resolve) => w.once("exit", () => resolve()));
  const outcomes = new Map<string, Settled>();
  const wanted = new Map<string, (s: Settled) => void>();
  const replies: ((v: unknown) => void)[] = [];
  let failure: unknown = null;
  w.on("message", (msg: unknown) => {
    if (typeof msg === "object" && msg !== null && "settled" in msg) {
      const s = msg as Settled;
      outcomes.set(s.settled, s);
      wanted.get(s.settled)?.(s);
      return;
    }
    replies.shift()?.(msg);
  });
  w.on("error", (e) => { failure = e; });
  const ask = <T>(msg: object): Promise<T> => new Promise<T>((resolve, reject) => {
    if (failure) reject(failure);
    replies.push(resolve as (v: unknown) => void);
    w.postMessage(msg);
  });
  const settled = (id: string): Promise<Settled> =>
    outcomes.has(id) ? Promise.resolve(outcomes.get(id)!) : new Promise((resolve) => wanted.set(id, resolve));
  return { w, ask, settled, outcomes, exited };
}

/** The words next to the lock word: [waiters of every thread, receivers waiting for a cluster]. */
export function sharedCounts(pool: Pool): [number, number] {
  const b = pool.buffer as unknown as SharedArrayBuffer;
  const w = new Int32Array(b, b.byteLength - 32, 8);
  return [Atomics.load(w, 6), Atomics.load(w, 7)];
}

/** A small shared pool, and everything it has taken: packets (mbuf + cluster), then plain mbufs. */
export function exhausted(options: { reserveFlag?: boolean } = {}) {
  const pool = makePool({ shared: true, ...options, tunables: { "kern.ipc.maxmbufmem": 1024 * 1024, "kern.ipc.nmbclusters": 4 } });
  const packets: number[] = [], mbufs: number[] = [];
  for (let m = pool.getcl(); m; m = pool.getcl()) packets.push(m);
  for (let m = pool.get(); m; m = pool.get()) mbufs.push(m);
  return { pool, packets, mbufs };
}
