import { describe, it, expect } from "vitest";
import { MT, M_NOWAIT, M_WAITOK, M_PKTHDR, MLEN, MHLEN } from "mbufpool";
import { makePool, code } from "./helpers.js";

describe("allocation", () => {
  it("gets and frees mbufs of each kind, keeping the census", () => {
    const pool = makePool();
    const a = pool.get(M_NOWAIT, MT.DATA);
    const b = pool.gethdr(M_NOWAIT, MT.HEADER);
    const c = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
    const d = pool.get(M_NOWAIT, MT.SOCKET);
    expect([a, b, c, d].every((m) => m > 0)).toBe(true);
    expect(new Set([a, b, c, d]).size).toBe(4);
    expect(pool.clget(d)).toBe(true);
    let s = pool.stats();
    expect(s.mbufs.current).toBe(4);
    expect(s.clusters.current).toBe(2);
    expect(s.census[MT.DATA]).toBe(2);
    expect(s.census[MT.HEADER]).toBe(1);
    expect(s.census[MT.SOCKET]).toBe(1);
    expect(pool.free(a)).toBe(0);
    pool.freem(b);
    pool.freem(c);
    pool.freem(d);
    s = pool.stats();
    expect(s.mbufs.current).toBe(0);
    expect(s.clusters.current).toBe(0);
    expect(s.census.slice(1).every((n) => n === 0)).toBe(true);
    expect(s.mbufs.allocs).toBe(4);
    expect(s.mbufs.frees + s.packets.parked).toBe(4); // whole mbuf+cluster pairs are parked in the packet zone
  });

  it("exports the 4.4BSD data sizes", () => {
    expect(MLEN).toBe(224);
    expect(MHLEN).toBe(216);
  });

  it("changes types with chtype and keeps the census", () => {
    const pool = makePool();
    const m = pool.get();
    pool.chtype(m, MT.PCB);
    expect(pool.stats().census[MT.PCB]).toBe(1);
    expect(pool.stats().census[MT.DATA]).toBe(0);
    expect(code(() => pool.chtype(m, 0))).toBe("EINVAL");
    expect(code(() => pool.chtype(m, 16))).toBe("EINVAL");
    pool.free(m);
  });

  it("refuses a second cluster and an mbuf already holding one", () => {
    const pool = makePool();
    const m = pool.getcl();
    expect(code(() => pool.clget(m))).toBe("EINVAL");
    pool.freem(m);
  });

  it("refuses bad how, type and flags with EINVAL and allocates nothing", () => {
    const pool = makePool();
    for (const how of [0, 3, 4, -1, 0x200, 1.5, NaN]) expect(code(() => pool.get(how))).toBe("EINVAL");
    for (const type of [0, 16, -1, 9.5, 2 ** 31 - 1]) expect(code(() => pool.get(M_NOWAIT, type))).toBe("EINVAL");
    for (const flags of [1, 4, 0x100, -1]) expect(code(() => pool.getcl(M_NOWAIT, MT.DATA, flags))).toBe("EINVAL");
    expect(code(() => pool.get("1" as unknown as number))).toBe("EINVAL");
    expect(pool.stats().mbufs.current).toBe(0);
  });
});

describe("invalid handles", () => {
  it("reports a double free in O(1) as EDOUBLEFREE", () => {
    const pool = makePool();
    const m = pool.get();
    pool.free(m);
    expect(code(() => pool.free(m))).toBe("EDOUBLEFREE");
    expect(code(() => pool.freem(m))).toBe("EDOUBLEFREE");
    expect(code(() => pool.clget(m))).toBe("EDOUBLEFREE");
  });

  it("refuses every kind of bad handle with EBADHANDLE and leaves the pool intact", () => {
    const pool = makePool();
    const m = pool.getcl();
    const other = pool.get();
    const s = pool.stats();
    // The cluster of `m` is inside the arena but in the cluster zone.
    const bad = [0, -1, 1, 8, m + 4, m + 128, m - 4, other + 1, 2 ** 31 - 1, -(2 ** 31), m + 2 ** 32, 1.5, NaN, Infinity,
      m + 256 * 64 /* beyond carved pages */];
    for (const h of bad) {
      for (const op of [() => pool.free(h), () => pool.freem(h), () => pool.clget(h), () => pool.chtype(h, 1)]) {
        expect(code(op)).toBe("EBADHANDLE");
      }
    }
    const wrongTypes = ["1", {}, null, undefined, 10n];
    for (const h of wrongTypes) expect(code(() => pool.free(h as unknown as number))).toBe("EBADHANDLE");
    expect(pool.stats().mbufs).toEqual(s.mbufs);
    pool.freem(m);
    pool.free(other);
  });

  it("refuses a cluster address (wrong zone)", () => {
    const pool = makePool();
    const m = pool.getcl();
    const view = new DataView(pool.buffer);
    const data = view.getUint32(m + 8, true); // m_data points at the cluster
    expect(code(() => pool.free(data))).toBe("EBADHANDLE");
    pool.freem(m);
  });
});

