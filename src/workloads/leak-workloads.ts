// Built-in timed workloads for the leak detector and the charts, run on a
// VirtualClock so minutes of pool life take milliseconds:
//   sawtooth  a server (owner 1) takes packets every tick and frees them all
//             every `period` ticks: usage climbs and falls back to its floor.
//   leak      the sawtooth, plus a parser (owner 2) that forgets one packet
//             every `leakEvery` ticks, then an idle spell: a real leak.
//   unread    the sawtooth, plus an application (owner 3) whose received
//             packets pile up in a stand-in socket buffer it never reads.

import type { Pool } from "../pool.js";
import type { VirtualClock } from "../clock.js";
import { M_NOWAIT, M_PKTHDR, MT } from "../constants.js";
import { heldBySet, type HolderClassifier } from "../leak/outstanding.js";
import { MbufError } from "../errors.js";
import { optionKeys, checkOptions } from "../validate.js";

export type ScenarioName = "sawtooth" | "leak" | "unread";
/** Owner tags the scenarios stamp. */
export const OWNER = { server: 1, parser: 2, app: 3 } as const;

/** Options of the scenarios. */
export interface ScenarioOptions {
  /** Busy ticks; 120 by default. */
  ticks?: number;
  /** Idle ticks after the busy ones (nothing allocated or freed); 20 by default. */
  idleTicks?: number;
  /** Clock time per tick, ms; 1000 by default. */
  tickMs?: number;
  /** Server packets taken per tick; 8 by default. */
  perTick?: number;
  /** Ticks between the server's frees; 10 by default. */
  period?: number;
  /** leak: one packet forgotten every this many ticks; 1 by default. */
  leakEvery?: number;
}

/** A scenario being run: what it still holds, and how to tell its holders. */
export interface ScenarioRun {
  readonly name: ScenarioName;
  /** Packets the server holds until its next free. */
  readonly server: number[];
  /** Packets leaked (nobody holds them). */
  readonly leaked: number[];
  /** Heads queued in the stand-in socket buffer (unread). */
  readonly sockbuf: Set<number>;
  /** Names the stand-in socket buffer as the holder of its heads. */
  readonly classify: HolderClassifier;
  /** Frees everything the scenario holds or leaked. */
  cleanup(): void;
}

export const WORKLOADS: Readonly<Record<ScenarioName, string>> = {
  sawtooth: "a server takes packets every tick and frees them all every period: usage rises and comes back down",
  leak: "the sawtooth plus a parser that forgets a packet every leakEvery ticks, then an idle spell",
  unread: "the sawtooth plus an application whose socket buffer fills because it never reads",
};

/**
 * Runs scenario `name` on `pool`, advancing `clock` one tick at a time;
 * `hooks.start` sees the run before the first tick (to hand its classifier
 * to a detector), `hooks.tick` is called after each tick. Detectors and
 * recorders sample on the clock by themselves.
 * @throws MbufError EINVAL for an unknown scenario.
 */
export function runScenario(pool: Pool, clock: VirtualClock, name: ScenarioName, options: ScenarioOptions = {},
  hooks: { start?(run: ScenarioRun): void; tick?(tick: number): void } = {}): ScenarioRun {
  checkOptions(options, "runScenario options", optionKeys<ScenarioOptions>({ ticks: 1, idleTicks: 1, tickMs: 1, perTick: 1, period: 1, leakEvery: 1 }));
  if (!Object.hasOwn(WORKLOADS, name)) throw new MbufError("EINVAL", `unknown workload "${name}"; choose one of ${Object.keys(WORKLOADS).join(", ")}`);
  const ticks = options.ticks ?? 120, idle = options.idleTicks ?? 20, tickMs = options.tickMs ?? 1000;
  const perTick = options.perTick ?? 8, period = options.period ?? 10, leakEvery = options.leakEvery ?? 1;
  const sockbuf = new Set<number>();
  const run: ScenarioRun = {
    name, server: [], leaked: [], sockbuf,
    classify: heldBySet(`sockbuf of owner ${OWNER.app}`, sockbuf),
    cleanup() {
      for (const m of [...this.server, ...this.leaked, ...this.sockbuf]) pool.freem(m);
      this.server.length = 0;
      this.leaked.length = 0;
      this.sockbuf.clear();
    },
  };
  hooks.start?.(run);
  const take = (owner: number): number => {
    pool.setOwner(owner);
    return pool.getcl(M_NOWAIT, MT.DATA, M_PKTHDR);
  };
  for (let i = 0; i < ticks + idle; i++) {
    if (i < ticks) {
      for (let k = 0; k < perTick; k++) {
        const m = take(OWNER.server);
        if (m) run.server.push(m);
      }
      if ((i + 1) % period === 0) {
        for (const m of run.server) pool.freem(m);
        run.server.length = 0;
      }
      if (name === "leak" && i % leakEvery === 0) {
        const m = take(OWNER.parser);
        if (m) run.leaked.push(m);
      }
      if (name === "unread") {
        const m = take(OWNER.app);
        if (m) run.sockbuf.add(m);
      }
    } else if (i === ticks && run.server.length) {
      // The load stops: the server lets go of what it held.
      for (const m of run.server) pool.freem(m);
      run.server.length = 0;
    }
    pool.setOwner(0);
    clock.advance(tickMs);
    hooks.tick?.(i);
  }
  return run;
}
