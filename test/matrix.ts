// The bad-input matrix: every public entry point (the host Pool API and the
// core's raw exports) × every argument × every class of bad value that
// applies to it (src/fuzz/values.ts). Each case runs on a fresh pool holding
// a plain mbuf (h1), an mbuf with a cluster (h2) and a freed handle (h3):
//
// - a Pool method must throw an MbufError with the argument kind's code
//   (or return 0/false where the kernel convention is NULL);
// - a raw core export must return a negative code or 0; a BigInt is refused
//   by JS itself with a TypeError before the core runs, which is no trap;
// - either way nothing in use may change, the audit must stay clean, and the
//   pool must still allocate and free afterwards.
//
// Entry points are discovered (the wasm module's exported functions; the
// public methods of Pool from its declaration file), and a discovered entry
// without a row here fails the coverage test: new API cannot skip the matrix.
// Every operation of the fuzzer's op table (src/fuzz/ops/) also gets its
// argument kinds' classes here, judged by the reference model's prediction,
// so a Pool method with an op-table entry is covered without a row of its own.

import { readFileSync } from "node:fs";
import ts from "typescript";
import {
  Pool, MbufError, PROFILES, resolveTunables, getProfile, M_NOWAIT, M_WAITOK, MT, M_PKTHDR, type PoolStats, type ShareHandle,
} from "mbufpool";
import {
  Run, KINDS, FREED, FREED_CODES, OPS, OP_BY_NAME, Model, argError, capture, matches,
  type PoolFactory, type BadClass, type KindName, type Encoded, type Args, type Result,
} from "mbufpool/fuzz";
// The build under test, as helpers.ts names it: not imported from there, so that the matrix
// also runs outside vitest (in a worker thread, test/fixtures/matrix-worker.ts).
const BUILD = process.env.MBUFPOOL_BUILD === "debug" ? "debug" : "release";

/** The pool a case runs on, with its named handles decoded. */
export interface Fixture {
  run: Run;
  pool: Pool;
  /** A live mbuf without a cluster, a live mbuf with one, a freed handle. */
  plain: number;
  withCluster: number;
  freed: number;
  /** An open socket (no PCB, nothing queued). */
  so: number;
}

/** One argument of an entry: its kind (the bad classes), whether it has a default, and a valid value. */
interface Arg {
  name: string;
  kind?: KindName;
  /** Bad classes beyond the kind's (code: what the host must answer). */
  extra?: { cls: BadClass; code?: string | string[] }[];
  /** The argument has a default: `undefined` is valid. */
  optional?: boolean;
  /** Raw core argument: feed only classes that stay bad after ToInt32. */
  valid(f: Fixture): unknown;
}

/** One row: an entry point and how to call it. */
export interface Entry {
  name: string;
  side: "pool" | "core";
  args: Arg[];
  call(f: Fixture, args: unknown[], factoryPool: Pool): unknown;
  /** A NULL-convention result (0 or false) is an accepted answer to bad input. */
  nullOk?: boolean;
  /** The method answers with a promise: a bad input must reject it with the code (waiting allocation). */
  async?: boolean;
  /** Cases of its own (entries whose bad inputs are not per-argument classes). */
  custom?: (f: Fixture) => { label: string; run: () => unknown; codes: readonly string[] }[];
}

