// The bench's worker threads: a module beside the case, started from the
// built .js, or from the sources (.ts, loaded through tsx) when the bench runs
// from the repository.

import { Worker } from "node:worker_threads";

/** A worker running `name` (a module of this folder, without extension) with `workerData`. */
export function startWorker(name: string, workerData: object): Worker {
  const fromSources = import.meta.url.endsWith(".ts");
  const url = new URL(`./${name}${fromSources ? ".ts" : ".js"}`, import.meta.url);
  if (!fromSources) return new Worker(url, { workerData });
  const load = `import("tsx/esm/api").then((api) => api.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(load, { eval: true, workerData });
}
