// The op table: one entry per trace operation. Each entry says how to
// choose valid arguments from the model's state, how to run the operation on
// a pool, how to apply it to the model (its predicted result), and which kind
// each argument is (the kind names the classes of bad value the fuzzer and
// the matrix feed it). A new public operation is one entry here.
//
// Results are JSON: a new handle is its name ("h4"), NULL is 0, a void call
// is null, an MbufError is {"error": code}.

import { MT, M_NOWAIT, M_WAITOK, M_RECV, M_PKTHDR, MLEN, MHLEN, MT_NTYPES, M_COPYALL } from "../constants.js";
import { NETSTAT_FORMATS } from "../stats/netstat.js";
import { KINDS, VALID_HOW, FREED_CODES, HANDLE_NAME, isTag, type Encoded, type KindName } from "./values.js";
import {
  observedStats, packetModelOf, patternBytes, digest, emptyHolding, dropRecords, type Model, type ZoneName, type PacketEpochLike, type Holding, type LiveMbuf,
} from "./model.js";
import type { Run, Result } from "./run.js";
import { walkChain } from "./walk.js";

/** Arguments of one operation, by name, as the trace line holds them. */
export type Args = Record<string, Encoded>;
/** The same arguments decoded into JS values. */
export type Decoded = Record<string, unknown>;

/** One argument: its name in the trace line and its kind (no kind: not fed bad values). */
export interface ArgSpec {
  readonly name: string;
  readonly kind?: KindName;
  /** True if `v` is valid for this argument in the model's state (default: the kind's rule). */
  valid?(v: Encoded, m: Model): boolean;
}

/** Random choices for one operation: small non-negative integers the fuzzer draws and shrinks. */
export type Choices = readonly number[];

export interface OpSpec {
  /** The op name in traces (the Pool method it drives, where there is one). */
  readonly name: string;
  /** Relative frequency in random sequences (0: never generated, replay only). */
  readonly weight: number;
  readonly args: readonly ArgSpec[];
  /** Valid arguments drawn from the model's state, or undefined if the op does not apply now. */
  gen(m: Model, r: Choices): Args | undefined;
  /** Runs the op on the pool; returns the result (throws MbufError for bad input). */
  run(run: Run, a: Decoded, raw: Args): Result;
  /**
   * Applies the op to the model, arguments already found valid; returns the
   * predicted result, or undefined if the result is observed (see observe).
   */
  model(m: Model, a: Args): Result | undefined;
  /** For an observed result: checks its bounds and updates the model; returns a problem, if any. */
  observe?(m: Model, run: Run, a: Args, actual: Result): string | undefined;
}

// === Choosing arguments ===

const pick = <T>(xs: readonly T[], r: number): T | undefined => (xs.length ? xs[r % xs.length] : undefined);
/** A live handle, optionally one without a cluster. */
function liveHandle(m: Model, r: number, filter?: (cluster: boolean) => boolean): string | undefined {
  const names: string[] = [];
  for (const [name, l] of m.live) if (!filter || filter(l.cluster)) names.push(name);
  return pick(names, r);
}
/** Mostly M_NOWAIT; sometimes waiting or the receive class. */
const how = (r: number): number => [M_NOWAIT, M_NOWAIT, M_NOWAIT, M_WAITOK, M_NOWAIT | M_RECV, M_WAITOK | M_RECV][r % 6];
const mtype = (r: number): number => (r % 3 === 0 ? MT.DATA : 1 + (r % 15));
const zone = (r: number): ZoneName => (r % 2 ? "cluster" : "mbuf");

// === Validity of encoded values, by kind ===

const isInt = (v: Encoded): v is number => typeof v === "number" && Number.isInteger(v);
const inRange = (v: Encoded, lo: number, hi: number): boolean => isInt(v) && v >= lo && v <= hi;

/** The kind's default rule for a valid value. */
function validByKind(kind: KindName, v: Encoded, m: Model): boolean {
  switch (kind) {
    case "handle": return typeof v === "string" && m.live.has(v);
    case "how": return typeof v === "number" && VALID_HOW.includes(v);
    case "type": return inRange(v, 1, 15);
    case "flags": return v === 0 || v === M_PKTHDR;
    case "count": return inRange(v, 0, 4096);
    case "amount": return inRange(v, 0, 2 ** 31 - 1);
    case "tag": return inRange(v, 0, 2 ** 32 - 1);
    case "zone": return v === "mbuf" || v === "cluster";
    case "zoneId": return v === 1 || v === 2;
    case "bool": return typeof v === "boolean";
    case "handles": return Array.isArray(v);
    case "ms": return typeof v === "number" && Number.isFinite(v) && v >= 0;
    case "format": return typeof v === "string" && v in NETSTAT_FORMATS;
    case "offset": case "length": return inRange(v, 0, 2 ** 31 - 1); // an op bounds it by its chain (spec.valid)
    case "socket": return typeof v === "string" && m.sockets.has(v);
    case "sockbuf": return v === "snd" || v === "rcv";
    case "bytes": return isTag(v) && v.$ === "bytes";
    case "tunableValue": return inRange(v, 0, m.zones.cluster.limit);
    case "packetZone": return v === false || (typeof v === "object" && v !== null && !Array.isArray(v)
      && Object.keys(v).join() === "mode,interval" && ["none", "watermark", "median"].includes(v.mode as string) && v.interval === 0);
    default: return true;
  }
}

/** The error the model expects for the first bad argument of `a`, or undefined if all are valid. */
export function argError(op: OpSpec, a: Args, m: Model): Result | undefined {
  for (const spec of op.args) {
    if (!spec.kind) continue;
    const v = a[spec.name];
    const ok = spec.valid ? spec.valid(v, m) : validByKind(spec.kind, v, m);
    if (ok) continue;
    if (spec.kind === "handle" && typeof v === "string" && m.dead.has(v)) return { error: [...FREED_CODES] };
    const code = KINDS[spec.kind].code;
    return { error: typeof code === "string" ? code : [...code] };
  }
  return undefined;
}

/** True if a trace value decodes to an i32 (what the host checks before the core sees it). */
function decodesToI32(v: Encoded): boolean {
  if (typeof v === "number") return (v | 0) === v;
  if (typeof v === "string") return HANDLE_NAME.test(v);
  if (isTag(v)) {
    if (v.$ === "plus") return typeof v.d === "number" && Number.isInteger(v.d) && Math.abs(v.d) < 2 ** 31 - 2 ** 30 - 1;
    return v.$ === "addr" || v.$ === "cluster" || v.$ === "-0";
  }
  return false;
}

// === The table ===

const allocResult = (run: Run, h: number): Result => (h > 0 ? run.newHandle(h) : h);

const getOp = (name: "get" | "gethdr", pkthdr: boolean): OpSpec => ({
  name,
  weight: 8,
  args: [{ name: "how", kind: "how" }, { name: "type", kind: "type" }],
  gen: (_m, r) => ({ how: how(r[0]), type: mtype(r[1]) }),
  run: (run, a) => allocResult(run, run.pool[name](a.how as number, a.type as number)),
  model: (m, a) => m.get(a.how as number, a.type as number, pkthdr),
});