const cls = (name: string, v: Encoded): BadClass => ({ name, raw: true, make: () => v });
const handleArg = (name = "m"): Arg => ({ name, kind: "handle", valid: (f) => f.plain });
const howArg = (): Arg => ({ name: "how", kind: "how", optional: true, valid: () => M_NOWAIT });
const typeArg = (optional = true): Arg => ({ name: "type", kind: "type", optional, valid: () => MT.DATA });
const zoneArg = (): Arg => ({ name: "zone", kind: "zone", valid: () => "cluster" });
const offArg = (name = "off", optional = false, valid = 0): Arg => ({ name, kind: "offset", optional, valid: () => valid });
const lenArg = (name = "len", optional = false, valid = 0): Arg => ({ name, kind: "length", optional, valid: () => valid });
const waitHowArg = (): Arg => ({ name: "how", kind: "waitHow", optional: true, valid: () => M_WAITOK });
const soArg = (): Arg => ({ name: "so", kind: "socket", valid: (f) => f.so });
const whichArg = (): Arg => ({ name: "which", kind: "sockbuf", valid: () => "snd" });
const bytesArg = (): Arg => ({ name: "bytes", kind: "bytes", valid: () => new Uint8Array(8) });
/** A Pool method whose arguments are all positional. */
const poolRow = (name: string, args: Arg[], extra: Partial<Entry> = {}): Entry => ({
  name: `Pool.${name}`, side: "pool", args,
  call: (f, a) => (f.pool as unknown as Record<string, (...x: unknown[]) => unknown>)[name](...a),
  ...extra,
});
/** The chain operations, the socket buffers, waits, tunables and reports (host side). */
const MERGED_POOL_ENTRIES: Entry[] = [
  poolRow("length", [handleArg()]),
  poolRow("copydata", [handleArg(), offArg("off", true), lenArg("len", true),
    { name: "out", kind: "bytes", optional: true, valid: () => new Uint8Array(4),
      extra: [{ cls: cls("longer than out", { $: "i32s", v: [] }), code: "EINVAL" }] },
    { name: "outOff", optional: true, valid: () => 0, extra: [{ cls: cls("past the output", 5), code: "ERANGE" },
      { cls: cls("negative", -1), code: "ERANGE" }, { cls: cls("1.5", 1.5), code: "EINVAL" }, { cls: cls("string", { $: "str", v: "0" }), code: "EINVAL" }] }]),
  poolRow("copyback", [handleArg(), offArg(), bytesArg(), howArg()], { nullOk: true }),
  poolRow("append", [handleArg(), bytesArg(), howArg()], { nullOk: true }),
  poolRow("copym", [handleArg(), offArg("off", true), lenArg("len", true), howArg()], { nullOk: true }),
  poolRow("copypacket", [{ ...handleArg(), valid: (f) => f.withCluster,
    extra: [{ cls: cls("an mbuf without a packet header", "h1"), code: "EINVAL" }] }, howArg()], { nullOk: true }),
  poolRow("dup", [handleArg(), howArg()], { nullOk: true }),
  poolRow("defrag", [handleArg(), howArg()], { nullOk: true }),
  poolRow("pullup", [{ ...handleArg(), valid: (f) => f.withCluster }, lenArg("n", false, 0), howArg()], { nullOk: true }),
  poolRow("prepend", [handleArg(), { name: "data", valid: () => 4,
    extra: [{ cls: cls("negative", -1), code: "ERANGE" }, { cls: cls("1.5", 1.5), code: "EINVAL" }, { cls: cls("NaN", { $: "NaN" }), code: "EINVAL" },
      { cls: cls("null", null), code: "EINVAL" }, { cls: cls("string", { $: "str", v: "4" }), code: "EINVAL" }, { cls: cls("more than an mbuf holds", 4096), code: "EINVAL" }, { cls: cls("plain array", [1]), code: "EINVAL" }] }, howArg()], { nullOk: true }),
  poolRow("adj", [handleArg(), { name: "req", valid: () => 0,
    extra: [{ cls: cls("past the chain", { $: "len", h: "h1", d: 1 }), code: "ERANGE" }, { cls: cls("before the chain", -1), code: "ERANGE" },
      { cls: cls("2**31", 2 ** 31), code: "ERANGE" }, { cls: cls("1.5", 1.5), code: "EINVAL" }, { cls: cls("NaN", { $: "NaN" }), code: "EINVAL" },
      { cls: cls("string", { $: "str", v: "1" }), code: "EINVAL" }, { cls: cls("undefined", { $: "undefined" }), code: "EINVAL" }] }]),
  poolRow("cat", [handleArg(), { ...handleArg("n"), valid: (f) => f.withCluster,
    extra: [{ cls: cls("the same chain", "h1"), code: "EINVAL" }] }]),
  poolRow("split", [handleArg(), lenArg("len0"), howArg()], { nullOk: true }),
  poolRow("getptr", [handleArg(), offArg()]),
  poolRow("apply", [handleArg(), offArg(), lenArg(), { name: "fn", kind: "fn", valid: () => () => 0 }]),
  poolRow("leadingspace", [handleArg()]),
  poolRow("trailingspace", [handleArg()]),
  poolRow("writable", [handleArg()]),
  poolRow("data", [handleArg()]),
  poolRow("socreate", [{ name: "options", kind: "options", optional: true, valid: () => ({}),
    extra: [{ cls: cls("sndHiwat -1", { sndHiwat: -1 }) }, { cls: cls("rcvHiwat 1.5", { rcvHiwat: 1.5 }) },
      { cls: cls("sndHiwat past sb_max", { sndHiwat: 2 ** 31 - 1 }) }] }, howArg()]),
  poolRow("soclose", [soArg()]),
  poolRow("sopcb", [soArg()]),
  poolRow("sbreserve", [soArg(), whichArg(), { name: "cc", valid: () => 4096, extra: [{ cls: cls("negative", -1), code: "ERANGE" },
    { cls: cls("1.5", 1.5), code: "EINVAL" }, { cls: cls("NaN", { $: "NaN" }), code: "EINVAL" }, { cls: cls("2**31", 2 ** 31), code: "ERANGE" }] }], { nullOk: true }),
  poolRow("sbsetlowat", [soArg(), whichArg(), { name: "lowat", valid: () => 1, extra: [{ cls: cls("above sb_hiwat", 2 ** 20), code: "ERANGE" },
    { cls: cls("negative", -1), code: "ERANGE" }, { cls: cls("1.5", 1.5), code: "EINVAL" }, { cls: cls("undefined", { $: "undefined" }), code: "EINVAL" }] }]),
  poolRow("sbappend", [soArg(), whichArg(), { ...handleArg(), extra: [{ cls: cls("the socket itself", { $: "so" }), code: ["EINVAL", "EBUSY", "EBADHANDLE"] }] }]),
  poolRow("sbappendrecord", [soArg(), whichArg(), handleArg()]),
  poolRow("sbwrite", [soArg(), whichArg(), bytesArg(), howArg()], { nullOk: true }),
  poolRow("sbdrop", [soArg(), whichArg(), { ...lenArg("len"), extra: [{ cls: cls("more than sb_cc", 1), code: "ERANGE" }] }]),
  poolRow("sbdroprecord", [soArg(), whichArg()]),
  poolRow("sbflush", [soArg(), whichArg()]),
  poolRow("sbrelease", [soArg(), whichArg()]),
  poolRow("sbspace", [soArg(), whichArg()]),
  poolRow("sbstat", [soArg(), whichArg()]),
  poolRow("sbcc", [soArg(), whichArg()]),
  poolRow("sbmb", [soArg(), whichArg()]),
  // Zero-copy input (mbufpool/node): the trailing space, committing bytes written there, taking whole mbufs out.
  poolRow("tailspace", [handleArg()]),
  // commit's length is bounded by the trailing space, not by the chain: no "length" kind here.
  poolRow("commit", [handleArg(), { name: "len", valid: () => 0, extra: [{ cls: cls("more than the trailing space", 1 << 20), code: "ERANGE" },
    { cls: cls("negative", -1), code: "ERANGE" }, { cls: cls("1.5", 1.5), code: "EINVAL" }, { cls: cls("NaN", { $: "NaN" }), code: "EINVAL" },
    { cls: cls("2**32 (wraps to 0)", 2 ** 32), code: ["ERANGE", "EINVAL"] }] }]),
  poolRow("sbtake", [soArg(), whichArg(), { name: "max", optional: true, valid: () => 1 << 20, extra: [{ cls: cls("0", 0), code: "ERANGE" },
    { cls: cls("negative", -1), code: "ERANGE" }, { cls: cls("1.5", 1.5), code: "EINVAL" }, { cls: cls("NaN", { $: "NaN" }), code: "EINVAL" }] }]),
  poolRow("getWait", [waitHowArg(), typeArg(),
    { name: "options", kind: "waitOptions", optional: true, valid: () => ({ timeout: 0 }) }], { async: true }),
  poolRow("gethdrWait", [waitHowArg(), typeArg(), { name: "options", kind: "waitOptions", optional: true, valid: () => ({ timeout: 0 }) }], { async: true }),
  poolRow("getclWait", [waitHowArg(), typeArg(), { name: "flags", kind: "flags", optional: true, valid: () => M_PKTHDR },
    { name: "options", kind: "waitOptions", optional: true, valid: () => ({ timeout: 0 }) }], { async: true }),
  poolRow("clgetWait", [handleArg(), waitHowArg(), { name: "options", kind: "waitOptions", optional: true, valid: () => ({ timeout: 0 }) }], { async: true }),
  // The fixture is a freebsd4 pool: a jumbo size is EINVAL there (it has no jumbo zones).
  poolRow("getjclWait", [waitHowArg(), typeArg(), { name: "flags", kind: "flags", optional: true, valid: () => M_PKTHDR },
    { name: "size", kind: "clusterSize", valid: () => 2048, extra: [{ cls: cls("MJUM9BYTES (no jumbo zones here)", 9216), code: "EINVAL" }] },
    { name: "options", kind: "waitOptions", optional: true, valid: () => ({ timeout: 0 }) }], { async: true }),
  poolRow("vmstatZ", []),
  poolRow("zones", []),
  poolRow("listTunables", []),
  poolRow("metrics", [], { async: true }),
  poolRow("outstanding", [{ name: "options", kind: "options", optional: true, valid: () => ({}) }]),
  poolRow("watchLeaks", [{ name: "options", kind: "options", optional: true, valid: () => ({}) }],
    { call: (f, a) => f.pool.watchLeaks(a[0] as object).stop() }),
  poolRow("sysctl", [{ name: "name", kind: "tunableName", valid: () => "kern.ipc.mb_rcv_resv" },
    { name: "value", kind: "tunableValue", valid: () => 0,
      extra: [{ cls: cls("past nmbclusters", 9), code: "ETUNABLE" }] }],
    { custom: (f) => [
      { label: "a boot-time tunable written at run time", run: () => f.pool.sysctl("kern.ipc.nmbclusters", 16), codes: ["ETUNABLE"] },
      { label: "read: unknown tunable", run: () => f.pool.sysctl("kern.ipc.nosuch"), codes: ["ETUNABLE"] },
    ] }),
  poolRow("tunable", [{ name: "name", kind: "tunableName", valid: () => "kern.ipc.mb_rcv_resv" }]),
  poolRow("resetTunable", [{ name: "name", kind: "tunableName", valid: () => "kern.ipc.mb_rcv_resv" }],
    { custom: (f) => [{ label: "a boot-time tunable", run: () => f.pool.resetTunable("kern.ipc.nmbclusters"), codes: ["ETUNABLE"] }] }),
];

