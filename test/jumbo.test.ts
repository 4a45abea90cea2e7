// Jumbo clusters (modern FreeBSD's mbuf_jumbo_page, _9k, _16k zones): getjcl,
// cljget and getjclWait, every chain operation and socket buffer on chains
// that mix cluster sizes against a byte model, exhaustion of each jumbo zone
// and its recovery, the reports, and the fuzzer's jumbo ops against the model.
import { describe, it, expect } from "vitest";
import {
  Pool, MT, M_NOWAIT, M_WAITOK, M_PKTHDR, MSIZE, MJUMPAGESIZE, MJUM9BYTES, MJUM16BYTES, VirtualClock, MbufError, type PoolOptions,
} from "mbufpool";
import { fuzz, replay } from "mbufpool/fuzz";
import { makePool, code, pattern, BUILD } from "./helpers.js";

const SIZES = [2048, MJUMPAGESIZE, MJUM9BYTES, MJUM16BYTES] as const;
const freebsd = (tunables: Record<string, number> = {}, extra = {}): Pool =>
  makePool({ profile: "freebsd", tunables: { "kern.ipc.maxmbufmem": 8 * 1024 * 1024, ...tunables }, ...extra });

/** A small deterministic generator (the tests must replay). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s % n;
  };
}

describe("getjcl and cljget", () => {
  it("gives an mbuf with a cluster of each size, and getjcl(MCLBYTES) is getcl", () => {
    const pool = freebsd();
    for (const size of SIZES) {
      const m = pool.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, size);
      expect(m).toBeGreaterThan(0);
      expect(pool.trailingspace(m)).toBe(size);
      expect(pool.writable(m)).toBe(true);
      pool.freem(m);
    }
    const s = pool.stats();
    expect(s.packets.total).toBe(1); // the 2 KiB pair went to the packet zone, as getcl's does
    expect(s.jumbo!.page.allocs).toBe(1);
    expect(s.jumbo!.nine.allocs).toBe(1);
    expect(s.jumbo!.sixteen.allocs).toBe(1);
    expect(s.jumbo!.nine.cache).toBe(4); // one 9-page slab of four
    expect(s.jumbo!.nine.pages).toBe(9);
    expect(s.jumbo!.sixteen.pages).toBe(4);
  });

  it("validates how, type, flags and size; a jumbo size is EINVAL on profiles without jumbo zones", () => {
    const pool = freebsd();
    expect(code(() => pool.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, 8192))).toBe("EINVAL");
    expect(code(() => pool.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, 0))).toBe("EINVAL");
    expect(code(() => pool.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, 9216.5))).toBe("EINVAL");
    expect(code(() => pool.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, "9216" as unknown as number))).toBe("EINVAL");
    expect(code(() => pool.getjcl(7, MT.DATA, M_PKTHDR, MJUM9BYTES))).toBe("EINVAL");
    expect(code(() => pool.getjcl(M_NOWAIT, 0, M_PKTHDR, MJUM9BYTES))).toBe("EINVAL");
    expect(code(() => pool.getjcl(M_NOWAIT, MT.DATA, 0x40, MJUM9BYTES))).toBe("EINVAL");
    for (const profile of ["freebsd4", "rtems"] as const) {
      const p = makePool({ profile });
      for (const size of [MJUMPAGESIZE, MJUM9BYTES, MJUM16BYTES]) {
        expect(() => p.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, size)).toThrow(/not a cluster size of profile/);
        const m = p.get();
        expect(code(() => p.cljget(m, M_NOWAIT, size))).toBe("EINVAL");
        p.free(m);
      }
      expect(p.stats().jumbo).toBeNull();
      expect(code(() => p.reclaim("jumbo_9k"))).toBe("EINVAL");
    }
    const aix = makePool({ profile: "aix" });
    const m = aix.getjcl(M_NOWAIT, MT.DATA, 0, MJUMPAGESIZE); // AIX's MCLBYTES is a page
    expect(aix.trailingspace(m)).toBe(4096);
    aix.freem(m);
    expect(code(() => aix.getjcl(M_NOWAIT, MT.DATA, 0, MJUM9BYTES))).toBe("EINVAL");
  });

  it("cljget attaches a cluster of the size, refuses an mbuf with data or a cluster, and leaves m as it was on failure", () => {
    const pool = freebsd({ "kern.ipc.nmbjumbo16": 1 });
    const m = pool.gethdr();
    expect(pool.cljget(m, M_NOWAIT, MJUM16BYTES)).toBe(true);
    expect(pool.trailingspace(m)).toBe(MJUM16BYTES);
    expect(code(() => pool.cljget(m, M_NOWAIT, MJUM16BYTES))).toBe("EINVAL");
    const n = pool.get();
    expect(pool.cljget(n, M_NOWAIT, MJUM16BYTES)).toBe(false); // the zone's one item is m's
    expect(pool.trailingspace(n)).toBe(224);
    expect(pool.stats().jumbo!.sixteen.denied).toBe(1);
    pool.append(n, pattern(10));
    expect(code(() => pool.cljget(n, M_NOWAIT, MJUM9BYTES))).toBe("EINVAL");
    expect(code(() => pool.cljget(n, M_NOWAIT, 12345))).toBe("EINVAL");
    pool.freem(m);
    pool.freem(n);
    const k = pool.get();
    expect(pool.cljget(k, M_NOWAIT, 2048)).toBe(true); // MCLBYTES: clget
    pool.freem(k);
  });
});

/** A chain built from pieces of each storage kind, with its bytes: [head, model bytes]. */
function mixedChain(pool: Pool, r: (n: number) => number, seed: number): [number, Uint8Array] {
  const head = pool.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, SIZES[r(4)]);
  let model: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  const pieces = 1 + r(4);
  for (let i = 0; i < pieces; i++) {
    const kind = r(5);
    const x = kind === 4 ? pool.get() : pool.getjcl(M_NOWAIT, MT.DATA, 0, SIZES[kind]);
    const cap = pool.trailingspace(x);
    const bytes = pattern(1 + r(cap), seed + i);
    expect(pool.append(x, bytes)).toBe(true);
    if (i === 0) {
      const first = pattern(1 + r(pool.trailingspace(head)), seed + 99);
      expect(pool.append(head, first)).toBe(true);
      model = concat(model, first);
    }
    pool.cat(head, x);
    model = concat(model, bytes);
  }
  return [head, model];
}

