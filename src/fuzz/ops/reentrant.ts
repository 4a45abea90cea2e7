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
import type { OpSpec } from "./spec.js";

/** At most this many throwing or auditing routines and listeners per case (each runs on every exhaustion), and closing routines. */
const MAX_HOOKS = 3;
const MAX_CLOSES = 2;

export const REENTRANT_OPS: readonly OpSpec[] = [
  {
    name: "onDrainThrow",
    weight: 1,
    reentrant: true,
    args: [],
    gen: (m) => (m.reentrantHooks < MAX_HOOKS ? {} : undefined),
    run: (run) => {
      run.pool.onDrain("throws", () => {
        throw new Error("a drain routine failed");
      });
      return null;
    },
    model: (m) => {
      m.reentrantHooks++;
      return null;
    },
  },
  {
    name: "onExhaustedThrow",
    weight: 1,
    reentrant: true,
    args: [],
    gen: (m) => (m.reentrantHooks < MAX_HOOKS ? {} : undefined),
    run: (run) => {
      run.pool.on("exhausted", () => {
        throw new Error("an exhausted listener failed");
      });
      return null;
    },
    model: (m) => {
      m.reentrantHooks++;
      return null;
    },
  },
  {
    name: "onDrainAudit",
    weight: 1,
    reentrant: true,
    args: [],
    gen: (m) => (m.reentrantHooks < MAX_HOOKS ? {} : undefined),
    run: (run) => {
      run.pool.onDrain("audits", (p) => {
        run.drainAudits.push(p.audit().message);
      });
      return null;
    },
    model: (m) => {
      m.reentrantHooks++;
      return null;
    },
  },
  {
    name: "onDrainClose",
    weight: 1,
    reentrant: true,
    args: [{ name: "so" }],
    gen: (m, r) => {
      const so = sockHandle(m, r[0]);
      return so === undefined || m.drainCloses.length >= MAX_CLOSES || m.drainCloses.includes(so) ? undefined : { so };
    },
    run: (run, a, raw) => {
      const name = raw.so as string;
      run.pool.onDrain(`close ${name}`, (p) => {
        if (!run.live.has(name)) return;
        p.soclose(a.so as number);
        run.freed(name);
      });
      return null;
    },
    model: (m, a) => {
      m.drainCloses.push(a.so as string);
      return null;
    },
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