/** Host Pool methods. */
const POOL_ENTRIES: Entry[] = [
  {
    name: "Pool.create", side: "pool", args: [],
    call: () => undefined,
    custom: () => createCases(),
  },
  {
    name: "Pool.attach", side: "pool", args: [],
    call: () => undefined,
    custom: () => attachCases(),
  },
  {
    name: "Pool.shareHandle", side: "pool", args: [], call: () => undefined,
    custom: (f) => [{ label: "an unshared pool", run: () => f.pool.shareHandle(), codes: ["ESTATE"] }],
  },
  {
    // A shared pool's rings: test/ring.test.ts runs their bad inputs.
    name: "Pool.createRing", side: "pool", args: [], call: () => undefined,
    custom: (f) => [{ label: "an unshared pool", run: () => f.pool.createRing(), codes: ["ESTATE"] }],
  },
  {
    name: "Pool.openRing", side: "pool", args: [], call: () => undefined,
    custom: (f) => [{ label: "an unshared pool", run: () => f.pool.openRing({} as never), codes: ["ESTATE"] }],
  },
  {
    // A shared pool's threads: test/thread-reap.test.ts runs their bad inputs on one.
    name: "Pool.threads", side: "pool", args: [], call: () => undefined,
    custom: (f) => [{ label: "an unshared pool", run: () => f.pool.threads(), codes: ["ESTATE"] }],
  },
  {
    // Takes no argument; on a shared pool it reads the depot (test/thread-cache.test.ts).
    name: "Pool.depot", side: "pool", args: [], call: () => undefined,
    custom: (f) => [{ label: "an unshared pool", run: () => f.pool.depot(), codes: ["ESTATE"] }],
  },
  {
    name: "Pool.reapThread", side: "pool", args: [], call: () => undefined,
    custom: (f) => [
      { label: "an unshared pool", run: () => f.pool.reapThread(1), codes: ["ESTATE"] },
      { label: "a thread id of -1", run: () => f.pool.reapThread(-1), codes: ["EINVAL"] },
      { label: "an unknown option", run: () => f.pool.reapThread(1, { owner: 1 } as never), codes: ["EINVAL"] },
    ],
  },
  {
    name: "Pool.freeOwned", side: "pool", args: [], call: () => undefined,
    custom: (f) => [
      { label: "a number", run: () => f.pool.freeOwned(5 as never), codes: ["EINVAL"] },
      { label: "a reversed range", run: () => f.pool.freeOwned({ from: 2, to: 1 }), codes: ["EINVAL"] },
      { label: "a range with an unknown key", run: () => f.pool.freeOwned({ from: 0, to: 1, x: 1 } as never), codes: ["EINVAL"] },
      { label: "NaN bounds", run: () => f.pool.freeOwned({ from: NaN, to: 1 }), codes: ["EINVAL"] },
    ],
  },
  { name: "Pool.get", side: "pool", args: [howArg(), typeArg()], call: (f, a) => f.pool.get(...(a as [number, number])) },
  { name: "Pool.gethdr", side: "pool", args: [howArg(), typeArg()], call: (f, a) => f.pool.gethdr(...(a as [number, number])) },
  {
    name: "Pool.getcl", side: "pool",
    args: [howArg(), typeArg(), { name: "flags", kind: "flags", optional: true, valid: () => M_PKTHDR }],
    call: (f, a) => f.pool.getcl(...(a as [number, number, number])),
  },
  {
    name: "Pool.clget", side: "pool",
    args: [{ ...handleArg(), extra: [{ cls: cls("an mbuf that has a cluster", { $: "cluster-holder" }), code: "EINVAL" }] }, howArg()],
    call: (f, a) => f.pool.clget(...(a as [number, number])),
  },
  { name: "Pool.free", side: "pool", args: [handleArg()], call: (f, a) => f.pool.free(a[0] as number) },
  { name: "Pool.freem", side: "pool", args: [handleArg()], call: (f, a) => f.pool.freem(a[0] as number) },
  {
    name: "Pool.getBulk", side: "pool",
    args: [
      { name: "out", kind: "out", valid: () => new Int32Array(4) },
      { name: "n", kind: "count", optional: true, extra: [{ cls: cls("longer than out", 5) }], valid: () => 2 },
      howArg(), typeArg(),
      { name: "options", kind: "options", optional: true, valid: () => ({ cluster: true }) },
    ],
    call: (f, a) => f.pool.getBulk(...(a as [Int32Array, number, number, number, object])),
  },
  {
    name: "Pool.freemBulk", side: "pool",
    args: [
      { name: "handles", kind: "handles", valid: (f) => [f.plain] },
      { name: "n", kind: "count", optional: true, extra: [{ cls: cls("longer than handles", 2) }], valid: () => 1 },
    ],
    call: (f, a) => f.pool.freemBulk(...(a as [number[], number])),
    custom: (f) => {
      // One bad handle in an otherwise good batch: nothing of the batch may be freed.
      const out = [...KINDS.handle.classes, FREED].map((c) => {
        const v = c.make({ plain: "h1", withCluster: "h2", freed: "h3" });
        return v === undefined ? undefined : {
          label: `handles[1] = ${c.name}`,
          run: () => f.pool.freemBulk([f.withCluster, f.run.decode(v) as number]),
          codes: c === FREED ? [...FREED_CODES] : ["EBADHANDLE"],
        };
      }).filter((x) => x !== undefined);
      out.push({ label: "the same handle twice", run: () => f.pool.freemBulk([f.plain, f.plain]), codes: ["EDOUBLEFREE"] });
      return out;
    },
  },
  { name: "Pool.bulkArea", side: "pool", args: [], call: (f) => f.pool.bulkArea() },
  { name: "Pool.chtype", side: "pool", args: [handleArg(), typeArg(false)], call: (f, a) => f.pool.chtype(...(a as [number, number])) },
  { name: "Pool.setOwner", side: "pool", args: [{ name: "tag", kind: "tag", valid: () => 7 }], call: (f, a) => f.pool.setOwner(a[0] as number) },
  { name: "Pool.setReserved", side: "pool", args: [{ name: "flag", kind: "bool", valid: () => false }], call: (f, a) => f.pool.setReserved(a[0] as boolean) },
  {
    name: "Pool.setReserve", side: "pool",
    args: [{ name: "count", kind: "count", extra: [{ cls: cls("nmbclusters + 1", { $: "nmbclusters+1" }) }], valid: () => 0 }],
    call: (f, a) => f.pool.setReserve(a[0] as number),
  },
  {
    name: "Pool.onDrain", side: "pool",
    args: [{ name: "name", kind: "fn", valid: () => "drain" }, { name: "fn", kind: "fn", valid: () => () => {} }],
    call: (f, a) => f.pool.onDrain(a[0] as string, a[1] as () => void),
  },
  { name: "Pool.grow", side: "pool", args: [zoneArg(), { name: "free", kind: "amount", valid: () => 0 }], call: (f, a) => f.pool.grow(...(a as ["cluster", number])) },
  {
    name: "Pool.reclaim", side: "pool",
    args: [zoneArg(), { name: "keep", kind: "amount", optional: true, valid: () => 1000 }, { name: "maxPages", kind: "amount", optional: true, valid: () => 0 }],
    call: (f, a) => f.pool.reclaim(...(a as ["cluster", number, number])),
  },
  { name: "Pool.countWaitFailed", side: "pool", args: [zoneArg()], call: (f, a) => f.pool.countWaitFailed(a[0] as "cluster") },
  {
    name: "Pool.netstat", side: "pool",
    args: [{ name: "options", kind: "options", optional: true, valid: () => ({}) }],
    call: (f, a) => f.pool.netstat(a[0] as object),
    custom: (f) => KINDS.format.classes.map((c) => ({
      label: `options.format = ${c.name}`,
      run: () => f.pool.netstat({ format: f.run.decode(c.make({})!) as string }),
      codes: ["EINVAL"],
    })),
  },
  { name: "Pool.stats", side: "pool", args: [], call: (f) => f.pool.stats() },
  { name: "Pool.audit", side: "pool", args: [], call: (f) => f.pool.audit() },
  { name: "Pool.assertAudit", side: "pool", args: [], call: (f) => f.pool.assertAudit() },
  {
    name: "Pool.close", side: "pool", args: [], call: () => undefined,
    custom: () => [{ label: "every method of a closed pool", run: () => closedPool(), codes: [] }],
  },
];

