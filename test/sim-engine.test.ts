import { describe, it, expect } from "vitest";
import { Simulator, Cpu } from "../src/sim/engine.js";
import { Rng } from "../src/sim/rng.js";
import { foldLog } from "../src/sim/types.js";
import { parseQuery, buildQuery } from "../src/proto/dns.js";

describe("the simulator engine", () => {
  it("runs events in time order, then by priority, then in scheduling order", () => {
    const sim = new Simulator(1);
    const seen: string[] = [];
    sim.at(5, () => seen.push("t5"));
    sim.at(1, () => seen.push("t1-low"), 0);
    sim.at(1, () => seen.push("t1-high"), 5);
    sim.at(1, () => seen.push("t1-low-2"), 0);
    sim.run(10);
    expect(seen).toEqual(["t1-high", "t1-low", "t1-low-2", "t5"]);
    expect(sim.now()).toBe(10);
  });

  it("cancels timers and repeats `every` until told to stop", () => {
    const sim = new Simulator(1);
    let n = 0;
    const id = sim.setTimer(() => n += 100, 3);
    sim.clearTimer(id);
    sim.every(2, () => ++n < 4);
    sim.run(100);
    expect(n).toBe(4);
  });

  it("serves the CPU by priority, one work item at a time, charging its cost", () => {
    const sim = new Simulator(1);
    const cpu = new Cpu(sim);
    const rx = cpu.task("rxdaemon", 10), app = cpu.task("app", 1);
    const done: string[] = [];
    cpu.submit(app, 5, () => done.push(`app1@${sim.now()}`));
    cpu.submit(app, 5, () => done.push(`app2@${sim.now()}`));
    cpu.submit(rx, 1, () => done.push(`rx@${sim.now()}`));
    sim.run(100);
    // app1 was already running (non-preemptive), then the receive task wins over app2.
    expect(done).toEqual(["app1@5", "rx@6", "app2@11"]);
    expect(app.cpu).toBe(10);
    expect(cpu.busyTime).toBe(11);
  });

  it("is deterministic for a seed", () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it("folds repeated console lines as syslog does", () => {
    expect(foldLog(["a", "a", "a", "b", "a"])).toEqual(["a", "last message repeated 2 times", "b", "a"]);
  });
});

describe("the DNS question parser", () => {
  it("parses a well-formed query", () => {
    const q = parseQuery(buildQuery(7, "mail.example.org"));
    expect(q).toEqual({ ok: true, id: 7, name: "mail.example.org", qtype: 1, end: 34 });
  });

  it("rejects a label that claims to be longer than the packet (seed 000)", () => {
    expect(parseQuery(buildQuery(7, "mail.example.org", { claimLonger: 40 }))).toEqual({
      ok: false, error: "Label claims to be longer than packet",
    });
    expect(parseQuery(new Uint8Array(5)).ok).toBe(false);
  });
});
