// Chain operations: a property test against a Uint8Array model (with a pool
// small enough to run out mid-operation), reference counting, and every
// operation with bad offsets, lengths and handles.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { MbufError, MT, M_NOWAIT, M_PKTHDR, M_COPYALL, MHLEN, MLEN, type Pool } from "mbufpool";
import { makePool, code, pattern, chainOf } from "./helpers.js";

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

type Op =
  | { k: "new"; n: number; hdr: boolean; cl: boolean; seed: number }
  | { k: "append"; i: number; n: number; seed: number }
  | { k: "copyback"; i: number; at: number; n: number; seed: number }
  | { k: "prepend"; i: number; n: number; seed: number }
  | { k: "adj"; i: number; at: number; tail: boolean }
  | { k: "split"; i: number; at: number }
  | { k: "cat"; i: number; j: number }
  | { k: "pullup"; i: number; n: number }
  | { k: "copym"; i: number; at: number; n: number }
  | { k: "dup"; i: number }
  | { k: "defrag"; i: number }
  | { k: "free"; i: number };

const idx = fc.nat({ max: 1000 });
const frac = fc.double({ min: 0, max: 1, noNaN: true });
const size = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 6000 }));
const seed = fc.nat({ max: 255 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant("new" as const), n: size, hdr: fc.boolean(), cl: fc.boolean(), seed }),
  fc.record({ k: fc.constant("append" as const), i: idx, n: size, seed }),
  fc.record({ k: fc.constant("copyback" as const), i: idx, at: frac, n: size, seed }),
  fc.record({ k: fc.constant("prepend" as const), i: idx, n: fc.integer({ min: 0, max: 220 }), seed }),
  fc.record({ k: fc.constant("adj" as const), i: idx, at: frac, tail: fc.boolean() }),
  fc.record({ k: fc.constant("split" as const), i: idx, at: frac }),
  fc.record({ k: fc.constant("cat" as const), i: idx, j: idx }),
  fc.record({ k: fc.constant("pullup" as const), i: idx, n: fc.integer({ min: 0, max: 260 }) }),
  fc.record({ k: fc.constant("copym" as const), i: idx, at: frac, n: frac }),
  fc.record({ k: fc.constant("dup" as const), i: idx }),
  fc.record({ k: fc.constant("defrag" as const), i: idx }),
  fc.record({ k: fc.constant("free" as const), i: idx }),
);

interface Live { m: number; bytes: Uint8Array; hdr: boolean }