/** Raw core exports. */
const z = (name: string, valid: (f: Fixture) => unknown, kind?: KindName, extra?: Arg["extra"]): Arg => ({ name, kind, valid, extra });
/** The arguments of a core bulk allocation (n, how, type, flags, cluster) whose n is at most `cap`, named `capName`. */
const bulkGetArgs = (capName: string, cap: number): Arg[] => [
  z("n", () => 1, "count", [{ cls: cls(`${capName} + 1`, cap + 1) }]), z("how", () => M_NOWAIT, "how"), z("type", () => MT.DATA, "type"),
  z("flags", () => 0, undefined, [{ cls: cls("M_EXT", 1) }, { cls: cls("-1", -1) }]),
  z("cluster", () => 0, undefined, [{ cls: cls("2", 2) }, { cls: cls("-1", -1) }]),
];
const CORE_ENTRIES: Entry[] = [
  {
    name: "core.mb_init", side: "core",
    args: [
      z("thewall", () => 1 << 20, undefined, [{ cls: cls("0", 0) }, { cls: cls("below a page", 4095) }, { cls: cls("2**31-1", 2 ** 31 - 1) }, { cls: cls("-1", -1) }]),
      z("clshift", () => 11, undefined, [{ cls: cls("10", 10) }, { cls: cls("13", 13) }, { cls: cls("-1", -1) }, { cls: cls("NaN", { $: "NaN" }) }]),
      z("nmbufs", () => 64, undefined, [{ cls: cls("0", 0) }, { cls: cls("NaN", { $: "NaN" }) }]),
      z("nmbclusters", () => 32, undefined, [{ cls: cls("0", 0) }, { cls: cls("null", null) }]),
      z("flags", () => 6, undefined, [{ cls: cls("bigint", { $: "bigint", v: "1" }) }]),
    ],
    // On a pool that is running, any mb_init is ESTATE; bad layouts are tried on a fresh instance (rawInitCases).
    call: (f, a) => (f.pool.core.mb_init as (...x: unknown[]) => number)(...a),
  },
  { name: "core.m_get", side: "core", args: [z("how", () => M_NOWAIT, "how"), z("type", () => MT.DATA, "type")], call: (f, a) => raw(f, "m_get", a) },
  { name: "core.m_gethdr", side: "core", args: [z("how", () => M_NOWAIT, "how"), z("type", () => MT.DATA, "type")], call: (f, a) => raw(f, "m_gethdr", a) },
  {
    name: "core.m_getcl", side: "core",
    args: [z("how", () => M_NOWAIT, "how"), z("type", () => MT.DATA, "type"), z("flags", () => M_PKTHDR, "flags")],
    call: (f, a) => raw(f, "m_getcl", a),
  },
  {
    name: "core.m_clget", side: "core",
    args: [z("m", (f) => f.plain, "handle", [{ cls: cls("an mbuf that has a cluster", { $: "cluster-holder" }) }]), z("how", () => M_NOWAIT, "how")],
    call: (f, a) => raw(f, "m_clget", a),
  },
  { name: "core.m_free", side: "core", args: [z("m", (f) => f.plain, "handle")], call: (f, a) => raw(f, "m_free", a) },
  { name: "core.m_freem", side: "core", args: [z("m", (f) => f.plain, "handle")], call: (f, a) => raw(f, "m_freem", a) },
  { name: "core.m_chtype", side: "core", args: [z("m", (f) => f.plain, "handle"), z("type", () => MT.DATA, "type")], call: (f, a) => raw(f, "m_chtype", a) },
  {
    name: "core.m_setflags", side: "core",
    args: [z("m", (f) => f.plain, "handle"), setflagsArg("set"), setflagsArg("clear")],
    call: (f, a) => raw(f, "m_setflags", a),
  },
  { name: "core.mb_set_owner", side: "core", args: [z("tag", () => 7, "tag")], call: (f, a) => raw(f, "mb_set_owner", a) },
  {
    name: "core.m_setowner_chain", side: "core", args: [z("m", (f) => f.plain, "handle"), z("tag", () => 7, "tag")],
    call: (f, a) => raw(f, "m_setowner_chain", a),
  },
  { name: "core.m_setowner", side: "core", args: [z("m", (f) => f.plain, "handle"), z("tag", () => 7, "tag")], call: (f, a) => raw(f, "m_setowner", a) },
  { name: "core.mb_set_reserved", side: "core", args: [z("flag", () => 0, "bool")], call: (f, a) => raw(f, "mb_set_reserved", a) },
  {
    name: "core.mb_set_reserve", side: "core",
    args: [z("count", () => 0, "count", [{ cls: cls("nmbclusters + 1", { $: "nmbclusters+1" }) }])],
    call: (f, a) => raw(f, "mb_set_reserve", a),
  },
  { name: "core.mb_wait_failed", side: "core", args: [z("zone", () => 2, "zoneId")], call: (f, a) => raw(f, "mb_wait_failed", a) },
  {
    // Only at boot, before any page is carved: on the running fixture every call is ESTATE.
    name: "core.mb_jumbo_init", side: "core",
    args: [z("page", () => 1, undefined, [{ cls: cls("-1", -1) }, { cls: cls("2**31-1", 2 ** 31 - 1) }]),
      z("nine", () => 1, undefined, [{ cls: cls("-1", -1) }]), z("sixteen", () => 1, undefined, [{ cls: cls("NaN", { $: "NaN" }) }])],
    call: (f, a) => raw(f, "mb_jumbo_init", a),
  },
  {
    name: "core.m_getjcl", side: "core",
    args: [z("how", () => M_NOWAIT, "how"), z("type", () => MT.DATA, "type"), z("flags", () => M_PKTHDR, "flags"),
      z("size", () => 2048, "clusterSize", [{ cls: cls("MJUM9BYTES (no jumbo zones here)", 9216) }])],
    call: (f, a) => raw(f, "m_getjcl", a),
  },
  {
    name: "core.m_cljget", side: "core",
    args: [z("m", (f) => f.plain, "handle", [{ cls: cls("an mbuf that has a cluster", { $: "cluster-holder" }) }]), z("how", () => M_NOWAIT, "how"),
      z("size", () => 2048, "clusterSize", [{ cls: cls("MJUM16BYTES (no jumbo zones here)", 16384) }])],
    call: (f, a) => raw(f, "m_cljget", a),
  },
  { name: "core.m_get_bulk", side: "core", args: bulkGetArgs("XCHG_CAP", 1024), call: (f, a) => raw(f, "m_get_bulk", a) },
  {
    name: "core.m_freem_bulk", side: "core",
    args: [z("n", () => 0, "count", [{ cls: cls("XCHG_CAP + 1", 1025) }])],
    call: (f, a) => raw(f, "m_freem_bulk", a),
    custom: (f) => [...KINDS.handle.classes.filter((c) => c.raw), FREED].map((c) => ({
      label: `exchange[1] = ${c.name}`,
      run: () => {
        const v = c.make({ plain: "h1", withCluster: "h2", freed: "h3" });
        const x = new Int32Array(f.pool.buffer, f.pool.core.MB_XCHG.value, 2);
        x[0] = f.withCluster;
        x[1] = Number(f.run.decode(v!)) | 0;
        return f.pool.core.m_freem_bulk(2);
      },
      codes: [],
    })),
  },
  { name: "core.bulk_index", side: "core", args: [], call: (f) => f.pool.core.bulk_index() },
  // A shared build's lane (assembly/lane.ts); an unshared instance has none and refuses EINVAL.
  { name: "core.mb_lane", side: "core", args: [], call: (f) => f.pool.core.mb_lane() },
  { name: "core.m_get_bulk_lane", side: "core", args: bulkGetArgs("LANE_HANDLES", 32), call: (f, a) => raw(f, "m_get_bulk_lane", a) },
  {
    name: "core.m_freem_bulk_lane", side: "core",
    args: [z("n", () => 0, "count", [{ cls: cls("LANE_HANDLES + 1", 33) }])],
    call: (f, a) => raw(f, "m_freem_bulk_lane", a),
  },
  { name: "core.mb_audit", side: "core", args: [], call: (f) => f.pool.core.mb_audit() },
  { name: "core.mb_attach", side: "core", args: [], call: (f) => f.pool.core.mb_attach() },
  {
    // A shared build's thread slot (assembly/cache.ts); the unshared builds refuse every call EINVAL.
    name: "core.mb_thread_join", side: "core",
    args: [z("area", () => 0, undefined, [{ cls: cls("-1", -1) }, { cls: cls("64", 64) }, { cls: cls("2**31-1", 2 ** 31 - 1) }]),
      z("slot", () => 0, undefined, [{ cls: cls("-1", -1) }, { cls: cls("32", 32) }]),
      z("waiters", () => 0, undefined, [{ cls: cls("-1", -1) }, { cls: cls("3", 3) }]), z("tag", () => 7, "tag")],
    call: (f, a) => raw(f, "mb_thread_join", a),
  },
  { name: "core.mb_thread_leave", side: "core", args: [], call: (f) => f.pool.core.mb_thread_leave() },
  {
    name: "core.mb_thread_reap", side: "core",
    args: [z("slot", () => 1, undefined, [{ cls: cls("-1", -1) }, { cls: cls("32", 32) }, { cls: cls("2**31-1", 2 ** 31 - 1) }])],
    call: (f, a) => raw(f, "mb_thread_reap", a),
  },
  { name: "core.mb_fold", side: "core", args: [], call: (f) => f.pool.core.mb_fold() },
  {
    name: "core.mb_grow", side: "core",
    args: [z("zone", () => 2, "zoneId"), z("want", () => 0, undefined, [{ cls: cls("-1", -1) }, { cls: cls("-2**31", -(2 ** 31)) }])],
    call: (f, a) => raw(f, "mb_grow", a),
  },
  {
    name: "core.mb_reclaim", side: "core",
    args: [
      z("zone", () => 2, "zoneId"),
      z("keep", () => 1000, undefined, [{ cls: cls("-1", -1) }]),
      z("maxPages", () => 0, undefined, [{ cls: cls("-1", -1) }, { cls: cls("-2**31", -(2 ** 31)) }]),
    ],
    call: (f, a) => raw(f, "mb_reclaim", a),
  },
];