/** Byte equality without a deep comparison per element (chains here reach tens of KiB). */
function expectBytes(got: Uint8Array, want: Uint8Array): void {
  expect(got.length).toBe(want.length);
  expect(Buffer.from(got.buffer, got.byteOffset, got.length).equals(Buffer.from(want.buffer, want.byteOffset, want.length))).toBe(true);
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const c = new Uint8Array(a.length + b.length);
  c.set(a, 0);
  c.set(b, a.length);
  return c;
};

describe("chain operations on chains that mix cluster sizes", () => {
  it("keep the bytes of a byte model through every data operation", () => {
    const pool = freebsd();
    const r = rng(20261203);
    for (let round = 0; round < 40; round++) {
      let [m, model] = mixedChain(pool, r, round);
      expect(pool.length(m)).toBe(model.length);
      const extra: number[] = [];
      for (let step = 0; step < 12; step++) {
        const op = r(12);
        const len = model.length;
        if (op === 0) {
          const b = pattern(1 + r(20000), step);
          expect(pool.append(m, b)).toBe(true);
          model = concat(model, b);
        } else if (op === 1 && len) {
          const off = r(len), b = pattern(1 + r(12000), step + 7);
          expect(pool.copyback(m, off, b)).toBe(true);
          const grown = new Uint8Array(Math.max(len, off + b.length));
          grown.set(model, 0);
          grown.set(b, off);
          model = grown;
        } else if (op === 2 && len) {
          // copym shares the clusters (jumbo ones too); writing either copy leaves the other intact
          const off = r(len), n = 1 + r(len - off);
          const c = pool.copym(m, off, n);
          expectBytes(pool.copydata(c), model.slice(off, off + n));
          const w = pattern(Math.min(n, 100), step + 3);
          expect(pool.copyback(c, 0, w)).toBe(true);
          expectBytes(pool.copydata(m), model);
          const cm = model.slice(off, off + n);
          cm.set(w, 0);
          expectBytes(pool.copydata(c), cm);
          extra.push(c);
        } else if (op === 3) {
          const d = pool.dup(m);
          expectBytes(pool.copydata(d), model);
          pool.freem(d);
        } else if (op === 4 && len) {
          const n = 1 + r(Math.min(len, 200));
          const h = pool.pullup(m, n);
          if (h !== 0) m = h;
          expectBytes(pool.copydata(m), model);
        } else if (op === 5 && len > 1) {
          const at = 1 + r(len - 1);
          const t = pool.split(m, at);
          expectBytes(pool.copydata(t), model.slice(at));
          expectBytes(pool.copydata(m), model.slice(0, at));
          pool.cat(m, t);
          expectBytes(pool.copydata(m), model);
        } else if (op === 6 && len) {
          const n = r(len);
          const tail = r(2) === 0;
          pool.adj(m, tail ? -n : n);
          model = tail ? model.slice(0, len - n) : model.slice(n);
        } else if (op === 7) {
          const n = 1 + r(100), b = pattern(n, step);
          m = pool.prepend(m, b);
          expect(m).toBeGreaterThan(0);
          model = concat(b, model);
        } else if (op === 8) {
          m = pool.defrag(m);
          expect(m).toBeGreaterThan(0);
        } else if (op === 9) {
          // tailspace / commit: the last mbuf's trailing space, a jumbo cluster's when it ends the chain
          const view = pool.tailspace(m);
          const n = Math.min(view.length, 1 + r(3000));
          const b = pattern(n, step + 11);
          view.set(b);
          pool.commit(m, n);
          model = concat(model, b);
        } else if (op === 10 && len) {
          const off = r(len), n = 1 + r(len - off);
          expectBytes(pool.copydata(m, off, n), model.slice(off, off + n));
          let seen = 0;
          pool.apply(m, off, n, (v) => { expectBytes(v, model.slice(off + seen, off + seen + v.length)); seen += v.length; });
          expect(seen).toBe(n);
        } else if (op === 11) {
          const [n, nm] = mixedChain(pool, r, round * 100 + step);
          pool.cat(m, n);
          model = concat(model, nm);
        }
        expect(pool.length(m)).toBe(model.length);
        expectBytes(pool.copydata(m), model);
      }
      for (const c of extra) pool.freem(c);
      pool.freem(m);
      pool.assertAudit();
    }
    const s = pool.stats();
    expect(s.jumbo!.page.current + s.jumbo!.nine.current + s.jumbo!.sixteen.current).toBe(0);
    expect(s.clusters.current).toBe(0);
  });

  it("copy on write of a shared jumbo cluster takes a jumbo cluster of its size", () => {
    const pool = freebsd();
    const m = pool.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, MJUM9BYTES);
    pool.append(m, pattern(9000));
    const c = pool.copym(m);
    expect(pool.writable(m)).toBe(false);
    expect(pool.writable(c)).toBe(false);
    expect(pool.trailingspace(m)).toBe(0);
    expect(pool.stats().jumbo!.nine.current).toBe(1);
    expect(pool.copyback(c, 8999, pattern(1, 5))).toBe(true);
    expect(pool.writable(m)).toBe(true);
    expect(pool.writable(c)).toBe(true);
    expect(pool.stats().jumbo!.nine.current).toBe(2);
    expect(pool.trailingspace(c)).toBe(MJUM9BYTES - 9000);
    expect(pool.copydata(m)).toEqual(pattern(9000));
    pool.freem(m);
    pool.freem(c);
    expect(pool.stats().jumbo!.nine.current).toBe(0);
  });
});

