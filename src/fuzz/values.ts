// Values in traces, and the classes of bad value each kind of argument gets.
//
// A trace must replay on any build, so it never holds a raw address: a
// handle is named by the order the trace allocated it ("h3" is the third
// handle the trace got), and a value a JSON line cannot hold (NaN, undefined,
// a bigint, an address inside the core's static data) is a tagged object
// {"$": tag, ...} that the replayer resolves against the running pool.
//
// The bad-value classes are one table shared by the fuzzer (which puts a bad
// value in one argument of a random operation) and the bad-input matrix
// (which puts every class in every argument of every entry point).

import { M_NOWAIT, M_WAITOK, M_RECV, M_PKTHDR } from "../constants.js";

/** A JSON value as a trace line holds it. */
export type Encoded = number | boolean | string | null | Encoded[] | { [key: string]: Encoded };

/** A handle name: `h` and the 1-based order of allocation. */
export const HANDLE_NAME = /^h[1-9][0-9]*$/;

/**
 * Tagged values (`{"$": tag, ...}`):
 * - `{"$":"NaN"}`, `{"$":"Infinity"}`, `{"$":"-Infinity"}`, `{"$":"undefined"}`, `{"$":"-0"}`
 * - `{"$":"bigint","v":"4096"}`: a BigInt
 * - `{"$":"str","v":"x"}`: a literal string (plain strings are handle names, zone names or formats)
 * - `{"$":"obj"}`: an empty object `{}`; `{"$":"fn"}`: a function that does nothing
 * - `{"$":"plus","h":"h3","d":1}`: the address of h3 plus d (misaligned with d=1, wrapped with d=2**32)
 * - `{"$":"cluster","h":"h3"}`: the address of h3's cluster (an item of the other zone)
 * - `{"$":"len","h":"h3","d":1}`: the data length of h3's chain plus d (an offset past the chain)
 * - `{"$":"addr","of":"stats"|"xchg"|"pagemeta"|"reftable"|"arena"|"top"|"end"|"beyond"}`: an address
 *   in the core's static data, its page table, reference table, the first arena page, the first
 *   never-carved page, the end of linear memory, or past it (2**31 - 256)
 * - `{"$":"i32s","v":[...]}`: an Int32Array of the (decoded) values
 * - `{"$":"bytes","n":300,"s":7}`: a Uint8Array of n bytes, byte i = (s + 31 i) mod 256 (chain and socket-buffer data)
 */
export type Tag = { $: string; [key: string]: Encoded };

/** True if `v` is a tagged value. */
export const isTag = (v: unknown): v is Tag =>
  typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as { $?: unknown }).$ === "string";

/** Encodes a JS value a bad-value class produces (no handles; those are names already). */
export function encodeSpecial(v: unknown): Encoded {
  if (v === undefined) return { $: "undefined" };
  if (typeof v === "number") {
    if (Number.isNaN(v)) return { $: "NaN" };
    if (v === Infinity) return { $: "Infinity" };
    if (v === -Infinity) return { $: "-Infinity" };
    if (Object.is(v, -0)) return { $: "-0" };
    return v;
  }
  if (typeof v === "bigint") return { $: "bigint", v: String(v) };
  if (typeof v === "function") return { $: "fn" };
  return v as Encoded;
}

// === Argument kinds and their bad values ===

/** What a bad-value class needs from the state it runs in: names of handles to build on. */
export interface BadContext {
  /** A live mbuf without a cluster. */
  plain?: string;
  /** A live mbuf with a cluster. */
  withCluster?: string;
  /** A handle the trace freed whose address no live handle holds. */
  freed?: string;
}

/** One class of bad value: how to make it, and whether it stays bad once a raw core export converts it (ToInt32). */
export interface BadClass {
  readonly name: string;
  /** The value, or undefined if the context lacks what it needs. */
  make(ctx: BadContext): Encoded | undefined;
  /** Also fed to raw core exports (it is still bad after ToInt32, or it is a BigInt, which JS refuses). */
  readonly raw: boolean;
}

