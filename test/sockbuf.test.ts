// Socket buffers: a property test against a model of records, limits,
// accounting, and soclose freeing everything a socket holds.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { MT, M_NOWAIT, M_EOR, MSIZE, type Pool, type SockbufName } from "mbufpool";
import { makePool, code, chainOf } from "./helpers.js";

const pattern = (n: number, seed = 0): Uint8Array => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + seed) & 255;
  return b;
};

/** The records of a socket buffer, read through m_nextpkt (offset 4 of an mbuf). */
function records(pool: Pool, so: number, which: SockbufName): Uint8Array[] {
  const out: Uint8Array[] = [];
  const view = new DataView(pool.buffer);
  for (let r = pool.sbstat(so, which).mb; r !== 0; r = view.getUint32(r + 4, true)) out.push(pool.copydata(r));
  return out;
}

type Op =
  | { k: "append"; which: SockbufName; n: number; seed: number }
  | { k: "record"; which: SockbufName; n: number; seed: number }
  | { k: "write"; which: SockbufName; n: number; seed: number }
  | { k: "drop"; which: SockbufName; frac: number }
  | { k: "droprecord"; which: SockbufName }
  | { k: "flush"; which: SockbufName }
  | { k: "reserve"; which: SockbufName; hiwat: number };

const which = fc.constantFrom<SockbufName>("rcv", "snd");
const n = fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 5000 }));
const seed = fc.nat({ max: 255 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant("append" as const), which, n, seed }),
  fc.record({ k: fc.constant("record" as const), which, n, seed }),
  fc.record({ k: fc.constant("write" as const), which, n, seed }),
  fc.record({ k: fc.constant("drop" as const), which, frac: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ k: fc.constant("droprecord" as const), which }),
  fc.record({ k: fc.constant("flush" as const), which }),
  fc.record({ k: fc.constant("reserve" as const), which, hiwat: fc.integer({ min: 0, max: 40000 }) }),
);

const total = (rs: Uint8Array[]): number => rs.reduce((a, r) => a + r.length, 0);
const cat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const o = new Uint8Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
};

function modelAppend(rs: Uint8Array[], bytes: Uint8Array): void {
  if (rs.length === 0) {
    if (bytes.length) rs.push(bytes); // sbcompress drops an empty chain
  } else {
    rs[rs.length - 1] = cat(rs[rs.length - 1], bytes);
  }
}

function modelDrop(rs: Uint8Array[], len: number): void {
  if (len === 0) {
    if (rs.length && rs[0].length === 0) rs.shift();
    return;
  }
  while (len > 0) {
    const r = rs[0];
    if (r.length <= len) {
      len -= r.length;
      rs.shift();
    } else {
      rs[0] = r.subarray(len);
      len = 0;
    }
  }
}

