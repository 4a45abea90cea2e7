// A worker of examples/echo-workers.mjs: joins the service's pool and echoes
// on its port, each chain read written back as it is.
import { joinWorkers } from "mbufpool/node";

const { serve, index } = joinWorkers();
await serve(async (conn) => {
  conn.on("end", () => conn.end());
  for await (const chain of conn) {
    if (!conn.write(chain)) await conn.drained();
  }
}, { idleTimeoutMs: 60_000 });
console.log(`worker ${index} listening`);
