// User code inside an operation: listeners, the logger and drain routines may
// throw or call back into the pool, and the pool stays consistent; every path
// that gives buffers back serves waiters; a closed pool answers reads of its
// final state and refuses everything else with ECLOSED.
import { describe, it, expect, vi } from "vitest";
import { M_WAITOK, MT, VirtualClock, type Pool } from "mbufpool";
import { makePool, code, pattern } from "./helpers.js";

const small4 = { nmbclusters: 4, nmbufs: 16 };
/** Modern FreeBSD runs drain routines for every failed request (freebsd4 only for waiting mbuf requests). */
const drains = { profile: "freebsd", tunables: { "kern.ipc.nmbclusters": 4 }, packetZone: false } as const;

/** Takes every cluster of the pool. */
function takeAll(pool: Pool): number[] {
  const held: number[] = [];
  for (let m = pool.getcl(); m !== 0; m = pool.getcl()) held.push(m);
  return held;
}

describe("a throwing callback inside an allocation", () => {
  for (const [label, arm] of [
    ["an exhausted listener", (p: Pool) => p.on("exhausted", () => { throw new Error("listener"); })],
    ["a message listener", (p: Pool) => p.on("message", () => { throw new Error("listener"); })],
    ["a drainError listener", (p: Pool) => {
      p.onDrain("bad", () => { throw new Error("drain"); });
      p.on("drainError", () => { throw new Error("listener"); });
    }],
  ] as const) {
    it(`${label}: the allocation fails cleanly, the error is reported, and the books stay right`, () => {
      const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
      try {
        const pool = makePool(drains);
        const reported: string[] = [];
        pool.on("callbackError", (source: string) => reported.push(source));
        arm(pool);
        const held = takeAll(pool);
        expect(held.length).toBe(4);
        expect(pool.getcl()).toBe(0);
        for (const m of held) pool.freem(m);
        expect(pool.audit().message).toBe("clean");
        expect(pool.stats().mbufs.current).toBe(0);
        expect(reported.length + warn.mock.calls.length).toBeGreaterThan(0);
      } finally {
        warn.mockRestore();
      }
    });
  }

  it("a throwing logger is reported as callbackError and the pool stays consistent", () => {
    const pool = makePool({ profile: "freebsd4", tunables: small4, logger: () => { throw new Error("logger"); } });
    const reported: string[] = [];
    pool.on("callbackError", (source: string) => reported.push(source));
    const held = takeAll(pool);
    expect(reported).toEqual(["logger"]);
    for (const m of held) pool.freem(m);
    expect(pool.stats().mbufs.current).toBe(0);
  });

  it("with no listener for callbackError, the error becomes a process warning, not an exception", () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      const pool = makePool({ profile: "freebsd4", tunables: small4 });
      pool.on("exhausted", () => { throw new Error("boom"); });
      const held = takeAll(pool);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/exhausted callback threw.*boom/);
      for (const m of held) pool.freem(m);
    } finally {
      warn.mockRestore();
    }
  });

  it("the other listeners still run when one throws", () => {
    const pool = makePool({ profile: "freebsd4", tunables: small4 });
    let second = 0;
    pool.on("callbackError", () => {});
    pool.on("exhausted", () => { throw new Error("first"); });
    pool.on("exhausted", () => { second++; });
    const held = takeAll(pool);
    expect(second).toBe(1);
    for (const m of held) pool.freem(m);
  });
});

