// The per-thread caches of a shared pool (assembly/cache.ts): what a thread's
// cache holds is counted as cache in every thread's report, a full cache in
// one thread never denies another, the audit, reclaim and close give it back,
// and two threads freeing one mbuf at once (each through its own cache, no
// lock taken) are told apart: exactly one free wins.
import { describe, it, expect } from "vitest";
import type { Pool } from "mbufpool";
import { spawnShared } from "./shared-worker.js";
import { makePool, code } from "./helpers.js";



type Stats = ReturnType<Pool["stats"]>;
/** In use plus cache is what the zone carved, in every report. */
const balanced = (s: Stats): boolean =>
  s.mbufs.current + s.mbufs.cache === s.mbufs.total && s.clusters.current + s.clusters.cache === s.clusters.total;

describe("per-thread caches of a shared pool", () => {
  it("what a thread caches is cache, never use, and every thread reports the same exact counters", async () => {
    const pool = makePool({ shared: true });
    const w = spawnShared(pool.shareHandle());
    try {
      const ms = Array.from({ length: 20 }, () => pool.getcl());
      for (const m of ms) pool.free(m);
      expect(await w.ask({ cmd: "churn", n: 40, cluster: true })).toBe(40);
      expect(await w.ask({ cmd: "churn", n: 10 })).toBe(10);
      const here = pool.stats(), there = await w.ask<Stats>({ cmd: "stats" });
      for (const s of [here, there]) {
        expect(s.mbufs.current).toBe(0);
        expect(s.clusters.current).toBe(0);
        expect(s.mbufs.allocs).toBe(70);
        expect(s.mbufs.frees).toBe(70);
        expect(s.clusters.allocs).toBe(60);
        expect(s.census.reduce((a, b) => a + b, 0)).toBe(0);
        expect(balanced(s)).toBe(true);
      }
      expect(there.mbufs).toEqual(here.mbufs);
      // An mbuf held in one thread is use in both reports.
      const held = pool.get();
      expect((await w.ask<Stats>({ cmd: "stats" })).mbufs.current).toBe(1);
      pool.free(held);
      expect(pool.audit().message).toBe("clean");
      expect(await w.ask<{ ok: boolean }>({ cmd: "audit" })).toMatchObject({ ok: true });
    } finally {
      await w.close();
    }
  });

  it("a full cache in one thread never denies another: the empty zone takes every thread's cache back first", async () => {
    const pool = makePool({ shared: true, profile: "freebsd", tunables: { "kern.ipc.nmbufs": 256, "kern.ipc.nmbclusters": 64 } });
    const w = spawnShared(pool.shareHandle());
    try {
      // The worker ends with mbufs and clusters on its stacks.
      expect(await w.ask({ cmd: "churn", n: 60, cluster: true })).toBe(60);
      expect(pool.stats().mbufs.cache).toBeGreaterThan(0);
      const got: number[] = [];
      for (let m = pool.getcl(); m; m = pool.getcl()) got.push(m);
      expect(got.length).toBe(64); // every cluster, though the worker's cache held some
      for (let m = pool.get(); m; m = pool.get()) got.push(m);
      expect(got.length).toBe(256); // and every mbuf
      expect(pool.stats().mbufs.denied).toBeGreaterThan(0);
      for (const m of got) pool.free(m);
      const s = pool.stats();
      expect(s.mbufs.current).toBe(0);
      expect(balanced(s)).toBe(true);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await w.close();
    }
  });

  it("close gives a thread's cache back to the zones, and the slot to the next thread", async () => {
    const pool = makePool({ shared: true, profile: "freebsd", tunables: { "kern.ipc.nmbufs": 256, "kern.ipc.nmbclusters": 64 } });
    const handle = pool.shareHandle();
    for (let round = 0; round < 3; round++) {
      const w = spawnShared(handle);
      expect(await w.ask({ cmd: "churn", n: 50 })).toBe(50);
      await w.close();
      // Only the main thread's own stack may hold mbufs now: it has taken none.
      const got: number[] = [];
      for (let m = pool.get(); m; m = pool.get()) got.push(m);
      expect(got.length).toBe(256);
      for (const m of got) pool.free(m);
    }
    expect(pool.audit().message).toBe("clean");
  });

  it("two threads freeing the same mbufs at once: each free is won by exactly one, the other is told EDOUBLEFREE", async () => {
    const pool = makePool({ shared: true, profile: "freebsd", tunables: { "kern.ipc.nmbufs": 4096 } });
    const handle = pool.shareHandle();
    const a = spawnShared(handle), b = spawnShared(handle);
    try {
      for (let round = 0; round < 4; round++) {
        const handles: number[] = [];
        for (let i = 0; i < 1500; i++) handles.push(i % 3 ? pool.get() : pool.getcl());
        const gate = new SharedArrayBuffer(8), g = new Int32Array(gate);
        const results = Promise.all([a.ask<{ won: number; lost: number }>({ cmd: "raceFree", handles, gate }),
          b.ask<{ won: number; lost: number }>({ cmd: "raceFree", handles, gate })]);
        while (Atomics.load(g, 1) < 2) await new Promise((resolve) => setImmediate(resolve));
        Atomics.store(g, 0, 1);
        Atomics.notify(g, 0);
        const [ra, rb] = await results;
        expect(ra.won + rb.won).toBe(handles.length);
        expect(ra.lost + rb.lost).toBe(handles.length);
        const s = pool.stats();
        expect(s.mbufs.current).toBe(0);
        expect(s.clusters.current).toBe(0);
        expect(balanced(s)).toBe(true);
        expect(pool.audit().message).toBe("clean");
      }
      const m = pool.get();
      expect(code(() => pool.free(m + 4))).toBe("EBADHANDLE"); // checked in the fast path as under the lock
      pool.free(m);
      expect(code(() => pool.free(m))).toBe("EDOUBLEFREE");
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe("the depot between the threads' caches", () => {
  it("hands the buckets one thread frees to another's refill, counted as cache in every report", async () => {
    const pool = makePool({ shared: true });
    const w = spawnShared(pool.shareHandle());
    try {
      await w.ask({ cmd: "stats" }); // attached
      // The main thread frees what it allocated: each full stack gives a bucket of 32 to the depot.
      const ms = Array.from({ length: 200 }, () => pool.get());
      for (const m of ms) pool.free(m);
      const d = pool.depot();
      expect(d.mbufs).toBeGreaterThanOrEqual(64);
      expect(d.mbufs % 32).toBe(0);
      const s = pool.stats();
      const stacks = pool.threads().reduce((n, t) => n + t.cache.mbufs, 0);
      expect(s.mbufs.cache).toBeGreaterThanOrEqual(stacks + d.mbufs); // the rest is on the zone's freelist
      expect(balanced(s)).toBe(true);
      const text = pool.vmstatZ();
      expect(text).toMatch(new RegExp(`^depot +- +${d.mbufs} +${d.clusters}$`, "m"));
      expect(pool.zones().depot).toEqual(d);
      // The worker's empty stack is refilled from the depot, not from the zone's freelist.
      const onFreelist = (st: Stats): number => st.mbufs.cache - pool.threads().reduce((n, t) => n + t.cache.mbufs, 0) - pool.depot().mbufs;
      const freelist = onFreelist(s);
      expect(await w.ask({ cmd: "churn", n: 20 })).toBe(20);
      expect(pool.depot().mbufs).toBe(d.mbufs - 32);
      const after = pool.stats();
      // Only the call that found the stack empty took its mbuf off the freelist, under the lock.
      expect(onFreelist(after)).toBe(freelist - 1);
      expect(after.mbufs.total).toBe(s.mbufs.total);
      expect(after.mbufs.current).toBe(0);
      expect(balanced(after)).toBe(true);
      // The audit takes every cache back first, the depot with it.
      expect(pool.audit().message).toBe("clean");
      expect(pool.depot()).toEqual({ mbufs: 0, clusters: 0 });
    } finally {
      await w.close();
    }
  });

  it("never denies a request: a zone that runs empty takes the depot back first", async () => {
    const pool = makePool({ shared: true, profile: "freebsd", tunables: { "kern.ipc.nmbufs": 256, "kern.ipc.nmbclusters": 64 } });
    const w = spawnShared(pool.shareHandle());
    try {
      const got: number[] = [];
      for (let i = 0; i < 64; i++) got.push(pool.getcl());
      for (let i = 0; i < 128; i++) got.push(pool.get());
      for (const m of got) pool.free(m);
      expect(pool.depot().clusters).toBeGreaterThan(0);
      expect(pool.depot().mbufs).toBeGreaterThan(0);
      // Every cluster and then every mbuf, from the other thread, though the depot held some.
      expect(await w.ask({ cmd: "churn", n: 64, cluster: true })).toBe(64);
      expect(await w.ask({ cmd: "churn", n: 256 })).toBe(256);
      expect(pool.stats().mbufs.current).toBe(0);
      expect(balanced(pool.stats())).toBe(true);
      expect(pool.audit().message).toBe("clean");
    } finally {
      await w.close();
    }
  });

  it("on an unshared pool is ESTATE", () => {
    expect(code(() => makePool().depot())).toBe("ESTATE");
  });
});

describe("vmstat -z of a shared pool", () => {
  it("adds what each thread's cache holds, and those caches are part of each zone's FREE", async () => {
    const pool = makePool({ shared: true });
    const w = spawnShared(pool.shareHandle());
    try {
      expect(await w.ask({ cmd: "churn", n: 30, cluster: true })).toBe(30);
      pool.free(pool.get());
      const threads = pool.threads();
      const text = pool.vmstatZ();
      const section = text.slice(text.indexOf("THREAD"));
      for (const t of threads) {
        expect(section).toMatch(new RegExp(`^${t.threadId}${t.self ? " \\(this\\)" : ""} +${t.slot} +${t.cache.mbufs} +${t.cache.clusters}$`, "m"));
      }
      const z = pool.zones();
      expect(z.threads!.map((t) => t.threadId)).toEqual(threads.map((t) => t.threadId));
      const free = (item: string): number => z.zones.find((r) => r.item === item)!.free;
      expect(threads.reduce((n, t) => n + t.cache.mbufs, 0)).toBeLessThanOrEqual(free("mbuf"));
      expect(threads.reduce((n, t) => n + t.cache.clusters, 0)).toBeLessThanOrEqual(free("mbuf_cluster"));
      expect(threads[1].cache.clusters).toBeGreaterThan(0);
      // An unshared pool's report has no thread section.
      expect(makePool().vmstatZ()).not.toContain("THREAD");
      expect(makePool().zones().threads).toBeUndefined();
    } finally {
      await w.close();
    }
  });
});

describe("bulk calls of a shared pool", () => {
  it("each thread's bulkArea() is its own: two threads' getBulk and freemBulk in it never see the other's handles", async () => {
    const pool = makePool({ shared: true });
    const handle = pool.shareHandle();
    const a = spawnShared(handle), b = spawnShared(handle);
    try {
      type Race = { errors: number; got: number; area: number };
      const [ra, rb] = await Promise.all([a.ask<Race>({ cmd: "bulkRace", n: 20000 }), b.ask<Race>({ cmd: "bulkRace", n: 20000 })]);
      expect([ra.errors, rb.errors]).toEqual([0, 0]);
      expect(ra.got + rb.got).toBe(2 * 20000 * 16);
      // Each thread's area is its lane in the shared memory, no other thread's.
      const here = pool.bulkArea();
      expect(here.buffer).toBe(pool.buffer);
      expect(new Set([here.byteOffset, ra.area, rb.area]).size).toBe(3);
      expect(pool.stats().mbufs.current).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
