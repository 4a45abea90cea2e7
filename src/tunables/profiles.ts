// Profiles: the systems mbufpool models, each with its own sizes, tunables
// (under that system's names), autosizing rules, drain rule and messages.
// Facts and formulas: REFERENCE.md ("Sizes and limits").

import { MbufError, describeValue } from "../errors.js";
import { MSIZE, PAGE_SIZE, MJUMPAGESIZE, MJUM9BYTES, MJUM16BYTES } from "../constants.js";

export type ProfileName = "freebsd" | "freebsd4" | "rtems" | "aix";
/** When a failed allocation runs the protocol drain routines (m_reclaim). */
export type DrainRule = "always" | "wait" | "never";

/**
 * When a tunable may change on a live pool: `boot` only at creation (a
 * loader.conf tunable, a map sized at boot, pools carved once), `raise` only
 * upward (FreeBSD's runtime rule for kern.ipc.nmb*), `rw` freely within its range.
 */
export type TunableRuntime = "boot" | "raise" | "rw";

/** One tunable: its system's name, meaning, type, unit, range, default rule and runtime rule. */
export interface TunableSpec {
  readonly name: string;
  readonly description: string;
  /** `integer`, or `boolean` (0 or 1). */
  readonly type: "integer" | "boolean";
  readonly unit: "count" | "bytes" | "KB" | "flag";
  /** Smallest value, given the values resolved so far. */
  min(v: Values): number;
  /** Largest value, given the values resolved so far. */
  max(v: Values): number;
  /** Default (autosized) value, given the values resolved so far. */
  default(v: Values): number;
  /** The rule, in words, for error messages and `sysctl -d`. */
  readonly rule: string;
  /** Whether and how it may change on a live pool. */
  readonly runtime: TunableRuntime;
}

/** Tunable values by name. */
export type Values = Readonly<Record<string, number>>;

/** What a profile's tunables mean for the core. */
export interface Layout {
  /** Bytes the arena may hold (thewall). */
  thewall: number;
  nmbufs: number;
  nmbclusters: number;
  /** Whether an allocation may take arena pages itself (else only netm / start-up grow a zone). */
  mbufGrows: boolean;
  clusterGrows: boolean;
  /** Items to carve at creation. */
  preallocMbufs: number;
  preallocClusters: number;
  /** Limits of the jumbo zones (modern FreeBSD only; absent: the system has none, and a jumbo size is EINVAL). */
  jumbo?: { page: number; nine: number; sixteen: number };
}

export interface Profile {
  readonly name: ProfileName;
  readonly title: string;
  readonly mclbytes: 2048 | 4096;
  /** Tunables in resolution order (a default may depend on earlier ones). */
  readonly tunables: readonly TunableSpec[];
  /** Short names accepted for convenience. */
  readonly aliases: Readonly<Record<string, string>>;
  layout(v: Values): Layout;
  readonly drain: { readonly mbuf: DrainRule; readonly cluster: DrainRule };
  /** The system's console message when a zone runs dry, and how often it may repeat. */
  readonly exhaustedMessage: {
    readonly mbuf?: string; readonly cluster?: string;
    /** The jumbo zones' messages: page-size, 9k, 16k. */
    readonly jumbo?: readonly [string, string, string];
    readonly everyMs: number;
  };
  /** Whether free pages may go back to the arena (FreeBSD 4 never returned map pages). */
  readonly reclaims: boolean;
  /** Why a `boot` tunable is read-only at runtime on this system (refusal messages). */
  readonly bootRule: string;
  /** Whether thewall may move at runtime (AIX); the pool then keeps headroom for it. */
  readonly runtimeWall: boolean;
  /** Whether netm (deferred growth and shrink) manages the zones by default (AIX). */
  readonly netm: boolean;
  /**
   * How waiting requests learn of freed buffers: `handoff` (the freed buffer goes
   * straight to the first waiter) or `poll` (waiters retry every `pollMs`, as
   * RTEMS's m_clalloc loop does: a caller that does not wait can win the race).
   */
  readonly wake: "handoff" | "poll";
  /** The console line a waiting request prints while it waits (RTEMS), and how often. */
  readonly waitMessage?: { readonly mbuf: string; readonly cluster: string; readonly everyMs: number };
}

