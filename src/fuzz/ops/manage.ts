// Managing the pool rather than its buffers: the reservation, the zones'
// sizes (grow, reclaim), the sysctl writes, the wait-failure counter, drain
// routines, the virtual clock and netstat; and the two checkpoints (stats
// and audit) the fuzzer inserts every --audit-every operations.

import { NETSTAT_FORMATS } from "../../stats/netstat.js";
import { observedStats, type ZoneName } from "../model.js";
import type { Result } from "../run.js";
import { drainFreeing, genHandle, inRange, liveHandle, modelVoid, pick, runVoid, zone, type OpSpec } from "./spec.js";

export const MANAGE_OPS: readonly OpSpec[] = [
  {
    name: "setReserved",
    weight: 2,
    args: [{ name: "flag", kind: "bool" }],
    gen: (_m, r) => ({ flag: r[0] % 3 === 0 }),
    run: runVoid((run, a) => run.pool.setReserved(a.flag as boolean)),
    model: modelVoid((m, a) => {
      m.resvFlag = a.flag as boolean;
    }),
  },
  {
    name: "setReserve",
    weight: 2,
    args: [{ name: "count", kind: "count", valid: (v, m) => inRange(v, 0, m.zones.cluster.limit) }],
    gen: (m, r) => ({ count: r[0] % 3 === 0 ? 0 : r[0] % (m.zones.cluster.limit + 1) }),
    run: runVoid((run, a) => run.pool.setReserve(a.count as number)),
    model: modelVoid((m, a) => {
      m.resvCount = a.count as number;
    }),
  },
  {
    name: "grow",
    weight: 2,
    args: [{ name: "zone", kind: "zone" }, { name: "free", kind: "amount" }],
    gen: (_m, r) => ({ zone: zone(r[0]), free: r[1] % 40 }),
    run: (run, a) => run.pool.grow(a.zone as ZoneName, a.free as number),
    model: (m, a) => m.grow(a.zone as ZoneName, a.free as number),
  },
  {
    name: "reclaim",
    weight: 2,
    args: [{ name: "zone", kind: "zone" }, { name: "keep", kind: "amount" }],
    gen: (_m, r) => ({ zone: zone(r[0]), keep: r[1] % 3 === 0 ? 0 : r[1] % 20 }),
    run: (run, a) => run.pool.reclaim(a.zone as ZoneName, a.keep as number),
    model: (m) => {
      // mb_reclaim gives the packet cache back first (the host skips the core on profiles that never reclaim).
      if (!m.profile.reclaims) return 0;
      m.packetReclaim();
      return undefined;
    },
    observe: (m, run, a, actual) => typeof actual !== "number"
      ? `reclaim returned ${JSON.stringify(actual)}`
      : m.observeReclaim(a.zone as ZoneName, a.keep as number, actual, run.pool.stats()),
  },
  {
    name: "countWaitFailed",
    weight: 1,
    args: [{ name: "zone", kind: "zone" }],
    gen: (_m, r) => ({ zone: zone(r[0]) }),
    run: runVoid((run, a) => run.pool.countWaitFailed(a.zone as ZoneName)),
    model: modelVoid((m, a) => m.waitFailed(a.zone as ZoneName)),
  },
  {
    name: "onDrain",
    weight: 1,
    args: [{ name: "m" }],
    gen: genHandle(liveHandle, (_h, _r, m) => (m.drainRoutines.length >= 4 ? undefined : {})),
    run: runVoid((run, a, raw) => drainFreeing(run, `free ${raw.m as string}`, raw.m as string, (p) => p.freem(a.m as number))),
    model: modelVoid((m, a) => m.drainRoutines.push(a.m as string)),
  },
  {
    name: "advance",
    weight: 1,
    args: [{ name: "ms" }],
    gen: (_m, r) => ({ ms: [1, 999, 1000, 30_000, 300_000][r[0] % 5] }),
    run: runVoid((run, a) => run.clock.advance(a.ms as number)),
    // netm (aix) runs on the clock: how often it ticks and what a cluster shrink frees is observed.
    model: (m) => (m.netm ? undefined : null),
    observe: (m, run, _a, actual) => (actual !== null ? `advance returned ${JSON.stringify(actual)}` : m.observeNetm(run.pool.stats())),
  },
  {
    name: "netstat",
    weight: 1,
    args: [{ name: "format", kind: "format" }],
    gen: (_m, r) => ({ format: pick(Object.keys(NETSTAT_FORMATS), r[0])! }),
    run: (run, a) => typeof run.pool.netstat({ format: a.format as string }) === "string",
    model: () => true,
  },
  {
    // Pool.sysctl of the zones' limits (the op "sysctl" writes the reserve).
    name: "sysctlLimit",
    weight: 1,
    args: [{ name: "name" }, { name: "value", kind: "tunableValue", valid: (v) => inRange(v, 0, 2 ** 31 - 1) }],
    gen: (m, r) => {
      const z: ZoneName = r[0] % 2 ? "cluster" : "mbuf", name = m.profile.aliases[z === "mbuf" ? "nmbufs" : "nmbclusters"];
      if (name === undefined) return undefined;
      const old = m.zones[z].limit;
      // The same value, a lower one (refused), a raise, one past what thewall holds.
      return { name, value: [old, Math.max(0, old - 1), old + 1 + (r[1] % 16), 2 ** 24][r[2] % 4] };
    },
    run: (run, a) => ({ ...run.pool.sysctl(a.name as string, a.value as number) }) as unknown as Result,
    model: (m, a) => m.sysctlLimit(a.name as string, a.name === m.profile.aliases["nmbufs"] ? "mbuf" : "cluster", a.value as number),
  },
  {
    name: "sysctl",
    weight: 1,
    // The reserve (kern.ipc.mb_rcv_resv or the profile's name for it) written at run time.
    args: [{ name: "name" }, { name: "value", kind: "tunableValue" }],
    gen: (m, r) => ({ name: m.profile.aliases["reserve"], value: r[0] % 3 === 0 ? 0 : r[0] % (m.zones.cluster.limit + 1) }),
    run: (run, a) => ({ ...run.pool.sysctl(a.name as string, a.value as number) }) as unknown as Result,
    model: (m, a) => {
      const old = m.resvCount;
      m.resvCount = a.value as number;
      return { name: a.name as string, old, new: a.value as number };
    },
  },
];

/** Checkpoints: never generated (weight 0); the fuzzer inserts them. */
export const CHECKPOINT_OPS: readonly OpSpec[] = [
  {
    name: "stats",
    weight: 0,
    args: [],
    gen: () => ({}),
    run: (run) => observedStats(run.pool.stats()) as unknown as Result,
    model: (m) => m.stats() as unknown as Result,
  },
  {
    name: "audit",
    weight: 0,
    args: [],
    gen: () => ({}),
    run: (run) => run.pool.audit().message,
    model: () => "clean",
  },
];