describe("socket buffers", () => {
  it("charge MSIZE + ext_size for each jumbo cluster and free them back to their zones", () => {
    const pool = freebsd();
    const so = pool.socreate();
    pool.sbreserve(so, "rcv", 200000);
    const r = rng(7);
    let model: Uint8Array = new Uint8Array(0), mbcnt = 0;
    for (let i = 0; i < 8; i++) {
      const size = SIZES[r(4)];
      const m = pool.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, size);
      const b = pattern(size - r(100), i); // too large to be compacted into the previous mbuf
      pool.append(m, b);
      expect(pool.sbappend(so, "rcv", m)).toBe(true);
      model = concat(model, b);
      mbcnt += MSIZE + size;
      expect(pool.sbstat(so, "rcv").mbcnt).toBe(mbcnt);
      expect(pool.sbcc(so, "rcv")).toBe(model.length);
    }
    const drop = 5000;
    pool.sbdrop(so, "rcv", drop);
    model = model.slice(drop);
    const t = pool.sbtake(so, "rcv");
    expect(pool.copydata(t)).toEqual(model);
    expect(pool.sbstat(so, "rcv").mbcnt).toBe(0);
    pool.freem(t);
    pool.soclose(so);
    const s = pool.stats();
    expect(s.jumbo!.page.current + s.jumbo!.nine.current + s.jumbo!.sixteen.current).toBe(0);
  });
});

