// Socket buffers of a shared pool: a socket is the pool's, not its creator's
// thread's. One thread creates it, another appends to it, a third reads and
// drops, any closes it; the audit's count of the mbufs socket buffers hold
// (M_LINKED outside any chain) is one count for every thread, so it balances
// whichever thread audits, and sockets churned in two threads at once leave
// nothing behind.
import { describe, it, expect } from "vitest";
import { spawnShared } from "./shared-worker.js";
import { makePool, pattern } from "./helpers.js";

describe("socket buffers on a shared pool", () => {
  it("a socket made in one thread is written in another, read here and closed in a third", async () => {
    const pool = makePool({ shared: true });
    const handle = pool.shareHandle();
    const a = spawnShared(handle), b = spawnShared(handle);
    try {
      const so = await a.ask<number>({ cmd: "call", name: "socreate", args: [{ rcvHiwat: 16384, sndHiwat: 16384 }] });
      expect(so).toBeGreaterThan(0);
      expect(await b.ask({ cmd: "call", name: "sbwrite", args: [so, "snd", Array.from(pattern(3000, 1))] })).toEqual({ error: "EINVAL" });
      // A typed array crosses postMessage as one: the worker's sbwrite gets a Uint8Array.
      expect(await b.ask({ cmd: "call", name: "sbwrite", args: [so, "snd", pattern(3000, 1)] })).toBe(true);
      expect(await b.ask({ cmd: "call", name: "sbwrite", args: [so, "snd", pattern(500, 2)] })).toBe(true);
      expect(pool.sbcc(so, "snd")).toBe(3500);
      expect(pool.audit().message).toBe("clean");
      // A stream's writes join one record, as sbappend does.
      expect(pool.copydata(pool.sbmb(so, "snd"))).toEqual(new Uint8Array([...pattern(3000, 1), ...pattern(500, 2)]));
      pool.sbdrop(so, "snd", 3000);
      expect(pool.copydata(pool.sbmb(so, "snd"))).toEqual(pattern(500, 2));
      expect(await a.ask({ cmd: "audit" })).toMatchObject({ ok: true, message: "clean" });
      expect(await b.ask({ cmd: "call", name: "soclose", args: [so] })).toBeNull();
      expect(await a.ask({ cmd: "call", name: "soclose", args: [so] })).toEqual({ error: "EDOUBLEFREE" });
      expect(pool.audit().message).toBe("clean");
      const s = pool.stats();
      expect([s.mbufs.current, s.clusters.current]).toEqual([0, 0]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("sockets churned in two threads at once, audited here meanwhile, leave nothing behind", async () => {
    const pool = makePool({ shared: true });
    const handle = pool.shareHandle();
    const a = spawnShared(handle), b = spawnShared(handle);
    try {
      const runs = Promise.all([a.ask<{ bytes: number }>({ cmd: "sockChurn", seed: 7, n: 400 }), b.ask<{ bytes: number }>({ cmd: "sockChurn", seed: 11, n: 400 })]);
      // Audits from this thread while the others hold and release socket buffers' mbufs.
      let audits = 0;
      let done = false;
      void runs.finally(() => { done = true; });
      while (!done) {
        expect(pool.audit().message).toBe("clean");
        audits++;
        await new Promise((r) => setImmediate(r));
      }
      const [ra, rb] = await runs;
      expect(ra.bytes).toBeGreaterThan(0);
      expect(rb.bytes).toBeGreaterThan(0);
      expect(audits).toBeGreaterThan(0);
      expect(pool.audit().message).toBe("clean");
      const s = pool.stats();
      expect([s.mbufs.current, s.clusters.current]).toEqual([0, 0]);
      expect(pool.netstat()).toMatch(/^0\/\d+\/\d+ mbufs in use/m);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