describe("drain routines that call back into the pool", () => {
  it("audit() inside a drain routine is refused with ESTATE, not a false failure", () => {
    const pool = makePool(drains);
    const seen: (string | undefined)[] = [];
    pool.onDrain(() => { seen.push(code(() => pool.audit())); });
    const held = takeAll(pool);
    expect(seen).toEqual(["ESTATE"]);
    for (const m of held) pool.freem(m);
  });

  it("prepend(m, bytes) inside a drain routine run by copyback is all or nothing", () => {
    const pool = makePool(drains);
    const victim = pool.gethdr();
    pool.append(victim, pattern(40));
    const held = takeAll(pool);
    const codes: (string | undefined)[] = [];
    let head = victim;
    pool.onDrain(() => {
      codes.push(code(() => { head = pool.prepend(victim, pattern(20, 9)) || head; }));
    });
    const m = pool.get();
    expect(pool.copyback(m, 0, pattern(3000))).toBe(false); // needs a cluster: none, the drain runs
    expect(codes).toEqual(["EBUSY"]);
    expect(head).toBe(victim);
    expect(pool.length(victim)).toBe(40);
    expect(Array.from(pool.copydata(victim))).toEqual(Array.from(pattern(40)));
    pool.freem(m);
    pool.freem(victim);
    for (const h of held) pool.freem(h);
    expect(pool.stats().mbufs.current).toBe(0);
  });

  it("sbwrite of more than the exchange area frees its chain when a drain routine closes the socket", () => {
    const pool = makePool({ ...drains, tunables: { "kern.ipc.nmbclusters": 12 } });
    const so = pool.socreate({ sndHiwat: 64 * 1024, rcvHiwat: 64 * 1024 });
    for (const m of takeAll(pool)) {
      pool.append(m, pattern(100));
      pool.sbappendrecord(so, "rcv", m);
    }
    let closed = false;
    pool.onDrain(() => {
      if (!closed) { closed = true; pool.soclose(so); } // frees the clusters the write then gets
    });
    expect(code(() => pool.sbwrite(so, "snd", pattern(20 * 1024)))).toMatch(/EDOUBLEFREE|EBADHANDLE|EINVAL/);
    expect(closed).toBe(true);
    expect(pool.stats().mbufs.current).toBe(0);
    expect(pool.stats().clusters.current).toBe(0);
  });
});

describe("every path that gives buffers back serves waiters", () => {
  const returns: Array<[string, (pool: Pool, so: number) => void]> = [
    ["soclose", (p, so) => p.soclose(so)],
    ["sbflush", (p, so) => p.sbflush(so, "rcv")],
    ["sbdrop", (p, so) => p.sbdrop(so, "rcv", p.sbstat(so, "rcv").cc)],
    ["sbdroprecord", (p, so) => { while (p.sbdroprecord(so, "rcv")); }],
    ["sbrelease", (p, so) => p.sbrelease(so, "rcv")],
  ];
  for (const profile of ["freebsd", "freebsd4"] as const) {
    for (const [name, give] of returns) {
      it(`${profile}: ${name} wakes a getclWait at once, with no clock advance`, async () => {
        const clock = new VirtualClock();
        const tunables = profile === "freebsd" ? { "kern.ipc.nmbclusters": 4 } : small4;
        const pool = makePool({ profile, tunables, clock, packetZone: false });
        const so = pool.socreate();
        const held = takeAll(pool);
        // Every cluster but none goes into the socket's receive buffer, one record each.
        for (const m of held) {
          pool.append(m, pattern(100));
          expect(pool.sbappendrecord(so, "rcv", m)).toBe(true);
        }
        let got = 0;
        const waiter = pool.getclWait(M_WAITOK, MT.DATA, undefined, { timeout: 1000 }).then((h) => { got = h; });
        await Promise.resolve();
        expect(got).toBe(0);
        give(pool, so);
        await waiter;
        expect(got).toBeGreaterThan(0);
        expect(clock.now()).toBe(0);
        pool.freem(got);
        if (name !== "soclose") pool.soclose(so);
      }, 5000);
    }
  }
});

describe("a closed pool", () => {
  it("answers reads of its final state and refuses every act with ECLOSED", async () => {
    const pool = makePool();
    const m = pool.getcl();
    pool.freem(m);
    pool.close();
    expect(pool.stats().clusters.current).toBe(0);
    expect(pool.netstat()).toMatch(/mbuf/);
    expect(typeof (await pool.metrics())).toBe("string");
    expect(pool.sysctl("kern.ipc.nmbclusters")).toBeGreaterThan(0);
    for (const act of [() => pool.get(), () => pool.watchLeaks(), () => pool.onDrain(() => {}), () => pool.bulkArea(),
      () => pool.sysctl("kern.ipc.nmbclusters", 1 << 20), () => pool.reclaim("cluster"), () => pool.audit()]) {
      expect(code(act)).toBe("ECLOSED");
    }
    await expect(pool.getclWait()).rejects.toMatchObject({ code: "ECLOSED" });
  });
});