describe("exhaustion of the jumbo zones", () => {
  for (const [size, key, tunable] of [
    [MJUMPAGESIZE, "page", "kern.ipc.nmbjumbop"], [MJUM9BYTES, "nine", "kern.ipc.nmbjumbo9"], [MJUM16BYTES, "sixteen", "kern.ipc.nmbjumbo16"],
  ] as const) {
    it(`${tunable}: the zone alone runs dry, is counted, recovers on a free and serves its waiter first`, async () => {
      const clock = new VirtualClock();
      const pool = freebsd({ [tunable]: 5 }, { clock });
      const messages: string[] = [];
      pool.on("message", (msg: { text: string }) => messages.push(msg.text));
      const held: number[] = [];
      for (let i = 0; i < 5; i++) held.push(pool.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, size));
      expect(held.every((m) => m > 0)).toBe(true);
      expect(pool.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, size)).toBe(0);
      expect(pool.stats().jumbo![key].denied).toBe(1);
      expect(messages).toEqual([`[zone: ${key === "page" ? "mbuf_jumbo_page" : key === "nine" ? "mbuf_jumbo_9k" : "mbuf_jumbo_16k"}] ${tunable} limit reached`]);
      // The other zones are untouched.
      const cl = pool.getcl();
      expect(cl).toBeGreaterThan(0);
      let got = 0;
      const waiter = pool.getjclWait(M_WAITOK, MT.DATA, M_PKTHDR, size).then((m) => { got = m; });
      const clWaiter = pool.getclWait(); // a cluster waiter is served at once: clusters are free
      expect(await clWaiter).toBeGreaterThan(0);
      await Promise.resolve();
      expect(got).toBe(0);
      expect(pool.stats().jumbo![key].delayed).toBe(1);
      pool.freem(held.pop()!);
      await waiter;
      expect(got).toBeGreaterThan(0);
      expect(pool.trailingspace(got)).toBe(size);
      held.push(got);
      for (const m of held) pool.freem(m);
      pool.freem(cl);
      pool.freem(await clWaiter);
      expect(pool.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, size)).toBeGreaterThan(0); // recovered
      expect(pool.stats().jumbo![key].current).toBe(1);
      pool.freem(pool.outstanding().groups[0].mbufs[0].handle);
    });
  }

  it("mixed with clusters: each zone's free serves only its own waiters", async () => {
    const clock = new VirtualClock();
    const pool = freebsd({ "kern.ipc.nmbjumbo9": 4, "kern.ipc.nmbclusters": 2 }, { clock, packetZone: false });
    const nine = [0, 1, 2, 3].map(() => pool.getjcl(M_NOWAIT, MT.DATA, 0, MJUM9BYTES));
    const cls = [0, 1].map(() => pool.getcl());
    expect(pool.getcl()).toBe(0);
    expect(pool.getjcl(M_NOWAIT, MT.DATA, 0, MJUM9BYTES)).toBe(0);
    const order: string[] = [];
    const w9 = pool.getjclWait(M_WAITOK, MT.DATA, 0, MJUM9BYTES).then((m) => { order.push("9k"); return m; });
    const wc = pool.getclWait().then((m) => { order.push("cluster"); return m; });
    pool.freem(cls[0]);
    await wc;
    expect(order).toEqual(["cluster"]);
    pool.freem(nine[0]);
    const m9 = await w9;
    expect(order).toEqual(["cluster", "9k"]);
    for (const m of [...nine.slice(1), cls[1], m9, await wc]) pool.freem(m);
    const s = pool.stats();
    expect(s.jumbo!.nine.denied).toBe(1);
    expect(s.clusters.denied).toBe(1);
  });

  it("a waiter times out counted as denied in its jumbo zone", async () => {
    const clock = new VirtualClock();
    const pool = freebsd({ "kern.ipc.nmbjumbo16": 1 }, { clock });
    const m = pool.getjcl(M_NOWAIT, MT.DATA, 0, MJUM16BYTES);
    const w = pool.getjclWait(M_WAITOK, MT.DATA, 0, MJUM16BYTES, { timeout: 10 });
    clock.advance(10);
    await expect(w).rejects.toThrow(/no 16k jumbo cluster within 10 ms/);
    expect(pool.stats().jumbo!.sixteen.denied).toBe(1);
    await expect(pool.getjclWait(M_WAITOK, MT.DATA, 0, 1234)).rejects.toThrow(MbufError);
    pool.freem(m);
  });

  it("a 9k slab takes contiguous pages: from a hole when one fits, else not at all under thewall", () => {
    // 64 KiB: 16 pages. Fill them with mbufs, free a run in the middle, and a 9k slab of one item (3 pages) fits there.
    const pool = freebsd({ "kern.ipc.maxmbufmem": 64 * 1024, "kern.ipc.nmbjumbo9": 1, "kern.ipc.nmbufs": 256 });
    const ms: number[] = [];
    for (let i = 0; i < 256; i++) ms.push(pool.get());
    expect(pool.get()).toBe(0);
    expect(pool.getjcl(M_NOWAIT, MT.DATA, 0, MJUM9BYTES)).toBe(0); // no page left
    for (const m of ms.splice(48, 64)) pool.free(m); // pages 3..6 free of mbufs
    expect(pool.reclaim("mbuf")).toBe(4);
    const j = pool.getjcl(M_NOWAIT, MT.DATA, 0, MJUM9BYTES);
    expect(j).toBeGreaterThan(0);
    expect(pool.stats().jumbo!.nine.pages).toBe(3);
    pool.freem(j);
    expect(pool.reclaim("jumbo_9k")).toBe(3);
    expect(pool.stats().jumbo!.nine.pages).toBe(0);
    for (const m of ms) pool.free(m);
  });
});