/** Raw chain, socket-buffer, limit and packet-zone exports: the same kinds, raw classes only. */
const h = (name = "m"): Arg => z(name, (f) => f.plain, "handle");
const rawHow = (): Arg => z("how", () => M_NOWAIT, "how");
const rawOff = (name = "off"): Arg => z(name, () => 0, "offset");
const rawLen = (name = "len"): Arg => z(name, () => 0, "length");
const rawSo = (): Arg => z("so", (f) => f.so, "socket");
const rawWhich = (): Arg => z("which", () => 1, undefined, [{ cls: cls("2", 2) }, { cls: cls("-1", -1) }, { cls: cls("2**31-1", 2 ** 31 - 1) }]);
/** An address in the data exchange area (src/dst of the raw data calls): anything else is refused. */
const rawDx = (name: string): Arg => z(name, (f) => f.pool.core.MB_DXCHG.value, undefined, [
  { cls: cls("0", 0) }, { cls: cls("-1", -1) }, { cls: cls("static data (counters block)", { $: "addr", of: "stats" }) },
  { cls: cls("an mbuf", "h1") }, { cls: cls("outside linear memory", { $: "addr", of: "beyond" }) },
]);
const coreRow = (name: string, args: Arg[]): Entry => ({ name: `core.${name}`, side: "core", args, call: (f, a) => raw(f, name, a) });
const MERGED_CORE_ENTRIES: Entry[] = [
  coreRow("mb_set_limit", [z("zone", () => 2, "zoneId"), z("limit", () => 8, undefined,
    [{ cls: cls("0", 0) }, { cls: cls("-1", -1) }, { cls: cls("below what is carved", 1) }])]),
  coreRow("mb_set_wall", [z("pages", () => 0, undefined, [{ cls: cls("-1", -1) }, { cls: cls("2**31-1", 2 ** 31 - 1) }])]),
  coreRow("m_length", [h()]),
  coreRow("m_copydata", [h(), rawOff(), rawLen(), rawDx("dst")]),
  // m_prepare/m_copyback may extend the chain: their length is bounded by the exchange area, not the chain.
  coreRow("m_prepare", [h(), rawOff(), z("len", () => 0, undefined, [{ cls: cls("-1", -1) }, { cls: cls("past the exchange area", 1 << 20) }]), rawHow()]),
  coreRow("m_copyback", [h(), rawOff(), z("len", () => 0, undefined, [{ cls: cls("-1", -1) }, { cls: cls("past the exchange area", 1 << 20) }]), rawDx("src"), rawHow()]),
  coreRow("m_append", [h(), z("len", () => 0, undefined, [{ cls: cls("-1", -1) }, { cls: cls("past the exchange area", 1 << 20) }]), rawDx("src"), rawHow()]),
  coreRow("m_copym", [h(), rawOff(), rawLen(), rawHow()]),
  coreRow("m_copypacket", [z("m", (f) => f.withCluster, "handle", [{ cls: cls("no packet header", "h1") }]), rawHow()]),
  coreRow("m_dup", [h(), rawHow()]),
  coreRow("m_defrag", [h(), rawHow()]),
  coreRow("m_pullup", [z("m", (f) => f.withCluster, "handle"), rawLen("n"), rawHow()]),
  coreRow("m_prepend", [h(), z("len", () => 4, undefined, [{ cls: cls("-1", -1) }, { cls: cls("4096", 4096) }]), rawHow()]),
  coreRow("m_adj", [h(), z("req", () => 0, undefined, [{ cls: cls("past the chain", { $: "len", h: "h1", d: 1 }) }, { cls: cls("-1", -1) }, { cls: cls("-2**31", -(2 ** 31)) }])]),
  coreRow("m_cat", [h(), z("n", (f) => f.withCluster, "handle", [{ cls: cls("the same chain", "h1") }])]),
  coreRow("m_split", [h(), rawLen("len0"), rawHow()]),
  coreRow("m_getptr", [h(), rawOff()]),
  { name: "core.m_aux", side: "core", args: [], call: (f) => f.pool.core.m_aux() },
  coreRow("m_segments", [h(), rawOff(), rawLen(), z("max", () => 4, undefined, [{ cls: cls("0", 0) }, { cls: cls("-1", -1) }, { cls: cls("2**31-1", 2 ** 31 - 1) }])]),
  coreRow("m_mtod", [h()]),
  coreRow("m_leadingspace", [h()]),
  coreRow("m_trailingspace", [h()]),
  coreRow("m_writable", [h()]),
  coreRow("socreate", [rawHow(), z("flags", () => 0, undefined, [{ cls: cls("2", 2) }, { cls: cls("-1", -1) }])]),
  coreRow("soclose", [rawSo()]),
  coreRow("so_pcb", [rawSo()]),
  coreRow("so_sockbuf", [rawSo(), rawWhich()]),
  coreRow("sbreserve", [rawSo(), rawWhich(), z("cc", () => 4096, undefined, [{ cls: cls("-1", -1) }])]),
  coreRow("sbsetlowat", [rawSo(), rawWhich(), z("lowat", () => 1, undefined, [{ cls: cls("-1", -1) }, { cls: cls("above sb_hiwat", 2 ** 20) }])]),
  coreRow("sbrelease", [rawSo(), rawWhich()]),
  coreRow("sbspace", [rawSo(), rawWhich()]),
  coreRow("sbappend", [rawSo(), rawWhich(), h()]),
  coreRow("sbappendrecord", [rawSo(), rawWhich(), h()]),
  coreRow("sb_write", [rawSo(), rawWhich(), z("len", () => 0, undefined, [{ cls: cls("-1", -1) }, { cls: cls("past the exchange area", 1 << 20) }]), rawHow()]),
  coreRow("sbdrop", [rawSo(), rawWhich(), z("len", () => 0, undefined, [{ cls: cls("-1", -1) }, { cls: cls("more than sb_cc", 1) }])]),
  coreRow("sbdroprecord", [rawSo(), rawWhich()]),
  coreRow("sbflush", [rawSo(), rawWhich()]),
  coreRow("m_tailptr", [h()]),
  coreRow("m_commit", [h(), z("len", () => 0, undefined, [{ cls: cls("-1", -1) }, { cls: cls("more than the trailing space", 1 << 20) }])]),
  coreRow("sbtake", [rawSo(), rawWhich(), z("max", () => 1 << 20, undefined, [{ cls: cls("0", 0) }, { cls: cls("-1", -1) }])]),
  coreRow("mb_packet_mode", [z("mode", () => 0, undefined, [{ cls: cls("PKT_RECLAIMS alone", 2) }, { cls: cls("4", 4) }, { cls: cls("-1", -1) }])]),
  coreRow("mb_packet_refill", [z("n", () => 0, undefined, [{ cls: cls("-1", -1) }, { cls: cls("-2**31", -(2 ** 31)) }])]),
  coreRow("mb_packet_drain", [z("n", () => 0, undefined, [{ cls: cls("-1", -1) }, { cls: cls("-2**31", -(2 ** 31)) }])]),
];

function setflagsArg(name: string): Arg {
  return z(name, () => 0, undefined, [0x1, 0x2, 0x4000, 0x8000, -1, 2 ** 31 - 1].map((v) => ({ cls: cls(`0x${(v >>> 0).toString(16)}`, v) })));
}

function raw(f: Fixture, name: string, args: unknown[]): unknown {
  return (f.pool.core as unknown as Record<string, (...a: unknown[]) => unknown>)[name](...args);
}

/** Every row. */
export const ENTRIES: readonly Entry[] = [...POOL_ENTRIES, ...MERGED_POOL_ENTRIES, ...CORE_ENTRIES, ...MERGED_CORE_ENTRIES];

// === Discovery ===