describe("socket buffers against a model of records", () => {
  it("keeps records, bytes, sb_cc and limits on every random sequence", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 50 }), (ops) => {
        const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 400, "kern.ipc.nmbufs": 1600 } });
        const start = pool.stats();
        const so = pool.socreate({ pcb: true, sndHiwat: 8192, rcvHiwat: 16384 });
        const model: Record<SockbufName, Uint8Array[]> = { rcv: [], snd: [] };
        for (const o of ops) {
          const rs = model[o.which];
          switch (o.k) {
            case "append":
            case "record": {
              const bytes = pattern(o.n, o.seed);
              const m = chainOf(pool, bytes);
              const fits = bytes.length <= pool.sbspace(so, o.which);
              const ok = o.k === "append" ? pool.sbappend(so, o.which, m) : pool.sbappendrecord(so, o.which, m);
              expect(ok).toBe(fits);
              if (!ok) pool.freem(m); // still the caller's
              else if (o.k === "append") modelAppend(rs, bytes);
              else rs.push(bytes);
              break;
            }
            case "write": {
              const bytes = pattern(o.n, o.seed);
              const fits = bytes.length <= pool.sbspace(so, o.which);
              expect(pool.sbwrite(so, o.which, bytes)).toBe(fits);
              if (fits) modelAppend(rs, bytes);
              break;
            }
            case "drop": {
              const len = Math.floor(o.frac * total(rs));
              pool.sbdrop(so, o.which, len);
              modelDrop(rs, len);
              break;
            }
            case "droprecord":
              expect(pool.sbdroprecord(so, o.which)).toBe(rs.length > 0);
              rs.shift();
              break;
            case "flush":
              pool.sbflush(so, o.which);
              rs.length = 0;
              expect(pool.sbstat(so, o.which)).toMatchObject({ cc: 0, mbcnt: 0, mb: 0 });
              break;
            case "reserve":
              expect(pool.sbreserve(so, o.which, o.hiwat)).toBe(true);
              break;
          }
          for (const w of ["rcv", "snd"] as const) {
            const st = pool.sbstat(so, w);
            expect(st.cc).toBe(total(model[w]));
            const got = records(pool, so, w).map((r) => Buffer.from(r).toString("hex"));
            expect(got).toEqual(model[w].map((r) => Buffer.from(r).toString("hex")));
          }
          expect(pool.audit().message).toBe("clean");
        }
        pool.soclose(so);
        const end = pool.stats();
        expect(end.mbufs.current).toBe(start.mbufs.current);
        expect(end.clusters.current).toBe(start.clusters.current);
        expect(end.census).toEqual(start.census);
      }),
      { numRuns: 150 },
    );
  });
});