function step(pool: Pool, live: Live[], o: Op): void {
  if (o.k === "new") {
    const m = o.cl ? pool.getcl(M_NOWAIT, MT.DATA, o.hdr ? M_PKTHDR : 0) : o.hdr ? pool.gethdr() : pool.get();
    if (m === 0) return;
    const bytes = pattern(o.n, o.seed);
    if (!pool.copyback(m, 0, bytes)) {
      expect(pool.length(m)).toBe(0);
      pool.freem(m);
      return;
    }
    live.push({ m, bytes, hdr: o.hdr });
    return;
  }
  if (live.length === 0) return;
  const i = o.i % live.length;
  const c = live[i];
  const len = c.bytes.length;
  switch (o.k) {
    case "append": {
      const add = pattern(o.n, o.seed);
      if (pool.append(c.m, add)) c.bytes = concat(c.bytes, add);
      break;
    }
    case "copyback": {
      const at = Math.floor(o.at * len);
      const src = pattern(o.n, o.seed);
      if (pool.copyback(c.m, at, src)) {
        const end = Math.max(len, at + src.length);
        const b = new Uint8Array(end);
        b.set(c.bytes);
        b.set(src, at);
        c.bytes = b;
      }
      break;
    }
    case "prepend": {
      const add = pattern(o.n, o.seed);
      if (o.n > (c.hdr ? MHLEN : MLEN) && o.n > pool.leadingspace(c.m)) {
        expect(code(() => pool.prepend(c.m, add))).toBe("EINVAL"); // no mbuf could hold it
        break;
      }
      const h = pool.prepend(c.m, add);
      if (h) {
        c.m = h;
        c.bytes = concat(add, c.bytes);
      }
      break;
    }
    case "adj": {
      const n = Math.floor(o.at * len);
      pool.adj(c.m, o.tail ? -n : n);
      c.bytes = o.tail ? c.bytes.slice(0, len - n) : c.bytes.slice(n);
      break;
    }
    case "split": {
      const at = Math.floor(o.at * len);
      const t = pool.split(c.m, at);
      if (t) {
        live.push({ m: t, bytes: c.bytes.slice(at), hdr: c.hdr });
        c.bytes = c.bytes.slice(0, at);
      }
      break;
    }
    case "cat": {
      const j = o.j % live.length;
      if (j === i) {
        expect(code(() => pool.cat(c.m, c.m))).toBe("EINVAL");
        break;
      }
      const d = live[j];
      pool.cat(c.m, d.m);
      c.bytes = concat(c.bytes, d.bytes);
      live.splice(j, 1);
      break;
    }
    case "pullup": {
      if (o.n > len) {
        expect(code(() => pool.pullup(c.m, o.n))).toBe("ERANGE");
        break;
      }
      const h = pool.pullup(c.m, o.n);
      if (h) {
        c.m = h;
        expect(pool.data(h).length).toBeGreaterThanOrEqual(o.n);
        expect(Array.from(pool.data(h).subarray(0, o.n))).toEqual(Array.from(c.bytes.subarray(0, o.n)));
      } else {
        expect(o.n).toBeGreaterThan(0); // n > MHLEN in a new mbuf, or the pool ran out
      }
      break;
    }
    case "copym": {
      const at = Math.floor(o.at * len);
      const n = Math.floor(o.n * (len - at));
      const cp = pool.copym(c.m, at, n);
      if (cp) live.push({ m: cp, bytes: c.bytes.slice(at, at + n), hdr: c.hdr && at === 0 });
      break;
    }
    case "dup": {
      const d = pool.dup(c.m);
      if (d) live.push({ m: d, bytes: c.bytes.slice(), hdr: c.hdr });
      break;
    }
    case "defrag": {
      const d = pool.defrag(c.m);
      if (d) c.m = d;
      break;
    }
    case "free":
      pool.freem(c.m);
      live.splice(i, 1);
      break;
  }
}

describe("chains against a Uint8Array model", () => {
  for (const tiny of [false, true]) {
    it(`keeps every chain's bytes and the audit clean${tiny ? " in a pool that runs out" : ""}`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
          const pool = tiny
            ? makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 12, "kern.ipc.nmbufs": 40 } })
            : makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 600, "kern.ipc.nmbufs": 2400 } });
          const start = pool.stats();
          const live: Live[] = [];
          for (const o of ops) {
            step(pool, live, o);
            expect(pool.audit().message).toBe("clean");
            for (const c of live) {
              expect(pool.length(c.m)).toBe(c.bytes.length);
              expect(Buffer.from(pool.copydata(c.m)).equals(Buffer.from(c.bytes))).toBe(true);
            }
          }
          expect(pool.audit().message).toBe("clean");
          for (const c of live) pool.freem(c.m);
          const end = pool.stats();
          expect(end.mbufs.current).toBe(start.mbufs.current);
          expect(end.clusters.current).toBe(start.clusters.current);
          expect(end.census).toEqual(start.census);
          expect(pool.audit().message).toBe("clean");
        }),
        { numRuns: tiny ? 200 : 120 },
      );
    });
  }
});

