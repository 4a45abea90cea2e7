// The host cache (src/cache.ts) is an implementation detail: a pool hands out
// the same handles and reports the same audit, census, in-use/cache counts,
// allocation and denial counters with the cache on as with it off, and errors
// come at the call that made them.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { MbufError, MT, M_NOWAIT, M_WAITOK, M_RECV, M_PKTHDR, type Pool, type PoolStats } from "mbufpool";
import { makePool } from "./helpers.js";

type Op =
  | { k: "get"; type: number; hdr: boolean; wait: boolean; recv: boolean }
  | { k: "getcl"; type: number; recv: boolean }
  | { k: "clget"; i: number }
  | { k: "free"; i: number; whole: boolean }
  | { k: "freeTwice"; i: number }
  | { k: "freeBad"; i: number; delta: number }
  | { k: "bulkGet"; n: number; cluster: boolean }
  | { k: "bulkFree"; n: number }
  | { k: "chtype"; i: number; type: number }
  | { k: "owner"; tag: number }
  | { k: "badArgs"; how: number; type: number }
  | { k: "drain"; on: boolean }
  | { k: "grow"; n: number }
  | { k: "reclaim" }
  | { k: "audit" };

const type = fc.integer({ min: 1, max: 15 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant("get" as const), type, hdr: fc.boolean(), wait: fc.boolean(), recv: fc.boolean() }), weight: 6 },
  { arbitrary: fc.record({ k: fc.constant("getcl" as const), type, recv: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("clget" as const), i: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("free" as const), i: fc.nat(), whole: fc.boolean() }), weight: 5 },
  { arbitrary: fc.record({ k: fc.constant("freeTwice" as const), i: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("freeBad" as const), i: fc.nat(), delta: fc.constantFrom(1, 4, 128, -256 * 64, 1 << 24) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("bulkGet" as const), n: fc.integer({ min: 0, max: 30 }), cluster: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("bulkFree" as const), n: fc.integer({ min: 0, max: 30 }) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("chtype" as const), i: fc.nat(), type }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("owner" as const), tag: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("badArgs" as const), how: fc.integer({ min: -1, max: 0x300 }), type: fc.integer({ min: -1, max: 17 }) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("drain" as const), on: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("grow" as const), n: fc.integer({ min: 0, max: 40 }) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("reclaim" as const) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("audit" as const) }), weight: 1 },
);

/** What either pool answered: a handle's success, a count, or an error code. */
type Outcome = string | number | boolean;

/** One pool and its live handles, in the order both pools allocated them. */
class Side {
  live: number[] = [];
  drainOn = false;
  constructor(readonly pool: Pool) {
    // A protocol drain routine that frees the newest live mbuf, when switched on.
    pool.onDrain("test", () => {
      if (this.drainOn && this.live.length > 0) pool.freem(this.live.pop()!);
    });
  }
  at(i: number): number | undefined {
    return this.live.length ? this.live[i % this.live.length] : undefined;
  }
  take(i: number): number | undefined {
    if (!this.live.length) return undefined;
    return this.live.splice(i % this.live.length, 1)[0];
  }
}

/** Runs `fn`, returning its result or the MbufError's code. */
function attempt(fn: () => Outcome): Outcome {
  try {
    return fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MbufError);
    return (e as MbufError).code;
  }
}

function step(s: Side, o: Op, out: Int32Array): Outcome {
  const p = s.pool;
  switch (o.k) {
    case "get": {
      const how = (o.wait ? M_WAITOK : M_NOWAIT) | (o.recv ? M_RECV : 0);
      const m = o.hdr ? p.gethdr(how, o.type) : p.get(how, o.type);
      if (m > 0) s.live.push(m);
      return m > 0;
    }
    case "getcl": {
      const m = p.getcl(M_NOWAIT | (o.recv ? M_RECV : 0), o.type, M_PKTHDR);
      if (m > 0) s.live.push(m);
      return m > 0;
    }
    case "clget": {
      const m = s.at(o.i);
      return m === undefined ? "none" : attempt(() => p.clget(m));
    }
    case "free": {
      const m = s.take(o.i);
      if (m === undefined) return "none";
      return attempt(() => (o.whole ? (p.freem(m), 0) : p.free(m)));
    }
    case "freeTwice": {
      const m = s.take(o.i);
      if (m === undefined) return "none";
      p.freem(m);
      // Reported at this call, even though the mbuf went into the host cache.
      return attempt(() => p.free(m));
    }
    case "freeBad": {
      const m = s.at(o.i);
      if (m === undefined) return attempt(() => p.free(o.delta));
      return attempt(() => p.free(m + o.delta));
    }
    case "bulkGet": {
      const n = p.getBulk(out, o.n, M_NOWAIT, MT.DATA, { cluster: o.cluster });
      for (let i = 0; i < n; i++) s.live.push(out[i]);
      return n;
    }
    case "bulkFree": {
      const hs = s.live.splice(0, o.n);
      p.freemBulk(hs);
      return hs.length;
    }
    case "chtype": {
      const m = s.at(o.i);
      return m === undefined ? "none" : attempt(() => (p.chtype(m, o.type), true));
    }
    case "owner":
      p.setOwner(o.tag);
      return true;
    case "badArgs":
      return attempt(() => {
        const m = p.get(o.how, o.type);
        if (m > 0) s.live.push(m);
        return m > 0;
      });
    case "drain":
      s.drainOn = o.on;
      return true;
    case "grow":
      return p.grow("mbuf", o.n);
    case "reclaim":
      return p.reclaim("mbuf") + p.reclaim("cluster");
    case "audit":
      return p.audit().message;
  }
}

