// The bad-input matrix from a worker thread, on attached shared pools
// (test/fixtures/matrix/): every host entry point, every class of bad value,
// through an attached instance's lock and its thread's cache, with the same
// verdicts as on an unshared pool in the main thread.
import { describe, it, expect } from "vitest";
import { Worker } from "node:worker_threads";
import { once } from "node:events";

describe("the bad-input matrix in a worker thread", () => {
  it("gives every bad input its typed error on an attached shared pool, never a trap, the audit clean", async () => {
    const w = new Worker(new URL("./fixtures/matrix/worker.mjs", import.meta.url));
    const [r] = await Promise.race([once(w, "message"), once(w, "error").then(([e]) => { throw e; })]) as
      [{ isMainThread: boolean; entries: number; cases: number; failures: string[] }];
    await w.terminate();
    expect(r.isMainThread).toBe(false);
    expect(r.entries).toBeGreaterThan(60);
    expect(r.cases).toBeGreaterThan(2000);
    expect(r.failures).toEqual([]);
  }, 120_000);
});
