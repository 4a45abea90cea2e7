// Debug-build trash checks: a write after free is reported by the audit and
// counted when the damaged item is handed out; the release build does neither.
import { describe, it, expect } from "vitest";
import { Pool, M_NOWAIT, MT, M_PKTHDR } from "mbufpool";
import { BUILD, makePool } from "./helpers.js";

/** A pool this file audits itself (the damaged ones must not reach the shared afterEach). */
const damagedPool = (): Pool => Pool.create({ build: BUILD, profile: "freebsd4", tunables: { nmbclusters: 8, nmbufs: 32 } });
/** A FreeBSD pool, with or without its packet zone (on by default: freed mbuf+cluster pairs are parked). */
const freebsdPool = (packetZone: boolean): Pool => Pool.create({
  build: BUILD, profile: "freebsd", packetZone: packetZone ? { mode: "median", interval: 0 } : false,
  tunables: { "kern.ipc.maxmbufmem": 256 * 1024, "kern.ipc.nmbclusters": 8, "kern.ipc.nmbufs": 32 },
});

describe("write after free", () => {
  it(`${BUILD === "debug" ? "is reported" : "is not checked (release)"}: an mbuf`, () => {
    const pool = damagedPool();
    const m = pool.get(M_NOWAIT, MT.DATA);
    pool.free(m);
    new Uint8Array(pool.buffer)[m + 100] = 0x41; // the stray write
    const a = pool.audit();
    if (BUILD === "debug") {
      expect(a.code).toBe(24);
      expect(a.addr).toBe(m);
      expect(a.message).toMatch(/written after free/);
    } else {
      expect(a.ok).toBe(true);
    }
    // Handing the item out again is counted (debug) and the audit keeps reporting it.
    expect(pool.get(M_NOWAIT, MT.DATA)).toBe(m);
    expect(pool.stats().writeAfterFree).toBe(BUILD === "debug" ? 1 : 0);
    const b = pool.audit();
    if (BUILD === "debug") {
      expect(b.code).toBe(25);
      expect(b.addr).toBe(m);
    } else {
      expect(b.ok).toBe(true);
    }
    pool.close();
  });

  it(`${BUILD === "debug" ? "is reported" : "is not checked (release)"}: a cluster`, () => {
    const pool = damagedPool();
    const m = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
    const c = new Uint32Array(pool.buffer)[(m + 8) >>> 2]; // m_data = the cluster
    pool.freem(m);
    new Uint32Array(pool.buffer)[(c + 2040) >>> 2] = 7;
    expect(pool.audit().code).toBe(BUILD === "debug" ? 24 : 0);
    pool.close();
  });

  it(`${BUILD === "debug" ? "is reported" : "is not checked (release)"}: an mbuf+cluster pair on a pool without a packet zone`, () => {
    const pool = freebsdPool(false);
    const m = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
    const c = new Uint32Array(pool.buffer)[(m + 8) >>> 2];
    pool.freem(m); // both go back to their zones, poisoned
    expect(pool.stats().clusters.cache).toBe(pool.stats().clusters.total);
    new Uint32Array(pool.buffer)[(c + 1000) >>> 2] = 7;
    const a = pool.audit();
    expect(a.code).toBe(BUILD === "debug" ? 24 : 0);
    if (BUILD === "debug") expect(a.addr).toBe(c);
    pool.close();
  });

  it("a pair parked in the packet cache is no free item: reusing it is not reported as a write after free", () => {
    // A parked pair's mbuf holds a live attachment (M_EXT, ext_buf, ext_size) and
    // its cluster a reference: neither is on a freelist. The mbuf is not poisoned
    // (that would break the attachment); the cluster's data is, and a getcl that
    // takes the pair back from the cache finds it intact: no false report.
    const pool = freebsdPool(true);
    const m = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
    const c = new Uint32Array(pool.buffer)[(m + 8) >>> 2];
    new Uint8Array(pool.buffer).fill(0x5a, c, c + 64); // the owner's data
    pool.freem(m);
    const s = pool.stats();
    expect(s.packets.cache).toBe(1);
    expect(s.packets.parked).toBe(1);
    expect(s.mbufs.current).toBe(0);
    expect(s.clusters.current).toBe(0);
    expect(pool.audit().message).toBe("clean");
    const again = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR); // a cache hit: the same pair
    expect(pool.stats().packets.hits).toBe(1);
    expect(again).toBe(m);
    expect(new Uint32Array(pool.buffer)[(again + 8) >>> 2]).toBe(c);
    expect(pool.stats().writeAfterFree).toBe(0);
    expect(pool.audit().message).toBe("clean");
    pool.freem(again);
    pool.close();
  });

  it(`${BUILD === "debug" ? "is reported" : "is not checked (release)"}: the cluster of a pair parked in the packet cache`, () => {
    // The parked cluster's data is nobody's: poisoned when parked, checked when the pair is handed out (mb_dtor_pack/mb_ctor_pack).
    const pool = freebsdPool(true);
    const m = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
    const c = new Uint32Array(pool.buffer)[(m + 8) >>> 2];
    pool.freem(m);
    expect(pool.stats().packets.cache).toBe(1);
    new Uint32Array(pool.buffer)[(c + 1000) >>> 2] = 7; // a stray write through a stale pointer
    const a = pool.audit();
    expect(a.code).toBe(BUILD === "debug" ? 24 : 0);
    if (BUILD === "debug") expect(a.addr).toBe(c);
    expect(pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR)).toBe(m); // the same pair, from the cache
    expect(pool.stats().writeAfterFree).toBe(BUILD === "debug" ? 1 : 0);
    pool.close();
  });

  it("a damaged freelist link is cut, not followed (debug), and reported", () => {
    const pool = damagedPool();
    const a = pool.get(), b = pool.get();
    pool.free(a);
    pool.free(b); // b heads the freelist, its link points at a
    new Uint32Array(pool.buffer)[b >>> 2] = 0x10; // not an mbuf
    if (BUILD === "debug") {
      expect(pool.get()).toBe(b);
      expect(pool.stats().writeAfterFree).toBe(1);
      expect(pool.audit().ok).toBe(false);
    } else {
      expect(pool.audit().code).toBe(1); // the audit's bounded walk finds the bad link in any build
    }
    pool.close();
  });

  it("leaves every untouched pool clean: poison never trips on ordinary use", () => {
    const pool = makePool({ profile: "freebsd4", tunables: { nmbclusters: 8, nmbufs: 32 } });
    for (let round = 0; round < 3; round++) {
      const held: number[] = [];
      for (let i = 0; i < 40; i++) {
        const m = i % 2 ? pool.getcl() : pool.get();
        if (m) held.push(m);
      }
      for (const m of held) pool.freem(m);
    }
    expect(pool.stats().writeAfterFree).toBe(0);
  });
});