describe("reference counting", () => {
  it("copym shares clusters, makes them read-only, and the last free returns them", () => {
    const pool = makePool();
    const m = chainOf(pool, pattern(5000));
    const before = pool.stats().clusters.current;
    expect(pool.writable(pool.getptr(m, 1000).m)).toBe(true);
    const cp = pool.copym(m, 0, M_COPYALL);
    expect(pool.stats().clusters.current).toBe(before); // shared, not copied
    const shared = pool.getptr(m, 1000).m;
    expect(pool.writable(shared)).toBe(false);
    expect(pool.writable(pool.getptr(cp, 1000).m)).toBe(false);
    expect(pool.trailingspace(pool.getptr(m, 4999).m)).toBe(0);
    expect(pool.leadingspace(shared)).toBe(0);
    // Writing a shared cluster copies it first: the other chain keeps its bytes.
    expect(pool.copyback(cp, 1000, new Uint8Array([1, 2, 3]))).toBe(true);
    expect(Array.from(pool.copydata(cp, 1000, 3))).toEqual([1, 2, 3]);
    expect(Array.from(pool.copydata(m, 1000, 3))).toEqual(Array.from(pattern(5000).subarray(1000, 1003)));
    expect(pool.stats().clusters.current).toBe(before + 1);
    pool.freem(m);
    expect(pool.writable(pool.getptr(cp, 3000).m)).toBe(true); // last reference
    expect(pool.stats().clusters.current).toBeGreaterThan(0);
    pool.freem(cp);
    expect(pool.stats().clusters.current).toBe(0);
  });

  it("copypacket copies the packet header; dup shares nothing", () => {
    const pool = makePool();
    const m = chainOf(pool, pattern(3000));
    const cp = pool.copypacket(m);
    const d = pool.dup(m);
    expect(pool.length(cp)).toBe(3000);
    expect(pool.length(d)).toBe(3000);
    for (let off = 0; off < 3000; off += 500) expect(pool.writable(pool.getptr(d, off).m)).toBe(true);
    expect(code(() => pool.copypacket(pool.getptr(m, 2500).m))).toBe("EINVAL"); // no packet header
    const plain = pool.get();
    expect(code(() => pool.copypacket(plain))).toBe("EINVAL");
    for (const h of [m, cp, d, plain]) pool.freem(h);
  });

  it("split inside a cluster shares it", () => {
    const pool = makePool();
    const m = chainOf(pool, pattern(4000));
    const clusters = pool.stats().clusters.current;
    const t = pool.split(m, 1500);
    expect(pool.stats().clusters.current).toBe(clusters);
    expect(pool.writable(pool.getptr(t, 0).m)).toBe(false);
    pool.freem(m);
    pool.freem(t);
  });
});

describe("data views and segments", () => {
  it("data() is a zero-copy view of one mbuf; apply visits every segment", () => {
    const pool = makePool();
    const m = chainOf(pool, pattern(5000));
    const v = pool.data(m);
    expect(v.length).toBe(MHLEN); // the header mbuf is filled first
    v[0] = 0xee;
    expect(pool.copydata(m, 0, 1)[0]).toBe(0xee);
    const seen: number[] = [];
    const out = new Uint8Array(4000);
    pool.apply(m, 100, 4000, (view, off) => {
      out.set(view, off - 100);
      seen.push(view.length);
    });
    expect(seen.reduce((a, b) => a + b, 0)).toBe(4000);
    expect(Buffer.from(out).equals(Buffer.from(pool.copydata(m, 100, 4000)))).toBe(true);
    expect(pool.apply(m, 0, 5000, () => 7)).toBe(7);
    const p = pool.getptr(m, 5000);
    expect(p.off).toBe(pool.data(p.m).length);
    pool.freem(m);
  });

  it("copies larger than the exchange area loop in the host", () => {
    const pool = makePool();
    const big = pattern(100_000, 3);
    const m = chainOf(pool, big);
    expect(Buffer.from(pool.copydata(m)).equals(Buffer.from(big))).toBe(true);
    const out = new Uint8Array(50_010);
    pool.copydata(m, 25_000, 50_000, out, 10);
    expect(Buffer.from(out.subarray(10)).equals(Buffer.from(big.subarray(25_000, 75_000)))).toBe(true);
    pool.freem(m);
  });
});

describe("memory growth between data operations", () => {
  it("views and the exchange area are taken anew once memory grew (an unpinned pool)", () => {
    const pool = makePool({ profile: "freebsd", tunables: { "kern.ipc.maxmbufmem": 8 << 20 } });
    const first = pattern(3000, 1);
    const a = chainOf(pool, first); // the exchange area's views are made here
    expect(pool.copydata(a)).toEqual(first);
    const so = pool.socreate();
    pool.sbwrite(so, "snd", pattern(64, 2));
    // Carve enough pages that linear memory must grow: every view made so far is detached.
    const before = pool.buffer;
    const held: number[] = [];
    while (pool.buffer === before) {
      const m = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
      expect(m).toBeGreaterThan(0);
      held.push(m);
    }
    // The same operations, through fresh views: the bytes are right, the new views are not empty.
    expect(pool.copydata(a)).toEqual(first);
    const second = pattern(5000, 3);
    const b = chainOf(pool, second);
    expect(pool.copydata(b)).toEqual(second);
    expect(pool.sbwrite(so, "snd", pattern(64, 4))).toBe(true);
    expect(pool.sbstat(so, "snd").cc).toBe(128);
    expect(pool.data(a).length).toBeGreaterThan(0);
    const seen: number[] = [];
    pool.apply(b, 0, 5000, (view) => void seen.push(...view));
    expect(Uint8Array.from(seen)).toEqual(second);
    const t = pool.gethdr();
    expect(pool.tailspace(t).length).toBe(MHLEN);
    for (const m of [a, b, t, ...held]) pool.freem(m);
    pool.soclose(so);
  });
});

