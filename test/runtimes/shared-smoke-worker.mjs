// The worker of shared-smoke.mjs: attaches, checks and frees the chain it was
// handed; told the pool is dry, waits for a cluster, frees what it got, and
// closes its pool.
import { parentPort, workerData } from "node:worker_threads";
import { Pool, MT, M_WAITOK } from "../../dist/index.js";

const pool = Pool.attach(workerData.handle);
const got = pool.copydata(workerData.m);
pool.freem(workerData.m);
parentPort.postMessage({ length: got.length, same: got.every((b, i) => b === ((i * 7) & 255)) });
parentPort.once("message", async () => {
  const waiting = pool.getclWait(M_WAITOK, MT.DATA, undefined, { timeout: 10_000 });
  parentPort.postMessage({ queued: pool.stats().waits.waiting === 1 });
  const m = await waiting;
  parentPort.postMessage({ m });
  pool.freem(m);
  pool.close();
  parentPort.postMessage({ closed: true });
});
