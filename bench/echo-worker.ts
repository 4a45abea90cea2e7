// A worker of the echo benchmark's "mbufpool N workers" servers (echo.ts
// --workers): joins the run's shared pool and serves the README's echo.
import { joinWorkers } from "../src/node/index.js";
import { forAwaitEcho } from "./echo-servers.js";

await joinWorkers().serve(forAwaitEcho, { metrics: false });