// === Chains and socket buffers ===
//
// Bytes are exact: the model keeps every chain's and socket buffer's bytes,
// predicts copydata (as a digest), length and the bytes an operation leaves.
// How many buffers an operation takes is measured (Model.settle), within
// bounds: nothing at all when it fails (all or nothing), at most what the
// bytes need when it succeeds, never more when it frees.

/** Bytes a trace value stands for ({"$":"bytes","n":n,"s":s}). */
const bytesOf = (v: Encoded): number[] => patternBytes((v as { n: number }).n, (v as { s: number }).s);
/** A pattern of bytes chosen by r. */
const someBytes = (r: number): Encoded => ({ $: "bytes", n: [1, 17, 200, 700, 2500, 5000][r % 6], s: r & 255 });
/** A live head, as chain ops see it. */
const chain = (m: Model, name: Encoded): LiveMbuf => m.live.get(name as string)!;
const lengthOf = (m: Model, name: Encoded): number => chain(m, name).bytes?.length ?? 0;
/** A live handle whose chain holds at least `min` bytes. */
function chainHandle(m: Model, r: number, min = 0): string | undefined {
  const names: string[] = [];
  for (const [name, l] of m.live) if ((l.bytes?.length ?? 0) >= min) names.push(name);
  return pick(names, r);
}
/** Now and then (one draw in three) a chain that holds a shared cluster, if any: where copy on write is tested. */
function sharedFirst(m: Model, r: number, min = 0): string | undefined {
  if (r % 3 === 0) {
    const names = [...m.live].filter(([, l]) => l.refs?.length && (l.bytes?.length ?? 0) >= min).map(([n]) => n);
    if (names.length) return pick(names, r >> 2);
  }
  return chainHandle(m, r, min);
}
const sockHandle = (m: Model, r: number): string | undefined => pick([...m.sockets.keys()], r);
const isZero = (d: Holding): boolean => d.mbufs === 0 && d.clusters === 0 && d.census.every((n) => n === 0);

/** Checks what an operation that added `n` bytes took: nothing if it failed, at most what n bytes need. */
function tookFor(m: Model, d: Holding, n: number, ok: boolean, slack = 0): string | undefined {
  if (!ok) return isZero(d) ? undefined : `a failed operation kept ${d.mbufs} mbufs and ${d.clusters} clusters`;
  const maxM = Math.ceil(n / MLEN) + 2 + slack, maxC = Math.ceil(n / m.profile.mclbytes) + 1 + slack;
  if (d.mbufs < 0 || d.clusters < 0 || d.mbufs > maxM || d.clusters > maxC) {
    return `${n} bytes took ${d.mbufs} mbufs and ${d.clusters} clusters (0..${maxM}, 0..${maxC})`;
  }
  return undefined;
}

/** Checks that an operation that frees took nothing. */
const onlyFreed = (d: Holding): string | undefined =>
  d.mbufs > 0 || d.clusters > 0 || d.census.some((n) => n > 0) ? `an operation that frees took ${d.mbufs} mbufs and ${d.clusters} clusters` : undefined;

/** The measured change, or a problem. */
function settle(m: Model, run: Run): Holding | string {
  return m.settle(run.pool.stats(), (name) => run.live.has(name));
}