const KiB = 1024;
const MiB = 1024 * KiB;
/** Largest arena the core can address (handles are positive i32). */
export const THEWALL_MAX = 1024 * MiB;

const pagesFor = (items: number, size: number): number => Math.ceil((items * size) / PAGE_SIZE);

/** FreeBSD's zones (both lines): an allocation takes arena pages as it needs them, and nothing is carved at creation. */
const GROWN_ON_DEMAND = { mbufGrows: true, clusterGrows: true, preallocMbufs: 0, preallocClusters: 0 } as const;

function spec(
  name: string, description: string, unit: TunableSpec["unit"], rule: string,
  dflt: (v: Values) => number, min: (v: Values) => number, max: (v: Values) => number,
  runtime: TunableRuntime = "boot",
): TunableSpec {
  return { name, description, type: unit === "flag" ? "boolean" : "integer", unit, rule, default: dflt, min, max, runtime };
}

/**
 * The reservation settings (seed 003), under each system's naming: a plain
 * reserve of clusters for the receive class, and the automatic m_clalloc flag.
 */
function reservationSpecs(prefix: string, clusterLimit: (v: Values) => number): TunableSpec[] {
  return [
    spec(`${prefix}mb_rcv_resv`, "clusters kept for the receive class (M_RECV); others fail once only this many remain",
      "count", "from 0 to the cluster limit", () => 0, () => 0, clusterLimit, "rw"),
    spec(`${prefix}mb_rcv_flag`,
      "1: while a receive-class request waits for a cluster, only the receive class gets clusters and the freed cluster goes to it",
      "flag", "0 or 1", () => 0, () => 0, () => 1, "rw"),
  ];
}

/** Short names every profile accepts for the reservation settings. */
const reservationAliases = (prefix: string): Record<string, string> => ({
  reserve: `${prefix}mb_rcv_resv`, reserveFlag: `${prefix}mb_rcv_flag`,
});

/**
 * FreeBSD's socket-buffer autosizing (net.inet.tcp.sendbuf_* and recvbuf_*, tcp_output.c and
 * tcp_input.c), which mbufpool/node applies to its connections: on, the increments of one
 * growth, the largest size (sbreserve's sb_max bounds it too).
 */
function autosizeSpecs(): TunableSpec[] {
  const out: TunableSpec[] = [];
  for (const [dir, what, inc] of [["sendbuf", "send", 8 * KiB], ["recvbuf", "receive", 16 * KiB]] as const) {
    out.push(
      spec(`net.inet.tcp.${dir}_auto`, `1: grow a connection's ${what} socket buffer while it fills as fast as it drains`,
        "flag", "0 or 1", () => 1, () => 0, () => 1, "rw"),
      spec(`net.inet.tcp.${dir}_inc`, `bytes one growth of a ${what} socket buffer adds`, "bytes",
        "from 1 byte to 16 MiB", () => inc, () => 1, () => 16 * MiB, "rw"),
      spec(`net.inet.tcp.${dir}_max`, `largest size ${what} buffer autosizing grows to (kern.ipc.maxsockbuf bounds it too)`, "bytes",
        "from 1 byte to 1 GiB", () => 2 * MiB, () => 1, () => 1024 * MiB, "rw"),
    );
  }
  return out;
}

