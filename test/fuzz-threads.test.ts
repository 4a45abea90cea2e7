// The threads fuzzer (src/fuzz/threads.ts): several worker threads on one
// shared pool, each checking the bytes of the chains it owns and handing
// chains around a ring of threads, with the main thread holding the pool to
// exactly what the threads report at every quiescent point. It passes on a
// correct pool, and it fails, naming what and where, on a pool disturbed
// behind the threads' backs: a chain nobody holds (a leak) and a chain freed
// under its owner.
import { describe, it, expect } from "vitest";
import { fuzzThreads } from "mbufpool/fuzz";
import { BUILD, code } from "./helpers.js";

describe("the threads fuzzer", () => {
  it("runs 2 and 4 threads over one pool with no failure, the pool running dry at times", async () => {
    const runs = [];
    for (const threads of [2, 4]) {
      const r = await fuzzThreads({ threads, ops: 8000, seed: 17 + threads, build: BUILD });
      expect(r.failure).toBeUndefined();
      expect(r.ops).toBeGreaterThanOrEqual(8000);
      expect(r.rounds).toBeGreaterThan(5);
      runs.push(r);
    }
    // Four threads share 96 clusters among them: thousands of denials a run (two threads: a few, or none).
    expect(runs[1].denied).toBeGreaterThan(100);
  }, 60_000);

  it("runs 3 threads over one pool with a packet zone: their getcl hits its one cache, the epochs run between rounds", async () => {
    const r = await fuzzThreads({ threads: 3, ops: 8000, seed: 41, build: BUILD, packetZone: true });
    expect(r.failure).toBeUndefined();
    expect(r.packetZone).toBe(true);
    expect(r.packetHits).toBeGreaterThan(0);
  }, 60_000);

  it("reports a chain in use that no thread holds, with the thread that made it", async () => {
    let leaked = 0;
    const r = await fuzzThreads({
      threads: 2, ops: 4000, seed: 5, build: BUILD,
      onQuiescent: (pool, round) => { if (round === 2) { pool.setOwner(9); leaked = pool.get(); } },
    });
    expect(leaked).toBeGreaterThan(0);
    expect(r.failure).toContain(`quiescent point 3: the pool has a chain ${leaked} in use that no thread holds (a leak)`);
    expect(r.failure).toContain("owner tag 9");
  }, 60_000);

  it("reports a chain freed under the thread that holds it", async () => {
    let freed = 0, at = 0;
    const r = await fuzzThreads({
      threads: 2, ops: 20000, seed: 6, build: BUILD,
      onQuiescent: (pool, round) => {
        // From round 2 on, the first free-standing chain a thread holds: at a given point a thread
        // may hold none (everything it made is in its sockets, or it holds nothing at all), and a
        // head may be a socket buffer's first mbuf (EBUSY, nothing freed).
        if (round < 2 || freed !== 0) return;
        for (const g of pool.outstanding({ perGroup: 1000 }).groups) {
          if (g.owner < 1 || g.owner > 2) continue; // thread i's tag is i + 1
          for (const m of g.mbufs) {
            if (!m.head || m.typeName === "socket") continue;
            const refused = code(() => pool.freem(m.handle));
            if (refused === undefined) { freed = m.handle; at = round; return; }
            expect(refused).toBe("EBUSY");
          }
        }
      },
    });
    expect(freed).toBeGreaterThan(0);
    // Found by whichever thread touches it first (its owner with a double free or a bad handle,
    // the next if it was in the ring, or a thread the freed mbuf went to, whose chain or socket
    // then holds other bytes), or by the main thread's check: never passed over. A correct
    // pool passes the fuzzer (above), so a failure in that round is the freed chain's.
    expect(r.failure).toMatch(new RegExp(`^thread \\d+, round ${at}, |quiescent point ${at + 1}: .* is not in use`));
  }, 60_000);

  it("refuses bad options before it starts a thread", async () => {
    for (const bad of [{ threads: 1 }, { threads: 9 }, { ops: 0 }, { badRate: 2 }, { onQuiescent: 5 }, { packetZone: 1 }, { thread: 2 }]) {
      await expect(fuzzThreads(bad as never)).rejects.toMatchObject({ code: "EINVAL" });
    }
  });
});