const c = (name: string, raw: boolean, make: (ctx: BadContext) => Encoded | undefined): BadClass => ({ name, raw, make });
const k = (name: string, raw: boolean, v: unknown): BadClass => c(name, raw, () => encodeSpecial(v));

/**
 * Wrong JS types for a numeric argument. A raw core export converts each of
 * them to 0 (BigInt: JS refuses it with a TypeError before the core runs), so
 * they are fed raw only where 0 is itself bad (`zeroBad`); `undefined` only
 * where the argument has no default.
 */
function wrongTypes(zeroBad: boolean, hasDefault: boolean): BadClass[] {
  const out = [
    k("NaN", zeroBad, NaN),
    k("Infinity", zeroBad, Infinity),
    c("string", zeroBad, () => ({ $: "str", v: "x" })),
    c("object", zeroBad, () => ({ $: "obj" })),
    k("null", zeroBad, null),
    k("bigint", true, 1n),
    k("boolean", false, true),
  ];
  if (!hasDefault) out.push(k("undefined", zeroBad, undefined));
  return out;
}

/** An argument kind: its bad classes and the error code a host call gives for them. */
export interface ArgKind {
  readonly name: string;
  /** The MbufError code(s) a host call must throw for a bad value of this kind. */
  readonly code: string | readonly string[];
  readonly classes: readonly BadClass[];
}

const HANDLE: ArgKind = {
  name: "handle",
  code: "EBADHANDLE",
  classes: [
    k("0 (NULL)", true, 0),
    k("negative", true, -256),
    k("-1", true, -1),
    k("2**31-1", true, 2 ** 31 - 1),
    c("misaligned", true, (x) => (x.plain ? { $: "plus", h: x.plain, d: 1 } : undefined)),
    c("far past the item (+1 GiB)", true, (x) => (x.plain ? { $: "plus", h: x.plain, d: 2 ** 30 } : undefined)),
    c("2**32 + handle (wraps to a live handle)", false, (x) => (x.plain ? { $: "plus", h: x.plain, d: 2 ** 32 } : undefined)),
    c("handle + 0.5", false, (x) => (x.plain ? { $: "plus", h: x.plain, d: 0.5 } : undefined)),
    c("outside linear memory", true, () => ({ $: "addr", of: "beyond" })),
    c("end of linear memory", true, () => ({ $: "addr", of: "end" })),
    c("static data (counters block)", true, () => ({ $: "addr", of: "stats" })),
    c("exchange area", true, () => ({ $: "addr", of: "xchg" })),
    c("page table", true, () => ({ $: "addr", of: "pagemeta" })),
    c("reference table", true, () => ({ $: "addr", of: "reftable" })),
    c("never-carved arena page", true, () => ({ $: "addr", of: "top" })),
    c("a cluster (wrong zone)", true, (x) => (x.withCluster ? { $: "cluster", h: x.withCluster } : undefined)),
    ...wrongTypes(true, false),
  ],
};

/** A freed handle: EDOUBLEFREE while its page is still an mbuf page, EBADHANDLE once reclaimed. */
export const FREED: BadClass = c("a freed handle", true, (x) => x.freed);
export const FREED_CODES = ["EDOUBLEFREE", "EBADHANDLE"] as const;

const HOW: ArgKind = {
  name: "how",
  code: "EINVAL",
  classes: [
    k("0", true, 0), k("negative", true, -1), k("both M_NOWAIT|M_WAITOK", true, M_NOWAIT | M_WAITOK),
    k("unknown bit", true, M_NOWAIT | 0x200), k("M_RECV alone", true, M_RECV), k("2**31-1", true, 2 ** 31 - 1),
    k("2**32 + M_NOWAIT (wraps)", false, 2 ** 32 + M_NOWAIT), k("1.5", false, 1.5), k("3.5", true, 3.5),
    ...wrongTypes(true, true),
  ],
};

