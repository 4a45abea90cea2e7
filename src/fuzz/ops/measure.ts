// Measuring what chain and socket-buffer operations take and give back.
//
// Bytes are exact: the model keeps every chain's and socket buffer's bytes,
// predicts copydata (as a digest), length and the bytes an operation leaves.
// How many buffers an operation takes is measured (Model.settle), within
// bounds: nothing at all when it fails (all or nothing), at most what the
// bytes need when it succeeds, never more when it frees.
//
// m_copym and m_split share clusters by reference count. After such an
// operation (and any later one on a chain that holds a shared cluster) the
// model reads the chains' layouts (walk.ts), recounts what each holds
// (Model.reshape) and checks the pool holds exactly that: a shared cluster
// is freed only with its last reference, and freeing a chain gives back
// exactly what the model says it holds.

import { MLEN } from "../../constants.js";
import { patternBytes, emptyHolding, type Model, type Holding, type LiveMbuf } from "../model.js";
import type { Run, Result } from "../run.js";
import type { Encoded } from "../values.js";
import { walkChain } from "../walk.js";
import { pick } from "./spec.js";

/** Bytes a trace value stands for ({"$":"bytes","n":n,"s":s}). */
export const bytesOf = (v: Encoded): number[] => patternBytes((v as { n: number }).n, (v as { s: number }).s);
/** A pattern of bytes chosen by r. */
export const someBytes = (r: number): Encoded => ({ $: "bytes", n: [1, 17, 200, 700, 2500, 5000][r % 6], s: r & 255 });
/** A live head, as chain ops see it. */
export const chain = (m: Model, name: Encoded): LiveMbuf => m.live.get(name as string)!;
export const lengthOf = (m: Model, name: Encoded): number => chain(m, name).bytes?.length ?? 0;
/** A live handle whose chain holds at least `min` bytes. */
export function chainHandle(m: Model, r: number, min = 0): string | undefined {
  const names: string[] = [];
  for (const [name, l] of m.live) if ((l.bytes?.length ?? 0) >= min) names.push(name);
  return pick(names, r);
}
/** Now and then (one draw in three) a chain that holds a shared cluster, if any: where copy on write is tested. */
export function sharedFirst(m: Model, r: number, min = 0): string | undefined {
  if (r % 3 === 0) {
    const names = [...m.live].filter(([, l]) => l.refs?.length && (l.bytes?.length ?? 0) >= min).map(([n]) => n);
    if (names.length) return pick(names, r >> 2);
  }
  return chainHandle(m, r, min);
}
export const sockHandle = (m: Model, r: number): string | undefined => pick([...m.sockets.keys()], r);
export const isZero = (d: Holding): boolean => d.mbufs === 0 && d.clusters === 0 && d.census.every((n) => n === 0);

/** Checks what an operation that added `n` bytes took: nothing if it failed, at most what n bytes need. */
export function tookFor(m: Model, d: Holding, n: number, ok: boolean, slack = 0): string | undefined {
  if (!ok) return isZero(d) ? undefined : `a failed operation kept ${d.mbufs} mbufs and ${d.clusters} clusters`;
  const maxM = Math.ceil(n / MLEN) + 2 + slack, maxC = Math.ceil(n / m.profile.mclbytes) + 1 + slack;
  if (d.mbufs < 0 || d.clusters < 0 || d.mbufs > maxM || d.clusters > maxC) {
    return `${n} bytes took ${d.mbufs} mbufs and ${d.clusters} clusters (0..${maxM}, 0..${maxC})`;
  }
  return undefined;
}

/** Checks that an operation that frees took nothing. */
export const onlyFreed = (d: Holding): string | undefined =>
  d.mbufs > 0 || d.clusters > 0 || d.census.some((n) => n > 0) ? `an operation that frees took ${d.mbufs} mbufs and ${d.clusters} clusters` : undefined;

/** The measured change, or a problem. */
export function settle(m: Model, run: Run): Holding | string {
  return m.settle(run.pool.stats(), (name) => run.live.has(name));
}

/** A chain op on head `name` that may take buffers: settles, accepts an error only if a drain routine freed the head. */
export function chainAdded(m: Model, run: Run, name: string, actual: Result, n: number, apply: (l: LiveMbuf) => void, slack = 0): string | undefined {
  const d = settle(m, run);
  if (typeof d === "string") return d;
  const l = m.live.get(name);
  if (!l) {
    // A drain routine run by the allocation freed the head: the operation, started again, reports the
    // freed handle; or a second drain (the one that freed it) failed it as exhausted.
    const code = typeof actual === "object" && actual !== null && !Array.isArray(actual) ? (actual as { error?: Encoded }).error : undefined;
    if (code !== "EDOUBLEFREE" && code !== "EBADHANDLE" && actual !== false) return `a drain routine freed ${name} during the operation, which gave ${JSON.stringify(actual)}`;
    return isZero(d) ? undefined : `the operation on a chain freed under it kept ${d.mbufs} mbufs`;
  }
  if (typeof actual !== "boolean") return `gave ${JSON.stringify(actual)}, not true or false`;
  const bad = tookFor(m, d, n, actual, slack);
  if (bad) return bad;
  if (actual) apply(l);
  // A chain holding shared clusters may have copied some (copy on write): recount it from its layout.
  if (l.refs?.length) return reshaped(m, run, [name]);
  m.hold(l.extra ??= emptyHolding(), d);
  return undefined;
}

/** A chain op that only rearranges or frees: settles and checks it took nothing. */
export function chainFreed(m: Model, run: Run, h: Holding, name?: string): string | undefined {
  const d = settle(m, run);
  if (typeof d === "string") return d;
  const bad = onlyFreed(d);
  if (bad) return bad;
  if (name !== undefined && m.live.get(name)?.refs?.length) return reshaped(m, run, [name]);
  m.hold(h, d);
  return undefined;
}

/** Recounts live chains `names` (and chains `gone`, dropped) from their layouts; checks the pool holds exactly what the chains do. */
export function reshaped(m: Model, run: Run, names: readonly string[], gone: readonly LiveMbuf[] = []): string | undefined {
  const walks = new Map<string, ReturnType<typeof walkChain>>();
  for (const name of names) if (m.live.has(name)) walks.set(name, walkChain(run.pool, run.live.get(name)!));
  return m.reshape(walks, gone) ?? m.checkHeld(run.pool.stats());
}
