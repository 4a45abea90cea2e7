// The reentrant ops (drain routines and listeners that throw, close a socket
// or audit inside an allocation) are generated only when asked for, so the
// default fuzz run and its seeds stay as they were; they replay from traces
// either way.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { caseArbitrary, OPS, replay } from "mbufpool/fuzz";
import { BUILD } from "./helpers.js";

const REENTRANT = OPS.filter((o) => o.reentrant).map((o) => o.name);
const drawn = (reentrant: boolean): Set<string> =>
  new Set(fc.sample(caseArbitrary({ reentrant }), { seed: 7, numRuns: 40 }).flatMap((c) => c.cmds.map((x) => x.op)));

describe("reentrant ops", () => {
  it("are in the op table after every op a default run draws", () => {
    expect(REENTRANT).toEqual(["onDrainThrow", "onExhaustedThrow", "onDrainAudit", "onDrainClose", "drainLog"]);
    const generated = OPS.filter((o) => o.weight > 0).map((o) => o.name);
    expect(generated.slice(-REENTRANT.length)).toEqual(REENTRANT);
  });

  it("are drawn only with the reentrant option", () => {
    for (const name of REENTRANT) expect(drawn(false).has(name)).toBe(false);
    const on = drawn(true);
    for (const name of REENTRANT) expect(on.has(name), name).toBe(true);
  });

  it("replay from a trace: a drain routine that closes a socket and one that throws", () => {
    // FreeBSD's profile drains on every exhaustion: the bulk call runs both routines, so the socket is gone after it.
    const r = replay(`{"op":"create","format":2,"profile":"freebsd","tunables":{"kern.ipc.maxmbufmem":262144,"kern.ipc.nmbclusters":4,"kern.ipc.nmbufs":24}}
{"op":"socreate","expect":"h1"}
{"op":"onDrainClose","so":"h1","expect":null}
{"op":"onDrainThrow","expect":null}
{"op":"getBulk","n":30,"how":1,"type":1,"cluster":false,"pkthdr":false}
{"op":"soclose","so":"h1","expect":{"error":"EINVAL"}}
`, { build: BUILD });
    expect(r.ok, JSON.stringify(r.divergence)).toBe(true);
  });
});