/** The first 48 bytes (m_hdr, pkthdr, ext) of every live mbuf are the same in both pools. */
function expectSameHeaders(a: Side, b: Side): void {
  const ua = new Int32Array(a.pool.buffer), ub = new Int32Array(b.pool.buffer);
  for (const m of a.live) {
    const w = m >> 2;
    expect(Array.from(ua.subarray(w, w + 12))).toEqual(Array.from(ub.subarray(w, w + 12)));
  }
}

/** What must not depend on the cache. */
function reported(st: PoolStats) {
  const z = (x: PoolStats["mbufs"]) => ({
    current: x.current, cache: x.cache, total: x.total, peak: x.peak, pages: x.pages,
    allocs: x.allocs, frees: x.frees, denied: x.denied, delayed: x.delayed, pagesIn: x.pagesIn, pagesOut: x.pagesOut,
  });
  return {
    mbufs: z(st.mbufs), clusters: z(st.clusters), census: st.census, drains: st.drains,
    reservedDenied: st.reservedDenied, arena: st.arena,
  };
}

describe("the host cache", () => {
  for (const profile of ["freebsd", "freebsd4"] as const) {
    it(`never changes what the pool reports (${profile}, random sequences with exhaustion and double frees)`, () => {
      const tunables = profile === "freebsd"
        ? { "kern.ipc.maxmbufmem": 256 * 1024, "kern.ipc.nmbclusters": 9, "kern.ipc.nmbufs": 45 }
        : { "kern.ipc.nmbclusters": 9, "kern.ipc.nmbufs": 45 };
      fc.assert(
        fc.property(fc.array(op, { maxLength: 150 }), fc.constantFrom(true, 2, 5, 16), (ops, cache) => {
          const off = new Side(makePool({ profile, tunables, cache: false }));
          const on = new Side(makePool({ profile, tunables, cache }));
          const out = new Int32Array(64);
          for (const o of ops) {
            const a = step(off, o, out);
            const b = step(on, o, out);
            expect(b).toEqual(a);
            // Not even the handles differ: the cache is the front of the zone's LIFO freelist.
            expect(on.live).toEqual(off.live);
            // And the headers the host wrote are the ones mbuf_init wrote (data, len, type,
            // flags, owner, seq, pkthdr): both pools lay memory out alike.
            expectSameHeaders(on, off);
            expect(reported(on.pool.stats())).toEqual(reported(off.pool.stats()));
          }
          expect(on.pool.audit().message).toBe("clean");
          expect(off.pool.audit().message).toBe("clean");
          on.pool.freemBulk(on.live);
          off.pool.freemBulk(off.live);
          expect(reported(on.pool.stats())).toEqual(reported(off.pool.stats()));
          expect(on.pool.stats().mbufs.current).toBe(0);
        }),
        { numRuns: 200 },
      );
    });
  }

  it("counts what it holds as cache, reports errors at the call, and flushes on close", () => {
    const pool = makePool({ cache: 8 });
    const hs = Array.from({ length: 20 }, (_, i) => (i % 2 ? pool.get() : pool.gethdr(M_NOWAIT, MT.HEADER)));
    expect(new Set(hs).size).toBe(20);
    for (const m of hs) pool.free(m);
    let s = pool.stats();
    expect(s.mbufs.current).toBe(0);
    expect(s.mbufs.cache).toBe(s.mbufs.total);
    expect(s.census.every((n) => n === 0)).toBe(true);
    expect(pool.audit().message).toBe("clean");
    // Every call naming a cached mbuf is refused as a double free, in the host and in the core.
    const last = hs[hs.length - 1];
    expect(() => pool.free(last)).toThrow(/EDOUBLEFREE/);
    expect(() => pool.freem(last)).toThrow(/EDOUBLEFREE/);
    expect(() => pool.chtype(last, MT.DATA)).toThrow(/EDOUBLEFREE/);
    expect(() => pool.clget(last)).toThrow(/EDOUBLEFREE/);
    expect(() => pool.freemBulk([last])).toThrow(/EDOUBLEFREE/);
    expect(() => pool.free(last + 4)).toThrow(/EBADHANDLE/);
    expect(() => pool.free(8)).toThrow(/EBADHANDLE/);
    // A reused mbuf comes out with a fresh header.
    const m = pool.get(M_NOWAIT, MT.OOBDATA);
    expect(m).toBeGreaterThan(0);
    s = pool.stats();
    expect(s.census[MT.OOBDATA]).toBe(1);
    expect(s.mbufs.allocs).toBe(21);
    expect(s.mbufs.frees).toBe(20);
    pool.free(m);
    pool.close();
    expect(() => pool.get()).toThrow(/ECLOSED/);
    expect(() => pool.free(m)).toThrow(/ECLOSED/);
  });

  it("gives cached mbufs back to core allocations before denying them", () => {
    // 16 mbufs in all (one page); all free ones sit in the host cache.
    const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 4, "kern.ipc.nmbufs": 16 }, cache: 32 });
    const hs: number[] = [];
    for (let m = pool.get(); m > 0; m = pool.get()) hs.push(m);
    expect(hs.length).toBe(16);
    for (const m of hs.splice(0, 4)) pool.free(m);
    expect(pool.stats().mbufs.cache).toBe(4);
    const c = pool.getcl(); // the core's own path finds its freelist empty and takes the cache back
    expect(c).toBeGreaterThan(0);
    expect(pool.stats().mbufs.denied).toBe(1); // only the get that ended the loop
    pool.freem(c);
    for (const m of hs) pool.free(m);
  });

  it("is checked by the audit: a duplicate entry or a lost mark is reported", () => {
    const pool = makePool({ cache: 8 });
    const a = pool.get(), b = pool.get();
    pool.free(a);
    pool.free(b);
    // Find the two entries in the core's static memory (below the first handle).
    const u32 = new Uint32Array(pool.buffer);
    let at = -1;
    for (let i = 0; i < a / 4 - 1; i++) if (u32[i] === a && u32[i + 1] === b) { at = i; break; }
    expect(at).toBeGreaterThan(0);
    u32[at + 1] = a;
    expect(pool.audit().message).toMatch(/host cache entry .* twice/);
    u32[at + 1] = b;
    expect(pool.audit().message).toBe("clean");
    const flags = new Uint16Array(pool.buffer);
    const f = flags[(b + 18) / 2];
    flags[(b + 18) / 2] = 0;
    expect(pool.audit().ok).toBe(false);
    flags[(b + 18) / 2] = f;
    expect(pool.audit().message).toBe("clean");
  });

  it("bulk allocation writes the headers single calls write", () => {
    const a = makePool(), b = makePool();
    const out = new Int32Array(40);
    for (const hdr of [false, true]) {
      a.setOwner(hdr ? 7 : 3);
      b.setOwner(hdr ? 7 : 3);
      expect(a.getBulk(out, 40, M_NOWAIT, MT.HEADER, { pkthdr: hdr })).toBe(40);
      const singles = Array.from({ length: 40 }, () => (hdr ? b.gethdr(M_NOWAIT, MT.HEADER) : b.get(M_NOWAIT, MT.HEADER)));
      expect(Array.from(out)).toEqual(singles);
      const ua = new Int32Array(a.buffer), ub = new Int32Array(b.buffer);
      for (const m of singles) expect(Array.from(ua.subarray(m >> 2, (m >> 2) + 12))).toEqual(Array.from(ub.subarray(m >> 2, (m >> 2) + 12)));
      expect(a.stats().census).toEqual(b.stats().census);
      expect(a.stats().mbufs).toEqual(b.stats().mbufs);
      a.freemBulk(out);
      for (const m of singles) b.free(m);
      expect(a.stats().mbufs).toEqual(b.stats().mbufs);
    }
  });

  it("keeps the freelist's order through direct refills and flushes of any size", () => {
    const on = makePool({ cache: 16 }), off = makePool();
    const take = (p: Pool, n: number) => Array.from({ length: n }, () => p.get());
    for (const p of [on, off]) for (const m of take(p, 20)) p.free(m);
    const core = on.core;
    expect(core.mb_cache_refill(-1)).toBe(-22);
    expect(core.mb_cache_refill(600)).toBe(-22);
    expect(core.mb_cache_flush(-1)).toBe(-22);
    expect(core.mb_cache_flush(600)).toBe(-22);
    // Refill under a non-empty stack, flush from the bottom, in uneven steps.
    for (const [refill, flush] of [[5, 2], [3, 7], [40, 1], [0, 0], [2, 30], [1, 3]]) {
      expect(core.mb_cache_refill(refill)).toBeGreaterThanOrEqual(0);
      // More than the stack holds is refused whole (EINVAL), changing nothing.
      expect([flush, -22]).toContain(core.mb_cache_flush(flush));
      expect(on.stats().mbufs).toEqual(off.stats().mbufs);
      expect(on.audit().message).toBe("clean");
    }
    expect(take(on, 30)).toEqual(take(off, 30));
  });

  it("is refused at creation with a size outside 2..512", () => {
    for (const cache of [1, 513, 1.5]) expect(() => makePool({ cache })).toThrow(/EINVAL/);
  });
});
