// The echo service of echo-server.mjs on worker threads over one shared pool:
// every worker serves the one port (reusePort), and this thread reads the whole
// service's netstat -m and audit. Node 22.12 or 23.1 and later.
//
//   node examples/echo-workers.mjs [port] [workers] [metricsPort]
//   then: nc 127.0.0.1 7007   and   curl 127.0.0.1:9107/netstat   (or /leaks: by owner,
//   each worker's connections in a range of their own)
import { Pool } from "mbufpool";
import { startWorkers, serveMetrics } from "mbufpool/node";

const port = Number(process.argv[2] ?? 7007);
const workers = Number(process.argv[3] ?? 2);
const metricsPort = Number(process.argv[4] ?? 9107);

// One memory bound for the whole service: every worker attaches to this pool.
const pool = Pool.create({ shared: true, tunables: { nmbclusters: 2048 }, reserve: 32, reserveFlag: true });
const service = await startWorkers(pool, new URL("./echo-worker.mjs", import.meta.url), { workers, port });
// The pool's reports are the service's, whichever thread reads them: serve them from this one.
const metrics = await serveMetrics(pool, { port: metricsPort });
console.log(`echo on ${service.host}:${service.port} in ${service.workers.length} workers; metrics on ${metrics.url}/netstat`);

service.on("exit", (index, code) => console.log(`worker ${index} exited (code ${code})`));
process.on("SIGINT", async () => {
  await service.close(); // each worker closes its connections and its Pool, then ends
  await metrics.close();
  console.log(pool.netstat());
  console.log(`closed: audit ${pool.audit().message}`);
  process.exit(0);
});
