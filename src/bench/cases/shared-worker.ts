// A worker thread of the shared-pool check (shared.ts): attaches to the pool
// it is given, then runs the get+free pairs each message asks for (single
// calls, or bulk calls of 32) and replies with the milliseconds they took.

import { parentPort, workerData } from "node:worker_threads";
import { Pool } from "../../pool.js";
import { M_NOWAIT, MT } from "../../constants.js";

const pool = Pool.attach(workerData.handle);
const port = parentPort!;
/** Bulk calls' batch: getBulk of BATCH into the thread's bulk area, then freemBulk of it. */
const BATCH = 32;
port.on("message", (msg: number | { pairs: number; bulk: boolean }) => {
  const pairs = typeof msg === "number" ? msg : msg.pairs, bulk = typeof msg === "object" && msg.bulk;
  if (pairs === 0) {
    pool.close();
    port.close();
    return;
  }
  const t0 = performance.now();
  if (bulk) {
    const x = pool.bulkArea();
    for (let i = 0; i < pairs; i += BATCH) pool.freemBulk(x, pool.getBulk(x, BATCH));
  } else {
    for (let i = 0; i < pairs; i++) pool.free(pool.get(M_NOWAIT, MT.DATA));
  }
  port.postMessage(performance.now() - t0);
});