describe("bad offsets and lengths", () => {
  it("every operation refuses them with ERANGE/EINVAL and leaves the chain unchanged", () => {
    const pool = makePool();
    const bytes = pattern(3000);
    const m = chainOf(pool, bytes);
    const other = chainOf(pool, pattern(10));
    const snap = () => ({ s: pool.stats(), b: Buffer.from(pool.copydata(m)) });
    const before = snap();
    const cases: [() => unknown, string][] = [
      [() => pool.copydata(m, 3001, 0), "ERANGE"],
      [() => pool.copydata(m, 0, 3001), "ERANGE"],
      [() => pool.copydata(m, 2000, 1001), "ERANGE"],
      [() => pool.copydata(m, -1, 1), "ERANGE"],
      [() => pool.copydata(m, 0, -1), "ERANGE"],
      [() => pool.copydata(m, 2 ** 31, 1), "ERANGE"],
      [() => pool.copydata(m, 0, 20_000), "ERANGE"],
      [() => pool.copydata(m, 1.5, 1), "EINVAL"],
      [() => pool.copydata(m, 0, 10, new Uint8Array(5)), "ERANGE"],
      [() => pool.copyback(m, 3001, new Uint8Array(1)), "ERANGE"],
      [() => pool.copyback(m, -1, new Uint8Array(1)), "ERANGE"],
      [() => pool.copyback(m, 2 ** 31 - 1, new Uint8Array(20_000)), "ERANGE"],
      [() => pool.copyback(m, 0, "x" as unknown as Uint8Array), "EINVAL"],
      [() => pool.copym(m, 3001, 0), "ERANGE"],
      [() => pool.copym(m, 0, 3001), "ERANGE"],
      [() => pool.copym(m, 10, 2991), "ERANGE"],
      [() => pool.copym(m, -5), "ERANGE"],
      [() => pool.copym(m, 0, 10, 7), "EINVAL"],
      [() => pool.pullup(m, 3001), "ERANGE"],
      [() => pool.pullup(m, -1), "ERANGE"],
      [() => pool.prepend(m, -1), "ERANGE"],
      [() => pool.prepend(m, MHLEN + 1), "EINVAL"],
      [() => pool.adj(m, 3001), "ERANGE"],
      [() => pool.adj(m, -3001), "ERANGE"],
      [() => pool.adj(m, -(2 ** 31)), "ERANGE"],
      [() => pool.adj(m, 2 ** 40), "ERANGE"],
      [() => pool.adj(m, 0.5), "EINVAL"],
      [() => pool.split(m, 3001), "ERANGE"],
      [() => pool.split(m, -1), "ERANGE"],
      [() => pool.getptr(m, 3001), "ERANGE"],
      [() => pool.getptr(m, -1), "ERANGE"],
      [() => pool.apply(m, 0, 3001, () => 0), "ERANGE"],
      [() => pool.apply(m, 3001, 0, () => 0), "ERANGE"],
      [() => pool.cat(m, m), "EINVAL"],
      [() => pool.dup(m, 0), "EINVAL"],
      [() => pool.defrag(m, 3), "EINVAL"],
    ];
    for (const [fn, want] of cases) expect([fn.toString(), code(fn)]).toEqual([fn.toString(), want]);
    const after = snap();
    expect(after.b.equals(before.b)).toBe(true);
    expect(after.s.mbufs).toEqual(before.s.mbufs);
    expect(after.s.clusters).toEqual(before.s.clusters);
    pool.freem(m);
    pool.freem(other);
  });

  it("refuses bad, freed and inner handles", () => {
    const pool = makePool();
    const m = chainOf(pool, pattern(3000));
    const inner = pool.getptr(m, 2500).m;
    const freed = pool.get();
    pool.free(freed);
    const ops = (h: number): (() => unknown)[] => [
      () => pool.copyback(h, 0, new Uint8Array(1)), () => pool.append(h, new Uint8Array(1)),
      () => pool.pullup(h, 1), () => pool.prepend(h, 1), () => pool.adj(h, 1), () => pool.split(h, 0),
      () => pool.cat(m, h), () => pool.defrag(h),
    ];
    for (const op of ops(inner)) expect(code(op)).toBe("EBUSY");
    for (const op of ops(freed)) expect(code(op)).toBe("EDOUBLEFREE");
    for (const h of [0, -1, m + 4, 2 ** 32 + m, NaN]) {
      for (const op of [...ops(h), () => pool.copydata(h), () => pool.length(h), () => pool.data(h), () => pool.copym(h)]) {
        expect(code(op)).toBe("EBADHANDLE");
      }
    }
    // Reads are allowed on an inner mbuf.
    expect(pool.length(inner)).toBeGreaterThan(0);
    pool.freem(m);
  });
});

