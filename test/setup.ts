// Every test leaves the audit of every pool it made clean.
import { afterEach, expect } from "vitest";
import { drainTracked } from "./helpers.js";

afterEach(() => {
  for (const pool of drainTracked()) {
    if (pool.isClosed) continue;
    const audit = pool.audit();
    pool.close();
    expect(audit.message).toBe("clean");
  }
});
