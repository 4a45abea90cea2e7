// A worker thread of the shared-pool check (shared.ts): attaches to the pool
// it is given, then runs the get+free pairs each message asks for and replies
// with the milliseconds they took.

import { parentPort, workerData } from "node:worker_threads";
import { Pool } from "../../pool.js";
import { M_NOWAIT, MT } from "../../constants.js";

const pool = Pool.attach(workerData.handle);
const port = parentPort!;
port.on("message", (pairs: number) => {
  if (pairs === 0) {
    pool.close();
    port.close();
    return;
  }
  const t0 = performance.now();
  for (let i = 0; i < pairs; i++) pool.free(pool.get(M_NOWAIT, MT.DATA));
  port.postMessage(performance.now() - t0);
});