/** A chain op on head `name` that may take buffers: settles, accepts an error only if a drain routine freed the head. */
function chainAdded(m: Model, run: Run, name: string, actual: Result, n: number, apply: (l: LiveMbuf) => void, slack = 0): string | undefined {
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
function chainFreed(m: Model, run: Run, h: Holding, name?: string): string | undefined {
  const d = settle(m, run);
  if (typeof d === "string") return d;
  const bad = onlyFreed(d);
  if (bad) return bad;
  if (name !== undefined && m.live.get(name)?.refs?.length) return reshaped(m, run, [name]);
  m.hold(h, d);
  return undefined;
}

// === Shared clusters ===
//
// m_copym and m_split share clusters by reference count. After such an
// operation (and any later one on a chain that holds a shared cluster) the
// model reads the chains' layouts (walk.ts), recounts what each holds
// (Model.reshape) and checks the pool holds exactly that: a shared cluster
// is freed only with its last reference, and freeing a chain gives back
// exactly what the model says it holds.

/** Recounts live chains `names` (and chains `gone`, dropped) from their layouts; checks the pool holds exactly what the chains do. */
function reshaped(m: Model, run: Run, names: readonly string[], gone: readonly LiveMbuf[] = []): string | undefined {
  const walks = new Map<string, ReturnType<typeof walkChain>>();
  for (const name of names) if (m.live.has(name)) walks.set(name, walkChain(run.pool, run.live.get(name)!));
  return m.reshape(walks, gone) ?? m.checkHeld(run.pool.stats());
}

/** Clusters of the mbufs of a layout that hold bytes of [off, end), and how many such mbufs. */
function rangeOf(w: ReturnType<typeof walkChain>, off: number, end: number): { mbufs: number; exts: number[] } {
  let pos = 0, mbufs = 0;
  const exts: number[] = [];
  for (const x of w) {
    if (x.len && pos + x.len > off && pos < end && off < end) {
      mbufs++;
      if (x.ext) exts.push(x.ext);
    }
    pos += x.len;
  }
  return { mbufs, exts };
}

/** The result of an op whose chain a drain routine freed under it: nothing kept, and 0 or a freed-handle error. */
function freedUnder(d: Holding, actual: Result): string | undefined {
  if (actual !== 0 && !(isObj(actual) && "error" in actual)) return `an operation on a chain a drain routine freed gave ${JSON.stringify(actual)}`;
  return isZero(d) ? undefined : "the failed operation kept buffers";
}

/** m_copym / m_copypacket of [off, off+len) of chain `src`: a new chain sharing the range's clusters, small mbufs copied. */
function observeCopy(m: Model, run: Run, src: string, off: number, len: number, actual: Result): string | undefined {
  const d = settle(m, run);
  if (typeof d === "string") return d;
  if (!m.live.has(src)) return freedUnder(d, actual);
  if (actual === 0) return tookFor(m, d, 0, false);
  if (typeof actual !== "string") return `gave ${JSON.stringify(actual)}`;
  const l = chain(m, src), bytes = l.bytes ?? [];
  const end = len === M_COPYALL ? bytes.length : off + len;
  const range = rangeOf(walkChain(run.pool, run.live.get(src)!), off, end);
  if (d.clusters !== 0) return `the copy took ${d.clusters} clusters (it shares them)`;
  // One mbuf per source mbuf in the range (one more if a packet header cannot hold the first piece).
  if (d.mbufs < 1 || d.mbufs > range.mbufs + 1) return `the copy took ${d.mbufs} mbufs for ${range.mbufs} source mbufs`;
  const name = m.addChain(l.type, l.pkthdr && off === 0, bytes.slice(off, end));
  if (name !== actual) return `the copy is ${actual}, the model named it ${name}`;
  const got = walkChain(run.pool, run.live.get(name)!).filter((x) => x.ext).map((x) => x.ext);
  if (got.join() !== range.exts.join()) return `the copy references clusters [${got}], the source's range has [${range.exts}]`;
  return reshaped(m, run, [src, name]);
}

/**
 * An op that gives the head to use from now on (m_pullup, M_PREPEND, m_defrag): the same
 * name, a new one (the old head freed or linked inside), or 0 (the chain unchanged).
 */
function newHead(run: Run, raw: Encoded, r: number): Result {
  if (r === 0 || r === run.live.get(raw as string)) return r === 0 ? 0 : raw;
  run.freed(raw as string);
  return run.newHandle(r);
}

/**
 * The model's side of newHead: `bytes` is the chain's new content; the chain
 * may have taken up to `maxTake` mbufs (net) and no cluster beyond `maxClusters`.
 */
function observeNewHead(m: Model, run: Run, src: string, actual: Result, bytes: (old: number[]) => number[],
  maxTake: number, maxClusters = 0, freesOld = false): string | undefined {
  // A new head means the op ran to its end: `src` was renamed, not freed by a drain routine.
  const renamed = typeof actual === "string" && actual !== src;
  const d = m.settle(run.pool.stats(), (name) => (name === src && renamed) || run.live.has(name));
  if (typeof d === "string") return d;
  if (!m.live.has(src)) return freedUnder(d, actual);
  if (actual === 0) return tookFor(m, d, 0, false);
  if (typeof actual !== "string") return `gave ${JSON.stringify(actual)}`;
  if (d.mbufs > maxTake || d.clusters > maxClusters) return `took ${d.mbufs} mbufs and ${d.clusters} clusters (at most ${maxTake} and ${maxClusters})`;
  if (actual === src) {
    if (freesOld) return "kept the old head";
    const l = chain(m, src);
    l.bytes = bytes(l.bytes ?? []);
    return reshaped(m, run, [src]);
  }
  const old = m.consumed(src);
  if (freesOld) m.dead.add(src);
  const name = m.addChain(old.type, old.pkthdr, bytes(old.bytes ?? []));
  if (name !== actual) return `the new head is ${actual}, the model named it ${name}`;
  return reshaped(m, run, [name], [old]);
}

const CHAIN_OPS: OpSpec[] = [
  {
    name: "append",
    weight: 3,
    args: [{ name: "m", kind: "handle" }, { name: "bytes", kind: "bytes" }],
    gen: (m, r) => {
      const h = chainHandle(m, r[0]);
      return h === undefined ? undefined : { m: h, bytes: someBytes(r[1]) };
    },
    run: (run, a) => run.pool.append(a.m as number, a.bytes as Uint8Array),
    model: () => undefined,
    observe: (m, run, a, actual) => {
      const b = bytesOf(a.bytes);
      return chainAdded(m, run, a.m as string, actual, b.length, (l) => {
        (l.bytes ??= []).push(...b);
      });
    },
  },
  {
    name: "copyback",
    weight: 2,
    args: [{ name: "m", kind: "handle" }, { name: "off", kind: "offset" }, { name: "bytes", kind: "bytes" }],
    gen: (m, r) => {
      const h = sharedFirst(m, r[0]);
      return h === undefined ? undefined : { m: h, off: r[2] % (lengthOf(m, h) + 1), bytes: someBytes(r[1]) };
    },
    run: (run, a) => run.pool.copyback(a.m as number, a.off as number, a.bytes as Uint8Array),
    model: (m, a) => ((a.off as number) > lengthOf(m, a.m) ? { error: "ERANGE" } : undefined),
    observe: (m, run, a, actual) => {
      const b = bytesOf(a.bytes), off = a.off as number;
      const grows = Math.max(0, off + b.length - lengthOf(m, a.m));
      // A shared cluster is read-only: writing over one copies it first (one mbuf and cluster each, at most).
      const slack = chain(m, a.m).refs?.length ?? 0;
      return chainAdded(m, run, a.m as string, actual, grows, (l) => {
        const bytes = (l.bytes ??= []);
        for (let i = 0; i < b.length; i++) bytes[off + i] = b[i];
      }, slack);
    },
  },
  {
    name: "copydata",
    weight: 3,
    // off defaults to 0 and len to the rest of the chain: undefined is valid for both.
    args: [{ name: "m", kind: "handle" }, { name: "off", kind: "offset", valid: (v, m) => isUndef(v) || validByKind("offset", v, m) },
      { name: "len", kind: "length", valid: (v, m) => isUndef(v) || validByKind("length", v, m) }],
    gen: (m, r) => {
      const h = sharedFirst(m, r[0]);
      if (h === undefined) return undefined;
      const n = lengthOf(m, h), off = r[1] % (n + 1);
      // Now and then a range that ends past the chain.
      return { m: h, off, len: r[3] % 8 === 0 ? n - off + 1 : r[2] % (n - off + 1) };
    },
    run: (run, a) => digest(run.pool.copydata(a.m as number, a.off as number, a.len as number)),
    model: (m, a) => {
      const bytes = chain(m, a.m).bytes ?? [], off = isUndef(a.off) ? 0 : (a.off as number);
      const len = isUndef(a.len) ? Math.max(0, bytes.length - off) : (a.len as number);
      if (off + len > bytes.length) return { error: "ERANGE" };
      return digest(bytes.slice(off, off + len));
    },
  },
  {
    name: "length",
    weight: 1,
    args: [{ name: "m", kind: "handle" }],
    gen: (m, r) => {
      const h = chainHandle(m, r[0]);
      return h === undefined ? undefined : { m: h };
    },
    run: (run, a) => run.pool.length(a.m as number),
    model: (m, a) => lengthOf(m, a.m),
  },
  {
    name: "adj",
    weight: 2,
    args: [{ name: "m", kind: "handle" }, { name: "req" }],
    gen: (m, r) => {
      const h = chainHandle(m, r[0], 1);
      if (h === undefined) return undefined;
      const n = lengthOf(m, h), k = r[1] % (n + 1);
      return { m: h, req: r[2] % 2 ? -k : k };
    },
    run: (run, a) => {
      run.pool.adj(a.m as number, a.req as number);
      return null;
    },
    model: (m, a) => (Math.abs(a.req as number) > lengthOf(m, a.m) ? { error: "ERANGE" } : undefined),
    observe: (m, run, a, actual) => {
      if (actual !== null) return `gave ${JSON.stringify(actual)}`;
      const l = chain(m, a.m), req = a.req as number, bytes = (l.bytes ??= []);
      if (req >= 0) bytes.splice(0, req);
      else bytes.splice(bytes.length + req, -req);
      return chainFreed(m, run, (l.extra ??= emptyHolding()), a.m as string);
    },
  },
  {
    name: "dup",
    weight: 2,
    args: [{ name: "m", kind: "handle" }],
    gen: (m, r) => {
      const h = chainHandle(m, r[0], 1);
      return h === undefined ? undefined : { m: h };
    },
    run: (run, a) => allocResult(run, run.pool.dup(a.m as number)),
    model: () => undefined,
    observe: (m, run, a, actual) => {
      const src = chain(m, a.m);
      const d = settle(m, run);
      if (typeof d === "string") return d;
      if (!m.live.has(a.m as string)) return actual === 0 || (isObj(actual) && "error" in actual) ? (isZero(d) ? undefined : "a failed dup kept buffers") : `dup of a chain a drain routine freed gave ${JSON.stringify(actual)}`;
      if (actual === 0) return tookFor(m, d, 0, false);
      if (typeof actual !== "string") return `dup gave ${JSON.stringify(actual)}`;
      const n = src.bytes?.length ?? 0;
      if (d.mbufs < 1) return `dup took ${d.mbufs} mbufs`;
      const bad = tookFor(m, { ...d, mbufs: d.mbufs - 1 }, n, true);
      if (bad) return bad;
      const name = m.addChain(src.type, src.pkthdr, [...(src.bytes ?? [])], d);
      return name === actual ? undefined : `dup's copy is ${actual}, the model named it ${name}`;
    },
  },
  {
    name: "cat",
    weight: 2,
    args: [{ name: "m", kind: "handle" }, { name: "n", kind: "handle" }],
    gen: (m, r) => {
      const a = chainHandle(m, r[0]), b = chainHandle(m, r[1]);
      return a === undefined || b === undefined || a === b ? undefined : { m: a, n: b };
    },
    run: (run, a, raw) => {
      run.pool.cat(a.m as number, a.n as number);
      run.freed(raw.n as string); // linked into m's chain: no longer the trace's to name
      return null;
    },
    model: (_m, a) => (a.m === a.n ? { error: "EINVAL" } : undefined),
    observe: (m, run, a, actual) => {
      if (actual !== null) return `gave ${JSON.stringify(actual)}`;
      const l = chain(m, a.m), n = m.consumed(a.n as string, chain(m, a.m));
      const moved: Holding = { mbufs: 1, clusters: n.cluster ? 1 : 0, census: new Array<number>(MT_NTYPES).fill(0) };
      moved.census[n.type] = 1;
      const extra = (l.extra ??= emptyHolding());
      m.hold(extra, moved);
      if (n.extra) m.hold(extra, n.extra);
      (l.bytes ??= []).push(...(n.bytes ?? []));
      return chainFreed(m, run, extra, a.m as string);
    },
  },
  {
    name: "copym",
    weight: 3,
    // off defaults to 0 and len to M_COPYALL: undefined is valid for both.
    args: [{ name: "m", kind: "handle" }, { name: "off", kind: "offset", valid: (v, m) => isUndef(v) || validByKind("offset", v, m) },
      { name: "len", kind: "length", valid: (v, m) => isUndef(v) || validByKind("length", v, m) }, { name: "how", kind: "how" }],
    gen: (m, r) => {
      const h = chainHandle(m, r[0]);
      if (h === undefined) return undefined;
      const n = lengthOf(m, h), off = r[1] % (n + 1);
      // Mostly a range inside the chain, often the rest of it (M_COPYALL), now and then one past its end.
      const len = r[3] % 4 === 0 ? M_COPYALL : r[3] % 11 === 1 ? n - off + 1 : r[2] % (n - off + 1);
      return { m: h, off, len, how: how(r[2] >> 3) };
    },
    run: (run, a) => allocResult(run, run.pool.copym(a.m as number, a.off as number, a.len as number, a.how as number)),
    model: (m, a) => {
      const n = lengthOf(m, a.m), off = offOf(a.off), len = lenOf(a.len);
      return off > n || (len !== M_COPYALL && off + len > n) ? { error: "ERANGE" } : undefined;
    },
    observe: (m, run, a, actual) => observeCopy(m, run, a.m as string, offOf(a.off), lenOf(a.len), actual),
  },
  {
    name: "copypacket",
    weight: 2,
    args: [{ name: "m", kind: "handle" }, { name: "how", kind: "how" }],
    gen: (m, r) => {
      const h = chainHandle(m, r[0]);
      return h === undefined ? undefined : { m: h, how: how(r[1]) };
    },
    run: (run, a) => allocResult(run, run.pool.copypacket(a.m as number, a.how as number)),
    model: (m, a) => (chain(m, a.m).pkthdr ? undefined : { error: "EINVAL" }),
    observe: (m, run, a, actual) => observeCopy(m, run, a.m as string, 0, M_COPYALL, actual),
  },
  {
    name: "split",
    weight: 2,
    args: [{ name: "m", kind: "handle" }, { name: "len0", kind: "length" }, { name: "how", kind: "how" }],
    gen: (m, r) => {
      const h = chainHandle(m, r[0]);
      if (h === undefined) return undefined;
      const n = lengthOf(m, h);
      return { m: h, len0: r[2] % 9 === 0 ? n + 1 : r[1] % (n + 1), how: how(r[3]) };
    },
    run: (run, a) => allocResult(run, run.pool.split(a.m as number, a.len0 as number, a.how as number)),
    model: (m, a) => ((a.len0 as number) > lengthOf(m, a.m) ? { error: "ERANGE" } : undefined),
    observe: (m, run, a, actual) => {
      const d = settle(m, run);
      if (typeof d === "string") return d;
      const src = a.m as string;
      if (!m.live.has(src)) return freedUnder(d, actual);
      if (actual === 0) return tookFor(m, d, 0, false);
      if (typeof actual !== "string") return `gave ${JSON.stringify(actual)}`;
      // The tail needs at most two new mbufs (a header mbuf and the split piece); a cluster at the cut is shared.
      if (d.clusters !== 0 || d.mbufs < 0 || d.mbufs > 2) return `split took ${d.mbufs} mbufs and ${d.clusters} clusters`;
      const l = chain(m, src), tail = (l.bytes ??= []).splice(a.len0 as number);
      // The tail's head is a new mbuf of the head's type, or (a cut on a boundary) the mbuf after it.
      const w = walkChain(run.pool, run.live.get(actual)!);
      const name = m.addChain(w[0]?.type ?? l.type, l.pkthdr, tail);
      if (name !== actual) return `the tail is ${actual}, the model named it ${name}`;
      return reshaped(m, run, [src, name]);
    },
  },
  {
    name: "pullup",
    weight: 2,
    args: [{ name: "m", kind: "handle" }, { name: "n", kind: "length" }, { name: "how", kind: "how" }],
    gen: (m, r) => {
      const h = chainHandle(m, r[0]);
      if (h === undefined) return undefined;
      const n = lengthOf(m, h);
      return { m: h, n: r[2] % 9 === 0 ? n + 1 : r[1] % (Math.min(n, MHLEN + 32) + 1), how: how(r[3]) };
    },
    run: (run, a, raw) => newHead(run, raw.m, run.pool.pullup(a.m as number, a.n as number, a.how as number)),
    model: (m, a) => ((a.n as number) > lengthOf(m, a.m) ? { error: "ERANGE" } : undefined),
    observe: (m, run, a, actual) => observeNewHead(m, run, a.m as string, actual, (b) => b, 1),
  },
  {
    name: "prepend",
    weight: 2,
    // A length is valid too: that many zeroed bytes.
    args: [{ name: "m", kind: "handle" }, { name: "data", kind: "bytes", valid: (v, m) => validByKind("bytes", v, m) || inRange(v, 0, MHLEN) },
      { name: "how", kind: "how" }],
    gen: (m, r) => {
      const h = chainHandle(m, r[0]);
      return h === undefined ? undefined : { m: h, data: { $: "bytes", n: [1, 17, 100, MHLEN][r[1] % 4], s: r[2] & 255 }, how: how(r[3]) };
    },
    run: (run, a, raw) => newHead(run, raw.m, run.pool.prepend(a.m as number, a.data as Uint8Array, a.how as number)),
    model: () => undefined,
    observe: (m, run, a, actual) => observeNewHead(m, run, a.m as string, actual, (b) => [...(typeof a.data === "number" ? new Array<number>(a.data).fill(0) : bytesOf(a.data)), ...b], 1),
  },
  {
    name: "defrag",
    weight: 1,
    args: [{ name: "m", kind: "handle" }, { name: "how", kind: "how" }],
    gen: (m, r) => {
      const h = chainHandle(m, r[0]);
      return h === undefined ? undefined : { m: h, how: how(r[1]) };
    },
    run: (run, a, raw) => newHead(run, raw.m, run.pool.defrag(a.m as number, a.how as number)),
    model: () => undefined,
    observe: (m, run, a, actual) => {
      const n = lengthOf(m, a.m);
      return observeNewHead(m, run, a.m as string, actual, (b) => b, Math.ceil(n / MLEN) + 2, Math.ceil(n / m.profile.mclbytes) + 1, true);
    },
  },
  {
    // tailspace() then commit(): a reader writes into the last mbuf's trailing space and commits what fit.
    name: "commit",
    weight: 2,
    // bytes is what the reader writes (not an argument of the pool's), so it is not fed bad values.
    args: [{ name: "m", kind: "handle" }, { name: "bytes" }],
    gen: (m, r) => {
      const h = sharedFirst(m, r[0]);
      return h === undefined ? undefined : { m: h, bytes: someBytes(r[1]) };
    },
    run: (run, a) => {
      const view = run.pool.tailspace(a.m as number), bytes = a.bytes as Uint8Array;
      const k = Math.min(view.length, bytes.length);
      view.set(bytes.subarray(0, k));
      run.pool.commit(a.m as number, k);
      return k;
    },
    model: () => undefined,
    observe: (m, run, a, actual) => {
      const d = settle(m, run);
      if (typeof d === "string") return d;
      if (!isZero(d)) return `tailspace and commit took or freed ${d.mbufs} mbufs`;
      const l = chain(m, a.m), b = bytesOf(a.bytes);
      if (typeof actual !== "number" || actual < 0 || actual > b.length) return `committed ${JSON.stringify(actual)} of ${b.length} bytes`;
      const w = walkChain(run.pool, run.live.get(a.m as string)!), last = w[w.length - 1];
      // A shared cluster has no trailing space (read-only); a fresh head has all of its own.
      if (last.ext && (m.shared.get(last.ext) ?? 0) > 1 && actual !== 0) return `committed ${actual} bytes into a shared cluster`;
      if (l.bytes === undefined && !l.extra && w.length === 1) { // never held data
        const room = last.ext ? m.profile.mclbytes : l.pkthdr ? MHLEN : MLEN;
        if (actual !== Math.min(room, b.length)) return `a fresh head took ${actual} bytes, its room is ${room}`;
      }
      (l.bytes ??= []).push(...b.slice(0, actual));
      return undefined;
    },
  },
  {
    // M_WRITABLE, with M_LEADINGSPACE and M_TRAILINGSPACE of the same mbuf: [writable, leading, trailing].
    name: "writable",
    weight: 1,
    args: [{ name: "m", kind: "handle" }],
    gen: (m, r) => {
      const h = sharedFirst(m, r[0]);
      return h === undefined ? undefined : { m: h };
    },
    run: (run, a) => [run.pool.writable(a.m as number), run.pool.leadingspace(a.m as number), run.pool.trailingspace(a.m as number)],
    model: () => undefined,
    observe: (m, run, a, actual) => {
      const head = walkChain(run.pool, run.live.get(a.m as string)!)[0];
      // A cluster with more than one reference is read-only and offers no space on either side.
      const shared = head.ext !== 0 && (m.shared.get(head.ext) ?? 0) > 1;
      const room = head.ext ? m.profile.mclbytes : 256;
      if (!Array.isArray(actual) || actual.length !== 3) return `gave ${JSON.stringify(actual)}`;
      const [w, lead, trail] = actual as [boolean, number, number];
      if (w === shared) return `writable is ${w} for a head whose cluster is ${shared ? "" : "not "}shared`;
      if (shared ? lead !== 0 || trail !== 0 : lead < 0 || trail < 0 || lead + trail + head.len > room) return `leading ${lead} and trailing ${trail} space around ${head.len} bytes (room ${room})`;
      return undefined;
    },
  },
  {
    name: "socreate",
    weight: 1,
    args: [],
    gen: (m) => (m.sockets.size >= 3 ? undefined : {}),
    run: (run) => allocResult(run, run.pool.socreate()),
    model: () => undefined,
    observe: (m, run, _a, actual) => {
      const d = settle(m, run);
      if (typeof d === "string") return d;
      if (actual === 0) return tookFor(m, d, 0, false);
      if (typeof actual !== "string") return `socreate gave ${JSON.stringify(actual)}`;
      if (d.mbufs < 1 || d.mbufs > 2 || d.clusters !== 0) return `a socket took ${d.mbufs} mbufs and ${d.clusters} clusters`;
      const name = m.addSocket(d);
      return name === actual ? undefined : `the socket is ${actual}, the model named it ${name}`;
    },
  },
  {
    name: "sbwrite",
    weight: 3,
    args: [{ name: "so", kind: "socket" }, { name: "which", kind: "sockbuf" }, { name: "bytes", kind: "bytes" }],
    gen: (m, r) => {
      const so = sockHandle(m, r[0]);
      return so === undefined ? undefined : { so, which: r[1] % 2 ? "snd" : "rcv", bytes: someBytes(r[2]) };
    },
    run: (run, a) => run.pool.sbwrite(a.so as number, a.which as "snd", a.bytes as Uint8Array),
    model: () => undefined,
    observe: (m, run, a, actual) => {
      if (typeof actual !== "boolean") return `gave ${JSON.stringify(actual)}`;
      const d = settle(m, run);
      if (typeof d === "string") return d;
      const b = bytesOf(a.bytes), so = m.sockets.get(a.so as string)!;
      const bad = tookFor(m, d, b.length, actual);
      if (bad) return bad;
      if (actual) {
        so[a.which as "snd"].push(...b);
        appendRecord(so.recs[a.which as "snd"], b.length, false);
      }
      m.hold(so.hold, d);
      return undefined;
    },
  },
  {
    name: "sbdrop",
    weight: 2,
    args: [{ name: "so", kind: "socket" }, { name: "which", kind: "sockbuf" }, { name: "len", kind: "length" }],
    gen: (m, r) => {
      const so = sockHandle(m, r[0]);
      if (so === undefined) return undefined;
      const which = r[1] % 2 ? "snd" : "rcv", cc = m.sockets.get(so)![which].length;
      return { so, which, len: r[3] % 8 === 0 ? cc + 1 : r[2] % (cc + 1) };
    },
    run: (run, a) => {
      run.pool.sbdrop(a.so as number, a.which as "snd", a.len as number);
      return run.pool.sbstat(a.so as number, a.which as "snd").cc;
    },
    model: (m, a) => ((a.len as number) > m.sockets.get(a.so as string)![a.which as "snd"].length ? { error: "ERANGE" } : undefined),
    observe: (m, run, a, actual) => {
      const so = m.sockets.get(a.so as string)!, sb = so[a.which as "snd"];
      sb.splice(0, a.len as number);
      dropRecords(so.recs[a.which as "snd"], a.len as number);
      if (actual !== sb.length) return `sb_cc is ${JSON.stringify(actual)} after the drop, expected ${sb.length}`;
      return chainFreed(m, run, so.hold);
    },
  },
  {
    name: "sbflush",
    weight: 1,
    args: [{ name: "so", kind: "socket" }, { name: "which", kind: "sockbuf" }],
    gen: (m, r) => {
      const so = sockHandle(m, r[0]);
      return so === undefined ? undefined : { so, which: r[1] % 2 ? "snd" : "rcv" };
    },
    run: (run, a) => {
      run.pool.sbflush(a.so as number, a.which as "snd");
      return run.pool.sbstat(a.so as number, a.which as "snd").cc;
    },
    model: () => undefined,
    observe: (m, run, a, actual) => {
      const so = m.sockets.get(a.so as string)!;
      so[a.which as "snd"].length = 0;
      so.recs[a.which as "snd"].length = 0;
      if (actual !== 0) return `sb_cc is ${JSON.stringify(actual)} after a flush`;
      return chainFreed(m, run, so.hold);
    },
  },
  ...(["sbappend", "sbappendrecord"] as const).map((name): OpSpec => ({
    name,
    weight: 2,
    args: [{ name: "so", kind: "socket" }, { name: "which", kind: "sockbuf" }, { name: "m", kind: "handle" }],
    gen: (m, r) => {
      const so = sockHandle(m, r[0]);
      // A chain with bytes and no shared cluster (socket buffers are not in the model of sharing).
      const names = [...m.live].filter(([, l]) => (l.bytes?.length ?? 0) > 0 && !l.refs?.length).map(([n]) => n);
      const h = pick(names, r[2]);
      return so === undefined || h === undefined ? undefined : { so, which: r[1] % 2 ? "snd" : "rcv", m: h };
    },
    run: (run, a, raw) => {
      const ok = run.pool[name](a.so as number, a.which as "snd", a.m as number);
      if (ok) run.freed(raw.m as string); // the socket buffer's now
      return ok;
    },
    model: () => undefined,
    observe: (m, run, a, actual) => {
      // Given to the socket buffer (true): no longer the trace's, but not freed by a drain routine either.
      const d = m.settle(run.pool.stats(), (h) => (h === a.m && actual === true) || run.live.has(h));
      if (typeof d === "string") return d;
      if (!m.live.has(a.m as string)) return `sbappend of a chain no longer live gave ${JSON.stringify(actual)}`;
      const which = a.which as "snd", so = m.sockets.get(a.so as string)!, n = lengthOf(m, a.m);
      if (typeof actual !== "boolean") return `gave ${JSON.stringify(actual)}`;
      const space = run.pool.sbspace(run.decode(a.so) as number, which);
      if (!actual) return n > space ? tookFor(m, d, 0, false) : `refused ${n} bytes with sbspace ${space}`;
      if (n > so.hiwat[which] - so[which].length) return `took ${n} bytes into ${so[which].length} of sb_hiwat ${so.hiwat[which]}`;
      // Compacting small mbufs into trailing space may free some; nothing is taken.
      const bad = onlyFreed(d);
      if (bad) return bad;
      const l = m.giveToSocket(a.m as string, so);
      so[which].push(...(l.bytes ?? []));
      appendRecord(so.recs[which], n, name === "sbappendrecord");
      m.hold(so.hold, d);
      const cc = run.pool.sbstat(run.decode(a.so) as number, which).cc;
      return cc === so[which].length ? m.checkHeld(run.pool.stats()) : `sb_cc is ${cc}, expected ${so[which].length}`;
    },
  })),
  {
    name: "sbdroprecord",
    weight: 1,
    args: [{ name: "so", kind: "socket" }, { name: "which", kind: "sockbuf" }],
    gen: (m, r) => {
      const so = sockHandle(m, r[0]);
      return so === undefined ? undefined : { so, which: r[1] % 2 ? "snd" : "rcv" };
    },
    run: (run, a) => {
      const ok = run.pool.sbdroprecord(a.so as number, a.which as "snd");
      return [ok, run.pool.sbstat(a.so as number, a.which as "snd").cc];
    },
    model: () => undefined,
    observe: (m, run, a, actual) => {
      const so = m.sockets.get(a.so as string)!, which = a.which as "snd", recs = so.recs[which];
      const had = recs.length > 0;
      if (had) so[which].splice(0, recs.shift()!);
      if (!Array.isArray(actual) || actual[0] !== had || actual[1] !== so[which].length) {
        return `gave ${JSON.stringify(actual)}, expected [${had},${so[which].length}]`;
      }
      return chainFreed(m, run, so.hold);
    },
  },
  {
    name: "sbtake",
    weight: 2,
    args: [{ name: "so", kind: "socket" }, { name: "which", kind: "sockbuf" }, { name: "max", kind: "length", valid: (v) => isUndef(v) || inRange(v, 1, 2 ** 31 - 1) }],
    gen: (m, r) => {
      const so = sockHandle(m, r[0]);
      return so === undefined ? undefined : { so, which: r[1] % 2 ? "snd" : "rcv", max: [1, 100, 1000, 3000, 2 ** 31 - 1][r[2] % 5] };
    },
    run: (run, a) => allocResult(run, run.pool.sbtake(a.so as number, a.which as "snd", a.max as number)),
    model: (_m, a) => (a.max === 0 ? { error: "ERANGE" } : undefined),
    observe: (m, run, a, actual) => {
      const d = settle(m, run);
      if (typeof d === "string") return d;
      if (!isZero(d)) return `sbtake took or freed ${d.mbufs} mbufs`;
      const so = m.sockets.get(a.so as string)!, which = a.which as "snd", recs = so.recs[which];
      if (actual === 0) return undefined; // empty, or a first mbuf larger than max (the layout decides)
      if (typeof actual !== "string") return `gave ${JSON.stringify(actual)}`;
      if (!recs.length) return "took a chain from an empty socket buffer";
      // Whole mbufs from the front of the first record: at most max bytes, at most the record.
      const w = walkChain(run.pool, run.live.get(actual)!);
      const k = w.reduce((n, x) => n + x.len, 0);
      if (k > (isUndef(a.max) ? 2 ** 31 - 1 : (a.max as number)) || k > recs[0]) return `took ${k} bytes (max ${a.max}, first record ${recs[0]})`;
      const name = m.addChain(w[0].type, w[0].pkthdr, so[which].splice(0, k));
      if (name !== actual) return `the chain is ${actual}, the model named it ${name}`;
      dropRecords(recs, k);
      const bad = m.reshape(new Map([[name, w]]));
      if (bad) return bad;
      m.takeFromSocket(name, so);
      const cc = run.pool.sbstat(run.decode(a.so) as number, which).cc;
      return cc === so[which].length ? m.checkHeld(run.pool.stats()) : `sb_cc is ${cc}, expected ${so[which].length}`;
    },
  },
  {
    name: "sbreserve",
    weight: 1,
    args: [{ name: "so", kind: "socket" }, { name: "which", kind: "sockbuf" }, { name: "cc", kind: "length" }],
    gen: (m, r) => {
      const so = sockHandle(m, r[0]);
      return so === undefined ? undefined : { so, which: r[1] % 2 ? "snd" : "rcv", cc: [0, 100, 4096, 32768, 200_000, 2 ** 31 - 1][r[2] % 6] };
    },
    run: (run, a) => run.pool.sbreserve(a.so as number, a.which as "snd", a.cc as number),
    // sb_max (256 KiB) bounds sb_mbmax; sb_hiwat may be at most sb_max x MCLBYTES / (MSIZE + MCLBYTES). sb_lowat follows down.
    model: (m, a) => {
      const so = m.sockets.get(a.so as string)!, which = a.which as "snd", cc = a.cc as number, cl = m.profile.mclbytes;
      if (cc > Math.floor((256 * 1024 * cl) / (256 + cl))) return false;
      so.hiwat[which] = cc;
      so.lowat[which] = Math.min(so.lowat[which], cc);
      return true;
    },
  },
  {
    name: "sbsetlowat",
    weight: 1,
    args: [{ name: "so", kind: "socket" }, { name: "which", kind: "sockbuf" }, { name: "lowat", kind: "length" }],
    gen: (m, r) => {
      const so = sockHandle(m, r[0]);
      if (so === undefined) return undefined;
      const which = r[1] % 2 ? "snd" : "rcv", hi = m.sockets.get(so)!.hiwat[which];
      return { so, which, lowat: r[2] % 7 === 0 ? hi + 1 : r[2] % (hi + 1) };
    },
    run: (run, a) => {
      run.pool.sbsetlowat(a.so as number, a.which as "snd", a.lowat as number);
      return run.pool.sbstat(a.so as number, a.which as "snd").lowat;
    },
    model: (m, a) => {
      const so = m.sockets.get(a.so as string)!, which = a.which as "snd";
      if ((a.lowat as number) > so.hiwat[which]) return { error: "ERANGE" };
      return (so.lowat[which] = a.lowat as number);
    },
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
    name: "soclose",
    weight: 1,
    args: [{ name: "so", kind: "socket" }],
    gen: (m, r) => {
      const so = sockHandle(m, r[0]);
      return so === undefined ? undefined : { so };
    },
    run: (run, a, raw) => {
      run.pool.soclose(a.so as number);
      run.freed(raw.so as string);
      return null;
    },
    model: (m, a) => {
      m.closeSocket(a.so as string);
      return null;
    },
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

const isUndef = (v: Encoded): boolean => isTag(v) && v.$ === "undefined";
/** Adds `n` bytes to a socket buffer's records: to the last one (sbappend), or as a new one. */
function appendRecord(recs: number[], n: number, record: boolean): void {
  if (n === 0) return;
  if (record || !recs.length) recs.push(n);
  else recs[recs.length - 1] += n;
}
/** copym's offset and length, with their defaults. */
const offOf = (v: Encoded): number => (isUndef(v) ? 0 : (v as number));
const lenOf = (v: Encoded): number => (isUndef(v) ? M_COPYALL : (v as number));
const isObj = (v: unknown): v is Record<string, Encoded> => typeof v === "object" && v !== null && !Array.isArray(v);

export const OPS: readonly OpSpec[] = [
  getOp("get", false),
  getOp("gethdr", true),
  {
    name: "getcl",
    weight: 8,
    args: [{ name: "how", kind: "how" }, { name: "type", kind: "type" }, { name: "flags", kind: "flags" }],
    gen: (_m, r) => ({ how: how(r[0]), type: mtype(r[1]), flags: r[2] % 4 ? M_PKTHDR : 0 }),
    run: (run, a) => allocResult(run, run.pool.getcl(a.how as number, a.type as number, a.flags as number)),
    model: (m, a) => m.getcl(a.how as number, a.type as number, a.flags === M_PKTHDR),
  },
  {
    name: "clget",
    weight: 4,
    args: [{ name: "m", kind: "handle" }, { name: "how", kind: "how" }],
    gen: (m, r) => {
      // Heads that never held data: m_clget's answer for a head with a chain depends on where its bytes sit.
      const names = [...m.live].filter(([, l]) => !l.extra && !l.bytes?.length && (r[2] % 4 === 0 || !l.cluster)).map(([n]) => n);
      const h = pick(names, r[0]);
      return h === undefined ? undefined : { m: h, how: how(r[1]) };
    },
    run: (run, a) => run.pool.clget(a.m as number, a.how as number),
    model: (m, a) => {
      if (m.live.get(a.m as string)!.cluster) return { error: "EINVAL" };
      return m.clget(a.m as string, a.how as number);
    },
  },
  {
    name: "free",
    weight: 6,
    args: [{ name: "m", kind: "handle" }],
    gen: (m, r) => {
      // One mbuf only: m_free of a longer chain hands back its successor, a head the trace never named.
      const h = pick([...m.live].filter(([, l]) => !l.extra?.mbufs).map(([n]) => n), r[0]);
      return h === undefined ? undefined : { m: h };
    },
    run: (run, a, raw) => {
      const next = run.pool.free(a.m as number);
      run.freed(raw.m as string);
      return next ? run.nameOf(next) : 0;
    },
    model: (m, a) => {
      m.release(a.m as string);
      return 0;
    },
  },
  {
    name: "freem",
    weight: 6,
    args: [{ name: "m", kind: "handle" }],
    gen: (m, r) => {
      const h = liveHandle(m, r[0]);
      return h === undefined ? undefined : { m: h };
    },
    run: (run, a, raw) => {
      run.pool.freem(a.m as number);
      run.freed(raw.m as string);
      return null;
    },
    model: (m, a) => {
      m.release(a.m as string);
      return null;
    },
  },
  {
    name: "getBulk",
    weight: 3,
    args: [{ name: "n", kind: "count" }, { name: "how", kind: "how" }, { name: "type", kind: "type" },
      { name: "cluster" }, { name: "pkthdr" }],
    gen: (_m, r) => ({ n: 1 + (r[0] % 24), how: how(r[1]), type: mtype(r[2]), cluster: r[3] % 2 === 0, pkthdr: r[3] % 3 === 0 }),
    run: (run, a) => {
      const n = a.n;
      const out = new Int32Array(typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 4096 ? n : 16);
      const got = run.pool.getBulk(out, n as number, a.how as number, a.type as number,
        { cluster: a.cluster as boolean, pkthdr: a.pkthdr as boolean });
      const names: Encoded[] = [];
      for (let i = 0; i < got; i++) names.push(run.newHandle(out[i]));
      return names;
    },
    model: (m, a) => {
      const names: Encoded[] = [];
      for (let i = 0; i < (a.n as number); i++) {
        const h = a.cluster
          ? m.getcl(a.how as number, a.type as number, a.pkthdr === true)
          : m.get(a.how as number, a.type as number, a.pkthdr === true);
        if (h === 0) break;
        names.push(h);
      }
      return names;
    },
  },
  {
    name: "freemBulk",
    weight: 3,
    args: [{ name: "ms", kind: "handles" }],
    gen: (m, r) => {
      const live = [...m.live.keys()];
      if (!live.length) return undefined;
      const start = r[0] % live.length;
      const ms: Encoded[] = live.slice(start, start + 1 + (r[1] % 12));
      // Now and then a bad batch: a handle given twice, or a freed one. Nothing of it may be freed.
      if (r[2] % 10 === 0) ms.push(ms[0]);
      else if (r[2] % 10 === 1) {
        const freed = pick(m.freedHandles(), r[3]);
        if (freed) ms.splice(r[3] % ms.length, 0, freed);
      }
      return { ms };
    },
    run: (run, a, raw) => {
      run.pool.freemBulk(a.ms as number[]);
      for (const name of raw.ms as string[]) run.freed(name);
      return null;
    },
    model: (m, a) => {
      const ms = a.ms as Encoded[];
      // The host refuses a value that is not an i32 before the core sees the batch ...
      if (!ms.every(decodesToI32)) return { error: "EBADHANDLE" };
      // ... and the core checks every handle before it frees any.
      const seen = new Set<Encoded>();
      for (const h of ms) {
        if (typeof h === "string" && m.dead.has(h)) return { error: [...FREED_CODES] };
        if (typeof h !== "string" || !m.live.has(h)) return { error: "EBADHANDLE" };
        if (seen.has(h)) return { error: "EDOUBLEFREE" };
        seen.add(h);
      }
      for (const h of ms) m.release(h as string);
      return null;
    },
  },
  {
    name: "chtype",
    weight: 2,
    args: [{ name: "m", kind: "handle" }, { name: "type", kind: "type" }],
    gen: (m, r) => {
      const h = liveHandle(m, r[0]);
      return h === undefined ? undefined : { m: h, type: mtype(r[1]) };
    },
    run: (run, a) => {
      run.pool.chtype(a.m as number, a.type as number);
      return null;
    },
    model: (m, a) => {
      m.live.get(a.m as string)!.type = a.type as number;
      return null;
    },
  },
  {
    name: "setOwner",
    weight: 1,
    args: [{ name: "tag", kind: "tag" }],
    gen: (_m, r) => ({ tag: r[0] % 5 === 0 ? 2 ** 32 - 1 : r[0] }),
    run: (run, a) => {
      run.pool.setOwner(a.tag as number);
      return null;
    },
    model: () => null,
  },
  {
    name: "setReserved",
    weight: 2,
    args: [{ name: "flag", kind: "bool" }],
    gen: (_m, r) => ({ flag: r[0] % 3 === 0 }),
    run: (run, a) => {
      run.pool.setReserved(a.flag as boolean);
      return null;
    },
    model: (m, a) => {
      m.resvFlag = a.flag as boolean;
      return null;
    },
  },
  {
    name: "setReserve",
    weight: 2,
    args: [{ name: "count", kind: "count", valid: (v, m) => inRange(v, 0, m.zones.cluster.limit) }],
    gen: (m, r) => ({ count: r[0] % 3 === 0 ? 0 : r[0] % (m.zones.cluster.limit + 1) }),
    run: (run, a) => {
      run.pool.setReserve(a.count as number);
      return null;
    },
    model: (m, a) => {
      m.resvCount = a.count as number;
      return null;
    },
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
    name: "setPacketZone",
    weight: 1,
    args: [{ name: "options", kind: "packetZone" }],
    gen: (_m, r) => ({ options: [{ mode: "median", interval: 0 }, { mode: "watermark", interval: 0 }, { mode: "none", interval: 0 }, false][r[0] % 4] as Encoded }),
    run: (run, a) => {
      run.pool.setPacketZone(a.options as false);
      return null;
    },
    model: (m, a) => {
      const o = a.options as { mode: string } | false;
      m.setPacket(packetModelOf(o === false ? null : o));
      return null;
    },
  },
  {
    name: "packetRefill",
    weight: 2,
    args: [{ name: "n", kind: "amount" }],
    gen: (_m, r) => ({ n: r[0] % 9 }),
    run: (run, a) => run.pool.packetRefill(a.n as number),
    model: (m, a) => m.packetRefill(a.n as number),
  },
  {
    name: "packetDrain",
    weight: 2,
    args: [{ name: "n", kind: "amount" }],
    gen: (_m, r) => ({ n: r[0] % 3 === 0 ? 2 ** 31 - 1 : r[0] % 9 }),
    run: (run, a) => run.pool.packetDrain(a.n as number),
    model: (m, a) => m.packetDrain(a.n as number),
  },
  {
    name: "packetBalance",
    weight: 1,
    args: [],
    gen: () => ({}),
    run: (run) => ({ ...run.pool.packetBalance() }),
    // The epoch's decision follows the demand window's quartiles: observed, then checked against the cache it moved.
    model: () => undefined,
    observe: (m, run, _a, actual) => m.observeBalance(actual as unknown as PacketEpochLike, run.pool.stats()),
  },
  {
    name: "countWaitFailed",
    weight: 1,
    args: [{ name: "zone", kind: "zone" }],
    gen: (_m, r) => ({ zone: zone(r[0]) }),
    run: (run, a) => {
      run.pool.countWaitFailed(a.zone as ZoneName);
      return null;
    },
    model: (m, a) => {
      m.waitFailed(a.zone as ZoneName);
      return null;
    },
  },
  {
    name: "onDrain",
    weight: 1,
    args: [{ name: "m" }],
    gen: (m, r) => {
      const h = liveHandle(m, r[0]);
      return h === undefined || m.drainRoutines.length >= 4 ? undefined : { m: h };
    },
    run: (run, a, raw) => {
      const name = raw.m as string;
      run.pool.onDrain(`free ${name}`, (p) => {
        if (!run.live.has(name)) return;
        p.freem(a.m as number);
        run.freed(name);
      });
      return null;
    },
    model: (m, a) => {
      m.drainRoutines.push(a.m as string);
      return null;
    },
  },
  {
    name: "advance",
    weight: 1,
    args: [{ name: "ms" }],
    gen: (_m, r) => ({ ms: [1, 999, 1000, 30_000, 300_000][r[0] % 5] }),
    run: (run, a) => {
      run.clock.advance(a.ms as number);
      return null;
    },
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
  ...CHAIN_OPS,
  // Checkpoints: the fuzzer inserts them every --audit-every operations and at the end.
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

/** The op table by name. */
export const OP_BY_NAME: ReadonlyMap<string, OpSpec> = new Map(OPS.map((o) => [o.name, o]));
