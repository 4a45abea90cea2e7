// Receive without a copy: tailspace() + commit() against append().
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { makePool } from "./helpers.js";
import { MHLEN, M_PKTHDR, MT, M_NOWAIT } from "mbufpool";

describe("tailspace and commit", () => {
  it("makes bytes written into the trailing space data, keeping pkthdr.len (the audit checks it)", () => {
    const pool = makePool();
    const m = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
    const tail = pool.tailspace(m);
    expect(tail.length).toBe(pool.mclbytes);
    tail.set([1, 2, 3, 4, 5]);
    pool.commit(m, 5);
    expect(Array.from(pool.copydata(m))).toEqual([1, 2, 3, 4, 5]);
    expect(pool.tailspace(m).length).toBe(pool.mclbytes - 5);
    expect(pool.audit().ok).toBe(true);
    pool.freem(m);
  });

  it("refuses more than the trailing space, a negative length, a non-head, a shared cluster's space", () => {
    const pool = makePool();
    const m = pool.gethdr();
    expect(pool.tailspace(m).length).toBe(MHLEN);
    expect(() => pool.commit(m, MHLEN + 1)).toThrow(expect.objectContaining({ code: "ERANGE" }));
    expect(() => pool.commit(m, -1)).toThrow(expect.objectContaining({ code: "ERANGE" }));
    expect(() => pool.commit(m, 1.5)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => pool.commit(m, 2 ** 32)).toThrow(expect.objectContaining({ code: "ERANGE" }));
    const so = pool.socreate();
    pool.append(m, Uint8Array.of(1, 2, 3));
    expect(pool.sbappend(so, "rcv", m)).toBe(true);
    expect(() => pool.commit(pool.sbstat(so, "rcv").mb, 0)).toThrow(expect.objectContaining({ code: "EBUSY" }));
    expect(() => pool.tailspace(pool.sbstat(so, "rcv").mb)).toThrow(expect.objectContaining({ code: "EBUSY" }));
    pool.soclose(so);
    expect(() => pool.commit(m, 0)).toThrow(expect.objectContaining({ code: "EDOUBLEFREE" }));
    expect(() => pool.tailspace(12345)).toThrow(expect.objectContaining({ code: "EBADHANDLE" }));
    const c = pool.getcl();
    pool.append(c, new Uint8Array(10));
    const shared = pool.copym(c);
    expect(pool.tailspace(c).length).toBe(0);
    expect(() => pool.commit(c, 1)).toThrow(expect.objectContaining({ code: "ERANGE" }));
    pool.freem(shared);
    pool.freem(c);
  });

  it("commits into the last mbuf of a chain, as append would place the bytes (model)", () => {
    const pool = makePool();
    fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 3000 }), { maxLength: 6 }), (pieces) => {
      const a = pool.gethdr(), b = pool.gethdr();
      try {
        for (const p of pieces) {
          expect(pool.append(a, p)).toBe(true);
          // Fill b's trailing space first (no copy), the rest by append.
          const tail = pool.tailspace(b), k = Math.min(tail.length, p.length);
          tail.set(p.subarray(0, k));
          pool.commit(b, k);
          if (k < p.length) expect(pool.append(b, p.subarray(k))).toBe(true);
        }
        expect(pool.length(b)).toBe(pool.length(a));
        expect(Buffer.from(pool.copydata(b)).equals(Buffer.from(pool.copydata(a)))).toBe(true);
        expect(pool.audit().ok).toBe(true);
      } finally {
        pool.freem(a);
        pool.freem(b);
      }
    }), { numRuns: 60 });
  });
});

describe("sbtake", () => {
  it("moves whole mbufs out of a socket buffer: the bytes in order, nothing allocated, sb_cc and the audit right (model)", () => {
    const pool = makePool();
    fc.assert(fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 2500 }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 6000 }), { minLength: 1, maxLength: 12 }),
      (pieces, takes) => {
        const so = pool.socreate({ rcvHiwat: 65536 });
        try {
          const model: number[] = [];
          for (const p of pieces) {
            const m = pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
            pool.tailspace(m).set(p.subarray(0, Math.min(p.length, pool.mclbytes)));
            pool.commit(m, Math.min(p.length, pool.mclbytes));
            expect(pool.sbappend(so, "rcv", m)).toBe(true);
            model.push(...p.subarray(0, Math.min(p.length, pool.mclbytes)));
          }
          let off = 0;
          for (const max of takes) {
            const allocs = pool.stats().mbufs.allocs;
            const c = pool.sbtake(so, "rcv", max);
            expect(pool.stats().mbufs.allocs).toBe(allocs);
            if (c === 0) continue;
            const got = Array.from(pool.copydata(c));
            expect(got.length).toBeLessThanOrEqual(max);
            expect(got).toEqual(model.slice(off, off + got.length));
            off += got.length;
            expect(pool.sbstat(so, "rcv").cc).toBe(model.length - off);
            expect(pool.audit().message).toBe("clean");
            pool.freem(c);
          }
          expect(pool.audit().message).toBe("clean");
        } finally {
          pool.soclose(so);
        }
      }), { numRuns: 80 });
  });

  it("refuses a bad max or socket", () => {
    const pool = makePool();
    const so = pool.socreate();
    expect(pool.sbtake(so, "rcv")).toBe(0);
    expect(() => pool.sbtake(so, "rcv", 0)).toThrow(expect.objectContaining({ code: "ERANGE" }));
    expect(() => pool.sbtake(so, "rcv", 1.5)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    const m = pool.gethdr();
    expect(() => pool.sbtake(m, "rcv", 1)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    pool.freem(m);
    pool.soclose(so);
  });
});

describe("the raw receive entry points", () => {
  it("m_tailptr, m_commit and sbtake never trap, whatever integers they are given, and leave the audit clean", () => {
    const pool = makePool({ profile: "freebsd4", tunables: { "kern.ipc.nmbclusters": 32, "kern.ipc.nmbufs": 128 } });
    const ex = pool.core as unknown as Record<string, (...a: number[]) => number>;
    const m = pool.gethdr();
    pool.append(m, new Uint8Array(3000));
    const inner = pool.getptr(m, 2999).m;
    const so = pool.socreate({ pcb: true });
    pool.sbwrite(so, "rcv", new Uint8Array(2500));
    const sb = pool.sbstat(so, "rcv").mb;
    const values = [0, 1, -1, 4, 7, 216, 2048, 3000, 2 ** 31 - 1, -(2 ** 31), m, m + 4, m + 256, inner, so, so + 32, sb];
    const v = fc.constantFrom(...values);
    fc.assert(fc.property(fc.constantFrom("m_tailptr", "m_commit", "sbtake"), v, v, v, (fn, a, b, c) => {
      const r = ex[fn](a, b, c);
      expect(Number.isInteger(r)).toBe(true);
      if (fn === "sbtake" && r > 0) {
        // Whatever was taken goes back into the socket buffer (or is freed if it no longer fits).
        if (!pool.sbappend(so, "rcv", r)) pool.freem(r);
      }
    }), { numRuns: 2000 });
    expect(pool.audit().message).toBe("clean");
    pool.freem(m);
    pool.soclose(so);
  });
});