describe("exhaustion mid-operation", () => {
  /** A tiny pool with `free` clusters left. */
  function tight(clustersLeft: number): { pool: Pool; hog: number[] } {
    const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 8, "kern.ipc.nmbufs": 64 } });
    const hog: number[] = [];
    for (let i = 0; i < 8 - clustersLeft; i++) hog.push(pool.getcl());
    return { pool, hog };
  }

  it("copyback that needs more clusters than are left builds nothing", () => {
    const { pool, hog } = tight(3);
    const m = pool.gethdr();
    const s = pool.stats();
    expect(pool.copyback(m, 0, pattern(5000))).toBe(true); // 216 + 2048 + 2048 + rest in a cluster: 3 clusters
    pool.freem(m);
    const m2 = pool.gethdr();
    expect(pool.copyback(m2, 0, pattern(9000))).toBe(false);
    expect(pool.length(m2)).toBe(0);
    expect(pool.stats().mbufs.current).toBe(s.mbufs.current);
    expect(pool.stats().clusters.current).toBe(s.clusters.current);
    expect(pool.stats().clusters.denied).toBeGreaterThan(0);
    // The large path (prepare, then chunks) is all or nothing too.
    expect(pool.copyback(m2, 0, pattern(40_000))).toBe(false);
    expect(pool.length(m2)).toBe(0);
    pool.freem(m2);
    pool.freemBulk(hog);
  });

  it("copy on write that cannot get a cluster leaves both chains alone", () => {
    const { pool, hog } = tight(3);
    const m = chainOf(pool, pattern(4000)); // takes 2 clusters
    const cp = pool.copym(m);
    hog.push(pool.getcl()); // the last one
    expect(pool.copyback(cp, 100, new Uint8Array([1]))).toBe(true); // the header mbuf is a private copy
    expect(pool.copyback(cp, 1000, new Uint8Array([1]))).toBe(false);
    expect(Buffer.from(pool.copydata(cp)).equals(Buffer.from(pool.copydata(m, 0)).fill(1, 100, 101))).toBe(true);
    pool.freem(m);
    pool.freem(cp);
    pool.freemBulk(hog);
  });

  it("copym counts m_mcfail, pullup counts m_mpfail, and the chain stays", () => {
    const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 8, "kern.ipc.nmbufs": 16 } });
    const m = chainOf(pool, pattern(6000)); // 1 header mbuf + 3 cluster mbufs
    const hog: number[] = [];
    for (let h = pool.get(); h; h = pool.get()) hog.push(h);
    const bytes = pool.copydata(m);
    expect(pool.copym(m, 0, M_COPYALL)).toBe(0);
    expect(pool.dup(m)).toBe(0);
    expect(pool.defrag(m)).toBe(0);
    expect(pool.split(m, 3000)).toBe(0);
    expect(pool.prepend(m, MHLEN)).toBe(0);
    expect(pool.stats().mcfail).toBe(1);
    // pullup needing a new mbuf: the header mbuf is full (216 bytes), pull 217 bytes.
    expect(pool.pullup(m, MHLEN + 1)).toBe(0);
    expect(pool.stats().mpfail).toBe(1);
    pool.free(hog.pop()!);
    expect(pool.pullup(m, MLEN + 10)).toBe(0); // more than MHLEN: refused as the kernel does
    expect(pool.stats().mpfail).toBe(2);
    expect(Buffer.from(pool.copydata(m)).equals(Buffer.from(bytes))).toBe(true);
    const h = pool.pullup(m, 200);
    expect(h).toBe(m); // already contiguous
    pool.freem(m);
    pool.freemBulk(hog);
  });

  it("a drain routine run mid-operation may free buffers but not reuse the exchange area", () => {
    const pool = makePool({
      profile: "freebsd",
      tunables: { "kern.ipc.maxmbufmem": 256 * 1024, "kern.ipc.nmbclusters": 4, "kern.ipc.nmbufs": 50 },
    });
    const other = chainOf(pool, pattern(100, 9));
    const hog: number[] = [];
    for (let i = 0; i < 4; i++) hog.push(pool.getcl());
    const seen: string[] = [];
    pool.on("drainError", (_name: string, e: MbufError) => seen.push(e.code));
    pool.onDrain("test", () => {
      if (hog.length) pool.freem(hog.pop()!); // frees what the retry needs
      pool.copydata(other); // refused: the area holds the caller's bytes
    });
    const m = pool.gethdr();
    const bytes = pattern(2000, 5);
    expect(pool.copyback(m, 0, bytes)).toBe(true);
    expect(seen).toContain("EBUSY");
    expect(Buffer.from(pool.copydata(m)).equals(Buffer.from(bytes))).toBe(true);
    pool.freem(m);
    pool.freem(other);
    pool.freemBulk(hog);
  });
});