/** The public methods of Pool, from its declaration file (TS-private members are excluded). */
export function publicPoolMethods(): string[] {
  // The facade is Pool (pool.ts) over its layers in pool/ (threads, reports, sockets, base): the public API is all of them.
  const classes: Array<[string, string]> = [
    ["../dist/pool.d.ts", "Pool"], ["../dist/pool/threads.d.ts", "PoolThreads"], ["../dist/pool/observe.d.ts", "PoolReports"],
    ["../dist/pool/sockets.d.ts", "PoolSockets"], ["../dist/pool/base.d.ts", "PoolBase"],
  ];
  const names: string[] = [];
  for (const [path, className] of classes) {
    const file = new URL(path, import.meta.url);
    const sf = ts.createSourceFile(path, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    sf.forEachChild((node) => {
      if (!ts.isClassDeclaration(node) || node.name?.text !== className) return;
      for (const m of node.members) {
        if (!ts.isMethodDeclaration(m)) continue;
        const mods = ts.getModifiers(m) ?? [];
        if (mods.some((x) => x.kind === ts.SyntaxKind.PrivateKeyword || x.kind === ts.SyntaxKind.ProtectedKeyword
          || x.kind === ts.SyntaxKind.AbstractKeyword)) continue;
        const name = (m.name as ts.Identifier).text;
        // `@internal` members (the pool's own plumbing) are no public API.
        if (ts.getJSDocTags(m).some((t) => t.tagName.text === "internal")) continue;
        const isStatic = mods.some((x) => x.kind === ts.SyntaxKind.StaticKeyword);
        // Each must be a function at runtime too (a static on the class, an instance method on its prototype:
        // `Pool.length` is the constructor's arity, not the method `length`).
        const fn = ((isStatic ? Pool : Pool.prototype) as unknown as Record<string, unknown>)[name];
        if (typeof fn !== "function") throw new Error(`Pool.${name} is declared but not a function at runtime`);
        names.push(`Pool.${name}`);
      }
    });
  }
  return [...new Set(names)];
}

/** The core's exported functions (the runtime CoreExports). */
export function coreFunctions(): string[] {
  const mod = new WebAssembly.Module(readFileSync(new URL(`../build/${BUILD}.wasm`, import.meta.url)));
  return WebAssembly.Module.exports(mod).filter((e) => e.kind === "function").map((e) => `core.${e.name}`);
}

// === Running ===

/** Makes a fixture: a small pool with h1 (plain), h2 (cluster) and h3 (freed). */
function fixture(factory?: PoolFactory): Fixture {
  const run = new Run({ profile: "freebsd4", tunables: { nmbclusters: 8, nmbufs: 32 }, build: BUILD }, factory);
  const p = run.pool;
  const plain = p.get(M_NOWAIT, MT.DATA), withCluster = p.getcl(M_NOWAIT, MT.DATA, M_PKTHDR), freed = p.get(M_NOWAIT, MT.DATA);
  run.newHandle(plain);
  run.newHandle(withCluster);
  run.newHandle(freed);
  const so = p.socreate(); // before h3 is freed: the socket must not take h3's address
  p.free(freed);
  run.freed("h3");
  return { run, pool: p, plain, withCluster, freed, so };
}

/** What a case observed, as text, or undefined if it passed. */
type Verdict = string | undefined;

/** Decodes a class value, with the matrix's own tags. */
function decode(f: Fixture, v: Encoded): unknown {
  if (typeof v === "object" && v !== null && "$" in v) {
    if (v.$ === "cluster-holder") return f.withCluster;
    if (v.$ === "nmbclusters+1") return f.pool.layout.nmbclusters + 1;
    if (v.$ === "so") return f.so;
  }
  return f.run.decode(v);
}

const essentials = (s: PoolStats): string => JSON.stringify([s.mbufs.current, s.clusters.current, s.census, s.reservation]);

/** Promises of waiting calls' answers, judged when they settle (runMatrix's `settled`). */
let pendingAnswers: Promise<void>[] = [];

/** Judges a promise a waiting call gave for bad input: it must reject with an MbufError of the code. */
function judgeLater(mc: MatrixCase, p: Promise<unknown>, codes: readonly string[]): void {
  const note = (v: Verdict): void => {
    if (v) mc.verdict = mc.verdict ? `${mc.verdict}; ${v}` : v;
  };
  pendingAnswers.push(p.then(
    (v) => note(codes.length ? `resolved with ${String(v)} instead of rejecting with ${codes.join("|")}` : undefined),
    (e) => note(!(e instanceof MbufError) ? `rejected with ${(e as Error)?.name}: ${(e as Error)?.message} (not an MbufError)`
      : codes.length && !codes.includes(e.code) ? `rejected with ${e.code}, expected ${codes.join("|")}` : undefined),
  ));
}

/** A call's answer as comparable text (a promise or an object with a live part compares by its kind only). */
function answerOf(r: unknown): string {
  if (r instanceof Promise) return "a promise";
  if (typeof r === "function") return "a function";
  if (r !== null && typeof r === "object" && !ArrayBuffer.isView(r) && Object.getPrototypeOf(r) !== Object.prototype) return `a ${r.constructor.name}`;
  return JSON.stringify(r, (_k, v: unknown) => (ArrayBuffer.isView(v) ? `view of ${(v as Int32Array).length}` : v)) ?? "undefined";
}

/** Judges one call: the answer, then the pool's state after it. */
function judge(entry: Entry, f: Fixture, before: PoolStats, call: () => unknown, codes: readonly string[], mc?: MatrixCase): Verdict {
  let verdict: Verdict;
  try {
    const r = call();
    if (entry.async && r instanceof Promise && mc) {
      judgeLater(mc, r, codes);
    } else if (entry.side === "core") {
      if (!(r === undefined || (typeof r === "number" && r <= 0))) verdict = `returned ${String(r)} (a raw export must return a negative code or 0)`;
    } else if (codes.length && !(entry.nullOk && (r === 0 || r === false))) {
      verdict = `returned ${typeof r === "object" ? JSON.stringify(r) : String(r)} instead of throwing ${codes.join("|")}`;
    }
  } catch (e) {
    if (entry.side === "core") {
      if (!(e instanceof TypeError && /BigInt/.test(e.message))) verdict = `threw ${(e as Error).name}: ${(e as Error).message}`;
    } else if (!(e instanceof MbufError)) {
      verdict = `threw ${(e as Error)?.name}: ${(e as Error)?.message} (not an MbufError)`;
    } else if (codes.length && !codes.includes(e.code)) {
      verdict = `threw ${e.code}, expected ${codes.join("|")}`;
    }
  }
  if (f.pool.isClosed) return verdict;
  const after = f.pool.stats();
  const audit = f.pool.audit();
  if (!audit.ok) return `${verdict ? `${verdict}; ` : ""}audit: ${audit.message}`;
  if (essentials(after) !== essentials(before)) return `${verdict ? `${verdict}; ` : ""}changed what is in use: ${essentials(before)} -> ${essentials(after)}`;
  try {
    const m = f.pool.get();
    if (m <= 0) return `${verdict ? `${verdict}; ` : ""}the pool no longer allocates`;
    f.pool.free(m);
  } catch (e) {
    return `${verdict ? `${verdict}; ` : ""}the pool no longer works: ${(e as Error).message}`;
  }
  return verdict;
}

export interface MatrixCase {
  entry: string;
  label: string;
  verdict: Verdict;
}

export interface MatrixResult {
  cases: MatrixCase[];
  /** Cases that failed (complete once `settled` resolves: waiting calls answer with promises). */
  failures: MatrixCase[];
  entries: number;
  settled: Promise<void>;
}

/** Runs every case of every row (rows of one side only if asked) on pools made by `factory`. */
export function runMatrix(options: { factory?: PoolFactory; only?: "pool" | "core" } = {}): MatrixResult {
  const cases: MatrixCase[] = [];
  const entries = ENTRIES.filter((e) => !options.only || e.side === options.only);
  const one = (entry: Entry, label: string, body: (f: Fixture) => { call: () => unknown; codes: readonly string[] } | undefined): void => {
    const f = fixture(entry.side === "pool" ? options.factory : undefined);
    try {
      const before = f.pool.stats();
      const c = body(f);
      if (!c) return;
      const mc: MatrixCase = { entry: entry.name, label, verdict: undefined };
      cases.push(mc);
      const v = judge(entry, f, before, c.call, c.codes, mc);
      if (v) mc.verdict = mc.verdict ? `${v}; ${mc.verdict}` : v;
    } finally {
      f.pool.close();
    }
  };
  for (const entry of entries) {
    entry.args.forEach((arg, i) => {
      const kind = arg.kind ? KINDS[arg.kind] : undefined;
      let classes: { cls: BadClass; code?: string | string[] }[] = (kind?.classes ?? []).map((c) => ({ cls: c }));
      if (arg.kind === "handle" || arg.kind === "socket") classes.push({ cls: FREED, code: [...FREED_CODES] });
      if (arg.optional) classes = classes.filter((c) => c.cls.name !== "undefined");
      else if (kind && !classes.some((c) => c.cls.name === "undefined") && entry.side === "pool") {
        classes.push({ cls: cls("undefined", { $: "undefined" }) });
      }
      classes.push(...(arg.extra ?? []));
      if (entry.side === "core") classes = classes.filter((c) => c.cls.raw);
      for (const { cls: c, code } of classes) {
        one(entry, `${arg.name} = ${c.name}`, (f) => {
          const v = c.make({ plain: "h1", withCluster: "h2", freed: "h3" });
          if (v === undefined) return undefined;
          const args = entry.args.map((a) => a.valid(f));
          args[i] = decode(f, v);
          const codes = code === undefined ? (kind ? kind.code : "EINVAL") : code;
          return { call: () => entry.call(f, args, f.pool), codes: typeof codes === "string" ? [codes] : [...codes] };
        });
      }
    });
    if (entry.custom) {
      const probe = fixture(entry.side === "pool" ? options.factory : undefined);
      const labels = entry.custom(probe).map((c) => c.label);
      probe.pool.close();
      labels.forEach((label, i) => one(entry, label, (f) => {
        const c = entry.custom!(f)[i];
        return { call: c.run, codes: c.codes };
      }));
    }
    if (!entry.args.length && !entry.custom) {
      // Stray arguments change nothing: the same answer as the plain call on a twin pool in the same state.
      one(entry, "stray arguments", (f) => ({
        call: () => {
          const call = entry.call as (f: Fixture, a: unknown[], p: Pool) => unknown;
          const twin = fixture(options.factory);
          let want: unknown;
          try {
            want = answerOf(call(twin, [], twin.pool));
          } finally {
            twin.pool.close();
          }
          const got = answerOf(call(f, [NaN, null], f.pool));
          if (got !== want) throw new Error(`answered ${got} with stray arguments, ${want} without`);
          return undefined;
        },
        codes: [],
      }));
    }
  }
  if (!options.only || options.only === "core") cases.push(...rawInitCases(), ...uninitialisedCases());
  if (!options.only || options.only === "pool") cases.push(...opTableCases(options.factory));
  const pending = pendingAnswers;
  pendingAnswers = [];
  const result: MatrixResult = { cases, failures: [], entries: entries.length, settled: Promise.resolve() };
  result.failures = cases.filter((c) => c.verdict !== undefined);
  result.settled = Promise.all(pending).then(() => {
    result.failures = cases.filter((c) => c.verdict !== undefined);
  });
  return result;
}

/** Pool methods the op table covers (by op name). */
export const OP_TABLE_METHODS: ReadonlySet<string> = new Set(OPS.map((o) => `Pool.${o.name}`));

/** The op-table fixture: h1 (plain), h2 (cluster), h3 (freed), made through the op table with the model beside the pool. */
function opFixture(factory?: PoolFactory): { run: Run; model: Model } {
  const run = new Run({ profile: "freebsd4", tunables: { nmbclusters: 8, nmbufs: 32 }, build: BUILD }, factory);
  const model = new Model(run.pool.profile, run.pool.layout);
  model.addressReused = (name) => run.reused(name);
  const steps: [string, Args][] = [["get", { how: M_NOWAIT, type: MT.DATA }], ["getcl", { how: M_NOWAIT, type: MT.DATA, flags: M_PKTHDR }],
    ["get", { how: M_NOWAIT, type: MT.DATA }], ["free", { m: "h3" }]];
  for (const [name, args] of steps) {
    const op = OP_BY_NAME.get(name)!;
    const expected = op.model(model, args)!;
    const actual = capture(() => op.run(run, decodeArgs(run, args), args));
    if (!matches(expected, actual)) throw new Error(`fixture: ${name} gave ${JSON.stringify(actual)}`);
  }
  return { run, model };
}

const decodeArgs = (run: Run, args: Args): Record<string, unknown> =>
  Object.fromEntries(Object.entries(args).map(([k, v]) => [k, run.decode(v)]));

/** Every op-table operation × every kinded argument × its kind's classes; the expected answer is the model's. */
function opTableCases(factory?: PoolFactory): MatrixCase[] {
  const out: MatrixCase[] = [];
  for (const op of OPS) {
    for (const arg of op.args) {
      if (!arg.kind) continue;
      const classes = arg.kind === "handle" ? [...KINDS[arg.kind].classes, FREED] : KINDS[arg.kind].classes;
      for (const c of classes) {
        const { run, model } = opFixture(factory);
        try {
          const good = op.gen(model, [0, 1, 5, 0]);
          const v = c.make({ plain: "h1", withCluster: "h2", freed: "h3" });
          if (!good || v === undefined) continue;
          const args: Args = { ...good, [arg.name]: v };
          const before = run.pool.stats();
          const bad = argError(op, args, model);
          // A class this op accepts (an omitted offset, a length for prepend's data) whose result only its observer judges: no bad input.
          if (!bad && op.observe) continue;
          const expected: Result = bad ?? op.model(model, args) ?? null;
          const actual = capture(() => op.run(run, decodeArgs(run, args), args));
          let verdict: Verdict = matches(expected, actual) ? undefined : `gave ${JSON.stringify(actual)}, the model expects ${JSON.stringify(expected)}`;
          const audit = run.pool.audit();
          if (!audit.ok) verdict = `${verdict ? `${verdict}; ` : ""}audit: ${audit.message}`;
          else if (essentials(run.pool.stats()) !== essentials(before)) verdict = `${verdict ? `${verdict}; ` : ""}changed what is in use`;
          out.push({ entry: `Pool.${op.name}`, label: `op table: ${arg.name} = ${c.name}`, verdict });
        } finally {
          run.pool.close();
        }
      }
    }
  }
  return out;
}

// === Cases of their own ===

/** Pool.create with bad options and every tunable of every profile out of range. */
/** Pool.attach given what is not a share handle of a shared pool: EINVAL, nothing attached. */
function attachCases(): { label: string; run: () => unknown; codes: readonly string[] }[] {
  const out: { label: string; run: () => unknown; codes: readonly string[] }[] = [];
  const mk = (label: string, handle: (h: ShareHandle) => unknown, options?: unknown) => out.push({
    label, codes: ["EINVAL"],
    run: () => {
      const shared = Pool.create({ build: BUILD, shared: true });
      try {
        Pool.attach(handle(shared.shareHandle()) as ShareHandle, options as never).close(); // attached by mistake
        return "an attached pool";
      } finally {
        shared.close();
      }
    },
  });
  for (const [label, v] of [["undefined", undefined], ["null", null], ["a number", 5], ["an array", []], ["{}", {}]] as const) mk(`handle = ${label}`, () => v);
  mk("another kind", (h) => ({ ...h, kind: "other" }));
  mk("another version", (h) => ({ ...h, version: h.version + 1 }));
  mk("an unknown key", (h) => ({ ...h, extra: 1 }));
  mk("memory not a Memory", (h) => ({ ...h, memory: new ArrayBuffer(8) }));
  mk("memory not shared", (h) => ({ ...h, memory: new WebAssembly.Memory({ initial: 1 }) }));
  mk("memory of another size", (h) => ({ ...h, memory: new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }) }));
  mk("memory holding no pool", (h) => {
    const pages = h.memory.buffer.byteLength / 65536;
    return { ...h, memory: new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }) };
  });
  mk("build unknown", (h) => ({ ...h, build: "fast" }));
  mk("an unknown option", (h) => h, { profile: "aix" });
  return out;
}

