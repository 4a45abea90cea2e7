// Property test: random operation sequences against a small reference model.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { MT, M_NOWAIT, M_WAITOK, M_RECV, M_PKTHDR, type Pool } from "mbufpool";
import { clgetStep, makePool, pickLive } from "./helpers.js";

type Op =
  | { k: "get"; type: number; hdr: boolean; wait: boolean }
  | { k: "getcl"; type: number; recv: boolean }
  | { k: "clget"; i: number; recv: boolean }
  | { k: "free"; i: number }
  | { k: "freeTwice"; i: number }
  | { k: "bulkGet"; n: number; cluster: boolean }
  | { k: "bulkFree"; n: number }
  | { k: "chtype"; i: number; type: number }
  | { k: "reserve"; on: boolean }
  | { k: "reclaim" };

const type = fc.integer({ min: 1, max: 15 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant("get" as const), type, hdr: fc.boolean(), wait: fc.boolean() }),
  fc.record({ k: fc.constant("getcl" as const), type, recv: fc.boolean() }),
  fc.record({ k: fc.constant("clget" as const), i: fc.nat(), recv: fc.boolean() }),
  fc.record({ k: fc.constant("free" as const), i: fc.nat() }),
  fc.record({ k: fc.constant("freeTwice" as const), i: fc.nat() }),
  fc.record({ k: fc.constant("bulkGet" as const), n: fc.integer({ min: 0, max: 40 }), cluster: fc.boolean() }),
  fc.record({ k: fc.constant("bulkFree" as const), n: fc.integer({ min: 0, max: 40 }) }),
  fc.record({ k: fc.constant("chtype" as const), i: fc.nat(), type }),
  fc.record({ k: fc.constant("reserve" as const), on: fc.boolean() }),
  fc.record({ k: fc.constant("reclaim" as const) }),
);

/** What the model knows of each live mbuf. */
interface Live { type: number; cluster: boolean }

/** The reference model: live mbufs, limits and the counters they imply. */
class Model {
  live = new Map<number, Live>();
  denied = { mbuf: 0, cluster: 0 };
  delayed = { mbuf: 0, cluster: 0 };
  reserved = false;
  constructor(readonly nmbufs: number, readonly nmbclusters: number) {}
  get clusters(): number {
    let n = 0;
    for (const l of this.live.values()) if (l.cluster) n++;
    return n;
  }
  census(): number[] {
    const c = new Array(16).fill(0);
    for (const l of this.live.values()) c[l.type]++;
    return c;
  }
  fail(zone: "mbuf" | "cluster", wait: boolean): void {
    if (wait) this.delayed[zone]++;
    else this.denied[zone]++;
  }
  /** Predicts an mbuf(+cluster) allocation; true if it succeeds. */
  predict(cluster: boolean, recv: boolean, wait: boolean): boolean {
    if (this.live.size >= this.nmbufs) {
      this.fail("mbuf", wait);
      return false;
    }
    if (cluster && ((this.reserved && !recv) || this.clusters >= this.nmbclusters)) {
      this.fail("cluster", wait);
      return false;
    }
    return true;
  }
}

function run(pool: Pool, model: Model, ops: Op[]): void {
  const out = new Int32Array(64);
  for (const o of ops) {
    switch (o.k) {
      case "get": {
        const ok = model.predict(false, false, o.wait);
        const how = o.wait ? M_WAITOK : M_NOWAIT;
        const m = o.hdr ? pool.gethdr(how, o.type) : pool.get(how, o.type);
        expect(m > 0).toBe(ok);
        if (m) model.live.set(m, { type: o.type, cluster: false });
        break;
      }
      case "getcl": {
        const ok = model.predict(true, o.recv, false);
        const m = pool.getcl(M_NOWAIT | (o.recv ? M_RECV : 0), o.type, M_PKTHDR);
        expect(m > 0).toBe(ok);
        if (m) model.live.set(m, { type: o.type, cluster: true });
        break;
      }
      case "clget":
        clgetStep(pool, model.live, pickLive(model.live, o.i), M_NOWAIT | (o.recv ? M_RECV : 0), () => {
          const ok = !(model.reserved && !o.recv) && model.clusters < model.nmbclusters;
          if (!ok) model.fail("cluster", false);
          return ok;
        });
        break;
      case "free": {
        const m = pickLive(model.live, o.i);
        if (m === undefined) break;
        expect(pool.free(m)).toBe(0);
        model.live.delete(m);
        break;
      }
      case "freeTwice": {
        const m = pickLive(model.live, o.i);
        if (m === undefined) break;
        pool.freem(m);
        model.live.delete(m);
        expect(() => pool.free(m)).toThrow(/EDOUBLEFREE|EBADHANDLE/);
        break;
      }
      case "bulkGet": {
        let expectN = 0;
        for (let i = 0; i < o.n; i++) {
          if (!model.predict(o.cluster, false, false)) break;
          expectN++;
          model.live.set(-1 - i, { type: MT.DATA, cluster: o.cluster }); // placeholder, replaced below
        }
        for (let i = 0; i < expectN; i++) model.live.delete(-1 - i);
        const got = pool.getBulk(out, o.n, M_NOWAIT, MT.DATA, { cluster: o.cluster });
        expect(got).toBe(expectN);
        for (let i = 0; i < got; i++) model.live.set(out[i], { type: MT.DATA, cluster: o.cluster });
        break;
      }
      case "bulkFree": {
        const hs = [...model.live.keys()].slice(0, o.n);
        pool.freemBulk(hs);
        for (const h of hs) model.live.delete(h);
        break;
      }
      case "chtype": {
        const m = pickLive(model.live, o.i);
        if (m === undefined) break;
        pool.chtype(m, o.type);
        model.live.get(m)!.type = o.type;
        break;
      }
      case "reserve":
        pool.setReserved(o.on);
        model.reserved = o.on;
        break;
      case "reclaim":
        pool.reclaim("cluster");
        pool.reclaim("mbuf");
        break;
    }
    const s = pool.stats();
    expect(s.mbufs.current).toBe(model.live.size);
    expect(s.clusters.current).toBe(model.clusters);
  }
  const s = pool.stats();
  expect(s.census).toEqual(model.census());
  expect(s.mbufs.denied).toBe(model.denied.mbuf);
  expect(s.clusters.denied).toBe(model.denied.cluster);
  expect(s.mbufs.delayed).toBe(model.delayed.mbuf);
  expect(s.clusters.delayed).toBe(model.delayed.cluster);
  expect(pool.audit().message).toBe("clean");
  // Freeing everything brings the pool back to nothing in use.
  pool.freemBulk([...model.live.keys()]);
  expect(pool.stats().mbufs.current).toBe(0);
  expect(pool.stats().clusters.current).toBe(0);
}

describe("the pool against a reference model", () => {
  for (const profile of ["freebsd", "freebsd4"] as const) {
    it(`agrees on every random sequence (${profile})`, () => {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
          const tunables = profile === "freebsd"
            ? { "kern.ipc.maxmbufmem": 256 * 1024, "kern.ipc.nmbclusters": 13, "kern.ipc.nmbufs": 50 }
            : { "kern.ipc.nmbclusters": 13, "kern.ipc.nmbufs": 50 };
          const pool = makePool({ profile, tunables });
          run(pool, new Model(50, 13), ops);
        }),
        { numRuns: 150 },
      );
    });
  }
});