const freebsd: Profile = {
  name: "freebsd",
  title: "FreeBSD (modern UMA zones, limits derived from kern.ipc.maxmbufmem)",
  mclbytes: 2048,
  aliases: {
    physmem: "hw.physmem", maxmbufmem: "kern.ipc.maxmbufmem", nmbclusters: "kern.ipc.nmbclusters", nmbufs: "kern.ipc.nmbufs",
    ...reservationAliases("kern.ipc."),
  },
  tunables: [
    spec("hw.physmem", "memory of the machine the pool models", "bytes", "from 1 MiB to 2 GiB",
      () => 64 * MiB, () => MiB, () => 2048 * MiB),
    spec("kern.ipc.maxmbufmem", "memory the network buffers may use (the arena's cap)", "bytes",
      "from 64 KiB to 3/4 of hw.physmem and at most 1 GiB",
      (v) => Math.min(Math.floor(v["hw.physmem"] / 2), THEWALL_MAX), () => 64 * KiB,
      (v) => Math.min(Math.floor((v["hw.physmem"] * 3) / 4), THEWALL_MAX)),
    spec("kern.ipc.nmbjumbop", "limit of page-size (4 KiB) jumbo clusters, the mbuf_jumbo_page zone", "count",
      "at least 0", (v) => Math.floor(v["kern.ipc.maxmbufmem"] / PAGE_SIZE / 4), () => 0, () => 2 ** 31 - 1, "raise"),
    spec("kern.ipc.nmbjumbo9", "limit of 9k jumbo clusters, the mbuf_jumbo_9k zone", "count",
      "at least 0", (v) => Math.floor(v["kern.ipc.maxmbufmem"] / 9216 / 6), () => 0, () => 2 ** 31 - 1, "raise"),
    spec("kern.ipc.nmbjumbo16", "limit of 16k jumbo clusters, the mbuf_jumbo_16k zone", "count",
      "at least 0", (v) => Math.floor(v["kern.ipc.maxmbufmem"] / 16384 / 6), () => 0, () => 2 ** 31 - 1, "raise"),
    spec("kern.ipc.nmbclusters", "limit of mbuf clusters", "count",
      "at least 1, and the clusters must fit in kern.ipc.maxmbufmem",
      (v) => Math.max(1, Math.floor(v["kern.ipc.maxmbufmem"] / 2048 / 4)), () => 1,
      (v) => Math.floor(v["kern.ipc.maxmbufmem"] / 2048), "raise"),
    spec("kern.ipc.nmbufs", "limit of mbufs", "count",
      "at least kern.ipc.nmbclusters (cluster limits may not exceed nmbufs), and the mbufs must fit in kern.ipc.maxmbufmem",
      (v) => Math.max(Math.floor(v["kern.ipc.maxmbufmem"] / MSIZE / 5),
        v["kern.ipc.nmbclusters"] + v["kern.ipc.nmbjumbop"] + v["kern.ipc.nmbjumbo9"] + v["kern.ipc.nmbjumbo16"]),
      (v) => v["kern.ipc.nmbclusters"], (v) => Math.floor(v["kern.ipc.maxmbufmem"] / MSIZE), "raise"),
    ...reservationSpecs("kern.ipc.", (v) => v["kern.ipc.nmbclusters"]),
    ...autosizeSpecs(),
  ],
  layout: (v) => ({
    thewall: v["kern.ipc.maxmbufmem"], nmbufs: v["kern.ipc.nmbufs"], nmbclusters: v["kern.ipc.nmbclusters"],
    ...GROWN_ON_DEMAND,
    jumbo: { page: v["kern.ipc.nmbjumbop"], nine: v["kern.ipc.nmbjumbo9"], sixteen: v["kern.ipc.nmbjumbo16"] },
  }),
  drain: { mbuf: "always", cluster: "always" },
  exhaustedMessage: {
    mbuf: "[zone: mbuf] kern.ipc.nmbufs limit reached",
    cluster: "[zone: mbuf_cluster] kern.ipc.nmbclusters limit reached",
    jumbo: [
      "[zone: mbuf_jumbo_page] kern.ipc.nmbjumbop limit reached",
      "[zone: mbuf_jumbo_9k] kern.ipc.nmbjumbo9 limit reached",
      "[zone: mbuf_jumbo_16k] kern.ipc.nmbjumbo16 limit reached",
    ],
    everyMs: 300_000,
  },
  reclaims: true,
  bootRule: "a boot-time tunable (loader.conf): give it when the pool is created",
  runtimeWall: false,
  netm: false,
  wake: "handoff",
};