describe("drain routines that free what an operation works on", () => {
  const tiny = () => makePool({
    profile: "freebsd",
    tunables: { "kern.ipc.maxmbufmem": 256 * 1024, "kern.ipc.nmbclusters": 4, "kern.ipc.nmbufs": 50 },
  });
  /**
   * Takes with `take` until the pool is dry, then registers a drain routine
   * that frees source chain `m` and everything taken: the next allocation
   * runs it, under the operation on `m`.
   */
  const freeSourceOnDrain = (pool: Pool, m: number, take: () => number): void => {
    const hog: number[] = [];
    for (let h = take(); h; h = take()) hog.push(h);
    pool.onDrain("frees the source", () => {
      pool.freem(m);
      pool.freemBulk(hog.splice(0));
    });
  };

  it("copym whose source a drain routine frees starts again and reports the freed handle", () => {
    const pool = tiny();
    const m = chainOf(pool, pattern(3000));
    freeSourceOnDrain(pool, m, () => pool.get());
    expect(code(() => pool.copym(m, 0, 100))).toBe("EDOUBLEFREE");
    expect(pool.stats().mbufs.current).toBe(0);
  });

  for (const op of ["dup", "defrag"] as const) {
    it(`${op} whose source a drain routine frees does not read the freed chain (found by the fuzzer: it spun on a freelist)`, () => {
      const pool = tiny();
      const m = chainOf(pool, pattern(5000));
      freeSourceOnDrain(pool, m, () => pool.getcl());
      expect(code(() => pool[op](m))).toBe("EDOUBLEFREE");
      expect(pool.stats().mbufs.current).toBe(0);
      expect(pool.stats().clusters.current).toBe(0);
    });
  }

  it("a chain under construction cannot be freed by a drain routine", () => {
    const pool = tiny();
    const m = pool.gethdr();
    const hog: number[] = [];
    for (let i = 0; i < 3; i++) hog.push(pool.getcl());
    const freed: number[] = [];
    let tried = 0;
    pool.onDrain("frees whatever it finds", () => {
      // Try every mbuf near `m` but `m` and the hog: the list being built must refuse.
      for (let h = Math.max(256, m - 256 * 64); h < m + 256 * 64; h += 256) {
        if (h === m || hog.includes(h)) continue;
        try {
          pool.freem(h);
          freed.push(h);
        } catch (e) {
          if ((e as MbufError).code === "EBUSY") tried++;
        }
      }
      pool.freemBulk(hog.splice(0));
    });
    expect(pool.copyback(m, 0, pattern(6000))).toBe(true);
    expect(Buffer.from(pool.copydata(m)).equals(Buffer.from(pattern(6000)))).toBe(true);
    expect(freed).toEqual([]);
    expect(tried).toBeGreaterThan(0);
    pool.freem(m);
  });

  it("sbwrite into a socket a drain routine closes fails cleanly", () => {
    const pool = tiny();
    const so = pool.socreate();
    const hog: number[] = [];
    for (let i = 0; i < 4; i++) hog.push(pool.getcl());
    pool.onDrain("drops the connection", () => {
      pool.soclose(so);
      pool.freemBulk(hog.splice(0));
    });
    expect(code(() => pool.sbwrite(so, "snd", pattern(3000)))).toBe("EDOUBLEFREE");
    expect(pool.stats().mbufs.current).toBe(0);
    expect(pool.stats().clusters.current).toBe(0);
  });
});

