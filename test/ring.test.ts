// Handing chains between threads through a ring of handles (pool/ring.ts):
// chains arrive whole, in order, without a copy, owned and tagged by the
// thread that popped them; a consumer waiting on an empty ring is woken by
// the push; and every bad input is refused with nothing put in the ring.
import { describe, it, expect } from "vitest";
import { Pool } from "mbufpool";
import { spawnShared } from "./shared-worker.js";
import { makePool, code, pattern, runModule } from "./helpers.js";



describe("rings of handles between the threads of a shared pool", () => {
  it("chains pushed in one thread arrive whole and in order in another, retagged as the popping thread's", async () => {
    const pool = makePool({ shared: true });
    const w = spawnShared(pool.shareHandle());
    try {
      const ring = pool.createRing(64);
      const n = 3000;
      const done = w.ask<{ n: number; bad: number[]; mine: number }>({ cmd: "ringConsume", ring: ring.shareHandle(), n, tag: 42 });
      pool.setOwner(7);
      for (let i = 0; i < n; i++) {
        const m = pool.getcl();
        expect(pool.append(m, pattern(100 + (i % 1400), i & 255))).toBe(true);
        // A full ring refuses, leaving the chain with the producer: wait for the consumer.
        while (!ring.push(m)) await new Promise((resolve) => setImmediate(resolve));
      }
      const r = await done;
      expect(r).toEqual({ n, bad: [], mine: n });
      expect(ring.size).toBe(0);
      const s = pool.stats();
      expect(s.mbufs.current).toBe(0);
      expect(s.clusters.current).toBe(0);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await w.close();
    }
  });

  it("a consumer waiting on an empty ring is woken by the push, and times out with ETIMEDOUT", async () => {
    const pool = makePool({ shared: true });
    const ring = pool.createRing(2);
    const waiting = ring.popWait();
    const m = pool.get();
    expect(ring.push(m)).toBe(true);
    expect(await waiting).toBe(m);
    pool.free(m);
    await expect(ring.popWait({ timeout: 5 })).rejects.toMatchObject({ code: "ETIMEDOUT" });
    await expect(ring.popWait({ timeout: -1 })).rejects.toMatchObject({ code: "EINVAL" });
    await expect(ring.popWait({ timeuot: 5 } as never)).rejects.toMatchObject({ code: "EINVAL" });
  });

  it("refuses what is not a chain head of this pool, a full ring, a second producer and foreign handles, putting nothing in", async () => {
    expect(code(() => makePool().createRing())).toBe("ESTATE");
    const pool = makePool({ shared: true });
    for (const cap of [0, 1, 3, 100, 1 << 17, 2.5, Number.NaN]) expect(code(() => pool.createRing(cap))).toBe("EINVAL");
    const ring = pool.createRing(2);
    const a = pool.get(), b = pool.get(), c = pool.get();
    expect(code(() => ring.push(a + 4))).toBe("EBADHANDLE");
    expect(code(() => ring.push(2 ** 31 + a))).toBe("EBADHANDLE");
    const head = pool.prepend(b, 4); // no leading space: a new mbuf in front of b
    expect(head).not.toBe(b);
    expect(code(() => ring.push(b))).toBe("EBUSY"); // inside head's chain
    const freed = pool.get();
    pool.free(freed);
    expect(code(() => ring.push(freed))).toBe("EDOUBLEFREE");
    expect(ring.size).toBe(0);
    expect(ring.push(a)).toBe(true);
    expect(ring.push(c)).toBe(true);
    const d = pool.get();
    expect(ring.push(d)).toBe(false); // full: d stays the caller's
    expect(ring.size).toBe(2);
    const w = spawnShared(pool.shareHandle());
    try {
      expect(await w.ask({ cmd: "ringPush", ring: ring.shareHandle() })).toBe("ESTATE");
    } finally {
      await w.close();
    }
    expect(ring.pop()).toBe(a);
    expect(ring.pop()).toBe(c);
    expect(ring.pop()).toBe(0);
    for (const m of [a, c, d, head]) pool.freem(m);
    for (const bad of [undefined, null, 5, [], {}, { kind: "mbufpool.ring", version: 2, buffer: ring.buffer },
      { kind: "mbufpool.ring", version: 1, buffer: new SharedArrayBuffer(64) }, { ...ring.shareHandle(), extra: 1 }]) {
      expect(code(() => pool.openRing(bad as never))).toBe("EINVAL");
    }
    const other = makePool({ shared: true });
    expect(code(() => other.openRing(ring.shareHandle()))).toBe("EINVAL"); // a ring of another pool
    expect(code(() => makePool().openRing(ring.shareHandle()))).toBe("ESTATE");
    expect(pool.audit().message).toBe("clean");
  });

  it("a script awaiting popWait stays alive until its deadline (ETIMEDOUT), unless it asked for unref", async () => {
    const script = (opts: string): string => `
      import { Pool } from "mbufpool";
      const pool = Pool.create({ shared: true });
      const ring = pool.createRing(2);
      try { await ring.popWait(${opts}); } catch (e) { console.log(e.code); }
      pool.close();`;
    const held = await runModule(script("{ timeout: 50 }"));
    expect(held).toEqual({ code: 0, out: "ETIMEDOUT\n" });
    const daemon = await runModule(script("{ timeout: 60_000, unref: true }"));
    expect(daemon.code).toBe(13); // nothing kept the loop alive: Node left the await unsettled
    expect(daemon.out).not.toContain("ETIMEDOUT");
  });

  it("a closed pool's ring refuses with ECLOSED", () => {
    const pool = Pool.create({ shared: true });
    const ring = pool.createRing(4);
    pool.close();
    expect(code(() => ring.pop())).toBe("ECLOSED");
    expect(code(() => ring.push(8192))).toBe("ECLOSED");
  });
});
