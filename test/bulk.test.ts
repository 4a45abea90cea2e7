// The bulk forms' one-pass core loops (mbuf_alloc_run, mbuf_free_run) against
// the single calls they stand for: the same handles, headers and counters,
// with the packet zone (whole pairs are parked, getcl may be served from the
// cache), sockets and chains (never freeable by the host) and waiters.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { VirtualClock, MbufError, MT, M_NOWAIT, M_WAITOK, M_PKTHDR, type Pool, type PoolStats } from "mbufpool";
import { makePool } from "./helpers.js";

/** A modern FreeBSD pool with the packet zone on and no balancing timer. */
const packetPool = (mbytes = 4) =>
  makePool({
    profile: "freebsd",
    clock: new VirtualClock(),
    tunables: { "kern.ipc.maxmbufmem": mbytes << 20 },
    packetZone: { mode: "median", interval: 0 },
  });

/** Everything a report shows that bulk and single calls must agree on. */
function reported(st: PoolStats) {
  return { mbufs: st.mbufs, clusters: st.clusters, packets: st.packets, census: st.census };
}

describe("bulk forms", () => {
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

  it("a bulk free parks whole mbuf+cluster pairs as freem does, and a bulk getcl takes them back", () => {
    const a = packetPool(), b = packetPool();
    const out = new Int32Array(48);
    for (let round = 0; round < 3; round++) {
      // Pairs from getcl (packet-zone items) and from get + clget (they join the zone when parked).
      expect(a.getBulk(out, 32, M_NOWAIT, MT.DATA, { cluster: true, pkthdr: true })).toBe(32);
      const singles = Array.from({ length: 32 }, () => b.getcl(M_NOWAIT, MT.DATA, M_PKTHDR));
      expect(Array.from(out.subarray(0, 32))).toEqual(singles);
      for (let i = 32; i < 48; i++) {
        out[i] = a.get();
        expect(a.clget(out[i])).toBe(true);
        singles.push(b.get());
        expect(b.clget(singles[i])).toBe(true);
      }
      expect(Array.from(out)).toEqual(singles);
      a.freemBulk(out);
      for (const m of singles) b.freem(m);
      expect(reported(a.stats())).toEqual(reported(b.stats()));
      expect(a.stats().packets.cache).toBeGreaterThan(0);
      expect(a.stats().mbufs.current + a.stats().clusters.current).toBe(0);
    }
  });

  it("a bulk free refuses a socket or an mbuf inside a chain and frees nothing of the batch", () => {
    const pool = packetPool();
    const so = pool.socreate();
    const tail = pool.get(), lone = pool.getcl();
    const head = pool.prepend(tail, 8); // no leading space: a new head, `tail` linked behind it
    expect(head).not.toBe(tail);
    const before = reported(pool.stats());
    for (const batch of [[lone, so], [lone, tail]]) {
      let err: unknown;
      try {
        pool.freemBulk(batch);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MbufError);
      expect((err as MbufError).code).toBe("EBUSY");
      expect(reported(pool.stats())).toEqual(before);
      expect(pool.audit().message).toBe("clean");
    }
    pool.freemBulk(new Int32Array([lone, head]));
    pool.soclose(so);
    expect(pool.stats().mbufs.current).toBe(0);
  });

  it("a bulk free serves a waiter", async () => {
    const pool = makePool({
      profile: "freebsd", clock: new VirtualClock(),
      tunables: { "kern.ipc.maxmbufmem": 1 << 20, "kern.ipc.nmbclusters": 2 },
    });
    const held: number[] = [];
    for (let m = pool.getcl(); m; m = pool.getcl()) held.push(m);
    const w = pool.getclWait(M_WAITOK, MT.DATA, M_PKTHDR, { timeout: 1000 });
    await new Promise((r) => setImmediate(r));
    expect(pool.stats().waits.waiting).toBe(1);
    pool.freemBulk(held);
    const m = await w;
    expect(m).toBeGreaterThan(0);
    expect(pool.stats().waits).toMatchObject({ waiting: 0, served: 1 });
    pool.freem(m);
  });

  it("bulkArea(): handles stay in place, and after memory grew they are in the area taken again", () => {
    const p = makePool({ profile: "freebsd", tunables: { "kern.ipc.maxmbufmem": 4 << 20 } }); // not pinned: memory grows
    const area = p.bulkArea();
    expect(area).toBeInstanceOf(Int32Array);
    expect(area.length).toBe(p.bulkMax);
    const before = p.buffer;
    const got = p.getBulk(area, 200, M_NOWAIT, MT.DATA, { cluster: true, pkthdr: true });
    expect(got).toBe(200);
    // Carving pages for 200 clusters grew memory: the old view is detached, the handles are not lost.
    expect(p.buffer).not.toBe(before);
    expect(area.length).toBe(0);
    const again = p.bulkArea();
    const handles = Array.from(again.subarray(0, got));
    expect(new Set(handles).size).toBe(200);
    expect(p.stats().mbufs.current).toBe(200);
    // Freed in place: the area already holds them.
    p.freemBulk(again, got);
    expect(p.stats().mbufs.current).toBe(0);
    expect(p.audit().message).toBe("clean");
  });

  it("random bulk sequences give what the same single calls give (handles, counters, packet zone)", () => {
    type Op = { kind: "get"; n: number; cluster: boolean; pkthdr: boolean } | { kind: "free"; pick: number[] };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant("get" as const), n: fc.integer({ min: 0, max: 80 }), cluster: fc.boolean(), pkthdr: fc.boolean() }),
      fc.record({ kind: fc.constant("free" as const), pick: fc.array(fc.nat(), { maxLength: 80 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        // 1 MiB: 128 clusters, so long runs exhaust the pool and count denials.
        // c does what a does, in place: through bulkArea(), taken again after every call.
        const a = packetPool(1), b = packetPool(1), c = packetPool(1);
        const liveA: number[] = [], liveB: number[] = [], liveC: number[] = [];
        const out = new Int32Array(80);
        for (const o of ops) {
          if (o.kind === "get") {
            const got = a.getBulk(out, o.n, M_NOWAIT, MT.DATA, { cluster: o.cluster, pkthdr: o.pkthdr });
            liveA.push(...out.subarray(0, got));
            const gotC = c.getBulk(c.bulkArea(), o.n, M_NOWAIT, MT.DATA, { cluster: o.cluster, pkthdr: o.pkthdr });
            liveC.push(...c.bulkArea().subarray(0, gotC));
            for (let i = 0; i < o.n; i++) {
              const m = o.cluster ? b.getcl(M_NOWAIT, MT.DATA, o.pkthdr ? M_PKTHDR : 0)
                : o.pkthdr ? b.gethdr(M_NOWAIT, MT.DATA) : b.get(M_NOWAIT, MT.DATA);
              if (!m) break;
              liveB.push(m);
            }
          } else {
            const idx = [...new Set(o.pick.filter((i) => i < liveA.length))].sort((x, y) => y - x);
            const batch = idx.map((i) => liveA.splice(i, 1)[0]);
            a.freemBulk(batch);
            for (const i of idx) b.freem(liveB.splice(i, 1)[0]);
            const area = c.bulkArea();
            idx.forEach((i, k) => (area[k] = liveC.splice(i, 1)[0]));
            c.freemBulk(area, idx.length);
          }
          expect(liveA).toEqual(liveB);
          expect(liveC).toEqual(liveA);
        }
        expect(reported(a.stats())).toEqual(reported(b.stats()));
        expect(reported(c.stats())).toEqual(reported(a.stats()));
        expect(a.audit().message).toBe("clean");
        expect(c.audit().message).toBe("clean");
        a.freemBulk(liveA);
        for (const m of liveB) b.freem(m);
        c.freemBulk(liveC);
        expect(reported(a.stats())).toEqual(reported(b.stats()));
        expect(reported(c.stats())).toEqual(reported(a.stats()));
      }),
      { numRuns: 60 },
    );
  });
});
