// Options objects refuse typos: an unknown key is an EINVAL naming the key and
// the closest known one, at every public entry point that takes options; and
// messages quote what they were given.
import { describe, it, expect } from "vitest";
import { Pool, MbufError, M_NOWAIT, VirtualClock, UsageRecorder, netperf, runScenario } from "mbufpool";
import { makePool, BUILD } from "./helpers.js";

/** The MbufError `fn` throws (failing the test if it throws nothing or something else). */
function refusal(fn: () => unknown): MbufError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MbufError);
    return e as MbufError;
  }
  throw new Error("expected an MbufError, got none");
}

describe("options that refuse typos", () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ["a tunable at Pool.create's top level", () => Pool.create({ build: BUILD, nmbclusters: 64 } as never), /unknown option "nmbclusters" \(did you mean tunables\.nmbclusters\?\)/],
    ["a misspelt profile key", () => Pool.create({ build: BUILD, profle: "aix" } as never), /unknown option "profle" \(did you mean profile\?\)/],
    ["an AIX tunable at the top level", () => Pool.create({ build: BUILD, thewall: 1 << 20 } as never), /did you mean tunables\.thewall\?/],
    ["packetZone", () => Pool.create({ build: BUILD, packetZone: { modde: "none" } as never }), /packetZone: unknown option "modde" \(did you mean mode\?\)/],
    ["netm", () => Pool.create({ build: BUILD, netm: { lowmbf: 4 } as never }), /netm: unknown option "lowmbf" \(did you mean lowmbuf\?\)/],
  ];
  for (const [label, fn, message] of cases) {
    it(`${label} is an EINVAL with a suggestion`, () => {
      const e = refusal(fn);
      expect(e.code).toBe("EINVAL");
      expect(e.message).toMatch(message);
    });
  }

  it("every options object of a pool's methods", () => {
    const pool = makePool();
    const checks: Array<[() => unknown, RegExp]> = [
      [() => pool.socreate({ sndhiwat: 1 } as never), /socreate options: unknown option "sndhiwat" \(did you mean sndHiwat\?\)/],
      [() => pool.watchLeaks({ intervall: 5 } as never), /watchLeaks options: unknown option "intervall" \(did you mean intervalMs\?\)/],
      [() => pool.outstanding({ perGrup: 1 } as never), /did you mean perGroup\?/],
      [() => pool.netstat({ fromat: "aix" } as never), /did you mean format\?/],
      [() => pool.getBulk(new Int32Array(2), 2, M_NOWAIT, 1, { clusters: true } as never), /did you mean cluster\?/],
      [() => new UsageRecorder(pool, { interval: 5 } as never), /did you mean intervalMs\?/],
      [() => netperf(pool, new VirtualClock(), { round: 1 } as never), /did you mean rounds\?/],
      [() => runScenario(pool, new VirtualClock(), "leak", { tick: 1 } as never), /did you mean ticks\?/],
    ];
    for (const [fn, message] of checks) {
      const e = refusal(fn);
      expect(e.code).toBe("EINVAL");
      expect(e.message).toMatch(message);
    }
    expect(pool.stats().mbufs.current).toBe(0);
  });

  it("a waiting request's options too (a rejection, not a throw)", async () => {
    const pool = makePool();
    await expect(pool.getclWait(undefined, undefined, undefined, { timout: 5 } as never)).rejects.toMatchObject({
      code: "EINVAL", message: expect.stringMatching(/did you mean timeout\?/),
    });
  });

  it("a key nothing resembles is named with the keys there are", () => {
    const e = refusal(() => makePool().socreate({ zzzzzz: 1 } as never));
    expect(e.message).toMatch(/unknown option "zzzzzz"; it takes pcb, sndHiwat, rcvHiwat/);
  });
});

describe("messages a user can act on", () => {
  it("quote strings, so \"0\" never reads as 0", () => {
    const pool = makePool();
    const m = pool.get();
    expect(refusal(() => pool.copydata(m, "0" as never, "2" as never)).message).toMatch(/must be an integer, got "0"/);
    expect(refusal(() => Pool.create({ build: BUILD, tunables: { nmbclusters: "64" as never } })).message)
      .toMatch(/kern\.ipc\.nmbclusters="64" refused: kern\.ipc\.nmbclusters takes a number/);
    expect(refusal(() => pool.get("1" as never)).message).toMatch(/get\("1", 1\)/);
    pool.free(m);
  });

  it("say which argument of an allocation is out of range", () => {
    const pool = makePool();
    expect(refusal(() => pool.get(M_NOWAIT, 999)).message).toMatch(/type 999 is out of range/);
    expect(refusal(() => pool.getcl(M_NOWAIT, 0)).message).toMatch(/type 0 is out of range/);
    expect(refusal(() => pool.gethdr(0x40)).message).toMatch(/how 64 must be M_NOWAIT or M_WAITOK/);
  });
});