const freebsd4: Profile = {
  name: "freebsd4",
  title: "FreeBSD 4.x on i386 (fixed mb_map sized from maxusers)",
  mclbytes: 2048,
  aliases: { nmbclusters: "kern.ipc.nmbclusters", nmbufs: "kern.ipc.nmbufs", ...reservationAliases("kern.ipc.") },
  tunables: [
    spec("maxusers", "system size; NMBCLUSTERS autosizes from it", "count", "from 1 to 4096",
      () => 32, () => 1, () => 4096),
    spec("kern.ipc.nmbclusters", "mbuf clusters in the map (NMBCLUSTERS)", "count",
      "from 1 to 262144 (512 MiB of clusters)", (v) => 512 + v["maxusers"] * 16, () => 1, () => 262144),
    spec("kern.ipc.nmbufs", "mbufs in the map (NMBUFS)", "count",
      "at least 2 x kern.ipc.nmbclusters, and the whole map at most 1 GiB",
      (v) => v["kern.ipc.nmbclusters"] * 4, (v) => v["kern.ipc.nmbclusters"] * 2,
      (v) => Math.floor((THEWALL_MAX - pagesFor(v["kern.ipc.nmbclusters"], 2048) * PAGE_SIZE) / MSIZE)),
    ...reservationSpecs("kern.ipc.", (v) => v["kern.ipc.nmbclusters"]),
  ],
  layout: (v) => ({
    // The map is exactly nmbclusters * MCLBYTES + nmbufs * MSIZE (page-rounded per zone).
    thewall: (pagesFor(v["kern.ipc.nmbclusters"], 2048) + pagesFor(v["kern.ipc.nmbufs"], MSIZE)) * PAGE_SIZE,
    nmbufs: v["kern.ipc.nmbufs"], nmbclusters: v["kern.ipc.nmbclusters"],
    ...GROWN_ON_DEMAND,
  }),
  // 4.x ran m_reclaim only when a waiting mbuf request failed (seed 000: 828 delayed, 0 drains).
  drain: { mbuf: "wait", cluster: "never" },
  exhaustedMessage: {
    mbuf: "All mbufs exhausted, please see tuning(7).",
    cluster: "All mbuf clusters exhausted, please see tuning(7).",
    everyMs: 1000,
  },
  reclaims: false,
  bootRule: "fixed when the mb_map is sized at boot (set it in loader.conf and reboot): give it when the pool is created",
  runtimeWall: false,
  netm: false,
  wake: "handoff",
};

const rtems: Profile = {
  name: "rtems",
  title: "RTEMS 4.6 (pools carved once at start-up, MPC860-class boards)",
  mclbytes: 2048,
  aliases: reservationAliases(""),
  tunables: [
    spec("mbuf_bytecount", "bytes carved into mbufs at start-up", "bytes", "from 4 KiB to 64 MiB",
      () => 64 * KiB, () => 4 * KiB, () => 64 * MiB),
    spec("mbuf_cluster_bytecount", "bytes carved into clusters at start-up", "bytes", "from 4 KiB to 512 MiB",
      () => 128 * KiB, () => 4 * KiB, () => 512 * MiB),
    ...reservationSpecs("", (v) => Math.floor(v["mbuf_cluster_bytecount"] / 2048)),
  ],
  layout: (v) => {
    const nmbufs = Math.floor(v["mbuf_bytecount"] / MSIZE);
    const nmbclusters = Math.floor(v["mbuf_cluster_bytecount"] / 2048);
    return {
      thewall: (pagesFor(nmbufs, MSIZE) + pagesFor(nmbclusters, 2048)) * PAGE_SIZE,
      nmbufs, nmbclusters, mbufGrows: false, clusterGrows: false,
      preallocMbufs: nmbufs, preallocClusters: nmbclusters,
    };
  },
  drain: { mbuf: "wait", cluster: "never" },
  exhaustedMessage: { everyMs: 30_000 },
  reclaims: false,
  bootRule: "the pools are carved once at start-up (rtems_bsdnet_config): give it when the pool is created",
  runtimeWall: false,
  netm: false,
  // m_clalloc's M_WAIT loop polls every tick; between polls any caller may take a freed cluster.
  wake: "poll",
  waitMessage: { mbuf: "Still waiting for mbuf.", cluster: "Still waiting for mbuf cluster.", everyMs: 30_000 },
};