describe("drain routines that reach into the call that ran them", () => {
  it("clget: a drain that frees the very mbuf gets NULL, and the cluster goes back", () => {
    const pool = makePool({ profile: "freebsd", tunables: { "kern.ipc.nmbclusters": 2 } });
    const a = pool.getcl(), b = pool.getcl(); // every cluster in use
    const m = pool.get();
    pool.onDrain("frees m and a", (p) => {
      p.freem(m);
      p.freem(a);
    });
    expect(pool.clget(m)).toBe(false); // the retry found a's cluster, but m is gone
    const s = pool.stats();
    expect(s.mbufs.current).toBe(1);
    expect(s.clusters.current).toBe(1);
    expect(() => pool.free(m)).toThrow(/EDOUBLEFREE/);
    pool.freem(b);
  });

  it("bulk calls are refused inside a drain routine that a bulk call ran (they share the exchange area)", () => {
    const pool = makePool({ profile: "freebsd", tunables: { "kern.ipc.nmbclusters": 1 } });
    const a = pool.getcl();
    const errors: unknown[] = [];
    pool.on("drainError", (_name: string, e: unknown) => errors.push(e));
    pool.onDrain(() => pool.getBulk(new Int32Array(4), 4));
    pool.onDrain(() => pool.freemBulk([a]));
    const out = new Int32Array(3);
    expect(pool.getBulk(out, 3, M_NOWAIT, MT.DATA, { cluster: true })).toBe(0);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(["ESTATE", "ESTATE"]);
    pool.freem(a);
  });
});

describe("bounded walks", () => {
  it("a forged cyclic chain is freed once, not followed forever", () => {
    const pool = damagedPool();
    const a = pool.get(), b = pool.get();
    const u32 = new Uint32Array(pool.buffer), u16 = new Uint16Array(pool.buffer);
    u32[a >>> 2] = b; // a.m_next = b, b marked as linked (what set_next does)
    u16[(b + 18) >>> 1] |= 0x4000;
    u32[b >>> 2] = a; // and b.m_next = a: a cycle no API call can make
    pool.freem(a);
    const s = pool.stats();
    expect(s.mbufs.current).toBe(0);
    expect(s.mbufs.frees).toBe(2);
    expect(pool.audit().message).toBe("clean");
    pool.close();
  });

  it("a freelist made cyclic by a stray write is reported by the audit, not walked forever", () => {
    const pool = damagedPool();
    const a = pool.get(), b = pool.get();
    pool.free(a);
    pool.free(b); // freelist: b -> a -> ...
    new Uint32Array(pool.buffer)[a >>> 2] = b; // a -> b: a cycle
    const audit = pool.audit();
    expect(audit.ok).toBe(false);
    expect(audit.code).toBe(2); // a freelist longer than its count
    pool.close();
  });
});