describe("the ABI and a closed pool", () => {
  it("exports every chain and socket-buffer entry point; a closed pool throws ECLOSED", () => {
    const pool = makePool();
    for (const name of ["m_copydata", "m_copyback", "m_prepare", "m_append", "m_copym", "m_copypacket", "m_dup",
      "m_defrag", "m_pullup", "m_prepend", "m_adj", "m_cat", "m_split", "m_getptr", "m_segments", "m_mtod",
      "socreate", "soclose", "sbappend", "sbappendrecord", "sb_write", "sbdrop", "sbdroprecord", "sbflush",
      "sbreserve", "sbrelease", "sbspace"]) {
      expect(typeof (pool.core as unknown as Record<string, unknown>)[name]).toBe("function");
    }
    const m = chainOf(pool, pattern(10));
    pool.freem(m);
    pool.close();
    expect(code(() => pool.copydata(m))).toBe("ECLOSED");
    expect(code(() => pool.copyback(m, 0, new Uint8Array(1)))).toBe("ECLOSED");
    expect(code(() => pool.socreate())).toBe("ECLOSED");
    expect(code(() => pool.sbHiwatMax)).toBe("ECLOSED");
  });
});

describe("the raw core entry points", () => {
  it("never trap, whatever integers they are given, and leave the audit clean", () => {
    const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 32, "kern.ipc.nmbufs": 128 } });
    const ex = pool.core as unknown as Record<string, (...a: number[]) => number>;
    const dx = (pool.core as unknown as { MB_DXCHG: { value: number } }).MB_DXCHG.value;
    const m = chainOf(pool, pattern(3000));
    const so = pool.socreate({ pcb: true });
    pool.sbwrite(so, "snd", pattern(2500));
    const inner = pool.getptr(m, 2500).m;
    const sb = pool.sbstat(so, "snd").mb;
    const values = [0, 1, -1, 4, 7, 216, 217, 2048, 3000, 3001, 16384, 2 ** 31 - 1, -(2 ** 31), M_COPYALL,
      m, m + 4, m + 256, inner, so, so + 32, sb, dx, dx + 16383, dx - 1];
    const fns = ["m_length", "m_copydata", "m_prepare", "m_copyback", "m_append", "m_copym", "m_copypacket", "m_dup",
      "m_pullup", "m_prepend", "m_adj", "m_split", "m_getptr", "m_segments", "m_mtod", "m_leadingspace",
      "m_trailingspace", "m_writable", "so_pcb", "so_sockbuf", "sbreserve", "sbsetlowat", "sbspace", "sbdrop",
      "sbappend", "sbappendrecord", "sb_write"];
    const v = fc.constantFrom(...values);
    fc.assert(
      fc.property(fc.constantFrom(...fns), v, v, v, v, v, (fn, a, b, c, d, e) => {
        // Calls that would consume or free `m` or the socket are left out: that is not what is fuzzed here.
        if ((fn === "m_append" || fn === "m_copyback" || fn === "m_prepare") && a === m && c > 0 && c !== M_COPYALL) return;
        if (fn === "sbappend" || fn === "sbappendrecord") {
          if (c === m) return;
        }
        if (fn === "sbdrop" && b === 1) return;
        const reshapes = fn === "m_pullup" || fn === "m_prepend";
        let before = -1;
        if (reshapes) try { before = pool.length(a); } catch { /* not a head: the call must refuse it */ }
        const r = ex[fn](a, b, c, d, e);
        expect(Number.isInteger(r)).toBe(true);
        // Anything newly made goes back at once, so the pool never fills up.
        if (r > 0 && (fn === "m_copym" || fn === "m_copypacket" || fn === "m_dup" || fn === "m_split")) {
          if (fn === "m_split") pool.cat(a, r);
          else pool.freem(r);
        }
        // A reshaped chain keeps its bytes under the head the call returns (prepend adds b of them).
        if (r > 0 && reshapes) expect(pool.length(r)).toBe(fn === "m_prepend" ? before + b : before);
        if (r > 0 && reshapes) expect(before).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 3000 },
    );
    expect(pool.audit().message).toBe("clean");
    pool.soclose(so);
  });
});
