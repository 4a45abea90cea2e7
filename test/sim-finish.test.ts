// A scenario's variant ends with its pool audited clean and closed: closeClean.
import { describe, it, expect } from "vitest";
import { Pool, M_NOWAIT, MT } from "mbufpool";
import { closeClean } from "../src/sim/finish.js";
import { BUILD } from "./helpers.js";

describe("closeClean", () => {
  it("closes a pool whose run freed everything", () => {
    const pool = Pool.create({ build: BUILD });
    pool.freem(pool.getcl(M_NOWAIT, MT.DATA));
    closeClean(pool, "test");
    expect(pool.isClosed).toBe(true);
  });

  it("names what a run left in use, and closes the pool anyway", () => {
    const pool = Pool.create({ build: BUILD });
    pool.getcl(M_NOWAIT, MT.DATA);
    expect(() => closeClean(pool, "scenario x, variant y")).toThrow(/scenario x, variant y: 1 mbufs and 1 clusters still in use/);
    expect(pool.isClosed).toBe(true);
  });
});