describe("sockets", () => {
  it("live in MT_SOCKET / MT_PCB mbufs and soclose frees everything they hold", () => {
    const pool = makePool();
    const so = pool.socreate({ pcb: true });
    let s = pool.stats();
    expect(s.census[MT.SOCKET]).toBe(1);
    expect(s.census[MT.PCB]).toBe(1);
    expect(pool.sopcb(so)).toBeGreaterThan(0);
    expect(pool.sbwrite(so, "snd", pattern(20000))).toBe(true);
    expect(pool.sbappendrecord(so, "rcv", chainOf(pool, pattern(3000)))).toBe(true);
    expect(pool.sbappendrecord(so, "rcv", chainOf(pool, pattern(10)))).toBe(true);
    s = pool.stats();
    expect(s.mbufs.current).toBeGreaterThan(5);
    expect(s.clusters.current).toBeGreaterThan(10);
    // Nothing the socket holds can be freed or written from outside.
    expect(code(() => pool.free(so))).toBe("EBUSY");
    expect(code(() => pool.freem(pool.sopcb(so)))).toBe("EBUSY");
    const mb = pool.sbstat(so, "rcv").mb;
    expect(code(() => pool.freem(mb))).toBe("EBUSY");
    expect(code(() => pool.copyback(mb, 0, new Uint8Array(1)))).toBe("EBUSY");
    expect(code(() => pool.copyback(so, 0, new Uint8Array(1)))).toBe("EBUSY");
    expect(code(() => pool.freemBulk([mb]))).toBe("EBUSY");
    // ... but can be read, and copied by reference as TCP does from its send buffer.
    const snd = pool.sbstat(so, "snd").mb;
    const cp = pool.copym(snd, 100, 5000);
    expect(Buffer.from(pool.copydata(cp)).equals(Buffer.from(pattern(20000).subarray(100, 5100)))).toBe(true);
    pool.freem(cp);
    pool.soclose(so);
    s = pool.stats();
    expect(s.mbufs.current).toBe(0);
    expect(s.clusters.current).toBe(0);
    expect(s.census.every((c) => c === 0)).toBe(true);
    expect(code(() => pool.soclose(so))).toBe("EDOUBLEFREE");
  });

  it("refuses what is not a socket, a bad selector and bad lengths", () => {
    const pool = makePool();
    const so = pool.socreate();
    const m = pool.get();
    const sock = pool.get(M_NOWAIT, MT.SOCKET); // an MT_SOCKET mbuf is not a socket
    expect(code(() => pool.sbspace(m, "snd"))).toBe("EINVAL");
    expect(code(() => pool.soclose(sock))).toBe("EINVAL");
    expect(code(() => pool.sbspace(so, "x" as SockbufName))).toBe("EINVAL");
    expect(code(() => pool.sbspace(so + 4, "snd"))).toBe("EBADHANDLE");
    expect(code(() => pool.sbdrop(so, "snd", 1))).toBe("ERANGE");
    expect(code(() => pool.sbdrop(so, "snd", -1))).toBe("ERANGE");
    expect(code(() => pool.sbreserve(so, "snd", -1))).toBe("ERANGE");
    expect(code(() => pool.sbsetlowat(so, "snd", 40000))).toBe("ERANGE");
    expect(code(() => pool.sbappend(so, "snd", so))).toBe("EBUSY");
    expect(code(() => pool.socreate({ sndHiwat: -1 }))).toBe("EINVAL");
    expect(pool.sbappend(so, "snd", m)).toBe(true); // an empty mbuf: dropped by sbcompress
    expect(pool.sbstat(so, "snd").mb).toBe(0);
    pool.free(sock);
    pool.soclose(so);
  });

  it("respects sb_hiwat and sb_max, and accounts sb_mbcnt as MSIZE + ext_size", () => {
    const pool = makePool();
    const so = pool.socreate({ sndHiwat: 1000 });
    expect(pool.sbstat(so, "snd")).toMatchObject({ hiwat: 1000, mbmax: 8000, lowat: 1000, cc: 0 });
    expect(pool.sbreserve(so, "snd", 300_000)).toBe(false); // above sb_max x MCLBYTES / (MSIZE + MCLBYTES)
    expect(pool.sbwrite(so, "snd", pattern(1001))).toBe(false);
    expect(pool.sbwrite(so, "snd", pattern(1000))).toBe(true);
    expect(pool.sbspace(so, "snd")).toBe(0);
    const m = chainOf(pool, pattern(1));
    expect(pool.sbappend(so, "snd", m)).toBe(false);
    pool.freem(m); // still ours
    const st = pool.sbstat(so, "snd");
    expect(st.cc).toBe(1000);
    expect(st.mbcnt).toBe(MSIZE + pool.mclbytes); // one cluster mbuf
    pool.sbdrop(so, "snd", 400);
    expect(pool.sbspace(so, "snd")).toBe(400);
    pool.sbflush(so, "snd");
    expect(pool.sbstat(so, "snd")).toMatchObject({ cc: 0, mbcnt: 0, mb: 0, lastrecord: 0 });
    pool.sbrelease(so, "snd");
    expect(pool.sbstat(so, "snd")).toMatchObject({ hiwat: 0, mbmax: 0 });
    pool.soclose(so);
  });

  it("compacts small appends into trailing space, as sbcompress does", () => {
    const pool = makePool();
    const so = pool.socreate();
    for (let i = 0; i < 10; i++) expect(pool.sbappend(so, "rcv", chainOf(pool, pattern(64, i)))).toBe(true);
    const st = pool.sbstat(so, "rcv");
    expect(st.cc).toBe(640);
    expect(st.mbcnt).toBe(4 * MSIZE); // 3 x 64 fit in the first (216 bytes), then 3 more per mbuf
    expect(pool.stats().mbufs.current).toBe(1 + 4);
    pool.soclose(so);
  });

  it("starts a new record after one that ended with M_EOR", () => {
    const pool = makePool();
    const so = pool.socreate();
    const m1 = chainOf(pool, pattern(300));
    pool.core.m_setflags(m1, M_EOR, 0);
    expect(pool.sbappend(so, "rcv", m1)).toBe(true);
    expect(pool.sbappend(so, "rcv", chainOf(pool, pattern(10)))).toBe(true);
    expect(pool.sbwrite(so, "rcv", pattern(5))).toBe(true);
    expect(records(pool, so, "rcv").map((r) => r.length)).toEqual([300, 15]);
    pool.soclose(so);
  });

  it("fails cleanly when buffers run out, keeping nothing", () => {
    const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 4, "kern.ipc.nmbufs": 8 } });
    const so = pool.socreate({ pcb: true });
    const hog: number[] = [];
    for (let i = 0; i < 3; i++) hog.push(pool.getcl());
    const before = pool.stats();
    expect(pool.sbwrite(so, "snd", pattern(5000))).toBe(false); // needs 3 clusters, 1 left
    expect(pool.sbwrite(so, "snd", pattern(30000))).toBe(false); // the large path too
    const after = pool.stats();
    expect(after.mbufs.current).toBe(before.mbufs.current);
    expect(after.clusters.current).toBe(before.clusters.current);
    expect(pool.sbstat(so, "snd").cc).toBe(0);
    for (let m = pool.get(); m; m = pool.get()) hog.push(m);
    expect(pool.socreate()).toBe(0);
    pool.free(hog.pop()!);
    expect(pool.socreate({ pcb: true })).toBe(0); // the socket mbuf went back
    expect(pool.stats().census[MT.SOCKET]).toBe(1);
    pool.freemBulk(hog);
    pool.soclose(so);
  });
});