/**
 * How of a waiting allocation: the waits force M_WAITOK (M_NOWAIT, 0 and both
 * bits are accepted and wait), so only unknown bits, non-i32 values and wrong types are bad.
 */
const WAIT_HOW: ArgKind = {
  name: "wait how",
  code: "EINVAL",
  classes: HOW.classes.filter((x) => !["0", "both M_NOWAIT|M_WAITOK", "M_RECV alone"].includes(x.name)),
};

const TYPE: ArgKind = {
  name: "type",
  code: "EINVAL",
  classes: [
    k("MT_FREE (0)", true, 0), k("16", true, 16), k("negative", true, -1), k("2**31-1", true, 2 ** 31 - 1),
    k("2**32 + 1 (wraps)", false, 2 ** 32 + 1), k("1.5", false, 1.5), k("0.5", true, 0.5),
    ...wrongTypes(true, true),
  ],
};

const FLAGS: ArgKind = {
  name: "flags",
  code: "EINVAL",
  classes: [
    k("M_EXT", true, 1), k("M_EOR", true, 4), k("-1", true, -1), k("2**31-1", true, 2 ** 31 - 1),
    k("2**32 + M_PKTHDR (wraps)", false, 2 ** 32 + M_PKTHDR), k("2.5", false, 2.5),
    ...wrongTypes(false, true),
  ],
};

/** A count with a cap below 2**31-1 (bulk n, a reserve). */
const COUNT: ArgKind = {
  name: "count",
  code: "EINVAL",
  classes: [
    k("negative", true, -5), k("-1", true, -1), k("2**31-1", true, 2 ** 31 - 1), k("2**32 (wraps to 0)", false, 2 ** 32),
    k("1.5", false, 1.5), ...wrongTypes(true, true),
  ],
};

/** A count where any non-negative i32 is valid (grow's target, reclaim's keep): only negatives and wrong types. */
const AMOUNT: ArgKind = {
  name: "amount",
  code: "EINVAL",
  classes: [
    k("negative", true, -5), k("-1", true, -1), k("-2**31", true, -(2 ** 31)), k("2**32 + 1 (wraps)", false, 2 ** 32 + 1),
    k("1.5", false, 1.5), ...wrongTypes(false, true),
  ],
};

/** An owner tag: a u32. */
const TAG: ArgKind = {
  name: "tag",
  code: "EINVAL",
  classes: [k("negative", false, -1), k("2**32", false, 2 ** 32), k("1.5", false, 1.5), ...wrongTypes(false, false)],
};

/** A zone name ("mbuf" | "cluster"). */
const ZONE: ArgKind = {
  name: "zone",
  code: "EINVAL",
  classes: [c("unknown zone", false, () => ({ $: "str", v: "jumbo" })), k("number 1", false, 1), k("null", false, null),
    k("undefined", false, undefined), c("object", false, () => ({ $: "obj" }))],
};

/** A core zone id (1 | 2). */
const ZONE_ID: ArgKind = {
  name: "zone id",
  code: "EINVAL",
  classes: [k("0", true, 0), k("3", true, 3), k("-1", true, -1), k("2**31-1", true, 2 ** 31 - 1), ...wrongTypes(true, false)],
};

/**
 * A cluster size (getjcl, cljget): MCLBYTES, and on the freebsd profile the jumbo sizes;
 * 8192, a size no system had, and a jumbo size on a profile without jumbo zones are refused.
 */
const CLUSTER_SIZE: ArgKind = {
  name: "cluster size",
  code: "EINVAL",
  classes: [
    k("8192 (no zone)", true, 8192), k("0", true, 0), k("-1", true, -1), k("MJUM16BYTES + 1", true, 16385),
    k("2**31-1", true, 2 ** 31 - 1), k("2**32 + MJUM9BYTES (wraps)", false, 2 ** 32 + 9216), k("9216.5", false, 9216.5),
    ...wrongTypes(true, false),
  ],
};