const aix: Profile = {
  name: "aix",
  title: "AIX 3.2.5 (pinned pools, 4096-byte clusters, netm grows and shrinks, capped by thewall)",
  mclbytes: 4096,
  aliases: reservationAliases(""),
  tunables: [
    spec("thewall", "most memory the mbuf pools may take from the VMM", "KB", "from 64 KB to 1048576 KB (1 GiB)",
      () => 2048, () => 64, () => THEWALL_MAX / KiB, "rw"),
    spec("lowmbuf", "free mbufs netm keeps at least", "count", "at least 0, and they must fit in thewall",
      () => 88, () => 0, (v) => Math.floor((v["thewall"] * KiB) / MSIZE), "rw"),
    spec("lowclust", "free clusters netm keeps at least", "count", "at least 0, and they must fit in thewall",
      () => 29, () => 0, (v) => Math.floor((v["thewall"] * KiB) / 4096), "rw"),
    spec("mb_cl_hiwat", "free clusters above which netm gives clusters back", "count",
      "at least 0, and they must fit in thewall",
      () => 58, () => 0, (v) => Math.floor((v["thewall"] * KiB) / 4096), "rw"),
    ...reservationSpecs("", (v) => Math.floor((v["thewall"] * KiB) / 4096)),
  ],
  layout: (v) => {
    const thewall = v["thewall"] * KiB;
    return {
      thewall, nmbufs: Math.floor(thewall / MSIZE), nmbclusters: Math.floor(thewall / 4096),
      mbufGrows: false, clusterGrows: false,
      preallocMbufs: v["lowmbuf"], preallocClusters: v["lowclust"],
    };
  },
  drain: { mbuf: "wait", cluster: "wait" },
  exhaustedMessage: { everyMs: 1000 },
  reclaims: true,
  bootRule: "",
  runtimeWall: true,
  netm: true,
  wake: "handoff",
};

/** Which jumbo limit does not fit in thewall on its own (each zone may grow to it), or "" if all do. */
export function jumboOverflow(L: Layout): string {
  if (!L.jumbo) return "";
  const sizes: Array<[string, number, number]> = [
    ["page-size", L.jumbo.page, MJUMPAGESIZE], ["9k", L.jumbo.nine, MJUM9BYTES], ["16k", L.jumbo.sixteen, MJUM16BYTES],
  ];
  for (const [name, n, size] of sizes) {
    if (n * size > L.thewall) return `${n} ${name} jumbo clusters against ${L.thewall} bytes`;
  }
  return "";
}

/** Every profile by name. */
export const PROFILES: Readonly<Record<ProfileName, Profile>> = { freebsd, freebsd4, rtems, aix };

/** The profile called `name`, or ETUNABLE naming the choices. */
export function getProfile(name: string): Profile {
  const p = (PROFILES as Record<string, Profile>)[name];
  if (!p) throw new MbufError("ETUNABLE", `unknown profile "${name}"; choose one of ${Object.keys(PROFILES).join(", ")}`);
  return p;
}

/** The canonical name of tunable `name` in profile `p` (aliases resolved), or undefined. */
export function canonicalName(p: Profile, name: string): string | undefined {
  const n = p.aliases[name] ?? name;
  return p.tunables.some((t) => t.name === n) ? n : undefined;
}

/**
 * Resolves a profile's tunables: given values (by system name or alias) over
 * autosized defaults, each checked against its range in resolution order.
 * Throws ETUNABLE naming the tunable, the value and the rule.
 */
export function resolveTunables(p: Profile, given: Readonly<Record<string, number>> = {}): Values {
  const byName: Record<string, number> = {};
  for (const [k, val] of Object.entries(given)) {
    const n = canonicalName(p, k);
    if (!n) {
      throw new MbufError("ETUNABLE",
        `unknown tunable "${k}" for profile ${p.name}; it has ${p.tunables.map((t) => t.name).join(", ")}`);
    }
    byName[n] = val;
  }
  const v: Record<string, number> = {};
  for (const t of p.tunables) {
    const val = Object.hasOwn(byName, t.name) ? byName[t.name] : t.default(v); // an explicit null is refused, not defaulted
    checkTunable(t, val, v);
    v[t.name] = val;
  }
  return v;
}

/** Throws ETUNABLE unless `val` is an integer within the tunable's range given `v`. */
export function checkTunable(t: TunableSpec, val: unknown, v: Values): void {
  const min = t.min(v), max = t.max(v);
  if (typeof val !== "number" || !Number.isInteger(val) || val < min || val > max) {
    throw new MbufError("ETUNABLE",
      `${t.name}=${describeValue(val)} refused: ${typeof val === "number" ? "" : `${t.name} takes a number; `}${t.name} must be ${t.rule} (here ${min} to ${max}${t.unit === "bytes" || t.unit === "KB" ? ` ${t.unit}` : ""})`);
  }
}