describe("the audit", () => {
  it("reports a corrupted pkthdr.len, socket buffer count, magic word or record tail", () => {
    const pool = makePool();
    const so = pool.socreate();
    pool.sbwrite(so, "rcv", pattern(3000));
    const m = chainOf(pool, pattern(500));
    const view = new DataView(pool.buffer);
    const sb = pool.core.so_sockbuf(so, 0);
    const corrupt = (addr: number, value: number, want: number): void => {
      const old = view.getUint32(addr, true);
      view.setUint32(addr, value, true);
      expect(pool.audit().code).toBe(want);
      view.setUint32(addr, old, true);
      expect(pool.audit().message).toBe("clean");
    };
    corrupt(m + 32, 499, 21); // pkthdr.len
    corrupt(sb + 12, 2999, 22); // sb_cc
    corrupt(sb + 20, 0, 22); // sb_mbcnt
    corrupt(so + 32, 0, 23); // magic word
    corrupt(sb + 8, 0, 23); // sb_mbtail
    corrupt(sb + 4, m, 23); // sb_lastrecord
    pool.freem(m);
    pool.soclose(so);
  });
});

describe("sbappend links a packet-header mbuf into a record as a plain mbuf", () => {
  it("a record's later mbufs lose M_PKTHDR, so split and adj keep pkthdr.len right", () => {
    const pool = makePool();
    const so = pool.socreate();
    const a = pool.get();
    pool.append(a, pattern(200));
    const b = pool.gethdr();
    pool.append(b, pattern(44, 3)); // does not fit a's trailing space: linked as it is
    expect(pool.sbappend(so, "rcv", a)).toBe(true);
    expect(pool.sbappend(so, "rcv", b)).toBe(true);
    const m = pool.sbtake(so, "rcv");
    expect(pool.length(m)).toBe(244);
    pool.adj(m, 201);
    const t = pool.split(m, 0);
    expect(pool.audit().message).toBe("clean");
    expect(pool.length(t)).toBe(43);
    pool.freem(t);
    pool.freem(m);
    pool.soclose(so);
  });
});

describe("sbcc and sbmb read a socket buffer's fields with no object made", () => {
  it("agree with sbstat as data comes and goes", () => {
    const pool = makePool();
    const so = pool.socreate();
    for (const which of ["rcv", "snd"] as const) {
      expect([pool.sbcc(so, which), pool.sbmb(so, which)]).toEqual([0, 0]);
      expect(pool.sbwrite(so, which, pattern(3000))).toBe(true);
      const st = pool.sbstat(so, which);
      expect([pool.sbcc(so, which), pool.sbmb(so, which)]).toEqual([st.cc, st.mb]);
      expect(st.cc).toBe(3000);
      pool.sbdrop(so, which, 1000);
      expect(pool.sbcc(so, which)).toBe(2000);
    }
    expect(code(() => pool.sbcc(so, "both" as never))).toBe("EINVAL");
    expect(code(() => pool.sbmb(so + 4, "rcv"))).toBeDefined();
    pool.soclose(so);
    expect(code(() => pool.sbcc(so, "rcv"))).toBeDefined();
  });
});