describe("tunables and reports", () => {
  it("raises a jumbo limit at run time (lowering is refused) and serves waiters", async () => {
    const pool = freebsd({ "kern.ipc.nmbjumbop": 1 });
    const a = pool.getjcl(M_NOWAIT, MT.DATA, 0, MJUMPAGESIZE);
    expect(pool.getjcl(M_NOWAIT, MT.DATA, 0, MJUMPAGESIZE)).toBe(0);
    const w = pool.getjclWait(M_WAITOK, MT.DATA, 0, MJUMPAGESIZE);
    expect(pool.sysctl("kern.ipc.nmbjumbop", 2)).toEqual({ name: "kern.ipc.nmbjumbop", old: 1, new: 2 });
    const b = await w;
    expect(pool.stats().jumbo!.page.limit).toBe(2);
    expect(() => pool.sysctl("kern.ipc.nmbjumbop", 1)).toThrow(/may only raise/);
    expect(() => pool.sysctl("kern.ipc.nmbjumbo16", 100000)).toThrow(/must fit in the arena/);
    pool.freem(a);
    pool.freem(b);
  });

  it("netstat -m, vmstat -z, JSON and Prometheus count the jumbo zones", async () => {
    const pool = freebsd();
    const a = pool.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, MJUMPAGESIZE);
    const b = pool.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, MJUM9BYTES);
    const c = pool.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, MJUM16BYTES);
    const d = pool.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, MJUM9BYTES);
    pool.freem(d);
    // 16 mbufs carved (one page), 3 in use; 9k: one slab of 4, 1 in use.
    // Network bytes: in use 3 x 256 + 4096 + 9216 + 16384 = 30464 (29K); cache 13 x 256 + 3 x 9216 = 30976 (30K).
    expect(pool.netstat().split("\n")).toEqual([
      "3/13/16 mbufs in use (current/cache/total)",
      "0/0/0/1024 mbuf clusters in use (current/cache/total/max)",
      "0/0 mbuf+clusters out of packet secondary zone in use (current/cache)",
      "1/0/1/512 4k (page size) jumbo clusters in use (current/cache/total/max)",
      "1/3/4/151 9k jumbo clusters in use (current/cache/total/max)",
      "1/0/1/85 16k jumbo clusters in use (current/cache/total/max)",
      "29K/30K/60K bytes allocated to network (current/cache/total)",
      "0/0/0 requests for mbufs denied (mbufs/clusters/mbuf+clusters)",
      "0/0/0 requests for mbufs delayed (mbufs/clusters/mbuf+clusters)",
      "0/0/0 requests for jumbo clusters delayed (4k/9k/16k)",
      "0/0/0 requests for jumbo clusters denied (4k/9k/16k)",
      "",
    ]);
    expect(pool.vmstatZ().split("\n").slice(0, 8)).toEqual([
      "ITEM                   SIZE  LIMIT     USED     FREE      REQ FAIL SLEEP",
      "",
      "mbuf_packet:            256,      0,       0,       0,       0,   0,   0",
      "mbuf:                   256,   6553,       3,      13,       4,   0,   0",
      "mbuf_cluster:          2048,   1024,       0,       0,       0,   0,   0",
      "mbuf_jumbo_page:       4096,    512,       1,       0,       1,   0,   0",
      "mbuf_jumbo_9k:         9216,    151,       1,       3,       2,   0,   0",
      "mbuf_jumbo_16k:       16384,     85,       1,       0,       1,   0,   0",
    ]);
    const s = pool.stats();
    expect(s.arena.zonePages).toBe(1 + 1 + 9 + 4);
    const j = JSON.parse(pool.netstat({ format: "json" }));
    expect(j.jumbo.nine).toMatchObject({ sizeBytes: 9216, limit: 151, inUse: 1, cache: 3, total: 4, pages: 9 });
    expect(j.network).toEqual({ inUseBytes: 30464, cacheBytes: 30976, totalBytes: 61440 });
    const text = await pool.metrics();
    expect(text).toMatch(/mbufpool_zone_in_use_items\{[^}]*zone="jumbo_9k"[^}]*\} 1/);
    expect(text).toMatch(/mbufpool_zone_pages\{[^}]*zone="jumbo_16k"[^}]*\} 4/);
    const out = pool.outstanding();
    expect(out.clusters).toBe(3); // jumbo clusters are clusters to the leak report
    pool.freem(a);
    pool.freem(b);
    pool.freem(c);
  });
});

