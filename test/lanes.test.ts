// A shared pool's lanes (assembly/lane.ts): each thread's own exchange area in
// the shared memory, through which getBulk, freemBulk and append run as fast
// paths on the thread's cache, taking the pool lock only when the cache
// cannot serve. The lock's holder word shows whether a call took it: another
// thread takes the lock last, and a fast call leaves its name there.
import { describe, it, expect } from "vitest";
import { MT, M_NOWAIT, type Pool } from "mbufpool";
import { spawnShared } from "./shared-worker.js";
import { makePool, code, pattern } from "./helpers.js";

/** The id of the instance that last held the pool lock (pool/lock.ts: lock words at the end of memory, holder is word 1). */
const holder = (pool: Pool): number => new Int32Array(pool.buffer, pool.buffer.byteLength - 32, 8)[1];
const self = (pool: Pool) => pool.threads().find((t) => t.self)!;
/** Fills this thread's stacks past half: allocations under the lock carve pages, the frees stack up. */
const warm = (pool: Pool, clusters = false): void => {
  const ms = Array.from({ length: 64 }, () => (clusters ? pool.getcl() : pool.get()));
  for (const m of ms) pool.free(m);
  pool.bulkArea(); // the lane's views are made on first use, under the lock
};

describe("bulk calls through a thread's lane", () => {
  it("a lane's worth of getBulk and freemBulk runs from the thread's cache without the lock, and every report stays exact", async () => {
    const pool = makePool({ shared: true });
    const w = spawnShared(pool.shareHandle());
    try {
      warm(pool);
      const cached = self(pool).cache.mbufs;
      expect(cached).toBeGreaterThanOrEqual(pool.bulkMax);
      const area = pool.bulkArea();
      expect(area.length).toBe(pool.bulkMax);
      await w.ask({ cmd: "stats" }); // the worker holds the lock last
      const other = holder(pool);
      expect(pool.getBulk(area)).toBe(pool.bulkMax);
      expect(holder(pool)).toBe(other);
      const got = Array.from(area);
      expect(new Set(got).size).toBe(got.length);
      for (const m of got) expect(pool.length(m)).toBe(0);
      expect(self(pool).cache.mbufs).toBe(cached - pool.bulkMax);
      const s = pool.stats();
      expect(s.mbufs.current).toBe(pool.bulkMax);
      expect(s.census[MT.DATA]).toBe(pool.bulkMax);
      await w.ask({ cmd: "stats" });
      const again = holder(pool);
      pool.freemBulk(area);
      expect(holder(pool)).toBe(again);
      expect(self(pool).cache.mbufs).toBe(cached);
      const after = await w.ask<ReturnType<Pool["stats"]>>({ cmd: "stats" });
      expect(after.mbufs.current).toBe(0);
      expect(after.mbufs.allocs).toBe(after.mbufs.frees);
      expect(after.census.reduce((a, b) => a + b, 0)).toBe(0);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await w.close();
    }
  });

  it("freemBulk from the lane takes no lock; handles copied in from an array take the same path", async () => {
    const pool = makePool({ shared: true });
    const w = spawnShared(pool.shareHandle());
    try {
      warm(pool, true);
      const hs = Array.from({ length: 8 }, () => pool.getcl(M_NOWAIT, MT.DATA, 0));
      await w.ask({ cmd: "stats" });
      const other = holder(pool);
      pool.freemBulk(hs);
      expect(holder(pool)).toBe(other);
      // Clusters with packet headers, from the cluster stack.
      const area = pool.bulkArea();
      expect(pool.getBulk(area, 8, M_NOWAIT, MT.HEADER, { cluster: true, pkthdr: true })).toBe(8);
      expect(holder(pool)).toBe(other);
      for (let i = 0; i < 8; i++) expect(pool.trailingspace(area[i])).toBe(pool.mclbytes); // locked calls
      await w.ask({ cmd: "stats" });
      const again = holder(pool);
      pool.freemBulk(area, 8);
      expect(holder(pool)).toBe(again);
      const s = pool.stats();
      expect([s.mbufs.current, s.clusters.current]).toEqual([0, 0]);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await w.close();
    }
  });

  it("past what the cache holds, getBulk takes the lock for the rest and loses nothing", () => {
    const pool = makePool({ shared: true });
    const out = new Int32Array(1000);
    expect(pool.getBulk(out, 1000, M_NOWAIT, MT.DATA, { cluster: true })).toBe(1000);
    expect(new Set(out).size).toBe(1000);
    expect(pool.stats().clusters.current).toBe(1000);
    pool.freemBulk(out);
    const s = pool.stats();
    expect([s.mbufs.current, s.clusters.current]).toEqual([0, 0]);
    expect(s.mbufs.current + s.mbufs.cache).toBe(s.mbufs.total);
    expect(pool.audit().message).toBe("clean");
  });

  it("a bad batch fails whole, named by its index, with nothing freed and no claim left behind", () => {
    const pool = makePool({ shared: true });
    warm(pool);
    const area = pool.bulkArea();
    expect(pool.getBulk(area, 8)).toBe(8);
    const hs = Array.from(area.subarray(0, 8));
    const tries: Array<[string, (a: Int32Array) => void, string, number]> = [
      ["a handle given twice", (a) => { a[5] = a[2]; }, "EDOUBLEFREE", 5],
      ["an address inside an mbuf", (a) => { a[3] = a[3] + 4; }, "EBADHANDLE", 3],
      ["0", (a) => { a[7] = 0; }, "EBADHANDLE", 7],
    ];
    for (const [, spoil, want, at] of tries) {
      area.set(hs);
      spoil(area);
      let message = "";
      expect(code(() => { try { pool.freemBulk(area, 8); } catch (e) { message = (e as Error).message; throw e; } })).toBe(want);
      expect(message).toContain(`freemBulk[${at}]`);
      expect(pool.stats().mbufs.current).toBe(8);
    }
    // An mbuf inside a chain.
    const head = pool.getcl();
    expect(pool.append(head, pattern(2100))).toBe(true);
    const tail = pool.getptr(head, 2100).m;
    expect(tail).not.toBe(head);
    area.set(hs);
    area[4] = tail;
    expect(code(() => pool.freemBulk(area, 8))).toBe("EBUSY");
    // Every handle is still whole: the batch frees, then each one again is a double free.
    pool.freemBulk(hs);
    pool.freem(head);
    for (const m of hs) expect(code(() => pool.free(m))).toBe("EDOUBLEFREE");
    expect(pool.stats().mbufs.current).toBe(0);
    expect(pool.audit().message).toBe("clean");
  });

  it("two threads freeing the same batches at once (one in reverse order): each batch is freed by exactly one, the other told EDOUBLEFREE", async () => {
    const pool = makePool({ shared: true, profile: "freebsd", tunables: { "kern.ipc.nmbufs": 8192 } });
    const handle = pool.shareHandle();
    const a = spawnShared(handle), b = spawnShared(handle);
    type Race = { won: number; lost: number; other: number };
    try {
      for (let round = 0; round < 6; round++) {
        const handles: number[] = [];
        for (let i = 0; i < 1024; i++) handles.push(i % 4 ? pool.get() : pool.getcl());
        const gate = new SharedArrayBuffer(8), g = new Int32Array(gate);
        const results = Promise.all([
          a.ask<Race>({ cmd: "raceFreeBulk", handles, gate, batch: 8, reverse: false }),
          b.ask<Race>({ cmd: "raceFreeBulk", handles, gate, batch: 8, reverse: round % 2 === 1 }),
        ]);
        while (Atomics.load(g, 1) < 2) await new Promise((resolve) => setImmediate(resolve));
        Atomics.store(g, 0, 1);
        Atomics.notify(g, 0);
        const [ra, rb] = await results;
        expect(ra.won + rb.won).toBe(1024 / 8);
        expect(ra.lost + rb.lost).toBe(1024 / 8);
        expect(ra.other + rb.other).toBe(0);
        const s = pool.stats();
        expect([s.mbufs.current, s.clusters.current]).toEqual([0, 0]);
        expect(pool.audit().message).toBe("clean");
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe("append through a thread's lane", () => {
  it("bytes that fit the trailing space are appended without the lock; a chain that must grow takes it", async () => {
    const pool = makePool({ shared: true });
    const w = spawnShared(pool.shareHandle());
    try {
      warm(pool, true);
      const m = pool.getcl();
      const first = pattern(1500, 1), second = pattern(1000, 2), big = pattern(3000, 3);
      await w.ask({ cmd: "stats" });
      const other = holder(pool);
      expect(pool.append(m, first)).toBe(true);
      expect(holder(pool)).toBe(other);
      expect(pool.append(m, second)).toBe(true); // 548 bytes of room left: a second mbuf and cluster
      expect(pool.append(m, big)).toBe(true); // more than a lane carries: through the shared area, locked
      expect(pool.length(m)).toBe(5500);
      expect(Buffer.from(pool.copydata(m)).equals(Buffer.concat([first, second, big]))).toBe(true);
      const hdr = pool.gethdr();
      expect(pool.append(hdr, pattern(100))).toBe(true); // the internal area of an mbuf with a header
      expect(pool.length(hdr)).toBe(100);
      // The fast path's refusals are the locked path's.
      expect(code(() => pool.append(m + 4, first))).toBe("EBADHANDLE");
      expect(code(() => pool.append(m, first, 99))).toBe("EINVAL");
      pool.freem(hdr);
      expect(code(() => pool.append(hdr, first))).toBe("EDOUBLEFREE");
      pool.freem(m);
      expect(pool.stats().mbufs.current).toBe(0);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await w.close();
    }
  });

  it("a drain routine that appends while an append holds the lane leaves both chains exact", () => {
    const pool = makePool({ shared: true, profile: "freebsd", tunables: { "kern.ipc.nmbclusters": 16 } });
    const held: number[] = [];
    for (let m = pool.getcl(); m; m = pool.getcl()) held.push(m);
    const inner = pattern(700, 5), outer = pattern(1200, 6);
    let ran = 0;
    pool.onDrain(() => {
      if (ran++) return;
      expect(pool.append(held[0], inner)).toBe(true); // the lane is the outer append's: this one copies through the shared area
      pool.freem(held.pop()!);
    });
    const m = pool.get();
    expect(pool.append(m, outer)).toBe(true); // needs a cluster: none free, so the drain runs inside
    expect(ran).toBe(1);
    expect(Buffer.from(pool.copydata(m)).equals(Buffer.from(outer))).toBe(true);
    expect(Buffer.from(pool.copydata(held[0])).equals(Buffer.from(inner))).toBe(true);
    pool.freem(m);
    for (const h of held) pool.freem(h);
    expect(pool.stats().clusters.current).toBe(0);
    expect(pool.audit().message).toBe("clean");
  });
});
