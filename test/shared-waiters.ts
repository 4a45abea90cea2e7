// What the tests of waiting across threads (shared-wait*.test.ts) start from:
// a pool every buffer of which is taken, and the shared waiter counts. Their
// workers are shared-worker.ts's.
import { M_WAITOK, M_RECV, type Pool } from "mbufpool";
import { makePool } from "./helpers.js";

/** A waiting request of the receive class. */
export const RECV = M_WAITOK | M_RECV;

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
