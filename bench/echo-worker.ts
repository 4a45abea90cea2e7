// A worker of the echo benchmark's "mbufpool N workers" servers (echo.ts
// --workers): joins the run's shared pool and serves the README's echo.
import { joinWorkers } from "../src/node/index.js";

const { serve } = joinWorkers();
await serve(async (conn) => {
  conn.on("end", () => conn.end());
  for await (const chain of conn) if (!conn.write(chain)) await conn.drained();
}, { metrics: false });