function createCases(): { label: string; run: () => unknown; codes: readonly string[] }[] {
  const out: { label: string; run: () => unknown; codes: readonly string[] }[] = [];
  const mk = (label: string, opts: unknown, codes: readonly string[]) => out.push({
    label, codes,
    run: () => {
      Pool.create(opts as never).close(); // made by mistake: close it, the verdict reports it
      return "a new pool";
    },
  });
  for (const [label, o] of [["null", null], ["a number", 5], ["a string", "freebsd"], ["an array", []]] as const) mk(`options = ${label}`, o, ["EINVAL"]);
  mk("profile unknown", { profile: "solaris" }, ["ETUNABLE"]);
  mk("profile a number", { profile: 5 }, ["ETUNABLE"]);
  mk("tunables a number", { tunables: 5 }, ["ETUNABLE"]);
  mk("tunable unknown", { tunables: { nmbjumbo32: 1 } }, ["ETUNABLE"]);
  mk("build unknown", { build: "fast" }, ["EINVAL"]);
  mk("clock not a Clock", { clock: {} }, ["EINVAL"]);
  mk("logger not a function", { logger: 5 }, ["EINVAL"]);
  mk("pinned not a boolean", { pinned: "yes" }, ["EINVAL"]);
  for (const profile of Object.values(PROFILES)) {
    const v = resolveTunables(getProfile(profile.name));
    for (const t of profile.tunables) {
      const bad: [string, unknown][] = [
        ["min - 1", t.min(v) - 1], ["max + 1", t.max(v) + 1], ["NaN", NaN], ["1.5", 1.5], ["a string", "64"], ["null", null], ["2**53", 2 ** 53],
      ];
      for (const [label, value] of bad) {
        mk(`${profile.name} ${t.name} = ${label}`, { profile: profile.name, build: BUILD, tunables: { [t.name]: value } }, ["ETUNABLE"]);
      }
    }
  }
  return out;
}

/**
 * After close(), the reads of the final state answer (stats, netstat, vmstatZ, zones, metrics,
 * tunable, listTunables, a sysctl read, close again) and every other public method throws (or,
 * for a waiting call, rejects with) ECLOSED. A new public method must be put in one of the two.
 */