describe("the fuzzer's jumbo ops against the reference model", () => {
  it("find no divergence on the freebsd profile, nor on the others (where getjcl is getcl)", () => {
    for (const profile of [undefined, "freebsd"] as const) {
      const r = fuzz({ seed: 3, ops: 15_000, build: BUILD, jumbo: true, profile });
      expect(r.failure?.message).toBeUndefined();
      expect(r.failures).toBe(0);
    }
  });

  it("catch a getjcl that hands out a 2 KiB cluster for a jumbo size", () => {
    const factory = (o: PoolOptions): Pool => {
      const p = Pool.create(o);
      const getjcl = p.getjcl.bind(p);
      (p as { getjcl: Pool["getjcl"] }).getjcl = (how, type, flags, size) =>
        (Number.isInteger(size) && size > 2048 && size <= 16384 && p.layout.jumbo ? p.getcl(how, type, flags) : getjcl(how, type, flags, size));
      return p;
    };
    const r = fuzz({ seed: 3, ops: 50_000, build: BUILD, jumbo: true, profile: "freebsd", factory, badRate: 0 });
    expect(r.failures).toBe(1);
    expect(replay(r.failure!.trace, { build: BUILD }).ok).toBe(true);
    expect(replay(r.failure!.trace, { build: BUILD, factory }).ok).toBe(false);
  });
});

describe("the audit", () => {
  const pool = (): Pool => Pool.create({ build: BUILD, profile: "freebsd", tunables: { "kern.ipc.maxmbufmem": 4 * 1024 * 1024 } });

  it("checks a jumbo cluster's ext size and bounds against its zone", () => {
    const p = pool();
    const m = p.getjcl(M_NOWAIT, MT.DATA, M_PKTHDR, MJUM9BYTES);
    p.append(m, pattern(100));
    const u32 = new Uint32Array(p.buffer);
    const sizeAt = (m + 40 + 4) >>> 2; // ext_size, after the packet header
    expect(u32[sizeAt]).toBe(MJUM9BYTES);
    u32[sizeAt] = 2048;
    expect(p.audit().code).toBe(14);
    u32[sizeAt] = MJUM9BYTES;
    expect(p.audit().ok).toBe(true);
    u32[(m + 12) >>> 2] = MJUM9BYTES + 1; // m_len past the cluster's end
    expect(p.audit().code).toBe(15);
    u32[(m + 12) >>> 2] = u32[(m + 32) >>> 2] = MJUM9BYTES; // m_len and pkthdr.len: a full cluster is within bounds
    expect(p.audit().ok).toBe(true);
    u32[(m + 12) >>> 2] = u32[(m + 32) >>> 2] = 100;
    p.freem(m);
    expect(p.audit().ok).toBe(true);
    p.close();
  });

  it(`${BUILD === "debug" ? "reports" : "does not check (release)"} a write after free into a freed 16k cluster`, () => {
    const p = pool();
    const m = p.getjcl(M_NOWAIT, MT.DATA, 0, MJUM16BYTES);
    const c = new Uint32Array(p.buffer)[(m + 8) >>> 2];
    p.freem(m);
    new Uint32Array(p.buffer)[(c + 16000) >>> 2] = 7; // on the slab's last page
    const a = p.audit();
    expect(a.code).toBe(BUILD === "debug" ? 24 : 0);
    if (BUILD === "debug") expect(a.addr).toBe(c);
    p.close();
  });
});
