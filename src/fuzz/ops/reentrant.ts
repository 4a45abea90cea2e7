// Code the pool calls back while it is inside an operation: drain routines
// that throw, close a socket or audit the pool, and an `exhausted` listener
// that throws. Generated only with the fuzzer's `reentrant` option (off by
// default) until the pool handles them all; a trace replays them either way.
//
// The model (Model.drainCloses, reentrantHooks) says what such code may
// change: a routine that closes a socket frees what the socket holds, as
// soclose would; one that throws, or an `exhausted` listener that throws,
// changes nothing (the pool reports it and runs the other routines); an
// audit inside a routine finds the books clean, whatever the allocation in
// progress is doing. drainLog reads back what those audits answered.

import type { Encoded } from "../values.js";
import { sockHandle } from "./measure.js";
import type { Run } from "../run.js";
import { drainFreeing, genOn, modelVoid, runVoid, type OpSpec } from "./spec.js";

/** At most this many throwing or auditing routines and listeners per case (each runs on every exhaustion), and closing routines. */
const MAX_HOOKS = 3;
const MAX_CLOSES = 2;

/**
 * A routine or listener that throws or audits when the pool calls it:
 * installed by `install`, counted against MAX_HOOKS.
 */
const hookOp = (name: string, install: (run: Run) => void): OpSpec => ({
  name,
  weight: 1,
  reentrant: true,
  args: [],
  gen: (m) => (m.reentrantHooks < MAX_HOOKS ? {} : undefined),
  run: runVoid(install),
  model: modelVoid((m) => m.reentrantHooks++),
});

export const REENTRANT_OPS: readonly OpSpec[] = [
  hookOp("onDrainThrow", (run) => run.pool.onDrain("throws", () => {
    throw new Error("a drain routine failed");
  })),
  hookOp("onExhaustedThrow", (run) => run.pool.on("exhausted", () => {
    throw new Error("an exhausted listener failed");
  })),
  hookOp("onDrainAudit", (run) => run.pool.onDrain("audits", (p) => {
    run.drainAudits.push(p.audit().message);
  })),
  {
    name: "onDrainClose",
    weight: 1,
    reentrant: true,
    args: [{ name: "so" }],
    gen: genOn("so", sockHandle, (so, _r, m) => (m.drainCloses.length >= MAX_CLOSES || m.drainCloses.includes(so) ? undefined : {})),
    run: runVoid((run, a, raw) => drainFreeing(run, `close ${raw.so as string}`, raw.so as string, (p) => p.soclose(a.so as number))),
    model: modelVoid((m, a) => m.drainCloses.push(a.so as string)),
  },
  {
    // What the audits run inside drain routines answered since the last drainLog: all "clean".
    name: "drainLog",
    weight: 1,
    reentrant: true,
    args: [],
    gen: (m) => (m.reentrantHooks ? {} : undefined),
    run: (run) => run.drainAudits.splice(0) as Encoded,
    model: () => undefined,
    observe: (_m, _run, _a, actual) => {
      if (!Array.isArray(actual)) return `drainLog gave ${JSON.stringify(actual)}`;
      const bad = actual.find((x) => x !== "clean");
      return bad === undefined ? undefined : `an audit inside a drain routine found ${JSON.stringify(bad)}`;
    },
  },
];