function closedPool(): void {
  const p = Pool.create({ build: BUILD });
  const so = p.socreate();
  p.close();
  const reads: Record<string, () => unknown> = {
    stats: () => p.stats(), netstat: () => p.netstat(), vmstatZ: () => p.vmstatZ(), zones: () => p.zones(),
    metrics: () => p.metrics(), tunable: () => p.tunable("kern.ipc.nmbclusters"), listTunables: () => p.listTunables(),
    sysctl: () => p.sysctl("kern.ipc.nmbclusters"), close: () => p.close(), create: () => Pool.create({ build: BUILD }).close(),
    attach: () => {
      const s = Pool.create({ build: BUILD, shared: true }), h = s.shareHandle();
      s.close(); // the memory outlives the creator's instance
      Pool.attach(h).close();
    },
  };
  const m = 8192, b = new Uint8Array(4);
  const acts: Record<string, () => unknown> = {
    get: () => p.get(), gethdr: () => p.gethdr(), getcl: () => p.getcl(), clget: () => p.clget(m), free: () => p.free(m),
    getjcl: () => p.getjcl(M_NOWAIT, MT.DATA, 0, 9216), cljget: () => p.cljget(m, M_NOWAIT, 9216),
    freem: () => p.freem(m), getBulk: () => p.getBulk(new Int32Array(2), 2), freemBulk: () => p.freemBulk([m]),
    threads: () => p.threads(), depot: () => p.depot(), reapThread: () => p.reapThread(1), freeOwned: () => p.freeOwned({ from: 0, to: 1 }),
    shareHandle: () => p.shareHandle(), createRing: () => p.createRing(), openRing: () => p.openRing({} as never), bulkArea: () => p.bulkArea(), chtype: () => p.chtype(m, 1), setOwner: () => p.setOwner(1), length: () => p.length(m),
    copydata: () => p.copydata(m, 0, 1), copyback: () => p.copyback(m, 0, b), append: () => p.append(m, b),
    copym: () => p.copym(m), copypacket: () => p.copypacket(m), dup: () => p.dup(m), defrag: () => p.defrag(m),
    pullup: () => p.pullup(m, 1), prepend: () => p.prepend(m, 4), adj: () => p.adj(m, 1), cat: () => p.cat(m, m + 256),
    split: () => p.split(m, 1), getptr: () => p.getptr(m, 0), apply: () => p.apply(m, 0, 1, () => 0),
    leadingspace: () => p.leadingspace(m), trailingspace: () => p.trailingspace(m), writable: () => p.writable(m),
    data: () => p.data(m), socreate: () => p.socreate(), soclose: () => p.soclose(so), sopcb: () => p.sopcb(so),
    sbreserve: () => p.sbreserve(so, "rcv", 1024), sbsetlowat: () => p.sbsetlowat(so, "rcv", 1),
    sbappend: () => p.sbappend(so, "rcv", m), sbappendrecord: () => p.sbappendrecord(so, "rcv", m),
    sbwrite: () => p.sbwrite(so, "rcv", b), sbdrop: () => p.sbdrop(so, "rcv", 0), sbdroprecord: () => p.sbdroprecord(so, "rcv"),
    sbflush: () => p.sbflush(so, "rcv"), sbrelease: () => p.sbrelease(so, "rcv"), sbspace: () => p.sbspace(so, "rcv"),
    sbstat: () => p.sbstat(so, "rcv"), sbcc: () => p.sbcc(so, "rcv"), sbmb: () => p.sbmb(so, "rcv"), tailspace: () => p.tailspace(m), commit: () => p.commit(m, 0), sbtake: () => p.sbtake(so, "rcv"),
    setReserved: () => p.setReserved(true), setReserve: () => p.setReserve(1), setPacketZone: () => p.setPacketZone(false),
    packetBalance: () => p.packetBalance(), packetRefill: () => p.packetRefill(1), packetDrain: () => p.packetDrain(1),
    onDrain: () => p.onDrain("d", () => {}), audit: () => p.audit(), assertAudit: () => p.assertAudit(),
    outstanding: () => p.outstanding(), watchLeaks: () => p.watchLeaks(), reclaim: () => p.reclaim("mbuf"),
    grow: () => p.grow("mbuf", 1), countWaitFailed: () => p.countWaitFailed("mbuf"),
    resetTunable: () => p.resetTunable("kern.ipc.nmbclusters"), sysctlWrite: () => p.sysctl("kern.ipc.nmbclusters", 8192),
  };
  const waits: Record<string, () => Promise<unknown>> = {
    getWait: () => p.getWait(), gethdrWait: () => p.gethdrWait(), getclWait: () => p.getclWait(), clgetWait: () => p.clgetWait(m),
    getjclWait: () => p.getjclWait(M_WAITOK, MT.DATA, 0, 9216),
  };
  const covered = new Set([...Object.keys(reads), ...Object.keys(acts), ...Object.keys(waits)]);
  const missing = publicPoolMethods().map((n) => n.slice("Pool.".length)).filter((n) => !covered.has(n));
  if (missing.length) throw new Error(`closedPool: classify ${missing.join(", ")} as a read or an act`);
  for (const [name, c] of Object.entries(reads)) {
    try {
      c();
    } catch (e) {
      throw new Error(`a closed pool's ${name} (a read of the final state) threw: ${(e as Error).message}`);
    }
  }
  for (const [name, c] of Object.entries(acts)) {
    let code: string | undefined;
    try {
      c();
    } catch (e) {
      code = e instanceof MbufError ? e.code : `${(e as Error).name}: ${(e as Error).message}`;
    }
    if (code !== "ECLOSED") throw new Error(`a closed pool's ${name} ${code ? `threw ${code}` : "answered"} instead of throwing ECLOSED`);
  }
  for (const [name, c] of Object.entries(waits)) {
    c().then(
      () => { throw new Error(`a closed pool's ${name} resolved`); },
      (e: unknown) => { if (!(e instanceof MbufError) || e.code !== "ECLOSED") throw new Error(`a closed pool's ${name} rejected with ${String(e)}`); },
    );
  }
}

/** A core instance of its own, not yet initialised. */
function rawInstance(): Record<string, (...a: unknown[]) => unknown> {
  const mod = new WebAssembly.Module(readFileSync(new URL(`../build/${BUILD}.wasm`, import.meta.url)));
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 512 });
  const inst = new WebAssembly.Instance(mod, {
    env: { memory, abort: () => { throw new Error("abort called"); } },
    host: { exhausted: () => 0 },
  });
  return inst.exports as unknown as Record<string, (...a: unknown[]) => unknown>;
}

/** mb_init with a bad layout, on a fresh instance: a negative code, never a trap; the instance audits as never initialised. */
function rawInitCases(): MatrixCase[] {
  const good = [1 << 20, 11, 64, 32, 7]; // pinned: memory grows to thewall at once
  const bad: [number, unknown, string][] = [
    [0, 0, "0"], [0, 4095, "below a page"], [0, 2 ** 31 - 1, "2**31-1 (past the address space)"], [0, -1, "-1"], [0, 256 << 20, "past the memory maximum"],
    [1, 10, "10"], [1, 13, "13"], [1, -1, "-1"], [1, NaN, "NaN"], [2, 0, "0"], [2, null, "null"], [3, 0, "0"], [3, "x", "a string"],
  ];
  const names = ["thewall", "clshift", "nmbufs", "nmbclusters", "flags"];
  return bad.map(([i, v, label]) => {
    const ex = rawInstance();
    const args: unknown[] = [...good];
    args[i] = v;
    let verdict: Verdict;
    try {
      const r = ex.mb_init(...args) as number;
      if (!(r < 0)) verdict = `returned ${r}, expected a negative code`;
      else if (ex.mb_audit() !== 18) verdict = `a refused mb_init left the core half-initialised (audit ${ex.mb_audit() as number})`;
      else if (ex.mb_init(...good) !== 0) verdict = "a refused mb_init left the instance unable to initialise";
      else if (ex.mb_audit() !== 0) verdict = "audit after a good mb_init is not clean";
    } catch (e) {
      verdict = `threw ${(e as Error).name}: ${(e as Error).message}`;
    }
    return { entry: "core.mb_init", label: `${names[i]} = ${label} (fresh instance)`, verdict };
  });
}

/** Every export called on an instance never initialised: 0 or a negative code, never a trap. */
function uninitialisedCases(): MatrixCase[] {
  const argsOf: Record<string, unknown[]> = {
    m_get: [1, 1], m_gethdr: [1, 1], m_getcl: [1, 1, 2], m_clget: [8192, 1], m_free: [8192], m_freem: [8192],
    m_chtype: [8192, 1], m_setflags: [8192, 4, 0], m_setowner: [8192, 1], mb_set_reserve: [1], mb_wait_failed: [2],
    m_get_bulk: [4, 1, 1, 0, 1], m_freem_bulk: [1], m_get_bulk_lane: [4, 1, 1, 0, 1], m_freem_bulk_lane: [1], mb_grow: [1, 10], mb_reclaim: [1, 0, 10],
    mb_jumbo_init: [1, 1, 1], m_getjcl: [1, 1, 2, 9216], m_cljget: [8192, 1, 16384],
  };
  const out: MatrixCase[] = [];
  for (const name of Object.keys(argsOf)) {
    const ex = rawInstance();
    let verdict: Verdict;
    try {
      const r = ex[name](...argsOf[name]) as number;
      if (r > 0) verdict = `returned ${r} before mb_init`;
      else if (ex.mb_audit() !== 18) verdict = `left the core looking initialised (audit ${ex.mb_audit() as number})`;
    } catch (e) {
      verdict = `threw ${(e as Error).name}: ${(e as Error).message}`;
    }
    out.push({ entry: `core.${name}`, label: "before mb_init", verdict });
  }
  return out;
}
