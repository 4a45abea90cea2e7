// A shared pool under another runtime (Bun, Deno, a Node line): a worker
// thread attaches, reads and frees a chain this thread hands it by handle,
// then waits for a cluster on a pool run dry and is served by this thread's
// free (Atomics.waitAsync across threads); every count back to zero and the
// audit clean. Exits 1 on any difference. Run by .ci/run on Bun and Deno.
import { Worker } from "node:worker_threads";
import { Pool, MT, M_NOWAIT } from "../../dist/index.js";

const fail = (what) => { throw new Error(`shared smoke: ${what}`); };
const pool = Pool.create({ shared: true, tunables: { "kern.ipc.maxmbufmem": 1024 * 1024, "kern.ipc.nmbclusters": 4 } });
const bytes = new Uint8Array(3000).map((_, i) => (i * 7) & 255);
const m = pool.getcl(M_NOWAIT, MT.DATA);
if (!pool.append(m, bytes)) fail("append failed");

const worker = new Worker(new URL("./shared-smoke-worker.mjs", import.meta.url), { workerData: { handle: pool.shareHandle(), m } });
const replies = [];
let wanted = null;
worker.on("message", (msg) => { replies.push(msg); wanted?.(); });
worker.on("error", (e) => { console.error(e); process.exit(1); });
const next = async () => {
  while (replies.length === 0) await new Promise((resolve) => { wanted = resolve; });
  return replies.shift();
};

const read = await next();
if (read.length !== 3000 || !read.same) fail(`the worker read ${read.length} bytes, same: ${read.same}`);
// Run the clusters dry: the worker's getclWait queues, and this thread's free serves it.
const held = [];
for (let c = pool.getcl(); c; c = pool.getcl()) held.push(c);
worker.postMessage("wait");
if ((await next()).queued !== true) fail("the worker's getclWait did not queue");
pool.freem(held.pop());
const served = await next();
if (!(served.m > 0)) fail(`the worker's waiter got ${JSON.stringify(served)}`);
for (const c of held) pool.freem(c);
const closed = await next();
if (!closed.closed) fail("the worker did not close its pool");
await worker.terminate();
const s = pool.stats();
const audit = pool.audit();
if (!audit.ok || s.mbufs.current !== 0 || s.clusters.current !== 0 || pool.threads().length !== 1) {
  fail(`after the worker: audit ${audit.message}, ${s.mbufs.current} mbufs and ${s.clusters.current} clusters in use, ${pool.threads().length} threads`);
}
console.log(pool.netstat());
pool.close();
console.log("shared smoke: ok");
