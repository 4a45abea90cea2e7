// A TCP echo server whose reads land in pool clusters and whose writes go out
// from chains, with /metrics and /netstat on a loopback HTTP port.
//
//   node examples/echo-server.mjs [port] [metricsPort]
//   then: nc 127.0.0.1 7007   and   curl 127.0.0.1:9107/netstat
import { Pool } from "mbufpool";
import { createServer, serveMetrics } from "mbufpool/node";

const port = Number(process.argv[2] ?? 7007);
const metricsPort = Number(process.argv[3] ?? 9107);

// Pinned: Node reads straight into the pool's memory, which must never move.
const pool = Pool.create({ pinned: true, tunables: { nmbclusters: 1024 }, reserve: 32, reserveFlag: true });

const server = createServer(pool, { idleTimeoutMs: 60_000, keepAliveMs: 30_000 }, async (conn) => {
  // "end" comes once the peer has finished and every chain went through the loop below.
  conn.on("end", () => conn.end());
  // Each chain read is written back as it is: clusters shared, no byte copied.
  for await (const chain of conn) {
    if (!conn.write(chain)) await conn.drained();
  }
});

const addr = await server.listen(port);
const metrics = await serveMetrics(pool, { port: metricsPort });
console.log(`echo on ${addr.address}:${addr.port}; metrics on ${metrics.url}/metrics and ${metrics.url}/netstat?format=freebsd`);

process.on("SIGINT", async () => {
  await server.close();
  await metrics.close();
  const audit = pool.audit();
  console.log(`closed: audit ${audit.ok ? "clean" : audit.message}`);
  process.exit(0);
});