describe("exhaustion", () => {
  it("returns 0, counts denied, and recovers when buffers come back", () => {
    const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 8, "kern.ipc.nmbufs": 32 } });
    const held: number[] = [];
    for (let i = 0; i < 8; i++) held.push(pool.getcl());
    expect(held.every((m) => m > 0)).toBe(true);
    expect(pool.getcl()).toBe(0);
    expect(pool.getcl()).toBe(0);
    let s = pool.stats();
    expect(s.clusters.denied).toBe(2);
    expect(s.mbufs.current).toBe(8); // the mbuf of each failed getcl went back
    pool.freem(held.pop()!);
    const again = pool.getcl();
    expect(again).toBeGreaterThan(0);
    held.push(again);
    for (const m of held) pool.freem(m);
    s = pool.stats();
    expect(s.clusters.current).toBe(0);
  });

  it("counts a failed M_WAITOK request as delayed", () => {
    const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 2, "kern.ipc.nmbufs": 8 } });
    const a = pool.getcl(), b = pool.getcl();
    expect(pool.getcl(M_WAITOK)).toBe(0);
    expect(pool.stats().clusters.delayed).toBe(1);
    expect(pool.stats().clusters.denied).toBe(0);
    pool.countWaitFailed("cluster");
    expect(pool.stats().clusters.denied).toBe(1);
    pool.freem(a);
    pool.freem(b);
  });

  it("never gives more mbufs than nmbufs", () => {
    const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 10, "kern.ipc.nmbufs": 21 } });
    const held: number[] = [];
    for (let m = pool.get(); m; m = pool.get()) held.push(m);
    expect(held.length).toBe(21);
    expect(pool.stats().mbufs.denied).toBe(1);
    for (const m of held) pool.free(m);
  });
});

describe("bulk", () => {
  it("allocates and frees in bulk, across several core calls", () => {
    const pool = makePool();
    const out = new Int32Array(3000);
    expect(pool.getBulk(out, 3000)).toBe(3000);
    expect(new Set(out).size).toBe(3000);
    expect(pool.stats().mbufs.current).toBe(3000);
    pool.freemBulk(out);
    expect(pool.stats().mbufs.current).toBe(0);
    const cl = new Int32Array(64);
    expect(pool.getBulk(cl, 64, M_NOWAIT, MT.DATA, { cluster: true, pkthdr: true })).toBe(64);
    expect(pool.stats().clusters.current).toBe(64);
    pool.freemBulk(cl);
    expect(pool.stats().clusters.current).toBe(0);
  });

  it("stops at exhaustion and reports how many it got", () => {
    const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 5, "kern.ipc.nmbufs": 20 } });
    const out = new Int32Array(10);
    expect(pool.getBulk(out, 10, M_NOWAIT, MT.DATA, { cluster: true })).toBe(5);
    expect(pool.stats().clusters.denied).toBe(1);
    pool.freemBulk(out, 5);
  });

  it("frees nothing of a batch with a bad or repeated handle", () => {
    const pool = makePool();
    const out = new Int32Array(4);
    pool.getBulk(out);
    const before = pool.stats().mbufs.current;
    expect(code(() => pool.freemBulk([out[0], out[1], out[1], out[2]]))).toBe("EDOUBLEFREE");
    expect(code(() => pool.freemBulk([out[0], 12345]))).toBe("EBADHANDLE");
    expect(code(() => pool.freemBulk([out[0], 1.5]))).toBe("EBADHANDLE");
    expect(pool.stats().mbufs.current).toBe(before);
    pool.freemBulk(out);
    expect(code(() => pool.freemBulk([out[0]]))).toBe("EDOUBLEFREE");
  });

  it("refuses a count larger than its array", () => {
    const pool = makePool();
    expect(code(() => pool.getBulk(new Int32Array(2), 3))).toBe("EINVAL");
    expect(code(() => pool.freemBulk([1], 2))).toBe("EINVAL");
  });
});

describe("lifecycle", () => {
  it("throws ECLOSED after close", () => {
    const pool = makePool();
    pool.close();
    expect(code(() => pool.get())).toBe("ECLOSED");
  });

  it("keeps one buffer when pinned", () => {
    const pool = makePool({ profile: "freebsd4", pinned: true });
    const buf = pool.buffer;
    const held: number[] = [];
    for (let m = pool.getcl(); m; m = pool.getcl()) held.push(m);
    expect(pool.buffer).toBe(buf);
    for (const m of held) pool.freem(m);
  });
});