/** A boolean. */
const BOOL: ArgKind = {
  name: "bool",
  code: "EINVAL",
  classes: [k("number 1", false, 1), c("string", false, () => ({ $: "str", v: "yes" })), k("null", false, null),
    k("undefined", false, undefined), c("object", false, () => ({ $: "obj" })), k("bigint", true, 1n)],
};

/** A list of handles (freemBulk). */
const HANDLES: ArgKind = {
  name: "handles",
  code: ["EINVAL", "EBADHANDLE"],
  classes: [k("null", false, null), k("undefined", false, undefined), k("number", false, 5),
    c("string", false, () => ({ $: "str", v: "h1" })), c("object", false, () => ({ $: "obj" }))],
};

/** An Int32Array to fill (getBulk). */
const OUT: ArgKind = {
  name: "out",
  code: "EINVAL",
  classes: [k("null", false, null), k("undefined", false, undefined), k("number", false, 5),
    c("plain array", false, () => []), c("object", false, () => ({ $: "obj" }))],
};

/** A function (drain routines). */
const FN: ArgKind = {
  name: "function",
  code: "EINVAL",
  classes: [k("null", false, null), k("undefined", false, undefined), k("number", false, 5), c("object", false, () => ({ $: "obj" }))],
};

/** Milliseconds for the virtual clock. */
const MS: ArgKind = {
  name: "ms",
  code: "EINVAL",
  classes: [k("negative", false, -1), k("NaN", false, NaN), k("Infinity", false, Infinity), c("string", false, () => ({ $: "str", v: "x" }))],
};

/** An options object (getBulk, netstat): anything but an object or undefined. */
const OPTIONS: ArgKind = {
  name: "options",
  code: "EINVAL",
  classes: [k("null", false, null), k("number", false, 5), c("string", false, () => ({ $: "str", v: "x" }))],
};

/** A netstat format name. */
const FORMAT: ArgKind = {
  name: "format",
  code: "EINVAL",
  classes: [c("unknown format", false, () => ({ $: "str", v: "solaris" })), k("number", false, 5), c("object", false, () => ({ $: "obj" }))],
};

/**
 * An offset into a chain (chain operations): negative, past the chain's
 * length (`{"$":"len","h":"h1","d":1}` is h1's chain length + 1), huge, or
 * not an integer.
 */
const OFFSET: ArgKind = {
  name: "offset",
  code: ["ERANGE", "EINVAL"],
  classes: [
    k("negative", true, -1), k("-2**31", true, -(2 ** 31)), k("2**31-1", true, 2 ** 31 - 1),
    c("past the chain", true, (x) => (x.plain ? { $: "len", h: x.plain, d: 1 } : undefined)),
    k("2**32 (wraps to 0)", false, 2 ** 32), k("0.5", false, 0.5), ...wrongTypes(false, false),
  ],
};

/** A length within a chain (chain operations): as an offset, and past the chain from offset 0. */
const LENGTH: ArgKind = {
  name: "length",
  code: ["ERANGE", "EINVAL"],
  classes: [
    k("negative", true, -1), k("2**31-1", true, 2 ** 31 - 1),
    c("longer than the chain", true, (x) => (x.plain ? { $: "len", h: x.plain, d: 1 } : undefined)),
    k("2**32 + 1 (wraps)", false, 2 ** 32 + 1), k("1.5", false, 1.5), ...wrongTypes(false, false),
  ],
};

/** Pool.setPacketZone's option: false or { mode, interval }; bad modes, keys, intervals and types. */
const PACKET_ZONE: ArgKind = {
  name: "packetZone",
  code: "EINVAL",
  classes: [
    c("unknown mode", false, () => ({ mode: "fifo", interval: 0 })), c("unknown key", false, () => ({ colour: 1 })),
    c("negative interval", false, () => ({ mode: "median", interval: -1 })), c("interval 1.5", false, () => ({ mode: "median", interval: 1.5 })),
    c("batch 0", false, () => ({ mode: "watermark", interval: 0, batch: 0 })), c("window 0", false, () => ({ mode: "median", interval: 0, window: 0 })),
    c("hiwat past nmbclusters", false, () => ({ mode: "watermark", interval: 0, hiwat: 2 ** 31 - 1 })),
    k("number", false, 5), c("string", false, () => ({ $: "str", v: "median" })), k("null", false, null),
  ],
};

