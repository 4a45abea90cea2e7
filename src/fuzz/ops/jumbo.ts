// Jumbo clusters: m_getjcl, m_cljget and freeing an mbuf that holds one. The
// model predicts each result exactly (Model.getjcl/cljget/releaseJumbo): which
// zone gives, when a slab is carved, when a drain routine runs. An mbuf with a
// jumbo cluster stays out of the other ops' reach: the model does not follow
// its bytes, so the trace only frees it. The ops are generated with the
// fuzzer's `jumbo` option.

import { M_PKTHDR, MJUMPAGESIZE, MJUM9BYTES, MJUM16BYTES } from "../../constants.js";
import type { Result } from "../run.js";
import { allocResult, how, mtype, pick, runVoid, modelVoid, genHandle, inRange, type OpSpec } from "./spec.js";

/** The jumbo limits' tunables, by zone size. */
const JUMBO_TUNABLES: ReadonlyArray<readonly [string, number]> = [
  ["kern.ipc.nmbjumbop", MJUMPAGESIZE], ["kern.ipc.nmbjumbo9", MJUM9BYTES], ["kern.ipc.nmbjumbo16", MJUM16BYTES],
];

/** The first size (one of the model's) that `r` names. */
const sizeOf = (sizes: readonly number[], r: number): number => sizes[r % sizes.length];

export const JUMBO_OPS: readonly OpSpec[] = [
  {
    name: "getjcl",
    weight: 4,
    jumbo: true,
    args: [{ name: "how", kind: "how" }, { name: "type", kind: "type" }, { name: "flags", kind: "flags" }, { name: "size", kind: "clusterSize" }],
    gen: (m, r) => ({ how: how(r[0]), type: mtype(r[1]), flags: r[2] % 4 ? M_PKTHDR : 0, size: sizeOf(m.jumboSizes(), r[3]) }),
    run: (run, a) => allocResult(run, run.pool.getjcl(a.how as number, a.type as number, a.flags as number, a.size as number)),
    model: (m, a) => m.getjcl(a.how as number, a.type as number, a.flags === M_PKTHDR, a.size as number),
  },
  {
    name: "cljget",
    weight: 2,
    jumbo: true,
    args: [{ name: "m", kind: "handle" }, { name: "how", kind: "how" }, { name: "size", kind: "clusterSize" }],
    gen: (m, r) => {
      // Empty heads without a cluster (cljget refuses others: EINVAL, which the bad-value classes try).
      const names = [...m.live].filter(([, l]) => !l.extra && !l.bytes?.length && !l.cluster).map(([n]) => n);
      const h = pick(names, r[0]);
      return h === undefined ? undefined : { m: h, how: how(r[1]), size: sizeOf(m.jumboSizes(), r[2]) };
    },
    run: (run, a) => run.pool.cljget(a.m as number, a.how as number, a.size as number),
    model: (m, a) => {
      const l = m.live.get(a.m as string)!;
      if (l.cluster || l.extra || l.bytes?.length) return { error: "EINVAL" };
      return m.cljget(a.m as string, a.how as number, a.size as number);
    },
  },
  {
    name: "sysctlJumbo",
    weight: 1,
    jumbo: true,
    args: [{ name: "name" }, { name: "value", kind: "tunableValue", valid: (v) => inRange(v, 0, 2 ** 31 - 1) }],
    gen: (m, r) => {
      if (!m.jumbo.size) return undefined;
      const [name, size] = JUMBO_TUNABLES[r[0] % 3];
      const old = m.jumbo.get(size)!.limit;
      // The same value, a lower one (refused), a raise, one past what thewall holds.
      return { name, value: [old, Math.max(0, old - 1), old + 1 + (r[1] % 16), 2 ** 24][r[2] % 4] };
    },
    run: (run, a) => ({ ...run.pool.sysctl(a.name as string, a.value as number) }) as unknown as Result,
    model: (m, a) => m.sysctlJumbo(a.name as string, JUMBO_TUNABLES.find(([n]) => n === a.name)![1], a.value as number),
  },
  {
    name: "freemJumbo",
    weight: 3,
    jumbo: true,
    args: [{ name: "m", kind: "handle", valid: (v, m) => typeof v === "string" && m.jumbos.has(v) }],
    gen: genHandle((m, r) => pick([...m.jumbos.keys()], r)),
    run: runVoid((run, a, raw) => {
      run.pool.freem(a.m as number);
      run.freed(raw.m as string);
    }),
    model: modelVoid((m, a) => m.releaseJumbo(a.m as string)),
  },
];