/** A socket handle (socreate's result): every bad handle, and an mbuf that is no open socket (EINVAL). */
const SOCKET: ArgKind = {
  name: "socket",
  code: ["EBADHANDLE", "EINVAL"],
  classes: [
    ...HANDLE.classes.filter((x) => !x.name.startsWith("2**32 + handle")),
    c("an mbuf that is no socket", true, (x) => x.plain),
  ],
};

/** A socket buffer's name ("snd" | "rcv"). */
const SOCKBUF: ArgKind = {
  name: "sockbuf",
  code: "EINVAL",
  classes: [c("unknown name", false, () => ({ $: "str", v: "send" })), k("number 0", false, 0), k("number 1", false, 1),
    k("null", false, null), c("object", false, () => ({ $: "obj" }))],
};

/** Bytes to write (a Uint8Array). */
const BYTES: ArgKind = {
  name: "bytes",
  code: "EINVAL",
  classes: [k("null", false, null), k("number", false, 5), c("string", false, () => ({ $: "str", v: "abc" })),
    c("plain array", false, () => [1, 2, 3]), c("object", false, () => ({ $: "obj" })), c("Int32Array", false, () => ({ $: "i32s", v: [1, 2] }))],
};

/** A tunable's name (sysctl, tunable, resetTunable). */
const TUNABLE_NAME: ArgKind = {
  name: "tunable name",
  code: "ETUNABLE",
  classes: [c("unknown tunable", false, () => ({ $: "str", v: "kern.ipc.nmbjumbo32" })), k("number", false, 5), k("null", false, null),
    c("object", false, () => ({ $: "obj" })), c("empty", false, () => ({ $: "str", v: "" }))],
};

/** A value for a runtime-writable count tunable: out of range, not an integer, the wrong type. */
const TUNABLE_VALUE: ArgKind = {
  name: "tunable value",
  code: "ETUNABLE",
  classes: [k("-1", false, -1), k("2**31", false, 2 ** 31), k("2**53", false, 2 ** 53), k("1.5", false, 1.5), k("NaN", false, NaN),
    c("string", false, () => ({ $: "str", v: "1" })), k("null", false, null), k("undefined", false, undefined)],
};

/** Waiting allocations' options: a bad timeout or not an object. */
const WAIT_OPTIONS: ArgKind = {
  name: "wait options",
  code: "EINVAL",
  classes: [c("timeout -1", false, () => ({ timeout: -1 })), c("timeout NaN", false, () => ({ timeout: { $: "NaN" } })),
    c("timeout a string", false, () => ({ timeout: { $: "str", v: "10" } })), k("number", false, 5), k("null", false, null)],
};

/** Every argument kind by name: the vocabulary of the op table and the matrix. */
export const KINDS = {
  handle: HANDLE, how: HOW, type: TYPE, flags: FLAGS, count: COUNT, amount: AMOUNT, tag: TAG,
  zone: ZONE, zoneId: ZONE_ID, bool: BOOL, handles: HANDLES, out: OUT, fn: FN, ms: MS,
  options: OPTIONS, format: FORMAT, offset: OFFSET, length: LENGTH, packetZone: PACKET_ZONE,
  socket: SOCKET, sockbuf: SOCKBUF, bytes: BYTES, tunableName: TUNABLE_NAME, tunableValue: TUNABLE_VALUE,
  waitOptions: WAIT_OPTIONS, waitHow: WAIT_HOW, clusterSize: CLUSTER_SIZE,
} as const;
export type KindName = keyof typeof KINDS;

/** The allocation flags that are valid for `how`. */
export const VALID_HOW: readonly number[] = [M_NOWAIT, M_WAITOK, M_NOWAIT | M_RECV, M_WAITOK | M_RECV];
